"""Benchmark of `corpuskit dedup`: speed, quality and scale. Writes benchmarks/results/dedup.json.

    python benchmarks/bench_dedup.py [--quick] [--scale N] [--only speed|quality|scale]

Needs: datasketch and scipy (dependencies), the English man pages (/usr/share/man, Debian's
`manpages` and whatever else the machine has) and the Chinese ones (`apt-get install manpages-zh`).
It stops with a non-zero exit, naming what to install, when one is missing.

1. Speed: raw text -> MinHash signatures, documents/s on one core, ~1,000-word English
   documents (and ~1,000-character Chinese ones), against datasketch's per-document `MinHash`
   (default settings: 128 permutations, SHA-1 token hash) in the same run, median of runs.
   Two baselines: datasketch fed the same shingles (corpuskit.core.text.shingle_tokens 5-grams),
   and datasketch fed whitespace-split 5-grams (the cheapest tokenisation a user might write).
2. Quality: near-duplicate corpora built from real text shipped in packages (man pages,
   English and Chinese: benchmarks/dedup_data.py) with synthetic edits of known kinds, in two
   splits: DEVELOPMENT (seed 1234, the corpora the dedup was tuned on) and HELD-OUT (seed 4321,
   made of man pages that are not originals of the development corpora; never used for tuning).
   Ground truth comes from a plain reference implementation in this file that shares no code
   with corpuskit (`reference_*`): its own tokens (Traditional Chinese converted to Simplified
   by the OpenCC library's t2s, as `dedup --fold-chinese` specifies; NFKC + casefold, each CJK/kana/hangul
   character a token, other runs of letters and digits a token), its own 5-token shingles, and
   the exact Jaccard of EVERY pair of documents (a sparse document x shingle matrix times its
   transpose: all pairwise intersections, brute force). A document should be removed when it
   is in a connected component of pairs with J >= 0.8 and is not its first document.
   Per-document precision and recall, for corpuskit (verify auto / estimate / exact) and for
   datasketch 1.x/2.x `MinHash` + `MinHashLSH` fed the same shingles as corpuskit, with its
   defaults (threshold 0.8: its optimiser picks the bands, every LSH candidate is a duplicate)
   and with our settings (21 bands x 6 rows as ours, candidates kept when datasketch's own
   estimated Jaccard >= 0.8), candidates joined into components the same way. Also the
   end-to-end time per document (text -> removal decisions) of each.
3. Scale: the whole `corpuskit dedup` command (a subprocess, 2 cores) on N generated
   documents (real paragraphs, 15% near copies): wall time and peak memory (VmHWM).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import missing, require_packages, save  # noqa: E402
from benchmarks.dedup_data import build_corpus, man_pages, thousand_word_docs  # noqa: E402
from corpuskit.core.text import ngrams, shingle_tokens  # noqa: E402
from corpuskit.stages.dedup import minhash as M  # noqa: E402


def median_rate(fn, n_docs: int, runs: int) -> float:
    rates = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        rates.append(n_docs / (time.perf_counter() - t))
    return statistics.median(rates)


# ---------------------------------------------------------------- 1. speed
def bench_speed(quick: bool) -> dict:
    from datasketch import MinHash

    out = {}
    for lang in ("en", "zh"):
        docs = thousand_word_docs(1500 if quick else 4000, lang)
        base = docs[: 150 if quick else 400]
        hasher = M.MinHasher()
        hasher.signatures(docs[:8])  # compile / load the kernel outside the clock

        def ours(docs=docs, hasher=hasher):
            for i in range(0, len(docs), 512):
                hasher.signatures(docs[i:i + 512])

        def ds_same(base=base):
            for d in base:
                m = MinHash()
                m.update_batch([" ".join(g).encode() for g in ngrams(shingle_tokens(d), 5)])

        def ds_split(base=base):
            for d in base:
                w = d.split()
                m = MinHash()
                m.update_batch([" ".join(w[i:i + 5]).encode() for i in range(max(1, len(w) - 4))])

        runs = 3 if quick else 5
        r_ours = median_rate(ours, len(docs), runs)
        r_same = median_rate(ds_same, len(base), max(2, runs - 2))
        r_split = median_rate(ds_split, len(base), max(2, runs - 2))
        # same numbers as datasketch, checked on a sample
        sigs, _ = hasher.signatures(docs[:20])
        identical = all(
            np.array_equal(s, _ds_sig(d)) for d, s in zip(docs[:20], sigs))
        ntok = float(np.mean(hasher.signatures(docs[:200])[1]))
        out[lang] = {"docs": len(docs), "tokens_per_doc": round(ntok), "corpuskit_docs_s": round(r_ours),
                     "datasketch_same_shingles_docs_s": round(r_same),
                     "datasketch_split_docs_s": round(r_split),
                     "ratio_vs_same_shingles": round(r_ours / r_same, 1),
                     "ratio_vs_split": round(r_ours / r_split, 1),
                     "identical_to_datasketch": identical}
    return out


def _ds_sig(text: str) -> np.ndarray:
    from datasketch import MinHash

    m = MinHash(hashfunc=M.shingle_hash)
    m.update_batch(ngrams(shingle_tokens(text), 5))
    return m.hashvalues


# ---------------------------------------------------------------- 2. quality
# The reference implementation of the ground truth: plain Python, numpy and scipy, no corpuskit.
_REF_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_REF_TOKEN = re.compile(f"[{_REF_CJK}]|[^\\W_{_REF_CJK}]+")


_REF_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_REF_OPENCC: list = []


def _reference_t2s(text: str) -> str:
    """Traditional Chinese converted to Simplified by OpenCC's phrase-aware t2s (the library,
    not corpuskit's one-for-one table): a man page in zh_TW and the same page in zh_CN are the
    same text, which is what `dedup --fold-chinese` (on by default) is specified to find."""
    if not _REF_HAN.search(text):
        return text
    if not _REF_OPENCC:
        import opencc

        _REF_OPENCC.append(opencc.OpenCC("t2s"))
    return _REF_OPENCC[0].convert(text)


def reference_shingles(text: str, n: int = 5) -> set[str]:
    """Tokens: Traditional Chinese converted to Simplified (OpenCC t2s), NFKC, casefold, each CJK / kana / hangul character one token, every other run of
    letters and digits one token (punctuation and white space dropped). Shingles: every run of
    n consecutive tokens; a text of fewer than n tokens is one shingle of all of them."""
    toks = _REF_TOKEN.findall(unicodedata.normalize("NFKC", _reference_t2s(text)).casefold())
    if not toks:
        return set()
    if len(toks) < n:
        return {"\x1f".join(toks)}
    return {"\x1f".join(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def reference_all_pairs_jaccard(texts: list[str]):
    """Exact Jaccard of every pair (i < j) that shares a shingle (every other pair has J = 0):
    a binary document x shingle matrix X, X @ X.T = all pairwise intersection sizes."""
    from scipy.sparse import csr_matrix, triu

    vocab: dict[str, int] = {}
    indptr, indices = [0], []
    for t in texts:
        ids = sorted({vocab.setdefault(sh, len(vocab)) for sh in reference_shingles(t)})
        indices.extend(ids)
        indptr.append(len(indices))
    x = csr_matrix((np.ones(len(indices), dtype=np.int32), np.array(indices, dtype=np.int64),
                    np.array(indptr, dtype=np.int64)), shape=(len(texts), max(1, len(vocab))))
    sizes = np.diff(x.indptr).astype(np.float64)
    inter = triu(x @ x.T, k=1).tocoo()
    a, b, c = inter.row.astype(np.int64), inter.col.astype(np.int64), inter.data.astype(np.float64)
    j = c / (sizes[a] + sizes[b] - c)
    # two texts with no shingle at all are equal as far as shingles go: J = 1 when both are empty
    empty = np.flatnonzero(sizes == 0)
    if len(empty) > 1:
        ea, eb = np.triu_indices(len(empty), k=1)
        a, b = np.concatenate([a, empty[ea]]), np.concatenate([b, empty[eb]])
        j = np.concatenate([j, np.ones(len(ea))])
    return a, b, j, len(texts) * (len(texts) - 1) // 2


def reference_components(n: int, a, b) -> list[int]:
    """The component (its smallest member) of every document, joining the pairs (own union-find)."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist()):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return [find(i) for i in range(n)]


