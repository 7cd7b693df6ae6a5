import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.chain import run_stages
from corpuskit.stages import dedup_lines as DL
from corpuskit.stages.dedup_lines import DedupLines
from tests.corpus import mixed_paragraphs

FOOT = "责任编辑：张三"
SHARE = "分享到：微信 微博 QQ空间"


TOPICS = ["春天的北京", "上海的地铁", "广州的早茶", "成都的火锅", "西安的城墙"]


def docs(n=3):
    # (digits are folded to 0 in the keys, so the texts differ in words)
    return [{"id": f"d{i}", "text": f"这篇文章讲{TOPICS[i]}，内容各不相同。\n{FOOT}\n{SHARE}"}
            for i in range(n)]


def run(records, **kw):
    kept, rejected, stats = run_stages([DedupLines(**kw)], [dict(r) for r in records])
    return kept, rejected, stats[0]


def test_repeated_lines_are_removed_from_all_but_the_first():
    kept, rejected, st = run(docs(3))
    assert not rejected
    assert kept[0]["text"].endswith(f"{FOOT}\n{SHARE}") and "meta" not in kept[0]
    for r in kept[1:]:
        assert FOOT not in r["text"] and SHARE not in r["text"]
        assert r["meta"]["dedup_lines"] == {"removed": 2, "removed_chars": len(FOOT) + len(SHARE)}
    assert st.extra["lines_removed"] == 4 and st.extra["documents_changed"] == 2


def test_normalisation_digits_punctuation_script():
    a = {"id": "a", "text": "正文甲\n责任编辑：张三 2024"}
    b = {"id": "b", "text": "正文乙\n責任編輯: 張三 1999"}  # Traditional, other digits and punctuation
    kept, _, _ = run([a, b])
    assert kept[1]["text"] == "正文乙"


def test_min_docs_and_lines_repeated_inside_one_document():
    same_doc = {"id": "x", "text": f"{FOOT}\n正文\n{FOOT}"}
    kept, _, _ = run([same_doc, {"id": "y", "text": "别的正文"}])
    assert kept[0]["text"] == same_doc["text"]  # only within one document: kept
    kept, _, _ = run(docs(2), min_docs=3)
    assert all(FOOT in r["text"] for r in kept)
    kept, _, _ = run(docs(3), min_docs=3)
    assert FOOT not in kept[2]["text"]


def test_nothing_left_is_rejected_and_blank_lines_stay():
    recs = [{"id": "a", "text": f"{FOOT}\n\n{SHARE}"}, {"id": "b", "text": f"{FOOT}\n\n{SHARE}"},
            {"id": "c", "text": f"正文\n\n{SHARE}"}]
    kept, rejected, _ = run(recs)
    assert [r["id"] for r in kept] == ["a", "c"]
    assert rejected[0]["meta"]["rejected"]["reason"] == "empty_after_dedup_lines"
    assert kept[1]["text"] == "正文\n"


def test_paragraph_unit():
    para = "本文版权归原作者所有。\n如有侵权请联系删除。"
    recs = [{"id": str(i), "text": f"正文讲{TOPICS[i]}。\n\n{para}"} for i in range(2)]
    kept, _, _ = run(recs, unit="paragraph")
    assert kept[1]["text"] == f"正文讲{TOPICS[1]}。"
    kept, _, _ = run(recs, unit="line")  # each line of the paragraph repeats too
    assert kept[1]["text"].strip() == f"正文讲{TOPICS[1]}。"


def test_deterministic_and_spills_across_partitions(monkeypatch):
    monkeypatch.setattr(DL, "_FLUSH_PAIRS", 7)  # force many flushes
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    recs = [{"id": str(i), "text": "\n".join(f"line {words[j % 10]} {words[j // 10 % 10]}"
                                             for j in range(i, i + 20))} for i in range(40)]
    a, _, _ = run(recs)
    monkeypatch.setattr(DL, "_FLUSH_PAIRS", 1 << 20)
    b, _, _ = run(recs)
    assert a == b
    # every line's first occurrence is kept exactly once
    seen = [ln for r in a for ln in r["text"].split("\n")]
    assert len(seen) == len(set(seen))
    assert set(seen) == {ln for r in recs for ln in r["text"].split("\n")}


def test_options_checked():
    with pytest.raises(ValueError):
        DedupLines(min_docs=1)
    with pytest.raises(ValueError):
        DedupLines(unit="sentence")


def test_cli(run_cli):
    inp = b"".join(orjson.dumps(r) + b"\n" for r in docs(2))
    r = run_cli(["dedup-lines"], input=inp)
    assert r.returncode == 0, r.stderr
    out = [orjson.loads(x) for x in r.stdout.splitlines()]
    assert FOOT in out[0]["text"] and FOOT not in out[1]["text"]


