"""Stage subcommands, generated from the registry: each stage's options come from its
dataclass fields, so the defaults live in one place (the stage class)."""
from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from typing import Any, Optional, Union

import typer

from corpuskit.cli.common import (
    StageProgress,
    command_errors,
    fail,
    guarded,
    render_summary,
    render_tables,
    warn,
)
from corpuskit.core.errors import UsageError
from corpuskit.core.stage import SourceStage, Stage
from corpuskit.pipeline.stream import run_stream
from corpuskit.registry import get_stage_class


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


# the placeholder --help shows for a value, by type, when the option names none (opt(metavar=))
METAVARS = {int: "N", float: "NUM", str: "TEXT"}


def metavar_of(f: dataclasses.Field, tp: Any) -> str:
    if f.metadata.get("metavar"):
        return f.metadata["metavar"]
    if f.name.endswith("_field"):
        return "FIELD"
    if typing.get_origin(tp) is typing.Literal:
        return "|".join(map(str, typing.get_args(tp)))
    if typing.get_origin(tp) in (list, tuple, set) or tp in (list, tuple):
        return "LIST"
    return METAVARS.get(tp, "VALUE")


def stage_cli_params(cls: type[Stage]) -> list[tuple[str, Any, Any, dataclasses.Field]]:
    """(param name, python type for typer, typer.Option, field) for each stage option, then a
    hidden one per deprecated alias (param name `alias:OLD`)."""
    hints = typing.get_type_hints(cls)
    out = []
    aliases = []
    for f in cls.options():
        if not f.metadata.get("cli", True):
            continue
        tp, optional = unwrap_optional(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        flag = "--" + f.name.replace("_", "-")
        help_ = f.metadata.get("help", "")
        mv = metavar_of(f, tp)
        if tp is bool:
            opt = typer.Option(default, f"{flag}/--no-{flag[2:]}", help=help_)
            ptype: Any = bool
        elif tp in (int, float, str):
            opt = typer.Option(default, flag, help=help_, metavar=mv)
            ptype = Optional[tp] if optional else tp
        elif (typing.get_origin(tp) in (list, tuple, set) or tp in (list, tuple)) and f.metadata.get("repeat"):
            opt = typer.Option(None, flag, help=help_ + " (repeatable)", metavar=mv)
            ptype = Optional[list[str]]
        elif typing.get_origin(tp) in (list, tuple, set) or tp in (list, tuple):
            shown = ",".join(map(str, default)) if default else ""
            opt = typer.Option(shown, flag, help=help_ + " (comma-separated)", metavar=mv)
            ptype = str
        elif typing.get_origin(tp) is typing.Literal:
            opt = typer.Option(default, flag, help=help_, metavar=mv)
            ptype = str
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported option type {tp!r}")
        out.append((f.name, ptype, opt, f))
        for old in f.metadata.get("aliases", ()):
            oflag = "--" + old.replace("_", "-")
            decls = [f"{oflag}/--no-{oflag[2:]}"] if tp is bool else [oflag]
            aliases.append((f"alias__{old}", Optional[ptype], typer.Option(
                None, *decls, hidden=True, metavar=mv,
                help=f"Deprecated spelling of {flag} (warns; goes in the next release)."), f))
    return out + aliases


def convert_cli_value(cls: type[Stage], name: str, value: Any) -> Any:
    hints = typing.get_type_hints(cls)
    tp, _ = unwrap_optional(hints[name])
    origin = typing.get_origin(tp)
    if origin in (list, tuple, set) or tp in (list, tuple):
        if isinstance(value, (list, tuple)):  # a repeatable option: one item per use
            items = [str(v) for v in value]
        else:
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
    ("inputs", Optional[list[str]], typer.Argument(None, metavar="INPUT...", help="Input files, folders "
     "(read in sorted order), quoted globs or URLs (s3://, gs://, hf://, https://): JSONL plain or "
     "gzip/zstd-compressed, Parquet, Arrow, a Hugging Face datasets folder; '-' or nothing reads "
     "stdin (compressed or Parquet too).", show_default=False)),
    ("cli_output", Optional[str], typer.Option(None, "-o", "--output", metavar="FILE", help="Write records here "
     "(atomically; .gz/.zst compress, .parquet writes Parquet; a URL is uploaded when done) "
     "instead of stdout ('-').")),
    ("cli_rejected", Optional[str], typer.Option(None, "--rejected", metavar="FILE", help="Write dropped records "
     "here, each with meta.rejected = {stage, reason, detail} ('-': stdout, when -o FILE "
     "takes the records).")),
    ("cli_bad_records", Optional[str], typer.Option(None, "--bad-records", metavar="FILE", help="Keep going on bad "
     "input lines (invalid JSON or UTF-8, not an object, missing field): write them here "
     "verbatim ('-': stdout, when -o FILE takes the records).")),
    ("cli_stats", Optional[str], typer.Option(None, "--stats", metavar="FILE", help="Write the counters as JSON "
     "here ('-': stdout, when -o FILE takes the records).")),
    ("cli_limit", Optional[int], typer.Option(None, "--limit", min=1, metavar="N", help="Read only the first N "
     "records of each input (a dry run).")),
    ("cli_quiet", bool, typer.Option(False, "-q", "--quiet", help="No summary or progress on stderr.")),
    ("cli_verbose", bool, typer.Option(False, "-v", "--verbose", help="The full summary tables on "
     "stderr even when it is not a terminal (there, the default is one line: in = kept + rejected).")),
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
            stage_kw = {p[0]: convert_cli_value(cls, p[0], kw[p[0]])
                        for p in params if not p[0].startswith("alias__")}
            for pname, _, _, _ in params:
                if pname.startswith("alias__") and kw[pname] is not None:
                    real = cls.option_name(pname[len("alias__"):])  # warns: deprecated
                    stage_kw[real] = convert_cli_value(cls, real, kw[pname])
        except UsageError as e:
            raise fail(name, str(e), 2) from None
        guarded(name)(run_stage_command)(name, cls, stage_kw, kw)

    common = list(_COMMON)
    if issubclass(cls, SourceStage) and cls.input_help:
        common[0] = ("inputs", Optional[list[str]], typer.Argument(
            None, metavar="INPUT...", help=cls.input_help, show_default=False))
    register_command(app, name, cls, command, common, params)


def register_command(app: typer.Typer, name: str, cls: type[Stage], command: Any,
                     common: list, params: list) -> None:
    """Give `command(**kw)` the typer signature of the common options and the stage's own
    (typer reads parameters from the signature), and add it to the app."""
    sig_params = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=o, annotation=t)
                  for n, t, o in common]
    sig_params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=o, annotation=t)
                   for n, t, o, _ in params]
    command.__signature__ = inspect.Signature(sig_params)
    command.__annotations__ = {p.name: p.annotation for p in sig_params}
    command.__name__ = name.replace("-", "_")
    app.command(name, help=cls.summary, epilog=_reasons_epilog(cls))(command)


def run_stage_command(name: str, cls: type[Stage], stage_kw: dict, kw: dict) -> None:
    quiet = kw["cli_quiet"]
    with command_errors(name):
        stage = cls.from_options(**stage_kw)
        stats = run_stream([stage], list(kw["inputs"] or []), kw["cli_output"], kw["cli_rejected"],
                           kw["cli_bad_records"], kw["cli_stats"], command=name,
                           warn=None if quiet else (lambda m: warn(name, m)),
                           progress=None if quiet else (lambda rs, src: StageProgress(name, True, rs, src)),
                           limit=kw["cli_limit"] or 0)
    verbose = kw["cli_verbose"]
    render_tables(stage.tables() if hasattr(stage, "tables") else [], quiet, verbose)
    render_summary(name, stats, quiet, verbose)


