"""`make dataset` follows Make's rules: rebuilt when an input or the config is newer, else nothing."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(raw=None, clean=None, config=None, cwd=ROOT):
    args = ["make", "-f", str(ROOT / "Makefile"), "dataset", f"PYTHON={sys.executable}"]
    args += [f"RAW={raw}"] if raw is not None else []
    args += [f"CLEAN={clean}"] if clean is not None else []
    if config:
        args.append(f"CONFIG={config}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(args, capture_output=True, env=env, text=True, cwd=cwd)


def _built(clean):
    return orjson.loads((clean / "stats.json").read_bytes())


UP_TO_DATE = "is up to date (same inputs and configuration)"


def test_dataset_rebuilds_only_when_inputs_or_config_change(tmp_path):
    # spaces in every name: the folders, the config and the input files
    raw, clean = tmp_path / "raw pages", tmp_path / "clean set"
    raw.mkdir()
    doc = {"text": "北京是中国的首都，有三千多年的建城史和八百多年的建都史，是一座历史文化名城。" * 2}
    (raw / "a b.jsonl").write_bytes(orjson.dumps(doc) + b"\n")
    cfg = tmp_path / "my config.toml"
    cfg.write_text("[stages.filter-short]\nmin_words = 10\n")
    p = _make(raw, clean, cfg)
    assert p.returncode == 0, p.stderr
    assert UP_TO_DATE not in p.stderr and _built(clean)["conservation"]["in"] == 1
    first = (clean / "stats.json").stat().st_mtime_ns

    p = _make(raw, clean, cfg)  # nothing changed: nothing done
    assert p.returncode == 0 and UP_TO_DATE in p.stderr
    assert (clean / "stats.json").stat().st_mtime_ns == first

    (raw / "b c.jsonl").write_bytes(orjson.dumps(doc) + b"\n")  # a file added
    p = _make(raw, clean, cfg)
    assert UP_TO_DATE not in p.stderr and _built(clean)["conservation"]["in"] == 2

    (raw / "a b.jsonl").unlink()  # a file deleted: older than the result, yet it rebuilds
    p = _make(raw, clean, cfg)
    assert p.returncode == 0 and UP_TO_DATE not in p.stderr and _built(clean)["conservation"]["in"] == 1

    (raw / "b c.jsonl").write_bytes(orjson.dumps(doc) + b"\n" + orjson.dumps(doc) + b"\n")  # modified
    assert _built(clean)["conservation"]["in"] == 1
    _make(raw, clean, cfg)
    assert _built(clean)["conservation"]["in"] == 2

    cfg.write_text("[stages.filter-short]\nmin_words = 1000\n")  # the config changed
    p = _make(raw, clean, cfg)
    assert UP_TO_DATE not in p.stderr and _built(clean)["conservation"]["kept"] == 0
    assert UP_TO_DATE in _make(raw, clean, cfg).stderr


def test_dataset_defaults_and_a_missing_raw(tmp_path):
    # the default output folder is not `clean` (the name of a target): make clean stays make clean
    p = _make(cwd=tmp_path)
    assert p.returncode != 0
    assert "make dataset: RAW=raw: no such folder (make dataset RAW=path/to/raw" in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "clean").exists()
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.jsonl").write_bytes(orjson.dumps({"text": "一二三四五六七八九十" * 6}) + b"\n")
    p = _make(cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "dataset_out" / "stats.json").exists() and not (tmp_path / "clean").exists()


def test_bench_runs_every_benchmark_and_fails_naming_the_ones_that_missed(tmp_path):
    # the benchmarks and tools are stand-ins that only say what they were asked to run: a target
    # missed in one benchmark does not stop the others from being measured, and the run fails
    # at the end naming it
    venv, magic = tmp_path / "venv" / "bin", tmp_path / "magic" / "bin"
    venv.mkdir(parents=True)
    magic.mkdir(parents=True)
    (venv / "pip").write_text("#!/bin/sh\nexit 0\n")
    (magic / "python").write_text("#!/bin/sh\nexit 0\n")
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "ran $*"\ncase "$*" in *bench_formats.py*) exit 1;; esac\nexit 0\n')
    for f in (venv / "pip", magic / "python", fake):
        f.chmod(0o755)
    p = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "bench", f"VENV={tmp_path / 'venv'}",
                        f"MAGIC_VENV={tmp_path / 'magic'}", f"PYTHON={fake}"],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode != 0
    ran = [line.split()[1] for line in p.stdout.splitlines() if line.startswith("ran ")]
    benches = sorted(str(f.relative_to(ROOT)) for f in (ROOT / "benchmarks").glob("bench_*.py"))
    assert sorted(ran[:len(benches)]) == benches  # every one, the failing one included
    assert ran[len(benches):] == ["benchmarks/bench_hostile.py", "benchmarks/bench_pipeline.py",
                                  "benchmarks/render_docs.py"]
    assert "make bench: a target missed or a benchmark failed in: benchmarks/bench_formats.py" in p.stderr
