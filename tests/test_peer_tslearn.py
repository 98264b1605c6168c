"""Per-window scaling equals tslearn's per-series scalers (skipped when tslearn is absent).

darts is compared in tests/test_peer_darts.py (skipped where darts is not installed).
"""

from __future__ import annotations

import numpy as np
import pytest

import seqscale

tslearn_pre = pytest.importorskip("tslearn.preprocessing")


@pytest.fixture
def windows():
    rng = np.random.default_rng(7)
    return rng.normal(50, 10, size=(40, 24, 3)) * rng.uniform(0.1, 10, size=(40, 1, 3))


def test_minmax_windows_equal_tslearn(windows):
    ours, _ = seqscale.scale_windows(windows, "minmax", feature_range=(-1, 1))
    theirs = tslearn_pre.TimeSeriesScalerMinMax(value_range=(-1, 1)).fit_transform(windows)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-13)


def test_mean_variance_windows_equal_tslearn(windows):
    ours, coef = seqscale.scale_windows(windows, "standard")
    theirs = tslearn_pre.TimeSeriesScalerMeanVariance().fit_transform(windows)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(coef.inverse(ours), windows, rtol=1e-13)
