"""Per-series statistics keep each mean's rounding residual, so a pooled table is exact."""

from fractions import Fraction

import numpy as np
import pytest

from seqscale.core import kernels
from seqscale.core.stats import Moments


def _exact(column: np.ndarray) -> tuple[Fraction, Fraction]:
    """The one-pass mean and centred sum of squares, in exact rational arithmetic."""
    values = [Fraction(v) for v in column.tolist()]
    mean = sum(values) / len(values)
    return mean, sum((v - mean) ** 2 for v in values)


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("order", ["runs", "shuffled"])
def test_pooled_per_series_table_is_exact_far_from_zero(monkeypatch, compiled, order):
    if compiled and not kernels.numba_enabled():
        pytest.skip("numba is not available")
    if not compiled:
        monkeypatch.setenv(kernels.DISABLE_ENV, "1")
    assert kernels.numba_enabled() is compiled
    rng = np.random.default_rng(7)
    n_series, length = 40, 25
    x = 1e9 + rng.normal(size=(n_series * length, 2))
    x[::13, 1] = np.nan
    codes = np.repeat(np.arange(n_series), length)
    if order == "shuffled":
        codes = rng.permutation(codes)
    table = Moments.from_groups(x, codes, n_series)
    assert table.mean_lo is not None and np.any(table.mean_lo != 0)
    pooled = table.pooled()
    for j in range(2):
        column = x[:, j][~np.isnan(x[:, j])]
        mean, m2 = _exact(column)
        assert pooled.count[j] == column.size
        got_mean = Fraction(pooled.mean[j]) + Fraction(pooled.mean_lo[j])
        assert abs(float((got_mean - mean) / mean)) < 1e-25
        assert abs(float((Fraction(pooled.m2[j]) - m2) / m2)) < 1e-13
    # each series' own statistics: mean plus residual is its exact mean
    first = x[codes == 3, 0]
    mean, m2 = _exact(first)
    assert (
        abs(float(Fraction(table.mean[3, 0]) + Fraction(table.mean_lo[3, 0]) - mean)) < 1e-15
    )  # std 1: to rounding of the deviations
    assert abs(float((Fraction(table.m2[3, 0]) - m2) / m2)) < 1e-13
