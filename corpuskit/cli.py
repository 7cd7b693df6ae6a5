"""The command line. The only module that knows typer and rich.

Every stage in the registry becomes a subcommand whose options are generated from the stage's
dataclass fields, so the defaults live in one place (the stage class).
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import time
import types
import typing
from typing import Any, Optional, Union

import typer

from . import __version__
from .errors import BadInput, CorpusKitError, UsageError
from .runner import build_stats
from .stage import REGISTRY, SourceStage, Stage, Table, get_stage_class

MAX_WARNINGS = 10


# ---------------------------------------------------------------- rendering (rich)
def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=False)


def _fail(command: str, message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"corpuskit {command}: error: {message}\n")
    sys.stderr.flush()
    return typer.Exit(code)


def _warn(command: str, message: str) -> None:
    sys.stderr.write(f"corpuskit {command}: warning: {message}\n")


def render_summary(command: str, stats: dict, quiet: bool) -> None:
    if quiet:
        return
    from rich.table import Table as RTable

    con = _console()
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
    for n in notes:
        con.print(f"[dim]{n}[/]", soft_wrap=True)


def render_tables(tables: list[Table], quiet: bool) -> None:
    if quiet or not tables:
        return
    from rich.table import Table as RTable

    con = _console()
    for tb in tables:
        t = RTable(title=tb.title, title_justify="left", show_edge=False)
        for c in tb.columns:
            t.add_column(str(c))
        for row in tb.rows:
            t.add_row(*[f"{v:,}" if isinstance(v, int) else (f"{v:,.4g}" if isinstance(v, float) else str(v))
                        for v in row])
        con.print(t)


class _Progress:
    """A rich progress line on stderr, only when stderr is a terminal."""

    def __init__(self, command: str, enabled: bool, read_stats: Any = None,
                 source_progress: Any = None):
        self.enabled = enabled and sys.stderr.isatty()
        self.read_stats = read_stats
        self._p = None
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            cols: list[Any] = [SpinnerColumn(), TextColumn(f"corpuskit {command}"),
                               TextColumn("{task.fields[info]}")]
            if source_progress is not None:
                cols.append(_SourceColumn(source_progress))
            self._p = Progress(*cols, TimeElapsedColumn(), console=_console(), transient=True)
            self._task = self._p.add_task("run", info="")
            self._p.start()
            self._t0 = time.perf_counter()

    def wrap(self, it):
        if not self.enabled:
            yield from it
            return
        n = 0
        for rec in it:
            n += 1
            if n & 1023 == 0:
                self._update(n)
            yield rec
        self._update(n)

    def _update(self, n: int) -> None:
        dt = max(time.perf_counter() - self._t0, 1e-9)
        info = f"{n:,} records out  {n / dt:,.0f}/s"
        if self.read_stats is not None:
            mb = self.read_stats.bytes / 1e6
            info += f"  {mb:,.1f} MB read  {mb / dt:,.1f} MB/s"
        self._p.update(self._task, info=info)

    def stop(self) -> None:
        if self._p is not None:
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


# ---------------------------------------------------------------- running a chain
def execute(command: str, stages: list[Stage], inputs: list[str], output: str | None,
            rejected: str | None, bad_records: str | None, stats_path: str | None,
            quiet: bool) -> dict:
    """Read, run the chain, write. Raises CorpusKitError on bad data; leaves nothing partial."""
    from .jsonl import RecordReader, RecordWriter, write_json_atomic
    from .runner import Chain

    t0 = time.perf_counter()
    writers = []
    first = stages[0]
    # A source stage (fetch) may run for hours: its output is written in place and kept when
    # the run is interrupted, so that `--resume` can finish it without fetching anything twice.
    keep_partial = isinstance(first, SourceStage)
    resume = bool(getattr(first, "resume", False))
    if resume:
        if not output or output == "-":
            raise UsageError("--resume needs -o FILE (the output of the interrupted run)")
        first.prepare_resume(output, rejected)  # type: ignore[attr-defined]
    try:
        out = RecordWriter(output, atomic=not keep_partial, append=resume)
        writers.append(out)
        rej = RecordWriter(rejected, atomic=not keep_partial, append=resume) if rejected else None
        bad = RecordWriter(bad_records) if bad_records else None
        writers += [w for w in (rej, bad) if w is not None]
        warned = [0]

        def quarantine(line: bytes, err: BadInput) -> None:
            bad.write_raw(line)  # type: ignore[union-attr]
            warned[0] += 1
            if not quiet and warned[0] <= MAX_WARNINGS:
                _warn(command, f"{err} (line kept in {bad_records})")
            elif not quiet and warned[0] == MAX_WARNINGS + 1:
                _warn(command, "more bad lines: counted in the summary, not shown")

        reader = None
        if not isinstance(first, SourceStage):
            reader = RecordReader(inputs or ["-"], require_field=first.required_field(),
                                  text_field=first.text_field,
                                  bad_sink=quarantine if bad is not None else None)
        on_reject = rej.write if rej is not None else None
        if keep_partial:  # flush about once a second, so a killed crawl loses little
            last = [time.monotonic()]

            def _tick() -> None:
                if time.monotonic() - last[0] > 1.0:
                    last[0] = time.monotonic()
                    for w in (out, rej):
                        if w is not None:
                            w.flush()

            def _write(rec: dict, _w=out.write) -> None:
                _w(rec)
                _tick()

            def _reject(rec: dict, _w=on_reject) -> None:
                if _w is not None:
                    _w(rec)
                _tick()

            out.write = _write  # type: ignore[method-assign]
            on_reject = _reject
        chain = Chain(stages, on_reject=on_reject)
        progress = _Progress(command, not quiet, reader.stats if reader else None,
                             getattr(first, "progress", None))
        try:
            write = out.write
            for rec in progress.wrap(chain.run(reader, inputs)):
                write(rec)
        finally:
            progress.stop()
        for w in writers:
            w.close()
    except BaseException:
        for w in writers:
            if w.atomic:
                w.abort()
            else:
                try:
                    w.close()  # keep what a source stage wrote, for --resume
                except Exception:  # noqa: BLE001 - already failing; keep the first error
                    w.abort()
        raise
    if reader is not None:
        for name in reader.stats.empty_files:
            if not quiet:
                _warn(command, f"{name}: empty file (no records)")
    stats = build_stats(command, chain, reader, out, rej, bad, time.perf_counter() - t0)
    stats["rejected_path"] = rejected
    stats["bad_records_path"] = bad_records
    if stats_path:
        write_json_atomic(stats_path, stats)
    return stats


# ---------------------------------------------------------------- building commands
def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def stage_cli_params(cls: type[Stage]) -> list[tuple[str, Any, Any, dataclasses.Field]]:
    """(param name, python type for typer, typer.Option, field) for each stage option."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in cls.options():
        if not f.metadata.get("cli", True):
            continue
        tp, optional = _unwrap_optional(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        flag = "--" + f.name.replace("_", "-")
        help_ = f.metadata.get("help", "")
        if tp is bool:
            opt = typer.Option(default, f"{flag}/--no-{flag[2:]}", help=help_)
            ptype: Any = bool
        elif tp in (int, float, str):
            opt = typer.Option(default, flag, help=help_)
            ptype = Optional[tp] if optional else tp
        elif typing.get_origin(tp) in (list, tuple, set) or tp in (list, tuple):
            shown = ",".join(map(str, default)) if default else ""
            opt = typer.Option(shown, flag, help=help_ + " (comma-separated)")
            ptype = str
        elif typing.get_origin(tp) is typing.Literal:
            choices = typing.get_args(tp)
            opt = typer.Option(default, flag, help=f"{help_} ({' | '.join(map(str, choices))})")
            ptype = str
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported option type {tp!r}")
        out.append((f.name, ptype, opt, f))
    return out


def convert_cli_value(cls: type[Stage], name: str, value: Any) -> Any:
    hints = typing.get_type_hints(cls)
    tp, _ = _unwrap_optional(hints[name])
    origin = typing.get_origin(tp)
    if origin in (list, tuple, set) or tp in (list, tuple):
        items = [v.strip() for v in str(value).split(",") if v.strip()] if value else []
        args = typing.get_args(tp)
        if args and args[0] in (int, float):
            try:
                items = [args[0](v) for v in items]
            except ValueError:
                raise UsageError(f"--{name.replace('_', '-')}: expected numbers, got {value!r}") from None
        return (origin or tp)(items) if (origin or tp) is not list else items
    if origin is typing.Literal and value not in typing.get_args(tp):
        raise UsageError(f"--{name.replace('_', '-')}: {value!r} is not one of "
                         f"{', '.join(map(str, typing.get_args(tp)))}")
    return value


_COMMON = [
    ("inputs", Optional[list[str]], typer.Argument(None, metavar="INPUT...", help="Input files or folders "
     "(.jsonl, .jsonl.gz, .jsonl.zst; folders read in sorted order); '-' or nothing reads stdin.",
     show_default=False)),
    ("cli_output", Optional[str], typer.Option(None, "-o", "--output", help="Write records here "
     "(atomically; .gz/.zst compress) instead of stdout.")),
    ("cli_rejected", Optional[str], typer.Option(None, "--rejected", help="Write dropped records "
     "here, each with meta.rejected = {stage, reason, detail}.")),
    ("cli_bad_records", Optional[str], typer.Option(None, "--bad-records", help="Keep going on bad "
     "input lines (invalid JSON or UTF-8, not an object, missing field): write them here verbatim.")),
    ("cli_stats", Optional[str], typer.Option(None, "--stats", help="Write the counters as JSON here.")),
    ("cli_quiet", bool, typer.Option(False, "-q", "--quiet", help="No summary or progress on stderr.")),
]


def _reasons_epilog(cls: type[Stage]) -> str:
    if not cls.reasons:
        return ""
    lines = ["Reasons a record is dropped (meta.rejected.reason):\n\n"]
    lines += [f"  {k}: {v}\n\n" for k, v in cls.reasons.items()]
    return "".join(lines)


def add_stage_command(app: typer.Typer, name: str) -> None:
    cls = get_stage_class(name)
    params = stage_cli_params(cls)
    taken = {p[0] for p in _COMMON}
    for pname, _, _, _ in params:
        if pname in taken:
            raise TypeError(f"{cls.__name__}: option name {pname!r} clashes with a common option")

    def command(**kw: Any) -> None:
        try:
            stage_kw = {p[0]: convert_cli_value(cls, p[0], kw[p[0]]) for p in params}
        except UsageError as e:
            raise _fail(name, str(e), 2) from None
        run_stage_command(name, cls, stage_kw, kw)

    sig_params = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=o, annotation=t)
                  for n, t, o in _COMMON]
    sig_params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=o, annotation=t)
                   for n, t, o, _ in params]
    command.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in sig_params}
    command.__name__ = name.replace("-", "_")
    app.command(name, help=cls.summary, epilog=_reasons_epilog(cls))(command)


