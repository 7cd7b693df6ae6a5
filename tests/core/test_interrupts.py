"""core/interrupts.py: Ctrl-C counted, and a command's swallowed Ctrl-C raised at a checkpoint."""
from __future__ import annotations

import signal

import pytest

from corpuskit.core import interrupts


def test_the_handler_counts_and_raises_and_a_checkpoint_raises_only_within_a_command():
    old = interrupts.install()
    try:
        assert signal.getsignal(signal.SIGINT) is interrupts.on_sigint
        assert interrupts.install() is None  # ours is in place already: left as it is
        assert interrupts.is_python_default(signal.getsignal(signal.SIGINT))
        assert interrupts.handled_here()
        interrupts.checkpoint()  # no command: nothing to raise
        start = interrupts.begin()
        interrupts.checkpoint()  # no Ctrl-C since: nothing
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert interrupts.count() == start + 1
        with pytest.raises(KeyboardInterrupt):  # the same Ctrl-C, had it been swallowed
            interrupts.checkpoint()
        interrupts.end()
        interrupts.checkpoint()  # the command is over
    finally:
        interrupts.end()
        if old is not None:
            signal.signal(signal.SIGINT, old)


def test_a_handler_someone_else_set_is_left_alone():
    def theirs(signum, frame):
        pass

    old = signal.signal(signal.SIGINT, theirs)
    try:
        assert interrupts.install() is None
        assert signal.getsignal(signal.SIGINT) is theirs
        assert not interrupts.is_python_default(theirs)
        assert not interrupts.handled_here()
    finally:
        signal.signal(signal.SIGINT, old)
