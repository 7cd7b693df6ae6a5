"""The local engine: units in a process pool (fork on Linux), taken back in order through a
bounded window, so memory does not grow with the input. One worker runs in-process."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

_W: dict[str, Any] = {}


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a killed run (kill -9 leaves no chance to stop the pool): ask
    Linux to kill it when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _init(task: Callable, units_dir: str, parent: int | None) -> None:
    # Ctrl-C reaches the whole process group: the run (the parent) stops the pool, so a
    # worker ignores it rather than print a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _die_with_parent(parent)
    _W["task"] = task
    _W["units"] = Path(units_dir)


def _call(unit: Any) -> dict:
    return _W["task"](unit, _W["units"])


def finished_stats(units_dir: Path, key: str) -> dict:
    """The counters of a unit an earlier attempt finished."""
    return orjson.loads((units_dir / key / "stats.json").read_bytes())


class LocalExecutor:
    def __init__(self, workers: int):
        self.workers = workers or os.cpu_count() or 1

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def lend(self, stages: list) -> None:
        return None

    def report(self) -> dict:
        return {}

    def map_units(self, units: Iterable[Any], task: Callable[[Any, Path], dict], units_dir: Path,
                  note: Callable[[int, dict | None], None]) -> tuple[list[str], int, int]:
        keys: list[str] = []
        resumed = done = 0
        if self.workers == 1:
            for unit in units:
                keys.append(unit.key)
                if (units_dir / unit.key).exists():
                    resumed += 1
                    ust = finished_stats(units_dir, unit.key)
                else:
                    ust = task(unit, units_dir)
                done += 1
                note(done, ust)
            return keys, resumed, 1
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with ctx.Pool(self.workers, initializer=_init, initargs=(task, str(units_dir), os.getpid())) as pool:
            window: deque = deque()
            for unit in units:
                keys.append(unit.key)
                if (units_dir / unit.key).exists():
                    resumed += 1
                    done += 1
                    note(done, finished_stats(units_dir, unit.key))
                    continue
                window.append(pool.apply_async(_call, (unit,)))
                while len(window) >= 2 * self.workers:  # bounded: memory does not grow with the input
                    done += 1
                    note(done, window.popleft().get())
            while window:
                done += 1
                note(done, window.popleft().get())
        return keys, resumed, self.workers
