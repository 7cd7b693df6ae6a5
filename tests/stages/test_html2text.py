"""html2text: golden structure, boilerplate removal, Chinese pages (GBK and UTF-8), bad input."""
from __future__ import annotations

import html as htmllib
import itertools
import json
import os
import pickle
import re
import unittest.mock
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lhtml

from corpuskit.core.decode import decode_html
from corpuskit.core.stage import Rejection
from corpuskit.core.text import CJK_RANGES
from corpuskit.registry import make_stage
from corpuskit.stages.html2text import extract as extract_mod
from corpuskit.stages.html2text import stage as stage_mod
from corpuskit.stages.html2text.extract import (
    _COLLAPSE_CHUNK,
    _LD_MAX,
    _block_of,
    _cjk_chars,
    _cjk_unbreak,
    _class_verdict_of,
    _collapse,
    _forget_text,
    _main_markers,
    _outermost,
    _stripped,
    _structured_body,
    _text_longer,
    _text_prefix,
    _text_start,
    _without_doc_ends,
    extract,
    parse,
)
from corpuskit.stages.html2text.stage import (
    HtmlToText,
    _scan,
    _surely_within,
    complexity,
    extract_text,
    looks_binary,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "html"


def page(name: str) -> str:
    return decode_html((FIX / name).read_bytes())[0]


def golden(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8").rstrip("\n")


# ---------------------------------------------------------------- structure


def test_structure_golden():
    assert extract_text(page("structure.html")) == golden("structure.txt")


def test_heading_repeating_the_title_is_dropped_once():
    html = ("<html><head><title>Seals are back | Coastal Times</title></head><body><article>"
            "<h1>Seals are back</h1><p>" + "The seals came back to the estuary this spring, and the "
            "trust counted them. " * 3 + "</p><h2>Seals are back</h2><p>Later text, a sentence.</p>"
            "</article></body></html>")
    text = extract_text(html)
    assert text.startswith("The seals came back")
    assert "\n\nSeals are back\n\n" in text  # a later heading is content


def test_structure_elements():
    text = extract_text(page("structure.html"))
    lines = text.split("\n")
    # headings on their own line, with a blank line around
    i = lines.index("A list")
    assert lines[i - 1] == "" and lines[i + 1] == ""
    # list items one per line
    assert ["First item, with a comma", "Second item", "Third bold item"] == lines[i + 2:i + 5]
    # table rows one per line, cells separated
    assert "Name | Value\nalpha | 1\nbeta | 2" in text
    # <pre> verbatim: indentation and its blank line kept
    assert "def f(x):\n    return x + 1\n\nprint(f(2))" in text
    # <br> is a line break
    assert "An address:\n221B Baker Street\nLondon" in text
    # source line breaks inside a paragraph are just spaces
    assert "from a page, and it is long" in text
    # navigation and footer are gone
    assert "Home" not in text and "Copyright" not in text


def test_br_inside_a_data_cell_keeps_the_row_on_one_line():
    html = ("<html><body><p>" + "A paragraph before the table, long enough to read as prose. " * 3 +
            "</p><table><tr><td>Name</td><td>Address</td></tr><tr><td>Ann</td>"
            "<td>1 Main St<br>Springfield</td></tr></table></body></html>")
    assert "Name | Address\nAnn | 1 Main St Springfield" in extract_text(html)


def test_layout_table_is_not_a_data_table():
    html = ("<html><body><table><tr><td><p>" + "Layout tables hold whole articles, one paragraph after "
            "another, and their cells are blocks. " * 3 + "</p><p>" + "A second paragraph, also long "
            "enough to be prose, with commas, here and there. " * 3 + "</p></td></tr></table></body></html>")
    text = extract_text(html)
    assert " | " not in text
    assert "\n\nA second paragraph" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_table_with_one_paragraph_in_a_cell_stays_a_data_table(lang):
    # a long list of films, one row each: a linked title, a year, a description; one
    # description holds a <p>. The table is still data: rows on one line, linked titles kept
    if lang == "en":
        title, desc = "Film number {i}", "A story about a day that repeats itself, told for the {i}th time."
    else:
        title, desc = "第{i}号电影", "一个关于同一天不断重复的故事，这是第{i}次讲述。"
    rows = "".join(
        f"<tr><th><i><a href='/f{i}'>{title.format(i=i)}</a></i></th><td>{1950 + i}</td>"
        f"<td>{'<p>' if i == 7 else ''}{desc.format(i=i)}{'</p>' if i == 7 else ''}</td></tr>"
        for i in range(12))
    html = (f"<html><body><h1>Films</h1><p>{'A list of films, with their years and stories. ' * 3}</p>"
            f"<table class='list'><thead><tr><th>Film</th><th>Year</th><th>Story</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></body></html>")
    text = extract_text(html)
    for i in (0, 3, 11):
        assert f"{title.format(i=i)} | {1950 + i} | {desc.format(i=i)}" in text


def test_layout_table_with_a_column_of_links_beside_the_article_is_a_layout():
    # the cell holding the article's paragraphs holds most of the table's text: a layout
    links = "".join(f"<a href='/s{i}'>Section {i}</a><br>" for i in range(15))
    paras = "".join(f"<p>{'Layout tables hold whole articles, one paragraph after another. ' * 3}</p>"
                    for _ in range(4))
    html = (f"<html><body><table><tr><td>{links}</td><td>{paras}</td></tr>"
            f"<tr><td>About</td><td>Contact</td></tr></table></body></html>")
    text = extract_text(html)
    assert " | " not in text
    assert "another.\n\nLayout tables" in text


# ---------------------------------------------------------------- boilerplate


def test_boilerplate_golden():
    assert extract_text(page("boilerplate_en.html")) == golden("boilerplate_en.txt")


@pytest.mark.parametrize("junk", [
    "We use cookies",              # consent banner
    "Sport",                       # header menu
    "Share on Facebook",           # share widget
    "Subscribe now",               # display:none
    "Advertisement",               # aria-hidden
    "Otters spotted",              # related stories (class)
    "Ten walks along the coast",   # link list inside the article (link density)
    "Brilliant news",              # comments
    "Local bakery",                # sidebar
    "Quay Street",                 # footer
    "tracking", "font:",           # script / style
])
def test_boilerplate_removed(junk):
    assert junk not in extract_text(page("boilerplate_en.html"))


def test_article_kept():
    text = extract_text(page("boilerplate_en.html"))
    for para in ("Harbour seals have returned", "forty-two animals", "We were astonished",
                 "keep dogs on a lead"):
        assert para in text


# ---------------------------------------------------------------- Chinese


def test_gbk_page_decodes_and_extracts():
    raw = (FIX / "zh_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    html, enc = decode_html(raw)
    assert enc == "gb18030"
    ex = extract(html)
    assert ex.text == golden("zh_gbk.txt")
    assert ex.title == "山区小学的新图书馆_地方新闻_某某网"


def test_chinese_content_and_boilerplate():
    text = extract_text(page("zh_gbk.html"))
    assert "图书馆由当地企业和志愿者共同捐建" in text
    # full-width punctuation and quotes kept as they are
    assert "“以前我们只能在教室角落里看几本旧书，现在每天中午都可以来这里。”" in text
    for junk in ("首页", "相关阅读", "县城新建三座公园", "网友评论", "热点排行", "版权所有", "当前位置"):
        assert junk not in text
    # a source line break inside Chinese text is not a space
    assert "正式向学生开放，书架上" in text
    # full-width indentation spaces are not kept at line starts
    assert not any(line.startswith(("\u3000", " ")) for line in text.splitlines())


def test_utf8_page_without_charset_same_text():
    raw = (FIX / "zh_utf8_nocharset.html").read_bytes()
    html, enc = decode_html(raw)
    assert enc == "utf-8"
    assert extract_text(html) == golden("zh_gbk.txt")


def test_chinese_density_without_classes():
    # no class/id hints at all: the block of Chinese prose must win over a longer link menu
    menu = "".join(f"<li><a href='/{i}'>栏目{i}新闻资讯</a></li>" for i in range(40))
    body = "".join(f"<p>第{i}段：这是一段用来测试正文抽取的中文文字，包含逗号、顿号和句号。</p>" for i in range(6))
    html = f"<html><body><div><ul>{menu}</ul></div><div>{body}</div></body></html>"
    text = extract_text(html)
    assert "第0段" in text and "第5段" in text
    assert "栏目1新闻资讯" not in text


# ---------------------------------------------------------------- the stage


def test_stage_record_shape():
    stage = HtmlToText()
    rec = {"id": "1", "url": "http://x", "html": page("boilerplate_en.html"), "extra": [1]}
    out = stage.process(rec)
    assert isinstance(out, dict)
    assert list(out) == ["id", "url", "text", "extra", "meta"]  # text takes html's place
    assert out["meta"]["title"] == "Harbour seals return to the estuary - The Coastal Times"
    assert out["meta"]["html2text"] == "density"
    # the headline repeats meta.title, so the text starts with the first paragraph
    assert out["text"].startswith("Harbour seals have returned")


def test_stage_keep_html_and_text_field():
    html = page("structure.html")
    out = HtmlToText(keep_html=True, text_field="body").process({"html": html})
    assert out["html"] == html and "A list" in out["body"]


def test_stage_pickles():
    s = HtmlToText(max_html_chars=5)
    assert pickle.loads(pickle.dumps(s)) == s


def test_bad_option():
    with pytest.raises(Exception, match="max-html-chars"):
        make_stage("html2text", max_html_chars=-1)


def test_too_large_default_cap_50mb():
    html = "<html><body><p>" + "x" * (50 * 1024 * 1024) + "</p></body></html>"
    out = HtmlToText().process({"html": html})
    assert out == Rejection("too_large", f"{len(html)} > 20000000 chars")


def test_too_large_option():
    out = HtmlToText(max_html_chars=10).process({"html": "<p>hello world</p>"})
    assert isinstance(out, Rejection) and out.reason == "too_large"
    assert isinstance(HtmlToText(max_html_chars=0).process({"html": "<p>hello world</p>"}), dict)


def test_deep_nesting_no_recursion_error():
    html = "<html><body>" + "<div>" * 10_000 + "deep text at the bottom" + "</div>" * 10_000 + "</body></html>"
    out = HtmlToText().process({"html": html})
    assert isinstance(out, dict)
    assert out["text"] == "deep text at the bottom"


def test_deep_nesting_inline_and_tables():
    html = "<body>" + "<span><table><tr><td>" * 3000 + "cell" + "</td></tr></table></span>" * 3000
    out = HtmlToText().process({"html": html})
    assert isinstance(out, dict) and "cell" in out["text"]


def _unclosed(tag, n, word="w", sep=" "):
    # n start tags never closed: libxml2 nests each in the one before
    return "".join(f"<{tag} class=c{i % 3}>{word}{i}{sep}" for i in range(n))


@pytest.mark.parametrize("tag", ["span", "font", "div", "dt"])
@pytest.mark.parametrize("n", [2_100, 20_000])
def test_text_past_the_parsers_depth_limit_is_kept(tag, n):
    # libxml2 stops reading at 2,048 open elements; thousands of unclosed <font> or <span> (an
    # old forum post) would lose the rest of the page. Such a page is read whole by the last
    # resort, tags stripped, and says so (meta.html2text "stripped").
    page = ("<html><head><title>T</title></head><body><nav><a href=/>Home</a> <a href=/b>Blog</a>"
            f"</nav><p>{_unclosed(tag, n)}</p><p>The closing paragraph of the page.</p></body></html>")
    assert parse(page) is not None and "closing paragraph" not in "".join(parse(page).itertext())
    ex = extract(page)
    assert ex.method == "stripped" and ex.title == "T"
    assert "w0 w1 w2" in ex.text.replace("\n", " ") and f"w{n - 1}" in ex.text
    assert ex.text.endswith("The closing paragraph of the page.")
    out = HtmlToText().process({"html": page})
    assert out["meta"]["html2text"] == "stripped" and out["text"] == ex.text


def test_chinese_past_the_depth_limit_is_not_spaced():
    # inline tags leave nothing in the stripped text: no space between Chinese characters
    page = f"<html><body><p>{_unclosed('span', 3_000, '中文', '')}</p><p>尾段落。</p></body></html>"
    ex = extract(page)
    assert ex.method == "stripped"
    assert "中文0中文1中文2" in ex.text and "中文2999" in ex.text and ex.text.endswith("尾段落。")


def test_pages_within_the_depth_limit_are_read_as_usual():
    page = f"<html><body><nav>Home</nav><p>{_unclosed('span', 2_000)}</p><p>The closing paragraph.</p></body></html>"
    ex = extract(page)
    assert ex.method == "density" and "w1999" in ex.text and "The closing paragraph." in ex.text
    assert "Home" not in ex.text


def test_the_last_resort_reads_a_page_whose_head_is_not_closed():
    # HTML allows </head> to be left out; the regex reading must not take the page for head
    head = "<html><head><title>T</title><meta charset=utf-8><script>var x = '<p>no</p>';</script><style>p{}</style>"
    assert _stripped(head + "<body><p>Hello there.</p></body></html>") == "Hello there."
    assert _stripped(head + "<p>Hello there.</p>") == "Hello there."
    # a page past the depth limit comes to that reading
    page = head + "<p>" + "".join(f"<x-{i}>w{i} " for i in range(3_000)) + "</p><p>The closing paragraph.</p>"
    ex = extract(page)
    assert ex.method == "stripped" and "w2999" in ex.text and "The closing paragraph." in ex.text
    assert "no" not in ex.text.split() and "var" not in ex.text


def test_the_last_resort_keeps_lines():
    assert _stripped("<p>a<br class=x>b<br/>c</p><div>d</div><td>x</td><td>y</td>") == "a\nb\nc\nd\nx\ny"
    # "<br" with no '>' after it ends at the next '<' (bench_hostile.py times 400,000 of them)
    assert _stripped("<p>text</p>" + "<br" * 5 + ">after") == "text\nafter"
    # a custom element whose name starts like a never-shown one is not that element
    assert _stripped("<p>before</p><svg-icon></svg-icon><title-bar>T</title-bar><p>after</p>") == "before\nT\nafter"
    assert _stripped("<p>a</p><iframe><p>frame</p></iframe><noembed>e</noembed><noframes>f</noframes>b") == "a\nb"


def test_a_page_past_the_depth_limit_is_parsed_once():
    # pages a review built against an earlier version, which parsed such a page again with some
    # tags renamed: each passes the complexity check, and the parser must build no element of
    # more than a thousand attributes from it
    a = " ".join(f"a{i}" for i in range(5_000))
    pages = ["<div>" * 2_049 + "<script <div><p " + a + ">x</script>",
             "<i>" * 2_049 + "<\u0130 " + a + ">x",
             '<a"bc>' * 2_049 + "<q v=\"<a\"bc x='\" <p " + a + " '>x"]
    built = []
    real = etree.fromstring

    def counting(data, parser=None):
        root = real(data, parser)
        built.append(max(len(el.attrib) for el in root.iter()))
        return root

    for page in pages:
        assert complexity(page, 1_000, 200_000, 50_000, 20_000_000) is None
        built.clear()
        with unittest.mock.patch.object(etree, "fromstring", counting):
            assert extract(page).method in ("stripped", "none")  # the first holds only a script
        assert len(built) == 1 and max(built) <= 1_000


_PARA = "A sentence of the article's body, long enough to count as its text. " * 4


@pytest.mark.parametrize("between", [
    "</body></html>",          # a second document pasted after the first
    "</div></HTML >",          # a fragment's stray end tag in the middle of the page
    "</html>\n<!-- x -->",
    "</body>",                 # libxml2 puts what follows </body> beside the body, not in it
])
def test_text_after_a_stray_end_of_document_is_kept(between):
    # libxml2 stops at the first </html> and drops the rest of the page without an error; a
    # browser reads on into the body, and so does the extraction
    page = (f"<html><head><title>T</title></head><body><nav><a href=/>Home</a> <a href=/b>Blog</a></nav>"
            f"<div><p>{_PARA} First part.</p>{between}<div><p>{_PARA} Second part.</p></div></body></html>")
    ex = extract(page)
    assert "First part." in ex.text and "Second part." in ex.text and "Home" not in ex.text
    zh = "<html><body><div><p>" + "第一段的正文，足够长。" * 8 + f"</p>{between}<p>" + "第二段的正文。" * 8 + "</p></div></body></html>"
    assert "第二段的正文。" in extract(zh).text


def test_end_tags_at_the_end_cost_no_copy():
    page = f"<html><body><p>{_PARA}</p></body>\n</html >\r\n  ".encode()
    assert _without_doc_ends(page) is page
    assert (_without_doc_ends(page + b"<script>x</script>")
            == f"<html><body><p>{_PARA}</p></xxxx>\n</xxxx >\r\n  <script>x</script>".encode())
    # renamed in place, whatever the context: a name, a value
    assert _without_doc_ends(b'a</BoDy/>b</htmlx>c<d</html>e f="</body>"') == b'a</xxxx/>b</htmlx>c<d</xxxx>e f="</xxxx>"'
    # ... so the words after a name renamed inside another tag's name stay text, as the complexity
    # check read them (taking the end tag out would make them 1,500 attributes of a <div>)
    ends = '<p>x</p><d</html>iv ' + " ".join(f"a{i}" for i in range(1_500)) + '><p>y</p>'
    assert complexity(ends, 1_000, 0, 0, 20_000_000) is None and _libxml2_attrs(ends)[0] < 1_000
    # a flood of them is no pasted document: left as written (renamed, each would make the
    # parser search its stack of open elements for nothing)
    flood = b"<p>a</p>" + b"</html>" * 65 + b"<p>b</p>"
    few = b"<p>a</p>" + b"</html>" * 64 + b"<p>b</p>"
    assert _without_doc_ends(flood) is flood and _without_doc_ends(few) == few.replace(b"</html>", b"</xxxx>")
    # <title/> closes at once; a <title> in a script's string, never closed, is no title
    assert _without_doc_ends(b"<title/><p>a</p></html><p>b</p>") == b"<title/><p>a</p></xxxx><p>b</p>"
    assert (_without_doc_ends(b'<script>x="<title>T<\\/title>"</script><p>a</p></html><p>b</p>')
            == b'<script>x="<title>T<\\/title>"</script><p>a</p></xxxx><p>b</p>')
    # shown text keeps them: a <title>, an <xmp>, what follows <plaintext>
    assert (_without_doc_ends(b"<title>Why </html></title></body><xmp></BODY></xmp></html><plaintext></html>")
            == b"<title>Why </html></title></xxxx><xmp></BODY></xmp></xxxx><plaintext></html>")


@pytest.mark.parametrize("trailer", [
    "\n<!-- Dynamic page generated in 0.8 seconds. -->\n<!-- Cached 2019-06-21 -->",
    "</text>\n",              # an archive's wrapper closed after the page
    "<!-- a -- b --!> </html>\r\n",
    "<!-- a --->",
    "<!---->",
])
def test_what_holds_no_text_after_the_end_needs_no_renaming(trailer):
    # comments (HTML5's rules) and end tags after </html> carry no text: the page is parsed as
    # written, and its text is the same as with the end tags renamed
    page = f"<html><body><p>{_PARA}</p></body></html>{trailer}"
    data = page.encode()
    assert _without_doc_ends(data) is data
    assert extract(page).text == _PARA.strip()


@pytest.mark.parametrize("trailer, after", [
    ("<!-->After an empty comment.", "After an empty comment."),  # '<!-->' and '<!--->' close at once
    ("<!--->After an empty comment.<!-- x -->", "After an empty comment."),
    ("<!-- open --!-> still the comment --> After the comment.", "After the comment."),
    ("</div>After an end tag.", "After an end tag."),
    ("<!-- never closed", None),  # the comment runs to the end of the page
    # a '<' in an end tag is part of a name, and a quoted value may hold a '>': the tag ends at
    # its own '>', and what looked like a comment's start is inside it
    ("<!-- a --></p x <!--y>After the tag.-->", "After the tag.-->"),
    ("</p a='><!--'>After a quoted value.-->", "After a quoted value.-->"),
    ('</x a="><!--">After a quoted value.-->', "After a quoted value.-->"),
])
def test_text_after_the_end_among_comments_is_read(trailer, after):
    page = f"<html><body><p>{_PARA}</p></body></html>{trailer}"
    # (and when the end of the document itself holds the '<')
    tag_page = f"<html><body><p>{_PARA}</p></body><!-- x --></html <!--x>After it.-->"
    assert extract(tag_page).text.endswith("After it.-->")
    data = page.encode()
    assert _without_doc_ends(data) != data
    text = extract(page).text
    assert text.startswith(_PARA.strip())
    if after:
        assert text.endswith(after) and "comment -->" not in text and "still" not in text
    else:
        assert text == _PARA.strip()


@pytest.mark.parametrize("fallback", ["noframes", "noembed"])
def test_raw_text_fallbacks_leave_no_markup_in_the_text(fallback):
    # their content is text to the parser, tags and all, and no browser shows it
    page = (f"<html><body><{fallback}><p>Your browser cannot show this.</p></{fallback}>"
            f"<p>{_PARA}</p></body></html>")
    ex = extract(page)
    assert "A sentence of the article" in ex.text and "<p>" not in ex.text and "browser" not in ex.text
    frames = (f"<html><frameset cols=50%,50%><frame src=a.html></frameset><{fallback}><body><p>{_PARA}</p>"
              f"</body></{fallback}></html>")
    assert "<p>" not in extract(frames).text


def test_ruby_annotations_leave_the_base_text():
    # furigana and pinyin sit above the text; their parentheses (<rp>) show only without ruby
    para = ("日本語の<ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp>字<rp>(</rp><rt>じ</rt><rp>)</rp></ruby>を読む。"
            "<ruby><rb>中</rb><rb>文</rb><rtc><rt>zhōng</rt><rt>wén</rt></rtc></ruby>的课文很长。") * 6
    ex = extract(f"<html><body><article><p>{para}</p><p>{'二つ目の段落です。十分な長さの文章。' * 6}</p></article></body></html>")
    assert "日本語の漢字を読む。中文的课文很长。日本語の" in ex.text
    assert "かん" not in ex.text and "zhōng" not in ex.text and "(" not in ex.text


def test_hidden_until_found_is_content():
    # an accordion's collapsed sections: opened by find-in-page, so part of the page's text
    secs = "".join(f"<h2>Question {i}</h2><div hidden=until-found><p>{_PARA} Answer {i}.</p></div>" for i in range(4))
    ex = extract(f"<html><body><main>{secs}<div hidden><p>{_PARA} Never shown.</p></div></main></body></html>")
    assert all(f"Answer {i}." in ex.text for i in range(4)) and "Never shown." not in ex.text


def test_xmp_shows_its_markup_as_text():
    ex = extract(f"<html><body><p>{_PARA}</p><xmp><b>bold</b> as written</xmp></body></html>")
    assert "<b>bold</b> as written" in ex.text


_EN_SENTS = [f"Sentence number {i} of the article talks about topic {i * 7 % 13}, with enough words to count."
             for i in range(24)]
_ZH_SENTS = [f"这是文章的第{i}句话，讲述了一个足够长的话题，让段落有足够的字数。" for i in range(24)]
# Markup a browser shows the same way as plain paragraphs, or that libxml2 reads differently
# from a browser: the article's every sentence must come out, the menu and footer must not.
_SAME_TO_A_READER = {
    "stray </body></html>": lambda s: s.replace("</p>", "</p></body></html>", 1),
    "stray </html> after a comment": lambda s: s.replace("</p>", "</p><!-- x --></HTML>\n", 2),
    "unclosed <font>": lambda s: s.replace("<p>", "<p><font color=red>"),
    "upper-case tags": lambda s: s.replace("<p>", "<P>").replace("</p>", "</P>"),
    "no </p>": lambda s: s.replace("</p>", ""),
    "comments": lambda s: s.replace("</p>", "</p><!-- a > b -- c --><!--[if IE]><p>old</p><![endif]-->"),
    "downlevel-revealed": lambda s: s.replace("<p>", "<![if !IE]><p>", 1).replace("</p>", "</p><![endif]>", 1),
    "CDATA, PI, doctype": lambda s: s.replace("</p>", "</p><![CDATA[ x ]]><?php echo 1; ?><!DOCTYPE html>", 1),
    "CR LF and a BOM": lambda s: s.replace("<p>", "\r\n<p>"),  # the BOM: at the page's start, below
    "unclosed wrappers": lambda s: "<div class=content>" * 3 + s,
    "<br><br> paragraphs": lambda s: s.replace("<p>", "").replace("</p>", "<br><br>"),
    "layout table": lambda s: "<table><tr><td>" + s + "</td></tr></table>",
    "a span a word": lambda s: re.sub(r"([^<>\s，。]+)(?=[\s，。])", r"<span>\1</span>", s),
    "&nbsp;": lambda s: s.replace(" ", "&nbsp;", 40),
    "a script with '</p>' and '<'": lambda s: s.replace("</p>", "<script>var a = '</p>'; if (a<b) {}</script></p>", 1),
    "a form": lambda s: "<form action=/x>" + s + "</form>",
    # a <title> in the body is not shown (browsers' style sheet hides it); libxml2 keeps it there
    "a second <body>, <head>, <html>, <title>": lambda s: s.replace("</p>", "</p><body class=x><head><title>x</title></head><html lang=en>", 1),
    "<font size> and <center>": lambda s: "<center>" + s.replace("<p>", "<p><font size=2>").replace("</p>", "</font></p>") + "</center>",
    "ruby": lambda s: s.replace("。", "<ruby>。<rt>ju</rt></ruby>", 3).replace(
        "topic", "<ruby>topic<rp>(</rp><rt>tɒpɪk</rt><rp>)</rp></ruby>", 3),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("change", list(_SAME_TO_A_READER))
def test_markup_a_reader_sees_the_same_keeps_the_article(lang, change):
    sents = _EN_SENTS if lang == "en" else _ZH_SENTS
    body = "".join("<p>" + " ".join(sents[i:i + 4]) + "</p>" for i in range(0, len(sents), 4))
    page = ("<!DOCTYPE html><html><head><meta charset=utf-8><title>Title</title></head><body>"
            '<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>'
            f"<main>{_SAME_TO_A_READER[change](body)}</main>"
            "<footer><p>Copyright 2024 Example Corp. All rights reserved.</p></footer></body></html>")
    if "BOM" in change:
        page = "\ufeff" + page
    out = extract(page).text
    # the article's sentences in order, nothing else (white space aside)
    assert re.sub(r"\s+", "", out) == re.sub(r"\s+", "", "".join(sents))


def test_outermost_markers():
    root = lhtml.fromstring("<div><article id=a><div><article id=b></article></div></article>"
                            "<section><article id=c></article></section><article id=d></article></div>")
    arts = list(root.iter("article"))
    assert [m.get("id") for m in _outermost(arts, set(arts))] == ["a", "c", "d"]
    assert [m.get("id") for m in _outermost(arts, set(arts[1:]))] == ["a", "b", "c", "d"]


def test_end_tags_under_deep_nesting_are_bounded():
    # libxml2 searches its stack of open elements for each end tag: millions that close
    # nothing under 2,040 open elements take it seconds per megabyte
    deep = "<span>" * 2_040 + "x" + "</z>" * 600_000
    assert "end tags" in complexity(deep, 1_000, 200_000, 50_000, 20_000_000)
    assert complexity(deep, 1_000, 0, 50_000, 20_000_000) is None  # --max-nodes 0: no limit
    # an ordinary large page, as many end tags as elements, passes
    big = "<html><body>" + "<p>x</p>" * 150_000 + "</body></html>"
    assert complexity(big, 1_000, 200_000, 50_000, 20_000_000) is None


def test_many_articles_and_deep_headers_read_as_usual():
    # pages built to make the choice walk every ancestor of every marker (bench_hostile.py
    # times larger ones): the text still comes out right
    para = "A sentence of the article's body, long enough to count as its text. " * 4
    page = "<html><body>" + "<div>" * 300 + "<article></article>" * 300 + f"<article><p>{para}</p></article></body></html>"
    assert extract(page).text == para.strip()
    lead = f"<html><body><article><header>{'<div>' * 300}<p>{para}</p></header><p>{para} Body.</p></article></body></html>"
    assert extract(lead).text.count("A sentence") == 8


def test_binary_junk_not_html():
    raw = os.urandom(20_000)
    html, _ = decode_html(raw)
    out = HtmlToText().process({"html": html})
    assert isinstance(out, Rejection) and out.reason == "not_html"
    out = HtmlToText().process({"html": "\x00\x01\x02\x03" * 1000})
    assert isinstance(out, Rejection) and out.reason == "not_html"


_JUNK_CHARS = {chr(c) for c in [*range(9), 11, *range(14, 32), 127]} | {"\ufffd"}


@given(st.text(alphabet=st.one_of(st.sampled_from(sorted(_JUNK_CHARS) + ["\t", "\n", "\f", "\r", "\ud800",
                                                                      "\udfff", "\u00ad", "中", "😀", "ｆ"]),
                                  st.characters()), max_size=300))
@settings(max_examples=600)
def test_binary_share_counts_junk_characters(text):
    # the share of control and replacement characters, whatever else the text holds (lone
    # surrogates, astral characters): more than 5% of the characters is binary

    page = "<html><body><p>x" + text  # 16 characters: no file signature among the first 16
    junk = sum(1 for c in page if c in _JUNK_CHARS)
    assert looks_binary(page) == (junk > 0.05 * len(page))


def test_binary_share_is_of_the_first_64k_characters():
    assert looks_binary("<p>" + "\x01" * 4000 + "中" * 60_000)  # 6.1% of the sample
    assert not looks_binary("<p>" + "中" * 70_000 + "\x01" * 20_000)  # none in the first 64k
    assert not looks_binary("<p>" + "\ufffd" * 3000 + "文" * 62_533)  # 4.6%: a page with a few bad bytes
    assert looks_binary("<p>" + "\ufffd" * 4000 + "文" * 61_533)  # 6.1% replacement characters
    assert looks_binary("<p>" + "\ud800" * 10 + "\ufffd" * 4000 + "e" * 2_000)  # a lone surrogate encodes too


@pytest.mark.parametrize("raw", [
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"stream text (Hello) Tj endstream\n" * 50,
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"abc" * 100,
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"xyz" * 100,
    b"PK\x03\x04\x14\x00\x06\x00word/document.xml" + b"<w:t>text</w:t>" * 20,
])
def test_binary_formats_not_html(raw):
    html, _ = decode_html(raw)
    out = HtmlToText().process({"html": html})
    assert isinstance(out, Rejection) and out.reason == "not_html"


@pytest.mark.parametrize("html", [
    "",
    "   \n ",
    "<html><head><title>Only a title</title></head><body></body></html>",
    "<html><body><div><span></span></div><script>var x = 'not text';</script></body></html>",
    "<html><body><img src='a.png'><style>p{}</style></body></html>",
    "<!-- just a comment -->",
])
def test_no_content(html):
    out = HtmlToText().process({"html": html})
    assert isinstance(out, Rejection) and out.reason == "no_content"


@pytest.mark.parametrize("html", [
    "<html><body><p>Unclosed paragraph one, long enough to read.<p>And another one, also readable.",
    "</div></div><p>Stray closing tags before the text, which still has to come out.</p></span>",
    "<p class=\"a><b>broken attribute quote</b> and the text goes on after it.</p>",
    "<html><body><table><tr><td>cell one<td>cell two</table><p>After the table, prose.</p>",
    "<div><p>Nested <b>bold <i>italic</b> mismatched</i> tags in a sentence.</p></div>",
    "plain text with no markup at all, a sentence.",
])
def test_malformed_markup_still_extracts(html):
    out = HtmlToText().process({"html": html})
    assert isinstance(out, dict) and out["text"]


def test_fallback_when_everything_looks_like_boilerplate():
    # the only prose sits in a block whose class says "comments": never return empty
    html = ("<html><body><div class='comments'><p>The only prose on this page is here, in a block "
            "whose class looks like boilerplate. It is still what the page says.</p></div>"
            "<footer>Contact us at the address below, or write to the editor of this small site "
            "at any time.</footer></body></html>")
    out = HtmlToText().process({"html": html})
    assert isinstance(out, dict) and "The only prose on this page" in out["text"]
    assert out["meta"]["html2text"] == "density_relaxed"


def test_hidden_wrapper_of_whole_page_is_kept():
    # pages that hide their body until a script runs still have an article
    html = "<html><body><div style='display: none'><p>Hidden but the only text.</p></div></body></html>"
    out = HtmlToText().process({"html": html})
    assert isinstance(out, dict) and out["text"] == "Hidden but the only text."


def test_wrapper_with_boilerplate_class_is_kept():
    # a layout wrapper named "with-sidebar" holding the whole page is not boilerplate
    html = ("<html><body><div class='sidebar-layout'><p>" + "The only text on this page is here, "
            "in a wrapper whose class says sidebar. " * 4 + "</p></div></body></html>")
    out = HtmlToText().process({"html": html})
    assert out["meta"]["html2text"] == "density"
    assert out["text"].startswith("The only text on this page")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "中文", " ", "  ", "\n", "\t", "\xa0", "\u3000", "\x1c", "\u2028",
                                 "x" * 5_000, " " * 5_000]), max_size=40), st.integers(1, 30))
