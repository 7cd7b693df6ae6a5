"""Remote paths (`s3://`, `gs://`, `memory://`, any fsspec URL): listing, reading, staging.

fsspec is imported only when a path has a `scheme://`, so local runs never import it.
- Input: JSONL record files under a URL are listed and streamed by the driver through fsspec
  (the units then travel to the workers as lines, whatever the engine). Page files, WARC files
  and URL lists must be local: remote ones are listed as ignored files in stats.json.
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
from corpuskit.io.paths import RECORD_SUFFIXES


def is_url(path: str) -> bool:
    return "://" in path


def fs_of(url: str) -> tuple[Any, str]:
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
    fs, root = fs_of(url)
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
