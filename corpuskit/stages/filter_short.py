"""filter-short: drop documents that are too short or too long.

Words are counted the CJK-aware way (corpuskit.core.text.count_words): each Chinese/Japanese
character is one word, other words are runs of letters and digits. Defaults follow Gopher
(MassiveText, Rae et al. 2021): 50 to 100,000 words. Character and line limits are off by
default (0).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from corpuskit.core import text as T
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta


@dataclass
class FilterShort(RecordStage):
    name: ClassVar[str] = "filter-short"
    summary: ClassVar[str] = ("Drop documents with too few/many words (each CJK character counts "
                              "as one word), too few characters or lines, or too many characters.")
    reasons: ClassVar[dict[str, str]] = {
        "too_long": "more characters than --max-chars",
        "too_few_chars": "fewer non-space characters than --min-chars",
        "too_few_words": "fewer words than --min-words (each CJK character is a word)",
        "too_many_words": "more words than --max-words",
        "too_few_lines": "fewer non-empty lines than --min-lines",
    }

    min_words: int = opt(50, "Minimum words; each Chinese/Japanese character counts as one word "
                             "(Gopher: 50).")
    max_words: int = opt(100_000, "Maximum words, 0 for no limit (Gopher: 100,000).")
    min_chars: int = opt(0, "Minimum non-space characters, 0 for no limit.")
    max_chars: int = opt(0, "Maximum characters, 0 for no limit.")
    min_lines: int = opt(0, "Minimum non-empty lines, 0 for no limit.")
    annotate: bool = opt(True, "Record meta.length = {chars, words, lines}.")

    def __post_init__(self) -> None:
        for name in ("min_words", "max_words", "min_chars", "max_chars", "min_lines"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0")
        if self.max_words and self.min_words > self.max_words:
            raise ValueError("--min-words is larger than --max-words")

    def process(self, record: dict) -> dict | Rejection:
        text = self.get_text(record)
        n = len(text)
        if self.max_chars and n > self.max_chars:
            return Rejection("too_long", f"{n} > {self.max_chars} chars")
        chars = T.count_chars(text) if (self.min_chars or self.annotate) else n
        if self.min_chars and chars < self.min_chars:
            return Rejection("too_few_chars", f"{chars} < {self.min_chars}")
        # a text cannot hold more words than characters: skip counting when that settles it
        if self.min_words and n < self.min_words:
            return Rejection("too_few_words", f"{T.count_words(text)} < {self.min_words}")
        words = T.count_words(text)
        if words < self.min_words:
            return Rejection("too_few_words", f"{words} < {self.min_words}")
        if self.max_words and words > self.max_words:
            return Rejection("too_many_words", f"{words} > {self.max_words}")
        nlines = T.count_lines(text) if (self.min_lines or self.annotate) else 0
        if self.min_lines and nlines < self.min_lines:
            return Rejection("too_few_lines", f"{nlines} < {self.min_lines}")
        if self.annotate:
            set_meta(record, "length", {"chars": chars, "words": words, "lines": nlines})
        return record
