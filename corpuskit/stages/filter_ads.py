"""filter-ads: remove boilerplate, navigation and ad lines (C4-style line cleaning), English and
Chinese; drop documents that are mostly boilerplate or contain "lorem ipsum".

Line rules, in order (a line is removed by the first that fires):
1. boilerplate patterns (``corpuskit/data/boilerplate/*.tsv`` plus ``--patterns``), each limited
   to short lines so that content that merely mentions cookies or 广告 stays; patterns and lines
   are matched with Traditional Chinese folded to Simplified, so the Chinese rules hold for both;
2. menu rows and breadcrumbs recognised by their shape (4+ short segments between separators,
   whichever symbol separates them: " | ", " - ", " – ", " · " ...);
3. with ``--c4-strict``, C4's literal rules: any line containing "javascript" or a policy phrase;
4. C4's line rules: a word longer than ``max_word_length``, fewer than ``min_words_per_line``
   words (CJK-aware), and, with ``--terminal-punct``, no terminal punctuation at the end.
Wikipedia-style citation marks ([1], [edit], [citation needed]) are removed (C4), and so are
MediaWiki's section edit links in any language ("[editar | modificar o código]", "[编辑]"), found by
shape: a bracket of one or two short segments ending a heading-like line (a one-part bracket only
when it ends several lines of the document).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from corpuskit.core.assets import DATA_DIR as ASSETS
from corpuskit.core.errors import UsageError
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta
from corpuskit.core.text import BIG_TEXT, CJK_RE, count_words, ends_with_terminal_punct
from corpuskit.core.zhscript import fold_t2s, traditional_chars

DATA_DIR = ASSETS / "boilerplate"
SHIPPED_PATTERN_FILES = ("en.tsv", "zh.tsv")

# C4 (tensorflow/datasets c4_utils.py, as in datatrove's C4QualityFilter)
C4_POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                        "use of cookies", "use cookies")
CITATION_RE = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
LOREM_RE = re.compile(r"lorem\s+ipsum", re.IGNORECASE)

# Menu rows / breadcrumbs: short segments between separators.
_BREADCRUMB_SEP = re.compile(r"\s*(?:>|»|›|→|＞|〉|/|::)\s*")
# "/" only with spaces around it: "Bulgaria/Israel/Hungary" and URLs are not menus.
_MENU_SEP = re.compile(r"\s*(?:\||｜|•|·|・|\u2022|◆|■)\s*|\s+/\s+")
_ITEM_SPLIT = re.compile(r"[\s|｜/·•]+")
# Any separator, by shape: a run of 1-3 symbols with white space on both sides (" - ", " – ",
# " | ", " ~ ", " :: ", " * ", " ／ "). A row that one such separator cuts into 4+ short segments
# is a menu whichever symbol the site chose.
_ANY_SEP = re.compile(r"(?<=\S)[ \t\u3000]+([^\w\s]{1,3})[ \t\u3000]+(?=\S)")
# MediaWiki's section edit links after a heading, in any language: "[edit]", "[editar | modificar
# o código]", "[bearbeiten | Quelltext bearbeiten]", "[编辑]". Found by shape: a bracket of one or
# two short word-only segments ending a short line; a one-part bracket only when the same one
# ends several lines of the document (every heading carries it).
_EDIT_BRACKET = re.compile(r"\s*\[\s*([^\[\]|\d]{1,40}?)(?:\s*[|｜]\s*([^\[\]|\d]{1,40}?))?\s*\]\s*$")
_EDIT_HEAD_MAX_WORDS = 15
_EDIT_SEG_MAX_WORDS = 4
_SEP_CHARS = frozenset(">»›→＞〉/:|｜•·・◆■\u2022")
_HOME_WORDS = frozenset({"home", "homepage", "main page", "首页", "主页", "网站首页", "首頁"})
_NAV_VOCAB = frozenset(
    "home about contact blog news login log sign register shop store services products faq help "
    "search menu events careers jobs support privacy terms sitemap archive archives categories tags "
    "subscribe donate account cart checkout press team portfolio gallery resources pricing docs "
    "forum community videos photos podcasts newsletter "
    "首页 新闻 关于我们 联系我们 登录 注册 网站地图 帮助 搜索 导航 产品 服务 客服 论坛 社区 视频 图片 "
    "博客 下载 招聘 合作 投稿 订阅 财经 体育 娱乐 科技 汽车 房产 教育 健康 旅游 军事 国际 国内 "
    "社会 时尚 游戏 文化 历史 读书 公益 专题 直播 彩票 股票 基金 手机 数码 家居 美食 育儿".split()
)


try:  # the regex parser, to find what each pattern needs (Python 3.11+ / 3.10)
    from re import _constants as _sre_c
    from re import _parser as _sre_p
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_p  # type: ignore[no-redef]


def _required_literals(seq) -> frozenset[str] | None:
    """A set of lower-cased strings at least one of which occurs in every match of the parsed
    pattern `seq` (None when no such set is found): a cheap `in` test that rules a line out
    before the regex runs. Conservative: any construct it does not understand is skipped."""
    best: frozenset[str] | None = None

    def consider(cands: frozenset[str] | None) -> None:
        nonlocal best
        if cands and all(cands) and (best is None or min(map(len, cands)) > min(map(len, best))):
            best = cands

    run: list[str] = []
    for op, av in seq:
        if op is _sre_c.LITERAL:
            run.append(chr(av).lower())
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is _sre_c.SUBPATTERN:
            consider(_required_literals(av[-1]))
        elif op is _sre_c.BRANCH:
            alts = [_required_literals(b) for b in av[1]]
            if all(alts):
                consider(frozenset().union(*alts))
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            consider(_required_literals(av[2]))
    if run:
        consider(frozenset({"".join(run)}))
    return best


class _Rule(NamedTuple):
    name: str
    max_words: int
    rx: re.Pattern
    literals: frozenset[str] | None  # one of these occurs in any matching line (lower-cased)


class _RuleSet(NamedTuple):
    gated: tuple[_Rule, ...]  # rules with a literal gate, in file order
    ungated: tuple[_Rule, ...]  # rules without one (always tried)
    literals: tuple[str, ...]  # every gate literal
    rules_of: dict[str, tuple[int, ...]]  # gate literal -> indices (into gated) of its rules
    automaton: Any  # ahocorasick-rs automaton over `literals` (None when there are none)


@lru_cache(maxsize=16)
def _compiled_rules(extra_file: str) -> _RuleSet:
    """The rules from the shipped pattern files and an optional user file, compiled and analysed.
    Cached per process, keyed by the extra file, so a stage object pickles as its options only."""
    paths = [DATA_DIR / f for f in SHIPPED_PATTERN_FILES]
    if extra_file:
        paths.append(Path(extra_file))
    gated: list[_Rule] = []
    ungated: list[_Rule] = []
    for path in paths:
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"filter-ads: cannot read pattern file {path}: {e.strerror or e}") from e
        for lineno, raw in enumerate(content.splitlines(), 1):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            parts = raw.split("\t", 2)
            if len(parts) != 3 or not parts[1].strip().isdigit():
                raise UsageError(f"filter-ads: {path}:{lineno}: expected RULE<TAB>MAX_WORDS<TAB>REGEX")
            # patterns and lines are both matched in their Traditional-folded form (one character
            # for one, core.zhscript.fold_t2s), so the Chinese rules, written in Simplified,
            # remove 責任編輯：, 相關閱讀 and 掃一掃 as they remove 责任编辑：, 相关阅读 and 扫一扫
            name, max_words, pattern = parts[0].strip(), int(parts[1]), fold_t2s(parts[2].strip())
            try:
                rx = re.compile(pattern, re.IGNORECASE)
                parsed = _sre_p.parse(pattern, re.IGNORECASE)
            except re.error as e:
                raise UsageError(f"filter-ads: {path}:{lineno}: bad regex: {e}") from e
            lits = _required_literals(parsed)
            (gated if lits else ungated).append(_Rule(name, max_words, rx, lits))
    literals = sorted({lit for r in gated for lit in r.literals or ()})
    rules_of: dict[str, list[int]] = {}
    for i, r in enumerate(gated):
        for lit in r.literals or ():
            rules_of.setdefault(lit, []).append(i)
    automaton = None
    if literals:
        import ahocorasick_rs

        automaton = ahocorasick_rs.AhoCorasick(literals)
    return _RuleSet(tuple(gated), tuple(ungated), tuple(literals),
                    {k: tuple(v) for k, v in rules_of.items()}, automaton)


@lru_cache(maxsize=1)
def _traditional_automaton() -> Any:
    import ahocorasick_rs

    return ahocorasick_rs.AhoCorasick(sorted(traditional_chars()))


_TRAD_CHUNK = 4096


def has_traditional(text: str) -> bool:
    """True when `text` holds a Traditional character (one that `fold_t2s` changes). An
    Aho-Corasick pass (~9 ns a character on Chinese text, where a set or regex scan in Python
    takes 50-80), a few thousand characters at a time, so that Traditional text stops early."""
    if text.isascii():
        return False
    find = _traditional_automaton().find_matches_as_indexes
    return any(find(text[pos:pos + _TRAD_CHUNK]) for pos in range(0, len(text), _TRAD_CHUNK))


def _segments_short(segments: list[str], max_words: int) -> bool:
    return all(s and count_words(s) <= max_words for s in segments)


def _edit_bracket(line: str) -> re.Match | None:
    """The edit-link bracket ending a heading-like line, if the line has that shape."""
    if not line.endswith("]"):
        return None
    m = _EDIT_BRACKET.search(line)
    if m is None or m.start() == 0:
        return None  # a bracket alone on its line is not a heading's suffix
    for seg in m.groups():
        if seg is not None and not (any(c.isalpha() for c in seg)
                                    and count_words(seg) <= _EDIT_SEG_MAX_WORDS):
            return None
    if count_words(line[:m.start()]) > _EDIT_HEAD_MAX_WORDS:
        return None
    return m


def edit_brackets(lines: Iterable[str]) -> frozenset[str]:
    """The edit-link brackets of a document: two-part ones ("[editar | modificar o código]")
    wherever they end a heading-like line, one-part ones ("[editar]") when the same bracket ends
    two or more such lines."""
    seen: Counter[str] = Counter()
    out = set()
    for ln in lines:
        m = _edit_bracket(ln.strip())
        if m is None:
            continue
        key = m.group(0).strip()
        if m.group(2) is not None:
            out.add(key)
        else:
            seen[key] += 1
    out.update(k for k, n in seen.items() if n >= 2)
    return frozenset(out)


def structural_rule(line: str, n_words: int) -> str | None:
    """'breadcrumb' or 'menu' when the line's shape says so, else None."""
    if n_words > 40 or n_words < 2:
        return None
    has_sep = not _SEP_CHARS.isdisjoint(line) or _ANY_SEP.search(line) is not None
    if not has_sep and not (3 <= n_words <= 14):
        return None
    if ends_with_terminal_punct(line):
        return None
    low = line.lower()
    if not has_sep:
        return "menu" if len(_NAV_VOCAB.intersection(low.split())) >= 3 else None
    segs = [s for s in _BREADCRUMB_SEP.split(low) if s]
    if len(segs) >= 2 and len(_BREADCRUMB_SEP.findall(low)) >= 1:
        if segs[0].strip(" :：") in _HOME_WORDS and _segments_short(segs, 8):
            return "breadcrumb"
        if len(segs) >= 3 and _segments_short(segs, 4) and "/" not in low:
            return "breadcrumb"
    segs = [s for s in _MENU_SEP.split(low) if s]
    if len(segs) >= 4 and _segments_short(segs, 4):
        return "menu"
    # the same row with any other separator ("About Me - CV - Publications - Talks - Code")
    seps = _ANY_SEP.findall(low)
    if len(seps) >= 3:
        sep = max(set(seps), key=seps.count)
        if seps.count(sep) >= 3:
            segs = [s.strip() for s in re.split(r"[ \t\u3000]+" + re.escape(sep) + r"[ \t\u3000]+", low)]
            if len(segs) >= 4 and _segments_short(segs, 4):
                return "menu"
    # Space-separated menus ("Home About Contact Blog", "首页 新闻 体育 娱乐"): several items of a
    # navigation vocabulary on one short line.
    if n_words <= 14:
        if len(_NAV_VOCAB.intersection(_ITEM_SPLIT.split(low))) >= 3:
            return "menu"
    return None


