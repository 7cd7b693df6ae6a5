"""mix: proportions, budgets, up-sampling, determinism, conservation."""
import json
from collections import Counter
from pathlib import Path

import orjson
import pytest

from corpuskit.core.errors import UsageError
from corpuskit.registry import make_stage
from corpuskit.stages.mix import copies_for, parse_source
from corpuskit.tokens.tokenizers import tiktoken_encoding


def _source(path: Path, texts) -> Path:
    path.write_bytes(b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts))
    return path


@pytest.fixture
def sources(tmp_path):
    en = _source(tmp_path / "en.jsonl", [f"English document number {i} about data and models." * (1 + i % 3)
                                         for i in range(200)])
    zh = _source(tmp_path / "zh.jsonl", [f"第{i}篇中文文档，讨论训练语料的清洗与统计。" for i in range(20)])
    return en, zh


def _mix(*specs, **kw):
    stage = make_stage("mix", source=list(specs), **kw)
    kept, rejected, _ = _run(stage)
    return stage, kept, rejected


def _run(stage):
    from corpuskit.core.chain import Chain

    rejected = []
    chain = Chain([stage], rejected.append)
    kept = list(chain.run(None, ["-"]))
    return kept, rejected, chain.stats


def test_docs_budget_proportions_and_up_sampling(sources):
    en, zh = sources
    stage, kept, rejected = _mix(f"en={en}:3", f"zh={zh}:1", docs=80, seed=1)
    by = Counter(r["meta"]["source"] for r in kept)
    assert by == {"en": 60, "zh": 20}
    # zh has 20 documents for a target of 20: each once, none rejected; en is sampled
    assert all("repeat" not in r["meta"] for r in kept)
    assert len(rejected) == 140 and {r["meta"]["rejected"]["reason"] for r in rejected} == {"not_sampled"}
    # conservation: every record read is kept or rejected
    assert len(kept) + len(rejected) == 220
    # up-sampling: zh must give 50 of 100 documents -> every document 2 or 3 times
    stage, kept, rejected = _mix(f"en={en}", f"zh={zh}", docs=100, seed=1)
    zh_out = [r for r in kept if r["meta"]["source"] == "zh"]
    assert len(zh_out) == 50
    per_doc = Counter(r["text"] for r in zh_out)
    assert set(per_doc.values()) == {2, 3} and len(per_doc) == 20
    for r in zh_out:
        rep = r["meta"]["repeat"]
        assert 1 <= rep["copy"] <= rep["copies"] == per_doc[r["text"]]
    # copies of a document are a full pass apart; the output interleaves the sources
    first_half = Counter(r["meta"]["source"] for r in kept[:50])
    assert 20 <= first_half["zh"] <= 30
    table = stage.tables()[0]
    assert [row[0] for row in table.rows] == ["en", "zh"]
    assert stage.result()["sources"][1]["share"] == pytest.approx(0.5)


def test_tokens_budget_counts_with_the_tokenizer(sources):
    en, zh = sources
    stage, kept, _ = _mix(f"en={en}:1", f"zh={zh}:1", tokens=4000, seed=0)
    enc = tiktoken_encoding("cl100k_base")
    got = Counter()
    for r in kept:
        got[r["meta"]["source"]] += len(enc.encode_ordinary(r["text"]))
    # each source within a document of its 2,000-token target
    assert abs(got["en"] - 2000) <= 40 and abs(got["zh"] - 2000) <= 30
    res = stage.result()
    assert res["unit"] == "tokens" and [s["out_size"] for s in res["sources"]] == [got["en"], got["zh"]]


def test_no_budget_rebalances_the_sources_own_size(sources):
    en, zh = sources
    stage, kept, rejected = _mix(f"en={en}:1", f"zh={zh}:1", docs=0, seed=0)
    res = stage.result()
    total = sum(s["size"] for s in res["sources"])
    assert res["budget"] == total
    assert abs(res["output_size"] - total) <= 60


def test_deterministic_and_seeded(sources, tmp_path, run_cli):
    en, zh = sources
    outs = []
    for seed in (7, 7, 8):
        o = tmp_path / f"m{len(outs)}.jsonl"
        r = run_cli(["mix", "--source", f"en={en}:2", "--source", f"zh={zh}", "--docs", "90", "--seed",
                     str(seed), "-o", str(o), "--rejected", str(tmp_path / "rej.jsonl"),
                     "--stats", str(tmp_path / "st.json"), "--verbose"])  # the tables, not the line
        assert r.returncode == 0, r.stderr
        outs.append(o.read_bytes())
    assert outs[0] == outs[1] and outs[0] != outs[2]
    assert b"share" in r.stderr
    st = json.loads((tmp_path / "st.json").read_text())
    assert st["conservation"]["ok"]
    assert st["stages"][0]["extra"]["sources"][0]["out_documents"] == 60


def test_copies_for_rounds_to_the_nearest_document():
    import numpy as np

    sizes = np.array([10, 10, 10, 10])
    assert copies_for(sizes, 40, 0, "s").tolist() == [1, 1, 1, 1]
    assert copies_for(sizes, 100, 0, "s").sum() == 10  # 2 full passes + 2 documents
    assert copies_for(sizes, 14, 0, "s").sum() == 1 and copies_for(sizes, 16, 0, "s").sum() == 2
    assert copies_for(sizes, 0, 0, "s").sum() == 0


def test_bad_usage(sources, tmp_path, run_cli):
    en, zh = sources
    with pytest.raises(UsageError, match="NAME=PATH"):
        parse_source("just-a-path")
    assert parse_source(f"x={en}:0.5").weight == 0.5
    assert parse_source(f"x={en}").weight == 1.0
    with pytest.raises(UsageError, match="not both"):
        make_stage("mix", source=[f"en={en}"], tokens=5, docs=5)
    with pytest.raises(UsageError, match="differ"):
        make_stage("mix", source=[f"en={en}", f"en={zh}"])
    r = run_cli(["mix", "--source", f"en={en}", str(zh), "-o", str(tmp_path / "x.jsonl")])
    assert r.returncode == 2 and b"--source" in r.stderr
    r = run_cli(["mix", "--source", f"en={tmp_path / 'missing.jsonl'}"])
    assert r.returncode == 1 and b"missing.jsonl" in r.stderr


def test_integers_beyond_64_bits_pass_unchanged(tmp_path, run_cli):
    src = tmp_path / "big.jsonl"
    src.write_bytes(b'{"text":"some text","big":18446744073709551616,"neg":-1180591620717411303424}\n')
    r = run_cli(["mix", "--source", f"b={src}", "--docs", "2", "-q"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b'"big":18446744073709551616') == 2 and b'"neg":-1180591620717411303424' in r.stdout
