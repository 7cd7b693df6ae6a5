"""Peak memory of a real `corpuskit` process (wait4's ru_maxrss), for the huge-record tests."""
from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# ru_maxrss of a child counts the address space it started from: a forked child starts from a
# copy of this test process (hundreds of MB once a test has made a big text), which would hide
# the command's own peak. A small launcher process (a fresh interpreter, ~10 MB) spawns the
# command with posix_spawn and reports what wait4() says (as benchmarks/bench_hostile.py does).
_LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def peak_rss_mb(args: list) -> float:
    """Peak resident memory (MB) of `python -m corpuskit ARGS`; fails on exit code 2 or more."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "corpuskit", *map(str, args)],
                       env=env, capture_output=True)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    maxrss, code = (int(x) for x in p.stdout.split())
    assert code in (0, 1), p.stderr.decode(errors="replace")
    return maxrss / 1024


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


def traced_peak(fn, *args, **kw):  # type: ignore[no-untyped-def]
    """(fn(*args, **kw), the peak of the Python memory traced while it ran): a deterministic
    measure of what a call holds at once (timings stay out of unit tests)."""
    tracemalloc.start()
    try:
        result = fn(*args, **kw)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
