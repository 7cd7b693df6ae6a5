"""redact-pii: find personal data (e-mail addresses, phone numbers, mainland resident ID
numbers, bank card numbers, IP addresses) and replace each with a typed placeholder.

Rules (each kind is a regular expression, then a check in Python on the few matches):

* Full-width digits, letters and signs (``１３８１２３４５６７８``, ``１１０１０５１９４９１２３１００２Ｘ``,
  ``ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ``) are read as their ASCII forms; full-width ，：；。 are not.
* Boundaries are ASCII letters and digits, not ``\\w``: in ``电话13812345678转`` the Chinese
  characters around the number are not part of it, while ``A13812345678`` (a number glued to
  letters: order and tracking numbers, serials) is not a phone number. A number directly after
  or before ``digit.`` / ``.digit`` (a decimal) is not matched either.
* ``EMAIL``: ``local@domain.tld``, the top-level domain made of 2+ letters.
* ``ID_NUMBER``: 18 digits (the last may be X) with a valid province code, a real date of birth
  (1900 to today's century) and the ISO 7064 MOD 11-2 check digit (GB 11643-1999); 15 digits
  (the pre-1999 form, no check digit) with a valid province code and date.
* ``BANK_CARD``: 15 to 19 digits, whole or in groups of 4 (the last one the rest, so 4-4-4-4-3
  too) separated by one space or hyphen, starting
  with a card network's digit (3 American Express/JCB, 4 Visa, 5 Mastercard, 6 UnionPay/
  Discover), passing the Luhn check. An 18-digit number shaped like an ID number (province
  code, date of birth) is never a card, whether or not its check digit is right.
* ``PHONE``: mainland mobiles (1[3-9] + 9 digits, optionally +86/0086, written 3-4-4 or whole);
  mainland landlines with an area code in parentheses or followed by a separator
  (``010-88886666``, ``(0755) 8888 6666``); Taiwan mobiles (09xx-xxx-xxx) and landlines
  (``(02) 2345-6789``, ``02-2345-6789``); international numbers written with ``+`` (``+852
  2345 6789``, ``+1 (415) 555-2671``, ``+44 20 7946 0958``: 8 to 15 digits); North American
  numbers written 3-3-4 with separators; a bare 8-digit Hong Kong number (``2345 6789``) only
  right after a word such as 电话/電話/Tel/WhatsApp.
* ``IP``: dotted IPv4 (each part 0-255, no leading zeros, not after "version"/"版本"/"v") and
  IPv6 (eight groups, or compressed with ``::``; at least two groups and a digit), not glued to
  letters, digits or dots.

Not PII (left alone): dates and times (``2024-03-15``, ``12:30:45``), 13-digit timestamps,
prices, ISBNs, version numbers, numbers glued to letters, digit strings that fail the ID
checksum or the Luhn check, 3- to 5-digit public service numbers (110, 12345, 95588, 10086)
and toll-free company hotlines (400-/800- numbers, North American 8xx toll-free codes).

Modes: ``redact`` replaces each find with ``--placeholder`` (``<{kind}>`` by default, ``{kind}``
being EMAIL, PHONE, ID_NUMBER, BANK_CARD or IP); ``drop`` rejects a record holding any
(reason ``contains_pii``); ``annotate`` leaves the text as it is. In every mode the counts per
kind go to ``meta.pii`` (records without PII get no ``meta.pii``) and into the stage's stats.
"""
from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta

KINDS = ("EMAIL", "PHONE", "ID_NUMBER", "BANK_CARD", "IP")

# left and right boundaries: not glued to an ASCII letter or digit, nor to a decimal point
_L = r"(?<![A-Za-z0-9])(?<![0-9][.,])"
_R = r"(?![A-Za-z0-9])(?![.,][0-9])"
_SEP = r"[ \-]"

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}"
    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9])")

