"""One merge formula: `Moments.merge`, `Moments.update`, `Moments.pooled` and the kernels'
merge (compiled and numpy) all go through `kernels.chan_merge`; any split of the data, merged in
any order by any of them, gives the one-pass statistics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from seqscale import Moments
from seqscale.core import kernels

FAST = settings(max_examples=60, deadline=None)
RTOL = 1e-13

values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
data_sets = st.tuples(
    hnp.arrays(np.float64, st.tuples(st.integers(2, 60), st.integers(1, 3)), elements=values),
    st.sampled_from([0.0, 1.0, 1e6, -1e9]),  # far from zero: the difference of means matters
)


def _parts(x: np.ndarray, data) -> list[np.ndarray]:
    cuts = sorted(data.draw(st.lists(st.integers(1, len(x) - 1), max_size=6, unique=True)))
    parts = np.split(x, cuts)
    order = data.draw(st.permutations(range(len(parts))))
    return [parts[i] for i in order]


def _close(got: Moments, whole: Moments, x: np.ndarray) -> None:
    scale = float(np.max(np.abs(x)))
    np.testing.assert_array_equal(got.count, whole.count)
    np.testing.assert_allclose(got.mean, whole.mean, rtol=RTOL, atol=RTOL * scale)
    spread = float(np.max(np.abs(x - whole.mean)))  # m2's own scale: deviations, not values
    np.testing.assert_allclose(got.m2, whole.m2, rtol=RTOL, atol=RTOL * spread**2 * len(x))
    np.testing.assert_array_equal(got.min, whole.min)
    np.testing.assert_array_equal(got.max, whole.max)


def _stack(stats: list[Moments]) -> Moments:
    """A ``(series, channels)`` table of ``(channels,)`` sets, residuals kept."""
    fields = ("count", "mean", "m2", "min", "max", "mean_lo")
    return Moments(*(np.stack([getattr(m, f) for m in stats]) for f in fields))


def _table(stats: list[Moments]) -> np.ndarray:
    """The kernels' (6, rows, channels) accumulator table of a list of ``(channels,)`` sets."""
    return np.stack(
        [
            np.stack([m.count for m in stats]),
            np.stack([m.mean for m in stats]),
            np.stack([m.mean_lo for m in stats]),
            np.stack([m.m2 for m in stats]),
            np.stack([np.where(m.count > 0, m.min, np.inf) for m in stats]),
            np.stack([np.where(m.count > 0, m.max, -np.inf) for m in stats]),
        ]
    )


@FAST
@given(drawn=data_sets, data=st.data())
def test_any_split_merged_in_any_order_equals_one_pass(drawn, data):
    x, shift = drawn
    x = x + shift
    whole = Moments.from_array(x)
    parts = _parts(x, data)
    stats = [Moments.from_array(p) for p in parts]

    folded = Moments.empty(x.shape[1])  # merge, left fold in a random order
    for m in stats:
        folded = folded.merge(m) if data.draw(st.booleans()) else m.merge(folded)
    _close(folded, whole, x)

    tree = list(stats)  # merge, a random tree
    while len(tree) > 1:
        i = data.draw(st.integers(0, len(tree) - 2))
        tree[i : i + 2] = [tree[i].merge(tree[i + 1])]
    _close(tree[0], whole, x)

    updated = Moments.empty(x.shape[1])  # partial_fit's update
    for p in parts:
        updated = updated.update(p)[0]
    _close(updated, whole, x)

    _close(_stack(stats).pooled(), whole, x)  # pooled over a per-series table

    count, high, low, m2, mn, mx = kernels.fold_rows(_table(stats))  # the kernel itself
    _close(Moments(count, high + low, m2, mn, mx), whole, x)


@settings(FAST, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=data_sets, data=st.data())
def test_the_paths_agree_bit_for_bit(drawn, data, monkeypatch):
    """Two sets merged by `Moments.merge`, by `pooled`, by the compiled kernel and by its numpy
    fallback: the same operations in the same order, so the same bits."""
    x, shift = drawn
    x = x + shift
    k = data.draw(st.integers(1, len(x) - 1))
    a, b = Moments.from_array(x[:k]), Moments.from_array(x[k:])
    merged = a.merge(b)
    pooled = _stack([a, b]).pooled()
    compiled = kernels.fold_rows(_table([a, b]))
    with monkeypatch.context() as patch:
        patch.setenv(kernels.DISABLE_ENV, "1")
        fallback = kernels.fold_rows(_table([a, b]))
    np.testing.assert_array_equal(compiled, fallback)
    for got in (merged, pooled):
        np.testing.assert_array_equal(got.count, compiled[0])
        np.testing.assert_array_equal(got.mean, compiled[1])
        np.testing.assert_array_equal(got.mean_lo, compiled[2])
        np.testing.assert_array_equal(got.m2, compiled[3])


def test_the_numpy_fallback_folds_many_rows(monkeypatch):
    rng = np.random.default_rng(3)
    x = 1e9 + rng.normal(size=(5000, 2))
    codes = rng.integers(0, 37, size=5000)
    table = _stack([Moments.from_array(x[codes == g]) for g in range(37)])
    compiled = table.pooled()
    monkeypatch.setenv(kernels.DISABLE_ENV, "1")
    fallback = table.pooled()
    whole = Moments.from_array(x)
    for got in (compiled, fallback):
        _close(got, whole, x)


@pytest.mark.parametrize("side", ["left", "right", "both"])
def test_an_empty_side_gives_the_other(side):
    x = np.array([[1.0, 2.0], [4.0, 8.0]])
    full, empty = Moments.from_array(x), Moments.empty(2)
    if side == "both":
        got = empty.merge(empty)
        assert got.count.tolist() == [0, 0] and np.isnan(got.min).all()
        return
    got = empty.merge(full) if side == "left" else full.merge(empty)
    for name in ("count", "mean", "m2", "min", "max"):
        np.testing.assert_array_equal(getattr(got, name), getattr(full, name))
