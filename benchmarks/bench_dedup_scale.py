"""`corpuskit dedup` on 1M documents whose vocabulary keeps growing, as a user runs it: memory,
speed, scratch disk and the recall of the copies the generator planted. Writes
benchmarks/results/dedup_scale.json.

    python benchmarks/bench_dedup_scale.py [--docs N] [--small N] [--budget SIZE] [--data DIR]
    python benchmarks/bench_dedup_scale.py --quick       # 100,000 documents

Input: benchmarks/scale_corpus.py's seeded English and Chinese corpus (Zipf-Mandelbrot word
frequencies over an unbounded list of word forms, so new words and new Chinese character pairs
keep appearing at every size: the distinct words at 1/4, 1/2 and all of the corpus are
reported), ~2.2 KB of JSONL a document (--typical-size 2700; the generator's default, 4500, makes
~3.7 KB), 30% Chinese, 10% near copies (one word or one Chinese character
changed) and 2% exact copies of an earlier document, 3% too short; 20 JSONL files, streamed to
--data once (kept between runs; `make clean` removes bench_out/). A --small corpus (default
20,000) is the first documents of the same stream: the fixed overhead the per-document growth is
measured above.

Run: `python -m corpuskit dedup RAW/ -o OUT --rejected REJ --stats STATS -q --tmp-dir TMP` in
its own process, with the default --max-memory (1GB) and with --budget (default 200MB). Peak
RSS is wait4()'s ru_maxrss, read by a small launcher process (bench_hostile.py's), so it is the
command's alone. Wall time includes starting the interpreter and writing the output.

Ground truth is the generator's own record of what it planted (scale_corpus.generate's `truth`
file: each copy's kind and the index of the original it copies), no corpuskit code: a planted
copy is caught when it and its original do not both survive. Originals removed and short
documents removed are reported as they are (the generator plants nothing there; a short
document whose text is identical to an earlier short one is counted apart).

Targets (exit 1 when one is missed): every planted exact copy caught, >= 99% of the planted
near copies caught, no more than 0.01% of the originals removed, the same output bytes with both
budgets, in = kept + rejected, and with --budget a peak <= budget + 300 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_pipeline_scale import gt_texts  # noqa: E402
from benchmarks.common import file_sha256, save, table  # noqa: E402
from benchmarks.scale_corpus import KIND_CODES  # noqa: E402
from benchmarks.scale_corpus import generate as generate_zipf  # noqa: E402
from corpuskit.stages.dedup.store import parse_size  # noqa: E402

# ru_maxrss of a child counts the address space it was spawned from: a small launcher (a few
# MB) spawns the command and reports what wait4() says (as bench_hostile.py does)
_LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def corpus(data: Path, n: int, size: int) -> tuple[Path, Path, dict]:
    """The generated corpus of n documents (made once: DONE holds its description), its truth
    file and its description."""
    raw, truth = data / f"raw-{n}-{size}", data / f"truth-{n}-{size}.npz"
    if not (raw / "DONE").exists() or not truth.exists():
        shutil.rmtree(raw, ignore_errors=True)
        en, zh = gt_texts()
        t = time.perf_counter()
        meta = generate_zipf(raw, n, en, zh, files=20, growth_at=tuple(sorted({n // 4, n // 2, n})),
                             truth=truth, typical_size=size)
        meta["generate_seconds"] = round(time.perf_counter() - t, 1)
        # this process holds nothing big but the generator: its high-water mark is the generator's
        meta["generate_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        (raw / "DONE").write_text(json.dumps(meta))
        print(f"generated {n:,} documents in {meta['generate_seconds']:.0f} s", file=sys.stderr, flush=True)
    return raw, truth, json.loads((raw / "DONE").read_text())


def run_dedup(raw: Path, work: Path, extra: tuple[str, ...]) -> dict:
    """The whole `corpuskit dedup` command on raw/ in its own process."""
    out, rej, stats, tmp = work / "out.jsonl", work / "rejected.jsonl", work / "stats.json", work / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "corpuskit", "dedup", str(raw),
                        "-o", str(out), "--rejected", str(rej), "--stats", str(stats), "-q",
                        "--tmp-dir", str(tmp), *extra], env=env, capture_output=True)
    wall = time.perf_counter() - t0
    maxrss_kb, code = (int(x) for x in p.stdout.split())
    if code:
        raise SystemExit(f"dedup failed with exit {code}: {p.stderr.decode(errors='replace')[-2000:]}")
    st = json.loads(stats.read_text())["stages"][0]
    return {"wall_seconds": round(wall, 1), "peak_rss_mb": round(maxrss_kb / 1024, 1), "in": st["in"],
            "kept": st["kept"], "rejected": st["rejected"], "reasons": st["reasons"], "extra": st["extra"],
            "load_avg_at_start": round(load0, 2), "load_avg_at_end": round(os.getloadavg()[0], 2),
            "out": out, "rejected_file": rej}


def removed_by_id(rej: Path, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Which documents ("d<index>") the rejected file holds, and a mask per reason."""
    removed = np.zeros(n, dtype=bool)
    by_reason: dict[str, np.ndarray] = {}
    with open(rej, "rb") as f:
        for line in f:
            r = orjson.loads(line)
            i = int(r["id"][1:])
            removed[i] = True
            reason = r["meta"]["rejected"]["reason"]
            by_reason.setdefault(reason, np.zeros(n, dtype=bool))[i] = True
    return removed, by_reason


