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


# ---------------------------------------------------------------- dedup: flat driver memory
_BLOCKS_PER_TABLE = 128  # hashing blocks (<= 512 documents each) per band-row table of the shuffle


def _two(fn: Callable, *args: Any) -> Any:
    return fn(*args)


def _table(fn: Callable, starts: list, exact: bool, near: bool, *blocks: dict) -> Any:
    """A band-row table of some blocks (the blocks are fetched by Ray as the task's arguments)."""
    import pyarrow as pa

    return pa.table(fn(list(blocks), starts, exact, near))


def _table_size(t: Any) -> tuple[int, int]:
    return t.num_rows, t.nbytes


class _Blocks:
    """Fields of the blocks at global positions, read from the object store (each block fetched
    once per call, zero-copy on the same node)."""

    def __init__(self, starts: np.ndarray, refs: list):
        self.starts, self.refs = starts, refs

    def __call__(self, idx: np.ndarray, field: str) -> Any:
        import numpy as np
        import ray

        idx = np.asarray(idx, dtype=np.int64)
        which = np.searchsorted(self.starts, idx, side="right") - 1
        out: Any = None
        for c in np.unique(which).tolist():
            m = np.flatnonzero(which == c)
            blk = ray.get(self.refs[c])
            rows = idx[m] - self.starts[c]
            if field == "id":
                blob, ends = blk["id_blob"], blk["id_ends"]
                if out is None:
                    out = [""] * len(idx)
                for j, rw in zip(m.tolist(), rows.tolist()):
                    a = int(ends[rw - 1]) if rw else 0
                    out[j] = bytes(blob[a:int(ends[rw])]).decode("utf-8", "surrogatepass")
                continue
            col = blk[field]
            if out is None:
                out = np.empty((len(idx),) + col.shape[1:], dtype=col.dtype)
            out[m] = col[rows]
            del blk, col
        if out is None:
            return [] if field == "id" else np.empty(0)
        return out


