"""Columnar files: Parquet and Arrow IPC (a Hugging Face `datasets` folder written by
`save_to_disk` holds Arrow stream files) read as records, and Parquet written.

pyarrow is imported only when such a file is met (it is the `parquet` extra); without it the
error names the extra.

Reading streams one row group (Parquet) or record batch (Arrow) at a time. Columns become
record keys in schema order; nested columns (structs, lists) stay nested; a top-level null is a
key the record does not have (Parquet has no "absent"), so JSONL -> Parquet -> records gives
back the same records. A column whose field metadata says `corpuskit.json` holds JSON text (how
the writer stores `meta`) and is decoded. Binary values are decoded as UTF-8; a row with binary
data that is not UTF-8 is a bad row (reason `invalid_utf8`), quarantined like a bad JSON line.
Rows are numbered from 1 in the file (errors say FILE:ROW).

Writing (`ParquetRecordWriter`): row groups of at most `row_group_rows` records or about
`row_group_bytes` of text, zstd. The schema is fixed by the first row group (or given, so the
shards of one pipeline run share it): `id`, `text`, `url` are strings, `meta` is a JSON string
(its keys differ from record to record and from stage to stage, so as a struct the schema would
change between shards), other keys take the Arrow type of their values, nested ones nested.
A later record with a key or a type the schema does not hold is an error naming the record, not
a silently dropped value.
"""
from __future__ import annotations

import base64
import datetime
import decimal
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io import remote
from corpuskit.io.paths import stdin_buffer
from corpuskit.io.targets import create_temp, write_target

PARQUET_MAGIC = b"PAR1"
ARROW_FILE_MAGIC = b"ARROW1"
ARROW_STREAM_MAGIC = b"\xff\xff\xff\xff"
JSON_FIELD = b"corpuskit.json"  # field metadata key: this string column holds JSON
STRING_KEYS = ("id", "text", "url")
JSON_KEYS = ("meta",)
# Rows of a Parquet row group (or of a large Arrow batch) turned into Python values at a time.
# Small batches keep a batch's strings and records in the CPU caches while the reader hands them on: reading
# 100 MB of ~600-byte records took 0.39 s of CPU with 8,192 rows, 0.33 with 2,048, 0.32 with
# 1,024 and 0.34 with 512; of ~5 KB records 0.137, 0.117, 0.095 and (256 rows) 0.107
# (bench_formats.py's records; the JSONL reader took 0.32 and 0.097 s on the same records).
_BATCH_ROWS = 1024


def pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401 - the submodule, for pa.parquet
    except ImportError:
        raise UsageError("Parquet and Arrow files need pyarrow: pip install 'corpuskit[parquet]'") from None
    return pa


