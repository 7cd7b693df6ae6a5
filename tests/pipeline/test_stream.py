"""Single-stage runs (`corpuskit STAGE`): what pipeline/stream.py guarantees."""
import os

import orjson
import pytest

DOCS = [{"text": "one two three four five six seven eight nine ten eleven twelve"},
        {"text": "short"},
        {"text": "今天北京的天气很好，我们一起去公园散步，看到了很多美丽的花。"}]


def _input(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in DOCS))
    return p


@pytest.mark.parametrize("other", ["--rejected", "--bad-records", "--stats"])
def test_same_path_for_two_outputs_is_refused(run_cli, tmp_path, other):
    src = _input(tmp_path)
    out = tmp_path / "s.jsonl"
    p = run_cli(["filter-short", src, "-o", out, other, out, "--min-words", "5"])
    assert p.returncode == 2
    err = p.stderr.decode()
    assert err.startswith("corpuskit filter-short: error: ") and "both write to" in err and other in err
    assert err.count("\n") == 1 and not out.exists()


def test_same_file_by_another_name_is_refused(run_cli, tmp_path):
    src = _input(tmp_path)
    out = tmp_path / "s.jsonl"
    out.write_bytes(b"")
    (tmp_path / "alias.jsonl").symlink_to(out)
    os.link(out, tmp_path / "hard.jsonl")
    for other in ("alias.jsonl", "hard.jsonl", "./sub/../s.jsonl"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        p = run_cli(["filter-short", src, "-o", out, "--rejected", tmp_path / other])
        assert p.returncode == 2, other
    # stdout and a --rejected that is stdout too
    p = run_cli(["filter-short", src, "--rejected", "-"])
    assert p.returncode == 2 and b"stdout" in p.stderr


def test_a_shared_character_device_is_allowed(run_cli, tmp_path):
    src = _input(tmp_path)
    p = run_cli(["filter-short", src, "-o", "/dev/null", "--rejected", "/dev/null", "--min-words", "5"])
    assert p.returncode == 0, p.stderr


def test_distinct_outputs_keep_every_record(run_cli, tmp_path):
    src = _input(tmp_path)
    p = run_cli(["filter-short", src, "-o", tmp_path / "k.jsonl", "--rejected", tmp_path / "r.jsonl",
                 "--min-words", "5"])
    assert p.returncode == 0, p.stderr
    kept = (tmp_path / "k.jsonl").read_bytes().splitlines()
    rej = (tmp_path / "r.jsonl").read_bytes().splitlines()
    assert len(kept) + len(rej) == 3 and len(rej) == 1
