"""Traditional and Simplified Chinese: conversion (OpenCC) and folding.

* `fold_t2s(text)`: every Traditional character (Taiwan and Hong Kong variant forms included)
  replaced by its Simplified form, one character for one, with the table
  ``data/opencc/t2s_chars.tsv`` (derived from OpenCC's dictionaries; no OpenCC at run time).
  Crude as a conversion, exact as a key: the Traditional and Simplified copies of a text fold
  to the same string, which is what `dedup --fold-chinese` hashes.
* `convert(text, direction)`: OpenCC's phrase-aware conversion (``t2s``: Traditional, Taiwan
  or Hong Kong, to Simplified; ``s2t``: Simplified to Traditional), applied to the lines
  that hold a character only the source script uses (``data/opencc/*_only.txt``). OpenCC's
  output never holds one, so converting twice changes nothing more (OpenCC alone is not
  idempotent: s2t turns 說明了 into 說明瞭). Japanese and Korean are not Chinese: a text
  whose script is kana or Hangul (`core.text.dominant_script`) is left whole, and so is a line
  holding kana or Hangul in any text (a Japanese quote in a Chinese article), so that t2s does
  not turn Japanese 東京 and 日本語 into 东京 and 日本语, nor s2t Japanese 会 into 會.
"""
from __future__ import annotations

from corpuskit.core.assets import DATA_DIR
from corpuskit.core.text import HANGUL_RE, KANA_RE, dominant_script

_DIR = DATA_DIR / "opencc"
DIRECTIONS = ("none", "t2s", "s2t")

# The folding's version: stored with what is built from folded keys (dedup's --index) so that
# an index made with another table is refused rather than silently compared with other keys.
FOLD_VERSION = 2
_FOLD: dict[int, int] = {}
_FOLD_CHARS: set[str] = set()
_ONLY: dict[str, frozenset[str]] = {}
_CONVERTERS: dict[str, object] = {}


def _lines(name: str) -> list[str]:
    with open(_DIR / name, encoding="utf-8") as f:
        return [ln.rstrip("\n") for ln in f if not ln.startswith("#")]


def _fold_table() -> dict[int, int]:
    if not _FOLD:
        table = {}
        for ln in _lines("t2s_chars.tsv"):
            k, _, v = ln.partition("\t")
            table[ord(k)] = ord(v)
        # The table has chains: 麼 -> 么 and 么 -> 幺 (Taiwan's 么 is a form of 幺), 薴 -> 苧 -> 苎.
        # Followed once, Simplified 什么 would fold to 什幺 and Traditional 什麼 to 什么: the two
        # copies would differ. Each character maps to the end of its chain instead, so folding
        # is idempotent and both copies meet (什么 and 什麼 both fold to 什幺: a key, not a text).
        for k in table:
            v, seen = table[k], {k}
            while v in table and table[v] != v and v not in seen:
                seen.add(v)
                v = table[v]
            _FOLD[k] = v
        _FOLD_CHARS.update(map(chr, _FOLD))
    return _FOLD


def fold_t2s(text: str) -> str:
    """`text` with each Traditional character replaced by its Simplified form (one for one)."""
    if text.isascii():  # no Chinese at all: ~0 ns a character
        return text
    table = _fold_table()
    # Most text holds no Traditional character: a set-membership scan that stops at the first
    # one (~15-50 ns a character) is 5-20x cheaper than a search for a character class of
    # thousands of code points (~40-300 ns a character with Python's re).
    if _FOLD_CHARS.isdisjoint(text):
        return text
    if len(text) < _LUT_MIN_CHARS:
        return text.translate(table)
    # str.translate looks every character up in a dict (~300 ns a character on CJK text); a
    # lookup table over all code points indexed by numpy costs ~25 ns a character, most of it
    # the UTF-32 round trip. (Lone surrogates pass through unchanged.)
    return _lut()[_np().frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")].tobytes().decode(
        "utf-32-le", "surrogatepass")


def traditional_chars() -> frozenset[str]:
    """The characters `fold_t2s` changes."""
    _fold_table()
    return frozenset(_FOLD_CHARS)


_LUT_MIN_CHARS = 64
_LUT_CACHE: list = []


def _np():  # type: ignore[no-untyped-def]
    import numpy  # heavy third-party: imported only when a long text needs folding

    return numpy


def _lut():  # type: ignore[no-untyped-def]
    """uint32 array over every code point (4.4 MB): each Traditional character's Simplified
    form, every other code point itself."""
    if not _LUT_CACHE:
        np = _np()
        table = _fold_table()
        lut = np.arange(0x110000, dtype="<u4")
        lut[np.fromiter(table.keys(), dtype="<u4")] = np.fromiter(table.values(), dtype="<u4")
        _LUT_CACHE.append(lut)
    return _LUT_CACHE[0]


def _only(direction: str) -> frozenset[str]:
    """The characters only the source script of `direction` uses (a set: membership scans that
    stop at the first hit are several times cheaper than a regex class of thousands of code
    points, see fold_t2s)."""
    chars = _ONLY.get(direction)
    if chars is None:
        chars = _ONLY[direction] = frozenset("".join(
            _lines("traditional_only.txt" if direction == "t2s" else "simplified_only.txt")))
    return chars


def _converter(direction: str):
    conv = _CONVERTERS.get(direction)
    if conv is None:
        import opencc  # a dependency; imported only when a conversion is asked for

        conv = _CONVERTERS[direction] = opencc.OpenCC(direction)
    return conv


def convert(text: str, direction: str) -> str:
    """OpenCC conversion of the lines of `text` that need it (see the module doc)."""
    if direction == "none":
        return text
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r} (known: {', '.join(DIRECTIONS)})")
    if text.isascii():
        return text
    only = _only(direction)
    if only.isdisjoint(text):
        return text
    jk = KANA_RE.search(text) is not None or HANGUL_RE.search(text) is not None
    if jk and dominant_script(text) in ("kana", "hangul"):
        return text  # Japanese or Korean: its kanji or hanja are not Traditional Chinese
    conv = _converter(direction).convert  # type: ignore[attr-defined]
    lines = text.split("\n")
    disjoint = only.isdisjoint
    todo = [i for i, ln in enumerate(lines) if not disjoint(ln)]
    if jk:
        todo = [i for i in todo if KANA_RE.search(lines[i]) is None and HANGUL_RE.search(lines[i]) is None]
        if not todo:
            return text
    if len(todo) == len(lines):
        return conv(text)
    # one OpenCC call for all the lines to convert (a line break ends every phrase match)
    done = conv("\n".join(lines[i] for i in todo)).split("\n")
    if len(done) != len(todo):  # pragma: no cover - OpenCC keeps line breaks
        done = [conv(lines[i]) for i in todo]
    for i, new in zip(todo, done):
        lines[i] = new
    return "\n".join(lines)
