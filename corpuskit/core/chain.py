"""Running a chain of stages over a record stream, with counters and a rejected stream.

The same code serves `corpuskit STAGE` (a chain of one), a shell pipe of subcommands and
`corpuskit pipeline`, which is why their outputs are byte-identical.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from corpuskit.core.stage import RecordStage, Rejected, Rejection, SourceStage, Stage, StreamStage, set_meta

RejectSink = Callable[[dict], None]
# meter(i, records) -> records: sees the records stage i kept, in order (the run report counts
# the characters each stage kept with one)
Meter = Callable[[int, Iterator[dict]], Iterator[dict]]


@dataclass
class StageStats:
    stage: str
    seen: int = 0
    kept: int = 0
    rejected: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def merge(self, other: StageStats | dict) -> None:
        """Add another shard's counters (a StageStats or its as_dict())."""
        if isinstance(other, dict):
            self.seen += other["in"]
            self.kept += other["kept"]
            self.rejected.update(other["reasons"])
            self.seconds += other.get("seconds", 0.0)
            self._add_counts(other.get("extra", {}).get("counts"))
            return
        self.seen += other.seen
        self.kept += other.kept
        self.rejected.update(other.rejected)
        self.seconds += other.seconds
        self._add_counts(other.extra.get("counts"))

    def _add_counts(self, counts: dict | None) -> None:
        """A record stage's counters (`extra.counts`) add up across shards."""
        if counts:
            mine = self.extra.setdefault("counts", {})
            for k, v in counts.items():
                mine[k] = mine.get(k, 0) + v

    def as_dict(self) -> dict[str, Any]:
        d = {"stage": self.stage, "in": self.seen, "kept": self.kept,
             "rejected": self.n_rejected, "reasons": dict(sorted(self.rejected.items()))}
        if self.extra:
            d["extra"] = self.extra
        return d


def mark_rejected(record: dict, stage: str, rejection: Rejection) -> dict:
    """Put `meta.rejected = {stage, reason, detail}` on a record (in place) and return it."""
    set_meta(record, "rejected", {"stage": stage, "reason": rejection.reason,
                                  "detail": rejection.detail})
    return record


