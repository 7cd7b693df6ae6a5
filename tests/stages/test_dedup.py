"""dedup: exact and near duplicates, clusters, index, bad input, the CLI."""
from __future__ import annotations

import json
import os

import numpy as np
import orjson
import pytest

from corpuskit.core.chain import run_stages
from corpuskit.core.errors import UsageError
from corpuskit.registry import make_stage
from corpuskit.stages.dedup.stage import Dedup, choose_bands

EN = ("Deduplication removes repeated documents from a training corpus. Repeated text wastes "
      "compute and makes a language model memorise passages instead of learning from them. "
      "Near duplicates are pages that differ only by a date, a navigation bar or a few words. ")
ZH = ("数据去重是构建大规模训练语料库时的重要步骤。重复的文本会浪费计算资源，并且让语言模型"
      "记住段落而不是从中学习。近似重复的网页往往只有日期、导航栏或者几个字不同。")
OTHER = ("Rivers carry sediment from mountains to the sea, building deltas over thousands of years "
         "as the water slows and drops the sand and silt it has carried along the way downstream.")
ZH_OTHER = "今天的天气非常好，我们一起去公园散步，看见很多小朋友在草地上放风筝，大家都很开心。"


def run(docs, **opts):
    kept, rejected, stats = run_stages([Dedup(**opts)], iter([dict(d) for d in docs]))
    return kept, rejected, stats[0]


def ids(recs):
    return [r["id"] for r in recs]


def reason(rec):
    return rec["meta"]["rejected"]["reason"]


def test_exact_duplicates_after_normalisation():
    docs = [{"id": "a", "text": EN}, {"id": "b", "text": EN.upper().replace(" ", "  \n ")},
            {"id": "c", "text": OTHER}]
    kept, rej, st = run(docs, near=False)
    assert ids(kept) == ["a", "c"]
    assert ids(rej) == ["b"] and reason(rej[0]) == "exact_duplicate"
    assert rej[0]["meta"]["rejected"]["detail"] == "kept a"
    assert kept[0]["meta"]["dedup"] == {"cluster": "a", "cluster_size": 2}
    assert st.rejected == {"exact_duplicate": 1}


def test_near_duplicates_english_and_chinese():
    docs = [{"id": "en1", "text": EN * 2}, {"id": "zh1", "text": ZH * 2},
            {"id": "en2", "text": EN * 2 + "Posted on 12 May."},
            {"id": "zh2", "text": ZH * 2 + "发布于五月。"},
            {"id": "o1", "text": OTHER}, {"id": "o2", "text": ZH_OTHER}]
    kept, rej, st = run(docs)
    assert ids(kept) == ["en1", "zh1", "o1", "o2"]
    assert ids(rej) == ["en2", "zh2"]
    assert all(reason(r) == "near_duplicate" for r in rej)
    det = rej[1]["meta"]["rejected"]["detail"]
    assert det.startswith("kept zh1, estimated similarity 0.")
    assert float(det.rsplit(" ", 1)[1]) >= 0.8
    assert st.extra["near_duplicate"] == 2 and st.extra["verified_pairs"] >= 2


def test_chinese_needs_no_segmenter_one_char_changes():
    a = ZH * 3
    b = a.replace("浪费", "耗费", 1)
    kept, rej, _ = run([{"id": "a", "text": a}, {"id": "b", "text": b}])
    assert ids(kept) == ["a"] and reason(rej[0]) == "near_duplicate"


def test_dissimilar_documents_are_kept_even_when_they_share_a_band():
    # force everything into candidates with one row per band: verification must refuse them
    a = EN * 2
    b = EN + OTHER * 2
    kept, rej, st = run([{"id": "a", "text": a}, {"id": "b", "text": b}], bands=128, rows=1)
    assert ids(kept) == ["a", "b"] and not rej
    assert st.extra["candidate_pairs"] == 1 and st.extra["verified_pairs"] == 0


def test_keep_longest():
    docs = [{"id": "short", "text": EN * 3}, {"id": "long", "text": EN * 3 + "And one more line at the end."}]
    kept, rej, _ = run(docs, survivor="longest")
    assert ids(kept) == ["long"] and ids(rej) == ["short"]
    assert rej[0]["meta"]["dedup"]["cluster"] == "long"


def _words(prefix, n):
    # letters only: digits fold to 0, so "w1" and "w2" would be the same token
    return [prefix + "".join("abcdefghij"[int(c)] for c in str(i)) for i in range(n)]