def test_collapse_is_split_and_join_whatever_the_length(pieces, times):
    # long texts are collapsed a piece at a time, cut at white space: the same text as one
    # split and join, wherever the cuts fall (words and white-space runs across them)
    s = "".join(pieces) * times
    assert _collapse(s) == " ".join(s.split())
    long = s + "w" * (_COLLAPSE_CHUNK + 7) + s
    assert _collapse(long) == " ".join(long.split())


def test_a_huge_json_ld_block_is_not_read_as_evidence():
    # parsed, a block of millions of small objects takes about 25 times its size in memory: one
    # longer than _LD_MAX characters is left out; the same statement in a short block is read
    body = "The council met on Tuesday to talk about the new bridge over the river. " * 4
    small = json.dumps({"@type": "NewsArticle", "articleBody": body})
    big = json.dumps({"@type": "NewsArticle", "articleBody": body, "x": [{"a": 1}] * (_LD_MAX // 8)})
    assert len(big) > _LD_MAX
    assert _structured_body([small]) == body.strip()
    assert _structured_body([big]) == ""
    assert _structured_body([big, small]) == body.strip()


def _nest_to(html: list, depth: int, nest: int, tag: str) -> int:
    """Close or open `tag`s in `html` from `depth` levels to `nest`; the new depth."""
    html.append(f"</{tag}>" * max(0, depth - nest) + f"<{tag}>" * max(0, nest - depth))
    return nest


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["h2", "span", "div", "header", "b", "p"]), st.integers(0, 4),
                          st.text(alphabet=st.sampled_from(list("ab 中\n\t")), max_size=12)), min_size=1, max_size=15),
       st.integers(0, 40))
