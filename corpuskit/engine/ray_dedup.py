"""Dedup on a Ray cluster (`RayFlatDedup`): the per-document state in the object store, the
band and exact keys grouped by a Ray Data shuffle, the clusters found in a task. The Ray engine
lends it to the dedup stage (`Executor.lend`); dedup itself never imports Ray. numpy is imported
by the functions that use it, so that importing the engines stays light."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corpuskit.core.errors import ClusterError

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


# ---------------------------------------------------------------- dedup: the shuffle
_NEAR = 8  # as corpuskit.stages.dedup.graph._NEAR (checked by a test)
_ROWS_PER_PARTITION = 2_000_000  # band rows (32 bytes each) per shuffle partition, at most
_MASK = (1 << 64) - 1


def _row_sum(band: np.ndarray, key: np.ndarray, key2: np.ndarray, pos: np.ndarray) -> int:
    """A checksum of shuffle rows that does not depend on their order: the sum (mod 2^64) of a
    mixed 64-bit hash of each row. A row lost, duplicated or changed on the way changes it (a
    lost row and a duplicated one do not cancel out, as they would in a plain count)."""
    import numpy as np

    if not len(pos):
        return 0
    with np.errstate(over="ignore"):
        h = (np.asarray(key, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             + np.asarray(key2, dtype=np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
             + np.asarray(pos, dtype=np.int64).astype(np.uint64) * np.uint64(0x165667B19E3779F9)
             + np.asarray(band, dtype=np.int64).astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93))
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(29)
        return int(h.sum(dtype=np.uint64))


# ---------------------------------------------------------------- dedup: flat driver memory
_BLOCKS_PER_TABLE = 128  # hashing blocks (<= 512 documents each) per band-row table of the shuffle


def _two(fn: Callable, *args: Any) -> Any:
    return fn(*args)


_GROUPS = 1 << 16  # bucket groups: the shuffle's key, and what the driver checks came whole


def _bucket_group(band: np.ndarray, key: np.ndarray, key2: np.ndarray) -> np.ndarray:
    """A bucket's group (0 .. _GROUPS - 1), a function of the bucket (band, key, key2) alone:
    every row of a bucket has the same group, and the shuffle is keyed by it."""
    import numpy as np

    with np.errstate(over="ignore"):
        h = (np.asarray(key, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             ^ np.asarray(key2, dtype=np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
             ^ np.asarray(band, dtype=np.int64).astype(np.uint64) * np.uint64(0x165667B19E3779F9))
    return (h >> np.uint64(48)).astype(np.int32)


def _table(fn: Callable, starts: list, exact: bool, near: bool, *blocks: dict) -> Any:
    """A band-row table of some blocks (the blocks are fetched by Ray as the task's arguments),
    with each row's bucket group (`group`), the key the shuffle partitions by."""
    import pyarrow as pa

    t = pa.table(fn(list(blocks), starts, exact, near))
    return t.append_column("group", pa.array(_bucket_group(*(t.column(c).to_numpy() for c in ("band", "key", "key2")))))


def _table_size(t: Any) -> tuple[int, int, int]:
    """(rows, bytes, checksum) of a band-row table: what goes into the shuffle."""
    return t.num_rows, t.nbytes, _row_sum(*(t.column(c).to_numpy() for c in ("band", "key", "key2", "pos")))


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
    graph._exact_edges. Returns (code = lo * n_all + hi, equal, exact?) per unique pair, then
    one more row (code -1) that accounts for the partition: the rows it got and their checksum
    (`rows`, `sum`), and the pairs it returns (`pairs`), checked by the driver."""
    import numpy as np

    band, key, key2, pos = batch["band"], batch["key"], batch["key2"], batch["pos"]
    code, equal, exact = _partition_pairs(band, key, key2, pos, holder, n_all)
    k = len(code)
    # the bucket groups this call saw, one row each (code -2 - group): a group seen by two calls
    # was cut in two, and the pairs across the cut were never made
    groups = np.unique(_bucket_group(band, key, key2)).astype(np.int64) if len(pos) else np.empty(0, np.int64)
    g = len(groups)
    z = np.zeros(k + g, dtype=np.int64)
    return {"code": np.concatenate([code, -2 - groups, [-1]]),
            "equal": np.append(np.append(equal, np.zeros(g, np.uint16)), 0).astype(np.uint16),
            "exact": np.append(np.append(exact, np.zeros(g, bool)), False), "rows": np.append(z, len(pos)),
            "sum": np.append(z.astype(np.uint64), np.uint64(_row_sum(band, key, key2, pos))),
            "pairs": np.append(z, k)}


def _partition_pairs(band: np.ndarray, key: np.ndarray, key2: np.ndarray, pos: np.ndarray, holder: list,
                     n_all: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    empty = (np.empty(0, np.int64), np.empty(0, np.uint16), np.empty(0, bool))
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
    return (np.concatenate([u, ex]), np.concatenate([equal, np.zeros(len(ex), np.uint16)]),
            np.concatenate([np.zeros(len(u), bool), np.ones(len(ex), bool)]))


def _decide_task(fn: Callable, lo: np.ndarray, hi: np.ndarray, holder: list, *args: Any) -> Any:
    return fn(lo, hi, _Blocks(*holder[0]), *args)


class RayFlatDedup:
    """The whole of dedup between its two reads of the stream, on the cluster, so that the
    driver holds no per-document state (`Dedup.flat_executor`, see
    corpuskit.stages.dedup.flat for what the stage hands over):
    - `add`: each hashing batch is a Ray task whose result (the block of that batch's
      signatures, band keys, exact keys, lengths, ids) stays in the object store; the driver
      keeps its reference and start position (a few hundred bytes per 512 documents); `put`
      stores a block made by the driver (the rows of an `--index`, read from its file a block
      at a time), `blocks` reads them back one at a time;
    - `pairs`: band-row tables are built by tasks from the blocks, hash-shuffled by Ray Data
      `repartition(keys=["band", "key", "key2"])` (Ray Data's hash shuffle), and each partition
      returns its candidate pairs (with their numbers of equal signature values, read from the
      blocks) and exact pairs: the driver gets pairs, which grow with the duplicates, not with
      the corpus. The rows into the shuffle and out of it are counted and checksummed, and the
      pairs each partition made counted on arrival: a difference (a task that died and was run
      again, a block lost or read twice) raises ClusterError rather than give another result;
    - `decide`: one task finds the clusters of the linked pairs and returns a decision per
      clustered document; `release` lets the blocks go."""

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
        # what each shuffle partition runs (an attribute, so that a test can put a faulty one)
        self.partition_fn: Callable = _bucket_pairs_flat
        self.measured: dict[str, Any] = {}
        self.start()

    def start(self) -> None:
        self._pending: list[tuple[Any, Any]] = []
        self._refs: list[Any] = []
        self._starts: list[int] = []
        self._n = self._no_shingles = 0

    release = start

    def _get(self, refs: Any) -> Any:
        """ray.get, a worker or node lost (the hashing and table tasks are not retried) as one
        error line rather than Ray's traceback."""
        ex = self._ray.exceptions
        try:
            return self._ray.get(refs)
        except (ex.WorkerCrashedError, ex.NodeDiedError, ex.ObjectLostError) as e:
            raise ClusterError(f"dedup: a task on the cluster was lost ({type(e).__name__}: its worker or node "
                               f"died): stopped, nothing written as done; run it again") from None

    def add(self, fn: Callable, *args: Any) -> None:
        self._pending.append(tuple(self._hash.remote(fn, *args)))
        while len(self._pending) > self.max_pending:
            self._take()

    def put(self, block: dict) -> None:
        """A block made here (its documents come after those already added)."""
        while self._pending:
            self._take()
        self._starts.append(self._n)
        self._refs.append(self._ray.put(block))
        self._n += len(block["length"])

    def blocks(self, start: int) -> Any:
        """The blocks from global position `start` on (a block boundary), in order, one at a time."""
        for s, ref in zip(self._starts, self._refs):
            if s >= start:
                blk = self._get(ref)
                yield blk
                del blk

    def _take(self) -> None:
        meta, block = self._pending.pop(0)
        k, no_shingles = self._get(meta)
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
        rows = band_bytes = sum_in = 0
        rows_out = sum_out = pairs_made = 0
        codes: list[np.ndarray] = []
        equal: list[np.ndarray] = []
        kinds: list[np.ndarray] = []
        returned = 0
        parts = 0
        seen: list[np.ndarray] = []
        if tables and (exact or near):
            sizes = self._get([self._size.remote(t) for t in tables])
            rows = sum(r for r, _, _ in sizes)
            band_bytes = sum(b for _, b, _ in sizes)
            sum_in = sum(c for _, _, c in sizes) & _MASK
            parts = max(2 * self.cpus, -(-rows // _ROWS_PER_PARTITION))
            if rows:
                ds = (rd.from_arrow_refs(tables)
                      .repartition(parts, keys=["group"])
                      .map_batches(self.partition_fn, fn_args=([(starts, self._refs)], total, width),
                                   batch_size=None, batch_format="numpy", num_cpus=1))
                for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    code = out["code"].astype(np.int64)
                    acct = code < 0  # each partition's account row, and the bucket groups it saw
                    seen.append(-2 - code[code <= -2])
                    rows_out += int(out["rows"][acct].sum())
                    sum_out = (sum_out + sum(int(x) for x in out["sum"][acct])) & _MASK
                    pairs_made += int(out["pairs"][acct].sum())
                    ok = ~acct
                    codes.append(code[ok])
                    equal.append(out["equal"][ok].astype(np.uint16))
                    kinds.append(out["exact"][ok].astype(bool))
                    returned += int(ok.sum())
        del tables
        groups = np.concatenate(seen) if seen else np.empty(0, np.int64)
        cut = len(groups) - len(np.unique(groups))
        if cut:  # (at most _GROUPS numbers on the driver, whatever the corpus)
            raise ClusterError(f"dedup: the band-key shuffle on the cluster handed {cut:,} bucket group(s) to the "
                               f"candidate check in more than one piece (pairs across the pieces would be lost): "
                               f"stopped, nothing written as done; lower the rows per shuffle partition")
        if (rows_out, sum_out, pairs_made) != (rows, sum_in, returned):
            what = (f"{rows:,} rows went in, {rows_out:,} came out" if rows_out != rows else
                    f"{rows:,} rows went in and out but their checksums differ" if sum_out != sum_in else
                    f"the partitions made {pairs_made:,} pairs, {returned:,} arrived")
            raise ClusterError(f"dedup: the band-key shuffle on the cluster did not add up ({what}; a task "
                               f"failed and was re-run, or a block was lost or read twice): stopped, "
                               f"nothing written as done; run it again")
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
            "rows_out": int(rows_out), "checksum_matched": True,
            "partitions": int(parts), "blocks": len(self._refs),
            "signature_bytes_in_object_store": int(total * width * 4),
            "pairs_returned": int(returned), "pair_bytes_returned": int(returned * 11),
            "candidate_pairs": int(len(u)), "exact_pairs": int(len(e)),
            "seconds": round(time.perf_counter() - t0, 3)}
        return u // n, u % n, est, e // n, e % n

    def decide(self, fn: Callable, lo: np.ndarray, hi: np.ndarray, *args: Any) -> dict:
        """`fn(lo, hi, fetch, *args)` in one task, `fetch` reading the blocks; its result. The
        blocks stay until `release`."""
        import numpy as np

        starts = np.array(self._starts, dtype=np.int64)
        return self._get(self._decide.remote(fn, lo, hi, [(starts, self._refs)], *args))
