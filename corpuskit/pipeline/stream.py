"""Running a chain of stages from input files (or stdin) to output files (or stdout): what
`corpuskit STAGE` does. The same `Chain` and stage objects serve `corpuskit pipeline`, so a
shell pipe of subcommands and the pipeline give the same bytes.

Writes are atomic (temp file + rename) except for a source stage (fetch), whose output is kept
when the run is interrupted so that `--resume` can finish it.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from corpuskit.core.chain import Chain, build_stats
from corpuskit.core.errors import BadInput, UsageError
from corpuskit.core.stage import SourceStage, Stage
from corpuskit.io import remote
from corpuskit.io.jsonl import RecordReader, RecordWriter, open_writer, write_json_atomic
from corpuskit.io.targets import check_distinct_outputs, check_outputs_not_inputs
from corpuskit.io.writer import check_bad_records_path, write_target
from corpuskit.pipeline.report import write_stage_reports

MAX_WARNINGS = 10


class Progress(Protocol):
    def counting(self, sink: Callable[[dict], None]) -> Callable[[dict], None]: ...

    def stop(self) -> None: ...


# (read stats or None, a source stage's live counters or None) -> a progress display
ProgressFactory = Callable[[Any, Any], Progress]


def run_stream(stages: list[Stage], inputs: list[str], output: str | None, rejected: str | None,
               bad_records: str | None, stats_path: str | None, *, command: str = "",
               warn: Callable[[str], None] | None = None,
               progress: ProgressFactory | None = None, limit: int = 0) -> dict:
    """Read, run the chain, write; returns the stats dict. Raises CorpusKitError on bad data and
    leaves nothing partial (but a source stage's resumable output). `limit`: at most that many
    records from each input (a dry run on the first N)."""
    t0 = time.perf_counter()
    check_stdout_use(output, rejected, bad_records, stats_path)
    check_bad_records_path(bad_records)
    writers = []
    first = stages[0]
    # A source stage (fetch) may run for hours: its output is written in place and kept when
    # the run is interrupted, so that `--resume` can finish it without fetching anything twice.
    keep_partial = isinstance(first, SourceStage) and hasattr(first, "prepare_resume")
    outputs = {"-o": output, "--rejected": rejected, "--bad-records": bad_records, "--stats": stats_path}
    check_distinct_outputs(outputs)
    if stats_path and stats_path != "-" and not remote.is_url(stats_path):
        write_target(stats_path)  # a folder, `dir/`: refused now, not once the work is done
    resume = bool(getattr(first, "resume", False))
    if resume:
        if not output or output == "-":
            raise UsageError("--resume needs -o FILE (the output of the interrupted run)")
        first.prepare_resume(output, rejected)  # type: ignore[attr-defined]
    if limit and keep_partial:
        raise UsageError(f"--limit is for record inputs; {first.name} reads other files")
    if limit < 0:
        raise UsageError("--limit must be >= 1")
    reader = None
    if isinstance(first, SourceStage):
        read_files = list(first.input_files(inputs))
    else:  # the files as expanded, before any output is opened
        reader = RecordReader(inputs or ["-"], require_field=first.required_field(),
                              text_field=first.text_field, id_field=first.id_field, limit=limit)
        read_files = list(reader.paths)
    for stage in stages:
        read_files += stage.reference_files()
    check_outputs_not_inputs(outputs, read_files)
    for stage in stages:  # a stage's --report DIR (tokenize-stats): the files written there too
        directory = getattr(stage, "report", "")
        if directory and hasattr(stage, "result"):
            for name in ("stats.json", "report.html"):
                check_outputs_not_inputs({"--report": os.path.join(directory, name)}, read_files)
    for stage in stages:  # dedup's --index goes into place with the outputs, not before them
        stage.hold_files()
    try:
        # the fields that may hold a huge string, written in parts (io.writer.dumps_parts)
        big = (first.text_field, first.required_field() or getattr(first, "html_field", first.text_field))
        out = open_writer(output, atomic=not keep_partial, append=resume, text_field=first.text_field,
                          big_fields=big)
        writers.append(out)
        rej = open_writer(rejected, atomic=not keep_partial, append=resume, big_fields=big) if rejected else None
        bad = RecordWriter(bad_records) if bad_records else None
        writers += [w for w in (rej, bad) if w is not None]
        warned = [0]

        def quarantine(line: bytes, err: BadInput) -> None:
            bad.write_raw(line)  # type: ignore[union-attr]
            warned[0] += 1
            if warn is not None and warned[0] <= MAX_WARNINGS:
                warn(f"{err} (line kept in {bad_records})")
            elif warn is not None and warned[0] == MAX_WARNINGS + 1:
                warn("more bad lines: counted in the summary, not shown")

        if isinstance(first, SourceStage):
            first.quarantine_to(quarantine if bad is not None else None)
        elif bad is not None:
            reader.bad_sink = quarantine  # type: ignore[union-attr]
        on_reject = rej.write if rej is not None else None
        if keep_partial:  # flush about once a second, so a killed crawl loses little
            last = [time.monotonic()]

            def _tick() -> None:
                if time.monotonic() - last[0] > 1.0:
                    last[0] = time.monotonic()
                    for w in (out, rej):
                        if w is not None:
                            w.flush()

            def _write(rec: dict, _w=out.write) -> None:
                _w(rec)
                _tick()

            def _reject(rec: dict, _w=on_reject) -> None:
                if _w is not None:
                    _w(rec)
                _tick()

            out.write = _write  # type: ignore[method-assign]
            on_reject = _reject
        chain = Chain(stages, on_reject=on_reject)
        bar = progress(reader.stats if reader else None, getattr(first, "progress", None)) \
            if progress is not None else None
        try:
            chain.drain(reader, bar.counting(out.write) if bar is not None else out.write, inputs)
        finally:
            if bar is not None:
                bar.stop()
        for w in writers:  # all written and synced before any is moved into place
            w.finish()
        for w in writers:
            w.commit()
        for stage in stages:  # (dedup's --index: its documents are in the outputs now)
            stage.commit()
    except BaseException:
        for stage in stages:
            stage.discard()
        for w in writers:
            if w.atomic:
                w.abort()
            else:
                try:
                    w.close()  # keep what a source stage wrote, for --resume
                except Exception:  # noqa: BLE001 - already failing; keep the first error
                    w.abort()
        raise
    if reader is not None and warn is not None:
        for name in reader.stats.empty_files:
            warn(f"{name}: empty file (no records)")
    write_stage_reports(stages)
    stats = build_stats(command, chain, reader, out, rej, bad, time.perf_counter() - t0)
    if reader is None and bad is not None and bad.count:  # a source stage's bad input lines
        c = stats["conservation"]
        c["quarantined"] = bad.count
        c["in"] += bad.count
        c["ok"] = c["in"] == c["kept"] + c["rejected"] + c["quarantined"]
    stats["rejected_path"] = rejected
    stats["bad_records_path"] = bad_records
    if stats_path == "-":
        sys.stdout.buffer.write(orjson.dumps(stats, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
                                             | orjson.OPT_NON_STR_KEYS))
        sys.stdout.flush()
    elif stats_path:
        write_json_atomic(stats_path, stats)
    return stats


def check_stdout_use(output: str | None, rejected: str | None, bad_records: str | None,
                     stats_path: str | None) -> None:
    """`-` names stdout for every output option; one stream can hold one of them. The records
    go there unless -o FILE, so `--stats -` (or `--rejected -`, `--bad-records -`) needs -o."""
    named = [(flag, v) for flag, v in (("--rejected", rejected), ("--bad-records", bad_records),
                                       ("--stats", stats_path)) if v == "-"]
    if not named:
        return
    if output in (None, "-"):
        raise UsageError(f"{named[0][0]} -: stdout already carries the records "
                         "(give -o FILE for them, or a file name here)")
    if len(named) > 1:
        raise UsageError(f"{named[0][0]} - and {named[1][0]} -: only one output can go to stdout")
