"""dedup's on-disk state: the per-document tables of a run (signature rows, band keys by band,
exact keys, lengths, ids), the persistent `--index` of an earlier corpus, and the spill files
of pass 1. Every table is written once, in document order, and read back with pread in
pieces, so that none is ever resident as a whole: a run's memory does not grow with the
number of documents."""
from __future__ import annotations

import os
import re
import struct
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io.spill import SpillWriter
from corpuskit.io.spill import read_spill as _read_spill  # noqa: F401 - dedup's name for it
from corpuskit.io.targets import keep_permissions
from corpuskit.io.writer import BIG_STR

INDEX_VERSION = 1
# index parameters that no option sets: they change with corpuskit itself
_BUILT_BY = ("version", "scheme", "fold_table", "tokens")
_IO_BUF = 1 << 20

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'200MB', '1GB', '1.5G', '64KB', '1048576' -> bytes (K, M, G, T are powers of 1024)."""
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (write e.g. 200MB, 1GB)")
    unit = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * unit)


class _RowFile:
    """Fixed-width rows on disk (a file of its own, or an array inside an .npz from `base`),
    read with pread: unlike a memory map, the pages read never count in this process's
    resident memory."""

    def __init__(self, path: str, width: int, n: int, dtype: Any = np.uint32, base: int = 0) -> None:
        self.path, self.width, self.n = path, width, n
        self.dtype = np.dtype(dtype)
        self.row_bytes = self.dtype.itemsize * width
        self.base = base
        self._fd = os.open(path, os.O_RDONLY)

    def rows(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty((len(idx), self.width), dtype=self.dtype)
        if not len(idx):
            return out
        order = np.argsort(idx, kind="stable")
        srt = idx[order]
        # runs of consecutive rows are read at once
        brk = np.flatnonzero(np.diff(srt) != 1) + 1
        starts = np.concatenate([[0], brk])
        ends = np.concatenate([brk, [len(srt)]])
        buf = np.empty((len(idx), self.width), dtype=self.dtype)
        for a, b in zip(starts.tolist(), ends.tolist()):
            buf[a:b] = self.read(int(srt[a]), int(srt[a]) + b - a)
        out[order] = buf
        return out

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop-1, in one read."""
        nbytes = self.row_bytes * (stop - start)
        data = os.pread(self._fd, nbytes, self.base + start * self.row_bytes)
        if len(data) != nbytes:
            raise OSError(f"{self.path}: short read ({len(data)} of {nbytes} bytes)")
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, self.width)

    def chunks(self, step: int) -> Iterator[tuple[int, np.ndarray]]:
        for s in range(0, self.n, step):
            yield s, self.read(s, min(s + step, self.n))

    def copy_to(self, out: BinaryIO, step: int = _IO_BUF) -> None:
        """The raw bytes of every row, to `out`."""
        total = self.n * self.row_bytes
        done = 0
        while done < total:
            data = os.pread(self._fd, min(step, total - done), self.base + done)
            if not data:
                raise OSError(f"{self.path}: short read")
            out.write(data)
            done += len(data)

    def close(self) -> None:
        os.close(self._fd)


class _Table:
    """A table written row by row (any number of rows at a time) in document order, then read
    back as a `_RowFile`."""

    def __init__(self, path: str, width: int, dtype: Any) -> None:
        self.path, self.width, self.dtype = path, width, np.dtype(dtype)
        self._f: BinaryIO | None = open(path, "wb", buffering=_IO_BUF)  # noqa: SIM115
        self.n = 0

    def add(self, rows: np.ndarray) -> None:
        assert self._f is not None
        a = np.ascontiguousarray(rows, dtype=self.dtype)
        self._f.write(a.tobytes())
        self.n += len(a) if a.ndim else 1

    def reader(self) -> _RowFile:
        if self._f is not None:
            self._f.close()
            self._f = None
        return _RowFile(self.path, self.width, self.n, self.dtype)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


