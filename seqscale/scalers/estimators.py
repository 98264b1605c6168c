"""The four scalers: min-max normalization, standardization, robust and max-abs scaling.

Each is a thin subclass of :class:`~seqscale.scalers.base.AffineScaler`: its parameters, the method that
turns statistics into coefficients, and the scikit-learn attribute names users already know
(``data_min_``, ``mean_``, ``center_``, ``max_abs_``...). Everything else — shapes, NaN, padding,
series, out-of-range policy, files — is shared.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqscale.core import domain as _domain
from seqscale.core import methods
from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
from seqscale.errors import ParameterError
from seqscale.scalers.base import AffineScaler, _finite_number
from seqscale.scalers.registry import register

__all__ = ["MaxAbsScaler", "MeanAbsScaler", "MinMaxScaler", "RobustScaler", "StandardScaler"]

_COMMON_DOC = """
    out_of_range : {"ignore", "clip", "warn", "error"}, default="ignore"
        What ``transform`` does with values outside the fitted (or domain) range.
    unseen : {"error", "pooled", "median", "own"}, default="error"
        Coefficients for series not seen at fit time (grouped fits only): an error, the pooled
        coefficients, the median of the series' coefficients, or ``"own"``: ``transform``
        computes them from the rows of that series it is given, for that call only (the fitted
        scaler never changes; ``inverse_transform`` of such a series raises, naming its ids).
    mask_value : float, optional
        Padding value: a row (timestep) whose features all equal it is ignored by fit and left
        untouched by transform and inverse (Keras ``Masking``).
    padding : {"post", "pre"}, default="post"
        Side of the padding when ``lengths=`` is given.
    copy : bool, default=True
        ``False`` scales a float ndarray in place.
"""

_CLIP_DOC = """
    clip : bool, default=False
        scikit-learn's spelling of ``out_of_range="clip"``: ``True`` clips transformed values to
        the output range, so code written for scikit-learn runs unchanged.
