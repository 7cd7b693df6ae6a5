"""Helpers shared by the benchmarks: timing (median of repeats) and result files."""
from __future__ import annotations

import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {"benchmark": name, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "platform": platform.platform()},
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), **data}
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
            self.procs = max(self.procs, len(pids))
            n += 1
            if self.log is not None and n % 60 == 0:  # a line every ~30 s, for a long run
                with open(self.log, "a") as f:
                    f.write(json.dumps({"elapsed_s": round(time.perf_counter() - self.t0),
                                        "now_pss_mb": round(sum(m[1] for m in mems) / 1024),
                                        "peak_pss_mb": round(self.peak_pss / 1024),
                                        "peak_rss_mb": round(self.peak_rss / 1024)}) + "\n")
            self.done.wait(self.every)
