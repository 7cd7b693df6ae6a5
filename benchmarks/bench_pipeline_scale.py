"""The whole default pipeline at scale on this 2-core machine, with the memory of the whole
process tree (the main process and its workers) sampled, at two corpus sizes and the slope
between them.

Input (default, --corpus zipf): benchmarks/scale_corpus.py's generated English and Chinese
text whose vocabulary keeps growing with its size (Zipf-Mandelbrot word frequencies over an
unbounded list of word forms: new English word forms and new Chinese character bigrams keep
appearing, Heaps' law), ~4.5 KB a document, 30% Chinese, 10% near copies, 2% exact copies,
3% too short; seeded. The older corpus (--corpus articles: windows of paragraphs of the same 216
labelled articles of ../shared/eval, whose vocabulary and BPE pieces stop growing after a few
thousand documents, so it flatters every cache) is kept for comparison. The text is generated
once into --data (kept between runs, ~4.7 KB a document).

Run: `corpuskit pipeline RAW CLEAN -j WORKERS -q` with the default chain (every stage), in a
fresh interpreter, for each size in --docs (default 50,000 and 200,000: the largest that fits a
benchmark session on a shared 2-core machine; 1M documents take ~25 min of both cores). The
slope between the two sizes (seconds and MB of peak memory per extra 1,000 documents) is
reported with a LINEAR extrapolation to 1M, labelled as such. A sampler reads /proc every
0.5 s for the pipeline's process tree and keeps the peak of (a) the summed RSS of all its
processes (an upper bound: forked workers share pages) and (b) the summed PSS (shared pages
divided among the processes sharing them: the memory the run really holds), and the largest
single process.

Usage: python benchmarks/bench_pipeline_scale.py [--docs 50000 200000] [--workers 2] [--data DIR]
           [--corpus zipf|articles]
       python benchmarks/bench_pipeline_scale.py --quick        # 10,000 and 40,000 documents
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
from benchmarks.scale_corpus import generate as generate_zipf  # noqa: E402

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


def generate_articles(out_dir: Path, n: int, files: int = 20, seed: int = 11) -> dict:
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


def gt_texts() -> tuple[list[str], list[str]]:
    ev = eval_dir()
    return ([p.read_text(encoding="utf-8") for p in sorted((ev / "html" / "scrapinghub" / "gt").glob("*.txt"))],
            [p.read_text(encoding="utf-8") for p in sorted((ev / "html" / "zh_cwced_dev" / "gt").glob("*.txt"))])


def one_size(n: int, a: argparse.Namespace, data: Path) -> dict:
    raw = data / f"raw-{a.corpus}-{n}"
    if not (raw / "DONE").exists():
        shutil.rmtree(raw, ignore_errors=True)
        t = time.perf_counter()
        if a.corpus == "zipf":
            en, zh = gt_texts()
            marks = tuple(sorted({n // 4, n // 2, n}))
            meta = generate_zipf(raw, n, en, zh, growth_at=marks)
        else:
            meta = {"kinds": generate_articles(raw, n)}
        meta["generate_s"] = round(time.perf_counter() - t, 1)
        (raw / "DONE").write_text(json.dumps(meta))
        print(f"generated {n:,} documents in {meta['generate_s']:.0f} s", file=sys.stderr)
    meta = json.loads((raw / "DONE").read_text())
    size = sum(p.stat().st_size for p in raw.glob("*.jsonl"))
    clean = data / f"clean-{a.corpus}-{n}"
    r = run_pipeline(raw, clean, a.workers)
    st = r.pop("stats")
    if not a.keep_output:
        shutil.rmtree(clean, ignore_errors=True)
    cons = st["conservation"]
    stages = {s["stage"]: {"in": s["in"], "kept": s["kept"], "seconds": s.get("seconds"),
                           "reasons": s["reasons"]} for s in st["stages"]}
    res = {"documents": n, "input_mb": round(size / 1e6), "workers": a.workers, "corpus": a.corpus,
           "corpus_kinds": meta.get("kinds", meta), "vocabulary_growth": meta.get("vocabulary_growth"),
           **r, "docs_per_s": round(n / r["wall_s"]), "mb_per_s": round(size / 1e6 / r["wall_s"], 2),
           "kept": cons["kept"], "conservation": cons, "stages": stages,
           "load_avg_at_end": os.getloadavg()[0]}
    print(f"\n== the default pipeline on {n:,} documents ({size / 1e6:,.0f} MB, corpus {a.corpus}), "
          f"{a.workers} workers")
    print(table([[f"{res['wall_s']:,.0f}", res["docs_per_s"], res["mb_per_s"], res["peak_tree_pss_mb"],
                  res["peak_tree_rss_mb"], res["peak_one_process_mb"], cons["kept"], cons["ok"]]],
                ["wall s", "docs/s", "MB/s", "peak PSS MB (tree)", "peak RSS MB (tree, sum)",
                 "largest process MB", "kept", "conserved"]))
    print(table([[k, v["in"], v["kept"], v["seconds"]] for k, v in stages.items()],
                ["stage", "in", "kept", "seconds (summed over workers)"]))
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, nargs="+", default=[50_000, 200_000],
                    help="corpus sizes, smallest first (two or more give the slope)")
    ap.add_argument("--quick", action="store_true", help="10,000 and 40,000 documents")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--corpus", choices=["zipf", "articles"], default="zipf")
    ap.add_argument("--data", default=str(ROOT / "bench_out" / "scale"),
                    help="where the generated corpus and the output go (kept between runs)")
    ap.add_argument("--keep-output", action="store_true")
    a = ap.parse_args()
    sizes = [10_000, 40_000] if a.quick else sorted(a.docs)
    eval_dir()  # stops here, before any work, when the article texts are missing
    runs = [one_size(n, a, Path(a.data)) for n in sizes]
    out = {"corpus": a.corpus, "workers": a.workers, "sizes": sizes, "runs": runs,
           "data": ("generated (benchmarks/scale_corpus.py, Zipf-Mandelbrot A=1.5, growing vocabulary, "
                    "seed 11)" if a.corpus == "zipf" else
                    "windows of paragraphs of the 216 labelled articles (vocabulary stops growing)")}
    if len(runs) >= 2:
        lo, hi = runs[0], runs[-1]
        dn = (hi["documents"] - lo["documents"]) / 1000
        s_per_k = (hi["wall_s"] - lo["wall_s"]) / dn
        mb_per_k = (hi["peak_tree_pss_mb"] - lo["peak_tree_pss_mb"]) / dn
        left = (1_000_000 - hi["documents"]) / 1000
        out["slope"] = {"between_documents": [lo["documents"], hi["documents"]],
                        "wall_s_per_1000_docs": round(s_per_k, 2),
                        "peak_pss_mb_per_1000_docs": round(mb_per_k, 2),
                        "extrapolated_1M": {"wall_s": round(hi["wall_s"] + s_per_k * left),
                                            "peak_tree_pss_mb": round(hi["peak_tree_pss_mb"] + mb_per_k * left),
                                            "note": "EXTRAPOLATED linearly from the two measured sizes, "
                                                    "not measured"}}
        sl = out["slope"]
        print(f"\nslope {lo['documents']:,} -> {hi['documents']:,} documents: {sl['wall_s_per_1000_docs']} s and "
              f"{sl['peak_pss_mb_per_1000_docs']} MB (peak PSS) per 1,000 documents; 1M EXTRAPOLATED: "
              f"~{sl['extrapolated_1M']['wall_s']:,} s, ~{sl['extrapolated_1M']['peak_tree_pss_mb']:,} MB")
    name = "pipeline_scale" if a.corpus == "zipf" else "pipeline_scale_articles"
    if a.quick:
        name += "_quick"
    print(f"wrote {save(name, out)}")


if __name__ == "__main__":
    main()
