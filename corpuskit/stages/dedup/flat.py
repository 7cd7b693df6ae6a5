"""dedup with no per-document state in this process: the `flat_executor` path
(`pipeline --engine ray`).

The stage still reads the stream twice here (pass 1 spills each raw line to a local zstd file,
pass 2 reads it back in order), but everything it keeps per document goes to the executor as
blocks, one per hashing batch: signatures, band keys, exact keys, lengths, token counts, ids
(`make_block`, run where the executor runs it: a Ray task, whose result stays in the object
store). The executor then
- groups the band rows and the exact-key rows by key on the cluster (a shuffle) and checks the
  candidates there (`band_rows`, and the engine's bucket check: the same pairs as
  graph._candidate_pairs and graph._exact_edges);
- hands back the candidate pairs with their estimated Jaccard (a number per pair: they grow
  with the duplicates, not with the corpus), verified here as locally (`Dedup._verify`);
- finds the clusters of the linked pairs in one task (`decide`: components over the pairs'
  documents only, the survivor, the exact-key check and the similarity to the survivor,
  reading the blocks it needs) and returns one decision per document in a cluster.
Pass 2 then walks the records and the decisions (sorted by position) side by side.
With `--index`, the index's documents are blocks made here from its file (`index_block`, 512
rows at a time) and put before the batch's, so they hold positions 0..n0-1 as in the local
dedup; after the clusters, the batch's blocks are copied to scratch files (`_NewRows`) and the
new index file is written from them after pass 2 (`_Index.extend_and_write`, as locally).
Same records, reasons, details, meta, counters and index file as the in-process path
(tests/engine).

The executor's interface (see corpuskit.engine.ray_dedup.RayFlatDedup): `start()`,
`add(fn, *args)` (a block made by a task), `put(block)` (a block made here),
`finish() -> (documents, documents without shingles)`,
`pairs(fn, exact, near, width) -> (near lo, hi, estimate, exact lo, hi)`,
`decide(fn, lo, hi, *args) -> dict`, `blocks(start)` (the blocks from a position on, one at a
time), `release()`.
"""
from __future__ import annotations

import os
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from corpuskit.core.errors import BadInput
from corpuskit.core.owner import remove_dead_scratch, scratch_prefix
from corpuskit.core.stage import Rejected, set_meta
from corpuskit.stages.dedup import minhash as mh
from corpuskit.stages.dedup.graph import _clusters
from corpuskit.stages.dedup.store import (
    HOLD_SHARE,
    RecordKeep,
    _IdWriter,
    _Index,
    _read_spill,
    _rmtree,
    _Table,
    field_key,
)

BLOCK_DOCS = 512  # documents per block (one hashing batch), or fewer when the batch is long
BLOCK_CHARS = 4 << 20
CHUNK = 4096  # rows of a table read or written at once (the new --index file: 2 MB of signatures)


def make_block(hash_fn: Callable, params: tuple, texts: list[str] | None, near: bool, b: int, r: int,
               width: int, id_blob: bytes, id_ends: np.ndarray, lengths: np.ndarray,
               field_keys: bytes | None, has_exact: bytes, fold: bool) -> tuple[tuple[int, int], dict]:
    """One block of documents: ((documents, documents without shingles), arrays). Runs where
    the executor puts it; `hash_fn` is the stage's `hash_batch_with` (`fold`: --fold-chinese,
    done there too)."""
    k = len(lengths)
    ntok = np.zeros(k, dtype=np.int64)
    sigs = np.zeros((k, width), dtype=np.uint32)
    bands = np.zeros((k, b), dtype=np.uint64)
    exact = np.zeros((k, 2), dtype=np.uint64)
    if texts is not None:
        s, t, keys, bk = hash_fn(params, texts, near, b, r, fold)
        exact = keys
        if near:
            sigs, ntok, bands = s, t, bk
    if field_keys is not None:
        exact = np.frombuffer(field_keys, dtype=np.uint64).reshape(-1, 2)
    block = {"sigs": sigs, "ntok": ntok, "bands": bands, "exact": exact,
             "has_exact": np.frombuffer(has_exact, dtype=np.uint8).astype(bool),
             "length": np.asarray(lengths, dtype=np.int64),
             "id_blob": np.frombuffer(id_blob, dtype=np.uint8), "id_ends": np.asarray(id_ends, dtype=np.int64)}
    return (k, int(np.count_nonzero(ntok == 0))), block


