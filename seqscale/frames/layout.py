"""The edge of seqscale: any input container to a canonical ``rows x features`` float array, and back.

A *layout* remembers what the caller gave (numpy 1D/2D/3D, pandas Series/DataFrame, polars, an
Arrow Table or RecordBatch) so that outputs come back in the same container, shape, index and
names (an Arrow input gives an array unless ``set_output`` asks for Arrow). Named tables are read
through :mod:`seqscale.frames.edge`, the one dataframe-agnostic path. Kernels only ever see the
canonical 2D float array: a 3D ``[samples, timesteps, features]`` array is pooled over samples and
timesteps by a reshape (a view when the array is contiguous), never flattened per window column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqscale.errors import InputError, InputTypeError
from seqscale.frames import edge

__all__ = ["Layout", "as_rows", "drop_columns", "feature_names_of", "from_rows", "is_dataframe"]


@dataclass(frozen=True)
class Layout:
    """How an input was shaped, so the output can be shaped the same way."""

    kind: str  # "ndarray", "series", "frame" (pandas), "polars", "arrow", "polars_series"
    shape: tuple[int, ...]
    dtype: np.dtype  # of the output: the rows' dtype, or float16 for a float16 array
    index: Any = None
    columns: list[str] | None = None
    name: Any = None
    extra: dict = field(default_factory=dict)  # untouched columns (e.g. a series-id column)

    @property
    def n_features(self) -> int:
        """Number of features (last axis; 1 for a 1D series)."""
        return 1 if len(self.shape) == 1 else self.shape[-1]


def _module_of(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def is_dataframe(obj: Any) -> bool:
    """True for an eager named table: a pandas or polars DataFrame, an Arrow Table or RecordBatch."""
    return edge.kind_of(obj) in edge.CONTAINERS


def feature_names_of(X: Any) -> np.ndarray | None:
    """Column names of a DataFrame as an object array of str, or None (like scikit-learn)."""
    if not is_dataframe(X):
        return None
    names = edge.column_names(X)
    if not all(isinstance(c, str) for c in names):
        return None
    return np.asarray(names, dtype=object)


def drop_columns(X: Any, columns: tuple[str, ...]) -> Any:
    """``X`` without ``columns`` (any named table)."""
    return edge.drop(X, columns)


def _float_dtype(dtype: np.dtype) -> np.dtype:
    """float32/float64 are kept; float16 is computed as float32 (and returned as float16, see
    :func:`from_rows`); everything numeric else float64."""
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def refuse_categorical(dtype: Any, name: str) -> None:
    """Refuse a categorical dtype (pandas ``category``, polars ``Categorical``/``Enum``), even
    with numeric categories: their codes or labels are not quantities to scale."""
    label = type(dtype).__name__ if not isinstance(dtype, type) else dtype.__name__
    if str(dtype) == "category" or label in ("CategoricalDtype", "Categorical", "Enum"):
        raise InputTypeError(
            f"column {name!r} is categorical ({dtype}); categories are labels, not quantities "
            "to scale. Encode them with seqscale.OneHotEncoder (or .astype(float) if the "
            "categories really are numbers)."
        )


def _column_to_float(values: np.ndarray, name: str) -> np.ndarray:
    """Convert one column to float, with an error that names it; booleans become 0/1."""
    kind = values.dtype.kind
    if kind == "c":
        raise InputError(
            f"column {name!r} is complex; complex data is not supported. Pass its real part "
            "(.real) or its magnitude (abs()) as a column of its own."
        )
    if kind in "fiu":
        return values
    if kind == "b":
        return values.astype(np.float64)
    if kind in "mM":
        raise InputTypeError(
            f"column {name!r} holds dates or durations; set it as the index or drop it before "
            "scaling (seqscale.SequencePipeline takes a time column by name)."
        )
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise InputTypeError(
            f"column {name!r} is not numeric ({err}); encode categories with "
            "seqscale.OneHotEncoder or drop the column."
        ) from None


def _frame_to_array(X: Any) -> tuple[np.ndarray, list[str]]:
    names = [str(c) for c in edge.column_names(X)]
    duplicates = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) < len(names) else []
    if duplicates:
        raise InputError(f"the DataFrame has duplicate column names {duplicates}; make them unique.")
    if _module_of(X) != "pandas":
        arrays, columns = edge.columns_as_arrays(X)
    else:
        columns = list(X.columns)
        for c in columns:
            refuse_categorical(X[c].dtype, str(c))
        arrays = []
        for c in columns:
            col = X[c]
            if hasattr(col.dtype, "numpy_dtype") and col.dtype.kind in "fiub":
                dtype = col.dtype.numpy_dtype if col.dtype.kind == "f" else np.float64
                arrays.append(col.to_numpy(dtype=dtype, na_value=np.nan))
            else:
                arrays.append(col.to_numpy())
    converted = [_column_to_float(np.asarray(a), str(c)) for a, c in zip(arrays, columns)]
    n_rows = X.num_rows if _module_of(X) == "pyarrow" else len(X)
    if not converted:
        return np.empty((n_rows, 0)), [str(c) for c in columns]
    dtype = np.result_type(*[_float_dtype(a.dtype) for a in converted])
    out = np.empty((n_rows, len(converted)), dtype=dtype)
    for j, a in enumerate(converted):
        out[:, j] = a
    return out, [str(c) for c in columns]


def _array_from_any(X: Any) -> np.ndarray:
    if hasattr(X, "toarray") or type(X).__name__.startswith(("csr_", "csc_", "coo_")):
        raise InputTypeError(
            "sparse input is taken by MaxAbsScaler, StandardScaler(with_mean=False) and "
            "RobustScaler(with_centering=False) (they keep zeros at zero); here dense input is "
            "needed: convert with X.toarray() first."
        )
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as err:
        raise InputTypeError(f"cannot read the input as an array: {err}") from None
    if arr.dtype.kind == "O" and arr.ndim >= 1:
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise InputTypeError(
                f"the input holds non-numeric values ({err}); encode categories with "
                "seqscale.OneHotEncoder or drop them."
            ) from None
    if arr.dtype.kind == "b":
        return arr.astype(np.float64)
    if arr.dtype.kind == "c":
        raise InputError("Complex data not supported; pass the real part (x.real) or the magnitude (abs(x)).")
    if arr.dtype.kind not in "fiuO":
        name = {"U": "string", "S": "bytes", "M": "datetime", "m": "timedelta"}
        raise InputTypeError(
            f"the input is {name.get(arr.dtype.kind, str(arr.dtype))} data; seqscale scales "
            "numbers. Convert it (e.g. .astype(float)) or encode categories with "
            "seqscale.OneHotEncoder."
        )
    return arr


def as_rows(X: Any, *, exclude: tuple[str, ...] = ()) -> tuple[np.ndarray, Layout]:
    """Return ``(rows, layout)`` where ``rows`` is a 2D float32/float64 ``rows x features`` array.

    Parameters
    ----------
    X : array-like of shape (n,), (rows, features) or (samples, timesteps, features), a
        pandas/polars Series or DataFrame, or an Arrow Table / RecordBatch.
    exclude : column names kept aside untouched (e.g. a series-id column).

    Examples
    --------
    >>> rows, layout = as_rows(np.zeros((4, 3, 2), dtype=np.float32))
    >>> rows.shape, rows.dtype, layout.shape
    ((12, 2), dtype('float32'), (4, 3, 2))
    """
    module = _module_of(X)
    if is_dataframe(X):
        extra = {c: edge.native_column(X, c) for c in exclude}
        data = drop_columns(X, exclude)
        arr, columns = _frame_to_array(data)
        kind = {"polars": "polars", "pyarrow": "arrow"}.get(module, "frame")
        index = X.index if module == "pandas" else None
        layout = Layout(kind, arr.shape, arr.dtype, index=index, columns=columns, extra=extra)
        return _check_rows(arr), layout
    refuse_categorical(getattr(X, "dtype", None), str(getattr(X, "name", None) or "series"))
    if module in {"pandas", "polars"} and hasattr(X, "to_numpy") and getattr(X, "ndim", 1) == 1:
        values = _column_to_float(np.asarray(X.to_numpy()), str(getattr(X, "name", "series")))
        arr = values.astype(_float_dtype(values.dtype), copy=False)
        kind = "polars_series" if module == "polars" else "series"
        index = None if module == "polars" else X.index
        layout = Layout(kind, arr.shape, arr.dtype, index=index, name=getattr(X, "name", None))
        return _check_rows(arr.reshape(-1, 1)), layout
    arr = _array_from_any(X)
    if arr.ndim == 0 or arr.ndim > 3:
        raise InputError(
            f"expected a 1D series, a 2D [rows, features] or a 3D [samples, timesteps, features] "
            f"array; got {arr.ndim}D with shape {arr.shape}. Reshape it so that features are "
            "the last axis, e.g. x.reshape(-1, x.shape[-1])."
        )
    out_dtype = arr.dtype if arr.dtype == np.float16 else _float_dtype(arr.dtype)
    arr = arr.astype(_float_dtype(arr.dtype), copy=False)
    layout = Layout("ndarray", arr.shape, out_dtype)
    if arr.ndim == 1:
        rows = arr.reshape(-1, 1)
    elif arr.ndim == 2:
        rows = arr  # the caller's array itself, so that copy=False scales it in place
    else:
        rows = arr.reshape(int(np.prod(arr.shape[:-1])), arr.shape[-1])
    return _check_rows(rows, arr.shape), layout


def _check_rows(rows: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    shape = rows.shape if shape is None else shape
    if rows.shape[0] == 0:
        raise InputError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required: "
            "the input is empty; seqscale needs at least one observation to fit or scale."
        )
    if rows.shape[1] == 0:
        raise InputError(
            f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is required: "
            "pass at least one numeric column."
        )
    return rows


def from_rows(
    rows: np.ndarray, layout: Layout, *, columns: list[str] | None = None, container: str | None = None
) -> Any:
    """Shape ``rows`` back into the caller's container (see :func:`as_rows`), or into the one
    ``set_output`` asked for.

    ``container``: None keeps the caller's container (an Arrow input gives an array);
    ``"default"`` gives a numpy array; ``"pandas"``, ``"polars"`` or ``"pyarrow"`` give that
    library's DataFrame (a Series for 1D input; a 3D array stays an array), named by
    ``columns`` (else the input's names), with a pandas input's index kept for pandas output.

    Examples
    --------
    >>> rows, layout = as_rows(np.ones((2, 2)))
    >>> from_rows(rows, layout, columns=["a", "b"], container="pandas").columns.tolist()
    ['a', 'b']
    """
    if layout.dtype == np.float16 and layout.kind == "ndarray":
        rows = rows.astype(np.float16)  # computed in float32, returned in the caller's dtype
    if container is None:
        container = {"frame": "pandas", "series": "pandas", "polars": "polars"}.get(layout.kind)
        container = container or {"polars_series": "polars"}.get(layout.kind, "default")
    index = layout.index if layout.kind in ("frame", "series") else None
    names = columns if columns is not None else layout.columns
    if container == "default" or len(layout.shape) == 3 or (len(layout.shape) == 2 and names is None):
        array = rows if rows.shape == layout.shape else rows.reshape(layout.shape)
        return array if container == "default" or len(layout.shape) == 3 else _unnamed(array, container)
    if len(layout.shape) == 1:
        return edge.build_series(rows.reshape(-1), layout.name, container, index)
    out = edge.build_frame(rows, list(names), container, index)
    return edge.with_columns_first(out, layout.extra, container)


def _unnamed(array: np.ndarray, container: str) -> Any:
    """A 2D array without names in ``container`` (scikit-learn's ``x0, x1, ...``)."""
    return edge.build_frame(array, [f"x{j}" for j in range(array.shape[1])], container)
