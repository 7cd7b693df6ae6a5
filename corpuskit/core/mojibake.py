"""Chinese mojibake: CJK text decoded with the wrong codec, found and re-decoded.

Paths handled (and their double forms, by repeating the repair):

* GBK/GB18030, Big5 or UTF-8 bytes read as Latin-1 or cp1252 (``ÄãºÃ£¬ÊÀ½ç`` for 你好，世界,
  ``ÁcÅé¤¤¤å`` for 繁體中文): runs of Latin-1/cp1252 characters are turned back into their
  bytes and decoded as GB18030, Big5-HKSCS and UTF-8;
* UTF-8 bytes read as GBK (``浣犲ソ锛屼笘鐣屻`` for 你好，世界): runs of the line are encoded
  as GB18030 and decoded as UTF-8.

A candidate replaces the run only when it is clearly Chinese (see `plausible`): at least two
CJK ideographs, no two Latin-1 characters side by side left, few other symbols, no replacement
character, and
ideographs whose mean cost under the character-frequency model (corpuskit.core.charfreq) is
that of real Chinese text; on the UTF-8-read-as-GBK path the candidate must also be much
cheaper than the garbled run. Text that is not mojibake (Chinese, Japanese, Korean, French,
German ...) either fails to decode strictly or decodes to rare characters and is left alone.

When the bytes cannot all be recovered (replacement characters in the garbled run, or a byte
missing) but the run decodes with replacements to plausible Chinese, `repair` reports it as
lost instead of keeping garbage.
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

from corpuskit.core.charfreq import cost_profile

# cp1252's characters for the bytes 0x80-0x9F (the five undefined bytes read as Latin-1 C1
# controls, which stay in the Latin-1 range)
_CP1252_HIGH = {bytes([b]).decode("cp1252"): b for b in range(0x80, 0xA0)
                if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_TO_LATIN1 = {ord(c): b for c, b in _CP1252_HIGH.items()}
_HIGH = "\x80-\xff" + "".join(_CP1252_HIGH) + "\ufffd"
# a run of Latin-1/cp1252 text (no line break) holding at least one character above ASCII
_LATIN_RUN_RE = re.compile(f"[\x20-\x7e{_HIGH}]*[{_HIGH}][\x20-\x7e{_HIGH}]*")
# Where to look at all: two neighbours of which one is a Latin-1 letter or symbol (every GBK,
# GB2312 or Big5 character read as Latin-1/cp1252 gives one, mostly two), or a C1 control.
# A lone é, or the “”…— that Chinese text uses (cp1252 has them too), is not enough.
# (written to start with one character class, which re scans fast)
_LATIN_ANY_RE = re.compile(f"[{_HIGH}](?:(?<=[\x80-\x9f])|(?<=[\xa0-\xff])[{_HIGH}]|[\xa0-\xff])")
_LATIN1_ANY_RE = re.compile("[\x80-\xff]")  # one character class: re's fast scan
# what a good re-decoding must not hold: Latin-1 characters side by side (mojibake left over)
_LATIN_LEFT_RE = re.compile("[\x80-\xff]{2}")

# The first two UTF-8 bytes of the most common Chinese characters and punctuation, read as
# GBK: text holding two of them is worth checking for UTF-8-read-as-GBK (they are rare in
# real text: 3 of the 307 development reference texts hold one).
_COMMON = ("的一是不了人我在有他这中大来上个国和也子时道出而要于就下得可你年生自会那后能对着事其里"
           "所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又"
           "定见只主没公从已知全明们把向外，。、：；！？“”（）《》…—")


def _marks() -> str:
    out = set()
    for ch in _COMMON:
        try:
            out.add(ch.encode("utf-8")[:2].decode("gbk"))
        except UnicodeDecodeError:
            pass
    return "".join(sorted(out))


GBK_MARKS = _marks()
_GBK_MARK_RE = re.compile(f"[{GBK_MARKS}]")
# a run of the line that may be UTF-8 read as GBK: anything but white space (GBK trail bytes
# include ASCII letters and punctuation, so ASCII next to the run may belong to it)
_GBK_RUN_RE = re.compile(r"[^\s]+(?:[ \t]+[^\s]+)*")

# Real Chinese text: the mean cost of its ideographs under the model is 5.7 to 8.8 for 99% of
# the lines of the development reference texts (median 7.0); UTF-8 read as GBK gives 9.7 and
# more (median 11.6). Short runs vary more, so they get a stricter bound.
MAX_MEAN_COST = 9.0
MAX_MEAN_COST_SHORT = 8.5  # fewer than 6 ideographs
MIN_GAIN_GBK = 2.0  # garbled run's mean cost minus the candidate's, UTF-8-read-as-GBK path

# big5 before big5hkscs: the two map a few codes differently (① is C7E9 in one, ロ in the other)
_LATIN_CODECS = ("gb18030", "big5", "big5hkscs", "utf-8")


class Repair(NamedTuple):
    text: str
    repaired: int  # runs re-decoded
    lost: str      # "" or the path whose bytes could not all be recovered ("gbk->latin-1" ...)


def plausible(cand: str, garbled_mean: float | None = None, allow_replacement: bool = False) -> bool:
    """True when `cand` is clearly Chinese text (see the module doc)."""
    p = cost_profile(cand)
    if p.ideographs < 2:
        # a run of full-width forms (ＡＢＣ１２３, the tables of Chinese newspapers) is as clear
        return (p.cjk_punct >= 4 and not (p.other or p.kana_hangul or p.replacement)
                and not _LATIN_LEFT_RE.search(cand))
    # real Chinese holds a few other symbols, and GBK/Big5 have some Latin-1 ones (× ° §)
    if p.other > max(2, 0.3 * p.ideographs) or _LATIN_LEFT_RE.search(cand):
        return False
    if p.replacement and not (allow_replacement and p.replacement <= max(2, p.ideographs // 2)):
        return False
    limit = MAX_MEAN_COST if p.ideographs >= 6 else MAX_MEAN_COST_SHORT
    if p.mean_cost > limit:
        return False
    if garbled_mean is not None and garbled_mean - p.mean_cost < MIN_GAIN_GBK:
        return False
    return True


def might_be_mojibake(text: str) -> bool:
    """A fast test (C-level scans): could `text` hold CJK mojibake at all?"""
    if text.isascii():  # no scan: a str knows whether it is all ASCII
        return False
    m = _LATIN1_ANY_RE.search(text)
    if m is not None and _LATIN_ANY_RE.search(text, max(0, m.start() - 1)):  # a match holds one
        return True
    m = _GBK_MARK_RE.search(text)
    return m is not None and _GBK_MARK_RE.search(text, m.end()) is not None


def _latin_bytes(s: str) -> bytes | None:
    try:
        return s.translate(_TO_LATIN1).encode("latin-1")
    except UnicodeEncodeError:
        return None


def _fix_latin_piece(piece: str, depth: int = 0) -> tuple[str | None, str]:
    """(repaired text or None, lost path or "") for one run of Latin-1/cp1252 characters.
    A UTF-8 decoding that is itself mojibake (the double forms: GBK read as Latin-1 or UTF-8
    read as GBK, then saved as UTF-8 and read as Latin-1 again) is repaired one more level."""
    if sum(1 for c in piece if c >= "\x80") < 2:
        return None, ""
    lossy = "\ufffd" in piece
    raw = _latin_bytes(piece.replace("\ufffd", "?") if lossy else piece)
    if raw is None:
        return None, ""
    for codec in _LATIN_CODECS:
        if not lossy:
            try:
                cand = raw.decode(codec)
            except UnicodeDecodeError:
                cand = None
            if cand is not None and plausible(cand):
                return cand, ""
            if cand is not None and codec == "utf-8" and depth == 0:
                inner, _ = _fix_latin_piece(cand, 1)
                if inner is None:
                    inner, _ = _fix_gbk_piece(cand)
                if inner is not None:
                    return inner, ""
    for codec in _LATIN_CODECS:
        cand = raw.decode(codec, "replace")
        if plausible(cand, allow_replacement=True):
            return None, f"{codec}->latin-1"
    return None, ""


@functools.lru_cache(maxsize=1 << 14)
def _fix_word(piece: str) -> tuple[str | None, str]:
    """_fix_latin_piece of one space-separated piece of a run (up to 64 characters), remembered:
    the words of a language written with Latin-1 letters side by side (German gemäß, größer,
    Füße) recur, and each costs up to eight decodings and character profiles."""
    return _fix_latin_piece(piece)


def _fix_latin(line: str) -> tuple[str, int, str]:
    n = 0
    lost = ""

    def sub(m: re.Match) -> str:
        nonlocal n, lost
        run = m.group()
        fixed, why = _fix_latin_piece(run)
        if fixed is not None:
            n += 1
            return fixed
        # a run may hold real Latin text and mojibake side by side: try its space-separated
        # pieces (a GBK or Big5 character never holds a space byte)
        if " " in run.strip(" "):
            parts = run.split(" ")
            out = []
            for part in parts:
                f, w = _fix_word(part) if len(part) <= 64 else _fix_latin_piece(part)
                if f is not None:
                    n += 1
                    out.append(f)
                else:
                    out.append(part)
                    why = why or w
            if why:
                lost = lost or why
            return " ".join(out)
        if why:
            lost = lost or why
        return run

    return _LATIN_RUN_RE.sub(sub, line), n, lost


def _fix_gbk_piece(piece: str) -> tuple[str | None, str]:
    if not _GBK_MARK_RE.search(piece):
        return None, ""
    # the C-level decodings first: real Chinese that merely holds two marks is not UTF-8 as
    # GB18030 bytes, and decodes to mostly replacement characters, which `plausible` refuses
    # (more than half of the ideographs, so more than half of the characters): such a piece
    # is left without the character-by-character profile of the garbled run
    garbled = None
    lossy = "\ufffd" in piece
    raw = piece.replace("\ufffd", "").encode("gb18030") if lossy else piece.encode("gb18030")
    if not lossy:
        try:
            cand = raw.decode("utf-8")
        except UnicodeDecodeError:
            cand = None
        if cand is not None:
            garbled = cost_profile(piece)
            if garbled.ideographs < 2:
                return None, ""
            if plausible(cand, garbled.mean_cost):
                return cand, ""
    cand = raw.decode("utf-8", "replace")
    if cand.count("\ufffd") > max(2, len(cand) // 2):
        return None, ""
    if garbled is None:
        garbled = cost_profile(piece)
    if garbled.ideographs < 2:
        return None, ""
    if plausible(cand, garbled.mean_cost, allow_replacement=True):
        return None, "utf-8->gbk"
    return None, ""


def _fix_gbk(line: str) -> tuple[str, int, str]:
    if len(_GBK_MARK_RE.findall(line)) < 2:
        return line, 0, ""
    n = 0
    lost = ""

    def sub(m: re.Match) -> str:
        nonlocal n, lost
        run = m.group()
        fixed, why = _fix_gbk_piece(run)
        if fixed is not None:
            n += 1
            return fixed
        if why:
            lost = lost or why
        return run

    return _GBK_RUN_RE.sub(sub, line), n, lost


def repair(text: str, checked: bool = False) -> Repair:
    """Re-decode the CJK mojibake in `text`, line by line (one pass; the caller repeats it to
    undo double forms). `checked`: the caller has just seen might_be_mojibake(text) true."""
    if not checked and not might_be_mojibake(text):
        return Repair(text, 0, "")
    out = []
    total = 0
    lost = ""
    for line in text.split("\n"):
        if _LATIN_ANY_RE.search(line):
            line, n, why = _fix_latin(line)
            total += n
            lost = lost or why
        if _GBK_MARK_RE.search(line):
            line, n, why = _fix_gbk(line)
            total += n
            lost = lost or why
        out.append(line)
    return Repair("\n".join(out) if total else text, total, lost)
