import pickle
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.stage import Rejection
from corpuskit.core.text import sentences
from corpuskit.registry import make_stage
from corpuskit.stages.filter_quality import FilterQuality, NgramStats, stop_words, top_han_ngram_count

DATA = Path(__file__).resolve().parents[1] / "data" / "filters"


def load(name: str) -> list[str]:
    return [b.strip() for b in (DATA / name).read_text(encoding="utf-8").split("\n----\n") if b.strip()]


ZH_DOCS = load("normal_zh.txt")
EN_DOCS = load("normal_en.txt")

# An ordinary paragraph, used as the base that each rule test spoils in one way.
EN_BASE = EN_DOCS[1]
ZH_BASE = ZH_DOCS[3]


def run(text: str, **opts) -> dict | Rejection:
    return FilterQuality(**opts).process({"text": text})


def reason(text: str, **opts) -> str | None:
    r = run(text, **opts)
    return r.reason if isinstance(r, Rejection) else None


# ------------------------------------------------------------------ ordinary text passes
@pytest.mark.parametrize("doc", ZH_DOCS, ids=[f"zh{i}" for i in range(len(ZH_DOCS))])
def test_ordinary_chinese_news_and_encyclopaedia_pass(doc):
    r = run(doc)
    assert not isinstance(r, Rejection), r
    m = r["meta"]["quality"]
    assert m["mean_word_length"] is None  # skipped for mostly-CJK text
    assert m["ngram_scale"] == 1.7
    assert m["stop_words"] >= 2


@pytest.mark.parametrize("doc", EN_DOCS, ids=[f"en{i}" for i in range(len(EN_DOCS))])
def test_ordinary_english_paragraphs_pass(doc):
    r = run(doc)
    assert not isinstance(r, Rejection), r
    m = r["meta"]["quality"]
    assert 3 <= m["mean_word_length"] <= 10
    assert "ngram_scale" not in m


def test_meta_records_every_measure_on_a_kept_document():
    r = run(EN_BASE)
    m = r["meta"]["quality"]
    for key in ("words", "mean_word_length", "hash_ratio", "ellipsis_ratio", "bullet_lines",
                "ellipsis_lines", "alpha_words", "stop_words", "sentences", "dup_para_frac",
                "dup_line_frac", "dup_line_char_frac", "top_ngram", "dup_ngram", "line_punct_ratio",
                "short_line_ratio", "char_dup_ratio", "list_ratio"):
        assert key in m, key
    assert set(m["top_ngram"]) == {"2", "3", "4"}
    assert set(m["dup_ngram"]) == {"5", "6", "7", "8", "9", "10"}
    assert r["text"] == EN_BASE  # a filter never edits the text


def test_rejected_record_keeps_what_was_measured():
    rec = {"text": "too short"}
    r = FilterQuality().process(rec)
    assert r == Rejection("too_few_words", "2 < 50")
    assert rec["meta"]["quality"]["words"] == 2


# ------------------------------------------------------------------ each rule fires
def test_too_few_words_counts_chinese_characters():
    assert reason("今天天气很好。" * 5) == "too_few_words"  # 30 characters < 50
    assert reason(ZH_BASE) is None  # same script, enough characters


def test_too_many_words():
    assert reason(EN_BASE, max_words=100) == "too_many_words"


def test_word_length_low_and_high():
    low = ". ".join(["I am so at it as we go up to be on it"] * 12) + "."
    assert reason(low) == "word_length_low"
    high = ". ".join(["Internationalization characteristically overcomplicates "
                      "telecommunications infrastructure with extraordinarily "
                      "incomprehensible documentation and the implementations"] * 8) + "."
    assert reason(high) == "word_length_high"


def test_mean_word_length_is_skipped_for_chinese_but_not_for_mixed_english():
    assert run(ZH_BASE)["meta"]["quality"]["mean_word_length"] is None
    # A document that is mostly English with a little Chinese is still measured on its English words.
    r = run(EN_BASE + "\n这是一个中文句子。")
    assert r["meta"]["quality"]["mean_word_length"] > 3


