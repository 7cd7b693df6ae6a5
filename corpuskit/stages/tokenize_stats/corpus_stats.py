"""What tokenize-stats gathers: exact length distributions, the corpus accumulator (tokens,
words, lines, languages, sources, vocabulary, rejected reasons) and the tables for the CLI."""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import chain
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from corpuskit.core import text as _text
from corpuskit.core.stage import Table
from corpuskit.core.text import count_lines, utf8_len

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
LENGTH_FIGURES = ("chars", "words", "lines", "tokens")
_SMALL = 1 << 16
UNKNOWN_LANG = "und"  # BCP 47 "undetermined"

_WORD_CHUNK = 1 << 20  # a longer document's words are listed a core.text.WORD_PIECE at a time


# corpuskit.core.text.words has the ASCII and no-CJK fast paths; the list it returns is only read here
find_words = _text.words


# ------------------------------------------------------------------ exact length distribution
class LengthDist:
    """The exact multiset of non-negative integer lengths: a dense array for values below
    65,536 and a dict above. Merges by addition; percentiles and any histogram come from it."""

    __slots__ = ("small", "large", "n", "total", "max")

    def __init__(self) -> None:
        # allocated on first use, so that a fresh stage pickles small when shipped to workers
        self.small: np.ndarray | None = None
        self.large: dict[int, int] = {}
        self.n = 0
        self.total = 0
        self.max = 0

    def add(self, values: Sequence[int] | np.ndarray) -> None:
        v = np.asarray(values, dtype=np.int64)
        if not v.size:
            return
        self.n += int(v.size)
        self.total += int(v.sum())
        self.max = max(self.max, int(v.max()))
        lo = v[v < _SMALL]
        self._bincount(lo)
        if lo.size == v.size:
            return
        for x in v[v >= _SMALL].tolist():
            self.large[x] = self.large.get(x, 0) + 1

    def _arr(self) -> np.ndarray:
        if self.small is None:
            self.small = np.zeros(_SMALL, dtype=np.int64)
        return self.small

    def _bincount(self, lo: np.ndarray) -> None:
        if lo.size:
            self._arr()[: int(lo.max()) + 1] += np.bincount(lo)

    def merge(self, other: LengthDist) -> None:
        if other.small is not None:
            self._arr()[:] += other.small
        for k, c in other.large.items():
            self.large[k] = self.large.get(k, 0) + c
        self.n += other.n
        self.total += other.total
        self.max = max(self.max, other.max)

    def min(self) -> int:
        if not self.n:
            return 0
        nz = np.flatnonzero(self._arr())
        return int(nz[0]) if nz.size else min(self.large)

    def percentile(self, q: float) -> int:
        """Nearest-rank percentile: the smallest value with at least q% of documents at or
        below it (numpy's method="inverted_cdf")."""
        if not self.n:
            return 0
        rank = max(1, int(np.ceil(q / 100.0 * self.n)))
        cum = np.cumsum(self._arr())
        if cum[-1] >= rank:
            return int(np.searchsorted(cum, rank))
        seen = int(cum[-1])
        for k in sorted(self.large):
            seen += self.large[k]
            if seen >= rank:
                return k
        return self.max  # pragma: no cover - counts always add up to n

    def histogram(self, edges: Sequence[int]) -> list[int]:
        """Counts in [edges[i], edges[i+1]) (the last bin is closed on the right)."""
        out = []
        cum = np.concatenate(([0], np.cumsum(self._arr())))
        large = sorted(self.large.items())
        for i in range(len(edges) - 1):
            a, b = edges[i], edges[i + 1]
            if i == len(edges) - 2:
                b += 1
            c = int(cum[min(b, _SMALL)] - cum[min(a, _SMALL)])
            c += sum(n for k, n in large if a <= k < b)
            out.append(c)
        return out

    def summary(self) -> dict:
        return {
            "n": self.n, "total": self.total, "min": self.min(), "max": self.max,
            "mean": round(self.total / self.n, 3) if self.n else 0.0,
            "percentiles": {f"p{q}": self.percentile(q) for q in PERCENTILES},
        }

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, LengthDist) and self.n == other.n and self.total == other.total
                and self.max == other.max and self.large == other.large
                and bool(np.array_equal(self._arr(), other._arr())))