@dataclass
class FilterAds(RecordStage):
    """Remove boilerplate lines; drop documents that were mostly boilerplate or lorem ipsum."""

    name: ClassVar[str] = "filter-ads"
    summary: ClassVar[str] = ("Remove boilerplate, navigation and ad lines (C4-style, English and "
                              "Chinese); drop mostly-boilerplate and lorem-ipsum documents.")
    reasons: ClassVar[dict[str, str]] = {
        "lorem_ipsum": "the text contains 'lorem ipsum' placeholder text (C4)",
        "boilerplate": "more than --max-boilerplate-frac of the text's characters were boilerplate lines",
        "no_lines_left": "every line was removed by the line rules",
    }

    remove_boilerplate: bool = opt(True, "Remove lines matching the shipped boilerplate patterns "
                                         "(cookie/privacy/terms, share/follow/subscribe, copyright, "
                                         "ads, 版权所有/分享到/扫一扫/责任编辑 ...) and menu/breadcrumb rows.")
    patterns: str = opt("", "Extra pattern file (TSV: RULE, MAX_WORDS, REGEX per line) added to the "
                            "shipped ones.", metavar="FILE")
    c4_strict: bool = opt(False, "Also apply C4's literal rules: drop every line containing "
                                 "'javascript' or a C4 policy phrase, whatever its length.")
    min_words_per_line: int = opt(3, "Drop lines with fewer words than this (C4/FineWeb: 3; each "
                                     "CJK character is a word; 0 = off).")
    max_word_length: int = opt(1000, "Drop lines with a whitespace-separated token longer than this "
                                     "(C4: 1000; 0 = off); each CJK character is a word of its own.")
    terminal_punct: bool = opt(False, "Keep only lines ending in terminal punctuation (C4; off as in "
                                      "FineWeb, which found it removes too much).")
    remove_citations: bool = opt(True, "Remove [1], [edit], [citation needed] marks (C4).")
    max_boilerplate_frac: float = opt(0.5, "Drop the document (reason boilerplate) when boilerplate "
                                           "lines make up more than this share of its characters "
                                           "(1 = never).")
    lorem_ipsum: bool = opt(True, "Drop documents containing 'lorem ipsum' (C4).")

    def __post_init__(self) -> None:
        if self.min_words_per_line < 0:
            raise ValueError("--min-words-per-line must be >= 0")
        if self.max_word_length < 0:
            raise ValueError("--max-word-length must be >= 0")
        if not 0.0 <= self.max_boilerplate_frac <= 1.0:
            raise ValueError("--max-boilerplate-frac must be between 0 and 1")
        if self.patterns:
            _compiled_rules(self.patterns)  # fail early on an unreadable or bad file

    # ------------------------------------------------------------------ rules
    def line_rule(self, line: str, n_words: int, doc_literals: tuple[str, ...] | None = None,
                  fold: bool = True, folded: str | None = None) -> str | None:
        """The boilerplate rule that removes `line` (stripped, non-empty), or None.
        `doc_literals`: the gate literals present anywhere in the document (doc_literals()), so
        that a line only looks for those. `fold=False`: the caller knows the line holds no
        Traditional character (its document has none), so it is not folded; `folded`: the line
        folded already (cut from its folded document)."""
        if not self.remove_boilerplate:
            return None
        rs = _compiled_rules(self.patterns)
        if doc_literals is None:
            doc_literals = rs.literals
        if fold:  # Traditional Chinese meets the rules as Simplified (see above)
            line = folded if folded is not None else fold_t2s(line)
        if doc_literals:
            low = line.lower()
            hits = [lit for lit in doc_literals if lit in low]
            if hits:
                # the rules those literals gate, tried in file order
                idx = sorted({i for lit in hits for i in rs.rules_of[lit]})
                for i in idx:
                    r = rs.gated[i]
                    if (r.max_words == 0 or n_words <= r.max_words) and r.rx.search(line):
                        return r.name
        for r in rs.ungated:
            if (r.max_words == 0 or n_words <= r.max_words) and r.rx.search(line):
                return r.name
        return structural_rule(line, n_words)

    def doc_literals(self, text: str, fold: bool | None = None) -> tuple[str, ...]:
        """The gate literals that occur somewhere in `text` (in the rule set's order): one
        Aho-Corasick pass over the document (every overlapping occurrence, so a literal inside
        another is found too), so that most lines test only a handful of strings. The text is
        Traditional-folded as the patterns are (`fold`: whether it holds a Traditional
        character, found out when not given)."""
        if not self.remove_boilerplate:
            return ()
        rs = _compiled_rules(self.patterns)
        if rs.automaton is None:
            return ()
        # 64 K characters at a time (overlapping by the longest literal), so neither the
        # lower-cased copy nor the list of occurrences grows with a huge document
        lits = rs.literals
        reach = max(map(len, lits)) - 1
        found: set[int] = set()
        if fold is None:
            fold = has_traditional(text)
        for pos in range(0, len(text), _LITERAL_CHUNK):
            seg = text[pos:pos + _LITERAL_CHUNK + reach]
            seg = (fold_t2s(seg) if fold else seg).lower()
            found.update(i for i, _, _ in rs.automaton.find_matches_as_indexes(seg, overlapping=True))
            if len(found) == len(lits):
                break
        return tuple(lits[i] for i in sorted(found))

    def process(self, record: dict) -> dict | Rejection:
        text = self.get_text(record)
        if self.lorem_ipsum and LOREM_RE.search(text):
            return Rejection("lorem_ipsum", "contains 'lorem ipsum'")
        # one scan tells whether the lines need folding (most text holds no Traditional character)
        fold = self.remove_boilerplate and has_traditional(text)
        # such a document is folded once, for its literals and its lines (a fold a line cost
        # filter-ads a fifth of its time on Chinese news); a huge one line by line (no copy)
        folded = fold_t2s(text) if fold and len(text) <= BIG_TEXT else None
        lits = self.doc_literals(text, fold) if folded is None else self.doc_literals(folded, False)
        flines = folded.split("\n") if folded is not None else None
        # one pass decides; the kept text is written in a second pass only when something
        # changed. Neither pass lists the lines: a huge document costs its own size, not ten
        # times it in line objects.
        dropped: set[int] = set()  # line numbers removed
        edited: dict[int, str] = {}  # line numbers whose citations were cut: the new line
        removed: Counter[str] = Counter()
        n_lines = 0
        total_chars = 0
        bp_chars = 0
        edits = edit_brackets(_lines(text)) if self.remove_citations and "]" in text else frozenset()
        for k, line in enumerate(_lines(text)):
            s = line.strip()
            if not s:
                continue
            fs = flines[k].strip() if flines is not None else None  # s folded, while s is the line
            n_lines += 1
            total_chars += len(s)
            if edits and s.endswith("]"):
                m = _edit_bracket(s)
                if m is not None and m.group(0).strip() in edits:
                    s = s[:m.start()].rstrip()  # the heading stays; its edit link goes
                    line = s
                    fs = None
                    edited[k] = line
            if self.remove_citations and "[" in s:
                s2 = CITATION_RE.sub("", s)
                if s2 != s:
                    s = s2.strip()
                    fs = None
                    if not s:
                        removed["citation"] += 1
                        dropped.add(k)
                        continue
                    edited[k] = CITATION_RE.sub("", line)
            rule = self._rule(s, lits, fold, fs)
            if rule is not None:
                removed[rule] += 1
                dropped.add(k)
                if rule not in _NOT_BOILERPLATE:
                    bp_chars += len(s)
        n_removed = sum(removed.values())
        frac = bp_chars / total_chars if total_chars else 0.0
        info = {"lines": n_lines, "removed": n_removed, "boilerplate_frac": round(frac, 4)}
        if removed:
            info["by_rule"] = dict(sorted(removed.items()))
        set_meta(record, "ads", info)
        if total_chars and frac > self.max_boilerplate_frac:
            return Rejection("boilerplate", f"{frac:.2f} > {self.max_boilerplate_frac} of characters")
        if (n_removed or edited) and len(text) > BIG_TEXT:
            # the kept text is written as UTF-8 and made a str only once the input text is let
            # go: the input, the kept text and a copy of it never live at once
            kept = _join_utf8(_kept_lines(text, dropped, edited))
            if n_lines and not kept:
                return Rejection("no_lines_left", f"all {n_lines} lines removed")
            record[self.text_field] = text = s = line = None  # type: ignore[assignment]
            record[self.text_field] = kept.decode("utf-8", "surrogatepass")
            return record
        if n_removed or edited:
            new_text = _join_kept(text, dropped, edited)
            if n_lines and not new_text:
                return Rejection("no_lines_left", f"all {n_lines} lines removed")
            record[self.text_field] = new_text
        return record

    def _rule(self, s: str, lits: tuple[str, ...], fold: bool = True, folded: str | None = None) -> str | None:
        """Why the stripped, non-empty line `s` goes (a boilerplate rule, or one of the
        _NOT_BOILERPLATE line checks), or None when it stays."""
        n_words = count_words(s)
        rule = self.line_rule(s, n_words, lits, fold, folded)
        if rule is None and self.c4_strict:
            low = s.lower()
            if "javascript" in low:
                rule = "javascript"
            elif any(p in low for p in C4_POLICY_SUBSTRINGS):
                rule = "policy"
        if rule is not None:
            return rule
        if self.max_word_length and len(s) > self.max_word_length and \
                any(len(t) > self.max_word_length and _longest_run(t) > self.max_word_length for t in s.split()):
            return "too_long_word"
        if n_words < self.min_words_per_line:
            return "too_few_words"
        if self.terminal_punct and not ends_with_terminal_punct(s):
            return "no_terminal_punct"
        return None