def test_text_start_reads_what_string_reads(parts, n):
    # a heading's start and whether it is longer, read a piece at a time and no further, are
    # XPath string()'s (its first n characters, its length over n) on nested markup
    html, depth = ["<html><body><div id=t>"], 0
    for tag, nest, text in parts:
        depth = _nest_to(html, depth, nest, "span")
        html.append(f"<{tag}>{text}</{tag}>{text[::-1]}")
    root = parse("".join(html) + "</span>" * depth + "</div></body></html>")
    for el in root.iter():
        whole = el.xpath("string()")
        assert _text_start(el, n) == (whole[:n], len(whole) > n)
        assert _text_longer(el, n) == (len(whole) > n)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["h2", "span", "div", "b"]), st.integers(0, 4),
                          st.text(alphabet=st.sampled_from(list("ab 中\n")), max_size=6),
                          st.booleans()), min_size=1, max_size=15),
       st.lists(st.tuples(st.integers(0, 60), st.integers(0, 40)), min_size=1, max_size=30),
       st.sampled_from([0, 0, 3]))
def test_text_prefix_reads_what_string_reads_whatever_was_kept(parts, asks, strings):
    # the starts kept from one walk answer later questions about any element of the subtree, for
    # any length asked (shorter or longer than what was read), in any order: always string()'s
    # first n characters and whether it has more. Read as little ahead as it may (twice what is
    # asked), so that the starts kept are cut short, with no question (or the first few) read
    # whole by string(); comments kept in the tree (their text is none, what follows them is)
    html, depth = ["<html><body><div>"], 0
    for tag, nest, text, comment in parts:
        depth = _nest_to(html, depth, nest, "span")
        html.append(f"<{tag}>{text}{'<!-- c -->' + text if comment else ''}</{tag}>{text[::-1]}")
    root = etree.fromstring("".join(html) + "</span>" * depth + "</div></body></html>", etree.HTMLParser())
    els = [e for e in root.iter() if isinstance(e.tag, str)]
    _forget_text()
    with (unittest.mock.patch.object(extract_mod, "_PREFIX_MIN", 0),
          unittest.mock.patch.object(extract_mod, "_PREFIX_STRINGS", strings)):
        for i, n in asks:
            el = els[i % len(els)]
            whole = el.xpath("string()")
            assert _text_prefix(el, n) == (whole[:n], len(whole) > n)
    _forget_text()


