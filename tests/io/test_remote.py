import sys

import fsspec
import pytest

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io import remote


def test_missing_fsspec_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(UsageError, match=r"pip install 'corpuskit\[remote\]'"):
        remote.fs_of("s3://bucket/x.jsonl")


def test_list_remote_sorts_skips_hidden_and_globs():
    fs = fsspec.filesystem("memory")
    for name in ("b/2.parquet", "a.jsonl.gz", ".hidden/x.jsonl", "b/1.arrow", "notes.md"):
        fs.pipe(f"/ck-list/{name}", b"x")
    try:
        kept, other = remote.list_remote("memory://ck-list", (".jsonl.gz", ".parquet", ".arrow"))
        assert kept == ["memory:///ck-list/a.jsonl.gz", "memory:///ck-list/b/1.arrow", "memory:///ck-list/b/2.parquet"]
        assert other == ["memory:///ck-list/notes.md"]
        assert remote.plan_remote("memory://ck-list/b/*")[0] == [("memory:///ck-list/b/1.arrow", "arrow"),
                                                                ("memory:///ck-list/b/2.parquet", "parquet")]
        with pytest.raises(BadInput, match="no file matches"):
            remote.list_remote("memory://ck-list/*.zst", (".zst",))
    finally:
        fs.rm("/ck-list", recursive=True)
