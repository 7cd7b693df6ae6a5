import pytest

from corpuskit.core import zhscript as Z
from corpuskit.core.zhscript import convert, fold_t2s

SIMP = "香港和台湾的用户在网络上讨论电脑软件的质量，里面的说明写得很清楚。"
TW = "香港和臺灣的用戶在網絡上討論電腦軟件的質量，裡面的說明寫得很清楚。"  # Taiwan forms (裡, 臺)
HK = "香港和台灣的用戶在網絡上討論電腦軟件的質量，裏面的説明寫得很清楚。"  # Hong Kong forms (裏, 説)


@pytest.mark.parametrize("trad", [TW, HK])
def test_fold_maps_taiwan_and_hong_kong_forms_to_simplified(trad):
    assert fold_t2s(trad) == fold_t2s(SIMP) == SIMP


def test_fold_leaves_other_text_alone():
    for s in ["plain English", "한국어", SIMP]:
        assert fold_t2s(s) == s
    # Japanese kanji that are Traditional forms fold too: harmless for a key both copies share
    assert fold_t2s("日本語のテキスト") == "日本语のテキスト"


@pytest.mark.parametrize("trad", [TW, HK])
def test_t2s_converts_regional_forms(trad):
    assert convert(trad, "t2s") == SIMP


def test_s2t_and_idempotence():
    once = convert(SIMP, "s2t")
    assert once != SIMP and "說" in once
    assert convert(once, "s2t") == once
    # OpenCC's own s2t is not idempotent here; converting only lines with Simplified-only
    # characters is
    tricky = "这说明了问题。"
    t = convert(tricky, "s2t")
    assert convert(t, "s2t") == t and "了" in t


def test_only_lines_that_need_it_are_converted():
    text = "第一行是简体中文。\n第二行是繁體中文，說明了問題。"
    out = convert(text, "s2t").split("\n")
    assert out[1] == "第二行是繁體中文，說明了問題。"  # already Traditional: untouched
    assert out[0] != "第一行是简体中文。"


def test_unknown_direction():
    with pytest.raises(ValueError):
        convert("x", "t2hk")


def test_fold_finds_a_single_traditional_character_anywhere():
    # the fast paths (pure ASCII; a set scan that stops at the first hit) must not miss a lone
    # Traditional character after long Latin or Simplified runs, nor change text without one
    assert fold_t2s("plain ascii " * 1000) == "plain ascii " * 1000
    assert fold_t2s("résumé " * 500 + "說") == "résumé " * 500 + "说"
    assert fold_t2s("简体中文" * 500 + "國") == "简体中文" * 500 + "国"
    assert fold_t2s("é" * 10 + "简体") == "é" * 10 + "简体"


def test_convert_finds_the_one_line_that_needs_it():
    text = "plain line\n简体一行\n這是繁體\nrésumé"
    assert convert(text, "t2s") == "plain line\n简体一行\n这是繁体\nrésumé"
    assert convert("ascii only", "t2s") == "ascii only"
    assert convert("简体一行", "t2s") == "简体一行"


def test_long_texts_fold_by_table_as_short_ones_do():
    # every entry of the table, in a long text beside ASCII, astral characters, a lone surrogate
    # and Simplified text: the numpy lookup gives what the character-by-character table gives
    table = Z._fold_table()
    trad = "".join(map(chr, table))
    text = "abc 𠀋😀\ud800 简体 " + trad + " end"
    assert len(text) >= Z._LUT_MIN_CHARS
    assert Z.fold_t2s(text) == text.translate(table)
    assert Z.fold_t2s(text) == "".join(Z.fold_t2s(c) for c in text)  # the short path, one by one
    assert Z.fold_t2s(Z.fold_t2s(text)) == Z.fold_t2s(text)


def test_chained_characters_fold_to_one_form():
    # 麼 -> 么 -> 幺 and 薴 -> 苧 -> 苎 in the table: followed to the end, both scripts meet
    assert fold_t2s("什麼") == fold_t2s("什么")
    assert fold_t2s("薴") == fold_t2s("苧") == fold_t2s("苎")
    table = Z._fold_table()
    assert all(table.get(v, v) == v for v in table.values())  # idempotent


def test_japanese_and_korean_are_not_converted():
    ja = "東京都は15日、新しい防災計画を発表しました。\n東京都知事選挙\n日本語の書き方について説明します。"
    assert convert(ja, "t2s") == ja
    assert convert(ja, "s2t") == ja  # 会 and 発 are Japanese, not Simplified Chinese
    assert convert("会議は東京で開かれます。", "s2t") == "会議は東京で開かれます。"
    ko = "大韓民國 헌법 제1조: 대한민국은 민주공화국이다. 學校에서 공부합니다."
    assert convert(ko, "t2s") == ko
    # a Japanese line quoted in a Chinese article stays; the Chinese lines are converted
    zh = ("記者從東京報導，當地民眾對這項計畫反應熱烈，許多團體已經開始準備相關的活動。\n"
          "「東京の未来を考える会」代表表示支持。\n"
          "這是後來發生的事。當時的市政府並沒有公開說明，直到兩個星期以後才舉行記者會。")
    out = convert(zh, "t2s").split("\n")
    assert out[0].startswith("记者从东京报导，当地民众对这项")
    assert out[1] == "「東京の未来を考える会」代表表示支持。"
    assert out[2].startswith("这是后来发生的事。")
