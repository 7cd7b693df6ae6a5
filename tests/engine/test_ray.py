"""--engine ray against the local engine: same bytes, same counters (a real local Ray)."""
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest

from corpuskit.core.errors import UsageError
from corpuskit.pipeline import PipelineConfig, run_pipeline
from tests.corpus import make_docs

ROOT = Path(__file__).resolve().parents[2]

try:
    import ray
except ImportError:  # the optional extra: pip install 'corpuskit[ray]'
    ray = None
    if os.environ.get("CORPUSKIT_REQUIRE_RAY"):  # CI: the Ray tests must run, not be skipped
        raise

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


def _untimed(x):  # every counter, no timings, no local scratch-disk size (the engines keep tables apart)
    if isinstance(x, dict):
        return {k: _untimed(v) for k, v in x.items() if k not in ("seconds", "scratch_bytes")}
    if isinstance(x, (list, tuple)):
        return [_untimed(v) for v in x]
    return x


def _counters(stats: dict) -> tuple:
    return _untimed((stats["conservation"], stats["stages"], stats["input"], stats["output"]))


@needs_ray
def test_ray_engine_output_and_report_match_local(tmp_path, local_ray):
    raw = _raw(tmp_path)
    # with [tokenize]: the token units go through the same engine
    kw = {"unit_lines": 70, "shard_size": 120, "workers": 2,
          "tokenize": {"shuffle": True, "shard_tokens": 3000}}
    local = run_pipeline(str(raw), str(tmp_path / "local"), PipelineConfig(**kw))
    on_ray = run_pipeline(str(raw), str(tmp_path / "ray"), PipelineConfig(engine="ray", **kw))
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
    assert on_ray["tokens"]["shards"] > 1 and "tokens/manifest.json" in _tree(tmp_path / "ray")
    assert _counters(on_ray) == _counters(local)
    assert on_ray["conservation"]["ok"] and on_ray["run"]["engine"] == "ray"
    ray_side = on_ray["run"]["ray"]  # the units went through map_batches, dedup through the shuffle
    # one dataset for the units, one for the token units
    assert ray_side["map_datasets"] == 2 and ray_side["driver_peak_rss_bytes"] > 0
    (shuffle,) = ray_side["dedup_shuffle"]
    assert shuffle["documents"] == on_ray["stages"][-2]["in"] and shuffle["band_rows"] > 0
    assert shuffle["candidate_pairs"] == on_ray["stages"][-2]["extra"]["candidate_pairs"] > 0
    assert on_ray["run"]["units"] == local["run"]["units"] > 6
    tree = _tree(tmp_path / "local")
    assert len([k for k in tree if k.startswith("data/")]) > 1
    assert "quarantine/bad_records.jsonl" in tree and "rejected/dedup.jsonl.zst" in tree
    report = (tmp_path / "ray" / "report.md").read_text()
    assert report.split("Output:")[0] == (tmp_path / "local" / "report.md").read_text().split("Output:")[0]
    assert not (tmp_path / "ray" / ".work").exists()


