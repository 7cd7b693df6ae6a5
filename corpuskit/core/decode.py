"""Bytes -> text for raw web pages, in one place. Every way a page enters corpuskit (files in
raw/, WARC records, fetched responses) decodes through `decode_html`.

Order, as a browser decodes: byte-order mark; valid UTF-8 (preferred over a wrong declaration,
which is common); the HTTP header's charset; the page's ``<meta charset>`` / ``http-equiv`` or
its XML declaration (``<?xml ... encoding="gb2312"?>``). A declared codec that fails on a
handful of bytes (at most 8, or 0.5% of the characters) is kept, with replacement characters,
instead of handing the page to a statistical guess. Without a usable declaration the CJK codecs
are sniffed (GB18030, Big5-HKSCS, Shift_JIS, EUC-JP, EUC-KR, each allowed the same handful of
bad bytes) and one is kept when its text is clearly Chinese, Japanese or Korean (Chinese judged by
the character-frequency model of corpuskit.core.charfreq); the detector's guess
(charset-normalizer) is taken only when it decodes clearly better, and it is the last resort;
then cp1252 with replacement so nothing is ever lost. GB2312/GBK are read as GB18030 (their
superset), Latin-1/ASCII as cp1252 (what browsers do), Big5 as Big5-HKSCS.

`decode_page` also returns how many bytes could not be decoded (replacement characters added),
which the callers record in ``meta.fetch.replaced``.
"""
from __future__ import annotations

import codecs
import re

from corpuskit.core.charfreq import cost_profile

_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_DECL_RE = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9_.:\-]+)""", re.I)
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
    # the rest of the Encoding standard's labels of the CJK encodings that Python's codec
    # registry does not know, or knows as the narrower codec (euc_kr: the browsers' EUC-KR is
    # windows-949, Python's euc_kr fails on its extra Hangul)
    "csgb2312": "gb18030", "gb_2312": "gb18030",
    "cn-big5": "big5hkscs", "x-x-big5": "big5hkscs",
    "cseucpkdfmtjapanese": "euc_jp", "x-euc-jp": "euc_jp", "windows-31j": "cp932",
    "euc_kr": "cp949", "cseuckr": "cp949", "csksc56011987": "cp949", "iso-ir-149": "cp949",
    "ks_c_5601-1989": "cp949", "ksc_5601": "cp949", "windows-949": "cp949",
}
# (UTF-32's before UTF-16's: the little-endian one starts with UTF-16's)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
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
    head = raw[:16384]
    for rx in (_META_CHARSET_RE, _XML_DECL_RE):
        m = rx.search(head)
        if m:
            enc = canonical_encoding(m.group(1).decode("ascii", "ignore"))
            if enc:
                return enc
    return None


_SNIFFED = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")
_CHINESE = ("gb18030", "big5hkscs")
_JAPANESE = ("cp932", "euc_jp")
_KANA_SHARE = 0.2  # of the non-ASCII characters: Japanese text (cjk_fit's rule)
_TAG_RE = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)


def _visible_sample(txt: str) -> str:
    """The text of a page without tags, scripts and styles, first 200,000 characters."""
    return _TAG_RE.sub(" ", txt[:200_000])


def cjk_fit(txt: str) -> float | None:
    """How well decoded page text reads as Chinese, Japanese or Korean: the mean cost per
    non-ASCII character (lower is better), or None when it is not clearly CJK text.
    Clearly CJK: Chinese whose ideographs have the mean cost of real Chinese (at most 9.0), or
    Japanese with kana for at least a fifth of its non-ASCII characters, or Korean with Hangul for
    at least half; few characters outside these scripts and few replacement characters."""
    p = cost_profile(_visible_sample(txt))
    non_ascii = p.ideographs + p.kana_hangul + p.cjk_punct + p.other + p.replacement
    if non_ascii < 10 or p.other + p.replacement > 0.1 * non_ascii:
        return None
    if p.ideographs and p.mean_cost > 9.0 and p.kana_hangul < 0.2 * non_ascii:
        return None
    if p.ideographs + p.kana_hangul < 0.5 * non_ascii:
        return None
    return (p.ideographs * p.mean_cost + 7.0 * (p.kana_hangul + p.cjk_punct)
            + 12.0 * p.other + 20.0 * p.replacement) / non_ascii


def _kana_rich(txt: str) -> bool:
    """Kana (or Hangul) are a fifth of the non-ASCII characters of the page's visible text."""
    p = cost_profile(_visible_sample(txt))
    non_ascii = p.ideographs + p.kana_hangul + p.cjk_punct + p.other + p.replacement
    return non_ascii > 0 and p.kana_hangul >= _KANA_SHARE * non_ascii


