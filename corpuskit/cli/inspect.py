"""Inspection commands: `corpuskit show CLEAN_DIR` prints what a pipeline run kept and
rejected, one short line per record (used by `make demo`)."""
from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import typer

from corpuskit.io.jsonl import read_records

INSPECT_COMMANDS = ("show",)


def _short(text: str, width: int = 70) -> str:
    """Cut to `width` terminal columns (CJK characters take two)."""
    t = " ".join(text.split())
    cols = 0
    for i, ch in enumerate(t):
        cols += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if cols > width - 1:
            return t[:i] + "…"
    return t


def show(clean: Path) -> None:
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


def add_inspect_commands(app: typer.Typer) -> None:
    @app.command("show", help="Print what a pipeline run kept, rejected and quarantined: one short "
                 "line per record.")
    def show_command(clean: str = typer.Argument(..., metavar="CLEAN", help="A pipeline's output folder.")) -> None:
        folder = Path(clean)
        if not (folder / "data").is_dir():
            sys.stderr.write(f"corpuskit show: error: {clean}: not a pipeline output folder (no data/)\n")
            raise typer.Exit(2)
        show(folder)