def reference_removed(n: int, a, b) -> np.ndarray:
    """keep=first: every document but the first (in stream order) of its component."""
    seen, rem = set(), np.zeros(n, dtype=bool)
    for i, r in enumerate(reference_components(n, a, b)):
        if r in seen:
            rem[i] = True
        else:
            seen.add(r)
    return rem


def ground_truth(recs: list[dict], threshold: float = 0.8) -> dict:
    """The reference truth (no corpuskit code): exact Jaccard over all pairs, components of the
    pairs at or above the threshold, keep the first of each."""
    a, b, j, n_pairs = reference_all_pairs_jaccard([r["text"] for r in recs])
    sel = j >= threshold
    return {"removed": reference_removed(len(recs), a[sel], b[sel]), "pairs": (a[sel], b[sel], j[sel]),
            "n_pairs_checked": n_pairs, "pairs_sharing_a_shingle": int(len(j))}


def _score(pred: np.ndarray, truth: dict) -> dict:
    tr = truth["removed"]
    tp = int((pred & tr).sum())
    return {"documents": len(pred), "truly_duplicate": int(tr.sum()), "removed": int(pred.sum()),
            "true_positives": tp,
            "precision": round(tp / pred.sum(), 4) if pred.sum() else 1.0,
            "recall": round(tp / tr.sum(), 4) if tr.sum() else 1.0}


