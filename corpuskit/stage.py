"""The stage protocol, the Rejection value and the registry.

A stage is a dataclass of its options (their defaults live here, in the class, and nowhere
else: the CLI and the pipeline config read them from the dataclass fields).

* `RecordStage.process(record) -> record | Rejection` is pure: no globals, no I/O, picklable,
  so the same object runs in-process, in a worker pool or on a cluster engine.
* `StreamStage.run(records) -> iterator of record | Rejected` consumes a whole stream
  (dedup, statistics).

Field metadata used by the CLI: ``field(default=..., metadata={"help": "..."})``;
``metadata={"cli": False}`` hides an option from the command line.
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from .errors import MissingField, UsageError


class Rejection(NamedTuple):
    """What a stage returns instead of a record when it drops it."""

    reason: str  # short snake_case constant, documented in the stage's `reasons`
    detail: str = ""


class Rejected(NamedTuple):
    """A dropped record, as a stream stage yields it."""

    record: dict
    rejection: Rejection


def opt(default: Any, help: str, cli: bool = True, **kw: Any) -> Any:  # noqa: A002
    """A stage option: a dataclass field with its help text."""
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, "cli": cli}, **kw)
    return field(default=default, metadata={"help": help, "cli": cli}, **kw)


@dataclass
class Stage:
    """Common base. Subclasses set `name`, `summary`, `reasons` and, if they read a field,
    `input_field` (the name of the dataclass attribute holding the field name)."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    # reason constant -> one-line description (documented in --help and the README)
    reasons: ClassVar[dict[str, str]] = {}
    # Which record field the stage needs on input ("text" or "html"); the reader checks it
    # so that a record without it is reported as bad input at its FILE:LINE.
    needs: ClassVar[str | None] = "text"

    text_field: str = opt("text", "Record key holding the document text.")

    def required_field(self) -> str | None:
        """The key every input record must carry as a string (checked at read time)."""
        if self.needs == "text":
            return self.text_field
        if self.needs == "html":
            return "html"
        return None

    def get_text(self, record: dict) -> str:
        t = record.get(self.text_field)
        if not isinstance(t, str):
            raise MissingField(self.text_field)
        return t

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if f.init]

    @classmethod
    def from_options(cls, **kw: Any) -> Stage:
        known = {f.name for f in cls.options()}
        unknown = sorted(set(kw) - known)
        if unknown:
            raise UsageError(f"{cls.name}: unknown option(s): {', '.join(unknown)}")
        try:
            return cls(**kw)
        except (TypeError, ValueError) as e:
            raise UsageError(f"{cls.name}: {e}") from e


@dataclass
class RecordStage(Stage):
    """A pure per-record stage."""

    def process(self, record: dict) -> dict | Rejection:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class StreamStage(Stage):
    """A stage that needs the whole stream (dedup, statistics)."""

    def run(self, records: Iterable[dict]) -> Iterator[dict | Rejected]:  # pragma: no cover
        raise NotImplementedError

    def result(self) -> dict:
        """Extra figures for stats.json after the stream is consumed (optional)."""
        return {}


def set_meta(record: dict, key: str, value: Any) -> None:
    """record["meta"][key] = value, creating `meta` (at the end of the record) if needed."""
    meta = record.get("meta")
    if not isinstance(meta, dict):
        meta = {} if meta is None else {"_original": meta}
        record["meta"] = meta
    meta[key] = value


# ---------------------------------------------------------------- registry
# CLI name -> "module:Class". Modules are imported lazily so that `corpuskit --help` and
# a stage that needs nothing heavy never import lxml, numpy, etc.
# The order here is the default pipeline order.
REGISTRY: dict[str, str] = {
    "fetch": "corpuskit.stages.fetch:Fetch",
    "html2text": "corpuskit.stages.html2text:HtmlToText",
    "normalize": "corpuskit.stages.normalize:Normalize",
    "filter-lang": "corpuskit.stages.lang:FilterLang",
    "filter-ads": "corpuskit.stages.ads:FilterAds",
    "filter-short": "corpuskit.stages.filter_short:FilterShort",
    "filter-quality": "corpuskit.stages.quality:FilterQuality",
    "filter-unsafe": "corpuskit.stages.safety:FilterUnsafe",
    "dedup": "corpuskit.stages.dedup:Dedup",
    "tokenize-stats": "corpuskit.stages.tokstats:TokenizeStats",
    "cat": "corpuskit.stages.cat:Cat",
}

# Default chain of `corpuskit pipeline` (names from REGISTRY), in order.
# Why this order: extraction first; normalize before anything measures text; filter-lang early
# because filter-quality picks its stop words by meta.lang; filter-ads removes boilerplate lines
# before the length and quality checks see them; the cheap filter-short before the costlier
# filter-quality and filter-unsafe; dedup after filtering (junk must not become a cluster's
# survivor, and fewer documents are compared); statistics last, over what is kept.
DEFAULT_PIPELINE: list[str] = ["html2text", "normalize", "filter-lang", "filter-ads", "filter-short",
                               "filter-quality", "filter-unsafe", "dedup", "tokenize-stats"]

# Options the pipeline sets by default (over the stage's own default), shown by --print-config:
# html2text lets records that already carry text through, so raw/ can mix pages and text.
PIPELINE_STAGE_DEFAULTS: dict[str, dict[str, Any]] = {"html2text": {"keep_text": True}}


def get_stage_class(name: str) -> type[Stage]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown stage {name!r} (known: {', '.join(REGISTRY)})") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def make_stage(name: str, **options: Any) -> Stage:
    return get_stage_class(name).from_options(**options)


@dataclass
class SourceStage(Stage):
    """A stage whose input is not JSONL records (URL lists, WARC files, folders of pages):
    `fetch`. It yields records (or Rejected) from its inputs; what comes after it is ordinary."""

    needs: ClassVar[str | None] = None

    def read(self, inputs: list[str]) -> Iterator[dict | Rejected]:  # pragma: no cover
        raise NotImplementedError

    def result(self) -> dict:
        return {}


class Table(NamedTuple):
    """A plain-data table a stage offers for the CLI's stderr summary (rendered with rich by
    the CLI; the stage itself never imports rich)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
