"""filter-perplexity: the perplexity equals CCNet's formula computed here with the kenlm module
itself, on a hand-written ARPA model:
    pp(doc) = 10 ** (-sum(Model.score(sentence, bos=True, eos=True)) / sum(len(tokens) + 1))
over the document's non-empty lines as sentences (+1: each sentence's </s>)."""
from __future__ import annotations

import copy
import os
import pickle
import random

import numpy as np
import orjson
import pytest

from corpuskit.core.stage import Rejected, Rejection, StreamStage
from corpuskit.core.text import line_parts
from corpuskit.pipeline import PipelineConfig, run_pipeline
from corpuskit.stages.filter_perplexity import FilterPerplexity, FilterPerplexityPercentiles
from tests.corpus import mixed_paragraphs
from tests.memory import traced_peak
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


# ---------------------------------------------------------------- --percentiles (whole stream)
def _doc_tokens(text):
    """The test's own tokens of a generated document: each non-empty line a sentence; an ASCII
    line's lowercased words, a Chinese line's characters (no spaces in it)."""
    out = []
    for line in text.split("\n"):
        toks = line.lower().split() if line.isascii() else [c for c in line if not c.isspace()]
        if toks:
            out.append(toks)
    return out


def _corpus(n=120, seed=7):
    rng = random.Random(seed)
    en, zh = ["the", "cat", "sat", "dog", "The", "CAT"], ["中", "文", "。", "狗"]
    recs = []
    for i in range(n):
        lang = rng.choice(["en", "zh", None])
        lines = []
        for _ in range(rng.randint(1, 3)):
            if lang == "zh" or (lang is None and rng.random() < 0.5):
                lines.append("".join(rng.choice(zh) for _ in range(rng.randint(1, 6))))
            else:
                lines.append(" ".join(rng.choice(en) for _ in range(rng.randint(1, 6))))
        rec = {"id": f"d{i}", "text": "\n".join(lines) if i % 17 else " \n "}  # some without a token
        if lang:
            rec["meta"] = {"lang": lang}
        recs.append(rec)
    return recs


def _expected_pp(arpa, recs):
    kenlm = need("kenlm")
    ref = kenlm.Model(str(arpa))
    return [_expected(ref, _doc_tokens(r["text"])) if _doc_tokens(r["text"]) else None for r in recs]


def _bucket(pp, a, b):
    return "head" if pp < a else ("middle" if pp < b else "tail")


def test_percentile_buckets_are_numpys_on_kenlms_scores(arpa):
    recs = _corpus()
    pps = _expected_pp(arpa, recs)
    a, b = np.percentile([p for p in pps if p is not None], [30, 60])  # numpy's default ('linear')
    stage = FilterPerplexity.from_options(model=str(arpa), percentiles="30,60", annotate=True)
    assert isinstance(stage, FilterPerplexityPercentiles) and isinstance(stage, StreamStage)
    out = list(stage.run(copy.deepcopy(recs)))
    assert [r["id"] for r in out] == [r["id"] for r in recs]  # --annotate: all, in order
    for r, pp in zip(out, pps):
        assert r["meta"]["perplexity"] == pp
        assert r["meta"].get("perplexity_bucket") == (None if pp is None else _bucket(pp, a, b))
    res = stage.result()
    assert res["cutoffs"] == [a, b] and res["documents"] == len(recs)
    assert res["documents_scored"] == sum(p is not None for p in pps)
    assert sum(res["buckets"].values()) == res["documents_scored"]
    assert res["buckets"]["head"] > 0 and res["buckets"]["tail"] > 0
    # the computed cut-offs, given back as --cutoffs, make the same buckets (per record, streaming)
    again = FilterPerplexity.from_options(model=str(arpa), cutoffs=res["cutoffs_option"], annotate=True)
    assert isinstance(again, FilterPerplexity)
    assert [again.process(r) for r in copy.deepcopy(recs)] == out


def test_percentiles_by_lang(arpa):
    recs = _corpus(seed=3)
    pps = _expected_pp(arpa, recs)
    lang = [(r.get("meta") or {}).get("lang") or "(missing)" for r in recs]
    want = {g: np.percentile([p for p, lg in zip(pps, lang) if lg == g and p is not None], [30, 60])
            for g in sorted(set(lang))}
    stage = FilterPerplexity.from_options(model=str(arpa), percentiles="30,60", percentiles_by="lang",
                                          annotate=True)
    out = list(stage.run(copy.deepcopy(recs)))
    for r, pp, g in zip(out, pps, lang):
        assert r["meta"].get("perplexity_bucket") == (None if pp is None else _bucket(pp, *want[g]))
    res = stage.result()
    assert res["cutoffs"] == {g: [float(x) for x in c] for g, c in want.items()}
    assert set(res["cutoffs_option"]) == {"en", "zh", "(missing)"}


