"""filter-model: a real fastText classifier, trained here on generated English and Chinese
lines, scores documents; the scores are checked against fastText called directly."""
from __future__ import annotations

import pickle

import orjson
import pytest

from corpuskit.core.chain import run_stages
from corpuskit.core.modeltext import classifier_line
from corpuskit.core.stage import Rejection
from corpuskit.stages.filter_model import FilterModel
from tests.memory import traced_peak
from tests.quality_models import docs, need, tiny_fasttext
from tests.quality_models import tokens as _tokens


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return tiny_fasttext(tmp_path_factory.mktemp("ft"))


def test_classifier_line_makes_each_cjk_character_a_token():
    assert classifier_line("北京，欢迎你！\nHello  World\t2024") == "北 京 ， 欢 迎 你 ！ hello world 2024"
    assert classifier_line("Hello World", lowercase=False) == "Hello World"
    assert classifier_line("北京欢迎你", cjk="none") == "北京欢迎你"
    assert classifier_line("abcdef", prefix_chars=3) == "abc"



def _long_text(paragraphs: int) -> str:
    import random

    rnd = random.Random(1)
    en = ["The committee met on Tuesday to review the BUDGET.", "Visitors can reach the museum by bus."]
    zh = ["委员会周二开会审议了来年的预算。", "遊客可以乘公交車前往博物館。", "ΟΔΟΣ　Σ"]
    return "\n\n".join(rnd.choice(en) + rnd.choice([" ", "\t", "\u3000", ""]) + rnd.choice(zh)
                       for _ in range(paragraphs))


def test_a_huge_document_is_prepared_a_piece_at_a_time_into_the_same_line(monkeypatch):
    from corpuskit.core import modeltext

    text = _long_text(3000)
    whole = {(lc, cjk): modeltext._line(text, lc, cjk) for lc in (True, False) for cjk in ("chars", "none")}
    for size in (1, 100, 4096):
        monkeypatch.setattr(modeltext, "PIECE_CHARS", size)
        for (lc, cjk), line in whole.items():
            assert classifier_line(text, lc, cjk) == line


def test_preparing_a_huge_document_holds_no_string_per_token():
    # text.split() over a whole document held a Python string for each token at once: 17x
    # the text's own size for this one; a piece at a time, the line and the pieces
    import sys

    from corpuskit.core import modeltext

    text = _long_text(20000)
    assert len(text) > 10 * modeltext.PIECE_CHARS
    line, peak = traced_peak(classifier_line, text)
    assert line.startswith(("the committee", "visitors"))
    assert peak < 4 * sys.getsizeof(text), peak / sys.getsizeof(text)

def test_scores_match_fasttext_and_separate_unseen_documents(model_path):
    fasttext = need("fasttext")
    ref = fasttext.load_model(str(model_path))
    good, spam = docs(60, seed=99)  # new combinations, never trained on
    stage = FilterModel(model=str(model_path), label="hq", threshold=0.5)
    for text, is_good in [(t, True) for t in good] + [(t, False) for t in spam]:
        out = stage.process({"id": "x", "text": text})
        labels, probs = ref.predict(_tokens(text), k=-1)
        expected = float(dict(zip(labels, probs))["__label__hq"])
        if is_good:
            assert not isinstance(out, Rejection), text
            q = out["meta"]["quality"]
            assert q["model"] == "q.bin" and q["label"] == "hq"
            assert q["score"] == pytest.approx(expected, abs=1e-6)
            assert q["score"] > 0.9, text
        else:
            assert isinstance(out, Rejection) and out.reason == "low_quality_score", text
            assert stage.score(text) == pytest.approx(expected, abs=1e-6)
            assert stage.score(text) < 0.1, text


