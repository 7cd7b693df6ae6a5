"""Text helpers shared by the stages, right for Chinese and Japanese as well as spaced languages.

A *word* is either one CJK character (Han ideograph, hiragana or katakana, half-width katakana
included: scripts written without spaces, where one character is the usual unit of counting;
a kana's voiced-sound mark, combining or spacing, belongs to it) or a run of other letters
and digits with their combining marks (the vowel signs of ``हिन्दी``, the accent of a
decomposed ``naïve``), inner apostrophes, hyphens and dots kept (``don't``, ``e-mail``, ``3.14``).
Hangul is written with spaces, so Korean words count like English ones.
Punctuation (the katakana middle dot ・ too), symbols, emoji and spaces are never words.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

# Han (URO, ext A, compatibility, and the whole of planes 2 and 3, which Unicode sets aside
# for ideographs: ext B..J and whatever is added there next), kana (the kana blocks without
# their punctuation ゠ and ・ and the voiced-sound marks, half-width katakana, the kana
# supplements), the marks 々 〆 〇 〻 and the Katakana phonetic extensions.
CJK_RANGES = (
    "\u3005-\u3007\u303b\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d"
    "\U0001b000-\U0001b16f\U00020000-\U0003ffff"
)
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
KANA_RANGES = ("\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
               "\uff66-\uff9d\U0001b000-\U0001b16f")
HANGUL_RANGES = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
# What a token is (WORD_RE's words, one per CJK character; shingle_tokens and dedup's kernel),
# by version: stored with what is built from tokens (dedup's --index), so that an index made
# when tokens were cut otherwise is refused rather than compared with other shingles.
# 2: half-width katakana and the kana supplements are CJK characters, the whole of planes 2 and
# 3 is Han, and ・ ゠ and the kana voiced-sound marks are no token of their own.
TOKENS_VERSION = 2
# The voiced-sound marks of kana (combining, spacing and half-width): part of the kana before
# them (か + ゙ is one character, が, however it is encoded), never a word of their own.
KANA_MARKS = "\u3099-\u309c\uff9e\uff9f"


# Combining marks (Unicode categories Mn, Mc, Me) of the Basic Multilingual Plane, where every
# script in common use has its marks: Python's re has no \p{M}, so their class is read off
# unicodedata on first use (a few ms, once per process, only when a pattern that needs it is first
# compiled) and put where a pattern holds MARKS_SLOT. The blocks scanned hold every mark of the
# BMP (the rest is Han, Hangul, surrogates and private use; a test checks this against the
# running Python's tables). Marks beyond the BMP (Brahmi, Chakma, Adlam ...) are left out: re
# tries a class reaching past U+FFFF as a list of ranges, one by one (+20% on every word of
# Cyrillic text), a BMP class as one bitmap (+10%; +4% on CJK text).
MARKS_SLOT = "\x00marks\x00"
_MARK_BLOCKS = ((0x300, 0x3400), (0xA000, 0xAC00), (0xF900, 0x10000))
_MARK_CLASS: list[str] = []


def mark_class() -> str:
    """The combining marks of the BMP as the inside of a regex class ("\\u0300-\\u036f...")."""
    if not _MARK_CLASS:
        cat = unicodedata.category
        out: list[str] = []
        start = prev = -2
        for lo, hi in _MARK_BLOCKS:
            for cp in range(lo, hi):
                if cat(chr(cp))[0] != "M":
                    continue
                if cp != prev + 1:
                    if start >= 0:
                        out.append(f"{chr(start)}-{chr(prev)}")
                    start = cp
                prev = cp
        if start >= 0:
            out.append(f"{chr(start)}-{chr(prev)}")
        _MARK_CLASS.append("".join(out))
    return _MARK_CLASS[0]


class LazyPattern:
    """A regular expression compiled on first use: `re.compile` of the classes over the CJK
    ranges costs tens of milliseconds, paid at import by every process (each stage of a shell
    pipe) even when no text is ever matched. Every attribute (``findall``, ``search``,
    ``pattern`` ...) is the compiled pattern's; once looked up it is kept on the instance, so a
    call costs what it costs on the pattern itself."""

    __slots__ = ("_args", "_compiled", "__dict__")

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._compiled: re.Pattern | None = None

    def compiled(self) -> re.Pattern:
        c = self._compiled
        if c is None:
            pattern, flags = self._args
            if MARKS_SLOT in pattern:
                pattern = pattern.replace(MARKS_SLOT, mark_class())
            c = self._compiled = re.compile(pattern, flags)
        return c

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.compiled(), name)
        self.__dict__[name] = value
        return value

    def __repr__(self) -> str:
        return f"LazyPattern({self._args[0]!r})"

    def __reduce__(self) -> tuple:
        return (LazyPattern, self._args)


_CJK_CHAR = f"[{CJK_RANGES}]"
# a letter/digit that is not CJK: \w minus underscore minus the CJK ranges (and the half-width
# voiced-sound marks, which \w holds: they belong to the kana before them)
_WCHAR = f"[^\\W_{CJK_RANGES}\uff9e\uff9f]"
_WORD = f"{_WCHAR}+(?:['\u2019.\\-]{_WCHAR}+)*"
# the same with the combining marks that follow a letter kept in its word (हिन्दी is one word,
# not ह, न, द: Indic vowel signs never compose, nor does NFC reach every Latin accent)
_MARKED_RUN = f"{_WCHAR}+(?:[{MARKS_SLOT}]+{_WCHAR}*)*"
_MARKED_WORD = f"{_MARKED_RUN}(?:['\u2019.\\-]{_MARKED_RUN})*"

WORD_RE = LazyPattern(f"{_CJK_CHAR}[{KANA_MARKS}]*|{_MARKED_WORD}")
CJK_RE = LazyPattern(_CJK_CHAR)
CJK_RUN_RE = LazyPattern(f"{_CJK_CHAR}+")
SPACED_WORD_RE = LazyPattern(_WORD)
HAN_RE = LazyPattern(f"[{HAN_RANGES}]")
KANA_RE = LazyPattern(f"[{KANA_RANGES}]")
HANGUL_RE = LazyPattern(f"[{HANGUL_RANGES}]")

# Sentence ends: Western .!? (followed by space/end) and the full-width 。！？ (and ！？ variants,
# the halfwidth ideographic full stop ｡), optionally followed by closing quotes/brackets.
_CLOSE = "\"'\u201d\u2019\u300d\u300f\u3011\uff09)\\]"
# Chinese typed with the input method's half-width punctuation ("真好!我们走吧?") puts no space
# after .!?: followed directly by a CJK character, they end a sentence too ("3.11发布", "Node.js"
# are not followed by one).
SENTENCE_END_RE = LazyPattern(
    f"(?:[.!?]+[{_CLOSE}]*(?=\\s|$|[{CJK_RANGES}])|[\u3002\uff01\uff1f\uff61\u203c\u2049]+[{_CLOSE}]*)"
)
# Punctuation a sentence or line may end with, full-width included.
TERMINAL_PUNCT = frozenset(".!?\"'\u201d\u2019\u3002\uff01\uff1f\uff61\u2026\u300d\u300f\uff09)")


def is_cjk_char(ch: str) -> bool:
    return CJK_RE.match(ch) is not None


# WORD_RE spends most of its time on the CJK ranges of its classes; on a text with no CJK
# character those never match, so the pattern without them finds exactly the same words about
# twice as fast, and the ASCII form is faster again on ASCII text (tests compare with WORD_RE)
_NO_CJK_WORD_RE = LazyPattern(_MARKED_WORD.replace(_WCHAR, "[^\\W_\uff9e\uff9f]"))
_ASCII_WORD_RE = LazyPattern(_WORD.replace(_WCHAR, "[A-Za-z0-9]"))
_last_words: tuple[str | None, list[str]] = (None, [])


def words(text: str) -> list[str]:
    """The words of `text` (see the module doc): CJK characters one by one, other words whole.

    The list of the last text asked about is kept, so stages that follow one another on the same
    record (filter-short, then filter-quality) find its words once: do not modify the list."""
    global _last_words
    last = _last_words
    if last[0] is text:
        return last[1]
    if text.isascii():
        ws = _ASCII_WORD_RE.findall(text)
    elif CJK_RE.search(text) is None:
        ws = _NO_CJK_WORD_RE.findall(text)
    else:
        ws = WORD_RE.findall(text)
    _last_words = (text, ws)
    return ws


def iter_words(text: str) -> Iterator[str]:
    for m in WORD_RE.finditer(text):
        yield m.group()


# Above this many characters a text's words are counted a chunk at a time and never listed:
# the list of a 200 MB text's words takes ten times its size.
BIG_TEXT = 1 << 20
# A long text's words are listed this many characters at a time (count_words, tokenize-stats'
# word counts): the list of one piece's words is about 40 bytes a character (28 MB for a
# 1 M-character piece of mixed text, 2 MB here).
WORD_PIECE = 1 << 16
# positions no word runs across: white space, and a CJK character (always a word of its own)
_SAFE_SPLIT_RE = LazyPattern(f"[\\s{CJK_RANGES}]")


def text_chunks(text: str, size: int = BIG_TEXT) -> Iterator[tuple[int, int]]:
    """(start, end) spans of about `size` characters covering `text`, cut only where no word
    runs across (before white space or a CJK character); a text without such a place past
    `size` is one span."""
    n, pos = len(text), 0
    while pos < n:
        m = _SAFE_SPLIT_RE.search(text, pos + size) if pos + size < n else None
        end = m.start() if m is not None else n
        yield pos, end
        pos = end


def count_words(text: str) -> int:
    """Number of words, each CJK character counting as one word. A text over BIG_TEXT
    characters is counted chunk by chunk, in memory that does not grow with it."""
    if len(text) <= BIG_TEXT:
        return len(words(text))
    if text.isascii():
        pat = _ASCII_WORD_RE
    elif CJK_RE.search(text) is None:
        pat = _NO_CJK_WORD_RE
    else:
        pat = WORD_RE
    return sum(len(pat.findall(text, a, b)) for a, b in text_chunks(text, WORD_PIECE))


def count_cjk(text: str) -> int:
    return len(CJK_RE.findall(text))


def count_chars(text: str) -> int:
    """Characters that are not white space (what a reader would count)."""
    return len(text) - sum(text.count(c) for c in _WS_CHARS if c in text)


_WS_CHARS = (" ", "\n", "\t", "\r", "\u3000", "\xa0", "\u2009", "\u200a", "\u202f", "\f", "\v")


def lines(text: str) -> list[str]:
    """Non-empty lines, stripped."""
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def count_lines(text: str) -> int:
    """Non-empty lines (as `lines`). A text over BIG_TEXT characters is counted a piece at a
    time, each piece ending just after a "\n" (no line boundary is lost or made there), so
    that its lines are never listed at once."""
    if len(text) <= BIG_TEXT:
        return sum(1 for ln in text.splitlines() if ln.strip())
    n, pos, total = len(text), 0, 0
    while pos < n:
        end = text.find("\n", pos + BIG_TEXT) + 1 if pos + BIG_TEXT < n else 0
        end = end or n
        total += sum(1 for ln in text[pos:end].splitlines() if ln.strip())
        pos = end
    return total


def utf8_len(text: str) -> int:
    """len(text.encode("utf-8", "surrogatepass")), without the encoded copy of a long text
    (each code point's UTF-8 length is its own, so the text is measured a slice at a time)."""
    if text.isascii():
        return len(text)
    if len(text) <= BIG_TEXT:
        return len(text.encode("utf-8", "surrogatepass"))
    return sum(len(text[i:i + BIG_TEXT].encode("utf-8", "surrogatepass"))
               for i in range(0, len(text), BIG_TEXT))


_PARA_SPLIT_RE = LazyPattern(r"\n\s*\n")


def paragraphs(text: str) -> list[str]:
    """Blocks separated by one or more blank lines, stripped, empty ones dropped."""
    return [p.strip() for p in _PARA_SPLIT_RE.split(text) if p.strip()]


def sentences(text: str) -> list[str]:
    """Split into sentences on .!? + space (or + a CJK character: Chinese written with half-width
    punctuation) and on 。！？ (no space needed after those). Line breaks also end a sentence."""
    out: list[str] = []
    for line in text.splitlines():
        start = 0
        for m in SENTENCE_END_RE.finditer(line):
            s = line[start:m.end()].strip()
            if s:
                out.append(s)
            start = m.end()
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return out


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among the word characters (letters/digits/CJK) of `text`."""
    n_cjk = count_cjk(text)
    n_other = sum(len(w) for w in SPACED_WORD_RE.findall(text))
    total = n_cjk + n_other
    return n_cjk / total if total else 0.0


def is_cjk_text(text: str, threshold: float = 0.3) -> bool:
    """True when enough of the text is CJK that word-based rules must count characters."""
    return cjk_ratio(text) >= threshold


# Japanese is told from Chinese by its kana: at least this share of the text's kana and Han
# characters (filter-lang's script rule asks 5% of the words). Japanese prose is 40-70% kana;
# Chinese quotes the odd Japanese name or writes 的 as の ("我の朋友") without being Japanese.
KANA_SHARE_JA = 0.05


def kana_is_japanese(kana: int, han: int) -> bool:
    """True when `kana` kana characters beside `han` Han characters make Japanese text."""
    return kana > 0 and kana >= KANA_SHARE_JA * (kana + han)


def dominant_script(text: str, sample: int = 4000) -> str:
    """'han', 'kana' (Japanese: kana at least KANA_SHARE_JA of the kana and Han), 'hangul',
    'latin', 'other' or 'none', from a bounded sample of the text."""
    s = text[:sample]
    han = len(HAN_RE.findall(s))
    kana = len(KANA_RE.findall(s))
    hangul = len(HANGUL_RE.findall(s))
    letters, latin = count_letters(s)
    if not letters:
        return "none"
    if kana_is_japanese(kana, han) and kana + han >= 0.3 * letters:
        return "kana"
    if hangul >= 0.3 * letters:
        return "hangul"
    if han >= 0.3 * letters:
        return "han"
    if latin >= 0.5 * letters:
        return "latin"
    return "other"


_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_ASCII_RUN_RE = LazyPattern("[\x00-\x7f]+")


def count_letters(s: str) -> tuple[int, int]:
    """(characters with str.isalpha(), ASCII letters among them), counted in C: bytes.translate
    for the ASCII part, map(str.isalpha) over the rest only."""
    a = s.encode("ascii", "ignore") if not s.isascii() else s.encode("ascii")
    ascii_letters = len(a) - len(a.translate(None, _ASCII_LETTERS))
    if len(a) == len(s):
        return ascii_letters, ascii_letters
    rest = _ASCII_RUN_RE.sub("", s)
    return ascii_letters + sum(map(str.isalpha, rest)), ascii_letters


def is_punctuation(ch: str) -> bool:
    """Unicode punctuation (P*), full-width CJK punctuation included."""
    return unicodedata.category(ch).startswith("P")


def is_symbol(ch: str) -> bool:
    return unicodedata.category(ch).startswith("S")


def shingle_tokens(text: str) -> list[str]:
    """Tokens for near-duplicate shingling: words lower-cased, digits folded to 0, width
    folded (NFKC), punctuation dropped. CJK characters are single tokens, so a run of Chinese
    becomes character n-grams and mixed text gets both word and character n-grams.
    The text itself is not changed; this is only what shingles are made of."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return [_DIGITS_RE.sub("0", w) for w in _SHINGLE_RE.findall(folded)]


# NFKC composes a kana with its voiced-sound mark (and turns the spacing and half-width marks
# into the combining one): a mark left over is not part of a token, as in dedup's kernel
_SHINGLE_RE = LazyPattern(f"{_CJK_CHAR}|{_WORD}")


_DIGITS_RE = LazyPattern(r"\d")


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """Word n-grams; a text shorter than n gives one n-gram of everything it has."""
    if not tokens:
        return []
    if len(tokens) < n:
        return [tuple(tokens)]
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


# ---------------------------------------------------------------- line-level helpers for filters
# Closing quotes and brackets that may follow a sentence's final punctuation ("Done." / 「好。」).
LINE_CLOSERS = "\"'\u201d\u2019\u300d\u300f\u3011\uff09)]\u00bb\u300b\u3009"
# Terminal punctuation for "does this line end a sentence" (C4, FineWeb): Western .!?, the
# full-width 。！？ and the halfwidth ｡, and the Chinese ellipsis … (a normal way for Chinese prose
# to end a line). Three ASCII dots are *not* terminal: C4 treats "..." as a truncation mark.
LINE_TERMINALS = frozenset(".!?\u3002\uff01\uff1f\uff61\u2026\u203c\u2049\uff0e")


def ends_with_terminal_punct(line: str) -> bool:
    """True when the stripped line ends in terminal punctuation, possibly followed by closing
    quotes/brackets (``He left."`` and ``他说：“走吧。”`` both end a sentence); a line ending in
    ASCII "..." does not."""
    s = line.rstrip()
    if s.endswith("..."):
        return False
    s = s.rstrip(LINE_CLOSERS)
    if s.endswith("..."):
        return False
    return bool(s) and s[-1] in LINE_TERMINALS


_ELLIPSIS_RE = LazyPattern("\\.{3,}|[\u2026\u22ef]+")


def count_ellipses(text: str) -> int:
    """Ellipses in `text`, each run counted once: "...", "......", "…" and the Chinese "……"."""
    # three substring searches (C, memchr-fast) settle the common case of none
    if "..." not in text and "\u2026" not in text and "\u22ef" not in text:
        return 0
    return len(_ELLIPSIS_RE.findall(text))


def ends_with_ellipsis(line: str) -> bool:
    s = line.rstrip().rstrip(LINE_CLOSERS)
    return s.endswith(("...", "\u2026", "\u22ef"))


def count_sentences(text: str, stop_at: int = 0) -> int:
    """len(sentences(text)) without building the list; with `stop_at` > 0, stops counting
    there (enough to decide "at least N sentences" on a long document)."""
    n = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        end = 0
        for m in SENTENCE_END_RE.finditer(line):
            if line[end:m.end()].strip():
                n += 1
            end = m.end()
        if line[end:].strip():
            n += 1
        if stop_at and n >= stop_at:
            return stop_at
    return n


# Where a huge text may be cut into pieces processed one at a time: just after a white-space
# character (and, for a caller that makes every CJK character a token, between two CJK
# unified ideographs).
_CUT_SPACE_RE = LazyPattern("\\s")
_CUT_RE = LazyPattern("\\s|[\u4e00-\u9fff](?=[\u4e00-\u9fff])")


def cut_pieces(text: str, size: int, ideographs: bool = False) -> Iterator[str]:
    """`text` as consecutive pieces of at least `size` characters (the last one shorter), for a
    stage that would otherwise build a Python object per token of a huge document. Each cut
    falls just after a white-space character, so no run of non-space characters spans two
    pieces, and case folding (Greek final sigma included), NFKC (nothing composes with a
    preceding space), Traditional-to-Simplified folding (one character for one) and splitting
    on white space give, piece by piece, what they give on the whole text. `ideographs`: also
    between two CJK unified ideographs (NFKC composes neither; right for a caller that makes
    every CJK character a token of its own, not for one splitting on white space). A text with
    no such point past `size` is one piece."""
    cut = _CUT_RE if ideographs else _CUT_SPACE_RE
    start, n = 0, len(text)
    while n - start > size:
        m = cut.search(text, start + size)
        if m is None:
            break
        yield text[start:m.start() + 1]
        start = m.start() + 1
    yield text[start:]


def line_parts(text: str, chars: int) -> Iterator[str]:
    """`text` in slices of whole lines of about `chars` characters, each cut at a line break
    that no slice holds: "\\n".join(the slices) == text."""
    a, n = 0, len(text)
    while a + chars < n:
        b = text.find("\n", a + chars)
        if b < 0:
            break
        yield text[a:b]
        a = b + 1
    yield text[a:]