def band_rows(blocks: list[dict], starts: list[int], exact: bool, near: bool) -> dict[str, np.ndarray]:
    """The shuffle's rows of some blocks: (band, key, key2, pos). A band row per band of each
    document with shingles (key2 = 0); an exact row per document with an exact key (band = -1,
    key and key2 = the two halves of the 128-bit key)."""
    cols: dict[str, list[np.ndarray]] = {"band": [], "key": [], "key2": [], "pos": []}
    for blk, s in zip(blocks, starts):
        k = len(blk["length"])
        pos = s + np.arange(k, dtype=np.int64)
        if near:
            ok = np.flatnonzero(blk["ntok"] > 0)
            nb = blk["bands"].shape[1]
            cols["band"].append(np.tile(np.arange(nb, dtype=np.int32), len(ok)))
            cols["key"].append(blk["bands"][ok].ravel())
            cols["key2"].append(np.zeros(len(ok) * nb, dtype=np.uint64))
            cols["pos"].append(np.repeat(pos[ok], nb))
        if exact:
            ok = np.flatnonzero(blk["has_exact"])
            cols["band"].append(np.full(len(ok), -1, dtype=np.int32))
            cols["key"].append(np.ascontiguousarray(blk["exact"][ok, 0]))
            cols["key2"].append(np.ascontiguousarray(blk["exact"][ok, 1]))
            cols["pos"].append(pos[ok])
    empty = {"band": np.int32, "key": np.uint64, "key2": np.uint64, "pos": np.int64}
    return {c: (np.concatenate(v) if v else np.empty(0, empty[c])) for c, v in cols.items()}


def decide(lo: np.ndarray, hi: np.ndarray, fetch: Callable[[np.ndarray, str], Any], n0: int,
           survivor: str, exact: bool, top_n: int) -> dict[str, Any]:
    """The clusters of the linked pairs and what becomes of each of their new documents.
    `fetch(positions, field)` reads a block field ('length', 'exact', 'has_exact', 'sigs',
    'id') at global positions. Only documents in a pair are looked at: the memory is that of
    the pairs, not of the corpus. Components, survivor and numbering as graph._clusters on the
    whole corpus (its numbering follows the first document, as here)."""
    nodes = np.unique(np.concatenate([lo, hi])) if len(lo) else np.empty(0, np.int64)
    m = len(nodes)
    out: dict[str, Any] = {"pos": np.empty(0, np.int64), "surv": np.empty(0, np.int64),
                           "size": np.empty(0, np.int64), "comp": np.empty(0, np.int64),
                           "same": np.empty(0, bool), "sim": np.empty(0, np.float64),
                           "ids": {}, "clusters": 0, "cluster_sizes": {}, "top": []}
    if not m:
        return out
    a, c = np.searchsorted(nodes, lo), np.searchsorted(nodes, hi)
    lengths = fetch(nodes, "length") if survivor == "longest" else np.zeros(m, np.int64)
    if survivor == "longest":
        lengths = np.where(nodes < n0, np.iinfo(np.int64).max, lengths)
    comp, surv_local, size = _clusters(m, [(a, c)], lengths, 0, survivor)
    surv = nodes[surv_local[comp]]
    new = nodes >= n0
    g, s = nodes[new], surv[new]
    removed = s != g
    same = np.zeros(len(g), dtype=bool)
    if exact and removed.any():
        keys, has = fetch(nodes, "exact"), fetch(nodes, "has_exact")
        si = np.searchsorted(nodes, s)
        gi = np.flatnonzero(new)
        same = removed & has[gi] & has[si] & np.all(keys[gi] == keys[si], axis=1)
    sim = np.ones(len(g), dtype=np.float64)
    near_i = np.flatnonzero(removed & ~same)
    step = 1 << 15
    for st in range(0, len(near_i), step):
        part = near_i[st:st + step]
        sim[part] = mh.estimate_jaccard(fetch(g[part], "sigs"), fetch(s[part], "sigs"))
    big = np.argsort(-size, kind="stable")[:top_n]  # every component here has 2 documents or more
    named = np.unique(np.concatenate([s[removed], nodes[surv_local[big]]]))
    out.update(pos=g, surv=s, size=size[comp[new]], comp=comp[new], same=same, sim=sim,
               ids=dict(zip(named.tolist(), fetch(named, "id"))), clusters=int(len(size)),
               cluster_sizes={str(int(v)): int(k) for v, k in zip(*np.unique(size, return_counts=True))},
               top=[(int(x), int(size[x])) for x in big])
    return out


