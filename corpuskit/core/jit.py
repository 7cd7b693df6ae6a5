"""Numba kernels that cost nothing until they run.

`import numba` takes about a second, and every `corpuskit dedup` or `tokenize-stats` process
would pay it at start-up, even on empty input or for `--help`. A module declares its kernels
with `kernels = Kernels(globals())` and `@kernels.njit(cache=True, ...)`; numba is imported,
and every kernel of the module turned into a numba dispatcher (bound to its module-level name,
so kernels calling kernels resolve to the compiled ones), on the first call of any of them.
With `cache=True` the compiled code comes from numba's on-disk cache (see
`corpuskit.core.assets.cache_dir` and `corpuskit warmup`).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Kernels:
    """The numba kernels of one module, compiled lazily."""

    def __init__(self, namespace: dict[str, Any]):
        self._ns = namespace
        self._pending: list[tuple[Callable, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._ready = False

    def njit(self, **options: Any) -> Callable[[Callable], Any]:
        def declare(fn: Callable) -> Any:
            self._pending.append((fn, options))
            return _Deferred(self, fn.__name__)

        return declare

    def load(self) -> None:
        """Import numba and bind every kernel's name to its dispatcher (idempotent)."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                import numba
            except ImportError as e:  # pragma: no cover - numba is a runtime dependency
                raise ImportError("corpuskit needs numba for this command (pip install numba)") from e
            for fn, options in self._pending:
                self._ns[fn.__name__] = numba.njit(**options)(fn)
            self._ready = True

    def dispatchers(self) -> list[Any]:
        """The numba dispatchers (after `load()`), e.g. to compile them ahead."""
        self.load()
        return [self._ns[fn.__name__] for fn, _ in self._pending]


class _Deferred:
    """What a kernel's name holds until the first call: calling it loads the module's kernels
    and calls the real one (a caller that imported the name keeps working afterwards)."""

    __slots__ = ("_kernels", "_name")

    def __init__(self, kernels: Kernels, name: str):
        self._kernels = kernels
        self._name = name

    def __call__(self, *args: Any) -> Any:
        self._kernels.load()
        return self._kernels._ns[self._name](*args)

    def __repr__(self) -> str:
        return f"<kernel {self._name} (numba, compiled on first use)>"