def test_too_many_hashes():
    text = EN_BASE + "\n" + " ".join(f"#tag{i}" for i in range(40)) + "."
    assert reason(text) == "too_many_hashes"


def test_too_many_ellipses_counts_chinese_ellipsis_once():
    text = "\n".join(f"他想了想……又停下来……然后走了第{i}步。" for i in range(12))
    assert reason(text) == "too_many_ellipses"
    assert run(ZH_DOCS[7])["meta"]["quality"]["ellipsis_ratio"] < 0.01  # one "……" in a normal article


def test_too_many_bullet_lines():
    items = [f"- item number {i} is a thing that we have in the list for you to read." for i in range(12)]
    assert reason("\n".join(items)) == "too_many_bullet_lines"


def test_too_many_ellipsis_lines():
    lines = [f"The story continues with part {i} and then the writer stops right here..." for i in range(10)]
    assert reason("\n".join(lines)) == "too_many_ellipsis_lines"
    zh = [f"这是第{i}个故事的开头，后面的内容还没有写完，我们只能等待……" for i in range(10)]
    assert reason("\n".join(zh)) == "too_many_ellipsis_lines"


def test_too_few_alpha_words():
    nums = " ".join(str(1000 + i) for i in range(200))
    assert reason(EN_BASE + "\n" + nums + ".") == "too_few_alpha_words"


def test_too_few_stop_words_english_and_chinese():
    en = " ".join(f"Quick brown fox number {i} jumps over lazy dogs." for i in range(12))
    assert reason(en) == "too_few_stop_words"
    # a list of place names: Chinese characters but no function characters at all
    zh = "。".join(["北京上海广州深圳天津重庆成都武汉南京西安"] * 6) + "。"
    assert reason(zh, max_dup_line_frac=0, top_ngram_fracs="", dup_ngram_fracs="") == "too_few_stop_words"


def test_stop_words_cover_english_chinese_japanese():
    sw = stop_words()
    assert {"the", "and", "的", "了", "是", "の", "は"} <= sw


def test_curly_bracket():
    assert reason(EN_BASE + "\nfunction f() { return 1; }") == "curly_bracket"
    assert reason(EN_BASE + "\nfunction f() { return 1; }", curly_bracket=False) is None


def test_too_few_sentences_uses_chinese_full_stops():
    long_sentence = ("大熊猫是中国特有的哺乳动物，主要分布在四川、陕西和甘肃三省的山区，它们体型肥硕，头圆尾短，"
                     "毛色黑白相间，眼周有明显的黑色斑块，因而深受人们喜爱。")
    assert reason(long_sentence * 1 + long_sentence.replace("大熊猫", "小熊猫")) == "too_few_sentences"
    r = run(ZH_BASE)
    assert r["meta"]["quality"]["sentences"] == 3  # counted up to the (CJK) limit


# ------------------------------------------------------------------ Chinese adaptations
# A news brief: a headline and two long sentences (~120 characters), as agencies file them.
ZH_BRIEF = ("本市新建三座社区图书馆\n"
            "记者昨天从市文化局获悉，今年本市在东城、西城和南郊新建的三座社区图书馆已于本周全部开放，"
            "每座藏书约两万册，周一至周日均可免费借阅。"
            "文化局有关负责人表示，明年还将在远郊区县再建五座图书馆，让更多居民在家门口就能读到新书。")


def test_short_chinese_news_brief_is_kept_but_english_still_needs_five_sentences():
    assert reason(ZH_BRIEF) is None
    assert run(ZH_BRIEF)["meta"]["quality"]["sentences"] == 3
    assert reason(ZH_BRIEF, min_sentences_cjk=5) == "too_few_sentences"
    en = ("The city opened three new community libraries this week. Each holds about twenty thousand "
          "books and lends them for free every day of the week. The culture office said five more will "
          "follow in the outer districts next year, so that more residents can borrow new books close to "
          "home without a long trip into the centre of town.")
    assert reason(en) == "too_few_sentences"


