import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests: `make test` (and CI) draws the same examples at every run (derandomize), so a
# run's verdict depends on the code alone; `make fuzz` runs them again and again with new random
# examples to look for bugs (HYPOTHESIS_PROFILE=fuzz; a failure is replayed from the local example
# database, .hypothesis/). A case fuzzing finds becomes an @example or a plain test. Both start
# from hypothesis's own defaults, not from its built-in "ci" profile (loaded when CI is set), and
# set no time limit per example: speed goals live in `make bench`, not in unit tests.
_DEFAULTS = settings.get_profile("default")
settings.register_profile("repeatable", _DEFAULTS, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("fuzz", _DEFAULTS, derandomize=False, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


class Result(subprocess.CompletedProcess):
    """What `run_cli` returns: returncode, stdout and stderr (bytes), like a subprocess."""


@contextlib.contextmanager
def _cwd(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _in_process(args, input=b"", cwd=None, env=None):
    """`corpuskit ARGS` in this process: the real entry point (corpuskit.cli.main, its exit
    codes and stream handling) with stdin/stdout/stderr swapped for byte buffers."""
    from corpuskit.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    stdin = io.TextIOWrapper(io.BufferedReader(io.BytesIO(input or b"")), encoding="utf-8")
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    saved = sys.stdin, sys.stdout, sys.stderr
    saved_env = dict(os.environ)
    code = 0
    try:
        if env:
            os.environ.update({k: str(v) for k, v in env.items()})
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        with _cwd(cwd) if cwd else contextlib.nullcontext():
            try:
                main([str(a) for a in args])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        with contextlib.suppress(ValueError):
            stdout.flush()
            stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        os.environ.clear()
        os.environ.update(saved_env)
    return Result(["corpuskit", *map(str, args)], code, out.getvalue(), err.getvalue())


def _subprocess(args, input=b"", cwd=None, env=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.setdefault("COLUMNS", "120")
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "corpuskit", *map(str, args)], input=input,
                          capture_output=True, cwd=cwd, env=e, timeout=600)


def _runner(how):
    def _run(args, input=b"", cwd=None, env=None, check=False):
        p = how(args, input=input, cwd=cwd, env=env)
        if check and p.returncode != 0:
            raise AssertionError(f"exit {p.returncode}: {p.stderr.decode(errors='replace')}")
        return p

    return _run


@pytest.fixture
def run_cli():
    """Run `corpuskit ARGS` in-process (stdin bytes in; returns returncode, stdout and stderr
    as bytes). Use `run_cli_proc` where a real process is the point (signals, pipes, start-up,
    memory, a Ray the command starts itself)."""
    return _runner(_in_process)


@pytest.fixture
def run_cli_proc():
    """Run `python -m corpuskit ARGS` in a real subprocess."""
    return _runner(_subprocess)
