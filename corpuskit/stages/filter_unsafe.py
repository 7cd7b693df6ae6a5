"""filter-unsafe: drop adult, violent and hateful documents, English and Chinese.

Two independent checks, both offline, with data shipped in ``corpuskit/data/unsafe/``:

* **URL** (FineWeb's URL filter): the record's ``url`` host, or any parent domain of it, is
  in the UT1 "adult" blocklist (4.5 M domains, as FineWeb/datatrove use it), or the URL is in
  UT1's URL list, or the URL contains one of the RefinedWeb/FineWeb banned words (hard list,
  soft list with a threshold of 2, and banned sub-words).
* **Words**: the LDNOOBW English and Chinese lists (CC-BY-4.0), each entry annotated with a
  category (adult, hate, violence, profanity) and a strength in ``annotations.tsv``, plus the
  Traditional Chinese spellings of the (mostly Simplified) Chinese entries, derived with OpenCC.
  English entries match on word boundaries; Chinese entries match anywhere (no spaces), except
  single characters common in ordinary Chinese (性, 奶, 乳, 逼 ...: "allow" rows), which never
  match alone. "Weak" entries have an ordinary sense too (Chinese 成人, 激情, 处女, 妈妈的;
  English sex, nude, escort, rape in news ...): they count only once the document has at
  least one strong hit. A document is dropped when its score reaches ``min_hits`` *and*
  ``min_per_1k`` hits per 1,000 words (CJK characters count as words), so one stray word in a
  long article never drops it.

``detail`` names the categories and counts, never the words matched.
"""
from __future__ import annotations

import re
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from corpuskit.core.assets import DATA_DIR as ASSETS
from corpuskit.core.assets import cache_dir, read_cache, write_cache
from corpuskit.core.stage import RecordStage, Rejection, opt, set_meta
from corpuskit.core.text import count_words

CATEGORIES = ("adult", "hate", "violence", "profanity")
LANGS = ("en", "zh")
MATCHERS = ("auto", "aho", "pyaho", "regex")

DATA_DIR = ASSETS / "unsafe"


def _read_text(name: str) -> str:
    return (DATA_DIR / name).read_text(encoding="utf-8")


def _read_zst_lines(name: str) -> list[bytes]:
    import zstandard

    raw = (DATA_DIR / name).read_bytes()
    data = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    return [ln for ln in data.split(b"\n") if ln]


# ----------------------------------------------------------------------------- lexicon
class Entry:
    __slots__ = ("word", "lang", "category", "strong", "left", "right")

    def __init__(self, word: str, lang: str, category: str, strong: bool):
        self.word = word
        self.lang = lang
        self.category = category
        self.strong = strong
        # Boundaries are checked only at an end that is a Latin letter/digit: that is where a
        # spaced language needs them ("ass" must not match "class"); CJK ends need none.
        self.left = _is_spaced_char(word[0])
        self.right = _is_spaced_char(word[-1])


# a letter or digit below U+2E80 (what _is_spaced_char accepts), as a regex class
_SPACED_CLASS = "[^\\W_\u2e80-\U0010ffff]"


def _is_spaced_char(ch: str) -> bool:
    # a letter or digit of a script written with spaces (CJK starts at U+2E80)
    return ch.isalnum() and ch < "\u2e80"


def load_entries(langs: tuple[str, ...] = LANGS, categories: tuple[str, ...] = CATEGORIES) -> list[Entry]:
    """The annotated word list: (lang, entry, category, strength) rows of annotations.tsv,
    lower-cased, without the "allow" rows (single characters never matched alone)."""
    out: list[Entry] = []
    seen: set[str] = set()
    for line in _read_text("annotations.tsv").splitlines():
        if not line or line.startswith("#"):
            continue
        # lang, entry, category, strength[, source]: a fifth column marks derived rows
        lang, word, category, strength = line.split("\t")[:4]
        if lang not in langs or category not in categories or strength == "allow":
            continue
        w = word.lower()
        if w in seen:
            continue
        seen.add(w)
        out.append(Entry(w, lang, category, strength == "strong"))
    return out


