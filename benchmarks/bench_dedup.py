"""Benchmark of `corpuskit dedup`: speed, quality and scale. Writes benchmarks/results/dedup.json.

    python benchmarks/bench_dedup.py [--quick] [--scale N]

1. Speed: raw text -> MinHash signatures, documents/s on one core, ~1,000-word English
   documents (and ~1,000-character Chinese ones), against datasketch's per-document `MinHash`
   (default settings: 128 permutations, SHA-1 token hash) in the same run, median of runs.
   Two baselines: datasketch fed the same shingles (corpuskit.core.text.shingle_tokens 5-grams),
   and datasketch fed whitespace-split 5-grams (the cheapest tokenisation a user might write).
2. Quality: a near-duplicate corpus built from real text shipped in packages (man pages,
   English and Chinese: benchmarks/dedup_data.py) with synthetic edits of known kinds. Ground
   truth is the exact Jaccard of the same shingle sets, over every pair that could reach 0.8
   (all pairs inside a family, plus every pair a 256-permutation LSH tuned to catch J = 0.5
   proposes). A document should be removed when it is in a connected component of pairs
   with true J >= 0.8 and is not its first document. Per-document precision and recall.
3. Scale: the whole `corpuskit dedup` command (a subprocess, 2 cores) on N generated
   documents (real paragraphs, 15% near copies): wall time and peak memory (VmHWM).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dedup_data import build_corpus, man_pages, thousand_word_docs  # noqa: E402
from corpuskit import minhash as M  # noqa: E402
from corpuskit.core.text import ngrams, shingle_tokens  # noqa: E402


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
def _components(n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(lo), dtype=np.int8), (lo, hi)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _removed(comp: np.ndarray) -> np.ndarray:
    """keep=first: every member of a component but its first (stream order)."""
    first = {}
    rem = np.zeros(len(comp), dtype=bool)
    for i, c in enumerate(comp.tolist()):
        if c in first:
            rem[i] = True
        else:
            first[c] = i
    return rem


def ground_truth(recs: list[dict], threshold: float = 0.8) -> dict:
    from corpuskit.stages.dedup.stage import _candidate_pairs, choose_bands

    n = len(recs)
    texts = [r["text"] for r in recs]
    h = M.MinHasher()
    sets = [h.shingle_set(t) for t in texts]
    # candidates: every pair in a family, and what a loose LSH (catches J = 0.5 w.p. >= 0.99) finds
    fam: dict[str, list[int]] = {}
    for i, r in enumerate(recs):
        fam.setdefault(r["family"], []).append(i)
    pairs = set()
    for members in fam.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pairs.add((min(members[a], members[b]), max(members[a], members[b])))
    h256 = M.MinHasher(num_perm=256)
    sigs, ntok = h256.signatures(texts)
    b, r = choose_bands(0.5, 256)
    lo, hi = _candidate_pairs(M.band_keys(sigs, b, r), ntok > 0)
    pairs |= set(zip(lo.tolist(), hi.tolist()))
    pl = sorted(pairs)
    j = np.array([M.jaccard_exact(sets[a], sets[c]) for a, c in pl])
    pa = np.array([p[0] for p in pl], dtype=np.int64)
    pb = np.array([p[1] for p in pl], dtype=np.int64)
    # exact duplicates after normalisation count as J = 1 even without shingles (empty texts)
    sel = j >= threshold
    comp = _components(n, pa[sel], pb[sel])
    return {"removed": _removed(comp), "pairs": (pa[sel], pb[sel], j[sel]), "all_j": j,
            "n_pairs_checked": len(pl)}


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
    tp = int((pred & tr).sum())
    res = {"documents": len(recs), "truly_duplicate": int(tr.sum()), "removed": int(pred.sum()),
           "exact_jaccard_checks": stats[0].extra["exact_jaccard_checks"],
           "candidate_pairs": stats[0].extra["candidate_pairs"],
           "true_positives": tp,
           "precision": round(tp / pred.sum(), 4) if pred.sum() else 1.0,
           "recall": round(tp / tr.sum(), 4) if tr.sum() else 1.0, "seconds": round(secs, 2),
           "bands_rows": f"{stats[0].extra['bands']}x{stats[0].extra['rows']}"}
    # pair recall by true-J bucket: both ends of a true pair in one predicted cluster
    pa, pb, j = truth["pairs"]
    buckets = {}
    for lo_, hi_ in ((0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01)):
        m = (j >= lo_) & (j < hi_)
        if m.any():
            same = [cluster[a] == cluster[b] for a, b in zip(pa[m].tolist(), pb[m].tolist())]
            buckets[f"{lo_:.2f}-{min(hi_, 1.0):.2f}"] = {"pairs": int(m.sum()),
                                                        "recall": round(float(np.mean(same)), 4)}
    res["pair_recall_by_true_j"] = buckets
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


def bench_quality(quick: bool) -> dict:
    out = {}
    for lang, n_orig in (("en", 500 if quick else 1500), ("zh", 300 if quick else 700)):
        pages = man_pages(lang, limit=None if lang == "zh" else 2400)
        recs = build_corpus(lang, n_orig, pages=pages)
        t = time.perf_counter()
        truth = ground_truth(recs)
        out[lang] = {"originals": n_orig, "documents": len(recs),
                     "pairs_checked_exactly": truth["n_pairs_checked"],
                     "truth_seconds": round(time.perf_counter() - t, 1),
                     "auto": evaluate(recs, truth),
                     "estimate": evaluate(recs, truth, verify="estimate"),
                     "exact": evaluate(recs, truth, verify="exact")}
    return out


# ---------------------------------------------------------------- 3. scale
def make_scale_file(path: str, n: int, seed: int = 7) -> None:
    """n documents of 8-25 random real paragraphs (man pages, English and Chinese), 15% of them
    near copies (a sentence dropped, a word changed) of an earlier one."""
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
            if recent and rng.random() < 0.15:
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
    from corpuskit.cli.stages import main
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


def run_dedup_cli(inp: str, tmp: str) -> dict:
    rep = os.path.join(tmp, "child.json")
    stats = os.path.join(tmp, "stats.json")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", _CHILD, rep, "dedup", inp, "-o", os.path.join(tmp, "out.jsonl"),
                    "--stats", stats, "-q", "--tmp-dir", tmp], check=True, env=env)
    wall = time.perf_counter() - t
    child = json.load(open(rep))
    if child["code"]:
        raise SystemExit(f"dedup failed with exit {child['code']}")
    st = json.load(open(stats))["stages"][0]
    return {"wall_seconds": round(wall, 1), "peak_rss_mb": round(child["maxrss_kb"] / 1024, 1),
            "kept": st["kept"], "rejected": st["reasons"], "seconds_by_phase": st["extra"]["seconds"]}


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
    t0 = time.perf_counter()
    res: dict = {"quick": args.quick, "machine": {"cpus": os.cpu_count(),
                                                  "load_avg_at_start": os.getloadavg()[0]}}
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
    out = ROOT / "benchmarks" / "results" / "dedup.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
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
    print("\n== quality: per-document precision / recall, truth = exact Jaccard >= 0.8")
    print(f"{'corpus':<8}{'docs':>6}{'dups':>6}  {'verify':<9}{'removed':>8}{'precision':>10}{'recall':>8}")
    for lang, v in q.items():
        for mode in ("auto", "estimate", "exact"):
            e = v[mode]
            print(f"{lang:<8}{e['documents']:>6}{e['truly_duplicate']:>6}  {mode:<9}"
                  f"{e['removed']:>8}{e['precision']:>10.4f}{e['recall']:>8.4f}")
        print("   pair recall by true J:", ", ".join(f"{k}: {b['recall']:.3f} ({b['pairs']})"
                                                   for k, b in v["auto"]["pair_recall_by_true_j"].items()))
        print("   recall by edit kind:  ", ", ".join(f"{k}: {b['recall']:.3f}"
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
