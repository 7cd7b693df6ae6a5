"""The shuffle check's checksum (corpuskit.engine.ray_dedup._row_sum), without Ray."""
import numpy as np

from corpuskit.engine.ray_dedup import _row_sum


def _rows(n: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    band = rng.integers(-1, 21, n).astype(np.int32)
    key = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
    key2 = np.where(band < 0, rng.integers(0, 2**63, n, dtype=np.uint64), np.uint64(0))
    pos = rng.integers(0, 10**9, n).astype(np.int64)
    return band, key, key2, pos


def test_row_sum_does_not_depend_on_order_or_on_how_the_rows_are_split():
    band, key, key2, pos = _rows(5000)
    whole = _row_sum(band, key, key2, pos)
    order = np.random.default_rng(1).permutation(5000)
    assert _row_sum(band[order], key[order], key2[order], pos[order]) == whole
    # partitions add up, mod 2^64, as the driver adds them
    parts = np.array_split(order, 7)
    total = sum(_row_sum(band[p], key[p], key2[p], pos[p]) for p in parts) & ((1 << 64) - 1)
    assert total == whole
    assert _row_sum(band[:0], key[:0], key2[:0], pos[:0]) == 0


def test_row_sum_changes_when_a_row_is_lost_doubled_or_changed():
    band, key, key2, pos = _rows(5000)
    whole = _row_sum(band, key, key2, pos)
    # one row lost and another one doubled: the same count, another sum
    swap = np.concatenate([np.arange(1, 5000), [7]])
    assert _row_sum(band[swap], key[swap], key2[swap], pos[swap]) != whole
    for col in range(4):  # one value changed in any column
        cols = [c.copy() for c in (band, key, key2, pos)]
        cols[col][123] += 1
        assert _row_sum(*cols) != whole, col
    # a row's position moved to another row (the same values, other pairs)
    p2 = pos.copy()
    p2[[10, 11]] = p2[[11, 10]]
    assert _row_sum(band, key, key2, p2) != whole
