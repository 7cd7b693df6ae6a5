"""Main-content extraction: an HTML page -> the text a reader came for, as structured plain text.

How it works (no per-site rules; nothing English-only):

1. Parse with lxml's libxml2 HTML parser (the fast backend BeautifulSoup itself uses; building a
   bs4 tree costs ten times the parse, see the README). Scripts, styles, form controls, media and
   the like are stripped in C.
2. One iterative walk over ``<body>`` (no recursion, so 10,000-deep nesting is fine) marks
   boilerplate subtrees -- by tag (nav, aside, footer, header, menu, dialog, figcaption), ARIA role, hidden
   state and class/id words (comments, share, related, cookie, sidebar, ...) -- and measures every
   element: text weight (a CJK character weighs 3 Latin ones, about their information content),
   text inside links, and punctuation (full-width ，。、！？ included).
3. Readability-style scoring: every block whose own inline text is long enough is a paragraph;
   its score (1 + commas + length bonus) goes to its parent, grandparent and great-grandparent.
   Candidates are scaled by (1 - link density) and nudged by class/id words and semantic markup
   (<article>, <main>, role=main, itemprop=articleBody). The best candidate may move up to an
   ancestor that holds several strong candidates; then siblings with good scores, or that read
   like prose, are added.
   Inside an <article>/articleBody, class words are soft: such a block is scored like any other
   and left out only where it is not the block holding the article's text.
4. The choice is checked against what the page says about itself: one outermost <article> or
   articleBody (a choice elsewhere, or holding under 35% of it, gives way; listings beside it
   go), a JSON-LD articleBody or recipe method (the block holding it wins when the choice holds
   little of it), and the headline (a choice of repeated records, reviews or comments, apart
   from the headline's own text block gives way to that block). Last, a choice of repeated
   records, or a short or link-heavy one, gives way to a much longer plain block elsewhere.
5. The chosen subtrees are serialised: boilerplate and link-dense blocks inside them are
   dropped (list items and data cells are judged with their list or table); headings,
   paragraphs, list items, table rows (cells joined by " | "), <pre> verbatim and <br> line
   breaks keep the page's structure. A heading whose section came out empty goes, a headline
   repeating the <title> is left out (it is meta.title), and long lines repeated verbatim (a
   second copy of the article) are kept once; date, copyright and credit lines among the first
   and last lines go. `favor` (precision | balanced | recall) sets how
   far the choice reaches.
6. Cascade when a step finds too little: ``density`` -> ``density_loose`` (layout words in
   class/id, e.g. a page builder's "elementor-widget-wrap" around the article, prune nothing;
   widget words like comments, related, share still do) -> ``density_relaxed`` (no class/id
   pruning) -> ``body`` (all body text minus boilerplate) -> ``all_text`` (all body text) ->
   ``stripped`` (tags removed by regex; for markup the parser loses).
7. A page nested past libxml2's limit (2,048 open elements), where the parser stops reading,
   is read by ``stripped`` (all its text, tags removed by regex) rather than cut short there.
"""
from __future__ import annotations

import bisect
import html as _htmllib
import json
import re
import threading
from collections.abc import Callable
from typing import NamedTuple

from lxml import etree

from corpuskit.core.text import CJK_RANGES

# ---------------------------------------------------------------- constants

# Removed in C before the walk: never reader-visible text. The content of <noembed> and
# <noframes> is text to the parser (HTML5's raw text, tags and all) and a browser shows neither.
# (<math> is shown: each formula is made text before, `_math_to_text`.)
_JUNK_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
    "canvas", "video", "audio", "map", "select", "button", "input", "textarea", "datalist",
    "head", "link", "meta", "frameset", "frame", "noframes", "noembed",
    "title",  # one in the body (libxml2 leaves it there) is hidden, as in <head>; read before this
)
# Ruby annotations (<rt>, <rtc>; <rp> holds the parentheses shown where ruby is not) are a
# reading aid above the text, furigana or pinyin: the text is the base ("漢字", not "漢(かん)字(じ)").
# Their own text goes, not their children: libxml2 does not close <rt> and <rb> where HTML lets
# their end tags be left out, so the next base (<rb>字) may sit inside an <rt>.
_RUBY_NOTES = ("rt", "rp", "rtc")
_BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "td",
    "th", "tr", "ul", "caption", "option", "optgroup", "listing", "plaintext", "xmp",
))
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# Line-level blocks: one line each, no blank line around them.
_LINE_TAGS = frozenset(("li", "dt", "dd", "tr", "option", "caption", "figcaption", "summary"))
# Boilerplate by tag, unless it wraps the main content.
_BOILER_TAGS = frozenset(("nav", "aside", "footer", "header", "menu", "dialog", "figcaption"))
_BOILER_ROLES = frozenset((
    "navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar",
    "dialog", "alertdialog", "toolbar", "tablist", "alert", "status", "marquee", "timer",
))
_MAIN_ROLES = frozenset(("main", "article"))

# class/id words, matched at the start of a class/id token (so "comments", "commentList",
# "share-bar" match, "postcomment" does not). Strong ones drop an element even when it also
# says "content"/"article" ("comment-body", "related-articles"). Chinese sites often name
# classes in pinyin: pinglun (comments), xiangguan (related), fenxiang (share), tuijian
# (recommended); zhengwen (main text) and neirong (content) are the positive ones.
_STRONG_NEG = re.compile(
    # a word starts a class token, follows a separator or starts a camelCase part ("emailSignup")
    r"(?:^|[\s_\-]|(?-i:(?<=[a-z])(?=[A-Z])))(?:comment|disqus|respond|reply|replies|share|sharing|social|related|"
    r"recommend|recirc|breadcrumb|outbrain|taboola|zergnet|sponsor|advert|adsense|"
    r"ad(?:s|vert)?(?=$|[\s_\-\d])|adslot|adunit|cookie|consent|gdpr|newsletter|subscri|"
    r"signup|sign-up|popup|modal|overlay|promo(?!ted)|trending|most-?popular|"
    r"more-?stories|read-?more|also-?read|next-?post|prev-?post|author-?bio|about-?author|"
    r"bios?(?=$|[\s_\-\d]|(?-i:[A-Z]))|authors?(?=$|[\s_\-\d]|(?-i:[A-Z]))|"
    r"skip|print-?only|pinglun|xiangguan|fenxiang|tuijian)", re.I)
# Whole class tokens that hide an element.
_HIDDEN_CLASS = re.compile(
    r"(?:^|\s)(?:(?:hidden|hide)(?=$|\s|[_\-](?!(?:xs|sm|md|lg|xl|xxl|mobile|phone|tablet|print|small|"
    r"medium|large)\b))|(?:sr-only|visually-?hidden|screen-reader-text|invisible|is-hidden|"
    r"u-hidden|display-none)(?=$|\s))", re.I)
_WEAK_NEG = re.compile(
    r"(?:^|[\s_\-]|(?-i:(?<=[a-z])(?=[A-Z])))(?:sidebar|side-?bar|aside|footer|foot|header|masthead|menu|menubar|nav|navbar|"
    r"navigation|topbar|top-bar|toolbar|banner|widget|tag|tag-?list|tag-?cloud|pagination|pager|"
    r"paging|login|rss|copyright|contact|byline|dateline|date|timestamp|meta|caption|credit|shopping|bottom|link|"
    r"gallery|galleries|slideshow|carousel|slider)"
    # a word ends at a separator, a digit, the end or a camelCase capital ("pageRow" is no pager)
    r"s?(?=$|[\s_\-\d]|(?-i:[A-Z]))", re.I)
# a class token that is exactly one of these vetoes the strong words too ("box article modal-x")
_OK_TOKENS = frozenset(("article", "content", "main", "post", "entry", "story", "body", "text",
                        "post-content", "entry-content", "article-content", "article-body",
                        "story-body", "post-body", "admonition"))
_OK_MAYBE = re.compile(r"article|body|content|main|(?<!hi)story|entry|post|text|column|shadow|zhengwen|neirong", re.I)
# readability's class weights (positive/negative content words), matched anywhere in a name as
# readability does: sites join words without separators ("newscontent", "arttext"). "history"
# is no story (a documentation section's "...versioned_history" outscored the page's text).
_POS_W = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|(?<!hi)story|zhengwen|neirong",
    re.I)
_NEG_W = re.compile(
    r"hidden|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|media|meta|outbrain|"
    r"promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|widget|"
    r"nav|menu|banner|copyright|pinglun|xiangguan", re.I)
# the same, for ASCII strings lower-cased (_word_weight): _NEG_W's words exactly; _POS_W's a
# necessary condition (`story` without its look-behind, which keeps the engine from skipping)
_POS_LOW = re.compile(_POS_W.pattern.replace("(?<!hi)story", "story"))
_NEG_LOW = re.compile(_NEG_W.pattern)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

_CJK_RUN_RE = re.compile(f"[{CJK_RANGES}]+")
# Punctuation that marks prose, in the scripts that have their own marks (Unicode's Sentence_Terminal
# and the commas beside them): Latin, CJK full- and half-width, Arabic, Armenian, Greek, the Indic
# danda, Tibetan, Myanmar, Ethiopic, Khmer and Mongolian. A Hindi sentence ends in "।", an Arabic
# clause in "،", a Khmer one in "។": counted as "." and "," are, they weigh the same in a score.
_COMMAS = ",;\uff0c\u3001\uff1b\uff64\u060c\u061b\u055d\u104a\u1363\u1364\u1802\u1808"
_STOPS = (".!?\u3002\uff01\uff1f\uff0e\uff61\u037e\u0589\u061f\u06d4\u0964\u0965"
          "\u0f0d-\u0f11\u104b\u1362\u1367\u1368\u17d4\u17d5\u1803\u1809")
_COLONS = ":\uff1a\u1365\u1366"
_PUNCT_RE = re.compile(f"[{_COMMAS}{_STOPS}{_COLONS}]")
_COMMA_RE = re.compile(f"[{_COMMAS}]")
# below this code point no character is CJK (CJK_RANGES) or full-width punctuation (_PUNCT_RE)
_FIRST_WIDE = chr(min(0x3001, ord(CJK_RANGES[0])))
_FIRST_CJK = min(c for c in CJK_RANGES if c != "-")  # below it no character is CJK
# the marks above that are not ASCII and lie below the first wide character, taken from the
# lists themselves (one scan of those code points at import)
_LOW_MARKS = "".join(_PUNCT_RE.findall("".join(map(chr, range(0x80, ord(_FIRST_WIDE))))))
# a character from there on, another script's mark, or a Thai or Lao one (their spaces are
# counted, below): one character class, which the regex engine scans about five times faster
# than max() compares characters
_WIDE_RE = re.compile(f"[{re.escape(_LOW_MARKS)}\u0e01-\u0edf{_FIRST_WIDE}-\U0010ffff]")
_CJK_FROM_RE = re.compile(f"[{_FIRST_CJK}-\U0010ffff]")
# Thai and Lao letters (digits and the currency sign aside): these scripts mark no sentence's
# end or clause with a sign but with a space, so white space between two of their letters is a
# mark of prose (not a comma: a score counts commas, and these spaces come two or three times as
# often). Not beside the repetition mark and the abbreviation mark (ๆ, ฯ, ໆ, ຯ), which are
# written with a space around them inside a clause ("สั้น ๆ", "กรุงเทพฯ เมืองหลวง").
_SPACED_LETTERS = "\u0e01-\u0e3a\u0e40-\u0e4e\u0e81-\u0ecf\u0edc-\u0edf"
_GAP_LETTERS = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e\u0e81-\u0eae\u0eb0-\u0ec5\u0ec7-\u0ecf\u0edc-\u0edf"
_SPACED_GAP_RE = re.compile(f"(?<=[{_GAP_LETTERS}])[ \t\r\n\u00a0]+(?=[{_GAP_LETTERS}])")
# a sentence's end, and the closing quotes and brackets after it, spaced or not ("...。」",
# "... .»", "...“", "« oui. »")
_SENT_END_RE = re.compile(f"[{_STOPS}](?:[\\s\u00a0\u202f]*[\"'\u201c\u201d\u2019\u00ab\u00bb\u2039\u203a\u300d\u300f\uff09)])*\\s*$")
# ... and in Thai or Lao, where no mark ends it, a text of a clause or more (_SPACED_SENTENCE
# characters) ending in a letter: a caption, a credit or a "follow us" line is shorter
_SPACED_END_RE = re.compile(f"[{_SPACED_LETTERS}]\\s*$")
_SPACED_SENTENCE = 40

_CJK_WEIGHT = 3          # a CJK character carries about as much as 3 Latin letters
_MIN_PARA = 25           # weighted chars of inline text for a block to count as a paragraph
_MIN_ACCEPT = 250        # weighted chars a cascade step must find to be accepted ...
_MIN_SHARE = 0.3         # ... unless it holds this share of the page's text anyway
_LAYOUT_SHARE = 0.3     # a table is a layout when its cells holding blocks hold this share of its text
_STORY_LEAD = 3.0        # an article holding this many times the text of every other one is the story
_GUARD_SHARE = 0.6       # a "boilerplate" element holding more of the page than this is a wrapper
_KEPT_NEST = 16          # ... and so is one inside this many such wrappers (not measured)

_STRING = etree.XPath("string()")
_STRLEN = etree.XPath("string-length()")  # in C, without making the string a Python str


_LOCAL = threading.local()  # lxml parsers must not be shared between threads

_TEXT_NODES_READ = 256  # elements read in Python before the text is measured in C


def _text_start(el: etree._Element, n: int) -> tuple[str, bool]:
    """The first `n` characters of el's text (its descendants' text, as string() reads it) and
    whether there is more. Read a piece at a time and no further, as long as the pieces come
    quickly: string() and string-length() build the whole text, which at every level of nested
    headings over megabytes is quadratic (2,000 nested headers around 9 MB took 32 s); past
    _TEXT_NODES_READ elements with too little text (thousands of empty elements, which a walk in
    Python would read at every level), `_text_prefix` answers (string() for a tree's first few
    such headings, then one walk of the subtree that keeps each heading's start)."""
    parts = []
    k = 0
    for i, (ev, e) in enumerate(etree.iterwalk(el, events=("start", "end", "comment", "pi"))):
        if i >= 2 * _TEXT_NODES_READ:
            return _text_prefix(el, n)
        if ev == "start":
            t = e.text if isinstance(e.tag, str) else None  # (an entity's text is not text)
        else:  # the end of an element, or a comment or instruction: what follows it
            t = e.tail if e is not el else None
        if t:
            parts.append(t)
            k += len(t)
            if k > n:
                return "".join(parts)[:n], True
    return "".join(parts), False


def _text_longer(el: etree._Element, n: int) -> bool:
    """el's text is longer than `n` characters: read a piece at a time as _text_start reads it,
    and past _TEXT_NODES_READ elements by _text_len (each element's length kept, so the
    headings nested in it are answered without reading their text again)."""
    k = 0
    for i, e in enumerate(el.iter()):
        if i >= _TEXT_NODES_READ:
            return _text_len(el) > n
        t = e.text if isinstance(e.tag, str) else None
        if t:
            k += len(t)
        t = e.tail if e is not el else None
        if t:
            k += len(t)
        if k > n:
            return True
    return False


_PREFIX_MIN = 1_024
_PREFIX_STRINGS = 8  # a tree's first starts past the budget are read whole, in C


def _text_prefix(el: etree._Element, n: int) -> tuple[str, bool]:
    """_text_start's answer past its budget. A tree's first _PREFIX_STRINGS such questions are
    answered by string(), in C (one heading over a million empty elements: a walk in Python
    took 40% longer and half as much memory again); after them, by one walk of el's subtree
    that keeps each heading's start (its first `read` characters, and whether it has more), so
    that the headings nested in it are answered from what is kept: string() read the whole text
    again at every level of nested anchored headings over many empty elements (1,000 levels over
    17 MB took 7-26 s). Text as string() reads it, but for an unresolved entity reference,
    which `parse` never leaves in a tree (string() reads its replacement text, the walk nothing)."""
    memo = _prefix_memo()
    known = memo.get(el)
    if known is None or known[0] < n:
        whole_reads = memo.get(None, 0)
        if whole_reads < _PREFIX_STRINGS:
            memo[None] = whole_reads + 1
            whole = _STRING(el)
            return whole[:n], len(whole) > n
        # read further than asked: a heading nested in it that asks for a little more (a longer
        # id) finds it kept, and a page whose ids grow level by level makes a few walks, not one
        # per level
        read = max(2 * n, _PREFIX_MIN)
        walker = etree.iterwalk(el, events=("start", "end", "comment", "pi"))
        stack: list = []  # per open element: [pieces, their length, more]; a kept answer: a tuple
        for ev, e in walker:
            if ev == "start":
                known = memo.get(e)
                if known is not None and known[0] >= read:
                    walker.skip_subtree()  # read before, as far: its end comes next
                    stack.append(known)
                else:
                    t = e.text if isinstance(e.tag, str) else None  # (an entity's text is not text)
                    stack.append([[t], len(t), False] if t else [[], 0, False])
                continue
            if ev == "end":
                f = stack.pop()
                if f.__class__ is tuple:
                    text, more = f[1], f[2]
                else:
                    text, more = "".join(f[0]), f[2]
                if len(text) > read:
                    text, more = text[:read], True
                if f.__class__ is not tuple and (e is el or e.tag in _HEADINGS):
                    memo[e] = (read, text, more)  # (only headings are asked about: see _is_anchor)
                if not stack:
                    break
                p = stack[-1]
                if p[1] <= read:
                    p[0].append(text)
                    p[1] += len(text)
                p[2] = p[2] or more
            elif not stack:
                continue
            else:  # a comment or instruction: only what follows it is text
                p = stack[-1]
            t = e.tail
            if t and p[1] <= read:
                p[0].append(t)
                p[1] += len(t)
        known = memo[el]
    text, more = known[1], known[2]
    return (text[:n], True) if len(text) > n else (text, more)