def test_a_kept_start_that_ends_where_reading_stopped_knows_there_is_more():
    # the start kept for <h2> ends exactly where its reading stopped (its <span>), and its tail
    # follows: asked for as much as was read, it has more
    # (or a child's text follows)
    for html in ("<h2><span>ab</span>cd</h2>", "<h2>ab<span>cd</span></h2>"):
        h2 = parse(f"<html><body>{html}</body></html>").find(".//h2")
        _forget_text()
        with (unittest.mock.patch.object(extract_mod, "_PREFIX_MIN", 0),
              unittest.mock.patch.object(extract_mod, "_PREFIX_STRINGS", 0)):
            assert _text_prefix(h2, 1) == ("a", True)
            assert _text_prefix(h2, 2) == ("ab", True)
            assert _text_prefix(h2.find("span"), 2) == (h2.find("span").text, False)
        _forget_text()


@pytest.mark.parametrize("order", ["outer first", "inner first"])
def test_text_measures_past_the_budget_are_the_xpath_ones(order):
    # nested headings over more empty elements than are read in Python: each element's start is
    # string()'s and its length string-length()'s, asked from the outside in (as the walk asks)
    # or from the inside out, for lengths under and over what was read (the lengths measured once
    # a subtree and kept, the starts kept for headings after a tree's first few)
    html = ("<html><body>" + "<h2><span>x " * 40 + "<b></b>" * 700 + "<i>中文 words</i>, " * 300
            + "</span> y</h2>" * 40 + "</body></html>")
    root = parse(html)
    els = [e for e in root.iter() if isinstance(e.tag, str)]
    _forget_text()
    for e in (els if order == "outer first" else els[::-1]):
        whole = e.xpath("string()")
        for n in (0, 5, 100, 300, 3_000, max(0, len(whole) - 1), len(whole)):  # (and at its length)
            assert _text_start(e, n) == (whole[:n], len(whole) > n)
            assert _text_longer(e, n) == (len(whole) > n)
    _forget_text()


