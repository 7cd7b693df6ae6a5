"""dedup's graph: exact-duplicate edges, candidate pairs from LSH buckets, and the clusters
(connected components) whose first member survives."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

# In a bucket (documents sharing a band key) each document is checked against the first
# one and its NEAR predecessors: every pair in buckets of up to NEAR+1 documents, a star and
# a chain in bigger ones (a big bucket is nearly always one template copied many times).
_NEAR = 8


def _exact_edges(keys: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link every document to the first one with the same exact key."""
    idx = np.flatnonzero(has)
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    k = keys[idx]
    order = np.lexsort((idx, k[:, 1], k[:, 0]))  # by key, then position
    ks = k[order]
    same = np.all(ks[1:] == ks[:-1], axis=1)
    start = np.ones(len(idx), dtype=bool)
    start[1:] = ~same
    first = np.maximum.accumulate(np.where(start, np.arange(len(idx)), 0))
    sorted_idx = idx[order]
    dup = ~start
    return sorted_idx[first[dup]], sorted_idx[dup]


def _candidate_pairs(bkeys: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique (lo, hi) document pairs sharing a band key, lo < hi."""
    idx = np.flatnonzero(valid)
    codes: list[np.ndarray] = []
    n_all = np.int64(len(valid))
    for j in range(bkeys.shape[1]):
        col = bkeys[idx, j]
        order = np.argsort(col, kind="stable")  # stable: positions stay ascending in a bucket
        ks = col[order]
        si = idx[order]
        start = np.ones(len(ks), dtype=bool)
        start[1:] = ks[1:] != ks[:-1]
        if start.all():
            continue
        first = np.maximum.accumulate(np.where(start, np.arange(len(ks)), 0))
        dup = ~start
        codes.append(si[first[dup]] * n_all + si[dup])  # star: each to the bucket's first
        for d in range(1, _NEAR + 1):  # and to its d-th predecessor in the same bucket
            same = ks[d:] == ks[:-d]
            if not same.any():
                break
            codes.append(si[:-d][same] * n_all + si[d:][same])
    if not codes:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    u = np.unique(np.concatenate(codes))
    return u // n_all, u % n_all


def _clusters(total: int, edges: list[tuple[np.ndarray, np.ndarray]], lengths: np.ndarray, n0: int,
              keep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(component of each document, survivor of each component, size of each component)."""
    if total == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    lo = np.concatenate([e[0] for e in edges]) if edges else np.empty(0, np.int64)
    hi = np.concatenate([e[1] for e in edges]) if edges else np.empty(0, np.int64)
    g = coo_matrix((np.ones(len(lo), dtype=np.int8), (lo, hi)), shape=(total, total))
    _, comp = connected_components(g, directed=False)
    comp = comp.astype(np.int64)
    # Renumber components by their first document so that numbering never depends on scipy.
    first_pos = np.full(comp.max() + 1, total, dtype=np.int64)
    np.minimum.at(first_pos, comp, np.arange(total))
    pos = np.arange(total)
    if keep == "longest":
        # index documents carry the largest length, so they win; then the longest, then the first
        order = np.lexsort((pos, -lengths, comp))
    else:
        order = np.lexsort((pos, comp))
    is_first = np.ones(total, dtype=bool)
    is_first[1:] = comp[order][1:] != comp[order][:-1]
    survivor = np.empty(comp.max() + 1, dtype=np.int64)
    survivor[comp[order][is_first]] = order[is_first]
    size = np.bincount(comp)
    return comp, survivor, size


# ---------------------------------------------------------------- in bounded memory
def _bucket_codes(ks: np.ndarray, si: np.ndarray, n_all: int) -> np.ndarray:
    """Pair codes (lo * n_all + hi) of one band's rows sorted by (key, position): each document
    with its bucket's first and its _NEAR predecessors, as `_candidate_pairs` does."""
    start = np.ones(len(ks), dtype=bool)
    start[1:] = ks[1:] != ks[:-1]
    if start.all():
        return np.empty(0, np.int64)
    n = np.int64(n_all)
    first = np.maximum.accumulate(np.where(start, np.arange(len(ks)), 0))
    dup = ~start
    codes = [si[first[dup]] * n + si[dup]]
    for d in range(1, _NEAR + 1):
        same = ks[d:] == ks[:-d]
        if not same.any():
            break
        codes.append(si[:-d][same] * n + si[d:][same])
    return np.unique(np.concatenate(codes))


def _band_part_codes(rows: np.ndarray, n_all: int) -> np.ndarray:
    """`_bucket_codes` of (key, position) rows in position order (stable sort by key)."""
    if len(rows) < 2:
        return np.empty(0, np.int64)
    order = np.argsort(rows[:, 0], kind="stable")
    return _bucket_codes(rows[order, 0], rows[order, 1].astype(np.int64), n_all)


def _exact_part_edges(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_exact_edges` of (key0, key1, position) rows: each to the first of its key."""
    if len(rows) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))
    ks = rows[order]
    same = (ks[1:, 0] == ks[:-1, 0]) & (ks[1:, 1] == ks[:-1, 1])
    start = np.ones(len(ks), dtype=bool)
    start[1:] = ~same
    first = np.maximum.accumulate(np.where(start, np.arange(len(ks)), 0))
    pos = ks[:, 2].astype(np.int64)
    return pos[first[~start]], pos[~start]


_PART_BYTES = 8 << 20
_MAX_PARTS = 512  # files open at once while a table is scattered


# bytes the in-memory grouping of one row of W uint64 columns takes: the rows, the sort order
# and the sorted copies
def _group_bytes(width: int) -> int:
    return 8 * (2 * width + 2)


class Grouper:
    """Rows (uint64 columns, the first a hash key, the last a position) that must be grouped by
    key: held in memory while they fit in one partition, else scattered by the key's top bits
    into partitions on disk that each fit, grouped one at a time (a hash-partitioned external
    sort: a key's rows always land in the same partition, in position order). Past 512
    partitions (a table of more than 512 x a quarter of the budget: 10^9 documents under about
    100 MB) partitions are larger than the budget allows."""

    def __init__(self, work: str, name: str, width: int, n_rows: int, budget: int) -> None:
        self.work, self.name, self.width = work, name, width
        need = n_rows * _group_bytes(width)
        # A partition is a quarter of the budget at most (the rest is for what runs beside it),
        # and no bigger than it needs to be: 8 MB, or 1/256 of the table when that is more, so
        # that memory stays flat as the corpus grows, within _MAX_PARTS files.
        part = max(1, min(budget // 4, max(_PART_BYTES, need // 256)))
        self.parts = max(1, -(-need // part))
        if self.parts > 1:
            self.parts = min(_MAX_PARTS, int(self.parts * 1.25) + 1)  # room for uneven partitions
        self.spilled_bytes = 0
        self._mem: list[np.ndarray] = []
        self._files: list[Any] = []
        if self.parts > 1:
            buf = max(4096, min(1 << 20, budget // (4 * self.parts)))
            self._files = [open(self._path(p), "wb", buffering=buf)  # noqa: SIM115
                           for p in range(self.parts)]

    def _path(self, p: int) -> str:
        return os.path.join(self.work, f"{self.name}.part{p}")

    def add(self, rows: np.ndarray) -> None:
        if not len(rows):
            return
        if self.parts == 1:
            self._mem.append(rows)
            return
        part = ((rows[:, 0] >> np.uint64(32)) * np.uint64(self.parts)) >> np.uint64(32)
        order = np.argsort(part, kind="stable")
        srt = np.ascontiguousarray(rows[order])
        bounds = np.searchsorted(part[order], np.arange(self.parts + 1))
        for p in range(self.parts):
            a, b = int(bounds[p]), int(bounds[p + 1])
            if b > a:
                self._files[p].write(srt[a:b].tobytes())
        self.spilled_bytes += srt.nbytes

    def groups(self) -> Iterator[np.ndarray]:
        """Each partition's rows, in position order within a key."""
        if self.parts == 1:
            rows = np.concatenate(self._mem) if self._mem else np.empty((0, self.width), np.uint64)
            self._mem = []
            yield rows
            return
        for f in self._files:
            f.close()
        try:
            for p in range(self.parts):
                path = self._path(p)
                with open(path, "rb") as f:
                    data = f.read()
                os.unlink(path)
                yield np.frombuffer(data, dtype=np.uint64).reshape(-1, self.width)
        finally:
            self.close()

    def close(self) -> None:
        for p, f in enumerate(self._files):
            f.close()
            if os.path.exists(self._path(p)):
                os.unlink(self._path(p))
        self._files = []


def _union_pairs(acc: np.ndarray, new: np.ndarray) -> np.ndarray:
    if not len(new):
        return acc
    return np.union1d(acc, new)


def _clusters_sparse(lo: np.ndarray, hi: np.ndarray, lengths_of: Any, keep: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The clusters of the documents that have a link, the others being alone: (their
    positions, sorted; the component of each; the survivor's position of each component; the
    size of each). Components are numbered by their first document; state is per linked
    document, never per document of the corpus. `lengths_of(positions)` gives lengths for
    `keep == 'longest'`."""
    nodes = np.unique(np.concatenate([lo, hi])) if len(lo) else np.empty(0, np.int64)
    m = len(nodes)
    if not m:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a = np.searchsorted(nodes, lo)
    b = np.searchsorted(nodes, hi)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(m, m))
    k, comp = connected_components(g, directed=False)
    comp = comp.astype(np.int64)
    first = np.full(k, m, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(m))
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(k)
    comp = rank[comp]
    pos = np.arange(m)
    if keep == "longest":
        order = np.lexsort((pos, -lengths_of(nodes), comp))
    else:
        order = np.lexsort((pos, comp))
    is_first = np.ones(m, dtype=bool)
    is_first[1:] = comp[order][1:] != comp[order][:-1]
    survivor = np.empty(k, dtype=np.int64)
    survivor[comp[order][is_first]] = nodes[order[is_first]]
    return nodes, comp, survivor, np.bincount(comp, minlength=k)
