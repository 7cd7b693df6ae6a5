"""Chain.drain (the push loop a stage command runs) against Chain.run (the generator chain the
pipeline runs): the same records in the same order, the same rejected stream, the same
counters."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from corpuskit.core.chain import Chain
from corpuskit.core.stage import RecordStage, Rejection


@dataclass
class Keep3(RecordStage):
    """Drops a record whose text has fewer than 3 characters (Chinese counted per character),
    upper-cases the rest, and counts what it saw."""
    name: ClassVar[str] = "keep3"
    counts: Counter = field(default_factory=Counter)

    def process(self, record: dict) -> dict | Rejection:
        self.counts["seen_chars"] += len(record["text"])
        if len(record["text"]) < 3:
            return Rejection("short", f"{len(record['text'])} chars")
        return {**record, "text": record["text"].upper()}


def _records() -> list[dict]:
    texts = ["abc", "中文", "hello", "", "中文字", "x", "wörter", "长长长长"] * 5
    return [{"id": str(i), "text": t} for i, t in enumerate(texts)]


def _run(chain_drains: bool, stages_of) -> tuple[list, list, list, list]:
    rejected: list[dict] = []
    stages = stages_of()
    chain = Chain(stages, on_reject=rejected.append)
    if chain_drains:
        kept: list[dict] = []
        chain.drain(iter(_records()), kept.append)
    else:
        kept = list(chain.run(iter(_records())))
    stats = [{k: v for k, v in s.as_dict().items()} for s in chain.stats]
    return kept, rejected, stats, [dict(s.counts) for s in stages]


@pytest.mark.parametrize("stages_of", [lambda: [Keep3()], lambda: [Keep3(), Keep3()]],
                         ids=["one stage (the push loop)", "two stages (through run)"])
def test_drain_gives_what_run_gives(stages_of):
    kept, rejected, stats, counts = _run(True, stages_of)
    assert (kept, rejected, stats, counts) == _run(False, stages_of)
    assert [r["text"] for r in kept[:4]] == ["ABC", "HELLO", "中文字", "WÖRTER"]
    assert rejected[0]["meta"]["rejected"] == {"stage": "keep3", "reason": "short", "detail": "2 chars"}
    assert stats[0]["in"] == 40 and stats[0]["kept"] == 25 and stats[0]["reasons"] == {"short": 15}


def test_drain_counts_what_it_saw_when_the_sink_fails():
    chain = Chain([Keep3()])
    written = []

    def sink(rec: dict) -> None:
        if len(written) == 3:
            raise BrokenPipeError
        written.append(rec)

    with pytest.raises(BrokenPipeError):
        chain.drain(iter(_records()), sink)
    # the 4th kept record (the 7th read) could not be written: seen and kept count it
    assert (chain.stats[0].seen, chain.stats[0].kept) == (7, 4)
    assert chain.stages[0].counts["seen_chars"] == 3 + 2 + 5 + 0 + 3 + 1 + 6
