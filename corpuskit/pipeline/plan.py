"""Planning a run: the inputs in sorted order, cut into units.

A unit is consecutive lines of one JSONL file (at most `unit_lines` lines or `unit_bytes`
bytes), a group of page files, or one WARC file. The cut depends only on the data, so the same
input always gives the same units, whatever the number of workers or the engine.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from corpuskit.core.errors import UsageError
from corpuskit.io import remote
from corpuskit.io.jsonl import iter_line_batches
from corpuskit.io.paths import classify, require, walk


@dataclass
class Unit:
    file_index: int
    index: int
    name: str  # the input file, for error messages
    first_line: int = 1
    lines: list[bytes] = field(default_factory=list)
    kind: str = "jsonl"  # jsonl | html (a group of page files) | warc (one WARC/WET file)
    paths: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.file_index:05d}-{self.index:06d}"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def plan_inputs(raw: str | list[str], exclude: str | None = None,
                excluded: list[str] | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """([(path, kind)] in sorted order, [ignored files]). Folders are walked recursively;
    hidden entries are skipped. A path that does not exist is an error.

    `exclude`: the run's output folder. When it sits inside an input folder its files are not
    read back as input (each run would otherwise feed on the last one's output); the folder is
    appended to `excluded` when that happened."""
    items = [raw] if isinstance(raw, str) else list(raw)
    planned: list[tuple[str, str]] = []
    ignored: list[str] = []
    out_real = os.path.realpath(exclude) if exclude and not remote.is_url(exclude) else None
    for item in items:
        if remote.is_url(item):  # a remote folder or file, through fsspec
            got, skipped = remote.plan_remote(item)
            planned += got
            ignored += skipped
            continue
        p = require(item)
        if out_real is not None and _inside(os.path.realpath(p), out_real):
            raise UsageError(f"{item}: the input is inside the output folder {exclude}, "
                             "which the run replaces; write the output elsewhere")
        files = [p] if p.is_file() else walk(p, on_loop=ignored.append)
        # the output folder is read back only when it is inside this input
        guard = out_real is not None and os.path.isdir(out_real) and _inside(out_real, os.path.realpath(p))
        for f in files:
            if guard and _inside(os.path.realpath(f), out_real):
                if excluded is not None and exclude not in excluded:
                    excluded.append(exclude)
                continue
            kind = classify(str(f))
            if kind is None:
                ignored.append(str(f))
            else:
                planned.append((str(f), kind))
    return planned, ignored


def iter_units(plan: list[tuple[str, str]], max_lines: int, max_bytes: int) -> Iterator[Unit]:
    """Cut the inputs into units (see the module doc). Page files that follow each other in
    the plan are grouped, up to `max_lines` files or `max_bytes` bytes a unit."""
    group: list[str] = []
    group_size = 0
    group_fi = 0
    group_ui = 0

    def flush() -> Iterator[Unit]:
        nonlocal group, group_size, group_ui
        if group:
            yield Unit(group_fi, group_ui, group[0], kind="html", paths=group)
            group_ui += 1
            group, group_size = [], 0

    for fi, (path, kind) in enumerate(plan):
        if kind == "html":
            size = os.path.getsize(path)
            if group and (len(group) >= max_lines or group_size + size > max_bytes):
                yield from flush()
            if not group and group_ui == 0:  # the first page file of a run of them names the run
                group_fi = fi
            group.append(path)
            group_size += size
            continue
        yield from flush()
        group_ui = 0
        if kind == "warc":
            yield Unit(fi, 0, path, kind="warc", paths=[path])
            continue
        ui = 0
        buf: list[bytes] = []
        size = 0
        first = 1
        line_no = 1
        for _, lines, _ in iter_line_batches(path):
            for line in lines:
                if buf and (len(buf) >= max_lines or size + len(line) > max_bytes):
                    yield Unit(fi, ui, path, first, buf)
                    ui += 1
                    buf, size, first = [], 0, line_no
                buf.append(line)
                size += len(line) + 1
                line_no += 1
        if buf:
            yield Unit(fi, ui, path, first, buf)
    yield from flush()
