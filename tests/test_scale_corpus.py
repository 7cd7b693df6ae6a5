"""benchmarks/scale_corpus.py's truth file (what bench_dedup_scale.py scores dedup against) says
what each generated document is, and writing it changes no byte of the corpus."""
from __future__ import annotations

import numpy as np
import orjson

from benchmarks.bench_dedup_scale import score
from benchmarks.scale_corpus import KIND_CODES, generate

EN = ["The quick brown fox jumps over the lazy dog while the farmer watches from the gate. " * 3,
      "Markets rose on Monday as investors weighed the latest figures on trade and prices. " * 3]
ZH = ["今天天气很好，我们一起去公园散步，看见很多人在湖边钓鱼和唱歌。" * 3,
      "中国经济继续保持稳定增长，市场信心不断增强，消费需求稳步回升。" * 3]


def _texts(folder) -> list[str]:
    out = []
    for p in sorted(folder.glob("*.jsonl")):
        out += [orjson.loads(line)["text"] for line in p.read_bytes().splitlines()]
    return out


def test_truth_names_every_planted_copy_and_its_original(tmp_path):
    n = 3000
    generate(tmp_path / "plain", n, EN, ZH, files=3, typical_size=900)
    generate(tmp_path / "raw", n, EN, ZH, files=3, typical_size=900, truth=tmp_path / "truth.npz")
    assert [p.read_bytes() for p in sorted((tmp_path / "plain").glob("*.jsonl"))] == \
        [p.read_bytes() for p in sorted((tmp_path / "raw").glob("*.jsonl"))]
    texts = _texts(tmp_path / "raw")
    z = np.load(tmp_path / "truth.npz")
    kind, source = z["kind"], z["source"]
    assert len(texts) == len(kind) == n and (kind >= 0).all()
    exact = np.flatnonzero(kind == KIND_CODES["exact_copy"])
    near = np.flatnonzero(kind == KIND_CODES["near_copy"])
    assert len(exact) > 20 and len(near) > 150
    for i in exact.tolist():
        j = int(source[i])
        assert j < i and kind[j] == KIND_CODES["original"] and texts[i] == texts[j]
    for i in near.tolist():
        j = int(source[i])
        assert j < i and kind[j] == KIND_CODES["original"] and texts[i] != texts[j]
        a, b = texts[i].split(" "), texts[j].split(" ")
        if len(b) > 20:  # English: one word changed
            assert len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1
        else:  # Chinese: one character changed
            assert len(texts[i]) == len(texts[j])
            assert sum(x != y for x, y in zip(texts[i], texts[j])) == 1
    for i in np.flatnonzero(kind == KIND_CODES["short_repeat"]).tolist():
        assert texts[i] == texts[int(source[i])]
    plain = np.isin(kind, [KIND_CODES["original"], KIND_CODES["short"]])
    assert (source[plain] == -1).all()


def test_score_counts_a_copy_caught_when_it_or_its_original_goes(tmp_path):
    # documents: 0 original, 1 exact copy of 0, 2 original, 3 near copy of 2, 4 near copy of 0, 5 short
    kind = np.array([0, 2, 0, 1, 1, 3], dtype=np.int8)
    source = np.array([-1, 0, -1, 2, 0, -1], dtype=np.int32)
    np.savez(tmp_path / "t.npz", kind=kind, source=source)
    removed = np.array([False, True, True, False, False, True])  # 3's original went instead of 3; 4 missed
    q = score(tmp_path / "t.npz", removed, {"near_duplicate": removed.copy()})
    assert q["exact_copy"] == {"planted": 1, "caught": 1, "recall": 1.0, "removed_as": {"near_duplicate": 1}}
    assert (q["near_copy"]["planted"], q["near_copy"]["caught"], q["near_copy"]["recall"]) == (2, 1, 0.5)
    assert (q["original"]["documents"], q["original"]["removed"]) == (2, 1)
    assert (q["short"]["documents"], q["short"]["removed"]) == (1, 1)
