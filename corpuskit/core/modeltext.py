"""Text as the document-level models see it: one line of whitespace-separated tokens for a
fastText classifier (filter-model, train-quality), sentences of tokens for a KenLM model
(filter-perplexity). One module, so a classifier is scored on text prepared exactly as it was
trained on.

Chinese (and Japanese, Korean) has no spaces between words, and a whitespace tokenizer would
make a whole clause one token. Each CJK character (and CJK or full-width punctuation mark) is
made a token of its own: no segmenter (jieba and the like: a dependency, a dictionary, and
answers that change with its version), and the same tokens whatever the text's topic.
train-quality trains with fastText's word bigrams (`word_ngrams = 2`), so the model also sees
every pair of neighbouring characters: character bigrams, which is what most Chinese words are.
"""
from __future__ import annotations

import re

from corpuskit.core.text import CJK_RANGES, cut_pieces

CJK_MODES = ("chars", "none")
# a document longer than this many characters is prepared a piece at a time (cut_pieces)
PIECE_CHARS = 1 << 16

# a run of CJK characters, CJK symbols / punctuation marks (the kana blocks' ・ ゠ and sound
# marks too) and full-width forms: each one a token
_CJK_RUN_RE = re.compile(f"[{CJK_RANGES}\u3000-\u303f\u3040-\u30ff\uff00-\uffef]+")


def _spaced(m: re.Match) -> str:
    return " " + " ".join(m.group()) + " "


def split_cjk(text: str) -> str:
    """Spaces around every CJK character and CJK punctuation mark (see the module doc)."""
    if _CJK_RUN_RE.search(text) is None:
        return text
    # a run at a time (" ".join in C): 8x faster than a substitution per character
    return _CJK_RUN_RE.sub(_spaced, text)


def classifier_line(text: str, lowercase: bool = True, cjk: str = "chars", prefix_chars: int = 0) -> str:
    """The document as one line for a fastText classifier: the first `prefix_chars` characters
    (0: all), lowercased (as DCLM's and most fastText quality models are trained), CJK split into
    characters (`cjk="chars"`; "none" leaves it as it is, for a model trained on
    pre-segmented text), and every run of whitespace, newlines included, one space."""
    if prefix_chars and len(text) > prefix_chars:
        text = text[:prefix_chars]
    if len(text) <= PIECE_CHARS:
        return _line(text, lowercase, cjk)
    # a huge document a piece at a time: text.split() would hold a Python string for every
    # token at once (20x the document's size); no token spans two pieces, so joining the
    # pieces' lines gives the same line
    return " ".join(filter(None, (_line(p, lowercase, cjk) for p in cut_pieces(text, PIECE_CHARS, cjk == "chars"))))


def _line(text: str, lowercase: bool, cjk: str) -> str:
    if lowercase:
        text = text.lower()
    if cjk == "chars":
        text = split_cjk(text)
    return " ".join(text.split())


def lm_sentences(text: str, lowercase: bool = True, cjk: str = "chars") -> list[str]:
    """The document as KenLM sentences: one per non-empty line, tokens separated by one space
    (lowercased; CJK split into characters as `classifier_line` does)."""
    if lowercase:
        text = text.lower()
    if cjk == "chars":
        text = split_cjk(text)
    out = []
    for line in text.split("\n"):
        s = " ".join(line.split())
        if s:
            out.append(s)
    return out
