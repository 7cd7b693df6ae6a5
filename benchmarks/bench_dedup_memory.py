"""Benchmark of `corpuskit dedup --max-memory`: peak memory against corpus size, in the same run
as the dedup of a baseline commit. Writes benchmarks/results/dedup_memory.json.

    python benchmarks/bench_dedup_memory.py [--small N] [--large N] [--baseline REF] [--budget SIZE]

Input: N generated UNIQUE documents (benchmarks/bench_dedup.make_scale_file with no near copies:
8-25 real man-page paragraphs each, English and Chinese, ~2.2 KB of JSONL), at two sizes (100k
and 400k by default). Each is deduplicated by the whole `corpuskit dedup` command in a child
process (2 cores), peak memory = the child's VmHWM:
- this checkout with `--max-memory 200MB`;
- the baseline commit (`--baseline`, default main before bounded memory: 4c540a2), its
  package extracted with `git archive`, with its defaults (it has no --max-memory).
Targets (exit 1 when one is missed): at the large size, peak <= budget + 300 MB; growth between
the two sizes <= 50 bytes a document; docs/s >= 0.8 x the baseline's on the same input in the
same run; the kept set (the output bytes) identical to the baseline's. Disk use per document
is the run's own `scratch_bytes` (pass 1's spill and tables plus one table's partitions).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dedup import make_scale_file, run_dedup_cli  # noqa: E402
from benchmarks.common import file_sha256, missing, save  # noqa: E402
from corpuskit.stages.dedup.store import parse_size  # noqa: E402

BASELINE = "4c540a2"  # main before dedup's tables went to disk


def _baseline_src(ref: str, into: str) -> str:
    try:
        data = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "corpuskit"], check=True,
                              capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        missing(f"baseline commit {ref}", "run from a git checkout that has it (git fetch)")
    os.makedirs(into, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", into], input=data, check=True)
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("--large", type=int, default=400_000)
    ap.add_argument("--budget", default="200MB")
    ap.add_argument("--baseline", default=BASELINE)
    args = ap.parse_args()
    budget_mb = parse_size(args.budget) / 2**20
    t0 = time.perf_counter()
    res: dict = {"budget": args.budget, "baseline_commit": args.baseline,
                 "load_avg_at_start": round(os.getloadavg()[0], 2), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench-dedup-mem-") as tmp:
        base = _baseline_src(args.baseline, os.path.join(tmp, "baseline"))
        for n in (args.small, args.large):
            inp = os.path.join(tmp, f"in{n}.jsonl")
            make_scale_file(inp, n, dup_share=0.0)
            row: dict = {"documents": n, "input_mb": round(os.path.getsize(inp) / 2**20)}
            for label, src, extra in (("baseline", base, ()), ("bounded", "", ("--max-memory", args.budget))):
                out = os.path.join(tmp, f"out-{label}.jsonl")
                r = run_dedup_cli(inp, tmp, extra, src=src, out=out)
                row[label] = {"peak_rss_mb": r["peak_rss_mb"], "wall_seconds": r["wall_seconds"],
                              "docs_per_second": round(n / r["wall_seconds"]), "kept": r["kept"],
                              "output_sha256": file_sha256(out)}
                if label == "bounded":
                    ex = r["extra"]
                    row[label]["scratch_bytes"] = ex["scratch_bytes"]
                    row[label]["scratch_bytes_per_document"] = round(ex["scratch_bytes"] / n)
                    row[label]["spill_bytes_per_document"] = round(ex["spill_bytes"] / n)
                    row[label]["grouping_spill_bytes"] = ex.get("grouping_spill_bytes", 0)
                os.unlink(out)
            row["identical_output"] = row["baseline"]["output_sha256"] == row["bounded"]["output_sha256"]
            row["speed_ratio"] = round(row["bounded"]["docs_per_second"] / row["baseline"]["docs_per_second"], 3)
            res["runs"][str(n)] = row
            os.unlink(inp)
            print(f"{n:>9,} docs: baseline {row['baseline']['peak_rss_mb']:>7} MB {row['baseline']['docs_per_second']:>6} docs/s"
                  f" | --max-memory {args.budget}: {row['bounded']['peak_rss_mb']:>7} MB "
                  f"{row['bounded']['docs_per_second']:>6} docs/s, scratch {row['bounded']['scratch_bytes_per_document']} B/doc"
                  f" | identical {row['identical_output']}", flush=True)
    s, lg = res["runs"][str(args.small)], res["runs"][str(args.large)]
    span = args.large - args.small

    def growth(label: str) -> float:
        return round((lg[label]["peak_rss_mb"] - s[label]["peak_rss_mb"]) * 2**20 / span, 1)

    res["growth_bytes_per_document"] = {"baseline": growth("baseline"), "bounded": growth("bounded")}
    targets = {
        "peak_within_budget_plus_300MB": lg["bounded"]["peak_rss_mb"] <= budget_mb + 300,
        "growth_at_most_50_bytes_per_document": res["growth_bytes_per_document"]["bounded"] <= 50,
        "speed_at_least_0.8x_baseline": min(s["speed_ratio"], lg["speed_ratio"]) >= 0.8,
        "identical_output": s["identical_output"] and lg["identical_output"],
    }
    res["targets"] = targets
    res["bench_seconds"] = round(time.perf_counter() - t0, 1)
    out = save("dedup_memory", res)
    print(f"growth between {args.small:,} and {args.large:,} documents: baseline "
          f"{res['growth_bytes_per_document']['baseline']} B/doc, bounded {res['growth_bytes_per_document']['bounded']} B/doc")
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    print(f"written {out.relative_to(ROOT)} in {res['bench_seconds']} s")
    if not all(targets.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
