"""Mergeable sufficient statistics: ``Moments(count, mean, m2, min, max)`` per channel.

Two sets of statistics merge exactly with Chan et al.'s parallel update::

    n = na + nb;  d = mb - ma;  mean = ma + d * nb / n;  m2 = m2a + m2b + d**2 * na * nb / n

with min of mins and max of maxes. With sample weights the same update holds for the weighted
statistics — ``count`` is the total weight ``W = sum(w)``, ``mean = sum(w x) / W`` and
``m2 = sum(w (x - mean)**2)`` — and reduces to the unweighted one when every weight is 1, so
weighted and unweighted batches merge through the one formula. Rows of weight 0 are left out,
from min and max too. ``merge`` is associative and commutative and ``Moments.empty``
is its identity, so ``fit``, ``partial_fit``, file streaming, Dask partitions, per-series tables
and the pooled fallback are all folds over the same value. ``m2`` is the centred sum of squares,
never ``E[x^2] - E[x]^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqscale.core import kernels as _kernels

__all__ = ["Moments"]

_FIELDS = ("count", "mean", "m2", "min", "max")


@dataclass(frozen=True)
class Moments:
    """Per-channel count, mean, centred sum of squares (``m2``), min and max.

    All arrays are float64 and share one shape: ``(channels,)`` or ``(series, channels)``.
    A channel with ``count == 0`` has mean 0, m2 0 and NaN min/max. ``count`` is the number of
    non-NaN values, or their total weight when sample weights were given.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(10.0).reshape(5, 2)
    >>> a = Moments.from_array(x[:2]).merge(Moments.from_array(x[2:]))
    >>> bool(np.allclose(a.mean, x.mean(axis=0))), bool(np.allclose(a.var(), x.var(axis=0)))
    (True, True)
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    min: np.ndarray
    max: np.ndarray
    mean_lo: np.ndarray | None = None  # rounding residual of ``mean`` (kept by ``update``)

    @classmethod
    def empty(cls, shape: int | tuple[int, ...]) -> Moments:
        """The identity of :meth:`merge`: no observations."""
        zeros = np.zeros(shape)
        nan = np.full(shape, np.nan)
        return cls(zeros, zeros.copy(), zeros.copy(), nan, nan.copy())

    @classmethod
    def from_array(cls, rows: np.ndarray, weight: np.ndarray | None = None) -> Moments:
        """Statistics of each column of a 2D ``rows x channels`` array, NaN ignored, one pass.

        ``weight``: one non-negative finite weight per row (checked by the caller), or None.

        Examples
        --------
        >>> x = np.array([[1.0], [2.0], [4.0]])
        >>> Moments.from_array(x, np.array([1.0, 2.0, 0.0])).mean.tolist()   # (1 + 2*2) / 3
        [1.6666666666666667]
        """
        if weight is not None:
            return cls(*_weighted_moments(rows, weight, None, 1))
        with np.errstate(all="ignore"):  # +-inf is refused by the caller, with its row named
            return cls(*_kernels.moments_residual(rows))

    @classmethod
    def from_groups(
        cls, rows: np.ndarray, codes: np.ndarray, n_groups: int, weight: np.ndarray | None = None
    ) -> Moments:
        """Statistics per (group, channel); ``codes[i]`` in ``[0, n_groups)`` is row i's group.

        Each mean keeps its rounding residual (``mean_lo``), as :meth:`from_array` does, so that
        a table pooled with :meth:`pooled` equals the one-pass statistics to rounding even for
        data far from zero.
        """
        if weight is not None:
            return cls(*_weighted_moments(rows, weight, np.asarray(codes, dtype=np.intp), n_groups))
        with np.errstate(all="ignore"):
            return cls(*_group_moments(rows, codes, n_groups))

    @classmethod
    def from_id_span(
        cls, rows: np.ndarray, ids: np.ndarray, lo: int, size: int
    ) -> tuple[Moments, int] | None:
        """Statistics per integer id of rows in any order over a guessed span of ids, entry
        ``id - lo`` of ``size``, in one pass that makes no codes: ``(table, NaN values)``, the
        table equal entry for entry to :meth:`from_groups` over the same span. None when an id
        falls outside the span or the pass does not apply (see
        :func:`~seqscale.core.kernels.id_span_acc`): then find the exact span.

        Examples
        --------
        >>> ids = np.tile(np.arange(1000), 300)[np.random.default_rng(0).permutation(300_000)]
        >>> table, nan = Moments.from_id_span(np.ones((ids.size, 1)), ids, 0, 1024)
        >>> table.count[[0, 999, 1000], 0].tolist(), nan
        ([300.0, 300.0, 0.0], 0)
        """
        x = _kernels._float_2d(rows)  # noqa: SLF001
        found = _kernels.id_span_acc(x, ids, int(lo), int(size))
        if found is None:
            return None
        with np.errstate(all="ignore"):
            stats = _with_residual(found[0])
        return None if stats is None else (cls(*stats), found[1])

    @classmethod
    def from_arrays(cls, **arrays: np.ndarray) -> Moments:
        """Build from named arrays (``count``, ``mean``, ``m2``, ``min``, ``max``)."""
        return cls(*(np.asarray(arrays[f], dtype=np.float64) for f in _FIELDS))

    def merge(self, other: Moments) -> Moments:
        """Exact combination of two sets of statistics (Chan et al.), in any order.

        The means' rounding residuals (``mean_lo``, kept by :meth:`from_array`) make the
        difference of means that Chan's update needs exact, so that any split of the data,
        merged in any order, gives the one-pass statistics to rounding.
        """
        delta = _mean_delta(self, other)
        return _combine(self, other, delta, other.m2)

    def update(self, rows: np.ndarray, weight: np.ndarray | None = None) -> tuple[Moments, Moments]:
        """Merge the statistics of more rows (optionally weighted); returns ``(merged, batch)``.

        The batch is also measured centred on the current mean, so the difference of means
        that Chan's update needs is exact rather than the difference of two rounded means:
        streaming ``1e9 + N(0, 1)`` in 100 chunks keeps the std right to about 1e-15. The
        merge itself is :meth:`merge`'s one formula.
        """
        batch = Moments.from_array(rows, weight)
        if not np.any(self.count > 0):
            return batch, batch  # keeps the batch's mean residual for the next update
        seen = self.count > 0
        pivot = np.where(seen, self.mean, 0.0)
        low = self.residual
        with np.errstate(all="ignore"):
            centred = Moments.from_array(np.subtract(rows, pivot, dtype=np.float64), weight)
            delta = np.where(seen, centred.mean - low, batch.mean)  # exact mean_b - mean_a
        # the batch's m2 measured centred: more precise
        return _combine(self, batch, delta, np.where(seen, centred.m2, batch.m2)), batch

    def pooled(self) -> Moments:
        """Merge the rows of a ``(series, channels)`` table into one ``(channels,)`` set.

        The series are folded one after another with :meth:`merge`'s formula (the compiled
        kernel's), the mean carried with its rounding residual.
        """
        if self.count.shape[0] == 0:
            return Moments.empty(self.count.shape[1:])
        seen = self.count > 0
        low = self.residual
        table = np.stack(
            [
                self.count,
                np.where(seen, self.mean, 0.0),
                np.where(seen, low, 0.0),
                np.where(seen, self.m2, 0.0),
                np.where(seen, self.min, np.inf),
                np.where(seen, self.max, -np.inf),
            ]
        )
        shape = self.count.shape[1:]
        flat = table.reshape(6, table.shape[1], int(np.prod(shape)))
        count, high, low, m2, mn, mx = _kernels.fold_rows(flat)
        empty = ~(count > 0)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = np.where(empty, 0.0, high + low)
            residual = np.where(empty, 0.0, (high - mean) + low)
        return Moments(
            count.reshape(shape),
            mean.reshape(shape),
            np.where(empty, 0.0, m2).reshape(shape),
            np.where(empty, np.nan, mn).reshape(shape),
            np.where(empty, np.nan, mx).reshape(shape),
            np.where(np.isfinite(residual), residual, 0.0).reshape(shape),
        )

    def take(self, index: np.ndarray) -> Moments:
        """Select series rows of a ``(series, channels)`` table (means' residuals kept)."""
        low = None if self.mean_lo is None else self.mean_lo[index]
        return Moments(*(getattr(self, f)[index] for f in _FIELDS), low)

    @classmethod
    def side_by_side(cls, parts: list[Moments]) -> Moments:
        """The channels of several statistics in one table, each mean's residual kept.

        >>> a, b = Moments.from_array(np.ones((3, 1))), Moments.from_array(np.zeros((3, 2)))
        >>> Moments.side_by_side([a, b]).mean.tolist()
        [1.0, 0.0, 0.0]
        """
        return cls._joined(parts)

    def concat(self, other: Moments) -> Moments:
        """Append the series rows of another table (means' residuals kept)."""
        return Moments._joined([self, other])

    @classmethod
    def _joined(cls, parts: list[Moments]) -> Moments:
        """The parts' arrays one after another along the first axis; a part without residuals
        contributes zeros (what :meth:`merge` reads a missing residual as)."""
        fields = [np.concatenate([getattr(m, f) for m in parts]) for f in _FIELDS]
        if all(m.mean_lo is None for m in parts):
            return cls(*fields)
        return cls(*fields, np.concatenate([m.residual for m in parts]))

    @property
    def residual(self) -> np.ndarray:
        """The means' rounding residuals (``mean_lo``), zeros where none were kept."""
        return np.zeros_like(self.mean) if self.mean_lo is None else self.mean_lo

    def var(self, ddof: int = 0) -> np.ndarray:
        """Variance per channel (population variance by default, like scikit-learn)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > ddof, self.m2 / np.maximum(self.count - ddof, 1), 0.0)

    def std(self, ddof: int = 0) -> np.ndarray:
        """Standard deviation per channel."""
        return np.sqrt(self.var(ddof))

    def as_dict(self) -> dict[str, np.ndarray]:
        """The five arrays by name."""
        return {f: getattr(self, f) for f in _FIELDS}


def _group_moments(rows: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """:func:`~seqscale.core.kernels.segment_moments` plus each mean's rounding residual: the
    accumulators carry the mean as a pair of floats (compiled and numpy paths alike), whose low
    part is the residual. Where a sum overflowed, the rescaled statistics come without one."""
    x = _kernels._float_2d(rows)  # noqa: SLF001  (the kernels' accumulators, as moments_residual reads them)
    G = int(n_groups)
    if G < 0:
        raise ValueError("n_groups must be >= 0")
    codes = _kernels._codes(codes, x.shape[0])  # noqa: SLF001
    found = _with_residual(_kernels._segment_acc(x, codes, G))  # noqa: SLF001
    return _kernels.segment_moments(x, codes, G) if found is None else found


def _with_residual(acc: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """The statistics of per-group accumulators, each mean with its rounding residual (the low
    part of the pair of floats the accumulators carry); None where a sum overflowed, which the
    caller recomputes rescaled (without residuals)."""
    count, mean, m2, _, _ = stats = _kernels._finish(acc)  # noqa: SLF001
    if _kernels._overflowed(count, mean, m2).any():  # noqa: SLF001
        return None
    residual = np.where(count > 0, (acc[1] - mean) + acc[2], 0.0)
    return (*stats, np.where(np.isfinite(residual), residual, 0.0))


def _mean_delta(a: Moments, b: Moments) -> np.ndarray:
    """``mean_b - mean_a`` including the means' rounding residuals (the kernel's order)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return (b.mean - a.mean) + (b.residual - a.residual)


