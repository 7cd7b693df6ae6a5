"""Peak memory of a real `corpuskit` process (wait4's ru_maxrss), for the huge-record tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb(args: list) -> float:
    """Peak resident memory (MB) of `python -m corpuskit ARGS`; fails on exit code 2 or more."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-m", "corpuskit", *map(str, args)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    err = p.stderr.read() if p.stderr else b""
    assert code in (0, 1), err.decode(errors="replace")
    return ru.ru_maxrss / 1024


def extra_over_record(tmp_path: Path, stage: str, text: str, small: str = "a few words here") -> float:
    """(peak RSS on one record holding `text`) - (peak RSS on a small record), as a multiple of
    the big record's size in bytes."""
    import orjson

    big, little = tmp_path / "big.jsonl", tmp_path / "small.jsonl"
    big.write_bytes(orjson.dumps({"id": "big", "text": text}) + b"\n")
    little.write_bytes(orjson.dumps({"id": "s", "text": small}) + b"\n")
    out = ["-o", tmp_path / "o.jsonl", "--rejected", tmp_path / "r.jsonl", "-q"]
    base = peak_rss_mb([stage, little, *out])
    peak = peak_rss_mb([stage, big, *out])
    return (peak - base) * 1024 * 1024 / big.stat().st_size
