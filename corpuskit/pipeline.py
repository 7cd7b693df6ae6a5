"""`corpuskit pipeline raw/ clean/`: every stage as one parallel, resumable run.

How a run goes:
1. Plan. The inputs are listed in sorted order and cut into *units*: consecutive lines of one
   file, at most `unit_lines` lines or `unit_bytes` bytes (the cut depends only on the data, so
   the same input always gives the same units).
2. Map (parallel). Each unit runs through the per-record stages (everything before the first
   whole-stream stage) in a worker process and is written to `clean/.work/units/NNNNN-NNNNNN/`
   (kept, rejected per stage, bad lines, counters), atomically: the folder is built under a
   temporary name and renamed when complete. A killed run, started again with the same inputs
   and configuration, reuses every finished unit.
3. Reduce (in order). The kept records of the units, in unit order, go through the whole-stream
   stages (dedup, statistics) and into `data/part-NNNNN` shards; rejected records and bad lines
   are gathered the same way; counters are merged.
4. Swap. The result is built in a temporary folder and moved into `clean/` when complete.

The output does not depend on the number of workers: units are cut from the data, processed
independently and gathered in order. It drives the same stage objects through the same `Chain`
as the subcommands, so a shell pipe of subcommands gives the same bytes (a test checks).

Layout of clean/:
    data/part-00000.jsonl.zst ...   kept records
    rejected/<stage>.jsonl.zst      dropped records, each with meta.rejected
    quarantine/bad_records.jsonl    input lines that were not valid records, verbatim
    stats.json, report.md           counters per stage and reason; conservation check
"""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import BadInput, UsageError
from .jsonl import ReadStats, RecordWriter, iter_line_batches, parse_lines, write_json_atomic
from .runner import Chain, StageStats
from .stage import (
    DEFAULT_PIPELINE,
    PIPELINE_STAGE_DEFAULTS,
    REGISTRY,
    RecordStage,
    Stage,
    get_stage_class,
    make_stage,
)

MARKER = ".corpuskit"
WORK = ".work"
_SUFFIX = {"zst": ".jsonl.zst", "gz": ".jsonl.gz", "none": ".jsonl"}
_UNIT_SUFFIX = ".jsonl.zst"  # intermediate files: fast zstd


@dataclass
class PipelineConfig:
    stages: list[str] = field(default_factory=lambda: list(DEFAULT_PIPELINE))
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    shard_size: int = 100_000  # records per output shard
    compression: str = "zst"
    strict: bool = False  # stop at the first bad input line instead of quarantining it
    workers: int = 0  # 0: one per CPU core
    unit_lines: int = 10_000
    unit_bytes: int = 64 * 1024 * 1024
    engine: str = "local"  # local (process pool) | ray (corpuskit.engine.ray_engine)
    ray_address: str | None = None  # None: start a local Ray; "auto" or ray://host:port: join one

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            raise UsageError(f"engine must be local or ray, not {self.engine!r}")
        if self.ray_address and self.engine != "ray":
            raise UsageError("a Ray address needs --engine ray")
        if self.compression not in _SUFFIX:
            raise UsageError(f"compression must be one of {', '.join(_SUFFIX)}, not {self.compression!r}")
        for name in ("shard_size", "unit_lines", "unit_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be >= 1")
        if self.workers < 0:
            raise UsageError("workers must be >= 0")
        if not self.stages:
            raise UsageError("the pipeline needs at least one stage")
        for name in list(self.stages) + list(self.options):
            if name not in REGISTRY:
                raise UsageError(f"unknown stage {name!r} (known: {', '.join(REGISTRY)})")

    def build(self) -> list[Stage]:
        """The chain. `fetch` (a source: it reads URL lists, WARC files and page folders) is not
        part of it; its options are used for the URL lists in raw/."""
        from .stage import SourceStage

        stages = [make_stage(n, **{**PIPELINE_STAGE_DEFAULTS.get(n, {}), **self.options.get(n, {})})
                  for n in self.stages]
        return [s for s in stages if not isinstance(s, SourceStage)]

    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def fingerprint(self) -> dict:
        """What the output depends on (workers and engine excluded: they do not change it, so
        a run killed on one engine resumes on the other)."""
        d = asdict(self)
        for k in ("workers", "engine", "ray_address"):
            d.pop(k)
        return d


