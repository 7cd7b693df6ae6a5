"""dedup under `--engine ray`: the driver's peak memory per document, and the shuffle's bytes.

Input: generated unique short documents (half English-like words, half Chinese characters,
seeded), plus 1% exact copies and 1% near copies (one word changed) so that clusters exist;
written to a file and streamed from it by a fresh interpreter (no document list is held).

Each run is one fresh interpreter: a local Ray (2 CPUs, 300 MB object store) is started, the
dedup stage gets what `pipeline --engine ray` lends it (`RayExecutor.lend`), and the records
stream through `Dedup.run`. Measured in the driver process only (not the raylet, the Ray
workers or the object store's own process):
- the peak of the driver's own memory, RssAnon + RssFile (private pages: numpy arrays, Python
  objects, Ray's client; and the libraries), sampled every 10 ms by a thread from
  /proc/self/status; not RssShmem, the object store's shared memory, which is mapped into
  every Ray process and capped by its size (300 MB here) whatever the corpus;
- VmHWM (peak resident set of every page mapped in the driver, the object store's pages that
  the driver wrote into, the task arguments, included), for reference.
The target is a slope: (peak at N docs - peak at N/4 docs) / (difference in documents), so the
fixed part (imports, the compiled MinHash kernel, the Ray client) cancels out. Target: the
driver's own memory grows by <= 50 bytes per document between 100k and 400k documents, with
`--max-memory 200MB`: dedup holds a one-shot stream's records for its second pass in up to an
eighth of `--max-memory` (a bounded cost the user sets, not one per document; see SLOPE_BUDGET),
and at 200MB every run of a pair is past that share. The same pair with the default
`--max-memory` (1GB: up to 128 MB held) is measured too and its peaks reported, with no target.
The kept documents and the counters are checked equal to the local dedup's on the smaller run.

With `--index` (the same figures, a second pair of runs): each corpus is cut in two halves; the
first half is deduplicated by the local dedup into an index file (not measured), the second
half by the Ray dedup against it. The documents of a run are then the index's plus the batch's
(about as many as the run without an index), and the slope is taken over them. On the smaller
pair, the local dedup does the same against a copy of the index: the same kept set, counters
and new index file bytes are checked.

Usage: python benchmarks/bench_ray_dedup.py [--docs 400000] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import require_packages, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_BYTES_PER_DOC = 50
# The slope runs' --max-memory. dedup holds a one-shot stream's records for its second pass in
# up to an eighth of --max-memory (25 MB here) and spills them past that: a bounded cost, set by
# the user, not a cost per document. With the default (1 GB: 128 MB held) the small run holds
# all its records and the big one spills them part-way, and the slope between the two says
# nothing of growth per document; at 200MB both runs of each pair are past the held share.
# The default's peaks are measured too (one more pair) and reported beside it.
SLOPE_BUDGET = "200MB"

CHILD = r"""
import json, os, resource, sys, tempfile, threading, time
import orjson
engine, path, index, max_memory = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
from corpuskit.stages.dedup.stage import Dedup
from corpuskit.core.stage import Rejected
stage = Dedup(index=index, **({"max_memory": max_memory} if max_memory else {}))
peak_anon = [0]
stop = []
def rss_anon():
    # the driver's own pages: private (RssAnon) and file-backed (RssFile: libraries); not
    # RssShmem, the object store's shared memory mapped into every Ray process
    got = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                got += int(line.split()[1]) * 1024
    return got
def sample():
    while not stop:
        peak_anon[0] = max(peak_anon[0], rss_anon())
        time.sleep(0.01)
