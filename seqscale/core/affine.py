"""The affine map every scaler reduces to: ``y = (x - shift) * scale + offset`` per channel.

Subtracting ``shift`` (the mean, minimum, median or 0) *before* multiplying keeps the result
accurate for data far from zero (``1e9 + N(0, 1)``): ``x * scale + offset`` would cancel
catastrophically. The inverse is ``x = (y - offset) / scale + shift``; dividing (rather than
multiplying by a reciprocal) keeps ``invert(apply(x))`` within a few ulp of ``x``.

A method whose rule is a division (standard, robust, max-abs, mean-abs: ``(x - c) / d``) gives
its map a ``divisor``: ``apply`` then divides by it and ``invert`` multiplies, as scikit-learn
does. ``x / d`` is rounded once; ``x * (1 / d)`` twice, which puts it up to an ulp further from
the exact quotient (and ``d * (1 / d)`` is not always 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqscale.core import kernels as _kernels

__all__ = ["Affine"]


@dataclass(frozen=True)
class Affine:
    """Per-channel coefficients of ``y = (x - shift) * scale + offset``.

    Attributes
    ----------
    shift, scale, offset : ndarray of float64, shape (channels,) or (series, channels)
    low, high : ndarray of float64, same shape
        The input range that maps onto the output range (training or domain bounds), used by
        the out-of-range policy; NaN where the method has no natural bounds.
    divisor : ndarray of float64, same shape, optional
        For a method that divides: ``apply`` computes ``(x - shift) / divisor + offset`` and
        ``invert`` ``(y - offset) * divisor + shift``; ``scale`` is then ``1 / divisor`` (what
        coefficient files record and readers of the multiplier use).

    Examples
    --------
    >>> import numpy as np
    >>> f = Affine(np.array([10.0]), np.array([1 / 90]), np.array([0.0]))
    >>> f.apply(np.array([[10.0], [100.0]])).ravel().tolist()
    [0.0, 1.0]
    >>> g = Affine(np.array([0.0]), np.array([1 / 3]), np.array([0.0]), divisor=np.array([3.0]))
    >>> float(g.apply(np.array([[1.0]]))[0, 0]) == 1 / 3
    True
    """

    shift: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    divisor: np.ndarray | None = None

    @property
    def divides(self) -> bool:
        """Whether ``apply`` divides (by ``divisor``) rather than multiplies (by ``scale``)."""
        return self.divisor is not None

    @property
    def factor(self) -> np.ndarray:
        """The array ``apply`` uses: ``divisor`` when it divides, else ``scale``."""
        return self.scale if self.divisor is None else self.divisor

    def take(self, index) -> Affine:
        """Select rows (series) or channels of a table of coefficients."""
        arrays = (self.shift, self.scale, self.offset, self.low, self.high, self.divisor)
        return Affine(*(None if a is None else a[index] for a in arrays))

    @staticmethod
    def stack(tables: Sequence[Affine]) -> Affine:
        """Tables of coefficients ``(series, channels)`` one below the other (one per series).

        ``divisor`` is kept when every table has one; otherwise the result multiplies by
        ``scale``, which is the same map to within an ulp.
        """

        def rows(name: str) -> np.ndarray | None:
            parts = [getattr(t, name) for t in tables]
            return None if any(p is None for p in parts) else np.vstack(parts)

        return Affine(*(rows(f) for f in ("shift", "scale", "offset", "low", "high", "divisor")))

    def apply(
        self,
        rows: np.ndarray,
        out: np.ndarray | None = None,
        codes: np.ndarray | None = None,
        clip: tuple[np.ndarray, np.ndarray] | None = None,
        finite: bool = False,
    ) -> np.ndarray:
        """Scale a ``rows x channels`` array; the output keeps the input's float dtype.

        Computed in float64 in one pass (fused kernel) and stored once. With ``codes``, row i
        uses the coefficients of series ``codes[i]`` (a ``(series, channels)`` table).
        ``clip`` bounds the output (output units), per channel. The pass counts the +-inf
        inputs (``kernels.last_infinite_count``); ``finite=True`` says there are none (the
        rows were just fitted), which spares the per-series map that count.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if codes is None:
                lo, hi = (None, None) if clip is None else clip
                return _kernels.affine_apply(
                    rows, self.factor, self.offset, out, lo=lo, hi=hi, shift=self.shift, divide=self.divides
                )
            result = _kernels.segment_affine_apply(
                rows,
                codes,
                self.factor,
                self.offset,
                out,
                shift2d=self.shift,
                divide=self.divides,
                count_infinite=not finite,
            )
            if clip is not None:
                np.clip(result, clip[0][codes], clip[1][codes], out=result)
            return result

    def invert(
        self, rows: np.ndarray, out: np.ndarray | None = None, codes: np.ndarray | None = None
    ) -> np.ndarray:
        """Map scaled values back to original units (``codes`` as in :meth:`apply`)."""
        with np.errstate(over="ignore", invalid="ignore"):
            if codes is None:
                return _kernels.affine_invert(
                    rows, self.factor, self.offset, out, shift=self.shift, divide=self.divides
                )
            return _kernels.segment_affine_invert(
                rows, codes, self.factor, self.offset, out, shift2d=self.shift, divide=self.divides
            )

    def output_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``low`` and ``high`` mapped to output units (NaN where not defined), as ``apply`` maps them."""
        nan = np.full_like(self.scale, np.nan)
        return (
            nan if self.low is None else self._map(self.low),
            nan if self.high is None else self._map(self.high),
        )

    def _map(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.divisor is None:
                return (x - self.shift) * self.scale + self.offset
            return (x - self.shift) / self.divisor + self.offset