class Matcher:
    """Finds the non-overlapping (leftmost-longest) lexicon entries in a lower-cased text.

    Hits are produced chunk by chunk (`CHUNK` characters of start positions at a time), so
    memory stays bounded however long the text is and however many overlapping candidates it
    holds ("x" * 10M has ten million overlapping "xxx")."""

    CHUNK = 1 << 16
    MASK_FROM = 16_384  # chunks longer than this are checked for long runs of letters

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self.maxlen = max((len(e.word) for e in entries), default=1)
        self._long_run_re: re.Pattern | None = None

    def _overlapping(self, seg: str) -> list[tuple[int, int, int]]:  # pragma: no cover
        """(entry index, start, end) of every hit in `seg`, overlapping ones included."""
        raise NotImplementedError

    def iter_hits(self, low: str, lower: bool = False) -> Iterator[Entry]:
        """The hits in `low` in order; with `lower`, `low` is lower-cased here a chunk at a
        time (no lower-cased copy of a huge text)."""
        if lower and "\u0130" in low:  # the one character whose lower case is two long
            low, lower = low.lower(), False
        entries, n, last_end = self.entries, len(low), -1
        for pos in range(0, max(n, 1), self.CHUNK):
            stop = min(n, pos + self.CHUNK)
            # hits that start in [pos, stop); the segment reaches far enough to see them end,
            # plus one character each side for the word-boundary checks
            left = 1 if pos else 0
            seg = low[pos - left:stop + self.maxlen]
            if lower:
                seg = seg.lower()
            # a run of letters longer than any entry ("xxxx..." has two overlapping candidates
            # a character, all failing the boundary checks) is masked first; a text of a few
            # kB is cheap either way (so most texts skip the check), and only a token that long
            # calls for the regex
            if len(seg) > self.MASK_FROM and max(map(len, seg.split())) > self.maxlen:
                seg = self._mask_long_runs(seg)
            hits = self._overlapping(seg)
            spans = []
            first, past = left, stop - pos + left
            base = pos - left
            for i, start, end in hits:
                if start < first or start >= past:
                    continue  # in the left context, or starts in the next chunk
                e = entries[i]
                if _boundary_ok(seg, start, end, e):
                    spans.append((base + start, base + end, e))
            # leftmost-longest, across chunks: "big tits" counts once, not as "big tits" +
            # "tits"; "妈妈的" (weak) hides the "妈的" inside it
            spans.sort(key=lambda s: (s[0], -s[1]))
            for start, end, e in spans:
                if start >= last_end:
                    yield e
                    last_end = end

    def _mask_long_runs(self, seg: str) -> str:
        """`seg` with every run of letters and digits of a spaced script longer than the
        longest entry blanked out (same length, a character no entry holds). No hit touching
        such a run's inside can pass the word-boundary checks: it starts or ends next to a
        letter of the run. So the hits that remain are the same, and "x" * 10M costs one
        regex pass instead of twenty million boundary checks in Python."""
        p = self._long_run_re
        if p is None:
            p = self._long_run_re = re.compile(f"{_SPACED_CLASS}{{{self.maxlen + 1},}}")
        return p.sub(lambda m: "\0" * len(m.group()), seg)

    def find(self, low: str) -> list[Entry]:
        return list(self.iter_hits(low))

    def count(self, text: str, lower: bool = False) -> dict[Entry, int]:
        """How many times each entry is hit, without keeping the hits."""
        out: dict[Entry, int] = {}
        for e in self.iter_hits(text, lower):
            out[e] = out.get(e, 0) + 1
        return out


def _boundary_ok(low: str, start: int, end: int, e: Entry) -> bool:
    if e.left and start > 0 and _is_spaced_char(low[start - 1]):
        return False
    if e.right and end < len(low) and _is_spaced_char(low[end]):
        return False
    return True


class AhoMatcher(Matcher):
    """Aho-Corasick automaton (ahocorasick-rs, Rust) over all entries, every overlapping hit
    reported, word boundaries checked per hit in Python (hits are rare)."""

    def __init__(self, entries: list[Entry]):
        import ahocorasick_rs

        super().__init__(entries)
        self.automaton = ahocorasick_rs.AhoCorasick([e.word for e in entries])

    def _overlapping(self, seg: str) -> list[tuple[int, int, int]]:
        return self.automaton.find_matches_as_indexes(seg, overlapping=True)  # type: ignore[no-any-return]


class PyAhoMatcher(Matcher):
    """The same with pyahocorasick (C), for comparison in the benchmark."""

    def __init__(self, entries: list[Entry]):
        import ahocorasick

        super().__init__(entries)
        self.automaton = ahocorasick.Automaton()
        for i, e in enumerate(entries):
            self.automaton.add_word(e.word, i)
        self.automaton.make_automaton()

    def _overlapping(self, seg: str) -> list[tuple[int, int, int]]:
        entries = self.entries
        return [(i, end_idx + 1 - len(entries[i].word), end_idx + 1)
                for end_idx, i in self.automaton.iter(seg)]


