"""A character-frequency model of Chinese, for telling real Chinese text from the output of a
wrong codec (shipped in ``data/charfreq/zh_charfreq.tsv``; how it was built, from which data,
is in ``data/charfreq/README.md``).

``ideograph_cost(c)`` is -ln p(c) over the CJK ideographs of the model (about 4.5 for 的/中,
8 to 10 for ordinary characters, 12+ for rare ones, ``UNSEEN`` for a character the model has
never seen). ``cost_profile(s)`` summarises a string: how many ideographs, their mean cost,
and how many characters of other classes it holds.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from corpuskit.core.assets import DATA_DIR

MODEL_PATH = DATA_DIR / "charfreq" / "zh_charfreq.tsv"

_COSTS: dict[str, float] = {}
UNSEEN = 0.0  # set at load: the cost of a character seen 0.5 times


def _load() -> dict[str, float]:
    global UNSEEN
    if not _COSTS:
        counts: dict[str, int] = {}
        with open(MODEL_PATH, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                c, _, n = line.rstrip("\n").partition("\t")
                counts[c] = int(n)
        total = sum(counts.values())
        UNSEEN = math.log(total / 0.5)
        _COSTS.update({c: math.log(total / n) for c, n in counts.items()})
    return _COSTS


def is_ideograph(c: str) -> bool:
    o = ord(c)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F


def ideograph_cost(c: str) -> float:
    costs = _load()
    return costs.get(c, UNSEEN)


# symbols Chinese text uses that GBK and Big5 encode: № ℃ Roman numerals, circled and
# parenthesised numbers, arrows, geometric shapes (● ■ ▲), stars (★ ☆), ※
_CJK_SYMBOLS = frozenset([0x2116, 0x2103, 0x2030, 0x203B, *range(0x2160, 0x2180), *range(0x2190, 0x2200),
                          *range(0x2460, 0x2500), *range(0x25A0, 0x2600), 0x2605, 0x2606])


class Profile(NamedTuple):
    ideographs: int      # CJK ideographs
    mean_cost: float     # their mean -ln p (0.0 when there are none)
    ascii_letters: int
    kana_hangul: int
    cjk_punct: int       # CJK symbols and punctuation, full-width forms, symbols CJK text uses
    other: int           # anything else that is not ASCII (Latin-1 letters, symbols, box drawing ...)
    replacement: int     # U+FFFD


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DROP_ASCII = dict.fromkeys(range(0x80))


def cost_profile(s: str) -> Profile:
    costs = _load()
    unseen = UNSEEN
    # ASCII letters counted at C speed (ASCII text, and the ASCII part of mixed text, is most of
    # what the mojibake checks profile); the loop below sees only the other characters
    ascii_bytes = s.encode("ascii", "ignore")
    ascii_l = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_LETTERS))
    if len(ascii_bytes) == len(s):
        return Profile(0, 0.0, ascii_l, 0, 0, 0, 0)
    n_id = kh = punct = other = repl = 0
    total = 0.0
    for c in s.translate(_DROP_ASCII):
        o = ord(c)
        if 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F:
            n_id += 1
            total += costs.get(c, unseen)
        elif 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7AF:
            kh += 1
        elif (0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E or 0x2010 <= o <= 0x2027
              or o == 0xB7 or o in _CJK_SYMBOLS or 0x3200 <= o <= 0x33FF):
            punct += 1
        elif o == 0xFFFD:
            repl += 1
        else:
            other += 1
    return Profile(n_id, total / n_id if n_id else 0.0, ascii_l, kh, punct, other, repl)
