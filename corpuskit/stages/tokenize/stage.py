"""`tokenize`: documents into token shards a trainer reads (Megatron-LM's indexed dataset or
npy), with a manifest.

The work is split in two so that any number of workers gives the same bytes:
* map (`map_unit`): a unit of records (consecutive lines of one input) is tokenised into a unit
  folder (ids and lengths, see shards.py); records with no text or fewer than `min_tokens`
  tokens are rejected;
* reduce (`write_output`): the unit folders, in unit order (or shuffled by a seeded hash of each
  document's place in the input), into shards of about `shard_tokens` tokens and manifest.json.

`corpuskit tokenize INPUT... -o OUTDIR` (corpuskit.pipeline.tokenize) runs the map over a
process pool with resumable unit folders in OUTDIR/.work; as a stream stage (`run`), the stage
passes its records through and writes the shards to its `output` folder when the stream ends.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from corpuskit.core.errors import UsageError
from corpuskit.core.stage import Rejected, Rejection, StreamStage, Table, opt
from corpuskit.io.jsonl import write_json_atomic
from corpuskit.stages.tokenize.shards import (
    FORMATS,
    TokenShards,
    UnitWriter,
    sha256_file,
    token_dtype,
    write_shards,
)
from corpuskit.tokens.tokenizers import TIKTOKEN_SPECS, Tokenizer, get_tokenizer

MANIFEST = "manifest.json"
BATCH_CHARS = 1 << 22  # characters handed to the tokenizer at once


@dataclass
class Tokenize(StreamStage):
    """Token ids of each document, then the end-of-text id, into shards."""

    name: ClassVar[str] = "tokenize"
    summary: ClassVar[str] = ("Token shards a trainer reads (Megatron-LM .bin/.idx or npy) from the "
                              "records' text, with manifest.json; -o is the output folder.")
    reasons: ClassVar[dict[str, str]] = {
        "empty": "the text is empty or only white space",
        "too_few_tokens": "fewer tokens than --min-tokens",
    }
    # the CLI gives this stage its own command: -o is a folder of shards, not a record stream
    writes_folder: ClassVar[bool] = True
    in_pipeline: ClassVar[bool] = False  # the pipeline runs it by its [tokenize] section

    tokenizer: str = opt("cl100k_base", "cl100k_base, o200k_base (offline, exact) or the path of a "
                         "Hugging Face tokenizer.json.")
    format: Literal["megatron", "npy"] = opt("megatron", "megatron: Megatron-LM's indexed dataset "
                                             "(.bin + .idx); npy: flat ids + document offsets.")
    shard_tokens: int = opt(1_000_000_000, "Tokens per shard, about (a shard ends with the "
                            "document that reaches it).")
    eos: str = opt("", "End-of-text token appended to every document: its text or id (default: "
                   "the tokenizer's own; 'none' for no token).")
    bos: str = opt("", "Token put before every document: its text or id (default: none).")
    min_tokens: int = opt(1, "Reject documents with fewer tokens (end-of-text not counted).")
    shuffle: bool = opt(False, "Write documents in a pseudo-random order (seeded, bounded memory).")
    seed: int = opt(0, "Seed of --shuffle.")
    output: str = opt("", "Folder the stream stage writes its shards into.", cli=False)
    threads: int = opt(0, "Tokenizer threads in this process (0: the cores it may use).", cli=False)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.shard_tokens < 1:
            raise ValueError(f"--shard-tokens must be >= 1 (got {self.shard_tokens})")
        if self.min_tokens < 0:
            raise ValueError(f"--min-tokens must be >= 0 (got {self.min_tokens})")
        if self.tokenizer in ("words", "chars"):
            raise ValueError(f"--tokenizer {self.tokenizer} has no token ids: use cl100k_base, "
                             "o200k_base or a tokenizer.json")
        self._tok: Tokenizer = get_tokenizer(self.tokenizer, self.threads)
        self.vocab_size = int(self._tok.n_vocab or 0)
        self.eos_id = self._resolve(self.eos, "eos", self._tok.default_eos())
        self.bos_id = self._resolve(self.bos, "bos", None)
        self.dtype = token_dtype(self.vocab_size)

    def _resolve(self, spec: str, what: str, default: int | None) -> int | None:
        if spec.lower() == "none":
            return None
        if spec == "":
            if what == "eos" and default is None:
                raise ValueError(f"{self.tokenizer} has no end-of-text token we know: give --eos "
                                 "TOKEN or ID (or --eos none)")
            return default
        got = int(spec) if spec.isdigit() else self._tok.token_id(spec)
        if got is None or not 0 <= got < self.vocab_size:
            raise ValueError(f"--{what} {spec!r}: not a token of {self.tokenizer} "
                             f"(ids 0..{self.vocab_size - 1})")
        return got

    def __getstate__(self) -> dict:
        st = dict(self.__dict__)
        st.pop("_tok", None)
        return st

    def __setstate__(self, st: dict) -> None:
        self.__dict__.update(st)
        self._tok = get_tokenizer(self.tokenizer, self.threads)

    # ------------------------------------------------------------ what the output depends on
    def map_fingerprint(self) -> dict:
        """What a unit folder depends on (the reduce options are not in it: a run with another
        --format, --shard-tokens or --seed reuses the tokenised units)."""
        spec: Any = self.tokenizer
        if self.tokenizer not in TIKTOKEN_SPECS:
            spec = {"path": os.path.abspath(self.tokenizer), "sha256": sha256_file(Path(self.tokenizer))}
        return {"tokenizer": spec, "eos": self.eos_id, "bos": self.bos_id,
                "min_tokens": self.min_tokens, "text_field": self.text_field}

    # ------------------------------------------------------------ map
    def encode(self, texts: list[str]) -> tuple[list[np.ndarray], list[int]]:
        """(ids of each text, exactly the tokenizer's, without eos/bos; indexes of documents whose
        ids are approximate: a white-space run of tens of thousands of characters, which plain
        tiktoken cannot encode, is cut)."""
        seqs, approx = self._tok.encode_docs(texts)
        return [np.asarray(s, dtype=np.int64) if not isinstance(s, np.ndarray) else s for s in seqs], approx

    def encode_parts(self, texts: list[str]) -> tuple[list[list[np.ndarray]], list[int]]:
        """`encode`, each text's ids as a list of arrays whose concatenation is its ids: a long
        text's ids stay in the parts they were made in (tiktoken: one a piece of
        `split_for_bpe`), never copied into one array."""
        parts_of = getattr(self._tok, "encode_doc_parts", None)
        if parts_of is None:
            seqs, approx = self.encode(texts)
            return [[s] for s in seqs], approx
        return parts_of(texts)

    def _as_dtype(self, ids: np.ndarray) -> np.ndarray:
        if ids.dtype == self.dtype:
            return ids
        # tiktoken's uint32 ids are int32's bytes (ids < 2**31): a view, not a copy
        return ids.view(self.dtype) if ids.dtype.itemsize == self.dtype.itemsize \
            and ids.dtype.kind in "iu" and self.dtype.itemsize == 4 else ids.astype(self.dtype)

    def map_unit(self, records: Iterable[dict], folder: Path, source: str,
                 on_reject: Callable[[Rejected], None]) -> dict:
        """Tokenise a unit's records into `folder` (ids.bin, lens.npy); returns its counters."""
        # each document's ids go to the unit's file as they come (only its length is kept)
        unit = UnitWriter(folder, self.dtype)
        sources: dict[str, list[int]] = {}
        reasons: Counter = Counter()
        counters = {"in": 0, "documents": 0, "tokens": 0, "approximate": 0}
        eos = None if self.eos_id is None else np.array([self.eos_id], self.dtype)
        bos = None if self.bos_id is None else np.array([self.bos_id], self.dtype)

        def flush(batch: list[dict], texts: list[str]) -> None:
            # records in input order; an empty text is rejected without reaching the tokenizer
            # (`not t or t.isspace()` is `not t.strip()` without a stripped copy of the text)
            todo = [t for t in texts if t and not t.isspace()]
            seqs, approx = self.encode_parts(todo) if todo else ([], [])
            counters["approximate"] += len(approx)
            it = iter(seqs)
            for rec, text in zip(batch, texts, strict=True):
                if not text or text.isspace():
                    reasons["empty"] += 1
                    on_reject(Rejected(rec, Rejection("empty", "no text")))
                    continue
                parts = next(it)
                ids = parts[0] if len(parts) == 1 else None  # a document of one part: the usual
                n_ids = len(ids) if ids is not None else sum(len(p) for p in parts)
                if n_ids < self.min_tokens:
                    reasons["too_few_tokens"] += 1
                    on_reject(Rejected(rec, Rejection("too_few_tokens",
                                                      f"{n_ids} tokens < {self.min_tokens}")))
                    continue
                if ids is not None:
                    n = unit.add([p for p in (bos, self._as_dtype(ids), eos) if p is not None])
                else:
                    n = unit.add([p for p in (bos, *map(self._as_dtype, parts), eos) if p is not None])
                src = _source_of(rec, source)
                got = sources.setdefault(src, [0, 0])
                got[0] += 1
                got[1] += n
                counters["documents"] += 1
                counters["tokens"] += n

        batch: list[dict] = []
        texts: list[str] = []
        size = 0
        try:
            for rec in records:
                counters["in"] += 1
                text = self.get_text(rec)
                batch.append(rec)
                texts.append(text)
                size += len(text) + 64
                if size >= BATCH_CHARS or len(batch) >= 8192:
                    flush(batch, texts)
                    batch, texts, size = [], [], 0
            if batch:
                flush(batch, texts)
        except BaseException:
            unit.abort()
            raise
        unit.close()
        return {**counters, "reasons": dict(reasons), "sources": sources}

    # ------------------------------------------------------------ reduce
    def write_output(self, units: list[tuple[str, Path]], unit_stats: list[dict], out: Path,
                     extra: dict | None = None) -> dict:
        """Shards and manifest.json into `out` (an empty folder) from the unit folders, in order."""
        shards = write_shards(units, out, self.format, self.dtype, self.shard_tokens,
                              shuffle=self.shuffle, seed=self.seed)
        manifest = self.manifest(shards, unit_stats, extra)
        write_json_atomic(str(out / MANIFEST), manifest)
        return manifest

    def manifest(self, shards: list[dict], unit_stats: list[dict], extra: dict | None = None) -> dict:
        sources: dict[str, dict[str, int]] = {}
        reasons: Counter = Counter()
        n_in = approx = 0
        for st in unit_stats:
            n_in += st["in"]
            approx += st["approximate"]
            reasons.update(st["reasons"])
            for name, (d, t) in st["sources"].items():
                s = sources.setdefault(name, {"documents": 0, "tokens": 0})
                s["documents"] += d
                s["tokens"] += t
        docs = sum(s["documents"] for s in shards)
        tokens = sum(s["tokens"] for s in shards)
        n_rej = sum(reasons.values())
        return {
            "format": self.format,
            "tokenizer": self.tokenizer if self.tokenizer in TIKTOKEN_SPECS else os.path.basename(self.tokenizer),
            "tokenizer_path": None if self.tokenizer in TIKTOKEN_SPECS else os.path.abspath(self.tokenizer),
            "vocab_size": self.vocab_size,
            "dtype": self.dtype.name,
            "eos": self.eos_id,
            "bos": self.bos_id,
            "shard_tokens": self.shard_tokens,
            "shuffle": self.shuffle,
            "seed": self.seed if self.shuffle else None,
            "documents": docs,
            "tokens": tokens,
            "documents_approximate": approx,
            "shards": shards,
            "sources": dict(sorted(sources.items())),
            "rejected": {"records": n_rej, "reasons": dict(sorted(reasons.items()))},
            "conservation": {"in": n_in, "documents": docs, "rejected": n_rej, "ok": n_in == docs + n_rej},
            **(extra or {}),
        }

    # ------------------------------------------------------------ as a stream stage
    def run(self, records: Iterable[dict]) -> Iterator[dict | Rejected]:
        """Records pass through (the rejected ones as Rejected); the shards are written to
        `output` when the stream ends."""
        if not self.output:
            raise UsageError("tokenize: the stream stage needs its output folder (option output)")
        out = Path(self.output)
        if out.exists() and any(out.iterdir()):
            raise UsageError(f"{out}: folder is not empty")
        work = Path(tempfile.mkdtemp(prefix=".tokenize-", dir=str(out.parent if out.parent.exists() else ".")))
        self._stats: list[dict] = []
        try:
            units: list[tuple[str, Path]] = []
            pending: list[dict] = []
            rejected: list[Rejected] = []

            def unit_done() -> Iterator[dict | Rejected]:
                key = f"{len(units):06d}"
                folder = work / key
                folder.mkdir()
                self._stats.append(self.map_unit(pending, folder, "<stream>", rejected.append))
                units.append((key, folder))
                gone = {id(r.record): r for r in rejected}
                for rec in pending:  # in input order, the rejected ones as Rejected
                    yield gone.get(id(rec), rec)
                pending.clear()
                rejected.clear()

            for rec in records:
                pending.append(rec)
                if len(pending) >= 10_000:
                    yield from unit_done()
            if pending or not units:
                yield from unit_done()
            out.mkdir(parents=True, exist_ok=True)
            self._manifest = self.write_output(units, self._stats, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def result(self) -> dict:
        m = getattr(self, "_manifest", None)
        if not m:
            return {}
        return {"documents": m["documents"], "tokens": m["tokens"], "shards": len(m["shards"]),
                "output": self.output}

    # ------------------------------------------------------------ reading back
    @staticmethod
    def open_shards(folder: str) -> TokenShards:
        return TokenShards(folder)

    @staticmethod
    def describe(folder: str, docs: list[int] | None = None,
                 verify: bool = False) -> tuple[list[Table], list[tuple[int, int, str]], list[str]]:
        """What `corpuskit tokens show` prints: tables of the manifest (shards, sources), (document
        number, tokens, decoded text) of the documents asked for, and with `verify` the files whose
        sha256 is not the manifest's."""
        ts = TokenShards(folder)
        m = ts.manifest
        bad: list[str] = []
        rows = []
        for s in m["shards"]:
            row = [s["name"], s["documents"], s["tokens"], " ".join(s["files"])]
            if verify:
                wrong = [f for f in s["files"] if not (Path(folder) / f).is_file()
                         or sha256_file(Path(folder) / f) != s["sha256"][f]]
                bad += wrong
                row.append("ok" if not wrong else "MISMATCH: " + " ".join(wrong))
            rows.append(row)
        overview = Table(f"{folder}: {m['format']}, {m['tokenizer']} (vocabulary {m['vocab_size']:,}, "
                         f"{m['dtype']}), eos {m['eos']}, bos {m['bos']}",
                         ["shard", "documents", "tokens", "files", *(["sha256"] if verify else [])],
                         rows + [["total", m["documents"], m["tokens"], "", *([""] if verify else [])]])
        tables = [overview]
        if m["sources"]:
            tables.append(Table("sources", ["source", "documents", "tokens", "share of tokens"],
                                [[k, v["documents"], v["tokens"], v["tokens"] / max(m["tokens"], 1)]
                                 for k, v in m["sources"].items()]))
        if m["rejected"]["records"]:
            tables.append(Table("rejected", ["reason", "records"], [[k, v] for k, v in m["rejected"]["reasons"].items()]))
        shown: list[tuple[int, int, str]] = []
        if docs:
            spec = m.get("tokenizer_path") or m["tokenizer"]
            try:
                tok = get_tokenizer(spec, 1)
            except UsageError as e:
                raise UsageError(f"cannot decode: {e}") from None
            for n in docs:
                try:
                    ids = ts.doc(n)
                except IndexError as e:
                    raise UsageError(str(e)) from None
                shown.append((n, len(ids), tok.decode(ids.tolist())))
        return tables, shown, bad


def _source_of(rec: dict, default: str) -> str:
    meta = rec.get("meta")
    if isinstance(meta, dict):
        src = meta.get("source")
        if isinstance(src, str) and src:
            return src
    return default
