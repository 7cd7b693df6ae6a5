"""`corpuskit pipeline --engine ray` against the local engine on the same input and machine.

Both are timed as whole commands (a fresh interpreter each, imports and for Ray the start of a
local Ray instance included), same worker count, median of --repeats; the outputs are checked
to be byte-identical. The figure is the Ray engine's overhead ratio on one machine: what moving
to Ray costs before a second machine pays it back. Also timed: starting and stopping a local
Ray alone (the fixed part of that overhead).

Input: synthetic English and Chinese articles plus short records from tests/corpus.py
(--docs of them, 3 files). Usage: python benchmarks/bench_ray.py [--quick] [--docs N] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import save, table  # noqa: E402
from tests.corpus import make_docs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    return time.perf_counter() - t0


def tree(clean: Path) -> dict:
    return {str(p.relative_to(clean)): p.read_bytes() for p in sorted(clean.rglob("*"))
            if p.is_file() and p.name not in ("stats.json", "report.md", "report.html")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="4,000 documents, 2 repeats")
    ap.add_argument("--docs", type=int, default=15_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        print("bench_ray: skipped, ray is not installed (pip install -e '.[ray]')")
        return
    if a.quick:
        a.docs, a.repeats = 4_000, 2
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    tmp = Path(tempfile.mkdtemp(prefix="bray", dir="/tmp"))
    try:
        raw = tmp / "raw"
        raw.mkdir()
        docs = make_docs(a.docs, seed=11)
        n = len(docs) // 3 + 1
        size = 0
        for part in range(3):
            data = b"".join(orjson.dumps(r) + b"\n" for r in docs[part * n:(part + 1) * n])
            (raw / f"part-{part}.jsonl").write_bytes(data)
            size += len(data)
        base = [sys.executable, "-m", "corpuskit", "pipeline", str(raw)]
        times: dict[str, list[float]] = {"local": [], "ray": []}
        for r in range(a.repeats):
            for engine in ("local", "ray"):
                out = tmp / f"{engine}{r}"
                times[engine].append(wall(base + [str(out), "-j", str(a.workers), "--engine", engine, "-q"],
                                          env))
        same = tree(tmp / "local0") == tree(tmp / "ray0")
        start = [wall([sys.executable, "-c", "import ray; ray.init(address='local', num_cpus=2, "
                       "include_dashboard=False, logging_level='ERROR'); ray.shutdown()"], env)
                 for _ in range(a.repeats)]
        med = {k: statistics.median(v) for k, v in times.items()}
        rows = [["local (process pool)", med["local"], 1.0],
                ["ray (local Ray, started by the command)", med["ray"], med["ray"] / med["local"]],
                ["  of which: start + stop a local Ray", statistics.median(start),
                 statistics.median(start) / med["local"]]]
        print(f"corpuskit pipeline, {a.docs:,} documents ({size / 1e6:.1f} MB), -j {a.workers}, "
              f"default chain, median of {a.repeats}; outputs byte-identical: {same}")
        print(table(rows, ["engine", "wall s", "x local"]))
        save("ray", {"docs": a.docs, "input_bytes": size, "workers": a.workers, "repeats": a.repeats,
                     "seconds": times, "ray_start_stop_seconds": start,
                     "median": med, "overhead_ratio": med["ray"] / med["local"],
                     "outputs_identical": same,
                     "command": "python benchmarks/bench_ray.py" + (" --quick" if a.quick else "")})
        if not same:
            raise SystemExit("the two engines' outputs differ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