@pytest.mark.parametrize("odd", ["\\u0001", "\\u0000", "\\ud800", "\\uffff"])
def test_a_control_character_in_json_ld_does_not_cost_the_page(odd):
    # the stated body is looked for in the page's text: a character XPath cannot take (a control
    # character, a lone surrogate) made the stage reject the page as not_html (ValueError)
    stated = ("Visitors can reach the museum by bus" + odd + " and entry is free on the first Sunday. ") * 3
    para = "The committee met on Tuesday to review the budget for the coming year, and agreed. " * 4
    html = ('<html><head><script type="application/ld+json">{"articleBody": "' + stated + '"}</script></head>'
            f"<body><article><p>{para}</p></article></body></html>")
    out = HtmlToText().process({"html": html})
    assert isinstance(out, dict) and out["text"] == para.strip()


@pytest.mark.parametrize("before", ['<p title="</html><!--">Intro</p>', '<script>var s = "</html><!--";</script>',
                                    "<textarea></html><!--</textarea>"])
def test_an_end_of_document_in_a_value_or_a_script_is_no_end(before):
    # the first "</html>" is text there; the "comment" after it runs over the real end and the
    # text after it: not a trailer that holds no text
    page = (f"<html><body><p>{_PARA}</p>{before}</html><p>Text after the end of the document.</p>"
            "<!-- a comment at the end -->")
    assert extract(page).text.endswith("Text after the end of the document.")


def test_a_huge_json_ld_block_leaves_the_page_read_as_one_without():
    # a block over _LD_MAX is not read: the page is read as one stating no body (every other check
    # on), not as one whose statement was read and found nothing
    story = "".join(f"<p>Paragraph {i} of the story tells what happened in the town on that day and what "
                    "people said about it afterwards at the meeting.</p>" for i in range(14))
    teaser = "<div><div class=t><p>" + "Teaser, " * 40 + "end.</p></div><div>x</div></div>"

    def page(ld):
        head = f'<script type="application/ld+json">{ld}</script>' if ld else ""
        return (f"<html><head><title>T</title>{head}</head><body><div>{teaser}</div><div><ul><li>"
                f"<a href=#>nav</a></li></ul><div><div>{story}</div></div></div></body></html>")

    big = json.dumps({"@type": "NewsArticle", "articleBody": "Paragraph 0 of the story.",
                      "comment": [{"@type": "Comment", "text": "ok"}] * (_LD_MAX // 30)})
    assert len(big) > _LD_MAX
    assert extract(page(big)).text == extract(page("")).text
    # white space around a block is not its length
    small = json.dumps({"articleBody": "Paragraph 0 of the story."})
    assert extract(page(small + " " * (_LD_MAX + 1))).text == extract(page(small)).text


_WORDS_ZH_EN = ["river", "bridge", "it's", 'say "no"', "council", "过河", "大桥", "会议", "A&B", "x<y"]
_GAPS = [" ", "  ", "\n", "\t\t", "\r\n ", "\xa0", "\u3000", ""]


def _xpath_block_of(body, probes):
    """The definition _block_of is held to, by libxml2's XPath: the first text node in document
    order whose normalize-space() contains the probe, per probe; then their nearest common
    ancestor, when at least half of the probes (and 2) are found."""
    hits = []
    for p in probes:
        lit = "concat('" + "', \"'\", '".join(p.split("'")) + "')" if "'" in p else f"'{p}'"
        nodes = body.xpath(f".//text()[contains(normalize-space(.), {lit})]")
        if nodes:
            hits.append(nodes[0].getparent())
    if len(hits) < max(2, len(probes) // 2):
        return None
    anc = hits[0]
    for h in hits[1:]:
        while anc is not None and not (h is anc or any(a is anc for a in h.iterancestors())):
            anc = anc.getparent()
    return anc


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "div", "span", "b", "li"]), st.integers(0, 3),
                          st.lists(st.tuples(st.sampled_from(_WORDS_ZH_EN), st.sampled_from(_GAPS)),
                                   min_size=1, max_size=6)), min_size=1, max_size=12),
       st.lists(st.tuples(st.integers(0, 11), st.integers(0, 5), st.integers(1, 4)), min_size=1, max_size=8))
def test_block_of_finds_the_probes_as_xpath_normalize_space_does(nodes, picks):
    # text nodes with white space of every kind (XPath collapses only space, tab, CR and LF:
    # U+00A0 and U+3000 stay), nested or side by side, and probes of words taken from them
    # (single-spaced, as the stated article body is), some across two nodes (never found)
    html, texts, depth = ["<html><body>"], [], 0
    for tag, nest, words in nodes:
        depth = _nest_to(html, depth, nest, "div")
        raw = "".join(w + g for w, g in words)
        html.append(f"<{tag}>{htmllib.escape(raw, quote=False)}</{tag}>")
        texts.append([w for w, _ in words])
    body = parse("".join(html) + "</div>" * depth + "</body></html>").find("body")
    probes = []
    for i, start, n in picks:
        ws = texts[i % len(texts)] + texts[(i + 1) % len(texts)]
        probes.append(" ".join(ws[start % len(ws):start % len(ws) + n]))
    assert _block_of(body, probes) is _xpath_block_of(body, probes)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcdiv pul&;#中文，。\n")), max_size=300))
def test_never_crashes(html):
    out = HtmlToText().process({"html": html})
    assert isinstance(out, (dict, Rejection))
    if isinstance(out, Rejection):
        assert out.reason in HtmlToText.reasons


# ---------------------------------------------------------------- CLI


def test_cli_kept_and_rejected(run_cli, tmp_path):
    recs = [
        {"id": "ok", "html": page("zh_gbk.html")},
        {"id": "empty", "html": "<html><body></body></html>"},
        {"id": "junk", "html": "\x00\x01\x02" * 500},
    ]
    inp = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in recs)
    rej = tmp_path / "rej.jsonl"
    p = run_cli(["html2text", "--rejected", rej, "-q"], input=inp)
    assert p.returncode == 0, p.stderr
    kept = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["id"] for r in kept] == ["ok"]
    assert "html" not in kept[0] and "图书馆" in kept[0]["text"]
    reasons = {json.loads(x)["id"]: json.loads(x)["meta"]["rejected"]["reason"]
               for x in rej.read_text(encoding="utf-8").splitlines()}
    assert reasons == {"empty": "no_content", "junk": "not_html"}


def test_extract_text_checks_the_page_as_the_stage_does():
    # the package's function gives the stage's text, '' for a page without any, and refuses (with
    # the stage's reason) what the stage would reject instead of handing it to the parser
    page = "<html><body><article><p>" + _PARA + "</p></article></body></html>"
    assert extract_text(page) == extract(page).text == HtmlToText().process({"html": page})["text"]
    assert extract_text(page, "precision") == extract(page, "precision").text
    assert extract_text("<html><body><div></div></body></html>") == ""
    with pytest.raises(ValueError, match="too_complex: a <x> element with 1,001 attributes"):
        extract_text("<x " + " ".join(f"a{i}" for i in range(1_001)) + "><p>" + _PARA + "</p>")
    with pytest.raises(ValueError, match="not_html"):
        extract_text("%PDF-1.7 " + "\x00\x01" * 500)


def test_second_copy_of_the_article_is_dropped():
    paras = [f"Paragraph {i} of the story, long enough to be prose and to be checked for being a "
             f"repeat of an earlier line on the same page, number {i}. " * 3 for i in range(4)]
    paras = [p.strip() for p in paras]
    article = "".join(f"<p>{p}</p>" for p in paras)
    # a print copy with the same paragraphs, and a flattened copy in one block
    html = (f"<html><body><article><div>{article}</div><div>{article}</div>"
            f"<div><div>{' '.join(paras)}</div></div></article></body></html>")
    text = extract_text(html)
    assert text == "\n\n".join(paras)


def test_a_line_whose_start_shares_a_hash_with_a_kept_one_stays():
    # the kept lines' starts are looked up by their hash, then compared: lines whose starts only
    # collide (every hash made equal) are both kept, and a real copy still goes
    first = "The first long paragraph of the article, with words of its own, and commas. " * 6
    other = "A second and different paragraph, which starts in another way, and goes on. " * 6
    keys = []
    with unittest.mock.patch.object(extract_mod, "_start_key", lambda s: keys.append(s) or 0):
        text = extract_text(f"<html><body><article><p>{first}</p><p>{other}</p></article></body></html>")
        assert text == first.strip() + "\n\n" + other.strip()
        text = extract_text(f"<html><body><article><p>{first}</p><p>{other}</p><div><div>{first}</div></div>"
                            "</article></body></html>")
        assert text == first.strip() + "\n\n" + other.strip()
    assert len(set(keys)) >= 2  # the lookups went through the colliding key


def test_cjk_characters_of_a_long_text_are_counted_as_of_a_short_one():
    # a text past _COLLAPSE_CHUNK is counted a match at a time, not by a list of its runs
    s = ("中文的句子，" + "mixed words 和文字 " * 3 + "。") * 4_000
    assert len(s) > _COLLAPSE_CHUNK
    assert _cjk_chars(s) == sum(len(r) for r in re.findall(f"[{CJK_RANGES}]+", s)) == 4_000 * (5 + 3 * 3)


