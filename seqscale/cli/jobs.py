"""File-level jobs behind the command line: fit, transform, inverse, check.

Each job reads strictly (:mod:`seqscale.files.io`), calls the library, writes atomically and returns a
small summary. They raise :class:`~seqscale.errors.SeqscaleError` for user mistakes and never
import typer, so they are usable from Python as they are.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import (
    CoefficientFileError,
    DataFileError,
    InputError,
    ParameterError,
    SeqscaleError,
)
from seqscale.files import csv_reader as _csv
from seqscale.files import io as sio
from seqscale.files.inverse import pipeline_decimals, pipeline_levels, shortest_preimage
from seqscale.files.io import (
    count_rows,
    line_numbers,
    parse_time_column,
    read_header,
    read_table,
    write_table,
)
from seqscale.files.stream import fit_file, transform_file
from seqscale.frames.time_columns import find_time
from seqscale.scalers.estimators import SCALERS
from seqscale.scalers.registry import DEFAULT_METHOD
from seqscale.sequence.load import load
from seqscale.sequence.pipeline import SequencePipeline
from seqscale.sequence.split import split_training
from seqscale.util.atomic import check_output

__all__ = ["check_job", "file_rows", "fit_job", "load_fitted", "split_training", "transform_job"]

PathLike = str | os.PathLike[str]


def load_fitted(path: PathLike) -> Any:
    """A fitted scaler or pipeline from its JSON file (dispatch on the file's ``format``)."""
    return load(path)


@contextlib.contextmanager
def file_rows(data: PathLike, frame: pd.DataFrame | None = None) -> Iterator[None]:
    """An error naming rows of ``frame`` (read from ``data``) names the file's lines instead.

    ``frame`` keeps each row's place in the file as its index label (as :func:`read_frame` and
    :func:`~seqscale.files.io.read_table` give it, sorted or cut as the job needs); without it
    the rows are in file order. A CSV row is named by its line (blank lines and quoted line breaks
    counted), a Parquet row by its number from 1; the message starts with the file's name.
    """
    try:
        yield
    except SeqscaleError as err:
        if not err.rows:
            raise
        rows = [int(frame.index[r]) if frame is not None else r for r in err.rows]
        lines = dict(zip(err.rows, map(line_numbers(data, rows).__getitem__, rows)))
        raise type(err)(f"{data}: {err.naming_rows(lines.__getitem__)}") from None


def _is_pipeline(obj: Any) -> bool:
    return type(obj).__name__ == "SequencePipeline"


def read_frame(
    data: PathLike,
    *,
    time: str | None = None,
    id: str | None = None,
    sort: bool = False,
    detect: bool = True,
) -> tuple[pd.DataFrame, str | None, str | None]:
    """Read ``data`` with its time column parsed; ``(frame, time, note)``.

    Without ``time`` (and with ``detect``), the one column holding dates becomes the time column
    (``note`` says so); several date columns are an error asking for ``--time``. With ``sort``,
    rows are sorted by (id, time), stably; the index keeps each row's position in the file.
    """
    frame = read_table(data)
    _require_columns(frame, [c for c in (time, id) if c is not None], data, "--time/--id")
    found = find_time(frame, time, exclude=(id,)) if detect else time
    note = None
    if time is None and found is not None:
        note = f"taking {found!r} as the time column (it holds dates); pass --time to choose another."
    elif found is None and detect:
        note = _time_name_hint(frame, id)
    frame = parse_time_column(data, frame, found)
    keys = [k for k in (id, found) if k is not None]
    if sort and keys:
        frame = frame.sort_values(keys, kind="stable")
    return frame, found, note


_TIME_NAMES = ("year", "time", "date", "period", "t")


def _time_name_hint(frame: pd.DataFrame, id: str | None) -> str | None:
    """A note for an integer column named like a time (years are numbers, never guessed)."""
    for col in frame.columns:
        if str(col).lower() in _TIME_NAMES and col != id and pd.api.types.is_integer_dtype(frame[col]):
            return (
                f"no time column: rows are taken in file order and {col!r} is data; pass "
                f"--time {col} if it orders the rows."
            )
    return None


def fit_job(
    data: PathLike,
    out: PathLike,
    *,
    plan: PathLike | None = None,
    method: str = DEFAULT_METHOD,
    columns: list[str] | None = None,
    id: str | None = None,
    train_until: str | None = None,
    train_rows: int | None = None,
    time: str | None = None,
    progress: bool = False,
) -> dict:
    """Fit a pipeline (from a plan) or one scaler (``method``) on ``data``; save it to ``out``.

    Returns a summary: ``kind``, ``rows`` (training rows), ``columns``, ``missing`` (cells of the
    fitted columns read as missing values, e.g. empty or ``n/a``), ``time`` and ``note``.
    """
    _check_json_target(out)
    check_output(out, [data, plan])
    if plan is not None:
        return _fit_pipeline(data, out, plan, id, time, train_until, train_rows)
    if method not in SCALERS:
        raise ParameterError(f"--method {method!r}: use one of {sorted(SCALERS)}.")
    if id is None and time is None and train_until is None and train_rows is None:
        scaler = fit_file(data, method=method, columns=columns, progress=progress)
        rows = count_rows(data) or int(np.max(scaler.n_samples_seen_))  # CSV: rows with a value
        return _summary(scaler, out, rows, None, None)
    frame, time, note = read_frame(data, time=time, id=id, sort=True)
    train, _ = split_training(frame, train_until=train_until, train_rows=train_rows, time=time, id=id)
    numeric = _numeric_columns(train, columns, exclude={id, time}, where=data)
    scaler = SCALERS[method]()
    with file_rows(data, train):
        scaler.fit(train[numeric + ([id] if id else [])], groups=id)
    return _summary(scaler, out, len(train), time, note)


def _summary(scaler: Any, out: PathLike, rows: int, time: str | None, note: str | None) -> dict:
    scaler.save(out)
    counts = scaler.coefficients_["count"].to_numpy()
    return {
        "kind": "scaler",
        "method": scaler.method,
        "rows": rows,
        "columns": list(scaler.get_feature_names_out()),
        "missing": int(rows * len(scaler.get_feature_names_out()) - counts.sum()),
        "time": time,
        "note": note,
        "out": str(out),
    }


def _fit_pipeline(
    data: PathLike,
    out: PathLike,
    plan: PathLike,
    id: str | None,
    time: str | None,
    train_until: str | None,
    train_rows: int | None,
) -> dict:
    pipe = SequencePipeline.from_plan(plan)
    for option, given, planned in (("--id", id, pipe.id), ("--time", time, pipe.time)):
        if given is not None and planned is not None and given != planned:
            raise ParameterError(f"{option} {given!r} but the plan {plan} names {planned!r}; use one.")
    id = id or pipe.id
    frame, time, note = read_frame(data, time=time or pipe.time, id=id, sort=True)
    train, test_start = split_training(
        frame, train_until=train_until, train_rows=train_rows, time=time, id=id
    )
    pipe.set_params(time=time, id=id)
    if test_start is not None:
        pipe.set_params(test_start=test_start)
    try:
        with file_rows(data, train):
            pipe.fit(train)
    except SeqscaleError as err:  # name the two files the failing fit combined
        message = str(err).removeprefix(f"{data}: ")
        raise type(err)(f"{plan} fitted on {data}: {message}") from None
    pipe.save(out)
    used = [c for c in pipe.scalers_ if c in train.columns]
    return {
        "kind": "pipeline",
        "rows": len(train),
        "columns": list(pipe.feature_names_out_),
        "missing": int(train[used].isna().to_numpy().sum()),
        "time": time,
        "note": note,
        "out": str(out),
    }


def _require_columns(frame: pd.DataFrame, names: list[str], where: PathLike, what: str = "") -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        option = f" ({what})" if what else ""
        raise DataFileError(
            f"{where}: no column(s) {missing}{option}; the columns are {list(frame.columns)}."
        )


def _check_json_target(out: PathLike) -> None:
    if Path(out).suffix.lower() != ".json":
        raise ParameterError(f"-o {out}: coefficient files are JSON; name the output *.json.")


def _numeric_columns(
    frame: pd.DataFrame, columns: list[str] | None, exclude: set, where: PathLike
) -> list[str]:
    if columns:
        _require_columns(frame, list(columns), where)
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
    id: str | None = None,
    history: PathLike | None = None,
    progress: bool = False,
) -> dict:
    """Scale (or invert) the columns of ``data`` that the fitted file knows; write ``out``.

    Columns the file does not scale are written exactly as read. Inverted values are written with
    the fewest decimals that scale back to bitwise the same values (see
    :func:`seqscale.files.inverse.shortest_preimage`): ``22.66`` comes back as ``22.66``. A pipeline's
    differenced column needs ``history`` (the observed data) to come back as levels.
    """
    check_output(out, [data, coefficients, history])
    fitted = load_fitted(coefficients)
    if _is_pipeline(fitted):
        with file_rows(data):
            return _pipeline_job(fitted, data, coefficients, out, inverse, history)
    if history is not None:
        raise ParameterError(
            f"--history is for pipeline files with differencing; {coefficients} holds a scaler, "
            "whose inverse is already in original units: drop --history."
        )
    names = list(fitted.get_feature_names_out())
    grouped = bool(getattr(fitted, "_grouped", False))
    if not inverse and hasattr(fitted, "feature_names_in_"):
        _require_fitted_columns(data, coefficients, names)
    if not grouped and not inverse and id is None:
        with file_rows(data):  # the file is streamed in order: its rows are the file's rows
            written = transform_file(fitted, data, out, progress=progress)
        rows = count_rows(written)
        if rows is None:  # CSV: count the lines after the header
            with Path(written).open("rb") as handle:
                rows = sum(1 for _ in handle) - 1
        return {"rows": rows, "columns": names, "out": str(out)}
    with file_rows(data):
        return _scaler_job(fitted, names, grouped, data, coefficients, out, inverse, id)


