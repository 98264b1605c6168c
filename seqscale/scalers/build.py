"""Fitted scalers from statistics: the one internal constructor, and the fitted state read back.

The Dask engine, file streaming and polars' lazy engine compute merged
:class:`~seqscale.core.stats.Moments` (and the method's extra statistic, e.g. the robust scaler's
quantile sketches) outside one in-memory array; :func:`from_statistics` folds them into a scaler
exactly as an in-memory ``fit`` would. Coefficient files build their scaler with
:func:`from_stored`. Only the modules of :mod:`seqscale.scalers` touch an estimator's private
state; every other module goes through the functions here.

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

import copy
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from seqscale.core import registry
from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
from seqscale.engines import GroupStats
from seqscale.engines import dask as dask_engine
from seqscale.errors import InputError, ParameterError, UnseenSeriesError
from seqscale.frames import lazy

__all__ = [
    "check_params",
    "extra_statistic",
    "feature_names",
    "fit_dask",
    "fit_lazy",
    "fitted_affine",
    "fitted_feature_names",
    "from_group_statistics",
    "from_statistics",
    "from_stored",
    "transform_groups",
    "transform_rows",
    "is_grouped",
    "is_scaler",
    "range_policy",
    "series_ids",
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


def from_statistics(est: Any, moments: Moments, n_rows: float, extra: Any = None) -> Any:
    """Fold merged statistics (and the method's merged extra statistic: the registry's
    protocol, e.g. robust's quantile sketches) into ``est``.

    ``n_rows``: the rows seen (an int), or their total weight (a float) for a weighted fit.
    """
    _refuse_infinite(est, moments)
    if extra is not None:
        est._extra = extra
    est._fold_moments(moments, n_rows)
    return est


def from_group_statistics(est: Any, stats: GroupStats, weighted: bool = False) -> Any:
    """Fold merged per-series statistics into ``est`` as the in-memory ``fit(X, groups=ids)``.

    ``stats.ids`` become ``series_`` (in the order given: first appearance, as in memory); the
    pooled statistics are the merge of the series'; ``stats.extra`` is the method's extra
    statistic per series (merged by id like the moments). ``weighted``: ``stats.n_rows`` is a
    weight.
    """
    stats = stats.ordered()
    _refuse_infinite(est, stats.table)
    kind = extra_statistic(est)
    if kind is not None and stats.extra is None:
        raise ParameterError(f"{type(est).__name__} per series needs its {kind.what} per series.")
    ids = np.asarray(stats.ids)
    est._grouped = True
    est._extra = stats.extra if kind is not None else None
    est.series_ = ids if ids.dtype.kind in "iu" else ids.astype(object)
    est.series_stats_ = stats.table
    est.stats_ = stats.table.pooled()
    est._n_rows = int(stats.n_rows)
    est.n_features_in_ = int(stats.table.count.shape[-1])
    est._count_seen(stats.n_rows, True, weighted=weighted)
    est._refresh(warn=True)
    return est


def transform_groups(est: Any, by: str, inverse: bool = False) -> Any:
    """A function mapping one pandas frame (with the id column ``by``) through ``est`` per series,
    as ``est.transform(frame, groups=by)`` (for engines that map partitions or batches).

    The function carries the coefficients without the method's extra statistic: a robust fit's
    exact sketches hold every value seen, while transform reads only its table (per series and
    pooled, as a scaler loaded from a coefficient file holds it), so the task sent to Dask
    workers stays small. See :func:`_piecewise` for ``unseen="own"``."""
    return partial(_transform_frame, _piecewise(est), by, bool(inverse))


def transform_rows(est: Any, inverse: bool = False) -> Any:
    """A function ``f(rows, ids)`` scaling a ``rows x features`` array per series (one id per
    row), as ``est.transform(rows, groups=ids)``."""
    return partial(_transform_rows, _piecewise(est), bool(inverse))


def _piecewise(est: Any) -> Any:
    """``est`` for a map that sees the data piece by piece (partitions, batches).

    ``unseen="own"`` would compute a new series' coefficients from the rows of one piece only
    (another piece holding more of its rows would give other coefficients), so such a series
    is refused there, naming the remedy. The extra statistic is replaced by its table.
    """
    light = est
    if getattr(est, "_extra", None) is not None:
        light = copy.copy(est)
        light._stored_extra, light._stored_pooled = est._extra_table(True), est._extra_table(False)
        light._extra = None
    if getattr(est, "unseen", None) == "own":
        light = copy.copy(light)
        light.unseen = "error"
        light._own_refused = True
    return light


def _piece(est: Any, run: Any) -> Any:
    try:
        return run()
    except UnseenSeriesError as err:
        if not getattr(est, "_own_refused", False):
            raise
        found = str(err).partition(" Fit (or partial_fit)")[0]
        raise UnseenSeriesError(
            f"{found} With unseen='own' a new series' coefficients come from all its rows, and a "
            "Dask partition or a file batch holds only some of them: fit on those series first, "
            "or use unseen='pooled' or 'median' there."
        ) from None


def _transform_rows(est: Any, inverse: bool, rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
    if rows.shape[0] == 0:
        return rows.copy()
    names = fitted_feature_names(est)
    if names is not None:  # the fitted names, so the rows are matched as columns by name
        import pandas as pd

        rows = pd.DataFrame(rows, columns=names, copy=False)
    method = est.inverse_transform if inverse else est.transform
    done = _piece(est, lambda: method(rows, groups=ids))
    return done if names is None else done.to_numpy()


def _transform_frame(est: Any, by: str, inverse: bool, frame: Any) -> Any:
    if len(frame) == 0:
        return frame
    method = est.inverse_transform if inverse else est.transform
    return _piece(est, lambda: method(frame, groups=by))


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


def series_ids(est: Any) -> np.ndarray:
    """The series ids of a per-series fit (``series_``)."""
    return np.asarray(est.series_)


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


def fitted_table(est: Any) -> Affine:
    """The fitted coefficients as they are: ``(features,)``, or ``(series, features)`` per series."""
    est._require_fitted()
    return est.affine_


def fit_dask(est: Any, X: Any, groups: Any = None, sample_weight: Any = None) -> Any:
    """Fit ``est`` on a Dask collection chunk by chunk, as ``est.fit(X.compute())`` would.

    See :func:`seqscale.engines.dask.fit_statistics` for ``X`` and ``sample_weight``; ``groups``
    names the series id column of a Dask DataFrame (one set of coefficients per series).
    """
    X, weights, names = dask_engine.prepare(X, sample_weight, groups)
    start_fit(est, names)
    mask_value = getattr(est, "mask_value", None)
    if groups is not None:
        stats = dask_engine.fit_group_statistics(
            X, groups, weights, mask_value=mask_value, extra=extra_statistic(est)
        )
        return from_group_statistics(est, stats, weighted=weights is not None)
    moments, n_rows, extra = dask_engine.fit_statistics(
        X, weights, mask_value=mask_value, extra=extra_statistic(est)
    )
    return from_statistics(est, moments, n_rows, extra)


def transform_dask(est: Any, X: Any, inverse: bool = False, groups: Any = None) -> Any:
    """Lazily scale (or unscale) a Dask collection; per series with ``groups`` (the id column)."""
    if is_grouped(est) or groups is not None:
        est._require_fitted()
        if not is_grouped(est):
            raise ParameterError(
                f"this {type(est).__name__} was fitted without groups; transform without groups=."
            )
        if groups is None:
            raise ParameterError(
                f"this {type(est).__name__} was fitted per series: pass groups= (the name of the "
                "id column of the Dask DataFrame) to transform."
            )
        scale = transform_groups(est, groups, inverse)
        return dask_engine.apply_groups(X, groups, scale, fitted_feature_names(est))
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

    ``groups`` may name the id column (per-series coefficients, reduced under ``group_by``),
    ``sample_weight`` a weight column; padding (``mask_value``) is filtered out in the plan. The
    method's extra statistic is computed by polars too (:func:`seqscale.frames.lazy.extra`):
    robust's quantiles (exact, as numpy's) and meanabs' mean of ``|x|``. Only what the engine
    cannot express is fitted on the collected frame: ``lengths=``, a weight array (name a
    weight column instead), and weighted quantiles (the inverted weighted CDF needs each
    series' values sorted with their weights).
    """
    if groups is not None and not isinstance(groups, str):
        raise ParameterError("a lazy frame takes groups= as the name of its id column.")
    kind = extra_statistic(est)
    weight_column = isinstance(sample_weight, str)
    params = est.get_params()
    if (
        lengths is not None
        or (sample_weight is not None and not weight_column)
        or not lazy.computes(kind, weighted=sample_weight is not None)
    ):
        native = lazy.collect(X).to_native()
        if weight_column:  # a weight column is not a feature
            native, sample_weight = native.drop(sample_weight), native.get_column(sample_weight).to_numpy()
        return est.fit(native, sample_weight=sample_weight, groups=groups, lengths=lengths)
    check_params(est)
    names = [c for c in lazy.schema(X) if c not in (groups, sample_weight)]
    start_fit(est, names)
    mask_value = getattr(est, "mask_value", None)
    options = {"weight": sample_weight, "mask_value": mask_value}
    moments, ids, n_rows, seen = lazy.moments(X, names, groups, **options)
    extra = None if kind is None else lazy.extra(X, kind, names, groups, params, **options)
    if groups is None:
        return from_statistics(est, moments, n_rows, extra)
    stats = GroupStats(np.asarray(ids, dtype=object), moments, n_rows, seen, extra)
    return from_group_statistics(est, stats, weighted=sample_weight is not None)


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
    fallback = _lazy_fallback(est, X, groups) if grouped else None
    # divide where transform divides (one rounding, the same bits as the eager path)
    divide = affine.divides and (fallback is None or fallback.divides)
    factor = (lambda a: a.factor) if divide else (lambda a: a.scale)
    clip = affine.output_bounds() if policy == "clip" and not inverse else None
    if clip is not None and grouped:
        raise ParameterError(
            "out_of_range='clip' on a lazy frame is supported for scalers fitted without groups."
        )
    return lazy.affine_expressions(
        X,
        names,
        (affine.shift, factor(affine), affine.offset),
        inverse=inverse,
        divide=divide,
        id_column=groups,
        ids=est.series_ if grouped else None,
        fallback=None if fallback is None else (fallback.shift, factor(fallback), fallback.offset),
        clip=clip,
        mask_value=est.mask_value,
    )


def _lazy_fallback(est: Any, X: Any, id_column: str) -> Affine | None:
    """Coefficients for series unseen at fit time, by the ``unseen`` policy (checked on the ids)."""
    if est.unseen in ("pooled", "median"):
        return est.fallback_
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
