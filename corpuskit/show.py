"""`python -m corpuskit.show CLEAN_DIR`: print what a pipeline run kept and rejected, one short
line per record (used by `make demo`)."""
from __future__ import annotations

import sys
from pathlib import Path

from .jsonl import read_records


def _short(text: str, width: int = 70) -> str:
    """Cut to `width` terminal columns (CJK characters take two)."""
    import unicodedata

    t = " ".join(text.split())
    cols = 0
    for i, ch in enumerate(t):
        cols += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if cols > width - 1:
            return t[:i] + "…"
    return t


def main(argv: list[str]) -> int:
    clean = Path(argv[0] if argv else "demo_out")
    print(f"--- kept ({clean / 'data'}) ---")
    for r in read_records(str(clean / "data")):
        print(f"  {r.get('url', r['id'])[:40]:40}  {_short(r.get('text', ''))}")
    if (clean / "rejected").is_dir() and any((clean / "rejected").iterdir()):
        print(f"--- rejected ({clean / 'rejected'}) ---")
        for r in read_records(str(clean / "rejected")):
            rj = r["meta"]["rejected"]
            print(f"  {rj['stage']}:{rj['reason']} ({rj['detail']})  {r.get('url', r['id'])[:40]}  "
                  f"{_short(r.get('text', ''), 40)}")
    q = clean / "quarantine" / "bad_records.jsonl"
    if q.exists():
        print(f"--- quarantined input lines ({q}) ---")
        for line in q.read_bytes().splitlines():
            print("  " + _short(line.decode("utf-8", "replace"), 100))
    print(f"--- report: {clean / 'report.html'} (open in a browser), {clean / 'report.md'} ---")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
