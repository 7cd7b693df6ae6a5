"""`python -m corpuskit.cli.docgen > docs/cli.md`: the command-line reference, generated from
the typer app (so from the stages' dataclass fields) and the stages' reject reasons.
tests/cli/test_docgen.py fails when docs/cli.md is stale or something is undocumented."""
from __future__ import annotations

import sys
from typing import Any

import typer

from corpuskit.cli.app import build_app
from corpuskit.registry import REGISTRY, get_stage_class


def _default(p: Any) -> str:
    if p.required:
        return "required"
    d = p.default
    if callable(d) or d is None or d == "" or d == [] or d == ():
        return ""
    if isinstance(d, bool):
        return "on" if d else "off"
    return f"`{d}`"


def _flags(p: Any) -> str:
    if p.param_type_name == "argument":
        return f"`{(p.metavar or p.name).upper()}`"
    names = list(p.opts) + [f"{o}" for o in getattr(p, "secondary_opts", [])]
    return " ".join(f"`{n}`" for n in names)


def commands() -> dict[str, Any]:
    group = typer.main.get_command(build_app())
    return dict(sorted(group.commands.items(), key=lambda kv: _order(kv[0])))


def _order(name: str) -> tuple[int, str]:
    names = list(REGISTRY)
    return (names.index(name), name) if name in names else (len(names), name)


def _options_table(cmd: Any) -> list[str]:
    out = ["| option | default | meaning |", "| --- | --- | --- |"]
    for p in cmd.params:
        if p.name in ("help",):
            continue
        help_ = " ".join((getattr(p, "help", None) or "").split()).replace("|", "\\|")
        out.append(f"| {_flags(p)} | {_default(p)} | {help_} |")
    out.append("")
    return out


def render() -> str:
    out = ["# Command-line reference", "",
           "Generated from the code by `make docs` (`python -m corpuskit.cli.docgen`); do not edit.",
           "Every stage reads records from its INPUTs (files, folders, quoted globs, URLs, `-` for stdin:",
           "JSONL plain or gzip/zstd-compressed, Parquet, Arrow; see [formats](formats.md)) and writes",
           "records to stdout or `-o`; see the [README](../README.md) for the record format and exit codes.", ""]
    for name, cmd in commands().items():
        out += [f"## corpuskit {name}", "", (cmd.help or "").strip(), ""]
        subs = getattr(cmd, "commands", None)
        if subs:  # a group (`tokens`): one section per subcommand
            for sub, sc in sorted(subs.items()):
                out += [f"### corpuskit {name} {sub}", "", (sc.help or "").strip(), ""]
                out += _options_table(sc)
        else:
            out += _options_table(cmd)
        if name in REGISTRY:
            reasons = get_stage_class(name).reasons
            if reasons:
                out += ["Reject reasons (`meta.rejected.reason`):", ""]
                out += [f"- `{k}`: {v}" for k, v in reasons.items()]
                out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