def test_percentiles_drop_conserves_and_removes_its_spill(arpa, tmp_path):
    recs = _corpus(seed=5)
    pps = _expected_pp(arpa, recs)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    stage = FilterPerplexity.from_options(model=str(arpa), percentiles="30,60", keep_buckets="head,middle",
                                          tmp_dir=str(tmp))
    it = stage.run(copy.deepcopy(recs))
    first = next(it)  # pass 1 is over: the spill is on disk
    spills = [p for d in tmp.iterdir() for p in d.iterdir()]
    assert [p.name for p in spills] == ["spill.jsonl.zst"] and spills[0].stat().st_size > 0
    out = [first, *it]
    assert list(tmp.iterdir()) == []  # removed at the end
    kept = [r for r in out if not isinstance(r, Rejected)]
    rej = [r for r in out if isinstance(r, Rejected)]
    assert len(kept) + len(rej) == len(recs)
    assert {r.record["id"] for r in rej} | {r["id"] for r in kept} == {r["id"] for r in recs}
    assert {r.rejection.reason for r in rej} == {"perplexity_bucket", "no_lm_text"}
    assert sum(r.rejection.reason == "no_lm_text" for r in rej) == sum(p is None for p in pps)
    assert all(r["meta"]["perplexity_bucket"] in ("head", "middle") for r in kept)
    # stopped early (a consumer that fails): the spill goes too
    it = stage.run(copy.deepcopy(recs))
    next(it)
    it.close()
    assert list(tmp.iterdir()) == []


