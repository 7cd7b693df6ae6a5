"""tokenize: tokens per CPU-second against tiktoken's own `encode_ordinary_batch` on the same
texts in the same run, English and Chinese web text, and wall time for 1 and 2 workers.

Input: the ground-truth article texts of ../shared/eval/html/*/gt (real web pages: English =
scrapinghub + readability_dev, Chinese = zh_cwced_dev), one document per file, replicated to
--mb MB of UTF-8 per language (each copy suffixed with its number so no two documents are the
same). They are read from there, never copied into the repository. Nothing was tuned on them.

Rows (median of --repeats, interleaved):
* tiktoken batch      -- `Encoding.encode_ordinary_batch(texts, num_threads=1)` (tiktoken's
                         own encoding object, fed the same shipped ranks), one core
* corpuskit map       -- the stage's map side (`Tokenize.map_unit`: tokenise with eos, write a
                         unit folder) with one tokenizer thread
* corpuskit tokenize  -- the whole `run_tokenize` from a JSONL file to Megatron shards and
                         manifest (JSON parsing, map, reduce, sha256 of the files), 1 worker
"per core" is tokens per CPU-second of this process and its children (the machine is shared;
CPU time is disturbed far less than wall time). Then `corpuskit tokenize` as a command on
both languages (cut into 8 files, 8 units) with --workers 1 and 2: wall and CPU seconds (start-up
and loading the rank file included) and peak RSS of the process tree, with the machine's load
average (wall time means little on a loaded machine).

Usage: python benchmarks/bench_tokenize.py [--mb 4] [--repeats 3] [--eval DIR]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import Sampler, save, table  # noqa: E402
from corpuskit.pipeline.tokenize import run_tokenize  # noqa: E402
from corpuskit.registry import make_stage  # noqa: E402
from corpuskit.tokens.tokenizers import tiktoken_encoding  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LANGS = {"en": ("scrapinghub", "readability_dev"), "zh": ("zh_cwced_dev",)}


def find_eval(arg: str | None) -> Path:
    for c in [arg, os.environ.get("CORPUSKIT_EVAL"), ROOT.parent / "shared" / "eval",
              ROOT.parent.parent / "shared" / "eval", Path("/work/shared/eval")]:
        if c and (Path(c) / "html" / "scrapinghub" / "gt").is_dir():
            return Path(c)
    raise SystemExit("no evaluation set found: give --eval DIR (the folder holding html/*/gt)")


def texts_for(ev: Path, lang: str, mb: float) -> list[str]:
    base = [p.read_text(encoding="utf-8") for d in LANGS[lang]
            for p in sorted((ev / "html" / d / "gt").glob("*.txt"))]
    base = [t for t in base if t.strip()]
    out: list[str] = []
    size = 0
    copy = 0
    while size < mb * 1e6:
        for t in base:
            doc = t if copy == 0 else f"{t}\n({copy})"
            out.append(doc)
            size += len(doc.encode())
        copy += 1
    return out


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(fn) -> tuple[float, float]:
    c0, t0 = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu() - c0


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=4.0, help="MB of text per language")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eval", default=None)
    ap.add_argument("--encodings", default="cl100k_base,o200k_base")
    args = ap.parse_args()
    ev = find_eval(args.eval)
    tmp = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    rows, results = [], []
    try:
        for lang in LANGS:
            texts = texts_for(ev, lang, args.mb)
            nbytes = sum(len(t.encode()) for t in texts)
            src = tmp / f"{lang}.jsonl"
            src.write_bytes(b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts))
            recs = [{"text": t} for t in texts]
            for name in args.encodings.split(","):
                enc = tiktoken_encoding(name)
                ntok = sum(len(x) for x in enc.encode_ordinary_batch(texts, num_threads=1))
                stage = make_stage("tokenize", tokenizer=name, threads=1)
                n = [0]

                def base(enc=enc, texts=texts):
                    enc.encode_ordinary_batch(texts, num_threads=1)

                def mapped(stage=stage, recs=recs, n=n):
                    d = tmp / f"u{n[0]}"
                    n[0] += 1
                    d.mkdir()
                    stage.map_unit(recs, d, "s", lambda r: None)
                    shutil.rmtree(d)

                def whole(name=name, src=src, n=n):
                    out = tmp / f"o{n[0]}"
                    n[0] += 1
                    run_tokenize([str(src)], str(out), make_stage("tokenize", tokenizer=name), workers=1)
                    shutil.rmtree(out)

                times: dict[str, list[tuple[float, float]]] = {"tiktoken batch": [], "corpuskit map": [],
                                                               "corpuskit tokenize": []}
                for _ in range(args.repeats):
                    times["tiktoken batch"].append(timed(base))
                    times["corpuskit map"].append(timed(mapped))
                    times["corpuskit tokenize"].append(timed(whole))
                ref_cpu = statistics.median(c for _, c in times["tiktoken batch"])
                for case, tc in times.items():
                    wall = statistics.median(w for w, _ in tc)
                    c = statistics.median(c for _, c in tc)
                    row = {"lang": lang, "encoding": name, "case": case, "docs": len(texts), "mb": round(nbytes / 1e6, 2),
                           "tokens": ntok + (0 if case == "tiktoken batch" else len(texts)),
                           "wall_s": round(wall, 3), "cpu_s": round(c, 3),
                           "tokens_per_cpu_s": round(ntok / c), "vs_tiktoken": round(ref_cpu / c, 3)}
                    results.append(row)
                    rows.append([lang, name, case, row["mb"], ntok, row["wall_s"], row["cpu_s"],
                                 f"{ntok / c / 1e6:.2f}M", f"{ref_cpu / c:.2f}x"])
        # workers: the whole command on both languages, 1 and 2 workers, wall time and memory
        # (each language cut into 4 files, so that there are 8 units of work)
        both = tmp / "both"
        both.mkdir()
        for lang in LANGS:
            lines = (tmp / f"{lang}.jsonl").read_bytes().splitlines(keepends=True)
            step = -(-len(lines) // 4)
            for k in range(4):
                (both / f"{lang}-{k}.jsonl").write_bytes(b"".join(lines[k * step:(k + 1) * step]))
        scaling = []
        load = os.getloadavg()[0]
        for w in (1, 2):
            out = tmp / f"w{w}"
            cmd = [sys.executable, "-m", "corpuskit", "tokenize", str(both), "-o", str(out), "-j", str(w), "-q",
                   "--stats", str(tmp / f"w{w}.json")]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            t0, c0 = time.perf_counter(), cpu()
            p = subprocess.Popen(cmd, env=env)
            sampler = Sampler(p.pid, every=0.05)
            sampler.start()
            p.wait()
            sampler.done.set()
            wall, cpu_s = time.perf_counter() - t0, cpu() - c0
            st = orjson.loads((tmp / f"w{w}.json").read_bytes())
            scaling.append({"workers": w, "wall_s": round(wall, 3), "cpu_s": round(cpu_s, 3),
                            "load_average_before": load, "tokens": st["tokens"]["tokens"],
                            "tokens_per_s": round(st["tokens"]["tokens"] / wall),
                            "peak_rss_mb": round(sampler.peak_rss / 1024), "units": st["run"]["units"]})
            shutil.rmtree(out)
        same = True  # bytes identical across worker counts is a test (tests/pipeline/test_tokenize.py)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(rows, ["lang", "encoding", "case", "MB", "tokens", "wall s", "CPU s", "tokens/CPU-s", "vs tiktoken"]))
    print(table([[s["workers"], s["units"], s["wall_s"], s["cpu_s"], s["tokens_per_s"], s["peak_rss_mb"]]
                 for s in scaling], ["workers", "units", "wall s", "CPU s (all processes)", "tokens/s", "peak RSS MB"]))
    print(f"load average before the workers rows: {scaling[0]['load_average_before']:.1f} on {os.cpu_count()} cores")
    p = save("tokenize", {"commit": git_commit(), "input": {"eval": str(ev), "mb_per_language": args.mb,
                                                            "english": list(LANGS["en"]),
                                                            "chinese": list(LANGS["zh"])},
                          "repeats": args.repeats, "rows": results, "workers": scaling,
                          "same_bytes_across_workers_tested": same})
    print(f"wrote {p}")


if __name__ == "__main__":
    main()
