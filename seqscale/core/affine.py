"""The affine map every scaler reduces to: ``y = (x - shift) * scale + offset`` per channel.

Subtracting ``shift`` (the mean, minimum, median or 0) *before* multiplying keeps the result
accurate for data far from zero (``1e9 + N(0, 1)``): ``x * scale + offset`` would cancel
catastrophically. The inverse is ``x = (y - offset) / scale + shift``; dividing (rather than
multiplying by a reciprocal) keeps ``invert(apply(x))`` within a few ulp of ``x``.
"""

from __future__ import annotations

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

    Examples
    --------
    >>> import numpy as np
    >>> f = Affine(np.array([10.0]), np.array([1 / 90]), np.array([0.0]))
    >>> f.apply(np.array([[10.0], [100.0]])).ravel().tolist()
    [0.0, 1.0]
    """

    shift: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def take(self, index) -> Affine:
        """Select rows (series) or channels of a table of coefficients."""
        arrays = (self.shift, self.scale, self.offset, self.low, self.high)
        return Affine(*(None if a is None else a[index] for a in arrays))

    def apply(
        self,
        rows: np.ndarray,
        out: np.ndarray | None = None,
        codes: np.ndarray | None = None,
        clip: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Scale a ``rows x channels`` array; the output keeps the input's float dtype.

        Computed in float64 in one pass (fused kernel) and stored once. With ``codes``, row i
        uses the coefficients of series ``codes[i]`` (a ``(series, channels)`` table).
        ``clip`` bounds the output (output units), per channel.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            if codes is None:
                lo, hi = (None, None) if clip is None else clip
                return _kernels.affine_apply(
                    rows, self.scale, self.offset, out, lo=lo, hi=hi, shift=self.shift
                )
            result = _kernels.segment_affine_apply(
                rows, codes, self.scale, self.offset, out, shift2d=self.shift
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
                return _kernels.affine_invert(rows, self.scale, self.offset, out, shift=self.shift)
            return _kernels.segment_affine_invert(
                rows, codes, self.scale, self.offset, out, shift2d=self.shift
            )

    def output_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``low`` and ``high`` mapped to output units (NaN where not defined)."""
        nan = np.full_like(self.scale, np.nan)
        low = nan if self.low is None else (self.low - self.shift) * self.scale + self.offset
        high = nan if self.high is None else (self.high - self.shift) * self.scale + self.offset
        return low, high
