"""Where shipped data and derived caches live: one place for every module.

* ``DATA_DIR``: the package's ``data/`` folder (word lists, tokenizer ranks, blocklists).
* ``cache_dir()``: derived data a module may rebuild (hash tables of shipped lists, Unicode
  tables): ``$CORPUSKIT_CACHE``, else ``$XDG_CACHE_HOME/corpuskit``, else ``~/.cache/corpuskit``.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def cache_dir() -> Path:
    env = os.environ.get("CORPUSKIT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "corpuskit"
