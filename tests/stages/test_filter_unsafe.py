import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.stage import Rejection
from corpuskit.stages.filter_unsafe import (
    DATA_DIR,
    FilterUnsafe,
    get_matcher,
    get_url_blocklist,
    load_entries,
)

# Positive examples are drawn from the shipped lists rather than spelled out here, so the
# tests follow the data and this file stays readable.
ENTRIES = load_entries()


def pick(lang, category, strong=True, n=3, multi_char=None):
    out = [e.word for e in ENTRIES if e.lang == lang and e.category == category and e.strong == strong
           and (multi_char is None or (len(e.word) > 1) == multi_char)
           and (lang != "en" or e.word.isalpha())]
    assert len(out) >= n, (lang, category, strong)
    return out[:n]


BENIGN_ZH = ("本文介绍了产品的性能、安全性和可靠性。女性消费者与男性消费者的比例相当，"
             "奶奶和孩子们都很喜欢这款乳制品。这场比赛激烈而有观赏性，逼真的画面令人印象深刻，"
             "性价比很高，物流也快。")
BENIGN_EN = ("The class assessment covered analysis of the cocktail menu, document titles, "
             "grape harvests in Scunthorpe, and a title match. Peacock feathers were classified. ")


def test_single_common_chinese_characters_never_match_alone():
    st = FilterUnsafe(check_url=False, min_hits=1, min_per_1k=0)
    r = st.process({"text": BENIGN_ZH * 20})
    assert isinstance(r, dict)
    assert r["meta"]["unsafe"] == {"hits": 0, "per_1k_words": 0.0}
    # and the matcher finds nothing at all in them (性 in 性能/女性, 奶 in 奶奶, 乳 in 乳制品, 逼 in 逼真)
    assert get_matcher(st._langs, st._cats).find(BENIGN_ZH.lower()) == []


def test_english_matches_on_word_boundaries_only():
    st = FilterUnsafe(check_url=False)
    assert get_matcher(st._langs, st._cats).find(BENIGN_EN.lower()) == []
    assert isinstance(st.process({"text": BENIGN_EN * 10}), dict)


def test_dense_english_adult_text_is_dropped_and_detail_names_no_word():
    words = pick("en", "adult", n=4)
    text = "Welcome. " + " and ".join(words) + " here. More " + " ".join(words) + " tonight."
    r = FilterUnsafe(check_url=False).process({"text": text})
    assert isinstance(r, Rejection) and r.reason == "unsafe_words"
    assert r.detail.startswith("adult 8")
    assert not any(w in r.detail for w in words)


def test_dense_chinese_text_is_dropped_with_its_category():
    words = pick("zh", "adult", n=3, multi_char=True)
    text = "今天的新闻。" + "，".join(words) + "，还有" + "、".join(words) + "。"
    rec = {"text": text}
    r = FilterUnsafe(check_url=False).process(rec)
    assert isinstance(r, Rejection) and r.reason == "unsafe_words"
    assert r.detail.startswith("adult 6")
    assert rec["meta"]["unsafe"]["categories"] == {"adult": 6}


def test_traditional_chinese_spellings_match_too():
    rows = [ln.split("\t") for ln in (DATA_DIR / "annotations.tsv").read_text(encoding="utf-8").splitlines()
            if ln.endswith("\tderived:opencc")]
    trad = [r[1] for r in rows if r[2] == "adult" and r[3] == "strong" and len(r[1]) > 1][:3]
    assert len(trad) == 3
    rec = {"text": "，".join(trad) + "。" + "，".join(trad)}
    r = FilterUnsafe(check_url=False).process(rec)
    assert r.reason == "unsafe_words" and rec["meta"]["unsafe"]["hits"] == 6