def run_stage_command(name: str, cls: type[Stage], stage_kw: dict, kw: dict) -> None:
    quiet = kw["cli_quiet"]
    try:
        stage = cls.from_options(**stage_kw)
        stats = execute(name, [stage], list(kw["inputs"] or []), kw["cli_output"], kw["cli_rejected"],
                        kw["cli_bad_records"], kw["cli_stats"], quiet)
    except UsageError as e:
        raise _fail(name, str(e), 2) from None
    except CorpusKitError as e:
        raise _fail(name, str(e), e.exit_code) from None
    render_tables(stage.tables() if hasattr(stage, "tables") else [], quiet)
    render_summary(name, stats, quiet)


# ---------------------------------------------------------------- app
def build_app(only: str | None = None) -> typer.Typer:
    app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]},
                      help="corpuskit: raw web material -> clean text corpora (English and Chinese). "
                           "Every stage reads and writes JSONL records, so they pipe.")

    @app.callback(invoke_without_command=False)
    def _root(version: bool = typer.Option(False, "--version", help="Show the version and exit.",
                                           is_eager=True, callback=_version_cb)) -> None:
        """corpuskit"""

    names = [only] if only in REGISTRY else list(REGISTRY)
    for n in names:
        add_stage_command(app, n)
    if only is None or only in ("pipeline",):
        from .pipeline_cli import add_pipeline_command

        add_pipeline_command(app)
    return app


def _version_cb(value: bool) -> None:
    if value:
        sys.stdout.write(f"corpuskit {__version__}\n")
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and not argv[0].startswith("-") else None
    if only is not None and only not in REGISTRY and only != "pipeline":
        only = None  # let typer report the unknown command
    cmd = typer.main.get_command(build_app(only))
    try:
        code = cmd.main(args=argv, prog_name="corpuskit", standalone_mode=False)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except KeyboardInterrupt:
        sys.stderr.write("corpuskit: interrupted\n")
        sys.exit(130)
    except Exception as e:
        # click's exceptions (typer may vendor its own copy of click, so match by shape):
        # usage errors carry exit_code 2, Abort means Ctrl-C at a prompt.
        if type(e).__name__ == "Abort":
            sys.stderr.write("corpuskit: interrupted\n")
            sys.exit(130)
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            sys.exit(e.exit_code)
        raise
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_broken_pipe() -> None:
    # `corpuskit ... | head`: the reader went away. End quietly, like a Unix tool.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    sys.exit(0)
