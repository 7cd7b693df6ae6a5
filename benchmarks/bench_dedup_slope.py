"""dedup against datasketch per document: the slope between N and 4N documents.

    python benchmarks/bench_dedup_slope.py [--quick] [--repeats 3]

The whole-stage docs/s of bench_dedup.py's quality part divide one run's time by its documents,
so fixed costs (setting up tables, the first calls of the compiled kernels, the exact-Jaccard
verification's set-up) are billed to the documents of a corpus of 1-4k documents. Here each tool
runs on the first quarter (N) and on the whole (4N) of the same near-duplicate corpora as
bench_dedup.py's quality part (real man pages with seeded edits; development seed 1234 and
held-out seed 4321; English and Chinese), median of --repeats runs, tools interleaved, and the
time per document is (T(4N) - T(N)) / (4N - N).

Equal work, text in, removal decisions out, shingling timed on both sides:
- corpuskit: the dedup stage with its defaults (`Dedup()`, verify auto), through the stage
  protocol (ids, meta, rejections included);
- datasketch: corpuskit's 5-token shingles (the same as bench_dedup.py), `MinHash(num_perm=128)`
  per document, `MinHashLSH` insert and query, pairs joined into components, keep the first:
  (a) defaults: `MinHashLSH(threshold=0.8)`, every candidate a duplicate; (b) our settings:
  `params=(21, 6)`, a candidate kept when `MinHash.jaccard >= 0.8`.
Each corpus is measured twice: with the machine's cores (as a user runs it: corpuskit's pass 1
hashes in a second thread while the first parses; datasketch uses one), then with the process
pinned to one core (os.sched_setaffinity), where both tools get the same CPU.
Target: corpuskit >= 10x datasketch per document, on every corpus, against both settings, in
both measurements. Exits 1 when it is missed. Writes benchmarks/results/dedup_slope.json.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dedup import datasketch_pairs, datasketch_shingles, quality_corpora, reference_removed  # noqa: E402
from benchmarks.common import require_packages, save  # noqa: E402
from corpuskit.core.chain import run_stages  # noqa: E402
from corpuskit.stages.dedup.stage import Dedup  # noqa: E402

TARGET = 10.0


def run_corpuskit(recs: list[dict]) -> int:
    kept, rejected, _ = run_stages([Dedup()], iter([{"id": r["id"], "text": r["text"]} for r in recs]))
    return len(rejected)


def run_datasketch(recs: list[dict], best: bool) -> int:
    lo, hi, _ = datasketch_pairs([datasketch_shingles(r["text"]) for r in recs], best)
    return int(reference_removed(len(recs), lo, hi).sum())


TOOLS = {
    "corpuskit": run_corpuskit,
    "datasketch_defaults": lambda recs: run_datasketch(recs, best=False),
    "datasketch_our_settings": lambda recs: run_datasketch(recs, best=True),
}


def measure(recs: list[dict], repeats: int) -> dict:
    small = recs[: len(recs) // 4]
    times: dict[str, dict[str, list[float]]] = {t: {"N": [], "4N": []} for t in TOOLS}
    removed: dict[str, dict[str, int]] = {t: {} for t in TOOLS}
    run_corpuskit(small[:50])  # the compiled kernels' first call (cache load) is start-up, not work
    for _ in range(repeats):
        for size, part in (("N", small), ("4N", recs)):
            for name, fn in TOOLS.items():
                t = time.perf_counter()
                removed[name][size] = fn(part)
                times[name][size].append(time.perf_counter() - t)
    out: dict = {"N": len(small), "4N": len(recs)}
    for name in TOOLS:
        tn, t4 = statistics.median(times[name]["N"]), statistics.median(times[name]["4N"])
        per_doc = (t4 - tn) / (len(recs) - len(small))
        out[name] = {"seconds_N": round(tn, 3), "seconds_4N": round(t4, 3),
                     "seconds_N_runs": [round(v, 3) for v in times[name]["N"]],
                     "seconds_4N_runs": [round(v, 3) for v in times[name]["4N"]],
                     "ms_per_doc_slope": round(per_doc * 1000, 4),
                     "docs_per_s_slope": round(1 / per_doc) if per_doc > 0 else None,
                     "removed_N": removed[name]["N"], "removed_4N": removed[name]["4N"]}
    ours = out["corpuskit"]["ms_per_doc_slope"]
    for name in ("datasketch_defaults", "datasketch_our_settings"):
        out[f"ratio_vs_{name}"] = round(out[name]["ms_per_doc_slope"] / ours, 1) if ours > 0 else None
        out[f"whole_run_ratio_4N_vs_{name}"] = round(out[name]["seconds_4N"] / out["corpuskit"]["seconds_4N"], 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    require_packages("datasketch")
    res: dict = {"target": f"corpuskit >= {TARGET:g}x datasketch per document (slope N -> 4N), with the "
                           "machine's cores and on one core",
                 "repeats": args.repeats, "corpora": {}}
    ok = True
    cpus = os.sched_getaffinity(0)
    res["cpus"] = len(cpus)
    for lang, split, recs, _originals in quality_corpora(args.quick):
        key = f"{lang}_{split}"
        r = measure(recs, args.repeats)
        r.update({"lang": lang, "data": split})
        os.sched_setaffinity(0, {min(cpus)})
        try:
            r["one_core"] = measure(recs, args.repeats)
        finally:
            os.sched_setaffinity(0, cpus)
        res["corpora"][key] = r
        for label, m in (("cores", r), ("1 core", r["one_core"])):
            worst = min(m["ratio_vs_datasketch_defaults"] or 0, m["ratio_vs_datasketch_our_settings"] or 0)
            ok &= worst >= TARGET
            print(f"{key:<16} {label:<6} N={m['N']:>5} 4N={m['4N']:>5}  ms/doc: corpuskit "
                  f"{m['corpuskit']['ms_per_doc_slope']:.3f}  datasketch {m['datasketch_defaults']['ms_per_doc_slope']:.3f}"
                  f" (defaults) {m['datasketch_our_settings']['ms_per_doc_slope']:.3f} (ours)  ->"
                  f" {m['ratio_vs_datasketch_defaults']}x / {m['ratio_vs_datasketch_our_settings']}x", flush=True)
    res["target_met"] = ok
    save("dedup_slope", res)
    if not ok:
        print(f"bench_dedup_slope: target missed (corpuskit < {TARGET:g}x datasketch per document on some corpus)",
              file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
