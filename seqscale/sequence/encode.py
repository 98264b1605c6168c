"""One-hot encoding of categorical columns, with a decoder for class probabilities.

Categories are learned at fit time (sorted), each value is integer-encoded and then expanded to
one indicator column per category, named ``column=value`` (``quarter=1``, ``status=open``).
``inverse_transform`` decodes by argmax, so softmax outputs of a classifier decode directly.

Examples
--------
>>> import pandas as pd
>>> enc = OneHotEncoder().fit(pd.DataFrame({"status": ["open", "closed", "open"]}))
>>> list(enc.get_feature_names_out())
['status=closed', 'status=open']
>>> enc.transform(pd.DataFrame({"status": ["open"]})).tolist()
[[0.0, 1.0]]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from seqscale.errors import (
    CoefficientFileError,
    FeatureMismatchError,
    InputError,
    InputTypeError,
    NotFittedError,
    ParameterError,
)
from seqscale.frames import edge as _edge
from seqscale.sequence.rows import listed

__all__ = ["OneHotEncoder"]

_UNKNOWN = ("error", "ignore", "infrequent")
_MISSING = ("error", "category")
_DTYPES = ("float32", "float64")
INFREQUENT = "infrequent"
_SHOW = 10


def _normalize(value: Any) -> Any:
    """Return a plain JSON-friendly Python scalar (None for missing; integral floats -> int)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    return str(value) if isinstance(value, str) else value


def _key(value: Any) -> tuple[bool, Any]:
    return (isinstance(value, bool), value)  # keeps True and 1 apart as dictionary keys


