"""From statistics (or domain knowledge) to the coefficients of each scaling method.

Each method is a pure function ``statistics -> Affine``. Domain knowledge overrides a statistic:
an array the shape of the statistics holding NaN where the data decides.

A *constant* channel never divides by zero. It is one whose values are all equal
(``min == max``), or equal up to rounding: its spread is below the rounding error of the
statistics that measure it (:func:`negligible_spread`, scikit-learn's rule for the variance,
``var <= n*eps*var + (n*eps*mean)**2``). Such a channel keeps the slope of a unit spread: it
maps to the lower end of ``feature_range`` (min-max) or to 0 (the others), and new values move
from there with slope ``b - a`` (min-max) or 1. Every path — dense, per series, the segment
sweep, streaming, Dask — derives its coefficients here, so the rule is applied once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqscale.core.affine import Affine
from seqscale.core.extras import AbsMeanStatistic, QuantileStatistic
from seqscale.core.registry import Method, declare
from seqscale.core.stats import Moments
from seqscale.errors import InputError

__all__ = [
    "constant_channels",
    "maxabs",
    "minmax",
    "maxabs_bound",
    "meanabs",
    "meanabs_divisor",
    "negligible_spread",
    "robust",
    "robust_spread",
    "standard",
    "standard_spread",
]


def _override(data: np.ndarray, domain: np.ndarray | None) -> np.ndarray:
    if domain is None:
        return data
    return np.where(np.isnan(domain), data, domain)


_EPS = float(np.finfo(np.float64).eps)


def negligible_spread(spread: np.ndarray, level: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Whether a spread is within the rounding error of statistics of ``count`` values at ``level``.

    scikit-learn's rule for a near-constant feature (``_is_constant_feature``), stated for any
    spread: ``spread**2 <= n*eps*spread**2 + (n*eps*level)**2`` with float64 ``eps``. A column
    like ``[0.3, 0.1 + 0.2] * 5`` (equal up to one ulp) is constant by it.

    Examples
    --------
    >>> negligible_spread(np.array([2.8e-17, 0.1]), np.array([0.3, 0.3]), np.array([10.0, 10.0])).tolist()
    [True, False]
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = np.abs(level) / np.abs(spread)  # divided through by spread**2: no over/underflow
        return (spread == 0) | (1.0 - count * _EPS <= np.square(count * _EPS * ratio))


def constant_channels(moments: Moments) -> np.ndarray:
    """Channels whose values are all equal or equal up to rounding (or that saw no value).

    Examples
    --------
    >>> x = np.array([[0.3, 1.0], [0.1 + 0.2, 2.0]] * 5)
    >>> constant_channels(Moments.from_array(x)).tolist()
    [True, False]
    """
    spread = moments.std()  # 0 with max > min: the variance underflows (refused by the method)
    return ~(moments.max > moments.min) | (
        (spread > 0) & negligible_spread(spread, moments.mean, moments.count)
    )


def minmax(
    moments: Moments,
    feature_range: tuple[float, float] = (0.0, 1.0),
    margin: float = 0.0,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
) -> Affine:
    """Map ``[low, high]`` (data min/max unless fixed) onto ``feature_range``.

    With ``margin=m`` the data range maps onto the inner ``1 - 2m`` share of ``feature_range``,
    leaving headroom for later, larger values. The training minimum maps exactly to the lower
    end and the maximum to the upper end — or, when no float64 scale maps the span onto it
    exactly, an ulp below it — never above it (scikit-learn's ``X*scale_ + min_`` overshoots by
    one ulp on about 5 % of fits).

    Examples
    --------
    >>> m = Moments.from_arrays(count=[2.0], mean=[0.0], m2=[0.0], min=[-10.0], max=[30.0])
    >>> f = minmax(m)
    >>> round(float(f.apply(np.array([[18.8]]))[0, 0]), 2)
    0.72
    """
    a, b = float(feature_range[0]), float(feature_range[1])
    lo = _override(moments.min, low)
    hi = _override(moments.max, high)
    with np.errstate(over="ignore", invalid="ignore"):
        if margin:
            widen = (hi - lo) * (margin / (1.0 - 2.0 * margin))
            lo, hi = lo - widen, hi + widen
        span = hi - lo
    _check_finite_span(span, lo, hi)
    constant = ~(span > 0)
    from_data = (np.True_ if low is None else np.isnan(low)) & (np.True_ if high is None else np.isnan(high))
    constant = constant | (constant_channels(moments) & from_data)
    scale = (b - a) * _reciprocal(span, constant)  # b - a for a constant channel, as scikit-learn
    shift = np.where(np.isnan(lo), 0.0, lo)
    offset = np.full_like(scale, a)
    scale = _exact_upper_end(hi - shift, scale, a, b, constant)
    return Affine(shift, scale, offset, lo, hi)


def _refuse(bad: np.ndarray, what: str) -> None:
    """Raise for channels whose values are too large or too small for float64 arithmetic."""
    if np.any(bad):
        channels = np.flatnonzero(np.reshape(bad, (-1, bad.shape[-1])).any(axis=0)).tolist()
        raise InputError(
            f"channel(s) {channels}: {what}; the values are too extreme for float64 arithmetic. "
            "Rescale the data by a power of ten first (e.g. x / 1e300 or x * 1e300)."
        )


def _reciprocal(spread: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """``1 / spread`` (1 where ``unit``), refusing spreads whose reciprocal overflows."""
    with np.errstate(divide="ignore", over="ignore"):
        scale = np.where(unit, 1.0, 1.0 / np.where(unit, 1.0, spread))
    _refuse(~np.isfinite(scale), "the spread is so small that its reciprocal overflows")
    return scale


def _check_finite_span(span: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    bad = np.isinf(span) & np.isfinite(lo) & np.isfinite(hi)
    if bad.any():
        raise InputError(
            f"the range of channel(s) {np.flatnonzero(bad.ravel()).tolist()} exceeds the largest "
            "float64 (max - min overflows); divide the data by a large power of ten first."
        )


def _exact_upper_end(
    span: np.ndarray, scale: np.ndarray, a: float, b: float, constant: np.ndarray
) -> np.ndarray:
    """Nudge ``scale`` by ulps so that ``span * scale + a`` lands on ``b`` (never above it)."""
    scale = np.array(scale, dtype=np.float64)  # a copy
    flat = scale.reshape(-1)
    spans = np.broadcast_to(span, scale.shape).reshape(-1)
    with np.errstate(invalid="ignore"):
        top = spans * flat + a
    off = (top != b) & ~np.broadcast_to(constant, scale.shape).reshape(-1) & ~np.isnan(top)
    todo = np.flatnonzero(off)  # the channels whose maximum misses b
    for _ in range(4):  # only the channels that may still move are looked at again
        top = spans[todo] * flat[todo] + a
        above, below = top > b, top < b
        off = above | below
        todo, above, below = todo[off], above[off], below[off]
        if not todo.size:
            break
        current = np.where(above, np.nextafter(flat[todo], 0.0), flat[todo])
        trial = np.where(below, np.nextafter(current, np.inf), current)
        up = below & (spans[todo] * trial + a <= b)
        flat[todo] = np.where(up, trial, current)
        todo = todo[above | up]  # below with no ulp up that stays <= b: final
    return scale


def standard(
    moments: Moments,
    with_mean: bool = True,
    with_std: bool = True,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> Affine:
    """Standardize: ``(x - mean) / std`` with the population std (``ddof=0``, like scikit-learn).

    Examples
    --------
    >>> m = Moments.from_arrays(count=[2.0], mean=[0.0], m2=[1.0], min=[0.0], max=[1.0])
    >>> f = standard(m, mean=np.array([10.0]), std=np.array([5.0]))
    >>> round(float(f.apply(np.array([[20.7]]))[0, 0]), 2)
    2.14
    """
    constant = constant_channels(moments)
    exact_constant = moments.max == moments.min  # all equal: the min is the mean, exactly
    center = _override(np.where(exact_constant, moments.min, moments.mean), mean)
    fixed_std = np.zeros(moments.count.shape, dtype=bool) if std is None else ~np.isnan(std)
    _refuse(
        np.isinf(moments.m2) & ~constant & ~fixed_std,
        "the sum of squared deviations overflows float64",
    )
    raw = _override(moments.std(), std)
    _refuse(~constant & ~fixed_std & ~(raw > 0), "the standard deviation underflows to 0")
    spread = standard_spread(moments, std)
    scale = _reciprocal(spread, spread == 1.0) if with_std else np.ones_like(spread)
    shift = center if with_mean else np.zeros_like(center)
    divisor = spread if with_std else None
    return Affine(shift, scale, np.zeros_like(scale), moments.min.copy(), moments.max.copy(), divisor)


def standard_spread(moments: Moments, std: np.ndarray | None = None) -> np.ndarray:
    """The std each channel is divided by (scikit-learn's ``scale_``): 1 for a constant channel.

    Examples
    --------
    >>> standard_spread(Moments.from_array(np.array([[1.0, 5.0], [3.0, 5.0]]))).tolist()
    [1.0, 1.0]
    """
    fixed = np.zeros(moments.count.shape, dtype=bool) if std is None else ~np.isnan(std)
    spread = _override(moments.std(), std)
    unit = (constant_channels(moments) & ~fixed) | ~(spread > 0)
    return np.where(unit, 1.0, spread)


def robust_spread(
    moments: Moments,
    median: np.ndarray,
    q_low: np.ndarray,
    q_high: np.ndarray,
    unit_variance: bool = False,
    quantile_range: tuple[float, float] = (25.0, 75.0),
) -> np.ndarray:
    """The inter-quantile range each channel is divided by (``scale_``): 1 for a constant channel."""
    spread = q_high - q_low
    if unit_variance:
        from scipy.stats import norm

        lo, hi = quantile_range
        spread = spread / (norm.ppf(hi / 100.0) - norm.ppf(lo / 100.0))
    _refuse(np.isinf(spread) | np.isinf(median), "the inter-quantile range overflows float64")
    return np.where(~(spread > 0) | negligible_spread(spread, median, moments.count), 1.0, spread)


def maxabs_bound(moments: Moments, max_abs: np.ndarray | None = None) -> np.ndarray:
    """The largest absolute value of each channel (``max_abs_``): 0 for an all-zero channel."""
    observed = np.fmax(np.abs(moments.min), np.abs(moments.max))
    return _override(np.where(np.isnan(observed), 0.0, observed), max_abs)


def robust(
    moments: Moments,
    median: np.ndarray,
    q_low: np.ndarray,
    q_high: np.ndarray,
    with_centering: bool = True,
    with_scaling: bool = True,
    unit_variance: bool = False,
    quantile_range: tuple[float, float] = (25.0, 75.0),
) -> Affine:
    """Robust scaling: ``(x - median) / (q_high - q_low)``, like scikit-learn's RobustScaler."""
    spread = robust_spread(moments, median, q_low, q_high, unit_variance, quantile_range)
    scale = _reciprocal(spread, spread == 1.0) if with_scaling else np.ones_like(spread)
    shift = np.where(np.isnan(median), 0.0, median) if with_centering else np.zeros_like(median)
    divisor = spread if with_scaling else None
    return Affine(shift, scale, np.zeros_like(scale), moments.min.copy(), moments.max.copy(), divisor)


def maxabs(moments: Moments, max_abs: np.ndarray | None = None) -> Affine:
    """Divide by the largest absolute value, so the data lands in ``[-1, 1]`` (zeros kept)."""
    bound = maxabs_bound(moments, max_abs)
    unit = ~(bound > 0)
    scale = _exact_upper_end(bound, _reciprocal(bound, unit), 0.0, 1.0, unit)  # |max| -> exactly 1
    zeros = np.zeros_like(scale)
    return Affine(
        zeros,
        scale,
        zeros.copy(),
        np.where(unit, moments.min, -bound),
        np.where(unit, moments.max, bound),
        np.where(unit, 1.0, bound),  # divided: the largest magnitude lands on exactly 1
    )


def meanabs_divisor(
    moments: Moments, mean_abs: np.ndarray, minimum_scale: float = 1e-10, default: np.ndarray | None = None
) -> np.ndarray:
    """The mean of ``|x|`` each channel is divided by (``scale_``), as GluonTS's ``MeanScaler``.

    A channel that saw no value takes ``default`` (the pooled mean of ``|x|`` of all series in
    a per-series fit; GluonTS: the batch's); every divisor is at least ``minimum_scale`` (an
    all-zero series stays 0).

    Examples
    --------
    >>> zeros = [0.0, 0.0]
    >>> m = Moments.from_arrays(count=[2.0, 3.0], mean=zeros, m2=zeros, min=zeros, max=zeros)
    >>> meanabs_divisor(m, np.array([2.5, 0.0])).tolist()
    [2.5, 1e-10]
    """
    divisor = np.asarray(mean_abs, dtype=np.float64)
    if default is not None:
        divisor = np.where(moments.count > 0, divisor, default)
    _refuse(np.isinf(divisor), "the mean absolute value overflows float64")
    return np.maximum(np.where(np.isnan(divisor), 0.0, divisor), minimum_scale)


def meanabs(
    moments: Moments, mean_abs: np.ndarray, minimum_scale: float = 1e-10, default: np.ndarray | None = None
) -> Affine:
    """Divide by the mean absolute value (DeepAR's scaling): ``y = x / max(mean|x|, minimum_scale)``."""
    divisor = meanabs_divisor(moments, mean_abs, minimum_scale, default)
    scale = _reciprocal(divisor, np.zeros(divisor.shape, dtype=bool))
    zeros = np.zeros_like(scale)
    return Affine(zeros, scale, zeros.copy(), moments.min.copy(), moments.max.copy(), divisor)


def _pair(bounds: Any) -> tuple[float, float]:
    return tuple(float(v) for v in bounds)


declare(
    Method(
        "minmax",
        minmax,
        domain={"bounds": ("low", "high")},
        plan_bounds="pair",
        bounds_params=lambda b: {"bounds": _pair(b)},
        plan_params=("feature_range",),
        output="feature_range",
    )
)
declare(
    Method(
        "standard",
        standard,
        domain={"mean": ("mean",), "std": ("std",)},
        plan_bounds="mean_std",
        bounds_params=lambda b: {"mean": float(b["mean"]), "std": float(b["std"])},
    )
)
declare(Method("robust", robust, extra=QuantileStatistic))
declare(
    Method(
        "maxabs",
        maxabs,
        domain={"max_abs": ("max_abs",)},
        plan_bounds="pair",
        bounds_params=lambda b: {"max_abs": max(abs(float(v)) for v in b)},
        output=(-1.0, 1.0),
    )
)
declare(Method("meanabs", meanabs, extra=AbsMeanStatistic))
