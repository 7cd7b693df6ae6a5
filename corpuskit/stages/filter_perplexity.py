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
* The models are loaded once per process, on the first document (the stage object goes to
  the pipeline's workers and to Ray without them).
"""
from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.core.errors import UsageError
from corpuskit.core.modeltext import CJK_MODES, lm_sentences
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta

BUCKETS = ("head", "middle", "tail")

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


@dataclass
class FilterPerplexity(RecordStage):
    """KenLM perplexity per document (CCNet's formula); CCNet's head/middle/tail buckets."""

    name: ClassVar[str] = "filter-perplexity"
    summary: ClassVar[str] = ("Score each document's perplexity with a KenLM model given by path (ARPA "
                              "or binary, optionally with its SentencePiece model, as CCNet): "
                              "meta.perplexity, CCNet's head/middle/tail buckets by --cutoffs; "
                              "drop or annotate.")
    # the model is the user's file: not in the default chain, no section in --print-config but a
    # commented one, nothing to warm up
    needs_model: ClassVar[bool] = True
    reasons: ClassVar[dict[str, str]] = {
        "no_lm_text": "no token to score",
        "high_perplexity": "the perplexity is above --max-perplexity",
        "perplexity_bucket": "the perplexity bucket (--cutoffs) is not in --keep-buckets",
    }

    model: str = opt("", "The KenLM model (ARPA or KenLM binary) to score with (required).", metavar="PATH")
    sp_model: str = opt("", "The SentencePiece model the LM's text was tokenized with (as CCNet's); "
                            "empty: whitespace words, CJK characters.", metavar="PATH")
    cutoffs: str = opt("", "Two perplexities A,B: head below A, middle below B, tail above "
                           "(meta.perplexity_bucket); empty: no buckets.", metavar="A,B")
    keep_buckets: str = opt("head,middle,tail", "Buckets to keep (with --cutoffs).", metavar="BUCKETS")
    max_perplexity: float = opt(0.0, "Drop documents whose perplexity is above this (0: no limit).")
    annotate: bool = opt(False, "Only write meta.perplexity (and the bucket); drop nothing.")
    lowercase: bool = opt(True, "Lowercase the text before scoring (as the LM's training text was).")
    cjk: str = opt("chars", "CJK text without --sp-model: chars makes every character a token; none "
                            "leaves it as it is.", metavar="chars|none")

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
        if self.cutoffs.strip():
            try:
                a, b = (float(x) for x in self.cutoffs.split(","))
            except ValueError:
                raise ValueError(f"--cutoffs takes two numbers A,B (got {self.cutoffs!r})") from None
            if not (0 < a <= b) or not math.isfinite(b):
                raise ValueError(f"--cutoffs must be 0 < A <= B (got {self.cutoffs!r})")
            self._cut = (a, b)
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
        for s in self.sentences(text):
            log10 += lm.score(s, bos=True, eos=True)
            length += s.count(" ") + 2  # tokens + </s>
        if not length:
            return None
        return 10.0 ** (-log10 / length)

    def bucket(self, pp: float) -> str:
        assert self._cut is not None
        return "head" if pp < self._cut[0] else ("middle" if pp < self._cut[1] else "tail")

    def process(self, record: dict) -> dict | Rejection:
        pp = self.perplexity(self.get_text(record))
        set_meta(record, "perplexity", pp)
        b = None
        if pp is not None and self._cut is not None:
            b = self.bucket(pp)
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