"""


def _per_channel(spec: Any, est: AffineScaler, names: list[str] | None, series: Any, width: int, what: str):
    return _domain.resolve(
        spec, names=names, n_features=est.n_features_in_, series=series, width=width, what=what
    )


class MinMaxScaler(AffineScaler):
    (
        """Normalize each feature to ``feature_range``: ``y = (x - min) / (max - min) * (b - a) + a``.

    A 3D ``[samples, timesteps, features]`` array gets one ``(min, max)`` per feature, pooled
    over samples and timesteps. ``sample_weight`` does not move min and max, except that rows
    of weight 0 are left out (as if they were not there).

    Parameters
    ----------
    feature_range : tuple (a, b), default=(0, 1)
    bounds : (low, high), array of pairs, or dict {feature: (low, high)}, optional
        Domain knowledge: the range to map instead of the training min/max; ``None`` in a pair
        leaves that end to the data. After a grouped fit, a dict keyed by series id fixes bounds
        per series.
    margin : float in [0, 0.5), default=0
        Headroom: the data range maps onto the inner ``1 - 2*margin`` share of
        ``feature_range``, so later, larger values still land inside it.
    """
        + _COMMON_DOC
        + _CLIP_DOC
        + """
    Attributes
    ----------
    data_min_, data_max_, data_range_ : ndarray (features,) or (series, features)
    scale_, min_ : ndarray, as in scikit-learn (``X * scale_ + min_``)
    affine_ : Affine, the coefficients of ``y = (x - shift) * scale + offset``
    stats_ : Moments, the pooled statistics seen

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(10.0, 101.0, 10.0)
    >>> MinMaxScaler().fit_transform(x).round(3).tolist()[:3]
    [0.0, 0.111, 0.222]
    """
    )

    method = "minmax"

    def __init__(
        self,
        feature_range=(0, 1),
        *,
        bounds=None,
        margin=0.0,
        out_of_range="ignore",
        unseen="error",
        mask_value=None,
        padding="post",
        copy=True,
        clip=False,
    ):
        self.feature_range = feature_range
        self.bounds = bounds
        self.margin = margin
        self.out_of_range = out_of_range
        self.unseen = unseen
        self.mask_value = mask_value
        self.padding = padding
        self.copy = copy
        self.clip = clip

    def _check_method_params(self) -> None:
        try:
            a, b = (float(v) for v in self.feature_range)
        except (TypeError, ValueError):
            raise ParameterError(
                f"feature_range={self.feature_range!r} must be a pair of numbers (a, b)."
            ) from None
        if not (np.isfinite(a) and np.isfinite(b) and a < b):
            raise ParameterError(
                f"feature_range={self.feature_range!r}: need finite a < b, e.g. (0, 1) or (-1, 1)."
            )
        if not (_finite_number(self.margin) and 0.0 <= float(self.margin) < 0.5):
            raise ParameterError(f"margin={self.margin!r} must be a number in [0, 0.5).")

    def _method_affine(self, stats: Moments, extra: dict, names, series) -> Affine:
        dom = _per_channel(self.bounds, self, names, series, 2, "bounds")
        dom_shape_ok = dom is not None and dom.shape[:-1] == stats.count.shape
        low = dom[..., 0] if dom_shape_ok else None
        high = dom[..., 1] if dom_shape_ok else None
        if dom is not None and not dom_shape_ok and dom.ndim == 2:  # per-feature bounds, grouped fit
            low, high = (
                np.broadcast_to(dom[..., 0], stats.count.shape),
                np.broadcast_to(dom[..., 1], stats.count.shape),
            )
        fr = tuple(float(v) for v in self.feature_range)
        return methods.minmax(stats, fr, float(self.margin), low, high)

    def _segment_rule(self) -> tuple[str, float, float] | None:
        if self.bounds is not None or float(self.margin):
            return None
        a, b = (float(v) for v in self.feature_range)
        return "minmax", a, b

    def _set_public_attributes(self, affine: Affine, stats: Moments) -> None:
        self.data_min_, self.data_max_ = affine.low.copy(), affine.high.copy()
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = affine.scale.copy()
        self.min_ = affine.offset - affine.shift * affine.scale

    def _constant_target(self) -> str:
        return f"the lower end of feature_range ({self.feature_range[0]})"


class StandardScaler(AffineScaler):
    (
        """Standardize each feature: ``y = (x - mean) / std`` (population std, as scikit-learn).

    Parameters
    ----------
    with_mean, with_std : bool, default=True
    mean, std : number, array (features,) or dict {feature: value}, optional
        Domain knowledge overriding the estimated mean or std (only some features may be
        given; the rest are estimated). After a grouped fit, a dict keyed by series id.
    """
        + _COMMON_DOC
        + """
    Attributes
    ----------
    mean_, var_, scale_ : ndarray, as in scikit-learn (``scale_`` is the std)
    affine_ : Affine

    Examples
    --------
    >>> import numpy as np
    >>> s = StandardScaler(mean=10.0, std=5.0).fit(np.array([[0.0], [1.0]]))
    >>> round(float(s.transform(np.array([[20.7]]))[0, 0]), 2)
    2.14
    """
    )

    method = "standard"

    def __init__(
        self,
        *,
        with_mean=True,
        with_std=True,
        mean=None,
        std=None,
        out_of_range="ignore",
        unseen="error",
        mask_value=None,
        padding="post",
        copy=True,
    ):
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean = mean
        self.std = std
        self.out_of_range = out_of_range
        self.unseen = unseen
        self.mask_value = mask_value
        self.padding = padding
        self.copy = copy

    def _fixed(self, stats: Moments, names, series) -> list[np.ndarray | None]:
        """The domain mean and std, per channel (NaN where the data decides), or None."""
        fixed = []
        for spec, what in ((self.mean, "mean"), (self.std, "std")):
            dom = _per_channel(spec, self, names, series, 1, what)
            fixed.append(
                None
                if dom is None
                else np.broadcast_to(dom[..., 0], stats.count.shape)
                if dom.ndim == 2
                else dom[..., 0]
            )
        return fixed

    def _method_affine(self, stats: Moments, extra: dict, names, series) -> Affine:
        mean, std = self._fixed(stats, names, series)
        return methods.standard(stats, self.with_mean, self.with_std, mean, std)

    def _segment_rule(self) -> tuple[str, float, float] | None:
        if self.mean is not None or self.std is not None:
            return None
        return "standard", float(bool(self.with_mean)), float(bool(self.with_std))

    def _set_public_attributes(self, affine: Affine, stats: Moments) -> None:
        # scikit-learn's meaning: mean_ is the mean even with with_mean=False (None when neither
        # centring nor scaling); var_ and scale_ are None with with_std=False.
        series = self.series_ if self._grouped else None
        mean, std = self._fixed(stats, self._feature_names_list(), series)
        either = self.with_mean or self.with_std
        center = stats.mean.copy() if mean is None else np.where(np.isnan(mean), stats.mean, mean)
        self.mean_ = center if either else None
        self.var_ = stats.var() if self.with_std else None
        self.scale_ = methods.standard_spread(stats, std) if self.with_std else None

    def _samples_seen(self, stats: Moments) -> int | np.ndarray:
        # per feature when missing values make the counts differ, as in scikit-learn
        if self._grouped or stats.count.size == 0 or np.all(stats.count == stats.count[0]):
            return self._n_rows
        return stats.count.astype(np.int64)


class RobustScaler(AffineScaler):
    (
        """Scale by the median and the inter-quantile range: ``y = (x - median) / (q_high - q_low)``.

    Robust to outliers and heavy tails. Quantiles are exact in memory; ``partial_fit`` keeps a
    mergeable sketch whose rank error is recorded (``exact`` in the coefficient file).
    With ``sample_weight`` the quantiles are weighted: the inverted weighted CDF, numpy's
    ``quantile(x, q, method="inverted_cdf", weights=w)`` (no interpolation).

    Parameters
    ----------
    quantile_range : (q_low, q_high), default=(25.0, 75.0)
    with_centering, with_scaling, unit_variance : bool, as in scikit-learn
    """
        + _COMMON_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> RobustScaler().fit(np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])).center_.tolist()
    [3.0]
    """
    )

    method = "robust"

    def __init__(
        self,
        quantile_range=(25.0, 75.0),
        *,
        with_centering=True,
        with_scaling=True,
        unit_variance=False,
        out_of_range="ignore",
        unseen="error",
        mask_value=None,
        padding="post",
        copy=True,
    ):
        self.quantile_range = quantile_range
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.unit_variance = unit_variance
        self.out_of_range = out_of_range
        self.unseen = unseen
        self.mask_value = mask_value
        self.padding = padding
        self.copy = copy

    def _check_method_params(self) -> None:
        try:
            lo, hi = (float(v) for v in self.quantile_range)
        except (TypeError, ValueError):
            raise ParameterError(
                f"quantile_range={self.quantile_range!r} must be a pair of percentiles."
            ) from None
        if not (0.0 <= lo < hi <= 100.0):
            raise ParameterError(
                f"Invalid quantile range: {tuple(self.quantile_range)}. quantile_range needs "
                "0 <= low < high <= 100."
            )

    def _method_affine(self, stats: Moments, extra: dict, names, series) -> Affine:
        return methods.robust(
            stats,
            extra["median"],
            extra["q_low"],
            extra["q_high"],
            self.with_centering,
            self.with_scaling,
            self.unit_variance,
            tuple(self.quantile_range),
        )

    def _set_public_attributes(self, affine: Affine, stats: Moments) -> None:
        # None for a step that is off, as in scikit-learn
        self.center_ = affine.shift.copy() if self.with_centering else None
        if self.with_scaling:
            q = self._extra_table(self._grouped)
            lo_hi = (q["median"], q["q_low"], q["q_high"], self.unit_variance, tuple(self.quantile_range))
            self.scale_ = methods.robust_spread(stats, *lo_hi)
        else:
            self.scale_ = None

    @property
    def exact_(self) -> bool:
        """Whether the quantiles are exact (no sketch compaction happened)."""
        return self._extra is None or self._extra.exact