_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_ID18_RE = re.compile(_L + r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}" + _DATE + r"[0-9]{3}[0-9Xx]" + _R)
_ID15_RE = re.compile(_L + r"[1-9][0-9]{5}[0-9]{2}" + _DATE + r"[0-9]{3}" + _R)
# whole (15-19 digits) or in groups of 4 separated by one space or hyphen, the last group
# holding the rest (4-4-4-3 ... 4-4-4-4-3: a 19-digit UnionPay card is printed in five groups)
_CARD_RE = re.compile(_L + r"(?:[3-6][0-9]{14,18}|[3-6][0-9]{3}(?:(?P<s>[ \-])[0-9]{4}){2}(?P=s)"
                      r"(?:[0-9]{4}(?P=s)[0-9]{1,3}|[0-9]{3,7})"
                      r"|3[47][0-9]{2}(?P<t>[ \-])[0-9]{6}(?P=t)[0-9]{5})" + _R)

_V4PART = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4_RE = re.compile(r"(?<![A-Za-z0-9.])" + _V4PART + r"(?:\." + _V4PART + r"){3}(?![A-Za-z0-9]|\.[0-9])")
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6_RE = re.compile(
    r"(?<![A-Za-z0-9:.])(?:"
    rf"(?:{_H}:){{7}}{_H}"                      # full
    rf"|(?:{_H}:){{1,7}}:(?:{_H}(?::{_H}){{0,6}})?"  # a::, a::b, a:b::c:d
    rf"|::(?:{_H}(?::{_H}){{0,6}})"                 # ::1, ::ffff:...
    r")(?:(?<=:)(?:[0-9]{1,3}\.){3}[0-9]{1,3})?(?![A-Za-z0-9:]|\.[0-9])")

_PHONE_RES = [
    # mainland mobile, optional +86 / 0086 / (+86)
    re.compile(r"(?:(?:(?<![A-Za-z0-9+])\+|(?<![A-Za-z0-9])00)86" + _SEP + r"?|\(\+?86\)" + _SEP + r"?|"
               + _L + r")1[3-9][0-9](?:" + _SEP + r"?[0-9]{4}){2}" + _R),
    # mainland landline: area code with a separator or in parentheses, local number of 7-8 digits
    re.compile(r"(?:\(0(?:10|2[0-9]|[3-9][0-9]{2})\)" + _SEP + r"?|" + _L
               + r"0(?:10|2[0-9]|[3-9][0-9]{2})" + _SEP + r")[2-9][0-9]{2,3}" + _SEP
               + r"?[0-9]{4}(?:-[0-9]{1,5})?" + _R),
    # Taiwan mobile and landline
    re.compile(_L + r"09[0-9]{2}" + _SEP + r"?[0-9]{3}" + _SEP + r"?[0-9]{3}" + _R),
    re.compile(r"(?:\(0[2-8][0-9]?\)" + _SEP + r"?|" + _L + r"0[2-8][0-9]?-)[0-9]{3,4}" + _SEP
               + r"?[0-9]{4}" + _R),
    # international, written with +
    re.compile(r"(?<![A-Za-z0-9+])\+[1-9][0-9]{0,2}(?:[ \-.]?\(?[0-9]{1,5}\)?){1,6}" + _R),
    # North America 3-3-4 with separators
    re.compile(r"(?:\((?P<a>[2-9][0-9]{2})\) ?|" + _L + r"(?P<b>[2-9][0-9]{2})[\-. ])[2-9][0-9]{2}[\-. ][0-9]{4}" + _R),
    # a bare Hong Kong number right after a word that announces a phone number
    re.compile(r"(?:电话|電話|手机|手機|热线|熱線|致电|致電|联系|聯絡|聯繫|传真|傳真|Tel|TEL|Phone|phone|"
               r"WhatsApp|Fax|FAX)[:：.]?\s?(?P<hk>[2-9][0-9]{3} ?[0-9]{4})" + _R),
]
_VERSION_BEFORE_RE = re.compile(r"(?:version|ver|版本|版本号|版本號|release|build)[\s:：]*$", re.I)
# 3-3-4 numbers that are company hotlines, not personal: Chinese 400 numbers, North American toll-free
_TOLL_FREE_NANP = {"400", "800", "833", "844", "855", "866", "877", "888"}

