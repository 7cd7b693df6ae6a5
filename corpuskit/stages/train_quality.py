"""train-quality: train a fastText quality classifier from reference text and raw crawl, offline.

`corpuskit train-quality --positive wiki.jsonl --negative crawl.jsonl -o quality.bin`

DCLM's recipe: high-quality reference text as the positives, raw web text as the negatives; the
model's probability of the positive label is then a quality score (`corpuskit filter-model
--model quality.bin --label hq`).

* Every document is prepared as filter-model prepares it (corpuskit.core.modeltext:
  lowercased, one line, each CJK character a token) and labelled `__label__<label>` (positives)
  or `__label__<negative_label>`.
* The split comes first: a document whose id hashes (BLAKE2b) below --heldout is held out and
  never trained on; the figures printed (precision and recall at 0.5, ROC-AUC, the threshold
  reaching --precision) are measured on that part. The same ids give the same split.
* fastText trains with word bigrams (`--word-ngrams 2`: with CJK characters as tokens, the
  character bigrams), on the training lines in a seeded order; one thread (the default) gives
  the same model for the same input, more threads train faster but not reproducibly.
* `-o NAME.ftz` writes a quantized model (smaller, a little less accurate); any other name a
  full `.bin`.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.core.modeltext import CJK_MODES, classifier_line
from corpuskit.core.stage import Stage, Table, opt
from corpuskit.io.jsonl import RecordReader, expand_inputs
from corpuskit.io.paths import require
from corpuskit.io.targets import check_outputs_not_inputs
from corpuskit.io.writer import create_temp, write_target


def heldout_hash(doc_id: str) -> float:
    """A document's place in [0, 1) for the split, from its id alone."""
    h = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0 ** 64


def roc_auc(scores: list[float], labels: list[int]) -> float | None:
    """The area under the ROC curve: the probability that a random positive scores above a
    random negative, ties counting a half (Mann-Whitney U over average ranks). None without
    both classes."""
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        avg = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def precision_recall(scores: list[float], labels: list[int], threshold: float) -> tuple[float | None, float | None]:
    """(precision, recall) of `score >= threshold` as the positive call."""
    tp = sum(1 for s, y in zip(scores, labels) if y and s >= threshold)
    fp = sum(1 for s, y in zip(scores, labels) if not y and s >= threshold)
    pos = sum(labels)
    return (tp / (tp + fp) if tp + fp else None), (tp / pos if pos else None)


def threshold_for_precision(scores: list[float], labels: list[int], target: float) -> tuple[float, float, float] | None:
    """The threshold with the most recall whose precision is >= target, the highest such one
    (a lower one would only add false positives): (threshold, precision, recall); None when no
    threshold reaches it."""
    pos = sum(labels)
    if not pos:
        return None
    pairs = sorted(zip(scores, labels), key=lambda p: -p[0])
    best = None
    tp = fp = 0
    i = 0
    while i < len(pairs):
        s = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == s:  # every document at this score is called positive
            tp += pairs[i][1]
            fp += 1 - pairs[i][1]
            i += 1
        if tp and tp / (tp + fp) >= target and (best is None or tp / pos > best[2]):
            best = (s, tp / (tp + fp), tp / pos)
    return best