def test_categories_hate_and_profanity_are_reported():
    hate = pick("en", "hate", n=3)
    rec = {"text": "Posted today: " + " ".join(hate) + "!"}
    r = FilterUnsafe(check_url=False).process(rec)
    assert r.reason == "unsafe_words" and r.detail.startswith("hate 3")
    prof = pick("zh", "profanity", n=3, multi_char=True)
    rec = {"text": "评论区：" + "！".join(prof) + "！"}
    r = FilterUnsafe(check_url=False).process(rec)
    assert r.reason == "unsafe_words" and "profanity" in r.detail
    # a category left out of --categories does not count
    r = FilterUnsafe(check_url=False, categories="adult,violence").process({"text": "评论区：" + "！".join(prof)})
    assert isinstance(r, dict)


def test_weak_entries_count_only_after_a_strong_hit():
    weak = pick("zh", "adult", strong=False, n=4, multi_char=True)
    text = "。".join(w + "相关的报道" for w in weak)
    r = FilterUnsafe(check_url=False, min_hits=1, min_per_1k=0).process({"text": text})
    assert isinstance(r, dict) and r["meta"]["unsafe"]["hits"] == 0
    strong = pick("zh", "adult", n=1, multi_char=True)
    r = FilterUnsafe(check_url=False, min_hits=5, min_per_1k=0).process({"text": text + strong[0]})
    assert isinstance(r, Rejection) and "5 hits" in r.detail


def test_density_threshold_keeps_long_documents_with_a_few_hits():
    words = pick("en", "adult", n=3)
    long_text = ("The committee reviewed the annual budget and the school calendar. " * 300
                 + " ".join(words))
    rec = {"text": long_text}
    r = FilterUnsafe(check_url=False).process(rec)
    assert isinstance(r, dict)
    assert rec["meta"]["unsafe"]["hits"] == 3
    assert 0 < rec["meta"]["unsafe"]["per_1k_words"] < 2
    assert FilterUnsafe(check_url=False, min_per_1k=0.5).process({"text": long_text}).reason == "unsafe_words"


def test_leftmost_longest_counts_a_phrase_once():
    phrases = [e.word for e in ENTRIES if e.lang == "en" and " " in e.word and e.strong]
    # a phrase whose last word is also an entry on its own
    singles = {e.word for e in ENTRIES}
    ph = next(p for p in phrases if p.split()[-1] in singles)
    found = get_matcher(("en", "zh"), ("adult", "hate", "violence", "profanity")).find(f"see {ph} now")
    assert [e.word for e in found] == [ph]


@pytest.mark.parametrize("text", [
    BENIGN_EN, BENIGN_ZH,
    "Mixed 中文 and English: " + " ".join(pick("en", "adult", n=3)) + "，" + "，".join(pick("zh", "adult", n=3)),
    "ALL CAPS " + " ".join(w.upper() for w in pick("en", "profanity", n=3)),
    "edge:" + pick("en", "adult", n=1)[0] + "_x " + pick("en", "adult", n=1)[0] + "s",
])
def test_matchers_agree(text):
    langs, cats = ("en", "zh"), ("adult", "hate", "violence", "profanity")
    a = [e.word for e in get_matcher(langs, cats, "aho").find(text.lower())]
    r = [e.word for e in get_matcher(langs, cats, "regex").find(text.lower())]
    assert a == r
    pytest.importorskip("ahocorasick")
    assert [e.word for e in get_matcher(langs, cats, "pyaho").find(text.lower())] == a