def test_lines_of_digits_are_data_not_boilerplate():
    recs = [{"id": "a", "text": "表格甲\n2014\n[1]\n300"}, {"id": "b", "text": "表格乙\n2019\n[2]\n300"}]
    kept, _, _ = run(recs)
    assert kept[1]["text"] == recs[1]["text"]


EN_BODY = ["The council voted to add bike lanes on four streets near the old market this spring.",
           "Our recipe uses brown butter and a pinch of sea salt for a deeper caramel flavour.",
           "The survey counted nesting birds along the river for the third year in a row now."]
ZH_BODY = ["本文介绍北京春天的天气变化以及市民出行的注意事项和建议。",
           "上海地铁新线路开通后早高峰的客流明显分散到了周边站点。",
           "广州早茶的点心种类繁多，虾饺和烧卖最受外地游客的欢迎。"]


def test_a_heading_over_the_documents_own_text_is_kept_boilerplate_around_it_goes():
    recs = [{"id": f"d{i}", "text": f"Introduction\n\n{EN_BODY[i]}\n\n摘要\n\n{ZH_BODY[i]}\n\n"
                                    f"Share this article\nFollow us on social media"}
            for i in range(3)]
    kept, _, st = run(recs)
    for i, r in enumerate(kept):
        assert r["text"].startswith(f"Introduction\n\n{EN_BODY[i]}\n\n摘要\n\n{ZH_BODY[i]}")
        assert ("Share this article" in r["text"]) == (i == 0)  # a two-line block: boilerplate
    assert st.extra["lines_spared"] == 4 and st.extra["lines_removed"] == 4


def test_a_lone_line_over_another_repeated_line_or_found_twice_is_not_a_heading():
    recs = [{"id": f"d{i}", "text": f"{EN_BODY[i]}\n\nAdvertisement\n\nRead more stories\n\n"
                                    f"Comments\n\n{ZH_BODY[i]}\n\nComments\n\nnone yet"}
            for i in range(3)]
    kept, _, _ = run(recs)
    for r in kept[1:]:
        # "Advertisement" is over a repeated line; "Comments" is twice in each document
        assert "Advertisement" not in r["text"] and "Comments" not in r["text"]


def test_code_in_a_sample_of_its_own_is_kept_a_repeated_script_goes():
    fruit = ["apples", "pears", "plums"]  # (digits fold to 0: the unique lines differ in words)
    recs = [{"id": f"d{i}", "text": f"{EN_BODY[i]}\n\nimport numpy as np\nx = np.arange(n_{fruit[i]})\n"
                                    f"plt.show()\n\nvar _gaq = _gaq || [];\n_gaq.push(['_trackPageview']);"}
            for i in range(3)]
    kept, _, _ = run(recs)
    for r in kept[1:]:
        assert "import numpy as np\n" in r["text"] and "plt.show()" in r["text"]
        assert "_gaq" not in r["text"]


def test_deeper_indented_lines_of_a_sample_are_kept_flat_indented_prose_is_not_spared():
    tables = ["orders", "invoices", "shipments"]
    recs = [{"id": f"d{i}", "text": f"{EN_BODY[i]}\n\nSELECT\n   status,\n   total\nFROM\n   {tables[i]}\n\n"
                                    f"GET /index.html HTTP/1.1\n    Accept: text/html\n    Host: {tables[i]}.example\n\n"
                                    "Subscribe to our newsletter"}
            for i in range(3)]
    kept, _, st = run(recs)
    for i, r in enumerate(kept):
        # "   status," "   total" "SELECT" ... repeat in every document; the deeper-indented
        # ones are the sample's, beside its own "   orders" line
        assert "   status,\n   total\n" in r["text"] and "    Accept: text/html\n" in r["text"]
        assert ("Subscribe to our newsletter" in r["text"]) == (i == 0)
    assert st.extra["lines_spared"] >= 6
    # the same boilerplate, in text whose every line is indented alike, is still removed
    flat = [{"id": f"f{i}", "text": f"    {EN_BODY[i]}\n    Subscribe to our newsletter\n    {ZH_BODY[i]}"}
            for i in range(3)]
    kept, _, _ = run(flat)
    assert ["Subscribe" in r["text"] for r in kept] == [True, False, False]
    # ideographic-space paragraph indentation is not a sample either
    zh = [{"id": f"z{i}", "text": f"\u3000\u3000{ZH_BODY[i]}\n\u3000\u3000{FOOT}\n\u3000\u3000{TOPICS[i]}很有名。"}
          for i in range(3)]
    kept, _, _ = run(zh)
    assert [FOOT in r["text"] for r in kept] == [True, False, False]


