"""Time columns as people write them: the one parser behind every command and API entry point.

A time column may hold

* datetimes (``datetime64``, with or without a time zone) or pandas periods (their start);
* numbers: integer years (``1871``) or time steps, kept as numbers, so ``1950`` means the year 1950;
* text, every cell in one spelling: integer years (``1871``), quarters (``1959Q1``, ``1959-Q1``,
  ``1959 Q1``), year-months (``1980-01``, ``1980/01``), ISO dates and date-times (``2020-01-31``,
  ``2020-01-31 13:30:00``, ``2020-01-31T13:30Z``), or any other date spelling pandas infers from
  the first cell and applies to all (``01/31/2020``).

Quarters and year-months become the timestamp of their first day. A missing cell or a cell that
does not parse raises :class:`TimeCellError` naming the column, the row and the cell; file readers
turn the row into a line number.

Examples
--------
>>> import pandas as pd
>>> parse_times(pd.Series(["1959Q1", "1959Q2"]), "quarter").dt.strftime("%Y-%m-%d").tolist()
['1959-01-01', '1959-04-01']
>>> parse_times(pd.Series(["1871", "1872"]), "year").tolist()
[1871, 1872]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, ParameterError

__all__ = [
    "TimeCellError",
    "date_columns",
    "find_time",
    "is_text",
    "parse_cutoff",
    "parse_times",
    "with_time",
]

SPELLINGS = (
    "ISO dates (2020-01-31), date-times (2020-01-31 13:30), years (1871), "
    "year-months (1980-01) or quarters (1959Q1)"
)
_SAMPLE = 200  # cells looked at to decide whether a text column holds dates


class TimeCellError(InputError):
    """A cell of a time column is missing or not a time; ``row`` is its 0-based position."""

    def __init__(self, column: str, row: int, value: Any, label: Any = None) -> None:
        self.column, self.row, self.value = column, row, value
        self.label = row if label is None else label
        super().__init__(self.describe(f"row {self.label}"))

    def describe(self, where: str) -> str:
        """The message with ``where`` (e.g. ``"data.csv: line 7"``) naming the cell's place."""
        if self.value is None:
            return f"{where}, time column {self.column!r}: the cell is empty; every row needs a time."
        return (
            f"{where}, time column {self.column!r}: {self.value!r} is not a time; write {SPELLINGS}, "
            "one spelling for the whole column."
        )


def _quarters(text: pd.Series) -> pd.Series:
    parts = text.str.extract(r"^(\d{4})[-\s]?[Qq]([1-4])$")
    months = (parts[1].astype(np.int64) - 1) * 3 + 1
    frame = pd.DataFrame({"year": parts[0].astype(np.int64), "month": months, "day": 1})
    return pd.to_datetime(frame)


def _iso(text: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(text, format="ISO8601", errors="coerce")
    except ValueError:  # several UTC offsets: compare them as instants
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)


def _inferred(text: pd.Series) -> pd.Series:
    with warnings.catch_warnings():  # "could not infer format": cells are then parsed one by one
        warnings.simplefilter("ignore", UserWarning)
        try:
            return pd.to_datetime(text, errors="coerce")
        except ValueError:
            return pd.to_datetime(text, errors="coerce", utc=True)


_YEAR = re.compile(r"^[+-]?\d{1,4}$")
_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
#: (pattern every cell must match, converter giving NaT for an impossible cell); the first cell
#: picks the spelling.
_TEXT: tuple[tuple[re.Pattern, Callable[[pd.Series], pd.Series]], ...] = (
    (_YEAR, lambda s: s.astype(np.int64)),
    (re.compile(r"^\d{4}[-\s]?[Qq][1-4]$"), _quarters),
    (
        re.compile(r"^\d{4}[-/]\d{1,2}$"),
        lambda s: pd.to_datetime(s.str.replace("/", "-"), format="%Y-%m", errors="coerce"),
    ),
    (re.compile(_ISO), _iso),
)


def is_text(values: pd.Series) -> bool:
    """True for a column of text (object or string dtype, not categorical)."""
    dtype = values.dtype
    return pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)


def parse_times(values: pd.Series, name: Any) -> pd.Series:
    """The time column ``values`` as datetimes or numbers (same index); raise on a bad cell.

    Parameters
    ----------
    values : pandas.Series
        Datetimes, periods, numbers, or text in one of the spellings of the module docstring.
    name : column name, for messages

    Returns
    -------
    pandas.Series
        ``datetime64`` (text dates, periods, datetimes) or numeric (numbers, text years).

    Raises
    ------
    TimeCellError
        The first missing cell, or the first cell that does not parse.

    Examples
    --------
    >>> parse_times(pd.Series(["1980-01", "1980-02"]), "month").dt.month.tolist()
    [1, 2]
    """
    name = str(name)
    dtype = values.dtype
    if isinstance(dtype, pd.PeriodDtype):
        values = values.dt.to_timestamp()
    elif isinstance(dtype, pd.CategoricalDtype):
        values = values.astype(object).astype("str") if values.notna().all() else values.astype(object)
    missing = np.flatnonzero(pd.isna(values).to_numpy())
    if missing.size:
        raise TimeCellError(name, int(missing[0]), None, values.index[missing[0]])
    if pd.api.types.is_bool_dtype(values.dtype):
        raise TimeCellError(name, 0, values.iloc[0], values.index[0])
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values
    return _parse_text(values, name)


