"""html2text's compiled extractor (setup.py builds extract.py with Cython): the same output as
extract.py for every page and setting, and never a build of another source (compiled.py)."""
from __future__ import annotations

import hashlib
import html as htmllib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.decode import decode_html
from corpuskit.stages.html2text import compiled
from corpuskit.stages.html2text import extract as running

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "corpuskit" / "stages" / "html2text" / "extract.py"

if os.environ.get("CORPUSKIT_REQUIRE_COMPILED"):  # CI: the compiled extractor must be the one that runs
    assert compiled.is_compiled(running), f"html2text runs {running.__file__}, not the compiled extractor"

needs_compiled = pytest.mark.skipif(
    not compiled.is_compiled(running),
    reason="the compiled extractor is not built (Cython and a C compiler at install time)")

# extract.py itself, beside the module that runs: what the compiled one must equal
SOURCE_MODULE = compiled.load_source("corpuskit_html2text_extract_source")
FAVORS = ("balanced", "precision", "recall")


def _same(page: str) -> None:
    for favor in FAVORS:
        assert tuple(running.extract(page, favor)) == tuple(SOURCE_MODULE.extract(page, favor)), favor


def test_the_source_module_is_extract_py_and_not_the_running_one():
    assert SOURCE_MODULE.__file__ == str(SOURCE)
    assert SOURCE_MODULE is not running and not compiled.is_compiled(SOURCE_MODULE)


@needs_compiled
def test_the_running_module_was_built_from_this_extract_py():
    assert running._SOURCE_SHA256 == hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert compiled.built_from(running, SOURCE.read_bytes())
    assert not compiled.built_from(running, SOURCE.read_bytes() + b"\n")


def _pages() -> list[str]:
    files = sorted((ROOT / "tests" / "fixtures" / "html").glob("*.html"))
    files += sorted((ROOT / "sample_data" / "raw" / "pages").glob("*.html"))
    return [decode_html(p.read_bytes())[0] for p in files]


@needs_compiled
def test_the_same_text_on_the_fixture_and_sample_pages():
    pages = _pages()
    assert len(pages) >= 6
    for page in pages:
        _same(page)


_WORDS = ["The council met on Tuesday, and the vote was close.", "Prices rose again.",
          "北京时间周二，委员会召开会议。", "价格再次上涨，市场反应强烈；", "Read more", "Share",
          "© 2024", "Home", "Comments (3)", "Related articles", "新闻", "首页"]
_TAGS = ["p", "div", "article", "section", "aside", "nav", "footer", "header", "li", "h2", "span",
         "a", "td", "main", "ul", "table", "tr", "pre", "blockquote"]
_ATTRS = ["", ' class="content"', ' class="sidebar"', ' class="share-zone"', ' id="comments"',
          ' class="related-posts"', ' style="display:none"', ' role="main"', ' hidden',
          ' itemprop="articleBody"', ' class="post-body entry"', ' id="footer"', ' href="/x"']


@st.composite
def _page(draw) -> str:
    out = ["<html><head><title>", draw(st.sampled_from(_WORDS)), "</title></head><body>"]
    open_tags: list[str] = []
    for _ in range(draw(st.integers(1, 40))):
        action = draw(st.integers(0, 3))
        if action == 0 and open_tags:
            out.append(f"</{open_tags.pop()}>")
        elif action == 1:
            tag = draw(st.sampled_from(_TAGS))
            out.append(f"<{tag}{draw(st.sampled_from(_ATTRS))}>")
            open_tags.append(tag)
        else:
            out.append(htmllib.escape(" ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=1,
                                                             max_size=8)))))
    if draw(st.booleans()):
        body = " ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=10)))
        out.append('<script type="application/ld+json">'
                   + json.dumps({"@type": "NewsArticle", "articleBody": body}) + "</script>")
    out.extend(f"</{t}>" for t in reversed(open_tags))
    out.append("</body></html>")
    return "".join(out)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(_page())
def test_the_same_text_on_generated_pages(page):
    _same(page)


def _select_in_a_child(setup: str, env: dict | None = None) -> dict:
    """compiled.select() run afresh in a new interpreter after `setup`: which file runs."""
    code = (
        "import json, sys\n"
        "from corpuskit.stages.html2text import compiled\n"
        "del sys.modules[compiled.NAME]\n"
        f"{setup}\n"
        "m = compiled.select()\n"
        "import corpuskit.stages.html2text.extract as imported\n"
        "from corpuskit.stages.html2text import extract as attribute\n"
        "print(json.dumps({'file': m.__file__, 'compiled': compiled.is_compiled(m),\n"
        "                  'same': m is imported is attribute is sys.modules[compiled.NAME]}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    return json.loads(out.stdout)


def test_an_edited_extract_py_runs_instead_of_the_build(tmp_path):
    edited = tmp_path / "extract.py"
    edited.write_bytes(SOURCE.read_bytes() + b"\n# edited after the build\n")
    got = _select_in_a_child(f"compiled.SOURCE = __import__('pathlib').Path({str(edited)!r})")
    assert got == {"file": str(edited), "compiled": False, "same": True}


def test_the_build_runs_while_extract_py_is_its_source():
    got = _select_in_a_child("")
    assert got["same"] and got["compiled"] == compiled.is_compiled(running)
    assert got["file"] == running.__file__


def test_pure_python_on_request():
    got = _select_in_a_child("", env={compiled.PURE_ENV: "1"})
    assert got == {"file": str(SOURCE), "compiled": False, "same": True}


def test_a_module_read_from_a_py_file_is_not_compiled():
    assert not compiled.is_compiled(SOURCE_MODULE)
    fake = ModuleType("fake")
    fake.__file__ = "/x/extract.cpython-311-x86_64-linux-gnu.so"
    assert compiled.is_compiled(fake)
    assert not compiled.built_from(fake, b"anything")  # no digest: never taken for fresh


@needs_compiled
def test_the_html2text_tests_pass_on_extract_py_itself():
    # the rest of html2text's tests run on the compiled build here; a user without a C compiler
    # runs extract.py: the same tests, on it, in a child interpreter
    files = [str(ROOT / "tests" / "stages" / f) for f in ("test_html2text.py", "test_html2text_choice.py")]
    env = {k: v for k, v in os.environ.items() if k != "CORPUSKIT_REQUIRE_COMPILED"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider",
                          *files], capture_output=True, text=True, cwd=ROOT,
                         env={**env, compiled.PURE_ENV: "1", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    summary = out.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary
