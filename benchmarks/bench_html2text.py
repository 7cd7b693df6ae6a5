#!/usr/bin/env python3
"""html2text benchmark: corpuskit vs trafilatura vs resiliparse on the same pages, same run.

Quality: ScrapingHub-style corpus F1 (SH-F1 = F1 of mean precision and mean recall over pages,
word-bag tokens, each CJK character one token), scored with ../shared/eval/html_eval.py's own
functions, per labelled set (`scrapinghub`, English; `zh_cwced_dev`, Chinese).
Speed: single process. Extractors run interleaved page by page (page 1 with A, B, C, then
page 2, ...), so load from other processes on a shared machine hits all of them alike; each
page's latency is its minimum over --repeat rounds; pages/s = 1 / median page latency. The
headline is the RATIO of corpuskit's pages/s to trafilatura's (median of the per-round ratios
of total time).

    python benchmarks/bench_html2text.py [--quick] [--repeat N] [--eval-dir PATH]

Writes benchmarks/results/html2text.json. Needs the [bench] extra (trafilatura, resiliparse) and
the labelled pages of ../shared/eval (or CORPUSKIT_EVAL_DIR / --eval-dir); without them it
says so and skips.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import save  # noqa: E402

SETS = ("scrapinghub", "zh_cwced_dev")


def find_eval_dir(arg: str | None) -> Path | None:
    cands = [Path(arg)] if arg else []
    if os.environ.get("CORPUSKIT_EVAL_DIR"):
        cands.append(Path(os.environ["CORPUSKIT_EVAL_DIR"]))
    cands += [ROOT.parent / "shared" / "eval", ROOT.parent.parent / "shared" / "eval",
              Path("/work/shared/eval")]
    for c in cands:
        if (c / "html_eval.py").exists():
            return c
    return None


def load_html_eval(d: Path):
    spec = importlib.util.spec_from_file_location("html_eval", d / "html_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def extractors() -> tuple[dict, list[str]]:
    from corpuskit.stages.html2text.stage import extract_text

    out, missing = {}, []
    try:
        import trafilatura

        out["trafilatura"] = lambda h: trafilatura.extract(h) or ""  # library defaults
    except ImportError:
        missing.append("trafilatura")
    try:
        from resiliparse.extract.html2text import extract_plain_text

        out["resiliparse"] = lambda h: extract_plain_text(h, main_content=True)
    except ImportError:
        missing.append("resiliparse")
    out["corpuskit"] = extract_text
    return out, missing


def score(he, gt: str, out: str) -> tuple[float, float, bool, bool]:
    tt, pt = he.tokenize(gt), he.tokenize(out)
    tp, fp, fn = he.tp_fp_fn(tt, pt, 1)
    s = tp + fp + fn
    if s > 0:
        tp, fp, fn = tp / s, fp / s, fn / s
    # (precision, recall, precision defined, recall defined) as html_eval.summarize counts them
    return he.prec(tp, fp, fn), he.rec(tp, fp, fn), tp + fp > 0, tp + fn > 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="40 + 15 pages, one round")
    ap.add_argument("--repeat", type=int, default=None, help="timing rounds (default 3; 1 with --quick)")
    ap.add_argument("--eval-dir", help="folder holding html_eval.py and html/<set>/")
    args = ap.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)

    ed = find_eval_dir(args.eval_dir)
    if ed is None:
        print("bench_html2text: eval data not found (set CORPUSKIT_EVAL_DIR or --eval-dir); skipped")
        return 0
    he = load_html_eval(ed)
    fns, missing = extractors()
    names = list(fns)

    results: dict = {"repeat": repeat, "quick": args.quick, "missing": missing, "sets": {}}
    all_lat = {n: [] for n in names}
    round_tot = [{n: 0.0 for n in names} for _ in range(repeat)]
    for set_name in SETS:
        d = ed / "html" / set_name
        if not d.exists():
            continue
        _, items = he.load_dataset(d)
        if args.quick:
            items = items[:40 if set_name == "scrapinghub" else 15]
        docs = [he.decode_html(he.read_bytes(it["html_path"]))[0] for it in items]
        for n in names:  # warm-up: imports and lazy set-up are not billed to page 1
            fns[n](docs[0])
        lat = {n: [float("inf")] * len(docs) for n in names}
        outs = {n: [""] * len(docs) for n in names}
        for r in range(repeat):
            for i, html in enumerate(docs):
                for n in names:
                    t0 = time.perf_counter()
                    try:
                        o = fns[n](html) or ""
                    except Exception:  # a crash scores as empty output, as in html_eval
                        o = ""
                    dt = time.perf_counter() - t0
                    round_tot[r][n] += dt
                    lat[n][i] = min(lat[n][i], dt)
                    outs[n][i] = o
        res = {}
        for n in names:
            P, R, empty = [], [], 0
            for it, o in zip(items, outs[n]):
                p, rc, pdef, rdef = score(he, it["gt_text"], o)
                if pdef:
                    P.append(p)
                if rdef:
                    R.append(rc)
                if not o.strip() and it["gt_text"].strip():
                    empty += 1
            mp, mr = (statistics.mean(P) if P else 0.0), (statistics.mean(R) if R else 0.0)
            med = statistics.median(lat[n])
            res[n] = {"pages": len(docs), "sh_f1": he.f1(mp, mr), "precision": mp, "recall": mr,
                      "empty_where_gt_has_text": empty, "median_ms": 1000 * med,
                      "pages_per_s": 1 / med if med else float("inf")}
            all_lat[n].extend(lat[n])
        results["sets"][set_name] = res

    overall = {}
    for n in names:
        med = statistics.median(all_lat[n])
        overall[n] = {"pages_per_s": 1 / med if med else float("inf"), "median_ms": 1000 * med}
    results["overall"] = overall
    if "trafilatura" in names:
        ratios = [rt["trafilatura"] / rt["corpuskit"] for rt in round_tot if rt["corpuskit"] > 0]
        results["speed_ratio_vs_trafilatura"] = {
            "median_of_rounds_total_time": statistics.median(ratios),
            "pages_per_s_median_latency": overall["corpuskit"]["pages_per_s"] / overall["trafilatura"]["pages_per_s"],
        }

    # ---- table
    print(f"html2text benchmark ({repeat} round(s){', quick' if args.quick else ''}; "
          f"single process; extractors interleaved page by page)")
    hdr = f"{'set':14s} {'extractor':12s} {'SH-F1':>6s} {'P':>6s} {'R':>6s} {'empty':>5s} {'ms/page':>8s} {'pages/s':>8s}"
    print(hdr)
    print("-" * len(hdr))
    for s, r in results["sets"].items():
        for n in names:
            x = r[n]
            print(f"{s:14s} {n:12s} {x['sh_f1']:6.3f} {x['precision']:6.3f} {x['recall']:6.3f} "
                  f"{x['empty_where_gt_has_text']:5d} {x['median_ms']:8.2f} {x['pages_per_s']:8.0f}")
    for n in names:
        print(f"{'all pages':14s} {n:12s} {'':6s} {'':6s} {'':6s} {'':5s} {overall[n]['median_ms']:8.2f} "
              f"{overall[n]['pages_per_s']:8.0f}")
    if "speed_ratio_vs_trafilatura" in results:
        sr = results["speed_ratio_vs_trafilatura"]
        print(f"speed ratio corpuskit / trafilatura: {sr['median_of_rounds_total_time']:.1f}x (total time, "
              f"median of rounds), {sr['pages_per_s_median_latency']:.1f}x (median page latency)")
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')")
    path = save("html2text", results)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
