from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.stage import Rejection
from corpuskit.stages.normalize import Normalize

N = Normalize()


def norm(s, **kw):
    return Normalize(**kw).normalize_text(s) if kw else N.normalize_text(s)


def test_mojibake_is_repaired():
    assert norm("cafÃ© dÃ©jÃ  vu") == "café déjà vu"
    # UTF-8 Chinese read as cp1252
    assert norm("ä¸\xadæ\x96\x87") == "中文"


def test_chinese_punctuation_quotes_and_ellipsis_survive():
    s = "他说：“你好，世界！”……（完）；真的吗？"
    assert norm(s) == s


def test_fullwidth_letters_digits_and_ideographic_space_fold():
    assert norm("ＧＰＴ－４　发布于２０２３年，价格＄２０") == "GPT-4 发布于2023年，价格$20"
    assert norm("ＧＰＴ－４", fold_width_symbols=False) == "GPT－4"
    assert norm("ﾃｽﾄｶﾞ") == "テストガ"
    # the half-width punctuation of half-width katakana goes full-width with it
    assert norm("｢ｶﾀｶﾅ･ﾃｽﾄ｣､ｵﾜﾘ｡") == "「カタカナ・テスト」、オワリ。"


def test_invisible_characters_removed_zwj_kept():
    assert norm("a\u200bb\ufeffc\x00d\u00ade") == "abcde"
    family = "👨\u200d👩\u200d👧"
    assert norm(family) == family


def test_markup_residue():
    assert norm("Tom&#39;s&nbsp;page<br/>next line") == "Tom's page\nnext line"
    assert norm("<p>一段</p><p>二段</p>") == "一段\n\n二段"
    assert norm("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;") == "bold"
    assert norm('{"content": "正文内容 here"}') == "正文内容 here"
    assert norm("if a < b and c > d: List<T>") == "if a < b and c > d: List<T>"


def test_whitespace():
    assert norm("  a \t b  \n\n\n\n  c  \r\n d ") == "a b\n\nc\nd"


def test_optional_steps():
    assert norm("Hello ΣΑΣ 中文", lowercase=True) == "hello σας 中文"
    assert norm("great 👍🏽 day 🎉!", remove_emoji=True) == "great day !"
    assert norm("see https://x.org/a?b=1 or mail me@x.org，谢谢", remove_urls=True) == "see or mail ，谢谢"


def test_process_rejects_empty_and_sets_text_field():
    assert Normalize().process({"text": " <br/> \u200b "}) == Rejection("empty_after_normalize", "")
    r = Normalize(text_field="body").process({"body": "Ａ", "text": "Ｂ"})
    assert r == {"body": "A", "text": "Ｂ"}


_alphabet = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("中文，。！？“”……（）「」ＡＢ１２　ｶﾞ日本語のテキストعربي😀👍🏽\u200d\u200b&;<>/ \n\t#")),
)
_fragments = st.sampled_from(["&amp;", "&lt;b&gt;", "<br/>", "<p>", "</div>", "&#39;", "&nbsp;",
                              "{\"text\": \"x\"}", "Ã©", "\r\n", "   ", "\n\n\n"])
texts = st.lists(st.one_of(st.text(_alphabet, max_size=20), _fragments), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_idempotent_default(s):
    once = N.normalize_text(s)
    assert N.normalize_text(once) == once


@settings(max_examples=200, deadline=None)
@given(texts)
def test_idempotent_all_options(s):
    n = Normalize(lowercase=True, remove_emoji=True, remove_urls=True)
    once = n.normalize_text(s)
    assert n.normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(texts)
def test_ftfy_fast_path_gives_what_ftfy_gives(s):
    import unicodedata

    import ftfy

    from corpuskit.stages.normalize import _FTFY_NEEDED_RE, _ftfy_config

    if not _FTFY_NEEDED_RE.search(s):
        assert ftfy.fix_text(s, _ftfy_config()) == unicodedata.normalize("NFC", s)


_MOJIBAKE_LINES = ["cafÃ© au lait", "â€œquotedâ€\x9d", "ä¸\xadæ–‡", "plain line", "中文，一行",
                   "", "  ", "\r", "Ã\xa0 la carte\r", "ﬁne ligature", "\x1b[31mred\x1b[0m"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(texts, st.sampled_from(_MOJIBAKE_LINES)), min_size=0, max_size=12),
       st.booleans())
def test_ftfy_line_by_line_is_ftfy_on_the_whole_text(lines, trailing_newline):
    import unicodedata

    import ftfy

    from corpuskit.stages.normalize import _ftfy_config, _ftfy_lines

    s = "\n".join(lines) + ("\n" if trailing_newline else "")
    assert unicodedata.normalize("NFC", _ftfy_lines(s)) == ftfy.fix_text(s, _ftfy_config())


def test_ftfy_fast_path_on_plain_english_and_chinese():
    import ftfy

    from corpuskit.stages.normalize import _ftfy_config

    for s in ["Plain English — with “quotes” and… dashes – fine.", "中文，标点！“引号”……（括号）", "한국어 문장입니다"]:
        assert N.normalize_text(s) == ftfy.fix_text(s, _ftfy_config())


@settings(max_examples=500, deadline=None)
@given(st.one_of(texts, st.text(st.sampled_from(list("ab 中文，。！？“”…—\n（）「」:;'\"-")), max_size=40)))
def test_clean_fast_path_changes_nothing_the_full_steps_would(s):
    from corpuskit.stages.normalize import is_clean

    if is_clean(s):
        full = Normalize()
        full._defaults_only = False  # force every step
        assert full.normalize_text(s) == s