def _prefix_memo() -> dict:
    """The text starts _text_prefix has read in the tree being read, element -> (the length
    read to, the start, more), and under None how many it has read whole: cleared with the
    lengths (`_forget_text`)."""
    m = getattr(_LOCAL, "text_prefix", None)
    if m is None:
        m = _LOCAL.text_prefix = {}
    return m


def _forget_text() -> None:
    """Drop what was measured of the tree's text (a new tree, or text changed)."""
    _len_memo().clear()
    _prefix_memo().clear()


def _len_memo() -> dict:
    """The text lengths _text_len has measured in the tree being read (cleared by `extract`
    whenever the tree's text changes)."""
    m = getattr(_LOCAL, "text_len", None)
    if m is None:
        m = _LOCAL.text_len = {}
    return m


def _text_len(el: etree._Element) -> int:
    """The length of el's text (string-length()), each element's under it kept: one walk of a
    subtree, however many of its elements are asked about (at every level of a nesting, C's
    string-length() read the whole text again)."""
    memo = _len_memo()
    known = memo.get(el)
    if known is not None:
        return known
    walker = etree.iterwalk(el, events=("start", "end", "comment", "pi"))
    sums: list = []
    for ev, e in walker:
        if ev == "start":
            known = memo.get(e)
            if known is not None:
                walker.skip_subtree()  # measured before: its end comes next
                sums.append(-1 - known)
            else:
                t = e.text if isinstance(e.tag, str) else None  # (an entity's text is not text)
                sums.append(len(t) if t else 0)
        elif ev == "end":
            v = sums.pop()
            v = -1 - v if v < 0 else v
            memo[e] = v
            if sums:
                t = e.tail
                sums[-1] += v + (len(t) if t else 0)
        elif sums:  # a comment or instruction: only what follows it is text
            t = e.tail
            if t:
                sums[-1] += len(t)
    return memo[el]


class _Tune(NamedTuple):
    """How far the choice reaches: --favor precision | balanced | recall."""
    sibling: float      # a sibling joins at this share of the best candidate's score
    inner: float        # ... or when a block inside it scores this share
    prose_siblings: bool  # ... or when it reads like prose (a paragraph, a list of sentences)
    prune_ld: float     # inside the content, blocks with more link text than this go
    prune_short_ld: float  # ... and short blocks (under prune_short_w) with more than this
    prune_short_w: int
    trim_tail: bool = False  # drop short lines without sentence punctuation from the end


FAVOR = {
    "balanced": _Tune(0.2, 0.3, True, 0.6, 0.4, 150),
    "precision": _Tune(0.3, 0.45, False, 0.4, 0.2, 300, True),
    "recall": _Tune(0.12, 0.2, True, 0.75, 0.5, 100),
}
_TABLE_PARTS = frozenset(("tr", "td", "th", "tbody", "thead", "tfoot", "caption", "colgroup", "col"))
# Markers of the main content: <article> and <main> (a tag filter in C), and these attribute
# values, found by one XPath in one call (one walk of the tree in C; a source scan to choose
# which to look for costs more than the walk it saves). The attribute axis: libxml2 tests the
# attribute nodes, not every element's attributes against every value (about a third less time
# on a large page).
_MARKER_TAGS = ("article", "main")
_MARKER_VALUES = {"role": ("main", "article"), "itemprop": ("articleBody", "reviewBody", "text")}
_MARKER_ATTRS = etree.XPath(" | ".join(
    f"descendant::*/@{attr}[" + " or ".join(f".='{v}'" for v in values) + "]"
    for attr, values in _MARKER_VALUES.items()))



def _utf8_parser() -> etree.HTMLParser:
    """The same parser for the page as UTF-8 bytes: libxml2 works in UTF-8, so a str (which lxml
    hands over as Latin-1, UTF-16 or UCS-4) costs it a conversion that encoding in Python saves
    (about a tenth of the parse). The given encoding overrides what the page declares (a <meta>
    charset or an XML declaration): the text is decoded already. No id hash table: nothing
    looks elements up by id. huge_tree: no 10 MB text-node limit and a deeper nesting limit
    (libxml2 still stops at 2,048 open elements: see `_parse_once`)."""
    p = getattr(_LOCAL, "utf8_parser", None)
    if p is None:
        p = _LOCAL.utf8_parser = etree.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, recover=True,
            huge_tree=True, default_doctype=False, collect_ids=False)
    return p


class Extraction(NamedTuple):
    text: str
    title: str
    method: str  # how the content was found: density, density_relaxed, body, all_text, stripped, none


# ---------------------------------------------------------------- measuring


_ASCII_PUNCT = b",;.:!?"


def _measure(s: str) -> tuple[int, int, int]:
    """(weighted length, punctuation count, comma count) of a text piece."""
    s = s.strip()
    if not s:
        return 0, 0, 0
    w = len(s)
    if s.isascii() or _WIDE_RE.search(s) is None:
        # no CJK and no full-width punctuation: the punctuation bytes deleted from the UTF-8 form,
        # in C (their bytes appear in UTF-8 only as themselves), then commas counted only where
        # there is punctuation; three regex scans building lists cost several times as much
        b = s.encode()
        pc = len(b) - len(b.translate(None, _ASCII_PUNCT))
        return (w, pc, s.count(",") + s.count(";")) if pc else (w, 0, 0)
    # runs, not characters: one match per run of CJK text instead of one per character
    w += (_CJK_WEIGHT - 1) * _cjk_chars(s)
    pc = len(_PUNCT_RE.findall(s))
    if " " in s or "\n" in s or "\xa0" in s:  # (no white space, no gap: no scan)
        pc += len(_SPACED_GAP_RE.findall(s))
    return w, pc, len(_COMMA_RE.findall(s))


def _ends_sentence(text: str) -> bool:
    """`text` ends a sentence: a full stop, question or exclamation mark of any script (closing
    quotes after it), or in Thai and Lao a letter at the end of a text of a clause or more."""
    if _SENT_END_RE.search(text) is not None:
        return True
    return len(text.strip()) >= _SPACED_SENTENCE and _SPACED_END_RE.search(text) is not None


_COLLAPSE_CHUNK = 1 << 16
_SPACE_RE = re.compile(r"\s")  # (str.split's white space, as in _join)


def _collapse(s: str) -> str:
    """`s` with its white-space runs made single spaces and stripped: " ".join(s.split()), in
    pieces of about _COLLAPSE_CHUNK characters cut at white space, so that a long text holds a
    list of its words only a piece at a time (6 million two-letter words took 25 times the
    page's memory as one list)."""
    n = len(s)
    if n <= _COLLAPSE_CHUNK:
        return " ".join(s.split())
    parts = []
    i = 0
    while i < n:
        j = min(i + _COLLAPSE_CHUNK, n)
        if j < n:  # a word is never cut: on to the next white space
            m = _SPACE_RE.search(s, j)
            j = n if m is None else m.start()
        words = s[i:j].split()
        if words:
            parts.append(" ".join(words))
        i = j
    return " ".join(parts)


# A class or id value is judged by its first _CLASS_CHARS characters: the longest on the
# development pages holds 4,334 (a utility-class list), and the class-word patterns cost up to
# 1 µs a character of a value made of the letters that start many of their words (a hostile
# page of one 19 MB attribute of c's took 13 s, past the 10 s bound of such pages)
_CLASS_CHARS = 1 << 14


def _class_weight(el: etree._Element) -> int:
    w = 0
    for v in (el.get("class"), el.get("id")):
        if v:
            if len(v) > _CLASS_CHARS:
                v = v[:_CLASS_CHARS]
            vw = _WORD_WEIGHTS.get(v)
            if vw is None:
                if len(_WORD_WEIGHTS) > 50_000:  # bounded, like _CLASS_VERDICTS
                    _WORD_WEIGHTS.clear()
                vw = _WORD_WEIGHTS[v] = _word_weight(v)
            w += vw
    return w


def _word_weight(v: str) -> int:
    """readability's class weight of `v`, read lower-cased (`_folded`) by case-sensitive
    patterns, which the regex engine skips through to a possible first letter (the case-blind
    ones try every position: about 200 ns a character, seconds for a class attribute of
    megabytes): the same verdicts; `story`'s look-behind is checked by the full pattern once
    the plain words match."""
    low = _folded(v)
    pos = _POS_LOW.search(low) is not None and _POS_W.search(v) is not None
    return (25 if pos else 0) - (25 if _NEG_LOW.search(low) else 0)


# The four characters outside ASCII that a case-blind pattern matches to an ASCII letter (İ ı
# to i, ſ to s, the Kelvin sign to k), and the only ones that lower-case to one
_ASCII_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _folded(v: str) -> str:
    """`v` lower-cased so that case-sensitive patterns of lower-case ASCII words match it where
    the same patterns case-blind (re.I) match `v`."""
    return v.lower() if v.isascii() else v.translate(_ASCII_FOLD).lower()

_WORD_WEIGHTS: dict[str, int] = {}


def _class_id(el: etree._Element) -> str:
    """el's class and id as one string of words ("" when it has neither), each value's first
    _CLASS_CHARS characters."""
    return " ".join(v if len(v) <= _CLASS_CHARS else v[:_CLASS_CHARS]
                    for v in (el.get("class"), el.get("id")) if v)


_NO, _HIDDEN, _BOILER, _WORDS = 0, 1, 2, 3
# a hiding class name ("hidden", "d-none"): dropped like _BOILER (it does not override the
# protection of the main content's wrappers), and kept among the hidden blocks a script may show
_HIDDEN_CLS = 4
_SLUG_RE = re.compile(r"[^\W_]+")


def _is_boiler(el: etree._Element, tag: str, level: int, keys: list) -> int:
    """_HIDDEN (hidden attribute/style/ARIA), _BOILER (tag or role), _WORDS (class/id words:
    weaker evidence, see _Analysis) or _NO. `level`: 0 strict; 1 only the words that name a
    widget (comments, related, share, ...) count, not layout words (widget, sidebar, header,
    meta, ...); 2 relaxed, no tag or class/id pruning. `keys`: el.keys(), not empty (the names
    only: the values of the other attributes, links and image sources, are a page's size again
    and never read)."""
    cls = idv = None
    for k in keys:
        if k == "class":
            cls = el.get(k)
        elif k == "id":
            idv = el.get(k)
        elif k == "style":
            if _HIDDEN_STYLE.search(el.get(k)):
                return _HIDDEN
        elif k == "hidden":
            # hidden="until-found": a collapsed section (an accordion's) that the browser opens
            # when find-in-page or a link reaches its text: content, like a closed <details>
            if el.get(k).lower() != "until-found":
                return _HIDDEN
        elif k == "aria-hidden":
            if el.get(k) == "true":
                return _HIDDEN
        elif k == "role":
            if el.get(k).lower() in _BOILER_ROLES:
                return _BOILER
    if level == 2:
        return _NO
    if tag in _BOILER_TAGS:
        return _BOILER
    if cls and len(cls) > _CLASS_CHARS:
        cls = cls[:_CLASS_CHARS]
    if idv and len(idv) > _CLASS_CHARS:
        idv = idv[:_CLASS_CHARS]
    ci = cls + " " + idv if cls and idv else cls or idv
    if not ci:
        return _NO
    verdict = _CLASS_VERDICTS.get(ci)
    if verdict is None:
        verdict = _class_verdict(ci)
    if level and verdict == _WORDS and not _STRONG_NEG.search(ci):
        return _NO
    if (verdict and idv and _anchor_shaped(idv)
            and not (cls and _class_verdict(cls)) and _is_anchor(el, idv)):
        verdict = _NO  # only the id spoke, and it is a heading's anchor
    return verdict


def _class_verdict(ci: str) -> int:
    verdict = _CLASS_VERDICTS.get(ci)
    if verdict is None:
        if len(_CLASS_VERDICTS) > 50_000:  # bounded: class strings repeat within and across pages
            _CLASS_VERDICTS.clear()
        verdict = _CLASS_VERDICTS[ci] = _class_says_boiler(ci)
    return verdict


_EXPANDER_RE = re.compile(r"(?:^|[\s_\-])read-?more", re.I)


def _expander(el: etree._Element) -> bool:
    """class/id words that say only "read more": a list of links to other stories as often as
    the rest of the article behind an expander (<div id="read-more"> holding its paragraphs).
    Such a block is soft: measured and scored like any other, dropped unless it is where the
    article's text is (see _pick)."""
    ci = _class_id(el)
    if not _EXPANDER_RE.search(ci):
        return False
    rest = _EXPANDER_RE.sub(" ", ci).strip()
    return not rest or not _class_verdict(rest)


_TEXINFO_ESC_RE = re.compile(r"_00([0-9a-f]{2})", re.I)


def _anchor_shaped(idv: str) -> bool:
    """An id of three words or more, or of two that name no widget: "security-headers" may be
    a section's anchor, "related-posts" is the widget's name whatever its heading says."""
    n = idv.count("-") + idv.count("_")
    return n >= 2 or n == 1 and not _STRONG_NEG.search(idv)


def _is_anchor(el: etree._Element, idv: str) -> bool:
    """An id spelled from the element's own heading ("sharing-with-a-single-developer" on a
    section headed "Sharing with a single developer", "security-headers" on "Security Headers")
    is a link anchor, not a component name: documentation and wiki generators make them, in any
    language. (A short one proves nothing: <div id="comments"><h3>Comments</h3> is the widget;
    see _anchor_shaped.)"""
    two = idv.count("-") + idv.count("_") == 1
    if "_00" in idv:  # Texinfo spells a heading's punctuation in ids as _00XX ("Link_002dTime")
        idv = _TEXINFO_ESC_RE.sub(lambda m: chr(int(m.group(1), 16)), idv)
    for child in el[:3]:
        if child.tag in _HEADINGS:
            # only the heading's start can match an id: read that much of it (a heading of 1 MB
            # nested 1,000 deep, each level slugged whole, took 37 s); a longer heading never
            # is the id's start
            m = 4 * len(idv) + 256
            head, long_head = _text_start(child, m)
            h = "".join(_SLUG_RE.findall(head.lower()))
            i = "".join(_SLUG_RE.findall(idv.lower()))
            if len(i) >= 4 and h.startswith(i):
                return True
            # a section number before the heading's words ("3.1.4. dpkg-shlibdeps - ...") is
            # often left out of the anchor
            hs = h.lstrip("0123456789")
            if len(i) >= 4 and hs != h and hs.startswith(i.lstrip("0123456789")):
                return True
            # a heading that spells the id's start ("Sharing" on "sharing-with-a-team"); not
            # for a two-word id: "Contact" heads the widget "contact-box"
            return not two and not long_head and len(h) >= 4 and i.startswith(h)
    return False


_CLASS_VERDICTS: dict[str, int] = {}


# Display utility classes (Bootstrap "d-none", Tailwind "hidden"): hidden unless a breakpoint
# shows the element again ("d-none d-md-block", "hidden lg:flex": a desktop-only block is shown
# to desktop readers; "d-print-block" is print only)
_D_NONE = re.compile(r"(?:^|\s)d-none(?=$|\s)")
_SHOWN_AT = re.compile(r"(?:^|\s)(?:d-(?:sm|md|lg|xl|xxl)-|(?:sm|md|lg|xl|2xl):)(?:block|flex|inline|inline-block|"
                       r"inline-flex|grid|table|contents)(?=$|\s)")


# Necessary conditions of the class/id patterns: their words lower-cased, matched
# case-sensitively on the string lower-cased by `_folded` (which keeps every match), without the
# boundary before the word and with looser look-aheads after it. The regex engine skips
# straight to a possible first letter there (under re.I it tries every position), so the full
# pattern runs only on the strings where it may match: the same verdicts, a third of the time
# on a page's new class strings.
_HIDDEN_PRE = re.compile(r"hid|sr-only|screen-reader-text|invisible|display-none")
_STRONG_PRE = re.compile(
    r"comment|disqus|respond|repl|shar|social|related|recommend|recirc|breadcrumb|outbrain|taboola|"
    r"zergnet|sponsor|advert|adsense|ad(?:s|vert)?(?=$|[\s_\-\d])|adslot|adunit|cookie|consent|gdpr|"
    r"newsletter|subscri|sign-?up|popup|modal|overlay|promo|trending|most-?popular|more-?stories|"
    r"read-?more|also-?read|next-?post|prev-?post|author|about-?author|bio|skip|print-?only|pinglun|"
    r"xiangguan|fenxiang|tuijian")
_META_PRE = re.compile(r"(?:byline|dateline|date|timestamp|meta|caption|credits?|copyright|tags)(?=$|\s)")
_WEAK_PRE = re.compile(
    r"side|aside|foot|header|masthead|menu|nav|topbar|top-bar|toolbar|banner|widget|tag|pag|login|rss|"
    r"copyright|contact|byline|date|timestamp|meta|caption|credit|shopping|bottom|link|galler|slideshow|carousel|slider")
# plain alternations of lower-case words: on the folded string, exactly the same test
_OK_MAYBE_LOW = re.compile(_OK_MAYBE.pattern)


