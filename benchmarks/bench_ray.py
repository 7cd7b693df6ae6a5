"""`corpuskit pipeline --engine ray` against the local engine on the same input and machine.

Both are timed as whole commands (a fresh interpreter each, imports and for Ray the start of a
local Ray instance included), same worker count, median of --repeats; the outputs are checked
to be byte-identical. The figure is the Ray engine's overhead ratio on one machine: what moving
to Ray costs before a second machine pays it back. Also timed: starting and stopping a local
Ray alone (the fixed part of that overhead).

Then the dedup shuffle's memory per document (--dedup-docs documents, one run each way, each in
a fresh interpreter that streams the records from a file, so no document list is held):
- the bytes the Ray dedup (what `pipeline --engine ray` lends the stage: RayExecutor.lend)
  puts through the object store, per document: the band and exact rows that are hash-shuffled
  by Ray Data `repartition(keys=["band", "key", "key2"])` (Arrow bytes of band, key, key2,
  position), the signature blocks the partitions read, and the candidate pairs sent back;
  plus the bytes Ray spilled to disk (files in its spill folder after the run);
- the driver's peak RSS (ru_maxrss) per added document: the slope between a run on
  --dedup-docs / 4 and one on --dedup-docs documents (the fixed part, imports, the compiled
  MinHash kernel, a Ray client, cancels out), Ray dedup against the local dedup.

Input: synthetic English and Chinese articles plus short records from tests/corpus.py
(--docs of them, 3 files). Usage: python benchmarks/bench_ray.py [--quick] [--docs N] [--repeats 3]
[--dedup-docs N]
"""
from __future__ import annotations

import argparse
import json
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
from benchmarks.common import require_packages, save, table  # noqa: E402
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


DEDUP_CHILD = r"""
import json, os, resource, sys, tempfile
import orjson
engine, path = sys.argv[1], sys.argv[2]
from corpuskit.stages.dedup.stage import Dedup
stage = Dedup()
ray = None
if engine == "ray":
    import ray
    from corpuskit.engine.ray import RayExecutor
    tmp = tempfile.mkdtemp(prefix="bdr", dir="/tmp")
    ray.init(address="local", num_cpus=2, object_store_memory=200 << 20, include_dashboard=False,
             log_to_driver=False, logging_level="ERROR", _temp_dir=tmp,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
    RayExecutor(None, 2).__enter__().lend([stage])  # what `pipeline --engine ray` does
    shuffle = stage.flat_executor
def records():
    with open(path, "rb") as f:
        for line in f:
            yield orjson.loads(line)
page = os.sysconf("SC_PAGE_SIZE")
before = int(open("/proc/self/statm").read().split()[1]) * page
kept = sum(1 for x in stage.run(records()) if isinstance(x, dict))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = {"rss_before": before, "peak_rss": peak, "kept": kept, "stats": stage.result()}
if ray is not None:
    out["shuffle"] = shuffle.measured
    ray.shutdown()
    # objects Ray spilled to disk: files under its temp dir's spill folder
    spilled = 0
    for root, _, files in os.walk(tmp):
        if "spilled" in root:
            spilled += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    out["spilled_mib"] = spilled / 2**20
print(json.dumps(out))
"""