def sniff_columnar(head: bytes) -> str | None:
    """parquet | arrow from a file's first bytes, else None."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(ARROW_FILE_MAGIC) or head.startswith(ARROW_STREAM_MAGIC):
        return "arrow"
    return None


class BadRow:
    """A row that cannot be a record (binary data that is not UTF-8): `raw` is the row as a
    JSON line (such bytes as {"base64": ...}), what the quarantine file keeps."""

    __slots__ = ("reason", "message", "raw")

    def __init__(self, reason: str, message: str, raw: bytes):
        self.reason = reason
        self.message = message
        self.raw = raw


def _b64(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, decimal.Decimal):
        return str(v)
    raise TypeError


def row_json(row: dict) -> bytes:
    """A row as one JSON line (bytes that are not text as {"base64": ...})."""
    return orjson.dumps(row, default=_b64, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)


def _fix_value(v: Any) -> Any:
    """Bytes -> str (UnicodeDecodeError if not UTF-8), decimals -> str, durations -> ISO 8601
    strings, pandas' Timestamp (a nanosecond timestamp nested in a struct or list) -> its RFC
    3339 string; inside lists and dicts."""
    if v.__class__ is bytes:
        return v.decode("utf-8")
    if v.__class__ is dict:
        return {k: _fix_value(x) for k, x in v.items()}
    if v.__class__ is list:
        return [_fix_value(x) for x in v]
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.timedelta):  # pandas' Timedelta (nanoseconds) is one too
        ns = getattr(v, "value", None)
        if ns is None:
            ns = ((v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds) * 1000
        return iso_duration(ns, 9)
    if isinstance(v, datetime.datetime) and v.__class__ is not datetime.datetime:
        return v.isoformat()  # pandas' Timestamp: its nanoseconds too
    return v


def iso_duration(n: int, digits: int) -> str:
    """`n` units of 10**-digits seconds as an exact ISO 8601 duration: `PT5S`, `-PT0.001S`."""
    q, r = divmod(abs(n), 10 ** digits)
    frac = f".{r:0{digits}d}".rstrip("0") if r else ""
    return f"{'-' if n < 0 else ''}PT{q}{frac}S"


_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def _is_exotic_time(tp: Any, pa: Any) -> bool:
    """A type whose values Python's datetime cannot hold exactly, or orjson cannot write: a
    timestamp or time of day in nanoseconds, a duration."""
    t = pa.types
    return t.is_duration(tp) or ((t.is_timestamp(tp) or t.is_time64(tp)) and tp.unit == "ns")


def _time_values(pa: Any, col: Any) -> list:
    """A top-level column of an `_is_exotic_time` type as values orjson writes exactly:
    durations as ISO 8601 strings (`PT5.000000001S`); a nanosecond timestamp or time as the
    datetime or time of its microseconds (written as any other timestamp is) when it has no
    nanoseconds past them, else as its RFC 3339 string with nine digits of fraction."""
    tp = col.type
    ints = col.cast(pa.int64()).to_pylist()
    if pa.types.is_duration(tp):
        d = _DIGITS[tp.unit]
        return [None if n is None else iso_duration(n, d) for n in ints]
    micro = [None if n is None else n // 1000 for n in ints]
    kind = pa.timestamp("us", tz=tp.tz) if pa.types.is_timestamp(tp) else pa.time64("us")
    vals = pa.array(micro, pa.int64()).cast(kind).to_pylist()
    out = []
    for n, v in zip(ints, vals):
        if n is None or n % 1000 == 0:
            out.append(v)
        else:  # 'YYYY-MM-DDTHH:MM:SS.ffffff' or 'HH:MM:SS.ffffff', then the offset if any
            iso = v.isoformat(timespec="microseconds")
            cut = 26 if pa.types.is_timestamp(tp) else 15
            out.append(f"{iso[:cut]}{n % 1000:03d}{iso[cut:]}")
    return out


def _json_column(pa: Any, col: Any, name: str) -> list:
    """A column of JSON texts decoded in one orjson call over `[v1,v2,...]` joined by Arrow
    (half the time of a call per value); a null is None."""
    import pyarrow.compute as pc

    col = pc.fill_null(col, "null")
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(col)], pa.int32()), col), ",")[0]
    try:
        vals = orjson.loads(b"[" + joined.as_buffer().to_pybytes() + b"]")
    except orjson.JSONDecodeError:
        vals = None
    if vals is None or len(vals) != len(col):  # a value that is not one JSON value: say which
        for i, v in enumerate(col.to_pylist()):
            try:
                orjson.loads(v)
            except orjson.JSONDecodeError as e:
                raise ValueError(f"row {i + 1} of the batch: column {name!r} is marked as JSON but "
                                 f"holds invalid JSON ({e})") from None
        raise ValueError(f"column {name!r} is marked as JSON but does not hold one JSON value a row")
    return vals


def _needs_fix(tp: Any, pa: Any) -> bool:
    t = pa.types
    if t.is_binary(tp) or t.is_large_binary(tp) or t.is_fixed_size_binary(tp) or t.is_decimal(tp):
        return True
    if _is_exotic_time(tp, pa):
        return True
    if t.is_struct(tp):
        return any(_needs_fix(tp.field(i).type, pa) for i in range(tp.num_fields))
    if t.is_list(tp) or t.is_large_list(tp) or t.is_fixed_size_list(tp):
        return _needs_fix(tp.value_type, pa)
    if t.is_map(tp):
        return True
    return False


def batch_rows(batch: Any) -> Any:
    """The rows of a RecordBatch as records (see the module doc). The cyclic garbage collector
    is paused meanwhile: building thousands of dicts at once would otherwise set it off again and
    again over the same young objects (3 to 4x the time; none of these objects form a cycle)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _batch_rows(batch)
    finally:
        if was_enabled:
            gc.enable()


