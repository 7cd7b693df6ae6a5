"""dedup's on-disk state: signature rows spilled to a file, document ids, the persistent
`--index` of an earlier corpus, and the spill files of pass 1."""
from __future__ import annotations

import os
from array import array
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io.jsonl import loads_exact

INDEX_VERSION = 1


class _RowFile:
    """Signature rows on disk, read with pread: unlike a memory map, the pages read never
    count in this process's resident memory."""

    def __init__(self, path: str, width: int, n: int) -> None:
        self.path, self.width, self.n = path, width, n
        self.row_bytes = 4 * width
        self._fd = os.open(path, os.O_RDONLY)

    def rows(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty((len(idx), self.width), dtype=np.uint32)
        if not len(idx):
            return out
        order = np.argsort(idx, kind="stable")
        srt = idx[order]
        # runs of consecutive rows are read at once
        brk = np.flatnonzero(np.diff(srt) != 1) + 1
        starts = np.concatenate([[0], brk])
        ends = np.concatenate([brk, [len(srt)]])
        buf = np.empty((len(idx), self.width), dtype=np.uint32)
        rb = self.row_bytes
        for a, b in zip(starts.tolist(), ends.tolist()):
            data = os.pread(self._fd, rb * (b - a), int(srt[a]) * rb)
            buf[a:b] = np.frombuffer(data, dtype=np.uint32).reshape(b - a, self.width)
        out[order] = buf
        return out

    def close(self) -> None:
        os.close(self._fd)


class _IdList:
    """Record ids as one UTF-8 blob plus offsets: ~8 bytes a document beyond the id itself,
    not a Python str object each."""

    def __init__(self, blob: bytes = b"", offsets: np.ndarray | None = None) -> None:
        self._blob = bytearray(blob)
        self._ends = array("q") if offsets is None else array("q", offsets[1:].tolist())

    def add(self, s: str) -> None:
        self._blob += s.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._blob))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> str:
        start = self._ends[i - 1] if i else 0
        return self._blob[start:self._ends[i]].decode("utf-8", "surrogatepass")

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.zeros(len(self._ends) + 1, dtype=np.int64)
        offsets[1:] = np.frombuffer(self._ends, dtype=np.int64) if len(self._ends) else 0
        return np.frombuffer(bytes(self._blob), dtype=np.uint8), offsets


class _Ids:
    """Ids of the index documents followed by this run's."""

    def __init__(self, old: _IdList, new: _IdList) -> None:
        self.old, self.new, self.n0 = old, new, len(old)

    def __getitem__(self, g: int) -> str:
        return self.old[g] if g < self.n0 else self.new[g - self.n0]


class _Index:
    """What `--index` keeps of the documents kept so far: signatures, band keys, exact keys,
    ids. One .npz file, replaced atomically when a run finishes."""

    def __init__(self, sigs: np.ndarray, bands: np.ndarray, exact: np.ndarray, has_exact: np.ndarray,
                 ids: _IdList) -> None:
        self.sigs, self.bands, self.exact, self.has_exact, self.ids = sigs, bands, exact, has_exact, ids

    @property
    def size(self) -> int:
        return len(self.sigs)

    @classmethod
    def empty(cls, num_perm: int, bands: int) -> _Index:
        return cls(np.zeros((0, num_perm), dtype=np.uint32), np.zeros((0, bands), dtype=np.uint64),
                   np.zeros((0, 2), dtype=np.uint64), np.zeros(0, dtype=bool), _IdList())

    @classmethod
    def load(cls, path: str, params: dict[str, Any]) -> _Index:
        if not os.path.exists(path):
            return cls.empty(params["num_perm"], params["bands"])
        try:
            with np.load(path, allow_pickle=False) as z:
                stored = orjson.loads(bytes(z["params"]))
                arrays = {k: z[k] for k in ("sigs", "bands", "exact", "has_exact", "id_blob", "id_offsets")}
        except Exception as e:  # a truncated or foreign file: say so, don't guess
            raise BadInput(path, None, "bad_index", f"not a corpuskit dedup index ({e})") from None
        diff = [f"{k}={stored.get(k)!r} (now {v!r})" for k, v in params.items() if stored.get(k) != v]
        if diff:
            raise UsageError(f"--index {path} was built with other options: {', '.join(diff)}; "
                             f"run with the same options or start a new index")
        return cls(arrays["sigs"], arrays["bands"], arrays["exact"], arrays["has_exact"],
                   _IdList(arrays["id_blob"].tobytes(), arrays["id_offsets"]))

    def extend_and_save(self, path: str, params: dict[str, Any], sigs_new: _RowFile, p1: Any,
                        kept: np.ndarray) -> None:
        ids = _IdList(*self._id_arrays())
        for i in kept.tolist():
            ids.add(p1.ids[i])
        blob, offsets = ids.arrays()
        tmp = f"{path}.tmp-{os.getpid()}.npz"
        try:
            with open(tmp, "wb") as f:
                np.savez(f, params=np.frombuffer(orjson.dumps(params), dtype=np.uint8),
                         sigs=np.concatenate([self.sigs, sigs_new.rows(kept)]),
                         bands=np.concatenate([self.bands, p1.bands[kept]]),
                         exact=np.concatenate([self.exact, p1.exact[kept]]),
                         has_exact=np.concatenate([self.has_exact, p1.has_exact[kept]]),
                         id_blob=blob, id_offsets=offsets)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _id_arrays(self) -> tuple[bytes, np.ndarray]:
        blob, offsets = self.ids.arrays()
        return blob.tobytes(), offsets


def _read_spill(path: str, parse: bool = True) -> Iterator[Any]:
    import io

    import zstandard

    with open(path, "rb") as raw:
        reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw), 1 << 20)
        loads = loads_exact
        if not parse:
            yield from reader
            return
        for line in reader:
            rec = loads(line)
            line = None  # not held beside its record while the record is used
            yield rec


def _rmtree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
