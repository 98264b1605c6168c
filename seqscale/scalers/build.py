"""Fitted scalers from statistics: the one internal constructor, and the fitted state read back.

The Dask engine and file streaming compute merged :class:`~seqscale.core.stats.Moments` (and the
method's extra statistic, e.g. the robust scaler's quantile sketches) outside one in-memory
array; :func:`from_statistics` folds them into a scaler exactly as an in-memory ``fit`` would.
Coefficient files build their scaler with :func:`from_stored`. Only the modules of
:mod:`seqscale.scalers` touch an estimator's private state; every other module goes through the
functions here.

Examples
--------
>>> import numpy as np
>>> from seqscale.core.stats import Moments
>>> from seqscale.scalers import StandardScaler
>>> X = np.array([[1.0], [3.0]])
>>> est = start_fit(StandardScaler(), ["x"])
>>> from_statistics(est, Moments.from_array(X), 2).mean_.tolist(), feature_names(est, 1)
([2.0], ['x'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqscale.core import registry
from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
from seqscale.engines import dask as dask_engine
from seqscale.errors import InputError, ParameterError

__all__ = [
    "check_params",
    "extra_statistic",
    "feature_names",
    "fit_dask",
    "fitted_affine",
    "fitted_feature_names",
    "from_statistics",
    "from_stored",
    "is_grouped",
    "is_scaler",
    "range_policy",
    "start_fit",
    "transform_dask",
]


def is_scaler(obj: Any) -> bool:
    """True for a seqscale scaler (an estimator that folds merged statistics)."""
    return hasattr(obj, "_fold_moments")


def check_params(est: Any) -> None:
    """Validate the scaler's parameters (raises ``ParameterError``)."""
    est._check_params()


def start_fit(est: Any, names: Sequence[str] | None) -> Any:
    """Check the parameters, forget a previous fit and record the feature names."""
    est._check_params()
    est._reset()
    if names is not None:
        est.feature_names_in_ = np.asarray([str(n) for n in names], dtype=object)
    return est


def from_statistics(est: Any, moments: Moments, n_rows: float, extra: Any = None) -> Any:
    """Fold merged statistics (and the method's merged extra statistic, see
    :func:`extra_statistic`) into ``est``.

    ``n_rows``: the rows seen (an int), or their total weight (a float) for a weighted fit.
    """
    _refuse_infinite(est, moments)
    if extra is not None:
        est._extra = extra
    est._fold_moments(moments, n_rows)
    return est


def from_stored(
    est: Any,
    stats: Moments,
    *,
    names: Sequence[str] | None,
    series: Sequence[Any] | None = None,
    n_rows: int | None = None,
    extra: tuple[dict, dict] | None = None,
) -> Any:
    """A fitted scaler from stored statistics (a coefficient file), its parameters already set.

    ``stats``: per feature, or per (series, feature) with the ``series`` ids; ``n_rows``: the
    rows seen, or None for a weighted fit (the counts are then weight totals); ``extra``: the
    method's extra statistic as stored (per series or feature, and pooled). Raises the method's
    ``SeqscaleError`` when the statistics give no coefficients.
    """
    est._extra = None
    est._grouped = series is not None
    est.n_features_in_ = int(stats.count.shape[-1])
    if names is not None:
        est.feature_names_in_ = np.asarray(list(names), dtype=object)
    if series is None:
        est.stats_ = stats
    else:
        est.series_ = np.asarray(list(series), dtype=object)
        est.series_stats_ = stats
        est.stats_ = stats.pooled()
    if n_rows is None:
        est._count_seen(0.0, True, weighted=True)
    else:
        est.n_samples_seen_ = est._n_rows = int(n_rows)
    if extra is not None:
        est._stored_extra, est._stored_pooled = extra
    est._refresh(warn=False)
    return est


def _refuse_infinite(est: Any, moments: Moments) -> None:
    bad = np.isinf(moments.min) | np.isinf(moments.max)
    if not bad.any():
        return
    names = feature_names(est, moments.count.shape[-1])
    which = [names[j] for j in np.flatnonzero(bad)]
    raise InputError(
        f"feature(s) {which[:10]} hold infinite values; replace +-inf with NaN (ignored by fit, "
        "passed through by transform) or with a finite value."
    )


def fitted_feature_names(est: Any) -> list[str] | None:
    """The fitted feature names, or None when the scaler was fitted without names."""
    return est._feature_names_list() if hasattr(est, "feature_names_in_") else None


def feature_names(est: Any, n: int) -> list[str]:
    """The fitted feature names, or ``x0, x1, ...`` for ``n`` unnamed features."""
    names = fitted_feature_names(est)
    return names if names else [f"x{j}" for j in range(n)]


def is_grouped(est: Any) -> bool:
    """True for a scaler fitted per series (``groups=``)."""
    return bool(getattr(est, "_grouped", False))


def extra_statistic(est: Any) -> type | None:
    """The statistic the scaler's method needs besides the moments (the method registry's
    :class:`~seqscale.core.extras.ExtraStatistic` class), or None."""
    return registry.get(est.method).extra


def range_policy(est: Any) -> str:
    """The effective out-of-range policy: ``"ignore"``, ``"clip"``, ``"warn"`` or ``"error"``."""
    return est._range_policy()


def fitted_affine(est: Any, channels: np.ndarray | slice | None = None) -> Affine:
    """The fitted per-feature coefficients (optionally some channels); refuses per-series fits."""
    est._require_fitted()
    if is_grouped(est):
        raise ParameterError(
            f"this {type(est).__name__} was fitted per series (groups=); per-series coefficients "
            "are applied in memory only: scale each series' data with scaler.transform(X, groups)."
        )
    affine = est.affine_
    return affine if channels is None else affine.take((..., channels))


def fit_dask(est: Any, X: Any, groups: Any = None, sample_weight: Any = None) -> Any:
    """Fit ``est`` on a Dask collection chunk by chunk, as ``est.fit(X.compute())`` would.

    See :func:`seqscale.engines.dask.fit_statistics` for ``X`` and ``sample_weight``.
    """
    if groups is not None:
        raise ParameterError(
            "groups= is not supported for Dask collections: per-series coefficients are fitted in "
            "memory (scaler.fit(X, groups=...)); fit per-feature coefficients on Dask instead."
        )
    X, weights, names = dask_engine.prepare(X, sample_weight)
    start_fit(est, names)
    moments, n_rows, extra = dask_engine.fit_statistics(
        X, weights, mask_value=getattr(est, "mask_value", None), extra=extra_statistic(est)
    )
    return from_statistics(est, moments, n_rows, extra)


def transform_dask(est: Any, X: Any, inverse: bool = False) -> Any:
    """Lazily scale (or unscale) a Dask collection with a scaler fitted without groups."""
    affine = fitted_affine(est)
    return dask_engine.apply(
        X,
        affine,
        feature_names(est, est.n_features_in_),
        inverse=inverse,
        policy=range_policy(est),
        mask_value=est.mask_value,
        fitted_names=getattr(est, "feature_names_in_", None),
        owner=type(est).__name__,
    )
