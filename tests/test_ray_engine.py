"""--engine ray against the local engine: same bytes, same counters (a real local Ray)."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest

from corpuskit.errors import UsageError
from corpuskit.pipeline import PipelineConfig, run_pipeline
from tests.corpus import make_docs

ROOT = Path(__file__).resolve().parent.parent

try:
    import ray
except ImportError:  # the optional extra: pip install 'corpuskit[ray]'
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="ray is not installed (pip install 'corpuskit[ray]')")


def _ray_kwargs(tmp: str) -> dict:
    return {"include_dashboard": False, "log_to_driver": False,
            # a short temp dir: Ray's unix socket paths must stay under 108 bytes
            "_temp_dir": tmp,
            # the workers import this checkout's corpuskit
            "runtime_env": {"env_vars": {"PYTHONPATH": str(ROOT)}}}


@pytest.fixture(scope="module")
def local_ray():
    if ray is None:
        pytest.skip("ray is not installed (pip install 'corpuskit[ray]')")
    tmp = tempfile.mkdtemp(prefix="ckr", dir="/tmp")
    ray.init(address="local", num_cpus=2, object_store_memory=100 * 1024 * 1024, **_ray_kwargs(tmp))
    yield ray
    ray.shutdown()


def _raw(tmp_path: Path) -> Path:
    """Three files, English and Chinese articles, short records, duplicates and broken lines."""
    raw = tmp_path / "raw"
    raw.mkdir()
    docs = make_docs(450, seed=3)
    article = max(docs, key=lambda r: len(r["text"]))
    for part in range(3):
        with open(raw / f"part-{part}.jsonl", "wb") as f:
            for i, rec in enumerate(docs[part * 150:(part + 1) * 150]):
                f.write(orjson.dumps(rec) + b"\n")
                if i % 61 == 0:
                    f.write(b'{"broken": \n')
            # the same article again in every file: dedup across units and files
            f.write(orjson.dumps({**article, "id": f"copy-{part}"}) + b"\n")
    return raw


def _tree(clean: Path) -> dict:
    return {str(p.relative_to(clean)): p.read_bytes() for p in sorted(clean.rglob("*"))
            if p.is_file() and p.name not in ("stats.json", "report.md", "report.html")}


def _untimed(x):  # every counter, no timings
    if isinstance(x, dict):
        return {k: _untimed(v) for k, v in x.items() if k != "seconds"}
    if isinstance(x, (list, tuple)):
        return [_untimed(v) for v in x]
    return x


def _counters(stats: dict) -> tuple:
    return _untimed((stats["conservation"], stats["stages"], stats["input"], stats["output"]))


@needs_ray
def test_ray_engine_output_and_report_match_local(tmp_path, local_ray):
    raw = _raw(tmp_path)
    kw = {"unit_lines": 70, "shard_size": 120, "workers": 2}
    local = run_pipeline(str(raw), str(tmp_path / "local"), PipelineConfig(**kw))
    on_ray = run_pipeline(str(raw), str(tmp_path / "ray"), PipelineConfig(engine="ray", **kw))
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
    assert _counters(on_ray) == _counters(local)
    assert on_ray["conservation"]["ok"] and on_ray["run"]["engine"] == "ray"
    assert on_ray["run"]["units"] == local["run"]["units"] > 6
    tree = _tree(tmp_path / "local")
    assert len([k for k in tree if k.startswith("data/")]) > 1
    assert "quarantine/bad_records.jsonl" in tree and "rejected/dedup.jsonl.zst" in tree
    report = (tmp_path / "ray" / "report.md").read_text()
    assert report.split("Output:")[0] == (tmp_path / "local" / "report.md").read_text().split("Output:")[0]
    assert not (tmp_path / "ray" / ".work").exists()


@needs_ray
def test_ray_engine_strict_error_is_the_local_one_and_resume_reuses_units(tmp_path, local_ray):
    raw = _raw(tmp_path)
    with pytest.raises(Exception, match="part-0.jsonl:2") as exc:
        run_pipeline(str(raw), str(tmp_path / "s"), PipelineConfig(engine="ray", strict=True, unit_lines=70))
    assert not isinstance(exc.value, ray.exceptions.RayTaskError)  # the stage's own error, unwrapped
    assert not (tmp_path / "s" / "data").exists()
    # units left by an interrupted run are reused whatever engine wrote them: the first two
    # units of a ray map phase, then a local run picks them up
    from corpuskit import pipeline as pl
    from corpuskit.engine.ray_engine import map_units_on_ray

    cfg = PipelineConfig(unit_lines=70, shard_size=120)
    clean = tmp_path / "r"
    clean.mkdir()
    (clean / pl.MARKER).write_text("x\n")
    plan, _ = pl.plan_inputs(str(raw))
    work = pl._prepare_work(clean, pl._fingerprint(cfg, [p for p, _ in plan]))
    units = list(pl.iter_units(plan, cfg.unit_lines, cfg.unit_bytes))[:2]
    mapped, _ = pl.split_stages(cfg.build())
    keys, resumed, cpus = map_units_on_ray(units, mapped, cfg, work / "units", lambda n, st: None)
    assert len(keys) == 2 and resumed == 0 and cpus == 2
    stats = run_pipeline(str(raw), str(clean), cfg)
    assert stats["run"]["resumed_units"] == 2
    ref = run_pipeline(str(raw), str(tmp_path / "ref"), PipelineConfig(unit_lines=70, shard_size=120))
    assert _tree(clean) == _tree(tmp_path / "ref")
    assert _counters(stats) == _counters(ref)


def test_local_engine_never_imports_ray(tmp_path):
    raw = _raw(tmp_path)
    code = ("import sys; from corpuskit.pipeline import run_pipeline, PipelineConfig; "
            f"run_pipeline({str(raw)!r}, {str(tmp_path / 'c')!r}, PipelineConfig(workers=1, "
            "stages=['normalize', 'filter-short', 'dedup'])); "
            "bad = [m for m in sys.modules if m == 'ray' or m.startswith(('ray.', 'corpuskit.engine'))]; "
            "assert not bad, bad")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr.decode()


def test_engine_options_are_validated(run_cli, tmp_path):
    with pytest.raises(UsageError, match="engine must be local or ray"):
        PipelineConfig(engine="spark")
    with pytest.raises(UsageError, match="needs --engine ray"):
        PipelineConfig(ray_address="auto")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[pipeline]\nengine = "spark"\n')
    p = run_cli(["pipeline", _raw(tmp_path), tmp_path / "out", "--config", cfg])
    assert p.returncode == 2 and "engine must be local or ray" in p.stderr.decode()
    if ray is not None:  # a closed port: a clear error at once, not Ray's minutes of retries
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        p = run_cli(["pipeline", tmp_path / "raw", tmp_path / "out2", "--engine", "ray",
                     "--ray-address", f"127.0.0.1:{port}"])
        assert p.returncode == 2 and "cannot reach the Ray cluster" in p.stderr.decode(), p.stderr


@needs_ray
def test_cli_engine_ray_starts_its_own_local_ray(run_cli, tmp_path):
    raw = _raw(tmp_path)
    p = run_cli(["pipeline", raw, tmp_path / "ray", "--engine", "ray", "-j", "2", "-q",
                 "--stages", "normalize,filter-short,dedup"])
    assert p.returncode == 0, p.stderr.decode()
    p = run_cli(["pipeline", raw, tmp_path / "local", "-q", "--stages", "normalize,filter-short,dedup"])
    assert p.returncode == 0, p.stderr.decode()
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
    s = json.loads((tmp_path / "ray" / "stats.json").read_text())
    assert s["run"]["engine"] == "ray" and s["conservation"]["ok"]


def _memory_copy(raw: Path, url: str) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    for p in sorted(raw.iterdir()):
        fs.pipe_file(f"{url}/{p.name}", p.read_bytes())
    fs.pipe_file(f"{url}/.hidden/skip.jsonl", b'{"text": "not read"}\n')
    fs.pipe_file(f"{url}/notes.pdf", b"%PDF")


def _memory_tree(url: str) -> dict:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    return {f[len(root.rstrip("/")) + 1:]: fs.cat_file(f) for f in sorted(fs.find(root))
            if not f.endswith(("stats.json", "report.md", "report.html"))}


@pytest.mark.skipif(not __import__("importlib").util.find_spec("fsspec"), reason="fsspec is not installed")
def test_fsspec_paths_in_and_out_match_local_paths(tmp_path, monkeypatch):
    import fsspec

    monkeypatch.setenv("CORPUSKIT_STAGING", str(tmp_path / "staging"))
    raw = _raw(tmp_path)
    kw = {"unit_lines": 70, "shard_size": 120, "workers": 1, "stages": ["normalize", "filter-short", "dedup"]}
    local = run_pipeline(str(raw), str(tmp_path / "local"), PipelineConfig(**kw))
    _memory_copy(raw, "memory://ck/raw")
    remote = run_pipeline("memory://ck/raw", "memory://ck/clean", PipelineConfig(**kw))
    assert _memory_tree("memory://ck/clean") == _tree(tmp_path / "local")
    assert remote["input"].pop("ignored_files") == ["memory:///ck/raw/notes.pdf"]
    local["input"].pop("ignored_files")
    assert _counters(remote) == _counters(local)
    on_disk = json.loads(fsspec.filesystem("memory").cat_file("/ck/clean/stats.json"))
    assert on_disk["conservation"] == local["conservation"]
    assert on_disk["rejected_path"] == "memory://ck/clean/rejected"
    # a second run replaces the result (no stale shard), a foreign folder is refused
    run_pipeline("memory://ck/raw", "memory://ck/clean", PipelineConfig(**{**kw, "shard_size": 1000}))
    assert [k for k in _memory_tree("memory://ck/clean") if k.startswith("data/")] == ["data/part-00000.jsonl.zst"]
    fsspec.filesystem("memory").pipe_file("/ck/mine/thesis.txt", b"precious")
    with pytest.raises(UsageError, match="not empty"):
        run_pipeline("memory://ck/raw", "memory://ck/mine", PipelineConfig(**kw))
    assert not list((tmp_path / "staging").iterdir())


@needs_ray
def test_ray_engine_reads_and_writes_fsspec_urls(tmp_path, local_ray, monkeypatch):
    monkeypatch.setenv("CORPUSKIT_STAGING", str(tmp_path / "staging"))
    raw = _raw(tmp_path)
    kw = {"unit_lines": 70, "shard_size": 120, "stages": ["normalize", "filter-short", "dedup"]}
    local = run_pipeline(str(raw), str(tmp_path / "local"), PipelineConfig(workers=1, **kw))
    _memory_copy(raw, "memory://rk/raw")
    on_ray = run_pipeline("memory://rk/raw", "memory://rk/clean", PipelineConfig(engine="ray", **kw))
    assert _memory_tree("memory://rk/clean") == _tree(tmp_path / "local")
    assert on_ray["conservation"] == local["conservation"] and on_ray["run"]["engine"] == "ray"


@needs_ray
def test_dedup_signatures_on_ray_give_the_same_result(local_ray):
    from corpuskit.engine.ray_engine import RayHashExecutor
    from corpuskit.stage import Rejected
    from corpuskit.stages.dedup import Dedup

    docs = [{**d, "id": f"d{i}"} for i, d in enumerate(make_docs(300, seed=5)) if len(d["text"]) > 200]
    docs += [{**d, "id": f"dup-{i}", "text": d["text"] + " 再来一次。"} for i, d in enumerate(docs[:40])]

    def run(executor):
        stage = Dedup()
        if executor is not None:
            stage.hash_executor = executor
        out = [(x.record["id"], x.rejection.reason) if isinstance(x, Rejected) else x["id"]
               for x in stage.run(list(docs))]
        return out, _untimed(stage.result())

    class Counting(RayHashExecutor):
        calls = 0

        def submit(self, fn, *args):
            Counting.calls += 1
            return super().submit(fn, *args)

    import corpuskit.stages.dedup as dd

    small = dd._BATCH_DOCS
    dd._BATCH_DOCS = 16  # several batches in flight at once
    try:
        assert run(Counting(ray, 2)) == run(None)
    finally:
        dd._BATCH_DOCS = small
    assert Counting.calls > 4
    assert any(isinstance(x, tuple) for x in run(None)[0])  # near duplicates were found


@needs_ray
def test_two_node_cluster_gives_the_same_output(tmp_path, local_ray):
    from ray.cluster_utils import Cluster

    raw = _raw(tmp_path)
    kw = {"unit_lines": 70, "shard_size": 120, "stages": ["normalize", "filter-short", "dedup"]}
    local = run_pipeline(str(raw), str(tmp_path / "local"), PipelineConfig(**kw))
    ray.shutdown()  # the module's single-node Ray; this test brings its own cluster
    tmp = tempfile.mkdtemp(prefix="ckc", dir="/tmp")
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": 80 * 1024 * 1024, "include_dashboard": False,
        "temp_dir": tmp})
    try:
        cluster.add_node(num_cpus=1, object_store_memory=80 * 1024 * 1024)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        on_ray = run_pipeline(str(raw), str(tmp_path / "ray"), PipelineConfig(engine="ray", **kw))
        assert on_ray["run"]["workers"] == 2
        assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
        assert _counters(on_ray) == _counters(local)
    finally:
        ray.shutdown()
        cluster.shutdown()
