"""filter-quality: Gopher quality and repetition rules, C4's document rules and FineWeb's line
rules, right for Chinese as well as English.

Semantics follow datatrove's GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter and
FineWebQualityFilter (which implement Rae et al. 2021 appendix A, Raffel et al. 2020 and
Penedo et al. 2024), with these differences, all so that text without spaces is judged fairly:

* Words are corpuskit.core.text words: each Han/kana character is a word, other words are runs of
  letters and digits (punctuation is never a word). So word-count rules count Chinese characters.
* Mean word length is measured on the non-CJK words only (a CJK word is one character by
  construction) and skipped when most words are CJK.
* Stop words: the Gopher English list, plus Chinese and Japanese function characters.
* Repetition n-grams run over the same words, so Chinese gets character n-grams. An n-gram's
  characters are its words' characters (plus the spaces between them for the top n-gram rule in
  text that is not mostly CJK, as in datatrove).
* Lines are the non-blank lines, stripped; "ends in terminal punctuation" includes 。！？｡… and
  allows closing quotes/brackets after the mark; an ellipsis run ("……", "......") counts once.
* A short line (FineWeb) is <= 30 characters, or <= 10 for a line that is mostly CJK (one Chinese
  character carries about as much as three Latin ones).

Chinese adaptations (docs/stages/filter-quality.md says why, rule by rule): mostly-CJK text needs 3
sentences, not C4's 5; a mostly-CJK line with a sentence end inside it counts as punctuated
(FineWeb's line rule); a question line repeated before different answers is not a duplicate; the
n-gram limits for mostly-CJK text are FineWeb-2's Mandarin ones; and two rules of our own catch
pinyin injection ("烟(yan)台") and SEO keyword stuffing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import filterfalse
from typing import ClassVar

import numpy as np

from corpuskit.core.assets import DATA_DIR as ASSETS
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta
from corpuskit.core.text import (
    CJK_RE,
    CJK_RUN_RE,
    count_ellipses,
    count_sentences,
    count_words,
    dominant_script,
    ends_with_ellipsis,
    ends_with_terminal_punct,
    paragraphs,
    words,
)

DATA_DIR = ASSETS / "stopwords"

BULLETS = ("•", "-", "*", "·", "●", "◦", "▪", "■", "►", "‣", "⁃", "○", "◆", "◇", "□", "✓", "✔", "➢", "→")
_HAS_ALPHA = re.compile(r"[^\W\d_]")
_SYMBOL_TOKEN = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")  # a whitespace token with no letter or digit
# A Han character followed by its pinyin in brackets: "烟(yan)", "台（tái）", "市(shi4)".
_PINYIN_NOTE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff][(\uff08][a-z\u00fc\u0101\u00e1\u01ce\u00e0\u0113\u00e9\u011b"
                          "\u00e8\u012b\u00ed\u01d0\u00ec\u014d\u00f3\u01d2\u00f2\u016b\u00fa\u01d4\u00f9\u01d6"
                          "\u01d8\u01da\u01dc]{1,6}[1-5]?[)\uff09]")
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
# A clause: text between Chinese or Western punctuation, separators and line breaks (a title in
# 《》 stays inside its clause: repeating a book's name is not stuffing).
_CLAUSE_SPLIT = re.compile("[\uff0c\u3002\uff01\uff1f\uff1b\uff1a\u3001,.!?;:|_/\\\n\t \u3000\\-\u2014\u00b7"
                           "\uff08\uff09()\u201c\u201d\"\u3010\u3011\\[\\]]+")
_INNER_SENTENCE_END = re.compile("[\u3002\uff01\uff1f]")
# A line putting a question ("你怎么看？") or a Chinese prompt ("问：", "记者："); not the ASCII colon,
# which ends headings and code lines ("try:") in English.
_PROMPT_END = ("?", "\uff1f", "\uff1a")
# Odd 64-bit multiplier for the polynomial n-gram hash (wraps modulo 2**64 in numpy).
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


STOPWORD_FILES = {"en": "en.txt", "zh": "zh.txt", "ja": "ja.txt"}
# Which list a document is checked against, by its dominant script when meta.lang is absent.
# Latin text is assumed English, as in Gopher (run filter-lang first for other Latin languages).
_SCRIPT_LANG = {"latin": "en", "han": "zh", "kana": "ja"}


@lru_cache(maxsize=8)
def stop_words(lang: str | None = None) -> frozenset[str]:
    """The stop-word list for `lang` ("en", "zh", "ja"), or all of them when None."""
    names = STOPWORD_FILES.values() if lang is None else [STOPWORD_FILES[lang]]
    out: set[str] = set()
    for name in names:
        for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
            w = line.strip()
            if w and not w.startswith("#"):
                out.add(w.lower())
    return frozenset(out)


def stop_word_lang(text: str, meta_lang: object) -> str | None:
    """The stop-word list that applies: from meta.lang when a language stage set it (zh-TW,
    zh-Hans... count as zh), else from the script; None when we have no list for it (Gopher's
    rule is English-only; a Russian or Korean page must not fail it for lack of English words)."""
    if isinstance(meta_lang, str) and meta_lang:
        base = meta_lang.lower().replace("_", "-").split("-")[0]
        return base if base in STOPWORD_FILES else None
    return _SCRIPT_LANG.get(dominant_script(text))


def _parse_ngram_spec(spec: str, option: str) -> tuple[tuple[int, float], ...]:
    """'2:0.20,3:0.18' -> ((2, 0.2), (3, 0.18)); '' -> ()."""
    out = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        n, sep, frac = part.partition(":")
        try:
            ni, fv = int(n), float(frac)
        except ValueError:
            raise ValueError(f"{option}: expected N:FRACTION pairs like '2:0.2,3:0.18', got {part!r}") from None
        if not sep or ni < 1 or not 0.0 < fv <= 1.0:
            raise ValueError(f"{option}: expected N >= 1 and 0 < FRACTION <= 1 in {part!r}")
        out.append((ni, fv))
    return tuple(sorted(out))


def repeated_prompts(items: list[str]) -> set[str]:
    """Items (lines, paragraphs) that end in a question mark or a full-width colon, occur more than
    once, and are followed by a different item each time: an interview putting one question to
    several people, "问：" before each answer. The repetition is the piece's structure, not copied
    text, so the repetition rules leave these repeats out."""
    after: dict[str, list[str]] = {}
    for i, x in enumerate(items):
        if x.endswith(_PROMPT_END):
            after.setdefault(x, []).append(items[i + 1] if i + 1 < len(items) else "")
    return {x for x, nxt in after.items() if len(nxt) > 1 and len(set(nxt)) == len(nxt)}


def without_repeats(text: str, prompts: set[str]) -> str:
    """`text` without the second and later occurrences of the prompt lines."""
    seen: set[str] = set()
    out = []
    for ln in text.split("\n"):
        s = ln.strip()
        if s in prompts:
            if s in seen:
                continue
            seen.add(s)
        out.append(ln)
    return "\n".join(out)


def find_duplicates(items: list[str], skip: set[str] | frozenset[str] = frozenset()) -> tuple[int, int]:
    """(number of items that repeat an earlier one, their characters): Gopher's measure; items
    in `skip` are not counted."""
    seen: set[str] = set()
    dup = dup_chars = 0
    for x in items:
        if x in skip:
            continue
        if x in seen:
            dup += 1
            dup_chars += len(x)
        else:
            seen.add(x)
    return dup, dup_chars


class NgramStats:
    """Gopher's n-gram repetition measures over a word list, vectorised. Each n-gram is a 64-bit
    polynomial hash of its words' hashes. Sizes are visited in increasing order: a repeated
    n-gram starts with a repeated shorter one, so after the first size only the positions that
    repeated before are hashed and grouped (for ordinary text a short list)."""

    SMALL = 48  # below this many positions, grouping in a dict beats numpy's call overhead

    def __init__(self, ws: list[str], spaced: bool):
        self.n_words = len(ws)
        lens = np.fromiter(map(len, ws), dtype=np.int64, count=len(ws))
        self.cum = np.concatenate(([0], np.cumsum(lens)))
        self.tok = np.fromiter(map(hash, ws), dtype=np.int64, count=len(ws)).view(np.uint64)
        self.spaced = spaced
        self.size = 0
        self.cand: np.ndarray | None = None  # positions still in play (None: all)
        self.hv: np.ndarray | None = None  # hash of the `size`-gram at each of them

    def advance(self, n: int) -> tuple[int, int]:
        """Move to n-grams of size n (n >= the previous size). Returns (count of the most frequent
        n-gram, position of its first occurrence); ties go to the n-gram seen first, as with
        collections.Counter.most_common in datatrove. Afterwards `self.cand` holds the sorted
        positions whose n-gram occurs twice or more and `self.hv` their hashes."""
        if n < self.size:
            raise ValueError("n-gram sizes must increase")
        if self.n_words < n:
            self.cand = np.empty(0, dtype=np.int64)
            self.hv = np.empty(0, dtype=np.uint64)
            self.size = n
            return 0, -1
        with np.errstate(over="ignore"):
            if self.cand is None:  # first size: every position
                m = self.n_words - n + 1
                hv = self.tok[:m].copy()
                for k in range(1, n):
                    hv = hv * _HASH_MUL + self.tok[k:k + m]
                cand = np.arange(m)
            else:
                cand, hv = self.cand, self.hv
                keep = cand + n <= self.n_words
                if not keep.all():
                    cand, hv = cand[keep], hv[keep]
                for k in range(self.size, n):
                    hv = hv * _HASH_MUL + self.tok[cand + k]
        self.size = n
        if cand.size < 2:
            self.cand, self.hv = cand[:0], hv[:0]
            return 1, 0
        if cand.size <= self.SMALL:
            groups: dict[int, list[int]] = {}
            for p, x in zip(cand.tolist(), hv.tolist(), strict=True):
                groups.setdefault(x, []).append(p)
            rep = [g for g in groups.values() if len(g) > 1]
            if not rep:
                self.cand, self.hv = cand[:0], hv[:0]
                return 1, 0
            top = max(map(len, rep))
            first = min(g[0] for g in rep if len(g) == top)
            keep_pos = np.array(sorted(p for g in rep for p in g), dtype=np.int64)
            idx = np.searchsorted(cand, keep_pos)
            self.cand, self.hv = cand[idx], hv[idx]
            return top, first
        order = np.argsort(hv, kind="stable")  # stable: within a run, positions increase
        srt = hv[order]
        starts = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))
        counts = np.diff(np.append(starts, srt.size))
        top = int(counts.max())
        if top < 2:
            self.cand, self.hv = cand[:0], hv[:0]
            return 1, 0  # all distinct: the first n-gram counts as the most frequent
        idx = np.sort(order[np.repeat(counts > 1, counts)])
        first = int(cand[order[starts[counts == top]].min()])
        self.cand, self.hv = cand[idx], hv[idx]
        return top, first

    def top_chars(self, n: int, count: int, first: int) -> int:
        """Characters covered by the most frequent n-gram: its count x its length (with the
        spaces between words in spaced text, as datatrove's " ".join)."""
        if count == 0:
            return 0
        length = int(self.cum[first + n] - self.cum[first]) + (n - 1 if self.spaced else 0)
        return length * count

    def dup_chars(self) -> int:
        """Characters in duplicated n-grams of the current size, counted the way Gopher/datatrove
        do: scan left to right; a repeat of an n-gram seen (and not skipped) before counts its
        characters and skips ahead n words. Only positions whose n-gram occurs twice or more can
        matter, so only those are walked."""
        cand, n = self.cand, self.size
        if cand is None or cand.size == 0:
            return 0
        clen = self.cum[cand + n] - self.cum[cand]
        added: set[int] = set()
        skip_until = -1
        total = 0
        for p, hv, ln in zip(cand.tolist(), self.hv.tolist(), clen.tolist(), strict=True):
            if p < skip_until:
                continue
            if hv in added:
                total += ln
                skip_until = p + n
            else:
                added.add(hv)
        return total


def top_han_ngram_count(text: str, n: int) -> int:
    """How often the most frequent run of n Han characters occurs in `text` (vectorised: each
    window of n code points that are all Han is hashed, 64-bit polynomial, and counted)."""
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    m = cp.size - n + 1
    if m <= 0:
        return 0
    han = ((cp >= 0x4E00) & (cp <= 0x9FFF)) | ((cp >= 0x3400) & (cp <= 0x4DBF))
    non_han = np.concatenate(([0], np.cumsum(~han)))
    ok = (non_han[n:] - non_han[:-n]) == 0
    if not ok.any():
        return 0
    pos = np.flatnonzero(ok)
    cp64 = cp.astype(np.uint64)
    with np.errstate(over="ignore"):
        hv = cp64[pos]
        for k in range(1, n):
            hv = hv * _HASH_MUL + cp64[pos + k]
    return int(np.unique(hv, return_counts=True)[1].max())


def keyword_frac(text: str, n: int = 6) -> float:
    """Share of the characters covered by the most frequent n-character Han phrase plus the
    characters in clauses (text between punctuation, separators and line breaks; 2+ characters)
    that repeat an earlier clause. SEO keyword stuffing repeats one phrase both inside sentences
    and as clauses of its own ("上海搬家公司_上海搬家公司电话", "上海搬家公司，..."); news repeats a
    name inside varied clauses."""
    tlen = len(text)
    if not tlen:
        return 0.0
    top = top_han_ngram_count(text, n) * n
    _, dup_chars = find_duplicates([c for c in _CLAUSE_SPLIT.split(text) if len(c) >= 2 and _HAN_RUN.search(c)])
    return (top + dup_chars) / tlen


def _r(x: float) -> float:
    return round(float(x), 4)


@dataclass
class FilterQuality(RecordStage):
    """Gopher quality + Gopher repetition + C4 document rules + FineWeb line rules."""

    name: ClassVar[str] = "filter-quality"
    summary: ClassVar[str] = ("Drop low-quality documents by the Gopher quality and repetition, C4 and "
                              "FineWeb rules, CJK-aware (Chinese counted by character).")
    reasons: ClassVar[dict[str, str]] = {
        "too_few_words": "fewer words than --min-words (Gopher: 50)",
        "too_many_words": "more words than --max-words (Gopher: 100,000)",
        "word_length_low": "mean word length below --min-mean-word-length (Gopher: 3)",
        "word_length_high": "mean word length above --max-mean-word-length (Gopher: 10)",
        "too_many_hashes": "'#' per word above --max-hash-ratio (Gopher: 0.1)",
        "too_many_ellipses": "ellipses per word above --max-ellipsis-ratio (Gopher: 0.1)",
        "too_many_bullet_lines": "share of lines starting with a bullet above --max-bullet-lines (Gopher: 0.9)",
        "too_many_ellipsis_lines": "share of lines ending in an ellipsis above --max-ellipsis-lines (Gopher: 0.3)",
        "too_few_alpha_words": "share of words with a letter below --min-alpha-words (Gopher: 0.8)",
        "too_few_stop_words": "fewer distinct stop words than --min-stop-words (Gopher: 2)",
        "curly_bracket": "the text contains '{' (C4)",
        "too_few_sentences": "fewer sentences than --min-sentences (C4: 5), or --min-sentences-cjk in mostly-CJK text",
        "pinyin_injection": "Chinese text with Han characters followed by bracketed pinyin ('烟(yan)台') above --max-pinyin-notes per Han character",
        "keyword_stuffing": "Chinese text where one phrase and repeated clauses cover more than --max-keyword-frac",
        "dup_para_frac": "share of repeated paragraphs above --max-dup-para-frac (Gopher: 0.3)",
        "dup_para_char_frac": "characters in repeated paragraphs above --max-dup-para-char-frac (Gopher: 0.2)",
        "dup_line_frac": "share of repeated lines above --max-dup-line-frac (Gopher: 0.3)",
        "dup_line_char_frac": "characters in repeated lines above --max-dup-line-char-frac (Gopher: 0.2)",
        "top_ngram": "characters covered by the most frequent n-gram above its --top-ngram-fracs limit (Gopher)",
        "dup_ngram": "characters in repeated n-grams above its --dup-ngram-fracs limit (Gopher)",
        "line_punct_ratio": "share of lines ending in terminal punctuation below --min-line-punct-ratio (FineWeb: 0.12)",
        "short_line_ratio": "share of short lines above --max-short-line-ratio (FineWeb: 0.67; off in mostly-CJK "
                            "text, as in FineWeb-2)",
        "char_dup_ratio": "characters in repeated lines above --max-char-dup-ratio of all (FineWeb: 0.01), "
                          "--max-char-dup-ratio-cjk in mostly-CJK text (FineWeb-2: 0.1)",
        "list_ratio": "newlines per word above --max-list-ratio (FineWeb: 0.3)",
    }

    # Gopher quality (Rae et al. 2021, A.1.1; datatrove GopherQualityFilter). 0 = rule off.
    min_words: int = opt(50, "Minimum words (each CJK character is a word). Gopher: 50.")
    max_words: int = opt(100_000, "Maximum words. Gopher: 100,000.")
    min_mean_word_length: float = opt(3.0, "Minimum mean length of the non-CJK words (skipped when most "
                                           "words are CJK). Gopher: 3.")
    max_mean_word_length: float = opt(10.0, "Maximum mean length of the non-CJK words. Gopher: 10.")
    max_hash_ratio: float = opt(0.1, "Maximum '#' per word. Gopher: 0.1.")
    max_ellipsis_ratio: float = opt(0.1, "Maximum ellipses per word. Gopher: 0.1.")
    max_bullet_lines: float = opt(0.9, "Maximum share of lines starting with a bullet. Gopher: 0.9.")
    max_ellipsis_lines: float = opt(0.3, "Maximum share of lines ending in an ellipsis. Gopher: 0.3.")
    min_alpha_words: float = opt(0.8, "Minimum share of words containing a letter. Gopher: 0.8.")
    min_stop_words: int = opt(2, "Minimum distinct stop words (English Gopher list, Chinese and "
                                 "Japanese function characters). Gopher: 2.")
    # C4 document rules (Raffel et al. 2020; datatrove C4QualityFilter, also used by FineWeb).
    curly_bracket: bool = opt(True, "Drop documents containing '{' (C4, FineWeb).")
    min_sentences: int = opt(5, "Minimum sentences (。！？ and .!? end a sentence, as do line breaks). C4: 5.")
    min_sentences_cjk: int = opt(3, "The same for mostly-CJK text, whose sentences are longer: one Chinese "
                                    "sentence ending in 。 often holds what English splits into two or three.")
    max_pinyin_notes: float = opt(0.01, "Chinese text: maximum Han characters followed by bracketed pinyin "
                                        "('烟(yan)') per Han character (spam that breaks keyword filters); at "
                                        "least 3 are needed.")
    max_keyword_frac: float = opt(0.16, "Chinese text: maximum share of characters covered by its most "
                                        "frequent 6-character Han phrase plus its repeated clauses (SEO keyword "
                                        "stuffing).")
    # Gopher repetition (Rae et al. 2021 table A1; datatrove GopherRepetitionFilter).
    max_dup_line_frac: float = opt(0.3, "Maximum share of lines that repeat an earlier line. Gopher: 0.3.")
    max_dup_para_frac: float = opt(0.3, "Maximum share of paragraphs that repeat an earlier one. Gopher: 0.3.")
    max_dup_line_char_frac: float = opt(0.2, "Maximum share of characters in repeated lines. Gopher: 0.2.")
    max_dup_para_char_frac: float = opt(0.2, "Maximum share of characters in repeated paragraphs. Gopher: 0.2.")
    top_ngram_fracs: str = opt("2:0.20,3:0.18,4:0.16", "N:FRACTION limits on the characters covered by the "
                                                       "most frequent n-gram ('' = off). Gopher.", metavar="N:FRAC,...")
    dup_ngram_fracs: str = opt("5:0.15,6:0.14,7:0.13,8:0.12,9:0.11,10:0.10",
                               "N:FRACTION limits on the characters in repeated n-grams ('' = off). Gopher.", metavar="N:FRAC,...")
    top_ngram_fracs_cjk: str = opt("2:0.256,3:0.201,4:0.171", "The same limits for Chinese (mostly-CJK text, "
                                                               "Chinese by meta.lang or script): FineWeb-2's "
                                                               "Mandarin values (configs/cmn_Hani.yml).", metavar="N:FRAC,...")
    dup_ngram_fracs_cjk: str = opt("5:0.198,6:0.182,7:0.167,8:0.154,9:0.14,10:0.127",
                                   "The same limits for Chinese: FineWeb-2's Mandarin values "
                                   "(configs/cmn_Hani.yml).", metavar="N:FRAC,...")
    # FineWeb (Penedo et al. 2024; datatrove FineWebQualityFilter).
    min_line_punct_ratio: float = opt(0.12, "Minimum share of lines ending in terminal punctuation. FineWeb: 0.12.")
    max_short_line_ratio: float = opt(0.67, "Maximum share of short lines. FineWeb: 0.67.")
    short_line_chars: int = opt(30, "A line this long or shorter is short. FineWeb: 30.")
    short_line_chars_cjk: int = opt(10, "The same for a line that is mostly CJK (30 Latin characters carry "
                                        "about what 10 Chinese ones do).")
    max_short_line_ratio_cjk: float = opt(0.0, "The same for mostly-CJK text; 0 = off, as in FineWeb-2, which "
                                               "turned the rule off for every language it tuned, Mandarin "
                                               "included (a block of short fields or names above long "
                                               "paragraphs is not a menu).")
    max_char_dup_ratio: float = opt(0.01, "Maximum characters in repeated lines over all characters. "
                                          "FineWeb: 0.01.")
    max_char_dup_ratio_cjk: float = opt(0.1, "The same for mostly-CJK text. FineWeb-2: 0.1 (raised from "
                                             "FineWeb's 0.01 for every language it tuned, Mandarin included).")
    max_list_ratio: float = opt(0.3, "Maximum newlines per word. FineWeb: 0.3.")
    cjk_ngram_scale: float = opt(1.7, "In mostly-CJK text the repetition n-grams are character n-grams of "
                                      "round(N x this) characters, so that they span about N words "
                                      "(1.72 = mean word length of the segmented People's Daily 1998 "
                                      "corpus); 1 = plain N-character n-grams.")

    def __post_init__(self) -> None:
        for f in ("min_words", "max_words", "min_stop_words", "min_sentences", "min_sentences_cjk",
                  "short_line_chars", "short_line_chars_cjk"):
            if getattr(self, f) < 0:
                raise ValueError(f"--{f.replace('_', '-')} must be >= 0")
        for f in ("min_mean_word_length", "max_mean_word_length", "max_hash_ratio", "max_ellipsis_ratio",
                  "max_list_ratio"):
            if getattr(self, f) < 0:
                raise ValueError(f"--{f.replace('_', '-')} must be >= 0")
        for f in ("max_bullet_lines", "max_ellipsis_lines", "min_alpha_words", "max_dup_line_frac",
                  "max_pinyin_notes", "max_keyword_frac",
                  "max_dup_para_frac", "max_dup_line_char_frac", "max_dup_para_char_frac",
                  "min_line_punct_ratio", "max_short_line_ratio", "max_char_dup_ratio",
                  "max_short_line_ratio_cjk", "max_char_dup_ratio_cjk"):
            if not 0.0 <= getattr(self, f) <= 1.0:
                raise ValueError(f"--{f.replace('_', '-')} must be between 0 and 1")
        if self.cjk_ngram_scale < 1:
            raise ValueError("--cjk-ngram-scale must be >= 1")
        if self.max_words and self.min_words > self.max_words:
            raise ValueError("--min-words must not exceed --max-words")
        if (self.min_mean_word_length and self.max_mean_word_length
                and self.min_mean_word_length > self.max_mean_word_length):
            raise ValueError("--min-mean-word-length must not exceed --max-mean-word-length")
        self._top = _parse_ngram_spec(self.top_ngram_fracs, "--top-ngram-fracs")
        self._dup = _parse_ngram_spec(self.dup_ngram_fracs, "--dup-ngram-fracs")
        self._top_cjk = _parse_ngram_spec(self.top_ngram_fracs_cjk, "--top-ngram-fracs-cjk")
        self._dup_cjk = _parse_ngram_spec(self.dup_ngram_fracs_cjk, "--dup-ngram-fracs-cjk")

    def process(self, record: dict) -> dict | Rejection:
        text = self.get_text(record)
        m: dict = {}
        set_meta(record, "quality", m)
        meta = record.get("meta")
        rej = self._check(text, m, meta.get("lang") if isinstance(meta, dict) else None)
        return record if rej is None else rej

    # ------------------------------------------------------------------ rules
    def _check(self, text: str, m: dict, meta_lang: object = None) -> Rejection | None:  # noqa: C901 - a list of rules
        # counted first (a huge text without listing its words), listed once within bounds
        n = count_words(text)
        m["words"] = n
        if self.min_words and n < self.min_words:
            return Rejection("too_few_words", f"{n} < {self.min_words}")
        if self.max_words and n > self.max_words:
            return Rejection("too_many_words", f"{n} > {self.max_words}")
        ws = words(text)
        if n == 0:  # only reachable with --min-words 0: nothing below is defined
            return None

        # Mean word length over the non-CJK words (a CJK "word" is one character by construction).
        n_cjk = sum(map(len, CJK_RUN_RE.findall(text)))
        total_len = sum(map(len, ws))
        n_spaced = n - n_cjk
        if n_spaced * 2 >= n and n_spaced > 0:
            mwl = (total_len - n_cjk) / n_spaced
            m["mean_word_length"] = _r(mwl)
            if self.min_mean_word_length and mwl < self.min_mean_word_length:
                return Rejection("word_length_low", f"{mwl:.2f} < {self.min_mean_word_length}")
            if self.max_mean_word_length and mwl > self.max_mean_word_length:
                return Rejection("word_length_high", f"{mwl:.2f} > {self.max_mean_word_length}")
        else:
            m["mean_word_length"] = None  # mostly CJK: rule skipped
        m["cjk_words"] = _r(n_cjk / n)

        hr = text.count("#") / n
        m["hash_ratio"] = _r(hr)
        if self.max_hash_ratio and hr > self.max_hash_ratio:
            return Rejection("too_many_hashes", f"{hr:.3f} > {self.max_hash_ratio}")
        er = count_ellipses(text) / n
        m["ellipsis_ratio"] = _r(er)
        if self.max_ellipsis_ratio and er > self.max_ellipsis_ratio:
            return Rejection("too_many_ellipses", f"{er:.3f} > {self.max_ellipsis_ratio}")

        lines = [s for s in (ln.strip() for ln in text.split("\n")) if s]
        n_lines = len(lines) or 1
        bl = sum(1 for s in lines if s.startswith(BULLETS)) / n_lines
        m["bullet_lines"] = _r(bl)
        if self.max_bullet_lines and bl > self.max_bullet_lines:
            return Rejection("too_many_bullet_lines", f"{bl:.2f} > {self.max_bullet_lines}")
        el = sum(1 for s in lines if ends_with_ellipsis(s)) / n_lines
        m["ellipsis_lines"] = _r(el)
        if self.max_ellipsis_lines and el > self.max_ellipsis_lines:
            return Rejection("too_many_ellipsis_lines", f"{el:.2f} > {self.max_ellipsis_lines}")

        # Gopher counts whitespace-separated tokens; corpuskit's words leave punctuation out, so
        # tokens made only of punctuation/symbols ("—", "***", "=>") are added back as non-alpha
        # words here. (Chinese punctuation is attached to its text, so this changes nothing there.)
        # Most words are all letters (str.isalpha runs in C); only the rest need the regex.
        no_alpha = sum(1 for w in filterfalse(str.isalpha, ws) if not _HAS_ALPHA.search(w))
        n_sym = len(_SYMBOL_TOKEN.findall(text))
        aw = 1 - (no_alpha + n_sym) / (n + n_sym)
        m["alpha_words"] = _r(aw)
        if self.min_alpha_words and aw < self.min_alpha_words:
            return Rejection("too_few_alpha_words", f"{aw:.2f} < {self.min_alpha_words}")

        lang = stop_word_lang(text, meta_lang)
        if self.min_stop_words:
            if lang is None:
                m["stop_words"] = None  # no list for this language: rule skipped
            else:
                wset = set(ws)
                found = sum(1 for s in stop_words(lang)
                            if s in wset or s.capitalize() in wset or s.upper() in wset)
                m["stop_words"] = found
                if found < self.min_stop_words:
                    return Rejection("too_few_stop_words", f"{found} < {self.min_stop_words} ({lang})")

        if self.curly_bracket and "{" in text:
            return Rejection("curly_bracket", "contains '{'")
        cjk = n_cjk * 2 >= n
        min_sent = self.min_sentences_cjk if cjk else self.min_sentences
        if min_sent:
            ns = count_sentences(text, stop_at=min_sent)  # counted up to the limit
            m["sentences"] = ns
            if ns < min_sent:
                return Rejection("too_few_sentences", f"{ns} < {min_sent}")
        if self.max_pinyin_notes and cjk and lang == "zh":
            notes = len(_PINYIN_NOTE.findall(text)) if ("(" in text or "\uff08" in text) else 0
            pr = notes / n_cjk
            m["pinyin_notes"] = _r(pr)
            if notes >= 3 and pr > self.max_pinyin_notes:
                return Rejection("pinyin_injection", f"{notes} notes, {pr:.3f} per Han character > {self.max_pinyin_notes}")

        # Gopher repetition: paragraphs, lines, then n-grams. Denominator: len(text), as in Gopher.
        tlen = len(text) or 1
        paras = paragraphs(text)
        if paras:
            d, dc = find_duplicates(paras, repeated_prompts(paras))
            f1, f2 = d / len(paras), dc / tlen
            m["dup_para_frac"], m["dup_para_char_frac"] = _r(f1), _r(f2)
            if self.max_dup_para_frac and f1 > self.max_dup_para_frac:
                return Rejection("dup_para_frac", f"{f1:.2f} > {self.max_dup_para_frac}")
            if self.max_dup_para_char_frac and f2 > self.max_dup_para_char_frac:
                return Rejection("dup_para_char_frac", f"{f2:.2f} > {self.max_dup_para_char_frac}")
        prompts = repeated_prompts(lines)
        line_dup, line_dup_chars = find_duplicates(lines, prompts)
        # The n-gram and keyword measures run over the text without the repeats of a prompt line.
        rtext, rws, rlen = text, ws, tlen
        if prompts:
            rtext = without_repeats(text, prompts)
            rws, rlen = words(rtext), len(rtext) or 1
        if lines:
            f1, f2 = line_dup / len(lines), line_dup_chars / tlen
            m["dup_line_frac"], m["dup_line_char_frac"] = _r(f1), _r(f2)
            if self.max_dup_line_frac and f1 > self.max_dup_line_frac:
                return Rejection("dup_line_frac", f"{f1:.2f} > {self.max_dup_line_frac}")
            if self.max_dup_line_char_frac and f2 > self.max_dup_line_char_frac:
                return Rejection("dup_line_char_frac", f"{f2:.2f} > {self.max_dup_line_char_frac}")

        # Chinese: mostly CJK and Chinese by meta.lang or by its script (Japanese, also mostly CJK,
        # keeps Gopher's limits and has no keyword rule: neither was tuned on Japanese text).
        chinese = cjk and lang == "zh"
        top_spec, dup_spec = (self._top_cjk, self._dup_cjk) if chinese else (self._top, self._dup)
        if top_spec or dup_spec:
            stats = NgramStats(rws, spaced=not cjk)
            scale = self.cjk_ngram_scale if cjk else 1.0
            if cjk:
                m["ngram_scale"] = scale
            top: dict[str, float] = {}
            dup: dict[str, float] = {}
            m["top_ngram"] = top
            # One chain over increasing n (top n-grams 2..4, then duplicated 5..10), each step
            # grouping only the positions that repeated at the previous n.
            for kind, k, lim in sorted([("top", k, lim) for k, lim in top_spec]
                                       + [("dup", k, lim) for k, lim in dup_spec],
                                       key=lambda t: (t[1], t[0] == "dup")):
                size = max(1, round(k * scale))
                count, first = stats.advance(size)
                if kind == "top":
                    f = stats.top_chars(size, count, first) / rlen
                    top[str(k)] = _r(f)
                    if f > lim:
                        return Rejection("top_ngram", f"{k}-gram {f:.2f} > {lim}")
                else:
                    m["dup_ngram"] = dup
                    f = stats.dup_chars() / rlen
                    dup[str(k)] = _r(f)
                    if f > lim:
                        return Rejection("dup_ngram", f"{k}-gram {f:.2f} > {lim}")

        if chinese and self.max_keyword_frac:
            kf = keyword_frac(rtext)
            m["keyword_frac"] = _r(kf)
            if kf > self.max_keyword_frac:
                return Rejection("keyword_stuffing", f"{kf:.2f} > {self.max_keyword_frac}")

        # FineWeb line rules.
        if lines:
            lp = sum(1 for s in lines if self._ends_sentence(s)) / len(lines)
            m["line_punct_ratio"] = _r(lp)
            if self.min_line_punct_ratio and lp < self.min_line_punct_ratio:
                return Rejection("line_punct_ratio", f"{lp:.2f} < {self.min_line_punct_ratio}")
            # FineWeb-2 (huggingface/fineweb-2, fineweb-2-pipeline.py) runs these two rules on every
            # language it tuned with the short-line rule off and a tenfold duplicate-character limit
            sl = sum(1 for s in lines if self._is_short(s)) / len(lines)
            m["short_line_ratio"] = _r(sl)
            sl_max = self.max_short_line_ratio_cjk if cjk else self.max_short_line_ratio
            if sl_max and sl > sl_max:
                return Rejection("short_line_ratio", f"{sl:.2f} > {sl_max}")
            body = len(text) - text.count("\n")
            cd = line_dup_chars / body if body else 0.0
            m["char_dup_ratio"] = _r(cd)
            cd_max = self.max_char_dup_ratio_cjk if cjk else self.max_char_dup_ratio
            if cd_max and cd > cd_max:
                return Rejection("char_dup_ratio", f"{cd:.3f} > {cd_max}")
        lr = text.count("\n") / n
        m["list_ratio"] = _r(lr)
        if self.max_list_ratio and lr > self.max_list_ratio:
            return Rejection("list_ratio", f"{lr:.2f} > {self.max_list_ratio}")
        return None

    @staticmethod
    def _ends_sentence(line: str) -> bool:
        """FineWeb's "line ends in terminal punctuation"; a mostly-CJK line also counts when a
        sentence ends inside it (。！？): Chinese text is often hard-wrapped at a fixed width, put
        on one line, or has paragraphs ending in a bracketed credit ("。（新华社记者 X 摄）") or
        in nothing at all, while a menu or a link list has no sentence end anywhere."""
        if ends_with_terminal_punct(line):
            return True
        return _INNER_SENTENCE_END.search(line) is not None and len(CJK_RE.findall(line)) * 2 >= len(line)

    def _is_short(self, line: str) -> bool:
        n = len(line)
        if n <= self.short_line_chars_cjk:
            return True
        if n > self.short_line_chars:
            return False
        # Between the two limits: short unless the line is mostly CJK.
        return len(CJK_RE.findall(line)) * 2 < n

    def __getstate__(self) -> dict:
        # Ship only the options; the parsed n-gram specs are rebuilt on the other side.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()