def _class_says_boiler(ci: str) -> int:
    return _class_verdict_of(ci, _folded(ci))


def _class_verdict_of(ci: str, low: str | None) -> int:
    """The verdict on a class/id string; `low`: ci lower-cased by `_folded`, for the
    necessary conditions above (None: the full patterns alone)."""
    if (":" in ci or "d-" in ci) and _SHOWN_AT.search(ci):
        pass  # shown at some screen width: no hiding class counts
    elif ((low is None or _HIDDEN_PRE.search(low)) and _HIDDEN_CLASS.search(ci)
          or "d-none" in ci and _D_NONE.search(ci)):
        # a class name is weaker evidence than a style: it does not override protection; but it
        # says "not shown", not "a widget", so it is no soft verdict either
        return _HIDDEN_CLS
    if (low is None or _STRONG_PRE.search(low)) and _STRONG_NEG.search(ci):
        # a token naming a widget ("related-posts", "post-comments", "article-share") is one,
        # whatever content word it also holds; only a whole token like "content" or
        # "entry-content" beside it vetoes ("box article modal-x"). ("read more" alone is
        # softer, see _expander.)
        toks = ci.split()
        if not _OK_TOKENS.isdisjoint(t.lower() for t in toks):
            return _NO
        for tok in toks:  # in their case: "emailSignup" is two words
            if _STRONG_NEG.search(tok):
                return _WORDS
    if (low is None or _META_PRE.search(low)) and _META_END.search(ci):
        # a token ending in a metadata word names that part of the story ("ap-story-byline",
        # "entry-meta", "articleCaption"), not the story: the content word does not veto
        return _WORDS
    if low is None:
        return _WORDS if _WEAK_NEG.search(ci) and not _OK_MAYBE.search(ci) else _NO
    return _WORDS if _WEAK_PRE.search(low) and _WEAK_NEG.search(ci) and not _OK_MAYBE_LOW.search(low) else _NO


_META_END = re.compile(r"(?:[\s_\-]|(?-i:(?<=[a-z])(?=[A-Z])))(?:byline|dateline|date|timestamp|meta|caption|credits?|copyright|tags)"
                       r"(?=$|\s)", re.I)


def _says_boiler(el: etree._Element) -> bool:
    """el's class/id words call it boilerplate ("related_posts", "comment-list", "aside")."""
    ci = _class_id(el)
    return bool(ci) and _class_verdict(ci) == _WORDS


def _is_main_marker(el: etree._Element, tag: str) -> bool:
    if tag in ("article", "main"):
        return True
    a = el.attrib
    return a.get("role") in _MAIN_ROLES or a.get("itemprop") in ("articleBody", "text", "reviewBody")


# ---------------------------------------------------------------- analysis


def _main_markers(body: etree._Element) -> list:
    """<article> and <main> elements in document order, then the elements carrying a marker
    attribute, in document order, once each (one element may carry both role=main and
    itemprop=articleBody)."""
    found = list(body.iter(*_MARKER_TAGS))  # (the body itself included, as descendant-or-self)
    seen: set = set()
    for a in _MARKER_ATTRS(body):  # attribute values, in document order (each element's parent)
        el = a.getparent()
        if el not in seen:
            seen.add(el)
            found.append(el)
    return found


