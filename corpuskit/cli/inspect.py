"""Inspection commands: `corpuskit show CLEAN_DIR` prints what a pipeline run kept and
rejected, one short line per record (used by `make demo`); `head`, `count` and `sample` look
inside record files (the work is done by corpuskit.io.look; this module only prints);
`corpuskit tokens show OUTDIR` prints a token-shard folder's manifest and decodes documents back
to text (the reader is the tokenize stage's)."""
from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Optional

import orjson
import typer

from corpuskit.cli.common import command_errors, fail, guarded, render_tables
from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.io import look
from corpuskit.io.jsonl import dumps, read_records
from corpuskit.registry import get_stage_class

INSPECT_COMMANDS = ("show", "tokens", "head", "count", "sample")


def _short(text: str, width: int = 70) -> str:
    """Cut to `width` terminal columns (CJK characters take two)."""
    t = " ".join(text.split())
    cols = 0
    for i, ch in enumerate(t):
        cols += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if cols > width - 1:
            return t[:i] + "…"
    return t


def _label(r: dict) -> str:
    """A record's url, else its id, as text (an id may be any JSON value)."""
    v = r.get("url", r.get("id", ""))
    return (v if isinstance(v, str) else dumps(v).decode().rstrip("\n"))[:40]


def _text(r: dict) -> str:
    t = r.get("text", "")
    return t if isinstance(t, str) else dumps(t).decode().rstrip("\n")


@guarded("show")
def show(clean: Path) -> None:
    with command_errors("show"):  # a damaged file of the folder: one line, not a traceback
        _show(clean)


def _show(clean: Path) -> None:
    print(f"--- kept ({clean / 'data'}) ---")
    for r in read_records(str(clean / "data")):
        print(f"  {_label(r):40}  {_short(_text(r))}")
    if (clean / "rejected").is_dir() and any((clean / "rejected").iterdir()):
        print(f"--- rejected ({clean / 'rejected'}) ---")
        for r in read_records(str(clean / "rejected")):
            meta = r.get("meta")
            rj = meta.get("rejected") if isinstance(meta, dict) else None
            rj = rj if isinstance(rj, dict) else {}
            print(f"  {rj.get('stage', '?')}:{rj.get('reason', '?')} ({rj.get('detail', '')})  {_label(r)}  "
                  f"{_short(_text(r), 40)}")
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

    files_arg = typer.Argument(None, metavar="FILE...", help="Record files, folders, quoted globs or "
                               "URLs (JSONL, .gz, .zst, Parquet, Arrow); nothing or '-' reads stdin.",
                               show_default=False)

    @app.command("head", help="Print the first records, pretty-printed, long strings cut.")
    def head_command(files: Optional[list[str]] = files_arg,
                     n: int = typer.Option(5, "-n", "--records", min=0, help="How many records."),
                     width: int = typer.Option(300, "--width", min=0, help="Cut strings longer than "
                                               "this many characters (0: never)."),
                     jsonl: bool = typer.Option(False, "--jsonl", help="One compact JSON line per record, "
                                                "nothing cut (to pipe).")) -> None:
        try:
            for rec in look.head(list(files or []), n):
                if jsonl:
                    sys.stdout.buffer.write(dumps(rec))
                else:
                    sys.stdout.buffer.write(orjson.dumps(look.cut_text(rec, width), default=str,
                                                         option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
            sys.stdout.flush()
        except CorpusKitError as e:
            raise fail("head", str(e), e.exit_code) from None

    @app.command("count", help="Count the records of each file: records, bytes read, bad lines per "
                 "reason, and how many records hold each key.")
    def count_command(files: Optional[list[str]] = files_arg,
                      as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
        try:
            counts = look.count(list(files or []))
        except CorpusKitError as e:
            raise fail("count", str(e), e.exit_code) from None
        if as_json:
            sys.stdout.buffer.write(orjson.dumps([c.as_dict() for c in counts],
                                                 option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
            return
        _print_counts(counts)

    @app.command("sample", help="Print N records drawn at random (the same seed, the same sample), "
                 "as JSONL in input order.")
    def sample_command(files: Optional[list[str]] = files_arg,
                       n: int = typer.Option(10, "-n", "--records", min=0, help="How many records."),
                       seed: int = typer.Option(0, "--seed", help="Random seed.")) -> None:
        try:
            recs = look.sample(list(files or []), n, seed)
        except CorpusKitError as e:
            raise fail("sample", str(e), e.exit_code) from None
        for rec in recs:
            sys.stdout.buffer.write(dumps(rec))
        sys.stdout.flush()

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
        render_tables(tables, quiet, verbose=True)  # the listing is the command's output
        for n, ntok, text in docs:
            sys.stdout.write(f"--- document {n}: {ntok:,} tokens ---\n{text}\n")
        if bad:
            sys.stderr.write(f"corpuskit tokens show: error: {folder}: sha256 differs from the "
                             f"manifest's: {', '.join(bad)}\n")
            raise typer.Exit(1)


def _print_counts(counts: list[look.FileCount]) -> None:
    """A table on stdout: one row per file, then the key presence of all of them."""
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False, soft_wrap=False)
    t = Table(show_edge=False, pad_edge=False)
    for col in ("file", "records", "bytes", "bad lines"):
        t.add_column(col, justify="left" if col == "file" else "right")
    for c in counts:
        bad = ", ".join(f"{k} {v:,}" for k, v in sorted(c.bad.items())) or "0"
        t.add_row(c.name, f"{c.records:,}", f"{c.bytes:,}", bad)
    con.print(t)
    total = counts[-1]
    if total.keys:
        k = Table(title="records holding each key", title_justify="left", show_edge=False, pad_edge=False)
        for col in ("key", "records", "%"):
            k.add_column(col, justify="left" if col == "key" else "right")
        for key, v in total.as_dict()["keys"].items():
            k.add_row(key, f"{v:,}", f"{100 * v / max(total.records, 1):.1f}")
        con.print(k)
