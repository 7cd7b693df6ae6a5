"""Self-contained HTML reports: inline CSS and SVG charts, no script, no network, no fonts to
fetch. The chart helpers return SVG strings so any report (tokenize-stats, the pipeline's run
report) can put them together with :func:`page_html`.

    html = page_html("My run", [section_html("Lengths", histogram_svg(counts, edges))])
"""
from __future__ import annotations

import html as _html
from collections.abc import Callable, Sequence
from typing import Any

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2",
           "#FF9DA6", "#9D755D", "#BAB0AC")
# The fonts Chinese text is drawn with, in order (no font is embedded: the report stays small
# and offline): Noto Sans CJK SC (Linux: the fonts-noto-cjk package), PingFang SC (macOS),
# Microsoft YaHei (Windows). Without any of them a browser may draw boxes; the footer says so.
CJK_FONTS = ("Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei")
_FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', "
         + ", ".join(f"'{f}'" for f in CJK_FONTS) + ", sans-serif")


def esc(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def human(n: float) -> str:
    """1234 -> '1.2k', 5_000_000 -> '5M' (axis labels)."""
    n = float(n)
    for div, suf in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            v = n / div
            return f"{v:.0f}{suf}" if v >= 10 or v == int(v) else f"{v:.1f}{suf}"
    return f"{n:.0f}" if n == int(n) else f"{n:.2g}"


def human_bytes(n: float) -> str:
    """Bytes in the unit that shows them: 0 B, 812 B, 3.4 KB, 12.0 MB, 1.50 GB (decimal units)."""
    n = float(n)
    if n < 1e3:
        return f"{n:,.0f} B"
    for div, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if n >= div:
            return f"{n / div:,.2f} {unit}" if unit == "GB" else f"{n / div:,.1f} {unit}"
    return f"{n:,.0f} B"  # pragma: no cover


def token_label(token: str) -> str:
    """A token as the report shows it: quoted, white space spelled (\\n, \\t), and the \\xNN
    of a byte that is not a whole character shown once (a repr would double its backslash)."""
    return "'" + token.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'"


def _nice_max(v: float, counts: bool = True) -> float:
    """The top of an axis of 5 ticks: 1, 2, 2.5 or 5 x a power of ten; at least 5 for counts
    (whole-number ticks)."""
    if counts and v <= 5:
        return 5.0
    if v <= 0:
        return 1.0
    mag = 10 ** len(str(int(v))) / 10
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= v:
            return m * mag
    return 10 * mag  # pragma: no cover


def histogram_svg(counts: Sequence[int], edges: Sequence[float], *, title: str = "",
                  x_label: str = "", y_label: str = "documents", width: int = 560,
                  height: int = 240, color: str = PALETTE[0], show_counts: bool = False) -> str:
    """Vertical bars, one per bin [edges[i], edges[i+1]), drawn at equal width (so log-spaced
    bins read as a log axis). Each bar has a tooltip with its range and count; `show_counts`
    also prints the count above each bar that has one."""
    counts = list(counts)
    if len(edges) != len(counts) + 1:
        raise ValueError("histogram_svg: need len(edges) == len(counts) + 1")
    ml, mr, mt, mb = 52, 18, 28 if title else 10, 46
    pw, ph = width - ml - mr, height - mt - mb
    top = _nice_max(max(counts, default=0))
    n = max(1, len(counts))
    bw = pw / n
    out = [_svg_open(width, height, title)]
    if title:
        out.append(f'<text x="{ml}" y="18" class="t">{esc(title)}</text>')
    for k in range(6):  # horizontal grid and y ticks
        y = mt + ph - ph * k / 5
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(f'<text x="{ml - 4}" y="{y + 4:.1f}" class="yl">{esc(human(top * k / 5))}</text>')
    for i, c in enumerate(counts):
        h = ph * c / top
        x = ml + i * bw
        lo, hi = edges[i], edges[i + 1]
        rng = f"{human(lo)}" if hi - lo <= 1 else f"{human(lo)}–{human(hi)}"
        out.append(f'<rect x="{x + 1:.1f}" y="{mt + ph - h:.1f}" width="{max(bw - 2, 1):.1f}" '
                   f'height="{h:.1f}" fill="{color}"><title>{esc(rng)}: {c:,}</title></rect>')
        if show_counts and c:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{mt + ph - h - 3:.1f}" class="xl">{c:,}</text>')
    step = max(1, (n + 11) // 12)  # at most ~12 x labels
    for i in range(0, len(edges), step):
        x = ml + i * bw
        out.append(f'<text x="{x:.1f}" y="{mt + ph + 14}" class="xl">{esc(human(edges[i]))}</text>')
    if x_label:
        out.append(f'<text x="{ml + pw / 2:.1f}" y="{height - 6}" class="al">{esc(x_label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{mt + ph / 2:.1f}" class="al" '
                   f'transform="rotate(-90 12 {mt + ph / 2:.1f})">{esc(y_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart_svg(labels: Sequence[str], values: Sequence[float], *, title: str = "",
                  value_fmt: Callable[[float], str] = human, width: int = 560, bar_h: int = 20,
                  color: str | Sequence[str] = PALETTE[0], max_bars: int = 25,
                  label_width: int = 150) -> str:
    """Horizontal bars, largest first as given, with the value printed after each bar."""
    labels, values = list(labels)[:max_bars], list(values)[:max_bars]
    mt = 28 if title else 6
    height = mt + bar_h * max(1, len(values)) + 8
    pw = width - label_width - 80
    top = max(values, default=0) or 1
    out = [_svg_open(width, height, title)]
    if title:
        out.append(f'<text x="4" y="18" class="t">{esc(title)}</text>')
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = mt + i * bar_h
        w = pw * v / top
        c = color if isinstance(color, str) else color[i % len(color)]
        short = lab if len(lab) <= 24 else lab[:23] + "…"
        out.append(f'<text x="{label_width - 6}" y="{y + bar_h * 0.7:.1f}" class="bl">{esc(short)}</text>')
        out.append(f'<rect x="{label_width}" y="{y + 2}" width="{max(w, 1):.1f}" height="{bar_h - 4}" '
                   f'fill="{c}"><title>{esc(lab)}: {esc(value_fmt(v))}</title></rect>')
        out.append(f'<text x="{label_width + w + 4:.1f}" y="{y + bar_h * 0.7:.1f}" class="bv">'
                   f'{esc(value_fmt(v))}</text>')
    out.append("</svg>")
    return "".join(out)


def waterfall_svg(labels: Sequence[str], values: Sequence[float], *, title: str = "",
                  axis_label: str = "", value_fmt: Callable[[float], str] = human, width: int = 600,
                  bar_h: int = 22, color: str = PALETTE[0], label_width: int = 120) -> str:
    """What is left after each step, one row a step (the first row the input): the bar is what
    is kept, the segment beside it what the step removed (red) or added (green), labelled
    with the amount and its share of what the step received."""
    labels, values = list(labels), list(values)
    mt = 28 if title else 6
    rows = max(1, len(values))
    height = mt + bar_h * rows + 34
    text_w = 190
    pw = width - label_width - text_w - 8
    top = _nice_max(max(values, default=0))
    x0 = label_width
    out = [_svg_open(width, height, title)]
    if title:
        out.append(f'<text x="4" y="18" class="t">{esc(title)}</text>')
    for k in range(6):  # vertical grid, x ticks
        x = x0 + pw * k / 5
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + bar_h * rows}" class="g"/>')
        out.append(f'<text x="{x:.1f}" y="{mt + bar_h * rows + 13}" class="xl">{esc(human(top * k / 5))}</text>')
    if axis_label:
        out.append(f'<text x="{x0 + pw / 2:.1f}" y="{height - 4}" class="al">{esc(axis_label)}</text>')
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = mt + i * bar_h
        w = pw * v / top
        short = lab if len(lab) <= 18 else lab[:17] + "…"
        out.append(f'<text x="{x0 - 6}" y="{y + bar_h * 0.7:.1f}" class="bl">{esc(short)}</text>')
        out.append(f'<rect x="{x0}" y="{y + 3}" width="{max(w, 1):.1f}" height="{bar_h - 6}" fill="{color}">'
                   f'<title>{esc(lab)}: {esc(value_fmt(v))} kept</title></rect>')
        note = esc(value_fmt(v))
        if i:
            prev = values[i - 1]
            d = prev - v
            if d:
                lo, hi = sorted((v, prev))
                cls, sign = ("drop", "−") if d > 0 else ("gain", "+")
                share = f" ({abs(d) / prev:.1%})" if prev else ""
                out.append(f'<rect x="{x0 + pw * lo / top:.1f}" y="{y + 3}" width="{max(pw * (hi - lo) / top, 1):.1f}" '
                           f'height="{bar_h - 6}" class="{cls}"><title>{esc(lab)}: {sign}{esc(value_fmt(abs(d)))}'
                           f'{share}</title></rect>')
                note += f' <tspan class="{cls}t">{sign}{esc(value_fmt(abs(d)))}{share}</tspan>'
        out.append(f'<text x="{x0 + pw + 6}" y="{y + bar_h * 0.7:.1f}" class="bv">{note}</text>')
    out.append("</svg>")
    return "".join(out)


def dual_histogram_svg(a: Sequence[int], b: Sequence[int], edges: Sequence[float], *,
                       names: tuple[str, str] = ("before", "after"), title: str = "", x_label: str = "",
                       y_label: str = "documents", width: int = 600, height: int = 260,
                       colors: tuple[str, str] = (PALETTE[7], PALETTE[0])) -> str:
    """Two histograms on the same bins (log-spaced: drawn at equal width, so the axis reads as a
    log axis), side by side in each bin, on one y scale; bins empty in both are trimmed from
    the ends. The last bin also holds everything above it."""
    a, b = list(a), list(b)
    if not (len(a) == len(b) == len(edges) - 1):
        raise ValueError("dual_histogram_svg: need len(a) == len(b) == len(edges) - 1")
    n_bins = len(a)
    used = [i for i in range(len(a)) if a[i] or b[i]]
    lo, hi = (used[0], used[-1] + 1) if used else (0, min(1, len(a)))
    a, b, edges = a[lo:hi], b[lo:hi], list(edges)[lo:hi + 1]
    ml, mr, mt, mb = 52, 18, 46 if title else 28, 46
    pw, ph = width - ml - mr, height - mt - mb
    top = _nice_max(max(a + b, default=0))
    n = max(1, len(a))
    bw = pw / n
    out = [_svg_open(width, height, title)]
    if title:
        out.append(f'<text x="{ml}" y="18" class="t">{esc(title)}</text>')
    ly = mt - 12
    for j, (nm, c) in enumerate(zip(names, colors, strict=True)):
        lx = ml + j * 160
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{c}"/>')
        out.append(f'<text x="{lx + 14}" y="{ly}" class="lg">{esc(nm)} ({sum((a, b)[j]):,})</text>')
    for k in range(6):
        y = mt + ph - ph * k / 5
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(f'<text x="{ml - 4}" y="{y + 4:.1f}" class="yl">{esc(human(top * k / 5))}</text>')
    last = len(a) - 1
    open_last = hi == n_bins  # the last bin drawn is the one that holds everything above
    for i in range(len(a)):
        rng = f"{human(edges[i])}" if edges[i + 1] - edges[i] <= 1 else f"{human(edges[i])}–{human(edges[i + 1])}"
        if i == last and open_last:
            rng = f"≥{human(edges[i])}"
        for j, (c, vals) in enumerate(((colors[0], a), (colors[1], b))):
            h = ph * vals[i] / top
            x = ml + i * bw + 1 + j * (bw - 2) / 2
            out.append(f'<rect x="{x:.1f}" y="{mt + ph - h:.1f}" width="{max((bw - 2) / 2, 1):.1f}" '
                       f'height="{h:.1f}" fill="{c}"><title>{esc(names[j])}, {esc(rng)}: {vals[i]:,}</title></rect>')
    step = max(1, (n + 11) // 12)
    for i in range(0, len(edges), step):
        out.append(f'<text x="{ml + i * bw:.1f}" y="{mt + ph + 14}" class="xl">{esc(human(edges[i]))}</text>')
    if x_label:
        out.append(f'<text x="{ml + pw / 2:.1f}" y="{height - 6}" class="al">{esc(x_label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{mt + ph / 2:.1f}" class="al" '
                   f'transform="rotate(-90 12 {mt + ph / 2:.1f})">{esc(y_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def figure_html(name: str, svg: str) -> str:
    """A chart in the report, named (id="chart-NAME") so that a test or a reader can find it."""
    return f'<figure class="chart" id="chart-{esc(name)}">{svg}</figure>'


def share_bar_svg(labels: Sequence[str], values: Sequence[float], *, title: str = "",
                  width: int = 560, max_parts: int = 9) -> str:
    """One 100% stacked bar with a legend (a mix: languages, sources, reasons)."""
    pairs = list(zip(labels, values, strict=True))
    if len(pairs) > max_parts:
        rest = sum(v for _, v in pairs[max_parts - 1:])
        pairs = pairs[:max_parts - 1] + [("other", rest)]
    total = sum(v for _, v in pairs) or 1
    mt = 28 if title else 6
    legend_rows = (len(pairs) + 2) // 3
    height = mt + 30 + 18 * legend_rows + 6
    out = [_svg_open(width, height, title)]
    if title:
        out.append(f'<text x="4" y="18" class="t">{esc(title)}</text>')
    x = 4.0
    pw = width - 8
    for i, (lab, v) in enumerate(pairs):
        w = pw * v / total
        out.append(f'<rect x="{x:.1f}" y="{mt}" width="{w:.1f}" height="22" fill="{PALETTE[i % len(PALETTE)]}">'
                   f'<title>{esc(lab)}: {v / total:.1%}</title></rect>')
        x += w
    for i, (lab, v) in enumerate(pairs):
        lx = 4 + (i % 3) * (pw / 3)
        ly = mt + 30 + 18 * (i // 3)
        out.append(f'<rect x="{lx:.1f}" y="{ly}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 14:.1f}" y="{ly + 9}" class="lg">{esc(lab)} {v / total:.1%}</text>')
    out.append("</svg>")
    return "".join(out)


def _svg_open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title or "chart")}">')


def table_html(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric_from: int = 1) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if j >= numeric_from else ""}">{esc(v)}</td>'
                         for j, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section_html(title: str, *parts: str, note: str = "") -> str:
    n = f'<p class="note">{esc(note)}</p>' if note else ""
    return f"<section><h2>{esc(title)}</h2>{n}<div class=\"grid\">{''.join(parts)}</div></section>"


def cards_html(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
        for k, v in items) + "</div>"


CSS = f"""
body{{font-family:{_FONT};margin:0;background:#fafafa;color:#222}}
header{{background:#1f2937;color:#fff;padding:18px 28px}}
header h1{{margin:0;font-size:22px}} header p{{margin:4px 0 0;color:#cbd5e1;font-size:13px}}
main{{padding:8px 28px 40px;max-width:1240px}}
section{{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:18px 0;padding:8px 18px 16px}}
h2{{font-size:17px;margin:10px 0}} .note{{color:#555;font-size:13px;margin:0 0 8px}}
.grid{{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}}
.cards{{display:flex;flex-wrap:wrap;gap:12px}}
.card{{border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px;min-width:120px;background:#f9fafb}}
.card .v{{font-size:20px;font-weight:600}} .card .k{{font-size:12px;color:#555}}
table{{border-collapse:collapse;font-size:13px}}
.samples{{min-width:320px;max-width:580px}} .samples h3{{font-size:14px;margin:6px 0}}
.samples ul{{margin:0;padding-left:18px;font-size:12px}}
.pair{{display:grid;grid-template-columns:1fr 1fr;gap:8px}}
.sample{{color:#444;background:#f3f4f6;border-radius:4px;padding:4px 6px;margin:2px 0 8px;white-space:pre-wrap}}
th,td{{border-bottom:1px solid #e5e7eb;padding:3px 10px;text-align:left;white-space:pre}}
td.n{{text-align:right;font-variant-numeric:tabular-nums}} th{{background:#f3f4f6}}
svg text{{font-family:{_FONT};fill:#333}}
svg .t{{font-size:13px;font-weight:600}} svg .g{{stroke:#e5e7eb}}
svg .yl{{font-size:10px;text-anchor:end}} svg .xl{{font-size:10px;text-anchor:middle}}
svg .al{{font-size:11px;text-anchor:middle;fill:#555}}
svg .bl{{font-size:11px;text-anchor:end}} svg .bv{{font-size:11px}} svg .lg{{font-size:11px}}
figure.chart{{margin:0}} svg .drop{{fill:#E45756;opacity:.6}} svg .gain{{fill:#54A24B;opacity:.6}}
svg .dropt{{fill:#B91C1C}} svg .gaint{{fill:#15803D}}
td.ex{{white-space:normal;max-width:560px;font-size:12px}} td.ex code{{font-size:11px}}
@media (prefers-color-scheme: dark){{
body{{background:#111827;color:#e5e7eb}} header{{background:#030712}}
section{{background:#1f2937;border-color:#374151}} .note{{color:#9ca3af}}
.card{{background:#111827;border-color:#374151}} .card .k{{color:#9ca3af}}
th{{background:#374151}} th,td{{border-color:#374151}}
.sample{{background:#111827;color:#d1d5db}}
svg text{{fill:#e5e7eb}} svg .g{{stroke:#374151}} svg .al{{fill:#9ca3af}}
svg .dropt{{fill:#F87171}} svg .gaint{{fill:#86EFAC}}
}}
"""


def page_html(title: str, sections: Sequence[str], subtitle: str = "") -> str:
    sub = f"<p>{esc(subtitle)}</p>" if subtitle else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="color-scheme" content="light dark">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body><header><h1>{esc(title)}</h1>{sub}</header><main>{''.join(sections)}</main>"
            f"<footer class=\"note\">Chinese text is drawn with {', '.join(CJK_FONTS)} (the first "
            f"installed; on Linux: the fonts-noto-cjk package).</footer></body></html>\n")


