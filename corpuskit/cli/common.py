"""What every command shares: one-line errors and warnings, the summary and tables on stderr,
the progress line. rich is imported only here and only when something is drawn."""
from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import typer

from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.core.stage import Table


def console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=False)


def fail(command: str, message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"corpuskit {command}: error: {message}\n")
    sys.stderr.flush()
    return typer.Exit(code)


# errors of the storage, not of corpuskit: one line, not a traceback (the outputs are safe:
# atomic ones were not replaced, a pipeline's result stays as it was)
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG}


def disk_error(e: BaseException) -> str | None:
    """The one-line message for a disk error (disk full, quota, read-only, I/O), also one a
    worker process raised; None for any other exception."""
    if isinstance(e, OSError) and e.errno in DISK_ERRNOS:
        where = f"{e.filename}: " if e.filename else ""
        hint = " (free some space, or write elsewhere)" if e.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        return f"{where}{e.strerror or e}{hint}"
    return None


@contextlib.contextmanager
def command_errors(command: str) -> Iterator[None]:
    """A command's expected failures as one line and an exit code: bad usage 2, corpuskit's own
    errors their code, a disk error 1. Anything else is a bug and keeps its traceback."""
    try:
        yield
    except UsageError as e:
        raise fail(command, str(e), 2) from None
    except CorpusKitError as e:
        raise fail(command, str(e), e.exit_code) from None
    except OSError as e:
        msg = disk_error(e)
        if msg is None:
            raise
        raise fail(command, msg, 1) from None


