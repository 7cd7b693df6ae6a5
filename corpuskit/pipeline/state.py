"""What a run keeps on disk between attempts: the marker that says a folder is ours, the
fingerprint of the configuration and inputs, clean/.work (finished units, reused by a resumed
run), and the final swap of the result into place."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import orjson

from corpuskit.core.errors import UsageError
from corpuskit.io import remote
from corpuskit.io.jsonl import write_json_atomic
from corpuskit.pipeline.config import PipelineConfig

MARKER = ".corpuskit"  # a folder holding this file was written by corpuskit
WORK = ".work"
LOCK = ".lock"  # held (a POSIX lock) by the run writing the folder; names its pid and host
BUILD_PREFIX = ".build-"  # the result being built, swapped into place at the end


def clean_leftovers(clean: Path) -> list[str]:
    """Remove what killed runs left in clean/ (a half-built result). Called with the lock held,
    so no live run owns any of it. Returns the names removed."""
    gone = []
    for entry in clean.iterdir():
        if entry.name.startswith(BUILD_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(entry.name)
    return sorted(gone)


def check_clean_dir(clean: Path) -> None:
    if clean.exists() and not clean.is_dir():
        raise UsageError(f"{clean}: exists and is not a folder")
    if clean.is_dir() and any(clean.iterdir()) and not (clean / MARKER).exists():
        raise UsageError(f"{clean}: folder is not empty and was not written by corpuskit "
                         "(refusing to overwrite it)")


UNITS = 2  # 2: a local Parquet file is cut at its row groups (pipeline.plan)


def fingerprint(cfg: PipelineConfig, paths: list[str]) -> str:
    files = []
    for p in paths:
        if remote.is_url(p):
            files.append(remote.remote_stat(p))
            continue
        st = os.stat(p)
        files.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    # UNITS: how inputs are cut into units; a run planned another way is not resumed
    blob = orjson.dumps({"config": cfg.fingerprint(), "files": files, "units": UNITS},
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


def prepare_work(clean: Path, fingerprint: str) -> Path:
    """clean/.work for this configuration and input: reused if it matches, else started anew."""
    work = clean / WORK
    plan = work / "plan.json"
    if work.exists():
        try:
            same = orjson.loads(plan.read_bytes()).get("fingerprint") == fingerprint
        except (OSError, orjson.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(work)
    (work / "units").mkdir(parents=True, exist_ok=True)
    for leftover in (work / "units").glob(".tmp-*"):  # a unit a killed run did not finish
        shutil.rmtree(leftover, ignore_errors=True)
    for unit in (work / "units").iterdir():  # a finished unit always has its counters
        if unit.is_dir() and not (unit / "stats.json").exists():
            shutil.rmtree(unit, ignore_errors=True)
    if not plan.exists():
        write_json_atomic(str(plan), {"fingerprint": fingerprint})
    return work


def swap_into_place(build: Path, clean: Path) -> None:
    """Replace the previous result with the new one (each entry renamed into place)."""
    for name in {"data", "rejected", "quarantine", "tokens", "stats.json", "report.md", "report.html"} | {
            e.name for e in build.iterdir()}:
        stale = clean / name
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    for entry in build.iterdir():
        os.replace(entry, clean / entry.name)
    build.rmdir()


def publish_unit(tmp: Path, final: Path) -> None:
    """Move a unit's folder, built complete under a temporary name, into place. When another
    attempt finished the unit first, its folder stays: the results are identical."""
    if final.exists():
        shutil.rmtree(tmp)
    else:
        os.rename(tmp, final)
