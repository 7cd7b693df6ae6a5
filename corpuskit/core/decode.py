"""Bytes -> text for raw web pages, in one place. Every way a page enters corpuskit (files in
raw/, WARC records, fetched responses) decodes through `decode_html`.

Order: byte-order mark; valid UTF-8 (preferred over a wrong declaration, which is common);
the HTTP header's charset; the page's ``<meta charset>`` / ``http-equiv``; a detector
(charset-normalizer) as the last resort; cp1252 with replacement so nothing is ever lost.
GB2312/GBK are read as GB18030 (their superset), Latin-1/ASCII as cp1252 (what browsers do),
Big5 as Big5-HKSCS.
"""
from __future__ import annotations

import codecs
import re

_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)

# What browsers (WHATWG Encoding standard) actually use for these labels.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "cp936": "gb18030", "euc-cn": "gb18030",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252",
    "us-ascii": "cp1252", "iso8859-1": "cp1252",
    "big5": "big5hkscs", "x-sjis": "shift_jis", "sjis": "cp932", "shift_jis": "cp932",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "utf8": "utf-8", "unicode": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# tolerated share of undecodable bytes when a declared charset is almost right
_TOLERANCE = 0.005


def canonical_encoding(label: str) -> str | None:
    """The Python codec for a charset label, with the browser aliases; None if unknown."""
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # a page that says utf-16 without a BOM is nearly always really ASCII-compatible
    return _ALIASES.get(name, name)


def _try(raw: bytes, enc: str, tolerate: float = 0.0) -> str | None:
    try:
        return raw.decode(enc)
    except (UnicodeDecodeError, LookupError):
        if tolerate <= 0:
            return None
    try:
        txt = raw.decode(enc, "replace")
    except LookupError:
        return None
    return txt if txt.count("\ufffd") <= max(8, tolerate * len(txt)) else None


def declared_charset(raw: bytes, content_type: str | None = None) -> str | None:
    """The charset the HTTP header or the page itself declares (header first)."""
    if content_type:
        m = _HEADER_CHARSET_RE.search(content_type)
        if m:
            enc = canonical_encoding(m.group(1))
            if enc:
                return enc
    m = _META_CHARSET_RE.search(raw[:16384])
    if m:
        return canonical_encoding(m.group(1).decode("ascii", "ignore"))
    return None


def decode_html(raw: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page. Returns (text, encoding) where encoding names the codec used, with
    ``+replace`` when some bytes could not be decoded and ``(detected)`` when it was guessed."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return raw.decode(enc, "replace"), enc.replace("-sig", "")
    txt = _try(raw, "utf-8")
    if txt is not None:
        return txt, "utf-8"
    declared = declared_charset(raw, content_type)
    if declared and declared not in ("utf-8", "utf-16"):
        txt = _try(raw, declared)
        if txt is not None:
            return txt, declared
        txt = _try(raw, declared, _TOLERANCE)
        if txt is not None:
            return txt, declared + "+replace"
    # valid-looking UTF-8 with a few broken bytes beats a guess
    txt = _try(raw, "utf-8", _TOLERANCE)
    if txt is not None:
        return txt, "utf-8+replace"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:200_000]).best()
        if best is not None:
            enc = canonical_encoding(best.encoding) or best.encoding
            txt = _try(raw, enc, _TOLERANCE)
            if txt is not None:
                return txt, enc + "(detected)"
    except ImportError:  # pragma: no cover - charset-normalizer is a dependency
        pass
    return raw.decode("cp1252", "replace"), "cp1252+replace"


def html_record(raw: bytes, *, url: str | None = None, content_type: str | None = None) -> dict:
    """The record a raw page becomes before `html2text` (a file in raw/, a WARC response, a
    fetched page): ``{"url": ..., "html": text, "meta": {"encoding": codec}}``, decoded once,
    here. ``url`` is left out when unknown."""
    text, enc = decode_html(raw, content_type)
    rec: dict = {"url": url} if url is not None else {}
    rec["html"] = text
    rec["meta"] = {"encoding": enc}
    return rec
