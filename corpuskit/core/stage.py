"""The stage protocol and the Rejection value (the registry of stages is corpuskit.registry).

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
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from corpuskit.core.errors import MissingField, UsageError


class Rejection(NamedTuple):
    """What a stage returns instead of a record when it drops it."""

    reason: str  # short snake_case constant, documented in the stage's `reasons`
    detail: str = ""


class Rejected(NamedTuple):
    """A dropped record, as a stream stage yields it."""

    record: dict
    rejection: Rejection


def opt(default: Any, help: str, cli: bool = True, repeat: bool = False, metavar: str = "",  # noqa: A002
        aliases: tuple[str, ...] = (), **kw: Any) -> Any:
    """A stage option: a dataclass field with its help text. A list option is comma-separated on
    the command line, or given once per item with `repeat` (items that may hold commas).
    `metavar` is the placeholder `--help` shows for its value (e.g. LANGS; derived from the type
    when empty); `aliases` are old names it still answers to (deprecated: each use warns, see
    `Stage.option_name`)."""
    meta = {"help": help, "cli": cli, "repeat": repeat, "metavar": metavar, "aliases": tuple(aliases)}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


class DeprecatedOption(UserWarning):
    """An option was given by its old name (it still works, for one release)."""


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
    # False for the commands that are not a step of `pipeline`'s chain (mix, tokenize)
    in_pipeline: ClassVar[bool] = True
    # True for the stages that score with a model file the user gives (filter-model,
    # filter-perplexity): off by default in the pipeline, and not run by `corpuskit warmup`
    needs_model: ClassVar[bool] = False

    text_field: str = opt("text", "Record key holding the document text.", metavar="FIELD")
    id_field: str = opt("id", "Record key holding the record's id (assigned from the url or text "
                        "when missing; dedup names documents by it).", metavar="FIELD")

    def required_field(self) -> str | None:
        """The key every input record must carry as a string (checked at read time)."""
        if self.needs == "text":
            return self.text_field
        if self.needs == "html":
            return "html"
        return None

    def hold_files(self) -> None:
        """Keep what the stage writes besides its records (dedup's new --index file) aside until
        `commit()`, for a caller that has outputs of its own to put in place first
        (`pipeline.stream.run_stream`, `pipeline.run`). Without it, such a file is moved into
        place when the stage's run ends."""

    def commit(self) -> None:
        """Move into place what `hold_files` kept aside: called once the run's outputs are in
        place, so a run that fails or is interrupted before then leaves such a file as it was."""

    def discard(self) -> None:
        """The run failed or was interrupted: drop what `commit` would have moved into place."""

    def reference_files(self) -> list[str]:
        """Files the stage reads besides its input records (decontaminate's evaluation sets):
        no output may replace one (`pipeline.stream.check_outputs_not_inputs`)."""
        return []

    def get_text(self, record: dict) -> str:
        t = record.get(self.text_field)
        if not isinstance(t, str):
            raise MissingField(self.text_field)
        return t

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if f.init]

    @classmethod
    def option_name(cls, name: str) -> str:
        """The option's name, for its current name or a deprecated alias (which warns with
        DeprecatedOption); an unknown name is returned as it is."""
        name = name.replace("-", "_")
        for f in cls.options():
            if name in f.metadata.get("aliases", ()):
                warnings.warn(f"{cls.name}: option {name!r} ({_flag(name)}) is deprecated: use "
                              f"{f.name!r} ({_flag(f.name)}); the old name goes in the next release",
                              DeprecatedOption, stacklevel=3)
                return f.name
        return name

    @classmethod
    def from_options(cls, **kw: Any) -> Stage:
        kw = {cls.option_name(k): v for k, v in kw.items()}
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


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def set_meta(record: dict, key: str, value: Any) -> None:
    """record["meta"][key] = value, creating `meta` (at the end of the record) if needed."""
    meta = record.get("meta")
    if not isinstance(meta, dict):
        meta = {} if meta is None else {"_original": meta}
        record["meta"] = meta
    meta[key] = value


@dataclass
class SourceStage(Stage):
    """A stage whose input is not JSONL records (URL lists, WARC files, folders of pages):
    `fetch`. It yields records (or Rejected) from its inputs; what comes after it is ordinary."""

    needs: ClassVar[str | None] = None
    # where bad input lines go (--bad-records): sink(raw line, BadInput); None: a bad line
    # stops the run
    bad_sink: Callable[[bytes, Exception], None] | None = field(
        default=None, init=False, repr=False, compare=False, metadata={"cli": False})

    def quarantine_to(self, sink: Callable[[bytes, Exception], None] | None) -> None:
        """Hand bad input lines to `sink` (verbatim, with their error) instead of stopping."""
        self.bad_sink = sink
    # what its INPUT arguments are, for --help (a record stage's are JSONL record files)
    input_help: ClassVar[str] = ""

    def read(self, inputs: list[str]) -> Iterator[dict | Rejected]:  # pragma: no cover
        raise NotImplementedError

    def input_files(self, inputs: list[str]) -> list[str]:
        """The files `read(inputs)` reads (that no output may replace): the inputs as given."""
        return list(inputs) or ["-"]

    def result(self) -> dict:
        return {}


class Table(NamedTuple):
    """A plain-data table a stage offers for the CLI's stderr summary (rendered with rich by
    the CLI; the stage itself never imports rich)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
