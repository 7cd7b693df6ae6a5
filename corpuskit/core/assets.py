"""Where shipped data and derived caches live: one place for every module.

* ``DATA_DIR``: the package's ``data/`` folder (word lists, tokenizer ranks, blocklists).
* ``cache_dir()``: derived data a module may rebuild (hash tables of shipped lists, Unicode
  tables): ``$CORPUSKIT_CACHE``, else ``$XDG_CACHE_HOME/corpuskit``, else ``~/.cache/corpuskit``.
"""
from __future__ import annotations

import os
from pathlib import Path

import xxhash

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def cache_dir() -> Path:
    env = os.environ.get("CORPUSKIT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "corpuskit"


# A cache file: MAGIC, the 8-byte digest of what built it (the key), the payload, then an
# 8-byte xxh3 of key + payload. A file cut short, overwritten in part or built from other
# inputs fails the check and is rebuilt by its owner.
_MAGIC = b"corpuskit-cache-1\n"


def _digest(data: bytes) -> bytes:
    return xxhash.xxh3_64_digest(data)


def read_cache(path: Path, key: bytes) -> bytes | None:
    """The payload of the cache file at `path` when it was written for `key` and is intact;
    None when it is missing, unreadable, damaged or built from something else."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 8
    if len(data) < head + 8 or not data.startswith(_MAGIC):
        return None
    kd, body, check = data[len(_MAGIC):head], data[head:-8], data[-8:]
    if kd != _digest(key) or check != _digest(kd + body):
        return None
    return body


def write_cache(path: Path, key: bytes, payload: bytes) -> None:
    """Write a cache file atomically (concurrent workers never read half of one); a cache that
    cannot be written is only a missed speed-up, so OSError is swallowed."""
    kd = _digest(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(_MAGIC + kd + payload + _digest(kd + payload))
        os.replace(tmp, path)
    except OSError:
        pass
