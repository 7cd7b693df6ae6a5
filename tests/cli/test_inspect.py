"""`corpuskit head`, `count`, `sample` (corpuskit.io.look prints through corpuskit.cli.inspect),
and what every stage command reads: compressed stdin, Parquet in and out, globs, --limit."""
import gzip

import fsspec
import orjson
import pyarrow.parquet as pq
import zstandard

from corpuskit.io import look
from corpuskit.io.jsonl import read_records, write_records

RECS = [{"id": f"r{i}", "text": ("中文文本" * 200 if i % 2 else "english text " * 100) + str(i),
         **({"url": f"https://x/{i}"} if i % 3 == 0 else {})} for i in range(30)]


def _files(tmp_path):
    jl = tmp_path / "a.jsonl.gz"
    jl.write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in RECS) + b"{broken\n"))
    pqf = tmp_path / "b.parquet"
    write_records(str(pqf), RECS)
    return jl, pqf


def test_head_prints_the_first_records_pretty_with_long_strings_cut(run_cli, tmp_path):
    _, pqf = _files(tmp_path)
    p = run_cli(["head", pqf, "-n", "2", "--width", "20"], check=True)
    out = p.stdout.decode()
    assert out.count('"id"') == 2 and '"id": "r0"' in out and '"id": "r1"' in out
    assert "中文文本中文文本中文文本中文文本中文文本… [781 more characters]" in out
    p = run_cli(["head", pqf, "-n", "3", "--jsonl"], check=True)
    assert [orjson.loads(x) for x in p.stdout.splitlines()] == RECS[:3]


def test_count_counts_records_bytes_bad_lines_and_keys(run_cli, tmp_path):
    jl, pqf = _files(tmp_path)
    p = run_cli(["count", jl, pqf, "--json"], check=True)
    got = orjson.loads(p.stdout)
    assert [(c["file"], c["records"], c["bad_records"]) for c in got] == [
        (str(jl), 30, {"invalid_json": 1}), (str(pqf), 30, {}), ("total", 60, {"invalid_json": 1})]
    assert got[2]["keys"] == {"id": 60, "text": 60, "url": 20}
    assert got[0]["bytes"] == sum(len(orjson.dumps(r)) + 1 for r in RECS) + len(b"{broken\n")
    table = run_cli(["count", str(tmp_path / "*")], check=True).stdout.decode()
    assert "total" in table and "url" in table and "33.3" in table


def test_sample_is_the_same_for_a_seed_and_in_input_order(run_cli, tmp_path):
    _, pqf = _files(tmp_path)
    a = run_cli(["sample", pqf, "-n", "5", "--seed", "7"], check=True).stdout
    b = run_cli(["sample", pqf, "-n", "5", "--seed", "7"], check=True).stdout
    c = run_cli(["sample", pqf, "-n", "5", "--seed", "8"], check=True).stdout
    ids = [orjson.loads(x)["id"] for x in a.splitlines()]
    assert a == b and a != c and len(ids) == 5 == len(set(ids))
    assert ids == sorted(ids, key=lambda i: int(i[1:]))
    # uniform: over many seeds every record is drawn about n/N of the time
    hits = {r["id"]: 0 for r in RECS}
    for seed in range(600):
        for r in look.sample([str(pqf)], 5, seed):
            hits[r["id"]] += 1
    assert min(hits.values()) > 60 and max(hits.values()) < 140  # expected 100 each


def test_inspect_errors_are_one_line_with_exit_codes(run_cli, tmp_path):
    p = run_cli(["head", tmp_path / "nothing*.parquet"])
    assert p.returncode == 1 and p.stderr.decode() == f"corpuskit head: error: {tmp_path}/nothing*.parquet: no file matches\n"
    jl, _ = _files(tmp_path)
    p = run_cli(["sample", jl, "-n", "40"])
    assert p.returncode == 1 and p.stderr.decode().startswith(f"corpuskit sample: error: {jl}:31: invalid JSON")


def test_stages_read_compressed_stdin_and_parquet_stdin(run_cli, tmp_path):
    body = b"".join(orjson.dumps(r) + b"\n" for r in RECS)
    want = run_cli(["normalize", "-q"], input=body, check=True).stdout
    for data in (gzip.compress(body), zstandard.ZstdCompressor().compress(body)):
        assert run_cli(["normalize", "-q"], input=data, check=True).stdout == want
    _, pqf = _files(tmp_path)
    assert run_cli(["normalize", "-q"], input=pqf.read_bytes(), check=True).stdout == want


def test_limit_and_parquet_output_on_a_stage(run_cli, tmp_path):
    jl, pqf = _files(tmp_path)
    p = run_cli(["normalize", jl, pqf, "--limit", "4", "-o", tmp_path / "out.parquet", "-q"], check=True)
    got = list(read_records(str(tmp_path / "out.parquet")))
    assert [r["id"] for r in got] == ["r0", "r1", "r2", "r3"] * 2
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
    p = run_cli(["normalize", pqf, "--limit", "0"])
    assert p.returncode == 2
    p = run_cli(["normalize", pqf, "-o", tmp_path / "out.arrow"])
    assert p.returncode == 2 and b"not Arrow files" in p.stderr


def test_binary_input_error_has_no_encoding_hint(run_cli, tmp_path):
    f = tmp_path / "photo.jsonl"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    p = run_cli(["normalize", f])
    err = p.stderr.decode()
    assert p.returncode == 1 and err.startswith(f"corpuskit normalize: error: {f}: binary data")
    assert "iconv" not in err and err.count("\n") == 1


def test_stage_reads_and_writes_urls_jsonl_and_parquet(run_cli, tmp_path):
    fs = fsspec.filesystem("memory")
    jl, pqf = _files(tmp_path)
    fs.pipe("/ck-cli/in/b.parquet", pqf.read_bytes())
    fs.pipe("/ck-cli/in/a.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in RECS[:3]))
    try:
        run_cli(["normalize", "memory://ck-cli/in/*", "-o", "memory://ck-cli/out/x.parquet", "-q"], check=True)
        (tmp_path / "x.parquet").write_bytes(fs.cat("/ck-cli/out/x.parquet"))
        assert [r["id"] for r in read_records(str(tmp_path / "x.parquet"))] == ["r0", "r1", "r2"] + [r["id"] for r in RECS]
        p = run_cli(["count", "memory://ck-cli/in", "--json"], check=True)
        assert orjson.loads(p.stdout)[-1]["records"] == 33
    finally:
        fs.rm("/ck-cli", recursive=True)


def test_show_prints_any_id_and_a_damaged_file_is_one_error_line(run_cli, tmp_path):
    # an id that is not a string (a big integer, null, a list) stopped `show` with a traceback
    # ("'int' object is not subscriptable"), and so did a damaged file of the folder
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(b'{"id":18446744073709551616,"text":"one two"}\n{"id":null,"text":"three"}\n'
                                  b'{"id":[1],"text":"four"}\n')
    clean = tmp_path / "clean"
    assert run_cli(["pipeline", raw, clean, "--stages", "cat", "-q"]).returncode == 0
    r = run_cli(["show", clean])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert [x.split()[0] for x in lines[1:4]] == ["18446744073709551616", "null", "[1]"]
    (clean / "rejected").mkdir(exist_ok=True)
    (clean / "rejected" / "x.jsonl.zst").write_bytes(b"garbage\n")
    r = run_cli(["show", clean])
    err = r.stderr.decode()
    assert r.returncode == 1 and err.startswith("corpuskit show: error: ") and "x.jsonl.zst:1: invalid JSON" in err
    assert err.count("\n") == 1 and "Traceback" not in err
