"""`corpuskit warmup`: compile and build ahead what a first run would otherwise wait for
(`make install` runs it)."""
from __future__ import annotations

import sys
import time

import typer

from corpuskit.cli.common import guarded
from corpuskit.pipeline.warmup import warm_up


def add_warmup_command(app: typer.Typer) -> None:
    @app.command("warmup", help="Compile the numba kernels (dedup, tokenize-stats) into numba's cache "
                 "and build corpuskit's derived caches, by running every stage over a few built-in "
                 "documents, so that no later command waits for a compiler. `make install` runs it; "
                 "safe to run again.")
    @guarded("warmup")
    def warmup(quiet: bool = typer.Option(False, "-q", "--quiet", help="Print nothing.")) -> None:
        t0 = time.perf_counter()
        done = warm_up()
        if not quiet:
            slow = ", ".join(f"{label} {s:.1f} s" for label, s in done if s >= 0.5)
            sys.stderr.write(f"corpuskit warmup: {len(done)} stage runs in {time.perf_counter() - t0:.1f} s"
                             + (f" ({slow})" if slow else "") + "\n")