def _combine(a: Moments, b: Moments, delta: np.ndarray, m2_b: np.ndarray) -> Moments:
    """Chan's update of ``a`` by ``b`` through the kernels' one formula
    (:func:`~seqscale.core.kernels.chan_merge`; ``delta = mean_b - mean_a``, ``m2_b`` the batch's
    centred sum of squares), carrying the mean's rounding residual; an empty side gives the other."""
    low, low_b = a.residual, b.residual
    seen_a, seen_b = a.count > 0, b.count > 0
    both = seen_a & seen_b
    with np.errstate(all="ignore"):
        _, high, residual, m2 = _kernels.chan_merge(
            a.count, a.mean, low, a.m2, np.where(both, b.count, 1.0), m2_b, delta
        )
    only_b = ~seen_a & seen_b
    return Moments(
        a.count + b.count,
        np.where(both, high, np.where(only_b, b.mean, a.mean)),
        np.where(both, m2, np.where(only_b, m2_b, a.m2)),
        np.fmin(a.min, b.min),
        np.fmax(a.max, b.max),
        np.where(both, residual, np.where(only_b, low_b, low)),
    )


def _weighted_sum(
    values: np.ndarray | None, weight: np.ndarray, codes: np.ndarray | None, n_groups: int, n_channels: int
) -> np.ndarray:
    """``sum(w * v)`` of each column (``values=None``: of ones), per group when ``codes`` are given.

    Without groups this is one matrix-vector product (BLAS, at memory speed).
    """
    if codes is None:
        return np.full(n_channels, weight.sum()) if values is None else weight @ values
    if values is None:
        return np.repeat(np.bincount(codes, weight, minlength=n_groups)[:, None], n_channels, axis=1)
    flat = (codes[:, None] * n_channels + np.arange(n_channels)).ravel()
    sums = np.bincount(flat, weights=(weight[:, None] * values).ravel(), minlength=n_groups * n_channels)
    return sums.reshape(n_groups, n_channels)


