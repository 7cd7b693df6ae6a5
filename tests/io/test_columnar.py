import datetime
import decimal
import io
import shutil
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.core.records import make_id
from corpuskit.io import columnar
from corpuskit.io.columnar import ParquetRecordWriter, iter_row_batches
from corpuskit.io.jsonl import RecordReader, RecordWriter, read_records, write_records

HF = Path(__file__).resolve().parents[1] / "fixtures" / "hf"

RECS = [
    {"id": "a", "text": "The council approved the new bike lanes.", "url": "https://example.org/a",
     "meta": {"lang": "en", "stats": {"words": 7}}, "tags": ["news", "city"], "score": 0.5},
    {"id": "b", "text": "茶是中国最重要的饮品之一，已有数千年的历史。", "url": "https://example.cn/b",
     "meta": {"lang": "zh", "other": [1, 2]}, "tags": [], "score": 1.0},
    {"text": "no id, no url, no meta", "tags": ["x"]},
]


def _bad_sink():
    got = []
    return got, (lambda line, err: got.append((line, err)))


def test_parquet_round_trip_keeps_records_nesting_and_ids(tmp_path):
    p = str(tmp_path / "x.parquet")
    assert write_records(p, RECS) == 3
    # meta is a JSON string column (marked), nested columns stay nested, nulls are absent keys
    schema = pq.read_schema(p)
    assert schema.field("meta").type == pa.string()
    assert schema.field("meta").metadata == {columnar.JSON_FIELD: b"1"}
    assert schema.field("tags").type == pa.list_(pa.string())
    assert list(read_records(p, assign_ids=False)) == RECS
    # the id the reader gives a record without one is the JSONL reader's
    jl = tmp_path / "x.jsonl"
    jl.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in RECS))
    assert list(read_records(p)) == list(read_records(str(jl)))
    assert list(read_records(p))[2]["id"] == make_id(RECS[2])


def test_parquet_streams_row_group_by_row_group_and_compresses_with_zstd(tmp_path):
    p = str(tmp_path / "x.parquet")
    with ParquetRecordWriter(p, row_group_rows=4) as w:
        for i in range(10):
            w.write({"id": str(i), "text": f"第{i}篇"})
    md = pq.ParquetFile(p).metadata
    assert md.num_row_groups == 3 and md.row_group(0).column(0).compression == "ZSTD"
    batches = list(iter_row_batches(p, "parquet"))
    assert [(first, len(rows)) for first, rows, _ in batches] == [(1, 4), (5, 4), (9, 2)]


def test_parquet_written_by_others_is_read_with_plain_columns(tmp_path):
    # a FineWeb-like file: no meta marker, an int and a timestamp-free nested struct column
    t = pa.table({"text": ["hello world", "你好世界"], "id": ["x", "y"], "token_count": [2, 4],
                  "info": [{"dump": "CC-1", "score": 0.9}, {"dump": "CC-2", "score": None}]})
    p = tmp_path / "fw.parquet"
    pq.write_table(t, p)
    assert list(read_records(str(p))) == [
        {"text": "hello world", "id": "x", "token_count": 2, "info": {"dump": "CC-1", "score": 0.9}},
        {"text": "你好世界", "id": "y", "token_count": 4, "info": {"dump": "CC-2", "score": None}}]


def test_truncated_parquet_is_an_error_naming_the_file_even_when_quarantining(tmp_path):
    p = tmp_path / "x.parquet"
    write_records(str(p), RECS)
    p.write_bytes(p.read_bytes()[:-30])
    got, sink = _bad_sink()
    with pytest.raises(BadInput) as e:
        list(RecordReader([str(p)], bad_sink=sink))
    assert e.value.reason == "corrupt_file" and str(e.value).startswith(f"{p}: ")
    assert "Parquet" in str(e.value) and "truncated or corrupt" in str(e.value)


