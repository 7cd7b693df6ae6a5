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
    data/part-00000.jsonl.zst ...   kept records (part-00000.parquet ... with format = parquet)
    rejected/<stage>.jsonl.zst      dropped records, each with meta.rejected
    quarantine/bad_records.jsonl    input lines that were not valid records, verbatim
    stats.json, report.md           counters per stage and reason; conservation check
    tokens/                         with [tokenize]: token shards of the kept records + manifest.json
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from corpuskit.core.chain import Chain, StageStats, mark_rejected
from corpuskit.core.errors import UsageError
from corpuskit.core.owner import RunLock
from corpuskit.core.stage import RecordStage, Rejected, Stage
from corpuskit.engine import Executor, get_executor
from corpuskit.io import remote
from corpuskit.io.columnar import ParquetRecordWriter
from corpuskit.io.jsonl import (
    ReadStats,
    RecordWriter,
    handed_lines,
    iter_line_batches,
    loads_handed,
    write_json_atomic,
)
from corpuskit.pipeline.config import SUFFIX, PipelineConfig
from corpuskit.pipeline.plan import iter_units, plan_inputs
from corpuskit.pipeline.profile import Profile, example, summarize
from corpuskit.pipeline.remote import run_to_remote
from corpuskit.pipeline.report import (
    add_kept_snippets,
    render_report_html,
    render_report_md,
    sample_rejected,
    snippet,
    write_stage_reports,
)
from corpuskit.pipeline.state import (
    BUILD_PREFIX,
    LOCK,
    MARKER,
    check_clean_dir,
    clean_leftovers,
    fingerprint,
    prepare_work,
    swap_into_place,
)
from corpuskit.pipeline.tokenize import run_tokenize
from corpuskit.pipeline.worker import UNIT_SUFFIX, UnitRunner, big_fields
from corpuskit.registry import get_stage_class, make_stage


class ShardWriter:
    """Kept records into part-NNNNN files of at most `shard_size` records. Parquet shards (a
    `.parquet` suffix) share one schema: the first shard's, fixed by its first row group."""

    def __init__(self, folder: Path, shard_size: int, suffix: str, big: tuple[str, ...] = ("text",)):
        self.folder = folder
        self.big = big  # the fields that may hold a huge string (RecordWriter's big_fields)
        self.shard_size = shard_size
        self.suffix = suffix
        self.count = 0
        self.bytes = 0
        self.shards: list[str] = []
        self._w: RecordWriter | ParquetRecordWriter | None = None
        self._schema = None

    def _next(self) -> RecordWriter:
        if self._w is None or self._w.count >= self.shard_size:
            self._rotate()
        return self._w  # type: ignore[return-value]

    def write(self, record: dict) -> None:
        self._next().write(record)
        self.count += 1

    def write_raw(self, line: bytes) -> None:
        w = self._next()
        if isinstance(w, ParquetRecordWriter):
            w.write(loads_handed([line]))  # a record again (exact integers), for its columns
        else:
            w.write_raw(line)
        self.count += 1

    def _rotate(self) -> None:
        self.close()
        name = f"part-{len(self.shards):05d}{self.suffix}"
        self.shards.append(name)
        if self.suffix == ".parquet":
            self._w = ParquetRecordWriter(str(self.folder / name), schema=self._schema)
        else:
            self._w = RecordWriter(str(self.folder / name), atomic=False, big_fields=self.big)

    def close(self) -> None:
        if self._w is not None:
            self._w.close()
            self.bytes += self._w.bytes
            if isinstance(self._w, ParquetRecordWriter):
                self._schema = self._w.schema
            self._w = None


