"""Record streams: reading records from files, folders, globs, URLs and stdin in constant
memory, and writing them atomically.

Inputs are JSONL, plain or gzip/zstd-compressed (told by their first bytes, whatever the name,
stdin too), and Parquet or Arrow files (corpuskit.io.columnar; also told by their first
bytes). Outputs are JSONL (`.gz`/`.zst` by suffix) or Parquet (`.parquet`), local or a URL.

Reading checks every line and raises `BadInput` naming FILE:LINE, or, when the caller passes
a `bad_sink`, writes the raw line there verbatim and goes on (the count of each reason is kept
in `ReadStats`). Nothing is dropped without being counted.
"""
from __future__ import annotations

import codecs
import gzip
import io
import itertools
import json
import operator
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from corpuskit.core.errors import BadInput
from corpuskit.core.records import make_id
from corpuskit.io import columnar, remote
from corpuskit.io.columnar import BadRow
from corpuskit.io.paths import (
    COLUMNAR_SUFFIXES,
    RECORD_SUFFIXES,
    classify,
    expand_glob,
    has_glob,
    is_dataset_meta,
    require,
    stdin_buffer,
    walk,
)
from corpuskit.io.remote import open_remote
from corpuskit.io.writer import (  # noqa: F401 - the writing side, re-exported
    RecordWriter,
    compression_of,
    create_temp,
    dumps,
    open_writer,
    with_recursion_room,
    write_json_atomic,
    write_records,
    write_target,
)

_CHUNK = 1 << 20
# bytes of lines a batch: small enough that a batch's lines are parsed while they are still in
# the CPU's cache (64 KB batches took 0.33 s of CPU where 1 MB batches took 0.36 s for 100 MB
# through `cat`, in-process, median of 21 interleaved runs on a loaded 2-core machine)
_LINES = 1 << 16
_PIECE = 1 << 20  # slices of a huge line
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
INPUT_SUFFIXES = RECORD_SUFFIXES + COLUMNAR_SUFFIXES


def expand_inputs(inputs: Iterable[str], suffixes: tuple[str, ...] = INPUT_SUFFIXES) -> list[str]:
    """Files as given, folders expanded to their record files in sorted order, globs (quoted,
    expanded here) to the files they match in sorted order, URLs through fsspec, `-` for stdin.
    A path that does not exist is an error (BadInput, reason `not_found`)."""
    out: list[str] = []
    for item in inputs:
        if item == "-":
            out.append(item)
            continue
        if remote.is_url(item):
            fs, root = remote.fs_of(item)
            if has_glob(root) or fs.isdir(root):
                out.extend(remote.list_remote(item, suffixes)[0])
            else:
                out.append(item)
            continue
        if has_glob(item) and not os.path.lexists(item):
            out.extend(expand_glob(item))
            continue
        p = require(item)
        if p.is_dir():
            out.extend(str(f) for f in walk(p) if f.name.lower().endswith(suffixes) and not is_dataset_meta(f))
        else:
            out.append(item)
    return out


def input_kind(path: str) -> str:
    """jsonl | parquet | arrow: by the first bytes (stdin too), else by the name."""
    if path == "-":
        head = stdin_buffer().peek(8)[:8]  # type: ignore[attr-defined]
    elif remote.is_url(path):
        head = columnar.read_head(path)
    else:
        kind = classify(path, "jsonl")
        return kind if kind in ("parquet", "arrow") else "jsonl"
    kind = columnar.sniff_columnar(head) or columnar.is_columnar_path(path)
    return kind or "jsonl"


def _open_binary(path: str) -> IO[bytes]:
    """The decompressed bytes of a file, URL or stdin: gzip and zstd by their first bytes."""
    if path == "-":
        raw: Any = stdin_buffer()
    else:
        try:
            if "://" in path:  # s3://, gs://, memory://: through fsspec (corpuskit.io.remote)
                raw = io.BufferedReader(open_remote(path), _CHUNK)
            else:
                raw = open(path, "rb", buffering=_CHUNK)  # noqa: SIM115 - closed by the caller
        except IsADirectoryError:
            raise BadInput(path, None, "not_a_file", "is a directory") from None
        except FileNotFoundError:
            raise BadInput(path, None, "not_found", "no such file or directory") from None
        except PermissionError:
            raise BadInput(path, None, "unreadable", "permission denied") from None
    try:
        head = raw.peek(4)[:4]
    except OSError:
        head = b""
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        return io.BufferedReader(_ZstdRaw(raw), buffer_size=_CHUNK)
    return raw


