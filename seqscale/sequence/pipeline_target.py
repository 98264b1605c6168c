"""The target side of :class:`~seqscale.sequence.pipeline.SequencePipeline`: encode labels, invert forecasts.

Regression forecasts go back through the target scaler (``features=``), the differencing (with
each sample's last known levels) and ``expm1``; class probabilities decode to labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, ParameterError
from seqscale.sequence.encode import OneHotEncoder, _normalize

__all__ = [
    "as_array",
    "decode",
    "encode",
    "invert_one",
    "invert_point",
    "label",
    "label_encoder",
    "point_frame",
]


def label(value: Any) -> str:
    """Column-name text of a class (``None`` -> ``"nan"``)."""
    return "nan" if value is None else str(value)


def label_encoder(name: str, classes: list) -> Any:
    """A fitted OneHotEncoder whose categories are exactly ``classes``, in that order."""
    params = {
        "handle_unknown": "error",
        "missing": "error",
        "min_frequency": None,
        "dtype": "float64",
    }
    return OneHotEncoder.from_dict(
        {
            "type": "OneHotEncoder",
            "version": 1,
            "input_ndim": 1,
            "feature_names_in": None,
            "params": params,
            "columns": [{"name": name, "categories": list(classes), "infrequent": []}],
        }
    )


def as_array(pred: Any) -> np.ndarray:
    """Predictions (numpy, torch tensor, pandas) as a numeric ndarray."""
    if hasattr(pred, "detach"):  # torch tensor
        pred = pred.detach().cpu().numpy()
    arr = np.asarray(pred.to_numpy() if hasattr(pred, "to_numpy") else pred)
    if arr.dtype.kind not in "biuf" or arr.ndim == 0:
        raise InputError(
            f"predictions must be a numeric array with one row per sample; got {arr.dtype} {arr.shape}."
        )
    return arr


def encode(pipe: Any, labels: pd.Series) -> np.ndarray:
    """Class labels -> one-hot rows (softmax) or one 0/1 column (sigmoid)."""
    spec = pipe.specs_[pipe.targets_[0]]
    if spec.get("encode") == "onehot":
        return pipe.target_encoder_.transform(labels.to_numpy(dtype=object))
    classes = spec["classes"]
    plain = [_normalize(v) for v in labels.to_numpy(dtype=object)]
    unknown = [v for v in set(plain) if v not in classes]
    if unknown:
        raise InputError(
            f"target {pipe.targets_[0]!r} has labels {unknown[:5]} not among the classes {classes}."
        )
    return np.asarray([[float(v == classes[1])] for v in plain])


def invert_point(pipe: Any, pred: np.ndarray, state: dict) -> np.ndarray:
    """Point forecasts of every target -> ``[samples, horizon, n_targets]`` in original units."""
    n_t = len(pipe.targets_)
    flat = pred.ndim == 2 and n_t > 1 and pipe.n_out == 1 and pred.shape[1] == n_t
    if pred.ndim == 1 or flat:
        pred = pred.reshape(pred.shape[0], 1, -1)
    if pred.ndim == 2:
        pred = pred[:, :, None]
    if pred.ndim != 3 or pred.shape[2] != n_t:
        raise InputError(
            f"point predictions must be [samples, horizon, {n_t}] (targets {pipe.targets_}); "
            f"got shape {pred.shape}."
        )
    cols = [invert_one(pipe, t, pred[:, :, j], state, "point") for j, t in enumerate(pipe.targets_)]
    return np.stack(cols, axis=2)


def invert_one(pipe: Any, t: str, pred: np.ndarray, state: dict, kind: str) -> np.ndarray:
    """Undo scaling, then differencing (last known levels per sample), then log1p."""
    out = np.asarray(pred, dtype=np.float64)
    scaler = pipe.scalers_[t]
    if scaler is not None:
        groups = state["ids"] if pipe.per_series else None
        out = scaler.inverse_transform(out, groups=groups, features=[t])
    if t in pipe.differences_:
        out = pipe.differences_[t].invert_forecast(out, state["levels"][t], kind=kind)
    return np.expm1(out) if pipe.specs_[t]["log"] else out


def point_frame(pipe: Any, values: np.ndarray, state: dict) -> pd.DataFrame:
    """``[samples, horizon, n_targets]`` -> DataFrame indexed by the first target time."""
    h = values.shape[1]
    data = {}
    for j, t in enumerate(pipe.targets_):
        names = [t] if h == 1 else [f"{t}+{k + 1}" for k in range(h)]
        data.update(zip(names, values[:, :, j].T))
    out = pd.DataFrame(data, index=state["times"])
    if state["ids"] is not None:
        out.insert(0, pipe.id, state["ids"])
    return out


def decode(pipe: Any, pred: np.ndarray, state: dict, kind: str) -> pd.DataFrame:
    """Class probabilities -> labels (argmax for softmax, threshold 0.5 for sigmoid)."""
    if kind != "point":
        raise ParameterError(f"kind={kind!r} applies to regression targets; class predictions are 'point'.")
    spec = pipe.specs_[pipe.targets_[0]]
    if spec.get("encode") == "onehot":
        width = len(spec["classes"])
        pred = pred.reshape(pred.shape[0], -1, width) if pred.ndim == 2 else pred
        labels = pipe.target_encoder_.inverse_transform(pred)
    else:
        p = pred.reshape(pred.shape[0], -1)
        labels = np.asarray(spec["classes"], dtype=object)[(p >= 0.5).astype(int)]
    values = np.asarray(labels, dtype=object)[:, :, None]
    return point_frame(pipe, values, state)