# ---------------------------------------------------------------- units
@dataclass
class Unit:
    file_index: int
    index: int
    name: str  # the input file, for error messages
    first_line: int = 1
    lines: list[bytes] = field(default_factory=list)
    kind: str = "jsonl"  # jsonl | html (a group of page files) | warc (one WARC/WET file)
    paths: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.file_index:05d}-{self.index:06d}"


# ---------------------------------------------------------------- planning the inputs
URL_LIST_SUFFIXES = (".urls", ".urls.gz", ".txt", ".txt.gz")


def classify(path: str) -> str | None:
    """What kind of raw input a file is: jsonl, html, warc, urls, or None (not ours)."""
    from .jsonl import RECORD_SUFFIXES
    from .sources import is_html_path, is_warc_path, sniff_warc

    low = path.lower()
    if low.endswith(RECORD_SUFFIXES):
        return "jsonl"
    if is_warc_path(path):
        return "warc"
    if is_html_path(path):
        return "html"
    if low.endswith(URL_LIST_SUFFIXES):
        return "urls"
    if sniff_warc(path):
        return "warc"
    return None


def plan_inputs(raw: str | list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """([(path, kind)] in sorted order, [ignored files]). Folders are walked recursively;
    hidden entries are skipped. A path that does not exist is an error."""
    items = [raw] if isinstance(raw, str) else list(raw)
    planned: list[tuple[str, str]] = []
    ignored: list[str] = []
    for item in items:
        if "://" in item:  # a remote folder or file (corpuskit.remote, through fsspec)
            from .remote import plan_remote

            got, skipped = plan_remote(item)
            planned += got
            ignored += skipped
            continue
        p = Path(item)
        if not p.exists():
            raise BadInput(item, None, "not_found", "no such file or directory")
        files = [p] if p.is_file() else sorted(
            (f for f in p.rglob("*") if f.is_file()
             and not any(part.startswith(".") for part in f.relative_to(p).parts)), key=str)
        for f in files:
            kind = classify(str(f))
            if kind is None:
                ignored.append(str(f))
            else:
                planned.append((str(f), kind))
    return planned, ignored


def iter_units(plan: list[tuple[str, str]], max_lines: int, max_bytes: int) -> Iterator[Unit]:
    """Cut the inputs into units (see the module doc). Page files that follow each other in
    the plan are grouped, up to `max_lines` files or `max_bytes` bytes a unit."""
    group: list[str] = []
    group_size = 0
    group_fi = 0
    group_ui = 0

    def flush() -> Iterator[Unit]:
        nonlocal group, group_size, group_ui
        if group:
            yield Unit(group_fi, group_ui, group[0], kind="html", paths=group)
            group_ui += 1
            group, group_size = [], 0

    for fi, (path, kind) in enumerate(plan):
        if kind == "html":
            size = os.path.getsize(path)
            if group and (len(group) >= max_lines or group_size + size > max_bytes):
                yield from flush()
            if not group and group_ui == 0:  # the first page file of a run of them names the run
                group_fi = fi
            group.append(path)
            group_size += size
            continue
        yield from flush()
        group_ui = 0
        if kind == "warc":
            yield Unit(fi, 0, path, kind="warc", paths=[path])
            continue
        ui = 0
        buf: list[bytes] = []
        size = 0
        first = 1
        line_no = 1
        for _, lines, _ in iter_line_batches(path):
            for line in lines:
                if buf and (len(buf) >= max_lines or size + len(line) > max_bytes):
                    yield Unit(fi, ui, path, first, buf)
                    ui += 1
                    buf, size, first = [], 0, line_no
                buf.append(line)
                size += len(line) + 1
                line_no += 1
        if buf:
            yield Unit(fi, ui, path, first, buf)
    yield from flush()


# ---------------------------------------------------------------- the worker side
_W: dict[str, Any] = {}


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a killed run (kill -9 leaves no chance to stop the pool): ask
    Linux to kill it when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _init_worker(stages: list[Stage], cfg: PipelineConfig, units_dir: str, parent: int | None = None) -> None:
    if parent is not None:
        _die_with_parent(parent)
    _W["stages"] = stages
    _W["cfg"] = cfg
    _W["units"] = Path(units_dir)


def _run_unit(unit: Unit) -> dict:
    """Run the per-record stages over one unit and write its folder atomically."""
    stages: list[Stage] = _W["stages"]
    cfg: PipelineConfig = _W["cfg"]
    units: Path = _W["units"]
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{unit.key}-", dir=str(units)))
    try:
        rs = ReadStats(files=1 if unit.index == 0 else 0, lines=len(unit.lines),
                       bytes=sum(len(x) + 1 for x in unit.lines))
        kept = RecordWriter(str(tmp / f"kept{_UNIT_SUFFIX}"), atomic=False)
        rejected: dict[str, RecordWriter] = {}
        bad = RecordWriter(str(tmp / "bad.jsonl"), atomic=False)

        def on_reject(rec: dict) -> None:
            st = rec["meta"]["rejected"]["stage"]
            w = rejected.get(st)
            if w is None:
                w = rejected[st] = RecordWriter(str(tmp / f"rejected.{st}{_UNIT_SUFFIX}"), atomic=False)
            w.write(rec)

        first = stages[0]
        source = {"in": 0, "kept": 0, "reasons": {}}
        if unit.kind == "jsonl":
            records = parse_lines(unit.name, unit.first_line, unit.lines, rs, first.required_field(),
                                  first.text_field,
                                  None if cfg.strict else (lambda line, err: bad.write_raw(line)))
        else:
            records = _source_records(unit, rs, source, on_reject)
        chain = Chain(stages, on_reject=on_reject)
        for rec in chain.run(records):
            kept.write(rec)
        kept.close()
        bad.close()
        for w in rejected.values():
            w.close()
        stats = {"read": {**rs.as_dict(), "bad_records": dict(rs.bad)}, "source": source,
                 "stages": [s.as_dict() | {"seconds": s.seconds} for s in chain.stats],
                 "kept": kept.count, "kept_bytes": kept.bytes,
                 "rejected_bytes": {k: w.bytes for k, w in rejected.items()}}
        (tmp / "stats.json").write_bytes(orjson.dumps(stats))
        final = units / unit.key
        if final.exists():  # another attempt finished first; results are identical
            shutil.rmtree(tmp)
        else:
            os.rename(tmp, final)
        return stats
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _source_records(unit: Unit, rs: ReadStats, source: dict, on_reject: Callable[[dict], None]) -> Iterator[dict]:
    """Page records from HTML files or a WARC file; what the reader rejects (a page too large,
    a non-HTML response) goes to the rejected stream under the stage name `fetch`, the stage that
    reads these inputs on the command line."""
    from .runner import mark_rejected
    from .sources import html_file_record, iter_warc
    from .stage import Rejected

    items: Iterator[Any]
    if unit.kind == "html":
        items = (html_file_record(Path(p)) for p in unit.paths)
        rs.bytes = sum(os.path.getsize(p) for p in unit.paths)
    else:
        items = iter_warc(unit.paths[0])
        rs.bytes = os.path.getsize(unit.paths[0])
    reasons: Counter = Counter()
    for item in items:
        source["in"] += 1
        if item.__class__ is Rejected:
            reasons[item.rejection.reason] += 1
            on_reject(mark_rejected(item.record, "fetch", item.rejection))
            continue
        source["kept"] += 1
        rs.records += 1
        yield item
    source["reasons"] = dict(reasons)


# ---------------------------------------------------------------- writers
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

    def _next(self) -> RecordWriter:
        if self._w is None or self._w.count >= self.shard_size:
            self._rotate()
        return self._w  # type: ignore[return-value]

    def write(self, record: dict) -> None:
        self._next().write(record)
        self.count += 1

    def write_raw(self, line: bytes) -> None:
        self._next().write_raw(line)
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


class _RejectedWriters:
    def __init__(self, folder: Path, suffix: str):
        self.folder = folder
        self.suffix = suffix
        self.writers: dict[str, RecordWriter] = {}

    def get(self, stage: str) -> RecordWriter:
        w = self.writers.get(stage)
        if w is None:
            w = self.writers[stage] = RecordWriter(str(self.folder / f"{stage}{self.suffix}"), atomic=False)
        return w

    def write(self, record: dict) -> None:
        self.get(record["meta"]["rejected"]["stage"]).write(record)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def _raw_lines(path: Path) -> Iterator[bytes]:
    for _, lines, _ in iter_line_batches(str(path)):
        yield from lines


# ---------------------------------------------------------------- the run
def _check_clean_dir(clean: Path) -> None:
    if clean.exists() and not clean.is_dir():
        raise UsageError(f"{clean}: exists and is not a folder")
    if clean.is_dir() and any(clean.iterdir()) and not (clean / MARKER).exists():
        raise UsageError(f"{clean}: folder is not empty and was not written by corpuskit "
                         "(refusing to overwrite it)")


def _fingerprint(cfg: PipelineConfig, paths: list[str]) -> str:
    files = []
    for p in paths:
        if "://" in p:
            from .remote import remote_stat

            files.append(remote_stat(p))
            continue
        st = os.stat(p)
        files.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    blob = orjson.dumps({"config": cfg.fingerprint(), "files": files}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


def _prepare_work(clean: Path, fingerprint: str) -> Path:
    """clean/.work for this configuration and input: reused if it matches, else started anew."""
    work = clean / WORK
    plan = work / "plan.json"
    if work.exists():
        try:
            same = orjson.loads(plan.read_bytes()).get("fingerprint") == fingerprint
        except (OSError, orjson.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(work)
    (work / "units").mkdir(parents=True, exist_ok=True)
    for leftover in (work / "units").glob(".tmp-*"):  # a unit a killed run did not finish
        shutil.rmtree(leftover, ignore_errors=True)
    if not plan.exists():
        write_json_atomic(str(plan), {"fingerprint": fingerprint})
    return work


def split_stages(stages: list[Stage]) -> tuple[list[Stage], list[Stage]]:
    """(per-record prefix run in the workers, the rest run in order in the main process)."""
    i = 0
    while i < len(stages) and isinstance(stages[i], RecordStage):
        i += 1
    return stages[:i], stages[i:]


def run_pipeline(raw: str | list[str], clean: str, config: PipelineConfig | None = None,
                 progress: Callable[[dict], None] | None = None) -> dict:
    """Run the pipeline; returns the stats dict (also written to clean/stats.json).
    `progress(event)` is called as units finish, with {"phase", "units", "bytes", "seconds",
    "stages": [{stage, in, kept, rejected}]} (running totals over the finished units)."""
    cfg = config or PipelineConfig()
    if "://" in clean:  # built in a local staging folder, then uploaded (corpuskit.remote)
        from .remote import run_to_remote

        return run_to_remote(raw, clean, cfg, progress, run_pipeline)
    if cfg.engine != "ray":
        return _run(raw, clean, cfg, progress, None)
    from .engine.ray_engine import RaySession  # imported here only: the local engine never imports Ray

    with RaySession(cfg) as session:
        return _run(raw, clean, cfg, progress, session)


def _run(raw: str | list[str], clean: str, cfg: PipelineConfig,
         progress: Callable[[str, int, int], None] | None, session: Any) -> dict:
    stages = cfg.build()
    mapped, streamed = split_stages(stages)
    if session is not None:
        session.lend_executors(streamed)
    if not mapped:
        raise UsageError("the pipeline's first stage must be a per-record stage")
    clean_p = Path(clean)
    _check_clean_dir(clean_p)
    plan, ignored = plan_inputs(raw)
    if not plan:
        raise UsageError(f"{raw}: no inputs found (JSONL records, .html/.htm pages, WARC/WET files "
                         "or .urls/.txt URL lists)")
    clean_p.mkdir(parents=True, exist_ok=True)
    (clean_p / MARKER).write_text("written by corpuskit pipeline\n")
    t0 = time.perf_counter()
    work = _prepare_work(clean_p, _fingerprint(cfg, [p for p, _ in plan]))
    units_dir = work / "units"

    # ---- URL lists are fetched first (I/O bound, one async crawler), resumably
    url_files = [p for p, k in plan if k == "urls"]
    fetch_stats = StageStats("fetch")
    if url_files:
        fetched = _fetch_urls(url_files, work, cfg, fetch_stats)
        first_url = next(i for i, (_, k) in enumerate(plan) if k == "urls")
        plan = [(p, k) for p, k in plan if k != "urls"]
        plan.insert(min(first_url, len(plan)), (str(fetched), "jsonl"))
    sources_used = bool(url_files) or any(k in ("html", "warc") for _, k in plan)

    # ---- map
    unit_keys: list[str] = []
    resumed = 0
    workers = cfg.n_workers()
    done = 0

    live = [StageStats(s.name) for s in mapped]
    live_bytes = [0]

    def note(n: int, unit_stats: dict | None) -> None:
        if progress is None:
            return
        if unit_stats is not None:
            live_bytes[0] += unit_stats["read"]["bytes"]
            for s, d in zip(live, unit_stats["stages"]):
                s.merge(d)
        progress({"phase": "map", "units": n, "bytes": live_bytes[0], "seconds": time.perf_counter() - t0,
                  "stages": [{"stage": s.stage, "in": s.seen, "kept": s.kept, "rejected": s.n_rejected}
                             for s in live]})

    def finished(key: str) -> dict | None:  # a reused unit's counters, for the progress display
        if progress is None:
            return None
        return orjson.loads((units_dir / key / "stats.json").read_bytes())

    if session is not None:
        unit_keys, resumed, workers = session.map_units(
            iter_units(plan, cfg.unit_lines, cfg.unit_bytes), mapped, cfg, units_dir, note)
    elif workers == 1:
        _init_worker(mapped, cfg, str(units_dir))
        for unit in iter_units(plan, cfg.unit_lines, cfg.unit_bytes):
            unit_keys.append(unit.key)
            if (units_dir / unit.key).exists():
                resumed += 1
                ust = finished(unit.key)
            else:
                ust = _run_unit(unit)
            done += 1
            note(done, ust)
    else:
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(mapped, cfg, str(units_dir), os.getpid())) as pool:
            window: deque = deque()
            for unit in iter_units(plan, cfg.unit_lines, cfg.unit_bytes):
                unit_keys.append(unit.key)
                if (units_dir / unit.key).exists():
                    resumed += 1
                    done += 1
                    note(done, finished(unit.key))
                    continue
                window.append(pool.apply_async(_run_unit, (unit,)))
                while len(window) >= 2 * workers:  # bounded: memory does not grow with the input
                    ust = window.popleft().get()
                    done += 1
                    note(done, ust)
            while window:
                ust = window.popleft().get()
                done += 1
                note(done, ust)
    if progress is not None:
        progress({"phase": "reduce", "units": done, "bytes": live_bytes[0],
                  "seconds": time.perf_counter() - t0, "stages": []})

    # ---- reduce
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=str(clean_p)))
    try:
        for sub in ("data", "rejected", "quarantine"):
            (build / sub).mkdir()
        suffix = _SUFFIX[cfg.compression]
        out = ShardWriter(build / "data", cfg.shard_size, suffix)
        rej = _RejectedWriters(build / "rejected", suffix)
        bad = RecordWriter(str(build / "quarantine" / "bad_records.jsonl"), atomic=False)
        read = ReadStats(files=len(plan) + len(url_files) - (1 if url_files else 0))
        stage_stats = [StageStats(s.name) for s in stages]
        for key in unit_keys:
            st = orjson.loads((units_dir / key / "stats.json").read_bytes())
            src = st["source"]
            if src["in"]:
                fetch_stats.merge({"in": src["in"], "kept": src["kept"], "reasons": src["reasons"]})
            rd = st["read"]
            read.merge(ReadStats(files=0, lines=rd["lines"], records=rd["records"],
                                 blank_lines=rd["blank_lines"], bytes=rd["bytes"],
                                 bad=Counter(rd["bad_records"])))
            for s, d in zip(stage_stats, st["stages"]):
                s.merge(d)
        # sample a few rejected records per stage and reason for the report while copying
        samples: dict[str, dict[str, list[dict]]] = {}
        wanted = {s.stage: set(s.rejected) for s in stage_stats}
        for key in unit_keys:
            u = units_dir / key
            for f in sorted(u.glob(f"rejected.*{_UNIT_SUFFIX}")):
                stage_name = f.name[len("rejected."):-len(_UNIT_SUFFIX)]
                w = rej.get(stage_name)
                for line in _raw_lines(f):
                    w.write_raw(line)
                    if wanted.get(stage_name):
                        _take_sample(samples, wanted, stage_name, orjson.loads(line))
            if (u / "bad.jsonl").stat().st_size:
                for line in _raw_lines(u / "bad.jsonl"):
                    bad.write_raw(line)

        def kept_records() -> Iterator[dict]:
            for key in unit_keys:
                for line in _raw_lines(units_dir / key / f"kept{_UNIT_SUFFIX}"):
                    yield orjson.loads(line)

        if streamed:
            def on_stream_reject(rec: dict) -> None:
                rej.write(rec)
                st_name = rec["meta"]["rejected"]["stage"]
                wanted.setdefault(st_name, set()).add(rec["meta"]["rejected"]["reason"])
                _take_sample(samples, wanted, st_name, rec)

            chain = Chain(streamed, on_reject=on_stream_reject)
            for rec in chain.run(kept_records()):
                out.write(rec)
            for s, cs in zip(stage_stats[len(mapped):], chain.stats):
                s.merge(cs)
                s.extra.update(cs.extra)
        else:
            for key in unit_keys:
                for line in _raw_lines(units_dir / key / f"kept{_UNIT_SUFFIX}"):
                    out.write_raw(line)
        out.close()
        rej.close()
        bad.close()
        if not bad.count:
            (build / "quarantine" / "bad_records.jsonl").unlink()
        if sources_used:
            stage_stats.insert(0, fetch_stats)
            if url_files:  # the fetcher's rejections, gathered like the units' ones
                wanted.setdefault("fetch", set()).update(fetch_stats.rejected)
                rej_file = work / "fetched.rejected.jsonl"
                if rej_file.exists():
                    w = rej.get("fetch")
                    for line in _raw_lines(rej_file):
                        w.write_raw(line)
                        if wanted.get("fetch"):
                            _take_sample(samples, wanted, "fetch", orjson.loads(line))
        stats = _stats(cfg, read, stage_stats, out, rej, time.perf_counter() - t0, len(unit_keys),
                       resumed, workers)
        if session is not None:  # what the Ray side measured (not part of the output)
            stats["run"]["ray"] = session.report()
        stats["input"]["ignored_files"] = ignored
        stats["rejected_path"] = str(clean_p / "rejected")
        stats["bad_records_path"] = str(clean_p / "quarantine" / "bad_records.jsonl")
        write_json_atomic(str(build / "stats.json"), stats)
        (build / "report.md").write_text(render_report_md(stats), encoding="utf-8")
        from .pipeline_report import render_report_html

        (build / "report.html").write_text(render_report_html(stats, samples), encoding="utf-8")
        _swap_into_place(build, clean_p)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return stats


