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


def test_memory_per_document_is_small():
    # what pass 1 keeps in memory per document: band keys, exact key, length, token count, id
    d = Dedup()
    b, _ = d.lsh_params()
    per_doc = 8 * b + 16 + 1 + 8 + 8 + 8 + 10  # + a 10-byte id
    assert per_doc < 1024
    assert np.dtype(np.uint32).itemsize * d.num_perm == 512  # signature, on disk


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
