"""Domain knowledge: turn ``bounds=``, ``mean=``, ``std=`` parameters into per-channel arrays.

A domain value overrides the statistic estimated from the data; NaN means "estimate it". Accepted
forms (``width`` is 2 for ``(low, high)`` bounds, 1 for a mean or a std):

* one value (or one ``(low, high)`` pair) for every feature;
* an array with one value (pair) per feature;
* a dict keyed by feature name or index: only those features are fixed;
* after a grouped fit, a dict keyed by series id whose values take any of the forms above:
  fixed coefficients per series.

``None`` inside a pair leaves that end to the data: ``{"temp": (None, 40)}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from seqscale.errors import ParameterError

__all__ = ["resolve"]


def _number(value: Any, where: str) -> float:
    if value is None:
        return np.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{where}: {value!r} is not a number.") from None
    if not np.isfinite(out):
        raise ParameterError(f"{where}: {value!r} must be finite (use None to leave it to the data).")
    return out


def _entry(value: Any, width: int, where: str) -> np.ndarray:
    if width == 1:
        return np.array([_number(value, where)])
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ParameterError(f"{where}: expected a (low, high) pair, got {value!r}.")
    return np.array([_number(value[0], where), _number(value[1], where)])


def _feature_index(key: Any, names: list[str] | None, n_features: int) -> int | None:
    if names is not None and isinstance(key, str) and key in names:
        return names.index(key)
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and -n_features <= key < n_features:
        return int(key) % n_features
    return None


def _per_feature(spec: Any, names: list[str] | None, n_features: int, width: int, what: str) -> np.ndarray:
    out = np.full((n_features, width), np.nan)
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            j = _feature_index(key, names, n_features)
            if j is None:
                known = names if names is not None else list(range(n_features))
                raise ParameterError(f"{what}: unknown feature {key!r}; the features are {known}.")
            out[j] = _entry(value, width, f"{what}[{key!r}]")
        return out
    arr = np.asarray(spec, dtype=object)
    single = arr.ndim == 0 if width == 1 else arr.shape == (2,)
    if single:
        out[:] = _entry(spec, width, what)
        return out
    if arr.shape[0] != n_features:
        raise ParameterError(
            f"{what}: got {arr.shape[0]} entries for {n_features} features; give one per feature "
            "or a dict keyed by feature name."
        )
    for j in range(n_features):
        out[j] = _entry(arr[j], width, f"{what}[{j}]")
    return out


def _is_series_dict(spec: Any, names: list[str] | None, n_features: int, series: np.ndarray | None) -> bool:
    if not isinstance(spec, Mapping) or series is None:
        return False
    if all(_feature_index(k, names, n_features) is not None for k in spec):
        return False
    known = set(series.tolist())
    return all(k in known for k in spec)


def resolve(
    spec: Any,
    *,
    names: list[str] | None,
    n_features: int,
    series: np.ndarray | None = None,
    width: int = 1,
    what: str = "bounds",
) -> np.ndarray | None:
    """Per-channel domain values: ``(features, width)`` or ``(series, features, width)``; NaN = estimate.

    Examples
    --------
    >>> resolve({"temp": (-10, 30)}, names=["temp", "rain"], n_features=2, width=2).tolist()
    [[-10.0, 30.0], [nan, nan]]
    """
    if spec is None:
        return None
    if _is_series_dict(spec, names, n_features, series):
        out = np.full((len(series), n_features, width), np.nan)
        position = {sid: i for i, sid in enumerate(series.tolist()) if sid in spec}
        for sid, i in position.items():
            out[i] = _per_feature(spec[sid], names, n_features, width, f"{what}[series {sid!r}]")
        _check_pairs(out, width, what)
        return out
    if (
        isinstance(spec, Mapping)
        and series is None
        and not all(_feature_index(k, names, n_features) is not None for k in spec)
    ):
        unknown = [k for k in spec if _feature_index(k, names, n_features) is None]
        raise ParameterError(
            f"{what}: keys {unknown[:5]} are neither feature names nor indices; per-series values "
            "need a grouped fit (fit(X, groups=ids))."
        )
    out = _per_feature(spec, names, n_features, width, what)
    _check_pairs(out, width, what)
    return out


def _check_pairs(out: np.ndarray, width: int, what: str) -> None:
    if width == 2:
        bad = out[..., 0] >= out[..., 1]
        if np.any(bad):
            raise ParameterError(f"{what}: a (low, high) pair has low >= high; low must be below high.")
    elif what == "std" and np.any(out <= 0):
        raise ParameterError("std: a fixed standard deviation must be positive.")