def _dedup_run(n_docs: int, tmp: Path, env: dict) -> dict:
    docs = make_docs(n_docs, seed=13)
    docs = [{**d, "id": f"d{i}"} for i, d in enumerate(docs)]
    docs += [{**d, "id": f"dup{i}", "text": d["text"] + " again"} for i, d in enumerate(docs[: n_docs // 10])]
    path = tmp / f"dedup-{n_docs}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    res: dict = {"documents": len(docs)}
    for engine in ("local", "ray"):
        p = subprocess.run([sys.executable, "-c", DEDUP_CHILD, engine, str(path)], env=env,
                           capture_output=True)
        if p.returncode:
            raise SystemExit(f"dedup {engine} failed: {p.stderr.decode(errors='replace')[-2000:]}")
        res[engine] = json.loads(p.stdout.decode().strip().splitlines()[-1])
    path.unlink()
    return res


def dedup_memory(n_docs: int, tmp: Path, env: dict) -> dict:
    """The dedup shuffle's memory per document (see the module doc). The driver's figure is a
    slope: peak RSS at n_docs minus peak RSS at n_docs / 4, over the difference in documents,
    so that the fixed part (imports, the compiled MinHash kernel, a Ray client) cancels out."""
    small, big = _dedup_run(n_docs // 4, tmp, env), _dedup_run(n_docs, tmp, env)
    n, dn = big["documents"], big["documents"] - small["documents"]

    def same(r: dict) -> bool:
        def strip(st: dict) -> dict:  # no timings, no local scratch-disk figures (the engines differ there)
            return {k: v for k, v in st.items() if k not in ("seconds", "scratch_bytes", "grouping_spill_bytes")}

        return strip(r["local"]["stats"]) == strip(r["ray"]["stats"]) and r["local"]["kept"] == r["ray"]["kept"]

    sh = big["ray"]["shuffle"]
    per_doc = {
        "band_row_bytes": sh["band_row_bytes"] / n,
        "signature_bytes_in_object_store": sh["signature_bytes_in_object_store"] / n,
        "pair_bytes_returned": sh["pair_bytes_returned"] / n,
        "object_store_total": (sh["band_row_bytes"] + sh["signature_bytes_in_object_store"]
                               + sh["pair_bytes_returned"]) / n,
        "driver_peak_rss_slope_local": (big["local"]["peak_rss"] - small["local"]["peak_rss"]) / dn,
        "driver_peak_rss_slope_ray": (big["ray"]["peak_rss"] - small["ray"]["peak_rss"]) / dn,
    }
    return {"documents": n, "documents_small": small["documents"],
            "same_kept_and_counters": same(small) and same(big), "kept": big["ray"]["kept"],
            "per_document_bytes": per_doc, "spilled_mib": big["ray"]["spilled_mib"], "shuffle": sh,
            "raw": {f"{name}_{engine}": {k: v for k, v in r[engine].items() if k != "stats"}
                    for name, r in (("small", small), ("big", big)) for engine in ("local", "ray")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="4,000 documents, 2 repeats")
    ap.add_argument("--docs", type=int, default=15_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dedup-docs", type=int, default=60_000)
    a = ap.parse_args()
    require_packages("ray", "fsspec", fix="pip install -e '.[ray]'")
    if a.quick:
        a.docs, a.repeats, a.dedup_docs = 4_000, 2, 10_000
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
        mem = dedup_memory(a.dedup_docs, tmp, env)
        pd = mem["per_document_bytes"]
        print(f"\ndedup shuffle, {mem['documents']:,} documents (21 bands x 6 rows, 128 permutations); "
              f"same kept documents and counters as the local dedup: {mem['same_kept_and_counters']}")
        print(table([["band and exact rows hash-shuffled (Arrow: band, key, key2, position)", pd["band_row_bytes"]],
                     ["signature blocks in the object store", pd["signature_bytes_in_object_store"]],
                     ["candidate pairs sent back (code + number of equal values)", pd["pair_bytes_returned"]],
                     ["object store, total put", pd["object_store_total"]],
                     ["driver peak RSS per added document, Ray dedup", pd["driver_peak_rss_slope_ray"]],
                     ["driver peak RSS per added document, local dedup", pd["driver_peak_rss_slope_local"]]],
                    ["bytes per document", "bytes"]))
        print(f"spilled to disk by Ray: {mem['spilled_mib']} MiB; shuffle {mem['shuffle']['seconds']} s, "
              f"{mem['shuffle']['partitions']} partitions")
        save("ray", {"docs": a.docs, "input_bytes": size, "workers": a.workers, "repeats": a.repeats,
                     "seconds": times, "ray_start_stop_seconds": start,
                     "median": med, "overhead_ratio": med["ray"] / med["local"],
                     "outputs_identical": same, "dedup_shuffle_memory": mem,
                     "command": "python benchmarks/bench_ray.py" + (" --quick" if a.quick else "")})
        if not same:
            raise SystemExit("the two engines' outputs differ")
        if not mem["same_kept_and_counters"]:
            raise SystemExit("the Ray dedup kept other documents than the local one")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
