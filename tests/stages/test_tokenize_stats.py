import copy
import json
import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.errors import UsageError
from corpuskit.core.text import count_lines, count_words
from corpuskit.pipeline.report import write_stage_reports
from corpuskit.registry import make_stage
from corpuskit.stages.tokenize_stats.corpus_stats import CorpusStats, LengthDist, bins_125
from corpuskit.stages.tokenize_stats.stage import TokenizeStats
from corpuskit.tokens.tokenizers import tiktoken_encoding

EN = "The quick brown fox jumps over the lazy dog.\nIt was the best of times, it was the worst of times."
ZH = "语言模型的训练语料需要清洗。\n今天天气很好，我们去公园散步吧！《红楼梦》是中国古典小说。"


def _records():
    return [
        {"id": "1", "text": EN, "url": "https://www.example.com/a", "meta": {"lang": "en"}},
        {"id": "2", "text": ZH, "url": "http://news.sina.com.cn/x", "meta": {"lang": "zh"}},
        {"id": "3", "text": EN + "\n" + ZH, "meta": {"source": "cc-2024", "lang": {"lang": "en", "score": 0.6}}},
        {"id": "4", "text": "", "extra": [1, 2]},
        {"id": "5", "text": "😀🎉👍", "meta": {"lang": "und"}},
        {"id": "6", "text": "short one", "meta": {"rejected": {"stage": "filter-short", "reason": "too_few_words",
                                                             "detail": "2 < 50"}}},
        {"id": "7", "text": "又一个", "meta": {"rejected": {"stage": "dedup", "reason": "near_duplicate"}}},
    ]


def _run(records, **opts):
    stage = TokenizeStats(**opts)
    out = list(stage.run(records))
    return stage, out


def test_records_pass_through_unchanged():
    recs = _records()
    before = copy.deepcopy(recs)
    _, out = _run(recs, tokenizer="cl100k_base")
    assert out == before
    assert [json.dumps(r) for r in out] == [json.dumps(r) for r in before]  # key order too


def test_annotate_sets_meta_tokens():
    enc = tiktoken_encoding("o200k_base")
    _, out = _run(_records(), tokenizer="o200k_base", annotate=True)
    for r in out:
        assert r["meta"]["tokens"] == len(enc.encode_ordinary(r["text"]))
    assert list(out[3]) == ["id", "text", "extra", "meta"]  # meta appended, nothing reordered
    assert out[0]["meta"]["lang"] == "en"


def test_totals_and_breakdowns():
    stage, _ = _run(_records(), tokenizer="cl100k_base", top_k=5)
    enc = tiktoken_encoding("cl100k_base")
    recs = _records()
    res = stage.result()
    t = res["totals"]
    assert t["docs"] == 7 and t["empty_docs"] == 1
    assert t["tokens"] == sum(len(enc.encode_ordinary(r["text"])) for r in recs)
    assert t["chars"] == sum(len(r["text"]) for r in recs)
    assert t["bytes"] == sum(len(r["text"].encode()) for r in recs)
    assert t["words"] == sum(count_words(r["text"]) for r in recs)
    assert t["lines"] == sum(count_lines(r["text"]) for r in recs)
    langs = {r["lang"]: r for r in res["languages"]}
    assert langs["zh"]["docs"] == 1 and langs["zh"]["chars"] == len(ZH)
    assert langs["zh"]["tokens"] == len(enc.encode_ordinary(ZH))
    assert langs["en"]["docs"] == 2  # a {"lang": ...} dict counts too
    # no meta.lang: the script decides (BCP 47 und-<Script>); nothing to go on: und
    assert langs["und"]["docs"] == 2 and langs["und-Latn"]["docs"] == 1 and langs["und-Hani"]["docs"] == 1
    # Chinese takes far more tokens per character than English
    assert langs["zh"]["tokens_per_char"] > 2 * langs["en"]["tokens_per_char"]
    assert sum(r["token_share"] for r in res["languages"]) == pytest.approx(1, abs=1e-3)
    src = {r["source"]: r["docs"] for r in res["sources"]}
    assert src["example.com"] == 1 and src["news.sina.com.cn"] == 1 and src["cc-2024"] == 1
    assert src["(none)"] == 4
    rej = {r["reason"]: r["docs"] for r in res["rejected"]["reasons"]}
    assert rej == {"filter-short:too_few_words": 1, "dedup:near_duplicate": 1}
    top_words = [w["word"] for w in res["top_words"]]
    assert top_words[0] == "the" and "的" not in top_words[5:]  # folded: The + the
    assert len(res["top_tokens"]) == 5 and res["top_tokens"][0]["count"] >= res["top_tokens"][1]["count"]
    assert res["vocabulary"]["vocab_size"] == 100277
    assert 0 < res["vocabulary"]["token_type_token_ratio"] <= 1


