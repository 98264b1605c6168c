"""Per-window (instance) scaling: each sample of a 3D array scaled by its own statistics.

Scaling every input window by its own mean and std (or min and max) removes the level and scale
of each window — the idea behind RevIN. The model's output for that window is then mapped back
with the statistics *of the input window it came from*, since the output's own statistics are
unknown at prediction time. Unlike RevIN's hidden state between normalize and denormalize, the
coefficients are returned to the caller: nothing is remembered between calls. A flat window
follows the one rule of every scaler (:mod:`seqscale.core.methods`): values equal up to rounding
count as constant and map to 0 (or the lower end of ``feature_range``) with slope 1 (``b - a``),
while any larger spread, however small, is divided by — as scikit-learn and tslearn do.

Examples
--------
>>> import numpy as np
>>> X = np.arange(24.0).reshape(2, 4, 3)                 # 2 windows, 4 steps, 3 features
>>> Xs, coefs = scale_windows(X, method="minmax")
>>> Xs[0, :, 0].tolist()
[0.0, 0.3333333333333333, 0.6666666666666666, 1.0]
>>> coefs.inverse(np.array([1.0, 0.5]), features=[0]).tolist()   # one prediction per window
[9.0, 16.5]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqscale.core import registry as _registry
from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
from seqscale.errors import InputError, ParameterError
from seqscale.frames.segments import segment_moments

__all__ = ["WindowCoefficients", "scale_windows"]


@dataclass(frozen=True)
class WindowCoefficients:
    """Coefficients of each window: ``affine`` arrays of shape ``(samples, features)``."""

    affine: Affine
    method: str

    @property
    def n_samples(self) -> int:
        """Number of windows."""
        return self.affine.scale.shape[0]

    def apply(self, Y: Any, features: Any = None) -> np.ndarray:
        """Scale values of each window (e.g. training targets) with its input window's statistics."""
        return self._map(Y, features, inverse=False)

    def inverse(self, Y: Any, features: Any = None) -> np.ndarray:
        """Map each window's scaled predictions back to original units.

        ``Y`` is ``[samples]`` or ``[samples, horizon]`` for one feature, or
        ``[samples, horizon, k]`` for ``k`` features; ``features`` are positions of the input
        features the predictions correspond to (default: all, in order).
        """
        return self._map(Y, features, inverse=True)

    def _map(self, Y: Any, features: Any, inverse: bool) -> np.ndarray:
        y = np.asarray(Y)
        if y.dtype.kind not in "fiu":
            raise InputError(f"predictions must be numeric; got dtype {y.dtype}.")
        y = y.astype(np.float32 if y.dtype == np.float32 else np.float64, copy=False)
        n_features = self.affine.scale.shape[1]
        channels = np.arange(n_features) if features is None else np.atleast_1d(np.asarray(features))
        if y.shape[:1] != (self.n_samples,):
            raise InputError(f"predictions have {y.shape[:1]} samples; the windows were {self.n_samples}.")
        k = len(channels)
        if k > 1 and y.shape[-1] != k:
            raise InputError(f"predictions' last axis is {y.shape[-1]}; expected {k} features.")
        affine = self.affine.take((slice(None), channels))
        out = _broadcast(y.reshape(self.n_samples, -1, k), affine, inverse)
        return out.reshape(y.shape)


def _broadcast(windows: np.ndarray, affine: Affine, inverse: bool) -> np.ndarray:
    """Apply (or invert) each window's coefficients to ``[samples, steps, k]``, in float64 (the
    per-series kernel of :class:`~seqscale.core.affine.Affine`, window ``i`` as series ``i``)."""
    n, steps, k = windows.shape
    rows = np.ascontiguousarray(windows).reshape(n * steps, k)
    codes = _window_codes(n, steps)
    out = affine.invert(rows, codes=codes) if inverse else affine.apply(rows, codes=codes)
    return out.reshape(windows.shape)


def _window_codes(n_windows: int, steps: int) -> np.ndarray:
    """Row ``i`` of the flattened ``[samples * steps, features]`` array belongs to window ``i // steps``."""
    return np.repeat(np.arange(n_windows, dtype=np.intp), steps)


def scale_windows(
    X: Any,
    method: str = "standard",
    *,
    feature_range: tuple[float, float] = (0.0, 1.0),
    lengths: Any = None,
) -> tuple[np.ndarray, WindowCoefficients]:
    """Scale each window of ``X [samples, timesteps, features]`` by its own statistics.

    Parameters
    ----------
    X : array of shape (samples, timesteps, features)
    method : {"standard", "minmax", "robust", "maxabs", "meanabs"}
    feature_range : output range of "minmax"
    lengths : true length of each (post-)padded window; padding is ignored and left untouched

    Returns
    -------
    Xs : ndarray, same shape and float dtype as X
    coefficients : WindowCoefficients, to scale targets (``apply``) and invert predictions

    Examples
    --------
    >>> flat = np.array([[[0.3], [0.1 + 0.2]] * 4])      # equal up to one ulp: constant
    >>> Xs, _ = scale_windows(flat)
    >>> bool(np.abs(Xs).max() < 1e-16)                    # not blown up by its rounding noise
    True
    """
    arr = np.asarray(X)
    if arr.ndim != 3:
        raise InputError(
            f"scale_windows needs a 3D [samples, timesteps, features] array; got shape {arr.shape}."
        )
    if arr.dtype.kind not in "fiu":
        raise InputError(f"windows must be numeric; got dtype {arr.dtype}.")
    given = arr.dtype
    arr = arr.astype(np.float32 if arr.dtype in (np.float16, np.float32) else np.float64, copy=False)
    work = arr
    pad = None
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (arr.shape[0],):
            raise InputError(f"lengths must hold one length per window ({arr.shape[0]}).")
        pad = np.arange(arr.shape[1])[None, :] >= lengths[:, None]
        work = np.where(pad[:, :, None], np.nan, arr)
    n, steps, k = work.shape
    rows, codes = work.reshape(n * steps, k), _window_codes(n, steps)
    affine = _affine(rows, codes, n, method, feature_range)
    out = _broadcast(arr, affine, inverse=False)
    if pad is not None:
        out[pad] = arr[pad]
    return out.astype(given, copy=False) if given == np.float16 else out, WindowCoefficients(affine, method)


def _affine(rows: np.ndarray, codes: np.ndarray, n_windows: int, method: str, feature_range) -> Affine:
    """Each window's coefficients: its statistics per window (the segment sweep that a per-series
    scaler uses on rows sorted by series, and the method's extra statistic) through the method's
    rule in the registry (constant windows by its one rule)."""
    if method not in _registry.names():
        raise ParameterError(f"method={method!r}: use {', '.join(repr(m) for m in _registry.names())}.")
    declared = _registry.get(method)
    steps = rows.shape[0] // n_windows if n_windows else 0
    with np.errstate(all="ignore"):  # each window is one contiguous segment, as a sorted panel's series
        stats = Moments(*segment_moments(rows, np.arange(n_windows + 1, dtype=np.int64) * steps))
    extra = {} if declared.extra is None else declared.extra.from_rows(rows, codes, n_windows).table({})
    given = {"feature_range": tuple(float(v) for v in feature_range)}
    options = {k: v for k, v in given.items() if k in declared.plan_params}
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-padding window
        return declared.rule(stats, **extra, **options)