th = threading.Thread(target=sample, daemon=True)
th.start()
ex = None
if engine == "ray":
    import ray
    from corpuskit.engine.ray import RayExecutor
    tmp = tempfile.mkdtemp(prefix="bdr", dir="/tmp")
    ray.init(address="local", num_cpus=2, object_store_memory=300 << 20, include_dashboard=False,
             log_to_driver=False, logging_level="ERROR", _temp_dir=tmp,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
    ex = RayExecutor(None, 2).__enter__()
    ex.lend([stage])
def records():
    with open(path, "rb") as f:
        for line in f:
            yield orjson.loads(line)
kept = 0
t0 = time.perf_counter()
for x in stage.run(records()):
    kept += not isinstance(x, Rejected)
seconds = time.perf_counter() - t0
stop.append(1)
th.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
st = stage.result()
st["kept_records"] = kept
sec = st["seconds"]
# pass 2 (the spill read back on the driver, each record kept or rejected, written): what is left
out = {"peak_rss": peak, "peak_rss_anon": peak_anon[0], "seconds": seconds, "stats": st,
       "pass2_seconds": round(sec["total"] - sec["pass1_signatures"] - sec["lsh_verify_cluster"], 3)}
if ex is not None:
    rep = ex.report()
    out["shuffle"] = rep.get("dedup_shuffle")
    ray.shutdown()
    spilled = 0
    for root, _, files in os.walk(tmp):
        if "spill" in root:
            spilled += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    out["ray_spilled_bytes"] = spilled
print(json.dumps(out))
"""

def _words(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(20000)]


def write_corpus(path: Path, n_unique: int, seed: int = 7) -> int:
    """n_unique unique documents + 1% exact copies + 1% near copies; returns the total."""
    rng = random.Random(seed)
    words = _words(rng)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    total = 0
    with open(path, "wb") as f:
        recent: list[dict] = []
        for i in range(n_unique):
            if i % 2:
                text = " ".join(rng.choice(words) for _ in range(40))
            else:
                text = "".join(rng.choice(hanzi) for _ in range(80)) + "。"
            rec = {"id": f"d{i}", "text": text}
            f.write(orjson.dumps(rec) + b"\n")
            total += 1
            recent.append(rec)
            if len(recent) > 50:
                recent.pop(0)
            if i % 100 == 50:  # an exact copy of a recent document
                f.write(orjson.dumps({"id": f"x{i}", "text": rng.choice(recent)["text"]}) + b"\n")
                total += 1
            if i % 100 == 99:  # a near copy: one more word at the end
                src = rng.choice(recent)["text"]
                f.write(orjson.dumps({"id": f"n{i}", "text": src + (" extra" if " " in src else "再")})
                        + b"\n")
                total += 1
    return total


def run(engine: str, path: Path, env: dict, index: Path | str = "", max_memory: str = SLOPE_BUDGET) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, engine, str(path), str(index), max_memory], env=env,
                       capture_output=True)
    if p.returncode:
        raise SystemExit(f"dedup {engine} failed: {p.stderr.decode(errors='replace')[-3000:]}")
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def _strip(st: dict) -> dict:
    return {k: v for k, v in st.items() if k not in ("seconds", "scratch_bytes")}


def halves(path: Path) -> tuple[Path, Path]:
    """The corpus file cut in two: the first half (for the index) and the second."""
    lines = path.read_bytes().splitlines(keepends=True)
    a, b = path.with_suffix(".first.jsonl"), path.with_suffix(".second.jsonl")
    a.write_bytes(b"".join(lines[:len(lines) // 2]))
    b.write_bytes(b"".join(lines[len(lines) // 2:]))
    return a, b


def with_index(path: Path, env: dict, check: bool) -> tuple[dict, bool | None]:
    """The Ray dedup of the second half of `path` against an index of its first half (built by
    the local dedup); with `check`, the local dedup's run against a copy of the same index too."""
    first, second = halves(path)
    idx = path.with_suffix(".idx.npz")
    run("local", first, env, idx)
    same = None
    if check:
        idx_local = path.with_suffix(".local.npz")
        shutil.copy(idx, idx_local)
        local = run("local", second, env, idx_local)
    res = run("ray", second, env, idx)
    if check:
        same = (_strip(local["stats"]) == _strip(res["stats"]) and idx.read_bytes() == idx_local.read_bytes())
    res["documents"] = res["stats"]["documents"] + res["stats"]["index_documents"]
    return res, same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=400_000, help="unique documents of the big run")
    ap.add_argument("--quick", action="store_true", help="40k documents (no target check)")
    ap.add_argument("--no-index", action="store_true", help="skip the runs with --index")
    a = ap.parse_args()
    require_packages("ray", fix="pip install -e '.[ray]'")
    if a.quick:
        a.docs = 40_000
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    tmp = Path(tempfile.mkdtemp(prefix="brd", dir="/tmp"))
    try:
        small_p, big_p = tmp / "small.jsonl", tmp / "big.jsonl"
        n_small = write_corpus(small_p, a.docs // 4)
        n_big = write_corpus(big_p, a.docs)
        res = {"local_small": run("local", small_p, env), "ray_small": run("ray", small_p, env),
               "ray_big": run("ray", big_p, env),
               "ray_small_default_budget": run("ray", small_p, env, max_memory=""),
               "ray_big_default_budget": run("ray", big_p, env, max_memory="")}
        same = _strip(res["local_small"]["stats"]) == _strip(res["ray_small"]["stats"])
        dn = n_big - n_small
        slope = (res["ray_big"]["peak_rss"] - res["ray_small"]["peak_rss"]) / dn
        slope_anon = (res["ray_big"]["peak_rss_anon"] - res["ray_small"]["peak_rss_anon"]) / dn
        idx_res: dict = {}
        if not a.no_index:
            idx_res["ray_small_index"], same_index = with_index(small_p, env, check=True)
            idx_res["ray_big_index"], _ = with_index(big_p, env, check=False)
            si, bi = idx_res["ray_small_index"], idx_res["ray_big_index"]
            dn_i = bi["documents"] - si["documents"]
            idx_res["same_as_local"] = same_index
            idx_res["documents"] = {"small": si["documents"], "big": bi["documents"],
                                    "index_small": si["stats"]["index_documents"],
                                    "index_big": bi["stats"]["index_documents"]}
            idx_res["driver_bytes_per_document"] = {
                "own_memory": (bi["peak_rss_anon"] - si["peak_rss_anon"]) / dn_i,
                "vmhwm": (bi["peak_rss"] - si["peak_rss"]) / dn_i}
        sh = (res["ray_big"].get("shuffle") or [{}])[-1]
        shuffle_per_doc = {k: sh.get(k, 0) / n_big for k in
                           ("band_row_bytes", "signature_bytes_in_object_store", "pair_bytes_returned")}
        print(f"dedup under --engine ray, local Ray with 2 CPUs; {n_small:,} and {n_big:,} documents "
              f"(unique + 1% exact + 1% near copies); same kept set and counters as local: {same}; "
              f"--max-memory {SLOPE_BUDGET} (records held for pass 2 up to 25 MB) unless named")
        rows = [["driver peak own memory (RssAnon + RssFile), small", res["ray_small"]["peak_rss_anon"] / 2**20],
                ["driver peak own memory (RssAnon + RssFile), big", res["ray_big"]["peak_rss_anon"] / 2**20],
                ["driver VmHWM (object store pages included), small", res["ray_small"]["peak_rss"] / 2**20],
                ["driver VmHWM (object store pages included), big", res["ray_big"]["peak_rss"] / 2**20],
                ["driver peak own memory, small, default --max-memory (1GB: up to 128 MB held)",
                 res["ray_small_default_budget"]["peak_rss_anon"] / 2**20],
                ["driver peak own memory, big, default --max-memory",
                 res["ray_big_default_budget"]["peak_rss_anon"] / 2**20]]
        print(table(rows, ["", "MiB"]))
        print(table([["driver own memory per added document (target)", slope_anon],
                     ["driver VmHWM per added document", slope]]
                    + [[f"shuffle: {k}", v] for k, v in shuffle_per_doc.items()],
                    ["bytes per document", "bytes"]))
        print(f"seconds: small {res['ray_small']['seconds']:.1f}, big {res['ray_big']['seconds']:.1f} "
              f"(local small {res['local_small']['seconds']:.1f}); Ray spilled "
              f"{res['ray_big'].get('ray_spilled_bytes', 0) / 2**20:.1f} MiB")
        if idx_res:
            dd, bpd = idx_res["documents"], idx_res["driver_bytes_per_document"]
            print(f"\nwith --index: {dd['small']:,} documents ({dd['index_small']:,} in the index) and "
                  f"{dd['big']:,} ({dd['index_big']:,}); same kept set, counters and index file as the "
                  f"local dedup: {idx_res['same_as_local']}")
            print(table([["driver own memory per added document (target)", bpd["own_memory"]],
                         ["driver VmHWM per added document", bpd["vmhwm"]]], ["bytes per document", "bytes"]))
            print(f"seconds: small {idx_res['ray_small_index']['seconds']:.1f}, "
                  f"big {idx_res['ray_big_index']['seconds']:.1f}")
        save("ray_dedup", {"documents": n_big, "documents_small": n_small,
                           "same_as_local": same,
                           "driver_bytes_per_document": {"own_memory": slope_anon, "vmhwm": slope},
                           "target_bytes_per_document": TARGET_BYTES_PER_DOC,
                           "slope_max_memory": SLOPE_BUDGET,
                           "shuffle_bytes_per_document": shuffle_per_doc, "shuffle": sh,
                           "runs": {k: {kk: vv for kk, vv in v.items() if kk != "stats"} for k, v in res.items()},
                           "with_index": {k: ({kk: vv for kk, vv in v.items() if kk != "stats"}
                                              if k.startswith("ray_") else v) for k, v in idx_res.items()},
                           "command": "python benchmarks/bench_ray_dedup.py" + (" --quick" if a.quick else "")})
        if not same:
            raise SystemExit("the Ray dedup's kept set or counters differ from the local dedup's")
        if idx_res and not idx_res["same_as_local"]:
            raise SystemExit("with --index, the Ray dedup's kept set, counters or index file differ from the local's")
        slopes = {"": slope_anon}
        if idx_res:
            slopes[" with --index"] = idx_res["driver_bytes_per_document"]["own_memory"]
        for what, v in slopes.items():
            if not a.quick and v > TARGET_BYTES_PER_DOC:
                raise SystemExit(f"target missed{what}: the driver grows by {v:.0f} bytes per document "
                                 f"(target <= {TARGET_BYTES_PER_DOC})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