def _parse_text(values: pd.Series, name: str) -> pd.Series:
    if values.dtype == object:  # mixed cells: anything that is not text is shown as written
        values = values.map(lambda v: v if isinstance(v, str) else repr(v))
    cells = values.str.strip()
    if cells.empty:
        return pd.Series(pd.to_datetime(cells), index=values.index, name=values.name)
    first = cells.iloc[0]
    for pattern, convert in _TEXT:
        if pattern.match(first):
            fits = _matches(cells, pattern)
            if not fits.all():
                _raise_at(values, name, int(np.flatnonzero(~fits)[0]))
            return _converted(values, name, cells, convert)
    return _converted(values, name, cells, _inferred)


def _converted(values: pd.Series, name: str, cells: pd.Series, convert: Callable) -> pd.Series:
    out = convert(cells)
    bad = pd.isna(out).to_numpy()
    if bad.any():
        _raise_at(values, name, int(np.flatnonzero(bad)[0]))
    return pd.Series(out.array, index=values.index, name=values.name)


def _matches(cells: pd.Series, pattern: re.Pattern) -> np.ndarray:
    """Which cells match ``pattern`` (anchored), with pyarrow's regex engine (fast on text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.match_substring_regex(pa.array(cells, from_pandas=True), pattern.pattern)
    return np.asarray(pc.fill_null(found, False)).astype(bool)


def _raise_at(values: pd.Series, name: str, row: int) -> None:
    raise TimeCellError(name, row, values.iloc[row], values.index[row])


def looks_like_time(values: pd.Series) -> bool:
    """True for datetime/period columns and text columns whose cells parse as dates.

    Integer-like text (``"1871"``, ``"00501"``) is not taken for dates here: without ``time=``
    it may as well be a code. Used to keep date columns out of the one-hot encoder.

    Examples
    --------
    >>> looks_like_time(pd.Series(["2020-01-31", "2020-02-29"])), looks_like_time(pd.Series(["a", "b"]))
    (True, False)
    """
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return True
    if not is_text(values):
        return False
    cells = values.dropna()
    cells = cells[cells.map(lambda v: isinstance(v, str))].iloc[:_SAMPLE].str.strip()
    if cells.empty or _matches(cells, _YEAR).any() or (cells.str.len() < 6).any():
        return False
    if not cells.str.contains(r"\d", regex=True).all():
        return False
    convert = next((c for p, c in _TEXT[1:] if p.match(cells.iloc[0])), _inferred)
    return bool(pd.notna(convert(cells)).mean() >= 0.9)  # a stray typo is still a date column


def date_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the columns of ``frame`` that hold dates (see :func:`looks_like_time`)."""
    return [str(c) for c in frame.columns if looks_like_time(frame[c])]


def find_time(frame: pd.DataFrame, time: Any, *, exclude: tuple = (), option: str = "--time") -> Any:
    """The time column: ``time`` when given, else the one column holding dates (or None).

    Several date columns and no ``time``: a :class:`~seqscale.errors.ParameterError` asking for one.

    Examples
    --------
    >>> find_time(pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "y": [1.0, 2.0]}), None)
    'date'
    """
    if time is not None:
        return time
    found = [c for c in date_columns(frame) if c not in exclude]
    if len(found) > 1:
        raise ParameterError(
            f"columns {found} hold dates; name the one that orders the rows with {option} COL "
            "(date columns are never features)."
        )
    return found[0] if found else None


def with_time(frame: pd.DataFrame, time: Any) -> pd.DataFrame:
    """``frame`` with its time column parsed (a shallow copy when anything changed).

    Examples
    --------
    >>> with_time(pd.DataFrame({"t": ["1959Q1", "1959Q2"]}), "t")["t"].dt.month.tolist()
    [1, 4]
    """
    if time is None or not isinstance(frame, pd.DataFrame) or time not in frame.columns:
        return frame
    parsed = parse_times(frame[time], time)
    if parsed is frame[time]:
        return frame
    out = frame.copy(deep=False)
    out[time] = parsed
    return out


def parse_cutoff(value: Any, times: pd.Series, name: Any, option: str = "--train-until") -> Any:
    """``value`` (text or number) as a time comparable with the parsed column ``times``.

    A numeric column takes a number (``1950`` is the year 1950 in a column of years); a datetime
    column takes any spelling :func:`parse_times` reads (``1950`` is then 1950-01-01).

    Examples
    --------
    >>> parse_cutoff("1950", pd.Series([1949, 1950, 1951]), "year")
    1950
    """
    text = str(value).strip()
    if pd.api.types.is_numeric_dtype(times.dtype):
        try:
            number = float(text)
        except ValueError:
            raise ParameterError(
                f"{option} {text!r}: the time column {name!r} holds numbers (years or steps); "
                "give a number such as 1950."
            ) from None
        return int(number) if number.is_integer() else number
    try:
        parsed = parse_times(pd.Series([text]), option).iloc[0]
    except TimeCellError:
        raise ParameterError(f"{option} {text!r} is not a time; write {SPELLINGS}.") from None
    if not isinstance(parsed, pd.Timestamp):
        parsed = pd.Timestamp(year=int(parsed), month=1, day=1)
    tz = getattr(times.dtype, "tz", None)
    if tz is not None and parsed.tzinfo is None:
        parsed = parsed.tz_localize(tz)
    return parsed
