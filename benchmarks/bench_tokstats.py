"""tokenize-stats: tokens/s per core for cl100k_base and o200k_base, on English and on Chinese,
against plain tiktoken in the same run, and what the statistics cost over bare tokenisation.

Input: the ground-truth article texts of ../shared/eval (real web pages: scrapinghub = English,
zh_cwced_dev = Chinese), replicated to --mb MB of text per language. They are read from there,
never copied into the repository.

Rows, each the median of --repeats runs, interleaved so that machine noise hits all alike:
* tiktoken 1 thread   -- plain `tiktoken.Encoding.encode_ordinary` over the documents, built by
                         tiktoken's own constructor (fed the same ranks, since it cannot download)
* corpuskit 1 thread  -- `TiktokenTokenizer(threads=1).encode_docs` (the stage's tokeniser)
* tiktoken batch      -- `encode_ordinary_batch(num_threads=cores)`
* corpuskit N threads -- `encode_docs` with every core
* stage: stats        -- the whole `tokenize-stats` stage (tokens + words + lines + histograms +
                         languages + top tokens/words), every core
* stage: no vocab     -- the same with --no-word-vocab (words counted, not kept)
Both wall time and CPU time (all threads of the process) are taken. The machine is shared and
noisy, so the per-core figure is tokens per CPU-second, which contention disturbs far less than
wall time; "CPU vs tiktoken" = CPU seconds / CPU seconds of plain tiktoken on 1 thread (lower is
better) and "stats CPU cost" = CPU seconds of the stage / CPU seconds of bare tokenisation.

Usage: python benchmarks/bench_tokstats.py [--quick] [--mb 2] [--repeats 5] [--eval DIR]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import save, table  # noqa: E402
from corpuskit.stages.tokstats import TokenizeStats  # noqa: E402
from corpuskit.tokenizers import TiktokenTokenizer, default_threads, load_tiktoken_ranks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def find_eval(arg: str | None) -> Path | None:
    for c in [arg, os.environ.get("CORPUSKIT_EVAL"), ROOT.parent / "shared" / "eval",
              ROOT.parent.parent / "shared" / "eval"]:
        if c and (Path(c) / "html" / "scrapinghub" / "gt").is_dir():
            return Path(c)
    return None


def sample_data_texts() -> dict[str, list[str]]:
    """Fallback when ../shared/eval is not there: the repository's sample_data (small)."""
    from corpuskit.jsonl import read_records
    from corpuskit.text import is_cjk_text

    out: dict[str, list[str]] = {"en": [], "zh": []}
    for r in read_records(str(ROOT / "sample_data" / "raw" / "docs.jsonl")):
        t = r.get("text") or ""
        if len(t) > 50:
            out["zh" if is_cjk_text(t) else "en"].append(t)
    return out


def replicate(base: list[str], mb: float) -> list[str]:
    base = [t for t in base if t.strip()]
    out, size, i = [], 0, 0
    while size < mb * 1_000_000:
        t = base[i % len(base)]
        out.append(t)
        size += len(t.encode("utf-8"))
        i += 1
    return out


