"""The extra-statistic protocol: per-series statistics renumbered by id and merged in any split
and order equal the one-pass statistic (robust's sketches exactly, meanabs' mean of |x| to 1e-13)."""

from __future__ import annotations

import numpy as np
import pytest

from seqscale.core.extras import AbsMeanStatistic, QuantileStatistic, QuantileValues
from seqscale.engines import GroupStats, InOrder
from seqscale.errors import ParameterError

PARAMS = {"quantile_range": (10.0, 90.0)}


def _panel(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 5_000
    ids = rng.integers(0, 60, n)
    rows = np.column_stack([rng.normal(1e6, 3.0, n) + ids, rng.standard_t(2, n)])
    rows[rng.random(n) < 0.05, 1] = np.nan
    return rows, ids


@pytest.mark.parametrize("kind", [QuantileStatistic, AbsMeanStatistic])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_split_merged_by_id_equals_one_pass(kind, seed):
    rows, ids = _panel(seed)
    rng = np.random.default_rng(seed + 10)
    cuts = np.sort(rng.choice(np.arange(1, len(ids)), size=6, replace=False))
    parts = [
        GroupStats.from_rows(r, i, extra=kind) for r, i in zip(np.split(rows, cuts), np.split(ids, cuts))
    ]
    merged = InOrder()
    for part in parts:
        merged.add(part)
    tree = parts[0]
    for part in parts[1:]:
        tree = tree.merge(part)
    one = GroupStats.from_rows(rows, ids, extra=kind)
    want = kind.from_rows(rows, ids, 60).table(PARAMS)  # codes are the ids: sorted order
    for got in (merged.result().ordered(), tree.ordered(), one.ordered()):
        np.testing.assert_array_equal(got.ids, np.arange(60))
        table = got.extra.table(PARAMS)
        for name, values in want.items():
            if kind is QuantileStatistic:
                np.testing.assert_array_equal(table[name], values, err_msg=name)
            else:
                np.testing.assert_allclose(table[name], values, rtol=1e-13, err_msg=name)
        pooled = got.extra.pooled().table(PARAMS)
        for name, values in kind.from_rows(rows).table(PARAMS).items():
            np.testing.assert_allclose(pooled[name], values, rtol=0 if kind is QuantileStatistic else 1e-13)


def test_merge_in_another_order_renumbers_by_id():
    rows, ids = _panel(4)
    a = GroupStats.from_rows(rows[:2_000], ids[:2_000], extra=QuantileStatistic)
    b = GroupStats.from_rows(rows[2_000:], ids[2_000:], extra=QuantileStatistic)
    ab, ba = a.merge(b).ordered(), b.merge(a).ordered()
    np.testing.assert_array_equal(ab.ids, ba.ids)
    for name, values in ab.extra.table(PARAMS).items():
        np.testing.assert_array_equal(ba.extra.table(PARAMS)[name], values)
    want = np.nanmedian(rows[ids == 17], axis=0)
    np.testing.assert_array_equal(ab.extra.table({})["median"][17], want)


def test_placed_renumbers_and_grows():
    rows = np.array([[1.0], [5.0], [3.0], [-4.0]])
    stat = AbsMeanStatistic.from_rows(rows, np.array([0, 1, 0, 1]), 2)
    moved = stat.placed(np.array([2, 0]), 3)
    assert moved.table({})["mean_abs"].ravel().tolist() == [4.5, 0.0, 2.0]
    with pytest.raises(ValueError, match="codes"):
        stat.placed(np.array([0]), 3)
    q = QuantileStatistic.from_rows(rows, np.array([0, 1, 0, 1]), 2).placed(np.array([1, 0]), 2)
    assert q.table({})["median"].ravel().tolist() == [0.5, 2.0]


def test_final_quantile_values_refuse_merging_and_another_range():
    table = {"median": np.array([1.0]), "q_low": np.array([0.0]), "q_high": np.array([2.0])}
    values = QuantileValues(table, table, (25.0, 75.0), grouped=False)
    assert values.table({"quantile_range": (25, 75)})["median"].tolist() == [1.0]
    with pytest.raises(ParameterError, match="fit again"):
        values.table({"quantile_range": (10, 90)})
    with pytest.raises(ParameterError, match="partial_fit"):
        values.merge(values)