def test_chinese_is_scored_by_characters_not_as_one_token(model_path):
    # each Chinese document is one unspaced string: as one token it is unknown to the model
    good, spam = docs(60, seed=7)
    zh_good = [t for t in good if not t.isascii()]
    zh_spam = [t for t in spam if not t.isascii()]
    chars = FilterModel(model=str(model_path), annotate=True)
    whole = FilterModel(model=str(model_path), annotate=True, cjk="none")
    assert min(chars.score(t) for t in zh_good) > max(chars.score(t) for t in zh_spam)
    # without the split, the scores do not separate the two
    assert min(whole.score(t) for t in zh_good) < max(whole.score(t) for t in zh_spam)


def test_annotate_keeps_everything_and_label_names_the_score(model_path):
    good, spam = docs(10, seed=3)
    recs = [{"id": str(i), "text": t} for i, t in enumerate(good + spam)]
    kept, rejected = [], []
    stage = FilterModel(model=str(model_path), annotate=True)
    for r in recs:
        out = stage.process(dict(r))
        (rejected if isinstance(out, Rejection) else kept).append(out)
    assert len(kept) == 20 and not rejected
    lq = FilterModel(model=str(model_path), label="__label__lq", annotate=True)
    for r in kept:
        s_lq = lq.score(r["text"])
        assert s_lq + r["meta"]["quality"]["score"] == pytest.approx(1.0, abs=1e-4)


def test_stage_pickles_without_its_model(model_path):
    stage = FilterModel(model=str(model_path))
    stage.process({"id": "a", "text": "the museum published a guide"})  # loads the model
    blob = pickle.dumps(stage)
    assert len(blob) < 4096  # the path, not the model
    again = pickle.loads(blob)
    assert again.score("免费领取！点击进入") == stage.score("免费领取！点击进入")


def test_cli_in_a_pipe(model_path, run_cli, tmp_path):
    good, spam = docs(5, seed=11)
    lines = b"".join(orjson.dumps({"id": str(i), "text": t}) + b"\n" for i, t in enumerate(good + spam))
    rej = tmp_path / "rej.jsonl"
    p = run_cli(["filter-model", "--model", model_path, "--rejected", rej, "-q"], input=lines, check=True)
    out = [orjson.loads(x) for x in p.stdout.splitlines()]
    dropped = [orjson.loads(x) for x in rej.read_bytes().splitlines()]
    assert len(out) + len(dropped) == 10
    assert {r["text"] for r in out} == set(good)
    assert all(r["meta"]["rejected"]["reason"] == "low_quality_score" for r in dropped)


def test_bad_usage_is_one_line_and_exit_2(model_path, run_cli, tmp_path):
    line = orjson.dumps({"text": "hello"}) + b"\n"
    p = run_cli(["filter-model", "--model", model_path, "--label", "nope"], input=line)
    assert p.returncode == 2
    err = p.stderr.decode()
    assert err.count("\n") == 1 and "no such label" in err and "hq" in err
    p = run_cli(["filter-model", "--model", tmp_path / "missing.bin"], input=line)
    assert p.returncode == 2 and "no such file" in p.stderr.decode()
    p = run_cli(["filter-model"], input=line)
    assert p.returncode == 2 and "--model is required" in p.stderr.decode()
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model at all")
    p = run_cli(["filter-model", "--model", junk], input=line)
    assert p.returncode == 2 and "not a fastText model" in p.stderr.decode()


def test_run_stages_counts_every_record(model_path):
    good, spam = docs(8, seed=5)
    recs = [{"id": str(i), "text": t} for i, t in enumerate(good + spam)]
    kept, rejected, _ = run_stages([FilterModel(model=str(model_path))], recs)
    assert len(kept) == 8 and len(rejected) == 8


def test_kana_punctuation_and_marks_are_tokens_of_their_own():
    # the kana blocks' ・ ゠ and voiced-sound marks are split off as CJK punctuation is, as the
    # models were trained (they are no words to core.text, but still a token each here)
    assert classifier_line("NHK・BSの番組") == "nhk ・ bs の 番 組"
    assert classifier_line("A゠B") == "a ゠ b"
