"""html2text on unusual pages: empty output where a reader sees text, and costs that a page's
shape must not blow up. Every page is built here."""
from __future__ import annotations

import pytest

from corpuskit.core.stage import Rejection
from corpuskit.stages.html2text import extract as extract_mod
from corpuskit.stages.html2text.extract import extract
from corpuskit.stages.html2text.stage import HtmlToText

_EN = [f"The committee met on Tuesday to discuss the budget for year {y}, and its members "
       f"agreed on most of the points raised." for y in range(2001, 2007)]
_ZH = ["市议会星期二开会讨论了新的预算方案，成员们在大多数问题上达成了一致。",
       "会议持续了三个小时，代表们就教育和交通两项开支进行了激烈的辩论。",
       "最后，议会以多数票通过了这项预算，并将在下个月开始执行。"]


def _paras(lines: list[str]) -> str:
    return "".join(f"<p>{s}</p>" for s in lines)


# ---------------------------------------------------------------- a body inside <noscript>

@pytest.mark.parametrize("html", [
    # a page served to crawlers with its whole text in <noscript> (the script-built view empty)
    f"<html><head><title>T</title></head><body><div id=app></div><noscript>{_paras(_EN)}"
    "</noscript><script>render()</script></body></html>",
    # the same in <head>: browsers without scripting move its <p>s to the body
    f"<html><head><title>T</title><noscript>{_paras(_EN)}</noscript></head><body></body></html>",
    # Chinese
    f"<html><body><noscript><div>{_paras(_ZH)}</div></noscript></body></html>",
])
def test_a_page_whose_text_is_all_in_noscript_is_read(html):
    ex = extract(html)
    want = _ZH if "议会" in html else _EN
    assert ex.text == "\n\n".join(want)
    assert ex.method == "noscript"
    out = HtmlToText().process({"html": html})
    assert out["text"] == ex.text and out["meta"]["html2text"] == "noscript"


@pytest.mark.parametrize("html", [
    # a script-built page's notice is no text: the page stays empty (no_content)
    "<html><body><noscript>You need to enable JavaScript to run this app.</noscript>"
    "<div id=root></div></body></html>",
    "<html><head><noscript><link rel=stylesheet href=a.css></noscript></head><body>"
    "<noscript><img src=pixel.gif></noscript></body></html>",
])
def test_a_script_notice_in_noscript_stays_out(html):
    out = HtmlToText().process({"html": html})
    assert isinstance(out, Rejection) and out.reason == "no_content"


def test_noscript_stays_out_of_a_page_with_text():
    # a page with text of its own is read as before: its <noscript> is not shown
    html = (f"<html><body><article>{_paras(_EN)}</article><noscript>{_paras(_ZH)}</noscript>"
            "</body></html>")
    ex = extract(html)
    assert ex.text == "\n\n".join(_EN) and ex.method == "density"


def test_noscript_is_looked_at_only_for_an_empty_page(monkeypatch):
    calls = []
    real = extract_mod._parse_once

    def counting(html):
        calls.append(1)
        return real(html)

    monkeypatch.setattr(extract_mod, "_parse_once", counting)
    extract(f"<html><body>{_paras(_EN)}<noscript>{_paras(_ZH)}</noscript></body></html>")
    assert len(calls) == 1  # a page with text is parsed once
    calls.clear()
    extract("<html><body><div></div></body></html>")  # empty, no <noscript>: once
    assert len(calls) == 1


# ---------------------------------------------------------------- text in a text box or a drawing

def _svg(lines: list[str], attrs: str = "") -> str:
    # each line a <text> of its own, one split into <tspan>s; shapes and a <title> beside them
    body = "".join(f'<text x="10" y="{20 * i}">{s}</text>' if i % 2 else
                   f'<text x="10" y="{20 * i}"><tspan>{s[:20]}</tspan><tspan>{s[20:]}</tspan></text>'
                   for i, s in enumerate(lines))
    return f'<svg{attrs} width="800" height="600"><title>Figure 1</title><g><rect/>{body}</g></svg>'


