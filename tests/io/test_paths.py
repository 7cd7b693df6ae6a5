"""The one folder walker and the one input classifier."""
import gzip

import pytest

from corpuskit.core.errors import BadInput
from corpuskit.io.paths import classify, require, walk


def test_walk_is_sorted_skips_hidden_and_link_loops(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    for rel in ("b/2.jsonl", "b/1.jsonl", "a/z.html", "top.txt", ".hidden/x.jsonl", "a/.dot.jsonl"):
        f = tmp_path / rel
        f.parent.mkdir(exist_ok=True)
        f.write_text("x\n")
    (tmp_path / "a" / "self").symlink_to(tmp_path / "a")  # a loop
    (tmp_path / "b" / "up").symlink_to(tmp_path)  # a loop through the root
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "e.jsonl").write_text("x\n")
    (tmp_path / "b" / "link").symlink_to(tmp_path / "elsewhere")  # not a loop: followed once
    loops = []
    got = [p.relative_to(tmp_path).as_posix() for p in walk(tmp_path, on_loop=loops.append)]
    assert got == ["a/z.html", "b/1.jsonl", "b/2.jsonl", "b/link/e.jsonl", "elsewhere/e.jsonl", "top.txt"]
    assert sorted(loops) == [str(tmp_path / "a" / "self"), str(tmp_path / "b" / "up")]


def test_classify_by_name_then_by_content(tmp_path):
    warc = tmp_path / "crawl.bin"
    warc.write_bytes(gzip.compress(b"WARC/1.0\r\nWARC-Type: warcinfo\r\n\r\n"))
    other = tmp_path / "notes.md"
    other.write_text("hello")
    assert classify("a.jsonl.zst") == "jsonl"
    assert classify("a.warc.gz") == "warc"
    assert classify("a.HTM") == "html"
    assert classify("list.urls") == "urls"
    assert classify(str(warc)) == "warc"
    assert classify(str(other)) is None
    assert classify(str(other), other="urls") == "urls"


def test_a_missing_path_is_not_found(tmp_path):
    with pytest.raises(BadInput) as e:
        require(tmp_path / "nope")
    assert e.value.reason == "not_found" and "no such file or directory" in str(e.value)
