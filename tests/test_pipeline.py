import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from corpuskit.errors import UsageError
from corpuskit.jsonl import read_records
from corpuskit.pipeline import PipelineConfig, run_pipeline
from corpuskit.stage import DEFAULT_PIPELINE

ROOT = Path(__file__).resolve().parent.parent


def _raw(tmp_path, n=60):
    raw = tmp_path / "raw"
    raw.mkdir()
    recs = []
    for i in range(n):
        if i % 3 == 0:
            recs.append({"text": f"短文{i}"})
        elif i % 3 == 1:
            recs.append({"text": ("中国的首都北京有着悠久的历史和灿烂的文化。" * 4) + str(i), "n": i})
        else:
            recs.append({"text": f"Ｄｏｃ {i}: " + "the quick brown fox jumps over the lazy dog " * 8})
    half = len(recs) // 2
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs[:half]))
    (raw / "b.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs[half:]) + b"{bad\n")
    return raw


def test_pipe_of_subcommands_equals_pipeline_byte_for_byte(tmp_path):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "corpuskit", "pipeline", str(raw), str(clean),
                        "--compression", "none", "-q"], capture_output=True, env=env)
    assert p.returncode == 0, p.stderr
    py = sys.executable
    stages = " | ".join(f"{py} -m corpuskit {s} -q" for s in DEFAULT_PIPELINE)
    first = f"{py} -m corpuskit cat {raw} --bad-records {tmp_path / 'bad.jsonl'} -q"
    piped = subprocess.run(f"{first} | {stages}", shell=True, capture_output=True, env=env)
    assert piped.returncode == 0, piped.stderr
    pipeline_out = b"".join((clean / "data" / s).read_bytes() for s in sorted(os.listdir(clean / "data")))
    assert pipeline_out == piped.stdout
    assert len(pipeline_out.splitlines()) == 40


def test_pipeline_layout_stats_and_conservation(tmp_path):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(shard_size=15))
    assert stats["conservation"] == {"in": 61, "kept": 40, "rejected": 20, "quarantined": 1, "ok": True}
    assert sorted(os.listdir(clean / "data")) == ["part-00000.jsonl.zst", "part-00001.jsonl.zst",
                                                  "part-00002.jsonl.zst"]
    assert len(list(read_records(str(clean / "data")))) == 40
    rejected = list(read_records(str(clean / "rejected")))
    assert {r["meta"]["rejected"]["reason"] for r in rejected} == {"too_few_words"}
    assert (clean / "quarantine" / "bad_records.jsonl").read_bytes() == b"{bad\n"
    on_disk = json.loads((clean / "stats.json").read_text())
    assert on_disk["conservation"]["ok"] and "adds up" in (clean / "report.md").read_text()
    assert not [p for p in clean.iterdir() if p.name.startswith(".run-")]


def test_rerun_replaces_result_and_refuses_foreign_folder(tmp_path):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    run_pipeline(str(raw), str(clean), PipelineConfig(shard_size=15))
    run_pipeline(str(raw), str(clean), PipelineConfig(shard_size=100))
    assert os.listdir(clean / "data") == ["part-00000.jsonl.zst"]
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(UsageError, match="not empty"):
        run_pipeline(str(raw), str(foreign))


def test_strict_stops_and_leaves_nothing_new(tmp_path):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    with pytest.raises(Exception, match="b.jsonl:31"):
        run_pipeline(str(raw), str(clean), PipelineConfig(strict=True))
    assert not (clean / "data").exists()


def test_set_options_and_unknown_ones(run_cli, tmp_path):
    raw = _raw(tmp_path)
    p = run_cli(["pipeline", raw, tmp_path / "c", "--set", "filter-short.min_words=1", "-q"])
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "c" / "stats.json").read_text())
    assert s["conservation"]["kept"] == 60
    p = run_cli(["pipeline", raw, tmp_path / "d", "--set", "filter-short.nope=1"])
    assert p.returncode == 2 and "has no option 'nope'" in p.stderr.decode()
    p = run_cli(["pipeline", raw, tmp_path / "d", "--set", "filter-short.min_words=abc"])
    assert p.returncode == 2 and "not a valid int" in p.stderr.decode()
