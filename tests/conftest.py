import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_cli():
    """Run `python -m corpuskit ARGS` in a real subprocess (stdin bytes in; returns the
    CompletedProcess with stdout/stderr as bytes)."""

    def _run(args, input=b"", cwd=None, env=None, check=False):
        e = dict(os.environ)
        e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
        e.setdefault("COLUMNS", "120")
        if env:
            e.update(env)
        p = subprocess.run([sys.executable, "-m", "corpuskit", *map(str, args)], input=input,
                           capture_output=True, cwd=cwd, env=e, timeout=600)
        if check and p.returncode != 0:
            raise AssertionError(f"exit {p.returncode}: {p.stderr.decode(errors='replace')}")
        return p

    return _run