class _Analysis:
    """Stats of one walk over the body: per element (weight, link weight, punctuation),
    paragraph-propagated content scores, and the set of boilerplate subtrees."""

    __slots__ = ("stats", "scores", "drop", "total", "body", "layout", "soft", "eff_drop", "outer",
                 "outer_memo", "tune", "hidden", "heads")

    def __init__(self, body: etree._Element, level: int, tune: _Tune = FAVOR["balanced"]):
        self.body = body
        self.tune = tune
        protect: set = set()
        markers = _main_markers(body)
        mset = set(markers)
        # the outermost article markers (<article>, articleBody, role=article; not <main>, which
        # often wraps a whole column with its sidebars)
        arts = [m for m in markers if m.tag == "article" or m.get("role") == "article"
                or m.get("itemprop") in ("articleBody", "reviewBody", "text")]
        outer: dict = dict.fromkeys(_outermost(arts, set(arts)), True)
        outer_memo: dict = {}
        # the wrappers of the page's story, its one outermost article or the one holding most
        # text by far (teaser <article>s beside it hold little): layout words in their class/id
        # ("widget Blog", "sidebar-layout") do not drop it (a widget or comment word does).
        # Which article is the story is settled only when such a wrapper turns up (its text
        # measured then, once).
        art_anc = _ancestors(outer)
        art_wrap: set | None = None
        soft: set = set()  # elements inside an article that class/id words alone call boilerplate
        # ancestors of the main content are never boilerplate; only outermost markers count
        # (comments are often <article>s too)
        tops = _outermost(markers, mset)
        # a run of markers under one wrapper whose class/id calls it boilerplate ("related_posts"
        # holding teaser <article>s, "comments" holding comment <article>s, a sidebar's latest
        # posts) is that block's listing, not the page's story: the wrapper keeps its verdict
        # (a layout word on a wrapper of the story itself does not drop it, see art_wrap)
        runs: dict = {}  # ancestor -> markers under it, counted up to 2 (only "more than one" matters)
        if len(tops) > 1:
            for m in tops:
                p = m.getparent()
                while p is not None:
                    c = runs.get(p, 0)
                    if c > 1:  # and so are all its ancestors: each node is counted twice at most
                        break
                    runs[p] = c + 1
                    p = p.getparent()
        for m in tops:
            p = m
            while p is not None:
                if p in protect:
                    break
                if runs.get(p, 0) > 1 and p is not body and _says_boiler(p):
                    break
                protect.add(p)
                p = p.getparent()
        total_raw = int(_STRLEN(body))  # counted in C: no copy of the page's text
        stats: dict = {}
        scores: dict = {}
        drop: set = set()
        hidden: list = []  # (element, length of its text): the hidden subtrees left out
        heads: list = []  # the headings met (outside what was dropped), in document order
        # tables whose cells hold blocks (layout tables: cells are blocks, not " | " cells);
        # found during the walk, since a per-table XPath is cubic in nested tables
        layout: set = set()
        # [table, open cells, a block in the open cell, weight of the cells holding blocks, any]
        tstack: list = []
        # frame: [el, tag, is_block, w, lw, pc, iw, ic, score, dropped, has_block_child]
        stack: list = []
        kept: set = set()  # boilerplate-looking blocks kept (holding most of the page, or a lead)
        kept_n = 0  # ... open around the element now
        walker = etree.iterwalk(body, events=("start", "end"))
        block_tags = _BLOCK_TAGS
        boiler_tags = () if level == 2 else _BOILER_TAGS
        measure = _measure
        for ev, el in walker:
            if ev == "start":
                tag = el.tag
                if not isinstance(tag, str):  # entities and the like: only their tail counts
                    walker.skip_subtree()
                    stack.append([el, "", False, 0, 0, 0, 0, 0, 0.0, True, False])
                    continue
                keys = el.keys()  # one C call; el.attrib would build a proxy per element
                if keys:
                    verdict = _is_boiler(el, tag, level, keys) if el is not body else _NO
                else:
                    verdict = _BOILER if tag in boiler_tags and el is not body else _NO
                if verdict:  # (most elements have none: one test for them)
                    if verdict == _WORDS and tag not in block_tags and _in_running_text(el):
                        # a link or span in the middle of a sentence is part of it: dropping it cuts
                        # words out of the sentence. A link's class says how it behaves ("js_link",
                        # "popup"), so any class word; a span's only a layout word ("meta-tooltip"):
                        # a span named for a widget ("noprint ilh-comment") is an aside.
                        verdict = _in_sentence_verdict(el, tag)
                    # Hidden elements go even around an articleBody (a display:none schema.org
                    # copy of the article); words and tags never drop the main content's wrappers.
                    # Either way a "sidebar" holding most of the page is a layout wrapper.
                    if verdict and kept_n >= _KEPT_NEST:
                        # inside _KEPT_NEST boilerplate-looking blocks in a row, each kept for holding
                        # most of the page (or a lead): a wrapper too, not measured (each measure reads
                        # the whole text again: 2,000 of them over 19 MB took 41 s)
                        verdict = _NO
                    if verdict == _BOILER and tag == "header" and (
                            _section_header(el) or outer and _outer_marker(el, outer, outer_memo) is not None
                            and _lead_header(el)):
                        verdict = _NO
                        kept.add(el)
                        kept_n += 1
                    if verdict == _WORDS and el in art_anc:
                        if art_wrap is None:
                            art_wrap = _story_wrappers(list(outer))
                        if el in art_wrap and not _STRONG_NEG.search(_class_id(el)):
                            verdict = _NO
                    if verdict and (verdict == _HIDDEN or el not in protect):
                        if verdict == _WORDS and (outer and _outer_marker(el, outer, outer_memo) is not None
                                                  or _expander(el)):
                            # Inside <article>/<main>/articleBody class words do not veto: the
                            # block is measured and scored like any other, and dropped only where
                            # it is not the block that holds the article's text (a
                            # "layout-sidebar-right" or "share-zone" wrapper of the article text
                            # stays, a "share-bar" beside it goes). See _pick.
                            soft.add(el)
                            verdict = _NO
                        n = int(_STRLEN(el)) if verdict else 0
                        if verdict and n < _GUARD_SHARE * total_raw:
                            walker.skip_subtree()
                            drop.add(el)
                            if verdict == _HIDDEN or verdict == _HIDDEN_CLS:
                                hidden.append((el, n))
                            stack.append([el, tag, True, 0, 0, 0, 0, 0, 0.0, True, False])
                            continue
                        if verdict:  # kept: it holds most of the page
                            kept.add(el)
                            kept_n += 1
                isblock = tag in block_tags
                f = [el, tag, isblock, 0, 0, 0, 0, 0, 0.0, False, False]
                if isblock:
                    if tag in _HEADINGS:
                        heads.append(el)
                    if tstack:
                        if tag == "td" or tag == "th":
                            tstack[-1][1] += 1
                            tstack[-1][2] = False
                        elif tstack[-1][1] and tag not in _TABLE_PARTS:
                            tstack[-1][2] = tstack[-1][4] = True
                    if tag == "table":
                        tstack.append([el, 0, False, 0, False])
                t = el.text
                if t and not t.isspace():  # most text nodes are indentation: no call for them
                    w, pc, cc = measure(t)
                    f[3] = f[6] = w
                    f[5] = pc
                    f[7] = cc
                stack.append(f)
                continue
            # end
            f = stack.pop()
            if kept_n and f[0] in kept:
                kept_n -= 1
            parent = stack[-1] if stack else None
            if not f[9]:
                tag = f[1]
                w = f[3]
                if tstack:
                    if tag == "td" or tag == "th":
                        t = tstack[-1]
                        t[1] -= 1
                        if t[2]:
                            t[3] += w
                            t[2] = False
                    elif tag == "table":
                        t = tstack.pop()
                        # a layout table's cells are blocks: the cells holding blocks hold much
                        # of its text (one description cell with a <p> in a long data table
                        # does not make it one)
                        if t[4] and (t[3] >= _LAYOUT_SHARE * w or not w):
                            layout.add(el)
                if f[2]:
                    stats[el] = (w, f[4], f[5])
                    # a paragraph is text of its own: a block with no child blocks whose
                    # inline text is a link plus a count or date ("<a>Name</a> (31)": a label
                    # list, an archive) is no paragraph, however many of them a list holds
                    if (f[6] >= _MIN_PARA and tag not in _HEADINGS
                            and (f[10] or f[6] - f[4] >= _MIN_PARA)):
                        s = 1.0 + f[7] + min(f[6] // 100, 3)
                        n = len(stack)
                        if f[10]:
                            # inline text beside child blocks: an implicit paragraph inside
                            # this element (readability wraps such runs in <p>)
                            f[8] += s
                            if n:
                                stack[-1][8] += s / 2
                                if n > 1:
                                    stack[-2][8] += s / 6
                        elif n:
                            stack[-1][8] += s
                            if n > 1:
                                stack[-2][8] += s / 2
                                if n > 2:
                                    stack[-3][8] += s / 6
                    if f[8] > 0:
                        scores[el] = f[8]
                if parent is not None:
                    if f[2]:
                        parent[10] = True
                    parent[3] += w
                    parent[5] += f[5]
                    parent[4] += w if tag == "a" else f[4]
                    if not f[2]:
                        parent[6] += f[6]
                        parent[7] += f[7]
            if parent is not None:
                t = el.tail
                if t and not t.isspace():
                    w, pc, cc = measure(t)
                    if w:
                        parent[3] += w
                        parent[5] += pc
                        parent[6] += w
                        parent[7] += cc
        self.stats = stats
        self.scores = scores
        self.drop = drop
        self.hidden = hidden
        self.soft = soft
        self.outer = outer  # the outermost article markers, in document order (a dict: membership)
        self.outer_memo = outer_memo
        # what serialising leaves out: the drops, and the soft blocks _pick did not choose
        self.eff_drop = drop | soft if soft else drop
        self.layout = layout
        self.heads = heads
        st = stats.get(body, (0, 0, 0))
        self.total = st[0] - st[1]  # text outside links


_SUBHEADS = frozenset(("h2", "h3", "h4", "h5", "h6"))
_SECTION_HEADER_MAX = 200


def _section_header(el: etree._Element) -> bool:
    """A <header> that is a section's heading (HTML5 lets every <section> have one): a
    subheading (h2-h6) and nothing else worth a site header, no links, little text. It is part
    of the text, not the page's banner. (The cheap tests first, the text read no further than
    the bound: nested headers around the page's text were each read whole.)"""
    if not any(c.tag in _SUBHEADS for c in el):
        return False
    if _text_longer(el, _SECTION_HEADER_MAX):
        return False
    return el.find(".//a") is None


_LEAD_MIN = 80  # characters of a lead paragraph in an article's <header>


def _lead_header(el: etree._Element) -> bool:
    """A <header> inside an article holding its lead: a block of running text without links
    that ends in a sentence end (in any script), amid a header that is not made of links. Its
    headline, dateline and lead are the article's; its own widgets are judged by their names."""
    total = len(_STRING(el))
    if not total:
        return False
    links = sum(len(_STRING(a)) for a in el.iter("a"))
    if 3 * links > total:
        return False
    for b in el.iter("p", "div"):
        # the cheap tests first: on nested <div>s only the innermost reads its text (each
        # reading its whole subtree's took 12 s for 2,000 levels over 600 KB)
        if (any(c.tag in _BLOCK_TAGS for c in b) or b.find(".//a") is not None
                or b.find(".//div") is not None or b.find(".//p") is not None):
            continue
        t = _STRING(b).strip()
        if _weight(t) >= _LEAD_MIN and _ends_sentence(t):
            return True
    return False


def _story_wrappers(outer: list) -> set:
    """The ancestors of the story among the outermost article markers: the only one, or the
    one holding _STORY_LEAD times the text of any other (none when no article stands out)."""
    story = outer[0] if len(outer) == 1 else None
    if len(outer) > 1:
        sizes = sorted(((len(_STRING(m)), i, m) for i, m in enumerate(outer)), reverse=True)
        if sizes[0][0] >= _STORY_LEAD * sizes[1][0]:
            story = sizes[0][2]
    wrap: set = set()
    p = story.getparent() if story is not None else None
    while p is not None:
        wrap.add(p)
        p = p.getparent()
    return wrap


def _in_running_text(el: etree._Element) -> bool:
    """An inline element with text on both sides of it in its block (through up to four inline
    wrappers: <p>... <span><a>x</a></span> ...</p>)."""
    before = after = False
    e = el
    for _ in range(4):
        p = e.getparent()
        if p is None:
            break
        if not before:
            prev = e.getprevious()
            t = prev.tail if prev is not None else p.text
            before = bool(t) and not t.isspace()
        if not after:
            t = e.tail
            after = bool(t) and not t.isspace()
        if before and after or p.tag in _BLOCK_TAGS:
            break
        e = p
    return before and after


def _in_sentence_verdict(el: etree._Element, tag: str) -> int:
    if tag == "a":
        return _NO
    ci = _class_id(el)
    return _WORDS if _STRONG_NEG.search(ci) else _NO


def _outer_marker(el: etree._Element, outer, memo: dict) -> etree._Element | None:
    """The nearest ancestor of `el` in `outer` (a set or dict), None when there is none. `memo`
    keeps each ancestor's answer, so asking for every element of a deep page walks each
    ancestor once, not once per element under it."""
    p = el.getparent()
    return None if p is None else _nearest(p, outer.__contains__, memo)


def _nearest(el: etree._Element, hit, memo: dict) -> etree._Element | None:
    """The nearest of `el` and its ancestors for which `hit` is true (None when none is);
    `memo` keeps each node's answer for later calls."""
    path = []
    p = el
    found = None
    while p is not None:
        if p in memo:
            found = memo[p]
            break
        path.append(p)
        if hit(p):
            found = p
            break
        p = p.getparent()
    for q in path:
        memo[q] = found
    return found


def _ancestors(items) -> set:
    """Every ancestor of the items (each walked once: a walk stops where another began)."""
    anc: set = set()
    for m in items:
        p = m.getparent()
        while p is not None and p not in anc:
            anc.add(p)
            p = p.getparent()
    return anc


def _outermost(items: list, members) -> list:
    """The items (in order) none of whose ancestors is in `members`: with _outer_marker's memo,
    the work grows with the tree, not with the items times their depth (40,000 <article>s under
    2,000 levels took 15 s)."""
    memo: dict = {}
    return [m for m in items if _outer_marker(m, members, memo) is None]


def _link_density(st: tuple[int, int, int]) -> float:
    return st[1] / st[0] if st[0] else 1.0


_TAG_BASE = {"div": 5, "article": 10, "main": 5, "section": 3, "pre": 3, "td": 3, "blockquote": 3,
             "address": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3, "dt": -3, "li": -3,
             "form": -3, "th": -5}


_SECTION_LD = 0.1  # a sibling <div>/<section> of the choice joins as prose with at most this link share


def _pick(an: _Analysis, use_weights: bool) -> list[etree._Element]:
    """The main-content subtrees, in document order (empty when nothing scores). Soft blocks
    (class words inside the article) that hold or wrap the chosen content are kept; the others
    are left out when serialising."""
    roots, best = _pick_roots(an, use_weights)
    if an.soft:
        keep = set()
        walked: set = set()  # each ancestor walked once (many roots under a deep chain)
        for el in ([best] if best is not None else []) + roots:
            p = el
            while p is not None and p not in walked:
                walked.add(p)
                if p in an.soft:
                    keep.add(p)
                p = p.getparent()
        rset = set(roots)
        in_roots: dict = {}  # _outer_marker's memo: whether an element lies inside a root

        def inside_roots(el: etree._Element) -> bool:
            return _outer_marker(el, rset, in_roots) is not None

        # a soft block inside the chosen content that scores like the best candidate holds
        # the article's text (the wrapper of the paragraphs), not a widget beside them
        bar = 0.5 * an.scores.get(best, 0.0)
        for el in an.soft:
            if el not in keep and an.scores.get(el, 0.0) >= bar > 0 and inside_roots(el):
                keep.add(el)
        # the soft blocks built like a kept one (siblings of its tag and class: the sections
        # of one template, "section--ads" on each) are more of the article's text, unless
        # made of links; each parent's children read once
        names: dict = {}  # parent -> {(tag, first class word)} of its kept children
        for el in keep:
            cls = el.get("class")
            p = el.getparent()
            if not cls or not cls.split() or p is None:
                continue
            # the block's name ("TestReport__Section"), before its modifiers
            names.setdefault(p, set()).add((el.tag, cls.split()[0]))
        for p, kinds in names.items():
            for sib in p:
                if sib in an.soft and sib not in keep:
                    words = (sib.get("class") or "").split()
                    if words and (sib.tag, words[0]) in kinds:
                        st = an.stats.get(sib)
                        if st is not None and st[2] and _link_density(st) < 0.3:
                            keep.add(sib)
        # a subheading inside the chosen content that a class/id word made soft ("header_sub",
        # "section-meta-title") is the heading of the text after it when that text stays
        for el in an.soft:
            if el.tag in _SUBHEADS and el not in keep and el.find(".//a") is None:
                nxt = el.getnext()
                while nxt is not None and not isinstance(nxt.tag, str):
                    nxt = nxt.getnext()
                if (nxt is not None and nxt not in an.drop and nxt not in an.soft
                        and nxt.tag not in _HEADINGS and not _text_longer(el, _SECTION_HEADER_MAX)
                        and inside_roots(el)):
                    keep.add(el)
        an.eff_drop = an.drop | (an.soft - keep)
        if keep:
            roots = [r for r in roots if r not in an.eff_drop]
    return roots


def _pick_roots(an: _Analysis, use_weights: bool) -> tuple[list, etree._Element | None]:
    stats, drop = an.stats, an.eff_drop
    final: dict = {}
    ranking: dict = {}  # the scores that choose the top candidate
    for el, sc in an.scores.items():
        st = stats[el]
        base = _TAG_BASE.get(el.tag, 0)
        if use_weights:
            base += _class_weight(el)
            if _is_main_marker(el, el.tag):
                base += 15
        if base < -0.5 * sc and el in an.soft:
            # inside the article a "sidebar" class can halve a score, not zero it
            base = -0.5 * sc
        keep = 1.0 - _link_density(st)
        final[el] = f = (sc + base) * keep
        # names and tags nudge a candidate; they do not make the top one out of a caption
        # ("storytop" on a video teaser must not outscore the story's paragraphs). Siblings of
        # the top keep their nudge: a card of the article's own class joins it.
        ranking[el] = (sc + sc) * keep if base > sc and st[0] < _MIN_ACCEPT else f
    if not final:
        return [], None
    ranked = sorted(ranking.items(), key=lambda kv: kv[1], reverse=True)
    top, top_score = ranked[0]
    if top_score <= 0:
        return [], None
    best = top
    # Several strong candidates under one ancestor: the article is split into sections.
    strong = [el for el, s in ranked[1:5] if s >= 0.75 * top_score]
    if len(strong) >= 2:
        above = [set(el.iterancestors()) for el in strong]  # (each chain walked once, not per step)
        anc = top.getparent()
        while anc is not None and anc is not an.body:
            if sum(1 for a in above if anc in a) >= 2:
                top = anc
                break
            anc = anc.getparent()
    # Climb while the parent scores better (its paragraphs are ours plus more).
    last = final.get(top, top_score)
    threshold = last / 3
    p = top.getparent()
    while p is not None and p is not an.body:
        ps = final.get(p)
        if ps is None:
            p = p.getparent()
            continue
        if ps < threshold:
            break
        if ps > last:
            top = p
            break
        last = ps
        p = p.getparent()
    # An only child says nothing on its own: take the parent.
    p = top.getparent()
    while p is not None and p is not an.body and len(p) == 1:
        top, p = p, p.getparent()
    top_score = final.get(top, top_score)

    parent = top.getparent()
    if parent is None:
        return [top], best
    out = []
    tune = an.tune
    thresh = max(10.0, top_score * tune.sibling)
    top_cls = top.get("class")
    # best candidate inside each sibling: an article split into sibling sections scores
    # deep inside each section, not on the section itself
    inner: dict = {}
    top_w = stats[top][0] if top in stats else 0
    child_of: dict = {}  # node -> the child of `parent` it lies in (None: not under it), kept
    for el, sc in final.items():  # so each ancestor is walked once, not once per scored block
        prev = _nearest(el, lambda q: q.getparent() is parent, child_of)
        # ... and is itself a sizeable block, not one teaser card among many
        if (prev is not None and prev is not el and sc > inner.get(prev, 0.0)
                and stats[el][0] >= 0.2 * top_w):
            inner[prev] = sc
    for sib in parent:
        if sib is top:
            out.append(sib)
            continue
        if not isinstance(sib.tag, str) or sib in drop:
            continue
        st = stats.get(sib)
        if st is None or st[0] == 0:
            continue
        if st[0] < _SHORT and _label_rows(sib):
            continue  # the article's facts box (date, author, tags, permalink), not its text
        if (sib.tag == "header" and use_weights and an.outer
                and _outer_marker(sib, an.outer, an.outer_memo) is not None):
            out.append(sib)  # the article's header kept for its lead (see _lead_header)
            continue
        bonus = top_score * 0.2 if top_cls and sib.get("class") == top_cls else 0.0
        sc = final.get(sib)
        if sc is not None and sc + bonus >= thresh:
            out.append(sib)
            continue
        ld = _link_density(st)
        if inner.get(sib, 0.0) >= tune.inner * top_score and ld < 0.3:
            out.append(sib)
            continue
        if tune.prose_siblings and sib.tag in ("p", "blockquote", "pre", "ul", "ol", "table"):
            if st[0] > 80 and ld < 0.25 and st[2] >= 2:
                out.append(sib)
            elif sib.tag == "p" and 0 < st[0] and ld == 0 and _ends_sentence(_STRING(sib)):
                out.append(sib)
        elif (tune.prose_siblings and top_cls and sib.tag == top.tag and sib.get("class") == top_cls
              and st[0] > 80 and ld < _SECTION_LD and st[2] >= 2 and st[2] * _EXTENT_PUNCT >= st[0]):
            # a section of the article built like the chosen one (a CMS wraps each content
            # element in the same layout divs, too deep for its paragraphs to score on it):
            # plain punctuated text joins
            out.append(sib)
    return out, best


_LABEL_TAGS = frozenset(("strong", "b", "dt", "th", "label"))
_LABEL_MAX = 40    # characters of a row's label ...
_LABEL_ROW_MAX = 120  # ... and of the whole row
_LABEL_ROWS = 3


def _label_rows(el: etree._Element) -> bool:
    """`el` is a block of label + value rows ("<li><strong>Date</strong> 19.01.2020</li>",
    "<dt>作者</dt><dd>...</dd>", a permalink or print row): every row (a list item, table row,
    paragraph or definition term) starts with a short bold or term label and is short itself,
    and there are several. Told by markup, not by the labels' words (any language)."""
    rows = labelled = 0
    for r in el.iter("li", "tr", "p", "dt"):
        rows += 1
        if rows > 4 * _LABEL_ROWS + 8:
            return False  # a long list is no facts box
        row = _STRING(r)
        if r.tag == "dt":
            lab = r
            dd = r.getnext()
            if dd is not None and dd.tag == "dd":
                row += _STRING(dd)
        else:
            if r.text and not r.text.isspace():
                continue
            lab = None
            for c in r.iter():
                if c is not r and isinstance(c.tag, str):
                    lab = c
                    break
            if lab is None or lab.tag not in _LABEL_TAGS:
                continue
        lt = _STRING(lab).strip()
        if not lt or len(lt) > _LABEL_MAX or len(row.strip()) > _LABEL_ROW_MAX:
            continue
        labelled += 1
    return labelled >= _LABEL_ROWS and labelled * 4 >= rows * 3


def _is_ancestor(anc: etree._Element, el: etree._Element) -> bool:
    p = el.getparent()
    while p is not None:
        if p is anc:
            return True
        p = p.getparent()
    return False


# ---------------------------------------------------------------- serialising

_CELL = object()
# Items of a list and cells of a table are judged with their list or table: a changelog's
# linked entries or a filmography's linked titles are content when the list as a whole is not a
# link list (one linked item among prose items is not a menu either).
_CLEAN_TAGS = frozenset(("ul", "ol", "dl", "div", "section", "table", "form", "figure", "p",
                         "center", "span", "nav", "aside", "header", "footer", "blockquote"))
_CELL_TAGS = frozenset(("td", "th"))
_ROW_PARTS = frozenset(("tbody", "thead", "tfoot"))


def _prune(el: etree._Element, tag: str, st: tuple[int, int, int] | None, tune: _Tune) -> bool:
    """Inside the main content: drop link lists and link-heavy blocks (related links, tags,
    pagination) that class names did not give away."""
    if st is None or not st[0]:
        return False
    w, lw, pc = st
    ld = lw / w
    if ld > tune.prune_ld:
        return not (tag == "table" and _data_table(el))
    return ld > tune.prune_short_ld and w < tune.prune_short_w and pc <= 1 and not (
        tag == "p" and _link_inside_sentence(el))


_DATA_ROWS = 3


def _data_table(table: etree._Element) -> bool:
    """A table of records whose names are links (a test's results: linked model, price,
    grade): most rows, and at least _DATA_ROWS, hold a cell of text without a link beside
    their linked cell. A link list laid out as a table has links alone in its rows."""
    rows = data = 0
    for tr in table.iter("tr"):
        rows += 1
        cells = [c for c in tr if c.tag == "td" or c.tag == "th"]
        if len(cells) >= 2 and any(c.find(".//a") is not None for c in cells) and any(
                c.find(".//a") is None and _STRING(c).strip() for c in cells):
            data += 1
    return data >= _DATA_ROWS and 2 * data >= rows


def _link_inside_sentence(p: etree._Element) -> bool:
    """A paragraph whose links have its own words before and after them and that ends a
    sentence ("But a report by <a>the Center</a> calls that into question."): a sentence
    citing a source, not a "Related: <a>...</a>" teaser or a row of links."""
    links = list(p.iter("a"))
    if not links:
        return False
    first, last = links[0], links[-1]
    prev = first.getprevious()
    before = prev.tail if prev is not None else first.getparent().text
    if not (before or "").strip() and first.getparent() is not p:
        before = p.text
    after = last.tail
    if not (after or "").strip() and last.getparent() is not p:
        after = last.getparent().tail
    return (len((before or "").strip()) >= 3 and len((after or "").strip()) >= 3
            and _ends_sentence(_STRING(p)))


_CARD_TAGS = frozenset(("div", "article", "section"))


def _teaser_grid(el: etree._Element, stats: dict) -> bool:
    """A grid of teaser cards inside the main content ("most popular", "more from the site"):
    4+ children of one (tag, class), each a container of 2+ elements with a link and under 400
    of text (an image, a linked title, a line of blurb), the teasers holding most of the block's
    text. A card without a link, or a long one, is a section of the article."""
    groups: dict = {}
    for c in el:
        if c.tag in _CARD_TAGS and len(c) >= 2:
            st = stats.get(c)
            if st is None or not st[0]:
                continue
            g = groups.get((c.tag, c.get("class")))
            if g is None:
                g = groups[(c.tag, c.get("class"))] = [0, 0, 0]
            g[0] += 1
            if st[1] >= 0.1 * st[0] and st[0] < 400:
                g[1] += 1
                g[2] += st[0]  # the teasers' text, not a long section's among them
    if not groups:
        return False
    w = stats[el][0] if el in stats else 0
    return any(n >= 4 and t >= 0.75 * n and gw >= 0.6 * w for n, t, gw in groups.values())


def _two_links(el: etree._Element) -> bool:
    n = 0
    for _ in el.iter("a"):
        n += 1
        if n > 1:
            return True
    return False


def _serialise(roots: list[etree._Element], an: _Analysis, clean: bool, use_drop: bool = True,
               title: str = "") -> str:
    out: list = []
    drop = an.eff_drop if use_drop else ()
    tune = an.tune
    layout = an.layout
    stats = an.stats
    skipped: set = set()
    tables: list = []  # [is_layout, first_cell_in_row, open_cells]
    table_of: dict = {}  # _nearest's memo: each ancestor walked once for all the table bodies
    for root in roots:
        if root.tag in _ROW_PARTS and _multi_cell(root):
            # a choice inside a table (its body): the rows stay rows of their table
            parent = root.getparent()
            table = _nearest(parent, _is_table, table_of) if parent is not None else None
            if table is not None:
                tables.append([table in layout, True, 0])
        walker = etree.iterwalk(root, events=("start", "end"))
        for ev, el in walker:
            tag = el.tag
            if ev == "start":
                if not isinstance(tag, str):
                    walker.skip_subtree()
                    continue
                if el in drop or (clean and el is not root and (
                        tag in _CLEAN_TAGS and (_prune(el, tag, stats.get(el), tune)
                                                or len(el) >= 4 and _teaser_grid(el, stats))
                        # a data table's cell holding one link is a linked value (a title, a
                        # name); a cell of several links is a menu
                        or tag in _CELL_TAGS and _prune(el, tag, stats.get(el), tune)
                        and (tables and tables[-1][0] or _two_links(el)))):
                    walker.skip_subtree()
                    skipped.add(el)
                    continue
                if title and (tag == "h1" or tag == "h2") and _repeats_title(el, title):
                    # the headline is meta.title already; once in the text is enough
                    title = ""
                    walker.skip_subtree()
                    skipped.add(el)
                    continue
                if tag in _BLOCK_TAGS:
                    if tag in _HEADINGS:
                        out.append(2)
                        out.append(_HeadStart(int(tag[1])))
                    if tag in _LINE_TAGS:
                        out.append(1)
                        if tag == "tr" and tables:
                            tables[-1][1] = True
                    elif tag in ("td", "th"):
                        if tables and not tables[-1][0]:
                            if not tables[-1][1]:
                                out.append(_CELL)
                            tables[-1][1] = False
                            tables[-1][2] += 1
                        else:
                            out.append(2)
                    else:
                        out.append(2)
                        if tag == "table":
                            tables.append([el in layout, True, 0])
                        elif tag in ("pre", "listing", "xmp", "plaintext"):
                            t = _pre_text(el)
                            if "\r" in t:  # (from &#13;: the parser makes a raw one a line feed)
                                t = t.replace("\r", " ")  # CSS shows it as a space
                            out.append(_Pre(t))
                            walker.skip_subtree()
                            skipped.add(el)
                            continue
                elif tag == "br":
                    # a row of a data table stays on one line
                    out.append(" " if tables and not tables[-1][0] and tables[-1][2] else 1)
                t = el.text
                if t:
                    out.append(t)
                continue
            # end
            if el in skipped:
                skipped.discard(el)
                if tag in ("pre", "listing", "xmp", "plaintext"):
                    out.append(2)
            elif isinstance(tag, str) and tag in _BLOCK_TAGS:
                if tag in _HEADINGS:
                    out.append(_HEAD_END)
                if tag in _LINE_TAGS:
                    out.append(1)
                elif tag in ("td", "th") and tables and not tables[-1][0]:
                    tables[-1][2] -= 1
                else:
                    out.append(2)
                    if tag == "table" and tables:
                        tables.pop()
            if el is not root:
                t = el.tail
                if t:
                    out.append(t)
        out.append(2)
        tables.clear()
    return _join(out)


_PRE_BREAKS = ("br", *sorted(_BLOCK_TAGS))  # tags that break a line inside a <pre> too


def _pre_text(el: etree._Element) -> str:
    """A <pre>'s text as written, with the line breaks its tags make, as a browser shows it: a
    <br> ends a line (a code block whose lines end in <br>), and a block (prettify's line
    numbers, a <li> a line; a <div> a line) stands on lines of its own. A <pre> without such a
    tag (nearly all) is its text alone."""
    for x in el.iter(*_PRE_BREAKS):
        if x is not el:
            break
    else:
        return _STRING(el)
    parts: list[str] = []
    for ev, x in etree.iterwalk(el, events=("start", "end")):
        tag = x.tag
        if ev == "start":
            if tag == "br":
                parts.append("\n")
            elif isinstance(tag, str):
                if x is not el and tag in _BLOCK_TAGS and parts and parts[-1][-1:] != "\n":
                    parts.append("\n")
                if x.text:
                    parts.append(x.text)
            continue
        if x is el:
            break
        if isinstance(tag, str) and tag in _BLOCK_TAGS and parts and parts[-1][-1:] != "\n":
            parts.append("\n")
        if x.tail:
            parts.append(x.tail)
    return "".join(parts)


def _is_table(el: etree._Element) -> bool:
    return el.tag == "table"


def _multi_cell(root: etree._Element) -> bool:
    """A table body whose first rows hold several cells each (a one-cell table is a box, and
    one row of a layout table, chosen alone, is its cells' text)."""
    n = 0
    for r in root.iterchildren("tr"):
        if sum(1 for c in r if c.tag in _CELL_TAGS) >= 2:
            n += 1
            if n == 2:
                return True
    return False


def _repeats_title(el: etree._Element, title: str) -> bool:
    # a heading far longer than the title is not in it: measured in C first (nested headings
    # over 1 MB of text, each read whole, took 34 s)
    if _text_longer(el, 4 * len(title) + 256):
        return False
    h = " ".join(_STRING(el).split())
    return len(h) >= 8 and h in title


class _Pre(str):
    """Preformatted text: kept verbatim."""


class _HeadStart(int):
    """A heading of this level starts."""


_HEAD_END = object()


# (only from the start of a run: tried from each of its spaces, a long run not ending a line cost
# its length squared, 33 s for 200,000 spaces in a <pre>)
_TRAILING_WS_RE = re.compile(r"(?<![ \t])[ \t]+\n")
_NL_RUN_RE = re.compile(r"\n\s*")
_CJK_BEFORE = re.compile(f"[{CJK_RANGES}\u3002\uff0c\u3001\uff1b\uff1a\uff01\uff1f]")
_CJK_CHAR_RE = re.compile(f"[{CJK_RANGES}]")


def _cjk_unbreak(tok: str) -> str:
    """A line break inside running CJK text is not a space (CSS Text 3 segment-break rule): a
    white-space run holding a line break, with only spaces, tabs and CRs before the first break,
    between a CJK character (or full-width punctuation) and a CJK character goes. The runs are
    found from their line breaks (a literal the regex engine jumps to); a look-behind regex
    would be tried at every character."""
    out = []
    last = 0
    for m in _NL_RUN_RE.finditer(tok):
        i, j = m.span()
        k = i
        while k > last and tok[k - 1] in " \t\r":
            k -= 1
        if (k > 0 and j < len(tok) and _CJK_BEFORE.match(tok, k - 1) is not None
                and _CJK_CHAR_RE.match(tok, j) is not None):
            out.append(tok[last:k])
            last = j
    if not out:
        return tok
    out.append(tok[last:])
    return "".join(out)


_SEP = " | "  # between the cells of a data table's row
_SEP_NEXT = "| "  # ... after an empty cell ("a | | b")


def _drop_separators(parts: list) -> None:
    """The cell separators that end `parts` (nothing after them on their line: the next cell
    holds blocks, or the text ends) go; the text before them ends in no space already."""
    i = len(parts) - 1
    while i >= 0 and (parts[i] is _SEP or parts[i] is _SEP_NEXT):
        parts[i] = ""  # (no part is removed: the heading marks hold indices into `parts`)
        i -= 1


def _join(tokens: list) -> str:
    """The text of _serialise's tokens (text pieces, line and paragraph breaks, heading and cell
    marks); `tokens` is emptied."""
    parts: list[str] = []
    pending = 0
    line_has_text = False
    # A heading whose section came out empty (everything under it was boilerplate: a "related
    # posts" or "write a comment" heading over a pruned list or a stripped form) goes too,
    # whatever its language. Headings with nothing after them yet: (level, first part, end).
    empty: list = []
    in_head = 0
    head_at = 0
    for tok in tokens:
        cls = tok.__class__
        if cls is int:
            if tok > pending:
                pending = tok
            continue
        if cls is _HeadStart:
            # a heading of the same or a higher rank closes the empty sections before it
            while empty and empty[-1][0] >= tok:
                _, a, b = empty.pop()
                del parts[a:b]
            in_head = tok
            head_at = len(parts)
            continue
        if tok is _HEAD_END:
            if in_head and len(parts) > head_at:
                empty.append((in_head, head_at, len(parts)))
            in_head = 0
            continue
        if tok is _CELL:
            if line_has_text and not pending:
                if parts and (parts[-1] is _SEP or parts[-1] is _SEP_NEXT):
                    parts.append(_SEP_NEXT)
                    continue
                if parts and parts[-1][-1:] == " " and parts[-1].__class__ is not _Pre:
                    parts[-1] = parts[-1].rstrip(" ")  # (a cell ending in white space: one space)
                parts.append(_SEP)
            continue
        if cls is _Pre:
            s = tok.strip("\n")
            if not s.strip():
                continue
        elif tok.isspace():
            # indentation between tags (most text tokens): one space inside a line, else nothing
            if pending or not line_has_text:
                continue
            s = " "
        else:
            if "\n" in tok and not tok.isascii() and _CJK_FROM_RE.search(tok) is not None:
                # (no CJK character, no break to remove: no scan for the breaks)
                tok = _cjk_unbreak(tok)
            if tok.isprintable() and "  " not in tok:
                # no white space but single spaces (every other white-space character is a
                # control or a separator, which isprintable() refuses): nothing to collapse,
                # and most text pieces are such (a C scan against a list of words and a join)
                s = tok
            else:
                # white-space runs to one space (str.split's white space is the regex's \s, code
                # point for code point; split-and-join costs a third of the regex's many matches)
                s = " ".join(tok.split()) if len(tok) <= _COLLAPSE_CHUNK else _collapse(tok)
                if tok[0].isspace():
                    s = " " + s
                if tok[-1].isspace():
                    s += " "
            if pending or not line_has_text:
                s = s.lstrip()
            if not s:
                continue
        if pending:
            if parts:
                last = parts[-1]
                if last is _SEP or last is _SEP_NEXT:
                    _drop_separators(parts)
                elif last.__class__ is not _Pre:
                    parts[-1] = last.rstrip(" ")
                parts.append("\n\n" if pending == 2 else "\n")
            pending = 0
        elif (s[0] == " " and cls is not _Pre and parts and parts[-1][-1:] == " "
              and parts[-1].__class__ is not _Pre):
            # two pieces of a line meet with white space at both edges ("<b>Hello </b> world"):
            # one space, as a browser shows them
            s = s[1:]
            if not s:
                continue
        if cls is _Pre:
            s = _Pre(s)
        if empty and not in_head:
            empty.clear()
        parts.append(s)
        line_has_text = True
    _drop_separators(parts)
    while empty:
        _, a, b = empty.pop()
        del parts[a:b]
    tokens.clear()  # (consumed: the page's text is not held three times over from here)
    text = "".join(parts)
    del parts
    # lines left holding only spaces or a dangling cell separator
    if " \n" in text or "\t\n" in text:  # rare (pre text, a dangling " | "): str scans are cheap
        text = _TRAILING_WS_RE.sub("\n", text)
    text = text.strip()
    # ad labels are whole short lines: matching line by line skips the regex's attempt at every
    # character of the text
    lines = text.split("\n")
    kept = [ln for ln in lines if not _AD_LABEL_RE.match(ln)]
    if len(kept) < len(lines):
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
        lines = text.split("\n")
    return _dedupe_lines(text, lines)


# The label of an ad slot, a line of its own (the ad itself is an iframe or script, gone in
# parsing): "Advertisement", "ADVERT", "Anzeige", "Реклама", "Iklan", "إعلان", "广告" ...
# possessive: two runs of white space side by side, if they could give each other characters back,
# cost a line of 20,000 spaces (a <pre>) 44 s
_AD_LABEL_RE = re.compile(
    r"^[^\S\n]*+[-–—(\[]?+[^\S\n]*+(?:advertisement|advert|advertising|sponsored(?: content| ad)?|anzeige|werbung|"
    r"publicidad|publicité|pubblicità|publicidade|reclame|advertentie|reklama|reklame|reklam|annons|annonse|annonce|"
    r"реклама|mainos|hirdetés|διαφήμιση|iklan|quảng cáo|إعلان|פרסומת|โฆษณา|विज्ञापन|"
    r"广告|廣告|広告|광고)[^\S\n]*+[-–—)\]]?+[^\S\n]*+$", re.I)


_DUP_MIN = 300   # exact repeats of lines this long are a second copy (shorter ones can be content)
_PROBE_MIN = 400   # only a line this long is checked for being a flattened copy ...
_PROBE_LEN = 160   # ... by looking for its first characters in the text before it
_KEY = 20
# the key a kept line's start is looked up by: a name of this module, so that a test can make
# every key collide in either build (compiled, a call of the builtin `hash` is a direct C call
# that no name of the module replaces)
_start_key = hash


def _dedupe_lines(text: str, lines: list[str]) -> str:
    """Drop long lines seen before: pages often carry a second (print, AMP, hidden, teaser,
    microdata) copy of the article next to it, and a reader reads it once. A long line that
    repeats the lines before it run together (the copy flattened into one paragraph) goes too.
    `lines`: text.split("\n")."""
    seen: set[str] = set()
    out: list[str] = []
    flat: list[str] = []  # non-empty lines kept so far
    # the kept lines at least _PROBE_LEN long, by the hash of their first _PROBE_LEN characters
    # -> their indices in flat (the starts themselves, kept as strings, took a large page's text
    # again over)
    heads: dict[int, list[int]] = {}
    starts: dict[str, list[int]] = {}  # first _KEY chars of a shorter kept line -> its indices in flat
    dup = False
    for ln in lines:
        n = len(ln)
        if n >= _DUP_MIN:
            if ln in seen:
                dup = True
                continue
            seen.add(ln)
        # lines come from _join with white space already collapsed (pre aside)
        if n >= _PROBE_MIN and _is_flat_copy(ln[:_PROBE_LEN], flat, starts, heads):
            dup = True
            continue
        out.append(ln)
        if ln:
            if len(ln) >= _PROBE_LEN:
                heads.setdefault(_start_key(ln[:_PROBE_LEN]), []).append(len(flat))
            elif len(ln) >= _KEY:
                starts.setdefault(ln[:_KEY], []).append(len(flat))
            flat.append(ln)
    if not dup:
        return text
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


_RUN_CANDIDATES = 16


def _is_flat_copy(probe: str, flat: list[str], starts: dict[str, list[int]], heads: dict[int, list[int]]
                  ) -> bool:
    """`probe` (a long line's start) is the start of a kept line, or of a run of kept shorter
    lines joined by spaces. A kept line as long as the probe is looked up whole; runs are tried
    from the last _RUN_CANDIDATES shorter lines with the probe's first _KEY characters (trying
    every one made 16,000 lines of one start cost 15 s)."""
    if len(probe) < _PROBE_LEN // 2:
        return False
    for i in heads.get(_start_key(probe), ()):
        if flat[i].startswith(probe):
            return True
    for i in starts.get(probe[:_KEY], ())[-_RUN_CANDIDATES:]:
        run, k = flat[i], i + 1
        while len(run) < len(probe) and k < len(flat):
            run += " " + flat[k]
            k += 1
        if run.startswith(probe):
            return True
    return False


# ---------------------------------------------------------------- entry points

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Never-visible blocks, up to their end tag or, on a truncated page, to the end of the input
# (an unclosed <script> must not leak code into the text). Not <head>: its end tag may be left
# out (HTML allows it), and what it holds that is not text (title, scripts, styles) goes on its
# own here, or is a tag.
_SCRIPT_RE = re.compile(
    r"<(script|style|noscript|template|title|svg|textarea|select|iframe|noembed|noframes)"
    r"(?=[\t\n\f\r />]).*?(?:</\1\s*>|$)|<!--.*?(?:-->|$)", re.I | re.S)


# a tag that ends a line, read to its '>' or to the next '<' (never past it: a page of "<br"
# without '>' would have each read run to the end of the page)
_BREAK_RE = re.compile(r"<(?:br|/p|/div|/li|/tr|/h[1-6])\b[^<>]*+>?", re.I)


# a tag (its name in group 1), a comment or declaration, or one cut off at the end of the page.
# In a tag, as the parser reads it, a quote opens a value only after an '=' (white space between
# allowed), and a '>' inside the quoted value does not end the tag (`<img alt="a > b">`,
# `onclick="if (a>b) ..."` left their rest in the text); a stray quote elsewhere is part of a
# name. Possessive: an unclosed quote is read to the end of the page at most once.
_STRIP_TAG_RE = re.compile(
    r"""<(?:/?([a-zA-Z][^\t\n\f\r />]*)(?:[^>=]++|=[\t\n\f\r ]*+(?:"[^"]*+"|'[^']*+')|=)*+"""
    r"|[!?/][^>]*+)(?:>|$)")


def _tag_gap(m: re.Match) -> str:
    """What a tag leaves in the stripped text: a line break for a block's, a space for a comment
    or declaration, nothing for an inline element's (`<span>中</span>文` reads 中文; in spaced
    scripts the words carry their own spaces)."""
    name = m.group(1)
    if name is None:
        return " "
    return "\n" if name.lower() in _BLOCK_TAGS else ""


def _stripped(html: str) -> str:
    """Last resort for markup the parser gives up on: drop tags, unescape, keep line breaks. As
    in the parsed reading, a byte-order mark at the start is no text and a lone surrogate is
    U+FFFD (it has no UTF-8 form: the text could not be written)."""
    if html.startswith("\ufeff"):
        html = html[1:]
    s = _SCRIPT_RE.sub(" ", html)
    s = _BREAK_RE.sub("\n", s)
    s = _htmllib.unescape(_STRIP_TAG_RE.sub(_tag_gap, s))
    lines = (_collapse(ln) for ln in s.splitlines())
    text = "\n".join(ln for ln in lines if ln)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE_RE.sub("\ufffd", text)
    return text


def _first(root: etree._Element, tag: str) -> etree._Element | None:
    """The first descendant of `root` with this tag (root.find(".//tag") without its cost: lxml's
    iterator looks ahead for the next match, a walk of the whole page when there is only one;
    here it walks the top-level subtrees one by one, so a <title> in <head> costs a walk of the
    head only)."""
    for child in root:
        for el in child.iter(tag):
            return el
    return None


def _title(root: etree._Element) -> str:
    t = _first(root, "title")
    s = _STRING(t) if t is not None else ""
    if not s.strip():
        for m in root.iterfind(".//meta"):
            if m.get("property") == "og:title" or m.get("name") in ("og:title", "twitter:title"):
                s = m.get("content") or ""
                break
    return _collapse(s)


def _weight(text: str) -> int:
    """_measure(text)[0], without counting punctuation."""
    s = text.strip()
    w = len(s)
    if w and not s.isascii() and _WIDE_RE.search(s) is not None:
        w += (_CJK_WEIGHT - 1) * _cjk_chars(s)
    return w


def _cjk_chars(s: str) -> int:
    """The CJK characters in `s`, counted by runs; a long text a match at a time (a list of
    its runs takes several times the text's memory)."""
    if len(s) <= _COLLAPSE_CHUNK:
        return sum(map(len, _CJK_RUN_RE.findall(s)))
    return sum(m.end() - m.start() for m in _CJK_RUN_RE.finditer(s))


def parse(html: str) -> etree._Element | None:
    """The lxml root of a page as libxml2 reads it, None when it finds no document. A page nested
    past the parser's limit is cut short there (`extract` reads such a page by `_stripped`)."""
    return _parse_once(html)[0]


_RESOURCE_LIMIT = etree.ErrorTypes.ERR_RESOURCE_LIMIT  # the error of a parse halted at its depth limit
# End tags of <html> and <body> (their name), in the page's UTF-8 form (a third faster to search
# than the str)
_DOC_END_RE = re.compile(rb"</(?i:html|body)(?=[\t\n\f\r />])")
_DOC_ENDS_MAX = 64
# Elements whose content is text shown as written: <title> (meta.title) and <xmp>, to their end
# tag, and everything after <plaintext> (see _shown_spans).
_SHOWN_TOKEN_RE = re.compile(rb"<(/?)(title|xmp|plaintext)(?=[\t\n\f\r />])([^<>]*+)", re.I)
_SHOWN_MAX = 65_536


def _shown_spans(data: bytes) -> list[tuple[int, int]]:
    """Where the page's <title> and <xmp> hold text shown as written (from the start tag to its
    end tag), and from <plaintext> to the end. One pass over their tags: a start tag not closed
    within _SHOWN_MAX characters is taken for a word in a script or a value, not for an element
    (and the pass goes on from where it stands); `<title/>` closes at once."""
    spans: list[tuple[int, int]] = []
    open_name = None
    start = 0
    for t in _SHOWN_TOKEN_RE.finditer(data):
        close, name = t.group(1), t.group(2).lower()
        if open_name is not None:
            if t.start() - start > _SHOWN_MAX:
                open_name = None
            elif close and name == open_name:
                spans.append((start, t.end()))
                open_name = None
                continue
            else:
                continue
        if close or t.group(3).endswith(b"/"):
            continue
        if name == b"plaintext":
            spans.append((t.start(), len(data)))
            break
        open_name, start = name, t.start()
    return spans


# what may follow the first of them without being lost, as it holds no text: white space, more of
# them and other end tags, and comments (the parser drops them) by HTML5's rules: to '-->' or
# '--!>', or closed at once as '<!-->' or '<!--->' (a server's "cached at" or "generated in" note
# after </html> is common). An end tag is read to its '>' only when it holds no quote and no '<'
# (in an end tag as in a start tag, a quoted value may hold a '>', and a '<' is part of a name:
# `</html a="><!--">text` or `</html <!--x>text` end where the tag does, and the text is shown);
# one of them at the very end of the page may lack its '>'. A comment holding another </html> or
# </body> is no proof: the first of them may have been text (in a value, a script, a title), and
# the "comment" the real end of the page and text after it (`<p title="</html><!--">`)
_DOC_TRAILER_RE = re.compile(rb"(?:[\t\n\f\r ]++|</(?i:html|body)(?=[\t\n\f\r />])[^<>\"']*+(?:>|\Z)"
                             rb"|</[A-Za-z][^<>\"']*+>|<!--(?:-?>|(?:(?!</(?i:html|body))[\s\S])*?--!?>))*+\Z")


def _without_doc_ends(data: bytes) -> bytes:
    """The page (UTF-8) with its </html> and </body> end tags renamed to an element that is not
    there (`</xxxx>`, which the parser ignores) when anything but white space follows the first
    of them. libxml2 (2.14) stops reading at the first </html>, dropping the rest of the page
    without an error, and puts what follows </body> beside the body rather than in it; a stray
    pair in the middle of a page (a fragment or a second document pasted in) would cost the
    article after it. Browsers read on into the body, and so does the parser now (it closes both
    at the end of the input itself). The new name has the old one's length and letters only, so
    the page splits into the same tags, comments and text wherever the name stood (in a script,
    a value or a tag's name): the complexity check's reading of the page still holds."""
    m = _DOC_END_RE.search(data)
    if m is None or _DOC_TRAILER_RE.match(data, m.start()) is not None:
        return data
    ends = _DOC_END_RE.findall(data, m.start())
    if len(ends) > _DOC_ENDS_MAX:  # a flood, not a pasted document: renamed, each would make
        return data                # the parser search its stack of open elements for nothing
    # inside a <title> or <xmp>, or after <plaintext>, such a tag is text (the title, or text the
    # reader sees), and the parser does not stop at it there: it stays as written
    shown = _shown_test(data)
    return _DOC_END_RE.sub(lambda e: e.group() if shown(e.start()) else b"</xxxx", data)


def _shown_test(data: bytes) -> Callable[[int], bool]:
    """Whether a position of the page lies in text shown as written: a <title>'s or an <xmp>'s,
    or after <plaintext> (_shown_spans, found once)."""
    spans = _shown_spans(data)
    starts = [a for a, _ in spans]

    def shown(pos: int) -> bool:
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos < spans[i][1]

    return shown


# A start tag of <html> or <body> written as an empty element (`<html lang="de" />`, XHTML
# style): browsers ignore the slash of an element that is not void, libxml2 closes the element
# there. The tag is read as the tokenizer reads it (a quoted ">" is no end of the tag), from
# one of the first _DOC_ENDS_MAX such names and within _DOC_TAG_MAX bytes of it: each attempt
# costs at most that much, whatever the page (possessive: one pass).
_DOC_START_RE = re.compile(rb"<(?i:html|body)(?=[\t\n\f\r />])")
_SELF_CLOSED_TAG_RE = re.compile(rb"<(?:[^>\"'/]++|\"[^\"]*+\"|'[^']*+'|/(?!>))*+/>")
_DOC_TAG_MAX = 1 << 16


def _opened_doc_tags(data: bytes) -> bytes:
    """The page with each self-closed <html .../> and <body .../> start tag's "/>" made " >"
    (the same length: the page splits into the same tags), except inside a <title> or <xmp> or
    after <plaintext>, where such a tag is text the reader sees (see _without_doc_ends)."""
    out: list = []
    last = 0
    shown = None
    for k, m in enumerate(_DOC_START_RE.finditer(data)):
        if k >= _DOC_ENDS_MAX:
            break
        t = _SELF_CLOSED_TAG_RE.match(data, m.start(), min(len(data), m.start() + _DOC_TAG_MAX))
        if t is None:
            continue
        if shown is None:
            shown = _shown_test(data)
        if shown(m.start()):
            continue
        out.append(data[last:t.end() - 2])
        out.append(b" >")
        last = t.end()
    if not out:
        return data
    out.append(data[last:])
    return b"".join(out)


def _emptied_by_self_closing(root: etree._Element) -> bool:
    """The tree shows what a self-closed <html/> or <body/> does in libxml2: an <html> holding
    nothing (the rest of the page lost), or an empty <body> with the page beside it."""
    if len(root) == 0:
        return True
    body = root.find("body")
    return (body is not None and len(body) == 0 and (body.text is None or body.text.isspace())
            and body.getnext() is not None)


def _parse_once(html: str) -> tuple[etree._Element | None, bool]:
    """The lxml root of a page (None when the parser finds no document) and whether the parser
    stopped before the end of the page (libxml2 halts at its nesting limit, 2,048 open elements
    with huge_tree, and the tree then holds only the page up to that point). The page goes to
    the parser in UTF-8. End tags of <html> and <body> with more of the page after them are
    renamed (`_without_doc_ends`); a start tag of either written as an empty element is read as
    a start tag, as browsers read it, when the tree shows that libxml2 closed it there (the
    rest of the page lost or put beside the body): its "/>" becomes " >", and the page is read
    again."""
    try:
        data = html.encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate (an escaped half of a pair in a JSON record) has no UTF-8 form; handed
        # over as a str, libxml2 drops everything after it, so it becomes U+FFFD, as a browser
        # shows an unreadable character, and the rest of the page is read
        data = _SURROGATE_RE.sub("\ufffd", html).encode("utf-8")
    data = _without_doc_ends(data)
    parser = _utf8_parser()
    try:
        root = etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError):
        return None, False
    # the error that halts the parser is its last; the log holds this parse's errors only
    last = parser.error_log.last_error
    if root is not None and _emptied_by_self_closing(root):  # (a few C calls on any other page)
        opened = _opened_doc_tags(data)
        if opened is not data:
            try:
                again = etree.fromstring(opened, parser)
            except (etree.ParserError, etree.XMLSyntaxError):
                again = None
            if again is not None and not _emptied_by_self_closing(again):
                root = again
                last = parser.error_log.last_error
    return root, last is not None and last.type == _RESOURCE_LIMIT


