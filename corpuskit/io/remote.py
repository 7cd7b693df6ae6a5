"""Remote paths (`s3://`, `gs://`, `memory://`, any fsspec URL): listing, reading, staging.

fsspec is imported only when a path has a `scheme://`, so local runs never import it.
- Input: record files (JSONL, Parquet, Arrow) under a URL are listed and streamed by the driver
  through fsspec (the units then travel to the workers as lines, whatever the engine); a URL
  with `*`, `?` or `[` is a glob. Page files, WARC files and URL lists must be local: remote
  ones are listed as ignored files in stats.json.
- Output: a stage's `-o URL` is written to a local temp file and uploaded on success
  (`put_file`).
- Output: `staging_dir(url)` is the local folder a pipeline builds its result in before
  uploading it (corpuskit.pipeline.remote).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io.paths import COLUMNAR_SUFFIXES, RECORD_SUFFIXES, has_glob


def is_url(path: str) -> bool:
    return "://" in path


def fs_of(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise UsageError(f"{url}: remote paths need fsspec: pip install 'corpuskit[remote]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:  # e.g. s3:// without s3fs installed
        raise UsageError(f"{url}: {e} (s3:// needs s3fs, gs:// gcsfs, hf:// huggingface_hub)") from None


def list_remote(url: str, suffixes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """([files under a remote file, folder or glob whose name ends in `suffixes`] sorted,
    [the other files]). Hidden entries are skipped."""
    fs, root = fs_of(url)
    if has_glob(root):
        files = sorted(f for f in fs.glob(root) if fs.isfile(f))
        if not files:
            raise BadInput(url, None, "not_found", "no file matches")
    elif not fs.exists(root):
        raise BadInput(url, None, "not_found", "no such file or directory")
    elif fs.isfile(root):
        return [url], []
    else:
        base = root.rstrip("/")
        files = sorted(f for f in fs.find(root)
                       if not any(p.startswith(".") for p in f[len(base):].strip("/").split("/")))
    kept, other = [], []
    for f in files:
        (kept if f.lower().endswith(suffixes) else other).append(fs.unstrip_protocol(f))
    return kept, other


def put_file(local: str, url: str) -> None:
    """Upload a finished local file to `url` (its folder made first)."""
    fs, path = fs_of(url)
    parent = path.rstrip("/").rsplit("/", 1)[0]
    if parent and parent != path:
        fs.makedirs(parent, exist_ok=True)
    fs.put_file(local, path)


def plan_remote(url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """([(url, kind)] sorted, [ignored urls]) for a remote file, folder or glob; kind is jsonl,
    parquet or arrow (by name)."""
    files, ignored = list_remote(url, RECORD_SUFFIXES + COLUMNAR_SUFFIXES)
    planned = []
    for f in files:
        low = f.lower()
        kind = "parquet" if low.endswith((".parquet", ".pq")) else \
            "arrow" if low.endswith(COLUMNAR_SUFFIXES) else "jsonl"
        planned.append((f, kind))
    return planned, ignored


def remote_stat(url: str) -> list:
    """What identifies a remote file's version for resumption: size and any modification stamp."""
    fs, path = fs_of(url)
    info = fs.info(path)
    stamp = next((str(info[k]) for k in ("mtime", "LastModified", "updated", "ETag", "created")
                  if info.get(k) is not None), "")
    return [url, info.get("size"), stamp]


def open_remote(url: str) -> Any:
    fs, path = fs_of(url)
    try:
        return fs.open(path, "rb")
    except FileNotFoundError:
        raise BadInput(url, None, "not_found", "no such file or directory") from None


def staging_dir(url: str) -> Path:
    """A local folder per output URL, kept between runs so a killed run resumes."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    root = Path(os.environ.get("CORPUSKIT_STAGING", tempfile.gettempdir()))
    return root / f"corpuskit-staging-{key}"
