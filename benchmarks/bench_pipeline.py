"""The whole pipeline against datatrove's FineWeb-style pipeline on the same HTML pages.

Side by side, in one run, on the same pages (../shared/eval/html, replicated --replicate times):
  datatrove 0.10.1 via ../shared/eval/datatrove_baseline.py (Trafilatura, Gopher repetition and
  quality, C4, FineWeb filters, then MinHash dedup), with --no-trafilatura-dedup so kept counts
  compare; and `corpuskit pipeline` with the equivalent steps (html2text, filter-ads [C4 lines],
  filter-quality [Gopher quality + repetition, FineWeb], dedup [MinHash]) plus normalize.
Both are timed as whole commands (a fresh interpreter each, imports included), for each worker
count, median of --repeats; peak RSS of the largest process from wait4.

Usage: python benchmarks/bench_pipeline.py [--quick] [--replicate 5] [--workers 1 2] [--repeats 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import Sampler, save, table  # noqa: E402
from benchmarks.common import eval_dir as _eval_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ["html2text", "normalize", "filter-ads", "filter-quality", "dedup"]


def eval_dir() -> Path:
    """../shared/eval (or $CORPUSKIT_EVAL_DIR); the benchmark stops (non-zero) without it."""
    return _eval_dir(("html", "datatrove_baseline.py"))


DT_VENV = ROOT / ".venv-datatrove"
DT_REQS = ["datatrove[processing]==0.10.1", "xxhash<4", "spacy", "orjson"]
# then, in a second pip call: datatrove's [processing] extra pins trafilatura<1.12, and with the
# trafilatura 1.11 that resolves to (and lxml 6.x) the baseline kept 0 pages here (2026-12-01);
# the measured baseline runs trafilatura 2.3.1, as our html2text comparison does (pip warns about
# datatrove's pin; the two cannot be resolved in one call)
DT_REQS_2 = ["trafilatura==2.3.1", "lxml_html_clean"]


def datatrove_python() -> str:
    """datatrove 0.10.1 needs xxhash<4 (corpuskit uses xxhash 4), so the baseline runs in its own
    venv, made here on first use from PyPI as the baseline script's docstring says."""
    py = DT_VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {DT_VENV} for the datatrove baseline ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(DT_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *DT_REQS], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *DT_REQS_2], check=True)
    return str(py)


def timed(cmd: list[str], env: dict, tree: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB of the largest process) of a command; with `tree`, also the
    peak summed PSS and RSS of its whole process tree (sampled every 0.5 s) put there."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = None
    if tree is not None:
        sampler = Sampler(p.pid)
        sampler.start()
    _, status, ru = os.wait4(p.pid, 0)
    if sampler is not None:
        sampler.done.set()
        sampler.join()
        tree["peak_tree_pss_mb"] = max(tree.get("peak_tree_pss_mb", 0), round(sampler.peak_pss / 1024))
        tree["peak_tree_rss_mb"] = max(tree.get("peak_tree_rss_mb", 0), round(sampler.peak_rss / 1024))
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return wall, ru.ru_maxrss / 1024


