"""Planning a run: the inputs in sorted order, cut into units.

A unit is consecutive lines of one JSONL file or rows of one Parquet/Arrow file (at most
`unit_lines` lines or `unit_bytes` bytes), a group of page files, or one WARC file. The cut
depends only on the data, so the same input always gives the same units, whatever the number of
workers or the engine.

A local Parquet file is cut at its row groups, from its footer alone: a unit is a range of
whole row groups (up to `unit_lines` rows or `unit_bytes` uncompressed bytes; a bigger row group
is a unit of its own), and the worker decodes it (`load_rows`), so decoding runs on every core.
Arrow files, remote Parquet files and stdin are decoded here. Either way the rows reach the
stages as JSON lines (like a remote JSONL file's), the rows that cannot be records marked in
`bad_rows`, so the workers read every kind of record input the same way.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io import columnar, remote
from corpuskit.io.columnar import BadRow
from corpuskit.io.jsonl import GZIP_MAGIC, ZSTD_MAGIC, dumps, iter_line_batches
from corpuskit.io.paths import classify, expand_glob, has_glob, require, walk


@dataclass
class Unit:
    file_index: int
    index: int
    name: str  # the input file, for error messages
    first_line: int = 1
    lines: list[bytes] = field(default_factory=list)
    kind: str = "jsonl"  # jsonl (lines of a JSONL, Parquet or Arrow file) | html (a group of page
    # files) | warc (one WARC/WET file)
    paths: list[str] = field(default_factory=list)
    bad_rows: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (reason, message)
    row_groups: tuple[int, int] | None = None  # a Parquet file's row groups [a, b), read by the worker
    take: int = 0  # rows of those to read (0: all; --limit)
    span: tuple[int, int] | None = None  # (offset, length) of a plain JSONL file's lines, read by the worker

    @property
    def key(self) -> str:
        return f"{self.file_index:05d}-{self.index:06d}"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def plan_inputs(raw: str | list[str], exclude: str | None = None,
                excluded: list[str] | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """([(path, kind)] in sorted order, [ignored files]). Folders are walked recursively;
    hidden entries are skipped; globs are expanded (sorted). A path that does not
    exist is an error.

    `exclude`: the run's output folder. When it sits inside an input folder its files are not
    read back as input (each run would otherwise feed on the last one's output); the folder is
    appended to `excluded` when that happened."""
    items = [raw] if isinstance(raw, str) else list(raw)
    planned: list[tuple[str, str]] = []
    ignored: list[str] = []
    out_real = os.path.realpath(exclude) if exclude and not remote.is_url(exclude) else None
    for item in items:
        if remote.is_url(item):  # a remote folder or file, through fsspec
            got, skipped = remote.plan_remote(item)
            planned += got
            ignored += skipped
            continue
        if has_glob(item) and not os.path.lexists(item):
            files: Any = expand_glob(item)
            guard = out_real is not None and os.path.isdir(out_real)
        else:
            p = require(item)
            if out_real is not None and _inside(os.path.realpath(p), out_real):
                raise UsageError(f"{item}: the input is inside the output folder {exclude}, "
                                 "which the run replaces; write the output elsewhere")
            if not p.is_dir() and not p.is_file():  # a FIFO, `<(...)`, a device: it was "cannot list folder"
                raise UsageError(f"{item}: a pipe or a device, not a file: the run reads files and folders "
                                 "(its units are parts of files, read by several processes); save it to a "
                                 "file first")
            files = [p] if p.is_file() else walk(p, on_loop=ignored.append)
            # the output folder is read back only when it is inside this input
            guard = out_real is not None and os.path.isdir(out_real) and _inside(out_real, os.path.realpath(p))
        for f in files:
            if guard and _inside(os.path.realpath(f), out_real):
                if excluded is not None and exclude not in excluded:
                    excluded.append(exclude)
                continue
            kind = classify(str(f))
            if kind is None:
                ignored.append(str(f))
            else:
                planned.append((str(f), kind))
    return planned, ignored


def iter_units(plan: list[tuple[str, str]], max_lines: int, max_bytes: int, limit: int = 0,
               spans: bool = False) -> Iterator[Unit]:
    """Cut the inputs into units (see the module doc). Page files that follow each other in
    the plan are grouped, up to `max_lines` files or `max_bytes` bytes a unit. `limit`: only the
    first that many records (non-blank lines, rows) of each record file.

    `spans`: a local, uncompressed JSONL file's units are byte ranges (`Unit.span`) that the
    worker reads itself (`load_rows`), the same units as the lines would give; here the file is
    only scanned for its newlines, a few megabytes at a time, so its lines never pass through
    this process."""
    group: list[str] = []
    group_size = 0
    group_fi = 0
    group_ui = 0

    def flush() -> Iterator[Unit]:
        nonlocal group, group_size, group_ui
        if group:
            yield Unit(group_fi, group_ui, group[0], kind="html", paths=group)
            group_ui += 1
            group, group_size = [], 0

    for fi, (path, kind) in enumerate(plan):
        if kind == "html":
            size = os.path.getsize(path)
            if group and (len(group) >= max_lines or group_size + size > max_bytes):
                yield from flush()
            if not group and group_ui == 0:  # the first page file of a run of them names the run
                group_fi = fi
            group.append(path)
            group_size += size
            continue
        yield from flush()
        group_ui = 0
        if kind == "warc":
            yield Unit(fi, 0, path, kind="warc", paths=[path])
            continue
        groups = _row_groups(path, kind)
        if groups is not None:
            yield from _row_group_units(fi, path, groups, max_lines, max_bytes, limit)
            continue
        if spans and not limit and kind == "jsonl" and _plain_local(path):
            yield from _span_units(fi, path, max_lines, max_bytes)
            continue
        ui = 0
        buf: list[bytes] = []
        bad_rows: dict[int, tuple[str, str]] = {}
        size = 0
        first = 1
        line_no = 1
        left = limit or -1
        lines = _record_lines(path, kind)
        for line, bad in lines:
            if left == 0:
                lines.close()  # the file is closed now, not when the generator is collected
                break
            if buf and (len(buf) >= max_lines or size + len(line) > max_bytes):
                yield Unit(fi, ui, path, first, buf, bad_rows=bad_rows)
                ui += 1
                buf, bad_rows, size, first = [], {}, 0, line_no
            buf.append(line)
            if bad is not None:
                bad_rows[line_no] = bad
            size += len(line) + 1
            line_no += 1
            if left > 0 and (bad is not None or line.strip()):
                left -= 1
        # the last line is in the unit: not held here too while the unit runs (with one worker
        # it runs while this generator waits; a huge line would stay beside its record)
        line = None  # type: ignore[assignment]
        if buf:
            yield Unit(fi, ui, path, first, buf, bad_rows=bad_rows)
    yield from flush()


def _row_groups(path: str, kind: str) -> list[tuple[int, int]] | None:
    if kind != "parquet" or path == "-" or remote.is_url(path) or columnar.sniff_columnar(
            columnar.read_head(path, 4)) != "parquet":
        return None
    return columnar.row_group_sizes(path)


def _row_group_units(fi: int, path: str, groups: list[tuple[int, int]], max_lines: int,
                     max_bytes: int, limit: int) -> Iterator[Unit]:
    """Units of whole row groups (see the module doc); with `limit`, the first that many rows."""
    left = limit if limit > 0 else None
    ui = start = rows = size = 0
    first = 1
    for i, (n, nbytes) in enumerate([*groups, (0, 0)]):
        last = i == len(groups)
        if rows and (last or rows + n > max_lines or size + nbytes > max_bytes
                     or (left is not None and rows >= left)):
            take = 0 if left is None or left >= rows else left
            yield Unit(fi, ui, path, first, row_groups=(start, i), take=take)
            if left is not None:
                left -= take or rows
                if left == 0:
                    return
            ui += 1
            start, first, rows, size = i, first + rows, 0, 0
        rows += n
        size += nbytes


SPAN_CHUNK = 1 << 22  # bytes scanned for newlines at a time


def _plain_local(path: str) -> bool:
    """A local file that is not gzip or zstd (by its first bytes, as the reader tells them)."""
    if path == "-" or remote.is_url(path):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False  # the reader reports it
    return not head.startswith((GZIP_MAGIC, ZSTD_MAGIC))


def _nth_newline(buf: bytes, lo: int, hi: int, k: int) -> int:
    """The index of the k-th (from 1) newline of buf[lo:hi], which holds at least k."""
    while hi - lo > 4096:  # halve the range by counting (C speed), not line by line
        mid = (lo + hi) // 2
        c = buf.count(b"\n", lo, mid)
        if c >= k:
            hi = mid
        else:
            k -= c
            lo = mid
    j = lo - 1
    for _ in range(k):
        j = buf.find(b"\n", j + 1, hi)
    return j


def _span_units(fi: int, path: str, max_lines: int, max_bytes: int) -> Iterator[Unit]:
    """The units iter_units cuts from the lines of a JSONL file, as byte ranges: a unit takes
    lines while it has fewer than `max_lines` and the line ends (its newline excluded) at most
    `max_bytes` after the unit's start; its first line always."""
    # the reader's own check of the file's first lines (binary data, UTF-16) runs here, as it
    # does when the lines are read here
    first_batch = iter_line_batches(path)
    next(first_batch, None)
    first_batch.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        ui = 0
        s = 0  # the unit's first byte
        n = 0  # its complete lines so far, which end (newline included) at `prev`
        prev = 0
        first = 1  # its first line's number
        p = 0  # the next byte to read
        while p < size:
            chunk = os.pread(fd, min(SPAN_CHUNK, size - p), p)
            if not chunk:  # the file shrank: the reader sees the same end
                break
            base = p
            p += len(chunk)
            i = 0  # lines start after chunk[:i] (or before the chunk)
            while True:
                lim = s + max_bytes - base  # a line of the unit ends at chunk index <= lim
                hi = min(len(chunk), lim + 1) if lim >= i else i
                c = chunk.count(b"\n", i, hi) if hi > i else 0
                if c >= max_lines - n:  # the unit is full within the chunk
                    j = _nth_newline(chunk, i, hi, max_lines - n)
                    prev = base + j + 1
                    yield Unit(fi, ui, path, first, span=(s, prev - s))
                    ui, first, s, n, i = ui + 1, first + max_lines, prev, 0, j + 1
                    continue
                if hi < len(chunk):  # the byte limit is reached within the chunk
                    if c:
                        n += c
                        prev = base + chunk.rfind(b"\n", i, hi) + 1
                    if n == 0:  # a first line longer than the limit is a unit of its own
                        j = chunk.find(b"\n", i)
                        if j < 0:
                            break  # it goes on in the next chunk
                        n, prev = 1, base + j + 1
                    yield Unit(fi, ui, path, first, span=(s, prev - s))
                    ui, first, s, i, n = ui + 1, first + n, prev, max(0, prev - base), 0
                    continue
                if c:
                    n += c
                    prev = base + chunk.rfind(b"\n", i) + 1
                break
        end = min(p, size)
        if prev < end:  # a last line without its newline
            if n and (n >= max_lines or end - s > max_bytes):
                yield Unit(fi, ui, path, first, span=(s, prev - s))
                ui, first, s, n = ui + 1, first + n, prev, 0
            n += 1
            prev = end
        if n:
            yield Unit(fi, ui, path, first, span=(s, prev - s))
    finally:
        os.close(fd)


def _read_span(unit: Unit) -> Unit:
    """A byte-range unit with its lines read (split at "\n" only, as the reader does)."""
    off, length = unit.span  # type: ignore[misc]
    fd = os.open(unit.name, os.O_RDONLY)
    try:
        # the range without its last newline, so that a unit of one (maybe huge) line is that
        # line's bytes as read, with no copy
        if length and os.pread(fd, 1, off + length - 1) == b"\n":
            length -= 1
        data = os.pread(fd, length, off)
        while len(data) < length:  # pread may return less than asked for
            more = os.pread(fd, length - len(data), off + len(data))
            if not more:
                raise BadInput(unit.name, unit.first_line, "truncated_file", "the file changed "
                               f"while it was read (it ends at byte {off + len(data)}, not {off + length})")
            data += more
    finally:
        os.close(fd)
    lines = data.split(b"\n") if b"\n" in data else [data]
    del data
    return Unit(unit.file_index, unit.index, unit.name, unit.first_line, lines)


def load_rows(unit: Unit) -> Unit:
    """The unit with its rows read (a worker's first step for a range of Parquet row groups or
    a byte range of a JSONL file; a unit already holding its lines is returned as it is)."""
    if unit.span is not None:
        return _read_span(unit)
    if unit.row_groups is None:
        return unit
    lines: list[bytes] = []
    bad_rows: dict[int, tuple[str, str]] = {}
    row = unit.first_line
    left = unit.take or -1
    for _, rows, _ in columnar.iter_row_batches(unit.name, "parquet", row_groups=unit.row_groups,
                                                first_row=unit.first_line):
        for line, bad in _row_lines(rows):
            if left == 0:
                break
            lines.append(line)
            if bad is not None:
                bad_rows[row] = bad
            row += 1
            left -= 1
        if left == 0:
            break
    return Unit(unit.file_index, unit.index, unit.name, unit.first_line, lines, bad_rows=bad_rows)


def _record_lines(path: str, kind: str) -> Iterator[tuple[bytes, tuple[str, str] | None]]:
    """(line without its newline, None) for each line of a JSONL file; for each row of a
    Parquet or Arrow file, (the row as a JSON line, None) or, for a row that cannot be a record,
    (its raw JSON line, (reason, message))."""
    if kind == "jsonl":
        for _, lines, _ in iter_line_batches(path):
            for line in lines:
                yield line, None
        return
    for _, rows, _ in columnar.iter_row_batches(path, kind):
        yield from _row_lines(rows)


def _row_lines(rows: Any) -> Iterator[tuple[bytes, tuple[str, str] | None]]:
    for row in rows:
        if row.__class__ is BadRow:
            yield row.raw[:-1], (row.reason, row.message)  # type: ignore[union-attr]
        else:
            try:
                yield orjson.dumps(row), None
            except TypeError:
                yield dumps(row)[:-1], None  # type: ignore[arg-type]
