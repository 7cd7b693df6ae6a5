"""Near-duplicate benchmark data for `bench_dedup.py`, built from real text that ships in packages.

Sources (real text, not ours):
* English: the manual pages installed under /usr/share/man/man[1-8] (Debian's `manpages`,
  `coreutils`, ... whatever the machine has).
* Chinese: the Simplified and Traditional Chinese manual pages of Debian's `manpages-zh`
  (`apt-get install manpages-zh`), under /usr/share/man/zh_CN and zh_TW.
The troff markup is stripped to plain text; pages under 150 words (English) or 300 CJK
characters (Chinese) and `.so` redirections are skipped.

The benchmark corpus: originals, and for some of them variants made with edits of known kinds
and random strength (so that true similarities fall on both sides of the threshold):
boilerplate added, sentences inserted, deleted, reordered, typos, truncation, and exact copies
with case/white-space changes. Variants take inserted sentences from other pages. Everything
is seeded, so the corpus is the same on every run and machine with the same packages.
"""
from __future__ import annotations

import functools
import glob
import gzip
import os
import random
import re

from corpuskit.core.text import count_cjk, sentences

_MACRO_TEXT = re.compile(r"^\.(?:B|I|BR|RB|IR|RI|BI|IB|SM|SB|SH|SS|TP|IP|HP|PP|LP|P|TH)\b\s*(.*)$")
_ESC = [
    (re.compile(r"\\f(?:\(..|\[[^\]]*\]|.)"), ""),
    (re.compile(r"\\s[+-]?\d"), ""),
    (re.compile(r"\\\((?:em|en)"), "—"),
    (re.compile(r"\\\((?:lq|rq|dq)"), '"'),
    (re.compile(r"\\\((?:aq|oq|cq)"), "'"),
    (re.compile(r"\\\(..|\\\[[^\]]*\]"), " "),
    (re.compile(r"\\[-e]"), "-"),
    (re.compile(r"\\[&|^%c]"), ""),
    (re.compile(r"\\ "), " "),
    (re.compile(r"\\\*(?:\(..|\[[^\]]*\]|.)"), ""),
    (re.compile(r"\\n(?:\(..|\[[^\]]*\]|.)"), ""),
]


def troff_to_text(src: str) -> str:
    """Plain text of a man page: macro lines dropped except the text they carry."""
    out: list[str] = []
    for line in src.splitlines():
        if line.startswith((".", "'")):
            if line.startswith(('.\\"', "'\\\"")):
                continue
            m = _MACRO_TEXT.match(line)
            if not m:
                continue
            if line.startswith((".SH", ".SS", ".PP", ".LP", ".P ", ".IP", ".TP")):
                out.append("")
            if line.startswith(".TH"):
                continue
            line = m.group(1).replace('"', "")
        for rx, rep in _ESC:
            line = rx.sub(rep, line)
        out.append(line.strip())
    text = "\n".join(out)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    # join lines of a paragraph (troff sources break lines anywhere)
    paras = [" ".join(p.split("\n")) for p in text.split("\n\n")]
    return "\n\n".join(p.strip() for p in paras if p.strip())