def _weighted_moments(
    rows: np.ndarray, weight: np.ndarray, codes: np.ndarray | None, n_groups: int
) -> tuple[np.ndarray, ...]:
    """Weighted ``count, mean, m2, min, max, mean_lo`` by the corrected two-pass algorithm.

    ``count = W = sum(w)``, ``mean = sum(w x) / W`` refined by the mean weighted deviation, and
    ``m2 = sum(w d**2) - (sum(w d))**2 / W`` with ``d = x - mean`` (scikit-learn's weighted
    ``_incremental_mean_and_var``); ``mean_lo`` is the rounding residual of the refined mean.
    NaN values and rows of weight 0 are left out; min and max (and whether NaN occur) come from
    the unweighted kernel over the kept rows. An infinite value in a row of weight 0 still
    shows in min / max, so that callers refuse it as in any other row.
    """
    positive = weight > 0
    kept, w, kept_codes = rows, weight, codes
    if not positive.all():
        kept, w = rows[positive], weight[positive]
        kept_codes = None if codes is None else codes[positive]
    shape = (n_groups, rows.shape[1]) if codes is not None else (rows.shape[1],)
    if kept.shape[0] == 0:
        empty = Moments.empty(shape)
        low, high = _infinite_in(rows, codes, shape, empty.min, empty.max)
        return empty.count, empty.mean, empty.m2, low, high, np.zeros(shape)
    with np.errstate(all="ignore"):
        plain = (
            _kernels.moments_residual(kept)
            if codes is None
            else _kernels.segment_moments(kept, kept_codes, n_groups)
        )
        total, mean, m2, residual = _weighted_sums(kept, w, kept_codes, n_groups, plain[0])
    low, high = _infinite_in(
        rows[~positive], None if codes is None else codes[~positive], shape, plain[3], plain[4]
    )
    return total, mean, m2, low, high, residual


