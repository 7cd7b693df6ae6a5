"""The tokenize driver: the same bytes whatever the workers, after an interruption or a kill -9,
and the pipeline's [tokenize] section."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from corpuskit.core.errors import UsageError
from corpuskit.pipeline import PipelineConfig, load_config, run_pipeline
from corpuskit.pipeline.tokenize import run_tokenize
from corpuskit.registry import make_stage
from corpuskit.stages.tokenize import Tokenize
from tests.corpus import make_docs

ROOT = Path(__file__).resolve().parents[2]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def _input(tmp_path: Path, n: int) -> Path:
    rng = random.Random(1)
    words = ["data", "模型", "training", "语料", "clean", "tokens", "的", "web", "123", "\n"]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(orjson.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))})
                             + b"\n" for _ in range(n)))
    return src


@pytest.mark.parametrize("shuffle", [False, True])
def test_same_bytes_whatever_the_workers(tmp_path, shuffle):
    src = _input(tmp_path, 3000)
    outs = []
    for w in (1, 2, 3):
        out = tmp_path / f"w{w}"
        st = run_tokenize([str(src)], str(out), make_stage("tokenize", shuffle=shuffle, shard_tokens=20_000),
                          workers=w, unit_lines=200, rejected=str(tmp_path / f"rej{w}.jsonl"))
        assert st["run"]["workers"] == w and st["run"]["units"] == 15
        assert st["conservation"]["ok"]
        outs.append((_tree(out), (tmp_path / f"rej{w}.jsonl").read_bytes()))
    assert outs[0] == outs[1] == outs[2]
    assert len(outs[0][0]) > 4  # several shards + manifest


def test_interrupted_run_resumes_to_the_same_bytes(tmp_path, monkeypatch):
    src = _input(tmp_path, 2000)
    ref = tmp_path / "ref"
    run_tokenize([str(src)], str(ref), make_stage("tokenize"), workers=1, unit_lines=100)
    out = tmp_path / "out"
    real = Tokenize.map_unit
    calls = []

    def failing(self, *a, **kw):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return real(self, *a, **kw)

    monkeypatch.setattr(Tokenize, "map_unit", failing)
    with pytest.raises(KeyboardInterrupt):
        run_tokenize([str(src)], str(out), make_stage("tokenize"), workers=1, unit_lines=100)
    assert len(list((out / ".work" / "units").iterdir())) == 6
    monkeypatch.setattr(Tokenize, "map_unit", real)
    st = run_tokenize([str(src)], str(out), make_stage("tokenize"), workers=1, unit_lines=100)
    assert st["run"]["resumed_units"] == 6
    assert _tree(out) == _tree(ref)
    # another tokenizer does not reuse the units
    st = run_tokenize([str(src)], str(out), make_stage("tokenize", tokenizer="o200k_base"), workers=1,
                      unit_lines=100)
    assert st["run"]["resumed_units"] == 0


_DRIVER = """
import sys
from corpuskit.pipeline.tokenize import run_tokenize
from corpuskit.registry import make_stage
run_tokenize([sys.argv[1]], sys.argv[2], make_stage("tokenize", shuffle=True, shard_tokens=30000),
             workers=2, unit_lines=40)