class RegexMatcher(Matcher):
    """One compiled alternation (longest entries first) with look-around word boundaries."""

    _NOT_SPACED = "(?<![^\\W_\u2e80-\U0010ffff])"
    _NOT_SPACED_AFTER = "(?![^\\W_\u2e80-\U0010ffff])"

    def __init__(self, entries: list[Entry]):
        super().__init__(entries)
        self.by_word = {e.word: e for e in entries}
        alts = []
        for e in sorted(entries, key=lambda e: (-len(e.word), e.word)):
            p = re.escape(e.word)
            if e.left:
                p = self._NOT_SPACED + p
            if e.right:
                p = p + self._NOT_SPACED_AFTER
            alts.append(p)
        self.pattern = re.compile("|".join(alts))

    def iter_hits(self, low: str, lower: bool = False) -> Iterator[Entry]:
        by_word = self.by_word
        return (by_word[m.group()] for m in self.pattern.finditer(low.lower() if lower else low))


# ----------------------------------------------------------------------------- URL lists
class UrlBlocklist:
    """UT1 adult domains (as a sorted array of 64-bit xxh3 hashes: 36 MB instead of ~450 MB of
    Python strings; a collision needs 2^64/4.5M odds), UT1 adult URLs, and FineWeb's banned
    URL words."""

    def __init__(self) -> None:
        import xxhash

        self._h = xxhash.xxh3_64_intdigest
        self.domains = _cached_domain_hashes(DATA_DIR / "ut1_adult_domains.txt.zst", self._h)
        self.urls = {u.decode("utf-8", "replace") for u in _read_zst_lines("ut1_adult_urls.txt.zst")}

        def words(name: str) -> set[str]:
            # datatrove's normalisation: lower-case, keep only [a-z0-9]; '#' lines are off
            return {_URL_NORM.sub("", w).lower() for w in _read_text(name).splitlines()
                    if w.strip() and not w.startswith("#")}

        self.hard = words("url_banned_words.txt")
        self.soft = words("url_soft_banned_words.txt")
        import ahocorasick_rs

        self.subwords = ahocorasick_rs.AhoCorasick(sorted(words("url_banned_subwords.txt") - {""}))

    def domain_listed(self, host: str) -> bool:
        """True when `host` or one of its parent domains is listed (so a listed domain also
        blocks its sub-domains, and `www.` needs no special case)."""
        labels = host.split(".")
        doms, n = self.domains, len(self.domains)
        for i in range(len(labels)):
            x = self._h(".".join(labels[i:]).encode("utf-8"))
            j = bisect_left(doms, x)
            if j < n and doms[j] == x:
                return True
        return False

    def check(self, url: str, soft_threshold: int = 2) -> str | None:
        """The kind of hit ('domain', 'url', 'url_word', 'url_soft_words', 'url_subword') or None."""
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return None
        if not host and "://" not in url:
            # a bare "example.com/path"
            try:
                parts = urlsplit("http://" + url.strip())
                host = (parts.hostname or "").rstrip(".")
            except ValueError:
                return None
        if host and self.domain_listed(host):
            return "domain"
        bare = (host + parts.path).removeprefix("www.") if host else ""
        if bare and (bare in self.urls or bare.rstrip("/") in self.urls):
            return "url"
        low = url.lower()
        url_words = set(_URL_SPLIT.split(low))
        if not self.hard.isdisjoint(url_words):
            return "url_word"
        if len(self.soft & url_words) >= soft_threshold:
            return "url_soft_words"
        norm = _URL_NORM.sub("", low)
        if norm and self.subwords.find_matches_as_indexes(norm):
            return "url_subword"
        return None