_LITERAL_CHUNK = 1 << 16
# line checks that remove a line without counting it as boilerplate (boilerplate_frac)
def _longest_run(token: str) -> int:
    """The longest part of a whitespace-separated token between CJK characters: Chinese and
    Japanese are written without spaces, and each of their characters is a word (core.text), so
    a 1,200-character paragraph is no 1,200-character word (C4's rule removed such lines)."""
    return max(map(len, CJK_RE.split(token)))


_NOT_BOILERPLATE = frozenset({"too_long_word", "too_few_words", "no_terminal_punct"})


def _lines(text: str) -> Iterable[str]:
    """text.split("\n"): the list for an ordinary text (faster), one line at a time for a
    huge one (the list of a 200 MB text's lines takes twice its size)."""
    return text.split("\n") if len(text) <= BIG_TEXT else _iter_lines(text)


def _iter_lines(text: str) -> Iterator[str]:
    """text.split("\n"), one line at a time."""
    pos = 0
    find = text.find
    while True:
        j = find("\n", pos)
        if j < 0:
            yield text[pos:]
            return
        yield text[pos:j]
        pos = j + 1


def _kept_lines(text: str, dropped: set[int], edited: dict[int, str]) -> Iterator[str]:
    return (edited.get(k, line) for k, line in enumerate(_lines(text)) if k not in dropped)