# ---------------------------------------------------------------- structured data as evidence

_LD_KEYS = ("articleBody", "reviewBody", "text")
_LD_MAX = 1 << 21  # characters of a JSON-LD block read as evidence (2 Mi)
_PROBES = 8
_PROBE_CHARS = 24


def _ld_texts(obj, out: list, depth: int = 0) -> None:
    """articleBody (and a recipe's instructions) strings anywhere in a JSON-LD object."""
    if depth > 8:
        return
    if isinstance(obj, list):
        for x in obj:
            _ld_texts(x, out, depth + 1)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k == "articleBody" and isinstance(v, str):
                out.append(v)
            elif k == "recipeInstructions":
                steps: list = []
                _ld_steps(v, steps, 0)
                if steps:
                    out.append(" ".join(steps))
            elif isinstance(v, (dict, list)):
                _ld_texts(v, out, depth + 1)


def _ld_steps(v, out: list, depth: int) -> None:
    if depth > 5:
        return
    if isinstance(v, str):
        out.append(v)
    elif isinstance(v, list):
        for x in v:
            _ld_steps(x, out, depth + 1)
    elif isinstance(v, dict):
        if isinstance(v.get("text"), str):
            out.append(v["text"])
        for k in ("itemListElement",):
            if k in v:
                _ld_steps(v[k], out, depth + 1)


