"""decode_html: the one bytes -> text helper for raw pages (files, WARC, fetch)."""
from __future__ import annotations

import codecs

import pytest

from corpuskit.core.decode import canonical_encoding, declared_charset, decode_html, decode_page

ZH = "山区小学的新图书馆正式开放，孩子们很高兴。"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_gb2312_declared_is_read_as_gb18030():
    # 镕 is in GBK but not in GB2312: a strict gb2312 decoder would fail on real pages
    text = page(ZH + "朱镕基", '<meta charset="gb2312">')
    out, enc = decode_html(text.encode("gbk"))
    assert enc == "gb18030" and "朱镕基" in out


def test_gbk_without_declaration_is_detected():
    text = page(ZH * 20)
    out, enc = decode_html(text.encode("gbk"))
    assert ZH in out
    assert enc.startswith("gb18030") and enc.endswith("(detected)")


def test_valid_utf8_wins_over_wrong_declaration():
    text = page(ZH, '<meta charset="gb2312">')
    out, enc = decode_html(text.encode("utf-8"))
    assert enc == "utf-8" and ZH in out


def test_http_header_charset_first():
    raw = page("café crème").encode("cp1252")
    out, enc = decode_html(raw, "text/html; charset=ISO-8859-1")
    assert enc == "cp1252" and "café crème" in out


def test_bom():
    out, enc = decode_html(codecs.BOM_UTF8 + page(ZH).encode("utf-8"))
    assert enc == "utf-8" and out.startswith("<html>")
    out, enc = decode_html(codecs.BOM_UTF16_LE + page(ZH).encode("utf-16-le"))
    assert enc == "utf-16" and ZH in out


def test_mostly_right_declaration_keeps_text_with_replacements():
    raw = page(ZH * 200, '<meta charset="gbk">').encode("gbk") + b"\xff"
    out, enc = decode_html(raw)
    assert enc == "gb18030+replace" and ZH in out


def test_never_fails_on_junk():
    out, enc = decode_html(bytes(range(256)) * 10)
    assert isinstance(out, str) and enc


def test_aliases():
    assert canonical_encoding("GB2312") == "gb18030"
    assert canonical_encoding("x-gbk") == "gb18030"
    assert canonical_encoding("latin-1") == "cp1252"
    assert canonical_encoding("no-such-charset") is None
    assert declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=GBK">') == "gb18030"


def test_html_record():
    from corpuskit.core.decode import html_record

    rec = html_record(page(ZH, '<meta charset="gbk">').encode("gbk"), url="http://example.cn/a")
    assert list(rec) == ["url", "html", "meta"]
    assert ZH in rec["html"] and rec["meta"] == {"encoding": "gb18030"}
    assert "url" not in html_record(b"<p>x</p>")


# ---- browser-like decoding: a CJK codec with a handful of bad bytes is kept

FORUM = ("发表于 2005-3-15 楼主：今天讨论一下北京的房价问题，大家有什么看法？"
         "回复：我觉得房价还会继续上涨，因为城市人口一直在增加。")


def _forum_page(n: int, head: str = "") -> bytes:
    body = "".join(f"<div class=post>{FORUM}{i}</div>\n" for i in range(n))
    return (head + f"<html><head><title>论坛</title></head><body>{body}</body></html>").encode("gbk")


def _inject(raw: bytes, where: float) -> bytes:
    i = int(len(raw) * where)
    i += raw[i:].index(FORUM[:2].encode("gbk"))  # at the start of a Chinese character
    return raw[:i] + b"\xff" + raw[i:]  # a stray byte between two characters


def test_xml_declaration_is_a_declaration():
    raw = _forum_page(3, '<?xml version="1.0" encoding="gb2312"?>\n')
    assert declared_charset(raw) == "gb18030"


def test_issue_page_with_one_bad_byte_in_50kb_stays_gbk():
    # the wrapper declares gb2312, no meta charset, one invalid byte
    raw = _inject(_forum_page(400, '<?xml version="1.0" encoding="gb2312"?>\n'), 0.5)
    assert len(raw) > 50_000
    out, enc, replaced = decode_page(raw)
    assert enc == "gb18030+replace" and replaced == 1
    assert out.count(FORUM) >= 399


def test_undeclared_gbk_with_bad_bytes_is_sniffed_not_guessed():
    raw = _inject(_inject(_forum_page(400), 0.3), 0.7)
    out, enc, replaced = decode_page(raw)
    assert enc == "gb18030+replace(detected)" and replaced == 2
    assert out.count(FORUM) >= 398


@pytest.mark.parametrize("text,codec,expect", [
    ("這是一個臺灣的論壇，大家討論電腦與網路的問題。" * 40, "big5", "big5hkscs"),
    ("東京の天気は晴れです。明日は雨が降るでしょう。" * 40, "shift_jis", "cp932"),
    ("서울의 날씨는 맑습니다. 내일은 비가 올 것입니다." * 40, "euc-kr", "cp949"),
])
def test_undeclared_cjk_codecs_are_sniffed_with_bad_bytes(text, codec, expect):
    raw = page(text).encode(codec)
    raw = raw[:len(raw) // 2] + b"\xff" + raw[len(raw) // 2:]
    out, enc, _ = decode_page(raw)
    assert enc.startswith(expect) and text[:10] in out


def test_non_cjk_pages_still_go_to_the_detector():
    ru = "Москва — столица России, крупнейший город страны. " * 40
    out, enc = decode_html(page(ru).encode("cp1251"))
    assert ru[:30] in out and "1251" in enc
    fr = "L'été dernier, nous sommes allés à la mer ; où êtes-vous ? " * 40
    out, enc = decode_html(page(fr).encode("cp1252"))
    assert fr[:30] in out


def test_html_record_counts_replacements():
    from corpuskit.core.decode import html_record

    rec = html_record(_inject(_forum_page(400, '<meta charset="gbk">'), 0.5))
    assert rec["meta"] == {"encoding": "gb18030+replace", "replaced": 1}


@pytest.mark.parametrize("label", ["windows-949", "korean", "ksc5601", "cseuckr", "euc-kr"])
def test_every_euc_kr_label_is_read_as_windows_949(label):
    # browsers read every EUC-KR label as windows-949, whose extra Hangul (똠) EUC-KR lacks
    ko = "서울시는 오늘 새 도서관을 열었다. 똠방각하 전시회도 함께 열린다."
    out, enc = decode_html(page(ko, f'<meta charset="{label}">').encode("cp949"))
    assert enc == "cp949" and ko in out


@pytest.mark.parametrize("label,codec", [("windows-31j", "cp932"), ("x-euc-jp", "euc_jp"),
                                         ("csgb2312", "gb18030"), ("cn-big5", "big5hkscs"),
                                         ("x-x-big5", "big5hkscs"), ("gb_2312", "gb18030")])
def test_cjk_labels_of_the_encoding_standard(label, codec):
    assert canonical_encoding(label) == codec