def _bucket_pairs_flat(batch: dict, holder: list, n_all: int, width: int) -> dict:
    """The candidate check of one shuffle partition (every row of a (band, key, key2) group is
    in it). Band groups (band >= 0): the same pairs as graph._candidate_pairs (each document
    with the bucket's first and its 8 predecessors, by position), with their numbers of equal
    signature values. Exact groups (band = -1): each document with the group's first, as
    graph._exact_edges. Returns (code = lo * n_all + hi, equal, exact?) per unique pair."""
    import numpy as np

    band, key, key2, pos = batch["band"], batch["key"], batch["key2"], batch["pos"]
    empty = {"code": np.empty(0, np.int64), "equal": np.empty(0, np.uint16), "exact": np.empty(0, bool)}
    if not len(pos):
        return empty
    order = np.lexsort((pos, key2, key, band))
    band, key, key2, si = band[order], key[order], key2[order], pos[order].astype(np.int64)
    start = np.ones(len(si), dtype=bool)
    start[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1]) | (key2[1:] != key2[:-1])
    if start.all():
        return empty
    n = np.int64(n_all)
    first = np.maximum.accumulate(np.where(start, np.arange(len(si)), 0))
    dup = ~start
    star = si[first[dup]] * n + si[dup]
    is_exact = band[dup] < 0
    near_codes = [star[~is_exact]]
    for d in range(1, _NEAR + 1):
        same = (band[d:] == band[:-d]) & (key[d:] == key[:-d]) & (key2[d:] == key2[:-d]) & (band[d:] >= 0)
        if not same.any():
            break
        near_codes.append(si[:-d][same] * n + si[d:][same])
    u = np.unique(np.concatenate(near_codes))
    ex = np.unique(star[is_exact])
    blocks = _Blocks(*holder[0])
    equal = np.empty(len(u), dtype=np.uint16)
    step = 1 << 15
    for s in range(0, len(u), step):
        part = u[s:s + step]
        equal[s:s + step] = np.count_nonzero(blocks(part // n, "sigs") == blocks(part % n, "sigs"), axis=1)
    return {"code": np.concatenate([u, ex]), "equal": np.concatenate([equal, np.zeros(len(ex), np.uint16)]),
            "exact": np.concatenate([np.zeros(len(u), bool), np.ones(len(ex), bool)])}


def _decide_task(fn: Callable, lo: np.ndarray, hi: np.ndarray, holder: list, *args: Any) -> Any:
    return fn(lo, hi, _Blocks(*holder[0]), *args)


class RayFlatDedup:
    """The whole of dedup between its two reads of the stream, on the cluster, so that the
    driver holds no per-document state (`Dedup.flat_executor`, see
    corpuskit.stages.dedup.flat for what the stage hands over):
    - `add`: each hashing batch is a Ray task whose result (the block of that batch's
      signatures, band keys, exact keys, lengths, ids) stays in the object store; the driver
      keeps its reference and start position (a few hundred bytes per 512 documents);
    - `pairs`: band-row tables are built by tasks from the blocks, hash-shuffled by Ray Data
      `repartition(keys=["band", "key", "key2"])`, and each partition returns its candidate
      pairs (with their numbers of equal signature values, read from the blocks) and exact
      pairs: the driver gets pairs, which grow with the duplicates, not with the corpus;
    - `decide`: one task finds the clusters of the linked pairs and returns a decision per
      clustered document.
    The Ray Data settings (hash shuffle) are those of RayDedupShuffle."""

    flat = True

    def __init__(self, ray: Any, cpus: int):
        self._ray = ray
        self.cpus = cpus
        self.max_pending = 2 * cpus
        # no retries, hence no lineage: Ray would otherwise keep every task's arguments (the
        # texts, the ids) alive for a re-run, on the driver and in the object store; a lost task
        # or node fails the dedup instead (pipeline: start it again, the map units are reused)
        self._hash = ray.remote(num_cpus=1, max_retries=0, num_returns=2)(_two)
        self._table = ray.remote(num_cpus=1, max_retries=0)(_table)
        self._decide = ray.remote(num_cpus=1, max_retries=3)(_decide_task)
        self._size = ray.remote(num_cpus=0.1)(_table_size)
        self.measured: dict[str, Any] = {}
        self.start()

    def start(self) -> None:
        self._pending: list[tuple[Any, Any]] = []
        self._refs: list[Any] = []
        self._starts: list[int] = []
        self._n = self._no_shingles = 0

    def add(self, fn: Callable, *args: Any) -> None:
        self._pending.append(tuple(self._hash.remote(fn, *args)))
        while len(self._pending) > self.max_pending:
            self._take()

    def _take(self) -> None:
        meta, block = self._pending.pop(0)
        k, no_shingles = self._ray.get(meta)
        self._starts.append(self._n)
        self._refs.append(block)
        self._n += k
        self._no_shingles += no_shingles

    def finish(self) -> tuple[int, int]:
        while self._pending:
            self._take()
        return self._n, self._no_shingles

    def pairs(self, rows_fn: Callable, exact: bool, near: bool, width: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(near lo, near hi, estimated Jaccard, exact lo, exact hi), unique pairs, lo < hi."""
        import time

        import numpy as np

        ray = self._ray
        rd = quiet_ray_data(ray)
        ctx = rd.DataContext.get_current()
        if str(ctx.shuffle_strategy.value).startswith("sort"):
            ctx.shuffle_strategy = "shuffle_v2"  # repartition by key needs a hash shuffle
        t0 = time.perf_counter()
        total = self._n
        starts = np.array(self._starts, dtype=np.int64)
        tables = []
        for s in range(0, len(self._refs), _BLOCKS_PER_TABLE):
            tables.append(self._table.remote(rows_fn, self._starts[s:s + _BLOCKS_PER_TABLE], exact, near,
                                             *self._refs[s:s + _BLOCKS_PER_TABLE]))
        rows = band_bytes = 0
        codes: list[np.ndarray] = []
        equal: list[np.ndarray] = []
        kinds: list[np.ndarray] = []
        returned = 0
        parts = 0
        if tables and (exact or near):
            sizes = ray.get([self._size.remote(t) for t in tables])
            rows = sum(r for r, _ in sizes)
            band_bytes = sum(b for _, b in sizes)
            parts = max(2 * self.cpus, -(-rows // _ROWS_PER_PARTITION))
            if rows:
                ds = (rd.from_arrow_refs(tables)
                      .repartition(parts, keys=["band", "key", "key2"])
                      .map_batches(_bucket_pairs_flat, fn_args=([(starts, self._refs)], total, width),
                                   batch_size=None, batch_format="numpy", num_cpus=1))
                for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    codes.append(out["code"].astype(np.int64))
                    equal.append(out["equal"].astype(np.uint16))
                    kinds.append(out["exact"].astype(bool))
                    returned += len(out["code"])
        del tables
        n = np.int64(max(total, 1))
        if codes:
            code, eq, kind = np.concatenate(codes), np.concatenate(equal), np.concatenate(kinds)
            del codes, equal, kinds
            u, first = np.unique(code[~kind], return_index=True)  # a pair can share several bands
            est = eq[~kind][first].astype(np.int64) / width  # = minhash.estimate_jaccard
            e = np.unique(code[kind])
        else:
            u = e = np.empty(0, np.int64)
            est = np.empty(0, np.float64)
        self.measured = {
            "documents": int(total), "band_rows": int(rows), "band_row_bytes": int(band_bytes),
            "partitions": int(parts), "blocks": len(self._refs),
            "signature_bytes_in_object_store": int(total * width * 4),
            "pairs_returned": int(returned), "pair_bytes_returned": int(returned * 11),
            "candidate_pairs": int(len(u)), "exact_pairs": int(len(e)),
            "seconds": round(time.perf_counter() - t0, 3)}
        return u // n, u % n, est, e // n, e % n

    def decide(self, fn: Callable, lo: np.ndarray, hi: np.ndarray, *args: Any) -> dict:
        """`fn(lo, hi, fetch, *args)` in one task, `fetch` reading the blocks; its result."""
        import numpy as np

        starts = np.array(self._starts, dtype=np.int64)
        try:
            return self._ray.get(self._decide.remote(fn, lo, hi, [(starts, self._refs)], *args))
        finally:
            self.start()  # the blocks are released
