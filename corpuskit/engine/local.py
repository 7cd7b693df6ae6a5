"""The local engine: units in a process pool (fork on Linux), taken back in order through a
bounded window, so memory does not grow with the input. One worker runs in-process."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from corpuskit.core import interrupts

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
    # worker ignores it rather than print a KeyboardInterrupt traceback of its own. A worker
    # starts with SIGINT blocked (see _Interrupts): ignored first, so one that came meanwhile
    # is dropped, then unblocked for what the worker starts.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM is how the pool stops a worker (terminate): not the parent's KeyboardInterrupt
    # (core.interrupts.install_stop), the default, which ends the worker there and then
    for sig in interrupts.STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, *interrupts.STOP_SIGNALS})
    if parent is not None:
        _die_with_parent(parent)
    _W["task"] = task
    _W["units"] = Path(units_dir)


def _call(unit: Any) -> dict:
    return _W["task"](unit, _W["units"])


def finished_stats(units_dir: Path, key: str) -> dict:
    """The counters of a unit an earlier attempt finished."""
    return orjson.loads((units_dir / key / "stats.json").read_bytes())


class _Interrupts:
    """Ctrl-C during a run with a pool, made reliable. The parent is multi-threaded (the pool's
    threads) and forks; Python runs a signal's handler at any point of the main thread:

    - inside a fork's hooks (logging takes its lock around every fork) the KeyboardInterrupt
      is swallowed ("Exception ignored in ..."): the run went on and exited 0 after a Ctrl-C,
      or the hook left logging's lock taken and the pool's next fork of a worker hung for ever;
    - a worker forked just before its initializer ran died of the same Ctrl-C.

    So SIGINT is blocked while the pool forks its workers (`forking`: they start with it
    blocked, and so do the pool's threads and the workers they fork later; `_init` ignores it
    and unblocks it), and Ctrl-C is counted (core.interrupts): one that was swallowed is raised
    once the pool is done (`check`). Nothing changes where the run does not own the main thread
    or someone else set the handler."""

    def __init__(self) -> None:
        self._start = 0
        self._ours = False
        self._old: Any = None
        self._mask: Any = None

    def __enter__(self) -> _Interrupts:
        self._start = interrupts.count()
        self._old = interrupts.install()  # (None when the command line did, or someone else)
        self._ours = interrupts.handled_here()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)

    def forking(self) -> None:
        if self._ours and hasattr(signal, "pthread_sigmask"):
            self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, *interrupts.STOP_SIGNALS})

    def forked(self) -> None:
        if self._mask is not None:
            mask, self._mask = self._mask, None
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def check(self) -> None:
        if self._ours and interrupts.count() != self._start:
            raise KeyboardInterrupt


_STOP_WAIT = 5.0  # seconds


def _stop(pool: Any) -> None:
    """pool.terminate(), given _STOP_WAIT seconds, then the workers left are killed. Pool's
    terminate can wait for ever (CPython issue 96995): it stops the workers before its task
    thread has told the result thread to finish, and a worker stopped while it held the result
    queue's lock leaves that thread waiting for the lock (once in some hundreds of Ctrl-C here).
    The stuck thread is a daemon, left behind; the run goes on to report the interrupt."""
    t = threading.Thread(target=pool.terminate, name="corpuskit-pool-stop", daemon=True)
    t.start()
    t.join(_STOP_WAIT)
    if t.is_alive():
        for w in list(getattr(pool, "_pool", ())):  # (the pool's own list of its workers)
            if w.exitcode is None:
                w.kill()
                w.join(1)


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
        if self.workers == 1:
            keys: list[str] = []
            resumed = done = 0
            for unit in units:
                keys.append(unit.key)
                if (units_dir / unit.key).exists():
                    resumed += 1
                    ust = finished_stats(units_dir, unit.key)
                else:
                    ust = task(unit, units_dir)
                done += 1
                note(done, ust)
                interrupts.checkpoint()  # a Ctrl-C that a library swallowed stops the run here
            return keys, resumed, 1
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with _Interrupts() as guard:
            guard.forking()
            try:
                pool = ctx.Pool(self.workers, initializer=_init, initargs=(task, str(units_dir), os.getpid()))
            except BaseException:
                guard.forked()
                raise
            try:
                guard.forked()  # a Ctrl-C that came meanwhile is raised here, the pool stopped
                keys, resumed = self._feed(pool, units, units_dir, note)
            finally:
                _stop(pool)
            guard.check()
        return keys, resumed, self.workers

    def _feed(self, pool: Any, units: Iterable[Any], units_dir: Path,
              note: Callable[[int, dict | None], None]) -> tuple[list[str], int]:
        """The units through the pool, taken back in order through a bounded window, so memory
        does not grow with the input: (the units' keys, how many an earlier attempt finished)."""
        keys: list[str] = []
        resumed = done = 0
        window: deque = deque()
        for unit in units:
            keys.append(unit.key)
            if (units_dir / unit.key).exists():
                resumed += 1
                done += 1
                note(done, finished_stats(units_dir, unit.key))
                continue
            window.append(pool.apply_async(_call, (unit,)))
            while len(window) >= 2 * self.workers:
                done += 1
                note(done, window.popleft().get())
                interrupts.checkpoint()
        while window:
            done += 1
            note(done, window.popleft().get())
            interrupts.checkpoint()
        return keys, resumed