def test_percentiles_pipe_equals_pipeline_with_1_and_2_workers(arpa, run_cli, tmp_path):
    need("kenlm")
    recs = _corpus(n=90, seed=11)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs[:50]))
    (raw / "b.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs[50:]))
    opts = ["--model", str(arpa), "--percentiles", "30,60", "--keep-buckets", "head,middle"]
    p = run_cli(["filter-perplexity", *opts, raw / "a.jsonl", raw / "b.jsonl", "-q",
                 "--rejected", tmp_path / "rej.jsonl", "--stats", tmp_path / "stats.json"], check=True)
    assert p.stdout and p.stderr == b""
    rej = (tmp_path / "rej.jsonl").read_bytes()
    assert len(p.stdout.splitlines()) + len(rej.splitlines()) == len(recs)
    st = orjson.loads((tmp_path / "stats.json").read_bytes())
    st = next(s for s in st["stages"] if s["stage"] == "filter-perplexity")["extra"]
    assert st["cutoffs"] == list(np.percentile([x for x in _expected_pp(arpa, recs) if x is not None], [30, 60]))
    for w in (1, 2):
        clean = tmp_path / f"clean{w}"
        stats = run_pipeline(str(raw), str(clean), PipelineConfig(
            stages=["cat", "filter-perplexity"], workers=w, unit_lines=13, compression="none",
            options={"filter-perplexity": {"model": str(arpa), "percentiles": "30,60",
                                           "keep_buckets": "head,middle"}}))
        data = b"".join((clean / "data" / f).read_bytes() for f in sorted(os.listdir(clean / "data")))
        assert data == p.stdout, w
        assert (clean / "rejected" / "filter-perplexity.jsonl").read_bytes() == rej
        assert stats["conservation"]["ok"]
        fp = next(s for s in stats["stages"] if s["stage"] == "filter-perplexity")
        assert fp["extra"]["cutoffs"] == st["cutoffs"]


def test_percentiles_usage_errors(arpa, run_cli):
    lines = b'{"id": "a", "text": "the cat"}\n'
    for args, msg in [(["--cutoffs", "5,9", "--percentiles", "30,60"], "give one or the other"),
                      (["--percentiles", "30"], "--percentiles takes two numbers"),
                      (["--percentiles", "60,30"], "0 <= P1 <= P2 <= 100"),
                      (["--percentiles", "30,160"], "0 <= P1 <= P2 <= 100"),
                      (["--percentiles-by", "lang"], "--percentiles-by needs --percentiles")]:
        p = run_cli(["filter-perplexity", "--model", arpa, *args], input=lines)
        assert p.returncode == 2 and msg in p.stderr.decode(), (args, p.stderr)
        assert p.stderr.count(b"\n") == 1 and p.stderr.startswith(b"corpuskit filter-perplexity: error:")


# ------------------------------------------------------------ huge records
def _mixed_paragraphs(n_bytes, seed=0):
    # sentences of the tiny model's vocabulary
    return mixed_paragraphs(n_bytes, seed, en=["The cat sat on the mat, and the cat sat again.",
                                               "Researchers found the new method reduced errors."],
                            zh=["委员会周二开会审议了来年的预算。", "中文文本很好，研究人员发现新方法。"])


def test_a_huge_text_is_scored_a_slice_of_lines_at_a_time(arpa, monkeypatch):
    """Scoring one 2 MB text: traced memory stays well under its size (before: its sentences,
    its lower-cased and CJK-split copies and str.lower's buffer of 12 bytes a character were
    held whole, about 9x)."""

    from corpuskit.stages import filter_perplexity as FP

    need("kenlm")
    monkeypatch.setattr(FP, "PART_CHARS", 1 << 16, raising=False)  # slices of a small test text
    text = _mixed_paragraphs(2_000_000)
    stage = FilterPerplexity(model=str(arpa), annotate=True)
    stage.perplexity("the cat")  # the model is loaded before
    pp, peak = traced_peak(stage.perplexity, text)
    assert pp > 1
    assert peak < 1.0 * len(text.encode()), peak / len(text.encode())


@pytest.mark.parametrize("opts", [{}, {"lowercase": False}, {"cjk": "none"}])
def test_a_text_scored_in_slices_has_the_whole_texts_sentences_and_perplexity(arpa, monkeypatch, opts):
    from corpuskit.stages import filter_perplexity as FP

    need("kenlm")
    rnd = random.Random(3)
    # Σ at the ends of lines (final sigma), spaces and tabs around the cuts, blank lines
    text = "".join(rnd.choice(["The CAT sat ΟΔΟΣ\n", "\n", "中文文。\n", " \t the  cat \n", "ΣΑΣ", "Dog\n\n"])
                   for _ in range(3000))
    stage = FilterPerplexity(model=str(arpa), annotate=True, **opts)
    whole, pp = stage.sentences(text), stage.perplexity(text)
    for chars in (1, 7, 64, 1000):
        monkeypatch.setattr(FP, "PART_CHARS", chars)
        assert list(stage.iter_sentences(text)) == whole
        assert stage.perplexity(text) == pp  # the same float: the same sums in the same order
    assert "\n".join(line_parts(text, 10)) == text


def _extra_over_record(tmp_path, args, text):
    """(peak RSS of `filter-perplexity ARGS` on one record holding `text`) - (on a small one),
    as a multiple of the record's size."""
    from tests.memory import peak_rss_mb

    big, little = tmp_path / "big.jsonl", tmp_path / "small.jsonl"
    big.write_bytes(orjson.dumps({"id": "big", "text": text}) + b"\n")
    little.write_bytes(orjson.dumps({"id": "s", "text": "the cat sat"}) + b"\n")
    out = ["-o", tmp_path / "o.jsonl", "--rejected", tmp_path / "r.jsonl", "-q", *args]
    base = peak_rss_mb(["filter-perplexity", little, *out])
    peak = peak_rss_mb(["filter-perplexity", big, *out])
    return (peak - base) * 1024 * 1024 / big.stat().st_size


@pytest.mark.parametrize("percentiles", [False, True])
def test_huge_record_memory_stays_within_3x(arpa, tmp_path, percentiles):
    """One 20 MB record (before, on 50 MB: 6.3x, and 6.2x with --percentiles, which also kept
    the last record of pass 1 through pass 2)."""
    need("kenlm")
    args = ["--model", arpa, *(["--percentiles", "30,60"] if percentiles else [])]
    assert _extra_over_record(tmp_path, args, _mixed_paragraphs(20_000_000)) <= 3.0


def test_sentencepiece_sentences_in_slices_are_the_whole_texts(arpa, tmp_path, monkeypatch):
    from corpuskit.stages import filter_perplexity as FP

    need("kenlm")
    spm = need("sentencepiece")
    corpus = tmp_path / "sp.txt"
    corpus.write_text("\n".join(["the cat sat on the mat", "中文文本很好", "a cat and a dog"] * 50), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "sp"), vocab_size=20,
                                   character_coverage=1.0, model_type="unigram", minloglevel=2)
    stage = FilterPerplexity(model=str(arpa), sp_model=str(tmp_path / "sp.model"), annotate=True)
    rnd = random.Random(5)
    text = "".join(rnd.choice(["The CAT sat\n", "\n", "中文文本。\n", "  a  dog \t\n", "ΣΑΣ "]) for _ in range(2000))
    whole, pp = stage.sentences(text), stage.perplexity(text)
    for chars in (1, 50, 700):
        monkeypatch.setattr(FP, "PART_CHARS", chars)
        assert list(stage.iter_sentences(text)) == whole
        assert stage.perplexity(text) == pp
