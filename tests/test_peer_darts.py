"""Per-series scaling (``groups=``) equals darts' ``Scaler`` over a list of series.

darts is not in the test extra: installing it pulls scikit-learn down to an older release, so
this module is skipped in the test environment and runs where darts is installed (the bench
extra).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import sklearn.preprocessing as skp

import seqscale

darts = pytest.importorskip("darts")
Scaler = pytest.importorskip("darts.dataprocessing.transformers").Scaler

NAMES = ["StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler"]


@pytest.fixture
def panel():
    logging.getLogger("darts").setLevel(logging.ERROR)
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 60, size=12)
    values = [rng.normal(rng.uniform(-50, 50), rng.uniform(0.5, 20), size=(n, 2)) for n in lengths]
    return values, np.concatenate(values), np.repeat(np.arange(12), lengths)


def _values(series_list) -> np.ndarray:
    return np.concatenate([s.values() for s in series_list])


@pytest.mark.parametrize("name", NAMES)
def test_groups_equal_darts_scaler_over_a_list_of_series(panel, name):
    values, X, ids = panel
    series = [darts.TimeSeries.from_values(v) for v in values]
    theirs = Scaler(getattr(skp, name)())  # one scikit-learn scaler per series
    scaled = theirs.fit_transform(series)
    est = getattr(seqscale, name)()
    ours = est.fit_transform(X, groups=ids)
    np.testing.assert_allclose(ours, _values(scaled), rtol=0, atol=1e-13)
    np.testing.assert_allclose(
        est.inverse_transform(ours, groups=ids), _values(theirs.inverse_transform(scaled)), atol=1e-12
    )


@pytest.mark.parametrize("name", NAMES)
def test_pooled_fit_equals_darts_global_fit(panel, name):
    values, X, _ = panel
    series = [darts.TimeSeries.from_values(v) for v in values]
    theirs = _values(Scaler(getattr(skp, name)(), global_fit=True).fit_transform(series))
    np.testing.assert_allclose(getattr(seqscale, name)().fit_transform(X), theirs, rtol=0, atol=1e-14)