def test_quoted_speech_between_a_storys_own_lines_is_kept_a_quoted_slogan_in_a_template_goes():
    stories = [("Mara looked at the map for a long time before she spoke.", "They set off at dawn."),
               ("The captain asked whether the crew had eaten.", "Nobody argued after that."),
               ("张伟问她明天是否还来。", "第二天她果然早早到了。")]
    recs = [{"id": f"s{i}", "text": f"{a}\n\n“Yes.”\n\n「好的。」\n\n{b}\n\n"
                                    "Site map\n“News you can trust”\nContact us"}
            for i, (a, b) in enumerate(stories)]
    kept, _, _ = run(recs)
    for i, r in enumerate(kept):
        assert "“Yes.”" in r["text"] and "「好的。」" in r["text"]
        # the slogan sits between template lines: boilerplate
        assert ("News you can trust" in r["text"]) == (i == 0)


# ------------------------------------------------------------ huge records
@pytest.mark.parametrize("unit", ["line", "paragraph"])
def test_a_huge_records_keys_are_made_in_parts(monkeypatch, tmp_path, unit):
    """Pass 1 (spill and distinct keys) and pass 2's keys of one 2 MB record: traced memory stays
    well under the record's size (before: its units, its normalised copies and str.lower's
    buffer of 12 bytes a character were held whole: about 15x the record's UTF-8 bytes). When
    lines go, what pass 2 makes beside the old text is the new one (its UTF-8, then its str)
    and 16 bytes a unit; tracemalloc also counts the 3x the UTF-8 that its decoder reserves and
    never touches (before: the units, the keys' copies, the pieces and the new text)."""
    import tracemalloc

    import numpy as np

    from corpuskit.io import writer

    monkeypatch.setattr(DL, "CHUNK_CHARS", 1 << 16, raising=False)  # parts of a small test record
    monkeypatch.setattr(writer, "BIG_STR", 1 << 16)
    text = mixed_paragraphs(2_000_000)
    size = len(text.encode())
    stage = DedupLines(unit=unit)
    stage._result = {"lines_removed": 0, "documents_changed": 0}  # (as run() sets it)
    DL.unit_keys(["warm up: 體 Σ"])  # tables loaded once per process are not the record's
    # the keys of a few of its lines (English and Chinese), as if a first document held them
    frequent = np.unique(DL.unit_keys(DL._units(text[:3000], unit)[0][:3]))
    frequent = frequent[frequent != 0]
    tracemalloc.start()
    try:
        n, _ = stage._pass1(iter([{"id": "big", "text": text}]), str(tmp_path))
        pass1 = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        rec = {"id": "big", "text": text}
        out = stage._apply(rec, 1, np.array([1, 3], np.uint64), np.zeros(2, np.uint64))
        pass2 = tracemalloc.get_traced_memory()[1]
        assert out is rec and rec["text"] is text
        tracemalloc.reset_peak()
        out = stage._apply({"id": "big", "text": text}, 1, frequent, np.zeros(len(frequent), np.uint64))
        removal = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 1 and out["meta"]["dedup_lines"]["removed"] > 200
    assert pass1 < 1.0 * size and pass2 < 1.0 * size, (pass1 / size, pass2 / size)
    assert removal < 4.0 * size, removal / size


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aΣσ\u0301 \t\n１體0_.,字Ａ", max_size=200), st.integers(1, 12))
def test_keys_made_in_parts_are_the_whole_texts(text, chunk):
    """A long text's keys are made a part of its units at a time: the same keys as the whole
    text's (final sigma, combining marks and tabs at the cuts, both units)."""
    saved = DL.CHUNK_CHARS
    for unit in ("line", "paragraph"):
        whole = DL.unit_keys(DL._units(text, unit)[0])
        DL.CHUNK_CHARS = chunk
        try:
            batches = list(DL._unit_batches(text, unit))
            assert [u for b in batches for u in b] == DL._units(text, unit)[0]
            assert DL.text_keys(text, unit).tolist() == whole.tolist()
            assert DL.distinct_keys(text, unit).tolist() == np.unique(whole[whole != 0]).tolist()
        finally:
            DL.CHUNK_CHARS = saved