def _hash_lines(path: Path, h: Any) -> array:
    """Sorted 64-bit hashes of the lines of a .zst text file, decompressed and hashed in
    chunks so the 124 MB list never sits in memory as 4.5 M Python strings."""
    import numpy as np
    import zstandard

    parts = []
    with open(path, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as r:
        tail = b""
        while True:
            chunk = r.read(1 << 22)
            if not chunk:
                break
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            parts.append(np.fromiter(map(h, lines), dtype=np.uint64, count=len(lines)))
        if tail:
            parts.append(np.array([h(tail)], dtype=np.uint64))
    hashes = np.unique(np.concatenate(parts))
    # a plain array of unsigned 64-bit ints: bisect on it is faster than numpy for a handful
    # of look-ups per URL
    out = array("Q")
    out.frombytes(hashes.astype("<u8", copy=False).tobytes())
    return out


def _cached_domain_hashes(src: Path, h: Any) -> array:
    """The hash array of `src`, from the cache when a previous run left it there (a 36 MB read
    instead of ~2 s of decompressing and hashing in every process). The cache holds a checksum
    of the shipped list it was built from and of itself (core.assets.read_cache): a damaged or
    stale cache is rebuilt, never trusted (a cache that stopped listing domains would let adult
    sites through silently). A cache that cannot be written is only a missed speed-up."""
    import xxhash

    key = b"ut1-domain-hashes-v2:" + xxhash.xxh3_128_digest(src.read_bytes())
    path = cache_dir() / f"ut1_adult_domains-{xxhash.xxh3_64_hexdigest(key)}.u64"
    data = read_cache(path, key)
    if data is not None and len(data) % 8 == 0:
        out = array("Q")
        out.frombytes(data)
        return out
    out = _hash_lines(src, h)
    write_cache(path, key, out.tobytes())
    return out


_URL_NORM = re.compile(r"[^a-zA-Z0-9]+")
_URL_SPLIT = re.compile(r"[^a-z0-9]+")

_URL_DETAIL = {
    "domain": "domain in the UT1 adult list",
    "url": "URL in the UT1 adult list",
    "url_word": "banned word in the URL (FineWeb list)",
    "url_soft_words": "{n}+ soft banned words in the URL (FineWeb list)",
    "url_subword": "banned sub-word in the URL (FineWeb list)",
}

# Built once per process and per option set, never pickled with the stage.
_CACHE: dict[Any, Any] = {}
_LOCK = threading.Lock()


def get_matcher(langs: tuple[str, ...], categories: tuple[str, ...], kind: str = "auto") -> Matcher:
    if kind == "auto":
        try:
            import ahocorasick_rs  # noqa: F401

            kind = "aho"
        except ImportError:  # pragma: no cover - ahocorasick-rs is a dependency
            kind = "regex"
    key = ("matcher", langs, categories, kind)
    with _LOCK:
        m = _CACHE.get(key)
        if m is None:
            entries = load_entries(langs, categories)
            m = {"aho": AhoMatcher, "pyaho": PyAhoMatcher, "regex": RegexMatcher}[kind](entries)
            _CACHE[key] = m
    return m


def get_url_blocklist() -> UrlBlocklist:
    with _LOCK:
        b = _CACHE.get("urls")
        if b is None:
            b = _CACHE["urls"] = UrlBlocklist()
    return b


def _csv(value: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    items = tuple(sorted({v.strip() for v in value.split(",") if v.strip()}))
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise ValueError(f"{what} must be a comma-separated subset of {','.join(allowed)} (got {value!r})")
    return items


# ----------------------------------------------------------------------------- the stage
@dataclass
class FilterUnsafe(RecordStage):
    """Drop documents from adult sites (URL blocklist) or dense in obscene, hateful or violent words."""

    name: ClassVar[str] = "filter-unsafe"
    summary: ClassVar[str] = ("Drop adult, hateful and violent documents: UT1 adult URL blocklist and "
                              "LDNOOBW English/Chinese word lists with count and density thresholds.")
    reasons: ClassVar[dict[str, str]] = {
        "blocked_url": "the url's domain or URL is in the UT1 adult blocklist, or the URL carries "
                       "FineWeb's banned words",
        "unsafe_words": "enough word-list hits, dense enough (detail: categories and counts)",
    }

    min_hits: int = opt(3, "Drop when the document has at least this many word-list hits (weak "
                           "entries count only once a strong one is found) and --min-per-1k is reached.")
    min_per_1k: float = opt(2.0, "Drop only when the hits per 1,000 words (a CJK character is a word) "
                                 "also reach this.")
    langs: str = opt("en,zh", "Word lists to use (comma-separated: en, zh).", metavar="LANGS")
    categories: str = opt("adult,hate,violence,profanity",
                          "Categories that count (comma-separated: adult, hate, violence, profanity).", metavar="CATEGORIES")
    check_url: bool = opt(True, "Check the record's `url` against the UT1 adult blocklist and "
                                "FineWeb's banned URL words.")
    url_field: str = opt("url", "Record key holding the URL.")
    soft_url_words: int = opt(2, "Block a URL holding this many of FineWeb's soft banned words.")
    matcher: str = opt("auto", "Word matcher: aho (ahocorasick-rs), pyaho (pyahocorasick), regex (one "
                               "compiled re; slow), auto (= aho).", metavar="aho|pyaho|regex|auto")
    title_weight: float = opt(3.0, "Each word-list hit in meta.title (the page title html2text "
                                   "records) counts this many hits, undiluted by the text's "
                                   "length: with the defaults one strong hit in the title drops "
                                   "the page. 0: titles are not scored.")

    def __post_init__(self) -> None:
        if self.min_hits < 1:
            raise ValueError(f"--min-hits must be >= 1 (got {self.min_hits})")
        if self.min_per_1k < 0:
            raise ValueError(f"--min-per-1k must be >= 0 (got {self.min_per_1k})")
        if self.title_weight < 0:
            raise ValueError(f"--title-weight must be >= 0 (got {self.title_weight})")
        if self.soft_url_words < 1:
            raise ValueError(f"--soft-url-words must be >= 1 (got {self.soft_url_words})")
        if self.matcher not in MATCHERS:
            raise ValueError(f"--matcher must be one of {', '.join(MATCHERS)} (got {self.matcher!r})")
        if self.matcher == "pyaho":
            try:
                import ahocorasick  # noqa: F401
            except ImportError:
                raise ValueError("--matcher pyaho needs the pyahocorasick package") from None
        self._langs = _csv(self.langs, LANGS, "--langs")
        self._cats = _csv(self.categories, CATEGORIES, "--categories")

    def _found(self, text: str) -> dict[Entry, int]:
        return get_matcher(self._langs, self._cats, self.matcher).count(text, lower=True)

    def score(self, text: str) -> dict[str, Any]:
        """Hits in `text`: {'strong', 'weak', 'score', 'categories': {cat: n}}."""
        found = self._found(text)
        strong = sum(k for e, k in found.items() if e.strong)
        weak = sum(found.values()) - strong
        cats: dict[str, int] = {}
        if strong:
            for e, k in found.items():
                cats[e.category] = cats.get(e.category, 0) + k
        return {"strong": strong, "weak": weak, "score": (strong + weak) if strong else 0,
                "categories": cats}

    def _title(self, record: dict) -> str | None:
        meta = record.get("meta")
        t = meta.get("title") if isinstance(meta, dict) and self.title_weight > 0 else None
        return t if isinstance(t, str) and t.strip() else None

    def process(self, record: dict) -> dict | Rejection:
        text = self.get_text(record)
        body = self._found(text)
        title_text = self._title(record)
        title = self._found(title_text) if title_text is not None else {}
        # weak entries count once the page (text or title) has a strong hit
        strong = any(e.strong for e in body) or any(e.strong for e in title)
        n_body = sum(body.values()) if strong else 0
        n_title = sum(title.values()) if strong else 0
        w_title = self.title_weight * n_title
        n = n_body + w_title
        per_1k = 0.0
        if n_body:
            per_1k = round(1000.0 * n_body / max(count_words(text), 1), 2)
        cats: dict[str, float] = {}
        if strong:
            for found, weight in ((body, 1.0), (title, self.title_weight)):
                for e, k in found.items():
                    cats[e.category] = cats.get(e.category, 0) + k * weight
        info: dict[str, Any] = {"hits": n_body, "per_1k_words": per_1k}
        if n_title:
            info["title_hits"] = n_title
        if cats:
            info["categories"] = {c: _num(v) for c, v in cats.items()}
        url_hit = None
        if self.check_url:
            url = record.get(self.url_field)
            if isinstance(url, str) and url:
                url_hit = get_url_blocklist().check(url, self.soft_url_words)
                if url_hit:
                    info["url"] = url_hit
        set_meta(record, "unsafe", info)
        if url_hit:
            return Rejection("blocked_url", _URL_DETAIL[url_hit].format(n=self.soft_url_words))
        # the body's hits must be dense enough; the title's (weighted) are never diluted
        if n >= self.min_hits and (per_1k >= self.min_per_1k or w_title >= self.min_hits):
            cs = ", ".join(f"{c} {_num(k):g}" for c, k in sorted(cats.items(), key=lambda x: -x[1]))
            where = f"{n_body} hits, {per_1k:g}/1k words"
            if n_title:
                where += f"; {n_title} in the title x {self.title_weight:g}"
            return Rejection("unsafe_words", f"{cs} ({where})")
        return record


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 2)