_PIECES = [e.word for e in ENTRIES[::7]] + ["a", "s", "x", "1", " ", "-", "_", ".", "性", "的", "妈", "中",
                                          "é", "ß", "İ", "\n", "A", "Ж"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_matchers_agree_on_random_mixtures(pieces):
    # entries glued to letters, digits, CJK and punctuation in every combination
    text = "".join(pieces).lower()
    langs, cats = ("en", "zh"), ("adult", "hate", "violence", "profanity")
    a = [e.word for e in get_matcher(langs, cats, "aho").find(text)]
    assert a == [e.word for e in get_matcher(langs, cats, "regex").find(text)]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_meta_and_a_valid_outcome(text):
    rec = {"text": text}
    r = FilterUnsafe(check_url=False).process(rec)
    assert r is rec or (isinstance(r, Rejection) and r.reason in FilterUnsafe.reasons)
    assert rec["meta"]["unsafe"]["hits"] >= 0


def test_annotations_cover_the_verbatim_lists_exactly():
    all_rows = [ln.split("\t") for ln in (DATA_DIR / "annotations.tsv").read_text(encoding="utf-8").splitlines()
                if ln and not ln.startswith("#")]
    rows = [r for r in all_rows if len(r) == 4]
    derived = [r for r in all_rows if len(r) == 5]
    for lang in ("en", "zh"):
        src = {w for w in (DATA_DIR / f"ldnoobw_{lang}.txt").read_text(encoding="utf-8").splitlines() if w}
        assert {r[1] for r in rows if r[0] == lang} == src
    # Traditional spellings (derived) and corpuskit's own entries: Chinese only, new entries
    assert derived and all(r[0] == "zh" and r[4] in ("derived:opencc", "corpuskit") for r in derived)
    assert not {r[1] for r in derived} & {r[1] for r in rows}
    assert {r[2] for r in rows} <= {"adult", "hate", "violence", "profanity"}
    assert {r[3] for r in rows} == {"strong", "weak", "allow"}
    # every "allow" row is a single character, and 性 is one of them
    allow = {r[1] for r in rows if r[3] == "allow"}
    assert "性" in allow and all(len(w) == 1 for w in allow)
    for name in ("README.md", "ut1_adult_domains.txt.zst", "ut1_adult_urls.txt.zst"):
        assert (DATA_DIR / name).exists()


def test_url_blocklist_domain_subdomain_and_words():
    b = get_url_blocklist()
    assert len(b.domains) > 4_000_000
    assert b.check("https://www.pornhub.com/view_video.php?x=1") == "domain"
    assert b.check("http://Some.Sub.PORNHUB.com:8080/") == "domain"   # parent domain, case, port
    assert b.check("pornhub.com/path") == "domain"                     # no scheme
    assert b.check("https://example.org/free-porn-videos") == "url_word"
    for ok in ("https://www.sussex.ac.uk/", "https://en.wikipedia.org/wiki/Analysis",
               "https://www.python.org/", "https://www.essex.gov.uk/", "not a url", "http://[::1"):
        assert b.check(ok) is None, ok


def test_domain_hash_cache_round_trip(tmp_path, monkeypatch):
    import xxhash
    import zstandard

    from corpuskit.stages import filter_unsafe as safety

    monkeypatch.setenv("CORPUSKIT_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "list.txt.zst"
    src.write_bytes(zstandard.ZstdCompressor().compress(b"a.example\nb.example\nc.example\n"))
    h = xxhash.xxh3_64_intdigest
    want = sorted([h(b"a.example"), h(b"b.example"), h(b"c.example")])
    assert list(safety._cached_domain_hashes(src, h)) == want
    [cached] = list((tmp_path / "cache").glob("ut1_adult_domains-*.u64"))
    assert not list((tmp_path / "cache").glob("*.tmp"))
    # the second call reads the cache (building again would fail here)
    real = safety._hash_lines
    monkeypatch.setattr(safety, "_hash_lines", lambda *a: pytest.fail("rebuilt"))
    assert list(safety._cached_domain_hashes(src, h)) == want
    monkeypatch.setattr(safety, "_hash_lines", real)
    # a damaged cache is rebuilt, never trusted: 8 zero bytes written in, cut in half, emptied
    good = cached.read_bytes()
    for bad in (good[:30] + bytes(8) + good[38:], good[:len(good) // 2], b""):
        cached.write_bytes(bad)
        assert list(safety._cached_domain_hashes(src, h)) == want
        assert cached.read_bytes() == good
    # a cache built from another list is not used for this one
    src.write_bytes(zstandard.ZstdCompressor().compress(b"d.example\n"))
    assert list(safety._cached_domain_hashes(src, h)) == [h(b"d.example")]
    # an unwritable cache location is only a missed speed-up
    monkeypatch.setenv("CORPUSKIT_CACHE", str(src / "not-a-dir"))
    assert list(safety._cached_domain_hashes(src, h)) == [h(b"d.example")]


def test_url_hit_drops_whatever_the_text():
    st = FilterUnsafe()
    rec = {"text": BENIGN_EN, "url": "https://www.pornhub.com/"}
    r = st.process(rec)
    assert r == Rejection("blocked_url", "domain in the UT1 adult list")
    assert rec["meta"]["unsafe"]["url"] == "domain"
    assert isinstance(st.process({"text": BENIGN_EN, "url": "https://www.python.org/"}), dict)
    assert isinstance(FilterUnsafe(check_url=False).process(dict(rec)), dict)
    # a non-string url is ignored, not a crash
    assert isinstance(st.process({"text": BENIGN_EN, "url": 12}), dict)


def test_soft_url_words_threshold():
    b = get_url_blocklist()
    soft = sorted(b.soft - b.hard)[:2]
    assert b.check(f"https://example.org/{soft[0]}/page") is None
    assert b.check(f"https://example.org/{soft[0]}-{soft[1]}") == "url_soft_words"


@pytest.mark.parametrize("kw", [
    {"min_hits": 0}, {"min_per_1k": -1}, {"langs": "en,fr"}, {"langs": ""},
    {"categories": "adult,spam"}, {"matcher": "fast"}, {"soft_url_words": 0},
])
def test_invalid_options(kw):
    with pytest.raises(ValueError):
        FilterUnsafe(**kw)


def test_stage_pickles_small_after_use():
    st = FilterUnsafe(check_url=False)
    st.process({"text": BENIGN_ZH})
    blob = pickle.dumps(st)
    assert len(blob) < 2000
    assert pickle.loads(blob).process({"text": BENIGN_ZH})["meta"]["unsafe"]["hits"] == 0


def test_cli_counts_reasons(run_cli, tmp_path):
    words = pick("en", "adult", n=4)
    recs = [
        {"id": "a", "text": BENIGN_EN},
        {"id": "b", "text": BENIGN_ZH, "url": "https://www.pornhub.com/"},
        {"id": "c", "text": " ".join(words * 2)},
    ]
    inp = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()
    rej = tmp_path / "rej.jsonl"
    stats = tmp_path / "stats.json"
    p = run_cli(["filter-unsafe", "--rejected", rej, "--stats", stats, "-q"], input=inp, check=True)
    kept = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["id"] for r in kept] == ["a"]
    rejected = {json.loads(x)["id"]: json.loads(x)["meta"]["rejected"]["reason"] for x in rej.read_text().splitlines()}
    assert rejected == {"b": "blocked_url", "c": "unsafe_words"}
    assert "blocked_url" in stats.read_text()


def test_huge_run_of_x_memory_stays_within_3x(tmp_path):
    """"x" * 10M: ten million overlapping candidates ("xxx", "xx"), never all held at once."""
    from tests.memory import extra_over_record

    assert extra_over_record(tmp_path, "filter-unsafe", "x" * 10_000_000) <= 3.0


def test_chunked_matching_is_exact_across_chunk_edges(monkeypatch):
    from corpuskit.stages.filter_unsafe import Matcher

    st = FilterUnsafe()
    text = ("big tits and porn 操你妈 做爱, class assessment " * 50).lower()
    m = get_matcher(st._langs, st._cats, "aho")
    whole = [e.word for e in m.find(text)]
    for chunk in (1, 2, 3, 7, 64):
        monkeypatch.setattr(Matcher, "CHUNK", chunk)
        assert [e.word for e in m.find(text)] == whole
    assert sum(m.count(text).values()) == len(whole)
    # masking long letter runs first (done on chunks over MASK_FROM characters) finds the same hits
    text += "xxx " + "x" * 500 + " porn xxxx" + "ass" * 40 + " 2g1c"
    monkeypatch.setattr(Matcher, "CHUNK", 1 << 16)
    monkeypatch.setattr(Matcher, "MASK_FROM", 1 << 30)
    whole = [e.word for e in m.find(text)]
    assert whole[-3:] == ["xxx", "porn", "2g1c"]
    monkeypatch.setattr(Matcher, "MASK_FROM", 0)
    assert [e.word for e in m.find(text)] == whole


def test_long_run_of_one_letter_is_not_checked_candidate_by_candidate(monkeypatch):
    """"x" * 5M holds two overlapping candidates ("xxx", "xxxx") a character, each failing the
    word-boundary check: checking them one by one in Python took ~70 s. The run is masked
    first, so the boundary check runs a handful of times, not millions."""
    import corpuskit.stages.filter_unsafe as fu

    calls = [0]
    real = fu._boundary_ok

    def counted(*a):
        calls[0] += 1
        return real(*a)
    monkeypatch.setattr(fu, "_boundary_ok", counted)
    rec = FilterUnsafe().process({"text": "x" * 5_000_000 + " porn"})
    assert isinstance(rec, dict) and rec["meta"]["unsafe"]["hits"] == 1
    assert calls[0] < 100


def test_title_is_scored_with_its_own_weight():
    """SEO-hijacked pages: the porn words are only in the <title> (a real Common Crawl page
    titled 亚洲精品无码免费视频); the body is ordinary text of any length."""
    st = FilterUnsafe()
    for title in ("亚洲精品无码免费视频", "欧美性爱视频在线观看", "Free porn videos"):
        rec = {"text": BENIGN_ZH * 20, "meta": {"title": title}}
        r = st.process(rec)
        assert isinstance(r, Rejection) and r.reason == "unsafe_words", title
        assert "in the title x 3" in r.detail and rec["meta"]["unsafe"]["title_hits"] == 1
    # an ordinary title, or a weak word alone in it, changes nothing
    for title in ("北京市政府工作报告", "Sex education in schools", "Rape trial verdict"):
        rec = {"text": BENIGN_EN, "meta": {"title": title}}
        assert st.process(rec) is rec, title
    # the weight: 0 turns title scoring off; 1 makes a title hit count like a body hit
    rec = {"text": BENIGN_ZH * 20, "meta": {"title": "亚洲精品无码免费视频"}}
    assert isinstance(FilterUnsafe(title_weight=0).process(dict(rec)), dict)
    assert isinstance(FilterUnsafe(title_weight=1).process(dict(rec)), dict)
    with pytest.raises(ValueError):
        FilterUnsafe(title_weight=-1)


def test_title_hits_add_to_a_borderline_body():
    st = FilterUnsafe(title_weight=1)
    body = BENIGN_EN + " porn porn. "  # two strong hits, dense enough, one short of min_hits
    assert isinstance(st.process({"text": body}), dict)
    r = st.process({"text": body, "meta": {"title": "porn"}})
    assert isinstance(r, Rejection) and r.reason == "unsafe_words"


def test_lowering_chunk_by_chunk_equals_lowering_first(monkeypatch):
    from corpuskit.stages.filter_unsafe import Matcher

    st = FilterUnsafe()
    m = get_matcher(st._langs, st._cats, "aho")
    text = "BIG TITS and PoRn 操你妈 ASS-class Xxx xxx 2G1C " * 30
    for t in (text, "İ " + text):  # İ lower-cases to two characters
        for chunk in (1, 5, 64, 1 << 16):
            monkeypatch.setattr(Matcher, "CHUNK", chunk)
            assert m.count(t, lower=True) == m.count(t.lower()), chunk


def test_huge_mixed_record_memory_stays_within_3x(tmp_path):
    from tests.memory import extra_over_record

    text = "The committee met on Tuesday to review the budget. 委员会周二开会审议了预算。\n" * 250_000
    assert extra_over_record(tmp_path, "filter-unsafe", text) <= 3.0
