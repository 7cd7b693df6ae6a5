"""decode_html: the one bytes -> text helper for raw pages (files, WARC, fetch)."""
from __future__ import annotations

import codecs

from corpuskit.core.decode import canonical_encoding, declared_charset, decode_html

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
