"""Hostile inputs: peak memory of every stage on one huge record, and the worst html2text time
over pages built to be expensive. Exits 1 when a bound is exceeded.

* Memory: each stage runs as `python -m corpuskit STAGE big.jsonl -o ... --rejected ...` in its
  own process, on a file holding ONE record of --mb megabytes (mixed English and Chinese
  paragraphs; html2text gets it wrapped in a page; filter-unsafe also gets "x" * N, where every
  position starts an overlapping candidate). Every stage with what a user gives it: decontaminate
  an evaluation set, filter-model and filter-perplexity the tests' small real models (a fastText
  classifier trained on the spot, an ARPA bigram model), tokenize cl100k_base and (row
  `tokenize-json`) a byte-level BPE tokenizer.json trained on the spot, mix one source. Peak RSS
  comes from wait4() (ru_maxrss) in a small launcher process (see _LAUNCHER); the same command on a one-line record gives the process's
  own baseline (interpreter, models, tables).
  Bound: peak - baseline <= 3 x the record's size in bytes.
  html2text also runs on pages it accepts (about 18 M characters, under its 20 M bound): an
  ordinary page of paragraphs, a JSON-LD block of millions of small objects and millions of
  two-letter words (built to make a parse or a split hold far more than the page).
  Bound: peak - baseline <= 20 x the record (libxml2's tree, lxml's proxies and the walk's stats
  hold many times the page: about 15 x for the ordinary one).
  The row `pipeline` is the whole default pipeline, `corpuskit pipeline DIR OUT -j 1`, on a folder
  holding only that file (its baseline: the same command on a folder of the one-line record); with
  one worker the map and the reduce run in the one process measured.
* Time: html2text (default options) on pages with 64k and 200k attributes on one element, 1,000
  elements of 900 attributes, 100k nested elements, 1M elements, 500k inline elements, ~19 MB
  of text (under the 20 MB --max-chars), a 19 MB class attribute of c's, 200,000 text boxes
  or drawings (read again when the page has little else), and 64k attributes written to slip
  past a reading of
  tags looser than the parser's (after `a=""`, names of no-break spaces, after a script's
  `<!--<script>` escape), and pages built to make a scan of the markup read them again and again
  (many comments, end tags of unopened elements, '<' in a tag's name, long fake tags).
  Bound: every page within --max-page-seconds.

    python benchmarks/bench_hostile.py [--mb 50] [--max-page-seconds 10] [--stages a,b] [--name hostile]

Writes benchmarks/results/NAME.json (hostile.json; with the git commit measured).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import git_state, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["html2text", "normalize", "filter-lang", "filter-ads", "filter-short", "filter-quality",
          "filter-unsafe", "dedup", "dedup-lines", "redact-pii", "decontaminate", "filter-model",
          "filter-perplexity", "tokenize-stats", "tokenize", "tokenize-json", "mix", "cat", "pipeline"]
MEMORY_FACTOR = 3.0
# html2text on pages it accepts (within --max-html-chars): libxml2's tree, lxml's proxies and the
# walk's stats hold many times the page (an ordinary page of 50,000 paragraphs about 9.6 times its
# UTF-8 bytes), so its bound is its own: no built page above an ordinary one, with headroom
PAGE_MEMORY_FACTOR = 12.0
PAGE_CHARS = 18_000_000

EN = ["The committee met on Tuesday to review the budget for the coming year.",
      "Researchers found that the new method reduced errors by a third in field tests.",
      "Visitors can reach the museum by bus, and entry is free on the first Sunday.",
      "She said the results were encouraging but that more work was needed."]
ZH = ["委员会周二开会审议了来年的预算。", "研究人员发现，新方法在实地测试中将错误减少了三分之一。",
      "游客可以乘公交车前往博物馆，每月第一个星期日免费入场。", "她说结果令人鼓舞，但还需要更多的工作。"]


def _paragraphs(n_bytes: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """About n_bytes (UTF-8) of paragraphs of English and Chinese sentences, one at a time."""
    rnd = random.Random(seed)
    size = 0
    while size < n_bytes:
        para = " ".join(rnd.choice(EN) for _ in range(3)) + "\n" + "".join(rnd.choice(ZH) for _ in range(3))
        para += "\n\n"
        size += len(para.encode())
        yield para


def _text(n_bytes: int, seed: int = 0) -> str:
    return "".join(_paragraphs(n_bytes, seed))


def _write_big(path: Path, key: str, pieces, head: str = "", tail: str = "") -> int:  # type: ignore[no-untyped-def]
    """One record {"id": "big", key: head + pieces + tail}, written piece by piece so this
    process never holds it."""
    with open(path, "wb") as f:
        f.write(b'{"id":"big","' + key.encode() + b'":"')
        for piece in (head, *pieces, tail):
            f.write(orjson.dumps(piece)[1:-1])
        f.write(b'"}\n')
    return path.stat().st_size


def _write(path: Path, rec: dict) -> int:
    data = orjson.dumps(rec) + b"\n"
    path.write_bytes(data)
    return len(data)


# Peak RSS of the command alone. ru_maxrss of a child counts the address space it started
# from: exec records the high-water mark of the memory it replaces, and a vfork/posix_spawn child
# execs from its parent's (this process, over 100 MB by then), a forked one from a copy of it.
# So a small launcher process (a few MB) spawns the command and reports what wait4() says.
_LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _peak_mb(args: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of `python -m corpuskit ARGS`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "corpuskit", *args],
                       env=env, capture_output=True)
    secs = time.perf_counter() - t0
    maxrss, code = (int(x) for x in p.stdout.split())
    if code not in (0, 1):
        print(p.stderr.decode(errors="replace"), file=sys.stderr)
    return maxrss / 1024, secs, code


def _stage_args(stage: str, inp: Path, out: Path, work: Path) -> list[str]:
    """The command line of `stage` on `inp`: most stages take the input and -o; the others
    also need what a user gives them (an evaluation set, a model, a tokenizer), made here."""
    if stage == "decontaminate":
        ev = work / "eval.jsonl"
        if not ev.exists():  # items the record does not hold: the whole record is matched
            ev.write_bytes(b"".join(orjson.dumps({"id": f"e{i}", "text": t}) + b"\n" for i, t in enumerate([
                "Which of the following statements about the tides of the outer planets is correct?",
                "下列关于资本主义工资本质的说法中，正确的是哪一项？请说明理由"])))
        return [stage, str(inp), "-o", str(out), "--against", str(ev)]
    if stage in ("filter-model", "filter-perplexity"):
        from tests.quality_models import tiny_arpa, tiny_fasttext  # small real models, built here

        model = work / ("q.bin" if stage == "filter-model" else "tiny.arpa")
        if not model.exists():
            model = tiny_fasttext(work) if stage == "filter-model" else tiny_arpa(work)
        return [stage, str(inp), "-o", str(out), "--model", str(model)] + (
            ["--label", "hq", "--annotate"] if stage == "filter-model" else [])
    if stage == "tokenize":
        return [stage, str(inp), "-o", str(out.with_suffix("")), "--tokenizer", "cl100k_base"]
    if stage == "tokenize-json":  # tokenize with a Hugging Face tokenizer.json, run by `tokenizers`
        tok = work / "tokenizer.json"
        if not tok.exists():  # a byte-level BPE as GPT-2's, trained here on text of the same kind
            from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

            bpe = Tokenizer(models.BPE())
            bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            bpe.decoder = decoders.ByteLevel()
            bpe.train_from_iterator(_text(2_000_000, seed=7).split("\n"), trainers.BpeTrainer(
                vocab_size=8000, special_tokens=["<|endoftext|>"],
                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
            bpe.save(str(tok))
        return ["tokenize", str(inp), "-o", str(out.with_suffix("")), "--tokenizer", str(tok)]
    if stage == "mix":
        return [stage, "--source", f"a={inp}", "-o", str(out)]
    return [stage, str(inp), "-o", str(out)]


def memory_rows(mb: float, stages: list[str], work: Path) -> list[dict]:
    n = int(mb * 1_000_000)
    inputs = {"text": work / "big_text.jsonl", "html": work / "big_html.jsonl", "x": work / "big_x.jsonl"}
    needed = {"html" if s == "html2text" else "text" for s in stages} | ({"x"} if "filter-unsafe" in stages else set())
    writers = {
        "text": lambda: _write_big(inputs["text"], "text", _paragraphs(n)),
        "html": lambda: _write_big(inputs["html"], "html", _paragraphs(n), "<html><body><p>", "</p></body></html>"),
        "x": lambda: _write_big(inputs["x"], "text", ("x" * 1_000_000 for _ in range(max(1, n // 1_000_000)))),
    }
    sizes = {kind: write() for kind, write in writers.items() if kind in needed}  # only the records used
    small = {"text": work / "small_text.jsonl", "html": work / "small_html.jsonl"}
    _write(small["text"], {"id": "s", "text": _text(2000)})
    _write(small["html"], {"id": "s", "html": f"<html><body><p>{_text(2000)}</p></body></html>"})
    rows = []
    for stage in stages:
        if stage == "pipeline":
            rows.append(_pipeline_row(inputs["text"], sizes["text"], small["text"], work))
            continue
        kinds = ["html"] if stage == "html2text" else ["text"] + (["x"] if stage == "filter-unsafe" else [])
        for kind in kinds:
            out, rej = work / "out.jsonl", work / "rej.jsonl"
            base_kind = "html" if kind == "html" else "text"
            base, _, _ = _peak_mb(_stage_args(stage, small[base_kind], out, work) + ["--rejected", str(rej), "-q"])
            _remove(out)
            peak, secs, code = _peak_mb(_stage_args(stage, inputs[kind], out, work) + ["--rejected", str(rej), "-q"])
            extra = max(0.0, peak - base)
            ratio = extra * 1024 * 1024 / sizes[kind]
            shards = out.with_suffix("")  # tokenize's output folder
            outcome = "kept" if (out.exists() and out.stat().st_size) or (shards.is_dir() and any(shards.iterdir())) else (
                "rejected" if rej.exists() and rej.stat().st_size else f"exit {code}")
            if outcome == "rejected":  # the reason, from the record's tail (never load it here)
                with open(rej, "rb") as f:
                    f.seek(max(0, rej.stat().st_size - 4096))
                    m = re.search(rb'"reason":"([a-z0-9_]+)"', f.read())
                outcome += ": " + (m.group(1).decode() if m else "?")
            rows.append({"stage": stage, "record": kind, "record_mb": round(sizes[kind] / 1e6, 1),
                         "baseline_mb": round(base), "peak_mb": round(peak), "extra_x_record": round(ratio, 2),
                         "seconds": round(secs, 1), "outcome": outcome, "exit": code,
                         "ok": code in (0, 1) and ratio <= MEMORY_FACTOR})
            print(f"  {stage:15s} {kind:4s} peak {peak:7.0f} MB (baseline {base:4.0f}) "
                  f"extra {ratio:4.2f}x  {secs:6.1f} s  {outcome}", flush=True)
            for f in (out, rej):
                _remove(f)
    return rows


def _remove(out: Path) -> None:
    out.unlink(missing_ok=True)
    shutil.rmtree(out.with_suffix(""), ignore_errors=True)  # tokenize's output folder


def memory_pages(chars: int = PAGE_CHARS) -> dict[str, str]:
    """Pages html2text accepts, each about `chars` characters: an ordinary one, and two built to
    make a step hold far more than the page (a JSON-LD block of millions of small objects, which
    a JSON parse turns into as many dicts; millions of short words, which a split turns into as
    many strings)."""
    paras = "".join(f"<p>{p}</p>" for p in _paragraphs(chars * 2 // 3, seed=2))
    body = "<p>" + "The committee met on Tuesday, to review the budget for the coming year. " * 40 + "</p>"
    objs = ",".join(['{"a":1}'] * (chars // 8))
    return {
        "paragraphs": f"<html><body>{paras}</body></html>",
        "JSON-LD of small objects": ('<html><head><script type="application/ld+json">{"articleBody": "'
                                     + "The committee met on Tuesday. " * 20 + '", "x": [' + objs
                                     + f"]}}</script></head><body>{body}</body></html>"),
        "two-letter words": "<html><body><p>" + "ab " * (chars // 3) + "</p></body></html>",
    }


def page_memory_rows(work: Path) -> list[dict]:
    """html2text's peak memory on each of memory_pages() (bound: PAGE_MEMORY_FACTOR x record)."""
    small = work / "small_page.jsonl"
    _write(small, {"id": "s", "html": f"<html><body><p>{_text(2000)}</p></body></html>"})
    out, rej, big = work / "out.jsonl", work / "rej.jsonl", work / "page.jsonl"
    base, _, _ = _peak_mb(["html2text", str(small), "-o", str(out), "--rejected", str(rej), "-q"])
    rows = []
    for name, html in memory_pages().items():
        size = _write(big, {"id": "p", "html": html})
        del html
        peak, secs, code = _peak_mb(["html2text", str(big), "-o", str(out), "--rejected", str(rej), "-q"])
        ratio = max(0.0, peak - base) * 1024 * 1024 / size
        outcome = "kept" if out.exists() and out.stat().st_size else (
            "rejected" if rej.exists() and rej.stat().st_size else f"exit {code}")
        rows.append({"stage": "html2text", "record": name, "record_mb": round(size / 1e6, 1),
                     "baseline_mb": round(base), "peak_mb": round(peak), "extra_x_record": round(ratio, 2),
                     "seconds": round(secs, 1), "outcome": outcome, "exit": code,
                     "ok": code == 0 and outcome == "kept" and ratio <= PAGE_MEMORY_FACTOR})
        print(f"  html2text {name:26s} peak {peak:7.0f} MB (baseline {base:4.0f}) extra {ratio:5.2f}x "
              f"{secs:6.1f} s  {outcome}", flush=True)
        for f in (out, rej, big):
            f.unlink(missing_ok=True)
    return rows