def _sorted(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _objs(values: list[Any]) -> np.ndarray:
    return np.fromiter(values, dtype=object, count=len(values))


def _label(value: Any) -> str:
    return "nan" if value is None else str(value)


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """One-hot encode one or several categorical columns.

    Parameters
    ----------
    handle_unknown : {"error", "ignore", "infrequent"}, default "error"
        Values not seen at fit time: ``"error"`` raises naming the column and the values,
        ``"ignore"`` gives an all-zero row, ``"infrequent"`` sets an extra ``column=infrequent``
        indicator that also collects categories rarer than ``min_frequency`` at fit time.
    missing : {"error", "category"}, default "error"
        NaN/None at fit time: raise naming the column, or make missing its own category
        (named ``column=nan``). Missing values at transform time that were not seen at fit are
        unknown values.
    min_frequency : int, float or None, default None
        With ``handle_unknown="infrequent"``: categories seen fewer than this many times (int) or
        in less than this share of the rows (float in (0, 1)) go to the infrequent column.
    dtype : {"float32", "float64"}, default "float64"
        Dtype of the indicator matrix.

    Attributes
    ----------
    categories_ : list of object ndarray
        Sorted categories of each column (missing, as None, last), infrequent ones included.
    infrequent_categories_ : list of object ndarray
        Categories of each column that map to the infrequent column.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame or a named Series.

    Examples
    --------
    >>> enc = OneHotEncoder(handle_unknown="ignore").fit([1, 2, 2, 3])
    >>> enc.transform([2, 4]).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    >>> enc.inverse_transform([[0.1, 0.7, 0.2]]).tolist()
    [2]
    """

    def __init__(
        self,
        *,
        handle_unknown: str = "error",
        missing: str = "error",
        min_frequency: int | float | None = None,
        dtype: str = "float64",
    ) -> None:
        self.handle_unknown = handle_unknown
        self.missing = missing
        self.min_frequency = min_frequency
        self.dtype = dtype

    def _check_fitted(self) -> None:
        if not hasattr(self, "categories_"):
            raise NotFittedError("OneHotEncoder is not fitted yet; call fit(X) or from_dict(d).")

    def _columns(self, X: Any, fitting: bool) -> tuple[list[np.ndarray], list[str] | None, int]:
        """Split X into object columns; return (columns, names or None, ndim)."""
        if isinstance(X, pd.DataFrame):
            names = [str(c) for c in X.columns]
            if not fitting and getattr(self, "feature_names_in_", None) is not None:
                names = self._names()
                absent = [n for n in names if n not in {str(c) for c in X.columns}]
                if absent:
                    raise FeatureMismatchError(
                        f"columns {absent} were seen at fit time but are missing from the data; "
                        f"pass a DataFrame with columns {names}."
                    )
                X = X.set_axis([str(c) for c in X.columns], axis=1)[names]
            return [X.iloc[:, j].to_numpy(dtype=object) for j in range(X.shape[1])], names, 2
        if _edge.kind_of(X) in ("polars", "pyarrow"):  # through the one dataframe edge
            columns, names = _edge.object_columns(X)
            if not fitting and getattr(self, "feature_names_in_", None) is not None:
                absent = [n for n in self._names() if n not in names]
                if absent:
                    raise FeatureMismatchError(
                        f"columns {absent} were seen at fit time but are missing from the data; "
                        f"pass a DataFrame with columns {self._names()}."
                    )
                columns, names = [columns[names.index(n)] for n in self._names()], self._names()
            return columns, names, 2
        if _edge.kind_of(X) == "lazy":
            raise InputTypeError("OneHotEncoder needs the data: pass lazy_frame.collect().")
        if type(X).__module__.startswith("polars") and type(X).__name__ == "Series":
            return [np.asarray(X.to_list(), dtype=object)], [str(X.name)] if X.name else None, 1
        if isinstance(X, pd.Series):
            name = None if X.name is None else [str(X.name)]
            return [X.to_numpy(dtype=object)], name, 1
        arr = np.asarray(X, dtype=object)
        if arr.ndim not in (1, 2):
            raise InputError(
                f"OneHotEncoder needs 1D or 2D input (rows x categorical columns); got a "
                f"{arr.ndim}D array of shape {arr.shape}. Reshape it first."
            )
        return ([arr] if arr.ndim == 1 else list(arr.T)), None, arr.ndim

    def _names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return [f"x{j}" for j in range(self.n_features_in_)]

    def fit(self, X: Any, y: Any = None) -> OneHotEncoder:
        """Learn the sorted categories of each column of ``X`` (1D/2D array, Series, DataFrame)."""
        _check_params(self.get_params(), ParameterError)
        columns, names, ndim = self._columns(X, fitting=True)
        for attr in ("feature_names_in_", "categories_"):
            self.__dict__.pop(attr, None)
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(columns)
        self._input_ndim = ndim
        learned = [self._learn(name, col) for name, col in zip(self._names(), columns)]
        self.categories_ = [_objs(cats) for cats, _ in learned]
        self.infrequent_categories_ = [_objs(rare) for _, rare in learned]
        return self

    def _learn(self, name: str, col: np.ndarray) -> tuple[list[Any], list[Any]]:
        if col.size == 0:
            raise InputError(f"column {name!r} is empty; fit needs at least one row.")
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        counts: dict[tuple, int] = {}  # 1 and 1.0 (object columns) are one category
        for value, count in zip(uniques, np.bincount(codes[codes >= 0], minlength=len(uniques))):
            counts[_key(_normalize(value))] = counts.get(_key(_normalize(value)), 0) + int(count)
        n_missing = int(np.count_nonzero(codes < 0))
        if n_missing and self.missing != "category":
            where, rows = listed(np.flatnonzero(codes < 0), _SHOW)
            raise InputError.at_rows(
                "column {name!r} has {n} missing values (" + where + "); "
                "fill them or use OneHotEncoder(missing='category').",
                *rows,
                name=name,
                n=n_missing,
            )
        cats = _sorted([value for _, value in counts])
        if n_missing:
            cats.append(None)
            counts[_key(None)] = n_missing
        limit = self.min_frequency
        if self.handle_unknown != "infrequent" or limit is None:
            return cats, []
        limit = limit * col.size if isinstance(limit, float) else limit
        return cats, [c for c in cats if counts[_key(c)] < limit]

    def _layout(self, j: int) -> tuple[list[Any], dict[tuple, int], int]:
        """Output labels of column j, lookup key -> output slot, and width."""
        rare = {_key(c) for c in self.infrequent_categories_[j]}
        frequent = [c for c in self.categories_[j] if _key(c) not in rare]
        slots = {_key(c): i for i, c in enumerate(frequent)}
        labels: list[Any] = list(frequent)
        if self.handle_unknown == "infrequent":
            for c in self.infrequent_categories_[j]:
                slots[_key(c)] = len(frequent)
            labels.append(INFREQUENT)
        return labels, slots, len(labels)

    def _codes(self, name: str, col: np.ndarray, slots: dict, width: int) -> np.ndarray:
        """Output slot per row; -1 for an all-zero row."""
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        normal = [_normalize(u) for u in uniques] + [None]
        table = np.array([slots.get(_key(v), -1) for v in normal], dtype=np.int64)
        out = table[codes]  # code -1 picks the trailing "missing" entry
        unknown = out < 0
        if unknown.any():
            if self.handle_unknown == "error":
                bad = _sorted({_label(normal[c]) for c in np.unique(codes[unknown])})
                where, rows = listed(np.flatnonzero(unknown), _SHOW)
                raise InputError.at_rows(
                    "column {name!r} has values not seen at fit time: {bad} (" + where + "); "
                    "refit on data that includes them or use handle_unknown='ignore' or 'infrequent'.",
                    *rows,
                    name=name,
                    bad=bad[:_SHOW],
                )
            if self.handle_unknown == "infrequent":
                out[unknown] = width - 1
        return out

    def transform(self, X: Any) -> np.ndarray:
        """Return the indicator matrix, shape ``(n_rows, n_output_columns)``.

        Examples
        --------
        >>> OneHotEncoder().fit(["b", "a"]).transform(["a", "b"]).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        """
        self._check_fitted()
        columns, _, _ = self._columns(X, fitting=False)
        if len(columns) != self.n_features_in_:
            raise FeatureMismatchError(
                f"X has {len(columns)} columns but the encoder was fitted on "
                f"{self.n_features_in_} ({self._names()}); pass the same columns."
            )
        blocks = []
        for j, (name, col) in enumerate(zip(self._names(), columns)):
            _, slots, width = self._layout(j)
            codes = self._codes(name, col, slots, width)  # -1 picks the all-zero last row
            blocks.append(np.eye(width + 1, dtype=self.dtype)[codes, :width])
        return np.concatenate(blocks, axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names ``column=value`` (``column=infrequent``, ``column=nan``)."""
        self._check_fitted()
        names = self._names() if input_features is None else [str(n) for n in input_features]
        if len(names) != self.n_features_in_:
            raise FeatureMismatchError(
                f"input_features has {len(names)} names; the encoder has {self.n_features_in_} columns."
            )
        out = [f"{n}={_label(v)}" for j, n in enumerate(names) for v in self._layout(j)[0]]
        return np.asarray(out, dtype=object)

    def inverse_transform(self, X: Any) -> Any:
        """Decode indicators or class probabilities to labels by argmax.

        Returns an object ndarray (1D when fitted on 1D input), or a DataFrame / Series when
        fitted on named pandas input. Rows whose block is all zero decode to None (NaN in pandas
        output), the infrequent column to ``"infrequent"``; ties go to the first category.
        A 3D input ``[samples, steps, n_output_columns]`` decodes to ``[samples, steps, ...]``.

        Examples
        --------
        >>> enc = OneHotEncoder().fit(["cat", "dog"])
        >>> enc.inverse_transform([[0.9, 0.1], [0.0, 0.0]]).tolist()
        ['cat', None]
        """
        self._check_fitted()
        arr = np.asarray(X, dtype=np.float64)
        head = arr.shape[:-1]
        width = len(self.get_feature_names_out())
        if arr.ndim not in (2, 3) or arr.shape[-1] != width:
            raise FeatureMismatchError(
                f"inverse_transform needs shape (n_rows, {width}) or (samples, steps, {width}); "
                f"got {arr.shape}. Pass the full encoded block (or its probabilities)."
            )
        layouts = [self._layout(j)[0] for j in range(self.n_features_in_)]
        blocks = np.split(arr.reshape(-1, width), np.cumsum([len(x) for x in layouts])[:-1], 1)
        out = np.empty((blocks[0].shape[0], self.n_features_in_), dtype=object)
        for j, (labels, block) in enumerate(zip(layouts, blocks)):
            idx = np.where(np.any(block != 0, axis=1), np.argmax(block, axis=1), len(labels))
            out[:, j] = _objs([*labels, None])[idx]
        return self._wrap_inverse(out, head)

    def _wrap_inverse(self, out: np.ndarray, head: tuple[int, ...]) -> Any:
        one_d = self._input_ndim == 1
        if len(head) == 1 and getattr(self, "feature_names_in_", None) is not None:
            frame = pd.DataFrame(out, columns=self._names()).infer_objects()
            return frame.iloc[:, 0] if one_d else frame
        out = out.reshape(*head, self.n_features_in_)
        return out[..., 0] if one_d else out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable record of the parameters and the fitted categories."""
        self._check_fitted()
        cols = zip(self._names(), self.categories_, self.infrequent_categories_)
        names = getattr(self, "feature_names_in_", None)
        return {
            "type": "OneHotEncoder",
            "version": 1,
            "params": self.get_params(),
            "input_ndim": self._input_ndim,
            "feature_names_in": None if names is None else self._names(),
            "columns": [
                {
                    "name": n,
                    "categories": [*map(_normalize, c)],
                    "infrequent": [*map(_normalize, r)],
                }
                for n, c, r in cols
            ],
        }

    @classmethod
    def from_dict(cls, d: Any) -> OneHotEncoder:
        """Rebuild a fitted encoder from :meth:`to_dict` output; raise CoefficientFileError."""
        _field(isinstance(d, dict), "record", "must be a JSON object (dict)")
        for field, ok, what in (
            ("type", d.get("type") == "OneHotEncoder", "must be 'OneHotEncoder'"),
            ("version", d.get("version") == 1, "must be 1 (unknown format version)"),
            ("params", isinstance(d.get("params"), dict), "must be an object"),
            ("input_ndim", d.get("input_ndim") in (1, 2), "must be 1 or 2"),
            ("columns", isinstance(d.get("columns"), list) and d["columns"], "must be a list"),
        ):
            _field(bool(ok), field, what)
        _check_params(d["params"], CoefficientFileError)
        enc = cls(**d["params"])
        enc._input_ndim, enc.n_features_in_ = d["input_ndim"], len(d["columns"])
        read = [_read_column(col, f"columns[{j}]") for j, col in enumerate(d["columns"])]
        enc.categories_ = [_objs(cats) for cats, _ in read]
        enc.infrequent_categories_ = [_objs(rare) for _, rare in read]
        names = d.get("feature_names_in")
        ok = names is None or (
            isinstance(names, list) and len(names) == len(read) and all(isinstance(n, str) for n in names)
        )
        _field(ok, "feature_names_in", "must be null or one string per column")
        if names is not None:
            enc.feature_names_in_ = np.asarray(names, dtype=object)
        return enc


def _field(ok: bool, field: str, what: str) -> None:
    if not ok:
        raise CoefficientFileError(
            f"OneHotEncoder record: field {field!r} {what}; re-create it with to_dict()."
        )


def _check_params(params: dict, error: type[Exception]) -> None:
    freq = params.get("min_frequency")
    freq_ok = freq is None or (type(freq) is int and freq >= 1) or (type(freq) is float and 0 < freq < 1)
    extra = sorted(set(params) - {"handle_unknown", "missing", "min_frequency", "dtype"})
    for name, ok, what in (
        ("handle_unknown", params.get("handle_unknown") in _UNKNOWN, f"one of {_UNKNOWN}"),
        ("missing", params.get("missing") in _MISSING, f"one of {_MISSING}"),
        ("dtype", params.get("dtype") in _DTYPES, f"one of {_DTYPES}"),
        ("min_frequency", freq_ok, "None, an int >= 1 or a float in (0, 1)"),
        (f"params {extra}", not extra, "only handle_unknown, missing, min_frequency, dtype"),
    ):
        if not ok:
            raise error(f"OneHotEncoder {name}={params.get(name)!r} is invalid; use {what}.")


def _read_column(col: Any, where: str) -> tuple[list[Any], list[Any]]:
    _field(isinstance(col, dict), where, "must be an object")
    _field(isinstance(col.get("name"), str), f"{where}.name", "must be a string")
    cats, rare = col.get("categories"), col.get("infrequent", [])
    scalar = (str, bool, int, float, type(None))
    ok = isinstance(cats, list) and len(cats) > 0 and all(isinstance(c, scalar) for c in cats)
    ok = ok and not any(isinstance(c, float) and not math.isfinite(c) for c in cats)
    _field(ok, f"{where}.categories", "must be a non-empty list of strings, numbers or null")
    keys = {_key(c) for c in cats}
    _field(len(keys) == len(cats), f"{where}.categories", "must not repeat a value")
    ok = isinstance(rare, list) and all(isinstance(c, scalar) and _key(c) in keys for c in rare)
    _field(ok, f"{where}.infrequent", "must be a list of values from categories")
    return cats, rare