def test_repeated_short_lines_are_content():
    rows = "".join("<li>1 cup rice, 2 cups water</li>" for _ in range(3))
    meal = ("<p>Lunch: Asian chicken zoodles [1 cup zucchini noodles, sauteed using 1 tsp. oil, "
            "4 oz. chicken, 1 Tbsp. sauce, half a cup of peppers and carrots, sliced thin]</p>")
    html = ("<html><body><article><p>" + "A recipe that repeats its ingredient lines on purpose, "
            "with commas. " * 3 + f"</p><ul>{rows}</ul>{meal * 3}</article></body></html>")
    text = extract_text(html)
    assert text.count("1 cup rice, 2 cups water") == 3
    assert text.count("Lunch: Asian chicken zoodles") == 3


def test_chinese_text_in_layout_cell_with_br():
    # older Chinese sites: the article is text and <br> inside a layout <td>, next to link cells
    menu = "".join(f"<a href=/{i}>栏目{i}</a> | " for i in range(30))
    body = "<br>".join(f"　　第{i}段，旧式网页常把正文直接写在表格单元格里，用换行标签分段。" for i in range(8))
    html = (f"<html><body><table><tr><td>{menu}</td></tr><tr><td><a href=/a>友情链接一</a><br>"
            f"<a href=/b>友情链接二</a></td><td>{body}</td></tr><tr><td>版权所有 某某信息网</td></tr>"
            "</table></body></html>")
    text = extract_text(html)
    assert text.splitlines() == [f"第{i}段，旧式网页常把正文直接写在表格单元格里，用换行标签分段。" for i in range(8)]


def test_xhtml_with_xml_encoding_declaration():
    html = ('<?xml version="1.0" encoding="gb2312"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            "<head><title>x</title></head><body><nav>首页</nav><p>" + "一段正文，用来测试带编码声明的页面。" * 5
            + "</p></body></html>")
    ex = extract(html)
    assert ex.method == "density" and ex.text.startswith("一段正文") and "首页" not in ex.text


@pytest.mark.parametrize("decl", ['<meta charset="gbk">',
                                  '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'])
def test_declared_charset_does_not_re_decode_the_text(decl):
    # the page is text already: what it declares must not make the parser read it again as
    # another encoding (Chinese read as Latin-1, or curly quotes read as GBK)
    para = "中文正文，第二句在这里。“引号”和 café 也要原样保留。" * 6
    ex = extract(f"<html><head>{decl}<title>标题 “x”</title></head><body><p>{para}</p></body></html>")
    assert ex.text == para and ex.title == "标题 “x”"


def test_main_markers_are_read_from_the_tree_not_the_source_spelling():
    # an attribute name in capitals or a value written with a character reference is the same
    # marker once parsed; <article>s and <main>s come first, then the attribute markers, each
    # element once per list, in document order
    html = ('<html><body><div ROLE="main" id=a>x</div><div role="&#109;ain" id=b>y</div>'
            '<section itemprop=articleBody id=c>z</section><div role="main-nav" id=n>n</div>'
            '<article role=article itemprop=articleBody id=d>w</article><main id=e>v</main></body></html>')
    body = parse(html).find("body")
    assert [e.get("id") for e in _main_markers(body)] == ["d", "e", "a", "b", "c", "d"]


def test_lone_surrogate_does_not_crash_the_parse():
    # a JSON record may carry a lone surrogate (an escaped half of a pair): no UTF-8 form exists
    html = "<html><head><title>T \ud800</title></head><body><p>" + "Words of a paragraph. " * 20 + "</p></body></html>"
    assert parse(html) is not None
    assert extract(html).title.startswith("T")


@pytest.mark.parametrize("lone", ["\ud800", "\udfff", "\udc80"])
def test_text_after_a_lone_surrogate_is_kept(lone):
    # handed to libxml2 as a str, everything after a lone surrogate was lost without a word; it
    # is read as U+FFFD and the rest of the page stays
    first = "The weir opened on Tuesday and boats passed before noon, said the keeper. " * 3
    second = "河水上涨以后，居民在清晨撤离到了高处的学校里，没有人受伤。" * 4
    html = (f"<html><head><title>Weir {lone} news</title></head><body><article><p>{first}{lone} end.</p>"
            f"<p>{second}</p><p>{first}</p></article></body></html>")
    ex = extract(html)
    assert ex.title == "Weir \ufffd news"
    assert second in ex.text and ex.text.count(first.strip()) == 2 and "\ufffd end." in ex.text
    assert HtmlToText().process({"html": html})["text"] == ex.text


@pytest.mark.parametrize("cut", [
    "<html><head><title>T</title><script>var a = 1; function f() { return '<p>not text</p>'; }",
    "<html><head><style>body { color: red } p { margin: 0 }",
    "<html><head><title>T</title></head><body><!-- a comment that never ends <p>hidden",
    "<html><body><div><button type=\"button\" class=\"a",
])
def test_truncated_page_leaks_no_code(cut):
    out = HtmlToText().process({"html": cut})
    assert isinstance(out, Rejection) and out.reason == "no_content"


def test_truncated_page_keeps_what_it_has():
    full = page("boilerplate_en.html")
    cut = full[:full.index("forty-two") + 20]
    out = HtmlToText().process({"html": cut})
    assert isinstance(out, dict) and "Harbour seals have returned" in out["text"]
    assert "tracking" not in out["text"]


def test_hidden_schema_copy_with_article_body_is_dropped():
    paras = "".join(f"<p>Visible paragraph {i}, which is the story as readers see it on the page.</p>"
                    for i in range(5))
    html = ("<html><body><div class='story'>" + paras + "</div>"
            "<div style='display:none' itemscope><div itemprop='headline'>Hidden headline</div>"
            "<div itemprop='datePublished'>2019-11-19T08:57:40</div>"
            "<div itemprop='articleBody'>" + paras + "</div></div></body></html>")
    text = extract_text(html)
    assert "Visible paragraph 4" in text
    assert "Hidden headline" not in text and "2019-11-19" not in text
    assert text.count("Visible paragraph 0") == 1


def test_keep_text_lets_extracted_records_through():
    st = HtmlToText(keep_text=True)
    assert st.required_field() is None and HtmlToText().required_field() == "html"
    rec = {"id": "a", "text": "already text", "html": "<p>x</p>", "z": 1}
    out = st.process(rec)
    assert out["text"] == "already text" and "html" not in out and out["z"] == 1
    assert out["meta"]["html2text"] == "existing_text"
    assert st.process({"id": "b"}) == Rejection("no_content", "neither html nor text")
    page = st.process({"id": "c", "html": "<html><body><article><p>" + "正文内容。" * 20 + "</p></article></body></html>"})
    assert page["text"].startswith("正文内容")


def _many_attrs(n):
    return "<html><body><div " + " ".join(f'a{i}="v"' for i in range(n)) + "><p>hello world</p></div></body></html>"


def _never_parsed(monkeypatch):
    """The stage's extractor raises if called: a page rejected as too_complex must be judged
    before the (quadratic) parse, not after it."""
    def boom(*a, **k):
        raise AssertionError("the page was parsed")
    monkeypatch.setattr(stage_mod, "extract", boom)


def test_too_many_attributes_is_too_complex_before_parsing(monkeypatch):
    with monkeypatch.context() as m:
        _never_parsed(m)
        out = HtmlToText().process({"html": _many_attrs(64_000)})  # 0.7 MB; 7 s to parse unbounded (lxml 6.2)
    assert isinstance(out, Rejection) and out.reason == "too_complex"
    assert "64,000 attributes" in out.detail
    # under the bound the page is extracted as usual; the bound is an option
    assert HtmlToText().process({"html": _many_attrs(900)})["text"] == "hello world"
    assert HtmlToText(max_attrs=10).process({"html": _many_attrs(11)}).reason == "too_complex"
    assert HtmlToText(max_attrs=0).process({"html": _many_attrs(2_000)})["text"] == "hello world"


def test_too_many_elements_and_too_deep_are_too_complex():
    page = "<html><body>" + "<p>词</p>" * 1_000 + "</body></html>"
    assert isinstance(HtmlToText(max_nodes=2_000).process({"html": page}), dict)
    out = HtmlToText(max_nodes=500).process({"html": page})
    assert out.reason == "too_complex" and "more than 500 elements" in out.detail
    deep = "<body>" + "<div><span>" * 300 + "深" + "</span></div>" * 300
    assert HtmlToText(max_depth=600).process({"html": deep})["text"] == "深"
    assert HtmlToText(max_depth=599).process({"html": deep}).reason == "too_complex"
    # unclosed <p> and <li> (closed by the parser) and void elements are not nesting
    sloppy = "<body><ul>" + "<li><p>item<br><img src=x>" * 5_000 + "</ul>"
    assert isinstance(HtmlToText(max_depth=10).process({"html": sloppy}), dict)


def test_many_elements_with_many_attributes_are_too_complex(monkeypatch):
    """Each element under --max-attrs, but the parser's work (attributes squared, summed) is
    not: the tree builder's work grows with each element's attributes squared. (The time bound
    is in bench_hostile.py.)"""
    attrs = " ".join(f'a{i}="v"' for i in range(900))
    page = "<html><body>" + f"<p {attrs}>x</p>" * 1_000 + "</body></html>"
    with monkeypatch.context() as m:
        _never_parsed(m)
        out = HtmlToText().process({"html": page})
    assert isinstance(out, Rejection) and out.reason == "too_complex" and "attribute pairs" in out.detail
    few = "<html><body>" + f"<p {attrs}>x</p>" * 3 + "</body></html>"
    assert HtmlToText().process({"html": few})["text"].split() == ["x", "x", "x"]


