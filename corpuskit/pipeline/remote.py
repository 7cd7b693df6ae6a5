"""A pipeline whose output is a remote folder (`s3://...`, any fsspec URL): the run is built in a
local staging folder (resumable there, like clean/.work), then uploaded file by file,
`stats.json` last: a reader that finds stats.json finds the whole result. Object stores have
no atomic folder rename, so the swap is not atomic as it is locally."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import orjson

from corpuskit.core.errors import UsageError
from corpuskit.io import remote
from corpuskit.pipeline.state import MARKER

RESULT_NAMES = ("data", "rejected", "quarantine", "report.md", "report.html", "stats.json")


def run_to_remote(raw: Any, url: str, cfg: Any, progress: Callable | None,
                  run: Callable[..., dict]) -> dict:
    fs, root = remote.fs_of(url)
    root = root.rstrip("/")
    if fs.exists(root):
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)}
        if names and MARKER not in names:
            raise UsageError(f"{url}: folder is not empty and was not written by corpuskit "
                             "(refusing to overwrite it)")
    stage = remote.staging_dir(url)
    stats = run(raw, str(stage), cfg, progress)
    stats["rejected_path"] = f"{url.rstrip('/')}/rejected"
    stats["bad_records_path"] = f"{url.rstrip('/')}/quarantine/bad_records.jsonl"
    for name in RESULT_NAMES:  # the previous result goes first: no stale shard survives
        if fs.exists(f"{root}/{name}"):
            fs.rm(f"{root}/{name}", recursive=True)
    files = sorted(p for p in stage.rglob("*") if p.is_file() and p.name not in ("stats.json", MARKER))
    files.append(stage / MARKER)
    for p in files:
        rel = p.relative_to(stage).as_posix()
        parent = f"{root}/{rel}".rsplit("/", 1)[0]
        fs.makedirs(parent, exist_ok=True)
        fs.put_file(str(p), f"{root}/{rel}")
    fs.pipe_file(f"{root}/stats.json", orjson.dumps(stats, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
                                                    | orjson.OPT_NON_STR_KEYS))
    shutil.rmtree(stage, ignore_errors=True)
    return stats
