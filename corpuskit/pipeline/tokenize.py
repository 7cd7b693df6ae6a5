"""`corpuskit tokenize INPUT... -o OUTDIR`: records into token shards, in parallel and
resumably (the pipeline's [tokenize] section runs the same code over clean/data).

How a run goes (the same plan as `pipeline`):
1. The inputs are cut into units (consecutive lines of one file; plan.iter_units), which
   depend only on the data.
2. Map: each unit is tokenised by the `tokenize` stage into OUTDIR/.work/units/KEY/ (ids,
   lengths, rejected records, bad lines, counters), built under a temporary name and renamed
   when complete. A run killed (even with kill -9) and started again with the same command
   reuses every finished unit.
3. Reduce: the units, in order, into shards and manifest.json, built in OUTDIR/.build-* and
   moved into OUTDIR when complete; the rejected records and bad lines are gathered in unit
   order into --rejected and --bad-records.
So the bytes do not depend on the number of workers nor on an interruption.
"""
from __future__ import annotations

import hashlib
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from corpuskit.core.chain import mark_rejected
from corpuskit.core.errors import UsageError
from corpuskit.core.owner import RunLock
from corpuskit.core.stage import Rejected, Stage
from corpuskit.engine import Executor, get_executor
from corpuskit.engine.local import LocalExecutor
from corpuskit.io import remote
from corpuskit.io.jsonl import ReadStats, RecordWriter, iter_line_batches, parse_lines, write_json_atomic
from corpuskit.io.targets import check_distinct_outputs, check_outputs_not_inputs
from corpuskit.io.writer import check_bad_records_path
from corpuskit.pipeline.plan import Unit, iter_units, load_rows, plan_inputs
from corpuskit.pipeline.state import BUILD_PREFIX, LOCK, MARKER, clean_leftovers, publish_unit

UNIT_REJECTED = "rejected.jsonl.zst"
UNIT_BAD = "bad.jsonl"


RECORD_KINDS = ("jsonl", "parquet", "arrow")  # read as records, a row of a table as a JSON line


