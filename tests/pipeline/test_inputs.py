"""raw/ may mix JSONL records, saved pages, WARC files and URL lists; each enters the run."""
import http.server
import shutil
import threading
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io.jsonl import read_records, write_records
from corpuskit.pipeline import PipelineConfig, run_pipeline
from corpuskit.pipeline.plan import plan_inputs
from tests.corpus import make_docs
from tests.io.test_sources import write_warc

PAGE = "<html><head><title>t{n}</title></head><body><article><p>page {n} 这是一个中文网页。</p></article></body></html>"


def _raw(tmp_path):
    raw = tmp_path / "raw"
    (raw / "pages" / "sub").mkdir(parents=True)
    for i in range(5):
        (raw / "pages" / f"p{i}.html").write_text(PAGE.format(n=i))
    (raw / "pages" / "sub" / "gbk.htm").write_bytes(
        "<html><head><meta charset='gbk'></head><body><p>中文网页</p></body></html>".encode("gbk"))
    write_warc(raw / "crawl.warc.gz", [
        ("response", "http://a.example/1", PAGE.format(n="w1").encode(), [("Content-Type", "text/html")],
         "200 OK"),
        ("response", "http://a.example/img", b"\x89PNG...", [("Content-Type", "image/png")], "200 OK"),
        ("response", "http://a.example/2", PAGE.format(n="w2").encode(), [("Content-Type", "text/html")],
         "200 OK"),
    ])
    (raw / "docs.jsonl").write_bytes(b"".join(orjson.dumps({"text": f"record {i}"}) + b"\n" for i in range(4)))
    (raw / "notes.pdf").write_bytes(b"%PDF-1.4 not ours")
    return raw


def test_plan_classifies_every_file(tmp_path):
    plan, ignored = plan_inputs(str(_raw(tmp_path)))
    kinds = {p.rsplit("/", 1)[-1]: k for p, k in plan}
    assert kinds == {"crawl.warc.gz": "warc", "docs.jsonl": "jsonl", "p0.html": "html", "p1.html": "html",
                     "p2.html": "html", "p3.html": "html", "p4.html": "html", "gbk.htm": "html"}
    assert [p.rsplit("/", 1)[-1] for p in ignored] == ["notes.pdf"]


@pytest.mark.parametrize("workers", [1, 2])
def test_pages_warc_and_records_enter_and_are_all_accounted_for(tmp_path, workers):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"], workers=workers, unit_lines=2))
    kept = list(read_records(str(clean / "data")))
    htmls = [r for r in kept if "html" in r]
    assert len(htmls) == 8 and sum("text" in r and "html" not in r for r in kept) == 4
    assert any("中文网页" in r["html"] for r in htmls)  # GBK page decoded
    assert {r["meta"]["fetch"]["encoding"] for r in htmls if r["meta"]["fetch"].get("source") == "file"} >= {"gb18030"}
    assert stats["stages"][0]["stage"] == "fetch"
    assert stats["stages"][0]["reasons"] == {"not_html": 1}
    assert stats["conservation"] == {"in": 13, "kept": 12, "rejected": 1, "quarantined": 0, "ok": True}
    [rej] = list(read_records(str(clean / "rejected")))
    assert rej["meta"]["rejected"]["stage"] == "fetch" and rej["url"] == "http://a.example/img"
    assert stats["input"]["ignored_files"][0].endswith("notes.pdf")