def test_too_complex_sees_through_a_quoted_gt():
    """A '>' inside a quoted value does not end the tag for libxml2: the attributes after it
    are still the element's, and must be counted (a cheap scan that stops at the first '>'
    would let 64,000 attributes through to the quadratic parse)."""
    page = '<html><body><a x=">" ' + " ".join(f"b{i}" for i in range(5000)) + ">t</a></body></html>"
    assert "5,001 attributes" in complexity(page, 1000, 200_000, 50_000, 20_000_000)
    ok = '<html><body><a title="a > b" href="/x">t</a>' + "<p class='c'>x</p>" * 3000 + "</body></html>"
    assert complexity(ok, 1000, 200_000, 50_000, 20_000_000) is None


def test_a_stray_quote_does_not_join_the_page_into_one_tag():
    """A quote that does not follow '=' is part of an attribute name (libxml2 and HTML5), so the
    tag ends at the next '>'. News pages have such typos (`bgcolor="#ccc""`, `width="90
    height="132"`); read as opening a value, the quote joined the navigation after it into one
    element of thousands of attributes and the page was rejected as too_complex."""
    links = "".join(f'<li><a href="/news/{i}.html" target="_blank" class="t">第{i}条新闻</a> '
                    f'<span class="d">12-0{i % 9 + 1}</span></li>\n' for i in range(400))
    for head in ('<table><tr bgcolor="#cccccc""><td>热点</td></tr></table>',
                 '<img src="a.jpg" width="90 height="132" align=center>'):
        page = (f'<html><body><div class="nav">{head}<ul class="list">{links}</ul></div>'
                f'<article><p>{"记者从会上获悉，这项工程今年开工。" * 20}</p></article></body></html>')
        assert complexity(page, 1000, 200_000, 50_000, 20_000_000) is None
        # the parser agrees: every link is an element of its own
        assert len(lhtml.fromstring(page).findall(".//li")) == 400
        out = HtmlToText().process({"html": page})
        assert out["text"].startswith("记者从会上获悉")
    # a stray quote does not hide attributes either: they are counted where the parser sees them
    crowded = '<html><body><p x="1"" ' + " ".join(f"b{i}" for i in range(1500)) + ">t</p></body></html>"
    assert "1,502 attributes" in complexity(crowded, 1000, 200_000, 50_000, 20_000_000)
    assert len(lhtml.fromstring(crowded).find(".//p").attrib) == 1502


def test_a_script_comparison_does_not_make_the_page_too_complex():
    """A script's `i<n.length` reads as the start of a long fake tag that runs over the code:
    the quick check cannot tell it from a real one, and leaves the page to the exact scan,
    which skips the script: an ordinary page with a long script is accepted."""
    code = "for(a=0;a<e.length;a++){var x = f(a, b, c) || g(d, e); y = x + 1; z(y, x)}" * 80
    page = f"<html><body><script>{code}</script><article><p>{'Body text. ' * 50}</p></article></body></html>"
    assert _scan(page, 1000, 200_000, 50_000, 20_000_000) is None
    assert complexity(page, 1000, 200_000, 50_000, 20_000_000) is None


def test_a_real_tag_inside_a_fake_tags_quotes_is_still_counted():
    """A fake tag in a script (`a<n`) may open a quoted value that runs over the script's end
    and over a real element's attributes: read by the fake tag's quoting they would be one
    value. The quick check must not trust that reading when a '<' lies inside a quoted
    value."""
    attrs = " ".join(f"b{i}" for i in range(1500))
    page = ('<html><body><script>for(a=0;a<n;a++) q = "' + "x " * 100 + f'</script><div {attrs} x="y">'
            "t</div></body></html>")
    assert not _surely_within(page, 1000, 200_000, 50_000, 20_000_000)
    assert "1,50" in complexity(page, 1000, 200_000, 50_000, 20_000_000)
    # the same in a comment, which the exact scan skips too
    page = f'<html><body><!-- <a {"y " * 70} t="x --><div {attrs} x="y">t</div></body></html>'
    assert "1,50" in complexity(page, 1000, 200_000, 50_000, 20_000_000)


_TAG_BITS = ["<a", "<div", "<p", "</div>", "</p>", " ", "\n", "\f", "X", "=", '="', '"', "'", "='", "= '", ">", "<",
             "/", "/>", "<!--", "-->", "--!>", "<!-->", "<!x ", "<?", "</ ", "<script>", "</script>", "<style>",
             "</style>", "<title>", "</title>", "<iframe>", "</iframe>", "<noscript>", "<svg>", "<plaintext>",
             "a<b", "for(i=0;i<n;i++)", " B" * 70, "/B" * 70, "\xa0B" * 70, " B B B B B B B B", ' B="v"',
             " B='>'", ' B="<i"', " B='<i'", ' B=""', '=""="', "= =", "=\xa0\"", "=\u3000'", "\x0b", "\u3000", ".B",
             "</body>", "</html>", "</BODY ", "<span", "<b ", "<dt"]


def _bits_page(bits):
    names = iter(range(10**6))
    return re.sub("[BX]", lambda m: f"{m.group().lower()}{next(names)}", "".join(bits))  # no repeated names


def _libxml2_attrs(page):
    root = parse(page)
    ks = [len(el.attrib) for el in root.iter()] if root is not None else [0]
    return max(ks), sum(k * k for k in ks)


@given(st.lists(st.sampled_from(_TAG_BITS), max_size=200), st.sampled_from([0, 64, 100, 300]),
       st.integers(0, 20_000))
@settings(max_examples=1_500)
def test_a_page_within_the_attribute_bounds_is_within_them_for_the_parser(bits, max_attrs, max_pairs):
    # whatever the markup (quotes, '>' and '<' in values, comments, raw-text elements, stray
    # quotes, '=' where no value can follow, white space that is not HTML's), a page the quick
    # check lets through, and one the exact scan lets through, has no element with more
    # attributes, and no more attribute pairs, than the bounds, as libxml2 itself reads it

    page = _bits_page(bits)
    most, pairs = _libxml2_attrs(page)
    for check in (_surely_within, _scan):
        verdict = check(page, max_attrs, 0, 0, max_pairs)
        if verdict is True or (check is _scan and verdict is None):
            assert not max_attrs or most <= max_attrs, check.__name__
            assert not max_pairs or pairs <= max_pairs, check.__name__


_N = " ".join(f"a{i}" for i in range(1_500))
_SPACE_NAMES = ["".join(t) for n in (1, 2, 3, 4, 5, 6, 7)
                for t in itertools.product("\xa0\u3000\u2003", repeat=n)][:1_500]


@pytest.mark.parametrize("body", [
    f'<div ="{_N}"' + "/" * 130 + ">t</div>",   # '=' right after the name starts a name
    f'<div="{_N}">t</div>',                      # ... and the name runs on to white space
    f'<div.x="{_N}">t</div>',
    f'<div x=\xa0"{_N}">t</div>',               # only HTML's white space may come before a quote
    f'<div x=\u3000"{_N}">t</div>',
    "<div " + "/".join(_SPACE_NAMES) + ">t</div>",  # names of non-HTML white space, '/' between
    '<div x="<" ' + "/".join(f"a{i}" for i in range(1_500)) + ">t</div>",   # '/' separates
    f'<div a=""="{_N}">t</div>',                 # after a quoted value '=' starts a name
    f'<div a= ="{_N}">t</div>',                  # an unquoted value "=..."
    f'<div a=x ="{_N}">t</div>',
    f"<!--><div {_N}>t</div><!-- -->",           # '<!-->' is a whole comment
    f"<!-- x --!><div {_N}>t</div>",
    f"<noscript><div {_N}>t</div></noscript>",    # markup to a parser that runs no script
    f"<script><!--<script></script><style></script><div {_N}>t</div>",  # HTML5's script escapes
    f"<style></stylex><script></style><div {_N}>t</div>",   # '</stylex' ends no style
    f'<script src="a.js"/><div {_N}>t</div>',    # '/>' closes a script at once
    f"<title/><div {_N}>t</div>",
    f"<script><!-- <!--><script></script><div {_N}></script>",  # '<!-->' ends a script's escape
    "<!-- <x " + " ".join(f"x{i}" for i in range(64)) + ' y="-->" z=<div/' + "/".join(f"c{i}" for i in range(1_500))
    + ">",                                        # a comment's fake tag running over a real one
    "<!-- <x " + " ".join(f"x{i}" for i in range(64)) + ' y="-->"<div ="' + " ".join(f"c{i}" for i in range(1_500))
    + '">',
    "<script>for(a=0;a<n;a++) q = '" + "x " * 100 + f"</script><div {_N} x='y'>t</div>",
    '<script>x<a ' + "b " * 70 + 'c="</script><div d=">" ' + " ".join(f"f{i}" for i in range(1_500)) + ">t</div>",
    "<script>x<a " + "b " * 70 + "c='</script><div d='>' " + " ".join(f"f{i}" for i in range(1_500)) + ">t</div>",
])
def test_pages_the_parser_reads_as_too_many_attributes_are_too_complex(body):
    """Each page holds one element of more than 1,000 attributes as libxml2 reads it (HTML5's
    tokenizer): quick check and exact scan must both see that many."""
    page = f"<html><body><p>text</p>{body}</body></html>"
    assert _libxml2_attrs(page)[0] > 1_000
    assert not _surely_within(page, 1_000, 0, 0, 20_000_000)
    assert "attributes" in _scan(page, 1_000, 0, 0, 20_000_000)
    assert "attributes" in complexity(page, 1_000, 0, 0, 20_000_000)