@dataclass
class TrainQuality(Stage):
    """Train a fastText quality classifier (positives vs negatives) with a held-out check."""

    name: ClassVar[str] = "train-quality"
    summary: ClassVar[str] = ("Train a fastText quality classifier offline from reference text "
                              "(--positive) and raw crawl (--negative), for filter-model; prints "
                              "precision, recall, ROC-AUC and the threshold for --precision, measured "
                              "on a held-out split.")
    needs: ClassVar[str | None] = None
    in_pipeline: ClassVar[bool] = False
    writes_model: ClassVar[bool] = True

    positive: list[str] = opt([], "High-quality examples: JSONL files or folders (given once per path).",
                              repeat=True, metavar="PATH")
    negative: list[str] = opt([], "Low-quality examples (raw crawl): JSONL files or folders (given once per path).",
                              repeat=True, metavar="PATH")
    label: str = opt("hq", "Label of the positives (filter-model --label).", metavar="LABEL")
    negative_label: str = opt("lq", "Label of the negatives.", metavar="LABEL")
    heldout: float = opt(0.1, "Share of the documents held out (by a hash of their id) for the figures; "
                              "never trained on.")
    precision: float = opt(0.9, "Print the threshold with the most held-out recall whose precision reaches this.")
    epoch: int = opt(5, "fastText: passes over the training lines.")
    lr: float = opt(0.1, "fastText: learning rate.")
    word_ngrams: int = opt(2, "fastText: word n-grams (2: bigrams; with CJK characters as tokens, "
                              "character bigrams).")
    dim: int = opt(64, "fastText: size of the vectors.")
    min_count: int = opt(2, "fastText: tokens seen fewer times are ignored.")
    bucket: int = opt(200_000, "fastText: hash buckets for the n-grams (model size ~ bucket x dim x 4 bytes).")
    threads: int = opt(1, "Training threads (1: the same model for the same input; more: faster, "
                          "not reproducible).")
    seed: int = opt(0, "Seed of the order of the training lines and of fastText.")
    lowercase: bool = opt(True, "Lowercase the text (filter-model --lowercase must match).")
    cjk: str = opt("chars", "CJK text: chars makes every character a token; none leaves it "
                            "(filter-model --cjk must match).", metavar="chars|none")
    prefix_chars: int = opt(0, "Train on the first N characters of a document (0: all).")

    def __post_init__(self) -> None:
        if not 0.0 < self.heldout < 1.0:
            raise ValueError(f"--heldout must be between 0 and 1, exclusive (got {self.heldout})")
        if not 0.0 < self.precision <= 1.0:
            raise ValueError(f"--precision must be in (0, 1] (got {self.precision})")
        if self.cjk not in CJK_MODES:
            raise ValueError(f"--cjk must be one of {', '.join(CJK_MODES)} (got {self.cjk!r})")
        for name in ("epoch", "word_ngrams", "dim", "min_count", "bucket", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1 (got {getattr(self, name)})")
        if not self.lr > 0:
            raise ValueError(f"--lr must be > 0 (got {self.lr})")
        for name in ("label", "negative_label"):
            v = getattr(self, name).removeprefix("__label__")
            if not v or any(c.isspace() for c in v):
                raise ValueError(f"--{name.replace('_', '-')} must be one word (got {getattr(self, name)!r})")
            setattr(self, name, v)
        if self.label == self.negative_label:
            raise ValueError("--label and --negative-label must differ")
        self._report: dict = {}

    # ------------------------------------------------------------------ data
    def _documents(self, paths: list[str], which: str) -> Iterator[tuple[str, str]]:
        """(id, prepared line) of every record of `paths`."""
        for p in paths:
            require(p)
        if not expand_inputs(paths):
            raise UsageError(f"--{which}: no JSONL files in {', '.join(paths)}")
        reader = RecordReader(paths, require_field=self.text_field, text_field=self.text_field,
                              id_field=self.id_field)
        for rec in reader:
            yield str(rec.get(self.id_field, "")), classifier_line(rec[self.text_field], self.lowercase,
                                                                   self.cjk, self.prefix_chars)

    def input_files(self) -> list[str]:
        """The example files read (folders walked), which no output may replace."""
        for p in self.positive + self.negative:
            require(p)
        return expand_inputs(self.positive + self.negative)

    def train(self, output: str, note: Callable[[str], None] | None = None) -> dict:
        """Train, save the model at `output`, and return the report (also `self.result()`)."""
        if not self.positive or not self.negative:
            raise UsageError("give the examples with --positive PATH and --negative PATH")
        if not output:
            raise UsageError("give the model's path with -o MODEL.bin")
        check_outputs_not_inputs({"-o": output}, self.input_files())  # (it replaced the examples)
        ft = _import_fasttext_trainer()
        train_lines: list[str] = []
        held: list[tuple[int, str]] = []
        counts = {"positive": {"train": 0, "heldout": 0, "empty": 0},
                  "negative": {"train": 0, "heldout": 0, "empty": 0}}
        for which, paths, lab, y in (("positive", self.positive, self.label, 1),
                                     ("negative", self.negative, self.negative_label, 0)):
            for doc_id, line in self._documents(paths, which):
                if not line:
                    counts[which]["empty"] += 1  # nothing to learn from or to score
                    continue
                if heldout_hash(doc_id) < self.heldout:
                    held.append((y, line))
                    counts[which]["heldout"] += 1
                else:
                    train_lines.append(f"__label__{lab} {line}")
                    counts[which]["train"] += 1
        for which in ("positive", "negative"):
            if not counts[which]["train"]:
                raise UsageError(f"--{which}: no document left to train on (after the held-out split)")
        if note:
            note(f"training on {len(train_lines):,} documents, {len(held):,} held out")
        random.Random(self.seed).shuffle(train_lines)
        out = Path(output)
        out.parent.mkdir(parents=True, exist_ok=True)
        target, through = write_target(output)  # before training: a bad path fails at once
        with tempfile.TemporaryDirectory(prefix="corpuskit-train-") as tmp:
            train_file = os.path.join(tmp, "train.txt")
            with open(train_file, "w", encoding="utf-8") as f:
                for line in train_lines:
                    f.write(line + "\n")
            del train_lines
            tmp_model = os.path.join(tmp, "model" + out.suffix)
            params = dict(epoch=self.epoch, lr=self.lr, wordNgrams=self.word_ngrams, dim=self.dim,
                          minCount=self.min_count, bucket=self.bucket, thread=self.threads, seed=self.seed,
                          loss="softmax", verbose=0)
            # in a fresh process: fastText reads memory it did not set (a second model trained in
            # the same process differs, or fails with "Encountered NaN"); a new process's is zero
            _fit_in_child(train_file, params, tmp_model, out.suffix == ".ftz")
            model = ft.load_model(tmp_model)
            _install(tmp_model, target, through)
        pos_label = "__label__" + self.label
        scores, ys = [], []
        for y, line in held:
            labels, probs = model.predict(line, k=-1)
            p = dict(zip(labels, probs)).get(pos_label, 0.0)
            scores.append(min(max(float(p), 0.0), 1.0))
            ys.append(y)
        auc = roc_auc(scores, ys)
        prec, rec = precision_recall(scores, ys, 0.5)
        at = threshold_for_precision(scores, ys, self.precision)
        self._report = {
            "model": str(out), "label": self.label, "negative_label": self.negative_label,
            "documents": counts,
            "heldout": {"documents": len(ys), "roc_auc": _r(auc), "precision_at_0.5": _r(prec),
                        "recall_at_0.5": _r(rec),
                        "target_precision": self.precision,
                        "threshold": None if at is None else _r(at[0]),
                        "precision_at_threshold": None if at is None else _r(at[1]),
                        "recall_at_threshold": None if at is None else _r(at[2])},
            "settings": {"epoch": self.epoch, "lr": self.lr, "word_ngrams": self.word_ngrams, "dim": self.dim,
                         "min_count": self.min_count, "bucket": self.bucket, "seed": self.seed,
                         "lowercase": self.lowercase, "cjk": self.cjk, "prefix_chars": self.prefix_chars},
        }
        return self._report

    def result(self) -> dict:
        return self._report

    def tables(self) -> list[Table]:
        if not self._report:
            return []
        h = self._report["heldout"]
        d = self._report["documents"]

        def f(v: Any) -> str:
            return "-" if v is None else f"{v:.4f}"

        return [Table(f"corpuskit train-quality: {self._report['model']}", ["", "value"], [
            ["positives (train / held out)", f"{d['positive']['train']:,} / {d['positive']['heldout']:,}"],
            ["negatives (train / held out)", f"{d['negative']['train']:,} / {d['negative']['heldout']:,}"],
            ["held-out ROC-AUC", f(h["roc_auc"])],
            ["held-out precision / recall at 0.5", f"{f(h['precision_at_0.5'])} / {f(h['recall_at_0.5'])}"],
            [f"threshold for precision >= {h['target_precision']:g}",
             f"{f(h['threshold'])} (recall {f(h['recall_at_threshold'])})"],
        ])]


def _fit_in_child(train_file: str, params: dict, out: str, quantize: bool) -> None:
    """`_fit` in a new Python process (`python -m corpuskit.stages.train_quality ARGS`)."""
    src = str(Path(__file__).resolve().parent.parent.parent)  # where this corpuskit is imported from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}
    arg = json.dumps({"train_file": train_file, "params": params, "out": out, "quantize": quantize})
    p = subprocess.run([sys.executable, "-m", "corpuskit.stages.train_quality", arg], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or [f"exit code {p.returncode}"])[-1]
        raise CorpusKitError(f"fastText training failed: {last}")


def _fit(train_file: str, params: dict, out: str, quantize: bool) -> None:
    """Train and save (run in a child process: see TrainQuality.train)."""
    ft = _import_fasttext_trainer()
    model = ft.train_supervised(input=train_file, **params)
    if quantize:
        model.quantize(input=train_file, retrain=False, qnorm=True)
    model.save_model(out)


def _r(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else round(v, 6)


def _install(src: str, target: str, through: bool) -> None:
    """The trained model at `target` (from `io.writer.write_target`), as every output is
    written: through a FIFO or device, else renamed atomically onto the real file from a temp
    file beside it (a symlink's target is replaced, the link stays; mode 0666 less the umask)."""
    if through:
        with open(src, "rb") as f, open(target, "wb") as g:
            shutil.copyfileobj(f, g)
        return
    fd, tmp = create_temp(Path(target))
    try:
        with os.fdopen(fd, "wb") as g, open(src, "rb") as f:
            shutil.copyfileobj(f, g)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _import_fasttext_trainer() -> Any:
    try:
        import fasttext
    except ImportError:
        raise UsageError("train-quality needs fastText: pip install 'corpuskit[fasttext]' "
                         "(the fasttext-numpy2 wheel)") from None
    if not hasattr(fasttext, "train_supervised"):
        raise UsageError("the installed `fasttext` module cannot train (it is fasttext-predict, which "
                         "only predicts): pip install --force-reinstall fasttext-numpy2")
    return fasttext


if __name__ == "__main__":  # the training child (see _fit_in_child)
    _a = json.loads(sys.argv[1])
    _fit(_a["train_file"], _a["params"], _a["out"], _a["quantize"])
