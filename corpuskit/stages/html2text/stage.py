"""html2text: records with `html` -> records with `text`, the page's main content.

The extraction itself lives in corpuskit.stages.html2text.extract (lxml parse, boilerplate pruning,
density scoring, fallback cascade); this module is the stage around it: size cap, junk
detection, reasons and meta.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from lxml import etree

from corpuskit.core.errors import MissingField
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta
from corpuskit.stages.html2text.extract import FAVOR, extract

__all__ = ["HtmlToText", "extract_text", "looks_binary"]

# C0 controls other than tab/newline/carriage return/form feed, DEL, and U+FFFD (what a
# decoder leaves for undecodable bytes): text never has many, binary data decoded as text does.
# The controls are counted in the sample's UTF-8 form (a C scan, about twice as fast as a regex
# over the str), where they are those bytes and no other character has them; U+FFFD in the str.
_JUNK_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_JUNK_SAMPLE = 65_536
_JUNK_SHARE = 0.05


# Elements that never enclose others (void) or whose end tag may be left out (the parser closes
# them itself): not counted as nesting by the complexity check.
_NO_NEST = frozenset(
    "area base br col embed hr img input link meta param source track wbr "
    "p li dt dd tr td th thead tbody tfoot option optgroup colgroup caption rb rt rtc rp "
    "html head body".split())
# Tags as libxml2 (2.14, whose tokenizer follows HTML5) reads them. White space is HTML5's five
# characters, not Python's \s (U+00A0, U+3000, \v are name characters there). A tag name runs to
# white space, '/' or '>'. An attribute is a name (its first character may be '=' or a quote,
# later ones not '='), then, after '=' with white space around it allowed, a quoted value (where
# a '>' does not end the tag) or an unquoted one (to white space or '>'). Attributes are
# separated by white space or '/', or by nothing after a quoted value. A quote elsewhere, a
# stray one as in `width="90 height="132"` or `bgcolor="#ccc""`, is a character of a name, and
# an '=' that follows a quoted or an unquoted value, or no name, starts a name: read as opening a
# value, it would join the markup up to the next quote, often kilobytes of ordinary elements,
# into one tag (or hide thousands of attributes in one value).
_WS = r"\t\n\f\r "
_TAG_NAME = rf"[A-Za-z][^{_WS}/>]*+"
_ATTR = rf"""[^{_WS}/>][^{_WS}/>=]*+(?:[{_WS}]*+=[{_WS}]*+(?:"[^"]*+"?|'[^']*+'?|[^{_WS}>]*+))?+"""
_TAG_BODY = rf"(?:[{_WS}/]++|{_ATTR})*+"
# a tag, or (group 4) a comment's '<!--' or what opens a bogus comment: '<!', '<?', '</' not
# before a letter
_TAG_RE = re.compile(rf"<(/?)({_TAG_NAME})({_TAG_BODY})>?|<(!--|[!?]|/(?![A-Za-z]))")
_ATTR_RE = re.compile(_ATTR)
# Elements whose content is text to the parser, not markup: skipped to their end tag, which is
# one only before white space, '/' or '>' (noscript is markup to libxml2, which runs no
# scripts; after <plaintext> everything is text). A script's content follows HTML5's escapes.
_END_DELIM = rf"(?=[{_WS}/>])"
_RAW_END = {name: re.compile(f"</{name}{_END_DELIM}", re.I) for name in (
    "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")}
_COMMENT_END_RE = re.compile("--!?>")
_SCRIPT_TOKEN_RE = re.compile(rf"<!--|-->|</script{_END_DELIM}|<script{_END_DELIM}", re.I)
# The quick check. It tries every '<' before a letter, wherever it is (scripts and comments
# included), and leaves to Python only the tags it cannot settle in the regex engine: those of
# _LONG attributes or more, or holding a '<', a name or value over _QUICK_MAX characters, a
# quote in an unquoted value, or no end. The rest, read by the same rules as _ATTR but within
# those limits, are tags of at most _LONG - 1 attributes ending at their '>'. Every read stops
# at the next '<', so the engine's work is linear in the page.
_LONG = 64
_QUICK_MAX = 2048
_NAME_Q = rf"[^{_WS}/><=]{{0,{_QUICK_MAX}}}+(?=[{_WS}/>=])"
_ATTR_Q = (rf"""[^{_WS}/><]{_NAME_Q}(?:[{_WS}]*+=[{_WS}]*+(?:"[^"<]{{0,{_QUICK_MAX}}}+"|'[^'<]{{0,{_QUICK_MAX}}}+'"""
           rf"""|[^{_WS}>"'<]{{0,{_QUICK_MAX}}}+(?=[{_WS}>]))|(?![{_WS}]*+=))""")
_UNSETTLED_RE = re.compile(
    rf"<[A-Za-z](?![^{_WS}/><]{{0,{_QUICK_MAX}}}+(?=[{_WS}/>])[{_WS}/]*+(?:{_ATTR_Q}[{_WS}/]*+){{0,{_LONG - 1}}}+>)")
_TAG_AT_RE = re.compile(rf"<{_TAG_NAME}({_TAG_BODY})")
# an unsettled tag that ends within _QUICK_WINDOW characters with at most _LONG - 1 attributes,
# read by the full rules ('<' in names and values included)
_SHORT_AT_RE = re.compile(rf"<{_TAG_NAME}[{_WS}/]*+(?:{_ATTR}[{_WS}/]*+){{0,{_LONG - 1}}}+>")
_QUICK_WINDOW = 8192
# libxml2's stack of open elements holds at most this many (huge_tree); the exact scan bounds
# the parser's search of it for end tags at this many steps per element allowed (--max-nodes):
# 5,000 x 200,000 = 10^9 steps, about 2 s; a page within --max-nodes' '<' needs no count
_PARSER_DEPTH = 2_048
_END_TAG_WORK_PER_NODE = 5_000
# An attribute follows white space, a '/' or a quoted value's closing quote.
_ATTR_STARTS = (" ", "\n", "\t", "\r", "\f", "/", '"', "'")


def _surely_within(html: str, max_attrs: int, max_nodes: int, max_depth: int,
                   max_attr_pairs: int) -> bool:
    """True when cheap counts already show every bound holds (most pages), so the exact scan
    can be skipped. No more '<' than elements or depth allowed. Each tag the regex cannot
    settle (_UNSETTLED_RE) is read again by the full rules, first within _QUICK_WINDOW
    characters (short after all?), else whole, its attributes counted as the parser reads
    them; where it holds a '<' (a tag read in a script or a comment may hold a real one in a
    value), the search goes on from inside it, so that a real tag there is counted too. That
    reading is bounded: past 4 times the page's length, the exact scan decides. A short tag
    holds at most _LONG - 1 attributes, so all of those squared come to at most
    _LONG - 1 times their number, which is at most _LONG - 1 times the page's '<' and at most
    its white space, '/' and quotes (counted only when the cheaper bounds are not enough)."""
    n_lt = html.count("<")
    if (max_nodes and n_lt > max_nodes) or (max_depth and n_lt > max_depth):
        return False
    if max_attrs and max_attrs < _LONG:  # a short tag may pass it: scan exactly
        return False
    long_pairs = pos = 0
    budget = 4 * len(html) + 100_000
    search, short_at, tag_at, attrs = (_UNSETTLED_RE.search, _SHORT_AT_RE.match, _TAG_AT_RE.match,
                                       _ATTR_RE.findall)
    while (m := search(html, pos)) is not None:
        p = m.start()
        fits = short_at(html, p, p + _QUICK_WINDOW)
        if fits is not None:  # a short tag after all: the '<' inside it are tried on their own
            budget -= fits.end() - p
            if budget < 0:
                return False
            pos = p + 1
            continue
        t = tag_at(html, p)
        body = t.group(1)
        budget -= _QUICK_WINDOW + t.end() - p
        if budget < 0:
            return False
        k = len(attrs(body))
        if max_attrs and k > max_attrs:
            return False
        long_pairs += k * k
        pos = t.end() if "<" not in body else p + 1
    most = _LONG - 1  # attributes of a short tag
    if max_attr_pairs and long_pairs + most * min(len(html), most * n_lt) > max_attr_pairs:
        starts = sum(html.count(c) for c in _ATTR_STARTS)
        if long_pairs + most * starts > max_attr_pairs:
            return False
    return True


def complexity(html: str, max_attrs: int, max_nodes: int, max_depth: int,
               max_attr_pairs: int = 0) -> str | None:
    """Why the page is beyond the bounds (None when it is within them), from the markup
    before any parsing: attributes in one start tag, and the sum over all start tags of
    their attributes squared (libxml2's tree builder walks an element's attributes to add each
    new one, so that sum is its work: with lxml 6.2 / libxml2 2.14 one element of 64,000
    attributes takes 7 s, ten of 90,000 over two minutes), start tags in the page
    (the extraction's work grows with the elements; with them, in the exact scan, end tags
    times the elements open there, the parser's search for each end tag) and nesting depth (start tags not yet
    closed; void elements and those whose end tag may be left out aside). Comments and the
    content of script, style and the other raw-text elements are not markup. A limit of 0 is
    no limit.

    Most pages are settled by counting characters (`_surely_within`); the rest get one scan
    that stops at the first bound passed, linear in the page."""
    if _surely_within(html, max_attrs, max_nodes, max_depth, max_attr_pairs):
        return None
    return _scan(html, max_attrs, max_nodes, max_depth, max_attr_pairs)


def _comment_end(html: str, pos: int) -> int:
    """Where a comment opened by '<!--' just before `pos` ends: after '-->' or '--!>', or at
    once for '<!-->' and '<!--->' (HTML5's rules); len(html) when it never does."""
    if html.startswith(">", pos):
        return pos + 1
    if html.startswith("->", pos):
        return pos + 2
    e = _COMMENT_END_RE.search(html, pos)
    return len(html) if e is None else e.end()


def _script_end(html: str, pos: int) -> int:
    """Where the end tag of a script whose content starts at `pos` begins (len(html) when
    there is none), by HTML5's script data states: after '<!--' the content is escaped, and
    there a '<script' makes the next '</script' part of the content; '-->' ends the escape."""
    state = 0  # 0 script data, 1 escaped, 2 double escaped
    for m in _SCRIPT_TOKEN_RE.finditer(html, pos):
        t = m.group()
        if t == "<!--":  # '<!-->' and '<!--->' end an escape as '-->' does
            if html.startswith((">", "->"), m.end()):
                state = 0
            elif state == 0:
                state = 1
        elif t == "-->":
            state = 0
        elif t[1] == "/":
            if state != 2:
                return m.start()
            state = 1
        elif state == 1:
            state = 2
    return len(html)


def _ends_in_value(rest: str) -> bool:
    """Whether the last character of a tag's body belongs to an attribute (an unquoted value
    such as `x/`), not to the separators after it."""
    ends = [m.end() for m in _ATTR_RE.finditer(rest)]
    return bool(ends) and ends[-1] == len(rest)


def _scan(html: str, max_attrs: int, max_nodes: int, max_depth: int, max_attr_pairs: int
          ) -> str | None:
    """complexity's exact scan, tag by tag, as the parser (HTML5's tokenizer) reads the page:
    comments, bogus comments ('<!...>', '<?...>') and the content of raw-text elements are
    no markup."""
    n = pairs = pos = end_work = 0
    # libxml2 looks for each end tag's element down its stack of open elements (at most
    # _PARSER_DEPTH): 5 million end tags that close nothing under 2,040 open <span>s take it 20 s.
    # Their count times the open elements there (at most the start tags so far) is bounded; an
    # ordinary page, whose end tags are about as many as its elements, stays well inside.
    end_budget = _END_TAG_WORK_PER_NODE * max_nodes
    stack: list[str] = []
    open_names: dict[str, int] = {}
    search = _TAG_RE.search
    while True:
        m = search(html, pos)
        if m is None:
            return None
        pos = m.end()
        name = m.group(2)
        if name is None:
            if m.group(4) == "!--":
                pos = _comment_end(html, pos)
            else:  # a bogus comment, to the first '>' ('</>' included: the parser drops it)
                j = html.find(">", pos)
                pos = len(html) if j < 0 else j + 1
            continue
        name = name.lower()
        close, rest = m.group(1), m.group(3)
        if close:
            if end_budget:
                end_work += n if n < _PARSER_DEPTH else _PARSER_DEPTH
                if end_work > end_budget:
                    return (f"end tags under more open elements than the parser can search in "
                            f"bounded time (over {end_budget:,} steps; --max-nodes)")
            if name in _NO_NEST or not open_names.get(name):
                continue
            while stack:  # an end tag closes what it encloses
                top = stack.pop()
                open_names[top] -= 1
                if top == name:
                    break
            continue
        n += 1
        if max_nodes and n > max_nodes:
            return f"more than {max_nodes:,} elements (--max-nodes)"
        # an attribute takes at least 2 characters (a separator and a name): short tags are
        # counted by that bound, longer ones exactly
        k = len(_ATTR_RE.findall(rest)) if len(rest) > 16 else len(rest) // 2
        if max_attrs and k > max_attrs:
            return f"a <{name}> element with {k:,} attributes > --max-attrs {max_attrs:,}"
        pairs += k * k
        if max_attr_pairs and pairs > max_attr_pairs:
            return (f"more than {max_attr_pairs:,} attribute pairs to compare (the sum of each "
                    f"element's attributes squared; --max-attr-pairs)")
        # '/' before '>' closes the element at once (libxml2 does so for every element, raw-text
        # ones too) unless it is the end of an unquoted value (`<a href=x/>`)
        if rest.endswith("/") and not _ends_in_value(rest):
            continue
        if name == "plaintext":  # the rest of the page is its text
            return None
        if name == "script":
            pos = _script_end(html, pos)
            continue
        end = _RAW_END.get(name)
        if end is not None:
            e = end.search(html, pos)
            if e is None:
                return None
            pos = e.start()
            continue
        if name not in _NO_NEST:
            stack.append(name)
            open_names[name] = open_names.get(name, 0) + 1
            if max_depth and len(stack) > max_depth:
                return f"elements nested more than {max_depth:,} deep (--max-depth)"


def extract_text(html: str, favor: str = "balanced") -> str:
    """Main content of a page as structured plain text ('' when it has none), as `corpuskit
    html2text` gives it with its default limits: a page the stage would reject as too large,
    binary or too complex (markup that would keep the parser busy for minutes) raises ValueError
    naming the reason, rather than being parsed (`extract` reads any page, unchecked)."""
    st = _CHECKED.get(favor)
    if st is None:
        st = _CHECKED[favor] = HtmlToText(favor=favor)
    out = st.process({"html": html})
    if isinstance(out, Rejection):
        if out.reason == "no_content":
            return ""
        raise ValueError(f"html2text: {out.reason}: {out.detail}")
    return out["text"]


_CHECKED: dict = {}  # favor -> the stage with its default limits, for extract_text


# File signatures (as they read after any 8-bit decoding) of formats that are not pages but get
# stored as them: PDF, GIF, ZIP/Office, gzip, RTF; PNG, JPEG and MP4 a few bytes in.
_MAGIC_START = ("%PDF-", "GIF87a", "GIF89a", "PK\x03\x04", "\x1f\x8b", "{\\rtf")
_MAGIC_NEAR = ("PNG\r\n\x1a\n", "JFIF", "Exif", "ftypisom", "ftypmp4")


def looks_binary(html: str) -> bool:
    """True when the "page" is a known binary format, or its start is mostly control or
    replacement characters: an image, archive or PDF that was stored as HTML."""
    sample = html[:_JUNK_SAMPLE]
    if not sample:
        return False
    head = sample[:16]
    if head.startswith(_MAGIC_START) or any(m in head for m in _MAGIC_NEAR):
        return True
    b = sample.encode("utf-8", "surrogatepass")
    junk = len(b) - len(b.translate(None, _JUNK_BYTES))
    if "\ufffd" in sample:  # (a test in C that is all most pages need; counting costs more)
        junk += sample.count("\ufffd")
    return junk > _JUNK_SHARE * len(sample)


@dataclass
class HtmlToText(RecordStage):
    name: ClassVar[str] = "html2text"
    summary: ClassVar[str] = ("Extract the main content of HTML pages (article, post, document "
                              "body) as structured plain text, without boilerplate.")
    reasons: ClassVar[dict[str, str]] = {
        "too_large": "the page has more characters of HTML than --max-html-chars",
        "not_html": "binary data rather than a page (control or undecodable characters)",
        "no_content": "the page has no text at all",
        "too_complex": "more attributes in one element or in the page, elements or nesting "
                       "depth than --max-attrs, --max-attr-pairs, --max-nodes, --max-depth "
                       "(bounds the work per page)",
    }
    needs: ClassVar[str | None] = "html"

    html_field: str = opt("html", "Record key holding the page's HTML.", metavar="FIELD")
    keep_html: bool = opt(False, "Keep the HTML field next to the extracted text.")
    keep_text: bool = opt(False, "Records that already have a text field pass through (their html, "
                                 "if any, dropped unless --keep-html), so pages and extracted text "
                                 "can be mixed; the pipeline turns this on.")
    favor: str = opt("balanced", "What the choice of the main content leans to: precision (less "
                                 "boilerplate, may lose a marginal paragraph), balanced, or recall "
                                 "(more of the text around the main block). Figures per setting in "
                                 "docs/stages/html2text.md.", metavar="precision|balanced|recall")
    max_html_chars: int = opt(20_000_000, "Largest page accepted, in characters of HTML "
                                          "(trafilatura's cap is 20 MB too); larger pages are "
                                          "rejected as too_large. 0 for no limit.", metavar="N",
                              aliases=("max_chars",))
    max_attrs: int = opt(1_000, "Most attributes one element may have; pages beyond are rejected "
                                "as too_complex (the parse is quadratic in them). 0 for no limit.")
    max_attr_pairs: int = opt(20_000_000, "Most attribute pairs the parser compares in a page "
                                          "(the sum over elements of their attributes squared); "
                                          "beyond: too_complex. 0 for no limit.")
    max_nodes: int = opt(200_000, "Most elements (start tags) in a page; beyond: too_complex. 0 for "
                                  "no limit.")
    max_depth: int = opt(50_000, "Deepest nesting of elements in a page; beyond: too_complex. 0 "
                                 "for no limit.")

    def __post_init__(self) -> None:
        for name in ("max_html_chars", "max_attrs", "max_attr_pairs", "max_nodes", "max_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0")
        if self.favor not in FAVOR:
            raise ValueError(f"--favor must be one of {' | '.join(FAVOR)}, not {self.favor!r}")

    def required_field(self) -> str | None:
        return None if self.keep_text else self.html_field

    def process(self, record: dict) -> dict | Rejection:
        hf = self.html_field
        html = record.get(hf)
        if self.keep_text and isinstance(record.get(self.text_field), str):
            out = record if self.keep_html or hf not in record else {
                k: v for k, v in record.items() if k != hf}
            set_meta(out, "html2text", "existing_text")
            return out
        if not isinstance(html, str) and self.keep_text:
            return Rejection("no_content", f"neither {hf} nor {self.text_field}")
        if not isinstance(html, str):
            raise MissingField(hf)
        n = len(html)
        if self.max_html_chars and n > self.max_html_chars:
            return Rejection("too_large", f"{n} > {self.max_html_chars} chars")
        if looks_binary(html):
            return Rejection("not_html", "mostly control/undecodable characters")
        why = complexity(html, self.max_attrs, self.max_nodes, self.max_depth, self.max_attr_pairs)
        if why is not None:
            return Rejection("too_complex", why)
        try:
            ex = extract(html, self.favor)
        except (ValueError, etree.LxmlError) as e:  # libxml2 refusing input it cannot parse
            return Rejection("not_html", f"parser: {type(e).__name__}")
        if not ex.text:
            return Rejection("no_content", "no text found")
        out = self._with_text(record, ex.text)
        if ex.title:
            set_meta(out, "title", ex.title)
        set_meta(out, "html2text", ex.method)
        return out

    def _with_text(self, record: dict, text: str) -> dict:
        """The record with the text added; without `keep_html` the text takes html's place,
        so the user's other keys keep their order."""
        key = self.text_field
        if self.keep_html:
            record[key] = text
            return record
        out: dict = {}
        for k, v in record.items():
            if k == self.html_field:
                out[key] = text
            elif k != key:
                out[k] = v
        return out
