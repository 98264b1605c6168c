"""Quantiles for robust scaling: exact in memory, a mergeable sketch when streamed.

A :class:`QuantileSketch` holds, for one channel, the observed values sorted by (series, value)
with a weight each. While no series holds more than ``capacity`` values every weight is 1 and
quantiles are exact (numpy's ``linear`` method). Past it, a series is *compacted*: resampled to
``capacity // 2`` values of equal weight at evenly spaced ranks, so memory stays bounded and the rank error
stays below ``rank_error`` (recorded in the coefficient file as ``"exact": false``). Everything is
vectorized over series: no Python loop per series.

With sample weights (``weighted=True``) each value carries its sample's weight (weight-0 values
are dropped) and a quantile is the inverted weighted CDF — numpy's
``quantile(values, q, method="inverted_cdf", weights=w)``: the smallest value whose cumulative
weight share reaches ``q``. It interpolates nothing, so with all weights equal it is the lower
order statistic, not numpy's default ``linear`` value; a sketch that saw any weighted batch uses
this rule for all its values (unweighted ones weigh 1).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["QuantileSketch", "between", "order_positions"]

DEFAULT_CAPACITY = 200_000


@dataclass
class QuantileSketch:
    """Weighted sorted values of one channel, grouped by series code."""

    values: np.ndarray
    weights: np.ndarray
    codes: np.ndarray
    n_groups: int
    compactions: int = 0
    capacity: int = DEFAULT_CAPACITY
    weighted: bool = False

    @classmethod
    def from_values(
        cls,
        values: np.ndarray,
        codes: np.ndarray | None = None,
        n_groups: int = 1,
        capacity: int = DEFAULT_CAPACITY,
        weights: np.ndarray | None = None,
    ) -> QuantileSketch:
        """Sketch of ``values`` (NaN dropped); ``codes`` assigns each value to a series.

        ``weights``: the sample weight of each value (a weighted sketch), or None.
        """
        values = np.asarray(values, dtype=np.float64)
        codes = np.zeros(values.shape, np.int64) if codes is None else np.asarray(codes, np.int64)
        keep = ~np.isnan(values)
        w = np.ones(values.shape) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights is not None:
            keep &= w > 0
        values, codes, w = values[keep], codes[keep], w[keep]
        order = np.lexsort((values, codes))
        sketch = cls(values[order], w[order], codes[order], n_groups, 0, capacity, weights is not None)
        return sketch._compact()

    @property
    def exact(self) -> bool:
        """True while every weight is 1 (no compaction happened)."""
        return self.compactions == 0

    @property
    def rank_error(self) -> float:
        """Upper bound of the relative rank error of a quantile (0 when exact)."""
        return 0.0 if self.exact else 2.0 * self.compactions / self.capacity

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """Combine two sketches of the same channel (series codes in one shared numbering)."""
        values = np.concatenate([self.values, other.values])
        weights = np.concatenate([self.weights, other.weights])
        codes = np.concatenate([self.codes, other.codes])
        order = np.lexsort((values, codes))
        merged = QuantileSketch(
            values[order],
            weights[order],
            codes[order],
            max(self.n_groups, other.n_groups),
            max(self.compactions, other.compactions),
            self.capacity,
            self.weighted or other.weighted,
        )
        return merged._compact()

    def placed(self, codes: np.ndarray | None, n_groups: int) -> QuantileSketch:
        """The same values renumbered: series ``k`` becomes series ``codes[k]`` of ``n_groups``
        (None: the codes stay, the table grows to ``n_groups``)."""
        if codes is None:
            return dataclasses.replace(self, n_groups=int(n_groups))
        new = np.asarray(codes, dtype=np.int64)[self.codes]
        order = np.argsort(new, kind="stable")  # values stay sorted within each series
        return dataclasses.replace(
            self,
            values=self.values[order],
            weights=self.weights[order],
            codes=new[order],
            n_groups=int(n_groups),
        )

    def _compact(self) -> QuantileSketch:
        """Resample each over-full series to ``capacity // 2`` equally weighted values.

        The loop runs over the over-full series only (rare: a series longer than ``capacity``).
        Each compaction moves a rank by at most ``2 / capacity`` of the series' weight.
        """
        sizes = np.bincount(self.codes, minlength=self.n_groups)
        over = np.flatnonzero(sizes > self.capacity)
        if over.size == 0:
            return self
        starts = np.concatenate([[0], np.cumsum(sizes)])
        keep = np.ones(self.values.size, dtype=bool)
        parts_v, parts_w, parts_c = [], [], []
        m = self.capacity // 2
        for g in over:
            lo, hi = starts[g], starts[g + 1]
            cum = np.cumsum(self.weights[lo:hi])
            targets = (np.arange(m) + 0.5) * (cum[-1] / m)
            idx = np.minimum(np.searchsorted(cum, targets), hi - lo - 1)
            parts_v.append(self.values[lo:hi][idx])
            parts_w.append(np.full(m, cum[-1] / m))
            parts_c.append(np.full(m, g, dtype=np.int64))
            keep[lo:hi] = False
        values = np.concatenate([self.values[keep], *parts_v])
        weights = np.concatenate([self.weights[keep], *parts_w])
        codes = np.concatenate([self.codes[keep], *parts_c])
        order = np.lexsort((values, codes))
        self.values, self.weights, self.codes = values[order], weights[order], codes[order]
        self.compactions += 1
        return self

    def pooled(self) -> QuantileSketch:
        """All series as one: the sketch of the pooled values."""
        order = np.argsort(self.values, kind="stable")
        codes = np.zeros(order.size, dtype=np.int64)
        return QuantileSketch(
            self.values[order], self.weights[order], codes, 1, self.compactions, self.capacity, self.weighted
        )

    def quantile(self, q: float) -> np.ndarray:
        """Quantile ``q`` in [0, 1] of each series (NaN for a series without values).

        Exact sketches give numpy's ``linear`` interpolation; weighted ones the inverted
        weighted CDF (see the module docstring).

        Examples
        --------
        >>> s = QuantileSketch.from_values(np.array([4.0, 1.0, 3.0, 2.0]))
        >>> s.quantile(0.5).tolist()
        [2.5]
        >>> w = QuantileSketch.from_values(np.array([4.0, 1.0, 3.0, 2.0]), weights=np.array([1, 1, 5, 1]))
        >>> w.quantile(0.5).tolist()
        [3.0]
        """
        total = np.bincount(self.codes, weights=self.weights, minlength=self.n_groups)
        out = np.full(self.n_groups, np.nan)
        if self.values.size == 0:
            return out
        if self.weighted:
            return self._inverted_cdf(q, total, out)
        cum = np.cumsum(self.weights)
        group_start = np.concatenate([[0.0], np.cumsum(total)[:-1]])
        before = cum - self.weights - group_start[self.codes]  # weight strictly before each value
        target = (total - 1.0) * q  # numpy's virtual index for the "linear" method
        key = self.codes + before / np.maximum(total[self.codes], 1.0)
        wanted = np.arange(self.n_groups) + target / np.maximum(total, 1.0)
        idx = np.clip(np.searchsorted(key, wanted, side="right") - 1, 0, self.values.size - 1)
        has = total > 0
        idx_h = idx[has]
        frac = np.clip(target[has] - (before[idx_h] + self.weights[idx_h] - 1.0), 0.0, 1.0)
        nxt = np.minimum(idx_h + 1, self.values.size - 1)
        same = self.codes[nxt] == self.codes[idx_h]
        upper = np.where(same, self.values[nxt], self.values[idx_h])
        low = self.values[idx_h]
        out[has] = between(low, upper, q, frac)
        return out

    def _inverted_cdf(self, q: float, total: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Per series, the first value whose cumulative weight share reaches ``q``."""
        sizes = np.bincount(self.codes, minlength=self.n_groups)
        start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        cum = np.cumsum(self.weights)
        before = np.concatenate([[0.0], cum])[start]  # weight of the series sorted before
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (cum - before[self.codes]) / total[self.codes]
        below = np.bincount(self.codes, weights=share < q, minlength=self.n_groups).astype(np.int64)
        has = sizes > 0
        idx = start[has] + np.minimum(below[has], sizes[has] - 1)
        out[has] = self.values[idx]
        return out

    def to_dict(self) -> dict:
        """Plain lists for a JSON file (only written for small sketches)."""
        return {
            "values": self.values.tolist(),
            "weights": self.weights.tolist(),
            "codes": self.codes.tolist(),
            "n_groups": self.n_groups,
            "compactions": self.compactions,
            "capacity": self.capacity,
        }