@pytest.mark.parametrize("page", [
    "<p>x</p>" + "<!--x-->" * 160_000,                      # every comment's end found once
    "<div>" * 49_000 + "</q>" * 200_000,                     # end tags of elements never opened
    "<a x" + "<b" * 4_000 + "".join(f" c{i}=" + "v" * 20_000 for i in range(62)) + ">",
    ('<x ' + " ".join(f"x{i}" for i in range(64)) + ' y="' + "p" * 60_000 + '"z="') * 100 + ">",
])
def test_the_check_reads_a_page_a_bounded_number_of_times(page):
    """Pages the parser reads at once, built to make a scan read them again and again: the
    check's work stays a few passes over the page (counted in regex calls, not seconds: a count
    of characters the check may read is the bound)."""
    calls = {"chars": 0}

    class Counting:
        def __init__(self, rx):
            self.rx = rx

        def __getattr__(self, name):
            f = getattr(self.rx, name)

            def counted(s, pos=0, *a):
                m = f(s, pos, *a)
                calls["chars"] += (m.end() if m is not None and hasattr(m, "end") else len(s)) - pos
                return m
            return counted
    with unittest.mock.patch.object(stage_mod, "_TAG_RE", Counting(stage_mod._TAG_RE)), \
            unittest.mock.patch.object(stage_mod, "_UNSETTLED_RE", Counting(stage_mod._UNSETTLED_RE)), \
            unittest.mock.patch.object(stage_mod, "_TAG_AT_RE", Counting(stage_mod._TAG_AT_RE)), \
            unittest.mock.patch.object(stage_mod, "_COMMENT_END_RE", Counting(stage_mod._COMMENT_END_RE)):
        stage_mod.complexity(page, 1_000, 200_000, 50_000, 20_000_000)
    assert calls["chars"] <= 12 * len(page) + 1_000_000, calls["chars"] / len(page)


def test_the_parser_tokenizes_html_as_html5_does():
    """The complexity check reads tags as HTML5's tokenizer does, which libxml2 does from 2.14
    on (lxml 6's Linux and macOS wheels): a test environment with an older one fails here."""
    assert etree.LIBXML_VERSION >= (2, 14, 0), etree.LIBXML_VERSION


def test_many_short_tags_count_their_slash_separated_attributes():
    tags = "<p " + "/".join(chr(0x4E00 + i) for i in range(63)) + ">"  # 63 attributes each
    page = "<html><body>" + tags * 6_000 + "</body></html>"
    assert _libxml2_attrs(page)[1] > 20_000_000
    assert "attribute pairs" in complexity(page, 1_000, 0, 0, 20_000_000)


def test_raw_text_elements_hide_no_attributes_from_the_scan():
    """The exact scan skips what the parser reads as text (script, style, textarea, title, xmp,
    iframe, noembed, noframes; everything after plaintext): an ordinary page that quotes many
    tags there is not too complex."""
    many = "<i " + " ".join(f"a{i}" for i in range(1_500)) + ">"
    for el in ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"):
        page = f"<html><body><{el}>{many}</{el}><p>text</p></body></html>"
        assert _libxml2_attrs(page)[0] < 1_000, el
        assert _scan(page, 1_000, 0, 0, 20_000_000) is None, el
    assert _scan(f"<html><body><plaintext>{many}</body></html>", 1_000, 0, 0, 20_000_000) is None


@given(st.text(alphabet=st.sampled_from(["中", "文", "々", "。", "，", "、", "a", " ", "\t", "\r", "\n",
                                         "\u3000", "\xa0", "\f"]), max_size=40))
@settings(max_examples=400)
def test_cjk_line_break_removal_is_the_segment_break_rule(text):
    # the line-break finder removes exactly what the CSS segment-break rule's regex removes: a
    # white-space run holding a line break (only spaces, tabs and CRs before the first break)
    # between a CJK character (or full-width punctuation) and a CJK character
    rule = re.compile(f"(?<=[{CJK_RANGES}\u3002\uff0c\u3001\uff1b\uff1a\uff01\uff1f])[ \t\r]*\\n\\s*"
                      f"(?=[{CJK_RANGES}])")
    assert _cjk_unbreak(text) == rule.sub("", text)


_CLASS_WORDS = ("comment share ad ads advert adslot bio bios author authors about-author sidebar side-bar nav "
                "navbar footer foot header meta tags tag-list caption credit credits byline read-more readMore "
                "signUp sign-up popup hidden hide is-hidden sr-only visually-hidden d-none d-md-block md:flex "
                "content article main post entry text post-content hidden-xs hide-sm pagination link rss "
                "pinglun zhengwen box card x").split()


@given(st.lists(st.tuples(st.sampled_from(_CLASS_WORDS), st.integers(0, 2 ** 12 - 1)), min_size=1, max_size=4),
       st.sampled_from([" ", "-", "_", "", "  "]), st.sampled_from(["", "1", "2x", " "]))
@settings(max_examples=600)
def test_class_verdict_fast_path_is_the_full_patterns(parts, sep, end):
    # ASCII class strings are screened lower-cased with necessary conditions of the patterns;
    # the verdicts must be the full patterns' own, whatever the case ("readMore",
    # "SIDEBAR") and the separators
    words = ["".join(c.upper() if mask >> (i % 12) & 1 else c for i, c in enumerate(w)) for w, mask in parts]
    ci = sep.join(words) + end
    assert _class_verdict_of(ci, ci.lower()) == _class_verdict_of(ci, None)


def test_one_space_where_pieces_of_a_line_meet_with_white_space_at_both_edges():
    # "<b>Hello </b> world": the bold text ends with a space and the text after it starts with
    # one; a browser shows one space, and so does the text (a <pre> keeps its spaces as written)
    para = ("<p>The <b>council </b> met on <i>Tuesday </i> <span> to</span> talk about the "
            "<a href='/b'>new </a>  bridge over the <em>river </em>\n<em> Ouse</em>, and the "
            "cost of it, for an hour and a half.</p>")
    html = ("<html><body><article>" + para * 3 + "<pre>keep  these   spaces</pre>"
            "</article></body></html>")
    text = extract_mod.extract(html).text
    line = "The council met on Tuesday to talk about the new bridge over the river Ouse, and the "
    assert text.count(line) == 3
    assert "  " not in text.replace("keep  these   spaces", "")
    assert "keep  these   spaces" in text


_MENU = "<nav><ul>" + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(8)) + "</ul></nav>"
_FOOTER = "<footer><p>© 2024 Example Media. All rights reserved.</p></footer>"

@pytest.mark.parametrize("start", ['<html lang="de" />', "<HTML/>", '<html a=">" xml:lang="de_DE"/>'])
def test_a_self_closed_html_start_tag_is_a_start_tag(start):
    # XHTML style: libxml2 closes <html .../> on the spot and drops the rest of the page; a
    # browser ignores the slash of an element that is not void, and so does the reading now
    page = (f"<!DOCTYPE html>{start}<head><title>T</title></head><body>{_MENU}<article><p>{_PARA}</p>"
            f"</article>{_FOOTER}</body></html>")
    out = extract(page)
    assert out.method == "density" and out.title == "T"
    assert out.text == _PARA.strip()


@pytest.mark.parametrize("start", ["<body class='x' />", "<BODY/>"])
def test_a_self_closed_body_start_tag_is_a_start_tag(start):
    # libxml2 leaves the <body/> empty and puts the page beside it
    page = (f"<html><head><title>T</title></head>{start}{_MENU}<article><p>{_PARA}</p></article>{_FOOTER}"
            "</body></html>")
    assert extract(page).text == _PARA.strip()


@pytest.mark.parametrize("start", ["<html>", "<html/>"])
def test_a_self_closed_body_tag_in_a_title_is_text(start):
    # a title's content is text, tags and all: "<body/>" there is shown as written, also on a
    # page whose own <html/> start tag is read again; an empty <div/> is libxml2's reading
    page = (f"{start}<head><title>About <body/> and <html/> tags</title></head><body><div class='a'/>"
            f"{_MENU}<article><p>{_PARA}</p></article></body></html>")
    out = extract(page)
    assert out.title == "About <body/> and <html/> tags" and out.text == _PARA.strip()


def test_one_space_before_a_cell_separator():
    # a cell whose text ends in white space ("Telefon: ") gave "Telefon:  | 0123"
    rows = "".join(f"<tr><td>Telefon {i}: </td><td> 0{i}23 45 67</td></tr>" for i in range(6))
    page = (f"<html><body>{_MENU}<article><p>{_PARA}</p><table>{rows}</table></article></body></html>")
    text = extract(page).text
    assert "Telefon 3: | 0323 45 67" in text and "  " not in text


def test_no_cell_separator_at_the_end_of_a_line():
    # a row whose next cell holds blocks: the label's line ended in " |", a separator with
    # nothing after it; at the very end of the text too
    rows = "".join(f"<tr><td>Place {i}:</td><td>Hall {i}, Main Street {i}</td></tr>" for i in range(8))
    rows += "<tr><td>Judge:</td><td><p>Ann Lee, Leeds</p><p>Rank 1</p></td></tr>"
    page = (f"<html><body>{_MENU}<article><p>{_PARA}</p><table>{rows}</table></article></body></html>")
    text = extract(page).text
    assert "Place 7: | Hall 7, Main Street 7\nJudge:\n" in text and "Rank 1" in text
    assert not [ln for ln in text.splitlines() if ln.endswith("|")]
    last = "<table><tr><td>Judge:</td><td>Name, city</td><td></td></tr></table>"
    text = extract(f"<html><body>{_MENU}<article><p>{_PARA}</p>{last}</article></body></html>").text
    assert text.endswith("Judge: | Name, city")


def test_an_empty_cell_is_one_separator_more_and_none_at_a_line_end():
    rows = "".join(f"<tr><td>Place {i}:</td><td></td><td>Hall {i}, Main Street {i}</td></tr>" for i in range(8))
    rows += "<tr><td>Judge:</td><td> </td><td><p>Ann Lee, Leeds</p><p>Rank 1</p></td></tr>"
    page = (f"<html><body>{_MENU}<article><p>{_PARA}</p><table>{rows}</table></article></body></html>")
    text = extract(page).text
    assert "Place 7: | | Hall 7, Main Street 7\nJudge:\n" in text and "  " not in text