@needs_ray
def test_ray_engine_strict_error_is_the_local_one_and_resume_reuses_units(tmp_path, local_ray, monkeypatch):
    raw = _raw(tmp_path)
    with pytest.raises(Exception, match="part-0.jsonl:2") as exc:
        run_pipeline(str(raw), str(tmp_path / "s"), PipelineConfig(engine="ray", strict=True, unit_lines=70))
    assert not isinstance(exc.value, ray.exceptions.RayTaskError)  # the stage's own error, unwrapped
    assert not (tmp_path / "s" / "data").exists()
    # units left by an interrupted run are reused whatever engine wrote them: the first two
    # units of a ray map phase, then a local run picks them up
    from corpuskit.engine.ray import RayExecutor
    from corpuskit.pipeline import plan as pl
    from corpuskit.pipeline import state
    from corpuskit.pipeline.run import split_stages
    from corpuskit.pipeline.worker import UnitRunner

    cfg = PipelineConfig(unit_lines=70, shard_size=120)
    clean = tmp_path / "r"
    clean.mkdir()
    (clean / state.MARKER).write_text("x\n")
    plan, _ = pl.plan_inputs(str(raw))
    work = state.prepare_work(clean, state.fingerprint(cfg, [p for p, _ in plan]))
    units = list(pl.iter_units(plan, cfg.unit_lines, cfg.unit_bytes))[:2]
    mapped, _ = split_stages(cfg.build())
    runner = UnitRunner(mapped, cfg.strict)
    with RayExecutor() as ex:
        keys, resumed, cpus = ex.map_units(units, runner, work / "units", lambda n, st: None)
    assert len(keys) == 2 and resumed == 0 and cpus == 2
    stats = run_pipeline(str(raw), str(clean), cfg)
    assert stats["run"]["resumed_units"] == 2
    ref = run_pipeline(str(raw), str(tmp_path / "ref"), PipelineConfig(unit_lines=70, shard_size=120))
    assert _tree(clean) == _tree(tmp_path / "ref")
    assert _counters(stats) == _counters(ref)
    # and the other way: units 3 to 5 left by a local run, the ray engine does the rest, in
    # windows of one unit per CPU (so several map_batches datasets)
    import corpuskit.engine.ray as re_

    clean = tmp_path / "r2"
    clean.mkdir()
    (clean / state.MARKER).write_text("x\n")
    work = state.prepare_work(clean, state.fingerprint(cfg, [p for p, _ in plan]))
    for unit in list(pl.iter_units(plan, cfg.unit_lines, cfg.unit_bytes))[2:5]:
        runner(unit, work / "units")
    monkeypatch.setattr(re_, "_UNITS_PER_CPU", 1)
    stats = run_pipeline(str(raw), str(clean), PipelineConfig(engine="ray", unit_lines=70, shard_size=120))
    assert stats["run"]["resumed_units"] == 3 and stats["run"]["ray"]["map_datasets"] == 3  # 2 + 4
    assert _tree(clean) == _tree(tmp_path / "ref")
    assert _counters(stats) == _counters(ref)


def test_local_engine_never_imports_ray(tmp_path):
    raw = _raw(tmp_path)
    code = ("import sys; from corpuskit.pipeline import run_pipeline, PipelineConfig; "
            f"run_pipeline({str(raw)!r}, {str(tmp_path / 'c')!r}, PipelineConfig(workers=1, "
            "stages=['normalize', 'filter-short', 'dedup'])); "
            "bad = [m for m in sys.modules if m == 'ray' or m.startswith('ray.')]; "
            "assert not bad, bad")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr.decode()


def test_engine_options_are_validated(run_cli_proc, tmp_path):
    run_cli = run_cli_proc  # a Ray already started in this process would be used, not refused
    with pytest.raises(UsageError, match="engine: must be local or ray"):
        PipelineConfig(engine="spark")
    with pytest.raises(UsageError, match="needs --engine ray"):
        PipelineConfig(ray_address="auto")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[pipeline]\nengine = "spark"\n')
    p = run_cli(["pipeline", _raw(tmp_path), tmp_path / "out", "--config", cfg])
    assert p.returncode == 2 and f"{cfg}: [pipeline] engine: must be local or ray" in p.stderr.decode()
    if ray is not None:  # a closed port: a clear error at once, not Ray's minutes of retries
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        p = run_cli(["pipeline", tmp_path / "raw", tmp_path / "out2", "--engine", "ray",
                     "--ray-address", f"127.0.0.1:{port}"])
        assert p.returncode == 2 and "cannot reach the Ray cluster" in p.stderr.decode(), p.stderr


@needs_ray
def test_cli_engine_ray_starts_its_own_local_ray(run_cli_proc, tmp_path):
    run_cli = run_cli_proc  # starting its own Ray is the point: a fresh process
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


def _index_docs() -> tuple[list[dict], list[dict]]:
    """Two batches: the second has near copies, exact copies and a template in 14 variants of
    documents of the first (so of the index), and duplicates among its own documents."""
    docs = [{**d, "id": f"d{i}"} for i, d in enumerate(make_docs(300, seed=5)) if len(d["text"]) > 200]
    docs += [{**d, "id": f"dup-{i}", "text": d["text"] + " 再来一次。"} for i, d in enumerate(docs[:40])]
    # one template in 14 variants: a bucket far larger than the chain of 8
    docs += [{"id": f"tpl-{i}", "text": docs[1]["text"] + f" 第{i}版。"} for i in range(14)]
    docs += [{**docs[3], "id": "copy-of-d3"}, {**docs[-1], "id": "copy-of-last"}, {"text": ""}, {"text": "  "}]
    return docs[:150], docs[150:]