class Rows:
    """The rows of one batch without nulls or values to fix, built one at a time as they are
    iterated: a record is made (and its JSON column decoded) just before the reader hands it on,
    so it is used and freed while its memory is still in the cache and before the garbage
    collector has seen it (building the whole batch first costs a fifth more CPU time). `full`:
    the string columns (every row holds such a key as a str), so the reader need not check
    them row by row. A sequence: len(), rows[i], rows[a:b] (a list)."""

    __slots__ = ("cols", "make", "n", "full", "json_cols", "file", "first")

    def __init__(self, cols: list[tuple], make: Any, n: int, full: frozenset,
                 json_cols: list[tuple[str, tuple]]):
        self.cols, self.make, self.n, self.full, self.json_cols = cols, make, n, full, json_cols
        self.file, self.first = "", 1  # set by iter_row_batches, for the error a bad JSON value is

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[dict]:
        try:
            yield from map(self.make, *self.cols)
        except orjson.JSONDecodeError:
            self.bad_json()
            raise

    def counted(self) -> tuple[Iterator[dict], Iterator]:
        """The records as a bare iterator (one generator less for each of them), and the
        iterator of its first column: `operator.length_hint` of that is how many rows it has not
        taken yet (a record handed on took its row; one whose JSON failed took its row too), so a
        reader counts what it handed on without a step of its own per record. A value of a JSON
        column that is not JSON raises orjson.JSONDecodeError: call `bad_json()` then."""
        first = iter(self.cols[0])
        return map(self.make, first, *self.cols[1:]), first

    def bad_json(self) -> None:
        """Raise BadInput naming the first row whose JSON column holds invalid JSON."""
        for name, vals in self.json_cols:
            for i, v in enumerate(vals):
                try:
                    orjson.loads(v)
                except orjson.JSONDecodeError as e:
                    raise BadInput(self.file, self.first + i, "corrupt_file",
                                   f"column {name!r} is marked as JSON but holds invalid JSON "
                                   f"({e})") from None

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return list(self)[i]
        return self.make(*(c[i] for c in self.cols))


_MAKERS: dict[tuple, Any] = {}


def _maker(names: tuple[str, ...], json: tuple[bool, ...] = ()) -> Any:
    """A function of one value per column returning the record dict: a dict display with the
    column names as constant keys (a third less time than dict(zip(names, values)) a row),
    JSON columns decoded by orjson.loads."""
    json = json or (False,) * len(names)
    fn = _MAKERS.get((names, json))
    if fn is None:
        args = ", ".join(f"v{i}" for i in range(len(names)))
        body = ", ".join(f"{n!r}: loads(v{i})" if j else f"{n!r}: v{i}"
                         for i, (n, j) in enumerate(zip(names, json)))
        fn = _MAKERS[(names, json)] = eval(f"lambda {args}: {{{body}}}",  # noqa: S307 - repr()s
                                           {"loads": orjson.loads})
    return fn