def _fetch_urls(url_files: list[str], work: Path, cfg: PipelineConfig, st: StageStats) -> Path:
    """Fetch every URL of the URL lists into work/fetched.jsonl (rejections beside it),
    appending and flushing as it goes: a killed run resumes and fetches nothing twice."""
    from .runner import mark_rejected
    from .stage import Rejected
    from .stages.fetch import Fetch

    fetched, rejected = work / "fetched.jsonl", work / "fetched.rejected.jsonl"
    done = work / "fetched.done.json"
    if not done.exists():
        stage = Fetch.from_options(**cfg.options.get("fetch", {}))
        stage.prepare_resume(str(fetched), str(rejected))
        last = time.monotonic()
        with open(fetched, "ab") as out, open(rejected, "ab") as rej:
            for item in stage.read(url_files):
                if item.__class__ is Rejected:
                    rej.write(orjson.dumps(mark_rejected(item.record, "fetch", item.rejection),
                                           option=orjson.OPT_APPEND_NEWLINE))
                else:
                    out.write(orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE))
                if time.monotonic() - last > 1.0:
                    out.flush()
                    rej.flush()
                    last = time.monotonic()
        reasons: Counter = Counter()
        for line in _raw_lines(rejected) if rejected.stat().st_size else ():
            reasons[orjson.loads(line)["meta"]["rejected"]["reason"]] += 1
        n_pages = sum(1 for _ in _raw_lines(fetched)) if fetched.stat().st_size else 0
        write_json_atomic(str(done), {"pages": n_pages, "reasons": dict(reasons)})
    d = orjson.loads(done.read_bytes())
    n_rej = sum(d["reasons"].values())
    st.merge({"in": d["pages"] + n_rej, "kept": d["pages"], "reasons": d["reasons"]})
    return fetched


