"""The pipeline's HTML report: self-contained, and it renders in a real headless browser."""
import os
import re
import shutil
import subprocess

import orjson
import pytest

from corpuskit.pipeline import PipelineConfig, run_pipeline

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
    funnel = html[html.index("records left after each stage"):html.index("</svg>", html.index("records left"))]
    assert ">input<" in funnel and ">html2text<" in funnel and ">fetch<" not in funnel
    assert "fetch read 2 pages into the input" in html
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