class _IdWriter:
    """Record ids as one UTF-8 file plus the end offset of each (8 bytes a document)."""

    def __init__(self, work: str) -> None:
        self.blob_path = os.path.join(work, "ids.bin")
        self._blob = open(self.blob_path, "wb", buffering=_IO_BUF)  # noqa: SIM115
        self._ends = _Table(os.path.join(work, "ids.end"), 1, np.int64)
        self._pending: list[int] = []
        self._size = 0

    def add(self, s: str) -> None:
        b = s.encode("utf-8", "surrogatepass")
        self._blob.write(b)
        self._size += len(b)
        self._pending.append(self._size)
        if len(self._pending) >= 8192:
            self._ends.add(np.array(self._pending, dtype=np.int64))
            self._pending = []

    def add_many(self, blob: bytes, ends: np.ndarray) -> None:
        """Several ids at once: their UTF-8 bytes back to back and the end of each in `blob`."""
        self._blob.write(blob)
        self._pending.extend((self._size + np.asarray(ends, dtype=np.int64)).tolist())
        self._size += len(blob)
        if len(self._pending) >= 8192:
            self._ends.add(np.array(self._pending, dtype=np.int64))
            self._pending = []

    def reader(self) -> _IdFile:
        if self._pending:
            self._ends.add(np.array(self._pending, dtype=np.int64))
            self._pending = []
        self._blob.close()
        return _IdFile(self.blob_path, self._ends.reader(), self._size)

    def close(self) -> None:
        self._blob.close()
        self._ends.close()


class _IdFile:
    """Ids read back one at a time (pread): `blob` from `base`, `ends` the end offsets."""

    def __init__(self, path: str, ends: _RowFile, size: int, base: int = 0) -> None:
        self.path, self.ends, self.size, self.base = path, ends, size, base
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.ends.n

    def span(self, i: int) -> tuple[int, int]:
        if i:
            a, b = self.ends.read(i - 1, i + 1)[:, 0].tolist()
        else:
            a, b = 0, int(self.ends.read(0, 1)[0, 0])
        return a, b

    def __getitem__(self, i: int) -> str:
        a, b = self.span(i)
        return os.pread(self._fd, b - a, self.base + a).decode("utf-8", "surrogatepass")

    def blob(self, a: int, b: int) -> bytes:
        return os.pread(self._fd, b - a, self.base + a)

    def close(self) -> None:
        os.close(self._fd)
        self.ends.close()


class _NoIds:
    def __len__(self) -> int:
        return 0

    def __getitem__(self, i: int) -> str:
        raise IndexError(i)

    def close(self) -> None:
        pass


class _Ids:
    """Ids of the index documents followed by this run's."""

    def __init__(self, old: Any, new: Any) -> None:
        self.old, self.new, self.n0 = old, new, len(old)

    def __getitem__(self, g: int) -> str:
        return self.old[g] if g < self.n0 else self.new[g - self.n0]


class _BandColumns:
    """Band keys of the documents that have shingles, stored by band: blocks of up to
    `block_docs` documents, each holding the documents' positions (int64) then one column of
    keys (uint64) per band, so that one band is read without the others."""

    def __init__(self, path: str, bands: int, block_docs: int) -> None:
        self.path, self.b, self.block_docs = path, bands, max(1, block_docs)
        self._f: BinaryIO | None = open(path, "wb")  # noqa: SIM115
        self._keys: list[np.ndarray] = []
        self._pos: list[np.ndarray] = []
        self._held = 0
        self.blocks: list[tuple[int, int]] = []  # (offset, documents)
        self.n = 0
        self._off = 0

    def add(self, keys: np.ndarray, pos: np.ndarray) -> None:
        if not len(pos):
            return
        self._keys.append(keys)
        self._pos.append(pos.astype(np.int64, copy=False))
        self._held += len(pos)
        if self._held >= self.block_docs:
            self._flush()

    def _flush(self) -> None:
        if not self._held:
            return
        assert self._f is not None
        keys = np.concatenate(self._keys)
        pos = np.concatenate(self._pos)
        self._keys, self._pos, self._held = [], [], 0
        for s in range(0, len(pos), self.block_docs):
            p = pos[s:s + self.block_docs]
            self._f.write(p.tobytes())
            self._f.write(np.ascontiguousarray(keys[s:s + self.block_docs].T).tobytes())
            self.blocks.append((self._off, len(p)))
            self._off += len(p) * 8 * (1 + self.b)
            self.n += len(p)

    def finish(self) -> None:
        self._flush()
        if self._f is not None:
            self._f.close()
            self._f = None
        self._fd = os.open(self.path, os.O_RDONLY)

    def column(self, j: int) -> Iterator[np.ndarray]:
        """Band j as (key, position) rows, uint64, block by block in position order."""
        for off, m in self.blocks:
            pos = np.frombuffer(os.pread(self._fd, 8 * m, off), dtype=np.uint64)
            keys = np.frombuffer(os.pread(self._fd, 8 * m, off + 8 * m * (1 + j)), dtype=np.uint64)
            yield np.stack([keys, pos], axis=1)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None


