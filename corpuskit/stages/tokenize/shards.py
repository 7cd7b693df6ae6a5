"""Token shards on disk: the unit files the map side writes, the shard writer the reduce side
runs, and a reader.

Formats (one set of files per shard, `part-NNNNN`):

* ``megatron``: Megatron-LM's indexed dataset, as ``megatron/core/datasets/indexed_dataset.py``
  reads it. ``part-NNNNN.bin`` holds the token ids, document after document, in the dtype of
  the index; ``part-NNNNN.idx`` is: the header ``MMIDIDX\\x00\\x00``, version 1 (<Q), the dtype
  code (<B: 8 = uint16, 4 = int32), the sequence count (<Q), the document count (<Q, the length
  of the document-index array, so documents + 1), then the sequence lengths (int32), the byte
  pointers of the sequences into the .bin (int64) and the document indices (int64, 0 .. the
  sequence count). One document is one sequence.
* ``npy``: ``part-NNNNN.ids.npy`` (the flat ids) and ``part-NNNNN.offsets.npy`` (int64, the
  documents' start offsets followed by the token count: document i is
  ``ids[offsets[i]:offsets[i+1]]``), for nanoGPT-style loaders.

dtype: uint16 when the vocabulary is under 65,500 (Megatron's rule), else int32.

A unit folder (the map side's output for one unit of input) holds ``ids.bin`` (the documents'
ids, end-of-text included, in the shard dtype) and ``lens.npy`` (int64 tokens per document).
The reduce side reads the units in order, or with ``shuffle`` in the order of a seeded 64-bit
hash of each document's place in the input (unit key, index in the unit): a pseudo-random
permutation that does not depend on the number of workers, built bucket by bucket (a bucket
is a range of hash values) so that memory stays bounded whatever the corpus size.
"""
from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
FORMATS = ("megatron", "npy")
# tokens of one shuffle bucket held in memory at once (ids, a gather index and the shuffled
# copy: about 30 bytes a token, so ~500 MB)
BUCKET_TOKENS = 1 << 24
_NPY_HEADER = 128  # bytes reserved for an .npy header, rewritten with the shape at close
# documents of a shard's index handled at once when it is written (x 8 bytes)
INDEX_CHUNK = 1 << 20
# bytes of a unit's ids copied at once into a shard
COPY_BYTES = 1 << 22


def token_dtype(vocab_size: int) -> np.dtype:
    """Megatron's rule (DType.optimal_dtype): uint16 under 65,500 ids, else int32."""
    return np.dtype(np.uint16) if vocab_size < 65500 else np.dtype(np.int32)


