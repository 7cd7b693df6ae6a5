"""decontaminate: drop documents that contain evaluation items (benchmark leakage).

A document is contaminated when it shares an n-gram of tokens with an evaluation item:
13 tokens by default, as in GPT-3's (Brown et al. 2020, appendix C) and datatrove's
decontamination. Tokens are what survive punctuation and spacing: runs of letters and digits
(NFKC-folded, lower-cased) and single CJK characters, so for Chinese the n-gram is one of 13
characters; Traditional characters are folded to Simplified first (corpuskit.core.zhscript),
so a Traditional copy of a Simplified item matches too. An item shorter than n tokens but of at
least `--min-tokens` (8) is matched whole; shorter items are too generic to match and are
counted as skipped.

Evaluation files (given by the user; nothing is downloaded): JSONL records with the item's text
under `--eval-field` (default ``text``; several comma-separated fields are indexed as parts of
the same item) and its id under ``id``, or plain text, one item per line (id ``FILE:LINE``).
The index (n-gram hashes -> item) is built once per process, on the first record, and reused.

Rejected records get reason ``contaminated`` with the matching item's id as the detail.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import orjson

from corpuskit.core.errors import UsageError
from corpuskit.core.stage import RecordStage, Rejection, opt
from corpuskit.core.text import CJK_RANGES, cut_pieces
from corpuskit.core.zhscript import fold_t2s
from corpuskit.io.jsonl import RecordReader, input_kind, iter_lines

_TOKEN_RE = re.compile(f"[{CJK_RANGES}]|[^\\W_{CJK_RANGES}]+")
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MISSING = -1  # a document token no evaluation item holds
# a document longer than this many characters is matched a piece at a time (cut_pieces)
PIECE_CHARS = 1 << 16


def tokens(text: str) -> list[str]:
    """What n-grams are made of: punctuation and spacing dropped, width and case folded,
    Traditional folded to Simplified, each CJK character one token."""
    return _TOKEN_RE.findall(fold_t2s(unicodedata.normalize("NFKC", text).lower()))


def _window_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """A polynomial hash of every window of n ids (uint64 arithmetic wraps: mod 2**64)."""
    m = len(ids) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    x = (ids.astype(np.uint64) + np.uint64(1)) * np.uint64(0xC2B2AE3D27D4EB4F)
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            h = h * _MUL + x[j:j + m]
    return h


@dataclass
class _Index:
    vocab: dict[str, int]
    hashes: dict[int, np.ndarray]  # n-gram length -> sorted unique window hashes
    owner: dict[tuple[int, int], int]  # (length, hash) -> item number
    ids: list[str]
    skipped: int


@dataclass
class Decontaminate(RecordStage):
    name: ClassVar[str] = "decontaminate"
    summary: ClassVar[str] = ("Drop documents sharing a 13-token n-gram (13 characters of Chinese) "
                              "with an evaluation item from --against files.")
    reasons: ClassVar[dict[str, str]] = {
        "contaminated": "shares an n-gram with an evaluation item (detail: the item's id)",
    }

    against: list[str] = opt([], "Evaluation files: JSONL records (--eval-field, id), Parquet or Arrow "
                                 "rows (the same columns) or plain text, one item per line.")
    eval_field: str = opt("text", "Key(s) of the item text in JSONL, Parquet or Arrow evaluation files, "
                                  "comma-separated.")
    ngram: int = opt(13, "N-gram length in tokens: words, or characters for Chinese and Japanese "
                         "(GPT-3 and datatrove: 13).")
    min_tokens: int = opt(8, "Items shorter than --ngram but with at least this many tokens are "
                             "matched whole; shorter ones are skipped.")
    _index: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # (no --against is refused when the stage first runs, not here: `pipeline --print-config`
        # lists every stage with its defaults, and that listing must load back)
        if self.ngram < 1 or self.min_tokens < 1:
            raise ValueError("--ngram and --min-tokens must be >= 1")
        for p in self.against:
            if "://" not in p and not os.path.isfile(p):
                raise ValueError(f"--against {p}: no such file")

    def reference_files(self) -> list[str]:
        return list(self.against)

    def __getstate__(self) -> dict:
        # the index is rebuilt where the stage runs (it may be large): ship the options only
        state = dict(self.__dict__)
        state["_index"] = None
        return state

    # ------------------------------------------------------------ the index
    def _items(self):
        fields = [f.strip() for f in self.eval_field.split(",") if f.strip()]
        for path in self.against:
            name = os.path.basename(path)
            if input_kind(path) != "jsonl":  # Parquet or Arrow (as HF evaluation sets come): records
                # (it was read as lines of text: binary garbage for items, the set itself unused)
                for row, rec in enumerate(RecordReader([path], require_field=None, assign_ids=False), 1):
                    yield self._item(rec, fields, path, name, row, "row")
                continue
            for lineno, raw in iter_lines(path):
                line = raw.strip()
                if not line:
                    continue
                if line.startswith(b"{"):
                    try:
                        rec = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        rec = None
                    if isinstance(rec, dict):
                        yield self._item(rec, fields, path, name, lineno, "record")
                        continue
                yield f"{name}:{lineno}", [line.decode("utf-8", "replace")]

    def _item(self, rec: dict, fields: list[str], path: str, name: str, at: int, what: str
              ) -> tuple[str, list[str]]:
        """(id, texts) of an evaluation record: its id (or FILE:ROW) and its --eval-field texts."""
        parts = [rec[f] for f in fields if isinstance(rec.get(f), str)]
        if not parts:
            raise UsageError(f"--against {path}:{at}: no {self.eval_field!r} text in this {what} "
                             "(see --eval-field)")
        rid = rec.get("id")
        return (str(rid) if rid is not None else f"{name}:{at}"), parts

    def build_index(self) -> _Index:
        if not self.against:
            raise UsageError("decontaminate: --against: give at least one evaluation file")
        vocab: dict[str, int] = {}
        per_len: dict[int, list[np.ndarray]] = {}
        owners: dict[int, list[np.ndarray]] = {}
        ids: list[str] = []
        skipped = 0
        for item_id, parts in self._items():
            k = len(ids)
            ids.append(item_id)
            usable = False
            for part in parts:
                toks = tokens(part)
                if len(toks) < self.min_tokens:
                    continue
                usable = True
                arr = np.fromiter((vocab.setdefault(t, len(vocab)) for t in toks), dtype=np.int64,
                                  count=len(toks))
                n = min(self.ngram, len(toks))
                h = _window_hashes(arr, n)
                per_len.setdefault(n, []).append(h)
                owners.setdefault(n, []).append(np.full(len(h), k, dtype=np.int64))
            skipped += not usable
        if not per_len:  # every document would be kept without a comparison, as if clean
            raise UsageError(f"--against {','.join(self.against)}: no evaluation item of at least "
                             f"--min-tokens {self.min_tokens} tokens ({len(ids)} read): nothing to "
                             "compare with (check the files and --eval-field)")
        hashes: dict[int, np.ndarray] = {}
        owner: dict[tuple[int, int], int] = {}
        for n, hs in per_len.items():
            allh = np.concatenate(hs)
            allo = np.concatenate(owners[n])
            uniq, first = np.unique(allh, return_index=True)  # first item holding the n-gram
            hashes[n] = uniq
            for h, i in zip(uniq.tolist(), allo[first].tolist()):
                owner[(n, h)] = i
        return _Index(vocab, hashes, owner, ids, skipped)

    def index(self) -> _Index:
        if self._index is None:
            self._index = self.build_index()
        return self._index

    # ------------------------------------------------------------ matching
    def find(self, text: str) -> str | None:
        """The id of the first evaluation item (in document order) `text` contains, or None."""
        idx = self.index()
        if not idx.hashes:
            return None
        if len(text) <= PIECE_CHARS:
            ids = self._ids(idx, text)
            hit = self._first(idx, ids, len(ids))
            return hit[1] if hit else None
        # A huge document a piece at a time: its tokens as Python strings, their ids and window
        # hashes, all at once, took 29x its size. No token spans two pieces (cut_pieces). A
        # window is looked at in the piece where every n-gram length starting there is whole:
        # the last (longest n - 1) ids of a piece go on to the next, and only the windows
        # starting before them are looked at now, so a tie between two lengths at one position
        # is settled as on the whole text.
        keep = max(idx.hashes) - 1
        carry = np.zeros(0, dtype=np.int64)
        for piece in cut_pieces(text, PIECE_CHARS, ideographs=True):
            ids = self._ids(idx, piece)
            if carry.size:
                ids = np.concatenate((carry, ids))
            hit = self._first(idx, ids, len(ids) - keep)
            if hit is not None:
                return hit[1]
            carry = ids[max(0, len(ids) - keep):]
        hit = self._first(idx, carry, len(carry))  # the windows starting in the last ids
        return hit[1] if hit else None

    @staticmethod
    def _ids(idx: _Index, text: str) -> np.ndarray:
        toks = tokens(text)
        get = idx.vocab.get
        return np.fromiter((get(t, _MISSING) for t in toks), dtype=np.int64, count=len(toks))

    @staticmethod
    def _first(idx: _Index, ids: np.ndarray, limit: int) -> tuple[int, str] | None:
        """(position, item id) of the first window starting before `limit` that an item holds."""
        best: tuple[int, str] | None = None
        missing = None
        for n, table in idx.hashes.items():
            if len(ids) < n or limit <= 0:
                continue
            h = _window_hashes(ids, n)
            # a window holding a token no item has cannot match
            if missing is None:
                missing = np.concatenate(([0], np.cumsum(ids == _MISSING)))
            cand = np.flatnonzero(missing[n:] == missing[:-n])
            cand = cand[:np.searchsorted(cand, limit)]
            if not len(cand):
                continue
            hc = h[cand]
            # the table is sorted: a binary search per window (np.isin would sort both sides)
            at = np.minimum(np.searchsorted(table, hc), len(table) - 1)
            hit = cand[table[at] == hc]
            if len(hit):
                pos = int(hit[0])
                if best is None or pos < best[0]:
                    best = (pos, idx.ids[idx.owner[(n, int(h[pos]))]])
        return best

    def process(self, record: dict) -> dict | Rejection:
        hit = self.find(self.get_text(record))
        if hit is not None:
            return Rejection("contaminated", hit)
        return record