def _lent_dedup(ex, partition_fn=None):
    """A Dedup stage lent the executor's flat driver, its candidate check replaced if asked."""
    from corpuskit.stages.dedup.stage import Dedup

    stage = Dedup()
    ex.lend([stage])
    if partition_fn is not None:
        stage.flat_executor.partition_fn = partition_fn
    return stage


def _run_dedup(stage, batch, ex=None):
    from corpuskit.core.stage import Rejected

    if ex is not None:
        ex.shuffles = []
        ex.lend([stage])
    out = [(x.record.get("id"), x.rejection.reason, x.rejection.detail, x.record["meta"]["dedup"])
           if isinstance(x, Rejected) else (x.get("id"), x["meta"]["dedup"])
           for x in stage.run(iter(copy.deepcopy(batch)))]  # (records held in memory are annotated in place)
    return out, _untimed(stage.result())


@needs_ray
def test_flat_dedup_with_an_index_gives_the_local_output_and_index_file(local_ray, tmp_path, monkeypatch):
    """--index on Ray: a first run builds the index, a second run dedups against it, on both
    engines; the same records, reasons, details, meta and counters, and the same index file
    bytes after each run. The index's rows enter the shuffle as blocks read from its file
    (before the batch: an index document always wins), several blocks of them."""
    import corpuskit.engine.ray_dedup as re_
    import corpuskit.stages.dedup.flat as flat
    import corpuskit.stages.dedup.graph as dd_graph
    from corpuskit.engine.ray import RayExecutor
    from corpuskit.stages.dedup.stage import Dedup

    assert re_._NEAR == dd_graph._NEAR
    monkeypatch.setattr(flat, "BLOCK_DOCS", 24)  # many blocks, the index's too
    monkeypatch.setattr(re_, "_BLOCKS_PER_TABLE", 5)  # several band-row tables
    monkeypatch.setattr(re_, "_ROWS_PER_PARTITION", 500)  # more partitions than CPUs
    first, second = _index_docs()
    with RayExecutor(None, 2) as ex:
        for k, opts in enumerate(({"verify": "exact"}, {"survivor": "longest", "verify": "estimate"})):
            idx = {e: tmp_path / f"{e}{k}.npz" for e in ("local", "ray")}
            got = {}
            for batch in (first, second):
                got["local"] = _run_dedup(Dedup(index=str(idx["local"]), **opts), batch)
                got["ray"] = _run_dedup(Dedup(index=str(idx["ray"]), **opts), batch, ex)
                assert got["ray"] == got["local"], opts
                assert idx["ray"].read_bytes() == idx["local"].read_bytes(), opts
                assert ex.shuffles[-1].measured["blocks"] > 5
            out, st = got["ray"]
            assert st["index_documents"] > 100
            assert {x[1] for x in out if len(x) == 4} == {"near_duplicate", "exact_duplicate"}
            # documents of the second batch removed for an index document
            assert any(x[2].startswith("kept d") and x[0].startswith(("dup-", "copy-of-d3"))
                       for x in out if len(x) == 4), opts
            assert st["candidate_pairs"] > 0
            if opts["verify"] == "exact":
                assert 0 < st["exact_jaccard_checks"] <= st["candidate_pairs"]
        # an index built with other options is refused on Ray as locally
        with pytest.raises(UsageError, match="built with other options"):
            _run_dedup(Dedup(index=str(idx["ray"]), num_perm=64), second, ex)


@needs_ray
def test_flat_dedup_bucket_group_handed_over_in_two_pieces_fails_the_run(local_ray):
    """Ray hands each shuffle partition to the candidate check as one block today; were a
    partition ever cut into two blocks (a larger partition, another Ray version), the pairs
    across the cut would be lost with every row still counted. Each call reports the bucket
    groups it saw, and a group seen twice stops the run."""
    import numpy as np

    import corpuskit.engine.ray_dedup as re_
    from corpuskit.core.errors import ClusterError
    from corpuskit.engine.ray import RayExecutor

    first, second = _index_docs()
    docs = first + second
    original = re_._bucket_pairs_flat

    def in_two_pieces(batch, *args):
        half = len(batch["pos"]) // 2
        outs = [original({k: v[:half] for k, v in batch.items()}, *args),
                original({k: v[half:] for k, v in batch.items()}, *args)]
        return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}

    with RayExecutor(None, 2) as ex:
        stage = _lent_dedup(ex, in_two_pieces)
        with pytest.raises(ClusterError, match=r"bucket group\(s\) to the candidate check in more than one piece"):
            list(stage.run(iter(docs)))