def shard_files(fmt: str, name: str) -> list[str]:
    return [f"{name}.bin", f"{name}.idx"] if fmt == "megatron" else [f"{name}.ids.npy", f"{name}.offsets.npy"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ units (map side)
class UnitWriter:
    """A unit folder written as its documents come: each document's ids go to ``ids.bin`` at
    once (nothing of them is held), its length to a list written as ``lens.npy`` at the end."""

    def __init__(self, folder: Path, dtype: np.dtype):
        self.dtype = np.dtype(dtype)
        self.folder = folder
        self._f = open(folder / "ids.bin", "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close
        self._lens = array("q")  # 8 bytes a document of the unit

    def add(self, parts: list[np.ndarray]) -> int:
        """One document given as its parts (arrays of the unit's dtype: bos, ids, eos); returns its length."""
        n = 0
        for p in parts:
            if p.dtype != self.dtype:
                raise TypeError(f"ids of dtype {p.dtype}, the unit is {self.dtype}")
            self._f.write(memoryview(np.ascontiguousarray(p)).cast("B"))
            n += len(p)
        self._lens.append(n)
        return n

    def close(self) -> None:
        self._f.close()
        np.save(self.folder / "lens.npy", np.frombuffer(self._lens, np.int64) if self._lens else np.zeros(0, np.int64))

    def abort(self) -> None:
        self._f.close()


class UnitReader:
    def __init__(self, folder: Path, dtype: np.dtype):
        self.lens = np.load(folder / "lens.npy")
        self.offsets = np.zeros(len(self.lens) + 1, np.int64)
        np.cumsum(self.lens, out=self.offsets[1:])
        size = os.path.getsize(folder / "ids.bin")
        if size != int(self.offsets[-1]) * dtype.itemsize:
            raise ValueError(f"{folder}: ids.bin holds {size} bytes, lens.npy says "
                             f"{int(self.offsets[-1]) * dtype.itemsize}")
        self.ids = np.memmap(folder / "ids.bin", dtype=dtype, mode="r") if size else np.zeros(0, dtype)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised on uint64 (wrapping arithmetic)."""
    x = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def doc_hashes(seed: int, unit_key: str, n: int) -> np.ndarray:
    """The shuffle key of each of a unit's n documents: a seeded hash of (unit key, index)."""
    base = int.from_bytes(hashlib.blake2b(f"{seed}\0{unit_key}".encode(), digest_size=8).digest(), "little")
    with np.errstate(over="ignore"):
        return _mix64(np.arange(n, dtype=np.uint64) + np.uint64(base))


def gather(ids: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """ids[starts[0]:starts[0]+lens[0]] + ids[starts[1]:...] + ..., vectorised."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, ids.dtype)
    first = np.zeros(len(lens), np.int64)
    np.cumsum(lens[:-1], out=first[1:])
    idx = np.repeat(starts.astype(np.int64) - first, lens) + np.arange(total, dtype=np.int64)
    return np.asarray(ids[idx])


# ------------------------------------------------------------------ shards (reduce side)
class ShardSetWriter:
    """Whole documents into shards of about `shard_tokens` tokens: a shard is closed after the
    document that brings it to `shard_tokens` or more, so the shards depend only on the
    sequence of documents and their concatenation is the single-shard output.

    Nothing is held per document: the open shard's document lengths go to an anonymous
    temporary file beside it and its index is written from that file, `index_chunk`
    documents at a time, when the shard is closed."""

    def __init__(self, folder: Path, fmt: str, dtype: np.dtype, shard_tokens: int,
                 index_chunk: int = INDEX_CHUNK):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self.folder = folder
        self.fmt = fmt
        self.dtype = np.dtype(dtype)
        self.shard_tokens = shard_tokens
        self.index_chunk = max(1, index_chunk)
        self.shards: list[dict[str, Any]] = []
        self._f: Any = None
        self._lens_f: Any = None  # the open shard's document lengths (int64), read back at close
        self._tokens = 0
        self._docs = 0

    def _open(self) -> None:
        name = f"part-{len(self.shards):05d}"
        self._name = name
        path = self.folder / shard_files(self.fmt, name)[0]
        self._f = open(path, "wb")  # noqa: SIM115 - closed in _close
        if self.fmt == "npy":
            self._f.write(b"\0" * _NPY_HEADER)
        self._lens_f = tempfile.TemporaryFile(dir=self.folder)  # noqa: SIM115 - closed in _close
        self._tokens, self._docs = 0, 0

    def _place(self, lens: np.ndarray) -> Iterator[int]:
        """Documents (given by their lengths) into the open shard and the next ones: yields the
        number of tokens the caller writes to the open shard next; a shard is closed when the
        caller comes back after writing the document that reaches `shard_tokens`."""
        lens = np.asarray(lens, np.int64)
        i = 0  # in lens
        n = len(lens)
        while i < n:
            if self._f is None:
                self._open()
            # how many of the next documents fit before this shard reaches shard_tokens
            cum = np.cumsum(lens[i:])
            need = self.shard_tokens - self._tokens
            k = int(np.searchsorted(cum, need, side="left")) + 1  # docs up to reaching `need`
            k = min(k, n - i)
            take = int(cum[k - 1])
            del cum
            self._lens_f.write(memoryview(np.ascontiguousarray(lens[i:i + k])).cast("B"))
            yield take
            self._tokens += take
            self._docs += k
            i += k
            if self._tokens >= self.shard_tokens:
                self._close()

    def add(self, ids: np.ndarray, lens: np.ndarray) -> None:
        """Documents given as their flat ids and their lengths."""
        ids = np.ascontiguousarray(ids, dtype=self.dtype)
        pos = 0
        for take in self._place(lens):
            if take:
                self._f.write(memoryview(ids[pos:pos + take]).cast("B"))
            pos += take

    def add_file(self, src: BinaryIO, lens: np.ndarray) -> None:
        """Documents whose ids (in the shard dtype) are read from `src`, COPY_BYTES at a time,
        so not even one document is held whole."""
        buf = memoryview(bytearray(COPY_BYTES))
        for take in self._place(lens):
            left = take * self.dtype.itemsize
            while left:
                got = src.readinto(buf[:min(left, COPY_BYTES)])
                if not got:
                    raise ValueError(f"{getattr(src, 'name', 'unit')}: ids end {left} bytes early")
                self._f.write(buf[:got])
                left -= got

    def _lens_chunks(self) -> Iterator[np.ndarray]:
        """The open shard's document lengths again, index_chunk at a time."""
        f = self._lens_f
        f.flush()
        f.seek(0)
        while True:
            b = f.read(self.index_chunk * 8)
            if not b:
                return
            yield np.frombuffer(b, np.int64)

    def _close(self) -> None:
        f, self._f = self._f, None
        if self.fmt == "npy":
            header = _npy_header(self.dtype, self._tokens)
            f.seek(0)
            f.write(header)
        f.close()
        files = shard_files(self.fmt, self._name)
        try:
            if self.fmt == "megatron":
                write_megatron_index(self.folder / files[1], self._docs, self._lens_chunks, self.dtype,
                                     self.index_chunk)
            else:
                write_offsets(self.folder / files[1], self._docs, self._lens_chunks, self.index_chunk)
        finally:
            self._lens_f.close()
            self._lens_f = None
        self.shards.append({"name": self._name, "files": files, "documents": self._docs,
                            "tokens": self._tokens})

    def close(self) -> list[dict[str, Any]]:
        if self._f is not None:
            self._close()
        if not self.shards:  # no document at all: one empty shard, so a trainer sees a valid set
            self._open()
            self._close()
        return self.shards


def _npy_header(dtype: np.dtype, n: int) -> bytes:
    """An .npy v1.0 header for a flat array of n items, padded to exactly _NPY_HEADER bytes."""
    d = f"{{'descr': {dtype.str!r}, 'fortran_order': False, 'shape': ({n},), }}"
    body_len = _NPY_HEADER - 10
    body = d.ljust(body_len - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_len) + body.encode("latin1")


def _arrays(lens: np.ndarray | Callable[[], Iterable[np.ndarray]]) -> Callable[[], Iterable[np.ndarray]]:
    if callable(lens):
        return lens
    whole = np.asarray(lens, np.int64)
    return lambda: [whole]


def write_megatron_index(path: Path, n: int, lens: np.ndarray | Callable[[], Iterable[np.ndarray]],
                         dtype: np.dtype, chunk: int = INDEX_CHUNK) -> None:
    """The .idx of n documents (one sequence each). `lens`: their lengths, or a function that
    gives them again, in order, in chunks, each time it is called (it is called twice: once
    for the lengths, once for the pointers), so the index is written in bounded memory."""
    chunks = _arrays(lens)
    itemsize = np.dtype(dtype).itemsize
    seen = 0
    with open(path, "wb") as f:
        f.write(MEGATRON_HEADER)
        f.write(struct.pack("<Q", MEGATRON_VERSION))
        f.write(struct.pack("<B", DTYPE_CODES[np.dtype(dtype)]))
        f.write(struct.pack("<Q", n))
        f.write(struct.pack("<Q", n + 1))
        for c in chunks():  # int32 sequence lengths
            f.write(np.asarray(c, np.int32).tobytes(order="C"))
            seen += len(c)
        if seen != n:
            raise ValueError(f"{path}: {seen} document lengths for {n} documents")
        pos = 0
        for c in chunks():  # int64 byte pointers: where each sequence starts in the .bin
            size = np.asarray(c, np.int64) * itemsize
            ptr = np.cumsum(size)
            ptr -= size
            ptr += pos
            pos += int(size.sum())
            f.write(ptr.tobytes(order="C"))
        for a in range(0, n + 1, chunk):  # int64 document indices 0 .. n
            f.write(np.arange(a, min(a + chunk, n + 1), dtype=np.int64).tobytes(order="C"))


def write_offsets(path: Path, n: int, lens: np.ndarray | Callable[[], Iterable[np.ndarray]],
                  chunk: int = INDEX_CHUNK) -> None:
    """The npy format's offsets of n documents (int64: each start, then the token count),
    byte for byte what np.save writes for that array, from lengths given as for
    write_megatron_index (called once)."""
    pos = 0
    seen = 0
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.int64)), "fortran_order": False,
                "shape": (n + 1,)})
        for c in _arrays(lens)():
            c = np.asarray(c, np.int64)
            start = np.cumsum(c)
            start -= c
            start += pos
            pos += int(c.sum())
            seen += len(c)
            f.write(start.tobytes(order="C"))
        if seen != n:
            raise ValueError(f"{path}: {seen} document lengths for {n} documents")
        f.write(np.array([pos], np.int64).tobytes())


