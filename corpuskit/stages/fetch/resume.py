"""fetch --resume: what an interrupted run already wrote, and the repair of a torn last line."""
from __future__ import annotations

import os
from collections.abc import Iterator

from corpuskit.core.errors import BadInput
from corpuskit.io.jsonl import RecordWriter
from corpuskit.io.sources import open_text_input


def _complete_lines(path: str) -> Iterator[bytes]:
    """The newline-terminated lines of a (possibly .gz/.zst) file, stopping quietly where a
    killed process left a torn line or a damaged compressed block."""
    try:
        f = open_text_input(path)
    except BadInput:
        return
    try:
        for line in f:
            if not line.endswith(b"\n"):
                return
            yield line
    except (OSError, EOFError, ValueError):
        return
    finally:
        f.close()


def repair_tail(path: str) -> None:
    """Make `path` end at a record boundary so appending to it is safe: truncate a plain file
    after its last newline; rewrite a compressed one whose tail is damaged (a killed run) with
    its readable complete lines."""
    if not os.path.exists(path):
        return
    if path.endswith((".gz", ".zst")):
        ok = True
        n_good = 0
        try:
            with open_text_input(path) as f:
                for line in f:
                    if not line.endswith(b"\n"):
                        ok = False
                        break
                    n_good += 1
        except (OSError, EOFError, ValueError):
            ok = False
        if ok:
            return
        w = RecordWriter(path + ".repair", atomic=True)
        try:
            for line in _complete_lines(path):
                w.write_raw(line)
            w.close()
        except BaseException:
            w.abort()
            raise
        os.replace(path + ".repair", path)
        return
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            f.seek(start)
            chunk = f.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                end = start + nl + 1
                if end != size:
                    f.truncate(end)
                return
            pos = start
        f.truncate(0)