def test_clusters_are_connected_components():
    base = _words("w", 400)
    v1 = " ".join(base)
    v2 = " ".join(base[:370] + _words("x", 30))                      # J(v1, v2) = 0.86
    v3 = " ".join(base[:340] + _words("x", 30) + _words("y", 30))    # J(v2, v3) = 0.84
    kept, rej, st = run([{"id": "1", "text": v1}, {"id": "2", "text": v2}, {"id": "3", "text": v3}],
                        num_perm=256)
    # J(v1, v3) = 0.74 < 0.8, yet 3 is in 1's cluster through 2
    assert ids(kept) == ["1"]
    assert [r["meta"]["dedup"]["cluster"] for r in rej] == ["1", "1"]
    assert rej[1]["meta"]["dedup"]["similarity"] < 0.8
    assert kept[0]["meta"]["dedup"]["cluster_size"] == 3


def test_key_url():
    docs = [{"id": "a", "url": "https://x.org/1", "text": EN},
            {"id": "b", "url": "https://x.org/1", "text": OTHER},
            {"id": "c", "text": ZH_OTHER}, {"id": "d", "text": OTHER + " different ending"}]
    kept, rej, _ = run(docs, key="url", near=False)
    assert ids(kept) == ["a", "c", "d"]
    assert reason(rej[0]) == "exact_duplicate" and rej[0]["meta"]["rejected"]["detail"] == "kept a (same url)"


def test_deterministic_and_same_for_list_and_stream_input():
    docs = [{"id": str(i), "text": (EN if i % 3 else ZH) * (1 + i % 2) + f" {i % 4}"} for i in range(40)]
    out1 = run(docs)
    out2 = run(docs)
    d = Dedup()
    kept3, rej3, _ = run_stages([d], [dict(x) for x in docs])  # a list: read twice, no spill
    assert ids(out1[0]) == ids(out2[0]) == ids(kept3)
    assert ids(out1[1]) == ids(rej3)
    assert [r["meta"] for r in out1[1]] == [r["meta"] for r in rej3]


def test_output_keeps_order_and_every_record():
    docs = [{"id": str(i), "text": EN if i % 2 else OTHER, "extra": i} for i in range(20)]
    kept, rej, st = run(docs)
    assert len(kept) + len(rej) == 20
    assert sorted(int(r["id"]) for r in kept + rej) == list(range(20))
    assert [r["extra"] for r in kept] == [0, 1]
    assert all(list(r)[:3] == ["id", "text", "extra"] for r in kept)


def test_verify_exact():
    docs = [{"id": "a", "text": EN * 2}, {"id": "b", "text": EN * 2 + "Posted on 12 May."},
            {"id": "c", "text": OTHER}]
    kept, rej, st = run(docs, verify="exact")
    assert ids(kept) == ["a", "c"] and ids(rej) == ["b"]
    kept, rej, st = run(docs, verify="exact", bands=128, rows=1, threshold=0.99)
    assert ids(kept) == ["a", "b", "c"]


def test_verify_auto_decides_borderline_pairs_by_the_true_jaccard():
    from corpuskit.stages.dedup import minhash as M

    base = _words("w", 300)
    h = M.MinHasher()
    checked = 0
    for k in range(8, 26):
        other = base[:300 - k] + _words("z", k)  # true J falls from ~0.88 to ~0.67
        a, b = " ".join(base), " ".join(other)
        true_j = M.jaccard_exact(h.shingle_set(a), h.shingle_set(b))
        sigs, _ = h.signatures([a, b])
        est = M.estimate_jaccard(sigs[:1], sigs[1:])[0]
        if abs(est - 0.8) >= 0.1:
            continue
        kept, rej, st = run([{"id": "a", "text": a}, {"id": "b", "text": b}], bands=128, rows=1)
        assert (len(rej) == 1) == (true_j >= 0.8), (k, true_j, est)
        assert st.extra["exact_jaccard_checks"] == 1
        kept, rej, st = run([{"id": "a", "text": a}, {"id": "b", "text": b}], bands=128, rows=1,
                            verify="estimate")
        assert (len(rej) == 1) == (est >= 0.8)
        checked += 1
    assert checked >= 5


# ------------------------------------------------------------ bad input: defined outcomes
def test_empty_texts_are_exact_duplicates_of_each_other_never_near():
    docs = [{"id": "e1", "text": ""}, {"id": "e2", "text": "  \n\t"}, {"id": "t", "text": EN}]
    kept, rej, st = run(docs)
    assert ids(kept) == ["e1", "t"] and ids(rej) == ["e2"] and reason(rej[0]) == "exact_duplicate"
    assert st.extra["no_shingles"] == 2
    kept, rej, _ = run(docs, exact=False)
    assert ids(kept) == ["e1", "e2", "t"]  # no shingles: never a near duplicate


def test_all_punctuation_is_only_compared_exactly():
    docs = [{"id": "p1", "text": "!!! ??? ..."}, {"id": "p2", "text": "。。。！！！"},
            {"id": "p3", "text": "!!!  ???   ..."}]
    kept, rej, st = run(docs)
    assert ids(kept) == ["p1", "p2"] and ids(rej) == ["p3"] and reason(rej[0]) == "exact_duplicate"
    assert st.extra["candidate_pairs"] == 0


