"""Build zh_charfreq.tsv, the character-frequency model of Chinese (run by hand, not at run time).

Source: the word frequencies of jieba's dictionary (``jieba/dict.txt`` in the jieba 0.42.1
wheel on PyPI, MIT licence; about 349,000 words with counts from a Chinese corpus). A
character's count is the sum of the counts of the words it occurs in (times its occurrences
in the word). The Traditional spellings of every word (OpenCC s2t, s2tw and s2hk, Apache-2.0)
are counted the same way, and each character keeps the larger of its Simplified and Traditional
counts, so that Traditional text (Taiwan, Hong Kong) is as plausible as Simplified.

Only CJK ideographs are kept (U+3400-U+9FFF, U+F900-U+FAFF, U+20000 on). Output: one
``char<TAB>count`` a line, most frequent first. Usage (needs ``pip install jieba opencc``):

    python corpuskit/data/charfreq/build_charfreq.py > corpuskit/data/charfreq/zh_charfreq.tsv
"""
from __future__ import annotations

import os
import sys
from collections import Counter


def is_ideograph(c: str) -> bool:
    o = ord(c)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or o >= 0x20000


def main() -> None:
    import jieba
    import opencc

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    words: list[tuple[str, int]] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                words.append((parts[0], int(parts[1])))
    simp: Counter = Counter()
    for w, n in words:
        for c in w:
            if is_ideograph(c):
                simp[c] += n
    trad: Counter = Counter()
    for cfg in ("s2t", "s2tw", "s2hk"):
        conv = opencc.OpenCC(cfg)
        # one conversion call over all words (joined by newlines) instead of 349k calls
        converted = conv.convert("\n".join(w for w, _ in words)).split("\n")
        assert len(converted) == len(words)
        tally: Counter = Counter()
        for t, (_, n) in zip(converted, words):
            for c in t:
                if is_ideograph(c):
                    tally[c] += n
        for c, n in tally.items():
            trad[c] = max(trad[c], n)
    total = Counter()
    for c in set(simp) | set(trad):
        total[c] = max(simp[c], trad[c])
    out = sys.stdout
    out.write(f"# zh_charfreq: {len(total)} CJK ideographs; counts from jieba 0.42.1 dict.txt word "
              "frequencies, Traditional spellings via OpenCC s2t/s2tw/s2hk; see build_charfreq.py\n")
    for c, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0])):
        out.write(f"{c}\t{n}\n")


if __name__ == "__main__":
    main()