def decode_html(raw: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page. Returns (text, encoding) where encoding names the codec used, with
    ``+replace`` when some bytes could not be decoded and ``(detected)`` when it was guessed."""
    txt, enc, _ = decode_page(raw, content_type)
    return txt, enc


def decode_page(raw: bytes, content_type: str | None = None) -> tuple[str, str, int]:
    """`decode_html` plus the number of replacement characters the decoding added."""
    txt, enc = _decode(raw, content_type)
    replaced = txt.count("\ufffd") - _count_fffd_bytes(raw) if "+replace" in enc else 0
    return txt, enc, max(0, replaced)


def _count_fffd_bytes(raw: bytes) -> int:
    """U+FFFD already in the page as UTF-8 bytes (not added by the decoder)."""
    return raw.count(b"\xef\xbf\xbd")


# UTF-16 without a byte-order mark: markup is mostly ASCII, so nearly every other byte is NUL,
# which UTF-8 accepts; a page in UTF-8 has none of them
_WIDE_SAMPLE = 4096
_WIDE_NULS = 0.25    # of the code units in the sample, a NUL byte on one side ...
_WIDE_OTHER = 0.02   # ... and (nearly) none on the other
# ISO-2022-JP: 7-bit, so it too is valid UTF-8; its escapes into JIS X 0208 tell it apart
_ISO2022JP_RE = re.compile(rb"\x1b\$[@B]")


def _utf16_layout(raw: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when the page's first bytes are laid out as UTF-16 code units
    of mostly ASCII markup (a NUL byte beside most characters, on one side only), else None."""
    n = min(len(raw), _WIDE_SAMPLE) // 2
    if n < 16:
        return None
    even = raw[0:2 * n:2].count(0)
    odd = raw[1:2 * n:2].count(0)
    if odd >= _WIDE_NULS * n and even <= _WIDE_OTHER * n:
        return "utf-16-le"
    if even >= _WIDE_NULS * n and odd <= _WIDE_OTHER * n:
        return "utf-16-be"
    return None


def _seven_bit_or_wide(raw: bytes, content_type: str | None) -> tuple[str, str] | None:
    """A page in an encoding whose bytes pass as UTF-8 without being it: UTF-16 without a BOM
    (its NUL bytes) or ISO-2022-JP (its escape sequences), read as that encoding when it decodes
    (UTF-16 with a few bad bytes tolerated) and the text is markup. Labelled "(detected)" unless
    the header or the page declares that encoding."""
    wide = _utf16_layout(raw)
    if wide is not None:
        txt = _try(raw, wide, _TOLERANCE)
        if txt is not None and "<" in txt[:_WIDE_SAMPLE]:
            declared = declared_charset(raw, content_type)
            said = declared is not None and declared.startswith("utf-16")
            return txt, _label(wide, txt, raw) + ("" if said else "(detected)")
    if b"\x1b" in raw and _ISO2022JP_RE.search(raw) is not None:
        declared = declared_charset(raw, content_type)
        said = declared is not None and declared.startswith("iso2022_jp")
        for enc in ((declared,) if said else ()) + ("iso2022_jp", "iso2022_jp_ext"):
            txt = _try(raw, enc)
            if txt is not None:
                return txt, enc + ("" if said else "(detected)")
    return None


def _decode(raw: bytes, content_type: str | None) -> tuple[str, str]:
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return raw.decode(enc, "replace"), enc.replace("-sig", "")
    found = _seven_bit_or_wide(raw, content_type)
    if found is not None:
        return found
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
    # sniff the CJK codecs: the best-reading one that is clearly CJK text
    sniffed: tuple[float, str, str] | None = None
    japanese: tuple[float, str, str] | None = None
    for enc in _SNIFFED:
        txt = _try(raw, enc, _TOLERANCE)
        if txt is None:
            continue
        fit = cjk_fit(txt)
        if fit is not None and (sniffed is None or fit < sniffed[0]):
            sniffed = (fit, txt, enc)
        if fit is not None and enc in _JAPANESE and (japanese is None or fit < japanese[0]):
            japanese = (fit, txt, enc)
    if sniffed is not None and japanese is not None and sniffed[2] in _CHINESE and _kana_rich(sniffed[1]):
        # GB2312 (and Big5's extensions) hold the kana at the byte values EUC-JP gives them: a
        # Japanese page read as Chinese keeps its kana and turns its kanji into other characters
        # ("海泣はとても紊い欧丹です"), which may cost no more than the real ones. Text this rich in
        # kana is Japanese, and a Japanese codec that reads it as CJK text is the page's
        sniffed = japanese
    guess: tuple[str, str] | None = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:200_000]).best()
        if best is not None:
            enc = canonical_encoding(best.encoding) or best.encoding
            txt = _try(raw, enc, _TOLERANCE)
            if txt is not None:
                guess = (txt, enc)
    except ImportError:  # pragma: no cover - charset-normalizer is a dependency
        pass
    if sniffed is not None:
        fit, txt, enc = sniffed
        # the detector's guess wins only when it reads clearly better (a CJK codec of its own
        # with a lower cost and no more replacement characters)
        if guess is not None and guess[1] != enc:
            gfit = cjk_fit(guess[0])
            if gfit is not None and gfit < fit - 0.5 and guess[0].count("\ufffd") <= txt.count("\ufffd"):
                return guess[0], _label(guess[1], guess[0], raw) + "(detected)"
        return txt, _label(enc, txt, raw) + "(detected)"
    if guess is not None:
        return guess[0], _label(guess[1], guess[0], raw) + "(detected)"
    return raw.decode("cp1252", "replace"), "cp1252+replace"


def _label(enc: str, txt: str, raw: bytes) -> str:
    return enc + "+replace" if txt.count("\ufffd") > _count_fffd_bytes(raw) else enc


def html_record(raw: bytes, *, url: str | None = None, content_type: str | None = None) -> dict:
    """The record a raw page becomes before `html2text` (a file in raw/, a WARC response, a
    fetched page): ``{"url": ..., "html": text, "meta": {"encoding": codec}}``, decoded once,
    here. ``url`` is left out when unknown."""
    text, enc, replaced = decode_page(raw, content_type)
    rec: dict = {"url": url} if url is not None else {}
    rec["html"] = text
    rec["meta"] = {"encoding": enc, "replaced": replaced} if replaced else {"encoding": enc}
    return rec
