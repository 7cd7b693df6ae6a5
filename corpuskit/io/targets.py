"""Where an output goes: a regular file is replaced atomically (a temporary file beside it,
renamed onto it), anything else (a FIFO, a device, a file descriptor's name) is written
through; a symlink's target is what is replaced. Shared by the JSONL writer (`io.writer`), the
Parquet writer (`io.columnar`) and every other file corpuskit replaces."""
from __future__ import annotations

import os
import re
import stat
import sys
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


def _identity(path: str | None) -> tuple | None:
    """What an output path writes to: ("inode", dev, ino) for an existing target (symlinks and
    /dev/fd followed), ("path", resolved path) for one that does not exist yet; None for a
    character device (/dev/null, a terminal), where sharing is harmless."""
    if path in (None, "-"):
        try:
            st = os.fstat(sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # stdout is not a real file (tests)
            return ("stdout",)
    else:
        try:
            st = os.stat(path)
        except OSError:
            return ("path", os.path.realpath(path))
    if stat.S_ISCHR(st.st_mode):
        return None
    return ("inode", st.st_dev, st.st_ino)


def check_distinct_outputs(outputs: dict[str, str | None]) -> None:
    """Refuse (UsageError, exit 2) two outputs that are one file: the second would replace the
    first and its records would be lost. `outputs` maps an option name to its path; None is
    stdout for `-o` and absent for the others."""
    seen: dict[tuple, str] = {}
    for opt, path in outputs.items():
        if path is None and opt != "-o":
            continue
        ident = _identity(path)
        if ident is None:
            continue
        if ident in seen:
            shown = "stdout" if path in (None, "-") else path
            raise UsageError(f"{seen[ident]} and {opt} both write to {shown}: "
                             "give each its own file (the records of one would be lost)")
        seen[ident] = opt


def _input_identity(path: str) -> tuple | None:
    """("inode", dev, ino) of an input that is a regular file (stdin too, when it is one);
    None for a URL, a pipe, a device or a path that cannot be read (its own error comes later)."""
    try:
        if path == "-":
            st = os.fstat(sys.stdin.fileno())
        elif "://" in path:
            return None
        else:
            st = os.stat(path)
    except (AttributeError, OSError, ValueError):  # stdin is not a real file (tests)
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return ("inode", st.st_dev, st.st_ino)


def check_outputs_not_inputs(outputs: dict[str, str | None], inputs: list[str]) -> None:
    """Refuse (UsageError, exit 2) an output that is one of the files read: it would be replaced
    by the run (`--stats in.jsonl` by the counters, `-o in.jsonl` by the kept records alone, the
    rejected ones gone), or grow while it is read (`>> in.jsonl`). Compared by inode, so a
    symlink, a hard link or stdout redirected to the file is caught. `outputs` as for
    `check_distinct_outputs`; `inputs` the files as expanded (folders and globs walked)."""
    read: dict[tuple, str] = {}
    for path in inputs:
        ident = _input_identity(path)
        if ident is not None:
            read.setdefault(ident, path)
    if not read:
        return
    for opt, path in outputs.items():
        if path is None and opt != "-o":
            continue
        ident = _identity(path)
        if ident is not None and ident in read:
            shown = "stdout" if path in (None, "-") else path
            src = "stdin" if read[ident] == "-" else read[ident]
            raise UsageError(f"{opt} {shown} is also an input ({src}): write to another file "
                             "(the input would be replaced and its records lost)")