def _pair_recall(truth: dict, same_cluster) -> dict:
    """Recall of the true pairs by true-J bucket: both ends of a true pair in one predicted cluster."""
    pa, pb, j = truth["pairs"]
    buckets = {}
    for lo_, hi_ in ((0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01)):
        m = (j >= lo_) & (j < hi_)
        if m.any():
            same = [same_cluster(a, b) for a, b in zip(pa[m].tolist(), pb[m].tolist())]
            buckets[f"{lo_:.2f}-{min(hi_, 1.0):.2f}"] = {"pairs": int(m.sum()),
                                                        "recall": round(float(np.mean(same)), 4)}
    return buckets


def datasketch_shingles(text: str) -> list[bytes]:
    """corpuskit's 5-token shingles as the bytes datasketch hashes."""
    return [" ".join(g).encode() for g in ngrams(shingle_tokens(text), 5)]


def datasketch_pairs(shingles: list[list[bytes]], best: bool):
    """datasketch's duplicate pairs (lo < hi) over the documents' shingles: MinHash(num_perm=128)
    per document, MinHashLSH insert and query; defaults: threshold=0.8, every candidate a pair;
    best (our settings): params=(21, 6), a candidate kept when MinHash.jaccard >= 0.8.
    Returns (lo, hi, the MinHashLSH)."""
    from datasketch import MinHash, MinHashLSH

    mhs = []
    for sh in shingles:
        m = MinHash(num_perm=128)
        m.update_batch(sh)
        mhs.append(m)
    lsh = MinHashLSH(num_perm=128, params=(21, 6)) if best else MinHashLSH(threshold=0.8, num_perm=128)
    for i, m in enumerate(mhs):
        lsh.insert(i, m)
    lo, hi = [], []
    for i, m in enumerate(mhs):
        for k in lsh.query(m):
            if k > i and (not best or m.jaccard(mhs[k]) >= 0.8):
                lo.append(i)
                hi.append(k)
    return np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64), lsh


def datasketch_dedup(recs: list[dict], truth: dict, best: bool) -> dict:
    """datasketch MinHash (128 permutations, its SHA-1 hash) + MinHashLSH on the same shingles as
    corpuskit; defaults: MinHashLSH(threshold=0.8), every candidate a duplicate; best (our
    settings): params=(21, 6) as ours, a candidate kept when MinHash.jaccard >= 0.8. Pairs are
    joined into components, keep first, as ours. Shingling is not timed (it is our tokenizer)."""
    shingles = [datasketch_shingles(r["text"]) for r in recs]
    t = time.perf_counter()
    lo_a, hi_a, lsh = datasketch_pairs(shingles, best)
    pred = reference_removed(len(recs), lo_a, hi_a)
    secs = time.perf_counter() - t
    comp = reference_components(len(recs), lo_a, hi_a)  # clusters, for pair recall
    res = _score(pred, truth)
    res.update({"seconds": round(secs, 2), "docs_per_s": round(len(recs) / secs, 1),
                "bands_rows": "21x6" if best else f"{lsh.b}x{lsh.r}",
                "settings": ("MinHash(num_perm=128), MinHashLSH(num_perm=128, params=(21, 6)), candidates "
                             "verified by MinHash.jaccard >= 0.8; corpuskit's shingles" if best else
                             "MinHash(num_perm=128), MinHashLSH(threshold=0.8, num_perm=128) (defaults "
                             "otherwise), every candidate a duplicate; corpuskit's shingles"),
                "pair_recall_by_true_j": _pair_recall(truth, lambda a, b: comp[a] == comp[b])})
    return res


