"""File-level jobs behind the command line: fit, transform, inverse, check.

Each job reads strictly (:mod:`seqscale.io`), calls the library, writes atomically and returns a
small summary. They raise :class:`~seqscale.errors.SeqscaleError` for user mistakes and never
import typer, so they are usable from Python as they are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqscale._atomic import check_output
from seqscale.errors import (
    CoefficientFileError,
    DataFileError,
    InputError,
    ParameterError,
    SeqscaleError,
)

__all__ = ["check_job", "fit_job", "load_fitted", "split_training", "transform_job"]

PathLike = str | os.PathLike[str]


def load_fitted(path: PathLike) -> Any:
    """A fitted scaler or pipeline from its JSON file (dispatch on the file's ``format``)."""
    from seqscale.coefficients import load

    return load(path)


def _is_pipeline(obj: Any) -> bool:
    return type(obj).__name__ == "SequencePipeline"


def split_training(
    frame: pd.DataFrame, train_until: str | None, time: str | None
) -> tuple[pd.DataFrame, Any]:
    """Rows of the training period: before ``train_until`` (a row position or a date).

    Returns ``(train, test_start)``; ``test_start`` is None when the whole frame is training.
    """
    if train_until is None:
        return frame, None
    text = str(train_until).strip()
    if text.lstrip("-").isdigit():
        n = int(text)
        if not 0 < n <= len(frame):
            raise ParameterError(f"--train-until {n}: need a row position between 1 and {len(frame)}.")
        return frame.iloc[:n], n
    if time is None:
        raise ParameterError(
            f"--train-until {text!r} is a date, so the data needs a time column: pass --time COL "
            "(or a plan with a 'time' column), or give a row position instead."
        )
    if time not in frame.columns:
        raise DataFileError(f"--time {time!r}: no such column; the columns are {list(frame.columns)}.")
    try:
        cutoff = pd.Timestamp(text)
        stamps = pd.to_datetime(frame[time])
    except (ValueError, TypeError) as err:
        raise ParameterError(
            f"--train-until {text!r}: not a date or the column {time!r} holds no dates ({err})."
        ) from None
    train = frame[stamps < cutoff]
    if train.empty:
        raise ParameterError(
            f"--train-until {text!r} leaves no training rows (first {time} is {stamps.min()})."
        )
    return train, cutoff


def fit_job(
    data: PathLike,
    out: PathLike,
    *,
    plan: PathLike | None = None,
    method: str = "minmax",
    columns: list[str] | None = None,
    groups: str | None = None,
    train_until: str | None = None,
    time: str | None = None,
    progress: bool = False,
) -> dict:
    """Fit a pipeline (from a plan) or one scaler (``method``) on ``data``; save it to ``out``."""
    from seqscale.io import read_table

    _check_json_target(out)
    check_output(out, [data, plan])
    if plan is not None:
        from seqscale.pipeline import SequencePipeline

        pipe = SequencePipeline.from_plan(plan)
        frame = read_table(data)
        time = time or pipe.time
        _require_columns(frame, [time] if (time and train_until) else [], data)
        train, test_start = split_training(frame, train_until, time)
        if test_start is not None:
            pipe.set_params(test_start=test_start)
        try:
            pipe.fit(train)
        except SeqscaleError as err:  # name the two files the failing fit combined
            raise type(err)(f"{plan} fitted on {data}: {err}") from None
        pipe.save(out)
        return {
            "kind": "pipeline",
            "rows": len(train),
            "columns": list(pipe.feature_names_out_),
            "out": str(out),
        }
    from seqscale.scalers import SCALERS

    if method not in SCALERS:
        raise ParameterError(f"--method {method!r}: use one of {sorted(SCALERS)}.")
    if groups is None and train_until is None:
        from seqscale.stream import fit_file

        scaler = fit_file(data, method=method, columns=columns, progress=progress)
        rows = int(scaler.n_samples_seen_)
    else:
        frame = read_table(data)
        _require_columns(frame, [c for c in (groups, time) if c is not None], data)
        train, _ = split_training(frame, train_until, time)
        numeric = _numeric_columns(train, columns, exclude={groups, time}, where=data)
        scaler = SCALERS[method]()
        scaler.fit(train[numeric + ([groups] if groups else [])], groups=groups)
        rows = len(train)
    scaler.save(out)
    return {
        "kind": "scaler",
        "method": method,
        "rows": rows,
        "columns": list(scaler.get_feature_names_out()),
        "out": str(out),
    }


def _require_columns(frame: pd.DataFrame, names: list[str], where: PathLike) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise DataFileError(f"{where}: no column(s) {missing}; the columns are {list(frame.columns)}.")


def _check_json_target(out: PathLike) -> None:
    if Path(out).suffix.lower() != ".json":
        raise ParameterError(f"-o {out}: coefficient files are JSON; name the output *.json.")


def _numeric_columns(
    frame: pd.DataFrame, columns: list[str] | None, exclude: set, where: PathLike
) -> list[str]:
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataFileError(f"{where}: no column(s) {missing}; the columns are {list(frame.columns)}.")
        return list(columns)
    numeric = [
        c
        for c in frame.columns
        if c not in exclude
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    if not numeric:
        raise DataFileError(f"{where}: no numeric column to scale; the columns are {list(frame.columns)}.")
    return numeric


def transform_job(
    data: PathLike,
    coefficients: PathLike,
    out: PathLike,
    *,
    inverse: bool = False,
    groups: str | None = None,
    progress: bool = False,
) -> dict:
    """Scale (or invert) the columns of ``data`` that the fitted file knows; write ``out``."""
    from seqscale.io import read_table, write_table

    check_output(out, [data, coefficients])
    fitted = load_fitted(coefficients)
    if _is_pipeline(fitted):
        frame = read_table(data)
        result = fitted.inverse_frame(frame) if inverse else fitted.transform_frame(frame)
        write_table(result, out)
        return {"rows": len(result), "columns": list(result.columns), "out": str(out)}
    names = list(fitted.get_feature_names_out())
    grouped = bool(getattr(fitted, "_grouped", False))
    if not inverse and hasattr(fitted, "feature_names_in_"):
        _require_fitted_columns(data, coefficients, names)
    if not grouped and not inverse and groups is None:
        from seqscale.io import count_rows
        from seqscale.stream import transform_file

        written = transform_file(fitted, data, out, progress=progress)
        rows = count_rows(written)
        if rows is None:  # CSV: count the lines after the header
            with Path(written).open("rb") as handle:
                rows = sum(1 for _ in handle) - 1
        return {"rows": rows, "columns": names, "out": str(out)}
    frame = _with_rows(read_table(data), data, "invert" if inverse else "scale")
    present = [n for n in names if n in frame.columns]
    if not present:
        raise CoefficientFileError(
            f"{coefficients}: made for columns {names}, none of which is in {data} "
            f"(columns {list(frame.columns)}); use the coefficients fitted on this kind of data."
        )
    if grouped and (groups is None or groups not in frame.columns):
        raise ParameterError(
            f"{coefficients} holds per-series coefficients: "
            f"pass --groups COL (the series id column of {data})."
        )
    ids = frame[groups] if grouped else None
    values = frame[present]
    if len(present) == len(names) and present == names:
        scaled = (
            fitted.inverse_transform(values, groups=ids) if inverse else fitted.transform(values, groups=ids)
        )
    else:
        method = fitted.inverse_transform if inverse else fitted.transform
        scaled = pd.DataFrame(
            method(values.to_numpy(dtype=np.float64), groups=ids, features=present),
            columns=present,
            index=frame.index,
        )
    result = frame.copy()
    result[present] = scaled[present].to_numpy()
    write_table(result, out)
    return {"rows": len(result), "columns": present, "out": str(out)}


def _with_rows(frame: pd.DataFrame, data: PathLike, what: str) -> pd.DataFrame:
    """``frame``, refused when the file held a header but no data rows."""
    if frame.empty:
        raise DataFileError(f"{data} holds no data rows (only a header); nothing to {what}.")
    return frame


def _file_columns(data: PathLike) -> list[str]:
    """The column names of a data file, from its header or footer (no data read)."""
    from seqscale import _csv
    from seqscale import io as sio

    path, kind = sio._existing(data)
    if kind == "parquet":
        return list(sio._parquet_file(path).schema_arrow.names)
    return list(_csv.sniff(path).header)


def _require_fitted_columns(data: PathLike, coefficients: PathLike, names: list[str]) -> None:
    """Every fitted column must be in ``data`` under its exact name (names are case-sensitive)."""
    columns = _file_columns(data)
    missing = [n for n in names if n not in columns]
    if not missing:
        return
    folded = {c.casefold(): c for c in columns}
    near = [f"{n!r} (the file has {folded[n.casefold()]!r})" for n in missing if n.casefold() in folded]
    hint = f"; names are case-sensitive: {', '.join(near)}" if near else ""
    raise DataFileError(
        f"{data} lacks column(s) {missing} that {coefficients} was fitted on{hint}. Rename the "
        "columns, or use the coefficients fitted on this kind of data."
    )


def check_job(
    data: PathLike,
    coefficients: PathLike,
    *,
    tolerance: float = 0.0,
    drift: float = 3.0,
    groups: str | None = None,
) -> tuple[pd.DataFrame, bool]:
    """Out-of-range and drift report per column; ``ok`` is False beyond ``tolerance`` or ``drift``."""
    from seqscale.io import read_table

    if not 0.0 <= tolerance <= 1.0:
        raise ParameterError(f"--tolerance {tolerance}: a share between 0 and 1.")
    fitted = load_fitted(coefficients)
    frame = _with_rows(read_table(data), data, "check")
    if _is_pipeline(fitted):
        report = fitted.check(frame)
    else:
        names = list(fitted.get_feature_names_out())
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise InputError(
                f"{data} lacks column(s) {missing} that {coefficients} was fitted on; "
                f"the data has {list(frame.columns)}."
            )
        grouped = bool(getattr(fitted, "_grouped", False))
        ids = frame[groups] if grouped and groups else None
        report = fitted.check(frame[names], groups=ids)
    shift = (
        report["mean_shift_std"].abs() if "mean_shift_std" in report else pd.Series(0.0, index=report.index)
    )
    report = report.assign(ok=(report["share_outside"] <= tolerance) & ~(shift > drift))
    return report, bool(report["ok"].all())
