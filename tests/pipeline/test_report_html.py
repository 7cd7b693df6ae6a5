import xml.etree.ElementTree as ET

import pytest

from corpuskit.pipeline.report_html import (
    bar_chart_svg,
    dual_histogram_svg,
    histogram_svg,
    human,
    page_html,
    section_html,
    share_bar_svg,
    table_html,
    waterfall_svg,
)

NS = "{http://www.w3.org/2000/svg}"


def _rects(svg):
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]


def test_histogram_bars_proportional_with_tooltips():
    svg = histogram_svg([10, 0, 5, 20], [0, 1, 2, 5, 10], title="tokens <per> doc")
    bars = _rects(svg)
    assert len(bars) == 4
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == 0 and heights[3] == pytest.approx(2 * heights[0]) == pytest.approx(4 * heights[2])
    assert bars[2].find(f"{NS}title").text == "2–5: 5"
    assert "tokens &lt;per&gt; doc" in svg  # escaped


def test_histogram_can_print_its_counts():
    def labels(svg):
        return [t.text for t in ET.fromstring(svg).iter(f"{NS}text") if t.get("class") == "xl"]

    assert labels(histogram_svg([3, 0, 1200], [2, 3, 4, 5], show_counts=True)) == \
        ["3", "1,200", "2", "3", "4", "5"]  # the counts of the bars that have one, then the x ticks
    assert labels(histogram_svg([3, 0, 1200], [2, 3, 4, 5])) == ["2", "3", "4", "5"]


def test_histogram_checks_edges():
    with pytest.raises(ValueError):
        histogram_svg([1, 2], [0, 1])


def test_bar_chart_and_share_bar():
    svg = bar_chart_svg(["en", "中文", "x" * 40], [300, 150, 0], value_fmt=lambda v: f"{v:.0f}")
    bars = _rects(svg)
    assert float(bars[0].get("width")) == pytest.approx(2 * float(bars[1].get("width")), rel=1e-2)
    assert "中文" in svg and "…" in svg  # long labels shortened, full text kept in the tooltip
    share = share_bar_svg([f"l{i}" for i in range(12)], [1] * 12, title="mix")
    parts = _rects(share)
    assert len(parts) == 9 and parts[-1].find(f"{NS}title").text.startswith("other")
    assert sum(float(p.get("width")) for p in parts) == pytest.approx(552, abs=0.5)


def test_empty_inputs_render():
    ET.fromstring(histogram_svg([], [0]))
    ET.fromstring(bar_chart_svg([], []))
    ET.fromstring(share_bar_svg([], []))


def test_page_is_self_contained():
    page = page_html("T & T", [section_html("S", table_html(["a", "b"], [["<x>", 1]]), note="n")])
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "&lt;x&gt;" in page and "T &amp; T" in page
    for bad in ("<script", "<link", "http://", "https://", "<img"):
        assert bad not in page


def test_human():
    assert [human(x) for x in (0, 5, 999, 1000, 1500, 20_000, 3_000_000, 0.5)] == \
        ["0", "5", "999", "1k", "1.5k", "20k", "3M", "0.5"]


def test_waterfall_bars_drops_and_gains():
    svg = waterfall_svg(["input", "normalize", "filter-short", "中文过滤"], [1000, 1100, 800, 800],
                        title="kept", value_fmt=lambda v: f"{v:,.0f}")
    root = ET.fromstring(svg)
    rects = [r for r in root.iter(f"{NS}rect")]
    kept = [r for r in rects if not r.get("class")]
    assert len(kept) == 4
    w = [float(r.get("width")) for r in kept]
    assert w[1] == pytest.approx(1.1 * w[0]) and w[2] == pytest.approx(0.8 * w[0]) and w[3] == w[2]
    drop = [r for r in rects if r.get("class") == "drop"]
    gain = [r for r in rects if r.get("class") == "gain"]
    assert len(drop) == 1 and len(gain) == 1  # an unchanged step draws no segment
    # the drop spans from what was kept to what the stage received
    assert float(drop[0].get("x")) == pytest.approx(float(kept[2].get("x")) + w[2], abs=0.1)
    assert float(drop[0].get("width")) == pytest.approx(w[1] - w[2], abs=0.1)
    text = "".join(root.itertext())
    assert "−300 (27.3%)" in text and "+100 (10.0%)" in text and "中文过滤" in text


def test_dual_histogram_trims_empty_ends_and_keeps_one_scale():
    a, b = [0, 0, 4, 8, 0, 0], [0, 0, 2, 0, 1, 0]
    svg = dual_histogram_svg(a, b, [0, 1, 2, 5, 10, 20, 50], names=("input", "output"))
    bars = _rects(svg)
    assert len(bars) == 6  # bins 2-5, 5-10, 10-20, two bars each
    h = [float(r.get("height")) for r in bars]
    assert h[0] == pytest.approx(2 * h[1]) and h[2] == pytest.approx(8 * h[5]) and h[3] == 0
    assert bars[0].find(f"{NS}title").text == "input, 2–5: 4"
    assert "input (12)" in svg and "output (3)" in svg
    last = dual_histogram_svg([0, 1], [0, 2], [0, 10, 100])
    assert "≥10: 2" in last  # the last bin holds everything longer
    with pytest.raises(ValueError):
        dual_histogram_svg([1], [1, 2], [0, 1])
    ET.fromstring(dual_histogram_svg([0, 0], [0, 0], [0, 1, 2]))
    ET.fromstring(waterfall_svg([], []))