def _batch_rows(batch: Any) -> Any:
    pa = pyarrow()
    import pyarrow.compute as pc

    names = batch.schema.names
    if not names:
        return [{} for _ in range(batch.num_rows)]
    lazy = len(set(names)) == len(names)  # (iter_row_batches refuses a name given twice)
    full = set()
    json = []
    for i, f in enumerate(batch.schema):
        col = batch.column(i)
        is_json = bool(f.metadata and f.metadata.get(JSON_FIELD) and pa.types.is_string(f.type))
        json.append(is_json)
        if col.null_count or _needs_fix(f.type, pa) or pa.types.is_map(f.type):
            lazy = False
        elif is_json and pc.any(pc.equal(pc.utf8_trim_whitespace(col), "null")).as_py():
            lazy = False  # a JSON null is a key the record does not have
        elif pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            if not is_json:
                full.add(f.name)
    if lazy:
        # tuples: the collector untracks a tuple of strings the first time it meets it, instead
        # of scanning a list of them at every collection the batch lives through
        cols = [tuple(batch.column(i).to_pylist()) for i in range(len(names))]
        json_cols = [(n, c) for n, c, j in zip(names, cols, json) if j]
        return Rows(cols, _maker(tuple(names), tuple(json)), batch.num_rows, frozenset(full), json_cols)
    cols = []
    fix = []
    for i, f in enumerate(batch.schema):
        if json[i]:
            vals = _json_column(pa, batch.column(i), f.name)
        elif _is_exotic_time(f.type, pa):
            vals = _time_values(pa, batch.column(i))
            cols.append(vals)
            fix.append(False)
            continue
        else:
            vals = batch.column(i).to_pylist()
        if pa.types.is_map(f.type):  # map -> list of (key, value) tuples in pyarrow: a dict
            vals = [None if v is None else dict(v) for v in vals]
        cols.append(vals)
        fix.append(_needs_fix(f.type, pa))
    return _batch_rows_slow(names, cols, fix)


def _batch_rows_slow(names: list[str], cols: list[list], fix: list[bool]) -> list[dict | BadRow]:
    out: list[dict | BadRow] = []
    fixed = [n for n, f in zip(names, fix) if f]
    for vals in zip(*cols):
        rec = {k: v for k, v in zip(names, vals) if v is not None}
        try:
            for k in fixed:
                if k in rec:
                    rec[k] = _fix_value(rec[k])
            out.append(rec)
        except UnicodeDecodeError as e:
            out.append(BadRow("invalid_utf8", f"binary value is not UTF-8 text ({e.reason} at byte "
                              f"{e.start}); the row is kept with it as base64", row_json(rec)))
    return out


def _open_source(path: str, spool: list[str]) -> Any:
    """A seekable source for pyarrow: a local path, an fsspec file, or stdin spooled to a temp
    file (Parquet's index is at its end)."""
    if path == "-":
        fd, tmp = tempfile.mkstemp(prefix="corpuskit-stdin-", suffix=".bin")
        spool.append(tmp)
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(stdin_buffer(), f, 1 << 20)
        return tmp
    if remote.is_url(path):
        return remote.open_remote(path)
    return path