class TruncatedZstd(OSError):
    pass


class _ZstdRaw(io.RawIOBase):
    """Decompress concatenated zstd frames, raising at the end of the file if the last frame is
    incomplete (zstandard's stream_reader silently returns the partial data)."""

    def __init__(self, raw: IO[bytes]):
        import zstandard

        self._zstd = zstandard
        self._raw = raw
        self._dobj = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._pos = 0
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        while self._pos >= len(self._pending):
            self._pending, self._pos = b"", 0
            chunk = self._raw.read(_CHUNK)
            if not chunk:
                if self._in_frame:
                    raise TruncatedZstd("zstd stream ends in the middle of a frame")
                return 0
            while chunk:
                self._in_frame = True
                try:
                    self._pending += self._dobj.decompress(chunk)
                except self._zstd.ZstdError as e:
                    raise OSError(f"corrupt zstd data ({e})") from None
                if self._dobj.eof:
                    chunk = self._dobj.unused_data
                    self._dobj = self._zstd.ZstdDecompressor().decompressobj()
                    self._in_frame = False
                else:
                    chunk = b""
        n = min(len(b), len(self._pending) - self._pos)
        b[:n] = memoryview(self._pending)[self._pos:self._pos + n]
        self._pos += n
        if self._pos >= len(self._pending):  # let the decompressed data go once read: a chunk of a
            self._pending, self._pos = b"", 0  # repetitive text may be a whole huge record
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def iter_line_batches(path: str, keep_newline: bool = False) -> Iterator[tuple[int, list[bytes], int]]:
    """(number of the first line, lines, bytes read) in batches of about 64 KB (_LINES), with each
    line's "\n" kept (keep_newline, what the record reader wants: JSON ignores it) or removed.
    Lines are split at "\n" only; a line may end in \r (JSON treats it as white space).
    The buffered reader's C `readlines(hint)` is 5x faster than splitting big chunks by hand
    (no fresh multi-megabyte buffers to fault in and copy). Decompression errors (a truncated
    .gz, a corrupt .zst) become BadInput at the line where the data ended."""
    f = _open_binary(path)
    lineno = 1
    name = "<stdin>" if path == "-" else path
    try:
        readlines = f.readlines
        while True:
            lines = readlines(_LINES)
            if not lines:
                break
            if lineno == 1:
                check_text(name, lines[0], b"".join([x[:4096] for x in lines[:64]])[:4096])
            nbytes = sum(map(len, lines))
            if nbytes > HUGE_LINE:  # a huge line: before its first big block is freed
                return_big_blocks()
            if not keep_newline:
                lines = [x[:-1] if x[-1:] == b"\n" else x for x in lines]
            n = len(lines)  # (the consumer may empty the list: handed_lines)
            yield lineno, lines, nbytes
            lineno += n
    except EOFError as e:  # gzip: "Compressed file ended before the end-of-stream marker"
        raise BadInput(name, lineno, "truncated_file",
                       f"compressed file is truncated ({e}); the file is incomplete") from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise BadInput(name, lineno, "corrupt_file", f"not a valid gzip stream ({e})") from None
    except TruncatedZstd as e:
        raise BadInput(name, lineno, "truncated_file",
                       f"compressed file is truncated ({e}); the file is incomplete") from None
    except OSError as e:
        raise BadInput(name, lineno, "corrupt_file", f"cannot read: {e}") from None
    finally:
        if path != "-":
            f.close()


