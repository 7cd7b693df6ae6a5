"""decode_page on encodings whose bytes are valid UTF-8 without being UTF-8: UTF-16 without a
byte-order mark (mostly ASCII, so its NUL bytes pass as UTF-8) and ISO-2022-JP (7-bit escapes).
Pages built here."""
from __future__ import annotations

import pytest

from corpuskit.core.decode import decode_page, html_record
from corpuskit.stages.html2text.stage import HtmlToText

EN = ("The council met on Tuesday to discuss the budget, and its members agreed on most "
      "of the points raised. ") * 4
JA = "今日はとても良い天気です。公園には多くの人が散歩していました。"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("content_type", [None, "text/html; charset=UTF-16", "text/html; charset=utf-16le",
                                          "text/html; charset=utf-16be"])
@pytest.mark.parametrize("body", [EN + "café " + JA, EN])
def test_utf16_without_bom_is_read_as_utf16(codec, content_type, body):
    # (an ASCII page in UTF-16 is all valid UTF-8: it came out NUL-ridden and was not_html)
    text = page(body)
    raw = text.encode(codec)
    out, enc, replaced = decode_page(raw, content_type)
    said = content_type is not None
    assert out == text and enc == codec + ("" if said else "(detected)") and replaced == 0
    rec = html_record(raw, content_type=content_type)
    assert body.strip() in HtmlToText().process(rec)["text"]


def test_utf8_with_a_few_nul_bytes_stays_utf8():
    raw = page(EN).encode("utf-8") + b"\x00" * 40
    out, enc, _ = decode_page(raw)
    assert enc == "utf-8" and out.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("head", ['<meta charset="iso-2022-jp">', ""])
def test_iso_2022_jp_is_read_as_declared_or_by_its_escapes(head):
    text = page(JA * 3, head)
    raw = text.encode("iso2022_jp")
    assert raw.decode("utf-8")  # 7-bit: it passes as UTF-8 (escape sequences and all)
    out, enc, _ = decode_page(raw)
    assert out == text and enc.startswith("iso2022_jp") and "\x1b" not in out
    assert JA in HtmlToText().process(html_record(raw))["text"]


def test_ascii_page_declaring_iso_2022_jp_stays_as_it_is():
    raw = page(EN, '<meta charset="iso-2022-jp">').encode("ascii")
    out, enc, _ = decode_page(raw)
    assert out == raw.decode("ascii") and enc == "utf-8"


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_with_bom_is_read_as_utf32(codec):
    # its little-endian BOM starts with UTF-16's: read as UTF-16, the page was NUL-ridden garbage
    text = page(EN + JA)
    bom = b"\xff\xfe\x00\x00" if codec == "utf-32-le" else b"\x00\x00\xfe\xff"
    out, enc, _ = decode_page(bom + text.encode(codec))
    assert out == text and enc == "utf-32"


@pytest.mark.parametrize("text", [
    "今日はとても良い天気です。公園には多くの人が散歩していました。子供たちは楽しそうに遊んでいます。",
    "東京都は二十日、新型の感染者が確認されたと発表した。都内の累計は三千人を超えた。",
])
def test_undeclared_euc_jp_is_not_read_as_gb18030(text):
    # GB2312 holds the kana at EUC-JP's byte values, so Japanese in EUC-JP reads as GB18030 with
    # its kana right and its kanji other characters ("海泣はとても紊い欧丹です")
    raw = page(text * 6).encode("euc_jp")
    out, enc, _ = decode_page(raw)
    assert enc == "euc_jp(detected)" and text in out
