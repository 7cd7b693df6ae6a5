"""tokenize: ids exactly the tokenizer's, read back by a reader of Megatron's format written
here from its description (it shares no code with the writer), shards, shuffle, manifest,
conservation, the stream-stage form and `corpuskit tokens show`."""
import hashlib
import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.core.chain import run_stages
from corpuskit.core.errors import UsageError
from corpuskit.core.records import fix_surrogates
from corpuskit.pipeline.tokenize import run_tokenize
from corpuskit.registry import make_stage
from corpuskit.tokens.tokenizers import tiktoken_encoding
from tests.corpus import mixed_paragraphs
from tests.memory import traced_peak

EN = ("The quick brown fox jumps over the lazy dog. It's 3.14159 o'clock, and we've "
      "got 1,234,567 reasons   to count tokens\n\nexactly!\r\n    indented code();\n")
ZH = "语言模型的训练语料需要清洗。今天天气很好，我们去公园散步吧！《红楼梦》是中国古典小说。\n第二段：数据、统计与报告。"


# ------------------------------------------------------------------ independent readers
# Written from the description of megatron/core/datasets/indexed_dataset.py's index: header
# b"MMIDIDX\x00\x00", <Q version (1), <B dtype code, <Q sequence count, <Q document count,
# int32 sequence lengths, int64 sequence byte pointers, int64 document indices.
_MEGATRON_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64,
                    6: np.float64, 7: np.float32, 8: np.uint16}


def megatron_docs(prefix: Path) -> tuple[list[list[int]], np.dtype]:
    idx = Path(str(prefix) + ".idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    assert int.from_bytes(idx[9:17], "little") == 1
    dtype = np.dtype(_MEGATRON_DTYPES[idx[17]])
    n_seq = int.from_bytes(idx[18:26], "little")
    n_doc = int.from_bytes(idx[26:34], "little")
    pos = 34
    lengths = np.frombuffer(idx, np.int32, n_seq, pos)
    pos += 4 * n_seq
    pointers = np.frombuffer(idx, np.int64, n_seq, pos)
    pos += 8 * n_seq
    doc_idx = np.frombuffer(idx, np.int64, n_doc, pos)
    pos += 8 * n_doc
    assert pos == len(idx), "index has trailing bytes"
    assert doc_idx[0] == 0 and doc_idx[-1] == n_seq and np.all(np.diff(doc_idx) >= 0)
    data = Path(str(prefix) + ".bin").read_bytes()
    assert len(data) == int(lengths.astype(np.int64).sum()) * dtype.itemsize
    seqs = []
    expect = 0
    for p, n in zip(pointers.tolist(), lengths.tolist()):
        assert p == expect  # sequences are contiguous, in order
        seqs.append(np.frombuffer(data, dtype, n, p).tolist())
        expect = p + n * dtype.itemsize
    docs = [sum(seqs[a:b], []) for a, b in zip(doc_idx[:-1].tolist(), doc_idx[1:].tolist())]
    return docs, dtype


def read_all(out: Path) -> list[list[int]]:
    """Every document of a tokenize folder, through the independent readers, in shard order."""
    m = json.loads((out / "manifest.json").read_text())
    docs: list[list[int]] = []
    for s in m["shards"]:
        if m["format"] == "megatron":
            got, dtype = megatron_docs(out / s["name"])
        else:
            ids = np.load(out / f"{s['name']}.ids.npy")
            offsets = np.load(out / f"{s['name']}.offsets.npy")
            assert offsets[0] == 0 and offsets[-1] == len(ids)
            dtype = ids.dtype
            got = [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
        assert dtype.name == m["dtype"]
        assert len(got) == s["documents"] and sum(map(len, got)) == s["tokens"]
        docs += got
    return docs


def write_jsonl(path: Path, texts, **extra) -> Path:
    path.write_bytes(b"".join(orjson.dumps({"text": t, **extra}) + b"\n" for t in texts))
    return path


def tokenize(tmp_path, texts, name="out", workers=1, **opts):
    src = tmp_path / f"{name}.jsonl"
    if not src.exists():
        write_jsonl(src, texts)
    out = tmp_path / name
    stats = run_tokenize([str(src)], str(out), make_stage("tokenize", **opts), workers=workers)
    return out, stats


# ------------------------------------------------------------------ exact ids
def _every_code_point_docs() -> list[str]:
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    return ["".join(map(chr, cps[i:i + 8192])) for i in range(0, len(cps), 8192)]


@pytest.mark.parametrize("enc", ["cl100k_base", "o200k_base"])
def test_every_code_point_ids_are_tiktokens(tmp_path, enc):
    texts = _every_code_point_docs() + [EN, ZH, "<|endoftext|> spelled in the text"]
    out, stats = tokenize(tmp_path, texts, tokenizer=enc, format="megatron")
    ref = tiktoken_encoding(enc)
    eos = ref.eot_token
    got = read_all(out)
    assert len(got) == len(texts)
    for doc, text in zip(got, texts):
        assert doc == ref.encode_ordinary(text) + [eos]
    assert stats["conservation"]["ok"] and stats["tokens"]["documents_approximate"] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(st.characters(), min_size=1, max_size=200), min_size=1, max_size=12))
