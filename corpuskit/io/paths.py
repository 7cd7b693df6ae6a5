"""Finding inputs: the one folder walker and the one input classifier.

* `walk(root)`: files under a folder, depth-first in sorted order (the same on every file
  system), hidden entries (a name starting with ".") skipped, folder links followed once: a
  link back to a folder already on the way down (a loop) is skipped and reported.
* `classify(path)`: what a raw input is (jsonl, parquet, arrow, warc, html, urls) by its
  name, then by its first bytes (a Parquet, Arrow or WARC file with another name); None when it
  is none of them. The `.json` files a Hugging Face `datasets` folder holds beside its Arrow
  files (dataset_info.json, state.json, dataset_dict.json) are not inputs.
* `require(path)`: the one error for a path that does not exist (reason `not_found`).
* `expand_glob(pattern)`: a quoted glob (`'raw/*.jsonl.gz'`, `**` for any depth), sorted.
"""
from __future__ import annotations

import glob
import io
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from corpuskit.core.errors import BadInput

RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst",
                   ".json", ".json.gz", ".json.zst")
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".warc.wet", ".warc.wet.gz")
URL_LIST_SUFFIXES = (".urls", ".urls.gz", ".txt", ".txt.gz")
COLUMNAR_SUFFIXES = (".parquet", ".pq", ".arrow", ".feather", ".ipc")
DATASET_META = ("dataset_info.json", "state.json", "dataset_dict.json")


def has_glob(path: str) -> bool:
    return any(c in path for c in "*?[")


def expand_glob(pattern: str) -> list[str]:
    """The files a glob matches, sorted (hidden ones only when the pattern names them);
    BadInput `not_found` when none does."""
    got = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not got:
        raise BadInput(pattern, None, "not_found", "no file matches")
    return got


def is_dataset_meta(path: str | os.PathLike) -> bool:
    """dataset_info.json, state.json, dataset_dict.json of a `datasets.save_to_disk` folder."""
    p = Path(path)
    return p.name in DATASET_META and ((p.parent / "state.json").exists()
                                       or (p.parent / "dataset_dict.json").exists())


_stdin: tuple[Any, IO[bytes]] | None = None  # (sys.stdin.buffer, a peekable reader over it)


def stdin_buffer() -> IO[bytes]:
    """stdin's bytes, peekable (its first bytes tell its format), the same reader for the run."""
    global _stdin
    raw = sys.stdin.buffer
    if hasattr(raw, "peek"):
        return raw
    if _stdin is None or _stdin[0] is not raw:
        _stdin = (raw, io.BufferedReader(raw, 1 << 20))  # type: ignore[arg-type]
    return _stdin[1]


def require(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not os.path.lexists(p) or not p.exists():
        raise BadInput(str(path), None, "not_found", "no such file or directory")
    return p


def walk(root: str | os.PathLike, on_loop: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Files under `root` (see the module doc): each folder's entries in name order, a
    sub-folder's files where its name falls (as `find | sort` lists them). `on_loop(path)`
    hears of each folder link that loops back; such a link is not followed."""
    root = Path(root)
    try:
        st = root.stat()
    except OSError as e:
        raise BadInput(str(root), None, "unreadable", f"cannot list folder ({e.strerror})") from e
    stack = [(_entries(root), ((st.st_dev, st.st_ino),))]
    while stack:
        entries, seen = stack[-1]
        e = next(entries, None)
        if e is None:
            stack.pop()
            continue
        if e.name.startswith("."):
            continue
        try:
            is_dir = e.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        if not is_dir:
            if e.is_file():
                yield Path(e.path)
            continue
        try:
            s = e.stat(follow_symlinks=True)
        except OSError:  # a link loop the kernel refuses (ELOOP)
            s = None
        ident = (s.st_dev, s.st_ino) if s is not None else None
        if ident is None or ident in seen:
            if on_loop is not None:
                on_loop(e.path)
            continue
        stack.append((_entries(Path(e.path)), seen + (ident,)))


def _entries(d: Path) -> Iterator[os.DirEntry]:
    try:
        return iter(sorted(os.scandir(d), key=lambda e: e.name))
    except OSError as e:
        raise BadInput(str(d), None, "unreadable", f"cannot list folder ({e.strerror})") from e


def is_record_path(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(RECORD_SUFFIXES + COLUMNAR_SUFFIXES) and not is_dataset_meta(path)


def _sniffable(path: str | os.PathLike) -> bool:
    """A regular file, whose first bytes can be read ahead and read again. A FIFO, a process
    substitution (`<(zcat x.gz)`, /dev/fd/63) or a device is not: what a look ahead read from
    it would be gone for the reader that comes after (all of a small stream, as the writer
    is stopped once its reader closes)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # (opening it says what is wrong, where it is read)


def columnar_kind(path: str | os.PathLike) -> str | None:
    """parquet | arrow by the first bytes of a local file (whatever its name), else None; None
    for a stream (a FIFO: see `_sniffable`), which is read as JSON lines."""
    if not _sniffable(path):
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    return None


def is_warc_path(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(WARC_SUFFIXES)


def is_html_path(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(HTML_SUFFIXES)


def sniff_warc(path: str | os.PathLike) -> bool:
    """A WARC file by its first bytes (plain or gzip-compressed), whatever its name (not a
    stream's: see `_sniffable`)."""
    if not _sniffable(path):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(31).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith(b"WARC/")


def classify(path: str, other: str | None = None) -> str | None:
    """jsonl | parquet | arrow | warc | html | urls for a raw input file; `other` when it is
    none of them (the pipeline ignores such files; `fetch` reads any other file as a URL list)."""
    if is_dataset_meta(path):
        return other
    kind = columnar_kind(path)
    if kind is not None:
        return kind
    low = path.lower()
    if low.endswith(COLUMNAR_SUFFIXES):  # by name: a truncated one is then reported as such
        return "parquet" if low.endswith((".parquet", ".pq")) else "arrow"
    if is_record_path(path):
        return "jsonl"
    if is_warc_path(path):
        return "warc"
    if is_html_path(path):
        return "html"
    if path.lower().endswith(URL_LIST_SUFFIXES):
        return "urls"
    if sniff_warc(path):
        return "warc"
    return other
