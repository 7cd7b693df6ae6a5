"""filter-perplexity: KenLM perplexity of each document, CCNet's way; bucket, drop or annotate.

`corpuskit filter-perplexity --model zh.arpa --cutoffs 300,1000 --keep-buckets head,middle`

* The model is the user's file: an ARPA file or a KenLM binary (`build_binary`), and optionally
  the SentencePiece model the LM was trained on (`--sp-model`, as CCNet's `*.sp.model`).
  Nothing is downloaded.
* Text: every non-empty line is a sentence. Its tokens are the SentencePiece pieces of the
  (lowercased) line with --sp-model; else its whitespace words, lowercased, every CJK character a
  token of its own (corpuskit.core.modeltext.lm_sentences).
* Perplexity, as CCNet computes it: each sentence is scored by KenLM with <s> and </s>
  (`Model.score(sentence, bos=True, eos=True)`, log10); the document's perplexity is
  `10 ** (-sum(log10 scores) / sum(tokens + 1))`, the +1 being each sentence's </s>.
* `meta.perplexity` = that number (not rounded); with --cutoffs A,B also
  `meta.perplexity_bucket` = head (< A), middle (< B) or tail, CCNet's buckets. A document is
  dropped when its bucket is not in --keep-buckets (`perplexity_bucket`), its perplexity is above
  --max-perplexity (`high_perplexity`) or it has no token (`no_lm_text`); --annotate drops
  nothing.
* --percentiles P1,P2 instead of --cutoffs: A and B are the P1th and P2th percentiles of the
  run's own perplexities (numpy's default 'linear' method: interpolated between the two closest
  ranks), over the documents that have a token, per value of `meta.<--percentiles-by>` when it
  is set (CCNet: per language). That needs the whole stream before the first document is written,
  so the command is then a whole-stream stage (`FilterPerplexityPercentiles`, made by
  `FilterPerplexity.from_options`): pass 1 scores every document, keeps its perplexity (8 bytes)
  in memory and the record in a zstd spill file (corpuskit.io.spill); pass 2 reads the spill back
  and buckets, drops or annotates as with --cutoffs. The computed cut-offs are in the stage's
  stats (`cutoffs`, and `cutoffs_option`, to pass as --cutoffs to later runs).
* The models are loaded once per process, on the first document (the stage object goes to
  the pipeline's workers and to Ray without them).
"""
from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.core.errors import UsageError
from corpuskit.core.modeltext import CJK_MODES, lm_sentences
from corpuskit.core.owner import remove_dead_scratch, scratch_prefix
from corpuskit.core.stage import RecordStage, Rejected, Rejection, Stage, StreamStage, Table, opt, set_meta
from corpuskit.core.text import line_parts
from corpuskit.io.spill import SpillWriter, read_spill
from corpuskit.io.writer import BIG_STR

BUCKETS = ("head", "middle", "tail")

# a text longer than this (characters) is prepared for KenLM a slice of whole lines at a time
PART_CHARS = 1 << 20

_LOADED: dict[tuple, Any] = {}  # (kind, path, size, mtime) -> the loaded model, per process
_LOCK = threading.Lock()


def _load(kind: str, path: str) -> Any:
    st = os.stat(path)
    key = (kind, os.path.abspath(path), st.st_size, st.st_mtime_ns)
    with _LOCK:
        m = _LOADED.get(key)
        if m is not None:
            return m
        if kind == "kenlm":
            try:
                import kenlm
            except ImportError:
                raise UsageError("filter-perplexity needs KenLM: pip install 'corpuskit[kenlm]'") from None
            cfg = kenlm.Config()
            cfg.show_progress = False  # no progress bar nor "build a binary" advice on stderr
            cfg.arpa_complain = kenlm.ARPALoadComplain.NONE
            try:
                m = kenlm.Model(path, cfg)
            except (OSError, RuntimeError, ValueError) as e:
                raise UsageError(f"--model {path}: not a KenLM model (ARPA or binary): "
                                 f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        else:
            try:
                import sentencepiece
            except ImportError:
                raise UsageError("--sp-model needs SentencePiece: pip install 'corpuskit[kenlm]'") from None
            m = sentencepiece.SentencePieceProcessor()
            try:
                m.Load(path)
            except (OSError, RuntimeError) as e:
                raise UsageError(f"--sp-model {path}: not a SentencePiece model ({e})") from None
        for k in [k for k in _LOADED if k[0] == kind]:  # an earlier run's model in a long-lived worker
            del _LOADED[k]
        _LOADED[key] = m
    return m


PERCENTILE_METHOD = "linear"  # numpy.percentile's method (its default)
MISSING = "(missing)"  # the --percentiles-by group of documents without that meta key


def _parse_pair(value: str, flag: str) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in value.split(","))
    except ValueError:
        raise ValueError(f"{flag} takes two numbers A,B (got {value!r})") from None
    return a, b


