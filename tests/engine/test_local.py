"""engine/local.py: stopping the pool never waits for ever."""
from __future__ import annotations

import threading
import time

from corpuskit.engine import local


class _Worker:
    def __init__(self, exitcode):
        self.exitcode = exitcode
        self.killed = self.joined = False

    def kill(self):
        self.killed = True

    def join(self, timeout=None):
        self.joined = True


class _StuckPool:
    """A pool whose terminate() waits for ever, as multiprocessing's can (CPython issue 96995)."""

    def __init__(self):
        self._pool = [_Worker(None), _Worker(0)]
        self.release = threading.Event()

    def terminate(self):
        self.release.wait()


class _Pool(_StuckPool):
    def terminate(self):
        self.terminated = True


def test_a_terminate_that_hangs_is_given_up_and_the_live_workers_killed(monkeypatch):
    monkeypatch.setattr(local, "_STOP_WAIT", 0.2)
    pool = _StuckPool()
    t0 = time.monotonic()
    local._stop(pool)
    assert time.monotonic() - t0 < 5
    live, done = pool._pool
    assert live.killed and live.joined and not done.killed  # one that had exited is left alone
    pool.release.set()


def test_a_terminate_that_returns_is_all_it_takes():
    pool = _Pool()
    local._stop(pool)
    assert pool.terminated and not any(w.killed for w in pool._pool)
