"""The command line: the only code that imports typer or rich.

app.py builds the `corpuskit` command; stages.py the stage subcommands (from the registry);
pipeline.py the `pipeline` command; inspect.py the inspection commands; common.py the
rendering they share (errors, summaries, progress)."""
from corpuskit.cli.app import main

__all__ = ["main"]
