"""`mix`: a blend of sources at target proportions or budgets, deterministic.

`corpuskit mix --source web=web/:3 --source books=books.jsonl:1 --tokens 1e9 --seed 0 -o mix.jsonl`

* Weights are proportions (default 1 each), of tokens (counted with --tokenizer) or, with
  --docs, of documents. The budget is --tokens N or --docs N; without one it is the size of all
  the sources together, so the weights only re-balance them.
* A source's target is its share of the budget. A source larger than its target is sampled: its
  documents in a seeded pseudo-random order, taken while the middle of a document stays within
  the target. A smaller one is up-sampled: every document `k` times, plus a sample for the rest;
  each repeat says so in `meta.repeat = {"copy": i, "copies": n}` (i from 1).
* Output: every record gets `meta.source = NAME`. Sources are interleaved so that every prefix
  of the output keeps the documents' proportions; the repeats of a document come a full pass of
  its source apart (copy 1 of every selected document, then copy 2, ...). A document left out is
  a rejected record (`not_sampled`), so in = kept + rejected counts every read.

Memory: one size (int64) per document of the sources; the records themselves stream.
"""
from __future__ import annotations

import hashlib
import heapq
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from corpuskit.core.errors import UsageError
from corpuskit.core.stage import Rejected, Rejection, SourceStage, Table, opt, set_meta
from corpuskit.io import remote
from corpuskit.io.jsonl import RecordReader, expand_inputs
from corpuskit.io.paths import require
from corpuskit.tokens.tokenizers import get_tokenizer

COUNT_BATCH = 4096


@dataclass
class SourceSpec:
    name: str
    paths: list[str]
    weight: float


def parse_source(spec: str) -> SourceSpec:
    """NAME=PATH[:WEIGHT] (the weight is what follows the last ':' when it is a number)."""
    name, eq, rest = spec.partition("=")
    if not eq or not name or not rest:
        raise UsageError(f"--source {spec!r}: expected NAME=PATH[:WEIGHT]")
    path, weight = rest, 1.0
    head, colon, tail = rest.rpartition(":")
    if colon and head:
        try:
            weight = float(tail)
            path = head
        except ValueError:
            pass
    if not math.isfinite(weight) or weight < 0:
        raise UsageError(f"--source {spec!r}: the weight must be a number >= 0")
    require(path)
    paths = expand_inputs([path])
    for p in paths:
        if not remote.is_url(p) and not stat.S_ISREG(os.stat(p).st_mode):
            raise UsageError(f"--source {spec!r}: {p} is a stream (a pipe, a process substitution, "
                             "a device): mix reads a source twice, its sizes first, so give a file")
    return SourceSpec(name, paths, weight)


def _order(seed: int, name: str, n: int) -> np.ndarray:
    """A seeded pseudo-random permutation of range(n), the same on every machine."""
    key = int.from_bytes(hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=8).digest(), "little")
    rng = np.random.Generator(np.random.PCG64(key))
    return rng.permutation(n)