def test_hypothesis_texts_with_surrogates_are_tiktokens(texts):
    # through the stage itself (a str may hold lone surrogates; JSON input cannot carry them)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "o"
        stage = make_stage("tokenize", tokenizer="cl100k_base", output=str(out), format="npy", threads=1)
        kept, rejected, _ = run_stages([stage], [{"id": str(i), "text": t} for i, t in enumerate(texts)])
        ref = tiktoken_encoding("cl100k_base")
        want = [ref.encode_ordinary(fix_surrogates(t)) + [ref.eot_token] for t in texts if t.strip()]
        assert read_all(out) == want
        assert len(kept) + len(rejected) == len(texts)
        assert all(r["meta"]["rejected"]["reason"] == "empty" for r in rejected)


def _train_hf(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([EN, ZH] * 20, trainer)
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return tok, path


def test_hf_tokenizer_ids_bos_eos_and_uint16(tmp_path):
    ref, path = _train_hf(tmp_path)
    texts = [EN, ZH, "🙂 emoji 🎉", "mixed 中文 and English"]
    out, _ = tokenize(tmp_path, texts, tokenizer=str(path), bos="<s>")
    m = json.loads((out / "manifest.json").read_text())
    eos, bos = ref.token_to_id("</s>"), ref.token_to_id("<s>")
    assert (m["eos"], m["bos"], m["dtype"], m["vocab_size"]) == (eos, bos, "uint16", ref.get_vocab_size())
    assert read_all(out) == [[bos] + ref.encode(t, add_special_tokens=False).ids + [eos] for t in texts]
    # --eos by id, and none
    out2, _ = tokenize(tmp_path, texts, name="out2", tokenizer=str(path), eos="none")
    assert read_all(out2) == [ref.encode(t, add_special_tokens=False).ids for t in texts]


def test_options_are_checked():
    with pytest.raises(UsageError, match="no token ids"):
        make_stage("tokenize", tokenizer="words")
    with pytest.raises(UsageError, match="not a token"):
        make_stage("tokenize", eos="<|nope|>")
    with pytest.raises(UsageError, match="shard-tokens"):
        make_stage("tokenize", shard_tokens=0)
    assert make_stage("tokenize", eos="100257").eos_id == 100257
    assert make_stage("tokenize", tokenizer="o200k_base").eos_id == 199999


# ------------------------------------------------------------------ shards and order
def _corpus(n=300):
    return [(EN if i % 3 else ZH)[: 20 + (i * 37) % 150] + f" #{i}" for i in range(n)]


@pytest.mark.parametrize("fmt", ["megatron", "npy"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_shards_concatenate_to_the_single_shard_output(tmp_path, fmt, shuffle):
    texts = _corpus()
    one, _ = tokenize(tmp_path, texts, name="one", format=fmt, shuffle=shuffle, seed=3)
    src = tmp_path / "many.jsonl"
    src.write_bytes((tmp_path / "one.jsonl").read_bytes())
    many, _ = tokenize(tmp_path, texts, name="many", format=fmt, shuffle=shuffle, seed=3, shard_tokens=500)
    m1 = json.loads((one / "manifest.json").read_text())
    m = json.loads((many / "manifest.json").read_text())
    assert len(m1["shards"]) == 1 and len(m["shards"]) > 4
    assert read_all(many) == read_all(one)
    # every shard but the last reaches shard_tokens, and ends with the document that did
    docs = read_all(many)
    first = 0
    for s in m["shards"]:
        mine = docs[first:first + s["documents"]]
        first += s["documents"]
        if s is not m["shards"][-1]:
            assert s["tokens"] >= 500 > s["tokens"] - len(mine[-1])
    assert m["documents"] == m1["documents"] == len(texts)
    if fmt == "megatron":  # the raw .bin files concatenate to the single .bin
        cat = b"".join((many / f"{s['name']}.bin").read_bytes() for s in m["shards"])
        assert cat == (one / "part-00000.bin").read_bytes()


def test_shuffle_is_a_deterministic_permutation(tmp_path):
    texts = _corpus(400)
    plain, _ = tokenize(tmp_path, texts, name="plain")
    a, _ = tokenize(tmp_path, texts, name="a", shuffle=True, seed=1)
    b, _ = tokenize(tmp_path, texts, name="b", shuffle=True, seed=1)
    c, _ = tokenize(tmp_path, texts, name="c", shuffle=True, seed=2)
    docs = read_all(plain)
    da, db, dc = read_all(a), read_all(b), read_all(c)
    assert (a / "part-00000.bin").read_bytes() == (b / "part-00000.bin").read_bytes()
    assert da == db and da != docs and dc != da
    assert sorted(map(tuple, da)) == sorted(map(tuple, docs)) == sorted(map(tuple, dc))
    # not merely rotated: the first documents come from all over the input
    first = {docs.index(d) for d in da[:20]}
    assert max(first) - min(first) > 200


def test_shuffle_order_does_not_depend_on_the_bucket_size(tmp_path):
    from corpuskit.stages.tokenize import shards as S

    texts = _corpus(200)
    out, _ = tokenize(tmp_path, texts, name="ref", shuffle=True, seed=5)
    stage = make_stage("tokenize", shuffle=True, seed=5)
    # the same units, reduced with tiny buckets (many passes): the same order
    src = tmp_path / "ref.jsonl"
    units = []
    work = tmp_path / "units"
    work.mkdir()
    lines = src.read_bytes().splitlines()
    for k in range(0, len(lines), 50):  # units as the driver cuts them with unit_lines=50
        key = f"00000-{k // 50:06d}"
        folder = work / key
        folder.mkdir()
        stage.map_unit([orjson.loads(x) for x in lines[k:k + 50]], folder, "s", lambda r: None)
        units.append((key, folder))
    outs = []
    for bucket in (10**9, 300, 50):
        o = tmp_path / f"b{bucket}"
        o.mkdir()
        S.write_shards(units, o, "megatron", stage.dtype, 10**9, shuffle=True, seed=5, bucket_tokens=bucket)
        outs.append((o / "part-00000.bin").read_bytes())
    assert outs[0] == outs[1] == outs[2]
    # and with the driver's own units (10,000 lines each) the documents are the same set
    assert sorted(map(tuple, read_all(out))) == sorted(
        map(tuple, megatron_docs(tmp_path / "b50" / "part-00000")[0]))


# ------------------------------------------------------------------ manifest, conservation
def test_manifest_conservation_rejected_and_bad_lines(tmp_path, run_cli):
    src = tmp_path / "in.jsonl"
    lines = [orjson.dumps({"text": EN}), orjson.dumps({"text": "   \n"}), b"{not json",
             orjson.dumps({"text": "hi", "meta": {"source": "web"}}), orjson.dumps({"text": ZH}),
             orjson.dumps({"text": ""}), orjson.dumps({"no_text": 1})]
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    r = run_cli(["tokenize", str(src), "-o", str(out), "--min-tokens", "2", "--rejected",
                 str(tmp_path / "rej.jsonl"), "--bad-records", str(tmp_path / "bad.jsonl"),
                 "--stats", str(tmp_path / "stats.json"), "-j", "1"])
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["documents"] == 2 and m["rejected"] == {"records": 3, "reasons": {"empty": 2, "too_few_tokens": 1}}
    assert m["conservation"] == {"in": 5, "documents": 2, "rejected": 3, "ok": True}
    enc = tiktoken_encoding("cl100k_base")
    assert m["tokens"] == len(enc.encode_ordinary(EN)) + len(enc.encode_ordinary(ZH)) + 2
    assert m["sources"] == {str(src): {"documents": 2, "tokens": m["tokens"]}}
    for s in m["shards"]:
        for f, digest in s["sha256"].items():
            assert hashlib.sha256((out / f).read_bytes()).hexdigest() == digest
    rej = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [x["meta"]["rejected"]["reason"] for x in rej] == ["empty", "too_few_tokens", "empty"]
    assert (tmp_path / "bad.jsonl").read_bytes() == b'{not json\n{"no_text":1}\n'
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["conservation"] == {"in": 7, "kept": 2, "rejected": 3, "quarantined": 2, "ok": True}
    # without --bad-records a bad line is a one-line error naming the file and line
    r = run_cli(["tokenize", str(src), "-o", str(tmp_path / "strict")])
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"corpuskit tokenize: error: {src}:3: ")


def test_parquet_rows_that_cannot_be_records_are_bad_records_as_in_pipeline(tmp_path, run_cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "x.parquet"
    pq.write_table(pa.table({"text": [EN, ZH, EN + " again"],
                             "blob": pa.array([b"fine", b"\xff\x00", None], pa.binary())}), src)
    out = tmp_path / "out"
    r = run_cli(["tokenize", str(src), "-o", str(out), "--bad-records", str(tmp_path / "bad.jsonl"),
                 "--stats", str(tmp_path / "stats.json"), "-j", "1"])
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "manifest.json").read_text())["documents"] == 2
    assert orjson.loads((tmp_path / "bad.jsonl").read_bytes()) == {"text": ZH, "blob": {"base64": "/wA="}}
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["input"]["bad_records"] == {"invalid_utf8": 1}
    assert stats["conservation"] == {"in": 3, "kept": 2, "rejected": 0, "quarantined": 1, "ok": True}
    r = run_cli(["tokenize", str(src), "-o", str(tmp_path / "strict")])
    assert r.returncode == 1 and "x.parquet:2: binary value is not UTF-8" in r.stderr.decode()


def test_sources_from_meta_and_per_file(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [EN, EN])
    write_jsonl(tmp_path / "b.jsonl", [ZH], meta={"source": "zh-news"})
    out = tmp_path / "out"
    run_tokenize([str(a), str(tmp_path / "b.jsonl")], str(out), make_stage("tokenize"), workers=1)
    m = json.loads((out / "manifest.json").read_text())
    n_en = len(tiktoken_encoding("cl100k_base").encode_ordinary(EN)) + 1
    assert m["sources"][str(a)] == {"documents": 2, "tokens": 2 * n_en}
    assert m["sources"]["zh-news"]["documents"] == 1


def test_output_folder_rules(tmp_path, run_cli):
    src = write_jsonl(tmp_path / "in.jsonl", [EN])
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("x")
    r = run_cli(["tokenize", str(src), "-o", str(foreign)])
    assert r.returncode == 2 and b"not written by corpuskit" in r.stderr
    assert run_cli(["tokenize", str(src)]).returncode == 2  # no -o
    # a second run replaces the first one's shards (fewer shards: no stale file stays)
    out = tmp_path / "out"
    write_jsonl(tmp_path / "big.jsonl", _corpus(100))
    assert run_cli(["tokenize", str(tmp_path / "big.jsonl"), "-o", str(out), "--shard-tokens", "300"]).returncode == 0
    assert len(list(out.glob("*.bin"))) > 2
    assert run_cli(["tokenize", str(src), "-o", str(out)]).returncode == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "manifest.json", "part-00000.bin", "part-00000.idx"]
    assert not (out / ".work").exists()