def test_a_huge_record_loses_the_same_lines(monkeypatch):
    """Records over CHUNK_CHARS (made small here) come out byte for byte as when made whole."""
    body = mixed_paragraphs(20_000, seed=1)
    head = "\n".join(body.split("\n")[:40])  # whole lines of the first document
    recs = [{"id": "a", "text": f"{FOOT}\n{SHARE}\n标题\n\n" + body + f"\n{FOOT}\n\nimport numpy as np\nx = 1"},
            {"id": "b", "text": f"开头\n{FOOT}\n\n" + mixed_paragraphs(30_000, seed=2) + f"\n\n{SHARE}\n“是的。”\n\nimport numpy as np\nresult_b = run(b)\n"},
            {"id": "c", "text": body[:5000] + f"\n{FOOT}\n“是的。”\n"},
            {"id": "d", "text": f"\n\n{FOOT}\n\n" + head + f"\n \n{SHARE}\n"},  # nothing of its own
            {"id": "e", "text": "  \n" + head + "\n本文自己的一行。\n\t"}]
    for unit in ("line", "paragraph"):
        whole = run(recs, unit=unit)
        monkeypatch.setattr(DL, "CHUNK_CHARS", 1000)
        parts = run(recs, unit=unit)
        monkeypatch.setattr(DL, "CHUNK_CHARS", 1 << 20)
        assert parts[:2] == whole[:2] and parts[2].extra == whole[2].extra
        assert whole[2].extra["lines_removed"] > 0 and whole[2].extra["documents_changed"] >= 3
        if unit == "line":
            assert [r["id"] for r in whole[1]] == ["d"] and whole[1][0]["text"] == recs[3]["text"]
            assert whole[2].extra["lines_spared"] > 0


def test_huge_record_memory_stays_within_3x(tmp_path):
    """One 20 MB record of mixed paragraphs (bench_hostile's): 2.5x in all, as `cat` (before:
    16.8x on 50 MB)."""
    from tests.memory import extra_over_record

    assert extra_over_record(tmp_path, "dedup-lines", mixed_paragraphs(20_000_000)) <= 3.0


def test_huge_record_that_loses_lines_memory_stays_within_3x(tmp_path):
    """The same 20 MB record after a small one holding a few of its lines, so that it loses
    10% of its lines and is rebuilt: 2.7x on 50 MB (before: 16.9x)."""
    from tests.memory import peak_rss_mb

    text = mixed_paragraphs(20_000_000)
    first = {"id": "first", "text": "\n".join(text[:20_000].split("\n")[:30])}
    two, one = tmp_path / "two.jsonl", tmp_path / "one.jsonl"
    two.write_bytes(orjson.dumps(first) + b"\n" + orjson.dumps({"id": "big", "text": text}) + b"\n")
    one.write_bytes(orjson.dumps(first) + b"\n" + orjson.dumps({"id": "s", "text": "a few words"}) + b"\n")
    out = ["-o", tmp_path / "o.jsonl", "--rejected", tmp_path / "r.jsonl", "-q"]
    base = peak_rss_mb(["dedup-lines", one, *out])
    extra = (peak_rss_mb(["dedup-lines", two, *out]) - base) * 2**20
    assert extra <= 3.0 * (two.stat().st_size - len(orjson.dumps(first))), extra / two.stat().st_size
    assert orjson.loads((tmp_path / "o.jsonl").read_bytes().splitlines()[1])["meta"]["dedup_lines"]["removed"] > 0


_POOL = [FOOT, SHARE, "", " ", "\t", "Introduction", "import numpy as np", "  x = f(1)", "“是的。”",
         "本文自己的内容，讲了很多事情，一共有十多个字和词语在这里呢。", "The end.", "ΣΑΣ", "2019", "own line {}"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(_POOL), st.sampled_from(["\n", "\n\n", "\n \n", "\n\t\n\n"])),
                         max_size=25), min_size=2, max_size=4),
       st.integers(1, 40))
def test_removal_in_parts_is_the_whole_texts(docs, chunk):
    """Records over CHUNK_CHARS (made tiny) lose the same units, keep the same separators and
    are rejected alike: the same records and counters as when each text is taken whole."""
    texts = ["".join(line.format(i) + sep for line, sep in d) for i, d in enumerate(docs)]
    # (an odd document without its last separator: all of it can go)
    recs = [{"id": str(i), "text": t[:len(t) - len(d[-1][1])] if i % 2 and d else t}
            for i, (t, d) in enumerate(zip(texts, docs, strict=True))]
    saved = DL.CHUNK_CHARS
    for unit in ("line", "paragraph"):
        whole = run(recs, unit=unit)
        DL.CHUNK_CHARS = chunk
        try:
            parts = run(recs, unit=unit)
        finally:
            DL.CHUNK_CHARS = saved
        assert parts[:2] == whole[:2] and parts[2].extra == whole[2].extra