def evaluate(recs: list[dict], truth: dict, **opts) -> dict:
    from corpuskit.core.chain import run_stages
    from corpuskit.stages.dedup.stage import Dedup

    t = time.perf_counter()
    kept, rejected, stats = run_stages([Dedup(**opts)], iter([dict(r) for r in recs]))
    secs = time.perf_counter() - t
    pos = {r["id"]: i for i, r in enumerate(recs)}
    pred = np.zeros(len(recs), dtype=bool)
    pred[[pos[r["id"]] for r in rejected]] = True
    cluster = {}
    for r in kept + rejected:
        cluster[pos[r["id"]]] = r["meta"]["dedup"]["cluster"]
    tr = truth["removed"]
    res = _score(pred, truth)
    res.update({"exact_jaccard_checks": stats[0].extra["exact_jaccard_checks"],
                "candidate_pairs": stats[0].extra["candidate_pairs"],
                "seconds": round(secs, 2), "docs_per_s": round(len(recs) / secs, 1),
                "bands_rows": f"{stats[0].extra['bands']}x{stats[0].extra['rows']}",
                "pair_recall_by_true_j": _pair_recall(truth, lambda a, b: cluster[a] == cluster[b])})
    # per edit kind: recall of the removal of truly-duplicate variants
    kinds = {}
    for k in sorted({r["kind"] for r in recs}):
        idx = np.array([i for i, r in enumerate(recs) if r["kind"] == k])
        tk = tr[idx]
        if tk.sum():
            kinds[k] = {"truly_duplicate": int(tk.sum()),
                        "recall": round(float((pred[idx] & tk).sum() / tk.sum()), 4),
                        "false_removals": int((pred[idx] & ~tk).sum())}
    res["by_edit_kind"] = kinds
    return res


