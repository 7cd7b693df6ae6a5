"""`tokenize-stats`: exact LLM token counts and corpus statistics; records pass through.

The figures live in :class:`CorpusStats`, a mergeable accumulator: every figure it keeps is an
exact count (sums, a full per-document length distribution, full token/word/source/reason
counters), so ``a.merge(b)`` over two shards equals the statistics of both shards read as one
stream, whatever the split. Percentiles are exact (nearest rank); histograms are drawn from the
exact length distribution on fixed 1-2-5 bins.

Memory: per-document lengths are counted exactly in a 65,536-slot array per figure plus a dict
for the rarer longer documents; token counts in one array of the vocabulary size; words in a
full Counter (one entry per distinct word, about 100 bytes each: a few hundred MB for a
web-scale English vocabulary of a few million words).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from corpuskit.core.stage import Rejected, StreamStage, Table, opt, set_meta
from corpuskit.stages.tokenize_stats.corpus_stats import (  # noqa: F401 - re-exported
    CorpusStats,
    LengthDist,
    bins_125,
    script_tag,
    stats_tables,
)
from corpuskit.tokens.tokenizers import get_tokenizer


# ------------------------------------------------------------------ the stage
@dataclass
class TokenizeStats(StreamStage):
    """Count tokens and describe the corpus; records pass through unchanged (or with
    meta.tokens under --annotate)."""

    name: ClassVar[str] = "tokenize-stats"
    summary: ClassVar[str] = ("Exact LLM token counts (cl100k_base, o200k_base, a tokenizer.json, "
                              "words, chars) and corpus statistics; records pass through.")
    reasons: ClassVar[dict[str, str]] = {}  # never drops a record

    tokenizer: str = opt("cl100k_base", "cl100k_base, o200k_base, words, chars, or the path of a "
                         "Hugging Face tokenizer.json. Special tokens are never added.", metavar="NAME|FILE")
    annotate: bool = opt(False, "Write the document's token count to meta.tokens.")
    report: str = opt("", "Directory to write stats.json and report.html (self-contained) into "
                      "when the stream ends.", metavar="DIR")
    top_k: int = opt(50, "How many top tokens, words and sources to keep in stats.json.")
    threads: int = opt(0, "Kept for compatibility: cl100k_base/o200k_base count on one thread through "
                       "the piece cache (beside the statistics thread; run workers for more cores); "
                       "a tokenizer.json uses the tokenizers package's own pool.")
    word_vocab: bool = opt(True, "Keep the word vocabulary (top words, word types, word TTR); "
                           "--no-word-vocab saves its time and memory (words are still counted).")
    batch_chars: int = opt(1 << 22, "Characters per tokenizer batch (memory vs. thread use).", cli=False)

    def __post_init__(self) -> None:
        if self.top_k < 0:
            raise ValueError(f"--top-k must be >= 0 (got {self.top_k})")
        if self.threads < 0:
            raise ValueError(f"--threads must be >= 0 (got {self.threads})")
        if self.batch_chars < 1:
            raise ValueError("batch_chars must be >= 1")
        if self.report == "-":
            raise ValueError("--report -: give a directory (it gets stats.json and report.html)")
        if self.report and os.path.exists(self.report) and not os.path.isdir(self.report):
            raise ValueError(f"--report {self.report}: exists and is not a directory")
        self._tok = get_tokenizer(self.tokenizer, self.threads)  # fails early on a bad name
        self.stats = CorpusStats(self._tok.name, self._tok.n_vocab)

    def __getstate__(self) -> dict:
        st = dict(self.__dict__)
        st.pop("_tok", None)
        st.pop("_result", None)
        st.pop("_result_key", None)
        return st

    def __setstate__(self, st: dict) -> None:
        self.__dict__.update(st)
        self._tok = get_tokenizer(self.tokenizer, self.threads)

    # Tokenising a batch runs on the tokenizer's threads (the Rust cores release the GIL) while
    # this thread does the Python-side statistics of the batch before it.
    def run(self, records: Iterable[dict]) -> Iterator[dict | Rejected]:
        pending: tuple[list[dict], list[str], Future] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="corpuskit-tokbatch") as ex:
            for recs, texts in self._batches(records):
                fut = ex.submit(self._tokenize, texts)
                if pending is not None:
                    yield from self._finish(*pending)
                pending = (recs, texts, fut)
            if pending is not None:
                yield from self._finish(*pending)

    def _batches(self, records: Iterable[dict]) -> Iterator[tuple[list[dict], list[str]]]:
        recs: list[dict] = []
        texts: list[str] = []
        size = 0
        for rec in records:
            t = self.get_text(rec)
            recs.append(rec)
            texts.append(t)
            size += len(t) + 64
            if size >= self.batch_chars or len(recs) >= 4096:
                yield recs, texts
                recs, texts, size = [], [], 0
        if recs:
            yield recs, texts

    def _tokenize(self, texts: list[str]) -> tuple[Any, Any, list[int]]:
        """(tokens per document, token-id histogram or None, approximate documents); without a
        histogram the second item is the token sequences themselves."""
        count_docs = getattr(self._tok, "count_docs", None)
        if count_docs is not None:  # cl100k/o200k: counts straight from the piece cache
            return count_docs(texts)
        seqs, approx = self._tok.encode_docs(texts)
        return [len(s) for s in seqs], seqs, approx

    def _finish(self, recs: list[dict], texts: list[str], fut: Future) -> Iterator[dict]:
        ntok, hist, approx = fut.result()
        if isinstance(hist, np.ndarray):
            self.stats.add_batch(recs, texts, None, approx=len(approx), word_vocab=self.word_vocab,
                                 ntok=ntok, id_counts=hist)
        else:
            self.stats.add_batch(recs, texts, hist, approx=len(approx), word_vocab=self.word_vocab)
        if self.annotate:
            approx_set = set(approx)
            for i, (rec, n) in enumerate(zip(recs, ntok, strict=True)):
                set_meta(rec, "tokens", int(n))
                if i in approx_set:
                    set_meta(rec, "tokens_approximate", True)
        yield from recs

    def result(self) -> dict:
        # the runner, the report and the tables all ask; fold the counters once per state
        key = (self.stats.docs, id(self.stats), self.stats.merges)
        if getattr(self, "_result_key", None) != key:
            self._result = self.stats.result(self._tok.label, self.top_k)
            self._result_key = key
        return self._result

    def tables(self) -> list[Table]:
        return stats_tables(self.result())

    def merge(self, other: TokenizeStats) -> TokenizeStats:
        """Fold another shard's statistics into this stage's (for parallel runs)."""
        self.stats.merge(other.stats)
        return self
