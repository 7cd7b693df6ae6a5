"""The command line: the only code that imports typer or rich.

app.py builds the `corpuskit` command; stages.py the stage subcommands (from the registry);
pipeline.py the `pipeline` command; inspect.py the inspection commands; common.py the
rendering they share (errors, summaries, progress)."""
from __future__ import annotations

import signal
import sys

from corpuskit.core import interrupts


def main(argv: list[str] | None = None) -> None:
    """The `corpuskit` command. Ctrl-C is counted while it runs (core.interrupts), and while the
    command's modules are still being imported (typer, rich, the command's own) it ends the
    command as it does later: one line on stderr, exit 130. SIGTERM and SIGHUP are taken as
    Ctrl-C (core.interrupts.install_stop), so that what a command was writing is cleaned up. (So app.py is imported here, inside
    the guard: the one import of corpuskit's own inside a function, tests/test_layout.py.)"""
    old = interrupts.install()
    old_stop = interrupts.install_stop()  # SIGTERM and SIGHUP end it as Ctrl-C does
    since = interrupts.begin()
    try:
        try:
            from corpuskit.cli.app import main as run
        except BaseException as e:
            if not isinstance(e, KeyboardInterrupt) and interrupts.count() == since:
                raise
            args = sys.argv[1:] if argv is None else argv
            word = args[0] if args else ""
            name = word if word[:1].isalpha() and word.replace("-", "").isalnum() else ""
            sys.stderr.write(f"corpuskit {name}: interrupted\n" if name else "corpuskit: interrupted\n")
            sys.exit(130)
        run(argv, since=since)
    finally:
        interrupts.end()
        if old is not None:
            signal.signal(signal.SIGINT, old)
        for sig, handler in old_stop.items():
            signal.signal(sig, handler)


__all__ = ["main"]