class RejectedWriters:
    def __init__(self, folder: Path, suffix: str, big: tuple[str, ...] = ("text",)):
        self.folder = folder
        self.suffix = suffix
        self.big = big
        self.writers: dict[str, RecordWriter] = {}

    def get(self, stage: str) -> RecordWriter:
        w = self.writers.get(stage)
        if w is None:
            w = self.writers[stage] = RecordWriter(str(self.folder / f"{stage}{self.suffix}"), atomic=False,
                                                   big_fields=self.big)
        return w

    def write(self, record: dict) -> None:
        self.get(record["meta"]["rejected"]["stage"]).write(record)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def _raw_lines(path: Path) -> Iterator[bytes]:
    for _, lines, _ in iter_line_batches(str(path)):
        yield from lines


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
    if remote.is_url(clean):  # built in a local staging folder, then uploaded
        return run_to_remote(raw, clean, cfg, progress, run_pipeline)
    with get_executor(cfg.engine, cfg.workers, cfg.ray_address) as executor:
        return _run(raw, clean, cfg, progress, executor)


def is_up_to_date(raw: str | list[str], clean: str, config: PipelineConfig | None = None) -> bool:
    """True when `clean` holds a finished run over the same inputs (the same files, by path,
    size and modification time, none added or removed) with the same configuration: what
    `pipeline --if-changed` (and so `make dataset`) checks before running."""
    cfg = config or PipelineConfig()
    clean_p = Path(clean)
    if remote.is_url(clean) or not (clean_p / MARKER).is_file() or not (clean_p / "stats.json").is_file():
        return False
    plan, _ = plan_inputs(raw, exclude=clean)  # as the run plans them: CLEAN inside RAW excluded
    if not plan:
        return False
    try:
        done = orjson.loads((clean_p / "stats.json").read_bytes()).get("run", {}).get("fingerprint")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return False
    return done == fingerprint(cfg, [p for p, _ in plan])


def _run(raw: str | list[str], clean: str, cfg: PipelineConfig,
         progress: Callable[[dict], None] | None, executor: Executor) -> dict:
    stages = cfg.build()
    for stage in stages:  # dedup's --index goes into place with clean/, not before it
        stage.hold_files()
    mapped, streamed = split_stages(stages)
    executor.lend(streamed)
    if not mapped:
        raise UsageError("the pipeline's first stage must be a per-record stage")
    clean_p = Path(clean)
    check_clean_dir(clean_p)
    excluded: list[str] = []
    plan, ignored = plan_inputs(raw, exclude=clean, excluded=excluded)
    if not plan:
        raise UsageError(f"{raw}: no inputs found (JSONL records, Parquet or Arrow files, .html/.htm "
                         "pages, WARC/WET files or .urls/.txt URL lists)")
    clean_p.mkdir(parents=True, exist_ok=True)
    (clean_p / MARKER).write_text("written by corpuskit pipeline\n")
    # one run at a time per output folder; what a killed run left is cleaned up under the lock
    with RunLock(str(clean_p / LOCK), str(clean_p)) as lock:
        leftovers = clean_leftovers(clean_p)
        recovered = {"lock_of": lock.taken_over, "removed": leftovers} \
            if lock.taken_over is not None or leftovers else None
        return _run_locked(clean_p, plan, ignored, excluded, stages, mapped, streamed, cfg, progress,
                           executor, recovered)


