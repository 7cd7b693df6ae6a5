"""`corpuskit warmup` (run by `make install`) leaves nothing for a first run to compile or build."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

AFTER = """
from corpuskit.core.chain import run_stages
from corpuskit.pipeline.warmup import SAMPLE
from corpuskit.registry import make_stage
from corpuskit.stages.dedup import minhash
from corpuskit.tokens import bpe_count

stages = [make_stage("filter-unsafe"), make_stage("dedup"), make_stage("tokenize-stats")]
kept, _, _ = run_stages(stages, [dict(r) for r in SAMPLE])
assert kept
hits = misses = 0
for kernels in (minhash._kernels, bpe_count._kernels):
    for d in kernels.dispatchers():
        hits += sum(d.stats.cache_hits.values())
        misses += sum(d.stats.cache_misses.values())
print(hits, misses)
"""


def test_warmup_compiles_every_kernel_and_builds_the_caches(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "CORPUSKIT_CACHE": str(tmp_path / "corpuskit")}

    def after() -> tuple[int, int]:
        p = subprocess.run([sys.executable, "-c", AFTER], env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        hits, misses = map(int, p.stdout.split())
        return hits, misses

    # after the warm-up: every kernel comes from numba's cache, nothing is compiled (without
    # it, the same process compiles each kernel: cache misses)
    p = subprocess.run([sys.executable, "-m", "corpuskit", "warmup"], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith("corpuskit warmup: ") and " stage runs in " in p.stderr
    hits, misses = after()
    assert misses == 0 and hits >= 5
    names = {f.name.split("-")[0] for f in (tmp_path / "corpuskit").iterdir()}
    assert {"chartables", "ut1_adult_domains"} <= names
    assert any((tmp_path / "numba").rglob("*.nbi"))