def test_stdin_and_stream_stage(tmp_path, run_cli):
    texts = [EN, ZH, ""]
    data = b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts)
    r = run_cli(["tokenize", "-o", str(tmp_path / "s"), "-q"], input=data)
    assert r.returncode == 0, r.stderr
    ref = tiktoken_encoding("cl100k_base")
    want = [ref.encode_ordinary(t) + [ref.eot_token] for t in texts[:2]]
    assert read_all(tmp_path / "s") == want
    stage = make_stage("tokenize", output=str(tmp_path / "st"))
    kept, rejected, stats = run_stages([stage], [{"text": t} for t in texts])
    assert [r["text"] for r in kept] == texts[:2] and len(rejected) == 1
    assert read_all(tmp_path / "st") == want
    assert stats[0].extra["documents"] == 2


def test_tokens_show_decodes_documents(tmp_path, run_cli):
    out, _ = tokenize(tmp_path, [EN, ZH], format="npy")
    r = run_cli(["tokens", "show", str(out), "--doc", "1", "--doc", "0"])
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert text.index(ZH) < text.index(EN.strip()) and "<|endoftext|>" in text
    assert "part-00000" in r.stderr.decode()
    assert run_cli(["tokens", "show", str(out), "--verify", "-q"]).returncode == 0
    ids = out / "part-00000.ids.npy"
    ids.write_bytes(ids.read_bytes()[:-1] + b"\x01")
    r = run_cli(["tokens", "show", str(out), "--verify"])
    assert r.returncode == 1 and b"sha256 differs" in r.stderr and b"MISMATCH" in r.stderr
    r = run_cli(["tokens", "show", str(out), "--doc", "5"])
    assert r.returncode == 2 and b"out of range" in r.stderr
    r = run_cli(["tokens", "show", str(tmp_path)])
    assert r.returncode == 2 and b"manifest.json" in r.stderr