@pytest.mark.parametrize("html, want", [
    # a paste page: the text box holds the text, as written (its line breaks kept)
    ("<html><body><h1>Paste 42</h1><textarea readonly>" + "\n".join(_EN) + "</textarea></body></html>",
     "Paste 42\n\n" + "\n".join(_EN)),
    ("<html><body><form><textarea>" + "\n".join(_ZH) + "</textarea></form></body></html>",
     "\n".join(_ZH)),
    # a page drawn as SVG: each <text> a line (a <tspan>'s text joined to its line)
    ("<html><body>" + _svg(_EN) + "</body></html>", "\n\n".join(_EN)),
    ("<html><body><div>" + _svg(_ZH) + "</div></body></html>", "\n\n".join(_ZH)),
    # HTML inside a drawing's <foreignObject> is shown as it is
    ("<html><body><svg><foreignObject width=800 height=600>" + _paras(_EN)
     + "</foreignObject></svg></body></html>", "\n\n".join(_EN)),
])
def test_a_page_whose_text_is_in_a_text_box_or_a_drawing_is_read(html, want):
    ex = extract(html)
    assert ex.text == want
    assert ex.method == "fields"
    out = HtmlToText().process({"html": html})
    assert out["text"] == want and out["meta"]["html2text"] == "fields"


def test_a_comment_box_and_a_chart_beside_an_article_stay_out():
    article = f"<article><h1>Budget</h1>{_paras(_EN)}</article>"
    html = (f"<html><body>{article}<div>{_svg(['Revenue', 'Costs', '2001', '2006'])}</div>"
            "<form><textarea>Write your comment here</textarea></form></body></html>")
    ex = extract(html)
    assert ex.text == "Budget\n\n" + "\n\n".join(_EN) and ex.method == "density"


def test_a_short_text_beside_a_few_labels_is_not_replaced_by_them():
    # labels of a chart that hold less than the weight a reading needs leave the page as it was
    html = ("<html><body><p>Sales rose in the second quarter.</p>"
            + _svg(["Q1", "Q2", "Q3", "Q4 (estimate)"]) + "</body></html>")
    ex = extract(html)
    assert ex.text == "Sales rose in the second quarter." and ex.method != "fields"


def test_text_boxes_are_looked_at_only_when_there_is_little_to_read(monkeypatch):
    calls = []
    real = extract_mod._parse_once

    def counting(html):
        calls.append(1)
        return real(html)

    monkeypatch.setattr(extract_mod, "_parse_once", counting)
    extract(f"<html><body><article>{_paras(_EN)}</article><textarea>x</textarea>{_svg(['a'])}"
            "</body></html>")
    assert len(calls) == 1


# ---------------------------------------------------------------- the last resort's tags

def _past_depth(body: str) -> str:
    return "<html><body>" + "<font>" * 3_000 + body + "</body></html>"


@pytest.mark.parametrize("tag, words", [
    ('<p title="a > b">', ""),
    ("<img alt='x > y' src=a.png>", ""),
    ('<a href="#" onclick="if (a>b) go(\'<p>\')">Next page</a>', "Next page"),
    ('<span data-json=\'{"k": "<b>x</b>"}\'>', ""),
    ('<div title = "1 > 0">', ""),
])
def test_the_last_resort_reads_a_quoted_gt_as_part_of_its_tag(tag, words):
    # a '>' inside a quoted attribute value does not end the tag (as for the parser): the rest of
    # the tag is not text
    first = "The first paragraph of the page, long enough to be read."
    ex = extract(_past_depth(f"<p>{first}</p>{tag}<p>The last paragraph.</p>"))
    assert ex.method == "stripped"
    want = [first] + ([words] if words else []) + ["The last paragraph."]
    assert ex.text.split("\n") == want