def test_chinese_lines_with_a_sentence_end_inside_count_as_punctuated():
    # A post whose paragraphs end without 。 (a tilde, a bare phrase, a bracketed credit)
    post = ("周末去了一趟城郊的湿地公园，天气很好。湖边的芦苇已经黄了，远处有几只白鹭在浅水里找吃的～\n"
            "公园门口新开了一家小书店，店主说他们每周六下午都有读书会。我们坐下来喝了杯茶，聊了聊最近读的书 \n"
            "回来的路上有点堵车，不过看到夕阳照在湖面上，觉得这一趟很值得。下周还想带家里的老人一起去看看\n"
            "湿地公园的管理处说，入冬以后候鸟会越来越多。游客不要投喂，也不要靠得太近（本报记者 王明 摄）")
    assert reason(post) is None
    assert run(post)["meta"]["quality"]["line_punct_ratio"] == 1.0
    # a link list: headlines, no sentence end in any line
    links = "\n".join(["本市新建三座社区图书馆", "湿地公园迎来今冬第一批候鸟", "地铁六号线西延段下月通车",
                       "老城区十条小街巷完成改造", "全市中小学下周起实行错峰放学", "国际马拉松赛报名今天开始",
                       "新能源公交车占比超过八成", "市民热线上半年办结诉求十二万件", "春节前后蔬菜供应充足",
                       "图书馆夜间开放时间延长到十点"])
    assert reason(links + "\n" + ZH_BRIEF.split("\n")[1]) == "line_punct_ratio"


def test_single_line_chinese_document_is_judged_by_its_sentences_not_its_last_character():
    one_line = (ZH_BRIEF.split("\n")[1] + "该负责人还说，新馆的自助借还设备已经调试完毕。"
                "读者可以凭身份证在任何一座分馆办理借书证。三座新馆还设有少儿阅览区。（完）责任编辑：李华")
    assert "\n" not in one_line
    assert reason(one_line) is None


def test_a_question_put_to_several_people_is_not_a_repeated_paragraph():
    answers = ["张先生说，他最关心孩子上学的问题，希望学校离家近一些，放学以后也有地方可去。",
               "李女士说，她每天坐公交上班，希望早晚高峰能多开几趟车，等车的时间再短一点。",
               "退休教师刘老师说，他希望社区多办一些讲座，让老人们也能学学用手机看病挂号。",
               "大学生小陈说，他想在家乡找一份和专业对口的工作，希望招聘会能多一些本地企业。",
               "个体户赵大姐说，她的小店去年生意还不错，今年打算再开一家分店，多招两个帮手。"]
    question = "记者：新的一年，您最大的心愿是什么？"
    qa = "\n\n".join(["新年心愿街头采访", "新年前夕，本报记者在街头随机采访了几位市民。"]
                      + [p for a in answers for p in (question, a)])
    assert reason(qa) is None
    # the same question followed by the same answer each time is copied text
    copied = "\n\n".join(["新年心愿街头采访"] + [question, answers[0]] * 5)
    assert reason(copied) in {"dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"}


def test_pinyin_injection():
    text = ("烟(yan)台(tai)市(shi)今年新建的三座社区图(tu)书馆已于本周全部开(kai)放，每座藏书约两万册，"
            "周一至周日均可免(mian)费借阅。文化局有关负(fu)责人表示，明年还将在远郊区县再建五座图书馆，"
            "让更多居民在家门口就能读(du)到新书。该负责人还说，新馆的自助借还设备已经调试完毕。")
    assert reason(text) == "pinyin_injection"
    assert reason(text.replace("(", "（").replace(")", "）")) == "pinyin_injection"
    assert reason(text, max_pinyin_notes=0) is None
    # an article that glosses one rare character is ordinary text
    gloss = ZH_BRIEF + "馆内还展出了一件青铜觥（gōng）的复制品，吸引了不少小读者驻足观看。"
    assert reason(gloss) is None
    assert run(gloss)["meta"]["quality"]["pinyin_notes"] > 0


