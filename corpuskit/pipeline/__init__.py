"""`corpuskit pipeline raw/ clean/`: every stage as one parallel, resumable run.

config.py (PipelineConfig, corpuskit.toml), plan.py (inputs -> units), worker.py (one unit
through the per-record stages), run.py (map on an engine, reduce, shards, stats), state.py
(marker, fingerprint, .work, swap), report.py (Markdown and HTML reports), stream.py (one chain
from files to files: what a single stage command runs), remote.py (output to a remote folder).

The public names below load on first use, so importing the package stays light.
"""
from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "PipelineConfig": "corpuskit.pipeline.config",
    "load_config": "corpuskit.pipeline.config",
    "print_config": "corpuskit.pipeline.config",
    "run_pipeline": "corpuskit.pipeline.run",
    "run_stream": "corpuskit.pipeline.stream",
}
__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    mod = _PUBLIC.get(name)
    if mod is None:
        raise AttributeError(f"module 'corpuskit.pipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)
