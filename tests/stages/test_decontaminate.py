import pickle

import orjson
import pytest

from corpuskit.core.chain import run_stages
from corpuskit.core.stage import Rejection
from corpuskit.stages.decontaminate import Decontaminate, tokens
from tests.memory import traced_peak

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


def _long_doc(rnd, plants: list[tuple[int, str]], paragraphs: int = 400) -> str:
    en = ["The committee met on Tuesday to review the budget.", "Visitors can reach the museum by bus."]
    zh = ["委员会周二开会审议了来年的预算。", "遊客可以乘公交車前往博物館。", "研究人员发现新方法有效"]
    paras = [rnd.choice(en) + rnd.choice([" ", "", "\u3000"]) + rnd.choice(zh) for _ in range(paragraphs)]
    for at, text in plants:
        paras.insert(at, text)
    return rnd.choice(["\n\n", "", " "]).join(paras)


def test_a_huge_document_is_matched_a_piece_at_a_time_with_the_same_answer(tmp_path, monkeypatch):
    import random

    from corpuskit.stages import decontaminate as mod

    # LONG begins with SHORT: where a document holds LONG, a 10-gram (SHORT, matched whole) and a
    # 13-gram (LONG's) start at one position, and the length indexed first (13, ZH_ITEM's) wins
    # the tie on the whole text; a piece ending inside LONG's 13-gram must not settle it for SHORT
    long_item = SHORT + "的答案是北京市"
    p = tmp_path / "eval.jsonl"
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [
        {"id": "ceval-1", "text": ZH_ITEM}, {"id": "short-1", "text": SHORT},
        {"id": "long-1", "text": long_item}, {"id": "gsm8k-7", "text": EN_ITEM}]))
    d = Decontaminate(against=[str(p)])
    rnd = random.Random(3)
    plants = [[], [(200, ZH_ITEM[2:17])], [(399, EN_ITEM)], [(150, long_item)], [(10, SHORT), (300, long_item)]]
    cases = [_long_doc(rnd, p) for p in plants for _ in range(3)]
    whole = [d.find(t) for t in cases]
    assert whole == [None] * 3 + ["ceval-1"] * 3 + ["gsm8k-7"] * 3 + ["long-1"] * 3 + ["short-1"] * 3
    for size in (1, 37, 500, 4096):
        monkeypatch.setattr(mod, "PIECE_CHARS", size)
        assert [d.find(t) for t in cases] == whole


def test_matching_a_huge_document_holds_no_string_per_token(evalfile):
    # its tokens as Python strings and their ids and hashes at once took 29x its size
    import random
    import sys

    from corpuskit.stages import decontaminate as mod

    d = stage(evalfile)
    d.index()
    doc = _long_doc(random.Random(4), [(19999, EN_ITEM)], paragraphs=20000)
    assert len(doc) > 10 * mod.PIECE_CHARS
    hit, peak = traced_peak(d.find, doc)
    assert hit == "gsm8k-7"
    assert peak < sys.getsizeof(doc), peak / sys.getsizeof(doc)


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
