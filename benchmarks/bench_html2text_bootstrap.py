#!/usr/bin/env python3
"""How sure is html2text's lead over trafilatura on the held-out pages never tuned on? A paired
bootstrap (pages resampled with replacement, the same draw for both extractors) of corpuskit's
SH-F1 n4 (balanced) minus trafilatura's best of its default and precision settings
(`include_comments=False, favor_precision=True`), the peer setting chosen again in every draw.

Sets: held-out sets #1 (newspaper4k's full references), #6 and #7 of benchmarks/heldout_html.py,
each alone and pooled (the pages with full references html2text was never tuned on). SH-F1 is
html_eval.py's, on pooled means of precision and recall, as the other html2text benchmarks
compute it (a page's precision counts where it is defined, its recall likewise). The draws come from a seeded generator: the same pages give the same interval.

    python benchmarks/bench_html2text_bootstrap.py [--draws N] [--seed S] [--out bench_out/heldout_html]

Writes benchmarks/results/html2text_bootstrap.json, stamped with the commit. Reports; it has no
target of its own (bench_html2text_heldout.py checks the bar).
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import heldout_html  # noqa: E402
from benchmarks.bench_html2text import extractors, score, scorer  # noqa: E402
from benchmarks.common import missing, save  # noqa: E402

SETS = (1, 6, 7)


NAMES = ("corpuskit", "trafilatura", "trafilatura_precision")


def page_scores(he, fns: dict, items: list[dict]) -> list[dict[str, tuple]]:
    """Per page, (precision, recall, precision defined, recall defined) over 4-token shingles of
    corpuskit and both peer settings (`fns`: bench_html2text.extractors()), as
    bench_html2text.quality() counts them; a crash scores as an empty output, as in html_eval."""
    rows = []
    for it in items:
        doc = he.decode_html(he.read_bytes(it["html_path"]))[0]
        row = {}
        for name in NAMES:
            try:
                out = fns[name](doc) or ""
            except Exception:  # noqa: BLE001 - html_eval's rule: a crash is an empty output
                out = ""
            row[name] = score(he, it["gt_text"], out, 4)
        rows.append(row)
    return rows


def f1(rows: list[dict], name: str) -> float:
    """SH-F1 of the mean precision and mean recall over the pages where each is defined."""
    ps = [r[name][0] for r in rows if r[name][2]]
    rs = [r[name][1] for r in rows if r[name][3]]
    p, r = (sum(ps) / len(ps) if ps else 0.0), (sum(rs) / len(rs) if rs else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def lead(rows: list[dict]) -> float:
    return f1(rows, "corpuskit") - max(f1(rows, "trafilatura"), f1(rows, "trafilatura_precision"))


def interval(rows: list[dict], draws: int, seed: int) -> dict:
    rng = random.Random(seed)
    leads = sorted(lead([rng.choice(rows) for _ in rows]) for _ in range(draws))
    lo, hi = leads[int(0.025 * draws)], leads[int(0.975 * draws) - 1]
    return {"pages": len(rows), "corpuskit": round(f1(rows, "corpuskit"), 4),
            "trafilatura": round(f1(rows, "trafilatura"), 4),
            "trafilatura_precision": round(f1(rows, "trafilatura_precision"), 4),
            "lead": round(lead(rows), 4), "interval_95": [round(lo, 4), round(hi, 4)],
            "share_of_draws_with_lead_at_least_0": round(sum(x >= 0 for x in leads) / draws, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=2000, help="bootstrap draws (default 2000, at least 40)")
    ap.add_argument("--seed", type=int, default=15, help="seed of the draws (default 15)")
    ap.add_argument("--out", type=Path, default=heldout_html.DEFAULT_OUT, help="the built held-out sets")
    ap.add_argument("--eval-dir", help="folder holding html_eval.py (the scorer)")
    args = ap.parse_args()
    if args.draws < 40:
        ap.error("--draws: at least 40 (a 95% interval leaves 2.5% of the draws out on each side)")
    he = scorer(args.eval_dir)
    fns, absent = extractors()
    if "trafilatura" in absent:
        missing("trafilatura", "Install it: pip install -e '.[bench]'")
    per_set = {}
    for w in SETS:
        items = [it for its in heldout_html.load(args.out, w).values() for it in its if it["kind"] == "full"]
        per_set[w] = page_scores(he, fns, items)
    res = {f"set_{w}": interval(rows, args.draws, args.seed) for w, rows in per_set.items()}
    res["pooled"] = interval([r for rows in per_set.values() for r in rows], args.draws, args.seed)
    print(f"paired bootstrap of corpuskit's SH-F1 n4 lead over trafilatura's best setting ({args.draws} draws)")
    for k, v in res.items():
        print(f"{k:8s} {v['pages']:4d} pages  corpuskit {v['corpuskit']:.3f}  trafilatura {v['trafilatura']:.3f} / "
              f"{v['trafilatura_precision']:.3f}  lead {v['lead']:+.3f}  95% [{v['interval_95'][0]:+.3f}, "
              f"{v['interval_95'][1]:+.3f}]")
    path = save("html2text_bootstrap", {"draws": args.draws, "seed": args.seed, "sets": list(SETS),
                                        "held_out": True, "results": res})
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