def _scaler_job(
    fitted: Any,
    names: list[str],
    grouped: bool,
    data: PathLike,
    coefficients: PathLike,
    out: PathLike,
    inverse: bool,
    id: str | None,
) -> dict:
    frame = _with_rows(read_table(data), data, "invert" if inverse else "scale")
    present = [n for n in names if n in frame.columns]
    if not present:
        raise CoefficientFileError(
            f"{coefficients}: made for columns {names}, none of which is in {data} "
            f"(columns {list(frame.columns)}); use the coefficients fitted on this kind of data."
        )
    if grouped and (id is None or id not in frame.columns):
        raise ParameterError(
            f"{coefficients} holds per-series coefficients: pass --id COL (the series id column of {data})."
        )
    ids = frame[id] if grouped else None
    values = frame[present].to_numpy(dtype=np.float64)

    def forward(x: np.ndarray) -> np.ndarray:
        return np.asarray(fitted.transform(x, groups=ids, features=present), dtype=np.float64)

    if inverse:
        back = np.asarray(fitted.inverse_transform(values, groups=ids, features=present), dtype=np.float64)
        result_values = shortest_preimage(back, values, forward)
    else:
        result_values = forward(values)
    result = _as_read(data, frame, present)
    result[present] = result_values
    write_table(result, out)
    others = [c for c in frame.columns if c not in present]
    passed = [c for c in others if c != id and _is_number(frame[c])]
    return {"rows": len(result), "columns": present, "passed": passed, "out": str(out)}


