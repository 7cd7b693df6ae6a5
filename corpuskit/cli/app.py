"""The `corpuskit` command: one subcommand per stage (built from the registry), `pipeline`,
and the inspection commands. Library exceptions become one-line errors and exit codes here."""
from __future__ import annotations

import os
import sys

import typer

from corpuskit import __version__
from corpuskit.cli.inspect import INSPECT_COMMANDS, add_inspect_commands
from corpuskit.cli.pipeline import add_pipeline_command
from corpuskit.cli.stages import add_stage_command
from corpuskit.cli.tokenize import add_folder_stage_command
from corpuskit.registry import REGISTRY, get_stage_class


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
        if getattr(get_stage_class(n), "writes_folder", False):  # -o is a folder: tokenize
            add_folder_stage_command(app, n)
        else:
            add_stage_command(app, n)
    if only is None or only == "pipeline":
        add_pipeline_command(app)
    if only is None or only in INSPECT_COMMANDS:
        add_inspect_commands(app)
    return app


def _version_cb(value: bool) -> None:
    if value:
        sys.stdout.write(f"corpuskit {__version__}\n")
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and not argv[0].startswith("-") else None
    if only is not None and only not in REGISTRY and only != "pipeline" and only not in INSPECT_COMMANDS:
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
