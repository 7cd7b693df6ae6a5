"""benchmarks/heldout_html.py: the prefix rule of the held-out html2text check (the page's output
must contain the article's start, white space aside), on text written here."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Scorer:
    """The two scorer functions the prefix rule uses (html_eval.py's, written again here:
    tokens are \\w+ runs, each CJK character its own token; bag-of-n-gram tp/fp/fn)."""

    @staticmethod
    def tokenize(text):
        import re
        return re.findall(r"[\u4e00-\u9fff]|[^\W\u4e00-\u9fff]+", text)

    @staticmethod
    def tp_fp_fn(true, pred, n):
        from collections import Counter
        t, p = Counter(true), Counter(pred)
        tp = sum((t & p).values())
        return tp, sum(p.values()) - tp, sum(t.values()) - tp


def test_prefix_rule_ignores_white_space_and_needs_the_whole_start():
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    ref = "The weir opened on Tuesday.\n\nBoats passed before noon."
    ok, rec = h.score_prefix(_Scorer, ref, "Menu\nThe weir opened on  Tuesday. Boats passed\nbefore noon. More.")
    assert ok and rec == 1.0
    ok, rec = h.score_prefix(_Scorer, ref, "The weir opened on Tuesday.")
    assert not ok and 0 < rec < 1
    # Chinese: a paragraph break inside the start is no difference; a missing character is
    assert h.score_prefix(_Scorer, "河水上涨。\n\n居民撤离。", "标题\n河水上涨。居民撤离。")[0]
    assert not h.score_prefix(_Scorer, "河水上涨。居民撤离。", "河水上涨。居民离。")[0]
    q = h.quality_prefix(_Scorer, [ref, ref], ["The weir opened on Tuesday. Boats passed before noon.", ""])
    assert q["contains"] == 1 and q["empty"] == 1 and q["contains_rate"] == 0.5


def test_set2_reference_text_from_markdown_and_html():
    """Held-out set #2's references: Markdown (front matter and data: images dropped, links keep
    their text, blocks end a line) and expected HTML (script/style dropped, white space collapsed)."""
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    md = ("---\ntitle: \"Weir\"\nlanguage: en\n---\n# The weir\n\nIt opened on **Tuesday**, see "
          "[the notice](https://example.org/n).\n\n![a chart\n\nof flows](data:image/png;base64,AAAA)\n\n"
          "| day | flow |\n| --- | --- |\n| Mon | 3 |\n\n- boats\n- 河水上涨。\n")
    t = h.markdown_to_text(md)
    assert t.splitlines()[:2] == ["The weir", "It opened on Tuesday, see the notice."]
    assert "title:" not in t and "base64" not in t and "AAAA" not in t and "https://" not in t
    assert "Mon" in t and "3" in t and "河水上涨。" in t.splitlines()
    html = ("<html><head><title>T</title><style>p{}</style></head><body><div><h2>Head</h2>\n"
            "<p>\n  One line\n  wrapped.</p><script>var x;</script><pre>a  b\nc</pre><p>x<br>y</p></div></body></html>")
    assert h.html_to_text(html).splitlines() == ["Head", "One line wrapped.", "a  b", "c", "x", "y"]


_SITE_TEST = r"""
describe('WwwExampleComExtractor', () => {
  describe('initial test case', () => {
    let result;
    let url;
    beforeAll(() => {
      url = 'https://www.example.com/2017/weir.html';
      const html = fs.readFileSync('./fixtures/www.example.com/1480000000000.html');
      result = Mercury.parse(url, html, { fallback: false });
    });

    it('returns the title', async () => {
      const { title } = await result;
      assert.equal(title, 'The weir (and the boats)');
    });

    it('returns the content', async () => {
      const { content } = await result;
      const $ = cheerio.load(content || '');
      const first13 = excerptContent(
        $('*')
          .first()
          .text(),
        13
      );
      assert.equal(
        first13,
        'It opened on Tuesday, the \'first\' \u201cday\u201d since the flood of 2016 and boats'
      );
    });
  });

  it('reads a second page', async () => {
    const html = fs.readFileSync("./fixtures/www.example.com/1490000000000.html");
    const { content } = await Mercury.parse(url, html, { fallback: false });
    const first5 = excerptContent($.text(), 5);
    assert.equal(first5, "河水上涨，" + '居民撤离。');
  });

  it('reads a page without a content check', async () => {
    url = `https://www.example.com/video`;
    const html = fs.readFileSync('./fixtures/www.example.com/1500000000000.html');
    const { title } = await Mercury.parse(url, html);
    assert.equal(title, 'A video');
  });
});
"""


def test_set3_pages_and_starts_read_from_a_site_test():
    """Held-out set #3: each fixture a Mercury site test reads is a page, with the last URL set
    before it and the string asserted equal to the first excerptContent(...) before the next page;
    escapes and `+` joins decoded; a page whose test checks no content has no reference."""
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    cases = h.mercury_cases(_SITE_TEST)
    assert [c["fixture"] for c in cases] == ["www.example.com/1480000000000.html",
                                            "www.example.com/1490000000000.html",
                                            "www.example.com/1500000000000.html"]
    assert cases[0]["url"] == cases[1]["url"] == "https://www.example.com/2017/weir.html"
    assert cases[0]["words"] == 13
    assert cases[0]["start"] == ("It opened on Tuesday, the 'first' \u201cday\u201d since the flood of 2016 "
                                 "and boats")
    assert cases[1]["words"] == 5 and cases[1]["start"] == "河水上涨，居民撤离。"
    assert cases[2]["url"] == "https://www.example.com/video" and cases[2]["start"] is None
    assert h.js_string(r"'a\'b\\c\x41\u00e9\u{1F600}' + 1", 0) == ("a'b\\cAé\U0001F600", 28)


def test_set3_shortest_start_counts_cjk_text_without_spaces():
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    assert h.prefix_min_chars("It opened on Tuesday and boats passed") == 40
    assert h.prefix_min_chars("这个约会软件，想用你和对方的相似好恶来帮你找对象") == 20
    assert h.prefix_min_chars("iPhone 和 iPad 的新系统") == 40  # fewer than half CJK


@pytest.mark.parametrize("fetch,file,command", [
    ("fetch", "NEWSPAPER", "pip download"), ("fetch2", "DOMDOWN", "pip download"),
    ("fetch3", "MERCURY", "npm pack @postlight/mercury-parser@1.1.1")])
@pytest.mark.parametrize("failure", [FileNotFoundError("npm"), "exit 1"])
def test_an_archive_that_cannot_be_fetched_stops_with_exit_3_and_says_what_to_fetch(
        tmp_path, monkeypatch, capsys, fetch, file, command, failure):
    """Without pip or npm (or their registry) a held-out set's archive cannot be fetched: the
    benchmark stops with the 'missing input' status (3), naming the file and the command that
    fetches it, for every set."""
    import subprocess

    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")

    def cannot(cmd, *a, **k):
        if isinstance(failure, Exception):
            raise failure
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(subprocess, "run", cannot)
    with pytest.raises(SystemExit) as e:
        getattr(h, fetch)(tmp_path)
    assert e.value.code == 3
    err = capsys.readouterr().err
    assert getattr(h, file)["file"] in err and command in err


def test_set3_a_page_several_tests_read_takes_the_first_start_asserted():
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    js = (_SITE_TEST.replace("1500000000000", "1480000000000")  # the video test reads page 1 again
          + "\nit('x', () => { const html = fs.readFileSync('./fixtures/www.example.com/1490000000000.html');"
            " const first13 = excerptContent($.text(), 13); assert.equal(first13, 'A later start'); });\n")
    pages = h.mercury_pages(js)
    assert [p["fixture"] for p in pages] == ["www.example.com/1480000000000.html", "www.example.com/1490000000000.html"]
    assert pages[0]["start"].startswith("It opened on Tuesday") and pages[1]["start"] == "河水上涨，居民撤离。"
    no_start = _SITE_TEST.split("it('returns the content'")[0] + "});});"
    assert h.mercury_pages(no_start)[0]["start"] is None


def test_set4_reference_from_selectors():
    """Held-out set #4's references: `exclude` matches cut first, then each outermost `include`
    match in document order (a match nested in another is not repeated), blocks end a line."""
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    page = ("<html><body><nav>Home | News</nav><h1>Weir opens</h1>"
            "<div class='lead'><p>The weir opened on Tuesday.</p></div>"
            "<article><p>Boats passed <b>before</b> noon.</p><div class='share'>Share this</div>"
            "<p class='x'>河水上涨。</p><figure><figcaption>Photo: A. B.</figcaption></figure></article>"
            "<aside>Related: other weirs</aside></body></html>")
    ref = h.reference4(page, ["article", "div.lead", "article p.x"], [".share", "figcaption"])
    assert ref.splitlines() == ["The weir opened on Tuesday.", "Boats passed before noon.", "河水上涨。"]
    assert h.reference4(page, ["main"], []) == ""
    # the labelling order: every candidate page once, shuffled by the fixed seed, the same each run
    members = {f"htmldate-1.3.2/tests/cache/p{i}.html": b"" for i in range(5)}
    members.update({f"trafilatura-1.1.0/tests/cache/{n}": b"" for n in ("p0.html", "q1.html", "q2.html")})
    a, b = h.set4_pages(members), h.set4_pages(dict(reversed(members.items())))
    assert a == b and sorted(a["htmldate"]) == [f"p{i}.html" for i in range(5)]
    assert sorted(a["trafilatura_cache"]) == ["q1.html", "q2.html"]  # a page in both is htmldate's
    assert a["trafilatura_rest"] == []  # set #5: what set #4's sample of 70 leaves


def test_set6_page_rule(tmp_path, monkeypatch):
    """Held-out set #6's page rule, on archives made here: HTML files directly in the named
    folders, of at least MIN_PAGE_BYTES; an extractor's own output, subfolders, small snippets
    and html2txt's `options.*` variants are not pages; the same bytes are taken once; the
    order is fixed by the seed, whatever order the archives list their members in."""
    import io
    import tarfile

    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    big = h.MIN_PAGE_BYTES
    page = lambda tag: (f"<html><body><p>{tag}</p>".encode() + b"x" * big)  # noqa: E731

    def tgz(name, members):
        p = tmp_path / name
        with tarfile.open(p, "w:gz") as t:
            for n, raw in members.items():
                info = tarfile.TarInfo(n)
                info.size = len(raw)
                t.addfile(info, io.BytesIO(raw))
        return p

    monkeypatch.setattr(h, "SET6_PKGS", (
        ("npm6", {"name": "a"}, True, ("package/test/", "package/examples/"), ("package/examples/result.html",)),
        ("npm6", {"name": "b"}, True, ("package/fixtures/",), ()),
        ("pypi6", {"name": "html2txt"}, False, ("h/fixtures/",), ()),
    ))
    monkeypatch.setattr(h, "SET6_HTML2TXT_SAMPLE", 2)
    a = tgz("a.tgz", {"package/test/one.html": page("one"), "package/test/small.html": b"<p>tiny</p>",
                      "package/test/sub/two.html": page("two"), "package/examples/result.html": page("out"),
                      "package/examples/index.htm": page("idx"), "package/test/notes.txt": page("txt")})
    b = tgz("b.tgz", {"package/fixtures/same.html": page("one"), "package/fixtures/other.html": page("other")})
    c = tgz("c.tgz", {f"h/fixtures/{n}.html": page(n) for n in ("p", "q", "r", "s")}
            | {"h/fixtures/options.p.html": page("p2")})
    archives = [("npm6", {"name": "a"}, a), ("npm6", {"name": "b"}, b), ("pypi6", {"name": "html2txt"}, c)]
    pages = h.set6_pages(archives)
    assert sorted(k for k, _ in pages["npm6"]) == ["a/index.htm", "a/one.html", "b/other.html"]
    assert len(pages["pypi6"]) == 2 and {k for k, _ in pages["pypi6"]} <= {f"html2txt/{n}.html" for n in "pqrs"}
    assert pages == h.set6_pages(archives)  # the same order every run


def _deb_bytes(files: dict[str, bytes]) -> bytes:
    """A Debian package as dpkg-deb writes one: an ar archive of debian-binary, control.tar.xz and
    data.tar.xz (members named "./usr/...")."""
    import io
    import tarfile

    def tar(members: dict[str, bytes]) -> bytes:
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode="w:xz") as t:
            for n, raw in members.items():
                info = tarfile.TarInfo(n)
                info.size = len(raw)
                t.addfile(info, io.BytesIO(raw))
        return b.getvalue()

    out = b"!<arch>\n"
    for name, body in (("debian-binary", b"2.0\n"), ("control.tar.xz", tar({"./control": b"Package: x\n"})),
                       ("data.tar.xz", tar({f"./{k}": v for k, v in files.items()}))):
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode() + body
        if len(body) & 1:
            out += b"\n"
    return out


def test_set7_page_rule(tmp_path, monkeypatch):
    """Held-out set #7's page rule, on Debian packages made here: HTML files under the named
    folders (subfolders too), of at least MIN_PAGE_BYTES; index, search, contents and whole-book
    pages, example and source-listing folders and other folders are not pages; the same bytes are
    taken once; SET7_PER_PACKAGE pages a package, keys keeping the language folder, and the order
    fixed by the seed."""
    h = _load("heldout_html", ROOT / "benchmarks" / "heldout_html.py")
    big = h.MIN_PAGE_BYTES
    page = lambda tag: (f"<html><body><p>{tag}</p>".encode() + b"x" * big)  # noqa: E731
    monkeypatch.setattr(h, "SET7_DEBS", (
        ("docs_en", {"name": "a"}, ("usr/share/doc/a/html/",)),
        ("docs_i18n", {"name": "b"}, ("usr/share/doc/b/html/de/", "usr/share/doc/b/html/zh/")),
    ))
    monkeypatch.setattr(h, "SET7_PER_PACKAGE", 3)
    a = tmp_path / "a.deb"
    a.write_bytes(_deb_bytes({
        "usr/share/doc/a/html/one.html": page("one"), "usr/share/doc/a/html/lib/two.html": page("two"),
        "usr/share/doc/a/html/index.html": page("idx"), "usr/share/doc/a/html/genindex.html": page("gi"),
        "usr/share/doc/a/html/search.html": page("s"), "usr/share/doc/a/html/print.html": page("p"),
        "usr/share/doc/a/html/small.html": b"<p>tiny</p>", "usr/share/doc/a/html/notes.txt": page("t"),
        "usr/share/doc/a/html/examples/ex.html": page("ex"),
        "usr/share/doc/a/html/_modules/m.html": page("m"), "usr/share/doc/a/other/x.html": page("x")}))
    b = tmp_path / "b.deb"
    b.write_bytes(_deb_bytes({
        "usr/share/doc/b/html/de/k.html": page("k"), "usr/share/doc/b/html/zh/k.html": page("k-zh"),
        "usr/share/doc/b/html/zh/same.html": page("one"), "usr/share/doc/b/html/en/k.html": page("en"),
        "usr/share/doc/b/html/de/ix01.html": page("ix"), "usr/share/doc/b/html/zh/index.zh-cn.html": page("i")}))
    assert h.deb_members(a)["usr/share/doc/a/html/one.html"] == page("one")
    debs = [("docs_en", {"name": "a"}, a), ("docs_i18n", {"name": "b"}, b)]
    pages = h.set7_pages(debs)
    assert sorted(k for k, _ in pages["docs_en"]) == ["a/lib/two.html", "a/one.html"]
    assert sorted(k for k, _ in pages["docs_i18n"]) == ["b/de/k.html", "b/zh/k.html"]
    assert pages == h.set7_pages(debs)  # the same order every run
    monkeypatch.setattr(h, "SET7_PER_PACKAGE", 1)
    assert [len(v) for v in h.set7_pages(debs).values()] == [1, 1]
    bad = tmp_path / "bad.deb"
    bad.write_bytes(b"not a package")
    with pytest.raises(SystemExit):
        h.deb_members(bad)
