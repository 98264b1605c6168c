"""Strict CSV/Parquet reading, record-batch streaming and atomic writing.

pandas' defaults are lenient: they pad ragged rows, turn a missing header into column names and read
a semicolon file as one column. seqscale is strict instead, and every problem is a
:class:`~seqscale.errors.DataFileError` that names the file (and the line and column when there is
one) and says what to do.

Rules for CSV files (``.csv``, ``.tsv``, ``.txt``):

* UTF-8 text (a byte-order mark is fine); the delimiter (``,`` ``;`` tab ``|``) is detected from the
  header and the first lines. A file whose header contains none of them has one column.
* A header row is required, with unique, non-empty names.
* Every row has as many fields as the header; blank lines are skipped.
* A column is numeric when all its non-missing cells are numbers (int64 without missing cells, else
  float64); a column of mostly numbers with a stray word is an error; other columns stay text.
  Missing cells: empty, ``NA``, ``nan``, ``NULL``, ``None`` ... (the pandas list).
* float64 values round-trip exactly: written with the shortest repr, parsed correctly rounded.

Parquet files (``.parquet``, ``.pq``) are read with page checksums verified and written with them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from seqscale.errors import DataFileError, InputError, InputTypeError, ParameterError
from seqscale.files import csv_reader as _csv
from seqscale.frames.time_columns import TimeCellError, with_time
from seqscale.util.atomic import atomic_path

__all__ = [
    "batch_to_numpy",
    "count_rows",
    "iter_batches",
    "line_numbers",
    "parse_time_column",
    "read_header",
    "read_table",
    "where_row",
    "write_table",
]

PathLike = str | os.PathLike[str]
#: Bytes of CSV text parsed at a time when streaming: peak memory is a few times this.
_CSV_CHUNK_BYTES = 16 << 20
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _format(path: Path) -> str:
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataFileError(
            f"{path}: unsupported file extension {path.suffix or '(none)'!r}; seqscale reads and "
            "writes .csv, .tsv, .txt (CSV) and .parquet, .pq (Parquet). Rename or convert the file."
        )
    return kind


def existing_file(path: PathLike) -> tuple[Path, str]:
    path = Path(path)
    kind = _format(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file; check the path.")
    if not path.is_file():
        raise DataFileError(f"{path} is not a file (a directory?); give the path of one data file.")
    return path, kind


def _pick(path: Path, names: Sequence[str], wanted: Iterable[str] | None, what: str) -> list[str]:
    if wanted is None:
        return list(names)
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise DataFileError(
            f"{path}: unknown {what} {unknown}; the file has columns {list(names)}. "
            "Check the spelling (names are case-sensitive)."
        )
    return wanted


def parquet_file(path: Path) -> pq.ParquetFile:
    try:
        handle = pq.ParquetFile(path, page_checksum_verification=True)
        names = handle.schema_arrow.names
    except PermissionError as err:
        raise DataFileError(f"{path} cannot be read ({err.strerror}); check its permissions.") from None
    except (pa.ArrowException, OSError) as err:
        raise _corrupt(path, err) from None
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataFileError(
            f"{path}: duplicate column names {duplicates}; make them unique when writing the file."
        )
    clash = _index_named_like_a_column(handle.schema_arrow)
    if clash is not None:
        raise DataFileError(
            f"{path}: the stored pandas index {clash!r} has the same name as a column; rename one "
            "of them (or write the file without its index) so every column name is unique."
        )
    return handle


def _index_named_like_a_column(schema: pa.Schema) -> str | None:
    """The name of a stored pandas index that is also a column's name, if any."""
    meta = schema.pandas_metadata or {}
    stored = {c.get("field_name"): c.get("name") for c in meta.get("columns", []) if isinstance(c, dict)}
    for field in meta.get("index_columns", []):
        name = stored.get(field) if isinstance(field, str) else None
        if name is not None and name != field and name in schema.names:
            return name
    return None


def _corrupt(path: Path, err: BaseException) -> DataFileError:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return DataFileError(
        f"{path} is not a valid Parquet file (truncated or corrupt: {reason}); re-create or re-download it."
    )


def _default_index(index: pd.Index) -> bool:
    return (
        isinstance(index, pd.RangeIndex) and index.name is None
        and index.start == 0 and index.step == 1
    )  # fmt: skip


