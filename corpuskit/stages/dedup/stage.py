"""dedup: exact and near-duplicate removal (MinHash + LSH), in bounded memory.

How a run goes
1. Pass 1 reads the stream once. Records are held in memory while they fit an eighth of
   `--max-memory` (store.RecordKeep; a record whose text is over a million characters never
   is); past that, those held and every later one go as raw JSON lines to a zstd-compressed
   spill file (so stdin, files and a pipe of stages are all read twice the same way). Each
   record's text is
   turned into a MinHash signature in batches (`corpuskit.stages.dedup.minhash`: the numbers datasketch's
   MinHash gives). Every per-document table goes to a file in the scratch folder as it is
   made (store.py): the signature (4 bytes x num_perm), the band keys stored band by band
   (8 bytes a band), a 128-bit hash of the normalised text (or of `--key FIELD`), the length,
   the id. Nothing per document stays in memory; tables are read back with pread a chunk or
   a few rows at a time (pages read never count as resident memory).
2. Between the passes: documents with equal exact keys are linked; in each band, documents
   with equal band keys are candidate pairs, and a candidate pair is linked only when its
   similarity reaches `--threshold`: the estimated Jaccard (share of equal signature values),
   replaced by the true Jaccard of the two shingle sets when the estimate is too close to the
   threshold to tell (`--verify auto`, the default) or always (`--verify exact`). The grouping
   by key holds one table (the exact keys, or one band) in memory when it fits `--max-memory`,
   else scatters it by the key's top bits into partitions on disk that each fit and groups them
   one at a time (graph.Grouper): the same pairs. Clusters are the connected components of
   the links, computed over the linked documents only (the others are alone); each keeps one
   document (`--survivor first|longest`, ties to the first; a document already in `--index`
   always wins). Memory here grows with the candidate pairs (the duplicates), not the corpus.
3. Pass 2 reads the held records or the spill file and yields each record in its input order, kept (with
   `meta.dedup = {cluster, cluster_size}`) or rejected as `exact_duplicate` /
   `near_duplicate` (detail: the kept id and the estimated similarity to it).

The result depends only on the input order and the options: no randomness (permutations
come from a fixed seed), no dependence on batch sizes or threads.

On a cluster (`pipeline --engine ray`): the optional attribute `flat_executor` takes the
per-document state out of this process, with the same results (corpuskit.stages.dedup.flat,
corpuskit.engine.ray_dedup). The stage itself never imports Ray.

Re-readable input: `run()` spills whatever iterator it gets. If the caller hands it a
sequence (a list) or an object with a true `rereadable` attribute whose every `iter()`
yields the same records again, the spill is skipped and the input is read twice.

Bad input: an empty (or white-space only) text has no shingles, so it is never a near
duplicate; empty texts are exact duplicates of each other (first kept). All-punctuation text
likewise has no shingles and is only compared exactly. A single word repeated has one
shingle ("w w w w w"), so two such texts of the same word are near duplicates (J = 1) whatever
their lengths. A 50 MB text is hashed in 1 MB windows (memory stays flat) and kept or removed
like any other.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from corpuskit.core.errors import BadInput
from corpuskit.core.owner import remove_dead_scratch, scratch_prefix
from corpuskit.core.stage import Rejected, Rejection, StreamStage, Table, opt, set_meta
from corpuskit.core.text import TOKENS_VERSION
from corpuskit.core.zhscript import FOLD_VERSION, fold_t2s
from corpuskit.io.jsonl import loads_exact
from corpuskit.stages.dedup import minhash as mh
from corpuskit.stages.dedup.flat import run_flat
from corpuskit.stages.dedup.graph import (
    Grouper,
    _band_part_codes,
    _clusters_sparse,
    _exact_part_edges,
    _union_pairs,
)
from corpuskit.stages.dedup.minhash import catch_probability
from corpuskit.stages.dedup.store import (
    HOLD_SHARE,
    INDEX_VERSION,
    RecordKeep,
    _BandColumns,
    _Ids,
    _IdWriter,
    _Index,
    _read_spill,
    _rmtree,
    _Table,
    field_key,
    parse_size,
    replace_index,
)

_BATCH_DOCS = 512
_BATCH_CHARS = 4 << 20
_CATCH_TARGET = 0.99
# Shingle sets held at once for exact Jaccard checks (bytes); beyond it, estimates are kept.
_EXACT_BUDGET = 512 << 20
# rows of a per-document table read or written at once
_CHUNK = 1 << 16


def choose_bands(threshold: float, num_perm: int, target: float = _CATCH_TARGET) -> tuple[int, int]:
    """(bands, rows): the most rows per band (fewest false candidates) for which a pair at
    exactly `threshold` still shares a band with probability >= target. Candidates are
    verified afterwards, so a false candidate costs a comparison and a missed one is lost:
    hence a recall target rather than datasketch's balanced optimiser, which for 0.8 and 128
    permutations picks 9 x 13 and catches only 40% of the pairs at J = 0.8."""
    best = (num_perm, 1)
    for r in range(1, num_perm + 1):
        b = num_perm // r
        if catch_probability(threshold, b, r) >= target:
            best = (b, r)
    return best


TOP_CLUSTERS = 20  # largest duplicate clusters listed in the stats and the run report

@dataclass
class Dedup(StreamStage):
    name: ClassVar[str] = "dedup"
    summary: ClassVar[str] = ("Remove exact duplicates (same normalised text, or same --key) and "
                              "near duplicates (MinHash + LSH, verified), right for Chinese.")
    reasons: ClassVar[dict[str, str]] = {
        "exact_duplicate": "same normalised text (or same --key value) as the kept document",
        "near_duplicate": "in a cluster of near duplicates (Jaccard >= --threshold) whose kept "
                          "document is another one",
    }

    threshold: float = opt(0.8, "Jaccard similarity of shingle sets at which two documents are "
                                "near duplicates.")
    num_perm: int = opt(128, "MinHash permutations (datasketch's default, 128).")
    ngram: int = opt(5, "Shingle size in tokens: words for spaced text, characters for Chinese "
                        "and Japanese (5, as datatrove and Gopher).")
    seed: int = opt(1, "Seed of the permutations (datasketch's default, 1).")
    bands: int = opt(0, "LSH bands; 0 picks bands x rows so that a pair at the threshold is "
                        "caught with probability >= 0.99.")
    rows: int = opt(0, "LSH rows per band (with --bands); 0 = automatic.")
    # str rather than Literal: the CLI turns a bad Literal value into a traceback (see report)
    survivor: str = opt("first", "Which document of a cluster survives: first | longest.",
                        metavar="first|longest", aliases=("keep",))
    key: str = opt("text", "Exact duplicates by this: 'text' (hash of the NFKC-folded, "
                           "lower-cased, white-space-collapsed text) or a record field such as "
                           "'url' (its exact string).", metavar="FIELD")
    fold_chinese: bool = opt(True, "Fold Traditional Chinese (Taiwan and Hong Kong forms included) to "
                                   "Simplified before hashing, so that the two scripts' copies of a "
                                   "text are duplicates; the kept text stays as written.")
    exact: bool = opt(True, "Remove exact duplicates.")
    near: bool = opt(True, "Remove near duplicates.")
    verify: str = opt(
        "auto", "How LSH candidates are checked: estimate (the signatures' estimated Jaccard) | "
                "exact (true Jaccard of the shingle sets, for every candidate) | auto (the "
                "estimate, and the true Jaccard when the estimate is within 3 standard errors of "
                "the threshold). exact and auto read the candidates' text once more.", metavar="estimate|exact|auto")
    index: str = opt("", "Index file of an earlier corpus: deduplicate against it and add the "
                         "kept documents to it (created if missing).", metavar="FILE")
    tmp_dir: str = opt("", "Folder for the spill and signature files (default: the system's).", metavar="DIR")
    max_memory: str = opt("1GB", "Memory for the corpus-wide tables (band keys, exact keys): a table of "
                                 "over 8 MB is grouped from partitions on disk, each at most a quarter of "
                                 "this budget, with the same output. A stream's records are held for the "
                                 "second pass in an eighth of it, then spilled to disk. K, M, G = powers "
                                 "of 1024.", metavar="SIZE")

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("--threshold must be in (0, 1]")
        if not 1 <= self.num_perm <= 4096:
            raise ValueError("--num-perm must be between 1 and 4096")
        if self.ngram < 1:
            raise ValueError("--ngram must be >= 1")
        if self.bands < 0 or self.rows < 0:
            raise ValueError("--bands and --rows must be >= 0")
        if (self.bands == 0) != (self.rows == 0):
            raise ValueError("give both --bands and --rows, or neither")
        if self.bands and self.bands * self.rows > self.num_perm:
            raise ValueError(f"--bands x --rows ({self.bands} x {self.rows}) is more than "
                             f"--num-perm ({self.num_perm})")
        if self.survivor not in ("first", "longest"):
            raise ValueError("--survivor must be 'first' or 'longest'")
        if self.verify not in ("estimate", "exact", "auto"):
            raise ValueError("--verify must be 'estimate', 'exact' or 'auto'")
        if not self.key:
            raise ValueError("--key must name 'text' or a record field")
        if self.tmp_dir and not os.path.isdir(self.tmp_dir):
            raise ValueError(f"--tmp-dir {self.tmp_dir}: no such folder")
        self._budget = parse_size(self.max_memory)
        if self._budget < 16 << 10:
            raise ValueError("--max-memory must be at least 16KB")
        self._stats: dict[str, Any] = {}
        self._stats_exact = 0
        self._stats_exact_skipped = 0
        self._stats_cleaned: list[str] = []
        self._new_index: str | None = None  # the new --index file, until commit() or discard()
        self._hold = False

    # ------------------------------------------------------------ the --index file
    def hold_files(self) -> None:
        self._hold = True

    def _index_written(self, tmp: str) -> None:
        """The new --index file is written (as `tmp`): into place now, or at commit()."""
        if self._hold:
            self._new_index = tmp
        else:
            replace_index(tmp, self.index)

    def commit(self) -> None:
        """The new --index file into place: called once the run's outputs are (stream.run_stream,
        pipeline.run), so that the documents it adds are in an output."""
        if self._new_index is not None:
            tmp, self._new_index = self._new_index, None
            replace_index(tmp, self.index)

    def discard(self) -> None:
        """The run failed or was interrupted: the --index file stays as it was."""
        if self._new_index is not None:
            tmp, self._new_index = self._new_index, None
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    # ------------------------------------------------------------ parameters
    def lsh_params(self) -> tuple[int, int]:
        if self.bands:
            return self.bands, self.rows
        return choose_bands(self.threshold, self.num_perm)

    def _params(self) -> dict[str, Any]:
        b, r = self.lsh_params()
        return {"version": INDEX_VERSION, "scheme": "datasketch-affine32", "num_perm": self.num_perm,
                "seed": self.seed, "ngram": self.ngram, "bands": b, "rows": r, "key": self.key,
                "fold_chinese": self.fold_chinese, "fold_table": FOLD_VERSION if self.fold_chinese else None,
                "tokens": TOKENS_VERSION}

    # ------------------------------------------------------------ the run
    def run(self, records: Iterable[dict]) -> Iterator[dict | Rejected]:
        # `flat_executor` (set by `pipeline --engine ray`): the per-document state lives on the
        # cluster, not in this process (corpuskit.stages.dedup.flat)
        flat = getattr(self, "flat_executor", None)
        if flat is not None:
            yield from run_flat(self, records, flat, hash_batch_with, TOP_CLUSTERS)
            return
        t0 = time.perf_counter()
        self._stats_exact = 0
        self._stats_exact_skipped = 0
        b, r = self.lsh_params()
        hasher = mh.MinHasher(self.num_perm, self.seed, self.ngram)
        tmp_root = self.tmp_dir or tempfile.gettempdir()
        self._stats_cleaned = remove_dead_scratch(tmp_root, "dedup")  # what killed runs left
        work = tempfile.mkdtemp(prefix=scratch_prefix("dedup"), dir=tmp_root)
        index = None
        held: list[_Pass1] = []  # pass 1's tables, closed at the end whatever happens
        try:
            index = _Index.load(self.index, self._params()) if self.index else _Index.empty(self.num_perm, b)
            yield from self._run(records, hasher, index, work, b, r, t0, held)
        finally:
            for p1 in held:
                p1.close()
            if index is not None:
                index.close()
            _rmtree(work)

    def _run(self, records: Iterable[dict], hasher: Any, index: _Index, work: str, b: int, r: int,
             t0: float, held: list) -> Iterator[dict | Rejected]:
        budget = self._budget
        n0 = index.size
        rereadable = isinstance(records, (list, tuple)) or getattr(records, "rereadable", False)
        p1 = _Pass1(work, self.num_perm, b, budget, rows_major=bool(self.index))
        held.append(p1)
        # the index's band keys go first: its documents are positions 0..n0-1
        if self.near:
            for s, rows in index.band_chunks(_CHUNK):
                p1.cols.add(rows, np.arange(s, s + len(rows), dtype=np.int64))
        self._pass1(records, hasher, p1, b, r, n0, spill=not rereadable)
        if p1.held is not None:  # the stream fitted in memory: read twice from there
            records, rereadable = p1.held, True
        t1 = time.perf_counter()
        n = p1.n
        tables_bytes = sum(e.stat().st_size for e in os.scandir(work) if e.is_file())
        group_peak = 0  # partition bytes on disk at once (one table at a time)

        def sig_rows(idx: np.ndarray) -> np.ndarray:
            out = np.empty((len(idx), self.num_perm), dtype=np.uint32)
            old = idx < n0
            if old.any():
                out[old] = index.sigs.rows(idx[old])
            out[~old] = p1.sigs.rows(idx[~old] - n0)
            return out

        total = n0 + n
        edges: list[tuple[np.ndarray, np.ndarray]] = []
        spilled = 0
        if self.exact and total:
            g = Grouper(work, "exact", 3, total, budget)
            try:
                for s, keys, has in index.exact_chunks(_CHUNK):
                    i = np.flatnonzero(has)
                    g.add(np.column_stack([keys[i], (s + i).astype(np.uint64)]))
                for s, keys in p1.exact.chunks(_CHUNK):
                    has = p1.has_exact.read(s, s + len(keys))[:, 0]
                    i = np.flatnonzero(has)
                    g.add(np.column_stack([keys[i], (n0 + s + i).astype(np.uint64)]))
                parts_lo, parts_hi = [], []
                for rows in g.groups():
                    lo_e, hi_e = _exact_part_edges(rows)
                    parts_lo.append(lo_e)
                    parts_hi.append(hi_e)
                spilled += g.spilled_bytes
                group_peak = max(group_peak, g.spilled_bytes)
            finally:
                g.close()
            edges.append((np.concatenate(parts_lo), np.concatenate(parts_hi)))
        n_cand = n_ver = 0
        if self.near and total:
            codes = np.empty(0, np.int64)
            for j in range(b):
                g = Grouper(work, f"band{j}", 2, p1.cols.n, budget)
                try:
                    for rows in p1.cols.column(j):
                        g.add(rows)
                    for rows in g.groups():
                        # pairs inside the index were settled when it was built
                        c = _band_part_codes(rows, total)
                        codes = _union_pairs(codes, c[c % total >= n0])
                    spilled += g.spilled_bytes
                    group_peak = max(group_peak, g.spilled_bytes)
                finally:
                    g.close()
            lo, hi = codes // total, codes % total
            del codes
            n_cand = len(lo)
            sims = self._verify(lo, hi, sig_rows, hasher, records, work, n0, spill=not rereadable)
            ok = sims >= self.threshold
            n_ver = int(ok.sum())
            edges.append((lo[ok], hi[ok]))
            del lo, hi, sims, ok
        t2 = time.perf_counter()

        def lengths_of(pos: np.ndarray) -> np.ndarray:
            out = np.full(len(pos), np.iinfo(np.int64).max, dtype=np.int64)  # index documents win
            new_ = pos >= n0
            out[new_] = p1.length.rows(pos[new_] - n0)[:, 0]
            return out

        elo = np.concatenate([e[0] for e in edges]) if edges else np.empty(0, np.int64)
        ehi = np.concatenate([e[1] for e in edges]) if edges else np.empty(0, np.int64)
        del edges
        nodes, comp, survivor, size = _clusters_sparse(elo.astype(np.int64), ehi.astype(np.int64),
                                                       lengths_of, self.survivor)
        del elo, ehi
        ids = _Ids(index.ids, p1.ids)
        self._stats = {
            "documents": n, "index_documents": n0, "no_shingles": p1.no_shingles,
            "bands": b, "rows": r, "threshold": self.threshold, "num_perm": self.num_perm,
            "ngram": self.ngram, "survivor": self.survivor, "verify": self.verify, "key": self.key,
            "catch_probability": {str(j): round(mh.catch_probability(j, b, r), 4)
                                  for j in (0.5, 0.7, 0.8, 0.9)},
            "candidate_pairs": n_cand, "verified_pairs": n_ver,
            "exact_jaccard_checks": self._stats_exact,
            "exact_checks_skipped_over_memory_budget": self._stats_exact_skipped,
            "exact_duplicate": 0, "near_duplicate": 0,
            "clusters": int(np.count_nonzero(size > 1)),
            # cluster size -> how many clusters have it (size 1, a unique document, left out)
            "cluster_sizes": {str(int(v)): int(c) for v, c in
                              zip(*np.unique(size[size > 1], return_counts=True))},
            "spill_bytes": p1.spill_bytes,
            "max_memory": self._budget,
            # scratch disk at its fullest: pass 1's spill and tables, plus one table's partitions
            "scratch_bytes": tables_bytes + group_peak,
            "seconds": {"pass1_signatures": round(t1 - t0, 3), "lsh_verify_cluster": round(t2 - t1, 3)},
        }
        if spilled:  # tables past --max-memory, grouped from partitions on disk
            self._stats["grouping_spill_bytes"] = spilled
        if self._stats_cleaned:  # spill folders of killed runs, removed before this one
            self._stats["removed_dead_scratch"] = self._stats_cleaned
        # the largest clusters, for the run report: survivor, size and a few removed ids
        big = np.flatnonzero(size > 1)
        big = big[np.argsort(-size[big], kind="stable")[:TOP_CLUSTERS]]
        top: dict[int, dict] = {int(c): {"kept": None, "size": int(size[c]), "removed": []} for c in big}
        # every linked new document's survivor, reason and similarity, decided before pass 2;
        # a document without links is alone in its cluster and kept
        tn = nodes[nodes >= n0]
        t_comp = comp[nodes >= n0]
        t_surv = survivor[t_comp]
        removed = t_surv != tn
        rg, rs = tn[removed], t_surv[removed]

        def exact_rows(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            keys = np.zeros((len(pos), 2), dtype=np.uint64)
            has = np.zeros(len(pos), dtype=bool)
            old = pos < n0
            if old.any():
                keys[old] = index.exact.rows(pos[old])
                has[old] = index.has_exact.rows(pos[old])[:, 0]
            keys[~old] = p1.exact.rows(pos[~old] - n0)
            has[~old] = p1.has_exact.rows(pos[~old] - n0)[:, 0]
            return keys, has

        if self.exact and len(rg):
            kg, hg = exact_rows(rg)
            ks, hs = exact_rows(rs)
            same_key = hg & hs & np.all(kg == ks, axis=1)
        else:
            same_key = np.zeros(len(rg), dtype=bool)
        r_sim = np.ones(len(rg), dtype=np.float64)
        near_i = np.flatnonzero(~same_key)
        for c in range(0, len(near_i), 1 << 15):
            part = near_i[c:c + (1 << 15)]
            r_sim[part] = mh.estimate_jaccard(sig_rows(rg[part]), sig_rows(rs[part]))
        t_r = np.cumsum(removed) - 1  # position of each linked document among the removed
        source = (_read_spill(os.path.join(work, "spill.jsonl.zst")) if not rereadable
                  else iter(records))
        k = 0
        n_t = len(tn)
        n_removed = 0
        id_field = self.id_field
        for i, rec in enumerate(source):
            g = n0 + i
            if k < n_t and tn[k] == g:
                c = int(t_comp[k])
                s = int(t_surv[k])
                csize = int(size[c])
                is_removed = bool(removed[k])
                ri = int(t_r[k])
                k += 1
            else:  # alone
                rid = rec.get(id_field)
                own = str(rid) if rid is not None else f"#{i + 1}"
                set_meta(rec, "dedup", {"cluster": own, "cluster_size": 1})
                yield rec
                continue
            entry = top.get(c) if top else None
            sid = ids[s]
            if entry is not None:
                entry["kept"] = sid
                if is_removed and len(entry["removed"]) < 5:
                    entry["removed"].append(rec.get(id_field, ids[g]))
            if not is_removed:
                set_meta(rec, "dedup", {"cluster": sid, "cluster_size": csize})
                yield rec
                continue
            n_removed += 1
            yield self._removed(rec, sid, csize, bool(same_key[ri]), float(r_sim[ri]))
        self._stats["kept"] = n - n_removed
        self._stats["top_clusters"] = [e for e in top.values() if e["removed"]]
        if self.index:
            self._index_written(index.extend_and_write(self.index, self._params(), p1.readers(), rg - n0, _CHUNK))
        self._stats["seconds"]["total"] = round(time.perf_counter() - t0, 3)

    # ------------------------------------------------------------ pass 1
    def _pass1(self, records: Iterable[dict], hasher: Any, p1: _Pass1, b: int, r: int, n0: int,
               spill: bool) -> None:
        import xxhash

        work = p1.work
        # a one-shot stream is held while it fits, then spilled (held records first)
        keep = RecordKeep(os.path.join(work, "spill.jsonl.zst"), self._budget // HOLD_SHARE) if spill else None
        has_exact = bytearray()
        field_keys = bytearray()
        lengths = array("q")
        batch: list[str] = []
        batch_chars = 0
        key_text = self.key == "text"
        use_kernel = self.near or key_text
        h128 = xxhash.xxh3_128_digest
        tf = self.text_field
        done = 0  # documents whose signatures are written

        # Hashing runs in a worker thread (the numba kernel releases the GIL) while this one
        # parses, spills and keys the next batch; results are taken in submission order, so the
        # output never depends on timing.
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corpuskit-dedup")
        pending: list[Any] = []
        in_flight = 2

        # the texts go as they are, folded (--fold-chinese) by the hasher: a long one window by
        # window, so that a huge record is never copied whole
        prefold = fold_t2s if self.fold_chinese else None

        def hash_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
            sigs, ntok, keys = hasher.hash_documents(texts, do_sig=self.near, prefold=prefold)
            return sigs, ntok, keys, (mh.band_keys(sigs, b, r) if self.near else None)

        def submit(texts: list[str]) -> Any:
            return pool.submit(hash_batch, texts)

        def collect(limit: int) -> None:
            nonlocal done
            while len(pending) > limit:
                sigs, ntok, keys, bk = pending.pop(0).result()
                m = len(ntok)
                if self.near:
                    p1.sigs_w.add(sigs)
                    valid = ntok > 0
                    p1.no_shingles += int(m - valid.sum())
                    p1.valid_w.add(valid)
                    vi = np.flatnonzero(valid)
                    p1.cols.add(bk[vi], n0 + done + vi)
                    if p1.bands_w is not None:
                        p1.bands_w.add(bk)
                else:
                    p1.no_shingles += int((ntok == 0).sum())
                if key_text:
                    p1.exact_w.add(keys)
                done += m

        def flush() -> None:
            nonlocal batch, batch_chars
            if batch:
                pending.append(submit(batch))
                batch = []
                batch_chars = 0
            collect(in_flight)

        def flush_tables() -> None:
            nonlocal has_exact, field_keys, lengths
            if has_exact:
                p1.has_exact_w.add(np.frombuffer(bytes(has_exact), dtype=np.uint8).astype(bool))
                has_exact = bytearray()
            if field_keys:
                p1.exact_w.add(np.frombuffer(bytes(field_keys), dtype=np.uint64).reshape(-1, 2))
                field_keys = bytearray()
            if lengths:
                p1.length_w.add(np.frombuffer(lengths, dtype=np.int64))
                lengths = array("q")

        try:
            for rec in records:
                text = rec.get(tf)
                if not isinstance(text, str):
                    raise BadInput("<records>", p1.n + 1, "missing_field",
                                   f"field {tf!r} is missing or not a string")
                if keep is not None:
                    keep.add(rec, text)
                rid = rec.get(self.id_field)
                p1.ids_w.add(str(rid) if rid is not None else f"#{p1.n + 1}")
                if key_text:
                    has_exact.append(1)
                else:
                    fk = field_key(rec.get(self.key), h128)
                    field_keys += fk if fk is not None else bytes(16)
                    has_exact.append(fk is not None)
                lengths.append(len(text))
                p1.n += 1
                if use_kernel:
                    batch.append(text)
                    batch_chars += len(text)
                    if len(batch) >= _BATCH_DOCS or batch_chars >= _BATCH_CHARS:
                        flush()
                if len(lengths) >= _CHUNK:
                    flush_tables()
            flush()
            collect(0)
            flush_tables()
            if keep is not None:
                p1.spill_bytes = keep.finish()
                p1.held = keep.held
            if not self.near:
                p1.no_shingles = p1.n  # no signatures: as if without shingles
                # no signatures: zero rows so that the tables keep their shapes
                for s in range(0, p1.n, _CHUNK):
                    m = min(_CHUNK, p1.n - s)
                    p1.sigs_w.add(np.zeros((m, self.num_perm), dtype=np.uint32))
                    p1.valid_w.add(np.zeros(m, dtype=bool))
                    if p1.bands_w is not None:
                        p1.bands_w.add(np.zeros((m, b), dtype=np.uint64))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if keep is not None:
                keep.close()
        p1.finish()

    # ------------------------------------------------------------ verification
    def _removed(self, rec: dict, sid: str, csize: int, same: bool, sim: float) -> Rejected:
        """A removed document: its reason and detail, counted, with meta.dedup (both engines)."""
        if same:
            reason = "exact_duplicate"
            detail = f"kept {sid}" + ("" if self.key == "text" else f" (same {self.key})")
        else:
            reason = "near_duplicate"
            detail = f"kept {sid}, estimated similarity {sim:.2f}"
        self._stats[reason] += 1
        set_meta(rec, "dedup", {"cluster": sid, "cluster_size": csize, "similarity": round(sim, 4)})
        return Rejected(rec, Rejection(reason, detail))

    def _verify(self, lo: np.ndarray, hi: np.ndarray, sig_rows: Any, hasher: Any, records: Any,
                work: str, n0: int, spill: bool, est: np.ndarray | None = None) -> np.ndarray:
        if est is not None:  # estimated elsewhere (the Ray shuffle): the same numbers
            sims = est.astype(np.float64, copy=True)
        else:
            sims = np.empty(len(lo), dtype=np.float64)
            step = 1 << 15
            for s in range(0, len(lo), step):
                sims[s:s + step] = mh.estimate_jaccard(sig_rows(lo[s:s + step]), sig_rows(hi[s:s + step]))
        if self.verify == "estimate" or not len(lo):
            return sims
        # The true Jaccard needs the shingle sets: one more read of the new documents, keeping
        # the sets of the documents in pairs to check (8 bytes a shingle) until the end of the
        # read. The index keeps no text, so a pair with an index document keeps its estimate.
        check = lo >= n0
        if self.verify == "auto":
            t = self.threshold
            se = (max(t * (1 - t), 0.01) / self.num_perm) ** 0.5
            check &= np.abs(sims - t) < 3 * se
        self._stats_exact = int(check.sum())
        if not check.any():
            return sims
        # Stream the documents in order: a pair is settled when its later document is read,
        # and a set is dropped once its last pair is settled. Past a memory budget no new set is
        # made, and the pairs still open keep their estimate (counted in the stats). State is
        # per document in a pair to check, never per document of the corpus.
        ci = np.flatnonzero(check)
        a_loc, b_loc = lo[ci] - n0, hi[ci] - n0
        by_hi = np.argsort(b_loc, kind="stable")
        needed = np.unique(np.concatenate([a_loc, b_loc]))
        last_use = np.full(len(needed), -1, dtype=np.int64)
        np.maximum.at(last_use, np.searchsorted(needed, a_loc), b_loc)
        np.maximum.at(last_use, np.searchsorted(needed, b_loc), b_loc)
        release = needed[np.argsort(last_use, kind="stable")]
        release_at = np.sort(last_use)
        rp = 0
        nk = 0
        sets: dict[int, np.ndarray] = {}
        held = 0
        budget = _EXACT_BUDGET
        skipped = 0
        ptr = 0
        src = _read_spill(os.path.join(work, "spill.jsonl.zst"), parse=False) if spill else iter(records)
        for i, rec in enumerate(src):
            if nk < len(needed) and needed[nk] == i:
                nk += 1
                if held < budget:
                    if spill:  # parse only the lines needed
                        rec = loads_exact(rec)
                    t = rec[self.text_field]
                    sets[i] = hasher.shingle_set(t, fold_t2s if self.fold_chinese else None)
                    held += sets[i].nbytes
            while ptr < len(by_hi) and b_loc[by_hi[ptr]] == i:
                k = by_hi[ptr]
                sa, sb = sets.get(int(a_loc[k])), sets.get(i)
                if sa is not None and sb is not None:
                    sims[ci[k]] = mh.jaccard_exact(sa, sb)
                else:
                    skipped += 1
                ptr += 1
            while rp < len(release) and release_at[rp] <= i:
                done = sets.pop(int(release[rp]), None)
                if done is not None:
                    held -= done.nbytes
                rp += 1
            if ptr == len(by_hi):
                break
        self._stats_exact -= skipped
        self._stats_exact_skipped = skipped
        return sims

    # ------------------------------------------------------------ reporting
    def result(self) -> dict:
        return dict(self._stats)

    def tables(self) -> list[Table]:
        s = self._stats
        if not s:
            return []
        rows = [["documents", s["documents"]], ["kept", s.get("kept", 0)],
                ["exact duplicates", s["exact_duplicate"]], ["near duplicates", s["near_duplicate"]],
                ["clusters (size > 1)", s["clusters"]],
                ["LSH bands x rows", f"{s['bands']} x {s['rows']}"],
                ["candidate pairs / verified", f"{s['candidate_pairs']} / {s['verified_pairs']}"]]
        if s["index_documents"]:
            rows.insert(1, ["in --index before", s["index_documents"]])
        return [Table("dedup", ["", "count"], rows)]


# ---------------------------------------------------------------- helpers
_HASHERS: dict[tuple, Any] = {}


def hash_batch_with(params: tuple, texts: list[str], near: bool, b: int, r: int,
                    fold_chinese: bool = False) -> tuple:
    """Pass 1's hashing of one batch, as a plain function of its inputs so that another process
    (a Ray worker) can run it: (signatures, token counts, exact keys, band keys or None)."""
    hasher = _HASHERS.get(params)
    if hasher is None:
        hasher = _HASHERS[params] = mh.MinHasher(*params)
    sigs, ntok, keys = hasher.hash_documents(texts, do_sig=near, prefold=fold_t2s if fold_chinese else None)
    return sigs, ntok, keys, (mh.band_keys(sigs, b, r) if near else None)


class _Pass1:
    """Pass 1's per-document tables, on disk in `work` (signatures, band keys by band, and with
    --index by document too, token presence, exact keys, lengths, ids)."""

    def __init__(self, work: str, num_perm: int, bands: int, budget: int, rows_major: bool) -> None:
        self.work = work
        self.n = 0
        self.no_shingles = 0
        self.spill_bytes = 0
        self.held: list[dict] | None = None  # a one-shot stream's records, when they fitted
        p = lambda name: os.path.join(work, name)  # noqa: E731
        # band keys are buffered a block at a time: a quarter of the budget at most
        block = max(256, min(1 << 14, budget // (4 * 8 * (bands + 1))))
        self.cols = _BandColumns(p("bands.cols"), bands, block)
        self.sigs_w = _Table(p("sigs.u32"), num_perm, np.uint32)
        self.valid_w = _Table(p("valid.u8"), 1, np.bool_)
        self.bands_w = _Table(p("bands.u64"), bands, np.uint64) if rows_major else None
        self.exact_w = _Table(p("exact.u64"), 2, np.uint64)
        self.has_exact_w = _Table(p("has_exact.u8"), 1, np.bool_)
        self.length_w = _Table(p("length.i64"), 1, np.int64)
        self.ids_w = _IdWriter(work)
        self._open: list[Any] = []

    def finish(self) -> None:
        self.cols.finish()
        self.sigs = self.sigs_w.reader()
        self.valid = self.valid_w.reader()
        self.bands = self.bands_w.reader() if self.bands_w is not None else None
        self.exact = self.exact_w.reader()
        self.has_exact = self.has_exact_w.reader()
        self.length = self.length_w.reader()
        self.ids = self.ids_w.reader()
        self._open = [self.sigs, self.valid, self.bands, self.exact, self.has_exact, self.length, self.ids]

    def readers(self) -> _Pass1:
        return self

    def close(self) -> None:
        self.cols.close()
        for t in (self.sigs_w, self.valid_w, self.bands_w, self.exact_w, self.has_exact_w, self.length_w,
                  self.ids_w):
            if t is not None:
                t.close()
        for t in self._open:
            if t is not None:
                t.close()
        self._open = []