def write_shards(units: list[tuple[str, Path]], out: Path, fmt: str, dtype: np.dtype, shard_tokens: int,
                 shuffle: bool = False, seed: int = 0, bucket_tokens: int = BUCKET_TOKENS) -> list[dict]:
    """The units' documents (in unit order, or shuffled) into shards under `out`; returns the
    shards' descriptions (files, documents, tokens, sha256 of each file)."""
    w = ShardSetWriter(out, fmt, dtype, shard_tokens)
    if not shuffle:
        for _, folder in units:
            u = UnitReader(folder, dtype)
            # copied from the file in pieces (not through the memory map, whose pages would
            # stay in this process's memory until the unit is done)
            with open(folder / "ids.bin", "rb") as src:
                w.add_file(src, u.lens)
    else:
        total = 0
        for _, folder in units:
            total += int(np.load(folder / "lens.npy").sum())
        n_buckets = max(1, -(-total // bucket_tokens))
        # bucket b holds the hashes in [b * step, (b + 1) * step); the last one takes the rest
        step = (1 << 64) // n_buckets
        for b in range(n_buckets):
            lo = b * step
            hi = (b + 1) * step if b + 1 < n_buckets else 1 << 64
            parts_ids, parts_lens, parts_keys, parts_order = [], [], [], []
            base = 0
            for ui, (key, folder) in enumerate(units):
                u = UnitReader(folder, dtype)
                h = doc_hashes(seed, key, len(u.lens))
                sel = np.nonzero((h >= np.uint64(lo)) & (h <= np.uint64(hi - 1)))[0]
                if not len(sel):
                    continue
                parts_ids.append(gather(u.ids, u.offsets[sel], u.lens[sel]))
                parts_lens.append(u.lens[sel])
                parts_keys.append(h[sel])
                # tie-break equal hashes by the place in the input
                parts_order.append((np.int64(ui) << np.int64(40)) + sel.astype(np.int64))
                base += len(sel)
            if not parts_lens:
                continue
            ids = np.concatenate(parts_ids)
            lens = np.concatenate(parts_lens)
            order = np.lexsort((np.concatenate(parts_order), np.concatenate(parts_keys)))
            starts = np.zeros(len(lens), np.int64)
            np.cumsum(lens[:-1], out=starts[1:])
            w.add(gather(ids, starts[order], lens[order]), lens[order])
    shards = w.close()
    for s in shards:
        s["sha256"] = {f: sha256_file(out / f) for f in s["files"]}
    return shards


# ------------------------------------------------------------------ reading
class TokenShards:
    """Read a folder written by `corpuskit tokenize`: its manifest, and every document's ids
    (memory-mapped) by its number across the shards."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        mf = self.folder / "manifest.json"
        if not mf.is_file():
            raise FileNotFoundError(f"{folder}: no manifest.json (not a `corpuskit tokenize` output)")
        try:
            self.manifest = orjson.loads(mf.read_bytes())
            self.format = self.manifest["format"]
            self.dtype = np.dtype(self.manifest["dtype"])
            self.shards = self.manifest["shards"]
            self._first = np.zeros(len(self.shards) + 1, np.int64)
            np.cumsum([s["documents"] for s in self.shards], out=self._first[1:])
        except (KeyError, TypeError, ValueError) as e:  # (orjson's JSONDecodeError is a ValueError)
            what = f"no {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"{mf}: not a manifest `corpuskit tokenize` wrote ({what})") from None
        self._open: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def documents(self) -> int:
        return int(self._first[-1])

    @property
    def tokens(self) -> int:
        return sum(s["tokens"] for s in self.shards)

    def shard(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, offsets) of shard i: document j of it is ids[offsets[j]:offsets[j + 1]]."""
        got = self._open.get(i)
        if got is None:
            s = self.shards[i]
            a, b = (self.folder / f for f in s["files"])
            if self.format == "megatron":
                got = read_megatron(a, b)
            else:
                got = (np.load(a, mmap_mode="r"), np.load(b))
            self._open[i] = got
        return got

    def doc(self, n: int) -> np.ndarray:
        if not 0 <= n < self.documents:
            raise IndexError(f"document {n} out of range (0..{self.documents - 1})")
        i = int(np.searchsorted(self._first, n, side="right")) - 1
        ids, offsets = self.shard(i)
        j = n - int(self._first[i])
        return np.asarray(ids[offsets[j]:offsets[j + 1]])

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self.shards)):
            ids, offsets = self.shard(i)
            for j in range(len(offsets) - 1):
                yield np.asarray(ids[offsets[j]:offsets[j + 1]])


def read_megatron(bin_path: Path, idx_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(ids, document offsets in tokens) of a Megatron .bin/.idx pair (one sequence a document)."""
    buf = idx_path.read_bytes()
    if buf[:9] != MEGATRON_HEADER:
        raise ValueError(f"{idx_path}: not a Megatron index (bad header)")
    version, = struct.unpack_from("<Q", buf, 9)
    code, = struct.unpack_from("<B", buf, 17)
    n_seq, n_doc = struct.unpack_from("<QQ", buf, 18)
    dtype = {v: k for k, v in DTYPE_CODES.items()}[code]
    if version != MEGATRON_VERSION:
        raise ValueError(f"{idx_path}: index version {version}, expected 1")
    lens = np.frombuffer(buf, np.int32, n_seq, 34).astype(np.int64)
    offsets = np.zeros(n_seq + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    ids = np.memmap(bin_path, dtype=dtype, mode="r") if os.path.getsize(bin_path) else np.zeros(0, dtype)
    return ids, offsets