def handed_lines(path: str) -> Iterator[list[bytes]]:
    """Each line of a file (without its newline) as a one-element list, the only reference to
    the line this reader keeps: the caller hands it on (`loads_handed(batch)`, or `batch[0] =
    None` once written), so that a huge line is never held beside the record made from it.
    (`for line in lines` would keep the line in the loop variable and in the batch list until
    the next line is read.)"""
    for _, lines, _ in iter_line_batches(path):
        lines.reverse()
        pop = lines.pop
        while lines:
            yield [pop()]


def iter_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its newline) for every line, blank ones included."""
    for first, lines, _ in iter_line_batches(path):
        yield from enumerate(lines, first)


# orjson reads an integer beyond 64 bits as a float (18446744073709551616 -> 1.8446744073709552e+19,
# -9223372036854775809 -> -9.223372036854776e+18): a float of magnitude 2**63 or more. A record
# holding such a float (rare: data seldom has one) is read again by the standard library, whose
# integers are exact; every other record keeps orjson's result. Looking at the parsed values
# (the few that are not strings) costs less than scanning the raw bytes for runs of digits.
_LOST_INT = 2.0 ** 63


def lost_integer(obj: Any) -> bool:
    """Whether a value orjson parsed may hold an integer it turned into a float (see above)."""
    c = obj.__class__
    try:
        if c is dict:
            return _lost_in(obj.values())
        if c is list:
            return _lost_in(obj)
    except RecursionError:  # nested deeper than Python's recursion limit: an explicit stack
        stack = [obj]
        while stack:
            o = stack.pop()
            c = o.__class__
            if c is float and abs(o) >= _LOST_INT:
                return True
            if c is dict:
                stack.extend(o.values())
            elif c is list:
                stack.extend(o)
        return False
    return c is float and abs(obj) >= _LOST_INT


def _lost_in(values: Any) -> bool:
    for v in values:
        c = type(v)  # (a little faster than v.__class__ here: the bulk of a record's values)
        if c is str or c is int:
            continue
        if c is float:
            if abs(v) >= _LOST_INT:
                return True
        elif c is dict:
            if _lost_in(v.values()):
                return True
        elif c is list and _lost_in(v):
            return True
    return False


def loads_exact(line: bytes) -> Any:
    """orjson.loads, but integers of any size come back exact (see lost_integer)."""
    obj = orjson.loads(line)
    if lost_integer(obj):
        obj = _exact(line, obj)
    return obj


def loads_handed(batch: list) -> Any:
    """loads_exact(batch[0]), the line handed over by the caller, who holds it nowhere else:
    batch[0] is set to None, and a huge line (over HUGE_LINE) is parsed in parts and let go
    before its long strings become strs (see split_huge)."""
    line = batch[0]
    huge = split_huge(line) if len(line) > HUGE_LINE else None
    if huge is None:
        obj = loads_exact(line)
        batch[0] = None
        return obj
    batch[0] = line = None
    return huge.fill()


def _exact(line: bytes, obj: Any) -> Any:
    """The value of a line orjson accepted (`obj`) that holds a float where an integer beyond
    64 bits may have been (lost_integer), re-read by the standard library with exact integers."""
    return with_recursion_room(json.loads, line.decode("utf-8", "surrogatepass"))


# A line longer than this (bytes) is parsed in parts (`split_huge`), each of its long string
# values a slice at a time, so that it is never held beside a whole copy (orjson.loads copies
# its input whole before it makes the str: line + copy + str is 3.4x the line for mixed
# English and Chinese text).
HUGE_LINE = 8 << 20
_JSON_SPACE = b" \t\r\n"


class HugeLine:
    """A huge line split by `split_huge`: its record with a placeholder for each long string
    value, and each such value as UTF-8 bytes (unescaped), to be put in place by `fill` once
    the line itself is let go."""

    __slots__ = ("record", "values", "slots")

    def __init__(self, record: Any, values: list[bytearray], slots: list[tuple[Any, Any]]):
        self.record, self.values, self.slots = record, values, slots

    def fill(self) -> Any:
        """The record, with each placeholder replaced by its string (decoded one at a time,
        each UTF-8 buffer dropped as soon as its str is made)."""
        values, self.values = self.values, []
        values.reverse()
        for container, key in self.slots:
            container[key] = values.pop().decode("utf-8")
        return self.record


def string_spans(line: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each JSON string literal in a line, quotes included (outside strings JSON
    has no other use for a quote; a quote inside one is escaped: after an odd number of
    backslashes). Found with bytes.find, in no more memory than the line (a regular expression
    for a string literal keeps a backtracking entry for each escape it passes: 2.6x a 20 MB
    line of text with a newline every 40 bytes). Stops at an unterminated string."""
    find = line.find
    pos = 0
    while True:
        s = find(b'"', pos)
        if s < 0:
            return
        e = s + 1
        while True:
            e = find(b'"', e)
            if e < 0:
                return
            k = e - 1
            while line[k] == 0x5C:  # "\\"
                k -= 1
            if (e - 1 - k) % 2 == 0:
                break
            e += 1
        yield s, e + 1
        pos = e + 1


