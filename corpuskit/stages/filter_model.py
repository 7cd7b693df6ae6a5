"""filter-model: score each document with a fastText quality classifier given by path.

`corpuskit filter-model --model quality.bin --label hq --threshold 0.5`

* The model is the user's file (`.bin`, or `.ftz` for a quantized one): DCLM's
  `openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin`, a ChineseWebText or FineWeb-style
  fastText classifier, or one built by `corpuskit train-quality`. Nothing is downloaded.
* The text is prepared as such models are trained (corpuskit.core.modeltext.classifier_line):
  lowercased, newlines flattened, whitespace tokens, every CJK character a token of its own.
* `meta.quality = {"model": file name, "label": --label, "score": P(label)}`; a document whose
  score is below --threshold is dropped (`low_quality_score`), or only annotated with
  --annotate.
* The model is loaded once per process, on the first document (a stage object is pickled to
  the pipeline's workers and to Ray without it), and kept for the process's life.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.core.errors import UsageError
from corpuskit.core.modeltext import CJK_MODES, classifier_line
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta

_MODELS: dict[tuple, Any] = {}  # (path, size, mtime) -> the loaded fastText model, per process
_LOCK = threading.Lock()


def import_fasttext() -> Any:
    try:
        import fasttext
    except ImportError:
        raise UsageError("needs fastText: pip install 'corpuskit[fasttext]' (the fasttext-numpy2 "
                         "wheel)") from None
    if not hasattr(fasttext, "train_supervised") and not hasattr(fasttext, "load_model"):
        raise UsageError("the installed `fasttext` module cannot load models: pip install "
                         "'corpuskit[fasttext]'")
    return fasttext


def load_fasttext(path: str) -> Any:
    """The model at `path`, loaded once per process (reloaded if the file changes)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    with _LOCK:
        m = _MODELS.get(key)
        if m is None:
            ft = import_fasttext()
            try:
                m = ft.load_model(path)
            except ValueError as e:  # not a fastText model (fastText says "... has wrong file format!")
                raise UsageError(f"--model {path}: not a fastText model ({e})") from None
            _MODELS.clear()  # an earlier model of this process (another run in a long-lived worker)
            _MODELS[key] = m
    return m


@dataclass
class FilterModel(RecordStage):
    """Score documents with a fastText quality classifier; drop or annotate below a threshold."""

    name: ClassVar[str] = "filter-model"
    summary: ClassVar[str] = ("Score each document with a fastText quality classifier given by path "
                              "(DCLM's, a FineWeb or ChineseWebText-style one, or one made by "
                              "train-quality): meta.quality = {model, label, score}; drop below "
                              "--threshold or only annotate.")
    # the model is the user's file: not in the default chain, no section in --print-config but a
    # commented one, nothing to warm up
    needs_model: ClassVar[bool] = True
    reasons: ClassVar[dict[str, str]] = {
        "low_quality_score": "the model's probability of --label is below --threshold",
    }

    model: str = opt("", "The fastText classifier (.bin or .ftz) to score with (required).", metavar="PATH")
    label: str = opt("hq", "The model's label for high quality (with or without __label__); the score "
                           "is the model's probability of it.", metavar="LABEL")
    threshold: float = opt(0.5, "Drop documents whose score is below this.")
    annotate: bool = opt(False, "Only write meta.quality; drop nothing.")
    lowercase: bool = opt(True, "Lowercase the text before scoring (as the model was trained).")
    cjk: str = opt("chars", "Chinese, Japanese and Korean text: chars makes every character a token "
                            "(as train-quality trains); none leaves it as it is (for a model trained "
                            "on pre-segmented text).", metavar="chars|none")
    prefix_chars: int = opt(0, "Score only the first N characters of a document (0: all).")

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("--model is required: the path of a fastText classifier (.bin or .ftz)")
        if not Path(self.model).is_file():
            raise ValueError(f"--model {self.model}: no such file")
        if self.cjk not in CJK_MODES:
            raise ValueError(f"--cjk must be one of {', '.join(CJK_MODES)} (got {self.cjk!r})")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"--threshold must be between 0 and 1 (got {self.threshold})")
        if self.prefix_chars < 0:
            raise ValueError(f"--prefix-chars must be >= 0 (got {self.prefix_chars})")
        if not self.label:
            raise ValueError("--label must name the model's high-quality label")
        self._label = self.label if self.label.startswith("__label__") else "__label__" + self.label
        self._model_name = Path(self.model).name

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_model", None)  # never pickled: each process loads it on its first document
        return state

    def _loaded(self) -> Any:
        m = self.__dict__.get("_model")
        if m is not None:
            return m
        m = load_fasttext(self.model)
        labels = getattr(m, "_corpuskit_labels", None)
        if labels is None:
            labels = frozenset(m.get_labels())
            try:
                m._corpuskit_labels = labels
            except AttributeError:
                pass
        if self._label not in labels:
            raise UsageError(f"--label {self.label}: the model {self._model_name} has no such label "
                             f"(its labels: {', '.join(sorted(x.removeprefix('__label__') for x in labels))})")
        self._model = m
        return m

    def score(self, text: str) -> float:
        """The model's probability of --label for this text (0.0 for a text with no token)."""
        line = classifier_line(text, self.lowercase, self.cjk, self.prefix_chars)
        if not line:
            return 0.0
        labels, probs = self._loaded().predict(line, k=-1)
        for lab, p in zip(labels, probs):
            if lab == self._label:
                return round(min(max(float(p), 0.0), 1.0), 6)
        return 0.0

    def process(self, record: dict) -> dict | Rejection:
        s = self.score(self.get_text(record))
        set_meta(record, "quality", {"model": self._model_name, "label": self._label.removeprefix("__label__"),
                                     "score": s})
        if not self.annotate and s < self.threshold:
            return Rejection("low_quality_score", f"{s:.3f} < {self.threshold:g}")
        return record