def bins_125(maximum: int) -> list[int]:
    """Fixed log-spaced edges 0, 1, 2, 5, 10, 20, 50, ... up past `maximum` (same for every
    shard and every run, so histograms line up)."""
    edges = [0, 1]
    k = 1
    while edges[-1] <= maximum:
        for m in (2, 5, 10):
            edges.append(m * k)
        k *= 10
    # trim trailing edges past the first one above maximum
    while len(edges) > 2 and edges[-2] > maximum:
        edges.pop()
    return edges


# ------------------------------------------------------------------ the accumulator
_LETTER_RE = _text.LazyPattern(r"[^\W\d_]")
_LATIN_RE = _text.LazyPattern(r"[A-Za-z\u00c0-\u024f]")


def script_tag(text: str, sample: int = 2000) -> str:
    """BCP 47 tag for an undetermined language in a known script, from a bounded sample:
    und-Hani (Chinese characters), und-Jpan (kana: corpuskit.core.text.kana_is_japanese),
    und-Hang (Hangul), und-Latn, or plain und. The same thresholds as corpuskit.core.text.dominant_script, counted with C-level
    regex scans rather than a per-character loop."""
    s = text[:sample]
    letters = len(_LETTER_RE.findall(s))
    if not letters:
        return UNKNOWN_LANG
    han = len(_text.HAN_RE.findall(s))
    kana = len(_text.KANA_RE.findall(s))
    if _text.kana_is_japanese(kana, han) and kana + han >= 0.3 * letters:
        return "und-Jpan"
    if len(_text.HANGUL_RE.findall(s)) >= 0.3 * letters:
        return "und-Hang"
    if han >= 0.3 * letters:
        return "und-Hani"
    if len(_LATIN_RE.findall(s)) >= 0.5 * letters:
        return "und-Latn"
    return UNKNOWN_LANG


def _lang_of(meta: Any, text: str) -> str:
    lang = meta.get("lang") if isinstance(meta, dict) else None
    if isinstance(lang, dict):  # {"lang": "en", "score": ...} or {"code": ...}
        lang = lang.get("lang") or lang.get("code") or lang.get("label")
    if isinstance(lang, str) and lang and lang != UNKNOWN_LANG:
        return lang
    # no language id upstream: the script still tells Chinese from English token costs
    return script_tag(text)


def _source_of(record: dict, meta: Any) -> str:
    src = meta.get("source") if isinstance(meta, dict) else None
    if isinstance(src, str) and src:
        return src
    url = record.get("url")
    if isinstance(url, str) and url:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if host:
            return host[4:] if host.startswith("www.") else host
    return "(none)"


def _reason_of(meta: Any) -> str | None:
    rej = meta.get("rejected") if isinstance(meta, dict) else None
    if not isinstance(rej, dict):
        return None
    stage, reason = rej.get("stage"), rej.get("reason")
    return f"{stage}:{reason}" if stage else str(reason)