# province-level codes of GB/T 2260 (the first two digits of an ID number)
_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
              50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id18_valid(s: str) -> bool:
    """An 18-character mainland ID number: province, date of birth and check digit."""
    if int(s[:2]) not in _PROVINCES or not _date_ok(int(s[6:10]), int(s[10:12]), int(s[12:14])):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == s[17].upper()


def id15_valid(s: str) -> bool:
    return int(s[:2]) in _PROVINCES and _date_ok(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _date_ok(y: int, m: int, d: int) -> bool:
    if y > datetime.date.today().year:
        return False
    try:
        datetime.date(y, m, d)
    except ValueError:
        return False
    return True


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = ord(c) - 48
        if i & 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _digits(s: str) -> str:
    return "".join(c for c in s if "0" <= c <= "9")


def _phone_ok(m: re.Match, text: str) -> tuple[int, int] | None:
    s = m.group()
    if s.startswith("+"):
        n = len(_digits(s))
        if not 8 <= n <= 15:
            return None
        # a trailing separator or unbalanced parenthesis is not part of the number
        end = m.end()
        while text[end - 1] in " -.(":
            end -= 1
        if s.count("(") != s.count(")") and "(" in s:
            return None
        return m.start(), end
    if "hk" in m.groupdict() and m.group("hk") is not None:
        return m.start("hk"), m.end("hk")
    area = m.groupdict().get("a") or m.groupdict().get("b")
    if area is not None and area in _TOLL_FREE_NANP:
        return None
    return m.start(), m.end()


def _find_all(pattern: re.Pattern, text: str, check, lo: int, hi: int) -> list[tuple[int, int]]:
    """Every match in text[lo:hi] that passes `check` (a failed candidate is retried one
    character later, so a rejected long match cannot hide a real one inside it). Searching
    with pos/endpos keeps the look-behinds seeing the text before `lo`."""
    out = []
    pos = lo
    search = pattern.search
    while True:
        m = search(text, pos, hi)
        if m is None:
            return out
        span = check(m, text)
        if span is None:
            pos = m.start() + 1
        else:
            out.append(span)
            pos = span[1]


def _whole(m: re.Match, text: str) -> tuple[int, int]:
    return m.start(), m.end()


def _id18(m: re.Match, text: str) -> tuple[int, int] | None:
    return (m.start(), m.end()) if id18_valid(m.group()) else None


def _id15(m: re.Match, text: str) -> tuple[int, int] | None:
    return (m.start(), m.end()) if id15_valid(m.group()) else None


def _card_ok(d: str) -> bool:
    if not 15 <= len(d) <= 19 or not luhn_valid(d):
        return False
    # 18 digits shaped like an ID number (province, date of birth) are a mistyped or fake ID
    # far more often than one of the rare 18-digit cards
    return not (len(d) == 18 and int(d[:2]) in _PROVINCES and _ID18_RE.fullmatch(d))


def _card(m: re.Match, text: str) -> tuple[int, int] | None:
    s = m.group()
    if _card_ok(_digits(s)):
        return m.start(), m.end()
    # five groups that are no card: the first four may be one, followed by another number
    sep = m.group("s")
    if sep is not None and s.count(sep) == 4:
        cut = s.rfind(sep)
        if _card_ok(_digits(s[:cut])):
            return m.start(), m.start() + cut
    return None


def _ipv4(m: re.Match, text: str) -> tuple[int, int] | None:
    if _VERSION_BEFORE_RE.search(text, max(0, m.start() - 20), m.start()):
        return None
    return m.start(), m.end()


def _ipv6(m: re.Match, text: str) -> tuple[int, int] | None:
    s = m.group()
    # a time (12:30:45) or a ratio has no hex letter and no "::"; a MAC address has 6 groups
    if "::" not in s and s.count(":") != 7:
        return None
    # at least two groups and a digit: "be::" (reStructuredText's literal marker after a word),
    # "dead::beef" or a lone "::1" are not addresses of anyone
    groups = [g for g in s.split(":") if g]
    if len(groups) < 2 or not any(c.isdigit() for c in s):
        return None
    return m.start(), m.end()


# Pre-scan (C-speed, charset-prefixed): every numeric kind holds a run of 7+ characters made
# of digits and separators, an e-mail address holds "@", an IPv6 address ":h:" or "::". The
# detectors then run only in windows around these spots (wide enough for a "+86 " or
# "电话：" before and a check letter after), so text with little PII costs one or two scans.
_NUMERIC_SPOT = re.compile(r"[0-9][0-9 ()\-.:]{5,}[0-9]")
_IPV6_SPOT = re.compile(r":[0-9A-Fa-f]{1,4}:|::")
_BEFORE, _AFTER = 16, 3

# (kind, pattern, check) in order of priority when two finds start at the same place
_NUMERIC: list[tuple[str, re.Pattern, object]] = [
    ("ID_NUMBER", _ID18_RE, _id18),
    ("BANK_CARD", _CARD_RE, _card),
    ("ID_NUMBER", _ID15_RE, _id15),
    ("IP", _IPV4_RE, _ipv4),
    *[("PHONE", r, _phone_ok) for r in _PHONE_RES],
]
# all of them as one alternation: one search per window finds the leftmost candidate and
# (through lastgroup) which detector matched
_NUMERIC_RE = re.compile("|".join(f"(?P<d{i}>{p.pattern})" for i, (_k, p, _c) in enumerate(_NUMERIC)))


def _numeric_finds(text: str, lo: int, hi: int, out: list) -> None:
    pos = lo
    search = _NUMERIC_RE.search
    while True:
        m = search(text, pos, hi)
        if m is None:
            return
        first = int(m.lastgroup[1:])  # type: ignore[index]
        kind, _p, check = _NUMERIC[first]
        span = check(m, text)  # type: ignore[operator]
        if span is None:
            # the first detector matching here failed its check: the others may still match at
            # this very place (an 18-digit number failing the ID check can pass Luhn)
            start = m.start()
            for kind2, pattern, check2 in _NUMERIC[first + 1:]:
                m2 = pattern.match(text, start, hi)
                if m2 is not None:
                    span = check2(m2, text)  # type: ignore[operator]
                    if span is not None:
                        kind = kind2
                        break
        if span is None:
            pos = m.start() + 1
        else:
            out.append((span[0], span[1], kind))
            pos = span[1]


def _windows(spans: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in spans:
        s, e = max(0, s), min(n, e)
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


# Full-width digits, letters and the signs numbers and addresses are written with (IMEs type
# １３８１２３４５６７８, ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ, ＋８６), and the ideographic space, are
# looked at as their ASCII forms: one character for one, so a find's place in the folded view is
# its place in the text. Full-width ，：；。 stay (a clause break is not a thousands separator).
_WIDE = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                 *range(0xFF41, 0xFF5B), *map(ord, "＠＋－（）．＿％"))}
_WIDE[0x3000] = 0x20
_WIDE_RUN = re.compile("[" + "".join(map(chr, _WIDE)) + "]+")
# every find holds a digit or an @ (or an ID number's check letter): text with none of these in
# full width needs no folded view (substring scans, ~1 GB/s; full-width （） and ％ are common)
_WIDE_NEEDED = tuple("０１２３４５６７８９＠Ｘｘ")


