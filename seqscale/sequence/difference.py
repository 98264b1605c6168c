"""Seasonal differencing ``(1 - B^lag)^order`` and its exact inverse, including for forecasts.

``Difference(lag, order)`` turns levels into differences (``lag=1`` for trends, ``lag=4`` for
quarterly or ``52`` for weekly seasonality; ``order`` applies the differencing repeatedly). The
inverse needs the last ``lag * order`` levels before the first difference: ``fit`` remembers them
for the end of the training data (``last_``); :meth:`Difference.invert_forecast` takes them per
sample for multi-step forecasts.

Examples
--------
>>> import numpy as np
>>> x = np.array([1.0, 3.0, 6.0, 10.0])
>>> d = Difference().fit(x)
>>> d.transform(x).tolist()
[nan, 2.0, 3.0, 4.0]
>>> d.inverse_transform([5.0, 6.0]).tolist()  # continues after the fitted data
[15.0, 21.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from seqscale.errors import (
    CoefficientFileError,
    FeatureMismatchError,
    InputError,
    InputTypeError,
    NotFittedError,
    ParameterError,
)

__all__ = ["Difference"]

_KINDS = ("point", "quantiles", "paths")


def _as_levels(X: Any, what: str) -> np.ndarray:
    """Any 1D/2D input -> float ndarray (float32/float64 kept, others -> float64)."""
    arr = X.to_numpy() if isinstance(X, (pd.Series, pd.DataFrame)) else np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(
            f"{what} must be numeric; got dtype {arr.dtype}. Convert or drop non-numeric columns."
        )
    if arr.ndim not in (1, 2):
        raise InputError(f"{what} must be 1D or 2D [time, features]; got shape {arr.shape}.")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _diff(x: np.ndarray, lag: int, order: int) -> np.ndarray:
    """Apply ``(1 - B^lag)^order`` along axis 0; the result is ``lag * order`` rows shorter."""
    for _ in range(order):
        x = x[lag:] - x[:-lag]
    return x


def _integrate(diffs: np.ndarray, last: np.ndarray, lag: int) -> np.ndarray:
    """Invert one lag-difference along axis 0 given the last ``lag`` levels (vectorized)."""
    n = diffs.shape[0]
    blocks = -(-n // lag)
    padded = np.zeros((blocks * lag, *diffs.shape[1:]), dtype=np.result_type(diffs, last))
    padded[:n] = diffs
    steps = padded.reshape(blocks, lag, *diffs.shape[1:])
    levels = np.cumsum(steps, axis=0) + last[-lag:]
    return levels.reshape(blocks * lag, *diffs.shape[1:])[:n]


def _undiff(diffs: np.ndarray, history: np.ndarray, lag: int, order: int) -> np.ndarray:
    """Rebuild levels from ``order``-times lag differences and the ``lag*order`` prior levels."""
    stages = [history]
    for _ in range(order - 1):
        stages.append(stages[-1][lag:] - stages[-1][:-lag])
    levels = diffs
    for stage in reversed(stages):
        levels = _integrate(levels, stage, lag)
    return levels


class Difference(TransformerMixin, BaseEstimator):
    """Lag-``lag`` differencing applied ``order`` times, with an exact inverse.

    Parameters
    ----------
    lag : int, default 1
        Distance between differenced observations (1: trend, 4: quarterly, 52: weekly seasons).
    order : int, default 1
        How many times the differencing is applied. The first ``lag * order`` rows have no
        difference.
    dropna : bool, default False
        ``False`` keeps the row count and index: the first ``lag * order`` rows are NaN (as
        ``pandas.Series.diff``). ``True`` removes them (and their index labels).

    Attributes
    ----------
    last_ : ndarray of float64, shape ``(lag * order,)`` or ``(lag * order, n_features)``
        The last levels of the fitted data: the state needed to rebuild levels after it.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when fitted on a DataFrame)

    Notes
    -----
    Integer and boolean input is differenced in float64 (exact up to 2**53); float32 stays
    float32. NaN propagates to the differences that use it.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1, 2, 4, 7, 11, 16])
    >>> d = Difference(lag=1, order=2, dropna=True)
    >>> d.fit_transform(x).tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> d.inverse_transform([1.0, 1.0], history=x[:2]).tolist()
    [4.0, 7.0]
    """

    def __init__(self, lag: int = 1, order: int = 1, dropna: bool = False) -> None:
        self.lag = lag
        self.order = order
        self.dropna = dropna

    @property
    def span(self) -> int:
        """Number of prior levels the inverse needs: ``lag * order``."""
        return self.lag * self.order

    def _check_params(self, error: type[Exception] = ParameterError) -> None:
        for name in ("lag", "order"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise error(f"Difference {name}={value!r} is invalid; use an integer >= 1.")
        if not isinstance(self.dropna, (bool, np.bool_)):
            raise error(f"Difference dropna={self.dropna!r} is invalid; use True or False.")

    def _check_fitted(self) -> None:
        if not hasattr(self, "last_"):
            raise NotFittedError("This Difference is not fitted yet; call fit(X) first or pass history=.")

    def _check_width(self, arr: np.ndarray, what: str) -> None:
        if not hasattr(self, "n_features_in_"):
            return
        width = 1 if arr.ndim == 1 else arr.shape[1]
        if width != self.n_features_in_:
            raise FeatureMismatchError(
                f"{what} has {width} features but the Difference was fitted on "
                f"{self.n_features_in_}; pass the same columns."
            )

    def _history(self, history: Any, like: np.ndarray) -> np.ndarray:
        h = _as_levels(history, "history")
        if h.ndim != like.ndim or h.shape[1:] != like.shape[1:] or h.shape[0] < self.span:
            raise InputError(
                f"history must hold at least lag*order = {self.span} rows shaped like the data "
                f"{like.shape[1:]}; got shape {h.shape}. Pass the last {self.span} observations."
            )
        return h[h.shape[0] - self.span :]

    def fit(self, X: Any, y: Any = None) -> Difference:
        """Remember the last ``lag * order`` levels of ``X`` (as ``last_``).

        Parameters
        ----------
        X : 1D or 2D ``[time, features]`` array, Series or DataFrame
        y : ignored
        """
        self._check_params()
        arr = _as_levels(X, "X")
        if arr.shape[0] <= self.span:
            raise InputError(
                f"X has {arr.shape[0]} rows; differencing with lag={self.lag}, order={self.order}"
                f" needs more than {self.span}. Pass a longer series or lower lag/order."
            )
        last = np.asarray(arr[-self.span :], dtype=np.float64)
        if np.isnan(last).any():
            raise InputError(
                f"the last {self.span} rows of X contain NaN; the levels after them could not be "
                "rebuilt. Fill or drop the missing values first."
            )
        self.__dict__.pop("feature_names_in_", None)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = 1 if arr.ndim == 1 else arr.shape[1]
        self.last_ = last
        return self

    def transform(self, X: Any, history: Any = None) -> Any:
        """Difference ``X``; with ``history`` (the observations right before it) lose no rows.

        Returns the same type as ``X`` (Series/DataFrame keep their index). Without history the
        first ``lag * order`` rows are NaN (``dropna=False``) or removed (``dropna=True``).

        Examples
        --------
        >>> Difference().fit([1.0, 2.0]).transform([4.0, 8.0], history=[2.0]).tolist()
        [2.0, 4.0]
        """
        self._check_params()
        arr = _as_levels(X, "X")
        self._check_width(arr, "X")
        if history is not None:
            full = np.concatenate([self._history(history, arr), arr])
            return _wrap(X, _diff(full, self.lag, self.order), slice(None))
        out = _diff(arr, self.lag, self.order)
        if self.dropna:
            return _wrap(X, out, slice(self.span, None))
        head = np.full((min(self.span, arr.shape[0]), *arr.shape[1:]), np.nan, dtype=arr.dtype)
        return _wrap(X, np.concatenate([head, out]), slice(None))

    def inverse_transform(self, X: Any, history: Any = None) -> Any:
        """Rebuild levels from differences.

        Parameters
        ----------
        X : differences, 1D or 2D ``[time, features]`` (array, Series or DataFrame)
        history : the last ``lag * order`` levels before the first difference. Default: the
            fitted ``last_`` (the differences continue right after the fitted data).

        Returns
        -------
        Levels, same shape and type as ``X`` (float64 or float32).

        Examples
        --------
        >>> Difference(lag=2).inverse_transform([1.0, 1.0, 1.0], history=[10.0, 20.0]).tolist()
        [11.0, 21.0, 12.0]
        """
        self._check_params()
        arr = _as_levels(X, "X")
        if history is None:
            self._check_fitted()
            self._check_width(arr, "X")
            h = self.last_.reshape((self.span, *arr.shape[1:]))
        else:
            h = self._history(history, arr)
        return _wrap(X, _undiff(arr, h, self.lag, self.order), slice(None))

    def invert_forecast(self, pred: Any, last_levels: Any, kind: str = "point") -> np.ndarray:
        """Turn forecasts of differences into forecasts of levels, one history per sample.

        Parameters
        ----------
        pred : ndarray
            ``kind="point"``: ``[samples, horizon]`` or ``[samples, horizon, k]``.
            ``kind="quantiles"``: ``[samples, horizon, n_quantiles]``.
            ``kind="paths"``: ``[samples, horizon, n_paths]`` (sampled trajectories).
        last_levels : ndarray
            Each sample's last known levels: ``[samples, >= lag*order]`` (the last
            ``lag*order`` columns are used) or ``[samples, >= lag*order, k]`` for 3D point input.
        kind : {"point", "quantiles", "paths"}

        Notes
        -----
        A level ``h`` steps ahead is the sum of future differences plus known levels. Adding a
        known constant preserves quantiles, so quantile forecasts map exactly while
        ``horizon <= lag`` (one future difference per level: always for horizon 1). Beyond that
        quantiles of a sum are not sums of quantiles: pass sample paths, rebuild each path and
        take quantiles of the levels.

        Examples
        --------
        >>> d = Difference()
        >>> d.invert_forecast([[1.0, 2.0]], last_levels=[[10.0]]).tolist()
        [[11.0, 13.0]]
        """
        self._check_params()
        if kind not in _KINDS:
            raise ParameterError(f"kind={kind!r} is invalid; use one of {_KINDS}.")
        p = _as_levels_nd(pred, "pred")
        last = _as_levels_nd(last_levels, "last_levels")
        need_3d = kind != "point" or p.ndim == 3
        if p.ndim not in (2, 3) or (kind != "point" and p.ndim != 3):
            shape = "[samples, horizon]" if kind == "point" else f"[samples, horizon, {kind}]"
            raise InputError(f"pred for kind={kind!r} must be shaped {shape}; got {p.shape}.")
        if kind == "quantiles" and p.shape[1] > self.lag:
            raise ParameterError(
                f"cannot invert {p.shape[1]}-step quantile forecasts of differences (lag="
                f"{self.lag}): quantiles of a sum are not sums of quantiles. Forecast sample "
                "paths, invert them with kind='paths', then take quantiles of the levels."
            )
        want = 3 if (kind == "point" and p.ndim == 3) else 2
        ok = last.ndim == want and last.shape[0] == p.shape[0] and last.shape[1] >= self.span
        if ok and want == 3:
            ok = last.shape[2] == p.shape[2]
        if not ok:
            tail = f", {p.shape[2]}" if want == 3 else ""
            raise InputError(
                f"last_levels must be shaped [samples={p.shape[0]}, >= lag*order={self.span}"
                f"{tail}]; got {last.shape}. Pass each sample's last observed levels."
            )
        last = last[:, last.shape[1] - self.span :]
        if need_3d and want == 2:
            last = last[:, :, None]
        levels = _undiff(np.swapaxes(p, 0, 1), np.swapaxes(last, 0, 1), self.lag, self.order)
        return np.swapaxes(levels, 0, 1)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable record (``last`` is null before fit)."""
        self._check_params()
        fitted = hasattr(self, "last_")
        names = getattr(self, "feature_names_in_", None)
        return {
            "type": "Difference",
            "version": 1,
            "params": {"lag": int(self.lag), "order": int(self.order), "dropna": bool(self.dropna)},
            "last": self.last_.tolist() if fitted else None,
            "n_features_in": int(self.n_features_in_) if fitted else None,
            "feature_names_in": None if names is None else [str(n) for n in names],
        }

    @classmethod
    def from_dict(cls, d: Any) -> Difference:
        """Rebuild a Difference from :meth:`to_dict` output; raise CoefficientFileError."""
        _field(isinstance(d, dict), "record", "must be a JSON object (dict)")
        _field(d.get("type") == "Difference", "type", "must be 'Difference'")
        _field(d.get("version") == 1, "version", "must be 1 (unknown format version)")
        params = d.get("params")
        _field(
            isinstance(params, dict) and set(params) == {"lag", "order", "dropna"},
            "params",
            "must be an object with lag, order and dropna",
        )
        out = cls(**params)
        out._check_params(CoefficientFileError)
        if d.get("last") is None:
            return out
        try:
            last = np.asarray(d["last"], dtype=np.float64)
        except (TypeError, ValueError):
            last = None
        width = d.get("n_features_in")
        ok = last is not None and last.ndim in (1, 2) and last.shape[0] == out.span
        ok = ok and bool(np.isfinite(last).all())
        _field(ok, "last", f"must be a list of {out.span} finite numbers (or rows of numbers)")
        _field(
            isinstance(width, int) and width == (1 if last.ndim == 1 else last.shape[1]),
            "n_features_in",
            "must match the width of 'last'",
        )
        names = d.get("feature_names_in")
        if names is not None:
            _field(
                isinstance(names, list) and len(names) == width and all(isinstance(n, str) for n in names),
                "feature_names_in",
                "must be null or one string per feature",
            )
            out.feature_names_in_ = np.asarray(names, dtype=object)
        out.n_features_in_, out.last_ = width, last
        return out


def _as_levels_nd(X: Any, what: str) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(f"{what} must be numeric; got dtype {arr.dtype}.")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _wrap(X: Any, values: np.ndarray, rows: slice) -> Any:
    """Return ``values`` as the type of ``X``, with the index rows ``rows`` of ``X``."""
    if isinstance(X, pd.DataFrame):
        return pd.DataFrame(values, index=X.index[rows], columns=X.columns)
    if isinstance(X, pd.Series):
        return pd.Series(values, index=X.index[rows], name=X.name)
    return values


def _field(ok: bool, field: str, what: str) -> None:
    if not ok:
        raise CoefficientFileError(f"Difference record: field {field!r} {what}; re-create it with to_dict().")