def iter_row_batches(path: str, kind: str, name: str | None = None,
                     row_groups: tuple[int, int] | None = None, first_row: int = 1
                     ) -> Iterator[tuple[int, Any, int]]:
    """(number of the first row, rows, bytes of Arrow data) for each row group / record batch;
    the rows are a list of records and BadRows, or a `Rows` (records made as iterated).
    A file pyarrow cannot read (truncated, not Parquet, corrupt) is BadInput naming the file
    and the first row it could not read. `row_groups`: only the row groups [a, b) of a Parquet
    file, whose first row is `first_row` (how a pipeline worker reads its unit)."""
    pa = pyarrow()
    name = name or ("<stdin>" if path == "-" else path)
    spool: list[str] = []
    row = first_row
    src = None
    try:
        try:
            src = _open_source(path, spool)
            batches = _batches(pa, src, kind, row_groups)
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                names = batch.schema.names
                if len(set(names)) != len(names):  # a record keeps one value of a key
                    twice = sorted({n for n in names if names.count(n) > 1})
                    raise BadInput(name, None, "duplicate_columns",
                                   f"column(s) named twice: {', '.join(map(repr, twice))}: a record holds "
                                   "one value a key, so one column's values would be lost (rename them)")
                rows = batch_rows(batch)
                if rows.__class__ is Rows:
                    rows.file, rows.first = name, row
                yield row, rows, batch.nbytes
                row += len(rows)
        except (pa.ArrowException, OSError, ValueError) as e:
            if isinstance(e, BadInput):
                raise
            what = "Parquet" if kind == "parquet" else "Arrow"
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise BadInput(name, None if row == 1 else row, "corrupt_file",
                           f"not a readable {what} file ({msg}); the file is truncated or corrupt"
                           + ("" if row == 1 else f" from row {row} on")) from None
        except IndexError as e:  # a row group the file does not have (changed since planned)
            raise BadInput(name, row, "corrupt_file", f"not a readable Parquet file ({e}); the file "
                           "changed while it was read") from None
    finally:
        if src is not None and not isinstance(src, str):
            src.close()
        for tmp in spool:
            os.unlink(tmp)


def _batches(pa: Any, src: Any, kind: str, row_groups: tuple[int, int] | None = None) -> Iterator[Any]:
    if kind == "parquet":
        # row group by row group, in batches (memory stays small whatever the row group size),
        # on this thread: Arrow's threads cut the wall time of decoding on an idle machine but
        # add CPU time, and a pipeline's workers already keep the cores busy
        pf = pa.parquet.ParquetFile(src)
        lo, hi = row_groups or (0, pf.num_row_groups)
        if hi > pf.num_row_groups:
            raise IndexError(f"row group {hi - 1} of {pf.num_row_groups}")
        for i in range(lo, hi):
            yield from pf.iter_batches(batch_size=_BATCH_ROWS, row_groups=[i], use_threads=False)
        return
    f = pa.OSFile(src, "rb") if isinstance(src, str) else pa.PythonFile(src, mode="r")
    try:
        head = f.read(8)
        f.seek(0)
        if head.startswith(ARROW_FILE_MAGIC):
            r = pa.ipc.open_file(f)
            batches: Iterator[Any] = (r.get_batch(i) for i in range(r.num_record_batches))
        else:
            batches = iter(pa.ipc.open_stream(f))
        # a batch as written can hold a whole table (pa.Table.to_batches() of a million rows):
        # its rows become Python values _BATCH_ROWS at a time, as a Parquet row group's do
        # (zero-copy slices), so the Python objects of a batch stay small whatever the writer did
        for b in batches:
            n = b.num_rows
            if n <= _BATCH_ROWS:
                yield b
            else:
                for start in range(0, n, _BATCH_ROWS):
                    yield b.slice(start, _BATCH_ROWS)
    finally:
        f.close()


def row_group_sizes(path: str) -> list[tuple[int, int]] | None:
    """(rows, uncompressed bytes) of each row group of a local Parquet file, from its footer;
    None when the footer cannot be read (the reader then says why, naming the file)."""
    pa = pyarrow()
    try:
        md = pa.parquet.ParquetFile(path).metadata
    except (pa.ArrowException, OSError):
        return None
    return [(md.row_group(i).num_rows, md.row_group(i).total_byte_size) for i in range(md.num_row_groups)]


def count_rows(path: str, kind: str) -> int | None:
    """Rows in a local Parquet file from its footer (None for other kinds)."""
    if kind != "parquet" or path == "-" or remote.is_url(path):
        return None
    pa = pyarrow()
    try:
        return pa.parquet.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError):
        return None


