"""Commands of stages that write a folder rather than a record stream (`tokenize`): the
stage's options come from its dataclass as for every stage; -o is the output folder, and
--workers runs the map side in a process pool (corpuskit.pipeline.tokenize)."""
from __future__ import annotations

import sys
import time
from typing import Any, Optional

import typer

from corpuskit.cli.common import console, fail, render_summary, render_tables
from corpuskit.cli.stages import convert_cli_value, register_command, stage_cli_params
from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.core.stage import Table
from corpuskit.pipeline.tokenize import run_tokenize
from corpuskit.registry import get_stage_class

_COMMON = [
    ("inputs", Optional[list[str]], typer.Argument(None, metavar="INPUT...", help="Input files or folders "
     "of JSONL records (.jsonl, .jsonl.gz, .jsonl.zst; folders read in sorted order); '-' or nothing "
     "reads stdin.", show_default=False)),
    ("cli_output", Optional[str], typer.Option(None, "-o", "--output", metavar="DIR", help="Output folder (created; "
     "a previous corpuskit result there is replaced when the run succeeds; a killed run started "
     "again with the same command resumes).")),
    ("cli_workers", int, typer.Option(0, "--workers", "-j", metavar="N", help="Worker processes (default: one per "
     "core). The output does not depend on it.")),
    ("cli_rejected", Optional[str], typer.Option(None, "--rejected", metavar="FILE", help="Write dropped records "
     "here, each with meta.rejected = {stage, reason, detail}.")),
    ("cli_bad_records", Optional[str], typer.Option(None, "--bad-records", metavar="FILE", help="Keep going on bad "
     "input lines (invalid JSON or UTF-8, not an object, missing field): write them here verbatim.")),
    ("cli_stats", Optional[str], typer.Option(None, "--stats", metavar="FILE", help="Write the counters as JSON here.")),
    ("cli_quiet", bool, typer.Option(False, "-q", "--quiet", help="No summary on stderr.")),
]


def add_folder_stage_command(app: typer.Typer, name: str) -> None:
    cls = get_stage_class(name)
    params = stage_cli_params(cls)

    def command(**kw: Any) -> None:
        quiet = kw["cli_quiet"]
        try:
            stage_kw = {p[0]: convert_cli_value(cls, p[0], kw[p[0]]) for p in params}
            if not kw["cli_output"]:
                raise UsageError("give the output folder with -o OUTDIR")
            if kw["cli_workers"] < 0:
                raise UsageError("--workers must be >= 0")
            stage = cls.from_options(**stage_kw)
            bar = _UnitProgress(name, not quiet)
            try:
                stats = run_tokenize(list(kw["inputs"] or []) or None, kw["cli_output"], stage,
                                     workers=kw["cli_workers"], rejected=kw["cli_rejected"],
                                     bad_records=kw["cli_bad_records"], stats_path=kw["cli_stats"],
                                     note=bar.update)
            finally:
                bar.stop()
        except UsageError as e:
            raise fail(name, str(e), 2) from None
        except CorpusKitError as e:
            raise fail(name, str(e), e.exit_code) from None
        t = stats["tokens"]
        render_tables([Table(f"corpuskit {name}: {stats['output']['folder']}",
                             ["documents", "tokens", "shards", "MB written"],
                             [[t["documents"], t["tokens"], stats["output"]["shards"],
                               stats["output"]["bytes"] / 1e6]])], quiet)
        render_summary(name, stats, quiet)

    register_command(app, name, cls, command, _COMMON, params)


class _UnitProgress:
    """Units done, documents, tokens and MB read, on stderr when it is a terminal."""

    def __init__(self, command: str, enabled: bool):
        self._p = None
        self.docs = self.tokens = self.bytes = 0
        if enabled and sys.stderr.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._p = Progress(SpinnerColumn(), TextColumn(f"corpuskit {command}"),
                               TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                               console=console(), transient=True)
            self._task = self._p.add_task("run", info="")
            self._p.start()
            self._t0 = time.perf_counter()

    def update(self, done: int, unit: dict | None) -> None:
        if self._p is None:
            return
        if unit is not None:
            self.docs += unit["documents"]
            self.tokens += unit["tokens"]
            self.bytes += unit["read"]["bytes"]
        secs = max(time.perf_counter() - self._t0, 1e-9)
        self._p.update(self._task, info=f"{done:,} units  {self.docs:,} documents  {self.tokens:,} tokens "
                                        f"({self.tokens / secs:,.0f}/s)  {self.bytes / 1e6:,.1f} MB read")

    def stop(self) -> None:
        if self._p is not None:
            self._p.stop()