@pytest.mark.parametrize("html", [
    _past_depth("<p>The first paragraph \ud800 here.</p>"),  # past the parser's depth limit
    "</xmp><rp></noscript>\ud800<div style='display:none'></div>",  # the cascade's last step
])
def test_the_last_resort_turns_a_lone_surrogate_into_a_replacement_character(html):
    # as the parsed reading does: text with a lone surrogate has no UTF-8 form (not writable)
    ex = extract(html)
    assert ex.method == "stripped" and "\ufffd" in ex.text
    ex.text.encode("utf-8")


def test_the_last_resort_drops_a_byte_order_mark():
    ex = extract("\ufeff" + _past_depth("<p>The first paragraph here.</p>"))
    assert ex.method == "stripped" and ex.text == "The first paragraph here."
    assert extract("\ufeff<!-- c --><p>x</p>").text == extract("<!-- c --><p>x</p>").text


# ---------------------------------------------------------------- class words on long class strings

_CLASS_TOKENS = ["article", "Article", "post-body", "history", "hiStory", "STORY", "main", "comment",
                 "com-x", "COMBX", "nav", "Navbar", "footer", "hentry", "h-entry", "zhengwen", "x", "q",
                 "widget", "media", "pagination", "text", "sidebar", "tags", "k", "\u212a", "s\u017f",
                 "é", "-", "_", "mainContent", "shadow"]


def test_class_words_give_the_same_verdicts_read_lower_cased():
    import itertools
    import random
    rng = random.Random(5)
    strings = [" ".join(p) for p in itertools.permutations(_CLASS_TOKENS[:8], 2)]
    strings += ["".join(rng.choice(_CLASS_TOKENS) for _ in range(rng.randint(1, 6))) for _ in range(3_000)]
    strings += [" ".join(rng.choice(_CLASS_TOKENS) for _ in range(rng.randint(1, 6))) for _ in range(3_000)]
    # (the lower-cased reading relies on the patterns' words being lower case)
    assert extract_mod._NEG_W.pattern == extract_mod._NEG_W.pattern.lower()
    assert extract_mod._POS_W.pattern == extract_mod._POS_W.pattern.lower()
    strings += [t.replace("i", "\u0130").replace("s", "\u017f") for t in strings[:500]]
    strings += [t.replace("i", "\u0131").upper().replace("K", "\u212a") for t in strings[:500]]
    strings += ["d-none", "hidden-xs", "Sidebar-left", "entry-meta", "ap-story-byline", "adsX", "ads1"]
    for v in strings:
        full = (25 if extract_mod._POS_W.search(v) else 0) - (25 if extract_mod._NEG_W.search(v) else 0)
        assert extract_mod._word_weight(v) == full, v
        # the class/id verdict, read with the necessary conditions on the folded string
        assert extract_mod._class_says_boiler(v) == extract_mod._class_verdict_of(v, None), v


class _Counting:
    """A compiled pattern whose search calls are counted, the length of the string each time."""

    def __init__(self, pattern, seen: list):
        self.pattern, self.seen = pattern, seen

    def search(self, s, *args):
        self.seen.append(len(s))
        return self.pattern.search(s, *args)


@pytest.mark.parametrize("unit", ["q", "\u00e9", "c"])
def test_a_long_class_string_is_not_read_by_the_case_blind_patterns(monkeypatch, unit):
    # readability's class patterns run case-blind (re.I) with a look-behind: about 200 ns a
    # character, 4 s for one 19 MB class attribute. An ASCII string is read lower-cased by
    # case-sensitive patterns that skip to a possible first letter (a non-ASCII one too, its
    # four letters that re.I matches to ASCII folded); the case-blind one confirms a match only.
    seen: list = []
    monkeypatch.setattr(extract_mod, "_POS_W", _Counting(extract_mod._POS_W, seen))
    monkeypatch.setattr(extract_mod, "_NEG_W", _Counting(extract_mod._NEG_W, seen))
    extract_mod._WORD_WEIGHTS.clear()
    body = " ".join(_EN)
    html = f'<html><body><div class="{unit * 100_000}"><p>{body}</p></div></body></html>'
    assert extract(html).text == body
    assert not [n for n in seen if n >= 100_000]