@dataclass
class _Perplexity(Stage):
    """The options and the scoring of filter-perplexity, shared by its per-record form
    (--cutoffs, or no buckets) and its whole-stream form (--percentiles)."""

    name: ClassVar[str] = "filter-perplexity"
    summary: ClassVar[str] = ("Score each document's perplexity with a KenLM model given by path (ARPA "
                              "or binary, optionally with its SentencePiece model, as CCNet): "
                              "meta.perplexity, CCNet's head/middle/tail buckets by --cutoffs or by "
                              "--percentiles of the run's own perplexities; "
                              "drop or annotate.")
    # the model is the user's file: not in the default chain, no section in --print-config but a
    # commented one, nothing to warm up
    needs_model: ClassVar[bool] = True
    reasons: ClassVar[dict[str, str]] = {
        "no_lm_text": "no token to score",
        "high_perplexity": "the perplexity is above --max-perplexity",
        "perplexity_bucket": "the perplexity bucket (--cutoffs or --percentiles) is not in --keep-buckets",
    }

    model: str = opt("", "The KenLM model (ARPA or KenLM binary) to score with (required).", metavar="PATH")
    sp_model: str = opt("", "The SentencePiece model the LM's text was tokenized with (as CCNet's); "
                            "empty: whitespace words, CJK characters.", metavar="PATH")
    cutoffs: str = opt("", "Two perplexities A,B: head below A, middle below B, tail above "
                           "(meta.perplexity_bucket); empty: no buckets.", metavar="A,B")
    percentiles: str = opt("", "Instead of --cutoffs: A and B are these two percentiles (0-100) of "
                               "the run's own perplexities (CCNet: 30,60); reads the whole stream "
                               "first (spilled to disk).", metavar="P1,P2")
    percentiles_by: str = opt("", "With --percentiles: compute them per value of this meta key "
                                  "(lang: per language, as CCNet); empty: over the whole run.",
                              metavar="KEY")
    keep_buckets: str = opt("head,middle,tail", "Buckets to keep (with --cutoffs or --percentiles).",
                            metavar="BUCKETS")
    max_perplexity: float = opt(0.0, "Drop documents whose perplexity is above this (0: no limit).")
    annotate: bool = opt(False, "Only write meta.perplexity (and the bucket); drop nothing.")
    lowercase: bool = opt(True, "Lowercase the text before scoring (as the LM's training text was).")
    cjk: str = opt("chars", "CJK text without --sp-model: chars makes every character a token; none "
                            "leaves it as it is.", metavar="chars|none")
    tmp_dir: str = opt("", "Folder for the spill file of --percentiles (default: the system's).",
                       metavar="DIR")

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("--model is required: the path of a KenLM model (ARPA or binary)")
        if not Path(self.model).is_file():
            raise ValueError(f"--model {self.model}: no such file")
        if self.sp_model and not Path(self.sp_model).is_file():
            raise ValueError(f"--sp-model {self.sp_model}: no such file")
        if self.cjk not in CJK_MODES:
            raise ValueError(f"--cjk must be one of {', '.join(CJK_MODES)} (got {self.cjk!r})")
        if self.max_perplexity < 0:
            raise ValueError(f"--max-perplexity must be >= 0 (got {self.max_perplexity})")
        self._cut: tuple[float, float] | None = None
        self._pct: tuple[float, float] | None = None
        if self.cutoffs.strip() and self.percentiles.strip():
            raise ValueError("--cutoffs and --percentiles: give one or the other")
        if self.cutoffs.strip():
            a, b = _parse_pair(self.cutoffs, "--cutoffs")
            if not (0 < a <= b) or not math.isfinite(b):
                raise ValueError(f"--cutoffs must be 0 < A <= B (got {self.cutoffs!r})")
            self._cut = (a, b)
        if self.percentiles.strip():
            a, b = _parse_pair(self.percentiles, "--percentiles")
            if not (0 <= a <= b <= 100):
                raise ValueError(f"--percentiles must be 0 <= P1 <= P2 <= 100 (got {self.percentiles!r})")
            self._pct = (a, b)
        if self.percentiles_by.strip() and self._pct is None:
            raise ValueError("--percentiles-by needs --percentiles")
        if self.tmp_dir and not os.path.isdir(self.tmp_dir):
            raise ValueError(f"--tmp-dir {self.tmp_dir}: no such folder")
        keep = [k.strip() for k in self.keep_buckets.split(",") if k.strip()]
        bad = [k for k in keep if k not in BUCKETS]
        if bad or not keep:
            raise ValueError(f"--keep-buckets takes buckets among {','.join(BUCKETS)} (got {self.keep_buckets!r})")
        self._keep = frozenset(keep)
        self._model_name = Path(self.model).name

    def sentences(self, text: str) -> list[str]:
        """The document's sentences as the LM sees them (tokens separated by one space)."""
        if self.sp_model:
            sp = self.__dict__.get("_sp")
            if sp is None:
                sp = self._sp = _load("sp", self.sp_model)
            out = []
            for line in (text.lower() if self.lowercase else text).split("\n"):
                line = " ".join(line.split())
                if line:
                    pieces = sp.EncodeAsPieces(line)
                    if pieces:
                        out.append(" ".join(pieces))
            return out
        return lm_sentences(text, self.lowercase, self.cjk)

    def iter_sentences(self, text: str) -> Iterator[str]:
        """The sentences of `sentences`, one at a time: a text over PART_CHARS characters is
        prepared a slice of whole lines at a time (a sentence is a line; lower case, the CJK
        split and SentencePiece never reach across a line break), so a huge text's sentences and
        its lower-cased copies are never held whole."""
        chars = PART_CHARS
        if len(text) <= chars:
            yield from self.sentences(text)
            return
        for part in line_parts(text, chars):
            yield from self.sentences(part)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_lm", None)  # never pickled: each process loads it on its first document
        state.pop("_sp", None)
        return state

    def perplexity(self, text: str) -> float | None:
        """CCNet's document perplexity (see the module doc); None when there is no token."""
        lm = self.__dict__.get("_lm")
        if lm is None:
            lm = self._lm = _load("kenlm", self.model)
        log10 = 0.0
        length = 0
        # (a huge text one slice of lines at a time: 6.3x a 50 MB record's size when whole)
        sentences = self.sentences(text) if len(text) <= PART_CHARS else self.iter_sentences(text)
        for s in sentences:
            log10 += lm.score(s, bos=True, eos=True)
            length += s.count(" ") + 2  # tokens + </s>
        if not length:
            return None
        return 10.0 ** (-log10 / length)

    def bucket(self, pp: float, cut: tuple[float, float] | None = None) -> str:
        a, b = cut or self._cut  # type: ignore[misc]
        return "head" if pp < a else ("middle" if pp < b else "tail")

    def _judge(self, record: dict, pp: float | None, cut: tuple[float, float] | None) -> dict | Rejection:
        """Annotate the record with its perplexity (and bucket, with cut-offs) and keep or drop it."""
        set_meta(record, "perplexity", pp)
        b = None
        if pp is not None and cut is not None:
            b = self.bucket(pp, cut)
            set_meta(record, "perplexity_bucket", b)
        if self.annotate:
            return record
        if pp is None:
            return Rejection("no_lm_text", "no token")
        if self.max_perplexity and pp > self.max_perplexity:
            return Rejection("high_perplexity", f"{pp:.1f} > {self.max_perplexity:g}")
        if b is not None and b not in self._keep:
            return Rejection("perplexity_bucket", f"{b} ({pp:.1f})")
        return record


