"""`corpuskit tokenize` memory as the corpus grows: peak memory on a small and on a large corpus.

    python benchmarks/bench_tokenize_memory.py [--gb 0.5,5] [--workers 2] [--shuffle]

For each size, a JSONL corpus of about that many GB of text is generated (English and Chinese
article texts of the development HTML sets, each document a different rotation and cut of the
paragraphs of one source, so no two documents are the same), split into files of at least
FILE_GB (at most 16 files), and the whole command runs on it in its own process tree:
`corpuskit tokenize DIR -o OUT -j W` (cl100k_base, Megatron format, default shard size),
sampled every 0.2 s. The figures: the peak RSS of the largest process, of the main process and
of the largest worker, the peak PSS and RSS summed over the tree, wall time and tokens. Memory
is bounded when the large corpus's peaks stay near the small one's. Peak memory does not depend
on the machine's load (time does: the wall time is stated with the load average).

Why files of at least FILE_GB: a worker holds one unit of input (10,000 lines or 64 MB of one
file) and the main process a window of 2 units per worker, so what memory is bounded by is the
unit. A corpus cut into files smaller than a unit (0.5 GB in 16 files: 31 MB each) has smaller
units, and comparing it with a large corpus measures the unit size, not the corpus size; with
files of FILE_GB every corpus has full units, and more of them than the window holds.

Writes benchmarks/results/tokenize_memory.json; exits 1 when the largest process's peak on the
largest corpus exceeds --bound-mb (default 1,500 MB) or grows by more than 25% over the smallest
corpus's.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Sampler, eval_dir, save  # noqa: E402

FILE_GB = 0.3  # a file is at least this much text: about 5 full units (see the module doc)


def sources() -> list[list[str]]:
    ev = eval_dir(("html/scrapinghub", "html/zh_cwced_dev", "html/readability_dev"))
    out = []
    for s in ("scrapinghub", "zh_cwced_dev", "readability_dev"):
        for p in sorted((ev / "html" / s / "gt").glob("*")):
            paras = [x for x in p.read_text(encoding="utf-8", errors="replace").split("\n") if x.strip()]
            if len(paras) >= 3:
                out.append(paras)
    return out


def n_files(gb: float) -> int:
    return max(1, min(16, int(gb / FILE_GB)))


def generate(folder: Path, gb: float, seed: int = 11) -> tuple[int, int]:
    """~gb GB of text as n_files(gb) JSONL files; returns (documents, text bytes)."""
    src = sources()
    rng = random.Random(seed)
    target = int(gb * 1e9)
    nf = n_files(gb)
    files = [open(folder / f"part-{k:02d}.jsonl", "wb") for k in range(nf)]
    n = size = 0
    try:
        while size < target:
            paras = src[rng.randrange(len(src))]
            r = rng.randrange(len(paras))
            k = rng.randint(max(1, len(paras) // 2), len(paras))
            text = "\n".join((paras[r:] + paras[:r])[:k]) + f"\n{n}"
            files[n % nf].write(orjson.dumps({"id": f"d{n}", "text": text}) + b"\n")
            size += len(text.encode())
            n += 1
    finally:
        for f in files:
            f.close()
    return n, size


def run(folder: Path, out: Path, workers: int, shuffle: bool) -> dict:
    cmd = [sys.executable, "-m", "corpuskit", "tokenize", str(folder), "-o", str(out), "-j", str(workers), "-q",
           "--stats", str(out.parent / "stats.json")] + (["--shuffle"] if shuffle else [])
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})
    s = Sampler(p.pid, every=0.2)
    s.start()
    rc = p.wait()
    s.done.set()
    s.join()
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"bench_tokenize_memory: corpuskit tokenize exited {rc}")
    st = orjson.loads((out.parent / "stats.json").read_bytes())
    workers = [v for k, v in s.peak_by_pid.items() if k != p.pid]
    return {"wall_s": round(wall, 1), "load_average_before": round(load, 2),
            "tokens": st["tokens"]["tokens"], "documents": st["tokens"].get("documents"),
            "units": st["run"]["units"], "peak_rss_mb_largest_process": round(s.peak_one / 1024),
            "peak_rss_mb_main_process": round(s.peak_by_pid.get(p.pid, 0) / 1024),
            "peak_rss_mb_largest_worker": round(max(workers, default=0) / 1024),
            "peak_tree_rss_mb": round(s.peak_rss / 1024), "peak_tree_pss_mb": round(s.peak_pss / 1024)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", default="0.5,5", help="corpus sizes in GB of text, comma-separated")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shuffle", action="store_true")
    ap.add_argument("--bound-mb", type=float, default=1500)
    ap.add_argument("--tmp", default=None, help="folder for the corpora and outputs (default: a temp dir)")
    args = ap.parse_args()
    sizes = [float(x) for x in args.gb.split(",")]
    base = Path(tempfile.mkdtemp(prefix="bench-tokmem-", dir=args.tmp))
    rows = []
    try:
        for gb in sizes:
            d = base / f"in-{gb}"
            d.mkdir()
            t = time.perf_counter()
            n, nbytes = generate(d, gb)
            gen = time.perf_counter() - t
            r = run(d, base / f"run-{gb}" / "out", args.workers, args.shuffle)
            r.update({"gb_text": round(nbytes / 1e9, 3), "files": n_files(gb), "documents_generated": n,
                      "generate_s": round(gen, 1)})
            rows.append(r)
            print(f"{r['gb_text']:>6} GB text {n:>9} docs {r['units']} units {r['tokens']:>13,} tokens: largest "
                  f"process {r['peak_rss_mb_largest_process']} MB (main {r['peak_rss_mb_main_process']}, worker "
                  f"{r['peak_rss_mb_largest_worker']}), tree RSS {r['peak_tree_rss_mb']} MB, PSS "
                  f"{r['peak_tree_pss_mb']} MB, {r['wall_s']} s (load {r['load_average_before']})", flush=True)
            shutil.rmtree(d)
            shutil.rmtree(base / f"run-{gb}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    small, big = rows[0], rows[-1]
    growth = big["peak_rss_mb_largest_process"] / max(1, small["peak_rss_mb_largest_process"])
    ok = big["peak_rss_mb_largest_process"] <= args.bound_mb and growth <= 1.25
    added = big["documents"] - small["documents"]
    per_doc = ((big["peak_rss_mb_largest_process"] - small["peak_rss_mb_largest_process"]) * 2**20 / added
               if added > 0 else None)
    save("tokenize_memory", {"workers": args.workers, "shuffle": args.shuffle, "tokenizer": "cl100k_base",
                             "format": "megatron", "runs": rows, "growth_largest_process": round(growth, 3),
                             "growth_bytes_per_added_document": None if per_doc is None else round(per_doc, 1),
                             "bound_mb": args.bound_mb, "bounded": ok})
    print(f"largest process: {small['peak_rss_mb_largest_process']} MB at {small['gb_text']} GB -> "
          f"{big['peak_rss_mb_largest_process']} MB at {big['gb_text']} GB ({growth:.2f}x): "
          f"{'bounded' if ok else 'NOT bounded'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
