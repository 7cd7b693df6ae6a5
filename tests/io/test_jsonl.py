import gzip
import io
import json
import lzma
import os
import shutil
import stat
import sys
import tempfile
import threading
from pathlib import Path

import orjson
import pytest
import zstandard

from corpuskit.core.errors import BadInput
from corpuskit.core.records import make_id
from corpuskit.io.jsonl import RecordReader, RecordWriter, expand_inputs, loads_exact, read_records
from corpuskit.io.jsonl import dumps as jsonl_dumps


def _write(p, data: bytes):
    p.write_bytes(data)
    return str(p)


def test_reads_plain_gz_zst_and_folders_in_sorted_order(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "b.jsonl.gz").write_bytes(gzip.compress(b'{"text":"b"}\n'))
    (d / "a.jsonl").write_bytes(b'{"text":"a"}\n')
    (d / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"text":"c"}\n'))
    (d / "notes.txt").write_bytes(b"not records")
    assert [r["text"] for r in read_records(str(d))] == ["a", "b", "c"]


def test_unknown_keys_pass_through_in_place_and_ids_are_stable(tmp_path):
    p = _write(tmp_path / "x.jsonl", b'{"text":"hi","z":1,"a":{"n":[1,2]}}\n{"id":"keep","text":"x"}\n')
    r1 = list(read_records(p))
    r2 = list(read_records(p))
    assert list(r1[0]) == ["id", "text", "z", "a"] and r1[0]["a"] == {"n": [1, 2]}
    assert r1[0]["id"] == r2[0]["id"] == make_id({"text": "hi"})
    assert r1[1]["id"] == "keep"
    assert make_id({"url": "http://a"}) != make_id({"url": "http://b"})


@pytest.mark.parametrize("line,reason,needle", [
    (b'{"text": "abc"', "invalid_json", "invalid JSON"),
    (b'{"text": "\xb9\xfa\xbc\xd2"}', "invalid_utf8", "byte 0xb9 at column 11"),
    (b'[1, 2]', "not_an_object", "list"),
    (b'{"body": "x"}', "missing_field", "'text'"),
    (b'{"text": 5}', "missing_field", "int"),
])
def test_bad_lines_raise_with_file_and_line(tmp_path, line, reason, needle):
    p = _write(tmp_path / "bad.jsonl", b'{"text":"ok"}\n' + line + b"\n")
    with pytest.raises(BadInput) as ei:
        list(RecordReader([p], require_field="text"))
    assert ei.value.reason == reason
    assert f"{p}:2:" in str(ei.value) and needle in str(ei.value)


def test_invalid_utf8_suggests_iconv(tmp_path):
    p = _write(tmp_path / "gbk.jsonl", '{"text": "中国"}\n'.encode("gbk"))
    with pytest.raises(BadInput, match="iconv"):
        list(read_records(p))


def test_bad_sink_quarantines_raw_line_and_counts(tmp_path):
    raw = b'{"text": "abc"'
    p = _write(tmp_path / "bad.jsonl", b'{"text":"ok"}\n' + raw + b'\n{"text":"ok2"}\n')
    got = []
    r = RecordReader([p], bad_sink=lambda line, err: got.append((line, err.reason)))
    assert [x["text"] for x in r] == ["ok", "ok2"]
    assert got == [(raw, "invalid_json")]
    assert r.stats.bad == {"invalid_json": 1} and r.stats.records == 2


