"""Spill files: what goes in comes back, in order and unchanged (integers beyond 64 bits too)."""
from __future__ import annotations

from corpuskit.io.spill import SpillWriter, read_spill


def test_spill_round_trip(tmp_path):
    recs = [{"id": str(i), "text": "中文 text " * (i % 7), "meta": {"n": i}} for i in range(3000)]
    recs.append({"id": "big", "text": "x", "n": 2 ** 70, "f": 0.1})  # orjson cannot write it
    path = str(tmp_path / "s.jsonl.zst")
    w = SpillWriter(path)
    for r in recs:
        w.write(r)
    size = w.close()
    assert size == (tmp_path / "s.jsonl.zst").stat().st_size > 0
    assert w.records == len(recs)
    assert w.close() == size  # closing twice is harmless
    assert list(read_spill(path)) == recs
    raw = list(read_spill(path, parse=False))
    assert len(raw) == len(recs) and raw[-1].rstrip(b"\n").endswith(b"}")


def test_huge_spilled_records_come_back_parsed_in_parts(tmp_path, monkeypatch):
    """A spilled record over HUGE_LINE is parsed in parts (jsonl.loads_handed: the line let go
    before its long strings become strs), and comes back as it went in, exact integers too."""
    from corpuskit.io import jsonl

    monkeypatch.setattr(jsonl, "HUGE_LINE", 64)
    monkeypatch.setattr(jsonl, "_PIECE", 16)
    calls = []
    real = jsonl.split_huge
    monkeypatch.setattr(jsonl, "split_huge", lambda line: calls.append(len(line)) or real(line))
    recs = [{"id": "a", "text": "中文 text\n😀 \"q\" " * 20, "n": 2 ** 70, "meta": {"t": "y" * 80}},
            {"id": "b", "text": "short"}]
    path = str(tmp_path / "s.jsonl.zst")
    w = SpillWriter(path)
    for r in recs:
        w.write(r)
    w.close()
    assert list(read_spill(path)) == recs and len(calls) == 1
    batch = [b'{"text":"' + b"z" * 100 + b'"}\n']
    assert jsonl.loads_handed(batch) == {"text": "z" * 100} and batch == [None]
