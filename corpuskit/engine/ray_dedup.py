"""Dedup on a Ray cluster: pass 1's hashing as Ray tasks (`RayHashExecutor`) and the band-key
shuffle with the candidate check (`RayDedupShuffle`). The Ray engine lends them to the dedup
stage (`Executor.lend`); dedup itself never imports Ray. numpy is imported by the functions
that use it, so that importing the engines stays light."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def quiet_ray_data(ray: Any) -> Any:
    """Ray Data, with its progress bars and per-dataset log lines off (corpuskit reports its
    own progress on stderr)."""
    import logging

    import ray.data as rd

    ctx = rd.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return rd


class _RayFuture:
    def __init__(self, ray: Any, ref: Any):
        self._ray, self._ref = ray, ref

    def result(self) -> Any:
        return self._ray.get(self._ref)


def _call(fn: Callable, *args: Any) -> Any:
    return fn(*args)


class RayHashExecutor:
    """`submit(fn, *args)` as Ray tasks: dedup's pass 1 hashes its batches on the cluster with
    up to 2 batches per CPU in flight (results are still taken in order by dedup)."""

    def __init__(self, ray: Any, cpus: int):
        self._ray = ray
        self._task = ray.remote(num_cpus=1, max_retries=3)(_call)
        self.max_pending = 2 * cpus

    def submit(self, fn: Callable, *args: Any) -> _RayFuture:
        return _RayFuture(self._ray, self._task.remote(fn, *args))


# ---------------------------------------------------------------- dedup: the band-key shuffle
_NEAR = 8  # as corpuskit.stages.dedup.graph._NEAR (checked by a test)
_SIG_CHUNK = 1 << 16  # documents per signature block in the object store (32 MB at 128 perms)
_ROWS_PER_PARTITION = 2_000_000  # band rows (20 bytes each) per shuffle partition, at most


def _sig_rows(idx: np.ndarray, refs: list, width: int, chunk_docs: int, got: dict) -> np.ndarray:
    """Signature rows of global document numbers `idx`, from the blocks in the object store
    (each block fetched once per partition, zero-copy on the same node, and released after)."""
    import numpy as np
    import ray

    out = np.empty((len(idx), width), dtype=np.uint32)
    chunk = idx // chunk_docs
    for c in np.unique(chunk).tolist():
        m = chunk == c
        if c not in got:
            got[c] = ray.get(refs[c])
        out[m] = got[c][idx[m] - c * chunk_docs]
    return out


def _bucket_pairs(batch: dict, refs_holder: list, n_all: int, width: int, chunk_docs: int) -> dict:
    """The candidate check of one shuffle partition (every row of a (band, key) group is in
    it): the same pairs as the local `_candidate_pairs` (each document of a bucket with the
    bucket's first and with its 8 predecessors, by position), and their estimated Jaccard.
    Returns the unique pair codes (lo * n_all + hi) with their numbers of equal signature values."""
    import numpy as np

    band, key, pos = batch["band"], batch["key"], batch["pos"]
    if not len(pos):
        return {"code": np.empty(0, np.int64), "equal": np.empty(0, np.uint16)}
    order = np.lexsort((pos, key, band))
    band, key, si = band[order], key[order], pos[order].astype(np.int64)
    start = np.ones(len(si), dtype=bool)
    start[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    codes: list[np.ndarray] = []
    n = np.int64(n_all)
    if not start.all():
        first = np.maximum.accumulate(np.where(start, np.arange(len(si)), 0))
        dup = ~start
        codes.append(si[first[dup]] * n + si[dup])
        for d in range(1, _NEAR + 1):
            same = (band[d:] == band[:-d]) & (key[d:] == key[:-d])
            if not same.any():
                break
            codes.append(si[:-d][same] * n + si[d:][same])
    if not codes:
        return {"code": np.empty(0, np.int64), "equal": np.empty(0, np.uint16)}
    u = np.unique(np.concatenate(codes))
    refs = refs_holder[0]
    # the number of equal signature values (2 bytes; the estimate is it over num_perm, computed
    # by the driver exactly as minhash.estimate_jaccard does)
    equal = np.empty(len(u), dtype=np.uint16)
    step = 1 << 15
    got: dict[int, np.ndarray] = {}
    for s in range(0, len(u), step):
        part = u[s:s + step]
        equal[s:s + step] = np.count_nonzero(_sig_rows(part // n, refs, width, chunk_docs, got)
                                             == _sig_rows(part % n, refs, width, chunk_docs, got), axis=1)
    got.clear()
    return {"code": u, "equal": equal}


class RayDedupShuffle:
    """dedup's between-the-passes work on the cluster: the band rows (band, band key, document)
    are hash-shuffled with Ray Data `repartition(keys=["band", "key"])`, so that every bucket
    is in one partition; each partition finds its candidate pairs and estimates their Jaccard
    from the signatures (in the object store, in blocks of 65,536 documents) in parallel.
    The driver gets the pairs back, drops the ones found in several bands, and goes on as
    locally (exact check near the threshold, connected components, the filtering pass)."""

    def __init__(self, ray: Any, cpus: int):
        self._ray = ray
        self.cpus = cpus
        self.measured: dict[str, Any] = {}

    def candidate_pairs(self, bkeys: np.ndarray, valid: np.ndarray, sig_rows: Callable,
                        width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import time

        import numpy as np
        import pyarrow as pa

        ray = self._ray
        rd = quiet_ray_data(ray)
        ctx = rd.DataContext.get_current()
        if str(ctx.shuffle_strategy.value).startswith("sort"):
            ctx.shuffle_strategy = "shuffle_v2"  # repartition by key needs a hash shuffle
        t0 = time.perf_counter()
        total, b = bkeys.shape
        chunk = _SIG_CHUNK
        refs = [ray.put(sig_rows(np.arange(s, min(s + chunk, total)))) for s in range(0, total, chunk)]
        sig_bytes = total * width * 4
        # the band rows go to the object store a block at a time: the driver never holds them all
        tables = []
        band_bytes = rows = 0
        for s in range(0, total, chunk):
            idx = s + np.flatnonzero(valid[s:s + chunk])
            t = pa.table({"band": np.tile(np.arange(b, dtype=np.int32), len(idx)),
                          "key": bkeys[idx].ravel(), "pos": np.repeat(idx, b).astype(np.int64)})
            band_bytes += t.nbytes
            rows += t.num_rows
            tables.append(ray.put(t))
            del t
        parts = max(2 * self.cpus, -(-rows // _ROWS_PER_PARTITION))
        codes: list[np.ndarray] = []
        ests: list[np.ndarray] = []
        returned = 0
        try:
            if rows:
                ds = (rd.from_arrow_refs(tables)
                      .repartition(parts, keys=["band", "key"])
                      .map_batches(_bucket_pairs, fn_args=([refs], total, width, chunk), batch_size=None,
                                   batch_format="numpy", num_cpus=1))
                for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    codes.append(out["code"].astype(np.int64))
                    ests.append(out["equal"].astype(np.uint16))
                    returned += len(out["code"])
        finally:
            del refs, tables
        if codes:
            code = np.concatenate(codes)
            del codes
            u, first = np.unique(code, return_index=True)  # a pair can share several bands
            del code
            equal = np.concatenate(ests)[first]
            del ests, first
            est = equal.astype(np.int64) / width  # = minhash.estimate_jaccard, the same floats
        else:
            u, est = np.empty(0, np.int64), np.empty(0, np.float64)
        n = np.int64(total)
        self.measured = {
            "documents": int(total), "bands": int(b), "band_rows": int(rows),
            "band_row_bytes": int(band_bytes), "partitions": int(parts),
            "signature_bytes_in_object_store": int(sig_bytes),
            "pairs_returned": int(returned), "pair_bytes_returned": int(returned * 10),
            "candidate_pairs": int(len(u)),
            "seconds": round(time.perf_counter() - t0, 3)}
        return u // n, u % n, est
