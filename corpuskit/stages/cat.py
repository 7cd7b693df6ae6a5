"""cat: records in, records out. Concatenates inputs, converts between .jsonl/.gz/.zst,
assigns missing ids and validates every line (with --bad-records, quarantines the bad ones).
Its cost is the frame's own cost (reading, parsing, writing)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from corpuskit.core.stage import RecordStage, Rejection, opt


@dataclass
class Cat(RecordStage):
    name: ClassVar[str] = "cat"
    summary: ClassVar[str] = ("Concatenate, validate and convert record files (.jsonl/.gz/.zst), "
                              "assigning missing ids.")
    reasons: ClassVar[dict[str, str]] = {}
    needs: ClassVar[str | None] = None

    require_text: bool = opt(False, "Treat a record without a string text field as bad input.")

    def required_field(self) -> str | None:
        return self.text_field if self.require_text else None

    def process(self, record: dict) -> dict | Rejection:
        return record
