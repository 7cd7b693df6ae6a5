"""Who owns a run's lock or scratch folder, and whether that owner is still alive.

A run names what it holds with its pid and host (and, on Linux, the pid's start time, so a pid
the system gave to another process since is not mistaken for the run). A later run uses this
to take over a lock, or to delete a scratch folder, that a killed run (kill -9, a crash, a
lost machine) left behind, and to leave those of a live run alone.

`RunLock` is an advisory POSIX lock (fcntl) on a file that also records its holder: the kernel
drops the lock when the holder dies however it dies, so a dead run's lock is never in the way;
the recorded pid and host only serve to name the holder of a live one. A POSIX lock belongs to
the process, not to its open file: worker processes forked by the run do not hold it, so it is
free as soon as the run's own process is gone (and NFS supports it). It guards against other
processes; two runs in threads of one process are not told apart.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time

from corpuskit.core.errors import UsageError

# the host name as socket.gethostname() gives it (POSIX gethostname is uname's node name),
# without importing socket at start-up
HOST = os.uname().nodename


def start_time(pid: int) -> int | None:
    """The pid's start time in clock ticks since boot (Linux), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # the command name (2nd field) may hold spaces and parentheses: split after the last ')'
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return int(fields[19])  # field 22 of the whole line
    except (IndexError, ValueError):
        return None


def alive(pid: int, started: int | None = None) -> bool:
    """Is `pid` (on this host) a live process, and the same one that had `started`?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        pass
    if started is not None:
        now = start_time(pid)
        if now is not None and now != started:
            return False  # the pid was reused
    return True


def me() -> dict:
    pid = os.getpid()
    return {"pid": pid, "host": HOST, "start": start_time(pid),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def scratch_prefix(kind: str) -> str:
    """`corpuskit-KIND-HOST-PID-`: how a scratch folder's name starts (mkdtemp adds a random
    part without "-")."""
    return f"corpuskit-{kind}-{HOST}-{os.getpid()}-"


def is_dead_scratch(name: str, kind: str) -> bool:
    """Whether a folder named by `scratch_prefix(kind)` belongs to a process of this host that
    is no longer alive. Names in another form, or of another host, are not ours to judge."""
    parts = name.rsplit("-", 2)
    if len(parts) != 3 or parts[0] != f"corpuskit-{kind}-{HOST}" or not parts[1].isdigit():
        return False
    return not alive(int(parts[1]))


def remove_dead_scratch(folder: str, kind: str) -> list[str]:
    """Delete the scratch folders of `kind` that dead processes of this host left in `folder`
    (a killed run cannot clean up after itself). Returns their names."""
    gone = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return gone
    for e in entries:
        if is_dead_scratch(e.name, kind) and e.is_dir(follow_symlinks=False):
            shutil.rmtree(e.path, ignore_errors=True)
            gone.append(e.name)
    return sorted(gone)


class RunLock:
    """Hold `path` for the life of a run. A second run raises UsageError (exit 2) naming the
    holder; a lock file left by a dead run is taken over."""

    def __init__(self, path: str, what: str):
        self.path = path
        self.what = what
        self.fd: int | None = None
        self.taken_over: dict | None = None

    def acquire(self) -> RunLock:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise UsageError(f"{self.what}: another run is using it ({self._holder()}); "
                                 "wait for it to finish or stop it") from None
            try:  # the file may have been removed by the run that just let go of it
                if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                    os.close(fd)
                    continue
            except FileNotFoundError:
                os.close(fd)
                continue
            break
        old = os.read(fd, 4096)
        if old.strip():
            try:
                self.taken_over = json.loads(old)
            except ValueError:
                self.taken_over = {}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me()) + "\n").encode(), 0)
        self.fd = fd
        return self

    def _holder(self) -> str:
        try:
            with open(self.path, encoding="utf-8") as f:
                h = json.loads(f.read() or "{}")
        except (OSError, ValueError):
            h = {}
        if not h.get("pid"):
            return "a run that has just started"
        where = "this host" if h.get("host") == HOST else f"host {h.get('host')}"
        return f"pid {h['pid']} on {where}, since {h.get('since', '?')}; lock file {self.path}"

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)  # unlinked while held: a waiting run re-checks the inode
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
