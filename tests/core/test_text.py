from corpuskit.core import text


def test_count_words_english():
    assert text.count_words("Don't stop the e-mail at 3.14 now!") == 7


def test_count_words_chinese_each_char_is_a_word():
    assert text.count_words("我们今天去北京。") == 7  # 7 Han characters, 。 is not a word


def test_count_words_mixed_and_japanese():
    assert text.count_words("我爱Python编程") == 5  # 我 爱 Python 编 程
    assert text.count_words("これはペンです") == 7


def test_korean_is_spaced():
    assert text.count_words("나는 학교에 간다") == 3


def test_punctuation_symbols_emoji_are_not_words():
    assert text.count_words("，。！？ … -- 😀 ★ ***") == 0


def test_sentences_chinese_and_english():
    assert text.sentences("今天下雨。明天晴！真的吗？好") == ["今天下雨。", "明天晴！", "真的吗？", "好"]
    assert text.sentences("It rains. Dr.Who? Yes! ok") == ["It rains.", "Dr.Who?", "Yes!", "ok"]


def test_shingle_tokens_fold_case_width_digits():
    assert text.shingle_tokens("ＡＢＣ abc 2024年，中国") == ["abc", "abc", "0000", "年", "中", "国"]


def test_count_chars_ignores_whitespace():
    assert text.count_chars("中 文\n\u3000ab") == 4


def test_dominant_script():
    assert text.dominant_script("这是一个中文句子") == "han"
    assert text.dominant_script("これは日本語の文です") == "kana"
    assert text.dominant_script("This is English") == "latin"
    assert text.dominant_script("123 ... !!!") == "none"


# ---- line helpers used by filter-ads / filter-quality
def test_ends_with_terminal_punct_chinese_and_english():
    assert text.ends_with_terminal_punct("今天下雨。")
    assert text.ends_with_terminal_punct("他说：“走吧！”")
    assert text.ends_with_terminal_punct("「看煙火已經成了我們家的傳統。」")
    assert text.ends_with_terminal_punct("他沉默了……")  # the Chinese ellipsis ends a line of prose
    assert text.ends_with_terminal_punct('She left. "Bye."')
    assert not text.ends_with_terminal_punct("And then...")  # C4: "..." is a truncation
    assert not text.ends_with_terminal_punct("首页 新闻 体育")
    assert not text.ends_with_terminal_punct("")


def test_count_ellipses_counts_runs_once():
    assert text.count_ellipses("他想了想……又停下来…然后… a... b...... c") == 5
    assert text.ends_with_ellipsis("等待……")
    assert text.ends_with_ellipsis("wait...”")
    assert not text.ends_with_ellipsis("等待。")


def test_count_sentences_matches_sentences_and_stops_early():
    s = "今天下雨。明天晴！真的吗？好\nIt rains. Dr.Who? Yes! ok\n\n第三行"
    assert text.count_sentences(s) == len(text.sentences(s)) == 9
    assert text.count_sentences(s, stop_at=3) == 3
    assert text.count_sentences("") == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MIXED = st.text(st.one_of(st.characters(), st.sampled_from(list("abcXYZ 中文かなカナ한국어éßΩж12½²Ⅳ_-'."))),
                 max_size=200)


@settings(max_examples=400, deadline=None)
@given(_MIXED)
def test_count_letters_is_str_isalpha_exactly(s):
    assert text.count_letters(s) == (sum(1 for ch in s if ch.isalpha()),
                                     sum(1 for ch in s if ch.isascii() and ch.isalpha()))


@settings(max_examples=400, deadline=None)
@given(_MIXED)
def test_script_language_counts_words_that_hold_a_letter(s):
    from corpuskit.stages.filter_lang import script_language

    # the per-word definition the C-level counting replaced
    # Han and kana characters count where they are letters, as the words do
    han = sum(ch.isalpha() for ch in text.HAN_RE.findall(s))
    kana = sum(ch.isalpha() for ch in text.KANA_RE.findall(s))
    total = hangul = 0
    for w in text.WORD_RE.findall(s):
        if w.isdigit() or not any(ch.isalpha() for ch in w):
            continue
        total += 1
        hangul += bool(text.HANGUL_RE.search(w))
    want = None
    if total:
        if kana and kana >= 0.05 * total and (han + kana) >= 0.3 * total:
            want = ("ja", round((han + kana) / total, 4))
        elif hangul >= 0.3 * total:
            want = ("ko", round(hangul / total, 4))
        elif han >= 0.3 * total and not kana:
            want = ("zh", round(han / total, 4))
    assert script_language(s) == want