# ------------------------------------------------------------------ tokenize-stats report
def _pct(x: float) -> str:
    return f"{x:.1%}"


def stats_report_html(res: dict) -> str:
    """The tokenize-stats report from its `result()` dict."""
    t = res["totals"]
    return page_html("corpuskit tokenize-stats", stats_sections(res),
                     subtitle=f"tokenizer {res['tokenizer']} · {t['docs']:,} documents · "
                              f"{t['tokens']:,} tokens")


def stats_sections(res: dict) -> list[str]:
    """The sections of the tokenize-stats report (the pipeline's run report embeds them)."""
    t, v = res["totals"], res["vocabulary"]
    secs = [section_html("Corpus overview", cards_html([
        ("documents", f"{t['docs']:,}"), (f"tokens ({res['tokenizer']})", f"{t['tokens']:,}"),
        ("characters", f"{t['chars']:,}"), ("words", f"{t['words']:,}"), ("lines", f"{t['lines']:,}"),
        ("chars / token", f"{t['chars_per_token']:.3f}"), ("tokens / word", f"{t['tokens_per_word']:.3f}"),
        ("token types used", f"{v['token_types']:,}"),
        ("word types", "not kept" if v["word_types"] is None else f"{v['word_types']:,}"),
    ]), note=(f"{t['empty_docs']:,} empty documents. " if t["empty_docs"] else "")
        + (f"{t['approx_token_docs']:,} documents counted approximately (huge white-space runs)."
           if t["approx_token_docs"] else ""))]
    hists = []
    for i, (f, h) in enumerate(res["histograms"].items()):
        if len(h["counts"]):
            hists.append(histogram_svg(h["counts"], h["edges"], title=f"{f} per document",
                                       x_label=f"{f} (log bins)", color=PALETTE[i % len(PALETTE)]))
    lrows = [[f, f"{s['mean']:,.1f}", *(f"{s['percentiles'][p]:,}" for p in s["percentiles"]),
              f"{s['min']:,}", f"{s['max']:,}"] for f, s in res["lengths"].items()]
    pcols = list(next(iter(res["lengths"].values()))["percentiles"]) if res["lengths"] else []
    secs.append(section_html("Document lengths", *hists,
                             table_html(["figure", "mean", *pcols, "min", "max"], lrows),
                             note="Exact nearest-rank percentiles; bins 1-2-5 per decade."))
    langs = res["languages"]
    if langs:
        names = [r["lang"] for r in langs]
        secs.append(section_html(
            "Languages", share_bar_svg(names, [r["docs"] for r in langs], title="language mix (documents)"),
            share_bar_svg(names, [r["tokens"] for r in langs], title="language mix (tokens)"),
            bar_chart_svg(names, [r["tokens"] for r in langs], title="tokens per language"),
            bar_chart_svg(names, [r["chars_per_token"] for r in langs], title="characters per token",
                          value_fmt=lambda x: f"{x:.2f}", color=PALETTE[1]),
            table_html(["lang", "docs", "tokens", "chars", "words", "token share", "tokens/char",
                        "chars/token", "bytes/token", "tokens/word"],
                       [[r["lang"], f"{r['docs']:,}", f"{r['tokens']:,}", f"{r['chars']:,}", f"{r['words']:,}",
                         _pct(r["token_share"]), f"{r['tokens_per_char']:.3f}", f"{r['chars_per_token']:.3f}",
                         f"{r['bytes_per_token']:.3f}", f"{r['tokens_per_word']:.3f}"] for r in langs]),
            note="Language from meta.lang; where a record has none, its script: und-Latn, und-Hani "
                 "(Chinese characters), und-Jpan, und-Hang, or und."))
    if res["top_tokens"] or res["top_words"]:
        parts = []
        if res["top_tokens"]:
            parts.append(table_html(["token", "id", "count", "share"], [
                [token_label(r["token"]), "" if r["id"] is None else r["id"], f"{r['count']:,}", _pct(r["share"])]
                for r in res["top_tokens"]]))
        if res["top_words"]:
            parts.append(table_html(["word", "count", "share"], [
                [r["word"], f"{r['count']:,}", _pct(r["share"])] for r in res["top_words"]]))
        secs.append(section_html("Top tokens and words", *parts, note=(
            f"Token type/token ratio {v['token_type_token_ratio']:.6f}"
            + (f"; {v['token_types']:,} of {v['vocab_size']:,} vocabulary entries used"
               if v["vocab_size"] else "")
            + (f". Word type/token ratio {v['word_type_token_ratio']:.6f} (case-folded)."
               if v["word_types"] is not None else "."))))
    if res["sources"]:
        src = res["sources"]
        secs.append(section_html(
            "Sources", bar_chart_svg([r["source"] for r in src], [r["docs"] for r in src],
                                     title="documents per source", color=PALETTE[2]),
            note=f"{res['source_count']:,} distinct sources (meta.source, else the URL host)."))
    rej = res["rejected"]
    if rej["docs"]:
        secs.append(section_html(
            "Rejected records", bar_chart_svg([r["reason"] for r in rej["reasons"]],
                                              [r["docs"] for r in rej["reasons"]],
                                              title="records per stage:reason", color=PALETTE[3]),
            note=f"{rej['docs']:,} records carry meta.rejected."))
    return secs
