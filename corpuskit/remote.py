"""Remote paths (`s3://`, `gs://`, `memory://`, any fsspec URL) for `corpuskit pipeline`.

Imported only when a path has a `scheme://`, so local runs never import fsspec.
- Input: JSONL record files under a URL are listed and streamed by the driver through fsspec
  (the units then travel to the workers as lines, whatever the engine). Page files, WARC files
  and URL lists must be local: remote ones are listed as ignored files in stats.json.
- Output: the run is built in a local staging folder (resumable there, like clean/.work), then
  uploaded file by file, `stats.json` last: a reader that finds stats.json finds the whole result.
  Object stores have no atomic folder rename, so the swap is not atomic as it is locally.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import BadInput, UsageError

RESULT_NAMES = ("data", "rejected", "quarantine", "report.md", "report.html", "stats.json")


def is_url(path: str) -> bool:
    return "://" in path


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise UsageError(f"{url}: remote paths need fsspec: pip install 'corpuskit[ray]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:  # e.g. s3:// without s3fs installed
        raise UsageError(f"{url}: {e}") from None


def plan_remote(url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """([(url, "jsonl")] sorted, [ignored urls]) for a remote file or folder."""
    from .jsonl import RECORD_SUFFIXES

    fs, root = _fs(url)
    if not fs.exists(root):
        raise BadInput(url, None, "not_found", "no such file or directory")
    if fs.isfile(root):
        files = [root]
    else:
        base = root.rstrip("/")
        files = sorted(f for f in fs.find(root)
                       if not any(p.startswith(".") for p in f[len(base):].strip("/").split("/")))
    planned, ignored = [], []
    for f in files:
        full = fs.unstrip_protocol(f)
        (planned if f.lower().endswith(RECORD_SUFFIXES) else ignored).append(full)
    return [(f, "jsonl") for f in planned], ignored


def remote_stat(url: str) -> list:
    """What identifies a remote file's version for resumption: size and any modification stamp."""
    fs, path = _fs(url)
    info = fs.info(path)
    stamp = next((str(info[k]) for k in ("mtime", "LastModified", "updated", "ETag", "created")
                  if info.get(k) is not None), "")
    return [url, info.get("size"), stamp]


def open_remote(url: str) -> Any:
    fs, path = _fs(url)
    try:
        return fs.open(path, "rb")
    except FileNotFoundError:
        raise BadInput(url, None, "not_found", "no such file or directory") from None


def staging_dir(url: str) -> Path:
    """A local folder per output URL, kept between runs so a killed run resumes."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    root = Path(os.environ.get("CORPUSKIT_STAGING", tempfile.gettempdir()))
    return root / f"corpuskit-staging-{key}"


def run_to_remote(raw: Any, url: str, cfg: Any, progress: Callable | None,
                  run: Callable[..., dict]) -> dict:
    from .pipeline import MARKER

    fs, root = _fs(url)
    root = root.rstrip("/")
    if fs.exists(root):
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)}
        if names and MARKER not in names:
            raise UsageError(f"{url}: folder is not empty and was not written by corpuskit "
                             "(refusing to overwrite it)")
    stage = staging_dir(url)
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
    import orjson

    fs.pipe_file(f"{root}/stats.json", orjson.dumps(stats, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
                                                    | orjson.OPT_NON_STR_KEYS))
    shutil.rmtree(stage, ignore_errors=True)
    return stats