def test_wrong_schema_text_not_a_string_is_a_bad_row_at_file_row(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"text": ["ok", None, "fine"], "n": [1, 2, 3]}), p)
    with pytest.raises(BadInput) as e:
        list(RecordReader([str(p)], require_field="text"))
    assert str(e.value).startswith(f"{p}:2: ") and e.value.reason == "missing_field"
    q = tmp_path / "int.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), q)
    got, sink = _bad_sink()
    r = RecordReader([str(p), str(q)], require_field="text", bad_sink=sink)
    kept = list(r)
    assert [x["text"] for x in kept] == ["ok", "fine"]
    # nothing lost: each bad row is quarantined as its JSON line, with FILE:ROW
    assert [(line, str(err)) for line, err in got] == [
        (b'{"n":2}', f"{p}:2: row: field 'text' is missing, not a string (see --text-field)"),
        (b'{"text":1}', f"{q}:1: row: field 'text' is a int, not a string (see --text-field)"),
        (b'{"text":2}', f"{q}:2: row: field 'text' is a int, not a string (see --text-field)")]
    assert r.stats.records + sum(r.stats.bad.values()) == 5


def test_missing_text_column_quarantines_every_row(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"content": ["a", "b"]}), p)
    got, sink = _bad_sink()
    r = RecordReader([str(p)], require_field="text", bad_sink=sink)
    assert list(r) == [] and r.stats.bad == {"missing_field": 2}
    assert [line for line, _ in got] == [b'{"content":"a"}', b'{"content":"b"}']
    # --text-field content reads them
    assert [x["content"] for x in RecordReader([str(p)], require_field="content")] == ["a", "b"]


def test_binary_columns_are_text_when_utf8_and_bad_rows_when_not(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "raw": pa.array([b"caf\xc3\xa9", b"\xff\xfe"], pa.binary())}), p)
    got, sink = _bad_sink()
    r = RecordReader([str(p)], bad_sink=sink, assign_ids=False)
    assert list(r) == [{"text": "a", "raw": "café"}]
    (line, err), = got
    assert err.reason == "invalid_utf8" and str(err).startswith(f"{p}:2: ")
    assert orjson.loads(line) == {"text": "b", "raw": {"base64": "//4="}}


def test_hf_datasets_folders_are_read_without_their_json_files():
    rows = list(read_records(str(HF / "dataset"), assign_ids=False))
    assert [r["id"] for r in rows] == ["d1", "d2", "d3"]
    assert rows[1] == {"id": "d2", "url": "https://example.cn/b", "text": "茶是中国最重要的饮品之一，已有数千年的历史。",
                       "meta": {"lang": "zh", "score": 0.8}, "tags": ["wiki"]}
    assert "url" not in rows[2]  # a null is an absent key
    # a DatasetDict: the splits in sorted order (test, train)
    assert [r["id"] for r in read_records(str(HF / "dataset_dict"))] == ["d3", "d1", "d2"]


def test_corrupt_arrow_file_is_an_error_naming_file_and_row(tmp_path):
    d = tmp_path / "ds"
    shutil.copytree(HF / "dataset", d)
    f = d / "data-00000-of-00002.arrow"
    f.write_bytes(f.read_bytes()[:200])
    with pytest.raises(BadInput) as e:
        list(read_records(str(d)))
    assert e.value.reason == "corrupt_file" and str(e.value).startswith(f"{f}: ")
    assert "Arrow" in str(e.value)
    # garbage after valid magic
    g = tmp_path / "junk.arrow"
    g.write_bytes(b"ARROW1\x00\x00" + b"\x01" * 100)
    with pytest.raises(BadInput, match=r"junk.arrow: not a readable Arrow file"):
        list(read_records(str(g)))


def test_parquet_is_told_by_its_bytes_whatever_the_name_and_read_from_stdin(tmp_path, monkeypatch):
    p = tmp_path / "looks.jsonl"
    write_records(str(tmp_path / "x.parquet"), RECS)
    p.write_bytes((tmp_path / "x.parquet").read_bytes())
    assert list(read_records(str(p), assign_ids=False)) == RECS
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(p.read_bytes())))
    assert list(read_records("-", assign_ids=False)) == RECS


