"""Reports, the one home of report rendering: the pipeline's clean/report.md and report.html
(self-contained: inline CSS and SVG, no script, no network) from stats.json and a few sample
rejected records per reason; and the corpus report of a statistics stage (tokenize-stats
`--report DIR`), which the stage hands over as plain statistics."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from corpuskit.core.errors import UsageError
from corpuskit.core.stage import SourceStage, Stage
from corpuskit.io.jsonl import create_temp
from corpuskit.pipeline.report_html import (
    PALETTE,
    bar_chart_svg,
    cards_html,
    dual_histogram_svg,
    esc,
    figure_html,
    histogram_svg,
    human,
    human_bytes,
    page_html,
    section_html,
    share_bar_svg,
    stats_report_html,
    stats_sections,
    table_html,
    waterfall_svg,
)
from corpuskit.registry import REGISTRY, get_stage_class


def _is_source(stage: str) -> bool:
    """A stage that makes records rather than filters them (fetch): not a step of the funnel."""
    return stage in REGISTRY and issubclass(get_stage_class(stage), SourceStage)


def _waterfalls(stats: dict) -> list[str]:
    """Documents and characters left after each stage, as waterfalls. A source stage (fetch)
    made part of the input: it is counted in the input row, not drawn as a step (its `kept` is
    the pages it read, fewer than the input, and would read as a drop)."""
    prof = stats.get("profile") or {}
    steps = [s for s in stats["stages"] if not _is_source(s["stage"])]
    labels = ["input"] + [s["stage"] for s in steps]
    if "in_docs" in prof:
        n_in = prof["in_docs"]
    else:  # a run whose units an older version wrote: no profile
        c = stats["conservation"]
        n_in = c["in"] - c["quarantined"] - sum(s["rejected"] for s in stats["stages"] if _is_source(s["stage"]))
    out = [figure_html("waterfall-docs", waterfall_svg(
        labels, [n_in] + [s["kept"] for s in steps], title="documents kept after each stage",
        axis_label="documents", value_fmt=_count))]
    if "stage_chars" in prof and len(prof["stage_chars"]) == len(steps):
        out.append(figure_html("waterfall-chars", waterfall_svg(
            labels, [prof["in_chars"]] + prof["stage_chars"], title="characters kept after each stage",
            axis_label="characters (not tokens)", value_fmt=human, color=PALETTE[8])))
    return out


def render_report_html(stats: dict, samples: dict[str, dict[str, list[dict]]] | None = None) -> str:
    c = stats["conservation"]
    inp = stats.get("input") or {}
    out = stats.get("output") or {}
    secs: list[str] = [section_html("Overview", cards_html([
        ("records in", f"{c['in']:,}"), ("kept", f"{c['kept']:,}"), ("rejected", f"{c['rejected']:,}"),
        ("quarantined (bad input lines)", f"{c['quarantined']:,}"),
        ("read", human_bytes(inp.get("bytes", 0))), ("kept", human_bytes(out.get("bytes", 0))),
        ("seconds", f"{stats.get('seconds', 0):,.1f}"), ("workers", str(stats.get("run", {}).get("workers", 1))),
    ]), note=("Every input record is accounted for: in = kept + rejected + quarantined."
              if c["ok"] else "The counts DO NOT add up: this is a bug, please report it."))]

    input_parts = []
    if inp.get("warc_skipped"):
        input_parts.append(table_html(["WARC record type (not a page)", "skipped"],
                                      [[k, f"{v:,}"] for k, v in inp["warc_skipped"].items()]))
    if inp.get("bad_files"):
        input_parts.append(table_html(["damaged input file", "reason", "read before the damage", "message"],
                                      [[b["file"], b["reason"], f"{b['records_read']:,}", b["message"]]
                                       for b in inp["bad_files"]]))
    if input_parts:
        secs.append(section_html("Input files", *input_parts,
                                 note="Every WARC record is a page (counted in) or skipped here by type; "
                                      "a damaged file's records before the damage were processed, the "
                                      "file is listed in quarantine/bad_files.jsonl."))

    stages = stats["stages"]
    rows = []
    for s in stages:
        pct = s["rejected"] / s["in"] if s["in"] else 0.0
        rows.append([s["stage"], f"{s['in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}", f"{pct:.1%}",
                     f"{s.get('seconds', 0):,.1f}"])
    rej_bytes = out.get("rejected_bytes") or {}
    byte_labels = [s["stage"] for s in stages if rej_bytes.get(s["stage"])]
    parts = [*_waterfalls(stats), table_html(["stage", "in", "kept", "rejected", "removed", "s"], rows)]
    if byte_labels:
        parts.append(bar_chart_svg(byte_labels, [rej_bytes[k] for k in byte_labels],
                                   title="bytes removed per stage", color=PALETTE[3],
                                   value_fmt=human_bytes))
    sources = [s for s in stages if _is_source(s["stage"])]
    prof = stats.get("profile") or {}
    note = ("What is left after each stage, in order, and what the stage removed (red: count and share "
            "of what it received) or added (green). The input row is the records that entered the first "
            "stage. Characters, not tokens (tokens are not counted per stage): the code points of the "
            "text field.")
    if prof.get("in_html"):
        note += (f" {prof['in_html']:,} input pages had no text yet and count their HTML characters "
                 "until extracted.")
    tok = next((s.get("extra", {}) for s in stages if s["stage"] == "tokenize-stats"), {})
    if tok.get("totals"):
        note += f" The output's tokens: {tok['totals']['tokens']:,} ({tok['tokenizer']}, tokenize-stats)."
    elif (stats.get("tokens") or {}).get("tokens") is not None:
        note += f" The output's tokens: {stats['tokens']['tokens']:,} (tokens/)."
    if sources:
        note += " " + "; ".join(f"{s['stage']} read {s['kept']:,} pages into the input ({s['rejected']:,} "
                                f"rejected)" for s in sources) + "."
    secs.append(section_html("Funnel", *parts, note=note))

    secs.extend(profile_sections(stats))

    reason_parts = []
    for i, s in enumerate(stages):
        if s["reasons"]:
            items = sorted(s["reasons"].items(), key=lambda kv: -kv[1])
            reason_parts.append(bar_chart_svg([k for k, _ in items], [v for _, v in items],
                                              title=f"{s['stage']}: removal reasons",
                                              color=PALETTE[(i + 1) % len(PALETTE)],
                                              value_fmt=lambda v: f"{int(v):,}", width=480))
    bad = inp.get("bad_records") or {}
    if bad:
        reason_parts.append(bar_chart_svg(list(bad), list(bad.values()), title="quarantined input lines",
                                          color=PALETTE[5], value_fmt=lambda v: f"{int(v):,}", width=480))
    if reason_parts:
        secs.append(section_html("Why records were removed", *reason_parts))

    dedup = next((s for s in stages if s["stage"] == "dedup"), None)
    clusters = (dedup or {}).get("extra", {}).get("top_clusters") if dedup else None
    if clusters:
        secs.append(section_html("Largest duplicate clusters", table_html(
            ["kept id", "cluster size", "example removed ids"],
            [[c_.get("kept", ""), f"{c_.get('size', 0):,}", ", ".join(map(str, c_.get("removed", [])[:3]))]
             for c_ in clusters[:20]]), note="From the dedup stage: each cluster keeps one record."))

    if samples:
        blocks = []
        for stage, by_reason in samples.items():
            for reason, recs in by_reason.items():
                items = "".join(_sample_html(r) for r in recs)
                blocks.append(f"<div class=\"samples\"><h3>{esc(stage)}: {esc(reason)}</h3><ul>{items}</ul></div>")
        secs.append(section_html("Sample rejected records", "".join(blocks),
                                 note="The first few records each reason removed (text cut to 300 characters)."))

    tok = next((s for s in stages if s["stage"] == "tokenize-stats"), None)
    if tok and tok.get("extra", {}).get("totals"):
        secs.extend(stats_sections(tok["extra"]))
    elif stats.get("lengths"):
        secs.append(section_html("Languages", share_bar_svg(list(stats["lengths"]), list(stats["lengths"].values()))))
    return page_html("corpuskit pipeline report", secs,
                     subtitle=f"{c['in']:,} records in · {c['kept']:,} kept · {stats.get('seconds', 0):,.1f} s")


def _count(v: float) -> str:
    return f"{int(v):,}"


def profile_sections(stats: dict) -> list[str]:
    """The corpus charts, from stats.json's `profile` (counted during the run: see
    corpuskit.pipeline.profile): lengths before and after, language mix, top reject reasons
    with an example each, duplicate cluster sizes (the waterfalls are in the funnel)."""
    prof = stats.get("profile") or {}
    secs: list[str] = []
    if "in_hist" in prof:
        secs.append(section_html(
            "Document lengths",
            figure_html("lengths", dual_histogram_svg(
                prof["in_hist"], prof["out_hist"], prof["length_edges"], names=("input", "output"),
                title="documents by length, before and after", x_label="characters (log bins 1-2-5)")),
            note=f"Input: the {prof['in_docs']:,} records that entered the first stage; output: the "
                 f"{prof['out_docs']:,} records kept. Bins are 0, 1, 2, 5, 10, 20, 50 ... characters, "
                 "each holding lengths from its edge up to the next."))
        langs = list(prof["lang_docs"].items())
        if langs:
            top = langs[:9] + ([("other", sum(v for _, v in langs[9:]))] if len(langs) > 9 else [])
            total = sum(v for _, v in langs) or 1
            secs.append(section_html(
                "Language mix",
                figure_html("languages", bar_chart_svg(
                    [k for k, _ in top], [v for _, v in top], title="documents kept per language",
                    value_fmt=lambda v: f"{int(v):,} ({v / total:.1%})", color=PALETTE[4])),
                note="Of the output, by meta.lang (set by filter-lang); und: records without it. The top 9, "
                     "then other." + (" Without filter-lang, tokenize-stats names records by their script."
                                      if "filter-lang" not in prof.get("stage_names", []) else "")))
    reasons = prof.get("top_reasons") or []
    if reasons:
        n_in = prof.get("records_in") or 1
        rows = []
        for r in reasons:
            ex = r.get("example") or {}
            cell = (f"<code>{esc(ex.get('id', ''))}</code> {esc(ex.get('detail', ''))}"
                    f"<div class=\"sample\">{esc(ex.get('text', ''))}</div>") if ex else ""
            rows.append(f"<tr><td>{esc(r['stage'])}</td><td>{esc(r['reason'])}</td>"
                        f"<td class=\"n\">{r['count']:,}</td><td class=\"n\">{r['count'] / n_in:.1%}</td>"
                        f"<td class=\"ex\">{cell}</td></tr>")
        more = prof.get("reasons_total", len(reasons)) - len(reasons)
        secs.append(section_html(
            "Top reject reasons",
            figure_html("reasons", "<table><thead><tr><th>stage</th><th>reason</th><th>records</th>"
                        "<th>share of input</th><th>first example</th></tr></thead><tbody>"
                        + "".join(rows) + "</tbody></table>"),
            note="Most frequent first; the share is of all records in. The example is the first record "
                 "the reason removed in input order (text cut to 200 characters)."
                 + (f" {more} rarer reasons are in stats.json." if more > 0 else "")))
    if "cluster_hist" in prof:
        hist, edges = prof["cluster_hist"], prof["cluster_edges"]
        last = max((i for i, v in enumerate(hist) if v), default=0)
        n_clusters = sum(hist)
        dups = sum(s["rejected"] for s in stats["stages"] if s["stage"] == "dedup")
        if not n_clusters:
            secs.append(section_html("Duplicate cluster sizes", note="dedup found no duplicates."))
            return secs
        secs.append(section_html(
            "Duplicate cluster sizes",
            figure_html("clusters", histogram_svg(hist[:last + 1], edges[:last + 2], title="clusters by size",
                                                  x_label="documents in the cluster (bins 2, 3, 4, 5-9, 10-19 ...)",
                                                  y_label="clusters", color=PALETTE[6], show_counts=True)),
            note=f"From dedup: {n_clusters:,} cluster{'s' if n_clusters != 1 else ''} of 2 or more "
                 "documents; each keeps one "
                 f"({dups:,} documents removed as duplicates). Unique documents (size 1) are not shown."))
    return secs


def _sample_html(r: dict) -> str:
    head = f"<code>{esc(r.get('id', ''))}</code> {esc(r.get('detail', ''))}"
    if "kept_snippet" in r:  # a duplicate: the removed document beside the one kept
        sim = r.get("similarity")
        return (f"<li>{head}<div class=\"pair\"><div><b>removed</b> <code>{esc(r.get('id', ''))}</code>"
                f"<div class=\"sample\">{esc(r['snippet'])}</div></div><div><b>kept</b> "
                f"<code>{esc(r['kept_id'])}</code>"
                + (f" · similarity {sim:.2f}" if isinstance(sim, (int, float)) else "")
                + f"<div class=\"sample\">{esc(r['kept_snippet'])}</div></div></div></li>")
    return f"<li>{head}<div class=\"sample\">{esc(r.get('snippet', ''))}</div></li>"


def snippet(record: dict, width: int = 300) -> str:
    """The first `width` characters of the record's text with white space runs made one space,
    and "…" when there is more. Only a head of the text is split, grown until it gives more
    than `width` characters (a 50 MB text is not split into millions of words for 300)."""
    text = record.get("text") if isinstance(record.get("text"), str) else record.get("html", "")
    text = str(text or "")
    end = 4 * width + 64
    while True:
        flat = " ".join(text[:end].split())
        if len(flat) > width or end >= len(text):
            return flat[:width] + ("…" if len(flat) > width else "")
        end *= 2


def sample_rejected(record: dict, width: int = 300) -> dict[str, Any]:
    """The part of a rejected record the report shows; for a duplicate also the id of the
    document kept in its place and their similarity (the kept text is added by the run)."""
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    rj = meta.get("rejected", {})
    out = {"id": record.get("id", ""), "detail": rj.get("detail", ""), "snippet": snippet(record, width)}
    dd = meta.get("dedup")
    if rj.get("stage") == "dedup" and isinstance(dd, dict) and dd.get("cluster") is not None:
        out["kept_id"] = dd["cluster"]
        out["similarity"] = dd.get("similarity", 1.0 if rj.get("reason") == "exact_duplicate" else None)
    return out


def add_kept_snippets(samples: dict[str, dict[str, list[dict]]], kept: dict[str, str]) -> None:
    """Put beside each duplicate sample the text of the document kept in its place."""
    for by_reason in samples.values():
        for recs in by_reason.values():
            for r in recs:
                if "kept_id" in r and str(r["kept_id"]) in kept:
                    r["kept_snippet"] = kept[str(r["kept_id"])]


def render_report_md(stats: dict) -> str:
    c = stats["conservation"]
    lines = ["# corpuskit pipeline report", "",
             f"records in {c['in']:,} = kept {c['kept']:,} + rejected {c['rejected']:,} "
             f"+ quarantined {c['quarantined']:,} ({'adds up' if c['ok'] else 'DOES NOT ADD UP'})", "",
             "| stage | in | kept | rejected | reasons |", "| --- | ---: | ---: | ---: | --- |"]
    for st in stats["stages"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(st["reasons"].items(), key=lambda kv: -kv[1]))
        lines.append(f"| {st['stage']} | {st['in']:,} | {st['kept']:,} | {st['rejected']:,} | {reasons or '-'} |")
    bad = (stats.get("input") or {}).get("bad_records") or {}
    if bad:
        lines += ["", "Quarantined input lines (quarantine/bad_records.jsonl): "
                  + ", ".join(f"{k} {v:,}" for k, v in bad.items())]
    inp = stats.get("input") or {}
    if inp.get("warc_skipped"):
        lines += ["", "WARC records that are not pages (skipped, not counted as records in): "
                  + ", ".join(f"{k} {v:,}" for k, v in inp["warc_skipped"].items())]
    for b in inp.get("bad_files") or []:
        lines += ["", f"Damaged input {b['file']} ({b['reason']}): {b['message']}; "
                  f"{b['records_read']:,} WARC records or pages read before it "
                  "(listed in quarantine/bad_files.jsonl)"]
    for folder in inp.get("excluded_output") or []:
        lines += ["", f"The output folder {folder} is inside the input: it was not read as input."]
    run = stats.get("run", {})
    lines += ["", f"Output: {len(stats['output'].get('shards', []))} shard(s) in data/, "
              f"{stats['seconds']:.1f} s, {run.get('workers', 1)} worker(s), {run.get('units', 0)} unit(s)"
              + (f" ({run['resumed_units']} reused from an interrupted run)" if run.get("resumed_units") else "")
              + "."]
    return "\n".join(lines) + "\n"


def write_stage_reports(stages: list[Stage]) -> None:
    """After a chain ends: each stage that was asked for a report (`report = DIR`, e.g.
    tokenize-stats) gets stats.json and report.html written from its `result()`."""
    for stage in stages:
        directory = getattr(stage, "report", "")
        if directory and hasattr(stage, "result"):
            try:
                write_report(directory, stage.result())
            except OSError as e:
                raise UsageError(f"--report {directory}: cannot write ({e.strerror or e})") from e


def write_report(directory: str, res: dict) -> None:
    """Write stats.json and report.html into `directory` (atomically, each by temp + rename)."""
    os.makedirs(directory, exist_ok=True)
    for name, data in (("stats.json", json.dumps(res, ensure_ascii=False, indent=1) + "\n"),
                       ("report.html", stats_report_html(res))):
        target = os.path.realpath(os.path.join(directory, name))  # a symlink's target: the link stays
        fd, tmp = create_temp(Path(target))  # 0666 less the umask, or the replaced file's mode
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