class MaxAbsScaler(AffineScaler):
    (
        """Divide each feature by its largest absolute value: data lands in ``[-1, 1]``, zeros stay 0.

    A constant feature maps to ``+1`` or ``-1`` (its sign), as in scikit-learn; an all-zero feature
    stays 0 (with a ``ConstantFeatureWarning``). ``sample_weight`` does not change the largest
    magnitude, except that rows of weight 0 are left out.

    Parameters
    ----------
    max_abs : number, array (features,) or dict {feature: value}, optional
        Domain knowledge: the magnitude that maps to 1 instead of the largest one seen (only
        some features may be given). After a grouped fit, a dict keyed by series id.
    """
        + _COMMON_DOC
        + _CLIP_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> MaxAbsScaler().fit_transform(np.array([[-4.0], [2.0]])).ravel().tolist()
    [-1.0, 0.5]
    """
    )

    method = "maxabs"

    def __init__(
        self,
        *,
        max_abs=None,
        out_of_range="ignore",
        unseen="error",
        mask_value=None,
        padding="post",
        copy=True,
        clip=False,
    ):
        self.max_abs = max_abs
        self.out_of_range = out_of_range
        self.unseen = unseen
        self.mask_value = mask_value
        self.padding = padding
        self.copy = copy
        self.clip = clip

    def _fixed(self, stats: Moments, names, series) -> np.ndarray | None:
        dom = _per_channel(self.max_abs, self, names, series, 1, "max_abs")
        if dom is None:
            return None
        return np.broadcast_to(dom[..., 0], stats.count.shape) if dom.ndim == 2 else dom[..., 0]

    def _method_affine(self, stats: Moments, extra: dict, names, series) -> Affine:
        return methods.maxabs(stats, self._fixed(stats, names, series))

    def _segment_rule(self) -> tuple[str, float, float] | None:
        return None if self.max_abs is not None else ("maxabs", 0.0, 0.0)

    def _degenerate_channels(self, table: Moments) -> np.ndarray:
        # A constant non-zero feature is fine for max-abs scaling (it maps to +-1); only an
        # all-zero feature has no scale.
        return ~(np.fmax(np.abs(table.min), np.abs(table.max)) > 0)

    def _set_public_attributes(self, affine: Affine, stats: Moments) -> None:
        series = self.series_ if self._grouped else None
        self.max_abs_ = methods.maxabs_bound(stats, self._fixed(stats, self._feature_names_list(), series))
        self.scale_ = np.where(self.max_abs_ > 0, self.max_abs_, 1.0)


class MeanAbsScaler(AffineScaler):
    (
        """Divide each feature by its mean absolute value: ``y = x / mean(|x|)`` (DeepAR-style).

    Fitted per series (``groups=``) it is GluonTS's ``MeanScaler``: each series divided by the
    mean of its absolute values; a series with no observed value takes the pooled mean of all
    series, and every divisor is at least ``minimum_scale`` (an all-zero series stays 0).
    Zeros stay 0 and signs are kept.

    Parameters
    ----------
    minimum_scale : float > 0, default=1e-10
        The smallest divisor (GluonTS's ``minimum_scale``).
    """
        + _COMMON_DOC
        + """
    Attributes
    ----------
    mean_abs_ : ndarray (features,) or (series, features), the mean of ``|x|`` seen
    scale_ : ndarray, the divisor (``mean_abs_`` floored at ``minimum_scale``)
    affine_ : Affine

    Examples
    --------
    >>> import numpy as np
    >>> MeanAbsScaler().fit_transform(np.array([[-1.0], [3.0]])).ravel().tolist()
    [-0.5, 1.5]
    """
    )

    method = "meanabs"

    def __init__(
        self,
        *,
        minimum_scale=1e-10,
        out_of_range="ignore",
        unseen="error",
        mask_value=None,
        padding="post",
        copy=True,
    ):
        self.minimum_scale = minimum_scale
        self.out_of_range = out_of_range
        self.unseen = unseen
        self.mask_value = mask_value
        self.padding = padding
        self.copy = copy

    def _check_method_params(self) -> None:
        if not (_finite_number(self.minimum_scale) and float(self.minimum_scale) > 0):
            raise ParameterError(f"minimum_scale={self.minimum_scale!r} must be a finite number > 0.")

    def _default(self, stats: Moments) -> np.ndarray | None:
        """Per-series fits: the pooled mean of ``|x|`` for a series that saw no value."""
        return self._extra_table(False)["mean_abs"] if stats.count.ndim == 2 else None

    def _method_affine(self, stats: Moments, extra: dict, names, series) -> Affine:
        return methods.meanabs(stats, extra["mean_abs"], float(self.minimum_scale), self._default(stats))

    def _degenerate_channels(self, table: Moments) -> np.ndarray:
        return ~(np.fmax(np.abs(table.min), np.abs(table.max)) > 0)  # only all-zero has no scale

    def _set_public_attributes(self, affine: Affine, stats: Moments) -> None:
        self.mean_abs_ = self._extra_table(self._grouped)["mean_abs"].copy()
        self.scale_ = methods.meanabs_divisor(
            stats, self.mean_abs_, float(self.minimum_scale), self._default(stats)
        )


#: The scaler class of each method name (the names used in code, JSON files and the CLI).
SCALERS: dict[str, type[AffineScaler]] = register(
    MinMaxScaler, StandardScaler, RobustScaler, MaxAbsScaler, MeanAbsScaler
)
