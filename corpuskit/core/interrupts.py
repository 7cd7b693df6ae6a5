"""Ctrl-C, counted. Python raises KeyboardInterrupt wherever the main thread is when SIGINT
arrives, and some places swallow it: a fork's hooks and finalizers report it as "Exception
ignored in ..." and go on, and a C extension being imported turns it into an ImportError
(numpy: "numpy._core.multiarray failed to import"). The command went on to the end and exited
0 after a Ctrl-C, or stopped with a traceback (lxml's import swallows it, a dataclass being
built at start-up leaves Python 3.11 to exit killed by SIGINT). This handler raises
KeyboardInterrupt as Python's own does, and counts: the command line (cli) installs it first
thing and marks where the command began (`begin`); the pipeline stops at the next unit when a
Ctrl-C since then was swallowed (`checkpoint`, in the engines), and the command ends as interrupted (one line,
exit 130) whatever became of it. The local engine installs it for a run with a pool when
nobody did (see engine/local.py)."""
from __future__ import annotations

import signal
import threading

_count = 0
_since: int | None = None  # the count when the command began (None: no command, a library call)


def on_sigint(signum: int, frame: object) -> None:
    """The SIGINT handler: counts, then raises KeyboardInterrupt."""
    note()
    raise KeyboardInterrupt


def note() -> None:
    """Count a Ctrl-C that another handler (the fetch stage's drain) took."""
    global _count
    _count += 1


def count() -> int:
    """How many Ctrl-C this process has had (that the handlers above saw)."""
    return _count


def is_python_default(handler: object) -> bool:
    """`handler` raises KeyboardInterrupt as Python's own does (Python's, or on_sigint)."""
    return handler is signal.default_int_handler or handler is on_sigint


def install() -> object:
    """Put on_sigint in place of Python's default handler when this is the main thread and
    nobody changed the handler; returns the handler it replaced (to restore) or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    old = signal.getsignal(signal.SIGINT)
    if old is not signal.default_int_handler:
        return None
    signal.signal(signal.SIGINT, on_sigint)
    return old


# Signals that stop a command as Ctrl-C does: `kill`, `timeout`, a job scheduler (SIGTERM) and
# a closed terminal (SIGHUP). Left at their default they killed the process where it stood, its
# temporary output (as big as what it had written) left beside the target.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def install_stop() -> dict:
    """on_sigint for each of STOP_SIGNALS still at its default (one ignored, as under nohup,
    stays ignored), when this is the main thread; returns {signal: handler replaced}."""
    old: dict = {}
    if threading.current_thread() is not threading.main_thread():
        return old
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            old[sig] = signal.signal(sig, on_sigint)
    return old


def handled_here() -> bool:
    """on_sigint handles SIGINT, and this is the main thread, where Python runs it."""
    return threading.current_thread() is threading.main_thread() and \
        signal.getsignal(signal.SIGINT) is on_sigint


def begin() -> int:
    """Mark where a command begins; returns the count then."""
    global _since
    _since = _count
    return _since


def end() -> None:
    global _since
    _since = None


def checkpoint() -> None:
    """Raise KeyboardInterrupt if the running command had a Ctrl-C that something swallowed."""
    if _since is not None and _count != _since:
        raise KeyboardInterrupt
