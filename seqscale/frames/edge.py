"""The dataframe edge: one narwhals-backed path for pandas, polars (eager and lazy) and pyarrow.

Every named table that reaches seqscale goes through here, whatever library made it: its column
names, its columns as numpy arrays, and the container an output is built in (``set_output``).
narwhals is imported on first use, so ``import seqscale`` does not pay for it, and numpy input
never touches it.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"a": [1.0, 2.0]})
>>> kind_of(frame), column_names(frame)
('pandas', ['a'])
>>> type(build_frame(np.ones((1, 2)), ["a", "b"], "polars")).__name__
'DataFrame'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqscale.errors import InputError, InputTypeError, ParameterError

__all__ = [
    "CONTAINERS",
    "build_frame",
    "build_series",
    "column_names",
    "columns_as_arrays",
    "drop",
    "is_lazy",
    "kind_of",
    "native_column",
    "object_columns",
    "to_pandas",
    "with_columns_first",
]

CONTAINERS = ("pandas", "polars", "pyarrow")


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def kind_of(obj: Any) -> str | None:
    """``"pandas"``, ``"polars"``, ``"pyarrow"`` for an eager named table, ``"lazy"`` for a polars
    LazyFrame, else None (arrays, series, Dask collections)."""
    module = _module(obj)
    name = type(obj).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars":
        return {"DataFrame": "polars", "LazyFrame": "lazy"}.get(name)
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "pyarrow"
    return None


def is_lazy(obj: Any) -> bool:
    """True for a polars LazyFrame (kept lazy by transform, reduced by polars in fit)."""
    return kind_of(obj) == "lazy"


def _native(obj: Any) -> Any:
    """A narwhals frame over ``obj`` (an Arrow RecordBatch is read as a one-batch Table)."""
    import narwhals as nw

    if type(obj).__name__ == "RecordBatch":
        import pyarrow as pa

        obj = pa.Table.from_batches([obj])
    return nw.from_native(obj)


def column_names(obj: Any) -> list[Any]:
    """The column labels of a named table, as the library gives them."""
    if kind_of(obj) == "pandas":
        return list(obj.columns)  # labels may be non-strings; pandas keeps them
    frame = _native(obj)
    return list(frame.collect_schema().names() if is_lazy(obj) else frame.columns)


def drop(obj: Any, columns: tuple[str, ...]) -> Any:
    """``obj`` without ``columns``, in its own library."""
    if not columns:
        return obj
    return _native(obj).drop(list(columns)).to_native()


def to_pandas(obj: Any) -> Any:
    """An eager polars or pyarrow table as a pandas DataFrame (names and dtypes kept)."""
    return _native(obj).to_pandas()


def native_column(obj: Any, name: str) -> Any:
    """One column of an eager table in its own library (a pandas/polars Series, an Arrow array)."""
    return _native(obj).get_column(name).to_native()


def _refuse_kind(dtype: Any, name: str) -> None:
    import narwhals as nw

    if isinstance(dtype, (nw.Categorical, nw.Enum)):
        raise InputTypeError(
            f"column {name!r} is categorical ({dtype}); categories are labels, not quantities "
            "to scale. Encode them with seqscale.OneHotEncoder (or cast them to float if the "
            "categories really are numbers)."
        )
    if isinstance(dtype, (nw.Datetime, nw.Date, nw.Duration)):
        raise InputTypeError(
            f"column {name!r} holds dates or durations; set it as the index or drop it before "
            "scaling (seqscale.SequencePipeline takes a time column by name)."
        )


def columns_as_arrays(obj: Any) -> tuple[list[np.ndarray], list[str]]:
    """Each column of an eager polars or pyarrow table as a numpy array, and the names.

    Numbers and booleans come out as floats (missing values as NaN; float32 kept); other columns
    come out as they are, for the caller's conversion to name them in its error.
    """
    import narwhals as nw

    frame = _native(obj)
    arrays = []
    for name, dtype in frame.schema.items():
        _refuse_kind(dtype, name)
        col = frame.get_column(name)
        if dtype == nw.Float32:
            arrays.append(col.to_numpy())
        elif dtype.is_numeric() or dtype == nw.Boolean:
            arrays.append(col.cast(nw.Float64).to_numpy())
        else:
            arrays.append(col.to_numpy())
    return arrays, [str(n) for n in frame.columns]


def object_columns(obj: Any) -> tuple[list[np.ndarray], list[str]]:
    """Each column of an eager polars or pyarrow table as an object array (labels kept as
    Python values, missing as None), and the names."""
    frame = _native(obj)
    return [np.asarray(frame.get_column(c).to_list(), dtype=object) for c in frame.columns], [
        str(c) for c in frame.columns
    ]


def build_frame(rows: np.ndarray, names: list[str], container: str, index: Any = None) -> Any:
    """A 2D array as a DataFrame of ``container`` (``"pandas"``, ``"polars"``, ``"pyarrow"``).

    ``index``: a pandas index to keep (pandas output only; other libraries have none).
    """
    if container not in CONTAINERS:
        raise ParameterError(f"unknown output container {container!r}; use one of {CONTAINERS}.")
    if container == "pandas":
        import pandas as pd

        return pd.DataFrame(rows, index=index, columns=names, copy=False)
    import narwhals as nw

    if len(set(names)) < len(names):
        raise InputError(f"output columns {names} are not unique; {container} needs unique names.")
    return nw.from_numpy(rows, schema=[str(n) for n in names], backend=container).to_native()


def build_series(values: np.ndarray, name: Any, container: str, index: Any = None) -> Any:
    """A 1D array as a Series of ``container`` (an Arrow array for ``"pyarrow"``)."""
    if container == "pandas":
        import pandas as pd

        return pd.Series(values, index=index, name=name)
    if container == "polars":
        import polars as pl

        return pl.Series("" if name is None else str(name), values)
    import pyarrow as pa

    return pa.array(values)


def with_columns_first(frame: Any, extra: dict[str, Any], container: str) -> Any:
    """``frame`` with the untouched ``extra`` columns (e.g. a series id) put first."""
    if not extra:
        return frame
    if container == "pandas":
        for position, (name, col) in enumerate(extra.items()):
            frame.insert(position, name, _to_numpy(col))
        return frame
    import narwhals as nw

    head = nw.from_dict({n: _to_numpy(c) for n, c in extra.items()}, backend=container)
    return nw.concat([head, nw.from_native(frame)], how="horizontal").to_native()


def _to_numpy(col: Any) -> np.ndarray:
    if hasattr(col, "to_numpy"):
        return np.asarray(col.to_numpy(zero_copy_only=False) if _module(col) == "pyarrow" else col.to_numpy())
    return np.asarray(col)
