"""Inspection commands: `corpuskit show CLEAN_DIR` prints what a pipeline run kept and
rejected, one short line per record (used by `make demo`); `corpuskit tokens show OUTDIR`
prints a token-shard folder's manifest and decodes documents back to text (the reader is the
tokenize stage's)."""
from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Optional

import typer

from corpuskit.cli.common import render_tables
from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.io.jsonl import read_records
from corpuskit.registry import get_stage_class

INSPECT_COMMANDS = ("show", "tokens")


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

    tokens = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Inspect token shards written by `corpuskit tokenize`.")
    app.add_typer(tokens, name="tokens")

    @tokens.command("show", help="Print a token folder's shards, sources and rejections (from its "
                    "manifest) and, with --doc N, decode document N back to text.")
    def tokens_show(folder: str = typer.Argument(..., metavar="OUTDIR", help="A `corpuskit tokenize` "
                                                 "output folder."),
                    doc: Optional[list[int]] = typer.Option(None, "--doc", help="Document number "
                                                            "(from 0, across the shards) to decode; "
                                                            "repeatable."),
                    verify: bool = typer.Option(False, "--verify", help="Check every shard file "
                                                "against the sha256 in the manifest (exit 1 on a "
                                                "mismatch)."),
                    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only the documents.")) -> None:
        try:
            tables, docs, bad = get_stage_class("tokenize").describe(folder, list(doc or []), verify)
        except FileNotFoundError as e:
            sys.stderr.write(f"corpuskit tokens show: error: {e}\n")
            raise typer.Exit(2) from None
        except UsageError as e:
            sys.stderr.write(f"corpuskit tokens show: error: {e}\n")
            raise typer.Exit(2) from None
        except (CorpusKitError, ValueError) as e:
            sys.stderr.write(f"corpuskit tokens show: error: {folder}: {e}\n")
            raise typer.Exit(1) from None
        render_tables(tables, quiet)
        for n, ntok, text in docs:
            sys.stdout.write(f"--- document {n}: {ntok:,} tokens ---\n{text}\n")
        if bad:
            sys.stderr.write(f"corpuskit tokens show: error: {folder}: sha256 differs from the "
                             f"manifest's: {', '.join(bad)}\n")
            raise typer.Exit(1)
