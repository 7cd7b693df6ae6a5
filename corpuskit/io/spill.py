"""Spill files: records written to a zstd-compressed JSONL file during a whole-stream stage's
first pass and read back, in the same order, in its second (dedup, filter-perplexity
--percentiles). Level 1: a spill is read once more and deleted; speed matters, not size.
Integers beyond 64 bits and the like go through corpuskit's own JSON writer and come back as
they were (loads_exact, through loads_handed)."""
from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import orjson

from corpuskit.io.jsonl import dumps as dumps_line
from corpuskit.io.jsonl import loads_handed
from corpuskit.io.writer import dumps_parts

_FLUSH = 1 << 20


class SpillWriter:
    """`write(record)` appends one record; `close()` flushes. Buffered in 1 MB pieces; a record
    with a huge string (`big`: one over writer.BIG_STR characters) goes to the compressor in
    parts, straight away (neither a copy in the buffer nor a UTF-8 cache on its text: see
    dumps_parts)."""

    def __init__(self, path: str) -> None:
        import zstandard

        self.path = path
        self._raw = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._w = zstandard.ZstdCompressor(level=1).stream_writer(self._raw)
        self._buf = bytearray()
        self.records = 0

    def write(self, rec: dict, big: bool = False) -> None:
        if big:
            if self._buf:
                self._w.write(self._buf)
                self._buf = bytearray()
            for part in dumps_parts(rec) or [dumps_line(rec)]:
                self._w.write(part)
            self.records += 1
            return
        try:
            self._buf += orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # values orjson cannot encode (ints > 64 bits)
            self._buf += dumps_line(rec)
        self.records += 1
        if len(self._buf) >= _FLUSH:
            self._w.write(self._buf)
            self._buf = bytearray()

    def close(self) -> int:
        """Flush and close; returns the file's size in bytes."""
        if self._w is not None:
            try:
                if self._buf:
                    self._w.write(self._buf)
                    self._buf = bytearray()
            finally:
                self._w.close()  # closes the file too
                self._w = None
        return os.path.getsize(self.path)


def read_spill(path: str, parse: bool = True) -> Iterator[Any]:
    """The records of a spill file in order (their raw lines with parse=False)."""
    import zstandard

    with open(path, "rb") as raw:
        reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw), 1 << 20)
        if not parse:
            yield from reader
            return
        for line in reader:
            batch = [line]
            line = None  # not held beside its record while the record is used (nor parsed whole
            rec = loads_handed(batch)  # when huge: loads_handed)
            yield rec