def test_package_reader_agrees_with_the_independent_one(tmp_path):
    from corpuskit.stages.tokenize import shards as S

    for fmt in ("megatron", "npy"):
        out, _ = tokenize(tmp_path, _corpus(50), name=f"r{fmt}", format=fmt, shard_tokens=400)
        ts = S.TokenShards(out)
        docs = read_all(out)
        assert [d.tolist() for d in ts] == docs
        assert ts.doc(len(docs) - 1).tolist() == docs[-1] and ts.documents == len(docs)


def test_eos_from_tokenizer_config_and_default_names(tmp_path):
    ref, path = _train_hf(tmp_path)
    # "</s>" is found by its usual name; a tokenizer_config.json beside the file wins
    assert make_stage("tokenize", tokenizer=str(path)).eos_id == ref.token_to_id("</s>")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"eos_token": {"content": "<s>"}}))
    assert make_stage("tokenize", tokenizer=str(path)).eos_id == ref.token_to_id("<s>")


def test_huge_white_space_run_is_counted_as_approximate(tmp_path):
    texts = ["fine", "start" + " " * 200_000 + "end"]
    out, stats = tokenize(tmp_path, texts)
    m = json.loads((out / "manifest.json").read_text())
    assert m["documents_approximate"] == 1 and m["documents"] == 2
    assert read_all(out)[0] == tiktoken_encoding("cl100k_base").encode_ordinary("fine") + [100257]