def _run_locked(clean_p: Path, plan: list[tuple[str, str]], ignored: list[str], excluded: list[str],
                stages: list[Stage], mapped: list[Stage], streamed: list[Stage], cfg: PipelineConfig,
                progress: Callable[[dict], None] | None, executor: Executor,
                recovered: dict | None) -> dict:
    t0 = time.perf_counter()
    fp = fingerprint(cfg, [p for p, _ in plan])
    work = prepare_work(clean_p, fp)
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
    done = 0
    live = [StageStats(s.name) for s in mapped]
    live_bytes = [0]

    def note(n: int, unit_stats: dict | None) -> None:
        nonlocal done
        done = n
        if progress is None:
            return
        if unit_stats is not None:
            live_bytes[0] += unit_stats["read"]["bytes"]
            for s, d in zip(live, unit_stats["stages"]):
                s.merge(d)
        progress({"phase": "map", "units": n, "bytes": live_bytes[0], "seconds": time.perf_counter() - t0,
                  "stages": [{"stage": s.stage, "in": s.seen, "kept": s.kept, "rejected": s.n_rejected}
                             for s in live]})

    unit_keys, resumed, workers = executor.map_units(
        iter_units(plan, cfg.unit_lines, cfg.unit_bytes, cfg.limit), UnitRunner(mapped, cfg.strict, profile_output=not streamed), units_dir, note)
    if progress is not None:
        progress({"phase": "reduce", "units": done, "bytes": live_bytes[0],
                  "seconds": time.perf_counter() - t0, "stages": []})

    # ---- reduce
    build = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{os.getpid()}-", dir=str(clean_p)))
    try:
        for sub in ("data", "rejected", "quarantine"):
            (build / sub).mkdir()
        suffix = SUFFIX[cfg.compression]
        big = big_fields(mapped[0])  # a huge text is written in parts, as in the units
        out = ShardWriter(build / "data", cfg.shard_size, ".parquet" if cfg.format == "parquet" else suffix, big)
        rej = RejectedWriters(build / "rejected", suffix, big)
        bad = RecordWriter(str(build / "quarantine" / "bad_records.jsonl"), atomic=False)
        read = ReadStats(files=len(plan) + len(url_files) - (1 if url_files else 0))
        stage_stats = [StageStats(s.name) for s in stages]
        warc_skipped: Counter = Counter()  # WARC records that are not pages, by type
        bad_files: list[dict] = []  # inputs that could not be read to their end (keep going)
        # the report's profile: the units' counters added up, in unit order
        prof: Profile | None = Profile(len(stages), mapped[0].text_field,
                                       getattr(mapped[0], "html_field", "html"))
        for key in unit_keys:
            st = orjson.loads((units_dir / key / "stats.json").read_bytes())
            src = st["source"]
            if src["in"]:
                fetch_stats.merge({"in": src["in"], "kept": src["kept"], "reasons": src["reasons"]})
            warc_skipped.update({k.removeprefix("warc_"): v for k, v in src.get("skipped", {}).items()})
            bad_files += st.get("bad_files", [])
            rd = st["read"]
            read.merge(ReadStats(files=0, lines=rd["lines"], records=rd["records"],
                                 blank_lines=rd["blank_lines"], bytes=rd["bytes"],
                                 bad=Counter(rd["bad_records"])))
            for s, d in zip(stage_stats, st["stages"]):
                s.merge(d)
            if prof is not None and "profile" in st:
                prof.merge(st["profile"], output=not streamed)
            else:  # a unit an older version wrote: no profile for this run
                prof = None
        # sample a few rejected records per stage and reason for the report while copying
        samples: dict[str, dict[str, list[dict]]] = {}
        wanted = {s.stage: set(s.rejected) for s in stage_stats}
        for key in unit_keys:
            u = units_dir / key
            for f in sorted(u.glob(f"rejected.*{UNIT_SUFFIX}")):
                stage_name = f.name[len("rejected."):-len(UNIT_SUFFIX)]
                w = rej.get(stage_name)
                for batch in handed_lines(str(f)):  # a huge line is not held beside its sample
                    w.write_raw(batch[0])
                    if wanted.get(stage_name):
                        _take_sample(samples, wanted, stage_name, loads_handed(batch))
            if (u / "bad.jsonl").stat().st_size:
                for line in _raw_lines(u / "bad.jsonl"):
                    bad.write_raw(line)
        if url_files:  # bad lines of the URL lists, quarantined while fetching
            fetched_bad = work / "fetched.bad.jsonl"
            if fetched_bad.exists() and fetched_bad.stat().st_size:
                for line in _raw_lines(fetched_bad):
                    bad.write_raw(line)
            read.bad.update(orjson.loads((work / "fetched.done.json").read_bytes()).get("bad", {}))

        def kept_records() -> Iterator[dict]:
            for key in unit_keys:
                for batch in handed_lines(str(units_dir / key / f"kept{UNIT_SUFFIX}")):
                    yield loads_handed(batch)  # the line let go (a huge one parsed in parts)

        if streamed:
            def on_stream_reject(rec: dict) -> None:
                rej.write(rec)
                st_name = rec["meta"]["rejected"]["stage"]
                wanted.setdefault(st_name, set()).add(rec["meta"]["rejected"]["reason"])
                _take_sample(samples, wanted, st_name, rec)

            chain = Chain(streamed, on_reject=on_stream_reject,
                          meter=prof.meter(offset=len(mapped)) if prof is not None else None)
            # the text of cluster survivors, for the report's duplicate pairs (bounded)
            survivors: dict[str, str] = {}
            for rec in chain.run(kept_records()):
                out.write(rec)
                if prof is not None:
                    prof.count_output(rec)
                meta = rec.get("meta")
                dd = meta.get("dedup") if isinstance(meta, dict) else None
                if isinstance(dd, dict) and dd.get("cluster_size", 1) > 1 and len(survivors) < MAX_SURVIVORS:
                    survivors[str(dd.get("cluster"))] = snippet(rec)
            add_kept_snippets(samples, survivors)
            for s, cs in zip(stage_stats[len(mapped):], chain.stats):
                s.merge(cs)
                s.extra.update(cs.extra)
            write_stage_reports(streamed)
        else:
            for key in unit_keys:
                for line in _raw_lines(units_dir / key / f"kept{UNIT_SUFFIX}"):
                    out.write_raw(line)
        out.close()
        rej.close()
        bad.close()
        if not bad.count:
            (build / "quarantine" / "bad_records.jsonl").unlink()
        if bad_files:  # one line per damaged input file: which, why, how far it was read
            (build / "quarantine" / "bad_files.jsonl").write_bytes(
                b"".join(orjson.dumps(b, option=orjson.OPT_APPEND_NEWLINE) for b in bad_files))
        tokens = None
        if cfg.tokenize is not None:  # [tokenize]: the kept records as token shards
            tokens = _tokenize_kept(cfg, build, out.shards, work, executor, progress, t0)
        if sources_used:
            stage_stats.insert(0, fetch_stats)
            if url_files:  # the fetcher's rejections, gathered like the units' ones
                wanted.setdefault("fetch", set()).update(fetch_stats.rejected)
                rej_file = work / "fetched.rejected.jsonl"
                if rej_file.exists():
                    w = rej.get("fetch")
                    for batch in handed_lines(str(rej_file)):
                        w.write_raw(batch[0])
                        if wanted.get("fetch"):
                            _take_sample(samples, wanted, "fetch", loads_handed(batch))
        stats = _stats(cfg, read, stage_stats, out, rej, time.perf_counter() - t0, len(unit_keys),
                       resumed, workers)
        measured = executor.report()  # what the engine measured (not part of the output)
        if measured:
            stats["run"][cfg.engine] = measured
        stats["input"]["ignored_files"] = ignored
        stats["input"]["bad_files"] = bad_files
        # every WARC record is accounted for: a page (kept or rejected), or skipped here by type
        stats["input"]["warc_skipped"] = dict(sorted(warc_skipped.items()))
        if recovered:  # what a killed earlier run left: its lock, its half-built result
            stats["run"]["recovered"] = recovered
        stats["input"]["excluded_output"] = excluded  # the output folder, inside the input
        if tokens is not None:
            stats["tokens"] = tokens
        stats["run"]["fingerprint"] = fp  # of the inputs and configuration: see is_up_to_date
        dedup = next((s for s in stage_stats if s.stage == "dedup"), None)
        # the first record each reason rejected, in input order (the samples are taken in unit order)
        examples = {st_name: {r: example(recs[0]) for r, recs in by_reason.items() if recs}
                    for st_name, by_reason in samples.items()}
        stats["profile"] = summarize(prof, [s.name for s in stages], stats["stages"], examples,
                                     stats["conservation"]["in"],
                                     dedup.extra.get("cluster_sizes") if dedup is not None else None)
        stats["rejected_path"] = str(clean_p / "rejected")
        stats["bad_records_path"] = str(clean_p / "quarantine" / "bad_records.jsonl")
        write_json_atomic(str(build / "stats.json"), stats)
        (build / "report.md").write_text(render_report_md(stats), encoding="utf-8")
        (build / "report.html").write_text(render_report_html(stats, samples), encoding="utf-8")
        swap_into_place(build, clean_p)
        for stage in stages:  # (dedup's --index: its documents are in clean/ now)
            stage.commit()
    except BaseException:
        for stage in stages:
            stage.discard()
        shutil.rmtree(build, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return stats


def _tokenize_kept(cfg: PipelineConfig, build: Path, shards: list[str], work: Path, executor: Executor,
                   progress: Callable[[dict], None] | None, t0: float) -> dict:
    """clean/tokens/ from the kept shards (corpuskit.pipeline.tokenize, on the run's engine);
    its unit folders live in clean/.work/tokens, so a killed run resumes them too. The records
    it rejects (no text, too few tokens) stay in data/ and are listed in tokens/rejected.*."""
    stage = make_stage("tokenize", **cfg.tokenize)  # type: ignore[arg-type]
    if progress is not None:
        progress({"phase": "tokenize", "units": 0, "bytes": 0, "seconds": time.perf_counter() - t0,
                  "stages": []})
    st = run_tokenize([str(build / "data" / s) for s in shards], str(build / "tokens"), stage,
                      executor=executor, work=work / "tokens",
                      fingerprint_extra={"pipeline": work.joinpath("plan.json").read_text(),
                                         "shards": shards},
                      source="data", rejected=str(build / "tokens" / "rejected.jsonl.zst"),
                      rejected_inside=True, unit_lines=cfg.unit_lines, unit_bytes=cfg.unit_bytes)
    out = {k: st["tokens"][k] for k in ("documents", "tokens", "documents_approximate")}
    out.update({"folder": "tokens", "shards": st["output"]["shards"], "bytes": st["output"]["bytes"],
                "rejected": st["stages"][0]["reasons"], "conservation": st["conservation"],
                "units": st["run"]["units"], "resumed_units": st["run"]["resumed_units"],
                "seconds": st["seconds"]})
    return out


def _fetch_urls(url_files: list[str], work: Path, cfg: PipelineConfig, st: StageStats) -> Path:
    """Fetch every URL of the URL lists into work/fetched.jsonl (rejections beside it),
    appending and flushing as it goes: a killed run resumes and fetches nothing twice. Bad
    lines of the lists go to work/fetched.bad.jsonl verbatim (rewritten by each attempt, which
    reads the lists again), unless the run is strict."""
    fetched, rejected = work / "fetched.jsonl", work / "fetched.rejected.jsonl"
    bad_path = work / "fetched.bad.jsonl"
    done = work / "fetched.done.json"
    if not done.exists():
        stage = get_stage_class("fetch").from_options(**cfg.options.get("fetch", {}))
        stage.prepare_resume(str(fetched), str(rejected))
        last = time.monotonic()
        bad_reasons: Counter = Counter()
        with open(fetched, "ab") as out, open(rejected, "ab") as rej, open(bad_path, "wb") as bad:
            if not cfg.strict:
                def quarantine(line: bytes, err: Exception) -> None:
                    bad.write(line if line.endswith(b"\n") else line + b"\n")
                    bad_reasons[getattr(err, "reason", "bad_line")] += 1

                stage.quarantine_to(quarantine)
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
        write_json_atomic(str(done), {"pages": n_pages, "reasons": dict(reasons),
                                      "bad": dict(bad_reasons)})
    d = orjson.loads(done.read_bytes())
    n_rej = sum(d["reasons"].values())
    st.merge({"in": d["pages"] + n_rej, "kept": d["pages"], "reasons": d["reasons"]})
    return fetched


SAMPLES_PER_REASON = 3
MAX_SURVIVORS = 10_000  # cluster survivors whose text is kept for the report's duplicate pairs


def _take_sample(samples: dict, wanted: dict, stage: str, record: dict) -> None:
    reason = record["meta"]["rejected"]["reason"]
    got = samples.setdefault(stage, {}).setdefault(reason, [])
    if len(got) < SAMPLES_PER_REASON:
        got.append(sample_rejected(record))
        if len(got) == SAMPLES_PER_REASON:
            wanted[stage].discard(reason)


def _stats(cfg: PipelineConfig, read: ReadStats, stage_stats: list[StageStats], out: ShardWriter,
           rej: RejectedWriters, seconds: float, n_units: int, resumed: int, workers: int) -> dict:
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
                   "compression": cfg.compression, "format": cfg.format, "limit": cfg.limit},
        "seconds": round(seconds, 3),
    }
