"""Where an output goes: a regular file is replaced atomically (a temporary file beside it,
renamed onto it), anything else (a FIFO, a device, a file descriptor's name) is written
through; a symlink's target is what is replaced. Shared by the JSONL writer (`io.writer`), the
Parquet writer (`io.columnar`) and every other file corpuskit replaces."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from corpuskit.core.errors import UsageError

_FD_PATH = re.compile(r"/dev/(?:stdout|stderr|fd/\d+)|/proc/(?:self|\d+)/fd/\d+")


def write_target(path: str) -> tuple[str, bool]:
    """(where to write, whether to write through) for an output path. A regular file (or a
    new one) is replaced atomically; a symlink's target is what is replaced (the link stays);
    a FIFO, a device (`/dev/null`, `/dev/stdout` on a terminal) or a socket is written
    through, never replaced by a regular file; so is a file descriptor's name (`/dev/stdout`,
    `/dev/fd/N`, `/proc/self/fd/N`: `>(gzip > x)` is /dev/fd/63) when it leads to a regular
    file, which is then appended to (`>> log` keeps what the log held)."""
    try:
        st = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise UsageError(f"{path}: cannot write ({e.strerror})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path}: is a directory (give a file name)")
    if st is None and path.endswith(("/", os.sep)):  # it made a file named like the folder meant
        raise UsageError(f"{path}: names a folder (ends in '/'), not a file: give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        return path, True
    if _FD_PATH.fullmatch(os.path.abspath(path)):  # an open file of the shell's: add to it
        return path, True
    return os.path.realpath(path), False


def create_temp(target: Path) -> tuple[int, str]:
    """(fd, path) of a new temporary file beside `target`, to be renamed onto it. Created the
    way `open(target, "w")` creates a file, mode 0666 less the umask (0644 under umask 022),
    so that the renamed output is as readable as any other file the user makes (mkstemp's
    0600 would make every output private); when `target` exists, with its permissions and
    owner (`keep_permissions`)."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        try:
            keep_permissions(fd, target)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        return fd, str(tmp)
    raise FileExistsError(f"{target}: cannot create a temporary file beside it")


def keep_permissions(fd: int, target: Path) -> None:
    """Give the replacement `fd` of an existing regular file `target` that file's permission
    bits (and its owner and group, where this process may): replacing `secret.jsonl` (0600)
    must not leave it readable by all, as a shell's `> secret.jsonl` would not. A new file keeps
    0666 less the umask."""
    try:
        st = os.stat(target)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        return
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)  # root may; others only to a group of theirs
        except OSError:
            pass
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