@dataclass
class TokenizeUnit:
    """The map task: one unit through the tokenize stage into `units_dir/<key>/`, atomically.
    Picklable (the engines ship it to their workers)."""

    stage: Stage
    strict: bool
    source: str | None = None  # source name of records without meta.source (default: the file)

    def __call__(self, unit: Unit, units_dir: Path) -> dict:
        units_dir = Path(units_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{unit.key}-", dir=str(units_dir)))
        try:
            unit = load_rows(unit)  # a range of Parquet row groups is decoded in the worker
            rs = ReadStats(files=1 if unit.index == 0 else 0, lines=len(unit.lines),
                           bytes=sum(len(x) + 1 for x in unit.lines))
            rej = RecordWriter(str(tmp / UNIT_REJECTED), atomic=False)
            bad = RecordWriter(str(tmp / UNIT_BAD), atomic=False)
            stage = self.stage
            # release: each line is dropped once parsed (the unit's text is not held twice)
            records = parse_lines(unit.name, unit.first_line, unit.lines, rs, stage.text_field,
                                  stage.text_field,
                                  None if self.strict else (lambda line, err: bad.write_raw(line)),
                                  known_bad=unit.bad_rows, release=True)

            def on_reject(r: Rejected) -> None:
                rej.write(mark_rejected(r.record, stage.name, r.rejection))

            source = self.source if self.source is not None else unit.name
            t0 = time.perf_counter()
            st = stage.map_unit(records, tmp, source, on_reject)  # type: ignore[attr-defined]
            st["seconds"] = time.perf_counter() - t0
            rej.close()
            bad.close()
            st["read"] = {**rs.as_dict(), "bad_records": dict(rs.bad)}
            (tmp / "stats.json").write_bytes(orjson.dumps(st))
            publish_unit(tmp, units_dir / unit.key)
            return st
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _stdin_units(max_lines: int, max_bytes: int) -> Iterator[Unit]:
    ui, buf, size, first, line_no = 0, [], 0, 1, 1
    for _, lines, _ in iter_line_batches("-"):
        for line in lines:
            if buf and (len(buf) >= max_lines or size + len(line) > max_bytes):
                yield Unit(0, ui, "<stdin>", first, buf)
                ui, buf, size, first = ui + 1, [], 0, line_no
            buf.append(line)
            size += len(line) + 1
            line_no += 1
    if buf or ui == 0:
        yield Unit(0, ui, "<stdin>", first, buf)


def _fingerprint(stage: Stage, paths: list[str], unit_lines: int, unit_bytes: int, extra: Any) -> str:
    """What the unit folders depend on: the stage's map options, the unit size and the inputs
    (their paths, sizes and times; or `extra` when the caller vouches for them)."""
    files = []
    for p in paths if extra is None else ():
        st = os.stat(p)
        files.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    blob = orjson.dumps({"map": stage.map_fingerprint(), "unit_lines": unit_lines,  # type: ignore[attr-defined]
                         "unit_bytes": unit_bytes, "files": files, "extra": extra},
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UsageError(f"{out}: folder is not empty and was not written by corpuskit "
                         "(refusing to overwrite it)")


def run_tokenize(inputs: list[str] | None, outdir: str, stage: Stage, *, workers: int = 0,
                 rejected: str | None = None, bad_records: str | None = None,
                 stats_path: str | None = None, unit_lines: int = 10_000,
                 unit_bytes: int = 64 * 1024 * 1024, executor: Executor | None = None,
                 work: Path | None = None, fingerprint_extra: Any = None,
                 source: str | None = None,
                 note: Callable[[int, dict | None], None] | None = None,
                 rejected_inside: bool = False) -> dict:
    """Tokenise `inputs` (JSONL files or folders; None or ["-"] for stdin) into shards in
    `outdir`; returns the stats dict (written to `stats_path` too). Bad input lines stop the
    run at FILE:LINE unless `bad_records` is given (then they are kept there verbatim).
    `rejected`, `bad_records` and `stats_path` may not be inside `outdir` (the run replaces
    it whole), but for `rejected` when `rejected_inside` (the pipeline's tokens/rejected.*,
    written after the folder is in place)."""
    t0 = time.perf_counter()
    check_bad_records_path(bad_records)
    out = Path(outdir)
    check_out_dir(out)
    from_stdin = inputs is None or inputs == ["-"]
    if from_stdin:
        paths: list[str] = []
        units: Iterator[Unit] = _stdin_units(unit_lines, unit_bytes)
    else:
        # (an OUTDIR inside an input folder is not read back: its manifest.json is JSON)
        plan, _ignored = plan_inputs(inputs, exclude=outdir) if inputs else ([], [])
        others = [p for p, k in plan if k not in RECORD_KINDS]
        if others:
            raise UsageError(f"{others[0]}: tokenize reads records (JSONL, Parquet, Arrow; run html2text first)")
        paths = [p for p, _ in plan]
        if inputs and not paths:
            raise UsageError(f"{' '.join(inputs)}: no record inputs (JSONL, Parquet, Arrow) found")
        # with the local engine, a worker reads its own lines of a plain JSONL file (the unit is
        # a byte range): this process only finds where the units start
        units = iter_units(plan, unit_lines, unit_bytes,
                           spans=executor is None or isinstance(executor, LocalExecutor))
    # the record files are outputs like a stage command's: none may be another, nor an input
    outputs = {"--rejected": rejected, "--bad-records": bad_records, "--stats": stats_path}
    check_distinct_outputs(outputs)
    check_outputs_not_inputs(outputs, ["-"] if from_stdin else paths)
    folder = os.path.realpath(out)
    for opt, path in outputs.items():  # the folder is replaced whole: its shards, its manifest
        if opt == "--rejected" and rejected_inside:  # (the pipeline's tokens/rejected.jsonl.zst)
            continue
        if path and path != "-" and not remote.is_url(path):
            where = os.path.realpath(path)
            if where == folder or where.startswith(folder.rstrip(os.sep) + os.sep):
                raise UsageError(f"{opt} {path} is inside the output folder {outdir}, which the run "
                                 "writes and replaces whole: write it elsewhere")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by corpuskit tokenize\n")
    # one run at a time per folder; a half-built result a killed run left is removed
    with RunLock(str(out / LOCK), str(out)):
        clean_leftovers(out)
        return _run_locked(out, from_stdin, paths, units, stage, t0, workers=workers, rejected=rejected,
                           bad_records=bad_records, stats_path=stats_path, unit_lines=unit_lines,
                           unit_bytes=unit_bytes, executor=executor, work=work,
                           fingerprint_extra=fingerprint_extra, source=source, note=note)


def _run_locked(out: Path, from_stdin: bool, paths: list[str], units: Iterator[Unit], stage: Stage,
                t0: float, *, workers: int, rejected: str | None, bad_records: str | None,
                stats_path: str | None, unit_lines: int, unit_bytes: int, executor: Executor | None,
                work: Path | None, fingerprint_extra: Any, source: str | None,
                note: Callable[[int, dict | None], None] | None) -> dict:
    work = work or out / ".work"
    fp = _fingerprint(stage, paths, unit_lines, unit_bytes, fingerprint_extra)
    plan_file = work / "plan.json"
    same = False
    if work.exists() and not from_stdin:
        try:
            same = orjson.loads(plan_file.read_bytes()).get("fingerprint") == fp
        except (OSError, orjson.JSONDecodeError):
            same = False
    if work.exists() and not same:
        shutil.rmtree(work)
    units_dir = work / "units"
    units_dir.mkdir(parents=True, exist_ok=True)
    for leftover in units_dir.glob(".tmp-*"):  # a unit a killed run did not finish
        shutil.rmtree(leftover, ignore_errors=True)
    for unit in units_dir.iterdir():  # a finished unit always has its counters
        if unit.is_dir() and not (unit / "stats.json").exists():
            shutil.rmtree(unit, ignore_errors=True)
    if not plan_file.exists():
        write_json_atomic(str(plan_file), {"fingerprint": fp})

    n_workers = workers or os.cpu_count() or 1
    # A worker tokenises on one thread, whatever the number of workers (one worker included):
    # the workers are the parallelism. Threads of one process share tiktoken's regex caches (a
    # profile shows the regex crate's cache pool taking its locked path only with threads) and
    # hand the GIL back and forth: on 2 free cores, one worker on 2 threads spent 1.46x the CPU
    # a token of two one-thread workers (bench_tokenize_workers at commit f89c563: 0.38 against
    # 0.26 us), and kept 1.8 cores busy.
    if getattr(stage, "threads", 1) != 1:
        stage_1 = type(stage).from_options(**{**_options(stage), "threads": 1})
    else:
        stage_1 = stage
    task = TokenizeUnit(stage_1, strict=bad_records is None, source=source)
    own = executor is None
    ex = executor if executor is not None else get_executor("local", n_workers)
    cpu0, children0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    try:
        if own:
            ex.__enter__()
        keys, resumed, used = ex.map_units(units, task, units_dir, note or (lambda n, st: None))
    finally:
        if own:
            ex.__exit__(None, None, None)
    cpu_map, children_map = _cpu(resource.RUSAGE_SELF) - cpu0, _cpu(resource.RUSAGE_CHILDREN) - children0

    unit_stats = [orjson.loads((units_dir / k / "stats.json").read_bytes()) for k in keys]
    build = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=str(out)))
    try:
        manifest = stage.write_output([(k, units_dir / k) for k in keys], unit_stats, build)  # type: ignore[attr-defined]
        for entry in list(out.iterdir()):  # the previous result (the folder is ours: MARKER)
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in build.iterdir():
            os.replace(entry, out / entry.name)
        build.rmdir()
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    n_rej = _gather(keys, units_dir, UNIT_REJECTED, rejected)
    n_bad = _gather(keys, units_dir, UNIT_BAD, bad_records)
    read = ReadStats(files=0)
    seconds = 0.0
    for st in unit_stats:
        rd = st["read"]
        read.merge(ReadStats(files=rd["files"], lines=rd["lines"], records=rd["records"],
                             blank_lines=rd["blank_lines"], bytes=rd["bytes"], bad=Counter(rd["bad_records"])))
        seconds += st["seconds"]
    quarantined = sum(read.bad.values())
    rejected_total = manifest["rejected"]["records"]
    if n_rej not in (None, rejected_total) or n_bad not in (None, quarantined):  # pragma: no cover
        raise RuntimeError(f"tokenize: gathered {n_rej} rejected / {n_bad} bad lines, counted "
                           f"{rejected_total} / {quarantined} (a bug)")
    # CPU seconds (user + sys): this process in the map (with one worker, the map runs here) and
    # in the reduce, and the worker processes of a pool this run started (its children)
    cpu = {"main_map": round(cpu_map, 3), "main_reduce": round(_cpu(resource.RUSAGE_SELF) - cpu0 - cpu_map, 3),
           **({"workers": round(children_map, 3)} if own else {})}
    shard_bytes = sum(os.path.getsize(out / f) for s in manifest["shards"] for f in s["files"])
    n_in = read.records + quarantined
    stats = {
        "command": "tokenize",
        "input": read.as_dict(),
        "stages": [{"stage": "tokenize", "in": read.records, "kept": manifest["documents"],
                    "rejected": rejected_total, "reasons": manifest["rejected"]["reasons"],
                    "seconds": round(seconds, 3)}],
        "output": {"records": manifest["documents"], "bytes": shard_bytes, "folder": str(out),
                   "shards": len(manifest["shards"])},
        "tokens": {"documents": manifest["documents"], "tokens": manifest["tokens"],
                   "documents_approximate": manifest["documents_approximate"],
                   "sources": manifest["sources"]},
        "conservation": {"in": n_in, "kept": manifest["documents"], "rejected": rejected_total,
                         "quarantined": quarantined,
                         "ok": n_in == manifest["documents"] + rejected_total + quarantined},
        "run": {"units": len(keys), "resumed_units": resumed, "workers": used, "cpu_s": cpu},
        "rejected_path": rejected,
        "bad_records_path": bad_records,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if stats_path:
        write_json_atomic(stats_path, stats)
    shutil.rmtree(work, ignore_errors=True)
    return stats


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _options(stage: Stage) -> dict:
    return {f.name: getattr(stage, f.name) for f in stage.options()}


def _gather(keys: list[str], units_dir: Path, name: str, path: str | None) -> int | None:
    """The units' files `name`, in unit order, into `path` (None: only counted elsewhere)."""
    if not path:
        return None
    w = RecordWriter(path)
    try:
        for k in keys:
            f = units_dir / k / name
            if f.exists() and f.stat().st_size:
                for _, lines, _ in iter_line_batches(str(f)):
                    for line in lines:
                        w.write_raw(line)
        w.close()
    except BaseException:
        w.abort()
        raise
    return w.count