# ---- --chinese t2s|s2t

def test_chinese_conversion_is_off_by_default_and_idempotent():
    trad = "香港和臺灣的用戶在網絡上討論電腦軟件，裡面的說明寫得很清楚。"
    assert Normalize().normalize_text(trad) == trad
    n = Normalize(chinese="t2s")
    once = n.normalize_text(trad)
    assert once == "香港和台湾的用户在网络上讨论电脑软件，里面的说明写得很清楚。"
    assert n.normalize_text(once) == once
    s = Normalize(chinese="s2t")
    t = s.normalize_text(once)
    assert "說明" in t and s.normalize_text(t) == t


def test_chinese_option_is_checked():
    import pytest

    with pytest.raises(ValueError):
        Normalize(chinese="zh-tw")


def test_chinese_cli(run_cli):
    r = run_cli(["normalize", "--chinese", "t2s"], input='{"text": "繁體中文"}\n'.encode())
    assert r.returncode == 0 and "繁体中文" in r.stdout.decode()


def test_symbols_chinese_text_uses_are_ftfy_safe_alone_and_next_to_other_safe_characters():
    # the symbols added to the ftfy-safe set (normalize._FTFY_SAFE_SYMBOLS): ftfy leaves them,
    # and every pair and triple they form with the safe characters that single-byte encodings
    # hold (cp1252's quotes and dashes) or with each other, as they are
    import unicodedata

    import ftfy

    from corpuskit.stages.normalize import _FTFY_NEEDED_RE, _ftfy_config

    new = ["\xb7", "\u2030", "\u2103", "\u2236", *map(chr, range(0x2160, 0x2180)),
           *map(chr, range(0x2460, 0x2500)), *map(chr, range(0x25A0, 0x2600))]
    others = ["\u2010", "\u2013", "\u2014", "\u2018", "\u2019", "\u201c", "\u201d", "\u2026", "中",
              "a", " ", "\u3001", "\uff01"]
    cfg = _ftfy_config()
    probes = [a + b for a in new for b in new[:8] + others] + [b + a for a in new for b in others]
    probes += [a + b + c for a in new[:8] for b in others[:8] for c in new[:8] + others[:8]]
    probes += [b + a + c for a in new[:8] for b in others[:8] for c in others[:8]]
    for s in probes:
        assert not _FTFY_NEEDED_RE.search(s)
        assert ftfy.fix_text(s, cfg) == unicodedata.normalize("NFC", s), repr(s)


def test_clean_chinese_with_symbols_is_not_changed_and_mojibake_next_to_them_is_repaired():
    s = "卡尔·马克思在1848年发表了《共产党宣言》。气温25℃，增长3‰，见图①和表Ⅱ。"
    assert N.normalize_text(s) == s
    garbled = s.encode("utf-8").decode("latin-1")  # UTF-8 read as Latin-1: ftfy's case
    assert N.normalize_text(garbled) == s


def test_a_middle_dot_alone_sends_text_to_neither_mojibake_check_nor_ftfy():
    from corpuskit.stages.normalize import _FTFY_NEEDED_RE, _SUSPECT_RE

    s = "卡尔·马克思和弗里德里希·恩格斯"
    assert not _SUSPECT_RE.search(s) and not _FTFY_NEEDED_RE.search(s)
    assert _SUSPECT_RE.search(s + "Ã©")  # any other Latin-1 character: both look


def test_chinese_conversion_leaves_japanese_alone():
    # a corpus of Chinese and Japanese normalised with --chinese t2s: Japanese kanji stay
    ja = "日本の首都は東京です。東京には多くの人が住んでいます。\n日本語の漢字：髮、乾、後"
    assert Normalize(chinese="t2s").normalize_text(ja) == ja
    assert Normalize(chinese="s2t").normalize_text("会議は東京で開かれます。") == "会議は東京で開かれます。"


def test_remove_urls_stops_at_cjk_text():
    # Chinese and Japanese run on without a space after a link, Korean glues particles to it:
    # the text around a URL or an e-mail address is not part of it
    n = Normalize(remove_urls=True)
    assert n.normalize_text("详情请访问https://example.com/path了解更多信息。") == "详情请访问了解更多信息。"
    assert n.normalize_text("邮箱是zhang@example.com请联系") == "邮箱是请联系"
    assert n.normalize_text("詳しくはhttps://example.jp/をご覧ください") == "詳しくはをご覧ください"
    assert n.normalize_text("자세한 내용은 https://example.com에서 확인하세요") == "자세한 내용은 에서 확인하세요"
    assert n.normalize_text("see https://example.com/a_b-c?x=1&y=2 now") == "see now"


def test_full_width_separators_fold_with_the_letters_around_them():
    # folding the letters and digits alone left 3．14 and www．example．com
    assert norm("圆周率约为３．１４１５９") == "圆周率约为3.14159"
    assert norm("访问ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ了解") == "访问www.example.com了解"
    assert norm("价格：１，２３４元，时间１２：３０") == "价格：1,234元，时间12:30"
    # Chinese punctuation elsewhere stays
    assert norm("答案：Ａ，Ｂ，Ｃ。结果如下．下一步") == "答案：A，B，C。结果如下．下一步"
    assert norm("他说：２０２４年，经济增长") == "他说：2024年，经济增长"