def index_block(index: _Index, s: int, e: int) -> dict:
    """Documents s..e-1 of an `--index` as a block (read from its file in place). They have no
    length (an index document always survives) and count as having shingles: every band row of
    the index enters the grouping, as in the local dedup."""
    k = e - s
    a = index.ids.span(s)[0]
    ends = index.ids.ends.read(s, e)[:, 0]
    return {"sigs": index.sigs.read(s, e), "ntok": np.ones(k, dtype=np.int64), "bands": index.bands.read(s, e),
            "exact": index.exact.read(s, e), "has_exact": index.has_exact.read(s, e)[:, 0].astype(bool),
            "length": np.zeros(k, dtype=np.int64),
            "id_blob": np.frombuffer(index.ids.blob(a, int(ends[-1])), dtype=np.uint8),
            "id_ends": ends - a}


class _NewRows:
    """This run's documents as `_Index.extend_and_write` reads them (signatures, band keys, exact
    keys, ids), copied from the blocks to files in `work`, one block at a time."""

    def __init__(self, work: str, width: int, bands: int) -> None:
        p = lambda name: os.path.join(work, name)  # noqa: E731
        self._w = {"sigs": _Table(p("new.sigs"), width, np.uint32), "bands": _Table(p("new.bands"), bands, np.uint64),
                   "exact": _Table(p("new.exact"), 2, np.uint64), "has_exact": _Table(p("new.has_exact"), 1, np.bool_)}
        self._ids = _IdWriter(work)
        self._open: list[Any] = []
        self.n = 0

    def add(self, blk: dict) -> None:
        for k, w in self._w.items():
            w.add(blk[k])
        self._ids.add_many(bytes(blk["id_blob"]), blk["id_ends"])
        self.n += len(blk["length"])

    def finish(self) -> None:
        self.sigs, self.bands, self.exact, self.has_exact = (self._w[k].reader() for k in
                                                             ("sigs", "bands", "exact", "has_exact"))
        self.ids = self._ids.reader()
        self._open = [self.sigs, self.bands, self.exact, self.has_exact, self.ids]

    def close(self) -> None:
        for w in self._w.values():
            w.close()
        self._ids.close()
        for t in self._open:
            t.close()
        self._open = []