class CorpusStats:
    """Exact, mergeable corpus statistics for one tokenizer."""

    def __init__(self, tokenizer: str, n_vocab: int | None = None) -> None:
        self.tokenizer = tokenizer
        self.n_vocab = n_vocab
        self.docs = 0
        self.empty_docs = 0
        self.approx_docs = 0
        self.bytes = 0
        self.lengths = {f: LengthDist() for f in LENGTH_FIGURES}
        # lang -> [docs, chars, bytes, words, tokens]
        self.by_lang: dict[str, list[int]] = {}
        # token counts: a flat array over the id space when tokens are ids (allocated on first
        # use), else a Counter of the token strings
        self.by_id = bool(n_vocab)
        self.token_ids: np.ndarray | None = None
        self.token_keys: Counter = Counter()  # for tokenizers whose tokens are strings
        self.word_counts: Counter = Counter()
        self.sources: Counter = Counter()
        self.reasons: Counter = Counter()
        self.merges = 0  # bumped by merge(), so cached results can tell they are stale
        self.word_vocab = True  # False once any part was counted without the word vocabulary

    # -- adding
    def add_batch(self, records: Sequence[dict], texts: Sequence[str],
                  tokens: Sequence[Sequence[Hashable]] | None, approx: int = 0,
                  word_vocab: bool = True, ntok: Sequence[int] | np.ndarray | None = None,
                  id_counts: np.ndarray | None = None) -> None:
        """Add documents; `tokens[i]` are the tokens of `texts[i]`, or, for id tokenizers,
        `ntok[i]` is the count of `texts[i]` and `id_counts` the histogram of the batch's ids."""
        n = len(texts)
        self.docs += n
        self.approx_docs += approx
        chars = [len(t) for t in texts]
        if tokens is not None:
            ntok = [len(t) for t in tokens]
        elif ntok is None or id_counts is None or not self.by_id:
            raise ValueError("add_batch needs the tokens, or ntok and id_counts for an id tokenizer")
        else:
            ntok = np.asarray(ntok, np.int64).tolist()
        nbytes = [utf8_len(t) for t in texts]
        nlines = [count_lines(t) for t in texts]
        nwords = []
        wc = self.word_counts if word_vocab else None
        if not word_vocab:
            self.word_vocab = False
        for t in texts:
            if len(t) <= _WORD_CHUNK:
                ws = find_words(t)
                nwords.append(len(ws))
                if wc is not None:
                    wc.update(ws)
            else:  # a huge document: a bounded list of words at a time
                k = 0
                for a, b in _text.text_chunks(t, _text.WORD_PIECE):  # cut where no word runs across
                    ws = find_words(t[a:b])
                    k += len(ws)
                    if wc is not None:
                        wc.update(ws)
                nwords.append(k)
        self.empty_docs += sum(1 for c in chars if c == 0)
        self.bytes += sum(nbytes)
        for f, vals in zip(LENGTH_FIGURES, (chars, nwords, nlines, ntok), strict=True):
            self.lengths[f].add(vals)
        for i, rec in enumerate(records):
            meta = rec.get("meta")
            row = self.by_lang.get(lang := _lang_of(meta, texts[i]))
            if row is None:
                row = self.by_lang[lang] = [0, 0, 0, 0, 0]
            row[0] += 1
            row[1] += chars[i]
            row[2] += nbytes[i]
            row[3] += nwords[i]
            row[4] += ntok[i]
            self.sources[_source_of(rec, meta)] += 1
            reason = _reason_of(meta)
            if reason is not None:
                self.reasons[reason] += 1
        if self.by_id:
            total = sum(ntok)
            if total:
                if tokens is None:
                    bc = np.asarray(id_counts, np.int64)
                elif all(isinstance(x, np.ndarray) for x in tokens):
                    bc = np.bincount(np.concatenate(tokens), minlength=self.n_vocab)
                else:
                    flat = np.fromiter(chain.from_iterable(tokens), dtype=np.int64, count=total)
                    bc = np.bincount(flat, minlength=self.n_vocab)
                if self.token_ids is None:
                    self.token_ids = np.zeros(self.n_vocab or 0, dtype=np.int64)
                if bc.size > self.token_ids.size:  # ids past the declared vocabulary size
                    self.token_ids = np.concatenate(
                        [self.token_ids, np.zeros(bc.size - self.token_ids.size, np.int64)])
                self.token_ids[: bc.size] += bc
        else:
            for seq in tokens:
                self.token_keys.update(seq)

    # -- merging
    def merge(self, other: CorpusStats) -> CorpusStats:
        """Add `other` (a shard's statistics) into self; returns self."""
        if other.tokenizer != self.tokenizer:
            raise ValueError(f"cannot merge statistics of {other.tokenizer} into {self.tokenizer}")
        self.docs += other.docs
        self.empty_docs += other.empty_docs
        self.approx_docs += other.approx_docs
        self.bytes += other.bytes
        for f in LENGTH_FIGURES:
            self.lengths[f].merge(other.lengths[f])
        for lang, row in other.by_lang.items():
            mine = self.by_lang.setdefault(lang, [0, 0, 0, 0, 0])
            for j, v in enumerate(row):
                mine[j] += v
        if other.by_id != self.by_id:
            raise ValueError("cannot merge id counts into key counts")
        if other.token_ids is not None:
            if self.token_ids is None:
                self.token_ids = np.zeros(self.n_vocab or 0, dtype=np.int64)
            if other.token_ids.size > self.token_ids.size:
                self.token_ids = np.concatenate(
                    [self.token_ids, np.zeros(other.token_ids.size - self.token_ids.size, np.int64)])
            self.token_ids[: other.token_ids.size] += other.token_ids
        self.token_keys.update(other.token_keys)
        self.word_counts.update(other.word_counts)
        self.sources.update(other.sources)
        self.reasons.update(other.reasons)
        self.word_vocab = self.word_vocab and other.word_vocab
        self.merges += 1
        return self

    # -- reading
    @property
    def tokens(self) -> int:
        return self.lengths["tokens"].total

    def token_types(self) -> int:
        if self.by_id:
            return 0 if self.token_ids is None else int(np.count_nonzero(self.token_ids))
        return len(self.token_keys)

    def top_tokens(self, k: int) -> list[tuple[Hashable, int]]:
        if self.by_id:
            if self.token_ids is None or not self.token_ids.any():
                return []
            k = min(k, int(np.count_nonzero(self.token_ids)))
            idx = np.argpartition(-self.token_ids, k - 1)[:k] if k < self.token_ids.size else \
                np.arange(self.token_ids.size)
            pairs = [(int(i), int(self.token_ids[i])) for i in idx]
            return sorted(pairs, key=lambda p: (-p[1], p[0]))[:k]
        return sorted(self.token_keys.items(), key=lambda p: (-p[1], str(p[0])))[:k]

    def folded_words(self) -> Counter:
        """Word counts with case folded (the tally keeps the original spellings, so folding at
        the end stays exact under merging)."""
        out: Counter = Counter()
        for w, c in self.word_counts.items():
            out[w.casefold()] += c
        return out

    def result(self, label: Any = None, top_k: int = 50) -> dict:
        """Everything as plain JSON-able data (stats.json)."""
        label = label or str
        words_total = self.lengths["words"].total
        folded = self.folded_words()
        top_words = sorted(folded.items(), key=lambda p: (-p[1], p[0]))[:top_k]
        types = self.token_types()
        langs = []
        for lang, (d, c, b, w, t) in sorted(self.by_lang.items(), key=lambda kv: (-kv[1][4], kv[0])):
            langs.append({
                "lang": lang, "docs": d, "chars": c, "bytes": b, "words": w, "tokens": t,
                "doc_share": _ratio(d, self.docs), "token_share": _ratio(t, self.tokens),
                "tokens_per_char": _ratio(t, c), "chars_per_token": _ratio(c, t),
                "bytes_per_token": _ratio(b, t), "tokens_per_word": _ratio(t, w),
            })
        hist = {}
        for f in LENGTH_FIGURES:
            d = self.lengths[f]
            edges = bins_125(d.max)
            hist[f] = {"edges": edges, "counts": d.histogram(edges)}
        return {
            "tokenizer": self.tokenizer,
            "totals": {
                "docs": self.docs, "empty_docs": self.empty_docs, "chars": self.lengths["chars"].total,
                "bytes": self.bytes, "words": words_total, "lines": self.lengths["lines"].total,
                "tokens": self.tokens, "approx_token_docs": self.approx_docs,
                "tokens_per_char": _ratio(self.tokens, self.lengths["chars"].total),
                "chars_per_token": _ratio(self.lengths["chars"].total, self.tokens),
                "tokens_per_word": _ratio(self.tokens, words_total),
            },
            "lengths": {f: self.lengths[f].summary() for f in LENGTH_FIGURES},
            "histograms": hist,
            "languages": langs,
            "vocabulary": {
                "token_types": types,
                "token_type_token_ratio": _ratio(types, self.tokens, 6),
                "vocab_size": self.n_vocab,
                "vocab_used": _ratio(types, self.n_vocab, 4) if self.n_vocab else None,
                # None when the vocabulary was not kept (--no-word-vocab)
                "word_types": len(folded) if self.word_vocab else None,
                "word_type_token_ratio": _ratio(len(folded), words_total, 6) if self.word_vocab else None,
            },
            "top_tokens": [{"token": label(k), "id": k if isinstance(k, int) else None, "count": c,
                            "share": _ratio(c, self.tokens, 6)} for k, c in self.top_tokens(top_k)],
            "top_words": [{"word": w, "count": c, "share": _ratio(c, words_total, 6)}
                          for w, c in top_words],
            "sources": _shares(self.sources, self.docs, top_k, "source"),
            "source_count": len(self.sources),
            "rejected": {
                "docs": sum(self.reasons.values()),
                "reasons": _shares(self.reasons, sum(self.reasons.values()), None, "reason"),
            },
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CorpusStats):
            return NotImplemented
        def ids(s: CorpusStats) -> np.ndarray:
            return s.token_ids if s.token_ids is not None else np.zeros(s.n_vocab or 0, np.int64)

        same_ids = self.by_id == other.by_id and np.array_equal(ids(self), ids(other))
        return (same_ids and self.tokenizer == other.tokenizer and self.docs == other.docs
                and self.empty_docs == other.empty_docs and self.approx_docs == other.approx_docs
                and self.bytes == other.bytes and self.lengths == other.lengths
                and self.by_lang == other.by_lang and self.token_keys == other.token_keys
                and self.word_counts == other.word_counts and self.sources == other.sources
                and self.reasons == other.reasons and self.word_vocab == other.word_vocab)


