"""The pipeline's HTML report: self-contained, and it renders in a real headless browser."""
import os
import re
import shutil
import subprocess

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.io.jsonl import iter_line_batches
from corpuskit.pipeline import PipelineConfig, run_pipeline
from corpuskit.pipeline.report import snippet

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    docs = [{"text": "北京是中国的首都，有三千多年的建城史。" * 5, "meta": {"lang": "zh"}},
            {"text": "short one"},
            {"text": "The council met on Tuesday to discuss the plan for new bicycle lanes. " * 8,
             "meta": {"lang": "en"}}] * 4
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs) + b"{oops\n")
    clean = tmp_path / "clean"
    run_pipeline(str(raw), str(clean), PipelineConfig(stages=["normalize", "filter-short", "tokenize-stats"]))
    return clean / "report.html"


def test_report_is_self_contained_with_charts_and_samples(tmp_path):
    html = _run(tmp_path).read_text()
    assert "<script" not in html and not re.search(r"""(src|href)=["']https?://""", html)
    assert html.count("<svg") >= 5
    assert "too_few_words" in html and "short one" in html  # reason chart and a sample record
    assert "invalid_json" in html  # the quarantined line
    assert "tokens per language" in html


# CI sets CORPUSKIT_REQUIRE_BROWSER=1: there a missing Chromium fails, never skips
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CORPUSKIT_REQUIRE_BROWSER"),
                    reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium_without_console_errors(tmp_path):
    report = _run(tmp_path)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    p = subprocess.run([CHROMIUM, *flags, "--dump-dom", report.as_uri()], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    assert dom.count("<svg") >= 5 and "corpuskit pipeline report" in dom
    console = [ln for ln in p.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == []
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1300,2000", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000  # a real rendering, not a blank page


def _dup_run(tmp_path):
    """Pages (read by the fetch stage) and records with near duplicates, through dedup."""
    import random

    from tests.corpus import en_doc, zh_doc

    rng = random.Random(3)
    raw = tmp_path / "raw"
    (raw / "pages").mkdir(parents=True)
    zh, en = zh_doc(rng), en_doc(rng)
    for i in range(2):
        (raw / "pages" / f"p{i}.html").write_text(
            f"<html><body><article><p>{en_doc(rng)}</p></article></body></html>", encoding="utf-8")
    recs = [{"id": "zh-a", "text": zh}, {"id": "zh-b", "text": zh.replace("。", "！", 1)},
            {"id": "en-a", "text": en}, {"id": "en-b", "text": en}]
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    clean = tmp_path / "clean"
    run_pipeline(str(raw), str(clean), PipelineConfig(
        stages=["html2text", "normalize", "dedup", "tokenize-stats"], options={"html2text": {"keep_text": True}}))
    return clean


def test_report_funnel_sizes_tokens_and_duplicate_pairs(tmp_path):
    from corpuskit.pipeline.report_html import CJK_FONTS

    clean = _dup_run(tmp_path)
    html = (clean / "report.html").read_text()
    stats = orjson.loads((clean / "stats.json").read_bytes())
    assert [s["stage"] for s in stats["stages"]][0] == "fetch"
    # the funnel: input, then the filtering stages; fetch is part of the input, not a step
    funnel = html[html.index("documents kept after each stage"):html.index("</svg>", html.index("documents kept"))]
    assert ">input<" in funnel and ">html2text<" in funnel and ">fetch<" not in funnel
    assert "fetch read 2 pages into the input" in html
    tok = next(s for s in stats["stages"] if s["stage"] == "tokenize-stats")["extra"]["totals"]["tokens"]
    assert f"The output&#x27;s tokens: {tok:,} (cl100k_base, tokenize-stats)" in html
    assert "2 input pages had no text yet" in html
    # sizes of a small run in KB, not 0.0 MB
    assert "0.0 MB" not in html and re.search(r">\d+(\.\d)? KB<", html)
    # duplicates: the removed document beside the kept one, with their similarity
    assert html.count('class="pair"') == 2
    pair = html[html.index('class="pair"'):]
    assert "<b>removed</b> <code>zh-b</code>" in pair and "<b>kept</b> <code>zh-a</code> · similarity" in pair
    assert "<b>kept</b> <code>en-a</code> · similarity 1.00" in html
    assert html.count("今年") + html.count("上个月") + html.count("本周末") > 2  # the kept Chinese text too
    # Chinese needs a CJK font: the report names its fallback
    assert all(f in html for f in CJK_FONTS) and "fonts-noto-cjk" in html


def test_token_labels_are_escaped_once():
    from corpuskit.pipeline.report_html import stats_report_html, token_label

    assert token_label("\\xb6") == "'\\xb6'" and token_label(" the\n") == "' the\\n'"
    from corpuskit.core.chain import run_stages
    from corpuskit.registry import make_stage

    stage = make_stage("tokenize-stats", tokenizer="cl100k_base", top_k=400)
    run_stages([stage], [{"text": "饕餮 魑魅魍魉 龘 " * 30}])  # rare characters: byte tokens
    res = stage.result()
    assert "\\xe9" in [t["token"] for t in res["top_tokens"]]
    html = stats_report_html(res)
    assert "\\\\x" not in html  # no doubled backslash
    assert "&#x27;\\xe9&#x27;" in html  # the partial-byte token, escaped once


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CORPUSKIT_REQUIRE_BROWSER"),
                    reason="Chromium is not installed (.ci/run installs it)")
def test_report_draws_chinese_with_the_named_cjk_font(tmp_path):
    """The CJK font the report names is installed (CI installs fonts-noto-cjk), and Chromium
    draws the report's Chinese with glyphs: the Chinese text's screenshot differs from the same
    places drawn with tofu boxes (a private-use character no font has)."""
    from corpuskit.pipeline.report_html import CJK_FONTS, page_html, section_html

    fams = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    assert any(f in fams for f in CJK_FONTS), fams
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=600,200"]

    def shot(text: str, name: str) -> bytes:
        page = tmp_path / f"{name}.html"
        page.write_text(page_html("t", [section_html("s", f'<p style="font-size:40px">{text}</p>')]),
                        encoding="utf-8")
        png = tmp_path / f"{name}.png"
        subprocess.run([CHROMIUM, *flags, f"--screenshot={png}", page.as_uri()], capture_output=True,
                       timeout=120, check=True)
        return png.read_bytes()

    chinese, tofu, other = shot("北京天气很好", "zh"), shot("\ue000" * 6, "tofu"), shot("上海人很多", "zh2")
    assert chinese != tofu and chinese != other


# ------------------------------------------------------------------ the corpus charts
CHARTS = ("waterfall-docs", "waterfall-chars", "lengths", "languages", "reasons", "clusters")
HOSTILE = "<script>alert('pwn')</script><img src=x onerror=alert(1)> 短"


def _chart_corpus(raw):
    """Chinese and English documents of many lengths, short ones (filter-short), duplicate
    clusters of 2, 3 and 5 (dedup), a hostile short record first and a bad line; cut into
    units of 6 lines so that every reason is met in several units."""
    import random

    from tests.corpus import en_doc, zh_doc

    rng = random.Random(11)
    recs = [{"id": "evil", "text": HOSTILE}]
    for i in range(24):
        zh = i % 2 == 0
        k = 1 + (i * 7) % 5  # articles in the document: lengths from ~70 to ~2,500 characters
        text = "\n\n".join(zh_doc(rng, sentences=3 + i % 6) if zh else en_doc(rng, sentences=6 + i % 5)
                             for _ in range(k))
        rec = {"id": f"d{i:02d}", "text": text}
        if i % 3:  # the others have no language (counted as und)
            rec["meta"] = {"lang": "zh" if zh else "en"}
        recs.append(rec)
        if i % 4 == 3:
            recs.append({"id": f"short{i:02d}", "text": f"only a few words {i}"})
    for src, copies in (("d02", 1), ("d05", 2), ("d08", 4)):  # clusters of 2, 3 and 5
        text = next(r["text"] for r in recs if r["id"] == src)
        recs += [{"id": f"{src}-copy{k}", "text": text} for k in range(copies)]
    raw.mkdir(parents=True, exist_ok=True)
    lines = [orjson.dumps(r) for r in recs]
    lines.insert(9, b"{oops")
    (raw / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return recs


@pytest.fixture(scope="module")
def chart_runs(tmp_path_factory):
    """One corpus through filter-short, normalize and dedup with 2 workers and with 1, and
    through the per-record stages alone with 2 workers and with 1."""
    base = tmp_path_factory.mktemp("charts")
    recs = _chart_corpus(base / "raw")
    out = {"recs": recs, "base": base}
    for chain in ("dedup", "mapped"):
        # filter-short before normalize: normalize would strip the hostile record's tags
        stages = ["filter-short", "normalize"] + (["dedup"] if chain == "dedup" else [])
        for workers in (2, 1):
            clean = base / f"clean-{chain}-{workers}"
            out[chain, workers] = run_pipeline(str(base / "raw"), str(clean), PipelineConfig(
                stages=stages, workers=workers, unit_lines=6))
            out[chain, workers, "html"] = (clean / "report.html").read_text(encoding="utf-8")
    return out


def test_profile_does_not_depend_on_the_number_of_workers(chart_runs):
    from corpuskit.pipeline.report import _waterfalls, profile_sections

    for chain in ("dedup", "mapped"):
        two, one = chart_runs[chain, 2], chart_runs[chain, 1]
        assert two["run"]["units"] > 4 and two["run"]["workers"] == 2
        assert two["profile"] == one["profile"]
        assert profile_sections(two) == profile_sections(one) and _waterfalls(two) == _waterfalls(one)
    # the output side is the same whether counted in the units or after the stream stages
    d, m = chart_runs["dedup", 2]["profile"], chart_runs["mapped", 2]["profile"]
    assert d["in_hist"] == m["in_hist"] and d["stage_chars"][:2] == m["stage_chars"]
    assert sum(m["out_hist"]) == chart_runs["mapped", 2]["conservation"]["kept"]


def test_profile_numbers_match_the_corpus(chart_runs):
    from corpuskit.pipeline.profile import length_bin

    st, recs = chart_runs["dedup", 2], chart_runs["recs"]
    p = st["profile"]
    assert p["in_docs"] == len(recs) and p["in_chars"] == sum(len(r["text"]) for r in recs)
    hist = [0] * len(p["in_hist"])
    for r in recs:
        hist[length_bin(len(r["text"]))] += 1
    assert p["in_hist"] == hist
    kept = [orjson.loads(x) for f in sorted((chart_runs["base"] / "clean-dedup-2" / "data").iterdir())
            for _, lines, _ in iter_line_batches(str(f)) for x in lines]
    assert p["out_docs"] == len(kept) == st["conservation"]["kept"]
    assert p["stage_chars"][-1] == p["out_chars"] == sum(len(r["text"]) for r in kept)
    langs = {r.get("meta", {}).get("lang") for r in kept}
    assert langs == {"zh", "en", None} and set(p["lang_docs"]) == {"zh", "en", "und"}
    assert p["lang_docs"]["und"] == sum(1 for r in kept if "lang" not in r.get("meta", {}))
    assert p["lang_docs"]["zh"] == sum(1 for r in kept if r.get("meta", {}).get("lang") == "zh")
    assert sum(p["lang_docs"].values()) == len(kept)
    # clusters of 2, 3 and 5 documents
    assert p["cluster_sizes"] == {"2": 1, "3": 1, "5": 1} and p["cluster_hist"][:4] == [1, 1, 0, 1]


def test_reason_example_is_the_first_in_input_order(chart_runs):
    """The example of each reason is the earliest record in the input, with 2 workers as with 1,
    whichever unit finished first: too_few_words' is the first record, exact_duplicate's the
    first copy."""
    for workers in (2, 1):
        top = {r["reason"]: r for r in chart_runs["dedup", workers]["profile"]["top_reasons"]}
        assert top["too_few_words"]["example"]["id"] == "evil"
        assert top["too_few_words"]["count"] == 7
        assert top["exact_duplicate"]["example"]["id"] == "d02-copy0"
        assert top["exact_duplicate"]["count"] == 7
        assert top["exact_duplicate"]["example"]["detail"] == "kept d02"


def test_every_chart_is_in_the_report_and_hostile_text_is_escaped(chart_runs):
    html = chart_runs["dedup", 2, "html"]
    for name in CHARTS:
        assert html.count(f'id="chart-{name}"') == 1, name
    assert "<script" not in html and "<img" not in html and "onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#x27;pwn&#x27;)&lt;/script&gt;" in html
    # the waterfall labels the drop of each stage: filter-short removed 7 records
    docs = html[html.index('id="chart-waterfall-docs"'):]
    docs = docs[:docs.index("</figure>")]
    n = len(chart_runs["recs"])
    assert ">filter-short<" in docs and f"−7 ({7 / n:.1%})" in docs and f"−7 ({7 / (n - 7):.1%})" in docs
    assert "characters (not tokens)" in html
    # without dedup there are no clusters to draw
    assert 'id="chart-clusters"' not in chart_runs["mapped", 2, "html"]


# the fill of each chart's bars (corpuskit.pipeline.report_html.PALETTE), as the report draws them
BAR_COLOURS = {"waterfall-docs": "#4C78A8", "waterfall-chars": "#9D755D", "lengths": "#FF9DA6",
               "languages": "#72B7B2", "clusters": "#B279A2"}


def _colour_pixels(img, box, colour: str) -> int:
    """Pixels of `box` within 12 of `colour` in every channel."""
    from PIL import Image, ImageChops

    part = img.crop(box)
    r, g, b = ImageChops.difference(part, Image.new("RGB", part.size, colour)).split()
    most = ImageChops.lighter(ImageChops.lighter(r, g), b)
    return most.point(lambda v: 255 if v <= 12 else 0).histogram()[255]


def _drawn_pixels(img, box, bg) -> int:
    """Pixels of `box` in the screenshot that differ from the background colour `bg` by more
    than 40 in some channel (text, bars, lines; not antialiasing noise)."""
    from PIL import Image, ImageChops

    part = img.crop(box)
    r, g, b = ImageChops.difference(part, Image.new("RGB", part.size, bg)).split()
    most = ImageChops.lighter(ImageChops.lighter(r, g), b)
    return most.point(lambda v: 255 if v > 40 else 0).histogram()[255]


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CORPUSKIT_REQUIRE_BROWSER"),
                    reason="Chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_chart_draws_something_in_headless_chromium(chart_runs, tmp_path, scheme):
    """Each chart of the report, with the report's own style, in its own fixed box of one page
    (and one empty box, the control), screenshot once: every chart's box has drawn pixels
    (text and bars, not the background), the empty box none. In the light and the dark scheme."""
    html = chart_runs["dedup", 2, "html"]
    style = re.search(r"<style>.*?</style>", html, re.S).group(0)
    figs = {m.group(1): m.group(0) for m in re.finditer(r'<figure class="chart" id="chart-([\w-]+)">.*?</figure>',
                                                        html, re.S)}
    assert set(figs) == set(CHARTS)
    w, h = 640, 420
    boxes = list(CHARTS) + ["empty"]
    cells = "".join(f'<div style="position:absolute;left:{(i % 2) * w}px;top:{(i // 2) * h}px;width:{w}px;'
                    f'height:{h}px;overflow:hidden">{figs.get(name, "")}</div>' for i, name in enumerate(boxes))
    page = tmp_path / "charts.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="color-scheme" '
                    f'content="light dark">{style}</head><body style="margin:0">{cells}</body></html>',
                    encoding="utf-8")
    shot = tmp_path / "charts.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={2 * w},{4 * h}"]
    if scheme == "dark":
        flags.append("--force-dark-mode")
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120, check=True)
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    bg = img.getpixel((w * 2 - 2, h * 4 - 2))  # the page's background, beside the last box
    assert (sum(bg) < 120) == (scheme == "dark"), bg  # the scheme was applied
    drawn = {name: _drawn_pixels(img, ((i % 2) * w, (i // 2) * h, (i % 2 + 1) * w, (i // 2 + 1) * h), bg)
             for i, name in enumerate(boxes)}
    assert drawn["empty"] == 0, drawn
    for name in CHARTS:
        assert drawn[name] > 2000, drawn  # bars and labels, not a stray line
    # and the bars themselves: pixels of each chart's bar colour in its box
    bars = {name: _colour_pixels(img, ((i % 2) * w, (i // 2) * h, (i % 2 + 1) * w, (i // 2 + 1) * h),
                                 BAR_COLOURS[name]) for i, name in enumerate(boxes) if name in BAR_COLOURS}
    assert all(n > 500 for n in bars.values()), bars


def test_no_duplicates_draws_no_cluster_chart():
    from corpuskit.pipeline.profile import summarize
    from corpuskit.pipeline.report import profile_sections

    stages = [{"stage": "dedup", "in": 3, "kept": 3, "rejected": 0, "reasons": {}}]
    html = "".join(profile_sections({"stages": stages, "profile": summarize(None, [], stages, {}, 3, {})}))
    assert "dedup found no duplicates" in html and "chart-clusters" not in html
    stages[0].update(kept=1, rejected=2, reasons={"exact_duplicate": 2})
    html = "".join(profile_sections({"stages": stages, "profile": summarize(None, [], stages, {}, 3, {"3": 1})}))
    assert 'id="chart-clusters"' in html and "1 cluster of 2 or more documents" in html
    assert "(2 documents removed as duplicates)" in html


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "中", " ", "\n", "\t", "b"]), max_size=3000), st.integers(1, 400))
def test_snippet_is_the_head_of_the_whole_text_made_flat(text, width):
    flat = " ".join(text.split())
    want = flat[:width] + ("…" if len(flat) > width else "")
    assert snippet({"text": text}, width) == want


def test_snippet_of_a_huge_text_splits_only_its_head():
    import tracemalloc

    text = ("word " * 2_000_000) + "end"  # 10 MB: split whole, millions of word objects
    tracemalloc.start()
    out = snippet({"text": text}, 300)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out == ("word " * 61)[:300] + "…"
    assert peak < 1_000_000
