import pytest

from corpuskit.core.stage import Rejection
from corpuskit.stages.filter_short import FilterShort

ZH = "北京是中华人民共和国的首都，也是全国的政治中心和文化中心。"  # 27 Han characters


def test_chinese_counts_each_character_as_a_word():
    r = FilterShort(min_words=20).process({"text": ZH})
    assert r["meta"]["length"] == {"chars": 29, "words": 27, "lines": 1}
    assert FilterShort(min_words=28).process({"text": ZH}) == Rejection("too_few_words", "27 < 28")


def test_english_words():
    text = "one two three four five"
    assert FilterShort(min_words=5).process({"text": text})["meta"]["length"]["words"] == 5
    assert FilterShort(min_words=6).process({"text": text}).reason == "too_few_words"


@pytest.mark.parametrize("opts,reason", [
    ({"min_words": 0, "max_chars": 10}, "too_long"),
    ({"min_words": 0, "min_chars": 100}, "too_few_chars"),
    ({"min_words": 0, "max_words": 20}, "too_many_words"),
    ({"min_words": 0, "min_lines": 3}, "too_few_lines"),
])
def test_each_reason_fires(opts, reason):
    assert FilterShort(**opts).process({"text": ZH + "\n" + ZH}).reason == reason


def test_short_text_shortcut_reports_the_real_count():
    assert FilterShort(min_words=50).process({"text": "a b"}) == Rejection("too_few_words", "2 < 50")


def test_invalid_options():
    with pytest.raises(ValueError):
        FilterShort(min_words=-1)
    with pytest.raises(ValueError):
        FilterShort(min_words=10, max_words=5)


def test_huge_record_memory_stays_within_3x(tmp_path):
    """One 20 MB record (4M words): the words are counted, never listed (a list of 4M words
    would add about 10x). This text (ASCII with a CJK character in every line) is a Python str
    of 1.92x its UTF-8, so reading it alone (`cat`) peaks at about 2.9x: the stage must add
    little to that, and the mixed paragraphs of bench_hostile stay within 3x."""
    from tests.memory import extra_over_record

    text = ("word " * 9 + "字\n") * 400_000
    stage, frame = extra_over_record(tmp_path, "filter-short", text), extra_over_record(tmp_path, "cat", text)
    assert stage - frame <= 0.3, (stage, frame)
    para = "The committee met on Tuesday to review the budget.\n委员会周二开会审议了来年的预算。\n\n"
    assert extra_over_record(tmp_path, "filter-short", para * (20_000_000 // len(para.encode()))) <= 3.0


def test_big_text_word_count_is_exact():
    from corpuskit.core.text import BIG_TEXT, WORD_RE, count_words

    text = ("don't e-mail 3.14 中文字 Ünïcödé x- -y\n" * (BIG_TEXT // 20))
    assert len(text) > BIG_TEXT
    assert count_words(text) == len(WORD_RE.findall(text))
