"""filter-perplexity --percentiles: what the whole-stream form costs beside --cutoffs.

Data: generated documents (no labels): English lines of words drawn from a 2,000-word Zipf
vocabulary and Chinese lines of characters drawn from 1,500 CJK characters, 1 to 4 lines a
document, `meta.lang` set; a bigram ARPA model written here over the same vocabulary (unigram
probabilities by Zipf, a bigram for each word after <s>). Nothing is tuned on it. No peer: the
figures compare the real CLI (one process each) with `--cutoffs A,B` (per record, streaming),
`--percentiles 30,60` and `--percentiles 30,60 --percentiles-by lang` on the same input, and
check that
* the buckets hold 30% / 30% / 40% of the scored documents (linear percentiles: up to ties),
* the computed cut-offs given back as --cutoffs give the same bytes,
* peak memory (RSS) of --percentiles stays within the cut-off run's + 16 bytes a document
  + 64 MB (the scores are 8 bytes a document; the records are spilled to disk).

Usage: python benchmarks/bench_perplexity_percentiles.py [--quick] [--docs N]
"""
from __future__ import annotations

import argparse
import bisect
import math
import os
import random
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import require_packages, run_measured, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EN_VOCAB = 2000
ZH_VOCAB = 1500


def vocab(rng: random.Random) -> tuple[list[str], list[str]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    en: set[str] = set()
    while len(en) < EN_VOCAB:
        en.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))))
    zh = [chr(0x4E00 + i * 7) for i in range(ZH_VOCAB)]
    return sorted(en), zh


def write_arpa(path: Path, words: list[str]) -> None:
    weights = [1.0 / (i + 1) for i in range(len(words))]
    z = sum(weights) * 1.25  # a fifth of the mass left to </s> and <unk>
    uni = [f"{math.log10(0.01):.6f}\t<unk>\t0", "-99\t<s>\t-0.30103", f"{math.log10(0.19):.6f}\t</s>\t0"]
    uni += [f"{math.log10(w / z):.6f}\t{t}\t-0.30103" for t, w in zip(words, weights)]
    bi = [f"{math.log10(min(0.9, 4 * w / z)):.6f}\t<s> {t}" for t, w in zip(words, weights)]
    path.write_text("\\data\\\n" f"ngram 1={len(uni)}\n" f"ngram 2={len(bi)}\n\n\\1-grams:\n" + "\n".join(uni)
                    + "\n\n\\2-grams:\n" + "\n".join(bi) + "\n\n\\end\\\n", encoding="utf-8")


def zipf_pick(rng: random.Random, items: list[str], cum: list[float]) -> str:
    return items[min(len(items) - 1, bisect.bisect_left(cum, rng.random() * cum[-1]))]


def write_docs(path: Path, n: int, en: list[str], zh: list[str], rng: random.Random) -> int:
    cum_en, cum_zh, acc = [], [], 0.0
    for i in range(len(en)):
        acc += 1.0 / (i + 1) ** rng.choice((0.8, 1.0))
        cum_en.append(acc)
    acc = 0.0
    for i in range(len(zh)):
        acc += 1.0 / (i + 1)
        cum_zh.append(acc)
    with open(path, "wb") as f:
        for i in range(n):
            lang = "zh" if rng.random() < 0.5 else "en"
            lines = []
            for _ in range(rng.randint(1, 4)):
                k = rng.randint(3, 40)
                if lang == "zh":
                    lines.append("".join(zipf_pick(rng, zh, cum_zh) for _ in range(k)) + "。")
                else:
                    lines.append(" ".join(zipf_pick(rng, en, cum_en) for _ in range(k)) + ".")
            f.write(orjson.dumps({"id": f"d{i}", "text": "\n".join(lines), "meta": {"lang": lang}}) + b"\n")
    return path.stat().st_size


def run(args: list[str]) -> dict:
    """One CLI run: wall and CPU seconds and peak RSS of the process."""
    m = run_measured([sys.executable, "-m", "corpuskit", "filter-perplexity", *args, "-q"], cwd=ROOT,
                     env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {"wall_s": round(m["wall_s"], 2), "cpu_s": round(m["cpu_s"], 2), "peak_rss_mb": round(m["peak_rss_mb"], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs", type=int, default=0)
    a = ap.parse_args()
    require_packages("kenlm", "orjson", "numpy", fix="pip install -e '.[test]'")
    n = a.docs or (30_000 if a.quick else 200_000)
    rng = random.Random(5)
    en, zh = vocab(rng)
    result: dict = {"documents": n}
    with tempfile.TemporaryDirectory(prefix="bench-pctl-") as tmp:
        t = Path(tmp)
        write_arpa(t / "lm.arpa", en + zh)
        result["input_mb"] = round(write_docs(t / "in.jsonl", n, en, zh, rng) / 1e6, 1)
        base = ["--model", str(t / "lm.arpa"), str(t / "in.jsonl"), "--annotate"]
        rows = {}
        rows["percentiles"] = run([*base, "--percentiles", "30,60", "-o", str(t / "p.jsonl"),
                                   "--stats", str(t / "p.json"), "--tmp-dir", tmp])
        st = next(s for s in orjson.loads((t / "p.json").read_bytes())["stages"])["extra"]
        rows["cutoffs"] = run([*base, "--cutoffs", st["cutoffs_option"], "-o", str(t / "c.jsonl")])
        rows["percentiles_by_lang"] = run([*base, "--percentiles", "30,60", "--percentiles-by", "lang",
                                           "-o", str(t / "l.jsonl"), "--stats", str(t / "l.json"), "--tmp-dir", tmp])
        sl = next(s for s in orjson.loads((t / "l.json").read_bytes())["stages"])["extra"]
        same = (t / "p.jsonl").read_bytes() == (t / "c.jsonl").read_bytes()
        left = [p.name for p in t.iterdir() if p.is_dir()]
    scored = st["documents_scored"]
    shares = {b: round(v / scored, 4) for b, v in st["buckets"].items()}
    budget = rows["cutoffs"]["peak_rss_mb"] + (16 * n + (64 << 20)) / (1 << 20)
    result.update({"runs": rows, "cutoffs": st["cutoffs"], "cutoffs_by_lang": sl["cutoffs"],
                   "bucket_shares": shares, "spill_mb": round(st["spill_bytes"] / 1e6, 1),
                   "reused_cutoffs_give_the_same_bytes": same, "spill_folders_left": left,
                   "targets": {"peak_rss_mb_at_most": round(budget, 1), "shares": "30% / 30% / 40% (+-0.5 point)"}})
    print(table([[k, v["wall_s"], v["cpu_s"], v["peak_rss_mb"]] for k, v in rows.items()],
                ["run", "wall s", "CPU s", "peak RSS MB"]))
    print(f"{n:,} documents, {result['input_mb']} MB; spill {result['spill_mb']} MB; shares {shares}; "
          f"reused cut-offs same bytes: {same}")
    save("perplexity_percentiles", result)
    missed = []
    if not same:
        missed.append("the computed cut-offs given as --cutoffs do not give the same bytes")
    if left:
        missed.append(f"spill folders left: {left}")
    if max(rows["percentiles"]["peak_rss_mb"], rows["percentiles_by_lang"]["peak_rss_mb"]) > budget:
        missed.append(f"peak RSS above {budget:.0f} MB")
    if any(abs(shares[b] - w) > 0.005 for b, w in (("head", 0.3), ("middle", 0.3), ("tail", 0.4))):
        missed.append(f"bucket shares {shares}")
    if missed:
        print("target missed: " + "; ".join(missed), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
