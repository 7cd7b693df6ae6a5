"""Engines: where the map phase of `corpuskit pipeline` runs.

One small interface, `Executor`, with two siblings: `local` (a process pool on this machine)
and `ray` (Ray Data on a cluster). An engine knows nothing of the pipeline: it gets units (each
with a `key` and picklable), a task (`task(unit, units_dir) -> stats dict`, which writes the
unit's folder) and a `note(done, stats)` callback, and returns the units' keys in order. Units
already in `units_dir` (a resumed run) are not run again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from corpuskit.core.errors import UsageError
from corpuskit.engine.local import LocalExecutor
from corpuskit.engine.ray import RayExecutor

Note = Callable[[int, "dict | None"], None]
ENGINES = ("local", "ray")


class Executor(Protocol):
    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: Any) -> None: ...

    def map_units(self, units: Iterable[Any], task: Callable[[Any, Path], dict], units_dir: Path,
                  note: Note) -> tuple[list[str], int, int]:
        """(unit keys in order, units reused from an earlier run, workers used)."""
        ...

    def lend(self, stages: list) -> None:
        """Whole-stream stages that can use the engine (dedup on Ray) get it."""
        ...

    def report(self) -> dict:
        """What the engine measured (stats.json run.<engine>); not part of the output."""
        ...


def get_executor(engine: str, workers: int, ray_address: str | None = None) -> Executor:
    if engine == "local":
        return LocalExecutor(workers)
    if engine == "ray":
        return RayExecutor(ray_address, workers)
    raise UsageError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