def test_keyword_stuffing():
    kw = ["南城搬家公司", "南城搬家公司电话", "南城搬家公司哪家好", "南城搬家公司价格"]
    body = [f"{kw[i % 4]}，" + s for i, s in enumerate(ZH_BRIEF.split("\n")[1].split("。")[:2] * 3) if s]
    text = "_".join(kw) + "\n" + "。".join(body) + "。\n" + "|".join(kw)
    assert reason(text, top_ngram_fracs_cjk="", dup_ngram_fracs_cjk="") == "keyword_stuffing"
    assert reason(text, top_ngram_fracs_cjk="", dup_ngram_fracs_cjk="", max_keyword_frac=0) is None
    # news repeating a name inside varied sentences is not stuffing
    r = run(ZH_BASE)
    assert r["meta"]["quality"]["keyword_frac"] < 0.16


def test_dup_para_frac():
    paras = EN_BASE.split("\n\n")
    text = "\n\n".join(paras + [paras[0]] * 3)
    assert reason(text) == "dup_para_frac"


def test_dup_para_char_frac():
    paras = EN_BASE.split("\n\n")
    text = "\n\n".join(paras + [paras[2]])  # 1 of 4 paragraphs repeated, but a long one
    assert reason(text) == "dup_para_char_frac"


def test_dup_line_frac():
    lines = EN_DOCS[0].split("\n")
    text = "\n".join(lines + ["Read the story."] * 3 + ["Share it."] * 2)
    assert reason(text) == "dup_line_frac"


def test_dup_line_char_frac():
    lines = EN_DOCS[2].split("\n")
    text = "\n".join(lines + [lines[1]])
    assert reason(text, max_dup_para_char_frac=0) == "dup_line_char_frac"


def test_top_ngram():
    text = EN_BASE + "\n" + "It was the best of times and the best of times again. " * 12
    assert reason(text, max_dup_line_frac=0, max_dup_para_frac=0) == "top_ngram"


def test_dup_ngram_english_and_chinese():
    rng = random.Random(0)
    en_words = EN_BASE.split()
    chunk = " ".join(en_words[:30])
    text = EN_BASE + "\n" + chunk + " " + " ".join(rng.sample(en_words, 20)) + " " + chunk + "."
    assert reason(text, top_ngram_fracs="") == "dup_ngram"
    zh = ZH_BASE + "\n" + ZH_BASE.split("\n")[1][:80] + "，而且" + ZH_BASE.split("\n")[1][:80] + "。"
    assert reason(zh, top_ngram_fracs_cjk="") == "dup_ngram"


def test_cjk_ngram_scale_keeps_chinese_names_from_counting_as_repetition():
    # Legal/news prose repeats long names (中华人民共和国); as 5-character n-grams that looks like
    # repetition, as ~5-word spans (9 characters) it does not.
    text = ("《中华人民共和国价格法》规定，中华人民共和国境内发生的价格行为适用本法。国务院价格主管部门统一负责全国的"
            "价格工作，国务院其他有关部门在各自的职责范围内负责有关的价格工作。县级以上地方各级人民政府价格主管部门负责本"
            "行政区域内的价格工作，县级以上地方各级人民政府其他有关部门在各自的职责范围内负责有关的价格工作。\n"
            "国家支持和促进公平、公开、合法的市场竞争，维护正常的价格秩序，对价格活动实行管理、监督和必要的调控。"
            "经营者定价，应当遵循公平、合法和诚实信用的原则。经营者应当努力改进生产经营管理，降低生产经营成本，"
            "为消费者提供价格合理的商品和服务。\n各级人民政府应当依法保护经营者的合法权益。"
            "消费者组织、职工价格监督组织和居民委员会有权对价格行为进行社会监督。新闻单位有权进行价格舆论监督。"
            "本法自一九九八年五月一日起施行。")
    gopher = "5:0.15,6:0.14,7:0.13,8:0.12,9:0.11,10:0.10"
    assert reason(text, cjk_ngram_scale=1.0, dup_ngram_fracs_cjk=gopher) == "dup_ngram"
    assert reason(text, dup_ngram_fracs_cjk=gopher) is None
    assert reason(text) is None


