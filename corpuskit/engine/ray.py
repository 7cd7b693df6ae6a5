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
keeps its per-document state on the cluster (RayFlatDedup, corpuskit.engine.ray_dedup: the
hashing as Ray tasks whose blocks stay in the object store, the band and exact keys grouped by
Ray Data `repartition(keys=["band", "key", "key2"])` and checked per partition, the clusters in
a task); the exact check of pairs near the threshold and the filtering pass, which read the
records, stay on the driver. Hence the same bytes in data/ and rejected/ and the same counters
whatever the engine.

Nodes need no shared file system for JSONL input (the lines travel in the dataset); HTML and
WARC inputs are read by path on the worker, so they need one. Every node needs corpuskit
installed (the same version as the driver) and the `ray` extra.
"""
from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from corpuskit.core import interrupts
from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.core.owner import remove_dead_scratch, scratch_prefix
from corpuskit.engine.ray_dedup import RayFlatDedup, quiet_ray_data


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'corpuskit[ray]'") from None
    return ray


_SWEPT: list[bool] = []


def _unit_files(task: Callable, unit: Any) -> dict[str, bytes]:
    """One unit through the task (the same object the local engine runs) in a scratch folder;
    the folder's files as bytes."""
    if not _SWEPT:  # once per worker process: scratch folders of killed workers on this host
        remove_dead_scratch(tempfile.gettempdir(), "unit")
        _SWEPT.append(True)
    scratch = tempfile.mkdtemp(prefix=scratch_prefix("unit"))
    try:
        task(unit, Path(scratch))
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
    return [{"key": u.key, "unit": pickle.dumps(u, protocol=5)} for u in units]


def _map_unit_batch(batch: dict, payload_holder: list) -> dict:
    """The `map_batches` function: each row of the batch is a unit (batch_size=1, so one);
    it runs through the same stage objects as locally and comes back as the unit's files.
    A corpuskit error (a bad line under --strict, a missing field) comes back as a value, so
    the driver raises the stage's own error, not a wrapper."""
    task = _cached_get(payload_holder[0])
    keys, files, errors = [], [], []
    for key, blob in zip(batch["key"], batch["unit"]):
        unit = pickle.loads(bytes(blob))
        keys.append(str(key))
        try:
            files.append(pickle.dumps(_unit_files(task, unit)))
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


def _connect(ray: Any, address: str | None, workers: int) -> bool:
    """Join the cluster at `address`, or start a local Ray; True when we started it (and so
    must stop it). A Ray already initialised in this process (a notebook, a test) is used."""
    if ray.is_initialized():
        return False
    import logging

    kw: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                          "log_to_driver": False}
    if address:
        _check_reachable(address)
        kw["address"] = address
    else:
        kw["address"] = "local"  # a new local Ray, never a leftover `ray start` found on disk
        # a local Ray's workers import corpuskit from where the driver did (e.g. a checkout)
        src = str(Path(__file__).resolve().parent.parent.parent)
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
        kw["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
        if workers:
            kw["num_cpus"] = workers
    try:
        ray.init(**kw)
    except ConnectionError as e:
        raise UsageError(f"cannot reach the Ray cluster at {address!r}: {e}") from None
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


# units per CPU (and bytes of input lines) in one map_batches dataset: see RayExecutor.map_units
_UNITS_PER_CPU = 8
_WINDOW_BYTES = 256 << 20


class RayExecutor:
    """The Ray side of one pipeline run: connect (or start a local Ray), map the units with
    Ray Data, lend dedup the cluster for its per-document state and its shuffle, disconnect
    (stopping only a Ray we started)."""

    def __init__(self, address: str | None = None, workers: int = 0):
        self.address = address
        self.workers = workers
        self.ray = _import_ray()
        self.started = False
        self.cpus = 1
        self.shuffles: list[RayFlatDedup] = []
        self.windows = 0

    def __enter__(self) -> RayExecutor:
        self.started = _connect(self.ray, self.address, self.workers)
        self.cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.started:
            self.ray.shutdown()

    def lend(self, stages: list) -> None:
        """Whole-stream stages that can use the cluster (dedup) get it."""
        for s in stages:
            if s.name == "dedup":
                s.flat_executor = RayFlatDedup(self.ray, self.cpus)
                self.shuffles.append(s.flat_executor)

    def report(self) -> dict:
        """What the run measured on the Ray side (stats.json run.ray; not part of the output)."""
        import resource

        return {"cpus": self.cpus, "map_datasets": self.windows,
                "driver_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "dedup_shuffle": [s.measured for s in self.shuffles if s.measured]}

    def map_units(self, units: Iterable[Any], task: Callable[[Any, Path], dict], units_dir: Path,
                  note: Callable[[int, dict | None], None]) -> tuple[list[str], int, int]:
        """Run every unit not already in units_dir through `task` as Ray Data
        `map_batches` (one unit a batch). Returns (unit keys in order, units reused from an
        earlier run, CPUs of the cluster).

        The units are read by the driver and go to Ray in windows of at most 8 per CPU (and
        256 MB of lines): one dataset per window, so the driver's memory does not grow with
        the input (Ray Data has no dataset fed from a Python generator)."""
        ray = self.ray
        rd = quiet_ray_data(ray)
        payload = ray.put(task)  # the stage objects ship once, not per unit
        keys: list[str] = []
        resumed = done = 0
        window: list[Any] = []
        window_bytes = 0
        max_units, max_bytes = _UNITS_PER_CPU * self.cpus, _WINDOW_BYTES

        def run_window() -> None:
            nonlocal done, window, window_bytes
            if not window:
                return
            self.windows += 1
            rows = _unit_rows(window)
            window, window_bytes = [], 0
            ds = rd.from_items(rows, override_num_blocks=len(rows)).map_batches(
                _map_unit_batch, fn_args=([payload],), batch_size=1, batch_format="numpy",
                num_cpus=1)
            del rows
            it = iter(ds.iter_batches(batch_size=1, batch_format="numpy"))
            # units finish in any order: a stage's error (a bad line under --strict) is raised
            # once the window is done, the earliest unit's, so it is the local engine's error
            errors: list[tuple[str, bytes]] = []
            try:
                for out in it:
                    for key, blob, err in zip(out["key"], out["files"], out["error"]):
                        if len(err):
                            errors.append((str(key), bytes(err)))
                            continue
                        files = pickle.loads(bytes(blob))
                        _write_unit(units_dir, str(key), files)
                        done += 1
                        note(done, orjson.loads(files["stats.json"]))
                        interrupts.checkpoint()  # a Ctrl-C that a library swallowed stops the run here
                if errors:
                    raise pickle.loads(min(errors)[1])
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
            window_bytes += sum(len(x) + 1 for x in getattr(unit, "lines", ()))
            if len(window) >= max_units or window_bytes >= max_bytes:
                run_window()
        run_window()
        return keys, resumed, self.cpus