def _ld_sources(root: etree._Element) -> list[str]:
    """The JSON-LD blocks of a parsed page that state an article body or a recipe method (read
    before scripts are stripped; a C-level tag filter, no scan of the source)."""
    out = []
    for sc in root.iter("script"):
        # the type first: the text of a script is a copy into a Python str (often 100 KB of code)
        if sc.get("type") == "application/ld+json":
            t = sc.text
            if t and ("articleBody" in t or "recipeInstructions" in t) and (
                    len(t) <= _LD_MAX or len(t.strip()) <= _LD_MAX):
                # (a block over _LD_MAX is not read, see _structured_body: the page is then read
                # as one that states no body, with every other check)
                out.append(t)
    return out


def _structured_body(sources: list[str]) -> str:
    """The longest article body (or recipe method) a page states in JSON-LD, as plain text;
    '' when it states none. The page's own statement of its text, in any language."""
    texts: list = []
    for src in sources:
        src = src.strip()
        if len(src) > _LD_MAX:
            # parsed, a block of millions of small objects takes 25 times its size in memory
            # (450 MB for 18 MB); an article's stated body is far shorter than this
            continue
        try:
            _ld_texts(json.loads(src, strict=False), texts)
        except (ValueError, RecursionError):
            pass
    if not texts:
        return ""
    t = max(texts, key=len)
    if "<" in t:  # some sites put HTML in it
        t = _STRIP_TAG_RE.sub(" ", t)
    return _collapse(_htmllib.unescape(t))


def _probes(t: str) -> list[str]:
    """Up to _PROBES short pieces spread over `t`, each starting after a space (a word start)."""
    n = len(t)
    out = []
    for k in range(_PROBES):
        i = (n * k) // _PROBES
        if k:
            j = t.find(" ", i)
            if j < 0:
                break
            i = j + 1
        piece = t[i:i + _PROBE_CHARS].strip()
        if len(piece) >= _PROBE_CHARS // 2:
            out.append(piece)
    return out


def _covered(probes: list[str], text: str) -> float:
    text = _collapse(text)  # (a probe neither starts nor ends with a space)
    return sum(1 for p in probes if p in text) / len(probes) if probes else 1.0


# XPath's white space, which normalize-space() collapses (not Python's \s: no U+00A0)
_XML_WS_RE = re.compile(r"[ \t\r\n]+")
_TEXT_NODES = etree.XPath(".//text()")


def _block_of(body: etree._Element, probes: list[str]) -> etree._Element | None:
    """The smallest element whose text holds most of the probes."""
    # each probe is looked for in single text nodes (inline markup may split others), the first
    # in document order, in the node's text with its white space collapsed as normalize-space()
    # does. The text nodes are read once, and only a node holding a probe's first word (a
    # probe's only white space is single spaces) is normalised: an XPath walk per probe, its
    # normalize-space() on every node, cost a JSON-LD page a sixth of its time.
    nodes = _TEXT_NODES(body)
    norm: dict = {}
    hits = []
    for p in probes:
        first = p.split(" ", 1)[0]
        for i, node in enumerate(nodes):
            if first not in node:
                continue
            t = norm.get(i)
            if t is None:
                t = norm[i] = _XML_WS_RE.sub(" ", node).strip(" ")
            if p in t:
                hits.append(node.getparent())
                break
    return _common_block(hits, probes)


def _common_block(hits: list, probes: list[str]) -> etree._Element | None:
    if len(hits) < max(2, len(probes) // 2):
        return None
    anc = hits[0]
    for h in hits[1:]:
        above = set(h.iterancestors())  # (walked once, not at every step of the climb)
        while anc is not None and not (h is anc or anc in above):
            anc = anc.getparent()
        if anc is None:
            return None
    return anc


_WRAP_SHARE = 0.15


_TAIL_MAX = 80


def _trim_tail(text: str) -> str:
    """Precision: the short lines that close a block without ending a sentence are mostly
    credits, tags, share prompts and bylines."""
    lines = text.split("\n")
    n = len(lines)
    while n > 1:
        ln = lines[n - 1].strip()
        if ln and (len(ln) >= _TAIL_MAX or _ends_sentence(ln)):
            break
        n -= 1
    return "\n".join(lines[:n]).rstrip() if n < len(lines) else text


# Metadata lines at the edges of the chosen text: a date (with its time and a few words: "Posted
# on", a weekday, "Uhr", an author's name), a copyright notice, a credit ("Source: ...",
# "来源：...", "Photo: ..."), a reading time. Recognised by the shape of the date, not by a
# language's month names: a numeric date, a time, a CJK date, or a day number and a year at most
# three words apart ("22 de outubro de 2010", "August 08, 2018", "24 сентября 2018").
_YEAR = r"(?:1[89]|20)\d\d"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th|er|\.)?"
_DATE_RE = re.compile(
    rf"(?<![\d:])(?<!\d\.)(?:\d{{1,2}}[./-]\d{{1,2}}[./-](?:{_YEAR}|\d\d(?![.:]\d))|{_YEAR}[./-]\d{{1,2}}[./-]\d{{1,2}}"
    rf"|{_YEAR}\s*年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*日)?|\d{{1,2}}\s*月\s*\d{{1,2}}\s*日"
    rf"|\d{{1,2}}:\d\d(?::\d\d)?"
    # a month's name and the short words around it ("de", "of"), not a title's words
    rf"|{_DAY}(?:[\s,]+[^\W\d_]{{1,2}})?[\s,]+[^\W\d_]+\.?(?:[\s,]+[^\W\d_]{{1,2}})?[\s,]+{_YEAR}"
    rf"|[^\W\d_]+\.?\s+{_DAY},?\s+{_YEAR})(?!\d)")
_DATE_WORD_RE = re.compile(r"[^\W\d_]{2,}")
_CODE_CHARS_RE = re.compile(r"[=<>{}\[\];|]|\dT\d")
_META_LABEL_RE = re.compile(
    r"^\W{0,2}(?:(?:(?:source|sources|quelle|quellen|fuente|fonte|photo|photos|foto|fotos|bild|"
    r"credit|credits|autor|author|editor|redaktion|via|reading time|lesezeit|tempo de leitura|"
    r"tiempo de lectura)\b|来源|文章来源|稿源|出处|编辑|责任编辑|作者|记者|摄影|图片|图)[^:：\n]{0,14}[:：]"
    # these only right before the colon: "Crédit immobilier : ...", "写真集の魅力：..." are titles
    r"|(?:crédits?(?: photos?)?|auteur|источник|фото|автор|المصدر|تصوير|出典|写真|출처|사진)\s*[:：])",
    re.I)
# a Chinese byline without a colon: an outlet, the role, then the names ("光明日报记者 王建宏 张文攀",
# "本报实习生 刘国栋 周炜"); the names set apart by spaces, so a sentence never reads as one
_CJK_BYLINE_RE = re.compile(
    r"^(?:[\u4e00-\u9fff]{0,10}(?:报|報|社|台|网|網|刊|闻|聞|道|站))?\s*"
    r"(?:记者|記者|通讯员|通訊員|实习生|實習生|特约记者|特約記者|摄影|攝影)(?:\s+[\u4e00-\u9fff·]{2,4})+$")
_COPYRIGHT_RE = re.compile(
    rf"^\W{{0,2}}(?:©|ⓒ|\(c\)\s*\d|copyright\b.*(?:©|ⓒ|@|\(c\)|{_YEAR}|rights)|版权所有)", re.I)
_META_MAX = 64      # characters of a metadata line
_META_EDGE = 3      # lines at each end of the text looked at


def _meta_line(ln: str, strict: bool = False) -> bool:
    """`ln` is a date, copyright, credit or byline line; `strict`: a time of day alone is no
    date."""
    if len(ln) > _META_MAX or ln[0] in "—–.,;":
        # "— Name (@name) July 3, 2019" signs a quote; ". Journal. 2022-05-22." ends a citation
        return False
    if _COPYRIGHT_RE.match(ln) or _META_LABEL_RE.match(ln) or _CJK_BYLINE_RE.match(ln):
        return True
    m = _DATE_RE.search(ln)
    if m is None or _CODE_CHARS_RE.search(ln):  # a log line or a table row, not a dateline
        return False
    if strict and not _has_date(ln):
        return False
    rest = ln[:m.start()] + " " + _DATE_RE.sub(" ", ln[m.end():])
    if _CJK_RUN_RE.search(rest):
        return sum(len(r) for r in _CJK_RUN_RE.findall(rest)) <= 6
    return len(_DATE_WORD_RE.findall(rest)) <= 4


def _has_date(ln: str) -> bool:
    return any(":" not in m.group() for m in _DATE_RE.finditer(ln))


def _trim_meta(text: str) -> str:
    """Precision: metadata lines (_meta_line) among the first and last lines of the text go."""
    lines = text.split("\n")
    full = [i for i, ln in enumerate(lines) if ln.strip()]
    # from each end, up to the third line that is no metadata ("Datum: ..., Rubrik: ...",
    # headline, byline, "Samstag 22.12.2012"); a short text's edges are its halves, so no line
    # is looked at from both ends
    if all(_meta_line(lines[i].strip()) for i in full):  # a text of metadata alone stays
        return text
    half = (len(full) + 1) // 2  # the middle line of an odd count is the front's
    drop = []
    for side in (full[:half], full[:half - 1:-1]):
        other = 0
        for k, i in enumerate(side[:2 * _META_EDGE]):
            # past the edge lines a time of day alone ("10:00 Uhr Anfänger") is a timetable's
            # row more often than a dateline: a date is needed there
            if _meta_line(lines[i].strip(), strict=k >= _META_EDGE):
                drop.append(i)
            else:
                other += 1
                if other == _META_EDGE:
                    break
    if not drop:
        return text
    for i in drop:
        lines[i] = None
        # the blank line that set it apart goes with it; blank lines elsewhere (a <pre>'s) stay
        if i + 1 < len(lines) and lines[i + 1] == "":
            lines[i + 1] = None
        elif i and lines[i - 1] == "":
            lines[i - 1] = None
    return "\n".join(ln for ln in lines if ln is not None).strip("\n")