def _column_options(schema: Any, text_field: str) -> dict:
    """ParquetWriter options per column: no dictionary encoding for the text and the other
    string keys that differ from record to record (id, url: a dictionary page would be tried,
    found too large and dropped for plain values, costing the writer the attempt and every
    reader the extra page), and no min/max statistics for the text (two whole documents per
    row group in the file's footer, which no reader filters on). Other columns keep pyarrow's
    defaults (a column such as a language code gains from a dictionary)."""
    if not schema.names:
        return {}
    pa = pyarrow()
    # the options name leaf columns by their Parquet path ("tags.list.element"): read them
    # from the footer of an empty file of this schema, so nested columns keep the defaults too
    # (the string keys are flat columns: their path is their name)
    buf = pa.BufferOutputStream()
    pa.parquet.write_table(schema.empty_table(), buf)
    meta = pa.parquet.read_metadata(pa.BufferReader(buf.getvalue()))
    paths = [meta.schema.column(i).path for i in range(meta.num_columns)]
    unique = {text_field, *STRING_KEYS}
    return {"use_dictionary": [p for p in paths if p not in unique] or False,
            "write_statistics": [p for p in paths if p != text_field] or False}


class ParquetRecordWriter:
    """Records into a Parquet file (see the module doc), atomically like RecordWriter: a temp
    file beside the target renamed on `close()` (uploaded, for a URL), removed on `abort()`."""

    def __init__(self, path: str, atomic: bool = True, schema: Any = None,
                 row_group_rows: int = 50_000, row_group_bytes: int = 64 << 20,
                 text_field: str = "text"):
        pa = pyarrow()
        self._pa = pa
        self.path = path
        self.atomic = True
        self.count = 0
        self.bytes = 0
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self.text_field = text_field
        self._buf: list[dict] = []
        self._buf_bytes = 0
        self._writer: Any = None
        self._closed = False
        self._finished = False
        self._upload = remote.is_url(path)
        self._dest, self._through = path, False
        if self._upload:
            fd, self._tmp = tempfile.mkstemp(prefix="corpuskit-out-", suffix=".parquet")
            os.close(fd)
        else:  # as every output (io.targets): a symlink's target replaced, a FIFO written through
            self._dest, self._through = write_target(path)
            if self._through:  # the finished file is copied into it
                fd, self._tmp = tempfile.mkstemp(prefix="corpuskit-out-", suffix=".parquet")
            else:
                target = Path(self._dest)
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, self._tmp = create_temp(target)  # 0666 less the umask, or the old file's mode
            os.close(fd)

    def write(self, record: dict) -> None:
        self._buf.append(record)
        t = record.get(self.text_field)
        self._buf_bytes += (len(t) if t.__class__ is str else 0) + 64
        self.count += 1
        if len(self._buf) >= self.row_group_rows or self._buf_bytes >= self.row_group_bytes:
            self._flush_group()

    def flush(self) -> None:
        """Nothing: a Parquet file is readable only once closed (its index is at its end), so
        writing a row group early would only make row groups small."""

    def _infer_schema(self, rows: list[dict]) -> Any:
        pa = self._pa
        keys: dict[str, None] = {}
        for r in rows:
            for k in r:
                keys.setdefault(k, None)
        fields = []
        for k in keys:
            if k in STRING_KEYS:
                fields.append(pa.field(k, pa.string()))
            elif k in JSON_KEYS:
                fields.append(pa.field(k, pa.string(), metadata={JSON_FIELD: b"1"}))
            else:
                try:
                    tp = pa.array([r.get(k) for r in rows]).type
                except (pa.ArrowException, OverflowError) as e:
                    raise BadInput(self.path, None, "unwritable",
                                   f"key {k!r} holds values Parquet cannot store in one column ({e}); "
                                   "write JSONL instead") from None
                if pa.types.is_null(tp):
                    tp = pa.string()  # never set in the first row group: a nullable string
                fields.append(pa.field(k, tp))
        return pa.schema(fields)

    def _flush_group(self) -> None:
        if not self._buf:
            return
        pa = self._pa
        rows, self._buf, self._buf_bytes = self._buf, [], 0
        if self.schema is None:
            self.schema = self._infer_schema(rows)
        names = set(self.schema.names)
        first = self.count - len(rows) + 1
        for i, r in enumerate(rows):
            extra = [k for k in r if k not in names]
            if extra:
                raise BadInput(self.path, None, "schema_mismatch",
                               f"record {first + i} (id {r.get('id')!r}) has key(s) {', '.join(map(repr, extra))} "
                               f"that the Parquet schema (fixed by the first row group: "
                               f"{', '.join(self.schema.names)}) does not hold; write JSONL instead")
        arrays = []
        for f in self.schema:
            vals = [r.get(f.name) for r in rows]
            if f.metadata and f.metadata.get(JSON_FIELD):
                vals = [None if v is None else orjson.dumps(v).decode() for v in vals]
            try:
                arrays.append(pa.array(vals, type=f.type))
            except (pa.ArrowException, OverflowError, TypeError) as e:
                bad = next((first + i for i, v in enumerate(vals) if not _fits(pa, v, f.type)), None)
                raise BadInput(self.path, None, "schema_mismatch",
                               f"record {bad}: key {f.name!r} does not fit the column type {f.type} "
                               f"fixed by the first row group ({str(e).splitlines()[0]}); "
                               "write JSONL instead") from None
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if self._writer is None:
            self._writer = pa.parquet.ParquetWriter(self._tmp, self.schema, compression="zstd",
                                                    **_column_options(self.schema, self.text_field))
        self._writer.write_table(table, row_group_size=len(rows))
        self.bytes += table.nbytes

    def finish(self) -> None:
        """Everything but the final rename (or upload): the last row group and the footer are
        written and synced (a run with several outputs finishes them all, then commits them)."""
        if self._closed or self._finished:
            return
        try:
            self._flush_group()
            if self._writer is None:  # no records: a valid, empty file with what schema we have
                self.schema = self.schema or self._pa.schema([])
                self._writer = self._pa.parquet.ParquetWriter(self._tmp, self.schema, compression="zstd")
            self._writer.close()
            with open(self._tmp, "rb+") as f:
                os.fsync(f.fileno())
        except BaseException:
            self.abort()
            raise
        self._finished = True

    def commit(self) -> None:
        """Finish, then move the file into place (upload it, for a URL)."""
        if self._closed:
            return
        self.finish()
        try:
            if self._upload:
                remote.put_file(self._tmp, self.path)
                os.unlink(self._tmp)
            elif self._through:
                with open(self._tmp, "rb") as f, open(self._dest, "ab") as g:  # never truncate a device
                    shutil.copyfileobj(f, g, 1 << 20)
                os.unlink(self._tmp)
            else:
                os.replace(self._tmp, self._dest)
        except BaseException:
            self.abort()
            raise
        self._closed = True

    close = commit

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._writer is not None and not self._finished:
                self._writer.close()
        except Exception:  # noqa: BLE001 - cleaning up after another error
            pass
        if os.path.exists(self._tmp):
            os.unlink(self._tmp)

    def __enter__(self) -> ParquetRecordWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _fits(pa: Any, v: Any, tp: Any) -> bool:
    try:
        pa.array([v], type=tp)
        return True
    except (pa.ArrowException, OverflowError, TypeError):
        return False


def is_columnar_path(path: str) -> str | None:
    p = path.lower()
    if p.endswith(".parquet") or p.endswith(".pq"):
        return "parquet"
    if p.endswith(".arrow") or p.endswith(".feather") or p.endswith(".ipc"):
        return "arrow"
    return None


def read_head(path: str, n: int = 8) -> bytes:
    """The first `n` bytes of a local or remote file (b"" when it cannot be read)."""
    try:
        f: IO[bytes] = remote.open_remote(path) if remote.is_url(path) else open(path, "rb")  # noqa: SIM115
    except (OSError, BadInput, UsageError):
        return b""
    try:
        return f.read(n)
    except OSError:
        return b""
    finally:
        f.close()