def test_a_class_or_id_is_judged_by_its_first_characters(monkeypatch):
    # the class-word patterns cost up to 1 µs a character of a value made of the letters that
    # start many of their words (c, b, a): 13 s for a 19 MB attribute of c's. A value is judged
    # by its first _CLASS_CHARS characters (real pages: 4,334 at most on the development pages)
    seen: list = []
    for name in ("_class_verdict_of", "_word_weight"):
        real = getattr(extract_mod, name)
        monkeypatch.setattr(extract_mod, name, lambda *a, _real=real: seen.append(len(a[0])) or _real(*a))
    extract_mod._WORD_WEIGHTS.clear()
    extract_mod._CLASS_VERDICTS.clear()
    body = " ".join(_EN)
    cap = extract_mod._CLASS_CHARS
    html = (f'<html><body><div class="{"c" * (cap * 8)}" id="{"b" * (cap * 8)}"><p>{body}</p></div>'
            f'<div class="{"comments " * (cap // 4)}"><p>A comment, not the page.</p></div></body></html>')
    assert extract(html).text == body
    assert seen and max(seen) <= 2 * cap + 1
    # within the limit a value is read whole: a widget word at its end still counts
    extract_mod._CLASS_VERDICTS.clear()
    assert extract_mod._class_says_boiler("x" * (cap - 20) + " comments") == extract_mod._WORDS

# ---------------------------------------------------------------- MathML in the text

_MATH_ART = ("The constant was known long before it had a name, and many wrote about it in their "
             "letters to each other. ")


@pytest.mark.parametrize("math, shown", [
    # LaTeXML (arXiv's HTML papers) states the TeX source in alttext
    ('<math alttext="e\\approx 2.718" display="inline"><semantics><mrow><mi>e</mi><mo>≈</mo>'
     '<mn>2.718</mn></mrow></semantics></math>', "e\\approx 2.718"),
    # MathJax's and Wikipedia's MathML carry it as a TeX annotation
    ('<math><semantics><mrow><mi>e</mi><mo>≈</mo><mn>2.718</mn></mrow>'
     '<annotation encoding="application/x-tex">e \\approx 2.718</annotation></semantics></math>',
     "e \\approx 2.718"),
    # without either, what the reader sees
    ("<math><mrow><mi>e</mi><mo>≈</mo><mn>2.718</mn></mrow></math>", "e≈2.718"),
])
def test_mathml_in_a_sentence_keeps_its_formula(math, shown):
    # browsers render MathML: a formula in a sentence is text of the sentence (it was dropped,
    # leaving "Euler wrote in a letter")
    html = (f"<html><body><article><p>{_MATH_ART}</p><p>Euler wrote {math} in a letter to "
            "Goldbach, and the value stuck.</p></article></body></html>")
    ex = extract(html)
    assert ex.text.split("\n\n")[1] == f"Euler wrote {shown} in a letter to Goldbach, and the value stuck."


def test_mathml_in_chinese_text_is_not_spaced():
    html = ("<html><body><article><p>设<math><mi>x</mi></math>为实数，则<math><msup><mi>x</mi><mn>2</mn>"
            "</msup></math>不小于零。这个结论在后面的证明中会反复用到，请读者务必记住它。</p></article></body></html>")
    assert extract(html).text.startswith("设x为实数，则x2不小于零。")


def test_hidden_mathml_stays_out():
    # a hidden copy beside an image of the formula (as Wikipedia serves it) is not shown
    html = (f"<html><body><article><p>{_MATH_ART}</p><p>Euler wrote <span style=\"display: none;\">"
            '<math alttext="e"><mi>e</mi></math></span><img alt="e" src="e.svg"> in a letter.</p>'
            "</article></body></html>")
    assert extract(html).text.split("\n\n")[1] == "Euler wrote in a letter."


