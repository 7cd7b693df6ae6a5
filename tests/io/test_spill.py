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
