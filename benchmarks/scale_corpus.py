"""A seeded scale corpus whose vocabulary keeps growing with its size (English and Chinese).

The earlier scale corpus cut paragraphs out of the same 216 articles, so past the first few
thousand documents no new word, no new Chinese character pair and no new BPE piece appeared:
every cache and every table stopped growing, which flatters anything that caches (the
tokenizer's piece cache, the word vocabulary of tokenize-stats, dedup's hash tables).

Here word frequencies follow a Zipf-Mandelbrot law, p(rank) ~ (rank + Q) ** -A with A = 1.5,
over an unbounded list of word forms, so the number of distinct words grows with the number of
tokens N roughly as N ** (1 / A) (Heaps' law, exponent ~0.67, the range measured on web text):
new word forms keep appearing at every size.
* English: the most frequent ranks are real words (the 5,000 most frequent of the English
  article texts of ../shared/eval, so stop words, lengths and letters look like English and
  the quality filters judge the text as prose); every rank past them is a new made-up word
  form spelled from syllables (rank k always gives the same form).
* Chinese: the most frequent ranks are the most frequent characters and character pairs of the
  Chinese article texts; every rank past them is a new two-character word (and, far out, a
  three-character one) over the 3,500 most frequent characters, so new character bigrams keep
  appearing.
Sentences are 6-28 words (a comma in the longer ones), capitalised and ended with . ! ? or
。！？, 2-7 sentences a paragraph, paragraphs separated by a blank line. Document lengths are
log-normal around 4.5 KB (at most 40 KB; `typical_size` changes it); 30% of the documents are
Chinese; 10% are near copies (one word changed) of a recent document, 2% exact copies, 3% too
short. Everything is drawn
from one seeded generator: the same corpus on every run.
"""
from __future__ import annotations

import collections
import math
import random
import re
from pathlib import Path

import numpy as np
import orjson

A = 1.5     # Zipf exponent: Heaps' exponent ~ 1 / A
Q = 8.0     # Mandelbrot offset: the most frequent word takes ~5% of the tokens, as "the" does
_SYLL = [c + v for c in ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v",
                         "w", "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"]
         for v in ["a", "e", "i", "o", "u", "ai", "ea", "ou", "an", "en", "in", "on", "er", "ar", "or"]]
_EN_WORD = re.compile(r"[a-z]+")
BIGRAM_SAMPLE = 10  # distinct Chinese character bigrams are counted on every 10th Chinese document
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _ranks(rng: np.random.Generator, n: int) -> np.ndarray:
    """n ranks (1-based) from p(r) ~ (r + Q) ** -A, by inverting the continuous Pareto tail."""
    u = rng.random(n)
    x = (1.0 + Q) * np.power(1.0 - u, -1.0 / (A - 1.0)) - Q
    return np.minimum(np.floor(x), 1e15).astype(np.int64)