def copies_for(sizes: np.ndarray, target: float, seed: int, name: str) -> np.ndarray:
    """How many times each document goes into the mix for the source to reach `target`."""
    total = int(sizes.sum())
    n = len(sizes)
    copies = np.zeros(n, np.int64)
    if n == 0 or target <= 0:
        return copies
    if total == 0:  # every document has size 0: nothing to measure, keep them once
        copies[:] = 1
        return copies
    k = int(target // total)
    rest = target - k * total
    copies[:] = k
    perm = _order(seed, name, n)
    s = sizes[perm].astype(np.float64)
    mid = np.cumsum(s) - s / 2
    m = int(np.searchsorted(mid, rest, side="right"))
    copies[perm[:m]] += 1
    return copies


@dataclass
class Mix(SourceStage):
    """Sample and up-sample sources to target proportions or budgets."""

    name: ClassVar[str] = "mix"
    summary: ClassVar[str] = ("Blend sources at target proportions or budgets (--source NAME=PATH[:WEIGHT], "
                              "--tokens N | --docs N), sampling and up-sampling, deterministic by --seed; "
                              "records get meta.source = NAME.")
    reasons: ClassVar[dict[str, str]] = {"not_sampled": "left out to bring its source to its share"}
    in_pipeline: ClassVar[bool] = False  # it makes the input of a run, before it

    source: list[str] = opt([], "A source: NAME=PATH[:WEIGHT] (PATH a file or folder of JSONL; "
                            "WEIGHT its proportion, default 1).", repeat=True)
    tokens: int = opt(0, "Budget in tokens (0: the sources' own size).")
    docs: int = opt(0, "Budget in documents; weights are then proportions of documents.")
    seed: int = opt(0, "Seed of the sampling.")
    tokenizer: str = opt("cl100k_base", "How tokens are counted: cl100k_base, o200k_base, words, "
                         "chars or a tokenizer.json.")

    def __post_init__(self) -> None:
        if self.tokens < 0 or self.docs < 0:
            raise ValueError("--tokens and --docs must be >= 0")
        if self.tokens and self.docs:
            raise ValueError("give --tokens or --docs, not both")
        if not self.source:
            raise ValueError("give at least one --source NAME=PATH[:WEIGHT]")
        self.specs = [parse_source(s) for s in self.source]
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must differ: {', '.join(names)}")
        if sum(s.weight for s in self.specs) <= 0:
            raise ValueError("at least one source needs a weight > 0")
        self.unit = "documents" if self.docs else "tokens"
        self._result: dict = {}

    def _sizes(self, spec: SourceSpec) -> np.ndarray:
        reader = RecordReader(spec.paths, require_field=self.text_field, text_field=self.text_field,
                              assign_ids=False)
        if self.unit == "documents":
            return np.ones(sum(1 for _ in reader), np.int64)
        tok = get_tokenizer(self.tokenizer)
        count = getattr(tok, "count_docs", None)
        out: list[np.ndarray] = []
        batch: list[str] = []

        def flush() -> None:
            if count is not None:
                out.append(np.asarray(count(batch)[0], np.int64))
            else:
                out.append(np.asarray(tok.count_batch(batch), np.int64))
            batch.clear()

        for rec in reader:
            batch.append(rec[self.text_field])
            if len(batch) >= COUNT_BATCH:
                flush()
        if batch:
            flush()
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def plan(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(sizes, copies) per source."""
        sizes = [self._sizes(s) for s in self.specs]
        budget = float(self.tokens or self.docs or sum(int(x.sum()) for x in sizes))
        wsum = sum(s.weight for s in self.specs)
        copies = []
        rows = []
        for spec, sz in zip(self.specs, sizes):
            target = budget * spec.weight / wsum
            if target > 0 and len(sz) == 0:
                raise UsageError(f"source {spec.name}: no documents to reach its share")
            c = copies_for(sz, target, self.seed, spec.name)
            copies.append(c)
            rows.append({"source": spec.name, "weight": spec.weight, "target_share": spec.weight / wsum,
                         "target": round(target), "documents": len(sz), "size": int(sz.sum()),
                         "out_documents": int(c.sum()), "out_size": int((c * sz).sum()),
                         "not_sampled": int((c == 0).sum()), "max_copies": int(c.max()) if len(c) else 0})
        out_total = sum(r["out_size"] for r in rows)
        for r in rows:
            r["share"] = r["out_size"] / out_total if out_total else 0.0
        self._result = {"unit": self.unit, "budget": round(budget), "output_size": out_total,
                        "seed": self.seed, "sources": rows}
        return sizes, copies

    def input_files(self, inputs: list[str]) -> list[str]:
        return [p for spec in self.specs for p in spec.paths]

    def read(self, inputs: list[str]) -> Iterator[dict | Rejected]:
        if [i for i in inputs if i != "-"]:
            raise UsageError("mix reads its sources from --source NAME=PATH[:WEIGHT], not INPUT")
        _, copies = self.plan()
        streams = [self._stream(spec, c) for spec, c in zip(self.specs, copies)]
        emits = [int(c.sum()) for c in copies]
        # interleave: the source whose next emission is due earliest (its rank / its total)
        heap = [(0.5 / e, i) for i, e in enumerate(emits) if e]
        heapq.heapify(heap)
        done = [0] * len(streams)
        for i, e in enumerate(emits):
            if not e:  # nothing taken from it: its records are all rejected
                yield from streams[i]
        while heap:
            _, i = heapq.heappop(heap)
            for item in streams[i]:
                yield item
                if item.__class__ is not Rejected:
                    break
            done[i] += 1
            if done[i] < emits[i]:
                heapq.heappush(heap, ((done[i] + 0.5) / emits[i], i))
        for s in streams:  # rejected records after the last kept one of their source
            yield from s

    def _stream(self, spec: SourceSpec, copies: np.ndarray) -> Iterator[dict | Rejected]:
        rounds = int(copies.max()) if len(copies) else 0
        for r in range(max(rounds, 1)):
            reader = RecordReader(spec.paths, require_field=self.text_field, text_field=self.text_field)
            for j, rec in enumerate(reader):
                c = int(copies[j])
                if c == 0:
                    if r == 0:
                        set_meta(rec, "source", spec.name)
                        yield Rejected(rec, Rejection("not_sampled", f"source {spec.name}"))
                    continue
                if c <= r:
                    continue
                set_meta(rec, "source", spec.name)
                if c > 1:
                    set_meta(rec, "repeat", {"copy": r + 1, "copies": c})
                yield rec

    def result(self) -> dict:
        return self._result

    def tables(self) -> list[Table]:
        r = self._result
        if not r:
            return []
        u = r["unit"]
        docs = u != "documents"  # document columns beside the token ones
        cols = ["source", "weight", f"{u} in", *(["docs in"] if docs else []), f"{u} out",
                *(["docs out"] if docs else []), "not sampled", "max copies", "target", "share"]
        rows = [[x["source"], x["weight"], x["size"], *([x["documents"]] if docs else []), x["out_size"],
                 *([x["out_documents"]] if docs else []), x["not_sampled"], x["max_copies"],
                 f"{x['target_share']:.1%}", f"{x['share']:.1%}"] for x in r["sources"]]
        return [Table(f"corpuskit mix: {r['output_size']:,} {u} (budget {r['budget']:,}), seed {r['seed']}",
                      cols, rows)]