def test_integers_beyond_64_bits_pass_unchanged_into_rejected(tmp_path, run_cli):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text":"","big":18446744073709551616,"neg":-1180591620717411303424}\n'
                    + orjson.dumps({"text": EN}) + b"\n")
    rej = tmp_path / "rej.jsonl"
    r = run_cli(["tokenize", str(src), "-o", str(tmp_path / "o"), "--rejected", str(rej), "-q"])
    assert r.returncode == 0, r.stderr
    assert b'"big":18446744073709551616' in rej.read_bytes()
    assert b'"neg":-1180591620717411303424' in rej.read_bytes()


# ------------------------------------------------------------------ bounded memory of the reduce
def _megatron_index_of(lens: np.ndarray, itemsize: int, code: int) -> bytes:
    """The .idx of documents of these lengths, from the format's description, whole arrays."""
    n = len(lens)
    pointers = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) * itemsize
    return (b"MMIDIDX\x00\x00" + (1).to_bytes(8, "little") + bytes([code]) + n.to_bytes(8, "little")
            + (n + 1).to_bytes(8, "little") + lens.astype(np.int32).tobytes()
            + pointers.tobytes() + np.arange(n + 1, dtype=np.int64).tobytes())


@pytest.mark.parametrize("fmt", ["megatron", "npy"])
def test_shard_index_written_in_chunks_is_the_whole_arrays_index(tmp_path, fmt):
    from corpuskit.stages.tokenize import shards as S

    rng = np.random.default_rng(7)
    lens = rng.integers(0, 40, 2_000).astype(np.int64)  # zero-length documents too (--eos none)
    ids = rng.integers(0, 60_000, int(lens.sum())).astype(np.uint16)
    unit = tmp_path / "ids.bin"
    unit.write_bytes(ids.tobytes())
    outs = []
    for how, chunk in (("add", 3), ("add", 1 << 20), ("file", 5), ("file", 1)):
        out = tmp_path / f"{how}{chunk}"
        out.mkdir()
        w = S.ShardSetWriter(out, fmt, np.uint16, 7_000, index_chunk=chunk)
        if how == "add":  # in uneven batches, as the shuffled reduce hands them
            cut = [0, 1, 500, 501, 1999, 2000]
            starts = np.concatenate([[0], np.cumsum(lens)])
            for a, b in zip(cut, cut[1:]):
                w.add(ids[starts[a]:starts[b]], lens[a:b])
        else:
            with open(unit, "rb") as src:
                w.add_file(src, lens)
        shards = w.close()
        assert len(shards) >= 3 and sorted(p.name for p in out.iterdir()) == sorted(
            f for s in shards for f in s["files"])  # the temporary lengths files are gone
        outs.append({f: (out / f).read_bytes() for s in shards for f in s["files"]})
        # each shard's index is the one built from its whole length array
        first = 0
        for s in shards:
            mine = lens[first:first + s["documents"]]
            first += s["documents"]
            if fmt == "megatron":
                assert outs[-1][s["files"][1]] == _megatron_index_of(mine, 2, 8)
            else:
                ref = tmp_path / "ref.npy"
                np.save(ref, np.concatenate([[0], np.cumsum(mine)]).astype(np.int64))
                assert outs[-1][s["files"][1]] == ref.read_bytes()
        assert first == len(lens)
    assert outs[0] == outs[1] == outs[2] == outs[3]