def _pipeline_row(big: Path, size: int, small: Path, work: Path) -> dict:
    """The default pipeline with one worker on a folder holding only the big record's file (a
    hard link), its baseline on a folder holding only the small one."""
    runs = {}
    for name, src in (("base", small), ("big", big)):
        folder = work / f"pipeline_{name}"
        folder.mkdir()
        os.link(src, folder / src.name)
        runs[name] = _peak_mb(["pipeline", str(folder), str(work / f"clean_{name}"), "-j", "1", "-q"])
    (base, _, _), (peak, secs, code) = runs["base"], runs["big"]
    ratio = max(0.0, peak - base) * 1024 * 1024 / size
    outcome = f"exit {code}"
    stats = work / "clean_big" / "stats.json"
    if code == 0 and stats.exists():
        st = json.loads(stats.read_text())
        reasons = [f"{s['stage']} {r}" for s in st["stages"] for r in s["reasons"]]
        outcome = "kept" if st["output"]["records"] else "rejected: " + ", ".join(reasons)
    for name in ("base", "big"):
        shutil.rmtree(work / f"pipeline_{name}")
        shutil.rmtree(work / f"clean_{name}", ignore_errors=True)
    print(f"  {'pipeline -j 1':15s} text peak {peak:7.0f} MB (baseline {base:4.0f}) "
          f"extra {ratio:4.2f}x  {secs:6.1f} s  {outcome}", flush=True)
    return {"stage": "pipeline", "record": "text", "record_mb": round(size / 1e6, 1), "baseline_mb": round(base),
            "peak_mb": round(peak), "extra_x_record": round(ratio, 2), "seconds": round(secs, 1),
            "outcome": outcome, "exit": code, "ok": code in (0, 1) and ratio <= MEMORY_FACTOR}