def quiet_broken_pipe() -> NoReturn:
    """`corpuskit ... | head`: the reader went away. End quietly with 0, like a Unix tool
    (stdout goes to /dev/null so that the interpreter's last flush cannot complain)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(0)


def guarded(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a command's body so that the two ways a user stops a command end it cleanly, before
    typer's own handlers see them: a closed stdout (`| head`) exits 0 quietly (typer exits 1,
    which fails a `set -o pipefail` script), Ctrl-C prints one line and exits 130."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kw: Any) -> Any:
            try:
                return fn(*args, **kw)
            except BrokenPipeError:
                quiet_broken_pipe()
            except KeyboardInterrupt:
                interrupted(command)

        return run

    return wrap


def interrupted(command: str) -> NoReturn:
    sys.stderr.write(f"corpuskit {command}: interrupted\n" if command else "corpuskit: interrupted\n")
    sys.stderr.flush()
    sys.exit(130)


def warn(command: str, message: str) -> None:
    sys.stderr.write(f"corpuskit {command}: warning: {message}\n")


def full_summary(verbose: bool) -> bool:
    """The tables on stderr when it is a terminal or with --verbose; else one line per stage."""
    return verbose or sys.stderr.isatty()


def compact_line(command: str, stage: dict, quarantined: int = 0, top: int = 3) -> str:
    """`corpuskit STAGE: in N = kept K + rejected R (reason n, ...) [+ quarantined Q]`"""
    reasons = sorted(stage["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
    line = f"corpuskit {command}: in {stage['in'] + quarantined:,} = kept {stage['kept']:,} + rejected {stage['rejected']:,}"
    if reasons:
        shown = [f"{k} {v:,}" for k, v in reasons[:top]]
        if len(reasons) > top:
            shown.append(f"{len(reasons) - top} more")
        line += f" ({', '.join(shown)})"
    if quarantined:
        line += f" + quarantined {quarantined:,}"
    return line


def render_compact(command: str, stats: dict) -> None:
    c = stats["conservation"]
    stages = stats["stages"]
    if len(stages) == 1 and stages[0]["stage"] == command:
        lines = [compact_line(command, stages[0], c["quarantined"])]
    else:  # the pipeline: a line per stage, then the whole run
        lines = [compact_line(f"{command} {s['stage']}", s) for s in stages]
        lines.append(compact_line(command, {"in": c["in"] - c["quarantined"], "kept": c["kept"],
                                            "rejected": c["rejected"], "reasons": {}}, c["quarantined"]))
    if not c["ok"]:
        lines[-1] += "  (does not add up: a bug)"
    sys.stderr.write("".join(line + "\n" for line in lines))
    sys.stderr.flush()


def render_summary(command: str, stats: dict, quiet: bool, verbose: bool = False) -> None:
    if quiet:
        return
    if not full_summary(verbose):
        render_compact(command, stats)
        return
    from rich.table import Table as RTable

    con = console()
    t = RTable(title=f"corpuskit {command}", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("stage", "in", "kept", "rejected", "reasons", "s"):
        t.add_column(col, justify="right" if col in ("in", "kept", "rejected", "s") else "left")
    for st in stats["stages"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(st["reasons"].items(), key=lambda kv: -kv[1]))
        t.add_row(st["stage"], f"{st['in']:,}", f"{st['kept']:,}", f"{st['rejected']:,}", reasons or "-",
                  f"{st.get('seconds', 0):.1f}")
    con.print(t)
    c = stats["conservation"]
    line = (f"records in {c['in']:,} = kept {c['kept']:,} + rejected {c['rejected']:,}"
            f" + quarantined {c['quarantined']:,}")
    inp = stats.get("input") or {}
    if inp.get("bytes"):
        secs = max(stats.get("seconds", 0.0), 1e-9)
        line += f"   {inp['bytes'] / 1e6:,.1f} MB in {secs:.1f} s ({inp['bytes'] / 1e6 / secs:,.1f} MB/s)"
    con.print(line if c["ok"] else f"[bold red]{line}  (does not add up: a bug)[/]", soft_wrap=True)
    notes = []
    if c["rejected"] and not stats.get("rejected_path"):
        notes.append("rejected records were counted, not kept: add --rejected PATH to keep them")
    if c["quarantined"]:
        notes.append(f"bad input lines quarantined in {stats.get('bad_records_path')}")
    for b in inp.get("bad_files") or []:
        notes.append(f"damaged input {b['file']}: {b['message']} ({b['records_read']:,} records read "
                     "before it; listed in quarantine/bad_files.jsonl)")
    for folder in inp.get("excluded_output") or []:
        notes.append(f"the output folder {folder} is inside the input: not read as input")
    for n in notes:
        con.print(f"[dim]{n}[/]", soft_wrap=True)


def render_tables(tables: list[Table], quiet: bool, verbose: bool = False) -> None:
    if quiet or not tables or not full_summary(verbose):
        return
    from rich.table import Table as RTable

    con = console()
    for tb in tables:
        t = RTable(title=tb.title, title_justify="left", show_edge=False)
        for c in tb.columns:
            t.add_column(str(c))
        for row in tb.rows:
            t.add_row(*[f"{v:,}" if isinstance(v, int) else (f"{v:,.4g}" if isinstance(v, float) else str(v))
                        for v in row])
        con.print(t)


class StageProgress:
    """A rich progress line on stderr, only when stderr is a terminal."""

    def __init__(self, command: str, enabled: bool, read_stats: Any = None,
                 source_progress: Any = None):
        self.enabled = enabled and sys.stderr.isatty()
        self.read_stats = read_stats
        self._p = None
        self._n = 0  # records out
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            cols: list[Any] = [SpinnerColumn(), TextColumn(f"corpuskit {command}"),
                               TextColumn("{task.fields[info]}")]
            if source_progress is not None:
                cols.append(_SourceColumn(source_progress))
            self._p = Progress(*cols, TimeElapsedColumn(), console=console(), transient=True)
            self._task = self._p.add_task("run", info="")
            self._p.start()
            self._t0 = time.perf_counter()

    def counting(self, sink: Callable[[dict], None]) -> Callable[[dict], None]:
        """`sink` (the writer's write), counting the records out on the progress line when it
        is shown; `sink` itself when it is not."""
        if not self.enabled:
            return sink

        def count(rec: dict) -> None:
            sink(rec)
            self._n += 1
            if self._n & 1023 == 0:
                self._update(self._n)

        return count

    def _update(self, n: int) -> None:
        dt = max(time.perf_counter() - self._t0, 1e-9)
        info = f"{n:,} records out  {n / dt:,.0f}/s"
        if self.read_stats is not None:
            mb = self.read_stats.bytes / 1e6
            info += f"  {mb:,.1f} MB read  {mb / dt:,.1f} MB/s"
        self._p.update(self._task, info=info)

    def stop(self) -> None:
        if self._p is not None:
            self._update(self._n)
            self._p.stop()


def _SourceColumn(progress: Any) -> Any:  # noqa: N802 - a rich column class, built lazily
    """A progress column that asks a source stage (fetch) for its live counters on every
    refresh, so it moves while a slow URL holds back the ordered output."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class SourceColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            c = progress()
            return Text(f"{c.get('done', 0):,} done  {c.get('pages_per_s', 0.0):,.1f} pages/s  "
                        f"{c.get('bytes', 0) / 1e6:,.1f} MB  {c.get('rejected', 0):,} rejected  "
                        f"{c.get('in_flight', 0)} in flight  {c.get('retries', 0):,} retries")

    return SourceColumn()