def _whole_units(roots: list, stats: dict) -> list:
    """A choice inside a <pre> is the whole <pre>: a source listing's marked-up blocks (a
    documentation generator's `viewcode-block` around one class) are lines of one listing, and
    only the <pre> keeps their line breaks. A chosen definition (<dd>) is its list (<dl>, also
    through an HTML5 group <div>) when that list is prose (under 30% links): an API entry's
    signature above its description, a glossary's terms with their definitions; a list of links
    (dated headlines, a menu) gives only the definition's terms."""
    out = []
    chosen: set = set()
    pre_memo: dict = {}
    for r in roots:
        parent = r.getparent()
        pre = _outermost_pre(parent, pre_memo) if parent is not None else None
        top = pre if pre is not None else r
        if top.tag == "dd":
            dl = top.getparent()
            if dl is not None and dl.tag == "div":
                dl = dl.getparent()
            st = stats.get(dl) if dl is not None and dl.tag == "dl" else None
            if st is not None and _link_density(st) < _DL_PROSE_LD:
                top = dl
            else:
                terms = []  # its terms: the <dt>s right before it (comments skipped)
                dt = top.getprevious()
                while dt is not None and (not isinstance(dt.tag, str) or dt.tag == "dt"):
                    if isinstance(dt.tag, str):
                        terms.append(dt)
                    dt = dt.getprevious()
                for t in reversed(terms):
                    if t not in chosen:
                        chosen.add(t)
                        out.append(t)
        if top not in chosen:
            chosen.add(top)
            out.append(top)
    # an element inside another chosen one is written with it (each ancestor walked once: a
    # choice of 16,000 sibling blocks took 41 s when each was checked against every other)
    return _outermost(out, chosen)


def _outermost_pre(el: etree._Element, memo: dict) -> etree._Element | None:
    """The outermost <pre> among `el` and its ancestors (None when there is none); `memo`
    (_nearest's) keeps each node's nearest <pre>, so many elements' ancestors are walked once."""
    top = None
    p = el
    while p is not None:
        pre = _nearest(p, _is_pre, memo)
        if pre is None:
            break
        top, p = pre, pre.getparent()
    return top


def _is_pre(el: etree._Element) -> bool:
    return el.tag == "pre"


_DL_PROSE_LD = 0.3


def _check_markup(roots: list, an: _Analysis) -> list:
    """Compare the chosen block with the page's own markup of its article (one outermost
    <article> or itemprop=articleBody): when the choice lies outside it, or holds a small part
    of it, and the marked block reads like an article (prose, few links), the marked block is
    the main content. Density scoring is a guess; the markup is the author's statement."""
    stats = an.stats
    marked = list(an.outer)
    listings: list = []
    if len(marked) > 1:
        # several outermost <article>s: one holding other <article>s (teasers of other posts,
        # comments) is a listing, not the article
        listings = [m for m in marked if _nested_articles(m) >= 2]
        marked = [m for m in marked if m not in listings]
    if len(marked) != 1:
        return roots
    m = marked[0]
    st = stats.get(m)
    if st is None or m in an.eff_drop or _link_density(st) > 0.3 or st[2] < 3:
        return roots
    chosen = sum(stats[r][0] for r in roots if r in stats)
    # which roots lie in the marked block (a memoized climb: 16,000 roots 2,000 deep, each
    # walked to the top, took 1.4 s) and which hold it (its ancestors, walked once)
    mset = {m}
    memo: dict = {}
    inside = [r for r in roots if r is m or _outer_marker(r, mset, memo) is not None]
    in_w = sum(stats[r][0] for r in inside if r in stats)
    m_anc = set(m.iterancestors())
    wraps = [r for r in roots if r in m_anc]
    if wraps or inside and len(inside) < len(roots):
        # the choice takes the article and more: of what lies outside the author's <article>,
        # listings (repeated records: teasers, jobs, comments) and link-heavy blocks go; an
        # author's note or a closing paragraph beside the <article> stays
        if st[0] < max(_MIN_ACCEPT, _WRAP_SHARE * chosen):
            return roots
        out = []
        for r in roots:
            if r in inside:
                out.append(r)
            elif r in wraps:
                for c in r:
                    if c is m or c in m_anc:
                        out.append(m)
                    elif c in listings:
                        continue
                    elif c in stats and c not in an.eff_drop and _plain_block(c, stats):
                        out.append(c)
            elif _plain_block(r, stats):
                out.append(r)
        if sum(stats[r][0] for r in out if r in inside or r is m) < 0.35 * st[0]:
            out = [m if (r in inside) else r for r in out]
            out = [r for i, r in enumerate(out) if r not in out[:i]]
        return out
    if not inside:
        # the choice lies elsewhere ("Suggested articles" instead of the article)
        return [m] if st[0] >= max(_MIN_ACCEPT, 0.5 * chosen) else roots
    return [m] if in_w < 0.35 * st[0] else roots


_TITLE_ART_SHARE = 0.25  # the titled article holds at least this share of the chosen text


def _check_title_article(roots: list, an: _Analysis, title: str) -> list:
    """Several whole articles on one page (a blog's or a dossier's page showing its posts in
    full), the choice inside one of them: the article whose heading repeats the page's title is
    the page's own. The block of it built like the chosen one (the same tag and class: one
    template renders every post) is taken, or the whole article. A teaser or a short summary
    whose heading repeats the title does not replace a long choice."""
    if not title or len(an.outer) < 2:
        return roots
    stats = an.stats
    marked = [m for m in an.outer if m in stats and m not in an.eff_drop]
    if len(marked) < 2:
        return roots
    homes = {_outer_marker(r, an.outer, an.outer_memo) if r not in an.outer else r for r in roots}
    if len(homes) != 1:
        return roots
    m0 = homes.pop()
    if m0 is None or m0 not in marked:
        return roots
    titled = []
    for m in marked:
        h = next(m.iter("h1", "h2", "h3"), None)
        if h is not None and _repeats_title(h, title):
            titled.append(m)
    if len(titled) != 1 or titled[0] is m0:
        return roots
    m1 = titled[0]
    st = stats[m1]
    chosen = sum(stats[r][0] for r in roots if r in stats)
    if _link_density(st) > 0.3 or st[0] < max(_MIN_ACCEPT, _TITLE_ART_SHARE * chosen):
        return roots
    out = []
    twins: dict | None = None  # (tag, class) -> the first such element in m1, read once
    for r in roots:
        if r is m0:
            return [m1]
        cls = r.get("class")
        if not cls:
            return [m1]
        if twins is None:  # one walk of m1 instead of one per root (2,000 roots: 41 s)
            twins = {}
            for e in m1.iter():
                if isinstance(e.tag, str) and e in stats and e not in an.eff_drop:
                    c = e.get("class")
                    if c:
                        twins.setdefault((e.tag, c), e)
        twin = twins.get((r.tag, cls))
        if twin is None:
            return [m1]
        out.append(twin)
    if sum(stats[r][0] for r in out) < 0.5 * st[0]:  # the twin holds the post, not a caption
        return [m1]
    return out


_EXTENT_LD = 0.2     # text beside the choice inside the article joins with at most this link share ...
_EXTENT_PUNCT = 200  # ... and a punctuation mark per this much weight (sentences, not labels), ...
_EXTENT_SHARE = 0.1  # ... when it adds this share of the choice's text (and _MIN_ACCEPT), ...
_EXTENT_PARAS = 0.5  # ... this share of it in paragraphs (a list of video titles is no lead)


def _check_extent(roots: list, an: _Analysis) -> list:
    """A choice inside the page's one outermost <article>/articleBody reaches up to the
    ancestor whose text beside the choice reads like more of the story: an article split into
    sibling sections (a lead section before the body, one <section> per part) scores in one of
    them. Each step up must add prose (few links, sentence punctuation, mostly paragraphs that
    end in a sentence end); text beside the choice that does not stops the climb. The choice grows only by a sizeable part (a dateline, a
    caption or a note beside it is no lead section)."""
    if len(roots) != 1:
        return roots
    stats = an.stats
    # the outermost article markers left after boilerplate went (teaser <article>s in a
    # dropped box are none); of several, one holding other <article>s is a listing
    marked = [m for m in an.outer if m in stats and m not in an.eff_drop]
    if len(marked) > 1:
        marked = [m for m in marked if _nested_articles(m) < 2]
    if len(marked) != 1:
        return roots
    m = marked[0]
    r = roots[0]
    if r is m or not _is_ancestor(m, r):
        return roots
    cur_st = stats.get(r)
    if cur_st is None:
        return roots
    top = r
    cur = r
    r_w = cur_st[0]
    need = max(_MIN_ACCEPT, _EXTENT_SHARE * r_w)
    p = r.getparent()
    while p is not None and cur is not m:
        st = stats.get(p)
        if st is None or p in an.eff_drop:
            break
        w, lw, pc = st[0] - cur_st[0], st[1] - cur_st[1], st[2] - cur_st[2]
        if w >= _MIN_PARA and (lw > _EXTENT_LD * w or pc * _EXTENT_PUNCT < w
                               or _paragraph_weight(p, cur, stats) < _EXTENT_PARAS * w):
            break
        if st[0] - r_w >= need:  # a dateline or a caption beside the choice is no lead section
            top = p
        cur, cur_st = p, st
        p = p.getparent()
    return [top] if top is not r else roots


_LEAD_MAX = 1500  # weighted characters: a lead is a paragraph or two, not a section
_LEAD_LEVELS = 3  # ancestors of the choice whose previous sibling may be the lead


def _check_lead(roots: list, an: _Analysis) -> list:
    """The article's lead (standfirst) just before the chosen block joins it: a page template
    puts the lead in its own box (an intro column, a teaser paragraph above the body field), too
    short to score as a section. The nearest block before the choice (the previous sibling of
    the choice or of one of its next _LEAD_LEVELS ancestors; empty blocks and short headings
    passed over) joins when it is running text: _LEAD_MIN to _LEAD_MAX weighted characters, no
    link text, ending in a sentence end (any script), no lists or tables, not boilerplate by
    tag, role, hidden state or a widget word (a layout word alone does not stop it)."""
    if len(roots) != 1:
        return roots
    r = roots[0]
    stats, drop = an.stats, an.drop
    cur = r
    for _ in range(_LEAD_LEVELS + 1):
        sib = cur.getprevious()
        while sib is not None:
            st = stats.get(sib) if isinstance(sib.tag, str) else None
            if st is None or st[0] == 0 and sib not in drop:
                sib = sib.getprevious()  # a comment, an image, an empty block
                continue
            if sib.tag in _HEADINGS and sib not in drop and st[0] < _LEAD_MIN:
                sib = sib.getprevious()  # the headline or a kicker above the lead
                continue
            break
        if sib is not None:
            break
        cur = cur.getparent()
        if cur is None or cur is an.body:
            return roots
    else:
        return roots
    if sib in drop or sib.tag == "h1" or _in_widget(sib, an):
        return roots
    w, lw, _ = stats[sib]
    if not _LEAD_MIN <= w <= _LEAD_MAX or lw:
        return roots
    text = _STRING(sib).strip()
    if not _ends_sentence(text) or any(True for _ in sib.iter("ul", "ol", "table", "dl", "pre")):
        return roots
    if sib in an.eff_drop:
        an.eff_drop = an.eff_drop - {sib}
    return [sib, r]


def _in_widget(el: etree._Element, an: _Analysis) -> bool:
    """el or a descendant is named for a widget (comments, share, related, ...) or dropped."""
    for x in el.iter():
        if x is not el and x in an.drop:
            return True
        ci = _class_id(x) if isinstance(x.tag, str) else ""
        if ci and _STRONG_NEG.search(ci) and _class_verdict(ci) == _WORDS:
            return True
    return False


def _paragraph_weight(p: etree._Element, skip: etree._Element, stats: dict) -> int:
    """Weight of the paragraphs under `p` outside `skip`: innermost blocks of _MIN_PARA or
    more, mostly outside links, ending in a sentence end (in any script: "." or "。"); a list of
    titles or captions does not."""
    total = 0
    for c in p:
        if c is skip or c not in stats:
            continue
        for q in c.iter():
            st = stats.get(q)
            if (st is not None and st[0] >= _MIN_PARA and 2 * st[1] < st[0]
                    and not any(ch in stats for ch in q) and _ends_sentence(_STRING(q))):
                total += st[0]
    return total


def _nested_articles(el: etree._Element) -> int:
    """<article> elements inside `el` (a C-level tag filter)."""
    return sum(1 for _ in el.iter("article")) - (el.tag == "article")


_RECORD_TAGS = frozenset(("div", "li", "article", "section", "tr", "dd"))


def _records_share(root: etree._Element, stats: dict) -> float:
    """The share of `root`'s text held by repeated records: 3+ children of one (tag, class) that
    are containers of blocks (a comment, a review, a teaser card), not plain paragraphs."""
    groups: dict = {}
    for c in root:
        tag = c.tag
        if tag in _RECORD_TAGS and c in stats and len(c):
            st = stats[c]
            k = (tag, c.get("class"))
            g = groups.get(k)
            if g is None:
                groups[k] = [1, st[0]]
            else:
                g[0] += 1
                g[1] += st[0]
    w = stats[root][0] if root in stats else 0
    if not w:
        return 0.0
    return max((g[1] for g in groups.values() if g[0] >= 3), default=0) / w


def _records_share_deep(el: etree._Element, stats: dict) -> float:
    """_records_share of `el`, or of the block it wraps (down a chain of single children
    holding most of its text: a cell or column whose one child is the list of records)."""
    share = 0.0
    for _ in range(4):
        share = _records_share(el, stats)
        w = stats[el][0] if el in stats else 0
        if share >= 0.6 or not w:
            return share
        big = [c for c in el if c in stats and stats[c][0] >= 0.8 * w]
        if len(big) != 1:
            return share
        el = big[0]
    return share


def _plain_block(el: etree._Element, stats: dict) -> bool:
    """Text beside the article that is no listing: few links, no run of repeated records
    (looked for down a chain of single dominant children)."""
    st = stats.get(el)
    if st is None or not st[0] or _link_density(st) > 0.3:
        return False
    for _ in range(4):
        if _records_share(el, stats) >= 0.6:
            return False
        big = [c for c in el if c in stats and stats[c][0] >= 0.8 * stats[el][0]]
        if len(big) != 1:
            return True
        el = big[0]
    return True


def _check_headline(roots: list, an: _Analysis, title: str) -> list:
    """A choice made of repeated records (comments, reviews) while the page's headline sits in a
    block of its own, with text and few links, apart from the choice: that block is the main
    content (a recipe or product above its review thread). A thread whose records share a block
    with the headline (a forum topic) stays as it is."""
    stats = an.stats
    if len(roots) != 1 or _records_share_deep(roots[0], stats) < 0.6:
        return roots
    heads = [h for h in an.body.iter("h1") if h in stats]
    if len(heads) > 1 and title:
        heads = [h for h in heads if _repeats_title(h, title)] or heads[:1]
    if not heads:
        return roots
    root = roots[0]
    root_anc = set(root.iterancestors())  # (walked once: at every step of the climb took D^2)
    p = heads[0].getparent()
    # the records' block above the first block of the climb is above every later one too
    above = p is not None and _is_ancestor(root, p)
    while p is not None and p is not an.body:
        if p is root or p in root_anc or above:
            return roots  # the headline's block holds the records, or they hold it
        st = stats.get(p) if p.tag != "header" else None  # an article's header and lead: climb on
        if st is not None and st[0] - stats[heads[0]][0] >= _MIN_ACCEPT // 2:
            return [p] if _link_density(st) < 0.4 and p not in an.eff_drop else roots
        p = p.getparent()
    return roots


_PROSE_UP = 3  # how many ancestors (adding text) of a choice of records are looked at for prose


def _check_enclosing_prose(roots: list, an: _Analysis) -> list:
    """A choice made of repeated records (captions of a gallery, cards, comments) inside a
    block that also holds paragraphs of its own, outside the records, amounting to an article
    (a gallery embedded in the story's text block): that block is the main content. The records
    score high because each is a paragraph; the prose beside them would be lost."""
    stats = an.stats
    if len(roots) != 1 or _records_share_deep(roots[0], stats) < 0.6:
        return roots
    r = roots[0]
    rw = stats[r][0] if r in stats else 0
    p = r.getparent()
    up = 0
    below = rw  # the weight of the level below
    inside: set | None = None
    while up < _PROSE_UP:
        if p is None or p is an.body or p not in stats or p in an.eff_drop:
            break
        w = stats[p][0]
        if w <= below + _MIN_PARA:  # a wrapper adding no text of its own is no step
            p = p.getparent()
            continue
        up += 1
        below = w
        own = 0
        if inside is None:  # the choice's own paragraphs, found once (not by a walk up from each)
            inside = set(r.iter("p"))
        for para in p.iter("p"):
            st = stats.get(para)
            if st is not None and st[2] and _link_density(st) < 0.3 and para not in inside:
                own += st[0]
        if own >= max(_MIN_ACCEPT, 0.2 * rw):
            return [p] if _link_density(stats[p]) < 0.4 else roots
        p = p.getparent()
    return roots


