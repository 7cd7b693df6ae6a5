import pickle

import orjson
import pytest

from corpuskit.core.chain import run_stages
from corpuskit.core.stage import Rejection
from corpuskit.stages.decontaminate import Decontaminate, tokens

ZH_ITEM = "下列关于资本主义工资本质的说法中，正确的是哪一项？请说明理由"
EN_ITEM = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many "
           "clips in May. How many clips did Natalia sell altogether in April and May?")
SHORT = "中国的首都是哪座城市"  # 10 characters: shorter than 13, matched whole


@pytest.fixture
def evalfile(tmp_path):
    p = tmp_path / "eval.jsonl"
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [
        {"id": "ceval-1", "text": ZH_ITEM}, {"id": "gsm8k-7", "text": EN_ITEM},
        {"id": "short-1", "text": SHORT}, {"id": "tiny", "text": "是什么"}]))
    return str(p)


def stage(evalfile, **kw):
    return Decontaminate(against=[evalfile], **kw)


def test_tokens_ignore_punctuation_spacing_width_and_script():
    assert tokens("Ｈｅｌｌｏ,  World!") == ["hello", "world"]
    assert tokens("臺灣，你好") == tokens("台湾 你好") == ["台", "湾", "你", "好"]


def test_planted_items_are_found(evalfile):
    d = stage(evalfile)
    doc = "网友整理的题目：" + ZH_ITEM[3:20] + "……后面还有很多。"
    assert d.process({"text": doc}) == Rejection("contaminated", "ceval-1")
    # punctuation, spacing and case differences do not hide a copy
    en = "Q: " + EN_ITEM.upper().replace(" ", "  ").replace(",", "") + " A: 72"
    assert d.process({"text": en}) == Rejection("contaminated", "gsm8k-7")
    # Traditional copy of a Simplified item
    assert d.process({"text": "考題：下列關於資本主義工資本質的說法中"}).detail == "ceval-1"
    assert d.process({"text": "问：" + SHORT + "？答：北京"}).detail == "short-1"


def test_benign_text_is_kept(evalfile):
    d = stage(evalfile)
    for t in ["资本主义的工资问题是政治经济学的重要内容。", "Natalia sold clips to her friends.",
              "这是什么？中国的首都北京是一座城市。", ""]:
        assert d.process({"text": t}) == {"text": t}
    # 12 shared characters: one short of the 13-gram
    assert d.process({"text": "哈" + ZH_ITEM[:12] + "哈"}) == {"text": "哈" + ZH_ITEM[:12] + "哈"}
    assert d.index().skipped == 1  # "是什么": too short to match


def test_plain_text_eval_file_and_ids(tmp_path):
    p = tmp_path / "items.txt"
    p.write_text("first item is not here at all\n" + EN_ITEM + "\n", encoding="utf-8")
    d = Decontaminate(against=[str(p)])
    assert d.process({"text": EN_ITEM}).detail == "items.txt:2"


def test_eval_field_and_missing_field(tmp_path):
    p = tmp_path / "mmlu.jsonl"
    p.write_bytes(orjson.dumps({"id": "m1", "question": EN_ITEM}) + b"\n")
    assert Decontaminate(against=[str(p)], eval_field="question").process({"text": EN_ITEM}).detail == "m1"
    from corpuskit.core.errors import UsageError

    with pytest.raises(UsageError):
        Decontaminate(against=[str(p)]).process({"text": EN_ITEM})


def test_options_checked(tmp_path, run_cli):
    from corpuskit.core.errors import UsageError

    with pytest.raises(UsageError):
        Decontaminate(against=[]).process({"text": "x"})
    r = run_cli(["decontaminate"], input=b'{"text": "x"}\n')
    assert r.returncode == 2 and b"--against" in r.stderr
    with pytest.raises(ValueError):
        Decontaminate(against=[str(tmp_path / "nope.jsonl")])


def test_index_is_built_once_and_not_pickled(evalfile):
    d = stage(evalfile)
    d.process({"text": "x"})
    first = d.index()
    d.process({"text": "y"})
    assert d.index() is first
    clone = pickle.loads(pickle.dumps(d))
    assert clone._index is None and clone.process({"text": ZH_ITEM}).detail == "ceval-1"


def test_rejected_detail_through_the_chain(evalfile):
    kept, rejected, _ = run_stages([stage(evalfile)], [{"text": ZH_ITEM}, {"text": "干净的文本"}])
    assert [r["text"] for r in kept] == ["干净的文本"]
    assert rejected[0]["meta"]["rejected"] == {"stage": "decontaminate", "reason": "contaminated",
                                               "detail": "ceval-1"}


def test_cli(run_cli, evalfile, tmp_path):
    rej = tmp_path / "rej.jsonl"
    inp = (orjson.dumps({"text": ZH_ITEM}) + b"\n" + orjson.dumps({"text": "ok"}) + b"\n")
    r = run_cli(["decontaminate", "--against", evalfile, "--rejected", str(rej)], input=inp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b"\n") == 1 and b"ceval-1" in rej.read_bytes()


def test_a_parquet_evaluation_set_is_read_as_records(run_cli, tmp_path):
    # it was read as lines of text: binary garbage for items, the questions never compared
    import pyarrow as pa
    import pyarrow.parquet as pq

    ev = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"id": ["q1"], "question": ["one two three four five six seven eight nine ten"]}), ev)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id":"d1","text":"intro: one two three four five six seven eight nine ten, and more"}\n'
                    b'{"id":"d2","text":"nothing of the evaluation set in this one at all, none"}\n')
    p = run_cli(["decontaminate", src, "--against", ev, "--eval-field", "question", "--ngram", "5",
                 "--rejected", tmp_path / "rej.jsonl", "-q"])
    assert p.returncode == 0, p.stderr
    assert [orjson.loads(x)["id"] for x in p.stdout.splitlines()] == ["d2"]
    rej = orjson.loads((tmp_path / "rej.jsonl").read_bytes())
    assert rej["id"] == "d1" and rej["meta"]["rejected"]["detail"] == "q1"
    p = run_cli(["decontaminate", src, "--against", ev, "--ngram", "5"])  # no `text` column
    assert p.returncode == 2 and f"--against {ev}:1: no 'text' text in this row".encode() in p.stderr


def test_an_evaluation_set_with_no_usable_item_is_refused(run_cli, tmp_path):
    # every document was kept, exit 0, as if none were contaminated: nothing had been compared
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text":"one two three four five six seven eight nine ten"}\n')
    empty, short = tmp_path / "empty.jsonl", tmp_path / "short.txt"
    empty.write_bytes(b"")
    short.write_bytes(b"two words\n")
    for ev, n in ((empty, 0), (short, 1)):
        p = run_cli(["decontaminate", src, "--against", ev])
        err = p.stderr.decode()
        assert p.returncode == 2 and p.stdout == b"", err
        assert f"--against {ev}: no evaluation item of at least --min-tokens 8 tokens ({n} read)" in err