def test_chinese_words_are_characters():
    stage, _ = _run([{"text": "我爱北京天安门"}], tokenizer="words")
    res = stage.result()
    assert res["totals"]["words"] == 7 and res["totals"]["tokens"] == 7
    assert {w["word"] for w in res["top_words"]} == set("我爱北京天安门")


def _split(records, cuts):
    shards, prev = [], 0
    for c in sorted(cuts) + [len(records)]:
        shards.append(records[prev:c])
        prev = c
    return shards


@pytest.mark.parametrize("tok", ["cl100k_base", "words", "chars"])
@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 7), max_size=4))
def test_merge_is_exact(tok, cuts):
    whole, _ = _run(_records(), tokenizer=tok, batch_chars=50)
    merged = None
    for shard in _split(_records(), cuts):
        s, _ = _run(shard, tokenizer=tok, batch_chars=50)
        s = pickle.loads(pickle.dumps(s))  # shards come back from worker processes
        merged = s if merged is None else merged.merge(s)
    assert merged.stats == whole.stats
    assert merged.result() == whole.result()


def test_merge_refuses_other_tokenizer():
    a, b = CorpusStats("cl100k_base", 10), CorpusStats("o200k_base", 10)
    with pytest.raises(ValueError):
        a.merge(b)


@settings(max_examples=50, deadline=None)
@given(vals=st.lists(st.one_of(st.integers(0, 300), st.integers(65_000, 200_000)), min_size=1, max_size=200))
def test_length_percentiles_exact(vals):
    d = LengthDist()
    d.add(vals[: len(vals) // 2])
    d.add(vals[len(vals) // 2:])
    arr = np.array(vals)
    for q in (1, 5, 50, 90, 99, 100):
        assert d.percentile(q) == int(np.percentile(arr, q, method="inverted_cdf"))
    assert d.min() == arr.min() and d.max == arr.max() and d.total == arr.sum()
    edges = bins_125(d.max)
    h = d.histogram(edges)
    assert sum(h) == len(vals)
    assert h == [int(((arr >= a) & (arr < b)).sum()) for a, b in zip(edges[:-2], edges[1:-1], strict=True)] + \
        [int(((arr >= edges[-2]) & (arr <= edges[-1])).sum())]


def test_bins_125():
    assert bins_125(0) == [0, 1]
    assert bins_125(7) == [0, 1, 2, 5, 10]
    assert bins_125(10) == [0, 1, 2, 5, 10, 20]
    assert bins_125(123_456)[-1] == 200_000


def test_bad_input_documents():
    big = (EN + "\n" + ZH + "\n") * 20_000  # ~2.7M characters: cut into exact pieces
    recs = [{"text": ""}, {"text": "😀" * 1000}, {"text": "a\ud800b"}, {"text": big},
            {"text": "x" + " " * 1_000_000 + "y"}]
    stage, out = _run(recs, tokenizer="o200k_base", annotate=True, threads=2)
    enc = tiktoken_encoding("o200k_base")
    m = [r["meta"] for r in out]
    assert m[0]["tokens"] == 0
    assert m[1]["tokens"] == len(enc.encode_ordinary("😀" * 1000))
    assert m[2]["tokens"] == len(enc.encode_ordinary("a\ufffdb"))
    assert m[3]["tokens"] == len(enc.encode_ordinary(big)) and "tokens_approximate" not in m[3]
    assert m[4]["tokens_approximate"] is True
    res = stage.result()
    assert res["totals"]["approx_token_docs"] == 1
    # the big document's words are counted in pieces cut at white space: still exact
    assert res["totals"]["words"] == sum(count_words(r["text"]) for r in recs)
    assert res["lengths"]["chars"]["max"] == len(big)
    assert res["totals"]["bytes"] > 0


def test_missing_text_field_is_a_clear_error():
    from corpuskit.core.errors import MissingField

    with pytest.raises(MissingField):
        _run([{"body": "x"}], tokenizer="chars")


def test_options_validated():
    with pytest.raises(UsageError, match="unknown tokenizer"):
        make_stage("tokenize-stats", tokenizer="nope")
    with pytest.raises(UsageError, match="top-k"):
        make_stage("tokenize-stats", top_k=-1)
    assert make_stage("tokenize-stats").tokenizer == "cl100k_base"


def test_report_written(tmp_path):
    out = tmp_path / "rep"
    stage, _ = _run(_records(), tokenizer="o200k_base", report=str(out))
    write_stage_reports([stage])  # what `corpuskit tokenize-stats` and the pipeline do at the end
    data = json.loads((out / "stats.json").read_text())
    assert data == json.loads(json.dumps(stage.result()))
    page = (out / "report.html").read_text()
    assert page.count("<svg") >= 6  # 4 length histograms, language mix, tokens per language
    # self-contained: no script, stylesheet or image fetched from anywhere
    assert not re.search(r"<script|<link|<img|@import|url\(", page)
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
    assert "tokens per language" in page and "characters per token" in page
    assert "zh" in page


def test_tables():
    stage, _ = _run(_records(), tokenizer="cl100k_base")
    titles = [t.title for t in stage.tables()]
    assert titles[0].startswith("tokenize-stats")
    assert "by language (meta.lang, else script)" in titles
    assert "rejected records by reason (meta.rejected)" in titles
    for t in stage.tables():
        assert all(len(r) == len(t.columns) for r in t.rows)


def test_stage_pickles_without_tokenizer_state():
    stage = TokenizeStats(tokenizer="o200k_base")
    blob = pickle.dumps(stage)
    assert len(blob) < 10_000  # neither the ranks nor empty stats arrays are shipped
    again = pickle.loads(blob)
    assert list(again.run([{"text": "hello world"}]))[0] == {"text": "hello world"}
    assert again.result()["totals"]["tokens"] == 2


# ------------------------------------------------------------------ CLI
def _jsonl(records):
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def test_cli_passes_records_and_writes_report(run_cli, tmp_path):
    recs = _records()
    p = run_cli(["tokenize-stats", "--tokenizer", "o200k_base", "--report", tmp_path / "rep",
                 "--stats", tmp_path / "s.json", "--verbose"], input=_jsonl(recs), check=True)
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert [{k: v for k, v in r.items()} for r in out] == recs  # ids were given; nothing changed
    err = p.stderr.decode()
    assert "tokenize-stats (o200k_base)" in err and "by language" in err
    rep = json.loads((tmp_path / "rep" / "stats.json").read_text())
    enc = tiktoken_encoding("o200k_base")
    assert rep["totals"]["tokens"] == sum(len(enc.encode_ordinary(r["text"])) for r in recs)
    assert (tmp_path / "rep" / "report.html").stat().st_size > 5000
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["stages"][0]["extra"]["totals"]["tokens"] == rep["totals"]["tokens"]


def test_cli_annotate_with_tokenizer_json(run_cli, tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([EN] * 3, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    p = run_cli(["tokenize-stats", "--tokenizer", path, "--annotate", "-q"],
                input=_jsonl([{"text": EN}, {"text": "unknown words here"}]), check=True)
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert [r["meta"]["tokens"] for r in out] == [len(tok.encode(EN).ids), 3]
    assert p.stderr == b""


def test_cli_bad_options(run_cli, tmp_path):
    p = run_cli(["tokenize-stats", "--tokenizer", "gpt9"], input=b'{"text": "x"}\n')
    assert p.returncode == 2
    assert p.stderr.decode().strip().startswith("corpuskit tokenize-stats: error: ")
    assert "unknown tokenizer" in p.stderr.decode() and "Traceback" not in p.stderr.decode()
    (tmp_path / "file").write_text("x")
    p = run_cli(["tokenize-stats", "--report", tmp_path / "file"], input=b'{"text": "x"}\n')
    assert p.returncode == 2 and "not a directory" in p.stderr.decode()


def test_no_word_vocab_still_counts_words(tmp_path):
    stage, _ = _run(_records(), tokenizer="chars", word_vocab=False, report=str(tmp_path))
    write_stage_reports([stage])
    res = stage.result()
    assert res["totals"]["words"] == sum(count_words(r["text"]) for r in _records())
    assert res["vocabulary"]["word_types"] is None and res["top_words"] == []
    assert "not kept" in (tmp_path / "report.html").read_text()
    assert any("not kept" in str(row) for t in stage.tables() for row in t.rows)


def test_script_tag():
    from corpuskit.stages.tokenize_stats.corpus_stats import script_tag

    assert [script_tag(t) for t in ["Hello world", "今天天气很好", "これは日本語です", "한국어 텍스트",
                                    "Crème brûlée", "我爱NLP", "Привет", "😀", "", "123"]] == \
        ["und-Latn", "und-Hani", "und-Jpan", "und-Hang", "und-Latn", "und-Hani", "und", "und", "und", "und"]
    # a Chinese text quoting a Japanese word is still Chinese
    zh = "国家统计局新闻发言人表示，总的来看，国民经济延续回升向好态势，开局良好。" * 4
    assert script_tag(zh + "（ネット上の愛称）") == "und-Hani"