def _read(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def man_pages(lang: str, limit: int | None = None) -> list[tuple[str, str]]:
    """[(name, text)] of the man pages of a language: 'en' or 'zh' (a fresh list each call)."""
    return list(_man_pages(lang, limit))


@functools.lru_cache(maxsize=8)
def _man_pages(lang: str, limit: int | None) -> tuple[tuple[str, str], ...]:
    if lang == "en":
        # gcloud's thousands of generated pages would swamp everything else: left out
        paths = sorted(p for p in glob.glob("/usr/share/man/man[1-8]/*")
                       if not os.path.basename(p).startswith("gcloud"))
        min_ok = lambda t: len(t.split()) >= 150  # noqa: E731
    elif lang == "zh":
        paths = sorted(glob.glob("/usr/share/man/zh_CN/man*/*") + glob.glob("/usr/share/man/zh_TW/man*/*"))
        min_ok = lambda t: count_cjk(t) >= 300  # noqa: E731
    else:
        raise ValueError(lang)
    out = []
    seen = set()
    for p in paths:
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        try:
            src = _read(p)
        except OSError:
            continue
        if src.lstrip().startswith(".so "):
            continue
        text = troff_to_text(src)
        if not min_ok(text) or text in seen:
            continue
        seen.add(text)
        out.append((os.path.relpath(p, "/usr/share/man"), text))
        if limit and len(out) >= limit:
            break
    return tuple(out)


# ---------------------------------------------------------------- edits
BOILERPLATE = {
    "en": ["Home | About | Contact | Privacy policy", "Skip to main content",
           "This site uses cookies to improve your experience. By continuing you accept them.",
           "Copyright 2024 Example Docs. All rights reserved.", "Share this page: Twitter Facebook Email",
           "Was this page helpful? Yes No", "Subscribe to our newsletter for updates."],
    "zh": ["首页 | 关于我们 | 联系我们 | 隐私政策", "跳转到主要内容", "本站使用 Cookie 以改善您的体验，继续浏览即表示同意。",
           "版权所有 © 2024 示例文档网 保留所有权利。", "分享到：微博 微信 QQ空间", "本文对您有帮助吗？有 没有",
           "扫码关注我们的公众号，获取最新资讯。"],
}
KINDS = ["exact", "boilerplate", "insert", "delete", "reorder", "typos", "truncate", "mixed"]


def _sents(text: str) -> list[str]:
    return sentences(text) or [text]


def _join(sents: list[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(sents)


def make_variant(text: str, kind: str, strength: float, rng: random.Random, donors: list[str],
                 lang: str) -> str:
    """An edited copy of `text`; `strength` in (0, 1] scales how much is changed."""
    s = _sents(text)
    if kind == "exact":
        t = text if rng.random() < 0.5 else text.upper() if lang == "en" else text
        return re.sub(r" ", "  ", t) if rng.random() < 0.5 else t.replace("\n\n", "\n")
    if kind == "boilerplate":
        k = 1 + int(strength * 6)
        head = [rng.choice(BOILERPLATE[lang]) for _ in range(rng.randint(0, k))]
        tail = [rng.choice(BOILERPLATE[lang]) for _ in range(k)]
        return "\n".join(head + [text] + tail)
    if kind == "insert":
        n = max(1, int(len(s) * strength * 0.5))
        for _ in range(n):
            donor = _sents(rng.choice(donors))
            s.insert(rng.randint(0, len(s)), rng.choice(donor))
        return _join(s, lang)
    if kind == "delete":
        n = min(len(s) - 1, max(1, int(len(s) * strength * 0.4)))
        for _ in range(n):
            s.pop(rng.randrange(len(s)))
        return _join(s, lang)
    if kind == "reorder":
        n = max(1, int(len(s) * strength * 0.5))
        for _ in range(n):
            i, j = rng.randrange(len(s)), rng.randrange(len(s))
            s[i], s[j] = s[j], s[i]
        return _join(s, lang)
    if kind == "typos":
        chars = list(text)
        n = max(1, int(len(chars) * strength * 0.04))
        pool = "abcdefghijklmnopqrstuvwxyz" if lang == "en" else "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感"
        for _ in range(n):
            i = rng.randrange(len(chars))
            if not chars[i].isspace():
                chars[i] = rng.choice(pool)
        return "".join(chars)
    if kind == "truncate":
        keep = 1.0 - strength * 0.45
        return text[: max(1, int(len(text) * keep))]
    if kind == "mixed":
        t = make_variant(text, "boilerplate", strength * 0.5, rng, donors, lang)
        t = make_variant(t, "typos", strength * 0.5, rng, donors, lang)
        return make_variant(t, "delete", strength * 0.5, rng, donors, lang)
    raise ValueError(kind)


def build_corpus(lang: str, n_originals: int, seed: int = 1234, variants_per: tuple[int, int] = (0, 3),
                 pages: list[tuple[str, str]] | None = None) -> list[dict]:
    """Records {id, text, family, kind, strength}: originals and their edited variants, shuffled.
    `family` is the original's id (a variant's ground truth still comes from exact Jaccard)."""
    rng = random.Random(seed)
    pages = pages if pages is not None else man_pages(lang)
    rng.shuffle(pages)
    originals = pages[:n_originals]
    donors = [t for _, t in pages[n_originals:n_originals + 500]] or [t for _, t in originals]
    recs: list[dict] = []
    for k, (name, text) in enumerate(originals):
        fam = f"{lang}-{k}"
        recs.append({"id": fam, "text": text, "family": fam, "kind": "original", "strength": 0.0,
                     "source": name})
        for v in range(rng.randint(*variants_per)):
            kind = rng.choice(KINDS)
            strength = rng.uniform(0.05, 1.0)
            recs.append({"id": f"{fam}.v{v}", "text": make_variant(text, kind, strength, rng, donors, lang),
                         "family": fam, "kind": kind, "strength": round(strength, 3), "source": name})
    rng.shuffle(recs)
    return recs


def thousand_word_docs(n: int, lang: str = "en", size: int = 1000) -> list[str]:
    """~`size`-word (English) or ~`size`-character (Chinese) documents cut from the man pages,
    for the speed benchmark."""
    pages = man_pages(lang, limit=2400 if lang == "en" else None)
    if lang == "en":
        words = " ".join(t for _, t in pages).split(" ")
        docs = [" ".join(words[i:i + size]) for i in range(0, len(words) - size, size)]
    else:
        text = "".join(t for _, t in pages)
        docs = [text[i:i + size] for i in range(0, len(text) - size, size)]
    if not docs:
        raise SystemExit(f"no {lang} man pages found (Chinese: apt-get install manpages-zh)")
    while len(docs) < n:
        docs = docs + docs
    return docs[:n]
