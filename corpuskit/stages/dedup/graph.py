"""dedup's graph: exact-duplicate edges, candidate pairs from LSH buckets, and the clusters
(connected components) whose first member survives."""
from __future__ import annotations

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