def _as_read(data: PathLike, frame: pd.DataFrame, scaled: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` whose columns other than ``scaled`` hold the cells exactly as read."""
    others = [c for c in frame.columns if c not in scaled]
    if not others or Path(data).suffix.lower() in (".parquet", ".pq"):
        return frame.copy()
    raw = read_table(data, raw=others)
    out = frame.copy()
    out[others] = raw.loc[frame.index, others]
    return out


def _pipeline_job(
    pipe: Any, data: PathLike, coefficients: PathLike, out: PathLike, inverse: bool, history: PathLike | None
) -> dict:
    time = pipe.time if (not inverse or pipe.time in read_header(data)) else None
    frame, _, _ = read_frame(data, time=time, detect=False)
    if not inverse:
        result = _keys_as_read(data, frame, pipe.transform_frame(frame), [pipe.id, time])
        write_table(result, out)
        return {"rows": len(result), "columns": list(result.columns), "out": str(out)}
    result = pipe.inverse_frame(frame)
    present = [c for c in pipe.scalers_ if c in frame.columns]
    pipeline_decimals(pipe, frame, result, [c for c in present if not pipe.specs_[c].get("difference")])
    differenced = [c for c in pipe.scalers_ if c in frame.columns and pipe.specs_[c].get("difference")]
    units = "original units"
    if differenced:
        result = _levels(pipe, frame, result, differenced, coefficients, data, history)
        units = "levels in original units"
    elif history is not None:
        raise ParameterError(f"--history: no column of {data} was differenced by {coefficients}; drop it.")
    result = pd.concat([_as_read(data, frame, present).drop(columns=present), result[present]], axis=1)
    write_table(result[list(frame.columns)], out)
    keys = (pipe.time, pipe.id)
    passed = [c for c in frame.columns if c not in present and c not in keys and _is_number(frame[c])]
    return {"rows": len(result), "columns": present, "units": units, "passed": passed, "out": str(out)}


def _keys_as_read(data: PathLike, frame: pd.DataFrame, result: pd.DataFrame, keys: list) -> pd.DataFrame:
    """``result`` (rows of ``frame`` sorted and cut) with its id and time cells spelled as in ``data``.

    The pipeline parses a time column (``1959Q1`` becomes 1959-01-01) to order the rows; each
    parsed value is mapped back to the one cell that spells it in the file. A column where one
    parsed value has several spellings keeps the parsed values.
    """
    keys = [k for k in dict.fromkeys(keys) if k is not None and k in result.columns and k in frame.columns]
    if not keys:
        return result
    parquet = Path(data).suffix.lower() in (".parquet", ".pq")
    raw = read_table(data, columns=keys) if parquet else read_table(data, raw=keys)
    out = result.copy()
    for key in keys:
        pairs = pd.DataFrame({"value": frame[key].to_numpy(), "cell": raw.loc[frame.index, key].to_numpy()})
        pairs = pairs.drop_duplicates()
        if not pairs["value"].duplicated().any():
            out[key] = out[key].map(pd.Series(pairs["cell"].to_numpy(), index=pairs["value"].to_numpy()))
    return out


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _levels(
    pipe: Any,
    scaled: pd.DataFrame,
    result: pd.DataFrame,
    differenced: list[str],
    coefficients: PathLike,
    data: PathLike,
    history: PathLike | None,
) -> pd.DataFrame:
    what = ", ".join(f"{c!r} (lag {pipe.specs_[c]['difference']['lag']})" for c in differenced)
    if history is None:
        raise ParameterError(
            f"{coefficients} differences {what} before scaling, so inverting {data} alone gives "
            "differences, not levels; pass --history DATA (the observed data, with the time "
            "column and these columns) to get levels."
        )
    if pipe.time is None:
        raise ParameterError(
            f"{coefficients} was fitted without a time column, so the rows of {data} cannot be "
            "placed after the history; refit with --time COL."
        )
    keys = [k for k in (pipe.id, pipe.time) if k is not None]
    _require_columns(result, keys, data, "needed to place each prediction after its history")
    past, _, _ = read_frame(history, time=pipe.time, id=pipe.id, detect=False)
    _require_columns(past, [*keys, *differenced], history, "--history")
    return pipeline_levels(pipe, scaled, result, past, differenced)


def _with_rows(frame: pd.DataFrame, data: PathLike, what: str) -> pd.DataFrame:
    """``frame``, refused when the file held a header but no data rows."""
    if frame.empty:
        raise DataFileError(f"{data} holds no data rows (only a header); nothing to {what}.")
    return frame


def _file_columns(data: PathLike) -> list[str]:
    """The column names of a data file, from its header or footer (no data read)."""
    path, kind = sio.existing_file(data)
    if kind == "parquet":
        return list(sio.parquet_file(path).schema_arrow.names)
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
    id: str | None = None,
) -> tuple[pd.DataFrame, bool]:
    """Out-of-range and drift report per input column; ``ok`` is False beyond ``tolerance`` or ``drift``.

    Every column the fitted file scales is checked (for a pipeline: every numeric input, method
    ``"none"`` included, in the units it has before scaling, named in ``units``). ``first_row``
    is where the first value outside the range is in the file: ``"line N"`` (CSV) or ``"row N"``.
    """
    if not 0.0 <= tolerance <= 1.0:
        raise ParameterError(f"--tolerance {tolerance}: a share between 0 and 1.")
    if not drift > 0:
        raise ParameterError(f"--drift {drift}: a positive number of training standard deviations.")
    fitted = load_fitted(coefficients)
    with file_rows(data):
        if _is_pipeline(fitted):
            frame, _, _ = read_frame(data, time=fitted.time, id=fitted.id, detect=False)
            report = fitted.check(_with_rows(frame, data, "check"))
        else:
            report = _check_scaler(fitted, data, coefficients, id)
    report = _with_lines(report, data)
    shift = report["mean_shift_std"].abs()
    report = report.assign(ok=(report["share_outside"] <= tolerance) & ~(shift > drift))
    return report, bool(report["ok"].all())


def _check_scaler(fitted: Any, data: PathLike, coefficients: PathLike, id: str | None) -> pd.DataFrame:
    frame = _with_rows(read_table(data), data, "check")
    names = list(fitted.get_feature_names_out())
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InputError(
            f"{data} lacks column(s) {missing} that {coefficients} was fitted on; "
            f"the data has {list(frame.columns)}."
        )
    grouped = bool(getattr(fitted, "_grouped", False))
    if grouped and (id is None or id not in frame.columns):
        raise ParameterError(
            f"{coefficients} holds per-series coefficients: pass --id COL (the series id column of {data})."
        )
    return fitted.check(frame[names], groups=frame[id] if grouped else None)


def _with_lines(report: pd.DataFrame, data: PathLike) -> pd.DataFrame:
    """``first_row`` (a row label of the file's frame) as the file line that holds it."""
    rows = [int(r) for r in report["first_row"] if r is not None and r == r]
    where = line_numbers(data, rows) if rows else {}
    first = [None if r is None or r != r else where[int(r)] for r in report["first_row"]]
    return report.assign(first_row=first)