"""


def test_resume_after_sigkill_gives_identical_bytes(tmp_path):
    src = _input(tmp_path, 6000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", _DRIVER, str(src)]
    subprocess.run(cmd + [str(tmp_path / "ref")], check=True, env=env)
    expected = _tree(tmp_path / "ref")
    out = tmp_path / "out"
    units = out / ".work" / "units"
    p = subprocess.Popen(cmd + [str(out)], env=env)
    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        if units.is_dir() and len([u for u in units.iterdir() if not u.name.startswith(".")]) >= 20:
            break
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done = len([u for u in units.iterdir() if not u.name.startswith(".")])
    assert 0 < done < 150, "the run was not killed part-way through"
    subprocess.run(cmd + [str(out)], check=True, env=env)
    assert _tree(out) == expected
    assert not (out / ".work").exists()


# ------------------------------------------------------------------ pipeline [tokenize]
def _raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in make_docs(60)))
    return raw


def test_pipeline_writes_tokens_of_the_kept_records(tmp_path, run_cli):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    r = run_cli(["pipeline", str(raw), str(clean), "--stages", "normalize,filter-short", "--tokenize",
                 "o200k_base", "-q", "-j", "2"])
    assert r.returncode == 0, r.stderr
    stats = json.loads((clean / "stats.json").read_text())
    kept = stats["output"]["records"]
    m = json.loads((clean / "tokens" / "manifest.json").read_text())
    assert m["tokenizer"] == "o200k_base" and m["documents"] + m["rejected"]["records"] == kept
    assert stats["tokens"]["documents"] == m["documents"] and stats["tokens"]["conservation"]["ok"]
    # the shards hold the kept records' text, in order
    from corpuskit.io.jsonl import read_records
    from corpuskit.stages.tokenize.shards import TokenShards

    texts = [x["text"] for x in read_records(str(clean / "data")) if x["text"].strip()]
    tok = make_stage("tokenize", tokenizer="o200k_base")
    assert [d[:-1].tolist() for d in TokenShards(clean / "tokens")] == [e.tolist() for e in tok.encode(texts)[0]]
    # a config's [tokenize] section does the same, with its options
    cfg = tmp_path / "c.toml"
    cfg.write_text('[pipeline]\nstages = ["normalize", "filter-short"]\n\n[tokenize]\ntokenizer = "o200k_base"\n'
                   'format = "npy"\nshard_tokens = 2000\n')
    loaded = load_config(str(cfg))
    assert loaded.tokenize == {"tokenizer": "o200k_base", "format": "npy", "shard_tokens": 2000}
    st = run_pipeline(str(raw), str(tmp_path / "c2"), loaded)
    m2 = json.loads((tmp_path / "c2" / "tokens" / "manifest.json").read_text())
    assert m2["format"] == "npy" and len(m2["shards"]) > 1 and st["tokens"]["tokens"] == m["tokens"]
    # without it, a rerun into the same folder drops the old tokens/
    run_pipeline(str(raw), str(clean), PipelineConfig(stages=["normalize", "filter-short"]))
    assert not (clean / "tokens").exists()


def test_pipeline_refuses_tokenize_and_mix_in_its_chain(tmp_path):
    with pytest.raises(UsageError, match=r"\[tokenize\]"):
        PipelineConfig(stages=["normalize", "tokenize"])
    with pytest.raises(UsageError, match="corpuskit mix"):
        PipelineConfig(stages=["mix", "normalize"])
    bad = tmp_path / "c.toml"
    bad.write_text('[tokenize]\nformat = "parquet"\n')
    with pytest.raises(UsageError, match=r"\[tokenize\]"):
        load_config(str(bad))


def test_pipeline_killed_while_tokenizing_resumes_its_token_units(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    cfg = dict(stages=["normalize", "filter-short"], unit_lines=10, tokenize={"shard_tokens": 1500})
    ref = tmp_path / "ref"
    run_pipeline(str(raw), str(ref), PipelineConfig(workers=1, **cfg))
    real = Tokenize.map_unit
    calls = []

    def failing(self, *a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *a, **kw)

    monkeypatch.setattr(Tokenize, "map_unit", failing)
    clean = tmp_path / "clean"
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(str(raw), str(clean), PipelineConfig(workers=1, **cfg))
    monkeypatch.setattr(Tokenize, "map_unit", real)
    st = run_pipeline(str(raw), str(clean), PipelineConfig(workers=1, **cfg))
    assert st["tokens"]["resumed_units"] == 2 and st["run"]["resumed_units"] == st["run"]["units"]
    assert _tree(clean / "tokens") == _tree(ref / "tokens")


def test_output_folder_inside_the_input_is_not_read_back(tmp_path):
    src = _input(tmp_path, 50)
    folder = tmp_path / "in"
    folder.mkdir()
    src.rename(folder / "in.jsonl")
    out = folder / "tokens"
    first = run_tokenize([str(folder)], str(out), make_stage("tokenize"), workers=1)
    again = run_tokenize([str(folder)], str(out), make_stage("tokenize"), workers=1)
    assert first["conservation"] == again["conservation"] and again["input"]["records"] == 50
    assert not [p for p in out.iterdir() if p.name.startswith(".build-")]


def test_one_worker_tokenises_on_one_thread(tmp_path, monkeypatch):
    # the workers are the parallelism: with -j 1 too, the tokenizer runs on the worker's own
    # thread (threads of one process contend for tiktoken's regex caches), even when the stage
    # was built for several threads
    from corpuskit.tokens.tokenizers import TiktokenTokenizer

    def no_pool(self):
        raise AssertionError("a worker started a tokenizer thread pool")

    monkeypatch.setattr(TiktokenTokenizer, "_executor", no_pool)
    src = _input(tmp_path, 300)
    ref = tmp_path / "ref"
    st = run_tokenize([str(src)], str(tmp_path / "out"), make_stage("tokenize", threads=4), workers=1)
    run_tokenize([str(src)], str(ref), make_stage("tokenize", threads=1), workers=1)
    assert _tree(tmp_path / "out") == _tree(ref)
    # the run reports its CPU: the map ran in this process (one worker), no worker process
    cpu = st["run"]["cpu_s"]
    assert cpu["main_map"] > 0 and cpu["main_reduce"] >= 0 and cpu["workers"] == 0


def test_cpu_of_the_worker_processes_is_reported_apart(tmp_path):
    src = _input(tmp_path, 3000)
    st = run_tokenize([str(src)], str(tmp_path / "out"), make_stage("tokenize"), workers=2, unit_lines=500)
    cpu = st["run"]["cpu_s"]
    assert st["run"]["workers"] == 2 and cpu["workers"] > 0 and cpu["main_map"] >= 0


def test_workers_read_their_own_lines_and_the_bytes_are_the_same(tmp_path):
    # with the local engine the units of a plain JSONL file are byte ranges the workers read
    # (no line passes through the main process); another engine gets the lines: same bytes
    from corpuskit.engine.local import LocalExecutor

    class Recording(LocalExecutor):
        def map_units(self, units, task, units_dir, note):
            units = list(units)
            seen.append(units)
            return super().map_units(units, task, units_dir, note)

    class Other:  # an engine that is not the local one (as Ray is not): it is given lines
        def __init__(self):
            self.inner = LocalExecutor(2)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def map_units(self, units, task, units_dir, note):
            units = list(units)
            seen.append(units)
            return self.inner.map_units(units, task, units_dir, note)

    seen: list = []
    src = _input(tmp_path, 3000)
    for name, ex in (("spans", Recording(2)), ("lines", Other())):
        run_tokenize([str(src)], str(tmp_path / name), make_stage("tokenize", shuffle=True), workers=2,
                     unit_lines=300, executor=ex, rejected=str(tmp_path / f"{name}.rej.jsonl"))
    spans, lines = seen
    assert len(spans) == len(lines) == 10
    assert all(u.span is not None and not u.lines for u in spans)
    assert all(u.span is None and len(u.lines) == 300 for u in lines)
    assert [u.key for u in spans] == [u.key for u in lines]
    assert _tree(tmp_path / "spans") == _tree(tmp_path / "lines")
    assert (tmp_path / "spans.rej.jsonl").read_bytes() == (tmp_path / "lines.rej.jsonl").read_bytes()


def test_its_record_outputs_are_distinct_and_no_input(tmp_path, run_cli):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text":"hello world, this is a test of a few tokens"}\n{"text":"x"}\nnot json\n')
    before = src.read_bytes()
    r = tmp_path / "r.jsonl"
    p = run_cli(["tokenize", src, "-o", tmp_path / "tok", "-j", "1", "--min-tokens", "3",
                 "--rejected", r, "--bad-records", r])  # the rejected record was lost
    assert p.returncode == 2 and b"--rejected and --bad-records both write to" in p.stderr
    assert not r.exists() and not (tmp_path / "tok").exists()
    for opt in ("--rejected", "--bad-records", "--stats"):
        p = run_cli(["tokenize", src, "-o", tmp_path / "tok", "-j", "1", opt, src])
        assert p.returncode == 2 and f"{opt} {src} is also an input".encode() in p.stderr
        assert src.read_bytes() == before
    p = run_cli(["tokenize", src, "-o", tmp_path / "tok", "-j", "1", "--min-tokens", "3",
                 "--rejected", r, "--bad-records", tmp_path / "b.jsonl"])
    assert p.returncode == 0, p.stderr
    assert len(r.read_bytes().splitlines()) == 1 and (tmp_path / "b.jsonl").read_bytes() == b"not json\n"


def test_a_record_output_inside_the_output_folder_is_refused(tmp_path, run_cli):
    # `--stats tok/manifest.json` replaced the manifest (then `tokens show` was a traceback),
    # `--rejected tok/part-00000.bin` a shard (exit 0, the folder corrupt)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text":"hello world"}\n{"text":"more text here"}\n')
    tok = tmp_path / "tok"
    for opt, name in (("--stats", "manifest.json"), ("--rejected", "part-00000.bin"), ("--bad-records", "x.jsonl")):
        p = run_cli(["tokenize", src, "-o", tok, "-j", "1", opt, tok / name])
        assert p.returncode == 2 and f"{opt} {tok / name} is inside the output folder".encode() in p.stderr
        assert not tok.exists()
    # a manifest that is not one is a one-line error of `tokens show`
    assert run_cli(["tokenize", src, "-o", tok, "-j", "1", "-q"]).returncode == 0
    (tok / "manifest.json").write_bytes(b'{"command": "tokenize"}\n')
    p = run_cli(["tokens", "show", tok])
    err = p.stderr.decode()
    assert p.returncode == 1 and "not a manifest `corpuskit tokenize` wrote (no 'format')" in err
    assert err.count("\n") == 1 and "Traceback" not in err
