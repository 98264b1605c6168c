"""The affine map every scaler reduces to: ``y = (x - shift) * scale + offset`` per channel.

Subtracting ``shift`` (the mean, minimum, median or 0) *before* multiplying keeps the result
accurate for data far from zero (``1e9 + N(0, 1)``): ``x * scale + offset`` would cancel
catastrophically. The inverse is ``x = (y - offset) / scale + shift``; dividing (rather than
multiplying by a reciprocal) keeps ``invert(apply(x))`` within a few ulp of ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
        pick = (lambda a: None if a is None else a[index])
        return Affine(*(pick(a) for a in (self.shift, self.scale, self.offset, self.low, self.high)))

    def apply(self, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Scale a ``rows x channels`` array; the output keeps the input's float dtype."""
        out = _out_like(rows, out)
        with np.errstate(over="ignore", invalid="ignore"):
            np.subtract(rows, self.shift, out=out, casting="unsafe")
            np.multiply(out, self.scale, out=out, casting="unsafe")
            np.add(out, self.offset, out=out, casting="unsafe")
        return out

    def invert(self, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Map scaled values back to original units."""
        out = _out_like(rows, out)
        with np.errstate(over="ignore", invalid="ignore"):
            np.subtract(rows, self.offset, out=out, casting="unsafe")
            np.divide(out, self.scale, out=out, casting="unsafe")
            np.add(out, self.shift, out=out, casting="unsafe")
        return out

    def output_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``low`` and ``high`` mapped to output units (NaN where not defined)."""
        nan = np.full_like(self.scale, np.nan)
        low = nan if self.low is None else (self.low - self.shift) * self.scale + self.offset
        high = nan if self.high is None else (self.high - self.shift) * self.scale + self.offset
        return low, high


def _out_like(rows: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if out is not None:
        return out
    dtype = rows.dtype if rows.dtype in (np.float32, np.float64) else np.float64
    return np.empty(rows.shape, dtype=dtype)