class _H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/robots.txt":
            body, code = b"", 404
        elif self.path.startswith("/p/"):
            body, code = PAGE.format(n=self.path[3:]).encode(), 200
        else:
            body, code = b"<html>gone</html>", 404
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_url_lists_are_fetched_then_processed(tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        raw = tmp_path / "raw"
        raw.mkdir()
        (raw / "seed.urls").write_text(f"{base}/p/1\n{base}/p/2\n{base}/missing\nnot a url\n")
        clean = tmp_path / "clean"
        opts = {"fetch": {"allow_private": True, "delay": 0.0, "retries": 0, "timeout": 5.0}}
        stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"], options=opts))
    finally:
        srv.shutdown()
        srv.server_close()
    kept = list(read_records(str(clean / "data")))
    assert sorted(r["url"] for r in kept) == [f"{base}/p/1", f"{base}/p/2"]
    fetch = stats["stages"][0]
    assert fetch["stage"] == "fetch" and fetch["reasons"] == {"http_404": 1, "bad_url": 1}
    assert stats["conservation"]["ok"] and stats["conservation"]["in"] == 4
    assert not (clean / ".work").exists()


def test_output_folder_inside_the_input_is_not_read_back(tmp_path):
    nest = tmp_path / "nest"
    nest.mkdir()
    (nest / "docs.jsonl").write_bytes(b"".join(orjson.dumps({"text": f"记录 {i} record"}) + b"\n"
                                               for i in range(50)))
    clean = nest / "clean"
    cfg = PipelineConfig(stages=["cat"], compression="none")
    runs = [run_pipeline(str(nest), str(clean), cfg) for _ in range(3)]
    for stats in runs:
        assert stats["conservation"]["in"] == 50 and stats["output"]["records"] == 50
    assert runs[0]["input"]["excluded_output"] == []  # clean/ did not exist yet
    assert runs[2]["input"]["excluded_output"] == [str(clean)]
    assert f"The output folder {clean} is inside the input" in (clean / "report.md").read_text()
    assert len(list(read_records(str(clean / "data")))) == 50


def test_input_inside_the_output_folder_is_refused(tmp_path):
    nest = tmp_path / "nest"
    nest.mkdir()
    (nest / "docs.jsonl").write_bytes(b'{"text":"x"}\n')
    clean = tmp_path / "clean"
    run_pipeline(str(nest), str(clean), PipelineConfig(stages=["cat"]))
    with pytest.raises(UsageError, match="inside the output folder"):
        run_pipeline(str(clean / "data"), str(clean), PipelineConfig(stages=["cat"]))


def _two_warcs(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    recs = [("response", f"http://b.example/{i}", PAGE.format(n=i).encode(), [("Content-Type", "text/html")],
             "200 OK") for i in range(6)]
    recs.insert(2, ("request", "http://b.example/0", b"", None, ""))
    write_warc(raw / "good.warc.gz", recs[:4])
    write_warc(tmp_path / "full.warc.gz", recs)
    data = (tmp_path / "full.warc.gz").read_bytes()
    (raw / "cut.warc.gz").write_bytes(data[: len(data) * 3 // 4])  # truncated in a later record
    (raw / "docs.jsonl").write_bytes(b'{"text":"one record"}\n')
    return raw


@pytest.mark.parametrize("workers", [1, 2])
def test_a_truncated_warc_is_reported_and_the_rest_goes_on(tmp_path, workers):
    raw = _two_warcs(tmp_path)
    clean = tmp_path / "clean"
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"], workers=workers))
    [bad] = stats["input"]["bad_files"]
    assert bad["file"] == str(raw / "cut.warc.gz") and bad["reason"] == "truncated_warc"
    assert "byte offset" in bad["message"] and bad["records_read"] >= 2
    kept = list(read_records(str(clean / "data")))
    urls = [r.get("url") for r in kept]
    # every page of the good file, the pages of the cut one before the damage, the JSONL record
    assert sum(u is not None and u.startswith("http://b.example/") for u in urls) >= 3 + 2
    assert any(r.get("text") == "one record" for r in kept)
    assert stats["conservation"]["ok"] and stats["conservation"]["quarantined"] == 1
    assert stats["input"]["bad_records"] == {"truncated_warc": 1}
    line = orjson.loads((clean / "quarantine" / "bad_files.jsonl").read_bytes())
    assert line == bad
    assert "Damaged input" in (clean / "report.md").read_text()
    assert "damaged input file" in (clean / "report.html").read_text()


def test_a_truncated_warc_stops_a_strict_run(tmp_path):
    raw = _two_warcs(tmp_path)
    with pytest.raises(BadInput, match="cut.warc.gz"):
        run_pipeline(str(raw), str(tmp_path / "clean"), PipelineConfig(stages=["cat"], strict=True))


def test_skipped_warc_records_are_counted(tmp_path):
    raw = _raw(tmp_path)
    write_warc(raw / "more.warc.gz", [
        ("request", "http://a.example/1", b"", None, ""),
        ("request", "http://a.example/2", b"", None, ""),
        ("response", "http://a.example/3", PAGE.format(n=3).encode(), [("Content-Type", "text/html")], "200 OK"),
    ])
    stats = run_pipeline(str(raw), str(tmp_path / "clean"), PipelineConfig(stages=["cat"]))
    # crawl.warc.gz: warcinfo + 3 responses; more.warc.gz: warcinfo + 2 requests + 1 response
    assert stats["input"]["warc_skipped"] == {"request": 2, "warcinfo": 2}
    assert stats["stages"][0]["in"] == 4 + 6  # the WARC pages (3 + 1) and the saved pages
    report = (tmp_path / "clean" / "report.md").read_text()
    assert "WARC records that are not pages (skipped, not counted as records in): request 2, warcinfo 2" in report
    assert "WARC record type (not a page)" in (tmp_path / "clean" / "report.html").read_text()


# ---- Parquet, Arrow and Hugging Face datasets folders, globs, URLs, --limit
def _jsonl_and_parquet(tmp_path, n=60):
    """The same records as raw_j/ (JSONL) and raw_p/ (Parquet), one bad record in each."""
    recs = make_docs(n)
    half = n // 2
    parts = {"a": recs[:half], "b": recs[half:] + [{"content": "no text field"}]}
    raw_j, raw_p = tmp_path / "raw_j", tmp_path / "raw_p"
    raw_j.mkdir()
    raw_p.mkdir()
    for name, part in parts.items():
        (raw_j / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in part))
        write_records(str(raw_p / f"{name}.parquet"), part)
    return raw_j, raw_p


def _data(clean):
    return b"".join(p.read_bytes() for p in sorted((clean / "data").iterdir()))


def test_default_pipeline_on_parquet_keeps_the_same_records_as_on_jsonl(tmp_path):
    raw_j, raw_p = _jsonl_and_parquet(tmp_path)
    cfg = PipelineConfig(compression="none", workers=1, unit_lines=7)
    sj = run_pipeline(str(raw_j), str(tmp_path / "cj"), cfg)
    sp = run_pipeline(str(raw_p), str(tmp_path / "cp"), cfg)
    assert _data(tmp_path / "cj") == _data(tmp_path / "cp") and sj["output"]["records"] == 40
    # the record without text is dropped by the chain (not quarantined), the same both ways
    assert sj["conservation"] == sp["conservation"] == {"in": 61, "kept": 40, "rejected": 21,
                                                        "quarantined": 0, "ok": True}
    assert [s["reasons"] for s in sj["stages"]] == [s["reasons"] for s in sp["stages"]]
    rej = [list(read_records(str(tmp_path / c / "rejected"))) for c in ("cj", "cp")]
    assert rej[0] == rej[1] and len(rej[0]) == 21


def test_pipeline_writes_parquet_shards_with_one_schema(tmp_path):
    raw_j, _ = _jsonl_and_parquet(tmp_path)
    base = dict(stages=["normalize", "filter-short"], workers=1, compression="none")
    run_pipeline(str(raw_j), str(tmp_path / "cj"), PipelineConfig(**base))
    st = run_pipeline(str(raw_j), str(tmp_path / "cp"), PipelineConfig(shard_size=15, format="parquet", **base))
    shards = sorted((tmp_path / "cp" / "data").iterdir())
    assert [p.name for p in shards] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert st["output"]["shards"] == [f"data/{p.name}" for p in shards]
    assert len({pq.read_schema(p) for p in shards}) == 1
    assert list(read_records(str(tmp_path / "cp" / "data"))) == list(read_records(str(tmp_path / "cj" / "data")))
    assert sorted(p.name for p in (tmp_path / "cp" / "rejected").iterdir()) == ["filter-short.jsonl"]


def test_pipeline_reads_hf_datasets_folders_globs_and_limits(tmp_path):
    hf = Path(__file__).resolve().parents[1] / "fixtures" / "hf"
    raw = tmp_path / "raw"
    shutil.copytree(hf / "dataset", raw / "ds")
    plan, ignored = plan_inputs(str(raw))
    assert [(p.rsplit("/", 1)[-1], k) for p, k in plan] == [("data-00000-of-00002.arrow", "arrow"),
                                                           ("data-00001-of-00002.arrow", "arrow")]
    assert sorted(p.rsplit("/", 1)[-1] for p in ignored) == ["dataset_info.json", "state.json"]
    st = run_pipeline(str(raw), str(tmp_path / "c"), PipelineConfig(stages=["normalize"], workers=1))
    assert [r["id"] for r in read_records(str(tmp_path / "c" / "data"))] == ["d1", "d2", "d3"]
    assert st["conservation"]["in"] == 3
    # a quoted glob, and --limit: the first record of each file
    raw_j, _ = _jsonl_and_parquet(tmp_path)
    st = run_pipeline(str(raw_j / "*.jsonl"), str(tmp_path / "c2"),
                      PipelineConfig(stages=["normalize"], workers=1, limit=2))
    assert st["conservation"]["in"] == 4 and st["config"]["limit"] == 2
    assert [r["text"] for r in read_records(str(tmp_path / "c2" / "data"))][0] == "短文0"


def test_pipeline_quarantines_parquet_rows_that_cannot_be_records(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    pq.write_table(pa.table({"text": ["甲乙丙", "bad bytes", "ok"],
                             "blob": pa.array([b"fine", b"\xff\x00", None], pa.binary())}), raw / "x.parquet")
    st = run_pipeline(str(raw), str(tmp_path / "c"), PipelineConfig(stages=["normalize"], workers=1))
    assert st["conservation"] == {"in": 3, "kept": 2, "rejected": 0, "quarantined": 1, "ok": True}
    assert st["input"]["bad_records"] == {"invalid_utf8": 1}
    line = (tmp_path / "c" / "quarantine" / "bad_records.jsonl").read_bytes()
    assert orjson.loads(line) == {"text": "bad bytes", "blob": {"base64": "/wA="}}
    with pytest.raises(Exception, match=r"x.parquet:2: binary value is not UTF-8"):
        run_pipeline(str(raw), str(tmp_path / "c3"), PipelineConfig(stages=["normalize"], workers=1, strict=True))


def test_pipeline_reads_parquet_from_a_url(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    _, raw_p = _jsonl_and_parquet(tmp_path, n=9)
    fs = fsspec.filesystem("memory")
    for p in raw_p.iterdir():
        fs.pipe(f"/ck-raw/{p.name}", p.read_bytes())
    try:
        st = run_pipeline("memory://ck-raw", str(tmp_path / "c"), PipelineConfig(stages=["normalize"], workers=1))
        local = run_pipeline(str(raw_p), str(tmp_path / "c2"), PipelineConfig(stages=["normalize"], workers=1))
        assert st["conservation"] == local["conservation"] and st["conservation"]["in"] == 10
        assert _data(tmp_path / "c") == _data(tmp_path / "c2")
    finally:
        fs.rm("/ck-raw", recursive=True)


def test_pipeline_command_format_and_limit_flags(run_cli, tmp_path):
    _, raw_p = _jsonl_and_parquet(tmp_path, n=12)
    clean = tmp_path / "c"
    run_cli(["pipeline", raw_p, clean, "--stages", "normalize", "-j", "1", "--format", "parquet",
             "--limit", "5", "-q"], check=True)
    st = orjson.loads((clean / "stats.json").read_bytes())
    assert st["config"]["format"] == "parquet" and st["conservation"]["in"] == 10
    assert [p.name for p in (clean / "data").iterdir()] == ["part-00000.parquet"]
    p = run_cli(["pipeline", raw_p, tmp_path / "c2", "--format", "csv"])
    assert p.returncode == 2 and b"format: must be jsonl or parquet" in p.stderr


def test_bad_lines_of_url_lists_are_quarantined(tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        raw = tmp_path / "raw"
        raw.mkdir()
        bad = [b"{broken json\n", f"{base}/p/\xff".encode("latin-1") + b"\n"]
        (raw / "seed.urls").write_bytes(b"\xef\xbb\xbf" + f"{base}/p/1\n".encode() + bad[0]
                                        + f"{base}/p/2\n".encode() + bad[1])
        clean = tmp_path / "clean"
        opts = {"fetch": {"allow_private": True, "delay": 0.0, "retries": 0, "timeout": 5.0}}
        stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"], options=opts))
    finally:
        srv.shutdown()
        srv.server_close()
    assert sorted(r["url"] for r in read_records(str(clean / "data"))) == [f"{base}/p/1", f"{base}/p/2"]
    assert (clean / "quarantine" / "bad_records.jsonl").read_bytes() == b"".join(bad)
    assert stats["input"]["bad_records"] == {"invalid_json": 1, "invalid_utf8": 1}
    assert stats["conservation"] == {"in": 4, "kept": 2, "rejected": 0, "quarantined": 2, "ok": True}


def _row_grouped(tmp_path, n=40, group=7):
    """The same records as JSONL and as Parquet row groups of `group` rows, one bad row."""
    from corpuskit.io.columnar import ParquetRecordWriter

    recs = make_docs(n)
    raw_j, raw_p = tmp_path / "rg_j", tmp_path / "rg_p"
    raw_j.mkdir()
    raw_p.mkdir()
    (raw_j / "a.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    with ParquetRecordWriter(str(raw_p / "a.parquet"), row_group_rows=group) as w:
        for r in recs:
            w.write(r)
    return raw_j, raw_p


def test_a_parquet_file_is_cut_at_its_row_groups_and_the_worker_decodes_them(tmp_path):
    from corpuskit.pipeline.plan import iter_units, load_rows

    raw_j, raw_p = _row_grouped(tmp_path)
    plan = [(str(raw_p / "a.parquet"), "parquet")]
    units = list(iter_units(plan, 15, 1 << 30))
    # 40 rows in row groups of 7: two groups a unit (14 rows), nothing decoded by the planner
    assert [(u.row_groups, u.first_line, u.lines) for u in units] == [
        ((0, 2), 1, []), ((2, 4), 15, []), ((4, 6), 29, [])]
    lines = [x for u in units for x in load_rows(u).lines]
    assert [orjson.loads(x) for x in lines] == [orjson.loads(x) for x in (raw_j / "a.jsonl").read_bytes().splitlines()]
    assert load_rows(units[1]).first_line == 15
    # a row group bigger than a unit is a unit of its own; --limit takes the first rows only
    assert [u.row_groups for u in iter_units(plan, 3, 1 << 30)] == [(i, i + 1) for i in range(6)]
    lim = list(iter_units(plan, 15, 1 << 30, limit=10))
    assert [(u.row_groups, u.take) for u in lim] == [((0, 2), 10)]
    assert len(load_rows(lim[0]).lines) == 10


def test_parquet_row_group_units_give_the_same_bytes_for_any_worker_count_and_resume(tmp_path, monkeypatch):
    from corpuskit.pipeline import worker

    raw_j, raw_p = _row_grouped(tmp_path, n=60)
    cfg = dict(compression="none", unit_lines=10)
    ref = run_pipeline(str(raw_j), str(tmp_path / "cj"), PipelineConfig(workers=1, **cfg))
    s1 = run_pipeline(str(raw_p), str(tmp_path / "c1"), PipelineConfig(workers=1, **cfg))
    s2 = run_pipeline(str(raw_p), str(tmp_path / "c2"), PipelineConfig(workers=2, **cfg))
    assert _data(tmp_path / "c1") == _data(tmp_path / "c2") == _data(tmp_path / "cj")
    assert s1["conservation"] == s2["conservation"] == ref["conservation"]
    assert s1["run"]["units"] == s2["run"]["units"] == 9  # one row group (7 rows) a unit
    # killed after two units, then run again: the two are reused, the output is the same
    real, calls = worker.run_unit, []

    def failing(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(worker, "run_unit", failing)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(str(raw_p), str(tmp_path / "c3"), PipelineConfig(workers=1, **cfg))
    monkeypatch.setattr(worker, "run_unit", real)
    s3 = run_pipeline(str(raw_p), str(tmp_path / "c3"), PipelineConfig(workers=1, **cfg))
    assert s3["run"]["resumed_units"] == 2 and _data(tmp_path / "c3") == _data(tmp_path / "c1")


def test_the_planner_lets_go_of_the_last_line_of_a_unit_it_handed_out(tmp_path):
    """With one worker a unit runs while the planner waits for the next: the planner must not
    hold the unit's last line then (a huge one would live beside its record, and the worker's
    let-go, parse_lines(release=True), would free nothing)."""
    import gc

    from corpuskit.pipeline.plan import iter_units

    (tmp_path / "a.jsonl").write_bytes(b'{"text":"one"}\n{"text":"two"}\n')
    gen = iter_units([(str(tmp_path / "a.jsonl"), "jsonl")], 10, 1 << 20)
    unit = next(gen)
    assert unit.lines == [b'{"text":"one"}', b'{"text":"two"}']
    last = unit.lines[-1]
    unit.lines[-1] = None
    assert not [r for r in gc.get_referrers(last) if r is not unit.lines], "still held by the planner"
    assert next(gen, None) is None