@settings(max_examples=400, deadline=None)
@given(_MIXED)
def test_words_fast_paths_and_cache_equal_the_one_regex(s):
    want = text.WORD_RE.findall(s)
    assert text.words(s) == want
    assert text.words(s) == want  # the cached list, same answer
    assert text.count_words(s) == len(want)
    assert text.words(s + "x") == text.WORD_RE.findall(s + "x")


def test_long_texts_are_measured_in_pieces_with_the_whole_texts_counts(monkeypatch):
    """count_lines and utf8_len cut a text over BIG_TEXT characters into pieces (lines: just
    after a "\\n"); the counts are those of the whole text, with \\r\\n, lone \\r, blank lines,
    other line breaks, CJK, astral characters and a lone surrogate at every offset."""
    unit = "line one\r\n\n  \r中文行\u2028x\r\n😀\n\n\ud800 end\n"
    texts = [unit * 40, "\n" + unit * 40 + "tail", "no newline at all " * 30, unit * 40 + "\r"]
    want = [(sum(1 for ln in t.splitlines() if ln.strip()), len(t.encode("utf-8", "surrogatepass")))
            for t in texts]
    monkeypatch.setattr(text, "BIG_TEXT", 7)
    assert [(text.count_lines(t), text.utf8_len(t)) for t in texts] == want
    assert text.utf8_len("ascii only " * 9) == 99