def test_shard_writer_holds_nothing_per_document(tmp_path):
    """A shard of 1.5M one-token documents: the writer's memory stays at its chunks (before,
    it kept every length until the shard closed: 8 bytes a document, and ~40 at the close)."""
    import tracemalloc

    from corpuskit.stages.tokenize import shards as S

    n, batch = 1_500_000, 10_000
    w = S.ShardSetWriter(tmp_path, "megatron", np.int32, 10**12, index_chunk=4096)
    ones = np.ones(batch, np.int64)
    ids = np.arange(batch, dtype=np.int32)
    tracemalloc.start()
    try:
        for _ in range(n // batch):
            w.add(ids, ones)
        shards = w.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert shards[0]["documents"] == n
    assert peak < 2_000_000, f"{peak:,} bytes traced for {n:,} documents"
    idx = (tmp_path / "part-00000.idx").read_bytes()
    assert len(idx) == 34 + n * (4 + 8 + 8) + 8
    assert np.frombuffer(idx, np.int64, 3, 34 + 4 * n).tolist() == [0, 4, 8]  # byte pointers
    assert np.frombuffer(idx, np.int64, 2, len(idx) - 16).tolist() == [n - 1, n]


def test_map_unit_writes_ids_as_they_come(tmp_path, monkeypatch):
    """A unit's ids go to its file batch by batch: the map holds one batch of ids, not the
    unit's (before, every document's ids were held until the unit was written)."""
    import tracemalloc

    from corpuskit.stages.tokenize import stage as S

    monkeypatch.setattr(S, "BATCH_CHARS", 1 << 16)
    stage = make_stage("tokenize", threads=1)
    doc = "".join(f" {i % 10}" for i in range(50_000))  # 100,000 tokens: " " and a digit each
    recs = [{"text": doc} for _ in range(40)]  # 4M tokens: 16 MB of int32 ids
    stage.map_unit(recs[:1], tmp_path, "s", lambda r: None)  # the encoding is loaded before
    encode = stage.encode_parts

    def traced_encode(texts):  # tiktoken's buffers are Rust's, unseen by tracemalloc: numpy copies
        seqs, approx = encode(texts)
        return [[np.array(x) for x in parts] for parts in seqs], approx

    monkeypatch.setattr(stage, "encode_parts", traced_encode)
    tracemalloc.start()
    try:
        st = stage.map_unit(recs, tmp_path, "s", lambda r: None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert st["tokens"] == 40 * 100_001 and (tmp_path / "ids.bin").stat().st_size == 4 * st["tokens"]
    assert np.load(tmp_path / "lens.npy").tolist() == [100_001] * 40
    assert peak < 6_000_000, f"{peak:,} bytes traced for 16 MB of ids"


# ------------------------------------------------------------------ huge records
def _mixed_paragraphs(n_bytes, seed=0):
    return mixed_paragraphs(n_bytes, seed, en=EN.split("\n")[0].split(". "), zh=ZH.split("。"), zh_sep="。")


@pytest.mark.parametrize("threads", [1, 2])
def test_a_huge_record_is_tokenised_a_piece_at_a_time(tmp_path, monkeypatch, threads):
    """One 2 MB record through map_unit: traced memory stays well under its size (before: the
    pieces of split_for_bpe, a copy of the text, were all held, its ids copied into one array,
    and `text.strip()` copied it twice: about 4.3x). tiktoken's own buffers are Rust's, unseen
    here; the pieces and any numpy copy are seen."""

    from corpuskit.tokens import tokenizers as T

    monkeypatch.setattr(T, "CHUNK", 1 << 14)  # pieces of a small test record
    stage = make_stage("tokenize", threads=threads)
    (tmp_path / "w").mkdir()
    (tmp_path / "u").mkdir()
    stage.map_unit([{"text": "warm up"}], tmp_path / "w", "s", lambda r: None)  # the encoding is loaded
    text = _mixed_paragraphs(2_000_000)
    size = len(text.encode())
    st, peak = traced_peak(stage.map_unit, [{"text": text}], tmp_path / "u", "s", lambda r: None)
    ids = np.fromfile(tmp_path / "u" / "ids.bin", np.int32)
    assert ids[:-1].tolist() == tiktoken_encoding("cl100k_base").encode_ordinary(text)
    assert st["tokens"] == len(ids) and st["approximate"] == 0
    assert peak < 1.0 * size, peak / size  # (1 MB of it: the unit file's write buffer)


def test_huge_record_memory_stays_within_3x(tmp_path):
    """One 20 MB record of mixed paragraphs: ~2.3x, what reading it takes (before, on 50 MB:
    5.8x)."""
    from tests.memory import extra_over_record

    text = _mixed_paragraphs(20_000_000)
    assert extra_over_record(tmp_path, "tokenize", text) <= 3.0
