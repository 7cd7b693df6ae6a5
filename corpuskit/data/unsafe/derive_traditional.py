"""Regenerate the Traditional Chinese rows of annotations.tsv (run by hand, not at run time).

The LDNOOBW Chinese list is mostly Simplified; Traditional Chinese text (Taiwan, Hong Kong)
would slip past it. Each Simplified entry is converted with OpenCC (s2t, s2tw and s2hk
configurations, Apache-2.0) and every new spelling is added with the same category and
strength, marked `derived:opencc` in the fifth column. Single characters keep their "allow"
status. Usage (needs `pip install opencc`):

    python corpuskit/data/unsafe/derive_traditional.py corpuskit/data/unsafe/annotations.tsv
"""
from __future__ import annotations

import sys


def main(path: str) -> None:
    import opencc

    converters = [opencc.OpenCC(c) for c in ("s2t", "s2tw", "s2hk")]
    lines = open(path, encoding="utf-8").read().splitlines()
    base = [ln for ln in lines if ln.startswith("#") or "\tderived:" not in ln]
    rows = [ln.split("\t") for ln in base if not ln.startswith("#")]
    have = {(r[0], r[1]) for r in rows}
    extra = []
    for r in rows:
        if r[0] != "zh":
            continue
        for c in converters:
            t = c.convert(r[1])
            if ("zh", t) not in have:
                have.add(("zh", t))
                extra.append("\t".join(["zh", t, r[2], r[3], "derived:opencc"]))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(base + extra) + "\n")
    print(f"{len(extra)} derived rows", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
