"""One run per output folder (the lock), and what a killed run leaves is cleaned by the next."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from corpuskit.core.owner import HOST
from corpuskit.io.jsonl import read_records
from corpuskit.pipeline import PipelineConfig, run_pipeline
from corpuskit.pipeline.state import prepare_work

ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from corpuskit.core.owner import RunLock
RunLock(sys.argv[1], "x").acquire()
print("held", flush=True)
time.sleep(120)
"""


def _raw(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps({"text": f"第{i}条 record"}) + b"\n" for i in range(20)))
    return raw


def _holder(lock: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, env=env)
    assert p.stdout.readline() == b"held\n"
    return p


def test_a_second_run_on_one_folder_exits_2_naming_the_holder(run_cli, tmp_path):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    assert run_cli(["pipeline", raw, clean, "--stages", "cat", "-q"]).returncode == 0
    holder = _holder(clean / ".lock")
    try:
        p = run_cli(["pipeline", raw, clean, "--stages", "cat", "-q"])
        err = p.stderr.decode()
        assert p.returncode == 2, err
        assert err.startswith(f"corpuskit pipeline: error: {clean}: another run is using it (pid {holder.pid} "
                              "on this host") and err.count("\n") == 1
        assert "Traceback" not in err
        # the result of the first run is untouched, and nothing was started
        assert len(list(read_records(str(clean / "data")))) == 20 and not (clean / ".work").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder was killed (-9): its lock file is left, naming a dead pid, and is taken over
    left = json.loads((clean / ".lock").read_text())
    assert left["pid"] == holder.pid and left["host"] == HOST
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"]))
    assert stats["run"]["recovered"]["lock_of"]["pid"] == holder.pid
    assert not (clean / ".lock").exists()  # released when the run ended


def test_a_killed_runs_half_built_result_is_removed(tmp_path):
    raw = _raw(tmp_path)
    clean = tmp_path / "clean"
    run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"]))
    build = clean / ".build-4242-abcd"  # what kill -9 in the reduce phase leaves
    (build / "data").mkdir(parents=True)
    (build / "data" / "part-00000.jsonl.zst").write_bytes(b"x" * 1000)
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["cat"]))
    assert not build.exists()
    assert stats["run"]["recovered"]["removed"] == [".build-4242-abcd"]
    assert [p.name for p in clean.iterdir() if p.name.startswith(".")] == [".corpuskit"]


def test_a_unit_folder_without_its_counters_is_redone(tmp_path):
    clean = tmp_path / "clean"
    work = prepare_work(clean, "fp")
    broken = work / "units" / "00000-000000"  # half removed by a crashed run
    broken.mkdir()
    (broken / "kept.jsonl.zst").write_bytes(b"")
    good = work / "units" / "00000-000001"
    good.mkdir()
    (good / "stats.json").write_bytes(b"{}")
    prepare_work(clean, "fp")
    assert not broken.exists() and good.exists()


def test_a_run_killed_in_the_reduce_phase_is_recovered(tmp_path):
    """kill -9 while the result is being built: the next run finishes and leaves no trace."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_bytes(b"".join(orjson.dumps({"text": f"记录 {i} " + "词 " * 30}) + b"\n"
                                           for i in range(3000)))
    clean = tmp_path / "clean"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "corpuskit", "pipeline", str(raw), str(clean), "-q",
                          "--stages", "normalize,dedup", "--shard-size", "10", "-j", "1"], env=env)


    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        if clean.is_dir() and any(x.name.startswith(".build-") for x in clean.iterdir()):
            break
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL and [x for x in clean.iterdir() if x.name.startswith(".build-")]
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(stages=["normalize", "dedup"], shard_size=10))
    assert stats["conservation"]["ok"] and stats["output"]["records"] + stats["conservation"]["rejected"] == 3000
    assert not [x for x in clean.iterdir() if x.name.startswith((".build-", ".lock", ".work"))]