def _join_kept(text: str, dropped: set[int], edited: dict[int, str]) -> str:
    """_join_lines(the kept lines) written line by line into one buffer: blank runs between
    kept lines collapse into one paragraph break, blank lines at both ends go."""
    kept = _kept_lines(text, dropped, edited)
    return _join_lines(list(kept)) if len(text) <= BIG_TEXT else _join_stream(kept)


def _blankish(line: str) -> bool:
    return not line.strip(" \t\u3000")


def _join_stream(lines: Iterable[str]) -> str:
    """The same string as _join_lines(list(lines)), without the list (see _join_utf8)."""
    return _join_utf8(lines).decode("utf-8", "surrogatepass")


def _join_utf8(lines: Iterable[str]) -> bytearray:
    """The UTF-8 of _join_lines(list(lines)), without the list: "\n".join, then every run of
    blank-ish lines ([ \t\u3000]* only) between two newlines becomes one empty line
    (_BLANK_RUN_RE), then .strip("\n"), followed line by line. (UTF-8 in a bytearray, not an
    io.StringIO: its getvalue() keeps a copy of what it returns.)"""
    buf = bytearray()
    started = False  # something other than "\n" written (leading newlines are stripped)
    pending = 0  # newlines not written yet (trailing newlines are stripped)

    def put(piece: str) -> None:
        nonlocal started, pending
        if not piece:
            return
        if started:
            buf.extend(b"\n" * pending)
        pending = 0
        buf.extend(piece.encode("utf-8", "surrogatepass"))
        started = True

    it = iter(lines)
    first = next(it, None)
    if first is None:
        return buf
    put(first)
    run: list[str] = []  # blank-ish lines after a newline, waiting for what follows them
    for line in it:
        if _blankish(line):
            run.append(line)
            continue
        if run:  # newline, blank-ish lines, newline: one empty line
            pending += 2
            run = []
        else:
            pending += 1
        put(line)
    if len(run) == 1:  # a blank-ish last line alone is not a run (no newline after it)
        pending += 1
        put(run[0])
    elif run:  # the run stops before the last line, which stays as it is
        pending += 2
        put(run[-1])
    return buf


_BLANK_RUN_RE = re.compile(r"\n(?:[ \t\u3000]*\n)+")


def _join_lines(lines: list[str]) -> str:
    """Join kept lines, collapsing the blank runs left where lines were removed into one
    paragraph break, and trimming blank lines at both ends."""
    text = "\n".join(lines)
    text = _BLANK_RUN_RE.sub("\n\n", text)
    return text.strip("\n")