def test_line_punct_ratio():
    # ordinary sentences, one a line, with their full stops lost; one punctuated line at the end
    text = "\n".join(s.rstrip(".") for s in sentences(EN_BASE + "\n" + EN_DOCS[2]))
    text += "\nThe end. Really. Truly. Yes. Done."
    assert reason(text) == "line_punct_ratio"


def test_short_line_ratio_english_and_chinese():
    en = "\n".join(" ".join(EN_DOCS[2].split()[i:i + 3]) + "." for i in range(0, 150, 3)) + "\n" + EN_BASE
    assert reason(en) == "short_line_ratio"
    zh = "\n".join(ZH_DOCS[4].replace("\n", "")[i:i + 8] + "。" for i in range(0, 160, 8)) + "\n" + ZH_BASE
    # off by default in mostly-CJK text (FineWeb-2), on when given a limit
    assert reason(zh) is None
    assert reason(zh, max_short_line_ratio_cjk=0.67) == "short_line_ratio"


def test_a_block_of_short_fields_above_chinese_paragraphs_is_kept():
    """A record card (title, author, publisher, ... one short field a line) above the review it
    heads: most lines are short, most of the text is in long paragraphs. FineWeb's short-line
    rule rejects it; FineWeb-2 turned that rule off for every language it tuned, and so does
    filter-quality for mostly-CJK text."""
    card = ["【书名】山河岁月", "【作者】林远舟", "【出版】江南文艺出版社", "【页数】412页", "【定价】58元",
            "【装帧】平装", "【开本】32开", "【分类】长篇小说", "【印次】第一版", "【语种】中文", "主要人物：",
            "林家大哥", "二妹秀英", "老船工周伯", "镇长赵德", "教书先生", "小儿子阿满", "码头工人们"]
    review = ["这部小说以一座江边小镇为舞台，讲述了林家三代人从上世纪三十年代到八十年代的命运沉浮。作者用朴素的"
              "笔调写战乱、饥荒和重建，也写日常的柴米油盐，人物的选择常常出于生计，而不是口号。",
              "全书分为上下两部。上部写林家大哥在码头上讨生活，如何在动荡年代护住一家老小；下部写二妹秀英回乡"
              "办学，和镇上的老人们一起重修被洪水冲毁的学堂。两部之间隔了二十年，却有许多细节前后呼应。",
              "书中最动人的是那些沉默的人。老船工周伯一辈子只说过几句重话，却在大水那一夜把全镇的孩子一船一船"
              "送到对岸。作者没有把他写成英雄，只写他第二天照旧去补网。",
              "有读者认为小说后半部节奏偏慢，几条支线收得仓促。但就整体而言，这是一部扎实的作品，值得耐心读完。"
              "对于想了解那个年代普通人生活的读者，它比许多史料更有温度。"]
    text = "\n".join(card + review)
    r = run(text)
    assert not isinstance(r, Rejection), r
    assert r["meta"]["quality"]["short_line_ratio"] > 0.67  # what FineWeb's limit would reject
    assert reason(text, max_short_line_ratio_cjk=0.67) == "short_line_ratio"
    # English keeps FineWeb's rule: the same shape (a card of short fields above prose) is rejected
    en_card = [f"Field {i}: value" for i in range(18)]
    assert reason("\n".join(en_card + [EN_BASE]), max_dup_line_frac=0) == "short_line_ratio"


def test_short_chinese_lines_of_ordinary_length_are_not_short():
    # 12-20 Chinese characters is a full sentence, not a "short line" (FineWeb's 30 is for Latin text)
    lines = [f"第{i}位老人每天早上都会到公园里散步和锻炼身体。" for i in range(12)]
    r = run("\n".join(lines), max_dup_line_frac=0, top_ngram_fracs_cjk="", dup_ngram_fracs_cjk="",
            max_char_dup_ratio=0, max_dup_line_char_frac=0, max_keyword_frac=0)
    assert not isinstance(r, Rejection), r
    assert r["meta"]["quality"]["short_line_ratio"] == 0