_LONGER = 3.0  # a block elsewhere with this many times the chosen text (outside links) wins ...
_LONGER_LD = 0.25  # ... when it has few links, ...
_SHORT = 2 * _MIN_ACCEPT  # ... and the choice is short (a teaser) or made of links (a list)
_LONGER_RECORDS = 1.2  # a choice of repeated records gives way to a plain block this much longer


def _check_longer(roots: list, an: _Analysis) -> list:
    """The chosen block against the largest text-dense block elsewhere: a block that lies apart
    from the choice, is not dropped, has few links, is no run of repeated records (a comment
    thread, a teaser list) and holds several times the chosen text is the article when the
    choice is short or link-heavy (a teaser, a summary, a list of links that scored well on a
    few punctuated lines); when the choice is itself a run of repeated records (teaser cards,
    comments), a plain block somewhat longer than it is."""
    stats = an.stats
    outer = an.outer
    if any(r in outer or _outer_marker(r, outer, an.outer_memo) is not None for r in roots):
        return roots  # the page's own <article>/articleBody markup holds the choice
    chosen = links = 0
    for r in roots:
        st = stats.get(r)
        if st is not None:
            chosen += st[0]
            links += st[1]
    if len(roots) == 1 and _records_share_deep(roots[0], stats) >= 0.6:
        ratio = _LONGER_RECORDS  # a list of teasers or comments: a longer plain block wins
    elif chosen - links >= _SHORT and links < 0.3 * chosen:
        return roots
    else:
        ratio = _LONGER
    chosen -= links
    need = max(ratio * chosen, _SHORT)
    best = None
    best_w = need
    drop = an.eff_drop
    # sets and remembered ancestor walks instead of a walk per root and block (95 chains of
    # 2,000 <div>s, every level a candidate, took 13 s)
    rset = set(roots)
    r_anc = _ancestors(roots)
    under_root: dict = {}
    under_drop: dict = {}
    for el, st in stats.items():  # every block: one long run of text broken by <br>s counts too
        w = st[0] - st[1]
        if w < best_w or st[1] > _LONGER_LD * st[0] or el in drop:
            continue
        if el in rset or el in r_anc or _outer_marker(el, rset, under_root) is not None:
            continue
        if (_outer_marker(el, drop, under_drop) is not None or _records_share(el, stats) >= 0.6
                or _nested_articles(el) >= 2):  # a box of <article> teasers is a listing
            continue
        best, best_w = el, w
    return [best] if best is not None else roots


def _check_structured(ld: list[str], body: etree._Element, roots: list, an: _Analysis,
                      title: str, text: str) -> str:
    """When the page states its article body (or recipe method) in JSON-LD and the chosen
    block's `text` holds little of it, the block that does hold it is the main content: the
    text to use."""
    sb = _structured_body(ld)
    if len(sb) < 120:
        return text
    probes = _probes(sb)
    cov = _covered(probes, text)
    if cov >= 0.5:
        return text
    blk = _block_of(body, probes)
    if blk is None or blk is body or blk in an.eff_drop:
        return text
    # the stated body is the text; its block's parents add the headline, a recipe's ingredients
    # and the like, as long as they stay clear of the block chosen before and of link lists
    stats = an.stats
    w0 = stats.get(blk, (0, 0, 0))[0]
    # sets instead of a walk per root and step (1,000 roots beside a 2,000-deep chain took 53 s)
    chain = []  # blk's ancestors, nearest first
    q = blk.getparent()
    while q is not None:
        chain.append(q)
        q = q.getparent()
    rset = set(roots)
    r_anc = _ancestors(roots)  # the roots' ancestors
    under_root: dict = {}  # _outer_marker's memo: a root stands above the node
    i = 0
    while i < len(chain):
        p = chain[i]
        if (p is body or p not in stats or p in rset or p in r_anc
                or _outer_marker(p, rset, under_root) is not None):
            break
        st = stats[p]
        if st[0] > 3 * max(w0, 1) or _link_density(st) > 0.4:
            break
        blk = p
        i += 1
    above = set(chain[i:])  # blk's ancestors
    keep = [r for r in roots if r in above]
    alt = _serialise(keep or [blk], an, clean=True, title=title)
    return alt if _covered(probes, alt) > cov else text


def extract(html: str, favor: str = "balanced") -> Extraction:
    """Main content of `html` as structured plain text, the page title and the method used.
    `favor`: "precision" (less boilerplate, may lose a marginal paragraph), "balanced" or
    "recall" (more of the page's text around the main block)."""
    try:
        tune = FAVOR[favor]
    except KeyError:
        raise ValueError(f"favor must be one of {', '.join(FAVOR)}, not {favor!r}") from None
    root, halted = _parse_once(html)
    if root is None or halted:
        # no document, or one nested past the parser's limit, which it stopped reading there:
        # browsers stop nesting instead (Chrome adds elements past 512 levels as siblings) and
        # show the rest, so all of the page's text is read, tags removed by regex
        text = _stripped(html)
        return Extraction(text, "" if root is None else _title(root), "stripped" if text else "none")
    res = _extract_root(html, root, tune)
    if not res.text and _NOSCRIPT_RE.search(html) is not None:
        # nothing to read: a page whose text is all in <noscript> (served so to readers without
        # scripts, crawlers among them) shows that text; a script-built page's notice is no text
        alt = _noscript_reading(html, tune)
        if alt is not None:
            res = alt
    w = _weight(res.text)
    if w < _SHORT and _FIELDS_RE.search(html) is not None:
        # little to read: a page whose text is in a <textarea> (a paste or code-sharing page)
        # or drawn as SVG <text> (a diagram, an infographic) shows that text
        alt = _fields_reading(html, tune, max(_LONGER * w, _MIN_ACCEPT))
        if alt is not None:
            res = alt
    return res


def _extract_root(html: str, root: etree._Element, tune: _Tune) -> Extraction:
    """The extraction from a parsed page (`extract` after the parse)."""
    title = _title(root)
    # (a walk in C: a search of the page's bytes for "ld+json" first cost more than it saved,
    # and missed a type written with a character reference)
    ld = _ld_sources(root)
    # (a walk in C: next to nothing on a page without ruby, MathML or templates)
    notes = list(root.iter(*_RUBY_NOTES, "math", "template"))
    if notes:
        shadows = [el for el in notes if el.tag == "template"]
        if shadows:
            notes = [el for el in notes if el.tag != "template"]
            shown = False
            for el in shadows:
                # a declarative shadow root (a web component rendered on the server) is shown in
                # place of its template; any other <template> is inert and goes with the junk
                if el.get("shadowrootmode") is not None or el.get("shadowroot") is not None:
                    el.tag = _SHADOW_ROOT
                    shown = True
            if shown:
                etree.strip_tags(root, _SHADOW_ROOT)
        maths = [el for el in notes if el.tag == "math"]
        if maths:
            notes = [el for el in notes if el.tag != "math"]
            inner: set = set()
            for el in maths:  # (in document order: a formula before those inside it)
                if el not in inner:
                    inner.update(el.iter("math"))
                    _math_to_text(el)
        for el in notes:
            el.text = None
        etree.strip_tags(root, *_RUBY_NOTES)
    etree.strip_elements(root, *_JUNK_TAGS, with_tail=False)
    _forget_text()  # (a new tree: text measured in another go)
    body = root.find("body")
    if body is None:
        body = root
    res, w, hidden = _extract_body(html, body, title, ld, tune)
    # Text hidden until a script shows it (a paywall's or an expander's display:none article
    # body, code lines marked aria-hidden beside a screen-reader copy) is the article when what
    # is shown is short and a hidden block holds several times its text: the one hidden block
    # is shown and the page read again; the reading wins when it has several times the text.
    if w < _SHORT and hidden:
        need = max(_LONGER * w, _SHORT)
        el, n = max(hidden, key=lambda en: en[1])
        if n >= need / _CJK_WEIGHT and _weight(_STRING(el)) >= need:
            for k in _HIDING_ATTRS:
                if k in el.attrib:
                    del el.attrib[k]
            _unhide_class(el)
            alt, alt_w, _ = _extract_body(html, body, title, ld, tune)
            if alt_w >= need:
                res = alt
    # (it holds the page's elements; a page that raises leaves them to the next page's clear,
    # a try/finally around the extraction cost 2.5% of its time)
    _forget_text()
    return res


_SHADOW_ROOT = "x-corpuskit-shadow-root"  # (a name no page uses: the shown templates, unwrapped)
_MATH_KEPT = ("style", "class", "hidden", "aria-hidden")
_TEX_ENCODINGS = frozenset(("application/x-tex", "text/x-tex", "application/x-latex", "tex", "latex"))


def _math_to_text(el: etree._Element) -> None:
    """A MathML formula made an inline element holding its text: browsers render MathML, and a
    formula in a sentence is part of it. The TeX source where the page states it (LaTeXML's
    `alttext`, a `<annotation encoding="application/x-tex">` as MathJax and Wikipedia write
    it), else the characters the reader sees (annotations, which are not shown, left out)."""
    tex = el.get("alttext")
    if not tex or tex.isspace():
        tex = None
        for a in el.iter("annotation"):
            if (a.get("encoding") or "").strip().lower() in _TEX_ENCODINGS and a.text and not a.text.isspace():
                tex = a.text
                break
    if tex is None:
        for a in list(el.iter("annotation", "annotation-xml")):
            a.getparent().remove(a)  # (their tails, inside the formula, are white space)
        tex = "".join(el.itertext())
    tail = el.tail
    shown = {k: v for k, v in el.attrib.items() if k in _MATH_KEPT}  # (a hidden formula stays hidden)
    el.clear()
    el.tag = "span"
    el.attrib.update(shown)
    el.text = _collapse(tex) or None
    el.tail = tail


_NOSCRIPT_RE = re.compile(r"<noscript(?=[\t\n\f\r />])", re.I)


def _noscript_reading(html: str, tune: _Tune) -> Extraction | None:
    """The page read again with its <noscript> elements shown (their content in their place;
    one in <head> moved to the start of the body, as a browser without scripts puts its
    paragraphs there), for a page that had nothing to read without them. Taken only when it
    finds _MIN_ACCEPT weighted characters: "enable JavaScript to run this app" is not the text
    of a page built by a script."""
    root, halted = _parse_once(html)
    if root is None or halted:
        return None
    found = list(root.iter("noscript"))
    if not found or sum(_STRLEN(el) for el in found) < _MIN_ACCEPT / _CJK_WEIGHT:
        return None
    head, body = root.find("head"), root.find("body")
    if head is not None:
        moved = [el for el in head.iter("noscript") if el.getparent() is head]
        if moved:
            if body is None:
                body = etree.SubElement(root, "body")
            for k, el in enumerate(moved):
                el.tail = None
                body.insert(k, el)
    etree.strip_tags(root, "noscript")
    res = _extract_root(html, root, tune)
    if _weight(res.text) < _MIN_ACCEPT:
        return None
    return res._replace(method="noscript")


_FIELDS_RE = re.compile(r"<(?:textarea|svg)(?=[\t\n\f\r />])", re.I)
_SVG_KEPT = ("style", "class", "id", "hidden", "aria-hidden")  # (a hidden drawing stays hidden)


def _fields_reading(html: str, tune: _Tune, need: float) -> Extraction | None:
    """The page read again with the text of its <textarea>s (a `<pre>`: a text box shows its
    text as written, line breaks kept) and its SVG drawings (each `<text>` a line of its own;
    HTML inside a `<foreignObject>` as it is) shown, for a page that had little to read without
    them. Taken only when it finds `need` weighted characters: a comment box's "Write your
    comment" or a chart's axis labels beside a short text are not the page's text."""
    root, halted = _parse_once(html)
    if root is None or halted:
        return None
    for el in list(root.iter("textarea", "svg")):
        if el.tag == "textarea":
            el.tag = "pre"
            continue
        if el.getparent() is None:  # (inside a drawing taken apart before)
            continue
        lines: list[etree._Element] = []
        inner: set = set()
        for t in el.iter("text", "foreignobject"):
            if t in inner:
                continue  # (a <tspan>'s text is its <text>'s)
            inner.update(t.iter("text", "foreignobject"))
            if t.tag == "text":
                line = etree.Element("p")
                line.text = _collapse(_STRING(t)) or None
            else:
                t.tag = "div"
                t.tail = None
                line = t
            lines.append(line)
        tail = el.tail
        shown = {k: v for k, v in el.attrib.items() if k in _SVG_KEPT}
        el.clear()
        el.tag = "div"
        el.attrib.update(shown)
        el.extend(lines)
        el.tail = tail
    res = _extract_root(html, root, tune)
    if _weight(res.text) < need:
        return None
    return res._replace(method="fields")


_HIDING_ATTRS = ("style", "hidden", "aria-hidden")
# a bracketed group in a heading: "[edit]", "[editar | modificar o código]", "［编辑］", "【编辑】"
_BRACKETED_RE = re.compile(r"^\s*[\[\uff3b\u3010].*[\]\uff3d\u3011]\s*$", re.S)
_NOT_WORD_RE = re.compile(r"[\W_]+")


_HEADING_MAX = 4_096


def _strip_heading_links(heads: list) -> None:
    """Take out of the headings the bracketed groups of links a wiki puts beside them ("[edit]",
    "[editar | modificar o código]", "[编辑]": a section's edit links in any language) and a
    bracketed footnote link: an inline element whose text is all in brackets and, brackets and
    separators aside, all link text. The heading's own words stay."""
    for h in heads:
        if _text_longer(h, _HEADING_MAX):  # no heading: read no further (nested spans or headings)
            continue
        t = _STRING(h)
        if "[" not in t and "\uff3b" not in t and "\u3010" not in t:
            continue
        for el in list(h.iter("span", "sup", "small", "a")):
            if el is h or el.getparent() is None:
                continue
            t = _STRING(el)
            if not _BRACKETED_RE.match(t):
                continue
            words = len(_NOT_WORD_RE.sub("", t))
            linked = len(_NOT_WORD_RE.sub("", "".join(_STRING(a) for a in el.iter("a"))))
            if words and linked >= words:
                _remove_keep_tail(el)


def _remove_keep_tail(el: etree._Element) -> None:
    """Remove `el` and its subtree; the text after it stays where it was."""
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _unhide_class(el: etree._Element) -> None:
    """Take the hiding class tokens ("hidden", "hidden-contents", "d-none") off `el`'s class
    and id (the state a script showing the block leaves it in)."""
    for k in ("class", "id"):
        v = el.get(k)
        if v and _class_verdict_of(v, None) == _HIDDEN_CLS:
            el.set(k, " ".join(t for t in v.split() if _class_verdict_of(t, None) != _HIDDEN_CLS))


def _extract_body(html: str, body: etree._Element, title: str, ld: list, tune: _Tune
                  ) -> tuple[Extraction, int, list]:
    """The cascade over one parsed body: the extraction, its text's weight and the hidden
    subtrees the analyses left out, (element, length of its text)."""
    attempts: list[tuple[str, str, int]] = []
    an_strict = None
    hidden: list = []
    page_w = 0
    for level in (0, 1, 2):
        relaxed = level == 2
        an = _Analysis(body, level, tune)
        if an_strict is None:
            an_strict = an
            # the walk found the headings: a wiki's edit links leave them before anything is
            # chosen or written (the weights measured with them in differ by a few characters)
            _strip_heading_links(an.heads)
            _forget_text()  # (the text under a heading may have changed)
        hidden += an.hidden
        page_w = max(page_w, an.total)
        roots = _whole_units(_pick(an, use_weights=not relaxed), an.stats)
        if roots and not relaxed:
            roots = _check_markup(roots, an)
            roots = _check_title_article(roots, an, title)
            roots = _check_extent(roots, an)
            roots = _check_headline(roots, an, title)
            roots = _check_enclosing_prose(roots, an)
            if not ld:  # a stated article body is the stronger evidence (_check_structured)
                roots = _check_longer(roots, an)
            roots = _check_lead(roots, an)
        if roots:
            text = _serialise(roots, an, clean=True, title=title)
            if ld and not relaxed:
                text = _check_structured(ld, body, roots, an, title, text)
            text = _trim_meta(text)
            if tune.trim_tail:
                text = _trim_tail(text)
            w = _weight(text)
            method = ("density", "density_loose", "density_relaxed")[level]
            if w >= _MIN_ACCEPT or w >= _MIN_SHARE * page_w:
                return Extraction(text, title, method), w, hidden
            attempts.append((text, method, w))
    # `an` is now the relaxed analysis: its stats and layout tables serve the all-text pass
    for method, an_, use_drop in (("body", an_strict, True), ("all_text", an, False)):
        text = _serialise([body], an_, False, use_drop, title=title)
        w = _weight(text)
        if w and (w >= _MIN_ACCEPT or w >= _MIN_SHARE * page_w):
            return Extraction(text, title, method), w, hidden
        attempts.append((text, method, w))
    if not any(t for t, _, _ in attempts):
        text = _stripped(html)
        if text:
            return Extraction(text, title, "stripped"), _weight(text), hidden
        return Extraction("", title, "none"), 0, hidden
    text, method, w = max(attempts, key=lambda tmw: tmw[2])
    return Extraction(text, title, method), w, hidden


def extract_text(html: str, favor: str = "balanced") -> str:
    """Main content of `html` as structured plain text ('' when the page has none)."""
    return extract(html, favor).text