def _ratio(a: float, b: float | None, nd: int = 4) -> float:
    return round(a / b, nd) if b else 0.0


def _shares(c: Counter, total: int, k: int | None, key: str) -> list[dict]:
    items = sorted(c.items(), key=lambda p: (-p[1], p[0]))
    if k is not None:
        items = items[:k]
    return [{key: name, "docs": n, "share": _ratio(n, total)} for name, n in items]


# ------------------------------------------------------------------ tables for the CLI
def stats_tables(res: dict, top: int = 10) -> list[Table]:
    t = res["totals"]
    v = res["vocabulary"]
    summary = Table(f"tokenize-stats ({res['tokenizer']})", ["figure", "value"], [
        ["documents", f"{t['docs']:,}"],
        ["tokens", f"{t['tokens']:,}"],
        ["characters", f"{t['chars']:,}"],
        ["UTF-8 bytes", f"{t['bytes']:,}"],
        ["words", f"{t['words']:,}"],
        ["lines", f"{t['lines']:,}"],
        ["chars / token", f"{t['chars_per_token']:.3f}"],
        ["tokens / word", f"{t['tokens_per_word']:.3f}"],
        ["token types used", f"{v['token_types']:,}" + (f" of {v['vocab_size']:,}" if v["vocab_size"] else "")],
        ["word types", f"{v['word_types']:,} (TTR {v['word_type_token_ratio']:.4f})"
         if v["word_types"] is not None else "not kept (--no-word-vocab)"],
        ["empty documents", f"{t['empty_docs']:,}"],
    ] + ([["approximate counts", f"{t['approx_token_docs']:,} docs (huge white-space runs)"]]
         if t["approx_token_docs"] else []))
    lengths = Table("per-document lengths", ["figure", "mean", "p10", "p50", "p90", "p99", "max"], [
        [f, f"{s['mean']:,.1f}", *(f"{s['percentiles'][p]:,}" for p in ("p10", "p50", "p90", "p99")),
         f"{s['max']:,}"] for f, s in res["lengths"].items()
    ])
    out = [summary, lengths]
    if res["languages"]:
        out.append(Table("by language (meta.lang, else script)", ["lang", "docs", "tokens", "token share", "chars/token",
                                                     "tokens/word"], [
            [r["lang"], f"{r['docs']:,}", f"{r['tokens']:,}", f"{r['token_share']:.1%}",
             f"{r['chars_per_token']:.3f}", f"{r['tokens_per_word']:.3f}"] for r in res["languages"][:top]
        ]))
    if res["top_tokens"]:
        out.append(Table("top tokens", ["token", "count", "share"], [
            [repr(r["token"]), f"{r['count']:,}", f"{r['share']:.2%}"] for r in res["top_tokens"][:top]]))
    if res["top_words"]:
        out.append(Table("top words (case-folded)", ["word", "count", "share"], [
            [r["word"], f"{r['count']:,}", f"{r['share']:.2%}"] for r in res["top_words"][:top]]))
    if res["source_count"] > 1 or (res["sources"] and res["sources"][0]["source"] != "(none)"):
        out.append(Table("by source (meta.source or URL host)", ["source", "docs", "share"], [
            [r["source"], f"{r['docs']:,}", f"{r['share']:.1%}"] for r in res["sources"][:top]]))
    if res["rejected"]["docs"]:
        out.append(Table("rejected records by reason (meta.rejected)", ["stage:reason", "docs", "share"], [
            [r["reason"], f"{r['docs']:,}", f"{r['share']:.1%}"] for r in res["rejected"]["reasons"]]))
    return out
