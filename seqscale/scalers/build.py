"""Fitted scalers from statistics: the one internal constructor, and the fitted state read back.

The Dask engine, file streaming and polars' lazy engine compute merged
:class:`~seqscale.core.stats.Moments` (and, for the robust scaler, merged quantile sketches)
outside one in-memory array; :func:`from_statistics` folds them into a scaler exactly as an
in-memory ``fit`` would. Only the modules of
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

from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
from seqscale.engines import dask as dask_engine
from seqscale.errors import InputError, ParameterError
from seqscale.frames import lazy

__all__ = [
    "check_params",
    "feature_names",
    "fit_dask",
    "fit_lazy",
    "fitted_affine",
    "fitted_feature_names",
    "from_statistics",
    "is_grouped",
    "is_scaler",
    "needs_sketch",
    "range_policy",
    "start_fit",
    "transform_dask",
    "transform_lazy",
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


def from_statistics(est: Any, moments: Moments, n_rows: float, sketches: list | None = None) -> Any:
    """Fold merged statistics (and the robust scaler's merged quantile sketches) into ``est``.

    ``n_rows``: the rows seen (an int), or their total weight (a float) for a weighted fit.
    """
    _refuse_infinite(est, moments)
    if sketches is not None:
        est._extra = sketches
    est._fold_moments(moments, n_rows)
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


def needs_sketch(est: Any) -> bool:
    """True when the method needs quantile sketches besides the moments (robust)."""
    return getattr(est, "method", "") == "robust"


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
    moments, n_rows, sketches = dask_engine.fit_statistics(
        X, weights, mask_value=getattr(est, "mask_value", None), sketch=needs_sketch(est)
    )
    return from_statistics(est, moments, n_rows, sketches)


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


def fit_lazy(est: Any, X: Any, groups: Any = None, sample_weight: Any = None, lengths: Any = None) -> Any:
    """Fit ``est`` on a polars LazyFrame with the frame's own (streaming) aggregation.

    ``groups`` may name the id column (per-series coefficients, reduced under ``group_by``).
    What needs every value (the robust scaler's quantiles, sample weights, padding) is fitted
    on the collected columns instead.
    """
    if groups is not None and not isinstance(groups, str):
        raise ParameterError("a lazy frame takes groups= as the name of its id column.")
    names = [c for c in lazy.schema(X) if c != groups]
    if needs_sketch(est) or sample_weight is not None or lengths is not None or est.mask_value is not None:
        return est.fit(
            lazy.collect(X).to_native(), sample_weight=sample_weight, groups=groups, lengths=lengths
        )
    start_fit(est, names)
    moments, ids, n_rows = lazy.moments(X, names, groups)
    if groups is None:
        return from_statistics(est, moments, n_rows)
    _refuse_infinite(est, moments)
    est._fold_series(np.asarray(ids, dtype=object), moments, n_rows)
    return est


def transform_lazy(est: Any, X: Any, groups: Any = None, inverse: bool = False) -> Any:
    """Scale (or unscale) a polars LazyFrame: a LazyFrame of expressions, nothing computed.

    ``out_of_range`` "ignore" and "clip" are expressions too; "warn" and "error" need the data
    (check it with ``scaler.check(lf.collect())``).
    """
    est._require_fitted()
    policy = range_policy(est)
    if policy in ("warn", "error") and not inverse:
        raise ParameterError(
            f"out_of_range={policy!r} needs the data, and a lazy frame is not computed by "
            "transform; use 'ignore' or 'clip' here and scaler.check(lf.collect()) to report."
        )
    grouped = is_grouped(est)
    if grouped != (groups is not None):
        state = "with groups= (the id column's name)" if grouped else "without groups"
        raise InputError(f"this scaler was fitted {state}; pass groups consistently.")
    if groups is not None and not isinstance(groups, str):
        raise ParameterError("a lazy frame takes groups= as the name of its id column.")
    names = [c for c in lazy.schema(X) if c != groups]
    fitted = feature_names(est, est.n_features_in_)
    if names != fitted:
        raise InputError(
            f"the lazy frame's columns {names} differ from the fitted features {fitted}; select "
            "the same columns in the same order."
        )
    affine = est.affine_
    fallback = None
    if grouped:
        fallback = _lazy_fallback(est, X, groups)
    clip = affine.output_bounds() if policy == "clip" and not inverse else None
    if clip is not None and grouped:
        raise ParameterError(
            "out_of_range='clip' on a lazy frame is supported for scalers fitted without groups."
        )
    return lazy.affine_expressions(
        X,
        names,
        (affine.shift, affine.scale, affine.offset),
        inverse=inverse,
        id_column=groups,
        ids=est.series_ if grouped else None,
        fallback=fallback,
        clip=clip,
        mask_value=est.mask_value,
    )


def _lazy_fallback(est: Any, X: Any, id_column: str) -> tuple | None:
    """Coefficients for series unseen at fit time, by the ``unseen`` policy (checked on the ids)."""
    if est.unseen in ("pooled", "median"):
        fb = est.fallback_
        return (fb.shift, fb.scale, fb.offset)
    known = set(est.series_.tolist())
    unseen = [i for i in lazy.distinct_ids(X, id_column).tolist() if i not in known]
    if unseen and est.unseen == "own":
        raise ParameterError(
            "unseen='own' computes new series' coefficients from their rows; on a lazy frame "
            f"series {unseen[:5]} are unseen: collect it first or use unseen='pooled'/'median'."
        )
    if unseen:
        raise InputError(
            f"series {unseen[:5]} ({len(unseen)} in all) were not seen at fit time; use "
            "unseen='pooled' or 'median', or fit on them first."
        )
    return None
