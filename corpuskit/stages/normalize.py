"""normalize: repair and tidy text without changing what it says.

Steps, in order, each an option (defaults below):
0. ``fix_cjk_mojibake``: Chinese text decoded with the wrong codec (GBK/GB18030, Big5 or UTF-8
   bytes read as Latin-1/cp1252, UTF-8 bytes read as GBK, and their double forms) is decoded
   again when the result is clearly Chinese by the character-frequency model
   (corpuskit.core.mojibake); a record whose garbled text lost bytes is rejected
   (``unrecoverable_mojibake``) rather than kept as garbage.
1. ``fix_unicode``: ftfy repairs mojibake (UTF-8 read as Latin-1/cp1252/GBK...), broken
   surrogates, terminal escapes, ligatures and line breaks. Settings chosen for CJK text:
   ftfy's ``fix_character_width`` is off (it rewrites the full-width punctuation Chinese uses,
   ，：；), ``uncurl_quotes`` is off (“” are the quotes Chinese uses), and Unicode
   normalisation is NFC (NFKC would turn …… into ......, ， into , and ㎡ into m2).
2. ``fold_width``: full-width ASCII letters and digits (ＡＢＣ１２３) and the ideographic
   space become their plain forms, and so do ． between two of them and ，： between two
   digits (３．１４ -> 3.14, ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ -> www.example.com, １２：３０ -> 12:30);
   half-width katakana and its punctuation (｡｢｣､･) become full-width. CJK punctuation
   （，。！？：；「」） stays. ``fold_width_symbols`` also folds full-width symbols that are
   not Chinese punctuation (＃＄％＆＊＋－／＜＝＞＠＼＾＿｜～).
3. ``remove_invisible``: control characters (except newline and tab), zero-width space,
   word joiner, BOM, soft hyphen. ZWJ/ZWNJ stay (emoji sequences, Persian and Indic scripts).
4. ``strip_markup``: HTML entities (``&nbsp;`` ``&#39;`` ``&amp;lt;``) decoded, leftover HTML
   tags removed (``<br/>`` and block tags become line breaks; only real HTML element names are
   touched, so ``a < b`` and ``List<T>`` survive), and a text that is itself a JSON string,
   or a JSON object/array wrapped around the text, is unwrapped.
5. ``fix_whitespace``: runs of spaces (any Unicode space) become one, lines are trimmed, at
   most one blank line between paragraphs, no leading/trailing blank lines.
6. ``chinese``: ``t2s`` converts Traditional Chinese (Taiwan and Hong Kong forms included) to
   Simplified, ``s2t`` the reverse, with OpenCC's phrase-aware conversion (the ``opencc`` wheel,
   offline), on the lines holding a character only the source script uses, so that converting
   again changes nothing more; Japanese and Korean text and lines are left alone
   (corpuskit.core.zhscript). Default ``none``.
7. Optional, off by default: ``lowercase`` (affects cased scripts only), ``remove_emoji``,
   ``remove_urls`` (URLs and e-mail addresses).

normalize(normalize(x)) == normalize(x) (tested with hypothesis on Chinese, Japanese,
Arabic and emoji text).
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import orjson

from corpuskit.core import ftfy_gate, mojibake, zhscript
from corpuskit.core.stage import RecordStage, Rejection, opt
from corpuskit.core.text import CJK_RANGES, HANGUL_RANGES

# ---------------------------------------------------------------- width folding
_WIDTH_LETTERS = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                           *range(0xFF41, 0xFF5B))}
_WIDTH_LETTERS[0x3000] = 0x20  # ideographic space
_WIDTH_SYMBOLS = {ord(c): ord(c) - 0xFEE0 for c in "＃＄％＆＊＋－／＜＝＞＠＼＾＿｜～"}
# half-width katakana and the half-width punctuation that goes with it (｡｢｣､･): the whole
# half-width katakana block, so that ｢ｶﾀｶﾅ･ﾃｽﾄ｣ becomes 「カタカナ・テスト」, not ｢カタカナ･テスト｣
_HALFWIDTH_KATAKANA_RE = re.compile("[\uff61-\uff9f]+")
# a class without "+" is scanned by re's fast charset loop (16x faster on text without any)
_HALFWIDTH_KATAKANA_ANY = re.compile("[\uff61-\uff9f]")
_WIDTH_LETTERS_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
_WIDTH_SYMBOLS_RE = re.compile("[" + "".join(map(chr, _WIDTH_SYMBOLS)) + "]")
# str.translate with a dict looks every character of the text up (12 MB/s on Chinese news);
# translating only the runs that need it is 3x faster on text that holds a few
_WIDTH_LETTERS_RUN = re.compile(_WIDTH_LETTERS_RE.pattern + "+")
_WIDTH_SYMBOLS_RUN = re.compile(_WIDTH_SYMBOLS_RE.pattern + "+")


# Full-width separators between full-width letters and digits go with them: the dot of a
# decimal, a domain or a version (３．１４, ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ, Ｖ２．０), the comma and
# colon of a number or a time (１，２３４, １２：３０); folding the letters alone gave 3．14 and
# www．example．com. Elsewhere ．，： are Chinese punctuation and stay (so does the separator of
# ASCII digits a text wrote as 3．14 itself). Only text with full-width letters is searched.
_FW_ALNUM = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_WIDE_SEP_RE = re.compile(f"[\uff0c\uff0e\uff1a](?:(?<=[{_FW_ALNUM}]\uff0e)(?=[{_FW_ALNUM}])"
                          "|(?<=[\uff10-\uff19][\uff0c\uff1a])(?=[\uff10-\uff19]))")
_WIDE_SEPS = {0xFF0E: ".", 0xFF0C: ",", 0xFF1A: ":"}


def _letters_run(m: re.Match) -> str:
    return m.group().translate(_WIDTH_LETTERS)


def _symbols_run(m: re.Match) -> str:
    return m.group().translate(_WIDTH_SYMBOLS)

# Text made only of these characters cannot hold anything ftfy would change except NFC:
# printable ASCII, CJK, Hangul, full-width forms and common typographic punctuation. Every
# mojibake ftfy can repair contains a character outside this set (the continuation bytes of
# UTF-8 decode to Latin-1/cp1252/MacRoman/cp437/Cyrillic letters and symbols), so such text
# skips ftfy's per-line work. Tested against ftfy itself in tests/test_normalize.py.
_FTFY_SAFE_BASE = ("\t\n\x20-\x7e\u2010-\u2014\u2018\u2019\u201c\u201d\u2026\u3000-\u303f"
                   "\u3040-\u30ff\u3400-\u4dbf")
_FTFY_SAFE_TAIL = "\uac00-\ud7af\uff01-\uff5e"
# Also safe: symbols Chinese text is full of (the middle dot of 卡尔·马克思, ∶, ℃, ‰, Roman
# numerals, circled and bracketed numbers, geometric shapes ●○▲△). None of them is a character
# of a UTF-8 lead byte in an encoding whose continuation bytes could be safe characters
# (latin-1, the windows-125x, iso-8859-2; where one is a lead byte, in MacRoman, no continuation
# byte is safe), so mojibake still holds an unsafe character. Tested against ftfy itself.
_FTFY_SAFE_SYMBOLS = "\xb7\u2030\u2103\u2160-\u217f\u2236\u2460-\u24ff\u25a0-\u25ff"
_FTFY_SAFE = _FTFY_SAFE_BASE + _FTFY_SAFE_SYMBOLS + "\u4e00-\u9fff" + _FTFY_SAFE_TAIL
_FTFY_NEEDED_RE = re.compile(f"[^{_FTFY_SAFE}]")

# Text made only of these characters, with tidy white space, is left as it is by every default
# step: the ftfy-safe set minus what markup, invisible-character and width folding act on
# (< & tab, the ideographic space, full-width letters/digits and the folded symbols).
# The ideographs that begin UTF-8-read-as-GBK mojibake (mojibake.GBK_MARKS, rare in real
# text) are left out, so text holding one takes the full path and its mojibake check.


def _ranges_without(lo: int, hi: int, holes: str) -> str:
    out, start = [], lo
    for h in sorted({ord(c) for c in holes if lo <= ord(c) <= hi}):
        if h > start:
            out.append(f"{chr(start)}-{chr(h - 1)}")
        start = h + 1
    if start <= hi:
        out.append(f"{chr(start)}-{chr(hi)}")
    return "".join(out)


_CLEAN = ("\n\x20-\x25\x27-\x3b\x3d-\x7e\u2010-\u2014\u2018\u2019\u201c\u201d\u2026"
          "\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf" + _ranges_without(0x4E00, 0x9FFF, mojibake.GBK_MARKS)
          + "\uac00-\ud7af"
          "\uff01\uff02\uff07-\uff09\uff0c\uff0e\uff1a\uff1b\uff1f\uff3b\uff3d\uff40"
          "\uff5b\uff5d"
          # the ftfy-safe symbols of Chinese text but the middle dot (a Latin-1 character: the
          # mojibake check looks at it)
          "\u2030\u2103\u2160-\u217f\u2236\u2460-\u24ff\u25a0-\u25ff")
_NEEDS_WORK_RE = re.compile(f"[^{_CLEAN}]")
# Text without any of these has nothing for ftfy nor for the CJK mojibake repair to look at (that
# repair starts from a Latin-1/cp1252 character or an ideograph of mojibake.GBK_MARKS): one scan
# answers for both, so the repair costs clean text nothing more than ftfy's check does. The
# middle dot of Chinese names (卡尔·马克思) is left out: garbled text is never that alone, a
# Latin-1 character of mojibake comes with other Latin-1 letters (as mojibake.might_be_mojibake
# asks: two side by side).
_SUSPECT_RE = re.compile(f"[^{_FTFY_SAFE_BASE}\xb7\u2030\u2103\u2160-\u217f\u2236\u2460-\u24ff"
                         f"\u25a0-\u25ff{_ranges_without(0x4E00, 0x9FFF, mojibake.GBK_MARKS)}"
                         f"{_FTFY_SAFE_TAIL}]")


def is_clean(text: str) -> bool:
    """True when the default steps would leave `text` unchanged (checked with fast C-level
    scans: most real text takes this path and skips the per-step work)."""
    if text.isascii():
        if "<" in text or "&" in text or not text.replace("\n", " ").isprintable():
            return False
    elif _NEEDS_WORK_RE.search(text):
        return False
    if "  " in text or " \n" in text or "\n " in text or "\n\n\n" in text:
        return False
    if len(text) >= 2 and text[0] in "{[\"" and text[-1] in "}]\"":  # maybe a JSON wrapper
        return False
    return text == text.strip(" \n")

# ---------------------------------------------------------------- invisible characters
_INVISIBLE = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                               *range(0x80, 0xA0), 0x00AD, 0x180E, 0x200B, 0x2060, 0xFEFF,
                               0x2061, 0x2062, 0x2063, 0x2064, 0xFFF9, 0xFFFA, 0xFFFB)]
_INVISIBLE_RE = re.compile("[" + re.escape("".join(_INVISIBLE)) + "]")  # no "+": the fast scan
_INVISIBLE_RUN = re.compile("[" + re.escape("".join(_INVISIBLE)) + "]+")  # removed by runs

# ---------------------------------------------------------------- markup
_BLOCK_TAGS = ("address article aside blockquote body br dd div dl dt fieldset figcaption figure "
               "footer form h1 h2 h3 h4 h5 h6 head header hr html li main nav ol p pre section "
               "table tbody td tfoot th thead title tr ul").split()
_INLINE_TAGS = ("a abbr b bdi bdo big button caption center cite code col colgroup data del dfn "
                "em font i iframe img input ins kbd label legend link mark meta noscript object "
                "option picture q rp rt ruby s samp script select small source span strike "
                "strong style sub summary sup svg template textarea time tt u var video wbr").split()
_TAG = r"</?(?:{})(?:\s(?:[^<>\"']|\"[^\"]*\"|'[^']*')*)?/?>"
_BLOCK_TAG_RE = re.compile(_TAG.format("|".join(_BLOCK_TAGS)), re.I)
_INLINE_TAG_RE = re.compile(_TAG.format("|".join(_INLINE_TAGS)), re.I)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# keys under which JSON wrappers usually hold the text
_JSON_TEXT_KEYS = ("text", "content", "body", "article", "articleBody", "description", "value")

# ---------------------------------------------------------------- whitespace
# every Unicode space separator except the newline family, plus tab
_ODD_SPACES_RE = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN_RE = re.compile(r"  +")
_LINE_EDGE_RE = re.compile(r" ?\n ?")
_LINEBREAK_RE = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
_LINEBREAK_ANY = re.compile(r"[\r\u2028\u2029\x85\x0b\x0c]")
_BLANKS_RE = re.compile(r"\n\n\n+")

# ---------------------------------------------------------------- optional removals
# A URL ends at white space, CJK punctuation or a CJK or Hangul character: Chinese and Japanese
# run on without a space after a link ("访问https://example.com了解更多"), Korean glues its
# particles to it ("example.com에서"); an e-mail's local part is ASCII, so the Chinese before it
# ("邮箱是zhang@example.com") is not taken for part of the address.
_URL_RE = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"
    + CJK_RANGES + HANGUL_RANGES + r"]+"
    r"|(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.I)
_EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\u2B00-\u2BFF"
    "\u2300-\u23FF\uFE0E\uFE0F\u200D\U000E0020-\U000E007F\u20E3\U0001F1E6-\U0001F1FF]+")


def _fold_width(text: str, symbols: bool) -> str:
    if _WIDTH_LETTERS_RE.search(text):
        text = _WIDE_SEP_RE.sub(lambda m: _WIDE_SEPS[ord(m.group())], text)
        text = _WIDTH_LETTERS_RUN.sub(_letters_run, text)
    if symbols and _WIDTH_SYMBOLS_RE.search(text):
        text = _WIDTH_SYMBOLS_RUN.sub(_symbols_run, text)
    if _HALFWIDTH_KATAKANA_ANY.search(text):
        text = _HALFWIDTH_KATAKANA_RE.sub(
            lambda m: unicodedata.normalize("NFC", unicodedata.normalize("NFKC", m.group())), text)
    return text


def _unwrap_json(text: str) -> str:
    s = text.strip()
    if len(s) < 2 or s[0] not in "{[\"" or s[-1] not in "}]\"":
        return text
    try:
        v = orjson.loads(s)
    except orjson.JSONDecodeError:
        return text
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        for k in _JSON_TEXT_KEYS:
            if isinstance(v.get(k), str):
                return v[k]
        return text
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return "\n".join(v)
    return text


def _strip_markup_once(text: str) -> str:
    if "&" in text:
        text = _ENTITY_RE.sub(lambda m: html.unescape(m.group()), text)
    if "<" in text:
        text = _COMMENT_RE.sub("", text)
        text = _BLOCK_TAG_RE.sub("\n", text)
        text = _INLINE_TAG_RE.sub("", text)
    return _unwrap_json(text)


def _strip_markup(text: str) -> str:
    # repeat to a fixed point: decoding "&amp;lt;b&amp;gt;" reveals a tag only on the next round
    for _ in range(8):
        new = _strip_markup_once(text)
        if new == text:
            break
        text = new
    return text


def _fix_whitespace(text: str) -> str:
    # each substitution runs only where it has work, so clean text costs a few C-level scans
    if _LINEBREAK_ANY.search(text):
        text = _LINEBREAK_RE.sub("\n", text)
    if _ODD_SPACES_RE.search(text):
        text = _ODD_SPACES_RE.sub(" ", text)
    if "  " in text:
        text = _SPACE_RUN_RE.sub(" ", text)
    if " \n" in text or "\n " in text:
        text = _LINE_EDGE_RE.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANKS_RE.sub("\n\n", text)
    return text.strip(" \n")


class _LostBytes(Exception):
    """Mojibake whose bytes were partly lost: `process` rejects the record."""


_FTFY_CONFIGS: dict = {}


def _ftfy_config():
    cfg = _FTFY_CONFIGS.get("cjk")
    if cfg is None:
        import ftfy

        cfg = ftfy.TextFixerConfig(fix_character_width=False, uncurl_quotes=False,
                                   normalization="NFC", unescape_html=False, explain=False)
        _FTFY_CONFIGS["cjk"] = cfg
    return cfg


def _ftfy_lines(text: str) -> str:
    """ftfy.fix_text on the lines that need it, the others as they are: the same result as
    ftfy.fix_text on the whole text (ftfy fixes each line on its own, with no state carried
    between lines under our settings; tested), several times faster on long documents where a
    few lines hold a character outside the ftfy-safe set. Text (or a line) that ftfy would leave
    as its NFC form (core.ftfy_gate: accented Latin, Greek, Cyrillic text without mojibake) skips
    ftfy altogether. Lines are split at "\n" only, as
    ftfy does. The caller applies NFC to the result (ftfy's NFC on the untouched lines)."""
    import ftfy

    if not ftfy_gate.may_change(text):  # ftfy would give NFC(text): the caller applies NFC
        return text
    cfg = _ftfy_config()
    segs = text.split("\n")
    if len(segs) < 3:
        return ftfy.fix_text(text, cfg)
    last = len(segs) - 1
    search = _FTFY_NEEDED_RE.search
    may_change = ftfy_gate.may_change
    out = []
    for i, seg in enumerate(segs):
        if i != last:
            seg += "\n"
        if search(seg) and may_change(seg):
            seg = ftfy.fix_text(seg, cfg)
        out.append(seg)
    return "".join(out)


@dataclass
class Normalize(RecordStage):
    name: ClassVar[str] = "normalize"
    summary: ClassVar[str] = ("Repair mojibake and broken Unicode, fold full-width letters, remove "
                              "invisible characters and markup residue, tidy white space.")
    reasons: ClassVar[dict[str, str]] = {
        "empty_after_normalize": "nothing but white space, markup or invisible characters was left",
        "unrecoverable_mojibake": "Chinese text decoded with the wrong codec that lost bytes on the "
                                  "way (detail: the path, e.g. utf-8->gbk)",
    }

    fix_cjk_mojibake: bool = opt(True, "Re-decode Chinese text decoded with the wrong codec (GBK/Big5/"
                                       "UTF-8 read as Latin-1 or cp1252, UTF-8 read as GBK); reject "
                                       "it when bytes were lost (unrecoverable_mojibake).")
    fix_unicode: bool = opt(True, "Repair mojibake and broken Unicode with ftfy (CJK-safe settings).")
    fold_width: bool = opt(True, "Full-width ASCII letters/digits and the ideographic space to "
                                 "plain forms (with the ．，： of ３．１４, １，２３４, １２：３０); half-width "
                                 "katakana to full-width. CJK punctuation stays.")
    fold_width_symbols: bool = opt(True, "Also fold full-width symbols that are not Chinese "
                                         "punctuation (＃＄％＆＊＋－／＜＝＞＠＼＾＿｜～).")
    remove_invisible: bool = opt(True, "Remove control, zero-width and BOM characters.")
    strip_markup: bool = opt(True, "Decode HTML entities, remove leftover HTML tags and JSON wrappers.")
    fix_whitespace: bool = opt(True, "Collapse spaces, trim lines, at most one blank line between paragraphs.")
    chinese: str = opt("none", "Convert Chinese script with OpenCC: t2s (Traditional, Taiwan and Hong "
                               "Kong forms to Simplified) | s2t (Simplified to Traditional) | none.")
    lowercase: bool = opt(False, "Lower-case the text (cased scripts only; Chinese is unaffected).")
    remove_emoji: bool = opt(False, "Remove emoji and pictographs.")
    remove_urls: bool = opt(False, "Remove URLs and e-mail addresses.")
    drop_empty: bool = opt(True, "Reject records whose text is empty after normalizing "
                                 "(reason empty_after_normalize).")

    def __post_init__(self) -> None:
        if self.chinese not in zhscript.DIRECTIONS:
            raise ValueError(f"--chinese must be one of {', '.join(zhscript.DIRECTIONS)}, not {self.chinese!r}")
        self.counts: Counter = Counter()  # repairs, reported in the stage's extra.counts
        self._defaults_only = (self.fix_unicode and self.strip_markup and self.remove_invisible
                               and self.fold_width and self.fold_width_symbols and self.fix_whitespace
                               and not (self.lowercase or self.remove_emoji or self.remove_urls))
        # one scan tells whether the mojibake repair or ftfy has anything to look at
        self._suspect = (_SUSPECT_RE if self.fix_cjk_mojibake
                         else _FTFY_NEEDED_RE if self.fix_unicode else None)

    def _one_round(self, text: str, reject_lost: bool) -> str:
        scan = self._suspect
        if scan is not None and scan.search(text):
            if self.fix_cjk_mojibake and mojibake.might_be_mojibake(text):
                r = mojibake.repair(text, checked=True)
                if r.lost and reject_lost:
                    raise _LostBytes(r.lost)
                if r.repaired:
                    self.counts["cjk_mojibake_repaired"] += r.repaired
                    text = r.text
            if self.fix_unicode and _FTFY_NEEDED_RE.search(text):
                text = _ftfy_lines(text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if self.strip_markup:
            text = _strip_markup(text)
        if self.remove_invisible and _INVISIBLE_RE.search(text):
            text = _INVISIBLE_RUN.sub("", text)
        if self.fold_width:
            text = _fold_width(text, self.fold_width_symbols)
        if self.remove_urls:
            text = _URL_RE.sub("", text)
        if self.remove_emoji:
            text = _EMOJI_RE.sub("", text)
        if self.lowercase:
            text = text.lower()
        if self.fix_whitespace:
            text = _fix_whitespace(text)
        return text

    def normalize_text(self, text: str, reject_lost: bool = False) -> str:
        """The normalized text. With `reject_lost`, mojibake whose bytes were lost raises
        _LostBytes (`process` rejects the record); without, it is left as it is."""
        if self._defaults_only and is_clean(text):
            return zhscript.convert(text, self.chinese) if self.chinese != "none" else text
        # The steps feed each other: decoding "&#128;", dropping a zero-width space or trimming a
        # no-break space can reveal mojibake, and repairing mojibake can reveal an entity. So they
        # run to a fixed point (clean text takes one round of fast checks), which makes normalize
        # idempotent.
        for _ in range(6):
            before = text
            text = self._one_round(text, reject_lost)
            if text == before or (self._defaults_only and is_clean(text)):
                break  # (text is_clean leaves unchanged needs no round to show it)
        # script conversion last: its output (ideographs) is something no step above changes
        return zhscript.convert(text, self.chinese) if self.chinese != "none" else text

    def process(self, record: dict) -> dict | Rejection:
        try:
            text = self.normalize_text(self.get_text(record), reject_lost=True)
        except _LostBytes as e:
            return Rejection("unrecoverable_mojibake", str(e))
        if self.drop_empty and not text.strip():
            return Rejection("empty_after_normalize", "")
        record[self.text_field] = text
        return record