SAMPLES_PER_REASON = 3


def _take_sample(samples: dict, wanted: dict, stage: str, record: dict) -> None:
    from .pipeline_report import sample_rejected

    reason = record["meta"]["rejected"]["reason"]
    got = samples.setdefault(stage, {}).setdefault(reason, [])
    if len(got) < SAMPLES_PER_REASON:
        got.append(sample_rejected(record))
        if len(got) == SAMPLES_PER_REASON:
            wanted[stage].discard(reason)


def _stats(cfg: PipelineConfig, read: ReadStats, stage_stats: list[StageStats], out: ShardWriter,
           rej: _RejectedWriters, seconds: float, n_units: int, resumed: int, workers: int) -> dict:
    quarantined = sum(read.bad.values())
    fetch_rejected = sum(s.n_rejected for s in stage_stats if s.stage == "fetch")
    n_in = read.records + fetch_rejected + quarantined
    n_rej = sum(s.n_rejected for s in stage_stats)
    stages = []
    for s in stage_stats:
        d = s.as_dict()
        d["seconds"] = round(s.seconds, 3)
        stages.append(d)
    return {
        "command": "pipeline",
        "input": read.as_dict(),
        "stages": stages,
        "output": {"records": out.count, "bytes": out.bytes, "shards": [f"data/{s}" for s in out.shards],
                   "rejected_bytes": {k: w.bytes for k, w in rej.writers.items()}},
        "conservation": {"in": n_in, "kept": out.count, "rejected": n_rej, "quarantined": quarantined,
                         "ok": n_in == out.count + n_rej + quarantined},
        "run": {"units": n_units, "resumed_units": resumed, "workers": workers, "engine": cfg.engine},
        "config": {"stages": cfg.stages, "options": cfg.options, "shard_size": cfg.shard_size,
                   "compression": cfg.compression},
        "seconds": round(seconds, 3),
    }