def test_char_dup_ratio():
    lines = EN_DOCS[0].split("\n")
    text = "\n".join(lines + ["Photo: city library."] * 2)
    assert reason(text, max_dup_line_frac=0) == "char_dup_ratio"


def test_char_dup_ratio_in_chinese_takes_fineweb2s_limit():
    """An article that repeats its pull-quote once: 1-10% of its characters in repeated lines is
    kept in mostly-CJK text (FineWeb-2's 0.1), rejected past 10% or with FineWeb's 0.01."""
    quote = "“我们等这座桥等了整整三十年。”"
    text = "\n".join([ZH_DOCS[0], quote, ZH_DOCS[2], quote])
    r = run(text)
    assert not isinstance(r, Rejection), r
    assert 0.01 < r["meta"]["quality"]["char_dup_ratio"] < 0.1
    assert reason(text, max_char_dup_ratio_cjk=0.01) == "char_dup_ratio"
    many = "\n".join([ZH_DOCS[0]] + [quote] * 12 + [ZH_DOCS[2]])
    assert reason(many, max_dup_line_frac=0, max_dup_line_char_frac=0, dup_ngram_fracs_cjk="",
                  top_ngram_fracs_cjk="", max_keyword_frac=0) == "char_dup_ratio"


def test_list_ratio():
    text = EN_BASE + "\n" + "\n".join(w + "." for w in dict.fromkeys(EN_DOCS[2].split()))
    assert reason(text, max_short_line_ratio=0, max_dup_line_frac=0) == "list_ratio"


def test_every_reason_is_documented_and_tested():
    import inspect
    import sys
    src = inspect.getsource(sys.modules[__name__])
    for r in FilterQuality.reasons:
        assert f'"{r}"' in src, f"reason {r} has no test"


# ------------------------------------------------------------------ options, pickling
def test_chinese_text_uses_fineweb2_mandarin_ngram_limits():
    # one long clause said twice in a short Chinese text: over Gopher's limits, under FineWeb-2's
    # Mandarin ones
    clause = "市政府决定从下个月起在全市范围内推行生活垃圾分类并对居民小区的投放点进行统一改造"
    text = (ZH_BRIEF + "\n" + clause + "，各区要尽快制定实施方案。" + "会议强调，" + clause
            + "是一件关系到每个家庭的大事，各部门要加强宣传和指导，让居民知道怎么分、分到哪里，"
            "街道和社区也要安排志愿者在投放点值守。")
    r = run(text)
    assert not isinstance(r, Rejection), r
    assert r["meta"]["quality"]["dup_ngram"]["10"] > 0.10
    assert reason(text, dup_ngram_fracs_cjk="5:0.15,6:0.14,7:0.13,8:0.12,9:0.11,10:0.10") == "dup_ngram"
    # English keeps Gopher's limits
    assert FilterQuality()._dup == ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


def test_option_validation():
    with pytest.raises(ValueError):
        FilterQuality(max_short_line_ratio=1.5)
    with pytest.raises(ValueError):
        FilterQuality(top_ngram_fracs="2-0.2")
    with pytest.raises(ValueError):
        FilterQuality(dup_ngram_fracs="5:0")
    with pytest.raises(ValueError):
        FilterQuality(min_words=10, max_words=5)
    with pytest.raises(ValueError):
        FilterQuality(cjk_ngram_scale=0.5)


def test_zero_turns_a_rule_off():
    assert reason("too short") == "too_few_words"
    assert reason("too short", min_words=0, min_stop_words=0, min_sentences=0,
                  min_line_punct_ratio=0, max_short_line_ratio=0, min_mean_word_length=0,
                  top_ngram_fracs="") is None


def test_registered_and_picklable():
    stage = make_stage("filter-quality", min_words=20, top_ngram_fracs="2:0.3")
    again = pickle.loads(pickle.dumps(stage))
    assert again == stage
    assert again.process({"text": EN_BASE})["meta"]["quality"]["top_ngram"].keys() == {"2"}


