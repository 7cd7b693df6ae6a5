"""Locks and scratch folders: who holds them, and whether that process is alive."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpuskit.core.errors import UsageError
from corpuskit.core.owner import HOST, RunLock, alive, is_dead_scratch, scratch_prefix, start_time

ROOT = Path(__file__).resolve().parents[2]

# holds the lock, forks a child that lives on (like a pool worker), prints both pids
HOLD_AND_FORK = """
import os, sys, time
from corpuskit.core.owner import RunLock
RunLock(sys.argv[1], "x").acquire()
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
print(os.getpid(), child, flush=True)
time.sleep(60)
"""


def _ended_pid() -> int:
    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(p.stdout)


def test_alive_and_pid_reuse():
    assert alive(os.getpid()) and alive(os.getpid(), start_time(os.getpid()))
    assert not alive(_ended_pid())
    assert not alive(os.getpid(), (start_time(os.getpid()) or 0) + 1)  # same pid, another process


def test_scratch_names():
    mine = scratch_prefix("dedup") + "abc"
    assert mine.startswith(f"corpuskit-dedup-{HOST}-{os.getpid()}-") and not is_dead_scratch(mine, "dedup")
    assert is_dead_scratch(f"corpuskit-dedup-{HOST}-{_ended_pid()}-x_1", "dedup")
    assert not is_dead_scratch(f"corpuskit-dedup-other-host-{_ended_pid()}-x_1", "dedup")
    assert not is_dead_scratch("corpuskit-dedup-q8x_2ab1", "dedup")


def test_lock_is_exclusive_and_released(tmp_path):
    path = str(tmp_path / ".lock")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-c", HOLD_AND_FORK, path], stdout=subprocess.PIPE, env=env)
    parent, child = map(int, p.stdout.readline().split())
    try:
        with pytest.raises(UsageError, match=f"another run is using it \\(pid {parent} on this host"):
            RunLock(path, "clean").acquire()
        # the holder dies (kill -9); the child it forked lives on, but does not hold the lock
        os.kill(parent, signal.SIGKILL)
        p.wait()
        assert alive(child)
        lock = RunLock(path, "clean").acquire()
        assert lock.taken_over["pid"] == parent
        lock.release()
        assert not os.path.exists(path)
    finally:
        for pid in (parent, child):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def test_host_is_the_socket_host_name():
    import socket

    assert HOST == socket.gethostname()
