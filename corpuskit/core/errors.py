"""Exceptions the library raises. The CLI turns them into one-line errors and exit codes;
the library itself never prints or exits."""
from __future__ import annotations

import errno


class CorpusKitError(Exception):
    """Base class for every error corpuskit raises on purpose (not a bug)."""

    exit_code = 1


class UsageError(CorpusKitError):
    """Bad options or arguments (exit code 2)."""

    exit_code = 2


class BadInput(CorpusKitError):
    """A problem with the input data, located at FILE:LINE when known.

    `reason` is a short snake_case constant (counted in stats when the record is quarantined
    with --bad-records); `message` is the human sentence.
    """

    def __init__(self, source: str, line: int | None, reason: str, message: str,
                 raw: bytes | None = None):
        self.source = source
        self.line = line
        self.reason = reason
        self.message = message
        self.raw = raw
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable, so an error in a worker process reaches the main one
        return (BadInput, (self.source, self.line, self.reason, self.message, self.raw))


class MissingField(CorpusKitError):
    """A record lacks the field a stage needs (or it is not a string)."""

    def __init__(self, field: str, message: str | None = None):
        self.field = field
        self.detail = message
        super().__init__(message or f"record has no string field {field!r}")

    def __reduce__(self):
        return (MissingField, (self.field, self.detail))


class OutputError(CorpusKitError):
    """Writing an output failed (disk full, quota, read-only file system, I/O error): the
    one-line error names the file; nothing partial is kept (an atomic output's temp file is
    removed)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.detail = message
        super().__init__(f"{path}: cannot write: {message}")

    def __reduce__(self):  # picklable, so a worker's failure reaches the main process
        return (OutputError, (self.path, self.detail))

    @classmethod
    def from_os(cls, path: str | None, e: OSError) -> OutputError:
        what = e.strerror or str(e)
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            what += " (free some space, or write elsewhere)"
        return cls(path or getattr(e, "filename", None) or "<output>", what)


class ClusterError(CorpusKitError):
    """A step on a cluster did not add up (rows lost or counted twice between tasks, as a
    crashed and re-run task could do): the run stops rather than write a result that could be
    wrong (exit code 1)."""