def _wide_run(m: re.Match) -> str:
    return m.group().translate(_WIDE)


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """The PII spans of `text`, sorted, not overlapping: (start, end, kind). Full-width digits,
    letters and signs count as their ASCII forms (see _WIDE)."""
    if not text.isascii() and any(c in text for c in _WIDE_NEEDED):
        text = _WIDE_RUN.sub(_wide_run, text)
    n = len(text)
    wins: dict[str, list[tuple[int, int]]] = {}
    spots = [(m.start() - _BEFORE, m.end() + _AFTER) for m in _NUMERIC_SPOT.finditer(text)]
    if spots:
        wins["n"] = _windows(spots, n)
    if "@" in text:
        ats = []
        i = text.find("@")
        while i >= 0:
            ats.append((i - 64, i + 256))
            i = text.find("@", i + 1)
        wins["@"] = _windows(ats, n)
    if ":" in text:
        spots = [(m.start() - 40, m.end() + 40) for m in _IPV6_SPOT.finditer(text)]
        if spots:
            wins[":"] = _windows(spots, n)
    if not wins:
        return []
    found: list[tuple[int, int, str]] = []
    for lo, hi in wins.get("@", ()):
        found.extend((a, b, "EMAIL") for a, b in _find_all(_EMAIL_RE, text, _whole, lo, hi))
    for lo, hi in wins.get("n", ()):
        _numeric_finds(text, lo, hi, found)
    for lo, hi in wins.get(":", ()):
        found.extend((a, b, "IP") for a, b in _find_all(_IPV6_RE, text, _ipv6, lo, hi))
    if not found:
        return []
    if len(found) == 1:
        return found
    # overlaps between e-mail, numeric and IPv6 finds: e-mail first, then the longer span
    rank = {"EMAIL": 0, "IP": 2}
    found.sort(key=lambda f: (rank.get(f[2], 1), f[0] - f[1]))
    taken: list[tuple[int, int, str]] = []
    for s, e, kind in found:
        if all(e <= ts or s >= te for ts, te, _k in taken):
            taken.append((s, e, kind))
    taken.sort()
    return taken


