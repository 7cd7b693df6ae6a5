"""`corpuskit pipeline --engine ray`: the map phase (and dedup's hashing) on a Ray cluster.

Only the map phase changes engine. The driver plans and cuts the input into the same units as
the local engine; each unit becomes a Ray task that runs the very same `_run_unit` (same stage
objects, same `Chain`) into a scratch folder on whichever node runs it, and sends the unit's
files back as bytes (kept/rejected records stay JSON lines, compressed, never parsed by Ray, so
no field is retyped). The driver writes them into clean/.work/units/<key>/ atomically, exactly
where the local engine would have, and the unchanged local reduce (dedup, statistics, shards,
report) follows, except that dedup hashes its pass-1 batches as Ray tasks (RayHashExecutor;
taken back in order). Hence the same bytes in data/ and rejected/ and the same counters whatever
the engine; and a run killed on one engine resumes on the other.

Nodes need no shared file system for JSONL input (the lines travel in the task); HTML and WARC
inputs are read by path on the worker, so they need one. Every node needs corpuskit installed
(the same version as the driver) and the `ray` extra.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from ..errors import CorpusKitError, UsageError


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'corpuskit[ray]'") from None
    return ray


def _unit_files(payload: tuple, unit: Any) -> dict[str, bytes]:
    """Run in a Ray worker: one unit through the per-record stages, its folder as bytes."""
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


class RaySession:
    """The Ray side of one `run_pipeline`: connect (or start a local Ray), map the units, lend
    dedup an executor for its signatures, disconnect (stopping only a Ray we started)."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.ray = _import_ray()
        self.started = False
        self.cpus = 1

    def __enter__(self) -> RaySession:
        self.started = _connect(self.ray, self.cfg)
        self.cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.started:
            self.ray.shutdown()

    def lend_executors(self, stages: list) -> None:
        """Whole-stream stages that can hash on the cluster (dedup) get the executor."""
        for s in stages:
            if s.name == "dedup":
                s.hash_executor = RayHashExecutor(self.ray, self.cpus)

    def map_units(self, units: Iterable[Any], mapped: list, cfg: Any, units_dir: Path,
                  note: Callable[[int, dict | None], None]) -> tuple[list[str], int, int]:
        """Run every unit not already in units_dir as a Ray task. Returns (unit keys in order,
        units reused from an earlier run, CPUs of the cluster)."""
        ray = self.ray
        cpus = self.cpus
        pending: dict[Any, str] = {}
        try:
            task = ray.remote(num_cpus=1, max_retries=3)(_unit_files)
            payload = ray.put((mapped, cfg))  # the stage objects ship once, not per task
            keys: list[str] = []
            resumed = done = 0

            def drain(limit: int) -> None:
                nonlocal done
                while len(pending) > limit:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    for ref in ready:
                        key = pending.pop(ref)
                        try:
                            files = ray.get(ref)
                        except ray.exceptions.RayTaskError as e:
                            # a bad line in --strict mode, a stage error: the same error as locally
                            cause = getattr(e, "cause", None)
                            if isinstance(cause, CorpusKitError):
                                raise cause from None
                            raise
                        _write_unit(units_dir, key, files)
                        done += 1
                        note(done, orjson.loads(files["stats.json"]))

            for unit in units:
                keys.append(unit.key)
                if (units_dir / unit.key).exists():
                    resumed += 1
                    done += 1
                    note(done, orjson.loads((units_dir / unit.key / "stats.json").read_bytes()))
                    continue
                pending[task.remote(payload, unit)] = unit.key
                drain(2 * cpus)  # bounded: the driver holds at most 2 units per CPU in flight
            drain(0)
            return keys, resumed, cpus
        except BaseException:
            for ref in pending:  # on a shared cluster, do not leave our tasks running
                ray.cancel(ref, force=True)
            raise


def map_units_on_ray(units: Iterable[Any], mapped: list, cfg: Any, units_dir: Path,
                     note: Callable[[int, dict | None], None]) -> tuple[list[str], int, int]:
    """The map phase alone, in a session of its own."""
    with RaySession(cfg) as session:
        return session.map_units(units, mapped, cfg, units_dir, note)
