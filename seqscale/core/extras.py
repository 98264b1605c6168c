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

__all__ = ["ExtraStatistic", "QuantileStatistic"]


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