@dataclass
class FilterPerplexity(_Perplexity, RecordStage):
    """KenLM perplexity per document (CCNet's formula); CCNet's head/middle/tail buckets by
    --cutoffs. With --percentiles, `from_options` makes the whole-stream form instead."""

    @classmethod
    def from_options(cls, **kw: Any) -> Stage:
        if cls is FilterPerplexity and str(kw.get("percentiles") or "").strip():
            return FilterPerplexityPercentiles.from_options(**kw)
        return super().from_options(**kw)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self._pct is not None:
            raise ValueError("--percentiles needs the whole stream: build the stage with "
                             "FilterPerplexity.from_options (FilterPerplexityPercentiles)")

    def process(self, record: dict) -> dict | Rejection:
        return self._judge(record, self.perplexity(self.get_text(record)), self._cut)


@dataclass
class FilterPerplexityPercentiles(_Perplexity, StreamStage):
    """filter-perplexity --percentiles: the cut-offs are percentiles of the run's own
    perplexities (see the module doc): two passes, the records spilled to disk between them."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self._pct is None:
            raise ValueError("--percentiles is required here")
        self._result: dict[str, Any] = {}

    def result(self) -> dict:
        return dict(self._result)

    def tables(self) -> list[Table]:
        cut = self._result.get("cutoffs")
        if not cut:
            return []
        p1, p2 = self._pct  # type: ignore[misc]
        docs = self._result["documents_scored"]
        if isinstance(cut, dict):
            rows = [[g, docs[g], f"{a:.6g}", f"{b:.6g}"] for g, (a, b) in cut.items()]
        else:
            rows = [["(all)", docs, f"{cut[0]:.6g}", f"{cut[1]:.6g}"]]
        return [Table(f"perplexity cut-offs ({p1:g}th, {p2:g}th percentiles)",
                      [self.percentiles_by or "documents", "scored", "A (head below)", "B (tail from)"], rows)]

    def run(self, records: Iterable[dict]) -> Iterator[dict | Rejected]:
        import numpy as np

        t0 = time.perf_counter()
        tmp_root = self.tmp_dir or tempfile.gettempdir()
        cleaned = remove_dead_scratch(tmp_root, "filter-perplexity")  # what killed runs left
        work = tempfile.mkdtemp(prefix=scratch_prefix("filter-perplexity"), dir=tmp_root)
        path = os.path.join(work, "spill.jsonl.zst")
        by = self.percentiles_by.strip()
        try:
            # ---- pass 1: score, keep the perplexity (NaN: no token), spill the record
            scores = array("d")
            groups = array("i")  # with --percentiles-by: the group's number per document
            names: dict[str, int] = {}
            spill = SpillWriter(path)
            try:
                for rec in records:
                    text = self.get_text(rec)
                    pp = self.perplexity(text)
                    scores.append(math.nan if pp is None else pp)
                    if by:
                        meta = rec.get("meta")
                        g = meta.get(by) if isinstance(meta, dict) else None
                        g = g if isinstance(g, str) and g else MISSING
                        groups.append(names.setdefault(g, len(names)))
                    spill.write(rec, big=len(text) > BIG_STR)  # a huge text in slices
                    text = None
                rec = None  # (the last record is not held through pass 2 beside its copy)
            finally:
                spill_bytes = spill.close()
            t1 = time.perf_counter()
            # ---- between the passes: the cut-offs
            pp_all = np.frombuffer(scores, dtype=np.float64) if len(scores) else np.zeros(0)
            scored = ~np.isnan(pp_all)
            cut_of: dict[int, tuple[float, float]] = {}  # group number (0 without --by) -> (A, B)
            counts: dict[str, int] = {}
            if by:
                gid = np.frombuffer(groups, dtype=np.int32) if len(groups) else np.zeros(0, dtype=np.int32)
                for name, k in sorted(names.items()):
                    sel = pp_all[scored & (gid == k)]
                    counts[name] = int(len(sel))
                    if len(sel):
                        cut_of[k] = self._cutoffs(np, sel)
            else:
                sel = pp_all[scored]
                counts["(all)"] = int(len(sel))
                if len(sel):
                    cut_of[0] = self._cutoffs(np, sel)
            del pp_all
            buckets = {b: 0 for b in BUCKETS}
            # ---- pass 2: annotate, keep or drop, in input order
            for i, rec in enumerate(read_spill(path)):
                pp = scores[i]
                cut = cut_of.get(groups[i] if by else 0)
                if math.isnan(pp):
                    out = self._judge(rec, None, cut)
                else:
                    out = self._judge(rec, pp, cut)
                    if cut is not None:
                        buckets[self.bucket(pp, cut)] += 1
                yield Rejected(rec, out) if out.__class__ is Rejection else out
            inv = {k: g for g, k in names.items()}
            if by:
                cutoffs: Any = {inv[k]: list(c) for k, c in sorted(cut_of.items(), key=lambda kv: inv[kv[0]])}
                option: Any = {g: f"{a!r},{b!r}" for g, (a, b) in cutoffs.items()}
            else:
                cutoffs = list(cut_of[0]) if 0 in cut_of else None
                option = f"{cutoffs[0]!r},{cutoffs[1]!r}" if cutoffs else None
            self._result = {
                "documents": len(scores), "documents_scored": counts if by else counts["(all)"],
                "percentiles": list(self._pct), "method": f"numpy.percentile, method={PERCENTILE_METHOD!r}",
                "cutoffs": cutoffs, "cutoffs_option": option, "buckets": buckets,
                "spill_bytes": spill_bytes,
                "seconds": {"pass1_score": round(t1 - t0, 3), "total": round(time.perf_counter() - t0, 3)},
            }
            if by:
                self._result["percentiles_by"] = by
            if cleaned:
                self._result["removed_dead_scratch"] = cleaned
        finally:
            for name in os.listdir(work):
                os.unlink(os.path.join(work, name))
            os.rmdir(work)

    def _cutoffs(self, np: Any, values: Any) -> tuple[float, float]:
        a, b = np.percentile(values, list(self._pct), method=PERCENTILE_METHOD)  # type: ignore[arg-type]
        return float(a), float(b)
