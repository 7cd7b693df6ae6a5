"""Which extractor runs: extract.py compiled, or extract.py itself.

setup.py compiles extract.py with Cython at install time, on CPython where Cython and a C
compiler are at hand (the same code, 3-8% less time per page). The compiled module lies beside
extract.py, and Python's import prefers it. It runs only while extract.py is the very source it was built
from: it carries that source's SHA-256 (`_SOURCE_SHA256`), and after an edit of extract.py the
edited source runs instead, never a stale build. CORPUSKIT_PURE_PYTHON=1 runs extract.py at
any time (and, at install time, skips the build).

`select` runs in the package's __init__, before anything imports the extractor.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

NAME = "corpuskit.stages.html2text.extract"
SOURCE = Path(__file__).with_name("extract.py")
PURE_ENV = "CORPUSKIT_PURE_PYTHON"


def is_compiled(module: ModuleType) -> bool:
    """The module was built by Cython (an extension module), not read from a .py file."""
    return not str(getattr(module, "__file__", "") or "").endswith(".py")


def built_from(module: ModuleType, source: bytes) -> bool:
    """The compiled module was built from exactly these bytes of extract.py."""
    return getattr(module, "_SOURCE_SHA256", None) == hashlib.sha256(source).hexdigest()


def load_source(name: str = NAME) -> ModuleType:
    """extract.py itself as a module named `name` (under NAME, it becomes the package's
    extractor)."""
    spec = importlib.util.spec_from_file_location(name, SOURCE)
    module = importlib.util.module_from_spec(spec)
    if name == NAME:
        sys.modules[NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if name == NAME:
            del sys.modules[NAME]
        raise
    if name == NAME:
        sys.modules[NAME.rpartition(".")[0]].extract = module
    return module


def select() -> ModuleType:
    """The extractor module, imported once: the compiled one when it is there and built from
    the extract.py beside it, else extract.py."""
    if NAME in sys.modules:
        return sys.modules[NAME]
    if os.environ.get(PURE_ENV):
        return load_source()
    module = importlib.import_module(NAME)
    if not is_compiled(module):
        return module
    try:
        source = SOURCE.read_bytes()
    except OSError:  # installed without its source: the compiled module is all there is
        return module
    if built_from(module, source):
        return module
    del sys.modules[NAME]
    return load_source()


def in_use() -> bool:
    """The compiled extractor is the one that runs (benchmarks record it with their figures)."""
    return is_compiled(select())