# ---------------------------------------------------------------- the --index file
_INDEX_ARRAYS = ("sigs", "bands", "exact", "has_exact", "id_blob", "id_offsets")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so that the same index is the same bytes


def _npz_members(path: str) -> dict[str, tuple[int, tuple[int, ...], np.dtype]]:
    """Where each array of an uncompressed .npz starts in the file, its shape and dtype, read
    from the zip and .npy headers alone (no array is loaded)."""
    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{info.filename} is compressed")
            f.seek(info.header_offset)
            head = f.read(30)
            if head[:4] != b"PK\x03\x04":
                raise ValueError("bad zip member header")
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            f.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            if fortran or dtype.hasobject:
                raise ValueError(f"{info.filename}: not a plain array")
            out[info.filename.removesuffix(".npy")] = (f.tell(), tuple(shape), dtype)
    return out


class _Index:
    """What `--index` keeps of the documents kept so far: signatures, band keys, exact keys,
    ids. One uncompressed .npz file (np.load reads it), read here in place with pread, a few
    rows at a time, and replaced atomically, written as a stream, when a run finishes."""

    def __init__(self, num_perm: int, bands: int, path: str = "",
                 members: dict[str, tuple[int, tuple[int, ...], np.dtype]] | None = None) -> None:
        self.num_perm, self.b, self.path = num_perm, bands, path
        self.size = 0
        self.sigs = self.bands = self.exact = self.has_exact = None
        self.ids: Any = _NoIds()
        self.id_bytes = 0
        if members:
            self.size = members["sigs"][1][0]

            def rows(name: str, width: int, dtype: Any) -> _RowFile:
                off, shape, dt = members[name]
                want = (self.size, width) if width > 1 or len(shape) == 2 else (self.size,)
                if tuple(shape) != want or dt != np.dtype(dtype):
                    raise ValueError(f"{name}: shape {shape} {dt}, expected {want} {np.dtype(dtype)}")
                return _RowFile(path, width, self.size, dtype, base=off)

            self.sigs = rows("sigs", num_perm, np.uint32)
            self.bands = rows("bands", bands, np.uint64)
            self.exact = rows("exact", 2, np.uint64)
            self.has_exact = rows("has_exact", 1, np.bool_)
            off_o, shape_o, dt_o = members["id_offsets"]
            off_b, shape_b, dt_b = members["id_blob"]
            if shape_o != (self.size + 1,) or dt_o != np.dtype(np.int64) or dt_b != np.dtype(np.uint8):
                raise ValueError("id arrays do not match the signatures")
            # the ends are the offsets after the first (0)
            ends = _RowFile(path, 1, self.size, np.int64, base=off_o + 8)
            self.id_bytes = shape_b[0]
            self.ids = _IdFile(path, ends, self.id_bytes, base=off_b)

    @classmethod
    def empty(cls, num_perm: int, bands: int) -> _Index:
        return cls(num_perm, bands)

    @classmethod
    def load(cls, path: str, params: dict[str, Any]) -> _Index:
        if not os.path.exists(path):
            return cls.empty(params["num_perm"], params["bands"])
        try:
            members = _npz_members(path)
            missing = [k for k in ("params", *_INDEX_ARRAYS) if k not in members]
            if missing:
                raise ValueError(f"no {', '.join(missing)}")
            off, shape, _ = members["params"]
            with open(path, "rb") as f:
                f.seek(off)
                stored = orjson.loads(f.read(shape[0]))
        except Exception as e:  # a truncated or foreign file: say so, don't guess
            raise BadInput(path, None, "bad_index", f"not a corpuskit dedup index ({e})") from None
        diff = [f"{k}={stored.get(k)!r} (now {v!r})" for k, v in params.items() if stored.get(k) != v]
        if diff:
            # what no option sets: the index format, the folding table, how text is cut in tokens
            built = [k for k, v in params.items() if stored.get(k) != v and k in _BUILT_BY
                     and not (k == "fold_table" and stored.get("fold_chinese") != params.get("fold_chinese"))]
            raise UsageError(f"--index {path} was built with other options: {', '.join(diff)}; "
                             + ("it was built by another corpuskit release, whose "
                                f"{' and '.join(built)} differ: start a new index from the corpus it holds"
                                if built else "run with the same options or start a new index"))
        try:
            return cls(params["num_perm"], params["bands"], path, members)
        except Exception as e:
            raise BadInput(path, None, "bad_index", f"not a corpuskit dedup index ({e})") from None

    def band_chunks(self, step: int) -> Iterator[tuple[int, np.ndarray]]:
        if self.bands is not None:
            yield from self.bands.chunks(step)

    def exact_chunks(self, step: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        if self.exact is not None and self.has_exact is not None:
            for s, keys in self.exact.chunks(step):
                yield s, keys, self.has_exact.read(s, s + len(keys))[:, 0]

    def extend_and_write(self, path: str, params: dict[str, Any], new: Any, removed: np.ndarray,
                         step: int) -> str:
        """Write the index again with this run's kept documents (every new one but `removed`,
        sorted local positions) after the earlier ones, a `step` of rows at a time, to a
        temporary file beside `path` (a symlink's target): returns its name. The caller moves
        it onto `path` (`replace_index`) once the run's outputs are in place, so that a run
        that fails before then leaves the index as it was (its documents are in no output)."""
        n = new.n
        keep = np.ones(0, dtype=bool)

        def kept_chunks() -> Iterator[tuple[int, np.ndarray]]:
            nonlocal keep
            for s in range(0, n, step):
                e = min(s + step, n)
                keep = np.ones(e - s, dtype=bool)
                r = removed[(removed >= s) & (removed < e)]
                keep[r - s] = False
                yield s, np.flatnonzero(keep)

        n_kept = n - len(removed)
        total = self.size + n_kept
        # the kept ids' bytes, for the id_blob header
        id_new = 0
        for s, k in kept_chunks():
            ends = new.ids.ends.read(s, s + len(keep))[:, 0]
            starts = np.concatenate([[new.ids.span(s)[0]], ends[:-1]])
            id_new += int((ends - starts)[k].sum())
        tmp = f"{os.path.realpath(path)}.tmp-{os.getpid()}.npz"

        def member(z: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype: Any) -> BinaryIO:
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            f = z.open(info, "w", force_zip64=True)
            np.lib.format.write_array_header_1_0(
                f, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                    "shape": shape})
            return f

        def rows(z: zipfile.ZipFile, name: str, old: _RowFile | None, table: _RowFile, width: int,
                 dtype: Any) -> None:
            shape = (total,) if name == "has_exact" else (total, width)
            with member(z, name, shape, dtype) as f:
                if old is not None:
                    old.copy_to(f)
                for s, k in kept_chunks():
                    f.write(np.ascontiguousarray(table.read(s, s + len(keep))[k]).astype(dtype).tobytes())

        try:
            with open(tmp, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
                keep_permissions(raw.fileno(), Path(os.path.realpath(path)))  # the old index's
                p = orjson.dumps(params)
                with member(z, "params", (len(p),), np.uint8) as f:
                    f.write(p)
                rows(z, "sigs", self.sigs, new.sigs, self.num_perm, np.uint32)
                rows(z, "bands", self.bands, new.bands, self.b, np.uint64)
                rows(z, "exact", self.exact, new.exact, 2, np.uint64)
                rows(z, "has_exact", self.has_exact, new.has_exact, 1, np.bool_)
                with member(z, "id_blob", (self.id_bytes + id_new,), np.uint8) as f:
                    if self.size:
                        f.write(self.ids.blob(0, self.id_bytes))
                    for s, k in kept_chunks():
                        a = new.ids.span(s)[0]
                        ends = new.ids.ends.read(s, s + len(keep))[:, 0]
                        chunk = new.ids.blob(a, int(ends[-1]))
                        starts = np.concatenate([[a], ends[:-1]]) - a
                        f.write(b"".join(chunk[x:y] for x, y in zip(starts[k].tolist(), (ends[k] - a).tolist())))
                with member(z, "id_offsets", (total + 1,), np.int64) as f:
                    f.write(np.zeros(1, np.int64).tobytes())
                    if self.size:
                        self.ids.ends.copy_to(f)
                    done = self.id_bytes
                    for s, k in kept_chunks():
                        ends = new.ids.ends.read(s, s + len(keep))[:, 0]
                        starts = np.concatenate([[new.ids.span(s)[0]], ends[:-1]])
                        f.write((done + np.cumsum((ends - starts)[k])).astype(np.int64).tobytes())
                        done += int((ends - starts)[k].sum())
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return tmp

    def close(self) -> None:
        for t in (self.sigs, self.bands, self.exact, self.has_exact, self.ids):
            if t is not None:
                t.close()


def _rmtree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# Records of a one-shot stream held in memory instead of spilled: at most this share of
# --max-memory (their estimated size). A spill costs a JSON dump, zstd both ways and a JSON
# load of every record: about a third of the stage's time per document on one core.
HOLD_SHARE = 8
# what a held record costs beyond its objects' own sizes (allocator slack, the list slot)
_HOLD_OVERHEAD = 64


def _held_size(rec: dict) -> int:
    """Bytes a record holds as Python objects: the dict and every key and value, nested lists
    and dicts walked (without recursion), so that a small text beside a large nested value
    is counted whole. Shared objects are counted each time they appear."""
    size = sys.getsizeof
    n = 0
    todo: list = [rec]
    while todo:
        v = todo.pop()
        n += size(v)
        if isinstance(v, dict):
            for k, x in v.items():
                n += size(k)
                todo.append(x)
        elif isinstance(v, (list, tuple)):
            todo.extend(v)
    return n


class RecordKeep:
    """Pass 1's copy of a one-shot stream for the later reads: the records themselves while
    their estimated size fits `budget` bytes, else a spill file at `path` (io.spill), where
    the records held so far go first. A record whose text is over BIG_STR characters is never
    held. `held` is the list of records at the end, or None when they were spilled."""

    def __init__(self, path: str, budget: int) -> None:
        self.path = path
        self.held: list[dict] | None = []
        self._left = budget
        self._spill: SpillWriter | None = None

    def add(self, rec: dict, text: str) -> None:
        big = len(text) > BIG_STR
        held = self.held
        if held is not None:
            if not big:
                self._left -= _HOLD_OVERHEAD + _held_size(rec)
                if self._left >= 0:
                    held.append(rec)
                    return
            self._spill = SpillWriter(self.path)
            for h in held:  # (none of them big)
                self._spill.write(h)
            self.held = None
        self._spill.write(rec, big)  # type: ignore[union-attr]

    def finish(self) -> int:
        """Bytes of the spill file (0 when the records are held)."""
        return self.close()

    def close(self) -> int:
        spill, self._spill = self._spill, None
        return spill.close() if spill is not None else 0


def field_key(value: Any, h128: Any) -> bytes | None:
    """The exact key of a `--key FIELD` value (its 128-bit hash, surrounding white space aside),
    or None when there is no value: such a document is never an exact duplicate."""
    if isinstance(value, str) and value.strip():
        return h128(value.strip().encode("utf-8", "surrogatepass"))
    return None


def replace_index(tmp: str, path: str) -> None:
    """Move a new index file (`_Index.extend_and_write`) onto `path` (a symlink's target)."""
    os.replace(tmp, os.path.realpath(path))