def _unescape(line: bytes, start: int, end: int) -> bytearray | None:
    """The UTF-8 bytes of the JSON string whose content (between its quotes) is
    line[start:end], decoded by orjson a slice of about _PIECE bytes at a time; None when
    orjson refuses it. A slice is never cut inside an escape or a UTF-8 character: a cut that
    orjson refuses (a lone half of an escaped surrogate pair, an escape cut short, a partial
    character) is moved back a byte at a time; a string with a real fault is refused at every
    cut and the caller parses the line whole (and reports what orjson says)."""
    view = memoryview(line)
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    out = bytearray()
    i = start
    while i < end:
        j = min(i + max(_PIECE, 32), end)  # a slice holds any escape (12 bytes) past its 16 cuts
        for _ in range(16):
            if j == end or line[j] & 0xC0 != 0x80:  # not inside a UTF-8 character
                try:
                    piece = loads(b'"' + view[i:j] + b'"')
                    break
                except JSONDecodeError:
                    if j == end:
                        return None
            j -= 1
        else:
            return None
        out += piece.encode("utf-8")
        del piece
        i = j
    return out


_mmap_fixed = False


def return_big_blocks() -> None:
    """Have glibc's malloc give every block over 128 KiB its own mapping, returned to the system
    when freed, from now on (mallopt M_MMAP_THRESHOLD; nothing elsewhere). By default the
    threshold rises to the size of each mapped block freed, up to 32 MB, after which the
    megabyte-sized temporaries of a huge record stay in the heap and the process keeps them:
    0.2x the record's size more at the peak. Done once, when the first huge line is met."""
    global _mmap_fixed
    if _mmap_fixed:
        return
    _mmap_fixed = True
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        pass


def split_huge(line: bytes) -> HugeLine | None:
    """A huge line's record with its long string values (over _PIECE bytes of JSON, keys
    excepted) held apart as UTF-8 (see HugeLine); None when the line has no such value or is
    not valid JSON (the caller then parses it whole, errors included, as for any line). The
    rest of the line (the "skeleton") is parsed by orjson with a placeholder in each long
    value's place, integers beyond 64 bits read exactly as `parse_lines` does."""
    return_big_blocks()
    spans = []
    n = len(line)
    for s, e in string_spans(line):
        if e - s <= _PIECE:
            continue
        k = e
        while k < n and line[k] in _JSON_SPACE:
            k += 1
        if k < n and line[k] == 0x3A:  # ":": a key
            continue
        spans.append((s, e))
    if not spans:
        return None
    token = os.urandom(8).hex()
    marks = [f"\x00corpuskit-huge-{token}-{i}" for i in range(len(spans))]
    pieces, pos = [], 0
    for (s, e), mark in zip(spans, marks):
        pieces += [line[pos:s], orjson.dumps(mark)]
        pos = e
    pieces.append(line[pos:])
    skeleton = b"".join(pieces)
    del pieces
    try:
        record = orjson.loads(skeleton)
    except orjson.JSONDecodeError:
        return None
    if lost_integer(record):
        record = _exact(skeleton, record)
    where: dict[str, list[tuple[Any, Any]]] = {mark: [] for mark in marks}
    stack = [record]
    while stack:
        o = stack.pop()
        items = o.items() if o.__class__ is dict else enumerate(o) if o.__class__ is list else ()
        for key, v in items:
            if v.__class__ is str:
                if v in where:
                    where[v].append((o, key))
            elif v.__class__ is dict or v.__class__ is list:
                stack.append(v)
    if any(len(w) != 1 for w in where.values()):  # a placeholder lost or met twice: parse whole
        return None
    values = []
    for s, e in spans:
        value = _unescape(line, s + 1, e - 1)
        if value is None:
            return None
        values.append(value)
    return HugeLine(record, values, [where[mark][0] for mark in marks])