# ------------------------------------------------------------------ n-gram measures == Gopher's
def _ref_top(ws: list[str], n: int) -> int:
    grams = [" ".join(ws[i:i + n]) for i in range(len(ws) - n + 1)]
    if not grams:
        return 0
    g, c = Counter(grams).most_common(1)[0]
    return len(g) * c


def _ref_dup(ws: list[str], n: int) -> int:
    seen: set[str] = set()
    total, i = 0, 0
    while i < len(ws) - n + 1:
        g = "".join(ws[i:i + n])
        if g in seen:
            total += len(g)
            i += n
        else:
            seen.add(g)
            i += 1
    return total


@settings(max_examples=300, deadline=None)
@given(
    ws=st.lists(st.sampled_from(["a", "bb", "ccc", "dd", "e", "ffff", "的", "国"]), max_size=120),
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6, unique=True),
)
def test_ngram_measures_match_the_reference_algorithm(ws, sizes):
    stats = NgramStats(ws, spaced=True)
    for n in sorted(sizes):
        count, first = stats.advance(n)
        assert stats.top_chars(n, count, first) == _ref_top(ws, n)
        assert stats.dup_chars() == _ref_dup(ws, n)


def test_symbol_only_tokens_count_as_non_alpha_words():
    # Gopher counts whitespace tokens: a page of "*** | --- =>" separators has too few alphabetic words
    junk = "\n".join("*** | --- => ## || :: >> --" for _ in range(20))
    assert reason(EN_BASE + "\n" + junk, max_hash_ratio=0) == "too_few_alpha_words"
    # Chinese punctuation is attached to the text, so ordinary Chinese is unaffected
    assert run(ZH_BASE)["meta"]["quality"]["alpha_words"] == 1.0


RU = ("Вчера в городе открылась новая библиотека. Она занимает три этажа старого здания на главной "
      "площади. Читатели могут взять книги домой или работать в тихих залах. Для детей устроили "
      "отдельный зал с играми и мягкими креслами. Директор библиотеки рассказала, что ремонт "
      "продолжался почти два года. Теперь здание открыто каждый день, кроме понедельника. "
      "Жители района давно ждали этого события и пришли на открытие целыми семьями.")


def test_stop_word_rule_is_skipped_for_languages_without_a_list():
    # Gopher's rule is English-only: a Russian (or Korean) article has none of its words
    r = run(RU)
    assert not isinstance(r, Rejection), r
    assert r["meta"]["quality"]["stop_words"] is None
    ko = "오늘 서울 시내에 새 도서관이 문을 열었다. 주민들은 가족과 함께 개관식에 참석했다. " * 6
    rec = {"text": ko}
    r = FilterQuality(min_mean_word_length=0).process(rec)
    assert not (isinstance(r, Rejection) and r.reason == "too_few_stop_words")
    assert rec["meta"]["quality"]["stop_words"] is None


def test_stop_word_list_follows_meta_lang_when_a_language_stage_set_it():
    pt = ("O novo museu da cidade abriu as portas ontem. A coleção reúne pinturas, fotografias e "
          "objetos antigos doados por moradores. Muitas famílias visitaram as salas durante a tarde. "
          "A diretora disse que a entrada será gratuita aos domingos. Escolas poderão marcar visitas "
          "guiadas pelo site. O prédio foi restaurado ao longo de dois anos por uma equipe local.")
    assert reason(pt) == "too_few_stop_words"  # Latin script is taken as English, as in Gopher
    rec = {"text": pt, "meta": {"lang": "pt"}}
    assert not isinstance(FilterQuality().process(rec), Rejection)
    assert rec["meta"]["quality"]["stop_words"] is None
    rec = {"text": ZH_BASE, "meta": {"lang": "zh-TW"}}
    assert FilterQuality().process(rec)["meta"]["quality"]["stop_words"] >= 2