def test_patterns_compile_on_first_use():
    """Importing corpuskit.core.text compiles none of its CJK-range patterns (tens of ms paid
    by every process of a shell pipe); they compile when first used and match as re's do."""
    import re
    import subprocess
    import sys

    code = ("import re, corpuskit.core.text as t; "
            "print(sum(t.CJK_RANGES in str(k) for k in re._cache), t.WORD_RE._compiled is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "True"]
    s = "Hello 中文 world, don't 3.14 ｡ end"
    assert text.WORD_RE.findall(s) == re.compile(text.WORD_RE.pattern).findall(s)
    assert isinstance(text.WORD_RE.compiled(), re.Pattern)
    assert text.words(s) == ["Hello", "中", "文", "world", "don't", "3.14", "end"]


def test_count_words_of_a_long_text_lists_a_small_piece_of_it_at_a_time():
    """A long text's words are counted a 64 K-character piece at a time: the words listed at
    once take a few MB whatever the text's length (a 1 M-character piece took ~28 MB), and the
    count is the whole text's."""
    import tracemalloc

    unit = "Some English words, and 中文的句子也在这里。 More words follow here.\n"
    long_text = unit * (3_000_000 // len(unit))
    want = len(text.WORD_RE.findall(unit)) * (3_000_000 // len(unit))
    tracemalloc.start()
    try:
        n = text.count_words(long_text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == want
    assert peak < 6_000_000, peak


def _cut_texts() -> list[str]:
    import random

    rnd = random.Random(7)
    parts = ["ΟΔΟΣ", "Σ", "ΣΑΣ.", "Straße", "İstanbul", "北京欢迎你", "臺灣的學校", "ｆｕｌｌ", "㈱",
             "か\u3099", "e\u0301", "\u3000", " ", "\n", "\t", "\u00a0", "\u2028", "a", "1,234", "。"]
    texts = ["".join(rnd.choice(parts) for _ in range(400)) for _ in range(30)]
    texts += ["北" * 300, "x" * 300, " " * 300, "中文" * 50 + " " + "abc" * 80]
    return texts


def test_cut_pieces_cuts_only_after_space_or_between_ideographs_and_keeps_every_character():
    for t in _cut_texts():
        for size in (1, 7, 50):
            for ideographs in (False, True):
                pieces = list(text.cut_pieces(t, size, ideographs))
                assert "".join(pieces) == t
                assert all(len(p) >= size for p in pieces[:-1])
                for a, b in zip(pieces, pieces[1:]):
                    assert a[-1].isspace() or (ideographs and "\u4e00" <= a[-1] <= "\u9fff"
                                               and "\u4e00" <= b[0] <= "\u9fff")
            assert len(list(text.cut_pieces(t, size, True))) >= len(list(text.cut_pieces(t, size)))


def test_folding_piece_by_piece_gives_the_whole_texts_folding():
    import unicodedata

    # what the stages that prepare a huge text a piece at a time rely on
    for t in _cut_texts():
        for size in (1, 13):
            spaced = list(text.cut_pieces(t, size))
            assert [w for p in spaced for w in p.split()] == t.split()
            for pieces in (spaced, list(text.cut_pieces(t, size, ideographs=True))):
                assert "".join(p.lower() for p in pieces) == t.lower()
                assert "".join(unicodedata.normalize("NFKC", p) for p in pieces) == unicodedata.normalize("NFKC", t)
                assert [w for p in pieces for w in text.WORD_RE.findall(p)] == text.WORD_RE.findall(t)


def test_cut_pieces_leaves_a_text_without_a_cut_point_whole():
    assert list(text.cut_pieces("x" * 100, 10)) == ["x" * 100]
    assert list(text.cut_pieces("北 " + "x" * 100, 1)) == ["北 ", "x" * 100]
    assert list(text.cut_pieces("北京欢迎你", 2)) == ["北京欢迎你"]
    assert list(text.cut_pieces("北京欢迎你", 2, ideographs=True)) == ["北京欢", "迎你"]
    assert list(text.cut_pieces("short", 10)) == ["short"]


# ---- CJK counting edge cases
def test_halfwidth_katakana_counts_a_word_a_character():
    # half-width katakana is katakana: one word a character, as its full-width form
    assert text.words("ｶﾀｶﾅ") == ["ｶ", "ﾀ", "ｶ", "ﾅ"]
    assert text.count_words("ｺﾝﾋﾟｭｰﾀｰ") == text.count_words("コンピューター") == 7
    assert text.dominant_script("ｺﾝﾋﾟｭｰﾀｰ ｿﾌﾄ") == "kana"


def test_voiced_sound_marks_belong_to_their_kana():
    # が written as か + combining ゙ (NFD text, macOS file names) is one character, one word
    assert text.count_words("か\u3099き") == text.count_words("がき") == 2
    assert text.count_words("ハ\u309aン") == 2
    assert text.count_words("ﾊﾟﾝ") == 2  # half-width パ is two code points, one character
    assert text.count_words("\u309b\uff9e") == 0  # a mark alone is no word


def test_katakana_middle_dot_is_punctuation_not_a_word():
    assert text.words("ジョン・スミス") == ["ジ", "ョ", "ン", "ス", "ミ", "ス"]
    assert text.count_words("゠・") == 0


def test_ideographs_of_planes_2_and_3_are_cjk_words():
    # Extension B (𠀀 𪚥), and Extension H (U+31350..U+323AF), newer than some Pythons'
    # Unicode tables but ideographs all the same: planes 2 and 3 are set aside for them
    assert text.words("𠀀𪚥") == ["𠀀", "𪚥"]
    assert text.count_words("\U00031350\U000323af") == 2
    assert text.is_cjk_char("\U00031350")


def test_fast_paths_agree_with_word_re_on_kana_marks():
    for s in ["\uff9e", "a\uff9eb", "\u309b x", "ｶﾞ", "abc ｶﾞｷﾞ"]:
        assert text.words(s) == text.WORD_RE.findall(s), s


def test_a_few_kana_in_chinese_text_do_not_make_it_japanese():
    zh = "国家统计局新闻发言人表示，总的来看，国民经济延续回升向好态势，开局良好。" * 4
    assert text.dominant_script(zh + "（ネット上の愛称）") == "han"  # 5 kana, 128 Han
    assert text.dominant_script("我の朋友很好客，我们一起吃饭聊天，非常开心，下次再来玩。") == "han"
    assert text.dominant_script("東京都は新しい防災計画を発表しました。") == "kana"
    assert text.dominant_script("東京都知事選挙の結果") == "kana"


def test_half_width_stops_before_cjk_end_sentences():
    # Chinese typed with half-width punctuation: no space after .!?
    assert text.sentences("今天天气很好!我们去公园玩吧?好啊!") == ["今天天气很好!", "我们去公园玩吧?", "好啊!"]
    assert text.count_sentences("真的吗?是的!好.") == 3
    # a dot inside a version, a decimal or a name is not followed by a CJK character
    assert text.count_sentences("使用Node.js开发，价格涨了1.5倍") == 1


def test_combining_marks_stay_in_their_word():
    # Indic vowel signs and viramas never compose: हिन्दी is one word, not ह, न, द
    assert text.words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert text.count_words("தமிழ் ஒரு பழமையான மொழி.") == 4
    # a decomposed accent (NFD text) does not cut a Latin word in two
    assert text.words("nai\u0308ve cafe\u0301") == ["nai\u0308ve", "cafe\u0301"]
    assert text.count_words("e\u0301-mail") == 1
    # a mark alone is no word, and CJK text is counted as before
    assert text.count_words("\u0301 \u093f") == 0
    assert text.words("中文हिन्दी") == ["中", "文", "हिन्दी"]


def test_mark_class_holds_every_combining_mark_of_the_bmp():
    import re
    import unicodedata

    marks = re.compile(f"[{text.mark_class()}]")
    for cp in range(0x10000):
        ch = chr(cp)
        assert (marks.match(ch) is not None) == unicodedata.category(ch).startswith("M"), hex(cp)
