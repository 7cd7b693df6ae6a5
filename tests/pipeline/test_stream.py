"""Single-stage runs (`corpuskit STAGE`): what pipeline/stream.py guarantees. The default chain
over Parquet gives the records it gives over the same data in JSONL, and writes Parquet or JSONL
alike."""
import gzip
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from corpuskit.core.errors import BadInput, UsageError
from corpuskit.io.jsonl import read_records, write_records
from corpuskit.pipeline.config import PipelineConfig
from corpuskit.pipeline.stream import run_stream
from corpuskit.registry import make_stage
from tests.corpus import make_docs

ROOT = Path(__file__).resolve().parents[2]

DOCS = [{"text": "one two three four five six seven eight nine ten eleven twelve"},
        {"text": "short"},
        {"text": "今天北京的天气很好，我们一起去公园散步，看到了很多美丽的花。"}]


def _input(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in DOCS))
    return p


@pytest.mark.parametrize("other", ["--rejected", "--bad-records", "--stats"])
def test_same_path_for_two_outputs_is_refused(run_cli, tmp_path, other):
    src = _input(tmp_path)
    out = tmp_path / "s.jsonl"
    p = run_cli(["filter-short", src, "-o", out, other, out, "--min-words", "5"])
    assert p.returncode == 2
    err = p.stderr.decode()
    assert err.startswith("corpuskit filter-short: error: ") and "both write to" in err and other in err
    assert err.count("\n") == 1 and not out.exists()


