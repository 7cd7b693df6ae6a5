"""Whether ftfy would change a text at all: an exact test that costs a small part of ftfy's own.

`normalize` runs `ftfy.fix_text` with fix_encoding on and unescape_html, fix_character_width
and uncurl_quotes off. Under those settings ftfy changes a line (its segments are lines, cut at
`max_decode_length` when a line is longer) only when

1. the line holds a character one of its other fixers acts on: a C1 control character, a
   Latin ligature of its table, CR or a Unicode line or paragraph separator, a surrogate, ESC,
   or a control character it removes (read from ftfy's own tables); or
2. its mojibake heuristic, `ftfy.badness.is_bad` (a search with `BADNESS_RE`), finds a match in
   the line, or in the line's NFC form (ftfy repeats its steps until nothing changes); or
3. NFC changes the line (the caller applies NFC: ftfy's result is then the line's NFC form).

ftfy's search tries its ~40 alternatives at every position, which on text with accented
letters (French, German, Polish ...) costs about 0.4 us per character, and ftfy's own work per
line about as much again. But every alternative of `BADNESS_RE` holds a character outside ASCII
among its first `K + 1` characters (`K` = 2 in ftfy 6.x), so a match can only start at most `K`
characters before a non-ASCII character. The test tries the pattern only at those positions
(on accented Latin text, a few per accented letter), or, when they are over half the text
(Greek, Cyrillic, Vietnamese), searches the whole text once. `K` is read off the parsed
pattern when the module is first used; when the pattern holds a form this reading does not
know (ftfy changed it), the test answers "may change" for every text and ftfy runs as before.

The pattern is compiled MULTILINE, so that its `^` alternative matches at every line start, as
it does in ftfy's per-line search; the test may therefore find a match ftfy would not (at a line
start that ftfy's segmenting does not make one, or across a line break), which only sends the
text to ftfy: the answer "unchanged" is exact.
Tested against ftfy itself (tests/core/test_ftfy_gate.py).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, NamedTuple

try:  # Python 3.11+
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


class _Gate(NamedTuple):
    triggers: re.Pattern   # characters one of ftfy's other fixers acts on
    bad: re.Pattern        # BADNESS_RE, MULTILINE
    lead: int              # K: a match has a non-ASCII character within its first K + 1
    max_segment: int       # ftfy's max_decode_length


_GATE: list[_Gate | None] = []


def _guaranteed_non_ascii(op: Any, av: Any) -> bool:
    """Whether a one-character item of a parsed pattern can only match a non-ASCII character."""
    c = _sre_parse
    if op is c.LITERAL:
        return av >= 0x80
    if op is c.IN:
        for iop, iav in av:
            if iop is c.LITERAL:
                if iav < 0x80:
                    return False
            elif iop is c.RANGE:
                if iav[0] < 0x80:
                    return False
            else:  # NEGATE, CATEGORY (\s \w ...): ASCII possible
                return False
        return True
    return False


def _one_char(op: Any) -> bool:
    c = _sre_parse
    return op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY)


def _branch_lead(items: Any) -> int | None:
    """The largest offset of the first surely-non-ASCII character of one alternative, or None
    when it holds a form this reading does not know or has no such character."""
    c = _sre_parse
    offsets = {0}  # where the next item may start
    lead = None
    for op, av in items:
        if op is c.AT:
            continue  # zero width (^)
        if _one_char(op):
            if lead is None and _guaranteed_non_ascii(op, av):
                lead = max(offsets)
            offsets = {o + 1 for o in offsets}
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            lo, hi, sub = av
            if len(sub) != 1 or not _one_char(sub[0][0]) or hi > 64:
                return None
            if lead is None and lo >= 1 and _guaranteed_non_ascii(*sub[0]):
                lead = max(offsets)
            offsets = {o + k for o in offsets for k in range(lo, hi + 1)}
        else:
            return None
    return lead


def _build() -> _Gate | None:
    import ftfy
    from ftfy import badness, chardata, fixes

    pattern = badness.BADNESS_RE
    parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    if len(parsed) == 1 and parsed[0][0] is _sre_parse.BRANCH:
        branches = parsed[0][1][1]
    else:
        branches = [parsed]
    lead = 0
    for items in branches:
        bounds = _branch_lead(items)
        if bounds is None:
            return None
        lead = max(lead, bounds)
    chars = set(range(0x80, 0xA0))                               # fix_c1_controls
    chars |= set(chardata.LIGATURES)                             # fix_latin_ligatures
    chars |= {0x0D, 0x2028, 0x2029, 0x85}                        # fix_line_breaks
    chars |= set(range(0xD800, 0xE000))                          # fix_surrogates
    chars.add(0x1B)                                              # remove_terminal_escapes
    chars |= set(chardata.CONTROL_CHARS)                         # remove_control_chars
    if fixes.ANSI_RE.pattern[:1] != "\x1b":
        return None
    triggers = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(chars)) + "]")
    return _Gate(triggers, re.compile(pattern.pattern, pattern.flags | re.MULTILINE), lead,
                 ftfy.TextFixerConfig().max_decode_length)


def _gate() -> _Gate | None:
    if not _GATE:
        _GATE.append(_build())
    return _GATE[0]


def _may_be_bad(text: str, g: _Gate) -> bool:
    """Whether BADNESS_RE (MULTILINE) may match somewhere in `text` (see the module doc): tried
    at each position a match can start from; when those are a large share of the text (Greek,
    Cyrillic, text with many accents), one search over the whole text costs less."""
    lead = g.lead
    spans = [m.span() for m in _NON_ASCII_RUN.finditer(text)]
    if not spans:
        return False
    if sum(e - s for s, e in spans) + lead * len(spans) > len(text) // 2:
        return g.bad.search(text) is not None
    match = g.bad.match
    done = 0  # positions below this are tried
    for s, e in spans:
        for q in range(max(done, s - lead), e):
            if match(text, q):
                return True
        done = e
    return False


def may_change(text: str) -> bool:
    """False only when ftfy.fix_text (normalize's settings) would return NFC(text)."""
    g = _gate()
    if g is None:
        return True
    if g.triggers.search(text):
        return True
    if len(text) > g.max_segment and max(map(len, text.split("\n"))) >= g.max_segment:
        return True  # ftfy cuts such a line into segments: a segment start is a line start to it
    if text.isascii():
        return False  # no mojibake without a non-ASCII character, nothing for NFC
    if _may_be_bad(text, g):
        return True
    nfc = unicodedata.normalize("NFC", text)
    return nfc != text and _may_be_bad(nfc, g)