def quality_corpora(quick: bool) -> list[tuple[str, str, list[dict], int]]:
    """(language, split, records, originals). development: seed 1234 over the pages the dedup
    was tuned on; held-out: seed 4321 over pages that are no development original."""
    en = man_pages("en", limit=None)
    zh = man_pages("zh")
    if len(en) < 2600:
        missing(f"English man pages (found {len(en)} usable, need 2,600)",
                "apt-get install man-db manpages coreutils (Debian) so /usr/share/man holds them.")
    if len(zh) < 900:
        missing(f"Chinese man pages (found {len(zh)} usable, need 900)", "apt-get install manpages-zh")
    out = []
    # development: exactly the corpora the figures before issue 14 used
    n_en, n_zh = (500, 300) if quick else (1500, 700)
    out.append(("en", "development", build_corpus("en", n_en, pages=en[:2400]), n_en))
    zh_dev = build_corpus("zh", n_zh, pages=list(zh))
    out.append(("zh", "development", zh_dev, n_zh))
    # held-out: English pages past the 2,400 the development set draws from; Chinese pages that
    # are no development original (the development shuffle is replayed to know which)
    pages = list(zh)
    random.Random(1234).shuffle(pages)
    zh_rest = pages[n_zh:] if not quick else pages[700:]
    en_rest = en[2400:]
    out.append(("en", "held-out", build_corpus("en", len(en_rest) * 4 // 5, seed=4321, pages=en_rest),
                len(en_rest) * 4 // 5))
    out.append(("zh", "held-out", build_corpus("zh", len(zh_rest) * 4 // 5, seed=4321, pages=zh_rest),
                len(zh_rest) * 4 // 5))
    return out


def bench_quality(quick: bool) -> dict:
    out: dict = {}
    from corpuskit.core.chain import run_stages
    from corpuskit.stages.dedup.stage import Dedup

    # the compiled kernels are loaded outside every clock
    run_stages([Dedup()], iter([{"id": f"w{i}", "text": t} for i, (_, t) in
                                enumerate(man_pages("en", limit=50))]))
    for lang, split, recs, n_orig in quality_corpora(quick):
        t = time.perf_counter()
        truth = ground_truth(recs)
        key = f"{lang}_{split}"
        out[key] = {"lang": lang, "data": split, "originals": n_orig, "documents": len(recs),
                    "truth": "reference implementation (no corpuskit code): exact Jaccard of its own "
                             "5-token shingles over all pairs, J >= 0.8, components, keep first",
                    "pairs_total": truth["n_pairs_checked"],
                    "pairs_sharing_a_shingle": truth["pairs_sharing_a_shingle"],
                    "truth_seconds": round(time.perf_counter() - t, 1),
                    "auto": evaluate(recs, truth),
                    "estimate": evaluate(recs, truth, verify="estimate"),
                    "exact": evaluate(recs, truth, verify="exact"),
                    "datasketch_defaults": datasketch_dedup(recs, truth, best=False),
                    "datasketch_best": datasketch_dedup(recs, truth, best=True)}
        v = out[key]
        v["end_to_end_speedup_vs_datasketch_defaults"] = round(
            v["datasketch_defaults"]["seconds"] / v["auto"]["seconds"], 1)
        v["end_to_end_speedup_vs_datasketch_best"] = round(
            v["datasketch_best"]["seconds"] / v["auto"]["seconds"], 1)
        print(f"  quality {key}: {len(recs)} docs", file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------- 3. scale
def make_scale_file(path: str, n: int, seed: int = 7, dup_share: float = 0.15) -> None:
    """n documents of 8-25 random real paragraphs (man pages, English and Chinese), `dup_share`
    of them near copies (a word changed) of an earlier one."""
    import orjson

    rng = random.Random(seed)
    sents: list[str] = []
    for lang, lim in (("en", 2400), ("zh", None)):
        for _, t in man_pages(lang, limit=lim):
            sents.extend(s for s in M.fold(t).split("\n") if len(s) > 20)
    sents = [s for s in sents if len(s) < 400]
    ns = len(sents)
    recent: list[str] = []
    with open(path, "wb") as f:
        for i in range(n):
            if recent and rng.random() < dup_share:
                base = rng.choice(recent).split(" ")
                k = rng.randrange(len(base))
                base[k] = "edited"
                text = " ".join(base)
            else:
                text = "\n".join(sents[rng.randrange(ns)] for _ in range(rng.randint(8, 25)))
                text += f" {rng.getrandbits(40):x}"  # a unique tail so random picks don't collide
                if len(recent) < 5000:
                    recent.append(text)
                else:
                    recent[rng.randrange(5000)] = text
            f.write(orjson.dumps({"id": f"d{i}", "text": text}) + b"\n")


_CHILD = r"""
import resource, sys, time, json
t = time.perf_counter()
code = 0
try:
    from corpuskit.cli import main
    main(sys.argv[2:])
except SystemExit as e:
    code = e.code or 0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent (this
# benchmark, which holds its corpora), VmHWM belongs to this process image alone
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
json.dump({"seconds": time.perf_counter() - t, "code": code,
           "maxrss_kb": hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss},
          open(sys.argv[1], "w"))
"""


def run_dedup_cli(inp: str, tmp: str, args: tuple[str, ...] = (), src: str = "", out: str = "") -> dict:
    """`corpuskit dedup` in a child process (the package from `src`, default this checkout)."""
    rep = os.path.join(tmp, "child.json")
    stats = os.path.join(tmp, "stats.json")
    env = dict(os.environ, PYTHONPATH=src or str(ROOT))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", _CHILD, rep, "dedup", inp, "-o", out or os.path.join(tmp, "out.jsonl"),
                    "--stats", stats, "-q", "--tmp-dir", tmp, *args], check=True, env=env)
    wall = time.perf_counter() - t
    child = json.load(open(rep))
    if child["code"]:
        raise SystemExit(f"dedup failed with exit {child['code']}")
    st = json.load(open(stats))["stages"][0]
    return {"wall_seconds": round(wall, 1), "peak_rss_mb": round(child["maxrss_kb"] / 1024, 1),
            "kept": st["kept"], "rejected": st["reasons"], "seconds_by_phase": st["extra"]["seconds"],
            "extra": st["extra"]}


def bench_scale(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        small_n = 2000
        small = os.path.join(tmp, "small.jsonl")
        make_scale_file(small, small_n)
        inp = os.path.join(tmp, "in.jsonl")
        t = time.perf_counter()
        make_scale_file(inp, n)
        gen = time.perf_counter() - t
        size = os.path.getsize(inp)
        r_small = run_dedup_cli(small, tmp)
        r = run_dedup_cli(inp, tmp)
    per_doc = (r["peak_rss_mb"] - r_small["peak_rss_mb"]) * 1024 * 1024 / (n - small_n)
    res = {"documents": n, "input_mb": round(size / 2**20), "generate_seconds": round(gen, 1), **r,
           "baseline_rss_mb_2k_docs": r_small["peak_rss_mb"], "bytes_per_doc_above_baseline": round(per_doc),
           "docs_per_second": round(n / r["wall_seconds"])}
    if n < 1_000_000:
        f = 1_000_000 / n
        res["extrapolated_1M"] = {"wall_seconds": round(r["wall_seconds"] * f),
                                  "peak_rss_mb": round(r_small["peak_rss_mb"] + per_doc * 1_000_000 / 2**20),
                                  "note": "EXTRAPOLATED linearly from this run, not measured"}
    return res


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller inputs (about a minute)")
    ap.add_argument("--scale", type=int, default=0, help="documents for the scale run "
                    "(default 300,000 so that the whole benchmark stays under 5 minutes, with a "
                    "linear extrapolation to 1M; --quick 50,000)")
    ap.add_argument("--only", choices=["speed", "quality", "scale"], default=None)
    args = ap.parse_args()
    require_packages("datasketch", "scipy")
    t0 = time.perf_counter()
    res: dict = {"quick": args.quick, "only": args.only, "load_avg_at_start": os.getloadavg()[0]}
    if args.only in (None, "speed"):
        res["speed"] = bench_speed(args.quick)
        _print_speed(res["speed"])
    if args.only in (None, "quality"):
        res["quality"] = bench_quality(args.quick)
        _print_quality(res["quality"])
    if args.only in (None, "scale"):
        n = args.scale or (50_000 if args.quick else 300_000)
        res["scale"] = bench_scale(n)
        _print_scale(res["scale"])
    res["bench_seconds"] = round(time.perf_counter() - t0, 1)
    out = save("dedup" if args.only in (None, "speed", "quality") and not args.scale else f"dedup_{args.only}",
               res)
    print(f"\nwritten {out.relative_to(ROOT)} in {res['bench_seconds']} s")


def _print_speed(s: dict) -> None:
    print("\n== speed: raw text -> 128-permutation MinHash signatures, one core (median of runs)")
    print(f"{'docs':<22}{'corpuskit/s':>12}{'datasketch same shingles/s':>28}{'ratio':>7}"
          f"{'datasketch split()/s':>22}{'ratio':>7}  identical")
    for lang, v in s.items():
        label = "~1000 words (en)" if lang == "en" else "~1000 chars (zh)"
        print(f"{label:<22}{v['corpuskit_docs_s']:>12}{v['datasketch_same_shingles_docs_s']:>28}"
              f"{v['ratio_vs_same_shingles']:>6}x{v['datasketch_split_docs_s']:>22}{v['ratio_vs_split']:>6}x"
              f"  {v['identical_to_datasketch']}")


def _print_quality(q: dict) -> None:
    print("\n== quality: per-document precision / recall; truth = reference implementation (exact Jaccard "
          ">= 0.8 over all pairs, own shingles, no corpuskit code)")
    print(f"{'corpus':<16}{'docs':>6}{'dups':>6}  {'method':<22}{'removed':>8}{'precision':>10}{'recall':>8}"
          f"{'docs/s':>9}")
    for key, v in q.items():
        for mode in ("auto", "estimate", "exact", "datasketch_defaults", "datasketch_best"):
            e = v[mode]
            print(f"{key:<16}{e['documents']:>6}{e['truly_duplicate']:>6}  {mode:<22}"
                  f"{e['removed']:>8}{e['precision']:>10.4f}{e['recall']:>8.4f}{e['docs_per_s']:>9,.0f}")
        print("   pair recall by true J (auto):", ", ".join(f"{k}: {b['recall']:.3f} ({b['pairs']})"
                                                          for k, b in v["auto"]["pair_recall_by_true_j"].items()))
        print("   recall by edit kind (auto):  ", ", ".join(f"{k}: {b['recall']:.3f}"
                                                          for k, b in v["auto"]["by_edit_kind"].items()))


def _print_scale(s: dict) -> None:
    print(f"\n== scale: `corpuskit dedup` on {s['documents']:,} documents ({s['input_mb']} MB JSONL), 2 cores")
    print(f"wall {s['wall_seconds']} s ({s['docs_per_second']:,} docs/s), peak RSS {s['peak_rss_mb']} MB "
          f"(baseline {s['baseline_rss_mb_2k_docs']} MB at 2k docs; {s['bytes_per_doc_above_baseline']} "
          f"bytes/doc above it); kept {s['kept']:,}, rejected {s['rejected']}")
    if "extrapolated_1M" in s:
        e = s["extrapolated_1M"]
        print(f"1M documents, EXTRAPOLATED: ~{e['wall_seconds']} s, ~{e['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