def _weighted_sums(
    x: np.ndarray, w: np.ndarray, codes: np.ndarray | None, n_groups: int, counts: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Total weight, refined weighted mean, m2 and mean residual of rows with positive weights
    (``counts``: the non-NaN values per channel, from the unweighted kernel)."""
    x = np.asarray(x, dtype=np.float64)
    n_channels = x.shape[1]
    rows_per = x.shape[0] if codes is None else np.bincount(codes, minlength=n_groups)[:, None]
    nan = np.isnan(x) if np.any(counts < rows_per) else None
    if nan is not None:
        x = np.where(nan, 0.0, x)
    ones = None if nan is None else (~nan).astype(np.float64)
    total = _weighted_sum(ones, w, codes, n_groups, n_channels)
    safe = np.where(total > 0, total, 1.0)
    first = np.where(total > 0, _weighted_sum(x, w, codes, n_groups, n_channels) / safe, 0.0)
    dev = x - (first if codes is None else first[codes])
    if nan is not None:
        dev[nan] = 0.0
    corr = _weighted_sum(dev, w, codes, n_groups, n_channels)
    np.multiply(dev, dev, out=dev)
    m2 = np.maximum(_weighted_sum(dev, w, codes, n_groups, n_channels) - corr * corr / safe, 0.0)
    step = corr / safe
    mean = first + step
    return total, mean, m2, (first - mean) + step


def _infinite_in(
    dropped: np.ndarray, codes: np.ndarray | None, shape: tuple, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``low`` / ``high`` as given, or -inf / +inf where a dropped (weight-0) row holds one."""
    if dropped.shape[0] == 0:
        return low, high
    bad = np.isinf(dropped)
    if not bad.any():
        return low, high
    channels = bad.any(axis=0) if codes is None else np.zeros(shape, dtype=bool)
    if codes is not None:
        np.logical_or.at(channels, codes, bad)
    return np.where(channels, -np.inf, low), np.where(channels, np.inf, high)
