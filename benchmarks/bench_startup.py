"""Start-up time: how long a command takes before it does any work.

Every stage runs as its own process in a shell pipe, so its start-up is paid once per stage.
Each command runs on empty input (an empty pipe, not /dev/null) with its output to a pipe;
the figure is the median wall time over --repeats runs, interleaved with the baseline
`python -c "import orjson"` (the interpreter, site and one C extension) so that a loaded
machine slows both alike. Targets (ratio of medians): <= 3x for `--help` and the light
stages, <= 5x for dedup and tokenize-stats. Exits 1 when a ratio is above its target.

Usage: python benchmarks/bench_startup.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import save, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ("import orjson", ["-c", "import orjson"], None)
# (label, arguments after `python`, target ratio)
COMMANDS = [
    ("corpuskit --help", ["-m", "corpuskit", "--help"], 3.0),
    ("corpuskit normalize", ["-m", "corpuskit", "normalize"], 3.0),
    ("corpuskit filter-short", ["-m", "corpuskit", "filter-short"], 3.0),
    ("corpuskit filter-lang", ["-m", "corpuskit", "filter-lang"], 3.0),
    ("corpuskit cat", ["-m", "corpuskit", "cat"], 3.0),
    ("corpuskit dedup", ["-m", "corpuskit", "dedup"], 5.0),
    ("corpuskit tokenize-stats", ["-m", "corpuskit", "tokenize-stats"], 5.0),
]


def run_once(args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], input=b"", capture_output=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.decode(errors='replace')}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    a = ap.parse_args()
    everything = [BASELINE, *COMMANDS]
    for _, args, _ in everything:  # warm the page cache and the .pyc files
        run_once(args)
    times: dict[str, list[float]] = {label: [] for label, _, _ in everything}
    for _ in range(a.repeats):
        for label, args, _ in everything:
            times[label].append(run_once(args))
    base = statistics.median(times[BASELINE[0]])
    rows, results, failed = [], [], []
    for label, _, target in everything:
        med = statistics.median(times[label])
        ratio = med / base
        ok = target is None or ratio <= target
        if not ok:
            failed.append(label)
        rows.append([label, med * 1000, ratio, "-" if target is None else f"<= {target:g}x",
                     "" if target is None else ("ok" if ok else "ABOVE TARGET")])
        results.append({"command": label, "median_s": round(med, 4), "ratio": round(ratio, 2),
                        "target": target, "ok": ok,
                        "times_s": [round(t, 4) for t in times[label]]})
    print(table(rows, ["command (empty input)", "median ms", "ratio", "target", ""]))
    save("startup", {"repeats": a.repeats, "baseline": 'python -c "import orjson"', "rows": results,
                     "ok": not failed})
    if failed:
        print(f"above target: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