def test_flat_dedup_shuffle_that_loses_a_row_fails_and_a_rerun_task_does_not(local_ray, tmp_path, monkeypatch,
                                                                              run_cli):
    """The rows into the band-key shuffle and out of it are counted and checksummed, and the
    pairs counted on arrival. A partition that loses a row fails the run with one error (the
    pipeline writes nothing as done, the CLI exits 1 with one line); a partition task whose
    worker dies once is run again by Ray and the run gives the local result; a hashing task
    whose worker dies fails the run with one error."""
    import corpuskit.engine.ray_dedup as re_
    from corpuskit.core.errors import ClusterError
    from corpuskit.engine.ray import RayExecutor
    from corpuskit.stages.dedup.stage import Dedup

    first, second = _index_docs()
    docs = first + second
    original = re_._bucket_pairs_flat

    def drop_a_row(batch, *args):
        if len(batch["pos"]) > 1:
            batch = {k: v[1:] for k, v in batch.items()}
        return original(batch, *args)

    marker = tmp_path / "crashed"

    def die_once(batch, *args):
        import os

        if len(batch["pos"]) and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies, as with a SIGABRT
        return original(batch, *args)

    local = _run_dedup(Dedup(), docs)
    with RayExecutor(None, 2) as ex:
        stage = _lent_dedup(ex, drop_a_row)
        with pytest.raises(ClusterError, match=r"did not add up \(\d[\d,]* rows went in, \d[\d,]* came out"):
            list(stage.run(iter(docs)))
        stage = _lent_dedup(ex, die_once)
        assert _run_dedup(stage, docs) == local
        assert marker.exists()  # it did die once
        m = stage.flat_executor.measured
        assert m["rows_out"] == m["band_rows"] > 0 and m["checksum_matched"]
        # a hashing task is not retried (its arguments are not kept): its worker dying is one error
        import corpuskit.stages.dedup.flat as flat

        def die(*args):
            import os

            os._exit(1)

        make_block = flat.make_block
        monkeypatch.setattr(flat, "make_block", die)
        stage = Dedup()
        ex.lend([stage])
        with pytest.raises(ClusterError, match=r"a task on the cluster was lost \(WorkerCrashedError"):
            list(stage.run(iter(docs)))
        monkeypatch.setattr(flat, "make_block", make_block)
    # the whole pipeline: exit 1, one line, no result written as done
    raw = _raw(tmp_path)
    monkeypatch.setattr(re_, "_bucket_pairs_flat", drop_a_row)
    with pytest.raises(ClusterError):
        run_pipeline(str(raw), str(tmp_path / "out"),
                     PipelineConfig(engine="ray", unit_lines=70, stages=["normalize", "dedup"]))
    assert not (tmp_path / "out" / "stats.json").exists() and not (tmp_path / "out" / "data").exists()
    assert list((tmp_path / "out" / ".work" / "units").iterdir())  # the map units stay, for the next run
    p = run_cli(["pipeline", raw, tmp_path / "out2", "--engine", "ray", "--stages", "normalize,dedup", "-q"])
    err = p.stderr.decode()
    assert p.returncode == 1 and err.count("\n") == 1, err
    assert err.startswith("corpuskit pipeline: error: dedup: the band-key shuffle on the cluster did not add up")
    assert not (tmp_path / "out2" / "stats.json").exists()


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
        assert on_ray["run"]["ray"]["dedup_shuffle"][0]["band_rows"] > 0  # the shuffle ran on both nodes
        assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
        assert _counters(on_ray) == _counters(local)
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_a_ray_worker_removes_unit_scratch_folders_of_killed_workers(tmp_path, monkeypatch):
    """A Ray worker builds each unit in a scratch folder named with its host and pid; the
    first unit a worker process runs removes those that dead processes of this host left."""
    from corpuskit.core.owner import HOST
    from corpuskit.engine import ray as ray_engine

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(ray_engine, "_SWEPT", [])
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead = tmp_path / f"corpuskit-unit-{HOST}-{int(gone.stdout)}-abc"
    live = tmp_path / f"corpuskit-unit-{HOST}-{os.getppid()}-def"
    for d in (dead, live):
        (d / "00000-000000").mkdir(parents=True)

    class Unit:
        key = "00000-000001"

    def task(unit, folder):
        (folder / unit.key).mkdir()
        (folder / unit.key / "stats.json").write_bytes(b"{}")
        seen.append(folder.name)

    seen: list[str] = []
    assert ray_engine._unit_files(task, Unit()) == {"stats.json": b"{}"}
    assert not dead.exists() and live.exists()
    assert seen[0].startswith(f"corpuskit-unit-{HOST}-{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]  # its own folder is removed too


@needs_ray
def test_chinese_stages_on_ray_match_local_for_any_worker_count(tmp_path, local_ray):
    """redact-pii and normalize's repairs run in the workers, dedup-lines in the driver: the
    same output whatever the engine and the number of workers."""
    raw = tmp_path / "raw"
    raw.mkdir()
    foot = "责任编辑：张三\n分享到：微信 微博"
    with open(raw / "a.jsonl", "wb") as f:
        for i, rec in enumerate(make_docs(120, seed=5)):
            text = rec["text"] + ("\n手机13812345678" if i % 3 == 0 else "") + "\n" + foot
            f.write(orjson.dumps({**rec, "text": text}) + b"\n")
    stages = ["normalize", "redact-pii", "dedup-lines"]
    outs = []
    for name, kw in (("w1", {"workers": 1}), ("w2", {"workers": 2}), ("ray", {"engine": "ray"})):
        st = run_pipeline(str(raw), str(tmp_path / name), PipelineConfig(stages=stages, unit_lines=25, **kw))
        assert st["conservation"]["ok"]
        outs.append((_tree(tmp_path / name), _counters(st)))
    assert outs[0] == outs[1] == outs[2]
    by = {s["stage"]: s for s in outs[0][1][1]}
    assert by["redact-pii"]["extra"]["counts"]["PHONE"] == 40
    assert by["dedup-lines"]["extra"]["lines_removed"] >= 2 * 119


@needs_ray
def test_model_stages_on_ray_match_local_for_any_worker_count(tmp_path, local_ray):
    """filter-model and filter-perplexity load their models in each worker (local pool or Ray),
    never pickled with the stage: the same output whatever the engine and the workers."""
    from tests.quality_models import docs, need, tiny_arpa, tiny_fasttext

    need("kenlm")
    models = tmp_path / "models"
    models.mkdir()
    ft, arpa = tiny_fasttext(models), tiny_arpa(models)
    raw = tmp_path / "raw"
    raw.mkdir()
    good, spam = docs(60, seed=13)
    with open(raw / "a.jsonl", "wb") as f:
        for i, t in enumerate(good + spam + ["the cat sat\nthe cat", "中文\n中文文"]):
            f.write(orjson.dumps({"id": f"d{i}", "text": t}) + b"\n")
    options = {"filter-model": {"model": str(ft), "threshold": 0.5},
               "filter-perplexity": {"model": str(arpa), "annotate": True, "cutoffs": "3,8"}}
    outs = []
    for name, kw in (("w1", {"workers": 1}), ("w2", {"workers": 2}), ("ray", {"engine": "ray"})):
        st = run_pipeline(str(raw), str(tmp_path / name),
                          PipelineConfig(stages=["filter-model", "filter-perplexity"], options=options,
                                         unit_lines=20, compression="none", **kw))
        assert st["conservation"]["ok"]
        outs.append((_tree(tmp_path / name), _counters(st)))
    assert outs[0] == outs[1] == outs[2]
    by = {s["stage"]: s for s in outs[0][1][1]}
    assert by["filter-model"]["in"] == 122 and by["filter-model"]["rejected"] >= 60
    kept = [orjson.loads(x) for k, v in outs[0][0].items() if k.startswith("data/") for x in v.splitlines()]
    assert {r["text"] for r in kept} >= set(good) and not {r["text"] for r in kept} & set(spam)
    assert all(r["meta"]["quality"]["score"] >= 0.5 for r in kept)
    assert all(r["meta"]["perplexity_bucket"] in ("head", "middle", "tail") for r in kept)


@needs_ray
def test_dedup_with_flat_driver_gives_the_same_result_in_every_mode(local_ray, monkeypatch):
    """`pipeline --engine ray` hands dedup a flat executor (RayFlatDedup): the per-document
    state (signatures, band and exact keys, lengths, ids) stays in the object store as blocks,
    band and exact keys are grouped by a Ray Data shuffle, the clusters are found in a task. Same
    records, reasons, details, meta and counters as the in-process dedup, in every mode: several
    blocks and band-row tables, more partitions than CPUs, a bucket larger than the chain of 8,
    exact copies, Chinese, empty texts, --survivor longest, --key FIELD, exact or near off."""
    import corpuskit.engine.ray_dedup as re_
    import corpuskit.stages.dedup.flat as flat
    from corpuskit.engine.ray import RayExecutor
    from corpuskit.stages.dedup.stage import Dedup

    docs = [{**d, "id": f"d{i}", "url": f"u{i % 170}"} for i, d in enumerate(make_docs(300, seed=5))
            if len(d["text"]) > 200]
    docs += [{**d, "id": f"dup-{i}", "text": d["text"] + " 再来一次。"} for i, d in enumerate(docs[:40])]
    docs += [{"id": f"tpl-{i}", "text": docs[1]["text"] + f" 第{i}版。" + "加" * (i % 3)} for i in range(14)]
    docs += [{**docs[3], "id": "copy-of-d3"}, {**docs[-1], "id": "copy-of-last"}, {"text": ""},
             {"text": "  "}, {"text": "!!!"}, {"text": "！！！"}]

    monkeypatch.setattr(flat, "BLOCK_DOCS", 24)  # many blocks
    monkeypatch.setattr(re_, "_BLOCKS_PER_TABLE", 5)  # several band-row tables
    monkeypatch.setattr(re_, "_ROWS_PER_PARTITION", 500)  # more partitions than CPUs

    def run(ex, **opts):
        return _run_dedup(Dedup(**opts), docs, ex)

    # the module's Ray, or (after the two-node test stopped it) a local one started here
    with RayExecutor(None, 2) as ex:
        # (--max-memory: the records spilled from the first, or past a few hundred)
        for opts in ({}, {"verify": "exact", "key": "url"},
                     {"verify": "estimate", "survivor": "longest", "threshold": 0.5, "fold_chinese": False},
                     {"exact": False}, {"near": False}, {"max_memory": "16KB"}, {"max_memory": "2MB"}):
            local, st = run(None, **opts)
            on_ray, st2 = run(ex, **opts)
            if "max_memory" in opts:  # the local tables grouped from partitions on disk: its own counters
                st.pop("grouping_spill_bytes", None)
            assert (on_ray, st2) == (local, st), opts
            flat_measured = ex.shuffles[-1].measured
            assert flat_measured["blocks"] > 10 and flat_measured["partitions"] > 2, opts
            assert st["exact_duplicate"] + st["near_duplicate"] > 0, opts
    assert st["clusters"] > 0 and st["top_clusters"]


@needs_ray
def test_perplexity_percentiles_on_ray_match_local(tmp_path, local_ray):
    """filter-perplexity --percentiles is a whole-stream stage: it runs after the map phase, in
    the driver under Ray; the same buckets, cut-offs and output as the local engine."""
    from tests.quality_models import docs, need, tiny_arpa

    need("kenlm")
    arpa = tiny_arpa(tmp_path)
    raw = tmp_path / "raw"
    raw.mkdir()
    good, spam = docs(40, seed=17)
    with open(raw / "a.jsonl", "wb") as f:
        for i, t in enumerate(good + spam + ["the cat sat\nthe cat", "中文\n中文文"]):
            f.write(orjson.dumps({"id": f"d{i}", "text": t, "meta": {"lang": "zh" if i % 2 else "en"}}) + b"\n")
    options = {"filter-perplexity": {"model": str(arpa), "percentiles": "30,60", "percentiles_by": "lang",
                                     "keep_buckets": "head,middle"}}
    outs = []
    for name, kw in (("w1", {"workers": 1}), ("w2", {"workers": 2}), ("ray", {"engine": "ray"})):
        st = run_pipeline(str(raw), str(tmp_path / name),
                          PipelineConfig(stages=["cat", "filter-perplexity"], options=options,
                                         unit_lines=20, compression="none", **kw))
        assert st["conservation"]["ok"]
        outs.append((_tree(tmp_path / name), _counters(st)))
    assert outs[0] == outs[1] == outs[2]
    by = {s["stage"]: s for s in outs[0][1][1]}
    assert by["filter-perplexity"]["in"] == 82 and by["filter-perplexity"]["reasons"]["perplexity_bucket"] > 0
    assert set(by["filter-perplexity"]["extra"]["cutoffs"]) == {"en", "zh"}
