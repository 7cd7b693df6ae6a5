"""`corpuskit tokenize` with 1 and 2 workers on the same input: is it near-linear in workers?

    python benchmarks/bench_tokenize_workers.py [--mb 200] [--repeats 3] [--files 16]

Input: the ground-truth article texts of the development HTML sets (../shared/eval/html/*/gt:
English = scrapinghub + readability_dev, Chinese = zh_cwced_dev; nothing was tuned on them for
this stage), half English and half Chinese by bytes, replicated to --mb MB of UTF-8 (each copy
suffixed with its number), written as --files JSONL files (so about --files units of work).

The whole command runs in its own process, `corpuskit tokenize DIR -o OUT -j W -q`
(cl100k_base, Megatron format), W = 1 and 2 alternately, --repeats times each. For every run:
wall time; CPU seconds (user + sys) of the whole process tree, from getrusage(RUSAGE_CHILDREN)
around the run (the pool's workers are waited for, so they are counted); the worker processes'
share of it, which the command measures itself (--stats run.cpu_s.workers: getrusage of its
children around the map), so the main process's CPU is the tree's minus the workers' (start-up,
planning, the reduce); tokens (from --stats); the 1-minute load average before and after.

Other work on the machine during each run: the CPU time all cores spent busy (/proc/stat:
user, nice, system, irq, softirq, steal) minus the run's own, over the wall time, in cores. (The
load average says less: this benchmark's own runs raise it for the next ones.)

Near-linear, the verdict this benchmark exits on (1 when it does not hold), both of:
* the work does not depend on the workers: when the machine had free cores (other work under
  0.2 of a core during every run), by wall time: median wall(1 worker) / median wall(2
  workers) >= 1.7; otherwise (other work competes for the cores, so wall time says little) by
  the work per token: median CPU-seconds per token with 2 workers within 10% of 1 worker's,
  either way. The result says which rule was used.
* the main process is cheap: with 2 workers, its CPU is at most 10% of the tree's (median), so
  more workers are not held back by it.

Writes benchmarks/results/tokenize_workers.json.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import eval_dir, save, table  # noqa: E402

SETS = {"en": ("scrapinghub", "readability_dev"), "zh": ("zh_cwced_dev",)}
FREE_OTHERS = 0.2  # other work (in cores) under which the cores count as free
MIN_SPEEDUP = 1.7  # wall-time speed-up at 2 workers when the cores are free
MAX_CPU_GROWTH = 1.10  # CPU-seconds per token, 2 workers / 1 worker, when they are not: at most
MIN_CPU_GROWTH = 0.90  # ... and at least (one worker must not spend more a token either)
MAX_MAIN_SHARE = 0.10  # the main process's share of the tree's CPU with 2 workers


def write_input(folder: Path, mb: float, files: int) -> tuple[int, int]:
    """--mb MB of text (half English, half Chinese) as `files` JSONL files; (documents, bytes)."""
    ev = eval_dir(tuple(f"html/{s}/gt" for ss in SETS.values() for s in ss))
    outs = [open(folder / f"part-{k:02d}.jsonl", "wb") for k in range(files)]  # noqa: SIM115
    n = size = 0
    try:
        for lang, sets in SETS.items():
            base = [p.read_text(encoding="utf-8") for s in sets for p in sorted((ev / "html" / s / "gt").glob("*"))]
            base = [t for t in base if t.strip()]
            own = copy = 0
            while own < mb * 1e6 / 2:
                for t in base:
                    doc = f"{t}\n({copy})"
                    outs[n % files].write(orjson.dumps({"id": f"{lang}{n}", "text": doc}) + b"\n")
                    b = len(doc.encode())
                    own += b
                    size += b
                    n += 1
                copy += 1
    finally:
        for f in outs:
            f.close()
    return n, size


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def machine_busy() -> float:
    """CPU-seconds all cores have spent busy since boot (Linux: /proc/stat's first line)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_once(folder: Path, work: Path, workers: int) -> dict:
    out, stats = work / f"out-{workers}", work / f"stats-{workers}.json"
    cmd = [sys.executable, "-m", "corpuskit", "tokenize", str(folder), "-o", str(out), "-j", str(workers),
           "-q", "--stats", str(stats)]
    load0 = os.getloadavg()[0]
    b0, c0, t0 = machine_busy(), children_cpu(), time.perf_counter()
    rc = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    others = max(0.0, machine_busy() - b0 - cpu) / wall
    if rc != 0:
        raise SystemExit(f"bench_tokenize_workers: corpuskit tokenize -j {workers} exited {rc}")
    st = orjson.loads(stats.read_bytes())
    shutil.rmtree(out)
    tokens = st["tokens"]["tokens"]
    own = st["run"]["cpu_s"]  # measured by the command: its children's CPU around the map
    workers_cpu = own.get("workers", 0.0)
    return {"workers": workers, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "tokens": tokens,
            "cpu_us_per_token": round(cpu / tokens * 1e6, 4),
            "main_cpu_s": round(cpu - workers_cpu, 2), "workers_cpu_s": round(workers_cpu, 2),
            "main_share": round((cpu - workers_cpu) / cpu, 4), "main_map_cpu_s": own.get("main_map"),
            "main_reduce_cpu_s": own.get("main_reduce"), "units": st["run"]["units"],
            "workers_used": st["run"]["workers"], "others_cores": round(others, 3),
            "load_average_before": round(load0, 2),
            "load_average_after": round(os.getloadavg()[0], 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=200, help="MB of text (half English, half Chinese)")
    ap.add_argument("--files", type=int, default=16, help="JSONL files the text is written as")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tmp", default=None, help="folder for the input and outputs (default: a temp dir)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-tokworkers-", dir=args.tmp))
    runs: list[dict] = []
    try:
        inp = base / "in"
        inp.mkdir()
        docs, nbytes = write_input(inp, args.mb, args.files)
        print(f"{nbytes / 1e6:.0f} MB of text, {docs:,} documents in {args.files} files", flush=True)
        for rep in range(args.repeats):
            for w in ((1, 2) if rep % 2 == 0 else (2, 1)):  # alternated, so drifting load hits both
                r = run_once(inp, base, w)
                r["repeat"] = rep
                runs.append(r)
                print(f"  -j {w}: {r['wall_s']} s wall, {r['cpu_s']} CPU-s (main {r['main_cpu_s']}, workers "
                      f"{r['workers_cpu_s']}), {r['cpu_us_per_token']} CPU-us/token, other work "
                      f"{r['others_cores']} cores (load {r['load_average_before']} -> {r['load_average_after']})",
                      flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    med = {}
    for w in (1, 2):
        mine = [r for r in runs if r["workers"] == w]
        med[w] = {k: statistics.median(r[k] for r in mine)
                  for k in ("wall_s", "cpu_s", "cpu_us_per_token", "main_cpu_s", "workers_cpu_s", "main_share")}
    speedup = med[1]["wall_s"] / med[2]["wall_s"]
    cpu_growth = med[2]["cpu_us_per_token"] / med[1]["cpu_us_per_token"]
    main_share = med[2]["main_share"]
    max_load = max(r["load_average_before"] for r in runs)
    max_others = max(r["others_cores"] for r in runs)
    if max_others < FREE_OTHERS:
        rule = (f"wall-time speed-up >= {MIN_SPEEDUP} (other work under {FREE_OTHERS} of a core during "
                f"every run: at most {max_others:.2f})")
        scales = speedup >= MIN_SPEEDUP
    else:
        rule = (f"CPU-seconds per token with 2 workers within {round((MAX_CPU_GROWTH - 1) * 100)}% of 1 "
                f"worker's (other work up to {max_others:.2f} of a core during a run, load average up to "
                f"{max_load:.1f}, on {os.cpu_count()} cores: wall time is not a measure of scaling)")
        scales = MIN_CPU_GROWTH <= cpu_growth <= MAX_CPU_GROWTH
    rule += f"; and the main process at most {round(MAX_MAIN_SHARE * 100)}% of the CPU with 2 workers"
    cheap_main = main_share <= MAX_MAIN_SHARE
    ok = scales and cheap_main
    print(table([[w, m["wall_s"], m["cpu_s"], m["main_cpu_s"], m["workers_cpu_s"], m["cpu_us_per_token"]]
                 for w, m in med.items()],
                ["workers", "median wall s", "median CPU s", "main CPU s", "workers CPU s", "median CPU-us/token"]))
    print(f"speed-up {speedup:.2f}x, CPU per token x{cpu_growth:.3f}, main process {main_share:.1%} of the CPU "
          f"with 2 workers; rule: {rule}: {'near-linear' if ok else 'NOT near-linear'}")
    save("tokenize_workers", {
        "input": {"sets": {k: list(v) for k, v in SETS.items()}, "mb_text": round(nbytes / 1e6, 1),
                  "documents": docs, "files": args.files},
        "tokenizer": "cl100k_base", "format": "megatron", "repeats": args.repeats, "runs": runs,
        "median": {str(w): {k: round(v, 4) for k, v in m.items()} for w, m in med.items()},
        "speedup_2_workers": round(speedup, 3), "cpu_per_token_growth_2_workers": round(cpu_growth, 3),
        "main_share_2_workers": round(main_share, 4),
        "load_average": {"max_before": max_load, "min_before": min(r["load_average_before"] for r in runs)},
        "max_load_average_before": max_load, "max_others_cores": max_others, "rule": rule, "scales": scales, "cheap_main": cheap_main,
        "near_linear": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
