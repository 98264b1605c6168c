"""Per-window (instance) scaling: each window by its own statistics, inverse by the input window's."""

import numpy as np
import pytest

import seqscale
from seqscale.errors import InputError, ParameterError


@pytest.fixture
def windows():
    rng = np.random.default_rng(0)
    level = rng.uniform(-100, 100, size=(20, 1, 3))
    spread = rng.uniform(0.1, 50, size=(20, 1, 3))
    return level + spread * rng.normal(size=(20, 16, 3))


@pytest.mark.parametrize("method", ["standard", "minmax", "robust", "maxabs"])
def test_each_window_uses_its_own_statistics(windows, method):
    from sklearn import preprocessing as skp

    ref_cls = {
        "standard": skp.StandardScaler,
        "minmax": skp.MinMaxScaler,
        "robust": skp.RobustScaler,
        "maxabs": skp.MaxAbsScaler,
    }[method]
    Xs, coefs = seqscale.scale_windows(windows, method=method)
    for i in range(windows.shape[0]):
        np.testing.assert_allclose(Xs[i], ref_cls().fit_transform(windows[i]), rtol=1e-10, atol=1e-12)
    assert coefs.n_samples == windows.shape[0]


def test_inverse_maps_predictions_with_the_input_windows_statistics(windows):
    _, coefs = seqscale.scale_windows(windows, method="standard")
    mean = windows.mean(axis=1)
    std = windows.std(axis=1)
    future = windows[:, -4:, :] + 3.0  # targets the model never saw at scaling time
    scaled_targets = coefs.apply(future)
    np.testing.assert_allclose(scaled_targets, (future - mean[:, None]) / std[:, None], rtol=1e-12)
    np.testing.assert_allclose(coefs.inverse(scaled_targets), future, rtol=1e-12)
    # one feature, predictions shaped [samples] and [samples, horizon]
    pred = np.linspace(-1, 1, windows.shape[0])
    np.testing.assert_allclose(coefs.inverse(pred, features=[2]), pred * std[:, 2] + mean[:, 2], rtol=1e-12)
    pred_h = np.tile(pred[:, None], (1, 5))
    np.testing.assert_allclose(coefs.inverse(pred_h, features=[2])[:, 3], pred * std[:, 2] + mean[:, 2])


def test_flat_window_does_not_explode():
    X = np.ones((2, 5, 1))
    X[1] = np.arange(5.0)[:, None]
    Xs, _ = seqscale.scale_windows(X, method="standard")
    assert np.all(np.isfinite(Xs))
    np.testing.assert_array_equal(Xs[0], 0.0)


def test_padding_is_ignored_and_left_untouched():
    rng = np.random.default_rng(1)
    X = rng.normal(5, 2, size=(3, 6, 2))
    lengths = np.array([6, 4, 2])
    padded = X.copy()
    for i, n in enumerate(lengths):
        padded[i, n:] = 0.0
    Xs, _ = seqscale.scale_windows(padded, method="minmax", lengths=lengths)
    for i, n in enumerate(lengths):
        ref, _ = seqscale.scale_windows(X[i : i + 1, :n], method="minmax")
        np.testing.assert_allclose(Xs[i, :n], ref[0])
        np.testing.assert_array_equal(Xs[i, n:], 0.0)


def test_float32_kept_and_errors():
    X = np.random.default_rng(2).normal(size=(4, 8, 2)).astype(np.float32)
    Xs, coefs = seqscale.scale_windows(X)
    assert Xs.dtype == np.float32
    with pytest.raises(InputError, match="3D"):
        seqscale.scale_windows(X[0])
    with pytest.raises(ParameterError, match="method"):
        seqscale.scale_windows(X, method="zscore")
    with pytest.raises(InputError, match="samples"):
        coefs.inverse(np.zeros(3), features=[0])


@pytest.mark.parametrize("method", ["standard", "minmax", "robust", "maxabs"])
def test_flat_windows_follow_the_one_constant_rule(method):
    """A window equal up to rounding is constant for every path; a tiny real spread is not."""
    from sklearn import preprocessing as skp

    cls = {
        "standard": "StandardScaler",
        "minmax": "MinMaxScaler",
        "robust": "RobustScaler",
        "maxabs": "MaxAbsScaler",
    }
    near = np.array([0.3, 0.1 + 0.2] * 8)  # equal up to one ulp
    tiny = 1e-10 * np.random.default_rng(3).normal(size=16)  # small, but far above rounding
    X = np.stack([np.stack([near, tiny, np.zeros(16), np.full(16, 7.5)], axis=1)])
    Xs, coefs = seqscale.scale_windows(X, method=method)
    dense = getattr(seqscale, cls[method])()
    with pytest.warns(seqscale.ConstantFeatureWarning):
        expected = dense.fit_transform(X[0])
    np.testing.assert_allclose(Xs[0], expected, rtol=1e-14, atol=1e-15)  # one rule, whichever the path
    np.testing.assert_allclose(Xs[0], getattr(skp, cls[method])().fit_transform(X[0]), rtol=1e-12, atol=1e-15)
    assert np.abs(Xs[0, :, 0] - Xs[0, 0, 0]).max() < 1e-15  # not blown up to +-1 or +-2
    spread = {
        "standard": Xs[0, :, 1].std(),
        "minmax": np.ptp(Xs[0, :, 1]),
        "maxabs": np.abs(Xs[0, :, 1]).max(),
    }
    assert spread.get(method, 1.0) == pytest.approx(1.0)  # an epsilon floor would give ~1e-2
    np.testing.assert_allclose(coefs.inverse(Xs), X, rtol=1e-14, atol=1e-25)


@pytest.mark.parametrize("method", ["standard", "minmax", "robust", "maxabs", "meanabs"])
def test_windows_equal_the_per_series_scalers_bit_for_bit(windows, method):
    """scale_windows is a per-series fit with each window as one series: the same statistics,
    the same rule, the same kernel — the same bits as the registry's scaler fitted with groups."""
    from seqscale.scalers.registry import SCALERS

    n, steps, k = windows.shape
    windows = windows.copy()
    windows[3] = 7.25  # a constant window
    windows[5, 2:9, 1] = np.nan
    rows, ids = windows.reshape(n * steps, k), np.repeat(np.arange(n), steps)
    scaler = SCALERS[method]().fit(rows, groups=ids)
    Xs, coefs = seqscale.scale_windows(windows, method=method)
    np.testing.assert_array_equal(Xs.reshape(n * steps, k), scaler.transform(rows, groups=ids))
    y = np.random.default_rng(1).normal(size=(n, 4, k))
    expected = scaler.inverse_transform(y.reshape(-1, k), groups=np.repeat(np.arange(n), 4))
    np.testing.assert_array_equal(coefs.inverse(y).reshape(-1, k), expected)
