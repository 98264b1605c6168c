"""Statistics a method needs besides :class:`~seqscale.core.stats.Moments`: one protocol.

A method that needs more than the moments (robust scaling: quantiles) declares an *extra
statistic* class in the method registry. Every path — ``fit``, ``partial_fit``, per-series fits,
file streaming, Dask, coefficient files — handles it only through this protocol:

- ``from_rows(rows, codes, n_groups, weight)``: the statistic of a ``rows x channels`` batch,
  per series when ``codes`` (one integer code per row, in ``[0, n_groups)``) are given;
- ``a.merge(b)``: both batches together (associative; series codes in one shared numbering,
  ``b`` may know more series than ``a``);
- ``pooled()``: all series as one;
- ``table(params)``: the named per-channel arrays the coefficient rule reads, shaped
  ``(channels,)`` or ``(series, channels)`` — the same names are the columns recorded in the
  coefficient file (``record``), from which a loaded scaler recomputes its coefficients;
- ``exact``: whether the statistic is exact (written to the file).

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
>>> q = QuantileStatistic.from_rows(x[:2]).merge(QuantileStatistic.from_rows(x[2:]))
>>> q.table({"quantile_range": (25.0, 75.0)})["median"].tolist()
[3.0]
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from seqscale.core.quantiles import QuantileSketch
from seqscale.core.stats import Moments

__all__ = ["AbsMeanStatistic", "ExtraStatistic", "QuantileStatistic"]


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

    def pooled(self) -> ExtraStatistic: ...

    def table(self, params: dict[str, Any]) -> dict[str, np.ndarray]: ...

    @property
    def exact(self) -> bool: ...

    @property
    def rank_error(self) -> float: ...  # bound of the relative rank error (0 when exact)


class QuantileStatistic:
    """Median and inter-quantile range of each channel: one mergeable sketch per channel.

    ``table`` names ``median``, ``q_low``, ``q_high`` (the quantiles ``params["quantile_range"]``
    asks for); exact while no series outgrew the sketch's capacity.
    """

    record = ("median", "q_low", "q_high")
    what = "quantile sketch"

    def __init__(self, sketches: list[QuantileSketch], grouped: bool = False) -> None:
        self.sketches = sketches
        self.grouped = grouped

    @classmethod
    def from_rows(
        cls,
        rows: np.ndarray,
        codes: np.ndarray | None = None,
        n_groups: int = 1,
        weight: np.ndarray | None = None,
    ) -> QuantileStatistic:
        sketches = [
            QuantileSketch.from_values(col, codes, n_groups, weights=weight) for col in np.asarray(rows).T
        ]
        return cls(sketches, codes is not None)

    def merge(self, other: QuantileStatistic) -> QuantileStatistic:
        merged = []
        for old, new in zip(self.sketches, other.sketches):
            old.n_groups = max(old.n_groups, new.n_groups)
            merged.append(old.merge(new))
        return QuantileStatistic(merged, self.grouped or other.grouped)

    def pooled(self) -> QuantileStatistic:
        return QuantileStatistic([sk.pooled() for sk in self.sketches], False)

    def table(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
        lo, hi = (float(v) / 100.0 for v in params.get("quantile_range", (25.0, 75.0)))
        out = {
            name: np.stack([sk.quantile(q) for sk in self.sketches], axis=-1)
            for name, q in (("median", 0.5), ("q_low", lo), ("q_high", hi))
        }
        return out if self.grouped else {k: v[0] for k, v in out.items()}

    @property
    def exact(self) -> bool:
        return all(sk.exact for sk in self.sketches)

    @property
    def rank_error(self) -> float:
        return max((sk.rank_error for sk in self.sketches), default=0.0)


class AbsMeanStatistic:
    """Mean absolute value of each channel: the :class:`~seqscale.core.stats.Moments` of ``|x|``,
    merged and pooled by their one formula (exact to rounding). ``table`` names ``mean_abs``.

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

    def __init__(self, moments: Moments, grouped: bool = False) -> None:
        self.moments = moments
        self.grouped = grouped

    @classmethod
    def from_rows(
        cls,
        rows: np.ndarray,
        codes: np.ndarray | None = None,
        n_groups: int = 1,
        weight: np.ndarray | None = None,
    ) -> AbsMeanStatistic:
        magnitude = np.abs(np.asarray(rows, dtype=np.float64))
        if codes is None:
            return cls(Moments.from_array(magnitude, weight))
        return cls(Moments.from_groups(magnitude, np.asarray(codes, dtype=np.intp), n_groups, weight), True)

    def merge(self, other: AbsMeanStatistic) -> AbsMeanStatistic:
        mine, theirs = self.moments, other.moments
        if self.grouped:  # the other batch may know more series
            width = mine.count.shape[-1]
            grow = theirs.count.shape[0] - mine.count.shape[0]
            mine = mine.concat(Moments.empty((max(grow, 0), width)))
        return AbsMeanStatistic(mine.merge(theirs), self.grouped or other.grouped)

    def pooled(self) -> AbsMeanStatistic:
        return AbsMeanStatistic(self.moments.pooled(), False) if self.grouped else self

    def table(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
        return {"mean_abs": self.moments.mean}
