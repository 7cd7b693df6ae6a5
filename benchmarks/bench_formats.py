"""Reading records: Parquet (and Arrow) against the JSONL reader, on the same records in the same
run, through `RecordReader` (what every stage and `corpuskit count` use: records with ids,
the text field checked).

The records are tests/corpus.make_docs documents (English and Chinese articles, every third a
short one; drawn with a new seed every 5,000, so no two are alike) with an id, a url and a nested meta, written once as JSONL, JSONL.zst, Parquet (zstd,
the writer's defaults) and an Arrow stream file (a `datasets.save_to_disk` shard's format).
Throughput is in records/s and in MB/s of the JSONL bytes (the same amount of text for each
format). The formats take turns within each repeat (a busy machine slows them alike); the
best and the median wall time of `--repeats` runs are kept, and the median CPU time of all the
process's threads. Target: Parquet's CPU time and wall time <= JSONL's, as the median of the
ratios taken within each repeat; the benchmark exits 1 when either is above 1.

Usage: python benchmarks/bench_formats.py [--quick] [--mb 100] [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import save, table  # noqa: E402
from corpuskit.io.jsonl import RecordReader, write_records  # noqa: E402
from tests.corpus import make_docs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def make_records(mb: int) -> list[dict]:
    out, size, n = [], 0, 0
    docs = iter(())
    while size < mb * 1_000_000:
        r = next(docs, None)
        if r is None:  # every document different (no repetition for Parquet's dictionaries)
            docs = iter(make_docs(5000, seed=n))
            r = next(docs)
        rec = {"id": f"doc-{n}", "url": f"https://example.org/{n}", "text": r["text"],
               "meta": {"source": "bench", "n": n, "tags": ["a", "b"]}}
        size += len(orjson.dumps(rec)) + 1
        out.append(rec)
        n += 1
    return out


def read_all(path: str) -> int:
    n = 0
    for _ in RecordReader([path], require_field="text"):
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    mb = 20 if a.quick else a.mb
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = make_records(mb)
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as d:
        files = {"jsonl": f"{d}/r.jsonl", "jsonl.zst": f"{d}/r.jsonl.zst", "parquet": f"{d}/r.parquet",
                 "arrow (datasets shard)": f"{d}/r.arrow"}
        for key in ("jsonl", "jsonl.zst", "parquet"):
            write_records(files[key], recs)
        table_ = pq.read_table(files["parquet"])
        with pa.OSFile(files["arrow (datasets shard)"], "wb") as sink, \
                pa.ipc.new_stream(sink, table_.schema) as w:
            for b in table_.to_batches(max_chunksize=1000):
                w.write_batch(b)
        jsonl_mb = Path(files["jsonl"]).stat().st_size / 1e6
        del recs, table_
        counts = {key: read_all(path) for key, path in files.items()}  # warms the page cache
        times: dict[str, list[float]] = {key: [] for key in files}
        cpu: dict[str, list[float]] = {key: [] for key in files}  # all threads: steadier when busy
        for _ in range(a.repeats):
            for key, path in files.items():
                t0, c0 = time.perf_counter(), time.process_time()
                read_all(path)
                times[key].append(time.perf_counter() - t0)
                cpu[key].append(time.process_time() - c0)
        rows, results = [], {}
        for key, path in files.items():
            n, best, med = counts[key], min(times[key]), statistics.median(times[key])
            size = Path(path).stat().st_size / 1e6
            results[key] = {"records": n, "file_mb": round(size, 1), "best_s": round(best, 3),
                            "median_s": round(med, 3), "records_per_s_best": round(n / best),
                            "records_per_s_median": round(n / med), "jsonl_mb_per_s_best": round(jsonl_mb / best, 1),
                            "cpu_s_median": round(statistics.median(cpu[key]), 3),
                            "runs": [round(t, 3) for t in times[key]]}
            rows.append([key, n, size, best, med, statistics.median(cpu[key]), n / best, jsonl_mb / best])
        print(table(rows, ["format", "records", "file MB", "best s", "median s", "CPU s (median)",
                           "records/s (best)", "JSONL MB/s (best)"]))
        ratio = results["parquet"]["records_per_s_best"] / results["jsonl"]["records_per_s_best"]
        ratio_med = results["parquet"]["records_per_s_median"] / results["jsonl"]["records_per_s_median"]
        # the target, on time ratios taken within each repeat (the formats take turns, so a
        # burst of load slows both sides of a ratio alike): Parquet's CPU and wall time <= JSONL's
        cpu_ratio = statistics.median(p / j for p, j in zip(cpu["parquet"], cpu["jsonl"]))
        wall_ratio = statistics.median(p / j for p, j in zip(times["parquet"], times["jsonl"]))
        print(f"Parquet / JSONL read throughput: {ratio:.2f}x best, {ratio_med:.2f}x median")
        print(f"Parquet / JSONL time, median of the repeats' ratios: CPU {cpu_ratio:.2f}, wall "
              f"{wall_ratio:.2f} (target <= 1)")
        p = save("formats", {"commit": git_commit(), "jsonl_mb": round(jsonl_mb, 1), "repeats": a.repeats,
                             "data": "tests/corpus.make_docs documents (seed changed every 5,000) with ids, "
                                     "urls and a nested meta (not data anything was tuned on)",
                             "results": results, "parquet_over_jsonl_best": round(ratio, 2),
                             "parquet_over_jsonl_median": round(ratio_med, 2),
                             "parquet_over_jsonl_cpu_time": round(cpu_ratio, 3),
                             "parquet_over_jsonl_wall_time": round(wall_ratio, 3),
                             "target": "Parquet CPU and wall time <= JSONL's (median of the "
                                       "repeats' ratios)"})
        print(f"wrote {p}")
        if cpu_ratio > 1 or wall_ratio > 1:
            print("FAIL: reading Parquet takes more time than reading the same records as JSONL",
                  file=sys.stderr)
            raise SystemExit(1)


if __name__ == "__main__":
    main()
