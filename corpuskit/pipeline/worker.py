"""The map side of a run: one unit through the per-record stages, into its own folder.

The engines (corpuskit.engine) call a `UnitRunner` for each unit; it knows nothing of them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from corpuskit.core.chain import Chain, mark_rejected
from corpuskit.core.errors import BadInput
from corpuskit.core.stage import Rejected, Stage
from corpuskit.io.jsonl import ReadStats, RecordWriter, parse_lines
from corpuskit.io.sources import html_file_record, iter_warc
from corpuskit.pipeline.plan import Unit, load_rows
from corpuskit.pipeline.profile import Profile
from corpuskit.pipeline.state import publish_unit

UNIT_SUFFIX = ".jsonl.zst"  # intermediate files: fast zstd


@dataclass
class UnitRunner:
    """The map task: the per-record stages over one unit, written to `units_dir/<key>/`
    atomically (built under a temporary name, renamed when complete). Picklable: the engines
    ship it to their workers once per run."""

    stages: list[Stage]
    strict: bool = False
    # count the kept records as the run's output (lengths, languages) for the report: False
    # when whole-stream stages follow, which count the output themselves
    profile_output: bool = True

    def __call__(self, unit: Unit, units_dir: Path) -> dict:
        return run_unit(self.stages, self.strict, unit, Path(units_dir), self.profile_output)


def big_fields(first: Stage) -> tuple[str, str]:
    """The fields of a run's records that may hold a huge string, which its writers write in
    parts (io.writer.dumps_parts): the text field, and the field the first stage reads (html2text's
    html)."""
    return first.text_field, first.required_field() or getattr(first, "html_field", first.text_field)


def run_unit(stages: list[Stage], strict: bool, unit: Unit, units: Path, profile_output: bool = True) -> dict:
    """Run the per-record stages over one unit and write its folder atomically; its
    stats.json has the counters and the report's profile of the unit (corpuskit.pipeline.profile)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{unit.key}-", dir=str(units)))
    try:
        unit = load_rows(unit)  # a range of Parquet row groups is decoded here, in the worker
        rs = ReadStats(files=1 if unit.index == 0 else 0, lines=len(unit.lines),
                       bytes=sum(len(x) + 1 for x in unit.lines))
        first = stages[0]
        big = big_fields(first)
        kept = RecordWriter(str(tmp / f"kept{UNIT_SUFFIX}"), atomic=False, big_fields=big)
        rejected: dict[str, RecordWriter] = {}
        bad = RecordWriter(str(tmp / "bad.jsonl"), atomic=False)

        def on_reject(rec: dict) -> None:
            st = rec["meta"]["rejected"]["stage"]
            w = rejected.get(st)
            if w is None:
                w = rejected[st] = RecordWriter(str(tmp / f"rejected.{st}{UNIT_SUFFIX}"), atomic=False,
                                                big_fields=big)
            w.write(rec)

        source: dict[str, Any] = {"in": 0, "kept": 0, "reasons": {}, "skipped": {}}
        bad_files: list[dict] = []
        if unit.kind == "jsonl":
            records = parse_lines(unit.name, unit.first_line, unit.lines, rs, first.required_field(),
                                  first.text_field,
                                  None if strict else (lambda line, err: bad.write_raw(line)),
                                  known_bad=unit.bad_rows, id_field=first.id_field,
                                  release=True)  # each line let go once parsed (a huge one in parts)
        else:
            records = _source_records(unit, rs, source, on_reject, None if strict else bad_files)
        prof = Profile(len(stages), first.text_field, getattr(first, "html_field", "html"))
        chain = Chain(stages, on_reject=on_reject, meter=prof.meter())
        if profile_output:
            for rec in chain.run(prof.count_input(records)):
                kept.write(rec)
                prof.count_output(rec)
        else:
            for rec in chain.run(prof.count_input(records)):
                kept.write(rec)
        kept.close()
        bad.close()
        for w in rejected.values():
            w.close()
        stats = {"read": {**rs.as_dict(), "bad_records": dict(rs.bad)}, "source": source,
                 "bad_files": bad_files,
                 "stages": [s.as_dict() | {"seconds": s.seconds} for s in chain.stats],
                 "kept": kept.count, "kept_bytes": kept.bytes,
                 "rejected_bytes": {k: w.bytes for k, w in rejected.items()},
                 "profile": prof.as_dict()}
        (tmp / "stats.json").write_bytes(orjson.dumps(stats))
        publish_unit(tmp, units / unit.key)
        return stats
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _source_records(unit: Unit, rs: ReadStats, source: dict, on_reject: Callable[[dict], None],
                    bad_files: list[dict] | None) -> Iterator[dict]:
    """Page records from HTML files or a WARC file; what the reader rejects (a page too large,
    a non-HTML response) goes to the rejected stream under the stage name `fetch`, the stage that
    reads these inputs on the command line. WARC records that are not pages (request, metadata,
    warcinfo, revisit ...) are counted in source["skipped"] by type.

    A file that cannot be read to its end (a truncated or corrupt WARC, an unreadable page)
    raises BadInput, or, with `bad_files` (keep going), is listed there with how far it was read
    and counted as one quarantined input (its reason in rs.bad): the records read before the
    damage go on, and so do the other files."""
    reasons: Counter = Counter()
    skipped: dict[str, int] = source["skipped"]
    if unit.kind == "html":
        rs.bytes = sum(os.path.getsize(p) for p in unit.paths)
        files: list[tuple[str, Callable[[], Iterator[Any]]]] = [
            (p, (lambda p=p: iter((html_file_record(Path(p)),)))) for p in unit.paths]
    else:
        rs.bytes = os.path.getsize(unit.paths[0])
        files = [(unit.paths[0], lambda: iter_warc(unit.paths[0], stats=skipped))]
    for path, open_items in files:
        read_here = 0
        try:
            for item in open_items():
                read_here += 1
                source["in"] += 1
                if item.__class__ is Rejected:
                    reasons[item.rejection.reason] += 1
                    on_reject(mark_rejected(item.record, "fetch", item.rejection))
                    continue
                source["kept"] += 1
                rs.records += 1
                yield item
        except BadInput as e:
            if bad_files is None:
                raise
            rs.bad[e.reason] += 1
            if unit.kind == "warc":  # the pages and the other WARC records before the damage
                read_here += sum(skipped.values())
            bad_files.append({"file": path, "reason": e.reason, "message": e.message,
                              "records_read": read_here})
    source["reasons"] = dict(reasons)
