"""The whole default pipeline at scale: 1M documents (~5 GB of JSONL) on this 2-core machine,
with the memory of the whole process tree (the main process and its workers) sampled.

Input: N text records (no HTML: the html2text part of the chain is measured by
bench_pipeline.py on real pages) built from the hand-labelled article texts in
../shared/eval/html/*/gt (English and Chinese web articles): each document is a window of one
article's paragraphs followed by paragraphs of others, about 5 KB on average (log-normal
lengths), 30% Chinese; 10% are near copies of a recent document (one word changed), 2% exact
copies, 3% too short. Seeded: the same corpus on every run. The text is generated once into
--data (kept between runs, 5 GB for 1M documents).

Run: `corpuskit pipeline RAW CLEAN -j WORKERS -q` with the default chain (every stage), in a
fresh interpreter. A sampler reads /proc every 0.5 s for the pipeline's process tree and keeps
the peak of (a) the summed RSS of all its processes (an upper bound: forked workers share
pages) and (b) the summed PSS (shared pages divided among the processes sharing them: the
memory the run really holds), and the largest single process.

Usage: python benchmarks/bench_pipeline_scale.py [--docs 1000000] [--workers 2] [--data DIR]
       python benchmarks/bench_pipeline_scale.py --quick        # 50,000 documents
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_pipeline import eval_dir  # noqa: E402
from benchmarks.common import Sampler, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def articles() -> tuple[list[list[str]], list[list[str]]]:
    """Paragraphs of the ground-truth article texts, English and Chinese."""
    ev = eval_dir()
    en: list[list[str]] = []
    zh: list[list[str]] = []
    for name, dest in (("scrapinghub", en), ("zh_cwced_dev", zh)):
        for p in sorted((ev / "html" / name / "gt").glob("*.txt")):
            paras = [s.strip() for s in p.read_text(encoding="utf-8").split("\n") if len(s.strip()) > 15]
            if paras:
                dest.append(paras)
    return en, zh


def generate(out_dir: Path, n: int, files: int = 20, seed: int = 11) -> dict:
    """Write n records into `files` JSONL files under out_dir; returns counts by kind."""
    en, zh = articles()
    rng = random.Random(seed)
    recent: list[str] = []
    kinds = {"original": 0, "near_copy": 0, "exact_copy": 0, "short": 0}
    per_file = math.ceil(n / files)
    out_dir.mkdir(parents=True, exist_ok=True)
    i = 0
    for fi in range(files):
        with open(out_dir / f"part-{fi:03d}.jsonl", "wb", buffering=1 << 20) as f:
            for _ in range(min(per_file, n - i)):
                r = rng.random()
                if recent and r < 0.02:
                    text, kind = rng.choice(recent), "exact_copy"
                elif recent and r < 0.12:
                    words = rng.choice(recent).split(" ")
                    words[rng.randrange(len(words))] = "edited"
                    text, kind = " ".join(words), "near_copy"
                elif r < 0.15:
                    text, kind = rng.choice(rng.choice(en))[:60], "short"
                else:
                    pool = zh if rng.random() < 0.3 else en
                    target = min(40_000, int(rng.lognormvariate(math.log(4500), 0.5)))
                    art = rng.choice(pool)
                    start = rng.randrange(len(art))
                    paras = art[start:start + rng.randint(2, 8)]
                    size = sum(len(p.encode()) for p in paras)
                    while size < target:
                        p = rng.choice(rng.choice(pool))
                        paras.append(p)
                        size += len(p.encode())
                    text, kind = "\n\n".join(paras), "original"
                    if len(recent) < 5000:
                        recent.append(text)
                    else:
                        recent[rng.randrange(5000)] = text
                kinds[kind] += 1
                f.write(orjson.dumps({"id": f"d{i}", "url": f"https://example.org/{i}", "text": text,
                                      "meta": {"source": "scale-bench"}}) + b"\n")
                i += 1
    return kinds


def run_pipeline(raw: Path, clean: Path, workers: int) -> dict:
    shutil.rmtree(clean, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "corpuskit", "pipeline", str(raw), str(clean),
                          "-j", str(workers), "-q"], env=env, stderr=subprocess.PIPE)
    s = Sampler(p.pid, log=clean.parent / f"{clean.name}.memlog.jsonl")
    s.start()
    _, err = p.communicate()
    wall = time.perf_counter() - t0
    s.done.set()
    s.join()
    if p.returncode:
        raise SystemExit(f"pipeline failed ({p.returncode}): {err.decode()[-2000:]}")
    st = json.loads((clean / "stats.json").read_text())
    return {"wall_s": round(wall, 1), "peak_tree_rss_mb": round(s.peak_rss / 1024),
            "peak_tree_pss_mb": round(s.peak_pss / 1024), "peak_one_process_mb": round(s.peak_one / 1024),
            "processes": s.procs, "stats": st}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="50,000 documents")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", default=str(ROOT / "bench_out" / "scale"),
                    help="where the generated corpus and the output go (kept between runs)")
    ap.add_argument("--keep-output", action="store_true")
    a = ap.parse_args()
    n = 50_000 if a.quick else a.docs
    data = Path(a.data)
    raw = data / f"raw-{n}"
    if not (raw / "DONE").exists():
        shutil.rmtree(raw, ignore_errors=True)
        t = time.perf_counter()
        kinds = generate(raw, n)
        (raw / "DONE").write_text(json.dumps(kinds))
        print(f"generated {n:,} documents in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    kinds = json.loads((raw / "DONE").read_text())
    size = sum(p.stat().st_size for p in raw.glob("*.jsonl"))
    clean = data / f"clean-{n}"
    r = run_pipeline(raw, clean, a.workers)
    st = r.pop("stats")
    if not a.keep_output:
        shutil.rmtree(clean, ignore_errors=True)
    cons = st["conservation"]
    stages = {s["stage"]: {"in": s["in"], "kept": s["kept"], "seconds": s.get("seconds"),
                           "reasons": s["reasons"]} for s in st["stages"]}
    res = {"documents": n, "input_mb": round(size / 1e6), "workers": a.workers, "corpus_kinds": kinds,
           **r, "docs_per_s": round(n / r["wall_s"]), "mb_per_s": round(size / 1e6 / r["wall_s"], 2),
           "kept": cons["kept"], "conservation": cons, "stages": stages,
           "load_avg_at_end": os.getloadavg()[0]}
    print(f"\n== the default pipeline on {n:,} documents ({size / 1e6:,.0f} MB), {a.workers} workers")
    print(table([[f"{res['wall_s']:,.0f}", res["docs_per_s"], res["mb_per_s"], res["peak_tree_pss_mb"],
                  res["peak_tree_rss_mb"], res["peak_one_process_mb"], cons["kept"], cons["ok"]]],
                ["wall s", "docs/s", "MB/s", "peak PSS MB (tree)", "peak RSS MB (tree, sum)",
                 "largest process MB", "kept", "conserved"]))
    print(table([[k, v["in"], v["kept"], v["seconds"]] for k, v in stages.items()],
                ["stage", "in", "kept", "seconds (summed over workers)"]))
    name = "pipeline_scale" if n >= 1_000_000 else f"pipeline_scale_{n}"
    print(f"wrote {save(name, res)}")


if __name__ == "__main__":
    main()
