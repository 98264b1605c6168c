"""Statistics a method needs besides :class:`~seqscale.core.stats.Moments`: one protocol.

A method that needs more than the moments (robust scaling: quantiles) declares an *extra
statistic* class in the method registry. Every path — ``fit``, ``partial_fit``, per-series fits,
file streaming, Dask, polars lazy frames, coefficient files — handles it only through this
protocol, the same operations :class:`~seqscale.core.stats.Moments` has:

- ``from_rows(rows, codes, n_groups, weight)``: the statistic of a ``rows x channels`` batch,
  per series when ``codes`` (one integer code per row, in ``[0, n_groups)``) are given;
- ``a.merge(b)``: both batches together (associative; series codes in one shared numbering,
  either side may know more series than the other);
- ``a.placed(codes, n_groups)``: the same statistic renumbered — series ``k`` becomes series
  ``codes[k]`` of a table of ``n_groups`` series (empty elsewhere). Engines that meet series
  ids in another order (Dask partitions, file batches) renumber a batch into the running
  numbering by id, then merge; ordering the series is a placement by a permutation;
- ``pooled()``: all series as one;
- ``table(params)``: the named per-channel arrays the coefficient rule reads, shaped
  ``(channels,)`` or ``(series, channels)`` — the same names are the columns recorded in the
  coefficient file (``record``), from which a loaded scaler recomputes its coefficients;
- ``exact`` and ``rank_error``: whether the statistic is exact (written to the file).

Both statistics below share one shape (:class:`_SeriesTable`): a per-series state for every
channel, grouped or not, with four hooks (of rows, merged, placed, pooled). A statistic computed
elsewhere as final values (polars' own quantiles of a lazy frame) is a
:class:`QuantileValues`: it has a table, but nothing to merge.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
>>> q = QuantileStatistic.from_rows(x[:2]).merge(QuantileStatistic.from_rows(x[2:]))
>>> q.table({"quantile_range": (25.0, 75.0)})["median"].tolist()
[3.0]
>>> a = QuantileStatistic.from_rows(x[:3], np.array([0, 1, 0]), 2)        # series 0, 1
>>> b = QuantileStatistic.from_rows(x[3:], np.array([0, 0]), 1).placed(np.array([1]), 2)
>>> a.merge(b).table({})["median"].ravel().tolist()                      # by id: 1, 3 | 2, 4, 100
[2.0, 4.0]
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import numpy as np

from seqscale.core.quantiles import QuantileSketch
from seqscale.core.stats import Moments
from seqscale.errors import ParameterError

_FIELDS = ("count", "mean", "m2", "min", "max")

__all__ = ["AbsMeanStatistic", "ExtraStatistic", "QuantileStatistic", "QuantileValues"]


class ExtraStatistic(Protocol):
    """The protocol of a statistic beyond the moments (see the module docstring)."""

    record: tuple[str, ...]  # the names of ``table``: the columns of the coefficient file
    what: str  # how messages name it ("quantile sketch")

    @classmethod
    def from_rows(
        cls,
        rows: np.ndarray,
        codes: np.ndarray | None = None,
        n_groups: int = 1,
        weight: np.ndarray | None = None,
    ) -> ExtraStatistic: ...

    def merge(self, other: ExtraStatistic) -> ExtraStatistic: ...

    def placed(self, codes: np.ndarray, n_groups: int) -> ExtraStatistic: ...

    def pooled(self) -> ExtraStatistic: ...

    def table(self, params: dict[str, Any]) -> dict[str, np.ndarray]: ...

    @property
    def exact(self) -> bool: ...

    @property
    def rank_error(self) -> float: ...  # bound of the relative rank error (0 when exact)


class _SeriesTable:
    """The shape every mergeable extra statistic shares: a state of ``n_groups`` series by
    channel (one series when not ``grouped``), and four hooks a statistic defines —
    ``_of_rows``, ``_merged``, ``_placed`` and ``_pooled`` — plus ``_table`` (arrays shaped
    ``(n_groups, channels)``)."""

    record: tuple[str, ...] = ()
    what = ""

    def __init__(self, state: Any, n_groups: int, grouped: bool) -> None:
        self.state, self.n_groups, self.grouped = state, int(n_groups), bool(grouped)

    @classmethod
    def from_rows(
        cls,
        rows: np.ndarray,
        codes: np.ndarray | None = None,
        n_groups: int = 1,
        weight: np.ndarray | None = None,
    ) -> Any:
        """The statistic of a ``rows x channels`` batch (per series with ``codes``)."""
        rows = np.asarray(rows, dtype=np.float64)
        rows = rows.reshape(-1, 1) if rows.ndim == 1 else rows
        grouped = codes is not None
        codes = None if codes is None else np.asarray(codes, dtype=np.intp)
        n = int(n_groups) if grouped else 1
        return cls(cls._of_rows(rows, codes, n, weight), n, grouped)

    def merge(self, other: Any) -> Any:
        """Both statistics together (series in one shared numbering; either may know more)."""
        n = max(self.n_groups, other.n_groups)
        return type(self)(
            self._merged(self.grown(n).state, other.grown(n).state), n, self.grouped or other.grouped
        )

    def placed(self, codes: np.ndarray, n_groups: int) -> Any:
        """Series ``k`` renumbered ``codes[k]`` in a table of ``n_groups`` series."""
        codes = np.asarray(codes, dtype=np.intp)
        if codes.shape != (self.n_groups,):
            raise ValueError(f"placed: {codes.shape[0]} codes for {self.n_groups} series.")
        return type(self)(self._placed(self.state, codes, int(n_groups)), n_groups, True)

    def pooled(self) -> Any:
        """All series as one."""
        return type(self)(self._pooled(self.state), 1, False) if self.grouped else self

    def table(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """The named arrays the coefficient rule reads (and the coefficient file records)."""
        out = self._table(params)
        return out if self.grouped else {k: v[0] for k, v in out.items()}

    def grown(self, n_groups: int) -> Any:
        """The same statistic in a table of ``n_groups`` series (the new ones empty)."""
        if n_groups == self.n_groups:
            return self
        return type(self)(self._placed(self.state, None, n_groups), n_groups, self.grouped)

    # the hooks -------------------------------------------------------------------------
    @classmethod
    def _of_rows(cls, rows: np.ndarray, codes: np.ndarray | None, n: int, weight: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _merged(a: Any, b: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _placed(state: Any, codes: np.ndarray | None, n: int) -> Any:
        """``state`` with series ``k`` at ``codes[k]`` (None: where it is) of ``n`` series."""
        raise NotImplementedError

    @staticmethod
    def _pooled(state: Any) -> Any:
        raise NotImplementedError

    def _table(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError


class QuantileStatistic(_SeriesTable):
    """Median and inter-quantile range of each channel: one mergeable sketch per channel.

    ``table`` names ``median``, ``q_low``, ``q_high`` (the quantiles ``params["quantile_range"]``
    asks for). Exact — the sorted values themselves, so equal to numpy's ``linear`` quantiles
    bit for bit whatever the split and merge order — while no series outgrew the sketch's
    capacity; past it within ``rank_error``.
    """

    record = ("median", "q_low", "q_high")
    what = "quantile sketch"

    @property
    def sketches(self) -> list[QuantileSketch]:
        return self.state

    @classmethod
    def _of_rows(cls, rows, codes, n, weight):
        return [QuantileSketch.from_values(col, codes, n, weights=weight) for col in rows.T]

    @staticmethod
    def _merged(a, b):
        return [old.merge(new) for old, new in zip(a, b)]

    @staticmethod
    def _placed(state, codes, n):
        return [sk.placed(codes, n) for sk in state]

    @staticmethod
    def _pooled(state):
        return [sk.pooled() for sk in state]

    def _table(self, params):
        lo, hi = _quantile_range(params)
        return {
            name: np.stack([sk.quantile(q) for sk in self.sketches], axis=-1).reshape(self.n_groups, -1)
            for name, q in (("median", 0.5), ("q_low", lo), ("q_high", hi))
        }

    @property
    def exact(self) -> bool:
        return all(sk.exact for sk in self.sketches)

    @property
    def rank_error(self) -> float:
        return max((sk.rank_error for sk in self.sketches), default=0.0)


class AbsMeanStatistic(_SeriesTable):
    """Mean absolute value of each channel: the :class:`~seqscale.core.stats.Moments` of ``|x|``,
    merged, renumbered and pooled by their one formula (exact to rounding). ``table`` names
    ``mean_abs``.

    Examples
    --------
    >>> a = AbsMeanStatistic.from_rows(np.array([[-2.0], [4.0]]))
    >>> a.merge(AbsMeanStatistic.from_rows(np.array([[0.0]]))).table({})["mean_abs"].tolist()
    [2.0]
    """

    record = ("mean_abs",)
    what = "mean of absolute values"
    exact = True
    rank_error = 0.0

    @property
    def moments(self) -> Moments:
        return self.state

    @classmethod
    def from_moments(cls, moments: Moments, grouped: bool) -> AbsMeanStatistic:
        """The statistic from the moments of ``|x|`` computed elsewhere (by polars from a lazy
        frame): ``(series, channels)`` when ``grouped``, else ``(channels,)``."""
        table = moments if grouped else _as_series_row(moments)
        return cls(table, table.count.shape[0], grouped)

    @classmethod
    def _of_rows(cls, rows, codes, n, weight):
        magnitude = np.abs(rows)
        if codes is None:  # the one-table kernel (with its mean residual), as one series
            return _as_series_row(Moments.from_array(magnitude, weight))
        return Moments.from_groups(magnitude, codes, n, weight)

    @staticmethod
    def _merged(a, b):
        return a.merge(b)

    @staticmethod
    def _placed(state, codes, n):
        return _placed_moments(state, codes, n)

    @staticmethod
    def _pooled(state):
        return _as_series_row(state.pooled())

    def _table(self, params):
        return {"mean_abs": self.moments.mean}


class QuantileValues:
    """Final quantiles computed elsewhere (by polars from a lazy frame): a table, nothing to merge.

    ``values`` and ``pooled_values`` name ``median``, ``q_low``, ``q_high`` per (series,
    channel) and per channel; ``quantile_range`` is the range they were computed for. Exact
    (the data's own order statistics, interpolated as numpy's ``linear`` method).
    """

    record = QuantileStatistic.record
    what = "quantiles"
    exact = True
    rank_error = 0.0

    def __init__(
        self,
        values: dict[str, np.ndarray],
        pooled_values: dict[str, np.ndarray],
        quantile_range: tuple[float, float],
        grouped: bool,
    ) -> None:
        self.values, self.pooled_values = values, pooled_values
        self.quantile_range, self.grouped = tuple(float(v) for v in quantile_range), grouped

    def merge(self, other: Any) -> Any:
        raise ParameterError(
            "this scaler's quantiles were computed from a lazy frame as final values, not kept as "
            "a sketch, so partial_fit cannot continue them; fit again on all the data."
        )

    def placed(self, codes: np.ndarray, n_groups: int) -> QuantileValues:
        """The series renumbered (NaN for series without values)."""
        moved = {}
        for name, values in self.values.items():
            out = np.full((n_groups, *values.shape[1:]), np.nan)
            out[np.asarray(codes, dtype=np.intp)] = values
            moved[name] = out
        return QuantileValues(moved, self.pooled_values, self.quantile_range, True)

    def pooled(self) -> QuantileValues:
        return QuantileValues(self.pooled_values, self.pooled_values, self.quantile_range, False)

    def table(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
        wanted = tuple(float(v) for v in params.get("quantile_range", (25.0, 75.0)))
        if wanted != self.quantile_range:
            raise ParameterError(
                f"quantile_range={wanted} differs from the {self.quantile_range} these quantiles "
                "were computed for; fit again."
            )
        return self.values


def _quantile_range(params: dict[str, Any]) -> tuple[float, float]:
    lo, hi = (float(v) / 100.0 for v in params.get("quantile_range", (25.0, 75.0)))
    return lo, hi


def _as_series_row(moments: Moments) -> Moments:
    """A ``(channels,)`` set of moments as a one-series ``(1, channels)`` table."""
    lo = None if moments.mean_lo is None else moments.mean_lo[None]
    return Moments(*(getattr(moments, f)[None] for f in _FIELDS), mean_lo=lo)


def _placed_moments(table: Moments, codes: np.ndarray | None, n: int) -> Moments:
    """``table``'s series ``k`` at row ``codes[k]`` (None: at row ``k``) of ``n`` rows."""
    rows = np.arange(table.count.shape[0]) if codes is None else codes
    out = Moments.empty((n, *table.count.shape[1:]))
    for name in _FIELDS:
        getattr(out, name)[rows] = getattr(table, name)
    lo = None
    if table.mean_lo is not None:
        lo = np.zeros_like(out.mean)
        lo[rows] = table.mean_lo
    return dataclasses.replace(out, mean_lo=lo)