def run_flat(stage: Any, records: Iterable[dict], ex: Any, hash_fn: Callable, top_n: int) -> Iterator[dict | Rejected]:
    """`Dedup.run` with the executor holding the per-document state (see the module doc). With
    `--index`, the index's documents are the first blocks (positions 0..n0-1), read from its
    file a block at a time, so they come before this batch and always survive; its file is
    written again at the end, as a stream, with this batch's kept documents added."""
    t0 = time.perf_counter()
    stage._stats_exact = 0
    stage._stats_exact_skipped = 0
    b, r = stage.lsh_params()
    width = stage.num_perm
    hasher = mh.MinHasher(stage.num_perm, stage.seed, stage.ngram)
    tmp_root = stage.tmp_dir or tempfile.gettempdir()
    stage._stats_cleaned = remove_dead_scratch(tmp_root, "dedup")
    work = tempfile.mkdtemp(prefix=scratch_prefix("dedup"), dir=tmp_root)
    index = new_rows = None
    try:
        index = _Index.load(stage.index, stage._params()) if stage.index else _Index.empty(width, b)
        n0 = index.size
        rereadable = isinstance(records, (list, tuple)) or getattr(records, "rereadable", False)
        n, no_shingles, spill_bytes, held = _pass1(stage, records, ex, hash_fn, work, b, r, width,
                                                   spill=not rereadable, index=index)
        if held is not None:  # the stream fitted in memory: read twice from there
            records, rereadable = held, True
        t1 = time.perf_counter()
        lo, hi, est, elo, ehi = ex.pairs(band_rows, stage.exact, stage.near, width)
        edges_lo, edges_hi = [elo], [ehi]
        n_cand = n_ver = 0
        if stage.near and n:
            new = hi >= n0  # pairs inside the index were settled when it was built
            lo, hi, est = lo[new], hi[new], est[new]
            n_cand = len(lo)
            sims = stage._verify(lo, hi, None, hasher, records, work, n0, spill=not rereadable, est=est)
            ok = sims >= stage.threshold
            n_ver = int(ok.sum())
            edges_lo.append(lo[ok])
            edges_hi.append(hi[ok])
        del lo, hi, est
        d = ex.decide(decide, np.concatenate(edges_lo), np.concatenate(edges_hi), n0, stage.survivor,
                      stage.exact, top_n)
        if stage.index:  # this batch's rows, for the new index file (written after pass 2)
            new_rows = _NewRows(work, width, b)
            for blk in ex.blocks(n0):
                new_rows.add(blk)
                del blk
            new_rows.finish()
        ex.release()
        t2 = time.perf_counter()
        stage._stats = {
            "documents": n, "index_documents": n0, "no_shingles": no_shingles,
            "bands": b, "rows": r, "threshold": stage.threshold, "num_perm": stage.num_perm,
            "ngram": stage.ngram, "survivor": stage.survivor, "verify": stage.verify, "key": stage.key,
            "catch_probability": {str(j): round(mh.catch_probability(j, b, r), 4) for j in (0.5, 0.7, 0.8, 0.9)},
            "candidate_pairs": n_cand, "verified_pairs": n_ver,
            "exact_jaccard_checks": stage._stats_exact,
            "exact_checks_skipped_over_memory_budget": stage._stats_exact_skipped,
            "exact_duplicate": 0, "near_duplicate": 0, "clusters": d["clusters"],
            # cluster size -> how many clusters have it (size 1, a unique document, left out)
            "cluster_sizes": d["cluster_sizes"],
            "spill_bytes": spill_bytes,
            # the option as given (the driver holds no per-document table to bound here); the
            # scratch on disk is the spill above, the tables live in Ray's object store
            "max_memory": stage._budget,
            "seconds": {"pass1_signatures": round(t1 - t0, 3), "lsh_verify_cluster": round(t2 - t1, 3)},
        }
        if stage._stats_cleaned:
            stage._stats["removed_dead_scratch"] = stage._stats_cleaned
        top: dict[int, dict] = {c: {"kept": None, "size": sz, "removed": []} for c, sz in d["top"]}
        pos, surv, size, comp, same, sim, names = (d["pos"], d["surv"], d["size"], d["comp"], d["same"],
                                                   d["sim"], d["ids"])
        kept = 0
        ptr, end = 0, len(pos)
        idf = stage.id_field
        source = _read_spill(os.path.join(work, "spill.jsonl.zst")) if not rereadable else iter(records)
        for i, rec in enumerate(source):
            g = n0 + i  # global position (the index's documents come first)
            rid = rec.get(idf)
            own = str(rid) if rid is not None else f"#{i + 1}"
            if ptr < end and pos[ptr] == g:
                s, csize, c, k = int(surv[ptr]), int(size[ptr]), int(comp[ptr]), ptr
                ptr += 1
            else:
                s, csize, c, k = g, 1, -1, -1
            entry = top.get(c) if c >= 0 else None
            sid = own if s == g else names[s]
            if entry is not None:
                entry["kept"] = sid
                if s != g and len(entry["removed"]) < 5:
                    entry["removed"].append(rec.get(idf, own))
            if s == g:
                kept += 1
                set_meta(rec, "dedup", {"cluster": own, "cluster_size": csize})
                yield rec
                continue
            yield stage._removed(rec, sid, csize, bool(same[k]), float(sim[k]))
        stage._stats["kept"] = kept
        stage._stats["top_clusters"] = [e for e in top.values() if e["removed"]]
        if new_rows is not None:
            stage._index_written(index.extend_and_write(stage.index, stage._params(), new_rows,
                                                        pos[surv != pos] - n0, CHUNK))
        stage._stats["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    finally:
        ex.release()
        if new_rows is not None:
            new_rows.close()
        if index is not None:
            index.close()
        _rmtree(work)


def _pass1(stage: Any, records: Iterable[dict], ex: Any, hash_fn: Callable, work: str, b: int, r: int,
           width: int, spill: bool, index: _Index) -> tuple[int, int, int, list | None]:
    """Read the stream once: keep the records for the later reads (when it cannot be read
    twice: held in memory while they fit, else spilled, as the local stage does) and send every
    batch's per-document data to the executor as a block, after the index's documents.
    Returns (documents, documents without shingles, spill bytes, the held records or None),
    the index's not counted."""
    import xxhash

    keep = RecordKeep(os.path.join(work, "spill.jsonl.zst"), stage._budget // HOLD_SHARE) if spill else None
    key_text = stage.key == "text"
    use_kernel = stage.near or key_text
    params = (stage.num_perm, stage.seed, stage.ngram)
    h128 = xxhash.xxh3_128_digest
    tf, idf = stage.text_field, stage.id_field
    n = 0
    texts: list[str] = []
    chars = 0
    id_blob = bytearray()
    id_ends = array("q")
    lengths = array("q")
    field_keys = bytearray()
    has_exact = bytearray()

    def flush() -> None:
        nonlocal texts, chars, id_blob, id_ends, lengths, field_keys, has_exact
        if not lengths:
            return
        ex.add(make_block, hash_fn, params, texts if use_kernel else None, stage.near, b, r, width,
               bytes(id_blob), np.frombuffer(id_ends, dtype=np.int64).copy(),
               np.frombuffer(lengths, dtype=np.int64).copy(), None if key_text else bytes(field_keys),
               bytes(has_exact), stage.fold_chinese)
        texts, chars = [], 0
        id_blob, id_ends, lengths = bytearray(), array("q"), array("q")
        field_keys, has_exact = bytearray(), bytearray()

    ex.start()
    for s in range(0, index.size, BLOCK_DOCS):
        ex.put(index_block(index, s, min(s + BLOCK_DOCS, index.size)))
    try:
        for rec in records:
            text = rec.get(tf)
            if not isinstance(text, str):
                raise BadInput("<records>", n + 1, "missing_field", f"field {tf!r} is missing or not a string")
            if keep is not None:
                keep.add(rec, text)
            rid = rec.get(idf)
            id_blob += (str(rid) if rid is not None else f"#{n + 1}").encode("utf-8", "surrogatepass")
            id_ends.append(len(id_blob))
            if key_text:
                has_exact.append(1)
            else:
                fk = field_key(rec.get(stage.key), h128)
                field_keys += fk if fk is not None else bytes(16)
                has_exact.append(fk is not None)
            lengths.append(len(text))
            n += 1
            if use_kernel:
                texts.append(text)
            chars += len(text)
            if len(lengths) >= BLOCK_DOCS or chars >= BLOCK_CHARS:
                flush()
        flush()
        spill_bytes = keep.finish() if keep is not None else 0
    finally:
        if keep is not None:
            keep.close()
    got_n, no_shingles = ex.finish()
    assert got_n == index.size + n, (got_n, index.size, n)
    return n, no_shingles, spill_bytes, (keep.held if keep is not None else None)
