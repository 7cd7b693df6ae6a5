"""Looking inside record files (what `corpuskit head`, `count` and `sample` print): any input the
reader takes (JSONL plain or compressed, Parquet, Arrow, folders, globs, URLs, stdin).

Records are shown as they are stored: no id is added and no field is required. A bad line stops
`head` and `sample` with its FILE:LINE error; `count` counts bad lines per reason and goes on.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from corpuskit.core.errors import BadInput
from corpuskit.io.jsonl import RecordReader, expand_inputs


def head(inputs: list[str], n: int = 5) -> Iterator[dict]:
    """The first `n` records of the inputs, taken in order."""
    if n <= 0:
        return
    reader = RecordReader(inputs or ["-"], assign_ids=False, limit=n)
    for i, rec in enumerate(reader, 1):
        yield rec
        if i >= n:
            return


@dataclass
class FileCount:
    name: str
    records: int = 0
    bytes: int = 0  # bytes read: decompressed JSONL lines, or Arrow data of Parquet/Arrow rows
    bad: Counter = field(default_factory=Counter)
    keys: Counter = field(default_factory=Counter)  # records holding each top-level key (not null)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.name, "records": self.records, "bytes": self.bytes,
                "bad_records": dict(sorted(self.bad.items())),
                "keys": {k: self.keys[k] for k in sorted(self.keys, key=lambda k: (-self.keys[k], k))}}


def count(inputs: list[str]) -> list[FileCount]:
    """Per input file: records, bytes read, bad lines per reason, and how many records hold each
    key. The last entry is the total when there is more than one file."""
    out: list[FileCount] = []
    for path in expand_inputs(inputs or ["-"]):
        fc = FileCount("<stdin>" if path == "-" else path)

        def sink(line: bytes, err: BadInput, fc: FileCount = fc) -> None:
            fc.bad[err.reason] += 1

        reader = RecordReader([path], assign_ids=False, bad_sink=sink)
        keys = fc.keys
        n = 0
        for rec in reader:
            n += 1
            keys.update(rec.keys())
        fc.records = n
        fc.bytes = reader.stats.bytes
        out.append(fc)
    if len(out) > 1:
        total = FileCount("total")
        for fc in out:
            total.records += fc.records
            total.bytes += fc.bytes
            total.bad.update(fc.bad)
            total.keys.update(fc.keys)
        out.append(total)
    return out


def sample(inputs: list[str], n: int, seed: int = 0) -> list[dict]:
    """`n` records drawn uniformly from the inputs in one pass (reservoir sampling), returned in
    input order. The same inputs and seed give the same sample."""
    rng = random.Random(seed)
    kept: list[tuple[int, dict]] = []
    if n <= 0:
        return []
    for i, rec in enumerate(RecordReader(inputs or ["-"], assign_ids=False)):
        if i < n:
            kept.append((i, rec))
        else:
            j = rng.randint(0, i)
            if j < n:
                kept[j] = (i, rec)
    kept.sort(key=lambda t: t[0])
    return [r for _, r in kept]


def cut_text(value: Any, width: int) -> Any:
    """Long strings cut to `width` characters (with how much was left out), inside lists and
    dicts too, for showing a record."""
    if isinstance(value, str):
        if width > 0 and len(value) > width:
            return value[:width] + f"… [{len(value) - width:,} more characters]"
        return value
    if isinstance(value, dict):
        return {k: cut_text(v, width) for k, v in value.items()}
    if isinstance(value, list):
        return [cut_text(v, width) for v in value]
    return value