class Chain:
    """A chain of stages. `run(records)` yields the kept records; each dropped record is
    marked and handed to `on_reject` (if given) and counted per stage and reason. A `meter`
    is put after each stage, on the records it kept."""

    def __init__(self, stages: list[Stage], on_reject: RejectSink | None = None, meter: Meter | None = None):
        self.stages = stages
        self.on_reject = on_reject
        self.meter = meter
        self.stats = [StageStats(s.name) for s in stages]

    def _reject(self, st: StageStats, stage: Stage, record: dict, rej: Rejection) -> None:
        st.rejected[rej.reason] += 1
        if self.on_reject is not None:
            self.on_reject(mark_rejected(record, stage.name, rej))

    @staticmethod
    def _counts_before(stage: RecordStage) -> Counter | None:
        """A record stage may keep a Counter `counts` (what it found, e.g. redact-pii's kinds):
        a copy of it before the run, so that what the run added goes to `extra.counts`."""
        counts = getattr(stage, "counts", None)
        return Counter(counts) if isinstance(counts, Counter) else None

    @staticmethod
    def _settle(st: StageStats, stage: RecordStage, before: Counter | None, seen: int, kept: int,
                t: float) -> None:
        """Add one record loop's counters to the stage's stats (see _counts_before)."""
        st.seen += seen
        st.kept += kept
        st.seconds += t
        if before is not None:
            st._add_counts(dict(sorted((stage.counts - before).items())))  # type: ignore[attr-defined]

    def _per_record(self, stage: RecordStage, st: StageStats, upstream: Iterable[dict]) -> Iterator[dict]:
        process = stage.process
        before = self._counts_before(stage)
        seen = kept = 0
        t = 0.0
        clock = time.perf_counter
        try:
            for rec in upstream:
                seen += 1
                # a stage's time is sampled on every 8th record (two clock calls per record cost
                # the cheap stages ~6% of their throughput); `seconds` is that sample x 8
                if seen & 7:
                    out = process(rec)
                else:
                    t0 = clock()
                    out = process(rec)
                    t += (clock() - t0) * 8
                if out.__class__ is Rejection:
                    self._reject(st, stage, rec, out)  # type: ignore[arg-type]
                else:
                    kept += 1
                    yield out  # type: ignore[misc]
        finally:
            self._settle(st, stage, before, seen, kept, t)

    def drain(self, records: Iterable[dict] | None, sink: Callable[[dict], None],
              inputs: list[str] | None = None) -> None:
        """Hand each record `run` would yield to `sink`, in the same order and with the same
        counters. A chain of one record stage (what a stage command runs) is one loop from the
        reader's records to the sink, without a generator in between (a generator's step per
        record is a tenth of the frame's cost over bare parsing and writing)."""
        stage = self.stages[0] if len(self.stages) == 1 else None
        if stage is None or self.meter is not None or records is None or not isinstance(stage, RecordStage):
            for rec in self.run(records, inputs):
                sink(rec)
            return
        st = self.stats[0]
        process = stage.process
        before = self._counts_before(stage)
        seen = kept = 0
        t = 0.0
        clock = time.perf_counter
        try:
            for rec in records:
                seen += 1
                if seen & 7:  # timed on every 8th record, as in _per_record
                    out = process(rec)
                else:
                    t0 = clock()
                    out = process(rec)
                    t += (clock() - t0) * 8
                if out.__class__ is Rejection:
                    self._reject(st, stage, rec, out)  # type: ignore[arg-type]
                else:
                    kept += 1
                    sink(out)  # type: ignore[arg-type]
        finally:
            self._settle(st, stage, before, seen, kept, t)

    def _counted(self, st: StageStats, upstream: Iterable[dict]) -> Iterator[dict]:
        for rec in upstream:
            st.seen += 1
            yield rec

    def _stream(self, stage: Stage, st: StageStats, items: Iterable[Any]) -> Iterator[dict]:
        t0 = time.perf_counter()
        try:
            for out in items:
                if out.__class__ is Rejected:
                    self._reject(st, stage, out.record, out.rejection)
                else:
                    st.kept += 1
                    yield out
        finally:
            st.seconds += time.perf_counter() - t0
            result = getattr(stage, "result", None)
            if result is not None:
                st.extra.update(result())

    def run(self, records: Iterable[dict] | None, inputs: list[str] | None = None) -> Iterator[dict]:
        it: Iterable[Any] = records if records is not None else ()
        for i, (stage, st) in enumerate(zip(self.stages, self.stats)):
            if isinstance(stage, SourceStage):
                if i != 0:
                    raise ValueError(f"{stage.name} reads files and must come first")
                it = self._stream(stage, st, self._count_source(st, stage.read(inputs or ["-"])))
            elif isinstance(stage, StreamStage):
                it = self._stream(stage, st, stage.run(self._counted(st, it)))
            elif isinstance(stage, RecordStage):
                it = self._per_record(stage, st, it)
            else:  # pragma: no cover - protocol misuse
                raise TypeError(f"{stage!r} is not a stage")
            if self.meter is not None:
                it = self.meter(i, iter(it))
        return iter(it)

    @staticmethod
    def _count_source(st: StageStats, items: Iterable[Any]) -> Iterator[Any]:
        for out in items:
            st.seen += 1
            yield out


def run_stages(stages: list[Stage], records: Iterable[dict]) -> tuple[list[dict], list[dict], list[StageStats]]:
    """In-memory convenience for notebooks and tests: (kept, rejected, stats)."""
    rejected: list[dict] = []
    chain = Chain(stages, rejected.append)
    kept = list(chain.run(records))
    return kept, rejected, chain.stats


def build_stats(command: str, chain: Any, reader: Any, out: Any, rej: Any, bad: Any,
                seconds: float) -> dict:
    stage_dicts = []
    for s in chain.stats:
        d = s.as_dict()
        d["seconds"] = round(s.seconds, 3)
        stage_dicts.append(d)
    quarantined = sum(reader.stats.bad.values()) if reader is not None else 0
    n_in = (reader.stats.records + quarantined) if reader is not None else chain.stats[0].seen
    n_rej = sum(s.n_rejected for s in chain.stats)
    return {
        "command": command,
        "input": reader.stats.as_dict() if reader is not None else None,
        "stages": stage_dicts,
        "output": {"records": out.count, "bytes": out.bytes},
        "conservation": {"in": n_in, "kept": out.count, "rejected": n_rej,
                         "quarantined": quarantined,
                         "ok": n_in == out.count + n_rej + quarantined},
        "seconds": round(seconds, 3),
    }
