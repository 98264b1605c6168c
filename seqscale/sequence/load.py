"""One loader for every fitted-object file: :func:`seqscale.load`.

Examples
--------
>>> import tempfile, pathlib, numpy as np, seqscale
>>> path = pathlib.Path(tempfile.mkdtemp()) / "scaler.json"
>>> seqscale.MinMaxScaler().fit(np.array([[0.0], [4.0]])).save(path)
>>> load(path).data_max_.tolist()
[4.0]
"""

from __future__ import annotations

import os
from typing import Any

from seqscale.scalers.coefficients import from_dict as scaler_from_dict
from seqscale.sequence.pipeline import pipeline_from_dict
from seqscale.sequence.pipeline_io import FORMAT as PIPELINE_FORMAT
from seqscale.util.jsonfile import read_json

__all__ = ["load"]


def load(path: str | os.PathLike[str]) -> Any:
    """Read a coefficient (or pipeline) file and return the fitted scaler (or pipeline) it holds.

    Raises
    ------
    CoefficientFileError
        When the file is missing, not JSON, truncated, of a newer format version, or holds an
        invalid field (the message names it).
    """
    where = os.fspath(path)
    record = read_json(where, "coefficient")
    if isinstance(record, dict) and record.get("format") == PIPELINE_FORMAT:
        return pipeline_from_dict(record, source=where)
    return scaler_from_dict(record, source=where)