def _swap_into_place(build: Path, clean: Path) -> None:
    """Replace the previous result with the new one (each entry renamed into place)."""
    for name in {"data", "rejected", "quarantine", "stats.json", "report.md", "report.html"} | {
            e.name for e in build.iterdir()}:
        stale = clean / name
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    for entry in build.iterdir():
        os.replace(entry, clean / entry.name)
    build.rmdir()


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
    run = stats.get("run", {})
    lines += ["", f"Output: {len(stats['output'].get('shards', []))} shard(s) in data/, "
              f"{stats['seconds']:.1f} s, {run.get('workers', 1)} worker(s), {run.get('units', 0)} unit(s)"
              + (f" ({run['resumed_units']} reused from an interrupted run)" if run.get("resumed_units") else "")
              + "."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- config files
def load_config(path: str) -> PipelineConfig:
    """Read corpuskit.toml: [pipeline] keys and [stages.NAME] option tables, validated."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: invalid TOML ({e})") from None
    unknown = set(data) - {"pipeline", "stages"}
    if unknown:
        raise UsageError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}")
    pl = dict(data.get("pipeline", {}))
    known = {"stages", "shard_size", "compression", "strict", "workers", "unit_lines", "unit_bytes",
             "engine", "ray_address"}
    bad = set(pl) - known
    if bad:
        raise UsageError(f"{path}: [pipeline] has no option(s) {', '.join(sorted(bad))} "
                         f"(options: {', '.join(sorted(known))})")
    for k in ("shard_size", "workers", "unit_lines", "unit_bytes"):
        if k in pl and (not isinstance(pl[k], int) or isinstance(pl[k], bool)):
            raise UsageError(f"{path}: [pipeline] {k} must be an integer, not {pl[k]!r}")
    for k in ("engine", "ray_address", "compression"):
        if k in pl and not isinstance(pl[k], str):
            raise UsageError(f"{path}: [pipeline] {k} must be a string, not {pl[k]!r}")
    if "stages" in pl and (not isinstance(pl["stages"], list)
                           or not all(isinstance(s, str) for s in pl["stages"])):
        raise UsageError(f"{path}: [pipeline] stages must be a list of stage names")
    options: dict[str, dict] = {}
    for name, opts in data.get("stages", {}).items():
        if name not in REGISTRY:
            raise UsageError(f"{path}: [stages.{name}]: unknown stage (known: {', '.join(REGISTRY)})")
        if not isinstance(opts, dict):
            raise UsageError(f"{path}: [stages.{name}] must be a table")
        options[name] = validate_options(get_stage_class(name), opts, where=f"{path}: [stages.{name}]")
    return PipelineConfig(options=options, **pl)


def validate_options(cls: type[Stage], opts: dict, where: str) -> dict:
    """Check option names and types against the stage's dataclass fields."""
    import typing

    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in cls.options()}
    out = {}
    for key, value in opts.items():
        name = key.replace("-", "_")
        if name not in fields:
            raise UsageError(f"{where}: unknown option {key!r} (options: {', '.join(fields)})")
        tp = hints[name]
        origin = typing.get_origin(tp)
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        base = args[0] if origin is not None and len(args) == 1 and origin is not list else tp
        ok = True
        if base is bool:
            ok = isinstance(value, bool)
        elif base is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif base is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif base is str:
            ok = isinstance(value, str)
        elif typing.get_origin(base) is list or base is list:
            ok = isinstance(value, list)
        elif typing.get_origin(base) is typing.Literal:
            ok = value in typing.get_args(base)
        if value is None and type(None) in typing.get_args(tp):
            ok = True
        if not ok:
            raise UsageError(f"{where}: option {key!r} must be {_type_name(tp)}, not {value!r}")
        out[name] = value
    try:
        cls(**out)
    except (TypeError, ValueError) as e:
        raise UsageError(f"{where}: {e}") from None
    return out


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def print_config(stage_names: list[str] | None = None) -> str:
    """A complete corpuskit.toml: every stage and option, with defaults and help as comments."""
    import dataclasses

    names = stage_names or list(DEFAULT_PIPELINE)
    d = PipelineConfig(stages=names)
    out = ["# corpuskit.toml: every pipeline setting and stage option, with its default.",
           "# Generated by `corpuskit pipeline --print-config`; delete what you do not change.", "",
           "[pipeline]", f"stages = {_toml(names)}",
           f"shard_size = {d.shard_size}  # records per output shard",
           f'compression = "{d.compression}"  # zst | gz | none',
           "strict = false  # stop at the first bad input line instead of quarantining it",
           "workers = 0  # 0: one per CPU core; the output does not depend on it",
           f"unit_lines = {d.unit_lines}  # lines per unit of work (and of resumption)",
           f"unit_bytes = {d.unit_bytes}  # bytes per unit of work, at most",
           'engine = "local"  # local | ray (pip install \'corpuskit[ray]\'); the output does not depend on it',
           '# ray_address = "auto"  # join a running Ray cluster (default: start a local one)', ""]
    for name in REGISTRY:
        cls = get_stage_class(name)
        opts = cls.options()
        if not opts:
            continue
        out.append(f"[stages.{name}]" + ("" if name in names else "  # not in the default chain"))
        for f in opts:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            help_ = f.metadata.get("help", "")
            if f.name in PIPELINE_STAGE_DEFAULTS.get(name, {}):
                default = PIPELINE_STAGE_DEFAULTS[name][f.name]
                help_ += " (the pipeline's default)"
            if default is None:
                out.append(f"# {f.name} =   # {help_} (default: unset)")
            else:
                out.append(f"{f.name} = {_toml(default)}  # {help_}")
        out.append("")
    return "\n".join(out)


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return orjson.dumps(v).decode()
    if isinstance(v, (list, tuple, set)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


# re-exported for callers that catch input errors
__all__ = ["PipelineConfig", "run_pipeline", "load_config", "print_config", "BadInput"]
