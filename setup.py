"""Builds html2text's extractor, corpuskit/stages/html2text/extract.py, as a compiled module
(Cython) when Cython and a C compiler are at hand; without them corpuskit installs as pure
Python and runs the same code, slower. Everything else about the package is in pyproject.toml.

The compiled module is made from a copy of extract.py that ends with the copy's SHA-256
(`_SOURCE_SHA256`): corpuskit.stages.html2text runs it only while extract.py beside it is
that same source (an edit after the build runs the edited extract.py, never the stale build).
CORPUSKIT_PURE_PYTHON=1 at build time skips the compiled module."""
from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NAME = "corpuskit.stages.html2text.extract"
SOURCE = Path("corpuskit", "stages", "html2text", "extract.py")
# Python's semantics throughout: annotations are not C types (lxml hands back str subclasses)
DIRECTIVES = {"language_level": 3, "annotation_typing": False}
# no debugging symbols: they would be most of the module (8.4 MB against 1.4 MB)
FLAGS = [] if sys.platform == "win32" else ["-g0"]


class OptionalBuildExt(build_ext):
    """build_ext that makes the compiled extractor where it can and warns where it cannot."""

    def finalize_options(self) -> None:
        # the sources are swapped for C made by Cython before setuptools reads the extensions
        self.distribution.ext_modules = _compiled()
        super().finalize_options()

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # no compiler, no headers: the pure-Python package still works
            self.warn(f"html2text's extractor stays pure Python: the compiled build failed ({e})")
            self.extensions = []


def _compiled() -> list[Extension]:
    """The compiled extractor's extension (C from a copy of extract.py that carries its own
    digest), or none when CORPUSKIT_PURE_PYTHON is set, on another Python than CPython, or when
    Cython is missing or fails."""
    if os.environ.get("CORPUSKIT_PURE_PYTHON"):
        return []
    # (PyPy would run a Cython module through its emulation of the C API; it runs the source itself)
    if platform.python_implementation() != "CPython":
        print("corpuskit: not CPython: html2text's extractor stays pure Python")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("corpuskit: Cython is not installed: html2text's extractor stays pure Python")
        return []
    src = SOURCE.read_bytes()
    src += f"\n_SOURCE_SHA256 = {hashlib.sha256(src).hexdigest()!r}\n".encode()
    copy = Path("build", "cython", *NAME.split(".")).with_suffix(".py")
    copy.parent.mkdir(parents=True, exist_ok=True)
    if not copy.is_file() or copy.read_bytes() != src:  # (unchanged: Cython keeps its C)
        copy.write_bytes(src)
    try:
        return cythonize([Extension(NAME, [str(copy)], extra_compile_args=FLAGS)],
                         compiler_directives=DIRECTIVES, quiet=True)
    except Exception as e:
        print(f"corpuskit: html2text's extractor stays pure Python: Cython failed ({e})")
        return []


setup(ext_modules=[Extension(NAME, [str(SOURCE)])], cmdclass={"build_ext": OptionalBuildExt})