def test_same_file_by_another_name_is_refused(run_cli, tmp_path):
    src = _input(tmp_path)
    out = tmp_path / "s.jsonl"
    out.write_bytes(b"")
    (tmp_path / "alias.jsonl").symlink_to(out)
    os.link(out, tmp_path / "hard.jsonl")
    for other in ("alias.jsonl", "hard.jsonl", "./sub/../s.jsonl"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        p = run_cli(["filter-short", src, "-o", out, "--rejected", tmp_path / other])
        assert p.returncode == 2, other
    # stdout and a --rejected that is stdout too
    p = run_cli(["filter-short", src, "--rejected", "-"])
    assert p.returncode == 2 and b"stdout" in p.stderr


def test_a_shared_character_device_is_allowed(run_cli, tmp_path):
    src = _input(tmp_path)
    p = run_cli(["filter-short", src, "-o", "/dev/null", "--rejected", "/dev/null", "--min-words", "5"])
    assert p.returncode == 0, p.stderr


def test_distinct_outputs_keep_every_record(run_cli, tmp_path):
    src = _input(tmp_path)
    p = run_cli(["filter-short", src, "-o", tmp_path / "k.jsonl", "--rejected", tmp_path / "r.jsonl",
                 "--min-words", "5"])
    assert p.returncode == 0, p.stderr
    kept = (tmp_path / "k.jsonl").read_bytes().splitlines()
    rej = (tmp_path / "r.jsonl").read_bytes().splitlines()
    assert len(kept) + len(rej) == 3 and len(rej) == 1


# ---- disk full: one `error:` line, nothing partial left
@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (a real full disk) when this process may mount one (root), else None."""
    d = tmp_path / "tiny"
    d.mkdir()
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(d)],
                                               capture_output=True).returncode == 0
    yield d if ok else None
    if ok:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def _big_input(tmp_path, n=3000):
    p = tmp_path / "big.jsonl"
    p.write_bytes(b"".join(orjson.dumps({"text": f"第{i}条记录 " + "word " * 40}) + b"\n" for i in range(n)))
    return p


def _full_device(tmp_path):
    """A device that answers every write with ENOSPC: a private /dev/full as root, else the
    system's (which a non-root process cannot replace)."""
    if os.geteuid() == 0:
        dev = tmp_path / "full"
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        return dev
    return "/dev/full"


def test_disk_full_is_one_error_line(run_cli, tmp_path, tiny_disk):
    src = _big_input(tmp_path)
    targets = [_full_device(tmp_path)] + ([tiny_disk / "out.jsonl"] if tiny_disk else [])
    for out in targets:
        p = run_cli(["cat", src, "-o", out, "-q"])
        err = p.stderr.decode()
        assert p.returncode == 1, err
        assert err.startswith(f"corpuskit cat: error: {out}: cannot write: No space left on device")
        assert err.count("\n") == 1 and "Traceback" not in err
    if tiny_disk:
        assert list(tiny_disk.iterdir()) == []  # the temp file was removed
        # --rejected on the full disk: the same, and the kept output is not left half-written
        p = run_cli(["filter-short", src, "-o", tmp_path / "k.jsonl", "--rejected", tiny_disk / "r.jsonl",
                     "--min-words", "100", "-q"])
        assert p.returncode == 1 and p.stderr.decode().count("\n") == 1
        assert not (tmp_path / "k.jsonl").exists() and list(tiny_disk.iterdir()) == []


# ---- outputs that are not regular files, through a real shell
def _shell(cmd, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", "-c", cmd], capture_output=True, cwd=cwd, env=env, timeout=300)


def test_process_substitution_and_stdout_as_outputs(tmp_path):
    src = _input(tmp_path)
    ck = f"{sys.executable} -m corpuskit"
    # /dev/fd/1 is /dev/stdout's target: the same path through the code, but a regression could
    # never replace a system file with it (renaming into /proc fails)
    p = _shell(f"{ck} filter-short {src} -o >(gzip > kept.jsonl.gz) --rejected /dev/fd/1 --min-words 5 -q "
               "> rej.jsonl; wait", tmp_path)
    assert p.returncode == 0, p.stderr
    import time

    for _ in range(100):  # the gzip of the process substitution may finish after the shell
        if (tmp_path / "kept.jsonl.gz").stat().st_size:
            break
        time.sleep(0.05)
    kept = gzip.decompress((tmp_path / "kept.jsonl.gz").read_bytes()).splitlines()
    rej = (tmp_path / "rej.jsonl").read_bytes().splitlines()
    assert len(kept) == 2 and len(rej) == 1 and orjson.loads(rej[0])["text"] == "short"
    # appended to what the shell's redirection holds, not replacing it
    p = _shell(f"echo '# header' > both.txt; {ck} cat {src} -o /dev/fd/1 -q >> both.txt", tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "both.txt").read_bytes().splitlines()[0] == b"# header"
    assert len((tmp_path / "both.txt").read_bytes().splitlines()) == 4


def test_a_device_output_stays_a_device(run_cli, tmp_path):
    src = _input(tmp_path)
    if os.geteuid() == 0:  # the issue's `mknod n c 1 3`, in a private folder
        dev = tmp_path / "n"
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        dev = "/dev/null"
    p = run_cli(["cat", src, "-o", dev, "-q"])
    assert p.returncode == 0, p.stderr
    assert stat.S_ISCHR(os.stat(dev).st_mode)


def _inputs(tmp_path):
    recs = make_docs(45, seed=3) + [{"text": "重复的句子。" * 30, "n": 99}] * 2
    jl = tmp_path / "in.jsonl"
    jl.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    pq = tmp_path / "in.parquet"
    write_records(str(pq), recs)
    return jl, pq


def test_default_chain_gives_the_same_records_from_parquet_as_from_jsonl(tmp_path):
    jl, pq = _inputs(tmp_path)
    out = {}
    for name, src in (("j", jl), ("p", pq)):
        stats = run_stream(PipelineConfig().build(), [str(src)], str(tmp_path / f"{name}.jsonl"),
                           str(tmp_path / f"{name}.rej.jsonl"), None, None)
        out[name] = ((tmp_path / f"{name}.jsonl").read_bytes(), (tmp_path / f"{name}.rej.jsonl").read_bytes(),
                     stats["conservation"], [s["reasons"] for s in stats["stages"]])
    assert out["j"] == out["p"]
    assert out["j"][2]["ok"] and out["j"][2]["kept"] > 20 and out["j"][2]["rejected"] > 10


def test_parquet_output_holds_the_records_jsonl_output_holds(tmp_path):
    jl, _ = _inputs(tmp_path)
    chain = PipelineConfig(stages=["normalize", "filter-short"]).build
    run_stream(chain(), [str(jl)], str(tmp_path / "o.jsonl"), str(tmp_path / "r.parquet"), None, None)
    st = run_stream(chain(), [str(jl)], str(tmp_path / "o.parquet"), None, None, None)
    assert list(read_records(str(tmp_path / "o.parquet"))) == list(read_records(str(tmp_path / "o.jsonl")))
    assert st["output"]["records"] == len(list(read_records(str(tmp_path / "o.jsonl"))))
    rej = list(read_records(str(tmp_path / "r.parquet")))  # meta.rejected survives as JSON
    assert rej and all(r["meta"]["rejected"]["stage"] == "filter-short" for r in rej)


def test_limit_is_refused_for_a_source_stage_and_must_be_positive(tmp_path):
    with pytest.raises(UsageError, match="--limit"):
        run_stream([make_stage("fetch")], [str(tmp_path)], None, None, None, None, limit=3)


_MIXED = (b'{"id":"a","text":"one two three four five six","meta":{"n":1}}\n'
          b'{"text":"\xe4\xbb\x8a\xe5\xa4\xa9\xe5\x8c\x97\xe4\xba\xac\xe7\x9a\x84\xe5\xa4\xa9\xe6\xb0\x94\xe5\xbe\x88\xe5\xa5\xbd",'
          b' "url":"https://example.org/zh"}\n'
          b"\n"
          b'{"id":"b","text":"short","big":18446744073709551616,"f":1.5e3,"u":"\\u00e9\\ud83d\\ude00"}\n'
          b"not json\n"
          b'["an","array"]\n'
          b'{"id":"c","html":"<p>no text</p>"}\n'
          b'{"id":"d","text":"seven eight nine ten eleven twelve","deep":{"a":[{"b":-9223372036854775809}]}}\n')


def _general_path(stage, src, tmp_path, bad: bool) -> tuple[bytes, bytes, bytes, list]:
    """What Chain.run (the generator chain the pipeline runs) writes from the same reader."""
    from corpuskit.core.chain import Chain
    from corpuskit.io.jsonl import RecordReader, RecordWriter

    out, rej, badf = (tmp_path / f"g_{n}.jsonl" for n in ("out", "rej", "bad"))
    with RecordWriter(str(out)) as w, RecordWriter(str(rej)) as r, RecordWriter(str(badf)) as b:
        reader = RecordReader([str(src)], require_field=stage.required_field(), text_field=stage.text_field,
                              bad_sink=(lambda line, err: b.write_raw(line)) if bad else None)
        chain = Chain([stage], on_reject=r.write)
        for rec in chain.run(reader):
            w.write(rec)
    return out.read_bytes(), rej.read_bytes(), badf.read_bytes(), [s.as_dict() for s in chain.stats]


@pytest.mark.parametrize("name,opts", [("cat", {"require_text": True}), ("filter-short", {"min_words": 5})])
def test_a_stage_command_writes_the_bytes_and_errors_of_the_generator_chain(tmp_path, name, opts):
    """`corpuskit STAGE` pushes records from the reader to the writer in one loop (Chain.drain);
    its output, rejected and bad-records files and its counters are those of the generator
    chain, and without --bad-records it stops on the same FILE:LINE error."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(_MIXED)
    out, rej, bad = (tmp_path / f"{n}.jsonl" for n in ("out", "rej", "bad"))
    stats = run_stream([make_stage(name, **opts)], [str(src)], str(out), str(rej), str(bad), None, command=name)
    g_out, g_rej, g_bad, g_stages = _general_path(make_stage(name, **opts), src, tmp_path, bad=True)
    assert (out.read_bytes(), rej.read_bytes(), bad.read_bytes()) == (g_out, g_rej, g_bad)
    assert b'"big":18446744073709551616' in out.read_bytes() + rej.read_bytes()
    assert b'"b":-9223372036854775809' in out.read_bytes()
    assert bad.read_bytes().splitlines() == [b"not json", b'["an","array"]', b'{"id":"c","html":"<p>no text</p>"}']
    assert [{k: v for k, v in s.items() if k != "seconds"} for s in stats["stages"]] == g_stages
    assert stats["conservation"]["ok"] and stats["conservation"]["in"] == 7
    with pytest.raises(BadInput) as drained:
        run_stream([make_stage(name, **opts)], [str(src)], str(tmp_path / "o2.jsonl"), None, None, None,
                   command=name)
    with pytest.raises(BadInput) as general:
        _general_path(make_stage(name, **opts), src, tmp_path, bad=False)
    assert str(drained.value) == str(general.value)
    assert str(drained.value).startswith(f"{src}:5: invalid JSON (")
    assert not (tmp_path / "o2.jsonl").exists()


# ---- --stats is an output like the others: a symlink, a FIFO or a device is not replaced
def test_stats_through_a_symlink_a_fifo_and_a_device(run_cli, tmp_path):
    import threading

    src = _input(tmp_path)
    real = tmp_path / "real-stats.json"
    real.write_bytes(b"{}")
    link = tmp_path / "stats.json"
    link.symlink_to(real)
    p = run_cli(["cat", src, "-o", tmp_path / "k.jsonl", "--stats", link, "-q"])
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and orjson.loads(real.read_bytes())["conservation"]["in"] == 3
    # a FIFO: written through (a reader gets the JSON), never replaced by a regular file
    fifo = tmp_path / "stats.fifo"
    os.mkfifo(fifo)
    got = []
    t = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    t.start()
    p = run_cli(["cat", src, "-o", tmp_path / "k.jsonl", "--stats", fifo, "-q"])
    t.join(60)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and orjson.loads(got[0])["conservation"]["in"] == 3
    # a device stays a device (a private /dev/null as root)
    if os.geteuid() == 0:
        dev = tmp_path / "n"
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        p = run_cli(["cat", src, "-o", tmp_path / "k.jsonl", "--stats", dev, "-q"])
        assert p.returncode == 0, p.stderr
        assert stat.S_ISCHR(os.stat(dev).st_mode)
        # and a full one is one error line, exit 1
        p = run_cli(["cat", src, "-o", tmp_path / "k.jsonl", "--stats", _full_device(tmp_path), "-q"])
        err = p.stderr.decode()
        assert p.returncode == 1 and "cannot write: No space left on device" in err and err.count("\n") == 1
        assert stat.S_ISCHR(os.stat(tmp_path / "full").st_mode)


# ---- an output that is an input is refused before anything is read or written
@pytest.mark.parametrize("opt", ["-o", "--rejected", "--bad-records", "--stats"])
def test_an_output_naming_an_input_is_refused(run_cli, tmp_path, opt):
    src = _input(tmp_path)
    before = src.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(src)
    os.link(src, tmp_path / "hard.jsonl")
    for name in (src, tmp_path / "link.jsonl", tmp_path / "hard.jsonl"):
        args = ["filter-short", src, "-o", tmp_path / "k.jsonl", "--min-words", "5"]
        if opt == "-o":
            args[2:4] = ["-o", name]
        else:
            args += [opt, name]
        p = run_cli(args)
        err = p.stderr.decode()
        assert p.returncode == 2, err
        assert err.startswith(f"corpuskit filter-short: error: {opt} {name} is also an input ({src})")
        assert err.count("\n") == 1
        assert src.read_bytes() == before and not (tmp_path / "k.jsonl").exists()
    # a folder input: its files are inputs
    p = run_cli(["cat", tmp_path, "-o", tmp_path / "k.jsonl", opt if opt != "-o" else "--stats", src])
    assert p.returncode == 2 and src.read_bytes() == before


def test_stdout_or_stdin_that_is_an_input_file_is_refused(tmp_path):
    src = _input(tmp_path)
    before = src.read_bytes()
    ck = f"{sys.executable} -m corpuskit"
    p = _shell(f"{ck} cat in.jsonl >> in.jsonl", tmp_path)  # would read what it appends
    assert p.returncode == 2 and b"-o stdout is also an input" in p.stderr
    p = _shell(f"{ck} cat -o in.jsonl < in.jsonl", tmp_path)
    assert p.returncode == 2 and b"is also an input (stdin)" in p.stderr
    assert src.read_bytes() == before


def test_mix_sources_and_decontaminate_evaluation_sets_are_inputs(run_cli, tmp_path):
    src = _input(tmp_path)
    before = src.read_bytes()
    p = run_cli(["mix", "--source", f"a={src}", "--docs", "2", "-o", src])
    assert p.returncode == 2 and b"-o " + str(src).encode() + b" is also an input" in p.stderr
    ev = tmp_path / "eval.jsonl"
    ev.write_bytes(b'{"text":"an evaluation item of some words"}\n')
    p = run_cli(["decontaminate", src, "--against", ev, "-o", tmp_path / "k.jsonl", "--rejected", ev])
    assert p.returncode == 2 and b"is also an input" in p.stderr
    assert src.read_bytes() == before and ev.read_bytes() == b'{"text":"an evaluation item of some words"}\n'


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_mid_write_leave_no_temporary_file(tmp_path, sig):
    """`kill`, `timeout`, a job scheduler or a closed terminal stop a command as Ctrl-C does:
    the temporary output is removed (it was left, as big as what was written), one line, exit
    130. The input is a FIFO held open, so the command is mid-run, its output open, when the
    signal comes."""
    import signal
    import time

    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "corpuskit", "normalize", str(fifo), "-o",
                          str(out_dir / "out.jsonl"), "--rejected", str(out_dir / "rej.jsonl")],
                         env=env, stderr=subprocess.PIPE, start_new_session=True,
                         # at its default in the command, as in a terminal: under nohup (SIGHUP
                         # ignored, and inherited) the command keeps it ignored, as it should
                         preexec_fn=lambda: signal.signal(getattr(signal, sig), signal.SIG_DFL))
    fd = os.open(fifo, os.O_WRONLY)  # held open: the command waits for more input
    try:
        os.write(fd, b"".join(orjson.dumps({"text": f"record {i} " * 20}) + b"\n" for i in range(2000)))
        deadline = time.monotonic() + 120
        while len(list(out_dir.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # the temporary outputs are open
        assert len(list(out_dir.iterdir())) == 2 and p.poll() is None
        p.send_signal(getattr(signal, sig))
        err = p.communicate(timeout=120)[1]
    finally:
        os.close(fd)
    assert p.returncode == 130, err
    assert err.decode() == "corpuskit normalize: interrupted\n"
    assert list(out_dir.iterdir()) == []


def test_a_fifo_or_process_substitution_input_is_read_whole(tmp_path):
    # its first bytes were read ahead to tell Parquet or WARC from JSONL, and lost: `cat <(...)`
    # wrote nothing, "empty file", exit 0
    ck = f"{sys.executable} -m corpuskit"
    lines = "".join(f'{{"text":"record {i}"}}\\n' for i in range(3))
    for cmd in (f"cat <(printf '{lines}') -q", f"cat <(printf '{lines}' | gzip) -q",
                f"filter-short <(printf '{lines}') --min-words 1 -q"):
        p = _shell(f"{ck} {cmd}", tmp_path)
        assert p.returncode == 0, p.stderr
        assert [orjson.loads(x)["text"] for x in p.stdout.splitlines()] == [f"record {i}" for i in range(3)]
    p = _shell(f"{ck} count --json <(printf '{lines}')", tmp_path)
    assert p.returncode == 0 and orjson.loads(p.stdout)[0]["records"] == 3
    # mix reads a source twice (sizes, then documents): a stream is refused, not read as empty
    p = _shell(f"{ck} mix --source a=<(printf '{lines}') --docs 2", tmp_path)
    assert p.returncode == 2 and b"is a stream" in p.stderr and p.stdout == b""


def test_an_output_path_ending_in_a_slash_is_refused(run_cli, tmp_path):
    # `-o newdir/` wrote a file named newdir
    src = _input(tmp_path)
    for opt in ("-o", "--rejected", "--stats"):
        args = ["cat", src, "-o", tmp_path / "k.jsonl"] if opt != "-o" else ["cat", src]
        p = run_cli([*args, opt, f"{tmp_path}/newdir/"])
        assert p.returncode == 2 and b"names a folder (ends in '/')" in p.stderr, p.stderr
        assert not (tmp_path / "newdir").exists() and not (tmp_path / "k.jsonl").exists()
    # a --stats that is a folder is refused before the work, not after the outputs are written
    p = run_cli(["cat", src, "-o", tmp_path / "k.jsonl", "--stats", tmp_path])
    assert p.returncode == 2 and b"is a directory" in p.stderr and not (tmp_path / "k.jsonl").exists()


def test_a_replaced_file_keeps_its_permissions_and_parquet_outputs_are_like_the_others(run_cli, tmp_path):
    # replacing a private (0600) output left it 0644; Parquet was created 0600 (mkstemp), and
    # replaced a symlink by a regular file and a FIFO by a file
    import threading

    src = _input(tmp_path)
    for name in ("k.jsonl", "k.jsonl.zst", "k.parquet", "s.json"):
        out = tmp_path / name
        out.write_bytes(b"old")
        out.chmod(0o600)
        opt = "--stats" if name == "s.json" else "-o"
        args = ["cat", src, "-q", opt, out] + (["-o", tmp_path / "other.jsonl"] if opt == "--stats" else [])
        p = run_cli(args)
        assert p.returncode == 0, p.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_bytes() != b"old", name
    umask = os.umask(0)
    os.umask(umask)
    new = tmp_path / "new.parquet"
    assert run_cli(["cat", src, "-o", new, "-q"]).returncode == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    link = tmp_path / "link.parquet"
    link.symlink_to(new.name)
    assert run_cli(["cat", src, "-o", link, "-q", "--limit", "1"]).returncode == 0
    assert link.is_symlink() and len(list(read_records(str(new)))) == 1
    fifo = tmp_path / "out.parquet.fifo"
    os.mkfifo(fifo)
    got = []
    t = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    t.start()
    p = run_cli(["cat", src, "-o", f"{fifo}", "-q"])
    t.join(60)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got[0][:4] == b"{\"id"  # (JSONL: the name is not .parquet)
    fifo2 = tmp_path / "out.parquet"
    os.mkfifo(fifo2)
    got.clear()
    t = threading.Thread(target=lambda: got.append(fifo2.read_bytes()))
    t.start()
    p = run_cli(["cat", src, "-o", fifo2, "-q"])
    t.join(60)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISFIFO(os.lstat(fifo2).st_mode) and got[0][:4] == b"PAR1" and got[0][-4:] == b"PAR1"


def test_a_report_folder_whose_files_are_inputs_is_refused(run_cli, tmp_path):
    # `tokenize-stats stats.json --report .` replaced the input by the report's stats.json
    src = tmp_path / "stats.json"  # (a .json file is read as JSON lines)
    src.write_bytes(b'{"text":"hello world"}\n')
    p = run_cli(["tokenize-stats", src, "--report", tmp_path, "-q"])
    assert p.returncode == 2 and f"--report {src} is also an input".encode() in p.stderr
    assert src.read_bytes() == b'{"text":"hello world"}\n' and not (tmp_path / "report.html").exists()


def test_a_report_file_that_is_a_symlink_stays_one(run_cli, tmp_path):
    # --report DIR replaced a stats.json symlink by a regular file (its target left stale)
    src = _input(tmp_path)
    (tmp_path / "keep").mkdir()
    (tmp_path / "r").mkdir()
    (tmp_path / "keep" / "stats.json").write_bytes(b"{}")
    (tmp_path / "r" / "stats.json").symlink_to("../keep/stats.json")
    p = run_cli(["tokenize-stats", src, "--report", tmp_path / "r", "-q", "-o", tmp_path / "k.jsonl"])
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "r" / "stats.json").is_symlink() and (tmp_path / "keep" / "stats.json").read_bytes() != b"{}"