def score(truth: Path, removed: np.ndarray, by_reason: dict[str, np.ndarray]) -> dict:
    """Recall of the planted copies and what else was removed, by the generator's record."""
    z = np.load(truth)
    kind, source = z["kind"], z["source"].astype(np.int64)
    out: dict = {}
    for name in ("exact_copy", "near_copy", "short_repeat"):
        m = kind == KIND_CODES[name]
        caught = removed[m] | removed[source[m]]  # the copy and its original do not both survive
        out[name] = {"planted": int(m.sum()), "caught": int(caught.sum()),
                     "recall": round(float(caught.mean()), 5) if m.any() else None,
                     "removed_as": {k: int(v[m].sum()) for k, v in sorted(by_reason.items())}}
    for name in ("original", "short"):
        m = kind == KIND_CODES[name]
        out[name] = {"documents": int(m.sum()), "removed": int(removed[m].sum()),
                     "removed_share": round(float(removed[m].mean()), 6),
                     "removed_as": {k: int(v[m].sum()) for k, v in sorted(by_reason.items())}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=20_000, help="the small corpus: the fixed overhead")
    ap.add_argument("--budget", default="200MB", help="the small --max-memory, beside the default")
    ap.add_argument("--typical-size", type=int, default=2700,
                    help="median document size of the generator (2700: ~2.2 KB of JSONL a document)")
    ap.add_argument("--data", default=str(ROOT / "bench_out" / "dedup_scale"),
                    help="where the generated corpora go (kept between runs) and the runs' output")
    ap.add_argument("--quick", action="store_true", help="100,000 documents (about 2 minutes)")
    a = ap.parse_args()
    n = 100_000 if a.quick else a.docs
    data = Path(a.data)
    t_bench = time.perf_counter()
    res: dict = {"documents": n, "small_documents": a.small, "budget": a.budget, "typical_size": a.typical_size,
                 "load_avg_at_start": round(os.getloadavg()[0], 2),
                 "data": "generated: benchmarks/scale_corpus.py (Zipf-Mandelbrot A=1.5 over an unbounded "
                         "vocabulary, English and Chinese, seed 11), 20 JSONL files",
                 "truth": "the generator's record of the copies it planted (no corpuskit code)"}
    raw, truth, meta = corpus(data, n, a.typical_size)
    small_raw, _, _ = corpus(data, a.small, a.typical_size)
    res["corpus"] = {"input_mb": round(sum(p.stat().st_size for p in raw.glob("*.jsonl")) / 2**20),
                     "kinds": meta["kinds"], "vocabulary_growth": meta["vocabulary_growth"],
                     "bigram_sample": meta["bigram_sample"], "generate_seconds": meta["generate_seconds"],
                     "generate_peak_rss_mb": meta["generate_peak_rss_mb"]}
    print(f"corpus: {n:,} documents, {res['corpus']['input_mb']:,} MB; distinct words (English, Chinese) at "
          + ", ".join(f"{g['documents']:,}: {g['distinct_en_words']:,}, {g['distinct_zh_words']:,}"
                      for g in meta["vocabulary_growth"]), flush=True)
    work = data / "run"
    runs: dict = {}
    for label, extra in (("default", ()), ("budget", ("--max-memory", a.budget))):
        shutil.rmtree(work, ignore_errors=True)
        small = run_dedup(small_raw, work, extra)
        shutil.rmtree(work, ignore_errors=True)
        r = run_dedup(raw, work, extra)
        digest = file_sha256(r.pop("out"))
        removed, by_reason = removed_by_id(r.pop("rejected_file"), n)
        ex = r.pop("extra")
        shutil.rmtree(work, ignore_errors=True)
        row = {"max_memory": a.budget if extra else "default (1GB)", **r, "output_sha256": digest,
               "conserved": r["in"] == n and r["kept"] + r["rejected"] == n,
               "docs_per_second": round(n / r["wall_seconds"]),
               "mb_per_second": round(res["corpus"]["input_mb"] / r["wall_seconds"], 1),
               "small_peak_rss_mb": small["peak_rss_mb"],
               "bytes_per_document_above_small": round((r["peak_rss_mb"] - small["peak_rss_mb"]) * 2**20
                                                       / (n - a.small)),
               "scratch_bytes_per_document": round(ex["scratch_bytes"] / n),
               "spill_bytes_per_document": round(ex["spill_bytes"] / n),
               "grouping_spill_bytes": ex.get("grouping_spill_bytes", 0),
               "seconds_by_phase": ex["seconds"], "candidate_pairs": ex["candidate_pairs"],
               "clusters": ex["clusters"], "quality": score(truth, removed, by_reason)}
        runs[label] = row
        q = row["quality"]
        print(f"--max-memory {row['max_memory']}: {row['wall_seconds']:,} s ({row['docs_per_second']:,} docs/s, "
              f"load {row['load_avg_at_start']}-{row['load_avg_at_end']}), peak RSS {row['peak_rss_mb']} MB "
              f"({row['small_peak_rss_mb']} MB at {a.small:,}: {row['bytes_per_document_above_small']} B/doc "
              f"above), scratch {row['scratch_bytes_per_document']} B/doc; kept {row['kept']:,}; recall exact "
              f"{q['exact_copy']['recall']}, near {q['near_copy']['recall']}; originals removed "
              f"{q['original']['removed']}", flush=True)
    res["runs"] = runs
    d, b = runs["default"], runs["budget"]
    budget_mb = parse_size(a.budget) / 2**20
    res["targets"] = {
        "every_exact_copy_caught": all(r["quality"]["exact_copy"]["recall"] == 1.0 for r in runs.values()),
        "near_copy_recall_at_least_0.99": all(r["quality"]["near_copy"]["recall"] >= 0.99 for r in runs.values()),
        "originals_removed_at_most_0.01%": all(r["quality"]["original"]["removed_share"] <= 0.0001
                                                for r in runs.values()),
        "same_output_with_both_budgets": d["output_sha256"] == b["output_sha256"],
        "conserved": d["conserved"] and b["conserved"],
        "budget_peak_within_budget_plus_300MB": b["peak_rss_mb"] <= budget_mb + 300,
    }
    res["bench_seconds"] = round(time.perf_counter() - t_bench, 1)
    print(table([[label, f"{r['wall_seconds']:,.0f}", r["docs_per_second"], r["peak_rss_mb"],
                  r["bytes_per_document_above_small"], r["scratch_bytes_per_document"], r["kept"],
                  f"{r['quality']['exact_copy']['recall']:.4f}", f"{r['quality']['near_copy']['recall']:.4f}"]
                 for label, r in runs.items()],
                ["--max-memory", "wall s", "docs/s", "peak RSS MB", "B/doc above small", "scratch B/doc", "kept",
                 "exact recall", "near recall"]))
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in res["targets"].items()))
    name = "dedup_scale_quick" if a.quick else "dedup_scale"
    print(f"written {save(name, res).relative_to(ROOT)} in {res['bench_seconds']} s")
    if not all(res["targets"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
