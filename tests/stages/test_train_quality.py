"""train-quality: a fastText classifier trained from JSONL files, its held-out figures, and the
figure functions checked against brute force."""
from __future__ import annotations

import itertools
import random

import orjson
import pytest

from corpuskit.stages.filter_model import FilterModel
from corpuskit.stages.train_quality import TrainQuality, roc_auc, threshold_for_precision
from tests.quality_models import docs, need


def _write(path, texts, prefix):
    path.write_bytes(b"".join(orjson.dumps({"id": f"{prefix}{i}", "text": t}) + b"\n"
                              for i, t in enumerate(texts)))
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    d = tmp_path_factory.mktemp("tq")
    good, spam = docs(400, seed=21)
    return _write(d / "good.jsonl", good, "g"), _write(d / "spam.jsonl", spam, "s")


def _brute_auc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_roc_auc_is_the_pairwise_win_rate_with_ties():
    rng = random.Random(4)
    for _ in range(50):
        n = rng.randint(2, 40)
        scores = [rng.choice([0.1, 0.2, 0.5, 0.7, 0.9, rng.random()]) for _ in range(n)]
        labels = [rng.randint(0, 1) for _ in range(n)]
        if 0 < sum(labels) < n:
            assert roc_auc(scores, labels) == pytest.approx(_brute_auc(scores, labels))
    assert roc_auc([0.3, 0.4], [1, 1]) is None


def test_threshold_for_precision_has_the_most_recall_at_that_precision():
    rng = random.Random(8)
    for _ in range(50):
        n = rng.randint(2, 30)
        scores = [round(rng.random(), 1) for _ in range(n)]
        labels = [rng.randint(0, 1) for _ in range(n)]
        if not sum(labels):
            continue
        ok = []
        for t in sorted(set(scores)):
            called = [y for s, y in zip(scores, labels) if s >= t]
            if sum(called) and sum(called) / len(called) >= 0.8:
                ok.append((t, sum(called) / len(called), sum(called) / sum(labels)))
        got = threshold_for_precision(scores, labels, 0.8)
        if not ok:
            assert got is None
        else:  # the most recall, and at that recall the highest threshold
            assert got == pytest.approx(max(ok, key=lambda o: (o[2], o[0])))


def test_cli_trains_a_model_filter_model_uses(sets, run_cli, tmp_path):
    need("fasttext")
    good, spam = sets
    model = tmp_path / "m" / "quality.bin"
    stats = tmp_path / "report.json"
    p = run_cli(["train-quality", "--positive", good, "--negative", spam, "-o", model, "--stats", stats,
                 "--dim", "16", "--bucket", "20000", "--min-count", "1"], check=True)
    assert b"held-out ROC-AUC" in p.stderr
    rep = orjson.loads(stats.read_bytes())
    d = rep["documents"]
    assert d["positive"]["train"] + d["positive"]["heldout"] == 400
    assert d["negative"]["train"] + d["negative"]["heldout"] == 400
    assert 20 <= d["positive"]["heldout"] <= 70  # --heldout 0.1 of 400, by hash
    h = rep["heldout"]
    assert h["documents"] == d["positive"]["heldout"] + d["negative"]["heldout"]
    assert h["roc_auc"] >= 0.99
    assert h["precision_at_threshold"] >= 0.9 and h["threshold"] is not None
    # filter-model reads it: new documents, never seen
    new_good, new_spam = docs(30, seed=500)
    stage = FilterModel(model=str(model))
    assert all(stage.score(t) > 0.5 for t in new_good)
    assert all(stage.score(t) < 0.5 for t in new_spam)


def test_same_input_same_model_and_ftz(sets, tmp_path):
    need("fasttext")
    good, spam = sets
    kw = dict(positive=[str(good)], negative=[str(spam)], dim=16, bucket=20000, min_count=1)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    r1 = TrainQuality(**kw).train(str(a))
    r2 = TrainQuality(**kw).train(str(b))
    assert a.read_bytes() == b.read_bytes()
    assert r1 == {**r2, "model": r1["model"]}
    q = tmp_path / "q.ftz"
    TrainQuality(**kw).train(str(q))
    assert q.stat().st_size < a.stat().st_size
    assert FilterModel(model=str(q)).score("免费领取！点击进入！澳门赌场") < 0.5


def test_heldout_documents_are_not_trained_on(sets, tmp_path):
    """A held-out document's id decides its side: change the ids, the split changes, and the
    counts say so (every document lands on exactly one side)."""
    need("fasttext")
    good, spam = sets
    rep = TrainQuality(positive=[str(good)], negative=[str(spam)], heldout=0.5, dim=16, bucket=20000,
                       min_count=1).train(str(tmp_path / "h.bin"))
    d = rep["documents"]
    assert d["positive"]["train"] + d["positive"]["heldout"] == 400
    assert 150 <= d["positive"]["heldout"] <= 250


def test_usage_errors(sets, run_cli, tmp_path):
    good, spam = sets
    p = run_cli(["train-quality", "--positive", good, "-o", tmp_path / "x.bin"])
    assert p.returncode == 2 and b"--negative" in p.stderr
    p = run_cli(["train-quality", "--positive", good, "--negative", spam])
    assert p.returncode == 2 and b"-o" in p.stderr
    p = run_cli(["train-quality", "--positive", good, "--negative", tmp_path / "nope.jsonl", "-o",
                 tmp_path / "x.bin"])
    assert p.returncode != 0 and b"nope.jsonl" in p.stderr and p.stderr.count(b"\n") == 1
    assert not (tmp_path / "x.bin").exists()


def test_model_output_through_a_symlink_replaces_its_target_and_keeps_the_link(sets, tmp_path):
    need("fasttext")
    good, spam = sets
    real = tmp_path / "models" / "real.bin"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "model.bin"
    link.symlink_to(real)
    TrainQuality(positive=[str(good)], negative=[str(spam)], dim=16, bucket=20000,
                 min_count=1).train(str(link))
    assert link.is_symlink() and link.resolve() == real
    assert real.read_bytes() != b"old" and FilterModel(model=str(link)).score("免费领取！点击进入！澳门赌场") < 0.5
    assert not [p for p in real.parent.iterdir() if p.name.endswith(".tmp")]


def test_the_model_or_the_report_naming_an_example_file_is_refused(run_cli, tmp_path):
    # `-o good.jsonl` replaced the positives by the model, `--stats spam.jsonl` the negatives by
    # the report (after training, exit 0)
    good, spam = docs(60, seed=5)
    g, s = _write(tmp_path / "good.jsonl", good, "g"), _write(tmp_path / "spam.jsonl", spam, "s")
    before = g.read_bytes(), s.read_bytes()
    base = ["train-quality", "--positive", g, "--negative", tmp_path]  # a folder: its files are read
    for extra, what in ((["-o", g], f"-o {g} is also an input"), (["-o", tmp_path / "m.bin", "--stats", s],
                                                                  f"--stats {s} is also an input"),
                        (["-o", tmp_path / "m.bin", "--stats", tmp_path / "m.bin"], "both write to")):
        p = run_cli([*base, *extra])
        assert p.returncode == 2 and what.encode() in p.stderr, p.stderr
        assert (g.read_bytes(), s.read_bytes()) == before and not (tmp_path / "m.bin").exists()
