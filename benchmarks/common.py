"""Helpers shared by the benchmarks: timing (median of repeats), result files stamped with the
commit they were measured at, and a hard stop when an input or package is missing."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run_measured(cmd: list[str], env: dict | None = None, cwd: str | Path | None = None) -> dict:
    """Run one command to its end: wall seconds, CPU seconds (user + sys, and each) and peak RSS (MB) of
    the process and the children it waited for, from wait4()'s rusage. A failure stops the
    benchmark with the command and the end of its stderr."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.stderr:
        p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}: {err[-2000:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "peak_rss_mb": ru.ru_maxrss / 1024}


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


# Exit status of a benchmark that cannot run because something it needs is missing: `make bench`
# stops on it instead of passing without having reproduced anything.
EXIT_MISSING = 3


def missing(what: str, fix: str) -> None:
    """Stop the benchmark (non-zero exit) naming what is missing and how to get it."""
    print(f"{Path(sys.argv[0]).name}: cannot run: {what} is missing. {fix}", file=sys.stderr)
    raise SystemExit(EXIT_MISSING)


def require_packages(*names: str, fix: str = "pip install -e '.[test,bench,ray]'") -> None:
    """Every importable module name given, or stop (see `missing`)."""
    gone = [n for n in names if importlib.util.find_spec(n) is None]
    if gone:
        missing(f"the Python package(s) {', '.join(gone)}", f"Install them: {fix}")


def eval_dir(need: tuple[str, ...] = ("html",)) -> Path:
    """The labelled evaluation data (../shared/eval beside the repository, or $CORPUSKIT_EVAL_DIR),
    holding every relative path in `need`; stops the benchmark when it is not there."""
    root = HERE.parent
    cands = [os.environ.get("CORPUSKIT_EVAL_DIR"), os.environ.get("CORPUSKIT_EVAL"),
             root.parent / "shared" / "eval", root.parent.parent / "shared" / "eval", "/work/shared/eval"]
    for c in cands:
        if c and all((Path(c) / n).exists() for n in need):
            return Path(c)
    missing(f"the labelled evaluation data ({', '.join(need)} under ../shared/eval)",
            "Fetch the project's shared/eval folder beside the repository, or set CORPUSKIT_EVAL_DIR.")
    raise AssertionError  # unreachable


def git_state() -> dict:
    """The commit the working tree is at and whether it has uncommitted changes (to tracked
    files other than benchmark results, which a run itself rewrites)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True,
                                  timeout=30).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "HEAD").strip()
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty_files = [ln[3:] for ln in status.splitlines()
                   if ln[3:] and not ln[3:].startswith(("benchmarks/results/", "docs/benchmarks.md"))]
    return {"commit": head or None, "dirty": bool(dirty_files), "dirty_files": dirty_files[:20]}


def save(name: str, data: dict) -> Path:
    """Write benchmarks/results/<name>.json: the data, the machine, the date and the commit
    (`git rev-parse HEAD` and a dirty flag) it was measured at."""
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "load_avg_at_save": round(os.getloadavg()[0], 2), **(data.get("machine") or {})}
    # a benchmark that ran html2text's extractor says which build ran: the one setup.py compiled
    # or extract.py itself (corpuskit.stages.html2text.compiled)
    chooser = sys.modules.get("corpuskit.stages.html2text.compiled")
    if chooser is not None:
        machine["html2text_extractor"] = "compiled" if chooser.in_use() else "pure Python"
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "git": git_state(),
             "command": " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])}
    # the stamp is save()'s own: a benchmark's data can add to the machine, never replace the stamp
    data = {"benchmark": name, **data, "machine": machine, **stamp}
    p = RESULTS / f"{name}.json"
    p.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return p


def table(rows: list[list[object]], header: list[str]) -> str:
    cells = [[str(c) for c in header]] + [[f"{c:,.2f}" if isinstance(c, float) else str(c) for c in r]
                                          for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells[1:]]
    return "\n".join(out)


# ---------------------------------------------------------------- memory of a process tree
def _tree(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _mem(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB of one process."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.5, log: Path | None = None):
        super().__init__(daemon=True)
        self.pid, self.every, self.log = pid, every, log
        self.t0 = time.perf_counter()
        self.peak_rss = self.peak_pss = self.peak_one = 0
        self.peak_by_pid: dict[int, int] = {}  # peak RSS (kB) of each process of the tree
        self.procs = 0
        self.done = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.done.is_set():
            pids = _tree(self.pid)
            mems = [_mem(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(m[0] for m in mems))
            self.peak_pss = max(self.peak_pss, sum(m[1] for m in mems))
            self.peak_one = max([self.peak_one] + [m[0] for m in mems])
            for p, m in zip(pids, mems):
                self.peak_by_pid[p] = max(self.peak_by_pid.get(p, 0), m[0])
            self.procs = max(self.procs, len(pids))
            n += 1
            if self.log is not None and n % 60 == 0:  # a line every ~30 s, for a long run
                with open(self.log, "a") as f:
                    f.write(json.dumps({"elapsed_s": round(time.perf_counter() - self.t0),
                                        "now_pss_mb": round(sum(m[1] for m in mems) / 1024),
                                        "peak_pss_mb": round(self.peak_pss / 1024),
                                        "peak_rss_mb": round(self.peak_rss / 1024)}) + "\n")
            self.done.wait(self.every)


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file, read a megabyte at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