def order_positions(count: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Where quantile ``q`` of ``count`` sorted values falls, as numpy's ``linear`` method and
    :meth:`QuantileSketch.quantile` place it: the lower order statistic's index (counted from 0)
    and the fraction of the way to the next one.

    Examples
    --------
    >>> [v.tolist() for v in order_positions(np.array([5.0, 4.0]), 0.25)]
    [[1.0, 0.0], [0.0, 0.75]]
    """
    target = (np.asarray(count, dtype=np.float64) - 1.0) * q
    lower = np.floor(np.maximum(target, 0.0))
    return lower, np.clip(target - lower, 0.0, 1.0)


def between(low: np.ndarray, high: np.ndarray, q: float, frac: np.ndarray) -> np.ndarray:
    """Quantile ``q`` from its two neighbouring order statistics ``low`` and ``high`` and the
    fraction ``frac`` between them, as ``np.quantile(method="linear")`` (and ``np.median`` for
    the middle of an even count) compute it — the one interpolation of every quantile path.

    Examples
    --------
    >>> between(np.array([1.0]), np.array([2.0]), 0.5, np.array([0.5])).tolist()
    [1.5]
    """
    # the median of an even count is the mean of the middle pair, as np.median computes it
    middle = (q == 0.5) & (frac == 0.5)
    return np.where(middle, 0.5 * low + 0.5 * high, _lerp(low, high, frac))


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's interpolation between neighbours: exact when ``a == b``, monotone in ``t``.

    ``a + (b - a) * t`` below the midpoint and ``b - (b - a) * (1 - t)`` above it, as
    ``np.quantile(method="linear")`` computes it (``a * (1 - t) + b * t`` is an ulp off when
    ``a == b``, which turns a zero inter-quantile range into 1e-15).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        diff = b - a
        lerp = np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)
        overflow = np.isinf(diff) & np.isfinite(a) & np.isfinite(b)  # neighbours near +-float max
        return np.where(overflow, a * (1.0 - t) + b * t, lerp)
