"""Engines: the same reduction (``Moments`` merge) and map (``Affine``) outside one in-memory array.

* :mod:`seqscale.engines.dask` — Dask arrays and DataFrames: dask's reductions of per-chunk
  statistics (per feature, or per series merged by id), and lazy block-wise transforms.

Larger-than-memory CSV and Parquet files are streamed batch by batch by
:mod:`seqscale.files.stream` with the block helpers below. The engines sit below the scalers: they
compute statistics and apply maps, and :mod:`seqscale.scalers.build` turns their statistics into a
fitted scaler.

Importing this package imports neither dask nor pyarrow; :func:`is_dask` recognises a Dask
collection without importing dask. The private helpers below reduce one block
of rows to statistics and apply a map with the out-of-range policy to one block.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from seqscale.core import kernels as _kernels
from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
from seqscale.errors import OutOfRangeError, OutOfRangeWarning
from seqscale.frames import panel
from seqscale.frames.values import raise_not_finite

__all__ = ["is_dask"]


def is_dask(obj: Any) -> bool:
    """True when ``obj`` is a Dask collection (array, DataFrame, Series); never imports dask.

    Examples
    --------
    >>> import numpy as np
    >>> is_dask(np.zeros(3))
    False
    """
    module = type(obj).__module__ or ""
    return module.split(".")[0] in {"dask", "dask_expr"} and hasattr(obj, "__dask_graph__")


# ---------------------------------------------------------------------------- shared helpers
def _padding(rows: np.ndarray, mask_value: Any) -> np.ndarray | None:
    """Rows whose features all equal ``mask_value`` (padding), or None without a mask value."""
    if mask_value is None or rows.shape[0] == 0:
        return None
    padded = np.all(rows == float(mask_value), axis=1)
    return padded if padded.any() else None


def _block_stats(
    rows: np.ndarray, mask_value: Any, weight: np.ndarray | None = None
) -> tuple[Moments, int | float, np.ndarray, np.ndarray | None]:
    """Statistics of one block of rows (padding dropped), its row count (or total weight), the
    kept rows and their weights."""
    padded = _padding(rows, mask_value)
    if padded is not None:
        rows = rows[~padded]
        weight = None if weight is None else weight[~padded]
    if rows.shape[0] == 0:
        return Moments.empty(rows.shape[1]), 0 if weight is None else 0.0, rows, weight
    if weight is not None:
        return Moments.from_array(rows, weight), float(weight.sum()), rows, weight
    return Moments.from_array(rows), int(rows.shape[0]), rows, None


class GroupStats:
    """Per-series statistics of some rows: the series ids (in order of first appearance), one
    row of ``Moments`` per series (with each mean's rounding residual), the method's extra
    statistic per series (the registry's protocol, or None), and the rows seen (or their total
    weight).

    Two of them merge by id (:meth:`merge`: ``other``'s series are renumbered into ``self``'s
    numbering — ``Moments`` rows placed, the extra statistic ``placed`` — then merged by their
    one formula), so any split of the rows, merged in order, gives the table of the one-pass
    fit: ids in the same order, moments to about 1e-15 relative even for data far from zero,
    the extra statistic as its class promises (exact quantiles while no series outgrows the
    sketch; mean of ``|x|`` to rounding).
    """

    __slots__ = ("extra", "ids", "n_rows", "seen", "table")

    def __init__(
        self, ids: np.ndarray, table: Moments, n_rows: int | float, seen: int | None = None, extra: Any = None
    ) -> None:
        self.ids, self.table, self.n_rows, self.extra = ids, table, n_rows, extra
        self.seen = int(n_rows) if seen is None else seen  # rows (n_rows may be a weight)

    @classmethod
    def empty(cls, n_features: int) -> GroupStats:
        """No series yet: the identity of :meth:`merge`."""
        return cls(np.empty(0, dtype=object), Moments.empty((0, n_features)), 0)

    @classmethod
    def from_rows(
        cls,
        rows: np.ndarray,
        ids: np.ndarray,
        mask_value: Any = None,
        weight: np.ndarray | None = None,
        extra: type | None = None,
    ) -> GroupStats:
        """Statistics of ``rows`` per id (padding rows dropped); ``extra``: the method's extra
        statistic class (the registry's protocol), or None."""
        padded = _padding(rows, mask_value)
        if padded is not None:
            rows, ids = rows[~padded], ids[~padded]
            weight = None if weight is None else weight[~padded]
        n = rows.shape[0]
        codes, found = panel.encode_new(np.empty(0, dtype=object), ids, n, (n,))
        table = Moments.from_groups(rows, codes, len(found), weight)
        if table.mean_lo is None:
            table = dataclasses.replace(table, mean_lo=_mean_residual(rows, codes, table, weight))
        side = None if extra is None else extra.from_rows(rows, codes, len(found), weight)
        return cls(found, table, int(n) if weight is None else float(weight.sum()), int(n), side)

    def merge(self, other: GroupStats) -> GroupStats:
        """Both tables merged by id; ids of ``other`` not in ``self`` are appended in order."""
        if len(self.ids) == 0:
            return other
        if len(other.ids) == 0:
            return GroupStats(
                self.ids, self.table, self.n_rows + other.n_rows, self.seen + other.seen, self.extra
            )
        n_other = len(other.ids)
        codes, ids = panel.encode_new(self.ids, other.ids, n_other, (n_other,))
        n_features = self.table.count.shape[-1]
        grown = len(ids) - len(self.ids)
        table = self.table.concat(Moments.empty((grown, n_features)))
        placed = Moments.empty((len(ids), n_features))
        for field in ("count", "mean", "m2", "min", "max"):
            getattr(placed, field)[codes] = getattr(other.table, field)
        placed_lo = np.zeros_like(placed.mean)
        placed_lo[codes] = other.table.residual
        placed = dataclasses.replace(placed, mean_lo=placed_lo)
        extra = None if self.extra is None else self.extra.merge(other.extra.placed(codes, len(ids)))
        return GroupStats(ids, table.merge(placed), self.n_rows + other.n_rows, self.seen + other.seen, extra)

    def ordered(self) -> GroupStats:
        """The series in the order a one-pass fit gives them: sorted when the ids are compact
        integers (see :func:`seqscale.frames.panel.encode_new`), else as first seen."""
        ids = self.ids
        if ids.dtype == object and len(ids) and all(isinstance(v, (int, np.integer)) for v in ids):
            ids = ids.astype(np.int64)
        same = GroupStats(ids, self.table, self.n_rows, self.seen, self.extra)
        if ids.dtype.kind not in "iu" or len(ids) == 0:
            return same
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo > 4 * self.seen + 1024:
            return same
        order = np.argsort(ids, kind="stable")
        extra = None
        if self.extra is not None:  # series order[k] moves to k
            where = np.empty_like(order)
            where[order] = np.arange(order.size)
            extra = self.extra.placed(where, order.size)
        return GroupStats(ids[order], self.table.take(order), self.n_rows, self.seen, extra)


class InOrder:
    """Merges partial results that arrive in order (file batches) with about ``log2(n)`` merges
    per result instead of ``n``: a stack where two results of the same rank merge, the older on
    the left (a binary counter). A per-series quantile sketch grows with the data, so merging
    each batch into the running total would re-sort everything seen at every batch.

    Examples
    --------
    >>> acc = InOrder()
    >>> for x in (1.0, 2.0, 6.0):
    ...     acc.add(Moments.from_array(np.array([[x]])))
    >>> acc.result().mean.tolist()
    [3.0]
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, Any]] = []

    def add(self, part: Any) -> None:
        rank = 0
        while self._stack and self._stack[-1][0] == rank:
            part = self._stack.pop()[1].merge(part)
            rank += 1
        self._stack.append((rank, part))

    def result(self, default: Any = None) -> Any:
        """Everything added, merged in order (``default`` when nothing was)."""
        parts = [part for _, part in self._stack]
        if not parts:
            return default
        out = parts[0]
        for part in parts[1:]:
            out = out.merge(part)
        return out


def _mean_residual(
    rows: np.ndarray, codes: np.ndarray, table: Moments, weight: np.ndarray | None
) -> np.ndarray:
    """Per (group, channel) the mean of ``x - mean`` (NaN left out): what rounding took off the mean."""
    lo = np.zeros_like(table.mean)
    n_groups = table.mean.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(rows.shape[1]):
            centred = rows[:, j] - table.mean[codes, j]
            if weight is not None:
                centred = centred * weight
            centred = np.where(np.isnan(centred), 0.0, centred)
            total = np.bincount(codes, weights=centred, minlength=n_groups)
            lo[:, j] = np.where(table.count[:, j] > 0, total / table.count[:, j], 0.0)
    return lo


def _apply_block(
    rows: np.ndarray,
    affine: Affine,
    *,
    inverse: bool,
    policy: str,
    mask_value: Any,
    names: Sequence[str],
    where: str = "",
    row0: int = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Scale (or invert) one ``rows x channels`` block with the out-of-range policy and padding.

    ``row0`` is the position of the block's first row in the whole data and ``where`` an optional
    location (" of partition 3") for the out-of-range messages; ``out`` receives the result.
    """
    clip = None if inverse else _range_policy(rows, affine, policy, names, where, row0)
    padded = _padding(rows, mask_value)  # found before the map, which may write over rows
    padding = None if padded is None else rows[padded]
    result = affine.invert(rows, out=out) if inverse else affine.apply(rows, out=out)
    if padded is not None:  # padding keeps its values (and is not checked)
        result[padded] = padding
    if not inverse and _kernels.last_infinite_count():
        raise_not_finite(list(names), rows, result, row0, in_place=out is not None and out is rows)
    if clip is not None:
        np.clip(result, clip[0], clip[1], out=result)
    return result


def _range_policy(
    rows: np.ndarray, affine: Affine, policy: str, names: Sequence[str], where: str, row0: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """ "clip": output bounds; "warn"/"error": check this block of rows."""
    if policy == "ignore":
        return None
    if policy == "clip":
        return affine.output_bounds()
    if affine.low is None or affine.high is None:
        return None
    with np.errstate(invalid="ignore"):
        outside = (rows < affine.low) | (rows > affine.high)
    counts = outside.sum(axis=0)
    if not counts.any():
        return None
    first = [row0 + int(np.argmax(outside[:, j])) for j in range(outside.shape[1])]
    parts = [
        f"{names[j]!r}: {int(c)} value(s), first at row {first[j]}{where}" for j, c in enumerate(counts) if c
    ]
    message = (
        "values outside the fitted range — "
        + "; ".join(parts[:10])
        + ". out_of_range='clip' limits them, or refit / set domain bounds."
    )
    if policy == "error":
        raise OutOfRangeError(message)
    warnings.warn(message, OutOfRangeWarning, stacklevel=3)
    return None