def reference_encoding(name: str):
    """tiktoken's own constructor, fed the ranks we ship (it would download them otherwise)."""
    import tiktoken
    import tiktoken_ext.openai_public as op

    ranks = load_tiktoken_ranks(name)
    orig = op.load_tiktoken_bpe
    op.load_tiktoken_bpe = lambda *a, **k: ranks
    try:
        return tiktoken.Encoding(**getattr(op, name)())
    finally:
        op.load_tiktoken_bpe = orig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1 MB per language, 3 repeats")
    ap.add_argument("--mb", type=float, default=2.0, help="MB of text per language (default 2)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--eval", default=None)
    a = ap.parse_args()
    if a.quick:
        a.mb, a.repeats = 1.0, 3
    ev = find_eval(a.eval)
    cores = default_threads()
    if ev is not None:
        source = ("shared/eval html ground-truth texts (scrapinghub en, zh_cwced_dev zh), replicated")
        base = {lang: [p.read_text(encoding="utf-8") for p in sorted((ev / "html" / d / "gt").glob("*.txt"))]
                for lang, d in (("en", "scrapinghub"), ("zh", "zh_cwced_dev"))}
    else:
        source = "sample_data/raw/docs.jsonl (../shared/eval not found), replicated"
        base = sample_data_texts()
    print(f"input: {source}", file=sys.stderr)
    corpora = {lang: replicate(texts, a.mb) for lang, texts in base.items()}
    rows, results = [], []
    for name in ("cl100k_base", "o200k_base"):
        ref = reference_encoding(name)
        ours1 = TiktokenTokenizer(name, threads=1)
        oursn = TiktokenTokenizer(name, threads=cores)
        for lang, texts in corpora.items():
            ntok = sum(len(ref.encode_ordinary(t)) for t in texts)  # also warms up
            assert ntok == sum(map(len, ours1.encode_docs(texts)[0])), "counts differ from tiktoken"
            nbytes = sum(len(t.encode("utf-8")) for t in texts)
            records = [{"text": t, "meta": {"lang": lang}} for t in texts]

            def stage_run(word_vocab: bool, name=name, records=records) -> None:
                st = TokenizeStats(tokenizer=name, threads=cores, word_vocab=word_vocab)
                for _ in st.run(records):
                    pass
                st.result()

            cases = {
                "tiktoken 1 thread": lambda ref=ref, texts=texts: [ref.encode_ordinary(t) for t in texts],
                "corpuskit 1 thread": lambda o=ours1, texts=texts: o.encode_docs(texts),
                f"tiktoken batch {cores} threads": lambda ref=ref, texts=texts: ref.encode_ordinary_batch(
                    texts, num_threads=cores),
                f"corpuskit {cores} threads": lambda o=oursn, texts=texts: o.encode_docs(texts),
                "stage: full stats": lambda: stage_run(True),
                "stage: --no-word-vocab": lambda: stage_run(False),
            }
            wall: dict[str, list[float]] = {k: [] for k in cases}
            cpu: dict[str, list[float]] = {k: [] for k in cases}
            for _ in range(a.repeats):  # interleaved repeats
                for k, fn in cases.items():
                    w, c = timed(fn)
                    wall[k].append(w)
                    cpu[k].append(c)
            med = {k: statistics.median(v) for k, v in wall.items()}
            medc = {k: statistics.median(v) for k, v in cpu.items()}
            base1 = medc["tiktoken 1 thread"]
            bare = medc[f"corpuskit {cores} threads"]
            for k, t in med.items():
                c = max(medc[k], 1e-9)
                r = {"encoding": name, "lang": lang, "case": k, "threads": 1 if "1 thread" in k else cores,
                     "tokens": ntok, "text_mb": round(nbytes / 1e6, 2), "wall_s": round(t, 4),
                     "cpu_s": round(c, 4), "mtok_per_s_wall": round(ntok / t / 1e6, 3),
                     "mtok_per_cpu_s": round(ntok / c / 1e6, 3),
                     "cpu_vs_tiktoken_1_thread": round(c / base1, 3),
                     "stats_cpu_cost_vs_bare": round(c / bare, 3) if k.startswith("stage") else None}
                results.append(r)
                rows.append([name, lang, k, f"{r['mtok_per_s_wall']:.2f}", f"{r['mtok_per_cpu_s']:.2f}",
                             f"{r['cpu_vs_tiktoken_1_thread']:.2f}x",
                             "" if r["stats_cpu_cost_vs_bare"] is None else f"{r['stats_cpu_cost_vs_bare']:.2f}x"])
            print(f"  {name} {lang}: {ntok:,} tokens in {nbytes / 1e6:.1f} MB", file=sys.stderr)
    print(table(rows, ["encoding", "lang", "case", "Mtok/s (wall)", "Mtok/CPU-s (per core)",
                       "CPU vs tiktoken", "stats CPU cost"]))
    p = save("tokstats", {"mb_per_language": a.mb, "repeats": a.repeats, "cores": cores,
                          "input": source, "results": results})
    print(f"wrote {p}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
