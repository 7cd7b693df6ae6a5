"""dedup-lines: remove lines (or paragraphs) repeated across documents: footers, disclaimers,
"责任编辑：张三", share prompts, navigation.

A line's key is a 64-bit hash of its normalised form (NFKC, lower case, digits as 0,
punctuation and white space removed, Traditional folded to Simplified), as CCNet (Wenzek et al.
2020) normalises paragraphs before hashing them. A line whose key occurs in at least
`--min-docs` documents (2 by default: CCNet, Dolma's paragraph dedup and datatrove's
SentenceDedup all remove every occurrence after the first) is removed from every document but
the first one holding it, except a line that is content by its place in this document (with
`--unit line`):

* a line of code in a block (lines between blank lines) that also holds a line found nowhere
  else: `import numpy as np` or `return x` in a code sample is the sample's, while a block all
  of whose lines repeat (a template's script) goes whole;
* a line of a preformatted sample (an SQL column, an HTTP header, a nested statement): one
  indented with ASCII spaces or tabs deeper than the least indented line of its block, in a block
  that holds a line found nowhere else, is kept as code is. Prose indented alike throughout
  (plain text whose every paragraph starts with spaces) is not deeper than its block, and
  paragraph indentation with ideographic spaces (U+3000) is not ASCII;
* a line of quoted speech (the whole line inside quotation marks: `“Yes.”`, `「好的。」`) whose
  nearest non-blank line before or after is found nowhere else: a short reply in a story's
  dialogue repeats across stories, but it sits between the story's own lines;
* a heading: a short line (at most 10 words, a CJK character counting as one) standing alone
  between blank lines, found once in the document, not ending a sentence, and followed by a
  block that opens with a line found nowhere else of at least 10 words: "Introduction",
  "Ingredients" or "摘要" over this document's own text. A lone one-line block before such a
  paragraph (an "Advertisement" slot in mid-article) is kept too: a repeated line is removed
  only where nothing in the document says it introduces the document's own content.

There is no minimum length: short boilerplate ("责任编辑：张三",
"分享到：") is exactly what repeats. Lines that are empty once normalised (blank lines, lines
of punctuation) and lines of digits only (years, table cells, "[1]": data, and all alike once
digits are folded) are never removed. Within one document nothing is removed (a line repeated
inside one document is not boilerplate of the corpus).

How a run goes (bounded memory, deterministic):
1. Pass 1 spills each record to a zstd file and writes the (key, document number) pairs of its
   distinct line keys to one of 64 partition files, by the key's top bits. No text is kept.
2. Each partition is sorted on its own (memory: 16 bytes a pair of one partition); a key held
   by at least --min-docs documents is kept with its first document: 16 bytes per frequent key,
   held for pass 2 as two sorted arrays.
3. Pass 2 reads the spill back and removes the frequent lines from every document but their
   first. The result depends only on the input order.

Kept records whose text changed get ``meta.dedup_lines = {"removed": N, "removed_chars": C}``; a
record with nothing left is rejected (``empty_after_dedup_lines``).
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from corpuskit.core.errors import BadInput
from corpuskit.core.owner import remove_dead_scratch, scratch_prefix
from corpuskit.core.stage import Rejected, Rejection, StreamStage, opt, set_meta
from corpuskit.core.text import count_words, ends_with_terminal_punct, line_parts
from corpuskit.core.zhscript import fold_t2s
from corpuskit.io.spill import SpillWriter, read_spill
from corpuskit.io.writer import BIG_STR

_PARTS = 64
_FLUSH_PAIRS = 1 << 20  # pairs buffered in memory before they go to the partition files (16 MB)
_NOT_KEY = re.compile(r"[^\w\n]+|_+")
_DIGIT = re.compile(r"\d")
_PARA_SPLIT = re.compile(r"(\n[ \t]*\n\s*)")
# a text longer than this (characters) has its units' keys made this many characters at a time
CHUNK_CHARS = 1 << 20
# a line of program text: a statement's or a block's end, a statement keyword at its start, a
# call, an assignment or comparison, a shell or REPL prompt
_CODE_RE = re.compile(r"""[;{}]\s*$
    | ^\s*(?:import|from\s+\S+\s+import|def|class|return|var|let|const|function|public|private
           |static|package|using|\#include|\#define)\b
    | [A-Za-z_]\w*\([^()]*\)
    | [\w\])]\s?(?:==|!=|\+=|-=|=>|->|::|=)\s?[\w"'\[({-]
    | ^\s*(?:\$|>>>|\.\.\.)\s""", re.X)
# the whole line in quotation marks (straight, curly, CJK corner brackets, guillemets)
_QUOTED = re.compile(r"""^\s*["“„‘'「『«‹].*["”“’'」』»›]\s*$""")
HEADING_MAX_WORDS = 10
CONTENT_MIN_WORDS = 10


def _units(text: str, unit: str) -> tuple[list[str], list[str]]:
    """(units, separators): text == units[0] + seps[0] + units[1] + ... ."""
    if unit == "line":
        units = text.split("\n")
        return units, ["\n"] * (len(units) - 1)
    parts = _PARA_SPLIT.split(text)
    return parts[0::2], parts[1::2]


def _unit_batches(text: str, unit: str) -> Iterator[list[str]]:
    """The units of `_units(text, unit)`, in order, in lists of about CHUNK_CHARS characters: a
    long text's units are never all held at once. Line mode cuts the text at a line break
    (text[a:b].split("\n")), paragraph mode between two matches of _PARA_SPLIT (finditer scans
    as split does)."""
    if unit == "line":
        for part in line_parts(text, CHUNK_CHARS):
            yield part.split("\n")
        return
    batch: list[str] = []
    size = pos = 0
    for m in _PARA_SPLIT.finditer(text):
        u = text[pos:m.start()]
        batch.append(u)
        size += len(u)
        pos = m.end()
        if size >= CHUNK_CHARS:
            yield batch
            batch, size = [], 0
    batch.append(text[pos:])
    yield batch


def text_keys(text: str, unit: str) -> np.ndarray:
    """unit_keys(_units(text, unit)[0]), made CHUNK_CHARS characters of units at a time for a
    long text: the same keys (a key depends on its own unit only: NFKC, lower case, the folding
    and the substitutions never join across a line break), without the text's units, its
    normalised copies and str.lower's buffer (12 bytes a character) held whole: 14x a 50 MB
    record's UTF-8 bytes at the peak before."""
    if len(text) <= CHUNK_CHARS:
        return unit_keys(_units(text, unit)[0])
    return np.concatenate([unit_keys(b) for b in _unit_batches(text, unit)])


def distinct_keys(text: str, unit: str) -> np.ndarray:
    """The sorted distinct non-zero keys of the text's units (pass 1)."""
    if len(text) <= CHUNK_CHARS:
        keys = np.unique(unit_keys(_units(text, unit)[0]))
    else:  # each part's distinct keys first: a text of millions of like lines stays small
        keys = np.unique(np.concatenate([np.unique(unit_keys(b)) for b in _unit_batches(text, unit)]))
    return keys[keys != 0]


def unit_keys(units: list[str]) -> np.ndarray:
    """64-bit keys of the units' normalised forms; 0 for a unit with nothing left."""
    import xxhash

    joined = "\n".join(u.replace("\n", " ") for u in units)
    norm = _DIGIT.sub("0", _NOT_KEY.sub("", fold_t2s(unicodedata.normalize("NFKC", joined).lower())))
    keys = norm.split("\n")
    if len(keys) != len(units):  # pragma: no cover - NFKC never makes or removes a line break
        keys = [_DIGIT.sub("0", _NOT_KEY.sub("", fold_t2s(unicodedata.normalize("NFKC", u).lower())))
                for u in units]
    h = xxhash.xxh3_64_intdigest
    # a key of digits only (a year, a table cell, "[1]") is data, not boilerplate: never a candidate
    return np.fromiter((h(k.encode("utf-8", "surrogatepass")) | 1 if k and not k.isdigit() else 0
                        for k in keys), dtype=np.uint64, count=len(keys))


@dataclass
class DedupLines(StreamStage):
    name: ClassVar[str] = "dedup-lines"
    summary: ClassVar[str] = ("Remove lines (or paragraphs) repeated across documents (footers, "
                              "disclaimers, editor lines) from all but the first document holding them.")
    reasons: ClassVar[dict[str, str]] = {
        "empty_after_dedup_lines": "every line of the document was repeated boilerplate (detail: "
                                   "lines removed)",
    }

    min_docs: int = opt(2, "Remove a line found in at least this many documents from all but the "
                           "first (2: CCNet, Dolma, datatrove).")
    unit: str = opt("line", "What is compared: line | paragraph (blocks between blank lines).")
    tmp_dir: str = opt("", "Folder for the spill and partition files (default: the system's).")

    def __post_init__(self) -> None:
        if self.min_docs < 2:
            raise ValueError("--min-docs must be >= 2")
        if self.unit not in ("line", "paragraph"):
            raise ValueError("--unit must be 'line' or 'paragraph'")
        if self.tmp_dir and not os.path.isdir(self.tmp_dir):
            raise ValueError(f"--tmp-dir {self.tmp_dir}: no such folder")
        self._result: dict[str, Any] = {}

    def result(self) -> dict:
        return dict(self._result)

    def run(self, records: Iterable[dict]) -> Iterator[dict | Rejected]:
        tmp_root = self.tmp_dir or tempfile.gettempdir()
        remove_dead_scratch(tmp_root, "dedup-lines")  # what killed runs left
        work = tempfile.mkdtemp(prefix=scratch_prefix("dedup-lines"), dir=tmp_root)
        try:
            n, pairs = self._pass1(records, work)
            keys, first = self._frequent(work)
            self._result = {"documents": n, "line_keys": pairs, "frequent_keys": int(len(keys)),
                            "bytes_per_frequent_key": 16, "lines_removed": 0, "documents_changed": 0}
            # read_spill: integers beyond 64 bits come back as they were read, and a huge line is
            # parsed in parts and let go before its record is used
            for i, rec in enumerate(read_spill(os.path.join(work, "spill.zst"))):
                yield self._apply(rec, i, keys, first)
        finally:
            for name in os.listdir(work):
                os.unlink(os.path.join(work, name))
            os.rmdir(work)

    # ------------------------------------------------------------ pass 1
    def _pass1(self, records: Iterable[dict], work: str) -> tuple[int, int]:
        tf = self.text_field
        w = SpillWriter(os.path.join(work, "spill.zst"))
        parts = [open(os.path.join(work, f"p{k:02d}.u64"), "wb") for k in range(_PARTS)]  # noqa: SIM115
        hs: list[np.ndarray] = []
        ds: list[np.ndarray] = []
        buffered = 0
        n = pairs = 0

        def flush() -> None:
            nonlocal hs, ds, buffered
            if not hs:
                return
            h = np.concatenate(hs)
            d = np.concatenate(ds)
            part = (h >> np.uint64(58)).astype(np.int64)
            order = np.argsort(part, kind="stable")
            h, d, part = h[order], d[order], part[order]
            bounds = np.searchsorted(part, np.arange(_PARTS + 1))
            for k in range(_PARTS):
                lo, hi = bounds[k], bounds[k + 1]
                if hi > lo:
                    parts[k].write(np.stack([h[lo:hi], d[lo:hi]], axis=1).tobytes())
            hs, ds, buffered = [], [], 0

        try:
            for rec in records:
                text = rec.get(tf)
                if not isinstance(text, str):
                    raise BadInput("<records>", n + 1, "missing_field", f"field {tf!r} is missing or not a string")
                # (integers beyond 64 bits included; a huge text is encoded a slice at a time)
                w.write(rec, big=len(text) > BIG_STR)
                keys = distinct_keys(text, self.unit)
                if len(keys):
                    hs.append(keys)
                    ds.append(np.full(len(keys), n, dtype=np.uint64))
                    buffered += len(keys)
                    pairs += len(keys)
                    if buffered >= _FLUSH_PAIRS:
                        flush()
                n += 1
            flush()
        finally:
            w.close()
            for f in parts:
                f.close()
        return n, pairs

    # ------------------------------------------------------------ between the passes
    def _frequent(self, work: str) -> tuple[np.ndarray, np.ndarray]:
        keys_out, first_out = [], []
        for k in range(_PARTS):
            path = os.path.join(work, f"p{k:02d}.u64")
            a = np.fromfile(path, dtype=np.uint64).reshape(-1, 2)
            os.unlink(path)
            if not len(a):
                continue
            order = np.lexsort((a[:, 1], a[:, 0]))  # by key, then document
            a = a[order]
            starts = np.flatnonzero(np.concatenate(([True], a[1:, 0] != a[:-1, 0])))
            counts = np.diff(np.concatenate((starts, [len(a)])))
            keep = counts >= self.min_docs
            keys_out.append(a[starts[keep], 0])
            first_out.append(a[starts[keep], 1])
        if not keys_out:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64)
        keys = np.concatenate(keys_out)
        first = np.concatenate(first_out)
        order = np.argsort(keys)
        return keys[order], first[order]

    # ------------------------------------------------------------ pass 2
    def _apply(self, rec: dict, i: int, keys: np.ndarray, first: np.ndarray) -> dict | Rejected:
        if not len(keys):
            return rec
        text = rec[self.text_field]
        if len(text) <= CHUNK_CHARS:
            units, seps = _units(text, self.unit)
            h = unit_keys(units)
        else:  # a long text's units are made whole only when one of them goes
            h = text_keys(text, self.unit)
        pos = np.minimum(np.searchsorted(keys, h), len(keys) - 1)
        frequent = (keys[pos] == h) & (h != 0)
        drop = frequent & (first[pos] != np.uint64(i))
        if not drop.any():
            return rec
        if len(text) > CHUNK_CHARS:
            text = None  # (let go here: _apply_long frees the old text before the new one is joined)
            return self._apply_long(rec, h, frequent, drop)
        if self.unit == "line":
            spared = content_lines(units, frequent.tolist(), drop.tolist(), h)
            if spared:
                drop[spared] = False
                self._result["lines_spared"] = self._result.get("lines_spared", 0) + len(spared)
                if not drop.any():
                    return rec
        out: list[str] = []
        removed_chars = 0
        for j, u in enumerate(units):
            if drop[j]:
                removed_chars += len(u)
                continue
            if out:
                out.append(seps[j - 1] if j - 1 < len(seps) else "\n")
            out.append(u)
        removed = int(drop.sum())
        self._result["lines_removed"] += removed
        self._result["documents_changed"] += 1
        new = "".join(out)
        if not new.strip():
            return Rejected(rec, Rejection("empty_after_dedup_lines", f"{removed} removed"))
        rec[self.text_field] = new
        set_meta(rec, "dedup_lines", {"removed": removed, "removed_chars": removed_chars})
        return rec


    def _apply_long(self, rec: dict, h: np.ndarray, frequent: np.ndarray, drop: np.ndarray) -> dict | Rejected:
        """`_apply`'s removal for a text over CHUNK_CHARS characters, with the same result, in
        bounded memory: the units are spans of the text (16 bytes a unit), made strs one at a
        time (content_lines reads them through _Spans); the text left is made of slices of the
        old one (a run of kept units is one slice, with its separators; the separator before a
        run is the one before its first unit, as in _apply), joined a CHUNK_CHARS piece at a
        time, and the old text is let go before the pieces are joined into the new one."""
        tf = self.text_field
        text = rec[tf]
        starts, ends = _unit_spans(text, self.unit)
        if len(starts) != len(h):  # pragma: no cover - the same scan as _unit_batches
            raise AssertionError(f"{len(starts)} unit spans for {len(h)} keys")
        if self.unit == "line":
            spared = content_lines(_Spans(text, starts, ends), frequent.tolist(), drop.tolist(), h)
            if spared:
                drop[spared] = False
                self._result["lines_spared"] = self._result.get("lines_spared", 0) + len(spared)
                if not drop.any():
                    return rec
        removed = int(drop.sum())
        removed_chars = int((ends - starts)[drop].sum())
        self._result["lines_removed"] += removed
        self._result["documents_changed"] += 1
        kept = np.flatnonzero(~drop)
        # runs of consecutive kept units: [first unit, last unit]
        cut = np.flatnonzero(np.diff(kept) != 1) + 1
        run_first = kept[np.concatenate(([0], cut))] if len(kept) else kept
        run_last = kept[np.concatenate((cut - 1, [len(kept) - 1]))] if len(kept) else kept
        del kept, cut
        # the text left, as UTF-8 (surrogatepass: a lone surrogate comes back as it was), which
        # for Chinese and English is 0.7x its str: held beside the old text, then decoded once
        # the old text is gone (strs joined would hold old, parts and new at once)
        buf = bytearray()
        pieces: list[str] = []
        piece = ""
        size = 0
        blank = True  # every piece so far empty or white space
        for r, (a, b) in enumerate(zip(run_first.tolist(), run_last.tolist(), strict=True)):
            piece = text[int(starts[a]) if r == 0 else int(ends[a - 1]):int(ends[b])]
            if blank and piece and not piece.isspace():
                blank = False
            pieces.append(piece)
            size += len(piece)
            if size >= CHUNK_CHARS:
                buf += "".join(pieces).encode("utf-8", "surrogatepass")
                pieces, size = [], 0
        buf += "".join(pieces).encode("utf-8", "surrogatepass")
        del pieces, piece, starts, ends
        if blank:  # nothing left but white space: rejected, with its text as it came
            return Rejected(rec, Rejection("empty_after_dedup_lines", f"{removed} removed"))
        text = rec[tf] = None  # the old text goes before the new one is made
        rec[tf] = buf.decode("utf-8", "surrogatepass")
        del buf
        set_meta(rec, "dedup_lines", {"removed": removed, "removed_chars": removed_chars})
        return rec


def _unit_spans(text: str, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the units of `_units(text, unit)` in the text (int64 arrays)."""
    from array import array

    starts, ends = array("q", [0]), array("q")
    if unit == "line":
        find = text.find
        i = find("\n")
        while i >= 0:
            ends.append(i)
            starts.append(i + 1)
            i = find("\n", i + 1)
    else:
        for m in _PARA_SPLIT.finditer(text):
            ends.append(m.start())
            starts.append(m.end())
    ends.append(len(text))
    return np.frombuffer(starts, np.int64), np.frombuffer(ends, np.int64)


class _Spans:
    """The units of a text as a sequence, each made a str when it is read (content_lines reads
    them all a few times, never holding them)."""

    def __init__(self, text: str, starts: np.ndarray, ends: np.ndarray):
        self.text, self.starts, self.ends = text, starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, j: int) -> str:
        return self.text[int(self.starts[j]):int(self.ends[j])]

    def __iter__(self) -> Iterator[str]:
        text = self.text
        for k in range(0, len(self.starts), 1 << 16):
            for a, b in zip(self.starts[k:k + (1 << 16)].tolist(), self.ends[k:k + (1 << 16)].tolist(),
                            strict=True):
                yield text[a:b]


def content_lines(lines: Sequence[str], frequent: list[bool], drop: list[bool], keys: Any) -> list[int]:
    """Indexes of the lines to be dropped that are content by their place in the document (see
    the module doc): code (or a deeper-indented line) in a block that holds a line found nowhere
    else, quoted speech beside such a line, and headings over a block that opens with one."""
    n = len(lines)
    blank = [not ln.strip() for ln in lines]
    block = [0] * n  # the number of each line's block of non-blank lines
    b = 0
    for j in range(n):
        if blank[j]:
            b += 1
        block[j] = b
    own_in_block: set[int] = {block[j] for j in range(n) if not blank[j] and not frequent[j]}
    indent = [len(ln) - len(ln.lstrip(" \t")) for ln in lines]
    least_indent: dict[int, int] = {}
    for j in range(n):
        if not blank[j]:
            least_indent[block[j]] = min(least_indent.get(block[j], indent[j]), indent[j])
    spared = []
    for j in range(n):
        if not drop[j]:
            continue
        line = lines[j]
        if _CODE_RE.search(line) or indent[j] > least_indent[block[j]]:
            if block[j] in own_in_block:
                spared.append(j)
            continue
        if _QUOTED.match(line):
            p = j - 1
            while p >= 0 and blank[p]:
                p -= 1
            q = j + 1
            while q < n and blank[q]:
                q += 1
            if (p >= 0 and not frequent[p]) or (q < n and not frequent[q]):
                spared.append(j)
            continue
        alone = (j == 0 or blank[j - 1]) and j + 1 < n and blank[j + 1]
        if not alone or ends_with_terminal_punct(line) or count_words(line) > HEADING_MAX_WORDS:
            continue
        if int((keys == keys[j]).sum()) > 1:  # found twice in this document: no section title
            continue
        k = j + 1
        while k < n and blank[k]:
            k += 1
        if k < n and not frequent[k] and count_words(lines[k]) >= CONTENT_MIN_WORDS:
            spared.append(j)
    return spared
