"""`make dataset` follows Make's rules: rebuilt when an input or the config is newer, else nothing."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(raw, clean, config=None):
    args = ["make", "-C", str(ROOT), "dataset", f"RAW={raw}", f"CLEAN={clean}", f"PYTHON={sys.executable}"]
    if config:
        args.append(f"CONFIG={config}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(args, capture_output=True, env=env, text=True)


def test_dataset_rebuilds_only_when_inputs_or_config_change(tmp_path):
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    doc = {"text": "北京是中国的首都，有三千多年的建城史和八百多年的建都史，是一座历史文化名城。" * 2}
    (raw / "a.jsonl").write_bytes(orjson.dumps(doc) + b"\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text("[stages.filter-short]\nmin_words = 10\n")
    p = _make(raw, clean, cfg)
    assert p.returncode == 0, p.stderr
    assert "corpuskit pipeline" in p.stdout and (clean / "stats.json").exists()
    first = (clean / "stats.json").stat().st_mtime_ns

    p = _make(raw, clean, cfg)
    assert "corpuskit pipeline" not in p.stdout and "Nothing to be done" in p.stdout
    assert (clean / "stats.json").stat().st_mtime_ns == first

    time.sleep(1.1)
    (raw / "b.jsonl").write_bytes(orjson.dumps(doc) + b"\n")
    assert "corpuskit pipeline" in _make(raw, clean, cfg).stdout
    assert orjson.loads((clean / "stats.json").read_bytes())["conservation"]["in"] == 2

    time.sleep(1.1)
    cfg.write_text("[stages.filter-short]\nmin_words = 1000\n")
    assert "corpuskit pipeline" in _make(raw, clean, cfg).stdout
    assert orjson.loads((clean / "stats.json").read_bytes())["conservation"]["kept"] == 0