def test_a_formula_hidden_by_its_own_attributes_stays_out():
    for attr in ('style="display:none"', "hidden", 'aria-hidden="true"'):
        html = (f"<html><body><article><p>{_MATH_ART}</p><p>Euler wrote <math {attr} alttext=\"e\">"
                "<mi>e</mi></math> in a letter.</p></article></body></html>")
        assert extract(html).text.split("\n\n")[1] == "Euler wrote in a letter.", attr


def test_nested_formulas_are_read_once(monkeypatch):
    # a formula inside another is text of the outer one: each is made text once (reading every
    # inner one again would cost its depth times its size)
    calls = []
    real = extract_mod._math_to_text
    monkeypatch.setattr(extract_mod, "_math_to_text", lambda el: calls.append(1) or real(el))
    inner = "<math><mi>x</mi>" * 300 + "</math>" * 300
    html = f"<html><body><article><p>{_MATH_ART}</p><p>Nested {inner} here.</p></article></body></html>"
    assert extract(html).text.split("\n\n")[1] == "Nested " + "x" * 300 + " here."
    assert len(calls) == 1


# ---------------------------------------------------------------- line breaks inside <pre>

_CODE_INTRO = "<p>Here is the code that we used for the whole thing, as we promised in the post.</p>"
_CODE = ["def f(x):", "    return x + 1", "", "print(f(2))"]


_SHOWN = [ln for ln in _CODE if ln]  # (an empty block is no line; an empty line between <br>s is)


@pytest.mark.parametrize("pre, lines", [
    # a highlighter's or a forum's code block whose lines end in <br> (it was "def f(x):    return
    # x + 1print(f(2))": the breaks were lost)
    ("<pre>" + "<br>".join(_CODE) + "</pre>", _CODE),
    ("<pre><code>" + "<br/>".join(f"<span class=l>{ln}</span>" for ln in _CODE) + "</code></pre>", _CODE),
    # a line per element (prettify's line numbers: <ol><li>; a line per <div>)
    ("<pre class='prettyprint linenums'><ol class=linenums>" + "".join(f"<li>{ln}</li>" for ln in _CODE)
     + "</ol></pre>", _SHOWN),
    ("<pre>" + "".join(f"<div class=line>{ln}</div>" for ln in _CODE) + "</pre>", _SHOWN),
])
def test_line_breaks_made_by_tags_inside_pre_are_kept(pre, lines):
    ex = extract(f"<html><body><article>{_CODE_INTRO}{pre}</article></body></html>")
    assert ex.text.split("\n\n", 1)[1].split("\n") == lines


def test_pre_as_written_is_unchanged():
    pre = "<pre>def f(x):\n    return x + 1\n\nprint(f(2))</pre>"
    ex = extract(f"<html><body><article>{_CODE_INTRO}{pre}</article></body></html>")
    assert ex.text.split("\n\n", 1)[1] == "\n".join(_CODE)


# ---------------------------------------------------------------- declarative shadow DOM

@pytest.mark.parametrize("attr", ['shadowrootmode="open"', 'shadowrootmode="closed"', 'shadowroot="open"'])
def test_a_declarative_shadow_root_is_shown(attr):
    # a web component rendered on the server: its <template shadowrootmode> is its shadow root,
    # which browsers show (a plain <template> is inert and stays out)
    body = " ".join(_EN)
    html = (f"<html><body><article-view><template {attr}><style>p {{ margin: 0 }}</style>"
            f"<h2>Budget</h2><p>{body}</p><slot></slot></template><p>Filed under local news.</p>"
            "</article-view><template><p>An inert template's paragraph, never shown to anyone.</p>"
            "</template></body></html>")
    ex = extract(html)
    assert body in ex.text and "inert" not in ex.text and "margin" not in ex.text


def test_a_carriage_return_reference_in_pre_is_a_space():
    # the parser turns a raw CR into a line feed, but a reference (&#13;) stays a CR, which CSS
    # shows as a space; in the text it would be a line break to some readers and not to others
    ex = extract(f"<html><body><article>{_CODE_INTRO}<pre>a&#13;b\r\nc</pre></article></body></html>")
    assert ex.text.split("\n\n", 1)[1] == "a b\nc"
