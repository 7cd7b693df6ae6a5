"""Units as byte ranges (iter_units(spans=True)) are the units the lines give."""
import gzip
import random
import tracemalloc

import pytest

from corpuskit.core.errors import BadInput
from corpuskit.pipeline import plan as plan_mod
from corpuskit.pipeline.plan import iter_units, load_rows


def _units(path, max_lines, max_bytes, spans):
    out = []
    for u in iter_units([(str(path), "jsonl")], max_lines, max_bytes, spans=spans):
        assert (u.span is not None) == spans
        got = load_rows(u)
        out.append((u.key, got.first_line, got.lines))
    return out


def _lines(rng: random.Random, n: int) -> bytes:
    parts = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.1:
            parts.append(b"")  # blank line
        elif kind < 0.15:
            parts.append(b'{"text": "\xe4\xb8\xad\xe6\x96\x87"}\r')  # CRLF: the \r stays
        else:
            parts.append(b"x" * rng.choice([1, 3, 7, 20, 60, 200]))
    data = b"\n".join(parts)
    return data if rng.random() < 0.5 else data + b"\n"  # with and without the last newline


@pytest.mark.parametrize("seed", range(40))
def test_span_units_are_the_line_units(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    # small chunks, so that lines and units cross the chunks' edges
    monkeypatch.setattr(plan_mod, "SPAN_CHUNK", rng.choice([1, 2, 5, 16, 64, 1000]))
    f = tmp_path / "in.jsonl"
    f.write_bytes(_lines(rng, rng.randint(0, 120)))
    max_lines, max_bytes = rng.choice([1, 2, 3, 7, 50]), rng.choice([1, 10, 30, 100, 400, 10_000])
    assert _units(f, max_lines, max_bytes, True) == _units(f, max_lines, max_bytes, False)


@pytest.mark.parametrize("content", [b"", b"\n", b"\n\n", b"a", b"a\n", b"a\nb", b"\r\n\r\n"])
def test_span_units_of_tiny_files(tmp_path, content):
    f = tmp_path / "in.jsonl"
    f.write_bytes(content)
    for max_lines, max_bytes in ((1, 1), (2, 1), (10, 100)):
        assert _units(f, max_lines, max_bytes, True) == _units(f, max_lines, max_bytes, False)


def test_span_units_of_many_short_lines_a_unit_full_of_lines(tmp_path):
    # thousands of lines in one chunk: the unit's last line is found by halving the chunk
    rng = random.Random(7)
    f = tmp_path / "in.jsonl"
    f.write_bytes(b"\n".join(b"y" * rng.randint(0, 30) for _ in range(60_000)) + b"\n")
    for max_lines, max_bytes in ((10_000, 64 << 20), (777, 1 << 30), (5000, 40_000)):
        a, b = _units(f, max_lines, max_bytes, True), _units(f, max_lines, max_bytes, False)
        assert a == b and len(a) > 2


def test_compressed_files_are_read_here_as_lines(tmp_path):
    f = tmp_path / "in.jsonl.gz"
    f.write_bytes(gzip.compress(b'{"text": "a"}\n' * 5))
    units = list(iter_units([(str(f), "jsonl")], 2, 1 << 20, spans=True))
    assert [u.span for u in units] == [None] * 3 and [len(u.lines) for u in units] == [2, 2, 1]


def test_the_file_checks_run_when_the_units_are_planned(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_bytes(b"\xff\xfe{\x00}\x00\n\x00")  # UTF-16
    with pytest.raises(BadInput, match="UTF-16"):
        list(iter_units([(str(f), "jsonl")], 10, 1 << 20, spans=True))


def test_a_file_cut_short_after_planning_is_a_bad_input(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_bytes(b'{"text": "a"}\n' * 10)
    units = list(iter_units([(str(f), "jsonl")], 4, 1 << 20, spans=True))
    f.write_bytes(b'{"text": "a"}\n' * 5)
    with pytest.raises(BadInput, match="changed while it was read"):
        [load_rows(u) for u in units]


def test_a_unit_of_one_huge_line_is_read_without_a_copy(tmp_path):
    # the worker reads the line's bytes without its newline: the line it gets is the bytes read
    f = tmp_path / "in.jsonl"
    big = b'{"text": "' + b"x" * (3 << 20) + b'"}'
    f.write_bytes(b'{"text": "a"}\n' + big + b"\n" + b'{"text": "b"}')
    units = list(iter_units([(str(f), "jsonl")], 10, 1 << 20, spans=True))
    got = [load_rows(u).lines for u in units]
    assert got == [[b'{"text": "a"}'], [big], [b'{"text": "b"}']]
    assert [u.first_line for u in units] == [1, 2, 3]
    tracemalloc.start()
    try:
        load_rows(units[1])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * len(big)


def test_a_fifo_input_is_a_usage_error_naming_it(run_cli, tmp_path):
    # it was walked as a folder: "cannot list folder (Not a directory)"
    import os

    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    for args in (["pipeline", fifo, tmp_path / "clean", "--stages", "cat"], ["tokenize", fifo, "-o", tmp_path / "tok"]):
        r = run_cli(args)
        err = r.stderr.decode()
        assert r.returncode == 2 and f"{fifo}: a pipe or a device, not a file" in err and err.count("\n") == 1
