"""`corpuskit pipeline --engine ray`: the map phase and dedup's heavy parts on a Ray cluster.

Map phase (Ray Data `map_batches`). The driver plans and cuts the input into the same units as
the local engine. A window of units (at most 8 per CPU, 256 MB of lines) becomes a Ray Data
dataset with one row per unit: its place in the plan and its input lines as one binary value
(JSON lines as they were read: Ray never parses a record, so no field is retyped; Ray's JSON
reader/writer is not used). `map_batches` (one unit a batch, 1 CPU a task) runs the local
engine's `_run_unit` with the same stage objects (shipped once through the object store) into
a scratch folder and returns the unit's files as bytes (kept and rejected records stay zstd
JSON lines); the driver writes each into clean/.work/units/<key>/ with the same atomic rename
as a local worker, so resumption works unit by unit and across engines. Units come back in any
order; the reduce reads them in unit order.

Reduce. The local reduce runs on the driver (statistics, shards, report), except that dedup
gets two helpers: pass 1 hashes its batches as Ray tasks (RayHashExecutor, taken back in
order), and between its passes the band-key grouping and the candidate check run on the
cluster (RayDedupShuffle: Ray Data `repartition(keys=["band", "key"])`, then a `map_batches`
per partition). Connected components, the exact check of pairs near the threshold and the
filtering pass stay on the driver. Hence the same bytes in data/ and rejected/ and the same
counters whatever the engine.

Nodes need no shared file system for JSONL input (the lines travel in the dataset); HTML and
WARC inputs are read by path on the worker, so they need one. Every node needs corpuskit
installed (the same version as the driver) and the `ray` extra.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..errors import CorpusKitError, UsageError


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'corpuskit[ray]'") from None
    return ray


def _unit_files(payload: tuple, unit: Any) -> dict[str, bytes]:
    """One unit through the per-record stages (the local engine's `_run_unit`, same stage
    objects) in a scratch folder; the folder's files as bytes."""
    from .. import pipeline as pl

    stages, cfg = payload
    scratch = tempfile.mkdtemp(prefix="corpuskit-unit-")
    try:
        pl._init_worker(stages, cfg, scratch)
        pl._run_unit(unit)
        folder = Path(scratch) / unit.key
        return {f.name: f.read_bytes() for f in folder.iterdir()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_CACHE: dict[str, Any] = {}  # per Ray worker process: the stage objects, fetched once per run


def _cached_get(ref: Any) -> Any:
    import ray

    key = ref.hex()
    got = _CACHE.get(key)
    if got is None:
        _CACHE.clear()  # an earlier run's stages: let the object store free them
        got = _CACHE[key] = ray.get(ref)
    return got


def _unit_rows(units: list[Any]) -> list[dict]:
    """One Ray Data row per unit: its place in the plan, and its input lines as they are (one
    binary value, the lines joined by newlines: no record is parsed, so no field is retyped)."""
    rows = []
    for u in units:
        meta = {"file_index": u.file_index, "index": u.index, "name": u.name,
                "first_line": u.first_line, "kind": u.kind, "paths": u.paths}
        rows.append({"key": u.key, "meta": orjson.dumps(meta).decode(), "n_lines": len(u.lines),
                     "lines": b"\n".join(u.lines)})
    return rows


def _map_unit_batch(batch: dict, payload_holder: list) -> dict:
    """The `map_batches` function: each row of the batch is a unit (batch_size=1, so one);
    it runs through the same stage objects as locally and comes back as the unit's files.
    A corpuskit error (a bad line under --strict, a missing field) comes back as a value, so
    the driver raises the stage's own error, not a wrapper."""
    import pickle

    from ..pipeline import Unit

    payload = _cached_get(payload_holder[0])
    keys, files, errors = [], [], []
    for key, meta, n, data in zip(batch["key"], batch["meta"], batch["n_lines"], batch["lines"]):
        unit = Unit(**orjson.loads(meta), lines=bytes(data).split(b"\n") if n else [])
        keys.append(str(key))
        try:
            files.append(pickle.dumps(_unit_files(payload, unit)))
            errors.append(b"")
        except CorpusKitError as e:
            files.append(b"")
            errors.append(pickle.dumps(e))
    return {"key": keys, "files": files, "error": errors}


def _write_unit(units_dir: Path, key: str, files: dict[str, bytes]) -> None:
    """The same atomic build-then-rename as the local engine's workers."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=str(units_dir)))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        final = units_dir / key
        if final.exists():
            shutil.rmtree(tmp)
        else:
            os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _quiet_ray_data(ray: Any) -> Any:
    """Ray Data, with its progress bars and per-dataset log lines off (corpuskit reports its
    own progress on stderr)."""
    import logging

    import ray.data as rd

    ctx = rd.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return rd


def _connect(ray: Any, cfg: Any) -> bool:
    """Join the cluster at cfg.ray_address, or start a local Ray; True when we started it (and
    so must stop it). A Ray already initialised in this process (a notebook, a test) is used."""
    if ray.is_initialized():
        return False
    import logging

    kw: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                          "log_to_driver": False}
    if cfg.ray_address:
        _check_reachable(cfg.ray_address)
        kw["address"] = cfg.ray_address
    else:
        kw["address"] = "local"  # a new local Ray, never a leftover `ray start` found on disk
        # a local Ray's workers import corpuskit from where the driver did (e.g. a checkout)
        src = str(Path(__file__).resolve().parent.parent.parent)
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
        kw["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
        if cfg.workers:
            kw["num_cpus"] = cfg.workers
    try:
        ray.init(**kw)
    except ConnectionError as e:
        raise UsageError(f"cannot reach the Ray cluster at {cfg.ray_address!r}: {e}") from None
    return True


def _check_reachable(address: str) -> None:
    """Ray itself retries an unreachable head for minutes; a plain TCP connect says at once."""
    import socket

    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or address == "auto":
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise UsageError(f"cannot reach the Ray cluster at {address!r}: {e}") from None


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


# units per CPU (and bytes of input lines) in one map_batches dataset: see RaySession.map_units
_UNITS_PER_CPU = 8
_WINDOW_BYTES = 256 << 20


# ---------------------------------------------------------------- dedup: the band-key shuffle
_NEAR = 8  # as corpuskit.stages.dedup._NEAR (checked by a test)
_SIG_CHUNK = 1 << 16  # documents per signature block in the object store (32 MB at 128 perms)
_ROWS_PER_PARTITION = 2_000_000  # band rows (20 bytes each) per shuffle partition, at most


def _sig_rows(idx: np.ndarray, refs: list, width: int, chunk_docs: int, got: dict) -> np.ndarray:
    """Signature rows of global document numbers `idx`, from the blocks in the object store
    (each block fetched once per partition, zero-copy on the same node, and released after)."""
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

        import pyarrow as pa

        ray = self._ray
        rd = _quiet_ray_data(ray)
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


class RaySession:
    """The Ray side of one `run_pipeline`: connect (or start a local Ray), map the units with
    Ray Data, lend dedup the cluster for its signatures and its band-key shuffle, disconnect
    (stopping only a Ray we started)."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.ray = _import_ray()
        self.started = False
        self.cpus = 1
        self.shuffles: list[RayDedupShuffle] = []
        self.windows = 0

    def __enter__(self) -> RaySession:
        self.started = _connect(self.ray, self.cfg)
        self.cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.started:
            self.ray.shutdown()

    def lend_executors(self, stages: list) -> None:
        """Whole-stream stages that can use the cluster (dedup) get it."""
        for s in stages:
            if s.name == "dedup":
                s.hash_executor = RayHashExecutor(self.ray, self.cpus)
                s.lsh_executor = RayDedupShuffle(self.ray, self.cpus)
                self.shuffles.append(s.lsh_executor)

    def report(self) -> dict:
        """What the run measured on the Ray side (stats.json run.ray; not part of the output)."""
        import resource

        return {"cpus": self.cpus, "map_datasets": self.windows,
                "driver_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "dedup_shuffle": [s.measured for s in self.shuffles if s.measured]}

    def map_units(self, units: Iterable[Any], mapped: list, cfg: Any, units_dir: Path,
                  note: Callable[[int, dict | None], None]) -> tuple[list[str], int, int]:
        """Run every unit not already in units_dir through the per-record stages as Ray Data
        `map_batches` (one unit a batch). Returns (unit keys in order, units reused from an
        earlier run, CPUs of the cluster).

        The units are read by the driver and go to Ray in windows of at most 8 per CPU (and
        256 MB of lines): one dataset per window, so the driver's memory does not grow with
        the input (Ray Data has no dataset fed from a Python generator)."""
        ray = self.ray
        rd = _quiet_ray_data(ray)
        payload = ray.put((mapped, cfg))  # the stage objects ship once, not per unit
        keys: list[str] = []
        resumed = done = 0
        window: list[Any] = []
        window_bytes = 0
        max_units, max_bytes = _UNITS_PER_CPU * self.cpus, _WINDOW_BYTES

        def run_window() -> None:
            nonlocal done, window, window_bytes
            if not window:
                return
            import pickle

            self.windows += 1
            rows = _unit_rows(window)
            window, window_bytes = [], 0
            ds = rd.from_items(rows, override_num_blocks=len(rows)).map_batches(
                _map_unit_batch, fn_args=([payload],), batch_size=1, batch_format="numpy",
                num_cpus=1)
            del rows
            it = iter(ds.iter_batches(batch_size=1, batch_format="numpy"))
            try:
                for out in it:
                    for key, blob, err in zip(out["key"], out["files"], out["error"]):
                        if len(err):
                            raise pickle.loads(bytes(err))
                        files = pickle.loads(bytes(blob))
                        _write_unit(units_dir, str(key), files)
                        done += 1
                        note(done, orjson.loads(files["stats.json"]))
            except Exception as e:
                # a stage's own error raised in the worker outside corpuskit's checks: unwrapped
                cause = getattr(e, "cause", None)
                if isinstance(cause, CorpusKitError):
                    raise cause from None
                raise
            finally:
                close = getattr(it, "close", None)
                if close is not None:  # stops the dataset's execution on an error
                    close()

        for unit in units:
            keys.append(unit.key)
            if (units_dir / unit.key).exists():
                resumed += 1
                done += 1
                note(done, orjson.loads((units_dir / unit.key / "stats.json").read_bytes()))
                continue
            window.append(unit)
            window_bytes += sum(len(x) + 1 for x in unit.lines)
            if len(window) >= max_units or window_bytes >= max_bytes:
                run_window()
        run_window()
        return keys, resumed, self.cpus


def map_units_on_ray(units: Iterable[Any], mapped: list, cfg: Any, units_dir: Path,
                     note: Callable[[int, dict | None], None]) -> tuple[list[str], int, int]:
    """The map phase alone, in a session of its own."""
    with RaySession(cfg) as session:
        return session.map_units(units, mapped, cfg, units_dir, note)
