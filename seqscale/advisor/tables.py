"""The advisor's input as a pandas DataFrame, whatever table it was given.

Examples
--------
>>> import numpy as np
>>> as_frame(np.zeros((2, 2))).columns.tolist()
['x0', 'x1']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from seqscale.errors import InputError, InputTypeError

__all__ = ["as_frame"]


def as_frame(frame: object) -> pd.DataFrame:
    """A pandas DataFrame of ``frame``: pandas, polars/pyarrow (``to_pandas``), 2-D array or dict."""
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas") and callable(frame.to_pandas):  # polars, pyarrow
        result = frame.to_pandas()
        if isinstance(result, pd.DataFrame):
            return result
    if isinstance(frame, np.ndarray):
        if frame.ndim == 1:
            frame = frame[:, None]
        if frame.ndim != 2:
            raise InputError(f"advise needs a table (2-D), got an array of shape {frame.shape}")
        return pd.DataFrame(frame, columns=[f"x{i}" for i in range(frame.shape[1])])
    if isinstance(frame, dict):
        return pd.DataFrame(frame)
    raise InputTypeError(f"advise needs a pandas/polars DataFrame or a 2-D array, got {type(frame).__name__}")
