#!/usr/bin/env python3
"""html2text on Chinese web news pages against trafilatura, resiliparse and magic-html (the
Chinese bar): the pages of benchmarks/zh_news_data.py's web_gne/ (GeneralNewsExtractor 0.4.3's
test pages: about 50 article pages of about 25 Chinese news sites; build them with
`python benchmarks/zh_news_data.py`).

Status of the data: **held-out, looked at once**. html2text was never tuned on these pages; the
two pages where the default chain drops the article after html2text were read (bench_zh_rules.py
reports them), nothing was changed for them. Its mean score once located a harmful html2text
change (commits bisected on it; the change was reverted; no page was read).

Reference: the body GNE's own extractor (imported from the unpacked sdist, as zh_news_data.py
does to choose the pages) returns for each page. That is another extractor's output on its own
test pages (GNE was written against them), not an independent human label: a check of agreement
with the extractor made for these sites. Scored by the development sets' scorer (html_eval.py):
SH-F1 over 4-token shingles and over single tokens (each CJK character a token, so n=1 is a
character F1).

Every extractor gets the same decoded pages (html_eval's decoder); the in-process ones run each
over all the pages in turn, the order rotating from round to round (`--order interleaved`: page by
page), magic-html in a Python 3.12 subprocess (--venv312, as bench_html2text.py); each page's
latency is the minimum over --repeat rounds, start-up excluded.

    python benchmarks/bench_html2text_zh_news.py [--data DIR] [--venv312 PATH] [--repeat N] [--order stream|interleaved]

Writes benchmarks/results/html2text_zh_news.json, stamped with the commit; exits 1 when corpuskit's
SH-F1 (balanced) is below magic-html's (issue 15's Chinese target).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import zh_news_data  # noqa: E402
from benchmarks.bench_html2text import (  # noqa: E402
    ORDER_TEXT,
    ORDERS,
    extractors,
    quality,
    run_magic_html,
    scorer,
    timed,
    venv312_python,
)
from benchmarks.common import missing, save  # noqa: E402


def gne_bodies(data: Path, raws: list[bytes]) -> list[str]:
    """GNE's body for each page (the reference), from the sdist zh_news_data.py unpacked."""
    src = data / "downloads" / f"gne-{zh_news_data.GNE['version']}"
    if not (src / "gne" / "__init__.py").exists():
        missing(f"{src}", "Build it: python benchmarks/zh_news_data.py (fetches gne 0.4.3's sdist from PyPI).")
    sys.path.insert(0, str(src))
    from gne import GeneralNewsExtractor

    return [GeneralNewsExtractor().extract(zh_news_data._decode(r))["content"].strip() for r in raws]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=zh_news_data.DEFAULT_OUT, help="zh_news_data.py's folder")
    ap.add_argument("--venv312", help="Python 3.12 venv with magic-html (as bench_html2text.py)")
    ap.add_argument("--repeat", type=int, default=3, help="timing rounds (default 3)")
    ap.add_argument("--eval-dir", help="folder holding html_eval.py (the scorer)")
    ap.add_argument("--order", choices=ORDERS, default="stream",
                    help="stream (default): each extractor over all the pages in turn, as a user runs it; "
                         "interleaved: page by page, every call after another extractor's")
    args = ap.parse_args()
    he = scorer(args.eval_dir)
    man = args.data / "web_gne" / "manifest.jsonl"
    if not man.exists():
        missing(f"{man}", "Build it: python benchmarks/zh_news_data.py (fetches gne 0.4.3's sdist from PyPI).")
    items = [json.loads(ln) for ln in man.read_text(encoding="utf-8").splitlines() if ln.strip()]
    raws = [(man.parent / it["html"]).read_bytes() for it in items]
    py312 = venv312_python(args.venv312)
    gts = gne_bodies(args.data, raws)
    docs = [he.decode_html(r)[0] for r in raws]

    fns, absent = extractors()
    if absent:
        missing(", ".join(absent), "Install them: pip install -e '.[bench]'")
    names = list(fns)
    outs, lat = timed(args.order, fns, docs, args.repeat)
    mh = run_magic_html(py312, docs, args.repeat)
    names.append("magic_html")
    outs["magic_html"], lat["magic_html"] = mh["outputs"], mh["latency"]

    from importlib.metadata import version
    res = {}
    for n in names:
        q = quality(he, gts, outs[n])
        med = statistics.median(lat[n])
        q.update(median_ms=1000 * med, pages_per_s=1 / med if med else float("inf"), total_s=sum(lat[n]))
        res[n] = q
    results = {"held_out": "looked at once", "repeat": args.repeat, "order": args.order, "pages": len(items),
               "sites": len({it["site"] for it in items}), "reference": "GNE 0.4.3's own extraction",
               "source": {"package": f"gne=={zh_news_data.GNE['version']}", "sha256": zh_news_data.GNE["sha256"]},
               "versions": {**{p: version(p) for p in ("trafilatura", "resiliparse", "lxml")},
                            "magic_html": mh["version"]},
               "extractors": res}
    print(f"html2text on {len(items)} Chinese news pages (GNE 0.4.3 test pages; reference: GNE's body; "
          f"in-process extractors {ORDER_TEXT[args.order]})")
    for n in names:
        x = res[n]
        print(f"{n:22s} SH-F1 n4 {x['n4']['sh_f1']:.3f} (P {x['n4']['precision']:.3f} R {x['n4']['recall']:.3f})  "
              f"n1 {x['n1']['sh_f1']:.3f}  empty {x['empty_where_gt_has_text']}  {x['pages_per_s']:7.0f} pages/s")
    ok = res["corpuskit"]["n4"]["sh_f1"] >= res["magic_html"]["n4"]["sh_f1"]
    results["target"] = {"rule": "corpuskit (balanced) SH-F1 n4 >= magic-html's", "met": ok}
    path = save("html2text_zh_news", results)
    print(f"wrote {path.relative_to(ROOT)}")
    if not ok:
        print("target missed: corpuskit below magic-html on the Chinese news pages", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