def read_table(
    path: PathLike,
    *,
    columns: Iterable[str] | None = None,
    numeric: bool | Iterable[str] | None = None,
    parse_dates: Iterable[str] | None = None,
    time: str | None = None,
    raw: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file strictly into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.tsv``/``.txt`` (CSV, delimiter detected) or ``.parquet``/``.pq``.
    columns : list of str, optional
        Columns to return, in this order (default: all).
    numeric : bool or list of str, optional
        Columns that must be numeric: any non-number cell is an error. ``True``: every returned
        column. Default: numeric-looking columns are detected (see the module rules).
    parse_dates : list of str, optional
        Text columns of ISO dates to parse to ``datetime64``.
    time : str, optional
        The time column, parsed as every command parses it: datetimes, integer years (kept as
        numbers), year-months (``1980-01``), quarters (``1959Q1``), ISO dates and date-times. A
        missing or unparsable cell is an error naming its line.
    raw : list of str, optional
        CSV columns returned as text exactly as written (``00501``, ``5.10``, ``1e3``, ``n/a``),
        so that writing them back changes nothing (Parquet keeps its types anyway).

    Returns
    -------
    pandas.DataFrame
        Default ``RangeIndex``; a non-default index stored in a Parquet file becomes a column.

    Raises
    ------
    DataFileError
        Missing file, unsupported extension, no header, ragged row, non-numeric cell, unknown
        column, invalid UTF-8, corrupt Parquet... The message names the file, line and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("day;temp\\nmon;12.5\\ntue;\\n")
    >>> read_table(path)
       day  temp
    0  mon  12.5
    1  tue   NaN
    """
    path, kind = existing_file(path)
    if kind == "parquet":
        frame = _read_parquet(path, columns, numeric)
    else:
        frame = _read_csv(path, columns, numeric, parse_dates, raw)
    dates = [] if parse_dates is None else parse_dates
    for name in _pick(path, list(frame.columns), dates, "parse_dates column"):
        try:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        except (ValueError, TypeError) as err:
            raise DataFileError(
                f"{path}: column {name!r} is not ISO dates (YYYY-MM-DD[ HH:MM:SS]): {err}. "
                "Fix the cells or do not pass it in parse_dates."
            ) from None
    if time is not None:
        _pick(path, list(frame.columns), [time], "time column")
        frame = parse_time_column(path, frame, time)
    return frame


def parse_time_column(path: PathLike, frame: pd.DataFrame, time: str | None) -> pd.DataFrame:
    """``frame`` (read from ``path``) with its time column parsed; a bad cell names its line.

    The frame's index must still be the file's row positions (as :func:`read_table` returns it).
    """
    try:
        return with_time(frame, time)
    except TimeCellError as bad:
        where = where_row(path, _format(Path(path)), bad.row)
        raise DataFileError(bad.describe(f"{path}: {where}")) from None


def where_row(path: PathLike, kind: str, row: int) -> str:
    """Where the 0-based data row ``row`` of a file is: ``"line N"`` (CSV) or ``"row N"``."""
    if kind == "csv":
        return _csv.where_row(Path(path), _csv.sniff(Path(path)), row)
    return f"row {row + 1}"


def line_numbers(path: PathLike, rows: Iterable[int]) -> dict[int, str]:
    """``{row: "line N"}`` (CSV) or ``{row: "row N"}`` (Parquet, 1-based) for 0-based data rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a\\n1\\n\\n2\\n")
    >>> line_numbers(path, [0, 1])
    {0: 'line 2', 1: 'line 4'}
    """
    path, kind = existing_file(path)
    rows = sorted({int(r) for r in rows})
    if kind != "csv":
        return {r: f"row {r + 1}" for r in rows}
    lines = _csv.line_numbers(path, _csv.sniff(path), rows)
    return {r: f"line {lines[r]}" if r in lines else f"data row {r + 1}" for r in rows}


def _modes(path: Path, picked: list[str], numeric, parse_dates, raw=None) -> dict[str, str]:
    modes = dict.fromkeys(picked, "infer")
    if numeric is True:
        modes = dict.fromkeys(picked, "numeric")
    elif numeric:
        modes.update(dict.fromkeys(_pick(path, picked, numeric, "numeric column"), "numeric"))
    if parse_dates is not None:
        modes.update(dict.fromkeys(_pick(path, picked, parse_dates, "parse_dates column"), "text"))
    if raw is not None:
        modes.update(dict.fromkeys(_pick(path, picked, raw, "raw column"), "raw"))
    return modes


def _read_csv(path: Path, columns, numeric, parse_dates, raw=None) -> pd.DataFrame:
    layout = _csv.sniff(path)
    picked = _pick(path, layout.header, columns, "column")
    modes = _modes(path, picked, numeric, parse_dates, raw)
    table = _csv.read_strings(path, layout)
    arrays = []
    for name in picked:
        try:
            arrays.append(_csv.convert(table.column(name), modes[name]))
        except _csv.BadCell as bad:
            raise _csv.locate_bad_cell(path, layout, name, bad) from None
    frame = pa.table(arrays, names=picked).to_pandas()
    if table.num_rows:
        _csv.check_last_row(path, layout, table.slice(table.num_rows - 1).to_pylist()[0].values())
    return frame


def _read_parquet(path: Path, columns, numeric) -> pd.DataFrame:
    handle = parquet_file(path)
    picked = _pick(path, handle.schema_arrow.names, columns, "column")
    try:
        frame = handle.read(columns=picked if columns is not None else None).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise _corrupt(path, err) from None
    if not _default_index(frame.index):
        frame = frame.reset_index()
    must = picked if numeric is True else _pick(path, picked, numeric or [], "numeric column")
    for name in must:
        dtype = frame[name].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataFileError(
                f"{path}: column {name!r} has type {dtype}, not a number; "
                "convert it when writing the file or drop it from `numeric`."
            )
    return frame


def write_table(frame: pd.DataFrame, path: PathLike) -> Path:
    """Write ``frame`` to CSV or Parquet (by extension), atomically.

    A partial file is never left behind: the data goes to a temporary file beside ``path`` that is
    renamed onto it once complete. CSV gets a header and the shortest float repr (exact float64
    round trip); Parquet gets page checksums. The index is written as a column only when it is
    named or not the default ``0..n-1`` range.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_table(pd.DataFrame({"x": [0.1, 1 / 3]}), path)
    >>> print(path.read_text(), end="")
    x
    0.1
    0.3333333333333333
    """
    path = Path(path)
    kind = _format(path)
    if not isinstance(frame, pd.DataFrame):
        raise InputTypeError(f"write_table needs a pandas DataFrame, got {type(frame).__name__}.")
    if not path.parent.is_dir():
        raise DataFileError(f"cannot write {path}: folder {path.parent} does not exist; create it.")
    table = _with_index(frame, path, kind)
    try:
        with atomic_path(path) as tmp:
            if kind == "parquet":
                arrow = pa.Table.from_pandas(table.rename(columns=str), preserve_index=False)
                pq.write_table(arrow, tmp, write_page_checksum=True)
            else:
                sep = "\t" if path.suffix.lower() == ".tsv" else ","
                table.to_csv(tmp, sep=sep, index=False, lineterminator="\n", encoding="utf-8")
    except (pa.ArrowException, OSError) as err:
        raise DataFileError(f"cannot write {path}: {err}") from None
    return path


def _with_index(frame: pd.DataFrame, path: Path, kind: str) -> pd.DataFrame:
    try:
        frame = frame if _default_index(frame.index) else frame.reset_index()
    except ValueError as err:  # an index name that is also a column name
        raise DataFileError(f"cannot write {path}: {err}; rename the index or the column.") from None
    names = [str(name) for name in frame.columns]
    if isinstance(frame.columns, pd.MultiIndex) or len(set(names)) != len(names):
        raise DataFileError(f"cannot write {path}: column names must be unique, single-level text.")
    if kind == "csv" and names and all(_csv.NUMBER_RE.match(name) for name in names):
        raise DataFileError(
            f"cannot write {path}: the column names {names[:5]} look like numbers and would be "
            "read back as data; rename them (e.g. frame.add_prefix('x'))."
        )
    return frame


def iter_batches(
    path: PathLike,
    *,
    batch_size: int = 1_000_000,
    columns: Iterable[str] | None = None,
    raw: Iterable[str] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV or Parquet file as ``pyarrow.RecordBatch`` objects of ``batch_size`` rows max.

    Memory stays bounded for larger-than-memory files. CSV columns follow the :func:`read_table`
    rules, decided on the first block: numeric columns are float64 in every batch (a later
    non-number is a ``DataFileError`` naming its line), other columns text. Parquet keeps its types.
    Convert a batch with :func:`batch_to_numpy`. CSV columns named in ``raw`` stay text exactly
    as written (for writing them back unchanged). For CSV, ``on_read`` is called once the caller
    is done with each batch, with the number of bytes of the file it came from (a progress bar
    by bytes: the file size is its total).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b\\n1,2\\n3,4\\n5,6\\n")
    >>> [batch.num_rows for batch in iter_batches(path, batch_size=2)]
    [2, 1]
    """
    path, kind = existing_file(path)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if kind == "parquet":
        handle = parquet_file(path)
        picked = _pick(path, handle.schema_arrow.names, columns, "column")
        return _parquet_batches(path, handle, picked, batch_size)
    layout = _csv.sniff(path)
    picked = _pick(path, layout.header, columns, "column")
    raw = [] if raw is None else _pick(path, picked, raw, "raw column")
    return _csv_batches(path, layout, picked, batch_size, raw, on_read)


def read_header(path: PathLike) -> list[str]:
    """The column names of a CSV or Parquet file, without reading its data."""
    path, kind = existing_file(path)
    if kind == "parquet":
        return list(parquet_file(path).schema_arrow.names)
    return list(_csv.sniff(path).header)


def _parquet_batches(path: Path, handle, picked, batch_size) -> Iterator[pa.RecordBatch]:
    # One row group at a time: ParquetFile.iter_batches can keep most of the file's decoded
    # pages alive (peak memory near the file size); reading row groups bounds it by one group.
    try:
        meta = handle.metadata
        for i in range(meta.num_row_groups):
            if meta.row_group(i).num_rows > 4 * batch_size:  # a huge group: stream inside it
                yield from handle.iter_batches(batch_size=batch_size, columns=picked, row_groups=[i])
                continue
            table = handle.read_row_group(i, columns=picked)
            yield from table.to_batches(max_chunksize=batch_size)
            del table
    except (pa.ArrowException, OSError) as err:
        raise _corrupt(path, err) from None


def _csv_batches(
    path: Path, layout, picked, batch_size, as_written=(), on_read=None
) -> Iterator[pa.RecordBatch]:
    raw = [layout.raw_header[layout.header.index(name)] for name in picked]
    block = int(min(max(batch_size * layout.row_bytes * 1.1, 1 << 20), _CSV_CHUNK_BYTES))
    modes = {name: "raw" if name in as_written else "infer" for name in picked}
    offset, last = 0, None
    on_read = on_read or (lambda n: None)
    for batch, size in _csv.stream_tables(path, layout, raw, block):
        if not batch.num_rows:  # blank lines only: they must not decide a column's type
            on_read(size)
            continue
        arrays = []
        for name, raw_name in zip(picked, raw):
            try:
                array = _csv.convert(batch.column(raw_name), modes[name])
            except _csv.BadCell as bad:
                bad.row += offset
                raise _csv.locate_bad_cell(path, layout, name, bad) from None
            if modes[name] == "infer":  # the first block decides the column's type
                modes[name] = "text" if pa.types.is_string(array.type) else "float"
                array = array.cast(pa.float64(), safe=False) if modes[name] == "float" else array
            arrays.append(array)
        offset += batch.num_rows
        last = batch.slice(batch.num_rows - 1).to_pylist()[0].values() if batch.num_rows else last
        out = pa.Table.from_arrays(arrays, names=picked).combine_chunks().to_batches()
        done, rows = 0, 0
        for part in out:
            for start in range(0, part.num_rows, batch_size):
                piece = part.slice(start, batch_size)
                yield piece
                rows += piece.num_rows
                share = size * rows // batch.num_rows  # this chunk's bytes, shared by rows
                on_read(share - done)
                done = share
    if last is not None:
        _csv.check_last_row(path, layout, last)


def batch_to_numpy(
    batch: pa.RecordBatch, columns: Sequence[str] | None = None, dtype=np.float64
) -> np.ndarray:
    """Return the numeric ``columns`` of a record batch as a 2D ``(rows, columns)`` array.

    Nulls become NaN. A single float64 column without nulls is returned without copying (a
    read-only view of the Arrow buffer); several columns are copied once into a new array.

    Examples
    --------
    >>> batch = pa.RecordBatch.from_pydict({"a": [1.0, 2.0], "b": [3, None]})
    >>> batch_to_numpy(batch)
    array([[ 1.,  3.],
           [ 2., nan]])
    """
    names = batch.schema.names
    columns = list(names) if columns is None else list(columns)
    unknown = [name for name in columns if name not in names]
    if unknown:
        raise InputError(f"unknown columns {unknown}; the batch has {names}.")
    arrays = [batch.column(names.index(name)) for name in columns]
    for name, array in zip(columns, arrays):
        if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
            raise InputTypeError(f"column {name!r} has type {array.type}, not a number.")
    dtype = np.dtype(dtype)
    if len(arrays) == 1 and arrays[0].type == pa.float64() and dtype == np.float64:
        if arrays[0].null_count == 0:
            return arrays[0].to_numpy(zero_copy_only=True).reshape(-1, 1)
    out = np.empty((batch.num_rows, len(arrays)), dtype=dtype)
    for j, array in enumerate(arrays):
        out[:, j] = array.to_numpy(zero_copy_only=False)
    return out


def count_rows(path: PathLike) -> int | None:
    """Number of data rows from Parquet metadata (cheap); ``None`` for CSV (unknown up front).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> count_rows(write_table(pd.DataFrame({"a": [1, 2, 3]}), path))
    3
    """
    path, kind = existing_file(path)
    if kind != "parquet":
        return None
    return parquet_file(path).metadata.num_rows