class Vocabulary:
    """Word form of a rank: real frequent words first, then made-up forms that never repeat.
    Ranks below TABLE are looked up in a precomputed table (99% of the tokens)."""

    TABLE = 200_000

    def __init__(self, base: list[str], lang: str, common_chars: str = ""):
        self.base, self.lang, self.common = base, lang, common_chars
        self.table = np.array(["", *(self.form(r) for r in range(1, self.TABLE))], dtype=object)

    def form(self, r: int) -> str:
        """Spelled anew for a rare rank each time (no cache, so memory does not grow with the
        corpus: the rare ranks are what keeps growing)."""
        return self.base[r - 1] if r <= len(self.base) else self._made_up(r - len(self.base))

    def words(self, ranks: np.ndarray) -> np.ndarray:
        """The forms of an array of ranks, as an object array."""
        small = ranks < self.TABLE
        out = self.table[np.where(small, ranks, 0)]
        for i in np.flatnonzero(~small).tolist():
            out[i] = self.form(int(ranks[i]))
        return out

    def _made_up(self, k: int) -> str:
        if self.lang == "zh":
            n = len(self.common)
            s = self.common[k % n] + self.common[(k // n) % n]
            if k >= n * n:
                s += self.common[(k // (n * n)) % n]
            return s
        # English: syllables, the rank's digits in base len(_SYLL), at least two syllables
        parts = []
        while True:
            parts.append(_SYLL[k % len(_SYLL)])
            k //= len(_SYLL)
            if k == 0 and len(parts) >= 2:
                break
        return "".join(parts)


def base_vocabularies(gt_en: list[str], gt_zh: list[str]) -> tuple[Vocabulary, Vocabulary]:
    """Frequency-ranked real words (English) and characters + character pairs (Chinese) of the
    article texts, as the frequent end of each vocabulary."""
    en = collections.Counter(w for t in gt_en for w in _EN_WORD.findall(t.lower()))
    en_base = [w for w, _ in en.most_common(5000)]
    chars: collections.Counter = collections.Counter()
    pairs: collections.Counter = collections.Counter()
    for t in gt_zh:
        for run in re.findall(r"[\u4e00-\u9fff]+", t):
            chars.update(run)
            pairs.update(run[i:i + 2] for i in range(len(run) - 1))
    merged = collections.Counter({**{c: n * 2 for c, n in chars.items()}, **pairs})
    zh_base = [w for w, _ in merged.most_common(5000)]
    common = "".join(c for c, _ in chars.most_common(3500))
    if len(common) < 3500:  # top up from the CJK block, in order
        have = set(common)
        common += "".join(chr(c) for c in range(0x4E00, 0x9FA6) if chr(c) not in have)[:3500 - len(common)]
    return Vocabulary(en_base, "en"), Vocabulary(zh_base, "zh", common)


_END = {"en": np.array([".", ".", ".", ".", ".", "!", "?"], dtype=object),
        "zh": np.array(["。", "。", "。", "。", "。", "！", "？"], dtype=object)}


def _text(words: np.ndarray, lang: str, nrng: np.random.Generator) -> str:
    """Sentences of 6-28 words (a comma in the longer ones), capitalised (English) and ended with
    terminal punctuation, 2-7 sentences a paragraph, paragraphs separated by a blank line."""
    n = len(words)
    lens = nrng.integers(6, 29, size=n // 6 + 2)
    ends = np.cumsum(lens)
    ends = ends[ends < n].tolist() + [n]
    starts = [0] + ends[:-1]
    w = words.copy()
    if lang == "en":
        w[starts] = [x.capitalize() for x in w[starts].tolist()]
    mids = [(a + b) // 2 for a, b in zip(starts, ends) if b - a > 12]
    w[mids] = w[mids] + ("," if lang == "en" else "，")
    last = np.array(ends) - 1
    w[last] = w[last] + _END[lang][nrng.integers(0, 7, size=len(last))]
    sep = " " if lang == "en" else ""
    paras, i = [], 0
    per = nrng.integers(2, 8, size=len(ends) // 2 + 2).tolist()
    k = 0
    while i < len(ends):
        j = min(len(ends), i + per[k])
        paras.append(sep.join(w[starts[i]:ends[j - 1]].tolist()))
        i, k = j, k + 1
    return "\n\n".join(paras)


# What each document is, in the `truth` file of `generate` (the generator's own record of what
# it planted: ground truth for a dedup that never shares code with it)
KIND_CODES = {"original": 0, "near_copy": 1, "exact_copy": 2, "short": 3, "short_repeat": 4}


def generate(out_dir: Path, n: int, gt_en: list[str], gt_zh: list[str], files: int = 20, seed: int = 11,
             growth_at: tuple[int, ...] = (), truth: Path | None = None, typical_size: int = 4500) -> dict:
    """Write n records into `files` JSONL files under out_dir. Returns counts by kind and the
    vocabulary growth: distinct word forms (English) and distinct character bigrams (Chinese)
    after each document count in `growth_at` (word forms = distinct ranks drawn, English and
    Chinese; character bigrams on a sample of the Chinese documents, to keep generation fast).

    `typical_size` is the median of the log-normal document sizes (4,500: ~3.7 KB of JSONL a
    document; 2,700: ~2.2 KB); a document of size s draws s // 6 words.

    With `truth` (a path outside out_dir), also write a NumPy .npz there: `kind` (KIND_CODES) and
    `source` (for a copy, the index of the original it copies; for a "short_repeat", a short
    document whose text is identical to an earlier short one, that one's index; else -1) of the
    document of id "d<index>". Records are streamed to disk: memory holds the 5,000 recent
    originals that copies are drawn from and the sets of distinct words, which grow as Heaps' law
    (sub-linearly), not the corpus."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    voc = dict(zip(("en", "zh"), base_vocabularies(gt_en, gt_zh)))
    recent: list[str] = []
    recent_ids: list[int] = []
    kind_of = np.full(n, -1, dtype=np.int8) if truth is not None else None
    source_of = np.full(n, -1, dtype=np.int32) if truth is not None else None
    first_short: dict[str, int] = {}
    kinds = {"original": 0, "near_copy": 0, "exact_copy": 0, "short": 0}
    seen_en: set[int] = set()
    seen_zh: set[int] = set()
    seen_bigrams: set[str] = set()
    n_zh = 0
    growth = []
    per_file = math.ceil(n / files)
    out_dir.mkdir(parents=True, exist_ok=True)
    i = 0
    for fi in range(files):
        with open(out_dir / f"part-{fi:03d}.jsonl", "wb", buffering=1 << 20) as f:
            for _ in range(min(per_file, n - i)):
                r = rng.random()
                src = -1
                if recent and r < 0.02:
                    j = rng.randrange(len(recent))  # = rng.choice(recent): the same draw
                    text, kind, src = recent[j], "exact_copy", recent_ids[j]
                elif recent and r < 0.12:
                    j = rng.randrange(len(recent))
                    words, src = recent[j].split(" "), recent_ids[j]
                    if len(words) > 20:  # English: one word changed
                        words[rng.randrange(len(words))] = "edited"
                        text = " ".join(words)
                    else:  # Chinese (no spaces): one character changed
                        t = words[0] if len(words) == 1 else " ".join(words)
                        k = rng.randrange(len(t))
                        text = t[:k] + "改" + t[k + 1:]
                    kind = "near_copy"
                elif r < 0.15:
                    lang = "zh" if rng.random() < 0.3 else "en"
                    text = _text(voc[lang].words(_ranks(nrng, rng.randint(2, 6))), lang, nrng)[:60]
                    kind = "short"
                    src = first_short.setdefault(text, i)
                    if src == i:
                        src = -1
                else:
                    lang = "zh" if rng.random() < 0.3 else "en"
                    target = min(40_000, int(rng.lognormvariate(math.log(typical_size), 0.5)))
                    ranks = _ranks(nrng, max(20, target // 6))
                    text, kind = _text(voc[lang].words(ranks), lang, nrng), "original"
                    if lang == "en":
                        seen_en.update(ranks.tolist())
                    else:
                        seen_zh.update(ranks.tolist())
                        n_zh += 1
                        if n_zh % BIGRAM_SAMPLE == 0:
                            for run in _CJK_RUN.findall(text):
                                seen_bigrams.update(map(run.__getitem__, map(slice, range(len(run) - 1),
                                                                             range(2, len(run) + 1))))
                    if len(recent) < 5000:
                        recent.append(text)
                        recent_ids.append(i)
                    else:
                        j = rng.randrange(5000)
                        recent[j], recent_ids[j] = text, i
                kinds[kind] += 1
                if kind_of is not None and source_of is not None:
                    kind_of[i] = KIND_CODES["short_repeat" if kind == "short" and src >= 0 else kind]
                    source_of[i] = src
                f.write(orjson.dumps({"id": f"d{i}", "url": f"https://example.org/{i}", "text": text,
                                      "meta": {"source": "scale-bench-zipf"}}) + b"\n")
                i += 1
                if i in growth_at:
                    growth.append({"documents": i, "distinct_en_words": len(seen_en),
                                   "distinct_zh_words": len(seen_zh),
                                   "distinct_zh_bigrams_sampled": len(seen_bigrams)})
    if truth is not None:
        np.savez(truth, kind=kind_of, source=source_of)
    return {"kinds": kinds, "vocabulary_growth": growth, "bigram_sample": f"every {BIGRAM_SAMPLE}th Chinese document",
            "distinct_en_words": len(seen_en), "distinct_zh_words": len(seen_zh),
            "distinct_zh_bigrams_sampled": len(seen_bigrams)}