@dataclass
class RedactPii(RecordStage):
    name: ClassVar[str] = "redact-pii"
    summary: ClassVar[str] = ("Replace e-mail addresses, phone numbers, mainland ID numbers, bank "
                              "card numbers and IP addresses with typed placeholders.")
    reasons: ClassVar[dict[str, str]] = {
        "contains_pii": "--mode drop: the text holds personal data (detail: the counts per kind)",
    }

    mode: str = opt("redact", "redact: replace each find with the placeholder; drop: reject records "
                              "holding any; annotate: only count them in meta.pii.")
    placeholder: str = opt("<{kind}>", "Replacement text; {kind} becomes EMAIL, PHONE, ID_NUMBER, "
                                       "BANK_CARD or IP.")
    kinds: str = opt(",".join(KINDS), "Comma-separated kinds to look for.")
    counts: Counter = field(default_factory=Counter, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in ("redact", "drop", "annotate"):
            raise ValueError(f"--mode must be redact, drop or annotate, not {self.mode!r}")
        wanted = [k.strip().upper() for k in self.kinds.split(",") if k.strip()]
        unknown = sorted(set(wanted) - set(KINDS))
        if unknown or not wanted:
            raise ValueError(f"--kinds: unknown kind(s) {', '.join(unknown) or '(none)'}; "
                             f"known: {', '.join(KINDS)}")
        self._kinds = frozenset(wanted)
        try:
            self._subst = {k: self.placeholder.format(kind=k) for k in KINDS}
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"--placeholder {self.placeholder!r}: only {{kind}} may be used ({e})") from e

    def process(self, record: dict) -> dict | Rejection:
        text = self.get_text(record)
        spans = [s for s in find_pii(text) if s[2] in self._kinds]
        if not spans:
            return record
        per_kind = Counter(k for _, _, k in spans)
        self.counts.update(per_kind)
        pii = {k.lower(): per_kind[k] for k in KINDS if per_kind[k]}
        if self.mode == "drop":
            return Rejection("contains_pii", ",".join(f"{k}={v}" for k, v in pii.items()))
        if self.mode == "redact":
            parts = []
            pos = 0
            for s, e, k in spans:
                parts.append(text[pos:s])
                parts.append(self._subst[k])
                pos = e
            parts.append(text[pos:])
            record[self.text_field] = "".join(parts)
        set_meta(record, "pii", pii)
        return record