_OTHER_MAGIC = ((b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"), (b"7z\xbc\xaf", "7z"))


def check_text(name: str, first_line: bytes, head: bytes) -> None:
    """BadInput (`binary_data`, for the whole file) when a file's first line is not UTF-8 and
    its first bytes are not text: an encoding hint would mislead, and its "lines" are not records
    anyone wants kept. (A binary line further on is one bad line.)"""
    if is_utf8(first_line):
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(name, None, "invalid_utf8", "UTF-16 text, not UTF-8: convert it first, e.g. "
                       "`iconv -f UTF-16 -t UTF-8 FILE`")
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            raise BadInput(name, None, "binary_data", f"{what}-compressed data: decompress it first "
                           "(corpuskit reads gzip and zstd itself)")
    if looks_binary(head):
        raise BadInput(name, None, "binary_data", "binary data, not JSON lines (corpuskit reads JSONL "
                       "plain, gzip or zstd, and Parquet and Arrow files, each told by its first bytes: "
                       "is the file another format, or damaged?)")


def is_utf8(data: bytes) -> bool:
    """Whether `data` is valid UTF-8. A long one is checked a slice at a time (decoding a
    200 MB line whole makes a str half as big again as the line, only to throw it away)."""
    if len(data) <= _PIECE:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    dec = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for i in range(0, len(data), _PIECE):
            dec.decode(view[i:i + _PIECE])
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def looks_binary(line: bytes) -> bool:
    """Bytes that are not text in any encoding: NUL or many other control bytes."""
    head = line[:4096]
    if b"\x00" in head:
        return True
    ctl = sum(head.count(bytes([c])) for c in (*range(1, 9), 11, 12, *range(14, 27), *range(28, 32)))
    return ctl * 20 > len(head)


def explain_json_error(line: bytes, err: Exception) -> tuple[str, str]:
    """(reason, message) for a line orjson refused, naming the offending byte for bad UTF-8;
    the hint to convert the encoding only for bytes that look like text."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as u:
        if looks_binary(line):
            return ("binary_data",
                    "binary data, not JSON text (corpuskit reads JSONL plain, gzip or zstd, and "
                    "Parquet and Arrow files, each told by its first bytes: is the file another "
                    "format, or damaged?)")
        bad = line[u.start:u.start + 1].hex()
        return ("invalid_utf8",
                f"invalid UTF-8 (byte 0x{bad} at column {u.start + 1}); if the file is in another "
                f"encoding, convert it first, e.g. `iconv -f GB18030 -t UTF-8 FILE`")
    msg = str(err)
    return "invalid_json", f"invalid JSON ({msg})"


@dataclass
class ReadStats:
    files: int = 0
    lines: int = 0
    records: int = 0
    blank_lines: int = 0
    bytes: int = 0
    bad: Counter = field(default_factory=Counter)
    empty_files: list[str] = field(default_factory=list)

    def merge(self, other: ReadStats) -> None:
        self.files += other.files
        self.lines += other.lines
        self.records += other.records
        self.blank_lines += other.blank_lines
        self.bytes += other.bytes
        self.bad.update(other.bad)
        self.empty_files.extend(other.empty_files)

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "lines": self.lines, "records": self.records,
                "blank_lines": self.blank_lines, "bytes": self.bytes,
                "bad_records": dict(sorted(self.bad.items())),
                "empty_files": self.empty_files}


class RecordReader:
    """Iterate the records of several inputs (JSONL, Parquet, Arrow; see the module doc).

    require_field: a key every record must hold as a string (the first stage's input field);
    a record without it is bad input (`missing_field`).
    bad_sink: callable(raw_line_bytes, BadInput) to quarantine bad lines instead of raising.
    limit: read at most this many records (bad ones included) from each input; 0 for all.
    """

    def __init__(self, inputs: Iterable[str], require_field: str | None = None,
                 text_field: str = "text",
                 bad_sink: Callable[[bytes, BadInput], None] | None = None,
                 assign_ids: bool = True, limit: int = 0, id_field: str = "id"):
        self.paths = expand_inputs(inputs)
        self.id_field = id_field
        self.require_field = require_field
        self.text_field = text_field
        self.bad_sink = bad_sink
        self.assign_ids = assign_ids
        self.limit = limit
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[dict]:
        # each batch's records straight from its parser's generator (chain.from_iterable, in C,
        # takes the next batch once a batch is done), not through a second generator's frame
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[Iterator[dict]]:
        """A generator of the records for each batch of lines or rows, in order; each is
        exhausted before the next batch is read."""
        st = self.stats
        for path in self.paths:
            st.files += 1
            name = "<stdin>" if path == "-" else path
            nlines = 0
            for first, lines, nbytes in iter_input_batches(path, self.limit):
                nlines += len(lines)
                st.bytes += nbytes
                if lines.__class__ is columnar.Rows or (lines and lines[0].__class__ is not bytes):
                    # rows of a Parquet/Arrow file
                    yield check_rows(name, first, lines, st, self.require_field, self.text_field,
                                     self.bad_sink, self.assign_ids)
                else:
                    yield parse_lines(name, first, lines, st, self.require_field, self.text_field,
                                      self.bad_sink, self.assign_ids, id_field=self.id_field,
                                      release=True)
            st.lines += nlines
            if nlines == 0:
                st.empty_files.append(name)


def iter_input_batches(path: str, limit: int = 0) -> Iterator[tuple[int, list, int]]:
    """(first line or row number, lines (bytes, newline kept) or rows (dicts and BadRows),
    bytes) for any input; with `limit`, the batches stop after that many records (blank
    lines do not count)."""
    kind = input_kind(path)
    if kind == "jsonl":
        batches: Iterator[tuple[int, list, int]] = iter_line_batches(path, keep_newline=True)
    else:
        batches = columnar.iter_row_batches(path, kind)
    if not limit:
        yield from batches
        return
    left = limit
    try:
        for first, items, nbytes in batches:
            if kind == "jsonl":
                n = 0
                for i, line in enumerate(items):
                    if line.strip():
                        n += 1
                        if n == left:
                            items = items[:i + 1]
                            break
            else:
                items = items[:left]
                n = len(items)
            left -= n
            yield first, items, nbytes
            if left <= 0:
                return
    finally:
        batches.close()  # type: ignore[attr-defined]


def missing_field_message(req: str, rec: dict) -> str:
    v = rec.get(req)
    what = "missing" if v is None and req not in rec else f"a {type(v).__name__}"
    return (f"field {req!r} is {what}, not a string"
            + ("" if req != "text" else " (see --text-field)"))


def check_rows(name: str, first: int, rows: list, st: ReadStats, require_field: str | None,
               text_field: str = "text", bad_sink: Callable[[bytes, BadInput], None] | None = None,
               assign_ids: bool = True) -> Iterator[dict]:
    """The rows of a Parquet or Arrow file (columnar.iter_row_batches) through the checks
    `parse_lines` makes of JSON lines, with the same policy for bad ones (the raw line
    quarantined is the row as JSON)."""
    req = require_field
    full = getattr(rows, "full", None)
    if full is not None and (req is None or req in full) and (not assign_ids or "id" in full):
        # every row is a record holding the required field and an id (columnar.Rows), handed
        # on by the C iterator itself; the count is taken from how far it got
        records, left = rows.counted()
        failed = 0
        try:
            yield from records
        except orjson.JSONDecodeError:
            failed = 1  # the row whose JSON failed was taken, not handed on
            rows.bad_json()
            raise
        finally:
            st.records += rows.n - operator.length_hint(left) - failed
        return
    for rowno, rec in enumerate(rows, first):
        if rec.__class__ is BadRow:
            err = BadInput(name, rowno, rec.reason, rec.message, raw=rec.raw[:-1])
        elif req is not None and rec.get(req).__class__ is not str:
            raw = columnar.row_json(rec)[:-1]
            err = BadInput(name, rowno, "missing_field", "row: " + missing_field_message(req, rec), raw=raw)
        else:
            if assign_ids and "id" not in rec:
                rec = {"id": make_id(rec, text_field), **rec}
            st.records += 1
            yield rec
            continue
        if bad_sink is None:
            raise err
        st.bad[err.reason] += 1
        bad_sink(err.raw, err)  # type: ignore[arg-type]


def parse_lines(name: str, first: int, lines: list[bytes], st: ReadStats, require_field: str | None,
                text_field: str = "text",
                bad_sink: Callable[[bytes, BadInput], None] | None = None,
                assign_ids: bool = True, known_bad: dict[int, tuple[str, str]] | None = None,
                id_field: str = "id", release: bool = False) -> Iterator[dict]:
    """Parse and check a batch of lines (line numbers from `first`; each may end in its "\n"),
    counting into `st`. Bad lines raise BadInput or go to `bad_sink` (without the newline).
    known_bad: {line number: (reason, message)} for lines already known bad (the rows of a
    Parquet file that cannot be records, carried as JSON lines).
    release: each line's slot in `lines` is set to None once it is parsed, so that a record
    is never held beside its raw bytes (a 200 MB line would otherwise stay in memory while
    the record goes through a stage); for callers that do not read `lines` again."""
    loads = orjson.loads
    JSONDecodeError = orjson.JSONDecodeError
    req = require_field
    def bad(lineno: int, line: bytes, reason: str, message: str) -> None:
        if line[-1:] == b"\n":  # the reader keeps each line's newline; the raw line is without it
            line = line[:-1]
        err = BadInput(name, lineno, reason, message, raw=line)
        if bad_sink is None:
            raise err
        st.bad[reason] += 1
        bad_sink(line, err)

    huge_line = HUGE_LINE if release else 1 << 62  # only a caller that lets lines go parses in parts
    known_bad = known_bad or None
    records = 0  # added to st.records as the batch ends (or stops: finally)
    try:
        # (not enumerate(lines): its reused result tuple would hold the last line until the next)
        for i in range(len(lines)):
            line = lines[i]
            if known_bad is not None and first + i in known_bad:
                bad(first + i, line, *known_bad[first + i])
                continue
            huge = None
            try:
                if len(line) > huge_line and (huge := split_huge(line)) is not None:
                    rec = huge.record
                else:
                    rec = loads(line)
                    if rec.__class__ is dict:  # lost_integer(rec), its first step taken here
                        try:
                            lost = _lost_in(rec.values())
                        except RecursionError:
                            lost = lost_integer(rec)
                    else:
                        lost = lost_integer(rec)
                    if lost:
                        rec = _exact(line, rec)
            except JSONDecodeError as e:
                if not line.strip():
                    st.blank_lines += 1
                else:
                    bad(first + i, line, *explain_json_error(line, e))
                continue
            if rec.__class__ is not dict:
                bad(first + i, line, "not_an_object", f"line is a JSON {type(rec).__name__}, not an object")
                continue
            if req is not None and rec.get(req).__class__ is not str:
                bad(first + i, line, "missing_field", missing_field_message(req, rec))
                continue
            if release:
                lines[i] = line = None  # type: ignore[call-overload]
            if huge is not None:  # the long values are made into strs now that the line is gone
                rec = huge.fill()
                huge = None
            if assign_ids and id_field not in rec:
                rec = {id_field: make_id(rec, text_field), **rec}
            records += 1
            yield rec
    finally:
        st.records += records



def read_records(*inputs: str, **kw: Any) -> Iterator[dict]:
    """Convenience for notebooks: `for rec in read_records("data/"): ...`."""
    return iter(RecordReader(inputs or ("-",), **kw))
