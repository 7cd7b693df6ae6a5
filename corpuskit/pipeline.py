"""`corpuskit pipeline raw/ clean/`: the registered stages in their default order, as one run.

It drives the very same `Chain` that a single subcommand uses, so a shell pipe of
subcommands and `pipeline` produce byte-identical records.

Layout of clean/:
    data/part-00000.jsonl.zst ...   kept records, sharded (--shard-size records a shard)
    rejected/<stage>.jsonl.zst      dropped records, each with meta.rejected
    quarantine/bad_records.jsonl    input lines that were not valid records, verbatim
    stats.json                      counters per stage and reason, conservation check
    report.md                       the same, for people
Everything is written into a temporary folder inside clean/ and moved into place when the
run succeeds, so a failed run leaves the previous result (or nothing) behind.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .jsonl import RecordReader, RecordWriter, write_json_atomic
from .runner import Chain, build_stats
from .stage import DEFAULT_PIPELINE, REGISTRY, Stage, make_stage

MARKER = ".corpuskit"
_SUFFIX = {"zst": ".jsonl.zst", "gz": ".jsonl.gz", "none": ".jsonl"}


@dataclass
class PipelineConfig:
    stages: list[str] = field(default_factory=lambda: list(DEFAULT_PIPELINE))
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    shard_size: int = 100_000
    compression: str = "zst"
    strict: bool = False  # stop at the first bad input line instead of quarantining it

    def __post_init__(self) -> None:
        if self.compression not in _SUFFIX:
            raise UsageError(f"compression must be one of {', '.join(_SUFFIX)}")
        if self.shard_size < 1:
            raise UsageError("shard size must be >= 1")
        for name in list(self.stages) + list(self.options):
            if name not in REGISTRY:
                raise UsageError(f"unknown stage {name!r} (known: {', '.join(REGISTRY)})")

    def build(self) -> list[Stage]:
        return [make_stage(n, **self.options.get(n, {})) for n in self.stages]


class ShardWriter:
    """Kept records into part-NNNNN files of at most `shard_size` records."""

    def __init__(self, folder: Path, shard_size: int, suffix: str):
        self.folder = folder
        self.shard_size = shard_size
        self.suffix = suffix
        self.count = 0
        self.bytes = 0
        self.shards: list[str] = []
        self._w: RecordWriter | None = None

    def write(self, record: dict) -> None:
        if self._w is None or self._w.count >= self.shard_size:
            self._rotate()
        self._w.write(record)  # type: ignore[union-attr]
        self.count += 1

    def _rotate(self) -> None:
        if self._w is not None:
            self._w.close()
            self.bytes += self._w.bytes
        name = f"part-{len(self.shards):05d}{self.suffix}"
        self.shards.append(name)
        self._w = RecordWriter(str(self.folder / name), atomic=False)

    def close(self) -> None:
        if self._w is not None:
            self._w.close()
            self.bytes += self._w.bytes
            self._w = None

    def abort(self) -> None:
        if self._w is not None:
            self._w.abort()


class _RejectedWriters:
    def __init__(self, folder: Path, suffix: str):
        self.folder = folder
        self.suffix = suffix
        self.writers: dict[str, RecordWriter] = {}

    def write(self, record: dict) -> None:
        stage = record["meta"]["rejected"]["stage"]
        w = self.writers.get(stage)
        if w is None:
            w = self.writers[stage] = RecordWriter(str(self.folder / f"{stage}{self.suffix}"), atomic=False)
        w.write(record)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def _check_clean_dir(clean: Path) -> None:
    if clean.exists() and not clean.is_dir():
        raise UsageError(f"{clean}: exists and is not a folder")
    if clean.is_dir() and any(clean.iterdir()) and not (clean / MARKER).exists():
        raise UsageError(f"{clean}: folder is not empty and was not written by corpuskit "
                         "(refusing to overwrite it)")


def run_pipeline(raw: str | list[str], clean: str, config: PipelineConfig | None = None,
                 on_bad=None) -> dict:
    """Run the pipeline; returns the stats dict (also written to clean/stats.json)."""
    config = config or PipelineConfig()
    stages = config.build()
    clean_p = Path(clean)
    _check_clean_dir(clean_p)
    clean_p.mkdir(parents=True, exist_ok=True)
    (clean_p / MARKER).write_text("written by corpuskit pipeline\n")
    work = Path(tempfile.mkdtemp(prefix=".run-", dir=str(clean_p)))
    suffix = _SUFFIX[config.compression]
    t0 = time.perf_counter()
    try:
        for sub in ("data", "rejected", "quarantine"):
            (work / sub).mkdir()
        out = ShardWriter(work / "data", config.shard_size, suffix)
        rej = _RejectedWriters(work / "rejected", suffix)
        bad = RecordWriter(str(work / "quarantine" / "bad_records.jsonl"), atomic=False)

        def quarantine(line: bytes, err) -> None:
            bad.write_raw(line)
            if on_bad is not None:
                on_bad(err)

        first = stages[0]
        inputs = [raw] if isinstance(raw, str) else list(raw)
        reader = RecordReader(inputs, require_field=first.required_field(), text_field=first.text_field,
                              bad_sink=None if config.strict else quarantine)
        chain = Chain(stages, on_reject=rej.write)
        for rec in chain.run(reader):
            out.write(rec)
        out.close()
        rej.close()
        bad.close()
        stats = build_stats("pipeline", chain, reader, out, None, None, time.perf_counter() - t0)
        stats["output"]["shards"] = [f"data/{s}" for s in out.shards]
        stats["output"]["bytes"] = out.bytes
        stats["config"] = {"stages": config.stages, "options": config.options,
                           "shard_size": config.shard_size, "compression": config.compression}
        if not bad.count:
            (work / "quarantine" / "bad_records.jsonl").unlink()
        write_json_atomic(str(work / "stats.json"), stats)
        (work / "report.md").write_text(render_report_md(stats), encoding="utf-8")
        _swap_into_place(work, clean_p)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return stats


def _swap_into_place(work: Path, clean: Path) -> None:
    """Replace the previous result with the new one (each entry renamed into place)."""
    for name in ("data", "rejected", "quarantine", "stats.json", "report.md"):
        target = clean / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for entry in work.iterdir():
        os.replace(entry, clean / entry.name)
    work.rmdir()


def render_report_md(stats: dict) -> str:
    c = stats["conservation"]
    lines = ["# corpuskit pipeline report", "",
             f"records in {c['in']:,} = kept {c['kept']:,} + rejected {c['rejected']:,} "
             f"+ quarantined {c['quarantined']:,} ({'adds up' if c['ok'] else 'DOES NOT ADD UP'})", "",
             "| stage | in | kept | rejected | reasons |", "| --- | ---: | ---: | ---: | --- |"]
    for st in stats["stages"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(st["reasons"].items(), key=lambda kv: -kv[1]))
        lines.append(f"| {st['stage']} | {st['in']:,} | {st['kept']:,} | {st['rejected']:,} | {reasons or '-'} |")
    bad = (stats.get("input") or {}).get("bad_records") or {}
    if bad:
        lines += ["", "Quarantined input lines (quarantine/bad_records.jsonl): "
                  + ", ".join(f"{k} {v:,}" for k, v in bad.items())]
    lines += ["", f"Output: {len(stats['output'].get('shards', []))} shard(s) in data/, "
              f"{stats['seconds']:.1f} s."]
    return "\n".join(lines) + "\n"
