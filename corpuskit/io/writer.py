"""Writing records: JSONL (plain, .gz, .zst) atomically by temp file and rename, or through
to a FIFO, a device or a file descriptor; Parquet for a `.parquet` path; JSON files."""
from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

from corpuskit.core.errors import OutputError, UsageError
from corpuskit.io import columnar, remote
from corpuskit.io.columnar import ParquetRecordWriter
from corpuskit.io.targets import create_temp, write_target

_CHUNK = 1 << 20
_orjson_dumps = orjson.dumps


def compression_of(path: str) -> str | None:
    p = path.lower()
    if p.endswith(".gz"):
        return "gz"
    if p.endswith(".zst") or p.endswith(".zstd"):
        return "zst"
    return None



_APPEND_NL = orjson.OPT_APPEND_NEWLINE
T = TypeVar("T")


def dumps(record: dict) -> bytes:
    """One JSON line. orjson keeps key order; values it cannot encode (integers beyond 64 bits)
    fall back to the standard library, in the same compact form, so no record is ever lost and
    such an integer is written as it was read."""
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # (also orjson's own nesting limit, 254 levels)
        return with_recursion_room(json.dumps, record, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass") + b"\n"


# orjson reads JSON nested up to 1,024 levels deep; the standard library's encoder and decoder
# count each level against Python's recursion limit (1,000 by default).
ORJSON_MAX_DEPTH = 1024


def with_recursion_room(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """fn(*args, **kw) (the standard library's json.dumps or json.loads), with Python's
    recursion limit raised for the call when a value nested as deep as orjson reads needs it."""
    try:
        return fn(*args, **kw)
    except RecursionError:
        pass
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 2 * ORJSON_MAX_DEPTH)
    try:
        return fn(*args, **kw)
    finally:
        sys.setrecursionlimit(limit)


# A record whose text (or another watched field: RecordWriter's big_fields) is longer than this
# (characters) is written in parts (`dumps_parts`).
BIG_STR = 1 << 20


def dumps_parts(record: dict) -> Iterator[bytes] | None:
    """The bytes of ``orjson.dumps(record, option=OPT_APPEND_NEWLINE)`` as parts whose
    concatenation is exactly that, with each string value (at the top level) of over BIG_STR
    characters encoded a slice of BIG_STR characters at a time as the parts are taken (an iterator: never more than a slice's bytes
    at once); None when orjson cannot encode the record (see `dumps`: every other value is
    encoded before this returns, so the parts never fail half-way).

    Why: orjson encodes a non-ASCII str through CPython's UTF-8 cache, which then stays on the
    str as long as it lives; dumping a 200 MB record whole holds its text, that cache and the
    line at once. A slice's cache goes with the slice. (JSON escapes character by character,
    and a Python str holds no surrogate pair a cut could split, so the parts add up.)"""
    dump = _orjson_dumps
    parts: list[bytes | str] = [b"{"]
    try:
        for k, v in record.items():
            if len(parts) > 1:
                parts.append(b",")
            parts.append(dump(k))
            parts.append(b":")
            if v.__class__ is str and len(v) > BIG_STR:
                parts.append(v)  # encoded as it is written (_emit)
            else:
                parts.append(dump(v))
    except TypeError:
        return None
    parts.append(b"}\n")
    return _emit(parts)


def _emit(parts: list[bytes | str]) -> Iterator[bytes]:
    dump = _orjson_dumps
    for p in parts:
        if p.__class__ is str:
            yield b'"'
            for i in range(0, len(p), BIG_STR):
                yield dump(p[i:i + BIG_STR])[1:-1]  # type: ignore[index]
            yield b'"'
        else:
            yield p  # type: ignore[misc]


class RecordWriter:
    """Write records to a file (atomically: a temp file beside it, renamed on `close()`,
    removed on `abort()`), to a URL (a local temp file uploaded on `close()`) or to stdout when
    path is None or `-`. Compression by suffix. Targets that are not regular files (a FIFO,
    /dev/null, /dev/stdout, a process substitution) are written through, and a symlink's
    target is replaced, not the link (see `write_target`).

    big_fields: the fields (one or two) looked at for a huge string, which makes the record
    written in parts (`dumps_parts`); the text field, and the input field of a stage that reads
    another (html2text's html). One dict lookup a record for the usual one."""

    def __init__(self, path: str | None, atomic: bool = True, append: bool = False,
                 big_fields: tuple[str, ...] = ("text",)):
        fields = tuple(dict.fromkeys(big_fields)) or ("text",)
        if len(fields) > 2:
            raise ValueError("big_fields: one or two fields")
        self._big1, self._big2 = fields[0], (fields[1] if len(fields) > 1 else None)
        self.path = None if path in (None, "-") else path
        self.atomic = atomic and not append
        self.through = False
        self.count = 0
        self.bytes = 0
        self._tmp: str | None = None
        self._dest: str | None = None
        self._url: str | None = None
        self._closed = False
        self._finished = False
        self._comp: Any = None  # the compressor under the buffer (flush() goes through it)
        if self.path is None:
            self._raw: IO[bytes] = sys.stdout.buffer
            self._f: IO[bytes] = self._raw
            return
        if remote.is_url(self.path):
            if append:
                raise UsageError(f"{self.path}: cannot append to a remote file (write locally)")
            remote.fs_of(self.path)  # the missing-package error now, not after the run
            self._url, self.atomic = self.path, True
            fd, self._tmp = tempfile.mkstemp(prefix="corpuskit-out-", suffix=".tmp")
            self._raw = os.fdopen(fd, "wb", buffering=_CHUNK)
            self._open_compressor(self._url)
            return
        dest, self.through = write_target(self.path)
        target = Path(dest)
        try:
            if self.through:
                self.atomic = False
                self._raw = open(dest, "ab", buffering=_CHUNK)  # noqa: SIM115 - never truncate a device
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                if append:  # resuming an interrupted run (fetch --resume): add to what is there
                    self._raw = open(target, "ab", buffering=_CHUNK)  # noqa: SIM115
                elif atomic:
                    fd, self._tmp = create_temp(target)
                    self._dest = dest
                    self._raw = os.fdopen(fd, "wb", buffering=_CHUNK)
                else:
                    self._raw = open(target, "wb", buffering=_CHUNK)  # noqa: SIM115
        except PermissionError:
            raise UsageError(f"{self.path}: cannot write (permission denied)") from None
        except (NotADirectoryError, FileNotFoundError) as e:
            raise UsageError(f"{self.path}: cannot write ({e.strerror})") from None
        self._open_compressor(self.path)

    def _open_compressor(self, path: str) -> None:
        comp = compression_of(path)
        # compressors get large writes: one call per record costs more than the compression
        if comp == "gz":
            self._comp = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
            self._f = io.BufferedWriter(self._comp, _CHUNK)  # type: ignore[assignment]
        elif comp == "zst":
            import zstandard

            self._comp = zstandard.ZstdCompressor(level=3).stream_writer(self._raw, closefd=False)
            self._f = io.BufferedWriter(self._comp, _CHUNK)  # type: ignore[assignment]
        else:
            self._f = self._raw

    def write(self, record: dict) -> None:
        t = record.get(self._big1)
        if t.__class__ is str and len(t) > BIG_STR:  # a huge record: in parts (see dumps_parts)
            self._write_parts(record)
            return
        if self._big2 is not None:
            t = record.get(self._big2)
            if t.__class__ is str and len(t) > BIG_STR:
                self._write_parts(record)
                return
        try:
            b = _orjson_dumps(record, option=_APPEND_NL)
        except TypeError:
            b = dumps(record)
        try:
            self._f.write(b)
        except OSError as e:
            raise self._failed(e) from None
        self.count += 1
        self.bytes += len(b)

    def _write_parts(self, record: dict) -> None:
        parts = dumps_parts(record) or [dumps(record)]
        n = 0
        try:
            for p in parts:
                self._f.write(p)
                n += len(p)
        except OSError as e:
            raise self._failed(e) from None
        self.count += 1
        self.bytes += n

    def write_raw(self, line: bytes) -> None:
        """A raw line, verbatim (for --bad-records); its newline added by a second write, not
        by a copy of the line (a huge one)."""
        try:
            self._f.write(line)
            n = len(line)
            if not line.endswith(b"\n"):
                self._f.write(b"\n")
                n += 1
        except OSError as e:
            raise self._failed(e) from None
        self.count += 1
        self.bytes += n

    def _failed(self, e: OSError) -> BaseException:
        """A write error as one line naming the output (disk full ...); a closed pipe stays a
        BrokenPipeError, which the CLI ends quietly on."""
        if isinstance(e, BrokenPipeError):
            return e
        return OutputError.from_os(self.path or "<stdout>", e)

    def flush(self) -> None:
        """Push what was written so far to the file (a source stage's output is flushed every
        second, so a killed crawl loses at most a second of pages)."""
        try:
            self._f.flush()  # the buffer into the compressor (or the file)
            if isinstance(self._comp, gzip.GzipFile):
                self._comp.flush()  # Z_SYNC_FLUSH: everything so far is decodable
            elif self._comp is not None:
                import zstandard

                self._comp.flush(zstandard.FLUSH_BLOCK)
            self._raw.flush()
        except OSError as e:
            raise self._failed(e) from None

    def finish(self) -> None:
        """Everything closing does but the final rename: the data is written and synced. A run
        with several outputs finishes them all, then commits them all, so a failure (a full
        disk) leaves none of them replaced rather than some."""
        if self._closed or self._finished:
            return
        if self.path is None:
            try:
                self._f.flush()
            except OSError as e:
                raise self._failed(e) from None
            self._finished = True
            return
        try:
            if self._f is not self._raw:
                self._f.close()  # finishes the gzip/zstd frame
            self._raw.flush()
            if not self.through:  # fsync is for files (a pipe or device refuses it)
                os.fsync(self._raw.fileno())
            self._raw.close()
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise self._failed(e) from None
            raise
        self._finished = True

    def commit(self) -> None:
        """Finish, then move the temp file into place."""
        if self._closed:
            return
        self.finish()
        if self._tmp and self._url:
            try:
                remote.put_file(self._tmp, self._url)
            except OSError as e:
                self.abort()
                raise self._failed(e) from None
            os.unlink(self._tmp)
            self._tmp = None
        elif self._tmp:
            try:
                os.replace(self._tmp, self._dest or self.path)  # type: ignore[arg-type]
            except OSError as e:
                self.abort()
                raise self._failed(e) from None
            self._tmp = None
        self._closed = True

    close = commit

    def abort(self) -> None:
        """Drop what was written (nothing partial is left behind)."""
        if self._closed:
            return
        self._closed = True
        if self.path is None:
            return
        if not self._finished:
            try:
                self._raw.close()
            except Exception:  # noqa: BLE001 - we are cleaning up after another error
                pass
        if self._tmp and os.path.exists(self._tmp):
            os.unlink(self._tmp)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_writer(path: str | None, atomic: bool = True, append: bool = False,
                text_field: str = "text", big_fields: tuple[str, ...] = ()) -> RecordWriter | ParquetRecordWriter:
    """A RecordWriter, or a ParquetRecordWriter for a `.parquet` path (local or a URL).
    big_fields: the fields that may hold a huge string (RecordWriter's; text_field when empty)."""
    if path not in (None, "-") and columnar.is_columnar_path(path) == "parquet":  # type: ignore[arg-type]
        if append:
            raise UsageError(f"{path}: cannot append to a Parquet file (--resume needs JSONL output)")
        return ParquetRecordWriter(path, text_field=text_field)  # type: ignore[arg-type]
    if path not in (None, "-") and columnar.is_columnar_path(path) == "arrow":  # type: ignore[arg-type]
        raise UsageError(f"{path}: corpuskit writes JSONL (.jsonl, .jsonl.gz, .jsonl.zst) or Parquet "
                         "(.parquet), not Arrow files")
    return RecordWriter(path, atomic=atomic, append=append, big_fields=big_fields or (text_field,))


def check_bad_records_path(path: str | None) -> None:
    """UsageError for a --bad-records path that names a Parquet or Arrow file: quarantined lines
    are kept verbatim, as the bytes they were (a line that is not a record, or not UTF-8, has no
    columns to go in), so they are written as JSON lines only."""
    if path not in (None, "-") and columnar.is_columnar_path(path):  # type: ignore[arg-type]
        raise UsageError(f"--bad-records {path}: bad input lines are kept verbatim, as JSON lines "
                         "(a line that is not a record has no columns): give a .jsonl file name")


def write_records(path: str, records: Iterable[dict]) -> int:
    """Write records to `path` (JSONL, or Parquet for `.parquet`) atomically; returns the count."""
    with open_writer(path) as w:
        for r in records:
            w.write(r)
    return w.count


def write_json_atomic(path: str, obj: Any) -> None:
    """Pretty JSON to `path` as every output is written (`write_target`): via a temp file and
    rename onto a regular file (a symlink's target, the link stays), written through to a
    FIFO, a device or a file descriptor's name, never replacing one."""
    data = orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)
    dest, through = write_target(path)
    if through:
        try:
            with open(dest, "ab") as f:  # never truncate a device, nor a log a descriptor names
                f.write(data)
        except OSError as e:
            raise OutputError.from_os(str(path), e) from None
        return
    p = Path(dest)
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = create_temp(p)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise OutputError.from_os(str(path), e) from None
