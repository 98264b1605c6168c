"""scipy.sparse input for the scalers that do not shift (zeros stay zero).

``MaxAbsScaler``, ``StandardScaler(with_mean=False)`` and ``RobustScaler(with_centering=False)``
multiply each column by a factor, so a sparse matrix stays sparse: only the stored values are
scaled, and the output has the input's format (CSR or CSC; other formats become CSR, as in
scikit-learn). A scaler that shifts is refused with scikit-learn's message. The statistics are
the same ``Moments``: the stored values of each column merged with its implicit zeros. With
``sample_weight`` the same fold is weighted: a stored value weighs its row's weight, and the
implicit zeros of a column weigh the total weight of the rows that hold them.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from seqscale.core.stats import Moments
from seqscale.errors import InputError, InputTypeError, ParameterError
from seqscale.scalers import rows as _rows

__all__ = ["accepts", "apply", "as_csr_or_csc", "check_no_shift", "is_sparse", "moments"]


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a scipy.sparse matrix or array (scipy is not imported to find out)."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(X)


def accepts(est: Any) -> bool:
    """Whether this scaler keeps zeros at zero, so that it takes sparse input."""
    if est.method == "standard":
        return not est.with_mean
    if est.method == "robust":
        return not est.with_centering
    return est.method == "maxabs"


def check_no_shift(est: Any) -> None:
    """Refuse sparse input for a scaler that shifts values (scikit-learn's wording first)."""
    method = est.method
    if method == "minmax":
        raise InputTypeError(
            "MinMaxScaler does not support sparse input. Consider using MaxAbsScaler instead. "
            "Min-max scaling shifts values, so zeros would not stay zero."
        )
    if method == "standard" and est.with_mean:
        raise InputError(
            "Cannot center sparse matrices: pass `with_mean=False` instead. See docstring for "
            "motivation and alternatives. Centring would turn every implicit zero into a value."
        )
    if method == "robust" and est.with_centering:
        raise InputError(
            "Cannot center sparse matrices: use `with_centering=False` instead. See docstring for "
            "motivation and alternatives. Centring would turn every implicit zero into a value."
        )


def as_csr_or_csc(X: Any) -> Any:
    """CSR or CSC with float values (float32 kept); other formats become CSR."""
    X = X if X.format in ("csr", "csc") else X.tocsr()
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            raise InputTypeError(f"sparse input of dtype {X.dtype} cannot be scaled; numbers are needed.")
        X = X.astype(np.float64)
    return X


def _columns(X: Any) -> np.ndarray:
    """The column of each stored value."""
    if X.format == "csr":
        return X.indices.astype(np.int64, copy=False)
    return np.repeat(np.arange(X.shape[1], dtype=np.int64), np.diff(X.indptr))


def moments(X: Any, weight: np.ndarray | None = None) -> Moments:
    """Per-column statistics of a CSR/CSC matrix: its stored values merged with its zeros.

    ``weight``: one non-negative weight per row (checked by the caller), or None. The implicit
    zeros of a column count with the weights of their rows, as dense zeros would.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix(np.array([[0.0, 2.0], [4.0, 0.0], [0.0, 0.0]]))
    >>> m = moments(X)
    >>> m.count.tolist(), m.mean.tolist(), m.max.tolist()
    ([3.0, 3.0], [1.3333333333333333, 0.6666666666666666], [4.0, 2.0])
    >>> moments(X, np.array([1.0, 3.0, 0.0])).mean.tolist()   # column 0: (3*4 + 1*0) / 4
    [3.0, 0.5]
    """
    n_rows, n_cols = X.shape
    cols = _columns(X)
    stored_rows = _rows_of(X) if weight is not None else None
    w = None if weight is None else weight[stored_rows]
    stored = Moments.from_groups(X.data.reshape(-1, 1), cols, n_cols, w)
    stored = Moments(*(a[:, 0] for a in stored.as_dict().values()))
    if weight is None:
        n_zeros = (n_rows - np.bincount(cols, minlength=n_cols)).astype(np.float64)
        has = n_zeros > 0
    else:  # rows of weight 0 hold no zero; the count of the others decides exactly
        positive = weight > 0
        has = int(positive.sum()) - np.bincount(cols[positive[stored_rows]], minlength=n_cols) > 0
        n_zeros = np.where(has, np.maximum(weight.sum() - np.bincount(cols, w, minlength=n_cols), 0.0), 0.0)
    zero = np.where(has, 0.0, np.nan)
    zeros = Moments(n_zeros, np.zeros(n_cols), np.zeros(n_cols), zero, zero.copy())
    return stored.merge(zeros)


def _rows_of(X: Any) -> np.ndarray:
    """The row of each stored value."""
    if X.format == "csc":
        return X.indices.astype(np.int64, copy=False)
    return np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))


def apply(est: Any, X: Any, inverse: bool) -> Any:
    """Scale (or unscale) the stored values of ``X`` column by column; a new matrix of its format.

    Each stored value is scaled with its column's coefficients (the columns act as the series of
    a one-feature table), so the out-of-range policy applies as for dense input.
    """
    affine = est.affine_
    if affine.shift.ndim != 1 or np.any(affine.shift != 0) or np.any(affine.offset != 0):
        raise ParameterError("sparse input: this scaler's coefficients shift values or are per series.")
    out = X.copy()
    cols = _columns(X)
    table = affine.take((slice(None), None))
    rows = X.data.reshape(-1, 1)
    if inverse:
        out.data = table.invert(rows, codes=cols).reshape(-1)
        return out
    clip = _rows.range_policy(est, rows, table, cols)
    out.data = table.apply(rows, codes=cols, clip=clip).reshape(-1)
    if np.isinf(X.data).any():
        raise InputError("Input X contains infinity or a value too large for dtype('float64').")
    return out
