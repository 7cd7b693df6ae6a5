"""filter-perplexity: the perplexity equals CCNet's formula computed here with the kenlm module
itself, on a hand-written ARPA model:
    pp(doc) = 10 ** (-sum(Model.score(sentence, bos=True, eos=True)) / sum(len(tokens) + 1))
over the document's non-empty lines as sentences (+1: each sentence's </s>)."""
from __future__ import annotations

import pickle

import orjson
import pytest

from corpuskit.core.stage import Rejection
from corpuskit.stages.filter_perplexity import FilterPerplexity
from tests.quality_models import need, tiny_arpa


@pytest.fixture(scope="module")
def arpa(tmp_path_factory):
    return tiny_arpa(tmp_path_factory.mktemp("lm"))


def _expected(model, sentences):
    """CCNet's document perplexity from kenlm directly, sentences given as token lists."""
    log10 = sum(model.score(" ".join(toks), bos=True, eos=True) for toks in sentences)
    length = sum(len(toks) + 1 for toks in sentences)
    return 10.0 ** (-log10 / length)


CASES = [
    ("The cat sat\n\nthe  cat", [["the", "cat", "sat"], ["the", "cat"]]),
    ("中文\n中文文。", [["中", "文"], ["中", "文", "文", "。"]]),
    ("the 中文 dog", [["the", "中", "文", "dog"]]),  # dog: <unk>
    ("SAT", [["sat"]]),
]


@pytest.mark.parametrize("text,tokens", CASES)
def test_perplexity_is_kenlms_own(arpa, text, tokens):
    kenlm = need("kenlm")
    ref = kenlm.Model(str(arpa))
    stage = FilterPerplexity(model=str(arpa), annotate=True)
    out = stage.process({"id": "a", "text": text})
    assert out["meta"]["perplexity"] == _expected(ref, tokens)  # exactly the same number
    # and with full_scores: the same sum, word by word
    fs = sum(sum(p for p, _, _ in ref.full_scores(" ".join(t))) for t in tokens)
    assert out["meta"]["perplexity"] == pytest.approx(10 ** (-fs / sum(len(t) + 1 for t in tokens)))


def test_buckets_keep_and_limits(arpa):
    need("kenlm")
    low = "the cat sat"  # every bigram known: low perplexity
    high = "dog dog dog dog"  # unknown words
    pp_low = FilterPerplexity(model=str(arpa)).perplexity(low)
    pp_high = FilterPerplexity(model=str(arpa)).perplexity(high)
    assert pp_low < pp_high
    cut = f"{pp_low * 1.01},{pp_high * 0.99}"
    s = FilterPerplexity(model=str(arpa), cutoffs=cut, keep_buckets="head,middle")
    kept = s.process({"text": low})
    assert kept["meta"]["perplexity_bucket"] == "head"
    r = s.process({"text": high})
    assert isinstance(r, Rejection) and r.reason == "perplexity_bucket"
    mid = FilterPerplexity(model=str(arpa), cutoffs=f"{pp_low * 0.5},{pp_high * 1.01}", annotate=True)
    assert mid.process({"text": low})["meta"]["perplexity_bucket"] == "middle"
    lim = FilterPerplexity(model=str(arpa), max_perplexity=pp_low * 2)
    assert not isinstance(lim.process({"text": low}), Rejection)
    assert lim.process({"text": high}).reason == "high_perplexity"
    empty = FilterPerplexity(model=str(arpa)).process({"text": " \n\n "})
    assert isinstance(empty, Rejection) and empty.reason == "no_lm_text"
    ann = FilterPerplexity(model=str(arpa), annotate=True).process({"text": ""})
    assert ann["meta"]["perplexity"] is None


def test_sentencepiece_tokens(arpa, tmp_path):
    """With --sp-model the tokens are SentencePiece's pieces of each lowercased line."""
    kenlm = need("kenlm")
    spm = need("sentencepiece")
    corpus = tmp_path / "sp.txt"
    corpus.write_text("\n".join(["the cat sat on the mat", "中文文本很好", "a cat and a dog"] * 50), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "sp"), vocab_size=20,
                                   character_coverage=1.0, model_type="unigram", minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "sp.model"))
    text = "The cat SAT\n中文"
    pieces = [sp.encode("the cat sat", out_type=str), sp.encode("中文", out_type=str)]
    got = FilterPerplexity(model=str(arpa), sp_model=str(tmp_path / "sp.model"), annotate=True).process({"text": text})
    assert got["meta"]["perplexity"] == _expected(kenlm.Model(str(arpa)), pieces)


def test_stage_pickles_without_its_model(arpa):
    need("kenlm")
    s = FilterPerplexity(model=str(arpa))
    s.perplexity("the cat")
    blob = pickle.dumps(s)
    assert len(blob) < 4096
    assert pickle.loads(blob).perplexity("the cat") == s.perplexity("the cat")


def test_cli_pipe_and_usage_errors(arpa, run_cli, tmp_path):
    need("kenlm")
    lines = b"".join(orjson.dumps({"id": str(i), "text": t}) + b"\n"
                     for i, t in enumerate(["the cat sat", "dog dog dog dog", ""]))
    p = run_cli(["filter-perplexity", "--model", arpa, "--max-perplexity", "5", "-q", "--rejected",
                 tmp_path / "rej.jsonl"], input=lines, check=True)
    out = [orjson.loads(x) for x in p.stdout.splitlines()]
    rej = [orjson.loads(x) for x in (tmp_path / "rej.jsonl").read_bytes().splitlines()]
    assert [r["text"] for r in out] == ["the cat sat"]
    assert sorted(r["meta"]["rejected"]["reason"] for r in rej) == ["high_perplexity", "no_lm_text"]
    for args, msg in [([], "--model is required"), (["--model", tmp_path / "no.arpa"], "no such file"),
                      (["--model", arpa, "--cutoffs", "5"], "--cutoffs"),
                      (["--model", arpa, "--keep-buckets", "top"], "--keep-buckets")]:
        p = run_cli(["filter-perplexity", *args], input=lines)
        assert p.returncode == 2 and msg in p.stderr.decode(), (args, p.stderr)
    junk = tmp_path / "junk.arpa"
    junk.write_text("this is not an arpa file\n")
    p = run_cli(["filter-perplexity", "--model", junk], input=lines)
    assert p.returncode == 2 and "not a KenLM model" in p.stderr.decode()
    assert p.stderr.count(b"\n") == 1