def test_single_repeated_word():
    docs = [{"id": "r1", "text": "spam " * 10}, {"id": "r2", "text": "spam " * 1000},
            {"id": "r3", "text": "eggs " * 10}, {"id": "r4", "text": "好" * 500}]
    kept, rej, _ = run(docs)
    assert ids(kept) == ["r1", "r3", "r4"]
    assert ids(rej) == ["r2"] and reason(rej[0]) == "near_duplicate"
    assert rej[0]["meta"]["dedup"]["similarity"] == 1.0


def test_fifty_megabyte_document():
    big = (EN + ZH) * (50_000_000 // len((EN + ZH).encode()))
    assert len(big.encode()) > 45_000_000
    docs = [{"id": "big", "text": big}, {"id": "big2", "text": big + " tail"}, {"id": "s", "text": EN}]
    kept, rej, st = run(docs)
    assert ids(kept) == ["big", "s"] and ids(rej) == ["big2"]
    assert reason(rej[0]) == "near_duplicate"


def test_missing_text_is_an_error_not_a_silent_drop():
    from corpuskit.core.errors import BadInput

    with pytest.raises(BadInput):
        run([{"id": "a", "text": EN}, {"id": "b"}])


# ------------------------------------------------------------ options
def test_option_validation():
    for bad in ({"threshold": 0}, {"threshold": 1.5}, {"num_perm": 0}, {"ngram": 0},
                {"bands": 20}, {"bands": 20, "rows": 20}, {"survivor": "last"}, {"verify": "maybe"},
                {"key": ""}, {"tmp_dir": "/no/such/dir"}):
        with pytest.raises(UsageError):
            make_stage("dedup", **bad)


def test_choose_bands_catches_pairs_at_the_threshold():
    from corpuskit.stages.dedup.minhash import catch_probability

    for t, p in ((0.7, 128), (0.8, 128), (0.9, 128), (0.8, 256), (0.5, 64)):
        b, r = choose_bands(t, p)
        assert b * r <= p and catch_probability(t, b, r) >= 0.99
        assert r == 1 or catch_probability(t, p // (r + 1), r + 1) < 0.99  # the most rows that do
    assert choose_bands(0.8, 128) == (21, 6)


# ------------------------------------------------------------ incremental index
def test_index_dedups_against_an_earlier_corpus(tmp_path):
    idx = str(tmp_path / "corpus.idx")
    kept1, rej1, _ = run([{"id": "a", "text": EN * 2}, {"id": "b", "text": OTHER}], index=idx)
    assert ids(kept1) == ["a", "b"] and os.path.exists(idx)
    batch2 = [{"id": "c", "text": EN * 2 + "Posted on 12 May."}, {"id": "d", "text": OTHER},
              {"id": "e", "text": ZH}, {"id": "f", "text": ZH + "完。"}]
    kept2, rej2, st = run(batch2, index=idx, survivor="first")
    assert ids(kept2) == ["e"]
    assert [(r["id"], reason(r)) for r in rej2] == [("c", "near_duplicate"), ("d", "exact_duplicate"),
                                                    ("f", "near_duplicate")]
    assert rej2[0]["meta"]["dedup"]["cluster"] == "a" and rej2[1]["meta"]["rejected"]["detail"] == "kept b"
    assert st.extra["index_documents"] == 2
    # the index now holds a, b and e: a third batch with a copy of e is caught
    kept3, rej3, st3 = run([{"id": "g", "text": ZH}], index=idx)
    assert not kept3 and rej3[0]["meta"]["rejected"]["detail"] == "kept e"
    assert st3.extra["index_documents"] == 3


def test_index_documents_win_over_longer_new_ones(tmp_path):
    idx = str(tmp_path / "i.npz")
    run([{"id": "old", "text": EN * 3}], index=idx)
    kept, rej, _ = run([{"id": "new", "text": EN * 3 + "A longer version."}], index=idx, survivor="longest")
    assert not kept and rej[0]["meta"]["dedup"]["cluster"] == "old"


def test_index_built_with_other_options_is_refused(tmp_path):
    idx = str(tmp_path / "i.npz")
    run([{"id": "a", "text": EN}], index=idx)
    with pytest.raises(UsageError, match="num_perm"):
        run([{"id": "b", "text": EN}], index=idx, num_perm=64)
    (tmp_path / "junk.npz").write_bytes(b"not an index")
    from corpuskit.core.errors import BadInput

    with pytest.raises(BadInput, match="not a corpuskit dedup index"):
        run([{"id": "b", "text": EN}], index=str(tmp_path / "junk.npz"))


def test_index_built_with_another_folding_table_is_refused(tmp_path, monkeypatch):
    from corpuskit.stages.dedup import stage as S

    idx = str(tmp_path / "i.npz")
    monkeypatch.setattr(S, "FOLD_VERSION", S.FOLD_VERSION - 1)
    run([{"id": "a", "text": ZH}], index=idx)
    monkeypatch.undo()
    with pytest.raises(UsageError, match="fold_table"):
        run([{"id": "b", "text": ZH}], index=idx)
    # without folding, the table does not matter
    idx2 = str(tmp_path / "j.npz")
    monkeypatch.setattr(S, "FOLD_VERSION", S.FOLD_VERSION - 1)
    run([{"id": "a", "text": ZH}], index=idx2, fold_chinese=False)
    monkeypatch.undo()
    kept, rej, _ = run([{"id": "b", "text": ZH}], index=idx2, fold_chinese=False)
    assert not kept and reason(rej[0]) == "exact_duplicate"



def test_index_built_when_tokens_were_cut_otherwise_is_refused(tmp_path, monkeypatch):
    # an index from a release that cut text in tokens otherwise holds other shingles: compared
    # with today's, a copy it holds could pass as new
    from corpuskit.stages.dedup import stage as S

    idx = str(tmp_path / "i.npz")
    monkeypatch.setattr(S, "TOKENS_VERSION", S.TOKENS_VERSION - 1)
    run([{"id": "a", "text": EN}], index=idx)
    monkeypatch.undo()
    with pytest.raises(UsageError, match="tokens=1 .now 2.*another corpuskit release, whose tokens differ: "
                                         "start a new index"):
        run([{"id": "b", "text": EN}], index=idx)
    # an option set otherwise gets the advice to run with it
    idx2 = str(tmp_path / "j.npz")
    run([{"id": "a", "text": EN}], index=idx2)
    with pytest.raises(UsageError, match="fold_chinese=True .now False.*run with the same options"):
        run([{"id": "b", "text": EN}], index=idx2, fold_chinese=False)

def test_traditional_and_simplified_copies_with_chained_characters_are_duplicates():
    simp = "你在做什么？这个问题什么时候能解决，大家都想知道。" * 6
    trad = "你在做什麼？這個問題什麼時候能解決，大家都想知道。" * 6
    kept, rej, _ = run([{"id": "s", "text": simp}, {"id": "t", "text": trad}])
    assert ids(kept) == ["s"] and reason(rej[0]) == "exact_duplicate"


def test_spill_and_temp_files_are_removed(tmp_path):
    run([{"id": "a", "text": EN}, {"id": "b", "text": EN}], tmp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_spill_folders_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from corpuskit.core.owner import HOST

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(gone.stdout)  # a process that has ended
    dead = tmp_path / f"corpuskit-dedup-{HOST}-{dead_pid}-abc_12"
    live = tmp_path / f"corpuskit-dedup-{HOST}-{os.getppid()}-xyz"  # our parent is alive
    other_host = tmp_path / f"corpuskit-dedup-elsewhere.example-{dead_pid}-q1"
    unknown = tmp_path / "corpuskit-dedup-8h2kz_qa"  # not a name we can judge
    for d in (dead, live, other_host, unknown):
        d.mkdir()
        (d / "spill.jsonl.zst").write_bytes(b"x" * 100)
    _, _, st = run([{"id": "a", "text": EN}, {"id": "b", "text": EN}], tmp_dir=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(x.name for x in (live, other_host, unknown))
    assert st.extra["removed_dead_scratch"] == [dead.name]


def test_spill_folder_is_named_with_host_and_pid(tmp_path, monkeypatch):
    import tempfile

    seen = []
    real = tempfile.mkdtemp

    def spy(*a, **kw):
        seen.append(kw.get("prefix"))
        return real(*a, **kw)

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    run([{"id": "a", "text": EN}], tmp_dir=str(tmp_path))
    from corpuskit.core.owner import HOST

    assert seen == [f"corpuskit-dedup-{HOST}-{os.getpid()}-"]


# ------------------------------------------------------------ CLI
def test_cli_stdin_rejected_and_stats(run_cli, tmp_path):
    lines = [{"id": "a", "text": EN * 2}, {"id": "b", "text": EN * 2 + " Posted on 12 May."},
             {"id": "c", "text": ZH}, {"id": "d", "text": ZH}, {"id": "e", "text": OTHER}]
    data = b"".join(orjson.dumps(x) + b"\n" for x in lines)
    rej, stats = tmp_path / "dups.jsonl", tmp_path / "stats.json"
    p = run_cli(["dedup", "--rejected", rej, "--stats", stats, "-q"], input=data, check=True)
    out = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["id"] for r in out] == ["a", "c", "e"]
    dups = [json.loads(x) for x in rej.read_bytes().splitlines()]
    assert [(r["id"], r["meta"]["rejected"]["reason"]) for r in dups] == [
        ("b", "near_duplicate"), ("d", "exact_duplicate")]
    s = json.loads(stats.read_text())
    assert s["conservation"]["ok"]
    st = s["stages"][0]
    assert st["reasons"] == {"exact_duplicate": 1, "near_duplicate": 1}
    assert st["extra"]["bands"] == 21 and st["extra"]["rows"] == 6


def test_cli_files_index_and_bad_option(run_cli, tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_bytes(b"".join(orjson.dumps({"id": str(i), "text": t}) + b"\n"
                           for i, t in enumerate([EN, OTHER, EN])))
    idx = tmp_path / "c.idx"
    p = run_cli(["dedup", f, "--index", idx, "--threshold", "0.7", "--num-perm", "64", "-q"], check=True)
    assert [json.loads(x)["id"] for x in p.stdout.splitlines()] == ["0", "1"]
    p = run_cli(["dedup", f, "--index", idx, "--threshold", "0.7", "--num-perm", "64", "-q"], check=True)
    assert p.stdout == b""
    p = run_cli(["dedup", f, "--survivor", "last"])
    assert p.returncode == 2 and b"--survivor must be" in p.stderr
    p = run_cli(["dedup", f, "--index", idx])
    assert p.returncode == 2 and b"num_perm" in p.stderr
    assert b"Traceback" not in p.stderr


def test_exact_checks_past_the_memory_budget_keep_the_estimate(monkeypatch):
    import corpuskit.stages.dedup.stage as D

    docs = [{"id": "a", "text": EN * 2}, {"id": "b", "text": EN * 2 + "Posted on 12 May."}]
    monkeypatch.setattr(D, "_EXACT_BUDGET", 0)
    kept, rej, st = run(docs, verify="exact")
    assert ids(rej) == ["b"]  # decided by the estimate
    assert st.extra["exact_jaccard_checks"] == 0
    assert st.extra["exact_checks_skipped_over_memory_budget"] == 1


def test_cli_help_lists_options_and_reasons(run_cli):
    p = run_cli(["dedup", "--help"], check=True)
    for word in (b"--threshold", b"--num-perm", b"--survivor", b"--index", b"--verify", b"exact_duplicate",
                 b"near_duplicate"):
        assert word in p.stdout


def test_rereadable_source_is_read_twice_not_spilled(tmp_path):
    class Source:
        rereadable = True

        def __init__(self, recs):
            self.recs, self.opened = recs, 0

        def __iter__(self):
            self.opened += 1
            return iter([dict(r) for r in self.recs])

    from corpuskit.core.stage import Rejected

    src = Source([{"id": "a", "text": EN}, {"id": "b", "text": EN}, {"id": "c", "text": OTHER}])
    d = Dedup(tmp_dir=str(tmp_path))
    out = list(d.run(src))  # the stage itself (Chain.run hands stages a one-shot generator)
    assert [o.record["id"] if isinstance(o, Rejected) else o["id"] for o in out] == ["a", "b", "c"]
    assert isinstance(out[1], Rejected) and out[1].rejection.reason == "exact_duplicate"
    assert src.opened == 2 and d.result()["spill_bytes"] == 0


# ---- Traditional / Simplified copies (dedup --fold-chinese)

ZH_NEWS = ("香港特区政府今日公布最新的经济数据，显示本地生产总值在第三季度按年实质增长百分之三点五，"
           "主要受惠于访港旅客人数回升以及出口货物表现理想。政府发言人表示，外围环境仍然充满不确定"
           "因素，市民应留意利率走势对楼价和个人财务的影响。")


@pytest.mark.parametrize("config", ["s2t", "s2tw", "s2hk"])
def test_traditional_copy_of_a_simplified_text_is_a_duplicate(config):
    import opencc

    trad = opencc.OpenCC(config).convert(ZH_NEWS)
    assert trad != ZH_NEWS
    docs = [{"id": "s", "text": ZH_NEWS}, {"id": "t", "text": trad}, {"id": "o", "text": ZH_OTHER}]
    kept, rejected, _ = run(docs)
    assert ids(kept) == ["s", "o"] and ids(rejected) == ["t"]
    assert kept[0]["text"] == ZH_NEWS  # the kept text stays as written
    kept, rejected, _ = run(docs, fold_chinese=False)
    assert ids(kept) == ["s", "t", "o"]


def test_traditional_first_is_kept_in_traditional():
    import opencc

    trad = opencc.OpenCC("s2tw").convert(ZH_NEWS)
    kept, rejected, _ = run([{"id": "t", "text": trad}, {"id": "s", "text": ZH_NEWS}])
    assert ids(kept) == ["t"] and kept[0]["text"] == trad


# ---- bounded memory: --max-memory

def _spill_corpus(lang: str, n: int = 1500) -> list[dict]:
    """n documents of one language with exact copies, near copies and a template bucket larger
    than the chain of 8 predecessors, in a shuffled order."""
    import random

    from tests.corpus import en_doc, zh_doc

    rng = random.Random(11 if lang == "en" else 12)
    doc = en_doc if lang == "en" else zh_doc
    tail = " Posted on 12 May." if lang == "en" else "发布于五月。"
    docs = [{"id": f"{lang}{i}", "text": doc(rng)} for i in range(n)]
    for i in range(0, n, 7):  # near copies
        docs.append({"id": f"{lang}near{i}", "text": docs[i]["text"] + tail})
    for i in range(3, n, 11):  # exact copies after normalisation
        docs.append({"id": f"{lang}copy{i}", "text": docs[i]["text"].upper() + "  "})
    for i in range(14):  # one template in 14 versions
        docs.append({"id": f"{lang}tpl{i}", "text": docs[5]["text"] + f" v{i}"})
    docs.append({"id": f"{lang}empty1", "text": ""})
    docs.append({"id": f"{lang}empty2", "text": "  "})
    rng.shuffle(docs)
    return docs


def _write(path, docs):
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    return path


def _stats_without_memory(path):
    st = json.loads(path.read_text())["stages"][0]["extra"]
    spilled = st.pop("grouping_spill_bytes", 0)
    for k in ("seconds", "max_memory", "scratch_bytes", "spill_bytes"):
        st.pop(k)
    return st, spilled


def _spill_bytes(path):
    return json.loads(path.read_text())["stages"][0]["extra"]["spill_bytes"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_max_memory_spills_give_the_same_bytes(run_cli, tmp_path, lang):
    """A budget far below the tables (several partitions on disk for the exact keys and for
    every band) keeps and rejects exactly what the in-memory run does, with the same stats."""
    src = _write(tmp_path / "in.jsonl", _spill_corpus(lang))
    res = {}
    for label, extra in (("mem", []), ("disk", ["--max-memory", "16KB"])):
        out, rej, st = (tmp_path / f"{label}.{x}" for x in ("out", "rej", "json"))
        run_cli(["dedup", src, "-o", out, "--rejected", rej, "--stats", st, "-q", "--tmp-dir", tmp_path,
                 *extra], check=True)
        res[label] = (out.read_bytes(), rej.read_bytes(), *_stats_without_memory(st), _spill_bytes(st))
    assert res["disk"][:3] == res["mem"][:3]
    assert res["mem"][3] == 0 and res["disk"][3] > 100_000  # it did spill, many partitions
    # the records too: held in memory within the budget, spilled to disk past it
    assert res["mem"][4] == 0 and res["disk"][4] > 10_000
    rejected = [json.loads(x)["meta"]["rejected"]["reason"] for x in res["mem"][1].splitlines()]
    assert {"near_duplicate", "exact_duplicate"} <= set(rejected)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("corpuskit-dedup")] == []


def test_max_memory_with_index_gives_the_same_bytes_and_index(run_cli, tmp_path):
    import shutil

    docs = _spill_corpus("en", 700) + _spill_corpus("zh", 700)
    first, second = _write(tmp_path / "a.jsonl", docs[:900]), _write(tmp_path / "b.jsonl", docs[900:])
    run_cli(["dedup", first, "-o", tmp_path / "a.out", "--index", tmp_path / "mem.npz", "-q"], check=True)
    shutil.copy(tmp_path / "mem.npz", tmp_path / "disk.npz")
    got = {}
    for label, extra in (("mem", []), ("disk", ["--max-memory", "16KB"])):
        out, rej = tmp_path / f"{label}.out", tmp_path / f"{label}.rej"
        run_cli(["dedup", second, "-o", out, "--rejected", rej, "--index", tmp_path / f"{label}.npz", "-q",
                 *extra], check=True)
        got[label] = (out.read_bytes(), rej.read_bytes(), (tmp_path / f"{label}.npz").read_bytes())
    assert got["disk"] == got["mem"]
    assert b"kept en" in got["mem"][1] and b"kept zh" in got["mem"][1]
    with np.load(tmp_path / "mem.npz") as z:  # still an .npz numpy reads
        n_kept = len(got["mem"][0].splitlines()) + len((tmp_path / "a.out").read_bytes().splitlines())
        assert z["sigs"].shape == (n_kept, 128) and len(z["id_offsets"]) == n_kept + 1


def test_index_written_by_numpy_savez_is_read_in_place(tmp_path):
    """An index as np.savez writes it (the format since version 1) is read where it lies and
    gives the same result as ours, then grows the same way."""
    docs = _spill_corpus("zh", 300)
    run(docs[:200], index=str(tmp_path / "ours.npz"))
    with np.load(tmp_path / "ours.npz") as z:
        np.savez(tmp_path / "numpy.npz", **{k: z[k] for k in z.files})
    a = run(docs[200:], index=str(tmp_path / "ours.npz"))
    b = run(docs[200:], index=str(tmp_path / "numpy.npz"))
    assert (ids(a[0]), ids(a[1])) == (ids(b[0]), ids(b[1])) and a[1]
    with np.load(tmp_path / "ours.npz") as x, np.load(tmp_path / "numpy.npz") as y:
        assert x.files == y.files and all(np.array_equal(x[k], y[k]) for k in x.files)
    from corpuskit.stages.dedup.store import _Index

    idx = _Index.load(str(tmp_path / "ours.npz"), Dedup()._params())
    try:  # nothing loaded: the rows are read from the file when asked for
        assert idx.size > 200 and idx.sigs.base > 0
        with np.load(tmp_path / "ours.npz") as x:
            assert np.array_equal(idx.sigs.rows(np.array([5, 0, 6])), x["sigs"][[5, 0, 6]])
            assert idx.ids[7] == bytes(x["id_blob"][x["id_offsets"][7]:x["id_offsets"][8]]).decode()
    finally:
        idx.close()


def test_compressed_or_foreign_npz_is_refused_as_an_index(tmp_path):
    from corpuskit.core.errors import BadInput

    run([{"id": "a", "text": EN}], index=str(tmp_path / "i.npz"))
    with np.load(tmp_path / "i.npz") as z:
        np.savez_compressed(tmp_path / "c.npz", **{k: z[k] for k in z.files})
    np.savez(tmp_path / "f.npz", sigs=np.zeros((2, 3)))
    for name in ("c.npz", "f.npz"):
        with pytest.raises(BadInput, match="not a corpuskit dedup index"):
            run([{"id": "b", "text": EN}], index=str(tmp_path / name))


def test_scratch_is_removed_after_a_failure_past_the_budget(tmp_path, monkeypatch):
    import corpuskit.stages.dedup.stage as D
    from corpuskit.core.errors import BadInput

    docs = _spill_corpus("en", 600)
    bad = docs[:500] + [{"id": "x"}] + docs[500:]  # no text: pass 1 stops
    with pytest.raises(BadInput):
        run(bad, tmp_dir=str(tmp_path), max_memory="16KB")
    assert list(tmp_path.iterdir()) == []
    seen = []

    def boom(rows, n_all):  # partitions of band keys on disk when grouping stops
        seen.extend(p.name for p in next(tmp_path.iterdir()).iterdir() if ".part" in p.name)
        raise RuntimeError("stop")

    monkeypatch.setattr(D, "_band_part_codes", boom)
    with pytest.raises(RuntimeError):
        run(docs, tmp_dir=str(tmp_path), max_memory="16KB")
    assert len(seen) > 2 and list(tmp_path.iterdir()) == []


def test_max_memory_sizes_and_bad_values(run_cli, tmp_path):
    from corpuskit.stages.dedup.store import parse_size

    assert parse_size("200MB") == 200 << 20 and parse_size("1GB") == 1 << 30
    assert parse_size("1.5g") == 3 << 29 and parse_size("64KiB") == 64 << 10 and parse_size("4096") == 4096
    for bad in ("", "lots", "12 parsecs", "-1MB"):
        with pytest.raises(ValueError):
            parse_size(bad)
    with pytest.raises(ValueError, match="at least 16KB"):
        Dedup(max_memory="1KB")
    f = _write(tmp_path / "in.jsonl", [{"id": "a", "text": EN}])
    p = run_cli(["dedup", f, "--max-memory", "lots"])
    assert p.returncode == 2 and b"not a size" in p.stderr and b"Traceback" not in p.stderr


def test_grouper_partitions_group_like_memory(tmp_path):
    from corpuskit.stages.dedup.graph import Grouper, _band_part_codes

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    keys[rng.integers(0, 5000, 2000)] = keys[:2000:10].repeat(10)  # buckets, some big
    rows = np.stack([keys, np.arange(5000, dtype=np.uint64)], axis=1)
    out = {}
    for budget in (1 << 30, 20_000):
        g = Grouper(str(tmp_path), "t", 2, len(rows), budget)
        for s in range(0, 5000, 700):
            g.add(rows[s:s + 700])
        codes = [_band_part_codes(part, 5000) for part in g.groups()]
        out[budget] = (g.parts, np.unique(np.concatenate(codes)))
    assert out[1 << 30][0] == 1 and out[20_000][0] > 10
    assert np.array_equal(out[1 << 30][1], out[20_000][1]) and len(out[20_000][1]) > 1000
    assert list(tmp_path.iterdir()) == []


def test_sparse_clusters_match_components_of_the_whole_graph():
    from corpuskit.stages.dedup.graph import _clusters, _clusters_sparse

    rng = np.random.default_rng(5)
    total = 3000
    lo = rng.integers(0, total, 400)
    hi = np.minimum(lo + rng.integers(1, 50, 400), total - 1)
    lengths = rng.integers(1, 1000, total)
    for keep in ("first", "longest"):
        comp, surv, size = _clusters(total, [(lo, hi)], lengths, 0, keep)
        nodes, c2, s2, z2 = _clusters_sparse(lo, hi, lambda p: lengths[p], keep)
        assert np.array_equal(surv[comp[nodes]], s2[c2]) and np.array_equal(size[comp[nodes]], z2[c2])
        big = np.flatnonzero(size > 1)  # numbered in the same order
        assert np.array_equal(surv[big[np.argsort(-size[big], kind="stable")]],
                              s2[np.argsort(-z2, kind="stable")])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_stream_held_in_memory_spilled_part_way_or_read_twice_gives_the_same_records(lang):
    """A one-shot stream is held in memory while it fits an eighth of --max-memory, then what
    is held and the rest go to the spill. Whether it fits, overflows after a few records, or
    overflows half-way, the records, their order and their verdicts are those of a list input
    (read twice, never spilled)."""
    docs = _spill_corpus(lang, 400)
    expect = run_stages([Dedup()], [dict(d) for d in docs])
    body = sum(len(orjson.dumps(d)) for d in docs)
    # (the held share is an eighth of the budget: 4x the stream's JSON holds about half of it)
    for budget, spilled in (("1GB", False), ("16KB", True), (str(4 * body), True)):
        d = Dedup(max_memory=budget)
        got = run_stages([d], iter([dict(x) for x in docs]))
        assert orjson.dumps(got[:2]) == orjson.dumps(expect[:2]), budget
        assert (d.result()["spill_bytes"] > 0) == spilled, budget


def test_a_record_with_a_huge_text_is_spilled_not_held():
    big = "word7 " * 200_000  # 1.2 million characters: over the 1 M-character limit of a held text
    docs = [{"id": "a", "text": EN}, {"id": "big", "text": big}, {"id": "b", "text": EN}]
    d = Dedup()
    kept, rejected, _ = run_stages([d], iter([dict(x) for x in docs]))
    assert ids(kept) == ["a", "big"] and ids(rejected) == ["b"]
    assert kept[1]["text"] == big and d.result()["spill_bytes"] > 0


def test_records_held_are_counted_with_their_nested_values():
    """A short text beside a large nested value is counted whole: a stream of such records
    outgrows the held share of --max-memory and is spilled."""
    from corpuskit.stages.dedup.store import _held_size

    rec = {"id": "a", "text": "short", "meta": {"parts": ["x" * 100_000, {"y": "z" * 50_000}]}}
    assert _held_size(rec) > 150_000
    docs = [{**rec, "id": f"r{i}", "text": f"{EN} {i}"} for i in range(200)]  # ~30 MB nested
    d = Dedup(max_memory="64MB")  # 8 MB held at most
    kept, rejected, _ = run_stages([d], iter(docs))
    assert len(kept) + len(rejected) == 200 and d.result()["spill_bytes"] > 0
    assert kept[0]["meta"]["parts"][0] == "x" * 100_000


def test_a_failed_run_leaves_the_index_as_it_was(run_cli, tmp_path):
    # the index was replaced at the end of the stage's run, before the outputs: a run whose -o
    # then failed (a full disk, Ctrl-C) had added its documents to the index, so running the
    # batch again rejected every one of them as a duplicate of itself, in no output
    import stat

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(orjson.dumps({"id": "a", "text": EN * 2}) + b"\n")
    b.write_bytes(orjson.dumps({"id": "b", "text": OTHER}) + b"\n" + orjson.dumps({"id": "c", "text": ZH}) + b"\n")
    real = tmp_path / "corpus.idx"
    idx = tmp_path / "link.idx"  # a symlink: its target is replaced, the link stays
    idx.symlink_to(real.name)
    p = run_cli(["dedup", a, "--index", idx, "-o", tmp_path / "a.out.jsonl", "-q"])
    assert p.returncode == 0, p.stderr
    assert idx.is_symlink() and real.exists()
    before = real.read_bytes()
    if os.geteuid() == 0:
        full = tmp_path / "full"
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    else:
        full = "/dev/full"
    p = run_cli(["dedup", b, "--index", idx, "-o", full, "-q"])
    assert p.returncode == 1 and b"No space left on device" in p.stderr
    assert real.read_bytes() == before and sorted(x.name for x in tmp_path.iterdir() if "tmp" in x.name) == []
    p = run_cli(["dedup", b, "--index", idx, "-o", tmp_path / "b.out.jsonl", "-q"])
    assert p.returncode == 0, p.stderr
    assert [orjson.loads(x)["id"] for x in (tmp_path / "b.out.jsonl").read_bytes().splitlines()] == ["b", "c"]
    assert idx.is_symlink() and real.read_bytes() != before
    # and the index, once in place, holds them
    p = run_cli(["dedup", b, "--index", idx, "-q"])
    assert p.returncode == 0 and p.stdout == b""
