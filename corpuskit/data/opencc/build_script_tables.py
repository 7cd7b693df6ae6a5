"""Build the script tables derived from OpenCC's dictionaries (run by hand, not at run time).

Reads the dictionaries inside the `opencc` wheel (OpenCC 1.4.2, Apache-2.0) with the wheel's
own ``opencc_dict`` tool and writes, next to this file:

* ``t2s_chars.tsv``: ``traditional<TAB>simplified`` for every character OpenCC's
  TSCharacters maps (its first choice), Taiwan and Hong Kong variant forms first brought to the
  standard Traditional form (TWVariantsRev, HKVariantsRev). `dedup --fold-chinese` folds text
  with it before hashing.
* ``simplified_only.txt`` / ``traditional_only.txt``: characters that OpenCC converts (keys
  of STCharacters / TSCharacters) and that never appear in a conversion's output in that
  direction (no value of STCharacters, STPhrases, TWVariants, HKVariants, TWPhrases, HKPhrases /
  of TSCharacters, TSPhrases). Text converted by OpenCC holds none of them, so
  `normalize --chinese` converts only the sentences that hold one: converting twice is the same
  as converting once (OpenCC itself is not idempotent: s2t turns 說明了 into 說明瞭).

Usage (needs ``pip install opencc``):

    python corpuskit/data/opencc/build_script_tables.py
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _dump(name: str) -> dict[str, list[str]]:
    import opencc

    clib = Path(opencc.__file__).parent / "clib"
    tool = clib / "bin" / "opencc_dict"
    env = dict(os.environ, LD_LIBRARY_PATH=str(clib / "lib64"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.txt"
        subprocess.run([str(tool), "-i", str(clib / "share" / "opencc" / f"{name}.ocd2"), "-o", str(out),
                        "-f", "ocd2", "-t", "text"], check=True, env=env)
        table = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            k, _, v = line.partition("\t")
            table[k] = v.split(" ")
        return table


def _values(*tables: dict[str, list[str]]) -> set[str]:
    return {c for t in tables for vs in t.values() for v in vs for c in v}


def main() -> None:
    st, stp = _dump("STCharacters"), _dump("STPhrases")
    ts, tsp = _dump("TSCharacters"), _dump("TSPhrases")
    twv, hkv = _dump("TWVariants"), _dump("HKVariants")
    twp, hkp = _dump("TWPhrases"), _dump("HKPhrases")
    twr, hkr = _dump("TWVariantsRev"), _dump("HKVariantsRev")
    header = "# derived from OpenCC 1.4.2 dictionaries (Apache-2.0) by build_script_tables.py\n"

    fold = {}
    for c in sorted({*ts, *twr, *hkr}):
        if len(c) != 1:
            continue
        std = twr.get(c, hkr.get(c, [c]))[0]
        simp = ts.get(std, [std])[0]
        if len(simp) == 1 and simp != c:
            fold[c] = simp
    (HERE / "t2s_chars.tsv").write_text(header + "".join(f"{k}\t{v}\n" for k, v in sorted(fold.items())),
                                        encoding="utf-8")

    s_out = _values(st, stp, twv, hkv, twp, hkp)
    s_only = sorted(c for c in st if len(c) == 1 and c not in s_out)
    t_out = _values(ts, tsp)
    t_only = sorted(c for c in ts if len(c) == 1 and c not in t_out)
    (HERE / "simplified_only.txt").write_text(header + "".join(s_only) + "\n", encoding="utf-8")
    (HERE / "traditional_only.txt").write_text(header + "".join(t_only) + "\n", encoding="utf-8")
    print(f"t2s_chars: {len(fold)}, simplified_only: {len(s_only)}, traditional_only: {len(t_only)}")


if __name__ == "__main__":
    main()