def hostile_pages() -> dict[str, str]:
    p = "A sentence of the text, with a comma, here."
    ld_text = " ".join(f"word{i} alpha beta gamma delta" for i in range(40))

    def block(commas: int, cls: str = "") -> str:
        return f"<div{' class=' + cls if cls else ''}><div><div><p>" + "a, " * commas + "end.</p></div></div></div>"

    def attrs(k: int) -> str:
        return " ".join(f'a{i}="v"' for i in range(k))

    body = _text(19_000_000, seed=1)
    return {
        "64k attributes on one element": f"<html><body><div {attrs(64_000)}><p>x</p></div></body></html>",
        "200k attributes on one element": f"<html><body><div {attrs(200_000)}><p>x</p></div></body></html>",
        "1,000 elements of 900 attributes": "<html><body>" + f"<p {attrs(900)}>x</p>" * 1_000 + "</body></html>",
        "100k nested elements": "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>",
        "1M elements": "<html><body>" + "<p>word</p>" * 1_000_000 + "</body></html>",
        "500k inline elements in one paragraph": "<html><body><p>" + "<b>x</b> " * 500_000 + "</p></body></html>",
        "19 MB of text": f"<html><body><p>{body}</p></body></html>",
        # the class-word patterns try each position of a letter that starts many of their words
        "a 19 MB class attribute of c's": f'<html><body><div class="{"c" * 19_000_000}"><p>x</p></div></body></html>',
        # 64k attributes as the parser reads them, written so that a reading of tags looser than
        # HTML5's would see one quoted value or none
        '64k attributes after a="" (no value opens)':
            "<html><body><div a=\"\"=\"" + " ".join(f"b{i}" for i in range(64_000)) + "\">x</div></body></html>",
        "64k attributes named by no-break spaces":
            "<html><body><div " + "/".join("".join("\xa0\u3000\u2003"[i // 3 ** j % 3] for j in range(11))
                                           for i in range(64_000)) + ">x</div></body></html>",
        "64k attributes after a script's escape": "<html><body><script><!--<script></script><style></script>"
            f"<div {attrs(64_000)}>x</div></body></html>",
        # pages the parser reads at once, built to make a scan of the markup read them again and again
        "160k comments": "<html><body><p>x</p>" + "<!--x-->" * 160_000 + "</body></html>",
        "200k end tags of unopened elements": "<html><body>" + "<div>" * 49_000 + "</q>" * 200_000,
        "4,000 '<' in a tag name before long attributes":
            "<a x" + "<b" * 4_000 + "".join(f" c{i}=" + "v" * 20_000 for i in range(62)) + ">",
        # nested past libxml2's 2,048 levels: read whole by the last resort, tags stripped by regex
        "49,000 unclosed <font> (past the parser's depth)":
            "<html><body><p>" + "".join(f"<font size={i % 7}>w{i} " for i in range(49_000)) + "</p><p>end</p></body></html>",
        "49,000 unclosed <div> (past the parser's depth)":
            "<html><body>" + "".join(f"<div class=c{i % 9}>w{i} " for i in range(49_000)) + "<p>end</p></body></html>",
        # ... whose regex reading must not run to the end of the page from each "<br" without '>'
        "2,049 unclosed <div>, then 400,000 '<br' without '>'":
            "<html><body>" + "<div>" * 2_049 + "<p>text</p>" + "<br" * 400_000,
        # built to make the choice of the main block walk every ancestor of every marker or
        # element, or read a deep header's text again at every level
        "40,000 <article>s under 2,040 <div>s": "<div>" * 2_040 + "<article></article>" * 40_000 + "<p>end</p>",
        "50,000 class-worded spans deep in an <article>":
            "<html><body><article>" + "<div>" * 2_000 + "<span class=share>x</span> y " * 50_000 + "</article></body></html>",
        "an article <header> 2,000 <div>s deep over 600 KB":
            "<html><body><article><header>" + "<div>" * 2_000 + "Words of the page, a sentence. " * 20_000
            + "</header><p>p</p></article></body></html>",
        # end tags the parser searches its stack of open elements for
        "600,000 end tags under 2,040 open <span>s": "<span>" * 2_040 + "x" + "</z>" * 600_000,
        "400,000 </html> under 2,040 open <span>s": "<span>" * 2_040 + "x" + "</html>" * 400_000 + "tail",
        # built (by a review) to make the extraction's later steps quadratic: a <pre>'s run of
        # spaces, many chosen blocks checked against each other, long lines of one start, a
        # deep heading or lead read at every level, an article's twin looked up per block
        "20,000 spaces in a <pre>": "<div><p>" + p * 10 + "</p><pre>\n" + " " * 20_000 + "x\n</pre></div>",
        "200,000 spaces in a <pre> line": "<div><p>" + p * 10 + "</p><pre>\ny" + " " * 200_000 + "x \nz</pre><p>" + p + "</p></div>",
        "JSON-LD body 2,000 deep beside 1,000 blocks": (
            '<head><script type="application/ld+json">{"articleBody": "' + ld_text + '"}</script></head><body><div>'
            + block(40) + block(20) * 1_000 + "</div>" + "<div>" * 2_000 + "<p>" + ld_text + "</p>" + "</div>" * 2_000),
        "16,000 blocks chosen together": "<div>" + block(40) + block(20) * 16_000 + "</div>",
        "16,000 long lines of one start": "<div>" + "".join(f"<p>{'A' * 20} {i} {'b' * 400}.</p>" for i in range(16_000)) + "</div>",
        "1,000 nested anchored headings over 1 MB": "<div id=sidebar-x-y><h2>Sidebar x y " * 1_000 + "word " * 200_000 + "</h2></div>" * 1_000,
        "a title's twin among 150,000 blocks": (
            "<head><title>The Title Here</title></head><body><article><h2>Other things</h2><div>" + block(40, "c")
            + block(20, "c") * 2_000 + "</div></article><article><h1>The Title Here</h1>"
            + "<div class=x>plain text here</div>" * 150_000 + "<div class=c>twin text</div></article>"),
        "an article header 1,000 <div><span>s deep over 5 MB": (
            "<article><header>" + "<div><span>" * 1_000 + "word " * 1_000_000 + "</span></div>" * 1_000
            + "</header><p>p</p></article>"),
        "500 nested headings over 1 MB": (
            "<head><title>Some page title</title></head><body>" + "<h2><span>" * 500 + "word " * 200_000 + "</span></h2>" * 500),
        "8,000 soft subheadings": "<article><div>" + block(40) + ("<h3 class=meta>Heading</h3>" + block(20)) * 8_000 + "</div></article>",
        "16,000 soft blocks of one kind": "<article><span><span>" + ("<div class=share-x><p>" + "a, " * 20 + "end.</p></div>") * 16_000 + "</span></span></article>",
        "2,000 nested sidebars over 10 MB of text": "<div class=sidebar style='display:none'>" * 2_000 + "word " * 2_000_000 + "</div>" * 2_000,
        "a heading's edit-link brackets around 2,000 spans over 10 MB": (
            "<h2>[" + "<span>" * 2_000 + "word " * 2_000_000 + "]" + "</span>" * 2_000 + "</h2><p>" + p * 20 + "</p>"),
        "190,000 paragraphs in a 2,000-deep chain beside 3 records": (
            "<div>" + "x" * 40 + "<div>" + "x" * 40 + "<div>" + "x" * 40 + "<div><div>"
            + ("<div class=rec><p>" + "Some words, and more. " * 13_600 + "</p></div>") * 3 + "</div>"
            + "<div>" * 2_000 + "<p>.</p>" * 190_000 + "</div>" * 2_000 + "</div></div></div></div>"),
        "95 chains of 2,000 <div>s": "<div><p>" + ", " * 100 + "</p></div>" + ("<div>" * 2_000 + "words without commas " * 100 + "</div>" * 2_000) * 95,
        "95,000 scored blocks 2,000 deep": (
            "<div><p>" + "x, " * 100_000 + "</p></div>" + "<div>" * 2_000
            + "<div><p>plain words of some length here</p></div>" * 95_000 + "</div>" * 2_000),
        # ... and built to make the checks of the choice walk the ancestors of every chosen block,
        # or of the headline, again at every step of a climb
        "16,000 chosen blocks 2,000 deep beside an <article>": (
            "<html><body><article><p>" + p * 3 + "</p></article>" + "<div>" * 2_000 + block(40)
            + block(20) * 16_000 + "</div>" * 2_000 + "</body></html>"),
        "strong candidates in two 2,000-deep chains": (
            "<html><body>" + ("<div>" * 2_000 + block(40) + block(39) + "</div>" * 2_000) * 2 + "</body></html>"),
        "a headline 2,000 deep beside 12 records": (
            "<html><head><title>T</title></head><body><div>"
            + ("<div class=rec><p>" + "Some words of a comment, and more of them, here. " * 3 + "</p></div>") * 12
            + "</div>" + "<div>" * 2_000 + "<h1>The headline</h1>" + "</div>" * 2_000 + "</body></html>"),
        # ... and (a fourth review) to make a heading's or header's text be read whole at every
        # level of a nesting, or a table body climb to its table through every ancestor
        "2,000 nested headers around <main> over 9 MB": (
            "<header><h2>S</h2>" * 2_000 + "<main><p>" + "Words of the page, a sentence. " * 300_000 + "</p></main>"),
        "1,000 nested anchored headings over 18 MB": (
            "<div id=sidebar-x-y><h2>Sidebar x y " * 1_000 + "word " * 3_600_000 + "</h2></div>" * 1_000),
        "17,900 table bodies under 2,030 <div>s": (
            "<html><body>" + "<div>" * 2_030 + ("<tbody><tr>" + ("<td><p>" + "a, " * 20 + "end.</p></td>") * 2 + "</tr><tr>"
                                              + ("<td><p>" + "a, " * 20 + "end.</p></td>") * 2 + "</tr></tbody>") * 17_900
            + "</div>" * 2_030 + "</body></html>"),
        # ... and (a fifth) to make a heading's text, read element by element, cost as much at
        # every level of the nesting: many empty elements inside nested headings
        "1,000 nested headings over 190,000 empty elements": (
            "<html><body>" + "<h2><span>" * 1_000 + "<b></b>" * 190_000 + "</span></h2>" * 1_000 + "<p>" + p * 10
            + "</p></body></html>"),
        "600 nested meta subheadings over 190,000 empty elements": (
            "<html><body><article>" + "<div><h3 class=meta><span>" * 600 + "<b></b>" * 190_000
            + "</span></h3></div>" * 600 + "<p>" + p * 10 + "</p></article></body></html>"),
        # ... and (found after the fifth) nested anchored headings whose text starts deep: each
        # heading's start was read whole, at every level
        "1,000 nested anchored headings over 17 MB starting deep": (
            "<html><body>" + "".join(f'<div id="share-box-{i}"><h2>' for i in range(1_000))
            + ("<p>" + "word " * 200 + "</p>") * 16_880
            + "</h2></div>" * 1_000 + "</body></html>"),
        # text boxes and drawings are read again when the page has little else: many of them,
        # and drawings whose text elements nest 1,000 deep
        "200,000 text boxes": "<html><body>" + "<textarea>a b c</textarea>" * 200_000 + "</body></html>",
        "200,000 drawings of one text": "<html><body>" + "<svg><text>a</text></svg>" * 200_000 + "</body></html>",
        "a drawing of 1,000 nested texts over 400,000 texts": (
            "<html><body><svg>" + "<text>x" * 1_000 + "<tspan>y</tspan>" * 400_000 + "</text>" * 1_000
            + "</svg></body></html>"),
        "300 long fake tags of 64 attributes": ('<x ' + " ".join(f"x{i}" for i in range(64)) + ' y="'
                                                + "p" * 60_000 + '"z="') * 300 + ">",
    }


def time_rows(max_seconds: float) -> list[dict]:
    from corpuskit.stages.html2text.stage import HtmlToText

    st = HtmlToText()
    rows = []
    for name, html in hostile_pages().items():
        t0 = time.perf_counter()
        out = st.process({"id": "h", "html": html})
        secs = time.perf_counter() - t0
        outcome = f"rejected: {out.reason}" if not isinstance(out, dict) else f"kept ({len(out['text']):,} chars)"
        rows.append({"page": name, "chars": len(html), "seconds": round(secs, 2), "outcome": outcome,
                     "ok": secs <= max_seconds})
        print(f"  {name:40s} {len(html):>11,} chars {secs:6.2f} s  {outcome}", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=50.0, help="size of the one huge record (MB; `make bench` also "
                                                           "runs 200 with --name hostile_200mb)")
    ap.add_argument("--max-page-seconds", type=float, default=10.0,
                    help="bound on html2text's time for one hostile page")
    ap.add_argument("--stages", default=",".join(STAGES),
                    help="the stages measured (and `pipeline`: the whole default pipeline)")
    ap.add_argument("--name", default="hostile", help="results file: benchmarks/results/NAME.json")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-pages", action="store_true", help="skip html2text's hostile pages")
    a = ap.parse_args()
    stages = [s for s in a.stages.split(",") if s]
    # (results files written by the benchmarks run before this one do not make the tree dirty)
    state = git_state()
    commit, dirty = state["commit"] or "", state["dirty"]
    mrows: list[dict] = []
    if not a.skip_memory:  # first, while this process is small (see _write_big)
        print(f"== peak memory per stage on one {a.mb:g} MB record (bound: peak - baseline <= "
              f"{MEMORY_FACTOR:g} x record)")
        with tempfile.TemporaryDirectory(prefix="corpuskit-hostile-") as d:
            mrows = memory_rows(a.mb, stages, Path(d))
    prows: list[dict] = []
    if not a.skip_memory and "html2text" in stages:
        print(f"== html2text's peak memory on pages it accepts, about {PAGE_CHARS / 1e6:g} M characters "
              f"(bound: peak - baseline <= {PAGE_MEMORY_FACTOR:g} x record)")
        with tempfile.TemporaryDirectory(prefix="corpuskit-hostile-") as d:
            prows = page_memory_rows(Path(d))
        print(table([[r["stage"], r["record"], r["record_mb"], r["baseline_mb"], r["peak_mb"],
                      r["extra_x_record"], r["seconds"], r["outcome"], "yes" if r["ok"] else "NO"]
                     for r in mrows],
                    ["stage", "record", "MB", "baseline MB", "peak MB", "extra / record", "s",
                     "outcome", "within"]))
    trows: list[dict] = []
    if not a.skip_pages:
        print(f"== html2text on hostile pages (bound {a.max_page_seconds:g} s a page)")
        trows = time_rows(a.max_page_seconds)
        print(table([[r["page"], r["chars"], r["seconds"], r["outcome"], "yes" if r["ok"] else "NO"] for r in trows],
                    ["page", "chars", "s", "outcome", "within"]))
    ok = all(r["ok"] for r in mrows + prows + trows)
    p = save(a.name, {
        "commit": commit + ("+dirty" if dirty else ""),
        "bounds": {"memory": f"peak RSS - baseline RSS <= {MEMORY_FACTOR:g} x record bytes",
                   "html2text_page_memory": f"peak RSS - baseline RSS <= {PAGE_MEMORY_FACTOR:g} x record bytes",
                   "html2text_page_seconds": a.max_page_seconds},
        "record_mb": a.mb, "memory": mrows, "html2text_page_memory": prows, "html2text_hostile_pages": trows,
        "ok": ok})
    print(f"wrote {p}; {'all within bounds' if ok else 'BOUND EXCEEDED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