def run_datatrove(ev: Path, html_dirs: list[str], dt_work: Path, a: argparse.Namespace) -> dict:
    """datatrove, as its baseline script runs it; the summary (medians) per worker count."""
    dt_cmd = [datatrove_python(), str(ev / "datatrove_baseline.py"), "--input", *html_dirs, "--workdir",
              str(dt_work), "--replicate", str(a.replicate), "--workers", *map(str, a.workers),
              "--repeats", str(a.repeats), "--no-trafilatura-dedup"]
    print("running datatrove baseline ...", file=sys.stderr, flush=True)
    dt = subprocess.run(dt_cmd, capture_output=True, text=True)
    if dt.returncode != 0:
        raise SystemExit(f"datatrove baseline failed:\n{dt.stderr[-3000:]}")
    return json.loads(dt.stdout.strip().splitlines()[-1])["summary_median"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--replicate", type=int, default=5)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stages", default=",".join(CHAIN))
    ap.add_argument("--target-mb", type=float, default=0,
                    help="replicate the pages to about this many MB of HTML (overrides --replicate)")
    ap.add_argument("--corpuskit-only", action="store_true",
                    help="no datatrove run: the scale figure (e.g. --target-mb 1000 --stages all)")
    a = ap.parse_args()
    if a.quick:
        a.replicate, a.repeats = 1, 1
    ev = eval_dir()
    html_dirs = sorted(str(d / "html") for d in (ev / "html").iterdir() if (d / "html").is_dir())
    pages = sorted(p for d in html_dirs for p in Path(d).iterdir() if p.suffix in (".html", ".htm"))
    if a.target_mb:
        a.replicate = max(1, round(a.target_mb * 1e6 / sum(p.stat().st_size for p in pages)))
    stages_arg = [] if a.stages == "all" else ["--stages", a.stages]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="ck-pipe-") as td:
        raw = Path(td) / "raw"
        for r in range(a.replicate):
            d = raw / f"r{r}"
            d.mkdir(parents=True)
            for p in pages:
                os.symlink(p, d / p.name)
        n_pages = len(pages) * a.replicate
        mb = sum(p.stat().st_size for p in pages) * a.replicate / 1e6

        dt_res = None
        if not a.corpuskit_only:
            dt_res = run_datatrove(ev, html_dirs, Path(td) / "dt", a)
        # corpuskit, interleaving worker counts like the baseline does
        runs: dict[int, list[tuple[float, float]]] = {w: [] for w in a.workers}
        trees: dict[int, dict] = {w: {} for w in a.workers}
        kept: dict[int, int] = {}
        for _ in range(a.repeats):
            for w in a.workers:
                clean = Path(td) / f"clean-{w}"
                shutil.rmtree(clean, ignore_errors=True)
                cmd = [sys.executable, "-m", "corpuskit", "pipeline", str(raw), str(clean), "--workers", str(w),
                       *stages_arg, "-q"]
                print(f"running corpuskit --workers {w} ...", file=sys.stderr, flush=True)
                runs[w].append(timed(cmd, env, trees[w]))
                kept[w] = json.loads((clean / "stats.json").read_text())["conservation"]["kept"]

    if dt_res is None:
        rows, res = [], {}
        for w in a.workers:
            wall = statistics.median(x[0] for x in runs[w])
            rss = max(x[1] for x in runs[w])
            res[w] = {"wall_s": round(wall, 1), "pages_per_s": round(n_pages / wall, 1),
                      "mb_per_s": round(mb / wall, 2), "peak_rss_mb_largest_process": round(rss),
                      **trees[w], "docs_kept": kept[w]}
            rows.append([w, f"{wall:,.0f}", f"{n_pages / wall:,.1f}", f"{mb / wall:,.2f}", f"{rss:,.0f}",
                         trees[w]["peak_tree_pss_mb"], kept[w]])
        print(f"{n_pages:,} pages ({mb:,.0f} MB of HTML), median of {a.repeats}; stages: {a.stages}")
        print(table(rows, ["workers", "wall s", "pages/s", "MB/s", "peak RSS MB (largest process)",
                           "peak PSS MB (process tree)", "kept"]))
        p = save("pipeline_html_scale", {"pages": n_pages, "html_mb": round(mb, 1), "replicate": a.replicate,
                                         "repeats": a.repeats, "stages": a.stages, "results": res})
        print(f"wrote {p}")
        return
    rows, res = [], {}
    for w in a.workers:
        ck_wall = statistics.median(x[0] for x in runs[w])
        ck_rss = max(x[1] for x in runs[w])
        d = dt_res[str(w)]
        ck_pps = n_pages / ck_wall
        res[w] = {"corpuskit": {"wall_s": round(ck_wall, 2), "pages_per_s": round(ck_pps, 1),
                                "mb_per_s": round(mb / ck_wall, 2), "peak_rss_mb": round(ck_rss),
                                "docs_kept": kept[w]},
                  "datatrove": {"wall_s": d["total_wall_s"], "pages_per_s": d["total_pages_per_s"],
                                "mb_per_s": d["total_html_mb_per_s"],
                                "peak_rss_mb": max(d["filter_peak_rss_mb"], d["dedup_peak_rss_mb"]),
                                "docs_kept": d["docs_kept_dedup"]},
                  "speedup": round(ck_pps / d["total_pages_per_s"], 2)}
        rows.append([w, f"{ck_pps:,.1f}", f"{d['total_pages_per_s']:,.1f}", f"{res[w]['speedup']:.2f}x",
                     f"{mb / ck_wall:,.2f}", f"{d['total_html_mb_per_s']:,.2f}", f"{ck_rss:,.0f}",
                     f"{res[w]['datatrove']['peak_rss_mb']:,.0f}", kept[w], d["docs_kept_dedup"]])
    print(f"{n_pages:,} pages ({mb:,.1f} MB of HTML), median of {a.repeats}; corpuskit stages: {a.stages}")
    print(table(rows, ["workers", "corpuskit pages/s", "datatrove pages/s", "speed-up", "corpuskit MB/s",
                       "datatrove MB/s", "corpuskit peak RSS MB", "datatrove peak RSS MB",
                       "corpuskit kept", "datatrove kept"]))
    p = save("pipeline", {"pages": n_pages, "html_mb": round(mb, 1), "replicate": a.replicate,
                          "repeats": a.repeats, "stages": a.stages, "results": res})
    print(f"wrote {p}")


if __name__ == "__main__":
    main()