def test_writer_refuses_a_key_or_type_the_schema_does_not_hold_and_leaves_nothing(tmp_path):
    p = tmp_path / "x.parquet"
    with pytest.raises(BadInput, match=r"record 3 \(id 'c'\) has key\(s\) 'new'.*write JSONL instead"):
        with ParquetRecordWriter(str(p), row_group_rows=2) as w:
            for r in ({"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "c", "text": "z", "new": 1}):
                w.write(r)
    assert not list(tmp_path.iterdir())
    with pytest.raises(BadInput, match=r"record 3: key 'n' does not fit the column type int64"):
        with ParquetRecordWriter(str(p), row_group_rows=2) as w:
            for r in ({"text": "x", "n": 1}, {"text": "y", "n": 2}, {"text": "z", "n": "three"}):
                w.write(r)
    assert not list(tmp_path.iterdir())


def test_given_schema_is_kept_so_shards_match(tmp_path):
    a, b = str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")
    with ParquetRecordWriter(a) as w:
        w.write({"id": "1", "text": "x", "meta": {"k": 1}, "lang": "en"})
    with ParquetRecordWriter(b, schema=w.schema) as w2:
        w2.write({"id": "2", "text": "y"})  # no meta, no lang: nulls, same schema
    assert pq.read_schema(a) == pq.read_schema(b)
    assert list(read_records(b)) == [{"id": "2", "text": "y"}]


def test_missing_pyarrow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UsageError, match=r"pip install 'corpuskit\[parquet\]'"):
        columnar.pyarrow()


def test_timestamps_decimals_and_maps_become_json_values(tmp_path):
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["a"], "ts": [datetime.datetime(2024, 1, 2, 3, 4, 5)],
                             "d": pa.array([decimal.Decimal("1.50")], pa.decimal128(5, 2)),
                             "m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64()))}), p)
    with RecordWriter(str(tmp_path / "t.jsonl")) as w:
        for r in read_records(str(p), assign_ids=False):
            w.write(r)
    assert (tmp_path / "t.jsonl").read_bytes() == b'{"text":"a","ts":"2024-01-02T03:04:05","d":"1.50","m":{"k":1}}\n'


def test_nanosecond_timestamps_times_and_durations_are_written_exactly(run_cli, tmp_path):
    # pandas and Spark write timestamps in nanoseconds: `cat` stopped with a traceback
    # ("Timestamp is not JSON serializable"), durations too, and a time of day lost its nanoseconds
    p = tmp_path / "t.parquet"
    shanghai = pa.timestamp("ns", tz="Asia/Shanghai")
    pq.write_table(pa.table({
        "text": ["a", "b", "c"],
        "ts": pa.array([1577851200000000001, -1, None], shanghai),
        "plain": pa.array([1577851200000000000, 0, 1], pa.timestamp("ns")),
        "t": pa.array([3723000000001, 0, 5], pa.time64("ns")),
        "d": pa.array([-1, 5000000001, None], pa.duration("ns")),
        "ds": pa.array([90061, -5, 0], pa.duration("s")),
        "st": pa.array([{"x": 1577851200000000001}, None, {"x": 0}], pa.struct([("x", pa.timestamp("ns"))])),
        "l": pa.array([[1], [2, 3], []], pa.list_(pa.duration("ms")))}), p)
    r = run_cli(["cat", p, "-q"])
    assert r.returncode == 0, r.stderr
    rows = [orjson.loads(x) for x in r.stdout.splitlines()]
    for x in rows:
        del x["id"]
    assert rows == [
        {"text": "a", "ts": "2020-01-01T12:00:00.000000001+08:00", "plain": "2020-01-01T04:00:00",
         "t": "01:02:03.000000001", "d": "-PT0.000000001S", "ds": "PT90061S",
         "st": {"x": "2020-01-01T04:00:00.000000001"}, "l": ["PT0.001S"]},
        {"text": "b", "ts": "1970-01-01T07:59:59.999999999+08:00", "plain": "1970-01-01T00:00:00",
         "t": "00:00:00", "d": "PT5.000000001S", "ds": "-PT5S", "l": ["PT0.002S", "PT0.003S"]},
        {"text": "c", "plain": "1970-01-01T00:00:00.000000001", "t": "00:00:00.000000005", "ds": "PT0S",
         "st": {"x": "1970-01-01T00:00:00"}, "l": []}]


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_a_column_name_given_twice_is_an_error_not_a_lost_column(run_cli, tmp_path, kind):
    # the second `text` column's values replaced the first's, silently
    t = pa.Table.from_arrays([pa.array(["a", "b"]), pa.array(["x", "y"]), pa.array([1, 2])],
                             names=["text", "text", "n"])
    p = tmp_path / f"dup.{kind}"
    if kind == "parquet":
        pq.write_table(t, p)
    else:
        with pa.ipc.new_file(str(p), t.schema) as w:
            w.write_table(t)
    for extra in ([], ["--bad-records", tmp_path / "bad.jsonl"]):
        r = run_cli(["cat", p, "-o", tmp_path / "out.jsonl", *extra])
        err = r.stderr.decode()
        assert r.returncode == 1, err
        assert err == f"corpuskit cat: error: {p}: column(s) named twice: 'text': a record holds one value a key, " \
                      "so one column's values would be lost (rename them)\n"
        assert not (tmp_path / "out.jsonl").exists()


def _meta_table(metas: list, texts: list | None = None) -> pa.Table:
    field = pa.field("meta", pa.string(), metadata={columnar.JSON_FIELD: b"1"})
    texts = texts or [f"第{i}篇 text" for i in range(len(metas))]
    return pa.table([pa.array([f"r{i}" for i in range(len(metas))]), pa.array(texts), pa.array(metas, pa.string())],
                    schema=pa.schema([pa.field("id", pa.string()), pa.field("text", pa.string()), field]))


def test_rows_made_as_iterated_equal_the_rows_built_at_once(tmp_path):
    # the lazy path (no nulls) and the path building every row at once (a null somewhere) agree
    metas = ['{"lang":"zh","n":1}', '{"tags":["a","b"]}', "[1,2]", '"x"']
    p = tmp_path / "x.parquet"
    pq.write_table(_meta_table(metas), p)
    (_, rows, _), = iter_row_batches(str(p), "parquet")
    assert rows.__class__ is columnar.Rows and len(rows) == 4
    assert rows[1] == {"id": "r1", "text": "第1篇 text", "meta": {"tags": ["a", "b"]}}
    assert rows[1:3] == [rows[1], rows[2]]
    lazy = list(read_records(str(p)))
    assert lazy == [{"id": f"r{i}", "text": f"第{i}篇 text", "meta": orjson.loads(m)} for i, m in enumerate(metas)]
    pq.write_table(_meta_table([*metas, None]), p)  # an Arrow null: the slow path
    (_, rows, _), = iter_row_batches(str(p), "parquet")
    assert rows.__class__ is list
    assert list(read_records(str(p))) == [*lazy, {"id": "r4", "text": "第4篇 text"}]


def test_json_null_and_arrow_null_are_keys_the_record_does_not_have(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(_meta_table(['{"a":1}', " null ", '{"b":2}']), p)
    assert [r.get("meta", "absent") for r in read_records(str(p))] == [{"a": 1}, "absent", {"b": 2}]


def test_invalid_json_in_the_meta_column_is_an_error_naming_file_and_row(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(_meta_table(['{"a":1}', '{"b":2}', '{"c":', '{"d":4}']), p)
    got = []
    with pytest.raises(BadInput) as e:
        for r in RecordReader([str(p)], bad_sink=lambda raw, err: None):
            got.append(r["id"])
    assert got == ["r0", "r1"]  # the rows before it were read
    assert (e.value.source, e.value.line, e.value.reason) == (str(p), 3, "corrupt_file")
    assert "'meta' is marked as JSON but holds invalid JSON" in e.value.message


def test_a_row_group_read_in_several_batches_keeps_order_counts_and_row_numbers(tmp_path):
    # one row group of many batches (columnar._BATCH_ROWS rows each): every record in order,
    # counted once, and a bad row in a later batch named by its row in the file
    n = 3 * columnar._BATCH_ROWS + 7
    metas = [f'{{"n":{i}}}' for i in range(n)]
    p = tmp_path / "x.parquet"
    pq.write_table(_meta_table(metas), p, row_group_size=n)
    assert pq.ParquetFile(p).num_row_groups == 1
    batches = list(iter_row_batches(str(p), "parquet"))
    assert len(batches) == 4 and [b[0] for b in batches] == [1 + k * columnar._BATCH_ROWS for k in range(4)]
    r = RecordReader([str(p)], require_field="text")
    assert [rec["meta"]["n"] for rec in r] == list(range(n)) and r.stats.records == n
    bad = 2 * columnar._BATCH_ROWS + 5  # row number (1-based) in the third batch
    texts = [f"t{i}" for i in range(n)]
    texts[bad - 1] = None
    pq.write_table(_meta_table(metas, texts), p, row_group_size=n)
    got, sink = _bad_sink()
    r = RecordReader([str(p)], require_field="text", bad_sink=sink)
    kept = list(r)
    assert len(kept) == n - 1 and [str(err) for _, err in got] == [
        f"{p}:{bad}: row: field 'text' is missing, not a string (see --text-field)"]
    assert r.stats.records + sum(r.stats.bad.values()) == n


def test_the_reader_counts_the_rows_it_handed_on_when_stopped_or_failed(tmp_path):
    from corpuskit.io.jsonl import ReadStats, check_rows

    p = tmp_path / "x.parquet"
    pq.write_table(_meta_table([f'{{"n":{i}}}' for i in range(10)]), p)
    (_, rows, _), = iter_row_batches(str(p), "parquet")
    st = ReadStats()
    it = check_rows(str(p), 1, rows, st, "text")
    assert [next(it)["id"] for _ in range(3)] == ["r0", "r1", "r2"]
    it.close()  # the consumer stopped: three records were handed on
    assert st.records == 3
    pq.write_table(_meta_table(['{"a":1}', '{"b":2}', '{"c":', '{"d":4}']), p)
    (_, rows, _), = iter_row_batches(str(p), "parquet")
    st = ReadStats()
    got = []
    with pytest.raises(BadInput):
        for r in check_rows(str(p), 1, rows, st, "text"):
            got.append(r["id"])
    assert got == ["r0", "r1"] and st.records == 2  # the failed row is not counted
    pq.write_table(_meta_table(['{"a":1}', '{"b":2}']), p)
    (_, rows, _), = iter_row_batches(str(p), "parquet")
    st = ReadStats()
    assert len(list(check_rows(str(p), 1, rows, st, "text"))) == 2 and st.records == 2


def test_writer_skips_dictionary_and_statistics_where_they_only_cost(tmp_path):
    # text, id and url differ from record to record: no dictionary page; the text has no
    # min/max statistics (whole documents in the footer); other columns, nested ones included,
    # keep pyarrow's defaults
    p = tmp_path / "x.parquet"
    recs = [{"id": f"d{i}", "text": f"文本 {i} " * 40, "url": f"https://e.org/{i}", "meta": {"n": i},
             "tags": ["a", "b"], "lang": "zh"} for i in range(500)]
    write_records(str(p), recs)
    rg = pq.read_metadata(p).row_group(0)
    cols = {rg.column(i).path_in_schema: rg.column(i) for i in range(rg.num_columns)}
    for name in ("id", "text", "url"):
        assert "RLE_DICTIONARY" not in cols[name].encodings, name
    for name in ("meta", "tags.list.element", "lang"):
        assert "RLE_DICTIONARY" in cols[name].encodings, name
    assert not cols["text"].is_stats_set and cols["id"].is_stats_set and cols["lang"].is_stats_set
    assert list(read_records(str(p))) == recs


@pytest.mark.parametrize("kind", ["file", "stream"])
def test_a_large_arrow_batch_becomes_records_a_slice_at_a_time(tmp_path, kind):
    # one batch of many rows (as pa.Table.to_batches() writes a whole table): read in slices of
    # columnar._BATCH_ROWS rows, every record in order, a bad row named by its row in the file
    n = 2 * columnar._BATCH_ROWS + 9
    texts = [f"第{i}篇 text" for i in range(n)]
    bad = columnar._BATCH_ROWS + 3
    texts[bad - 1] = None
    table = _meta_table([f'{{"n":{i}}}' for i in range(n)], texts)
    batch, = table.to_batches(max_chunksize=n)
    p = tmp_path / "x.arrow"
    with pa.OSFile(str(p), "wb") as sink:
        w = pa.ipc.new_file(sink, table.schema) if kind == "file" else pa.ipc.new_stream(sink, table.schema)
        w.write_batch(batch)
        w.close()
    sizes = [len(rows) for _, rows, _ in iter_row_batches(str(p), "arrow")]
    assert sizes == [columnar._BATCH_ROWS, columnar._BATCH_ROWS, 9]
    got, sink = _bad_sink()
    r = RecordReader([str(p)], require_field="text", bad_sink=sink)
    assert [rec["meta"]["n"] for rec in r] == [i for i in range(n) if i != bad - 1]
    assert [str(err) for _, err in got] == [f"{p}:{bad}: row: field 'text' is missing, not a string (see --text-field)"]