def test_chinese_quoting_a_japanese_word_keeps_the_chinese_stop_words():
    # without meta.lang the list comes from the script: a few kana in a Chinese article (a
    # Japanese name, a quoted term, 的 written の) do not make it Japanese
    for quote in ("（ネット上の愛称）", "我の"):
        i = ZH_BASE.index("，")
        text = ZH_BASE[:i] + quote + ZH_BASE[i:]
        r = run(text)
        assert not isinstance(r, Rejection), r
        assert r["meta"]["quality"]["stop_words"] >= 2


def test_huge_record_memory_stays_within_3x(tmp_path):
    """One 20 MB record: too_many_words is decided by counting, before any word list."""
    from tests.memory import extra_over_record

    text = ("The committee met on Tuesday to review the budget. 委员会周二开会审议了预算。\n") * 280_000
    assert extra_over_record(tmp_path, "filter-quality", text) <= 3.0


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="上海搬家公司电话好a1，。 \n", max_size=80), st.integers(min_value=1, max_value=7))
def test_top_han_ngram_count_matches_a_direct_count(text, n):
    runs = re.findall("[\u3400-\u4dbf\u4e00-\u9fff]+", text)
    counts = Counter(r[i:i + n] for r in runs for i in range(len(r) - n + 1))
    assert top_han_ngram_count(text, n) == max(counts.values(), default=0)


def test_pinyin_rule_only_judges_mostly_chinese_text():
    # an English page glossing Chinese words with their pinyin is not injection spam
    en = EN_BASE + "\nOn the menu: 饺(jiao)子(zi), 包(bao)子(zi), 馒(man)头(tou) and 面(mian)条(tiao)."
    assert reason(en) != "pinyin_injection"
    assert run(en)["meta"]["quality"].get("pinyin_notes") is None


def test_chinese_only_rules_leave_japanese_to_gophers_limits():
    zh = FilterQuality().process({"text": ZH_BRIEF})
    assert "keyword_frac" in zh["meta"]["quality"] and "pinyin_notes" in zh["meta"]["quality"]
    ja = FilterQuality(min_stop_words=0).process({"text": ZH_BRIEF, "meta": {"lang": "ja"}})
    assert "keyword_frac" not in ja["meta"]["quality"] and "pinyin_notes" not in ja["meta"]["quality"]


def test_chinese_post_with_half_width_punctuation_counts_its_sentences():
    half = ("今天和朋友一起去电影院看了这部新上映的电影,真的太好看了!演员们的表演都非常自然,剧情也很感人,"
            "好几次我都忍不住哭了.特别是结尾的那一段,处理得非常巧妙!强烈推荐大家有空的时候去看看,"
            "绝对不会失望的!你们看过了吗?")
    full = half.replace(",", "，").replace("!", "！").replace(".", "。").replace("?", "？")
    assert reason(full) is None
    r = run(half)
    assert not isinstance(r, Rejection), r
    assert r["meta"]["quality"]["sentences"] >= 3


def test_hindi_words_keep_their_vowel_signs():
    # Gopher's mean word length on an ordinary Hindi article: its words were cut at every vowel
    # sign (1.3 characters a word, word_length_low)
    hi = ("भारत एक विशाल देश है जिसकी संस्कृति बहुत पुरानी और समृद्ध है। यहाँ अनेक भाषाएँ बोली जाती हैं और "
          "हर राज्य की अपनी परंपराएँ हैं। दिल्ली भारत की राजधानी है और यह एक बड़ा शहर है। हर साल लाखों "
          "पर्यटक यहाँ के ऐतिहासिक स्थान देखने आते हैं। भारतीय भोजन अपने मसालों के लिए पूरी दुनिया में "
          "प्रसिद्ध है। लोग त्योहारों को बड़े उत्साह के साथ मनाते हैं।")
    rec = {"text": hi, "meta": {"lang": "hi"}}
    r = FilterQuality().process(rec)
    assert not (isinstance(r, Rejection) and r.reason.startswith("word_length")), r
    assert rec["meta"]["quality"]["mean_word_length"] >= 3