def test_truncated_gzip_names_file_and_line(tmp_path):
    data = gzip.compress(b"".join(b'{"text":"line %d"}\n' % i for i in range(5000)))
    p = _write(tmp_path / "t.jsonl.gz", data[: len(data) // 2])
    with pytest.raises(BadInput) as ei:
        list(read_records(p))
    assert ei.value.reason == "truncated_file" and "t.jsonl.gz:" in str(ei.value)


def test_truncated_zstd_is_an_error(tmp_path):
    data = zstandard.ZstdCompressor().compress(b"".join(b'{"text":"%d"}\n' % i for i in range(5000)))
    p = _write(tmp_path / "t.jsonl.zst", data[:-10])
    with pytest.raises(BadInput) as ei:
        list(read_records(p))
    assert ei.value.reason == "truncated_file"


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        expand_inputs([str(tmp_path / "nope.jsonl")])
    p = _write(tmp_path / "empty.jsonl", b"")
    r = RecordReader([p])
    assert list(r) == [] and r.stats.empty_files == [p]


def test_blank_lines_are_skipped_and_counted(tmp_path):
    p = _write(tmp_path / "x.jsonl", b'\n{"text":"a"}\r\n   \n')
    r = RecordReader([p])
    assert [x["text"] for x in r] == ["a"] and r.stats.blank_lines == 2


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_writer_round_trips_and_is_atomic(tmp_path, suffix):
    path = str(tmp_path / f"out{suffix}")
    recs = [{"id": str(i), "text": f"中文 {i}", "big": 2**70} for i in range(100)]
    with RecordWriter(path) as w:
        for r in recs:
            w.write(r)
        assert not (tmp_path / f"out{suffix}").exists()  # only the temp file exists until close
    assert list(read_records(path)) == recs


def test_writer_abort_leaves_nothing(tmp_path):
    path = tmp_path / "out.jsonl"
    w = RecordWriter(str(path))
    w.write({"text": "x"})
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_large_record_streams(tmp_path):
    big = "x" * (20 * 1024 * 1024)
    p = tmp_path / "big.jsonl"
    p.write_bytes(orjson.dumps({"text": big}) + b"\n" + b'{"text":"small"}\n')
    out = [len(r["text"]) for r in read_records(str(p))]
    assert out == [len(big), 5]


# ---- integers beyond 64 bits pass through unchanged
BIG_LINES = [
    b'{"id":"a","text":"x","big":18446744073709551616}\n',
    b'{"id":"b","text":"x","neg":-9223372036854775809,"deep":{"l":[1.5,123456789012345678901234567890]}}\n',
    b'{"id":"c","text":"phone 1234567890123456789012","f":0.1}\n',  # a long digit run in a string
]


def test_integers_beyond_64_bits_round_trip_byte_for_byte(tmp_path):
    src = _write(tmp_path / "big.jsonl", b"".join(BIG_LINES))
    recs = list(read_records(src))
    assert recs[0]["big"] == 2**64 and isinstance(recs[0]["big"], int)
    assert recs[1]["neg"] == -(2**63) - 1 and recs[1]["deep"]["l"][1] == 123456789012345678901234567890
    assert recs[2]["f"] == 0.1
    out = tmp_path / "out.jsonl"
    with RecordWriter(str(out)) as w:
        for r in recs:
            w.write(r)
    assert out.read_bytes() == b"".join(BIG_LINES)


def test_loads_exact_keeps_orjson_results_for_ordinary_lines():
    line = b'{"text":"\xe4\xb8\xad\xe6\x96\x87 9223372036854775807","n":18446744073709551615,"f":1e300}'
    assert loads_exact(line) == orjson.loads(line)
    assert loads_exact(b'{"n":99999999999999999999}') == {"n": 99999999999999999999}


# ---- writing through to what is not a regular file
def test_writer_writes_through_a_fifo(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    got = []
    t = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    t.start()
    with RecordWriter(str(fifo)) as w:
        w.write({"text": "经过管道"})
    t.join(10)
    assert got == ['{"text":"经过管道"}\n'.encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # no temp file left beside it


def test_writer_writes_through_a_device(tmp_path):
    # a private copy of /dev/null (as root: never the system's, which a regression would replace)
    if os.geteuid() == 0:
        dev = tmp_path / "n"
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:  # not root: the system's /dev/null cannot be replaced, and is what a user would give
        dev = "/dev/null"
    st = os.stat(dev)
    with RecordWriter(str(dev)) as w:
        w.write({"text": "x"})
    after = os.stat(dev)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == st.st_ino


def test_writer_replaces_a_symlinks_target_not_the_link(tmp_path):
    real = tmp_path / "data" / "real.jsonl"
    real.parent.mkdir()
    real.write_bytes(b'{"text":"old"}\n')
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    with RecordWriter(str(link)) as w:
        w.write({"text": "new"})
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b'{"text":"new"}\n'
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.jsonl"]


def test_writer_into_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "target.jsonl")
    with RecordWriter(str(link)) as w:
        w.write({"text": "t"})
    assert link.is_symlink() and (tmp_path / "target.jsonl").read_bytes() == b'{"text":"t"}\n'


def test_writer_through_proc_fd_of_a_pipe():
    r, wfd = os.pipe()
    try:
        w = RecordWriter(f"/dev/fd/{wfd}")
        w.write({"text": "p"})
        w.close()
        assert os.read(r, 100) == b'{"text":"p"}\n'
    finally:
        os.close(r)
        os.close(wfd)


def test_big_integers_are_found_in_any_line_of_a_large_batch(tmp_path):
    # many ordinary lines (floats with long fractions, 19-digit runs after a "."), one big integer
    lines = [b'{"text":"t%d","score":0.0005929012577998716,"n":%d}\n' % (i, i) for i in range(5000)]
    lines[3777] = b'{"text":"x","big":340282366920938463463374607431768211456}\n'
    src = _write(tmp_path / "many.jsonl", b"".join(lines))
    recs = list(read_records(src))
    assert recs[3777]["big"] == 2**128
    assert recs[10]["score"] == 0.0005929012577998716


def test_a_regular_file_under_dev_shm_is_still_replaced_atomically(tmp_path):
    # only a file descriptor's name (/dev/stdout, /dev/fd/N) is appended to; other paths under
    # /dev (a tmpfs such as /dev/shm) hold ordinary files, replaced as anywhere else
    if not os.path.isdir("/dev/shm") or not os.access("/dev/shm", os.W_OK):
        d = tmp_path
    else:
        d = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="corpuskit-test-"))
    try:
        p = d / "x.jsonl"
        p.write_bytes(b'{"text":"old"}\n')
        with RecordWriter(str(p)) as w:
            w.write({"text": "new"})
        assert p.read_bytes() == b'{"text":"new"}\n'
    finally:
        if d != tmp_path:
            shutil.rmtree(d)


# ---- compression told by the first bytes, the binary-data message, globs, --limit, URLs
def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_gzip_and_zstd_are_told_by_their_bytes_on_files_of_any_name_and_on_stdin(tmp_path, monkeypatch):
    body = '{"text":"中文 a"}\n{"text":"b"}\n'.encode()
    gz = _write(tmp_path / "plain-name.jsonl", gzip.compress(body))
    zst = _write(tmp_path / "noext", zstandard.ZstdCompressor().compress(body))
    assert [r["text"] for r in read_records(gz, zst)] == ["中文 a", "b"] * 2
    for data in (gzip.compress(body), zstandard.ZstdCompressor().compress(body), body):
        _stdin(monkeypatch, data)
        assert [r["text"] for r in read_records("-")] == ["中文 a", "b"]
    # a truncated gzip on stdin is still reported as such
    big = gzip.compress(b"".join(b'{"text":"line %d"}\n' % i for i in range(20000)))
    _stdin(monkeypatch, big[: len(big) // 2])
    with pytest.raises(BadInput, match=r"<stdin>:\d+: compressed file is truncated"):
        list(read_records("-"))


def test_binary_data_is_not_told_to_convert_its_encoding(tmp_path):
    png = _write(tmp_path / "image.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    with pytest.raises(BadInput) as e:
        list(read_records(png))
    assert e.value.reason == "binary_data" and "iconv" not in str(e.value)
    assert str(e.value).startswith(f"{png}: binary data, not JSON lines")
    xz = _write(tmp_path / "x.jsonl", lzma.compress(b'{"text":"a"}\n'))
    with pytest.raises(BadInput, match="xz-compressed data: decompress it first"):
        list(read_records(xz))
    u16 = _write(tmp_path / "u16.jsonl", '{"text": "中文"}\n'.encode("utf-16"))
    with pytest.raises(BadInput, match="UTF-16 text, not UTF-8: convert it first"):
        list(read_records(u16))
    # a binary line inside a text file: a bad line, without the encoding hint
    mixed = _write(tmp_path / "mixed.jsonl", b'{"text":"ok"}\n' + b"\x00\x01\x02\xff\xfe" * 10 + b"\n")
    got = []
    assert len(list(RecordReader([mixed], bad_sink=lambda line, err: got.append(err)))) == 1
    assert got[0].reason == "binary_data" and "iconv" not in str(got[0])
    gbk = _write(tmp_path / "gbk.jsonl", '{"text": "中国的茶文化历史悠久"}\n'.encode("gb18030"))
    with pytest.raises(BadInput, match="iconv -f GB18030") as e2:
        list(read_records(gbk))
    assert e2.value.reason == "invalid_utf8"


def test_quoted_globs_are_expanded_sorted_and_an_unmatched_one_is_an_error(tmp_path):
    d = tmp_path / "raw" / "sub"
    d.mkdir(parents=True)
    _write(tmp_path / "raw" / "b.jsonl.gz", gzip.compress(b'{"text":"b"}\n'))
    _write(tmp_path / "raw" / "a.jsonl.gz", gzip.compress(b'{"text":"a"}\n'))
    _write(tmp_path / "raw" / "c.jsonl", b'{"text":"c"}\n')
    _write(d / "d.jsonl.gz", gzip.compress(b'{"text":"d"}\n'))
    assert [r["text"] for r in read_records(str(tmp_path / "raw" / "*.jsonl.gz"))] == ["a", "b"]
    assert [r["text"] for r in read_records(str(tmp_path / "raw" / "**" / "*.gz"))] == ["a", "b", "d"]
    with pytest.raises(BadInput, match="no file matches") as e:
        expand_inputs([str(tmp_path / "raw" / "*.parquet")])
    assert e.value.reason == "not_found"


def test_limit_reads_the_first_n_records_of_each_input(tmp_path):
    a = _write(tmp_path / "a.jsonl", b'{"text":"a1"}\n\n{"text":"a2"}\n{"text":"a3"}\n')
    b = _write(tmp_path / "b.jsonl.gz", gzip.compress(b"".join(b'{"text":"b%d"}\n' % i for i in range(50000))))
    r = RecordReader([a, b], limit=2)
    assert [x["text"] for x in r] == ["a1", "a2", "b0", "b1"]
    assert r.stats.records == 4 and r.stats.blank_lines == 1
    got = []
    r2 = RecordReader([_write(tmp_path / "c.jsonl", b'{bad\n{"text":"c1"}\n{"text":"c2"}\n')], limit=2,
                      bad_sink=lambda line, err: got.append(line))
    assert [x["text"] for x in r2] == ["c1"] and got == [b"{bad"]  # a bad line is one of the N


def test_memory_urls_read_and_write_jsonl_with_folders_and_globs():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/ck-in/b.jsonl.zst", zstandard.ZstdCompressor().compress(b'{"text":"b"}\n'))
    fs.pipe("/ck-in/a.jsonl", b'{"text":"a"}\n')
    fs.pipe("/ck-in/notes.md", b"# not records")
    try:
        assert [r["text"] for r in read_records("memory://ck-in")] == ["a", "b"]
        assert [r["text"] for r in read_records("memory://ck-in/*.zst")] == ["b"]
        with RecordWriter("memory://ck-out/sub/x.jsonl.gz") as w:
            w.write({"text": "z"})
        assert gzip.decompress(fs.cat("/ck-out/sub/x.jsonl.gz")) == b'{"text":"z"}\n'
        with pytest.raises(BadInput, match="no such file"):
            list(read_records("memory://ck-in/missing.jsonl"))
    finally:
        fs.rm("/ck-in", recursive=True)
        fs.rm("/ck-out", recursive=True)


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_flush_makes_compressed_output_readable_while_open(tmp_path, suffix):
    """A source stage flushes its compressed output every second: what was written so far must
    be decodable from the file before close()."""
    import zlib

    p = tmp_path / f"o{suffix}"
    w = RecordWriter(str(p), atomic=False)
    for i in range(3):
        w.write({"text": f"记录 {i}"})
    w.flush()
    data = p.read_bytes()
    if suffix.endswith(".gz"):
        got = zlib.decompressobj(wbits=31).decompress(data)
    else:
        got = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert [orjson.loads(x)["text"] for x in got.splitlines()] == ["记录 0", "记录 1", "记录 2"]
    w.write({"text": "last"})
    w.close()
    assert [r["text"] for r in read_records(str(p))] == ["记录 0", "记录 1", "记录 2", "last"]


# ---- huge records: never held twice (issue 16, item 11)
def test_integers_beyond_64_bits_are_found_wherever_orjson_made_them_floats():
    """orjson turns an integer beyond 64 bits (either sign) into a float; lost_integer finds such
    a float at any depth, and loads_exact gives the exact integer back. Ordinary floats, the
    64-bit extremes (which orjson keeps as ints) and digits inside strings are left alone."""
    from corpuskit.io import jsonl

    big, neg = 2 ** 64, -(2 ** 63) - 1
    for value in (big, neg, 10 ** 30, -(10 ** 25)):
        for shape in ("{{\"n\":{}}}", "{{\"m\":{{\"a\":[1,{{\"b\":{}}}]}}}}", "[{}]"):
            line = shape.format(value).encode()
            assert jsonl.lost_integer(orjson.loads(line)), line
            assert str(value) in json.dumps(jsonl.loads_exact(line)), line
    for line in (b'{"n":18446744073709551615}', b'{"n":-9223372036854775808}', b'{"f":0.5,"g":[1e18]}',
                 b'{"t":"123456789012345678901234567890"}', b"3.5", b"[]"):
        assert not jsonl.lost_integer(orjson.loads(line)), line
        assert jsonl.loads_exact(line) == orjson.loads(line)
    deep = b"[" * 1024 + b"18446744073709551616" + b"]" * 1024  # as deep as orjson reads
    assert jsonl.lost_integer(orjson.loads(deep))
    assert jsonl.dumps(jsonl.loads_exact(deep)) == deep + b"\n"  # the writer, as deep as the reader
    # a float literal that large is re-read too, and comes back the same float
    assert jsonl.loads_exact(b'{"x":1.5e19}') == {"x": 1.5e19}


def test_the_reader_lets_go_of_a_line_once_parsed(tmp_path):
    """The raw bytes of a record are dropped as soon as it is parsed (a 200 MB line is not held
    beside its record while a stage works on it); bad lines still reach the sink whole."""
    from corpuskit.io import jsonl

    lines = [b'{"text":"a"}\n', b"not json\n", b'{"text":"b"}\n']
    bad = []
    recs = jsonl.parse_lines("f", 1, lines, jsonl.ReadStats(), "text", bad_sink=lambda raw, e: bad.append(raw),
                             release=True)
    first = next(recs)
    assert first["text"] == "a" and lines[0] is None and lines[2] is not None
    assert [r["text"] for r in recs] == ["b"] and bad == [b"not json"] and lines == [None, b"not json\n", None]
    kept = [b'{"text":"c"}\n']
    assert [r["text"] for r in jsonl.parse_lines("f", 1, kept, jsonl.ReadStats(), "text")] == ["c"]
    assert kept == [b'{"text":"c"}\n']


def test_a_huge_record_is_written_in_parts_byte_for_byte(tmp_path, monkeypatch):
    """A record whose text is over BIG_STR characters is written in parts (no UTF-8 cache left
    on its text); the bytes are orjson's for the whole record, escapes, CJK, astral characters
    and nested values included; what orjson cannot encode falls back as before."""
    from corpuskit.io import writer

    monkeypatch.setattr(writer, "BIG_STR", 5)
    text = 'line "one"\n\ttab \\ back \x01 中文 😀 \u2028 end' * 3
    recs = [{"id": "a", "text": text, "meta": {"lang": "zh", "x": [1, 2.5, None, True]}},
            {"id": "c", "text": text}, {"id": "d", "n": 1, "text": "short"}, {"id": "b", "text": text, "big": 2 ** 70}]
    for r in recs:
        parts = writer.dumps_parts(r)
        if "big" in r:
            assert parts is None
        else:
            assert b"".join(parts) == orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE)
    out = tmp_path / "out.jsonl"
    with RecordWriter(str(out)) as w:
        for r in recs:
            w.write(r)
    assert out.read_bytes() == b"".join(writer.dumps(r) for r in recs) and w.bytes == out.stat().st_size
    assert list(read_records(str(out))) == recs


# ---- huge lines parsed in parts (issue 16, item 11: peak <= 3x the record)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402


def _small_huge(monkeypatch, line=64, piece=16):
    """Make "huge" small, so that every cut (inside escapes, surrogate pairs, UTF-8
    characters) is met by short strings."""
    from corpuskit.io import jsonl

    monkeypatch.setattr(jsonl, "HUGE_LINE", line)
    monkeypatch.setattr(jsonl, "_PIECE", piece)
    return jsonl


def _parse(jsonl, lines, **kw):
    st = jsonl.ReadStats()
    return list(jsonl.parse_lines("f.jsonl", 1, list(lines), st, "text", assign_ids=False, release=True, **kw)), st


HUGE_TEXTS = ['line "one"\n\ttab \\ back \x01 中文 😀 \u2028 end / \x7f' * 9, "中文" * 40, "x" * 100,
              "😀" * 30 + "a", "\\" * 50 + '"' * 50]


@pytest.mark.parametrize("ascii_only", [False, True])
def test_a_huge_line_is_parsed_in_parts_to_the_same_record(monkeypatch, ascii_only):
    """Every long string value (top level, nested, in lists, several in a record) comes out as
    orjson.loads gives it, whatever the escapes (json.dumps' \\uXXXX and surrogate pairs too),
    with key order, a long key, small values and integers beyond 64 bits as they were."""
    jsonl = _small_huge(monkeypatch)
    import json

    for text in HUGE_TEXTS:
        rec = {"id": "a", "text": text, "meta": {"html": text[::-1], "list": [1, text, 2.5, None]},
               "k" * 40 + text[:30]: True, "big": 2 ** 70, "n": -1, "e": "", "t2": text + "!"}
        line = json.dumps(rec, ensure_ascii=ascii_only).encode() + b"\n"
        assert len(line) > jsonl.HUGE_LINE
        huge = jsonl.split_huge(line)
        assert huge is not None and len(huge.values) == 4  # text, html, the list's item, t2
        got, st = _parse(jsonl, [line])
        assert got == [rec] and list(got[0]) == list(rec) and got[0]["big"] == 2 ** 70
        assert st.records == 1


@settings(max_examples=200, deadline=None)
@given(text=hs.text(min_size=0, max_size=120), other=hs.text(max_size=20),
       ascii_only=hs.booleans(), spaces=hs.booleans())
def test_a_huge_line_parsed_in_parts_equals_orjson_hypothesis(text, other, ascii_only, spaces):
    import json

    from corpuskit.io import jsonl

    saved = jsonl.HUGE_LINE, jsonl._PIECE
    jsonl.HUGE_LINE, jsonl._PIECE = 8, 5
    try:
        rec = {"text": text, "o": other, "l": [text, {"t": other + text}]}
        sep = (", ", ": ") if spaces else (",", ":")
        line = json.dumps(rec, ensure_ascii=ascii_only, separators=sep).encode()
        got, _ = _parse(jsonl, [line])
        assert got == [orjson.loads(line)]
    finally:
        jsonl.HUGE_LINE, jsonl._PIECE = saved


def test_a_bad_huge_line_is_reported_as_a_whole_line_is(monkeypatch, tmp_path):
    """A huge line with a fault in a long string (a bad escape, a lone surrogate, bad UTF-8, a
    control character) or elsewhere is reported with the same reason, message and line number
    as any line, and quarantined whole; the lines around it are read as usual."""
    jsonl = _small_huge(monkeypatch)
    body = "中文 text " * 10
    good = orjson.dumps({"text": "ok"}) + b"\n"
    bad_lines = [b'{"text":"' + body.encode() + b'\\x' + body.encode() + b'"}\n',
                 b'{"text":"' + body.encode() + b'\\ud800' + body.encode() + b'"}\n',
                 b'{"text":"' + body.encode() + b'\xe4\xb8' + body.encode() + b'"}\n',
                 b'{"text":"' + body.encode() + b'\x01' + body.encode() + b'"}\n',
                 b'{"text":"' + body.encode() + b'"',
                 b'{"text":"' + body.encode() + b'"}, 1]\n',
                 b'["' + body.encode() + b'"]\n',
                 b'{"other":"' + body.encode() + b'"}\n']
    for bad_line in bad_lines:
        assert len(bad_line) > jsonl.HUGE_LINE
        lines = [good, bad_line, good]
        sunk = []
        got, st = _parse(jsonl, lines, bad_sink=lambda raw, e, sunk=sunk: sunk.append((raw, e)))
        assert got == [{"text": "ok"}, {"text": "ok"}] and st.records == 2
        assert [raw for raw, _ in sunk] == [bad_line.rstrip(b"\n")]
        err = sunk[0][1]
        assert err.line == 2 and err.source == "f.jsonl"
        monkeypatch.setattr(jsonl, "HUGE_LINE", 1 << 30)  # the same line, parsed whole
        list(jsonl.parse_lines("f.jsonl", 1, [good, bad_line], jsonl.ReadStats(), "text",
                               bad_sink=lambda raw, e, sunk=sunk: sunk.append((raw, e)), release=True))
        assert (sunk[1][1].reason, str(sunk[1][1])) == (err.reason, str(err))
        monkeypatch.setattr(jsonl, "HUGE_LINE", 64)
    p = tmp_path / "bad.jsonl"
    p.write_bytes(good + bad_lines[0] + good)
    with pytest.raises(BadInput) as e:
        list(RecordReader([str(p)], require_field="text"))
    assert str(e.value).startswith(f"{p}:2: ") and e.value.reason == "invalid_json"


def test_huge_lines_keep_their_line_numbers_and_ids(monkeypatch, tmp_path):
    """Through the reader (a plain and a gzip file): small and huge lines mixed, a blank line
    between; ids made from the whole text, as for any line."""
    _small_huge(monkeypatch)
    recs = [{"text": "a"}, {"text": "中文😀\n" * 30, "url": "u"}, {"text": "b"}, {"id": "x", "text": "y" * 200}]
    data = b"".join(orjson.dumps(r) + b"\n" + (b"\n" if i == 1 else b"") for i, r in enumerate(recs))
    for name, raw in (("p.jsonl", data), ("p.jsonl.gz", gzip.compress(data))):
        p = tmp_path / name
        p.write_bytes(raw)
        reader = RecordReader([str(p)])
        got = list(reader)
        assert [{k: v for k, v in r.items() if k != "id"} for r in got[:3]] == recs[:3]
        assert [r["id"] for r in got] == [make_id(r) for r in recs[:3]] + ["x"]
        assert reader.stats.lines == 5 and reader.stats.blank_lines == 1 and reader.stats.records == 4
    p = tmp_path / "e.jsonl"
    p.write_bytes(data + b'{"text":"' + b"z" * 100 + b'\\q"}\n')
    with pytest.raises(BadInput) as e:
        list(RecordReader([str(p)]))
    assert str(e.value).startswith(f"{p}:6: ")


def test_the_first_line_of_a_file_is_checked_for_utf8_a_slice_at_a_time(monkeypatch):
    jsonl = _small_huge(monkeypatch)
    text = "中文 and English, 😀 " * 10
    assert jsonl.is_utf8(text.encode()) and jsonl.is_utf8(b"")
    for cut in range(1, 12):
        assert not jsonl.is_utf8(text.encode()[:-cut] + b"\xff" + text.encode())
    assert not jsonl.is_utf8(text.encode() + b"\xe4\xb8")  # cut short at the very end
    with pytest.raises(BadInput, match="UTF-16"):
        jsonl.check_text("f", "\ufeff{}".encode("utf-16") * 20, "\ufeff{}".encode("utf-16"))


def test_reading_and_writing_a_huge_record_peaks_under_three_times_its_size(tmp_path):
    """The peak resident memory of `corpuskit cat` on one 20 MB record of English and Chinese
    (a Python str of 1.4x its UTF-8 bytes) over the same command on a small record: the line,
    its unescaped UTF-8 and the str never all live at once, nor the str and its JSON (whole,
    orjson.loads alone peaks at 3.4x: the line, orjson's copy of it, the str). Measured 2.4x."""
    from tests.memory import extra_over_record

    para = "The committee met on Tuesday to review the budget.\n委员会周二开会审议了来年的预算。\n\n"
    assert extra_over_record(tmp_path, "cat", para * (20_000_000 // len(para.encode()))) <= 2.7
    out = tmp_path / "o.jsonl"
    assert orjson.loads(out.read_bytes())["text"].startswith(para) and out.read_bytes().count(b"\n") == 1


@settings(max_examples=200, deadline=None)
@given(texts=hs.lists(hs.text(max_size=40), min_size=1, max_size=4), n=hs.integers(-5, 2 ** 63 - 1),
       nested=hs.dictionaries(hs.text(max_size=5), hs.text(max_size=30), max_size=3))
def test_the_parts_of_a_huge_record_are_orjson_bytes_hypothesis(texts, n, nested):
    """Every long top-level string (any field) is sliced; the parts add up to orjson.dumps."""
    from corpuskit.io import writer

    saved = writer.BIG_STR
    writer.BIG_STR = 3
    try:
        rec = {f"f{i}": t for i, t in enumerate(texts)} | {"n": n, "nested": nested, "text": "".join(texts)}
        assert b"".join(writer.dumps_parts(rec)) == orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)
    finally:
        writer.BIG_STR = saved


def test_the_writer_writes_a_huge_value_of_its_watched_fields_in_parts(tmp_path, monkeypatch):
    """A huge html (html2text's input, in its rejected record) is written in parts as a huge text
    is, with the same bytes; a field the writer does not watch is dumped whole."""
    from corpuskit.io import writer

    monkeypatch.setattr(writer, "BIG_STR", 5)
    seen = []
    real = writer.dumps_parts
    monkeypatch.setattr(writer, "dumps_parts", lambda r: seen.append(r["id"]) or real(r))
    recs = [{"id": "h", "html": "<p>中文 😀 \"q\"</p>" * 3}, {"id": "t", "text": "some text here"},
            {"id": "o", "other": "x" * 50}, {"id": "s", "html": "<p>"}]
    out = tmp_path / "o.jsonl"
    with writer.open_writer(str(out), big_fields=("text", "html")) as w:
        for r in recs:
            w.write(r)
    assert seen == ["h", "t"]
    assert out.read_bytes() == b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in recs)
    assert w.bytes == out.stat().st_size


@settings(max_examples=300, deadline=None)
@given(values=hs.lists(hs.text(alphabet=hs.sampled_from('ab"\\\n中😀 :,{}[]\x01'), max_size=12), max_size=6))
def test_string_spans_finds_every_literal_hypothesis(values):
    """The spans are exactly the strings of the line (keys and values; quotes and backslashes
    inside them escaped), checked against the standard library's reading of each."""
    import json

    from corpuskit.io import jsonl

    line = json.dumps({f"k{i}": [v, i] for i, v in enumerate(values)}, ensure_ascii=False).encode()
    got = [json.loads(line[s:e]) for s, e in jsonl.string_spans(line)]
    want = []
    for i, v in enumerate(values):
        want += [f"k{i}", v]
    assert got == want


def test_records_nested_as_deep_as_orjson_reads_pass_through_unchanged(tmp_path):
    """orjson reads 1,024 levels of nesting but writes only 254, and the standard library's
    fallback hits Python's recursion limit near 1,000: such a record, with or without an
    integer beyond 64 bits inside, is written back byte for byte (it used to end in a traceback)."""
    lines = [b'{"id":"a","text":"x","n":' + b"[" * 1023 + b"1" + b"]" * 1023 + b"}\n",
             b'{"id":"b","text":"y","n":' + b"[" * 1023 + b"18446744073709551616" + b"]" * 1023 + b"}\n",
             b'{"id":"c","text":"z","n":' + b"[" * 300 + b"-1" + b"]" * 300 + b"}\n"]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"".join(lines))
    with RecordWriter(str(out)) as w:
        for rec in read_records(str(src)):
            w.write(rec)
    assert out.read_bytes() == src.read_bytes()


def test_handed_lines_keep_no_reference_to_a_line_handed_out(tmp_path):
    """handed_lines gives each line as a one-element list and holds it nowhere else (neither in
    a loop variable nor in its batch), so `loads_handed(batch)` lets a huge line go before its
    strings are made; the line numbers of the batches underneath stay right though the batches
    are emptied (several batches of about a megabyte here)."""
    import gc

    from corpuskit.io import jsonl

    lines = [orjson.dumps({"i": i, "text": "中文 words " * (i % 50)}) for i in range(40_000)]
    path = tmp_path / "a.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(lines) + b"\n"))
    got, firsts = [], []
    real = jsonl.iter_line_batches

    def batches(p):  # the line numbers the batches report, as handed_lines empties them
        for first, batch, n in real(p):
            firsts.append((first, len(batch)))
            yield first, batch, n
    jsonl.iter_line_batches = batches
    try:
        for batch in jsonl.handed_lines(str(path)):
            line = batch[0]
            batch[0] = None
            if len(got) % 9_999 == 0:
                assert not [r for r in gc.get_referrers(line) if r is not got], "held by the reader"
            got.append(line)
    finally:
        jsonl.iter_line_batches = real
    assert got == lines and len(firsts) > 2
    assert [f for f, _ in firsts] == [1 + sum(n for _, n in firsts[:i]) for i in range(len(firsts))]


def test_a_zstd_file_of_one_repetitive_huge_line_is_not_held_twice(tmp_path):
    """A megabyte of compressed repetitive text can be a whole huge line: the decompressed data
    is let go once it is read into the line, not kept beside it until the next read."""
    import tracemalloc

    from corpuskit.io import jsonl

    line = orjson.dumps({"text": "The committee met on Tuesday. 委员会周二开会。\n" * 300_000})  # 18 MB
    path = tmp_path / "big.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(line + b"\n"))
    tracemalloc.start()
    try:
        it = jsonl.iter_line_batches(str(path))
        _, batch, _ = next(it)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert batch == [line]
    assert held < 1.3 * len(line), held / len(line)  # was 2.0x: the line and the decompressed data
    it.close()


def test_write_raw_adds_the_newline_without_copying_the_line(tmp_path):
    """A raw line without its newline (a rejected or bad line the pipeline copies) is written
    as it is, then the newline: no copy of a huge line is made to add it."""
    import tracemalloc

    line = b'{"text":"' + b"x" * 10_000_000 + b'"}'
    with RecordWriter(str(tmp_path / "o.jsonl")) as w:
        tracemalloc.start()
        try:
            w.write_raw(line)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        w.write_raw(b'{"a":1}\n')
    assert (tmp_path / "o.jsonl").read_bytes() == line + b'\n{"a":1}\n'
    assert w.count == 2 and w.bytes == len(line) + 9
    assert peak < len(line) // 2, peak / len(line)  # was 1.0x: line + b"\n"


def test_the_reader_finds_a_lost_integer_in_an_object_nested_past_the_recursion_limit(tmp_path):
    """The reader looks for orjson's lost integers itself in an object (lost_integer's first
    step, inlined); an object nested deeper than Python's recursion limit falls back to the
    explicit stack, and the integer still comes back exact and is written back as it was."""
    deep = b'{"a":' * 1000 + b"18446744073709551616" + b"}" * 1000
    p = tmp_path / "deep.jsonl"
    p.write_bytes(b'{"id":"1",' + deep[1:] + b"\n")
    [rec] = read_records(str(p))
    assert jsonl_dumps(rec) == p.read_bytes()
