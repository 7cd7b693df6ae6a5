"""The `corpuskit` command: one subcommand per stage (built from the registry), `pipeline`,
and the inspection commands. Library exceptions become one-line errors and exit codes here.

Start-up is part of the interface (stages run in shell pipes, one process each): only the
chosen command is built, its module imported through `COMMANDS` on demand, and
`corpuskit --help` lists the commands from one-liners without importing any of them."""
from __future__ import annotations

import importlib
import sys
import warnings

import typer

from corpuskit import __version__
from corpuskit.cli.common import interrupted, warn
from corpuskit.cli.common import quiet_broken_pipe as _quiet_broken_pipe
from corpuskit.core import interrupts
from corpuskit.core.stage import DeprecatedOption
from corpuskit.registry import ONE_LINERS, REGISTRY, get_stage_class

# command -> (module, the function adding it to the app, its one-liner for `corpuskit --help`).
# The stage commands come from the registry.
COMMANDS: dict[str, tuple[str, str, str]] = {
    **{name: ("corpuskit.cli.stages", "add_stage_command", ONE_LINERS[name]) for name in REGISTRY},
    "pipeline": ("corpuskit.cli.pipeline", "add_pipeline_command",
                 "Run every stage over raw/ into clean/, in parallel."),
    # the inspection commands: one function adds them all
    "show": ("corpuskit.cli.inspect", "add_inspect_commands", "Print what a pipeline run kept and rejected."),
    "tokens": ("corpuskit.cli.inspect", "add_inspect_commands", "Inspect token shards written by tokenize."),
    "head": ("corpuskit.cli.inspect", "add_inspect_commands", "Print the first records, pretty-printed."),
    "count": ("corpuskit.cli.inspect", "add_inspect_commands", "Count the records of each file."),
    "sample": ("corpuskit.cli.inspect", "add_inspect_commands", "Print N records drawn at random."),
    "warmup": ("corpuskit.cli.warmup", "add_warmup_command",
               "Compile the kernels and build the caches ahead (make install runs it)."),
}


def _root_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]},
                      help="corpuskit: raw web material -> clean text corpora (English and Chinese). "
                           "Every stage reads and writes JSONL records, so they pipe. "
                           "`corpuskit COMMAND --help` describes a command.")

    @app.callback(invoke_without_command=False)
    def _root(version: bool = typer.Option(False, "--version", help="Show the version and exit.",
                                           is_eager=True, callback=_version_cb)) -> None:
        """corpuskit"""

    return app


def add_command(app: typer.Typer, name: str, done: set | None = None) -> None:
    module, func, _ = COMMANDS[name]
    if module == "corpuskit.cli.stages" and getattr(get_stage_class(name), "writes_folder", False):
        module, func = "corpuskit.cli.tokenize", "add_folder_stage_command"  # -o is a folder
    if module == "corpuskit.cli.stages" and getattr(get_stage_class(name), "writes_model", False):
        module, func = "corpuskit.cli.train", "add_model_stage_command"  # -o is a model file
    per_name = module in ("corpuskit.cli.stages", "corpuskit.cli.tokenize", "corpuskit.cli.train")
    if done is not None and not per_name and (module, func) in done:
        return  # one function added several commands (the inspection ones)
    add = getattr(importlib.import_module(module), func)
    if per_name:
        add(app, name)
    else:
        add(app)
    if done is not None:
        done.add((module, func))


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every command (for docs), or with `only` that one."""
    app = _root_app()
    done: set = set()
    for name in [only] if only in COMMANDS else list(COMMANDS):
        add_command(app, name, done)
    return app


def index_app() -> typer.Typer:
    """`corpuskit --help` (and an unknown command's error): every command listed by its
    one-liner; nothing of any command is imported."""
    app = _root_app()
    for name, (_, _, line) in COMMANDS.items():
        def placeholder() -> None:  # never run: main() builds the real command by name
            raise AssertionError("index placeholder called")

        placeholder.__name__ = name.replace("-", "_")
        app.command(name, help=line, short_help=line)(placeholder)
    return app


def _version_cb(value: bool) -> None:
    if value:
        sys.stdout.write(f"corpuskit {__version__}\n")
        raise typer.Exit(0)


def _one_line_warnings(command: str) -> None:
    """The library's warnings about what the user wrote (a deprecated option name) as one line
    each on stderr, every time; other warnings keep Python's handling."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if issubclass(category, DeprecatedOption):
            text = str(message)
            warn(command, text[len(command) + 2:] if text.startswith(f"{command}: ") else text)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.simplefilter("always", DeprecatedOption)
    warnings.showwarning = show


def main(argv: list[str] | None = None, since: int | None = None) -> None:
    """Run the command `argv` names. `since`: the count of Ctrl-C (core.interrupts) when the
    command started; a Ctrl-C after it that something swallowed, or turned into another error,
    ends the command as interrupted (one line, exit 130)."""
    if since is None:
        since = interrupts.count()
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and argv[0] in COMMANDS else None
    _one_line_warnings(only or "")
    try:
        # no command, or an unknown one: the index lists the commands (and typer reports the error)
        cmd = typer.main.get_command(build_app(only) if only else index_app())
        code = cmd.main(args=argv, prog_name="corpuskit", standalone_mode=False)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except KeyboardInterrupt:
        interrupted(only or "")
    except Exception as e:
        # click's exceptions (typer may vendor its own copy of click, so match by shape):
        # usage errors carry exit_code 2, Abort means Ctrl-C at a prompt. After a Ctrl-C, an
        # error is what the interrupt became (numpy's import turns it into an ImportError)
        if type(e).__name__ == "Abort" or interrupts.count() != since:
            interrupted(only or "")
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            sys.exit(e.exit_code)
        raise
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    if interrupts.count() != since:  # a Ctrl-C that something swallowed: the command did not stop for it
        interrupted(only or "")
    sys.exit(code if isinstance(code, int) else 0)


