"""Larger-than-memory CSV and Parquet files: fit and transform batch by batch.

:func:`fit_file` streams the file as record batches (:func:`seqscale.files.io.iter_batches`), copies the
numeric columns of each batch once into a reused ``(rows, columns)`` float64 buffer, and folds the
batch's :class:`~seqscale.core.stats.Moments` into the running ones (Chan's update), so the fit equals
the in-memory fit to rounding while memory stays bounded by the batch size. For Parquet a reader
thread decodes the next row group while the current one is reduced (one more batch in memory).
:func:`transform_file` streams a file through a fitted scaler and writes the result — Parquet with
page checksums or CSV with shortest round-trip floats — to a temporary file beside the target,
renamed into place only once complete.

Examples
--------
>>> import tempfile, pathlib, numpy as np, pandas as pd
>>> from seqscale.files import io
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> frame = pd.DataFrame({"x": np.arange(10.0), "city": ["a", "b"] * 5})
>>> _ = io.write_table(frame, folder / "train.parquet")
>>> scaler = fit_file(folder / "train.parquet", "minmax", batch_size=4)
>>> scaler.feature_names_in_.tolist(), scaler.data_max_.tolist()
(['x'], [9.0])
>>> _ = transform_file(scaler, folder / "train.parquet", folder / "scaled.csv")
>>> io.read_table(folder / "scaled.csv").tail(1)
     x city
9  1.0    b
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from seqscale.core import kernels as _kernels
from seqscale.core.stats import Moments
from seqscale.engines import GroupStats, InOrder, _apply_block, _block_stats
from seqscale.errors import (
    DataFileError,
    FeatureMismatchError,
    InputTypeError,
    ParameterError,
)
from seqscale.files import io as _io
from seqscale.scalers import build
from seqscale.scalers import rows as _rows
from seqscale.scalers.estimators import SCALERS
from seqscale.scalers.registry import DEFAULT_METHOD
from seqscale.util.atomic import atomic_path, check_output

__all__ = ["fit_file", "transform_file"]

PathLike = str | os.PathLike[str]
_OUTPUTS = {
    ".parquet": ("parquet", None),
    ".pq": ("parquet", None),
    ".csv": ("csv", ","),
    ".txt": ("csv", ","),
    ".tsv": ("csv", "\t"),
}


def _scaler_for(method: Any, params: dict) -> Any:
    if not isinstance(method, str):
        if params:
            raise ParameterError("pass scaler parameters to the scaler or as keywords, not both.")
        if not build.is_scaler(method):
            raise ParameterError(f"method={method!r}: give a method name or a seqscale scaler.")
        return method
    if method not in SCALERS:
        raise ParameterError(f"method={method!r} is not one of {sorted(SCALERS)}.")
    try:
        return SCALERS[method](**params)
    except TypeError as err:
        raise ParameterError(f"{SCALERS[method].__name__}: {err}.") from None


def _is_number(field_type: pa.DataType) -> bool:
    return pa.types.is_integer(field_type) or pa.types.is_floating(field_type)


def _numeric(path: Path, schema: pa.Schema, wanted: Sequence[str] | None) -> list[str]:
    """The numeric columns of ``schema`` (all of them, or the ``wanted`` ones, which must be)."""
    if wanted is None:
        found = [f.name for f in schema if _is_number(f.type)]
        if not found:
            raise DataFileError(f"{path} has no numeric column to scale; columns: {schema.names}.")
        return found
    bad = [name for name in wanted if not _is_number(schema.field(name).type)]
    if bad:
        raise InputTypeError(
            f"{path}: column(s) {bad} are not numeric "
            f"({[str(schema.field(n).type) for n in bad]}); "
            "leave them out of `columns` (text columns pass through transform_file unchanged)."
        )
    return list(wanted)


class _Buffer:
    """A reused 2D float64 buffer that receives the numeric columns of each batch (one copy)."""

    def __init__(self, n_columns: int, order: str = "C") -> None:
        self.n_columns, self.order = n_columns, order
        self.data = np.empty((0, n_columns), dtype=np.float64, order=order)

    def rows(self, n: int) -> np.ndarray:
        if self.data.shape[0] < n:
            self.data = np.empty((n, self.n_columns), dtype=np.float64, order=self.order)
        return self.data[:n]

    def fill(self, batch: pa.RecordBatch, indices: Sequence[int]) -> tuple[np.ndarray, list]:
        """Copy columns ``indices`` of ``batch`` into the buffer; returns (rows, null masks)."""
        out = self.rows(batch.num_rows)
        nulls = []
        for j, i in enumerate(indices):
            array = batch.column(i)
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            if array.type == pa.float64() and array.buffers()[1] is not None:
                values = np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array) + array.offset)[
                    array.offset :
                ]
            else:
                values = array.to_numpy(zero_copy_only=False)
            out[:, j] = values
            mask = None
            if array.null_count:
                mask = array.is_null().to_numpy(zero_copy_only=False)
                out[mask, j] = np.nan
            nulls.append(mask)
        return out, nulls


class _Progress:
    """A progress bar on stderr, or nothing: by bytes for CSV (the file size is the total, so it
    shows an ETA), by rows for Parquet (the metadata holds the row count).

    Counts reported before the bar starts (the first batch is read to learn the columns) are
    kept and shown when it does.
    """

    def __init__(self, enabled: bool, path: Path, label: str) -> None:
        self.enabled, self.path, self.label = enabled, path, label
        self.by_bytes = path.suffix.lower() not in (".parquet", ".pq")
        self._bar: Any = None
        self._task: Any = None
        self._pending = 0

    def read(self, n_bytes: int) -> None:
        """Bytes of the file consumed (the ``on_read`` of :func:`seqscale.io.iter_batches`)."""
        if self.by_bytes:
            self._advance(n_bytes)

    def rows(self, n_rows: int) -> None:
        if not self.by_bytes:
            self._advance(n_rows)

    def _advance(self, n: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            self._pending += n
        else:
            self._bar.advance(self._task, n)

    def __enter__(self) -> _Progress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        total = self.path.stat().st_size if self.by_bytes else _io.count_rows(self.path)
        count = DownloadColumn() if self.by_bytes else MofNCompleteColumn()
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            count,
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # stdout keeps only the command's results
        )
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=total, completed=self._pending)
        return self

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if self._bar is None:
            return
        if kind is None and self.by_bytes:  # the header line is read but belongs to no batch
            self._bar.update(self._task, completed=self._bar.tasks[0].total)
        self._bar.stop()


def _first(path: Path, batches: Iterator[pa.RecordBatch]) -> pa.RecordBatch:
    try:
        return next(batches)
    except StopIteration:
        raise DataFileError(f"{path} holds no data rows; nothing to fit or scale.") from None


def _batches(
    path: Path,
    batch_size: int,
    columns: Iterable[str] | None,
    keep: Sequence[str] | None = None,
    progress: _Progress | None = None,
) -> Iterator:
    """Record batches; with ``keep`` (the scaled names), every other CSV column stays as written."""
    raw = None
    if keep is not None and path.suffix.lower() not in (".parquet", ".pq"):
        header = columns if columns is not None else _io.read_header(path)
        raw = [name for name in header if name not in set(keep)]
    on_read = None if progress is None else progress.read
    return iter(_io.iter_batches(path, batch_size=batch_size, columns=columns, raw=raw, on_read=on_read))


def _prefetched(batches: Iterator[pa.RecordBatch], depth: int = 1) -> Iterator[pa.RecordBatch]:
    """The same batches, read ``depth`` ahead by a reader thread.

    A fit is a read plus a cheap reduction: pyarrow decodes the next row group (without the GIL)
    while the current one is reduced, instead of the two taking turns. Errors are raised here, in
    order; memory grows by at most ``depth`` batches.
    """
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def read() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as err:  # handed to the consumer, raised in its thread
            slots.put(err)

    reader = threading.Thread(target=read, name="seqscale-reader", daemon=True)
    reader.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a blocked put finish so the thread ends
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.1)
        reader.join()


def _parquet_numeric(path: Path, columns: Sequence[str] | None) -> list[str] | None:
    """For Parquet, pick the numeric columns from the footer so text columns are never read."""
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return None  # iter_batches reports the problem with its own message
    if columns is not None and any(c not in schema.names for c in columns):
        return None
    return _numeric(path, schema, columns)


def fit_file(
    path: PathLike,
    method: Any = DEFAULT_METHOD,
    *,
    columns: Sequence[str] | None = None,
    sample_weight: str | None = None,
    groups: str | None = None,
    batch_size: int = 1_000_000,
    progress: bool = False,
    **params: Any,
) -> Any:
    """Fit a scaler on a CSV or Parquet file too large for memory, one record batch at a time.

    Parameters
    ----------
    path : str or path-like
        ``.parquet``/``.pq`` or ``.csv``/``.tsv``/``.txt`` (read strictly, see :mod:`seqscale.files.io`).
    method : {"minmax", "standard", "robust", "maxabs", "meanabs"} or an unfitted seqscale scaler
        The default is the library's (:data:`seqscale.scalers.registry.DEFAULT_METHOD`), the
        same as ``seqscale fit`` without a plan.
    columns : list of str, optional
        The numeric columns to fit (default: every numeric column; text columns are skipped).
    sample_weight : str, optional
        The name of a numeric column holding each row's weight (finite, non-negative; as
        ``sample_weight`` of ``fit``). It is not scaled, and not a feature.
    groups : str, optional
        The name of a series id column: one set of coefficients per series, as
        ``scaler.fit(frame, groups=groups)`` on the whole file, whatever the row order (each
        batch's statistics are merged by id), for every method. Memory: one batch plus the
        per-series statistics (about 50 bytes per series and column; ``RobustScaler`` keeps
        its exact quantile sketches, about 24 bytes per value, as in memory).
    batch_size : int, default=1_000_000
        Rows per batch; peak memory is about ``batch_size * len(columns) * 8`` bytes on top of
        the reader's own batch.
    progress : bool, default=False
        Show a progress bar on stderr: by bytes for CSV, by rows for Parquet, with an ETA.
    **params
        Scaler parameters, e.g. ``feature_range=(-1, 1)`` or ``bounds={"load": (0, 100)}``.

    Returns
    -------
    The fitted scaler; ``feature_names_in_`` are the column names. Statistics equal the in-memory
    fit to rounding (about 1e-15 relative); ``MeanAbsScaler``'s mean of ``|x|`` too;
    ``RobustScaler`` merges quantile sketches, equal to the in-memory quantiles exactly while each
    column (per series: each series' column) has at most 200,000 values, within the recorded rank
    error past it (``scaler.exact_``).

    Raises
    ------
    DataFileError
        Missing, malformed or empty file, unknown column, no numeric column.
    InputTypeError
        A requested column is not numeric.
    InputError
        A column holds +-inf.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from seqscale.files import io
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "load.csv"
    >>> _ = io.write_table(pd.DataFrame({"load": [1.0, 2.0, 3.0, 4.0]}), path)
    >>> fit_file(path, "standard", batch_size=3).mean_.tolist()
    [2.5]
    """
    path = Path(path)
    if isinstance(columns, str):
        columns = [columns]
    est = _scaler_for(method, params)
    build.check_params(est)
    aside = [c for c in (sample_weight, groups) if c is not None]  # read, but not features
    picked = _parquet_numeric(path, None if columns is None else list(columns))
    wanted = picked if picked is not None else None if columns is None else list(columns)
    if wanted is not None:
        wanted = [c for c in wanted if c not in aside]
    read = wanted if wanted is None or not aside else [*wanted, *aside]
    bar = _Progress(progress, path, f"fit {path.name}")
    batches = _batches(path, batch_size, read, progress=bar)
    if picked is not None:  # Parquet: the next row group is decoded while this one is reduced
        batches = _prefetched(batches)
    first = _first(path, batches)
    names = [n for n in _numeric(path, first.schema, wanted) if n not in aside]
    indices = [first.schema.get_field_index(n) for n in names]
    w_index = None if sample_weight is None else _weight_index(path, first.schema, sample_weight)
    g_index = None if groups is None else _id_index(path, first.schema, groups)
    mask_value = getattr(est, "mask_value", None)
    extra = build.extra_statistic(est)
    buffer = _Buffer(len(names))
    total, n_rows, row0 = Moments.empty(len(names)), 0, 0
    merged, per_series = InOrder(), InOrder()  # extra statistics and series: log2(batches) merges
    reader = contextlib.closing(batches) if hasattr(batches, "close") else contextlib.nullcontext()
    # the reader thread keeps the other core busy: reduce on this one (same moments either way)
    prefetching = picked is not None and g_index is None
    reduce_here = _kernels.one_thread() if prefetching else contextlib.nullcontext()
    with reader, bar, reduce_here:
        for batch in _chain(first, batches):  # an error stops the reader thread too
            weight = None if w_index is None else _batch_weights(batch, w_index, sample_weight, row0)
            if g_index is not None:
                ids = _batch_ids(path, batch, g_index, groups, row0)
                rows, _ = buffer.fill(batch, indices)
                per_series.add(GroupStats.from_rows(rows, ids, mask_value, weight, extra))
                row0 += batch.num_rows
                bar.rows(batch.num_rows)
                continue
            row0 += batch.num_rows
            plain = extra is None and mask_value is None and weight is None
            direct = _column_moments(batch, indices) if plain else None
            if direct is not None:  # float64 columns without nulls: no copy at all
                moments, kept = direct, batch.num_rows
            else:
                rows, _ = buffer.fill(batch, indices)
                moments, kept, rows, weight = _block_stats(rows, mask_value, weight)
            total, n_rows = total.merge(moments), n_rows + kept
            if extra is not None:  # the method's extra statistic (quantile sketch, mean |x|)
                merged.add(extra.from_rows(rows, None, 1, weight))
            bar.rows(batch.num_rows)
    series = per_series.result(GroupStats.empty(len(names)))
    if (series.n_rows if g_index is not None else n_rows) == 0:
        raise DataFileError(f"{path} holds no data rows (or only padding rows); nothing to fit.")
    build.start_fit(est, names)
    if g_index is not None:
        return build.from_group_statistics(est, series, weighted=w_index is not None)
    return build.from_statistics(est, total, n_rows, merged.result())


def _id_index(path: Path, schema: pa.Schema, name: str) -> int:
    """Position of the series id column, which must exist."""
    if name not in schema.names:
        raise DataFileError(f"{path}: groups={name!r} names no column; columns: {schema.names}.")
    return schema.get_field_index(name)


def _batch_ids(
    path: Path, batch: pa.RecordBatch, index: int, name: str, row0: int, numeric: bool = False
) -> np.ndarray:
    """The series ids of one batch (whose first data row is ``row0``); none may be missing.

    ``numeric``: the fitted ids are numbers, so ids kept as written (CSV text) are read as numbers.
    """
    column = batch.column(index)
    if numeric and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        with contextlib.suppress(pa.ArrowInvalid):  # not numbers: left as text (unseen ids)
            column = column.cast(pa.float64())
    if column.null_count:
        first = row0 + int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataFileError(f"{path}: the id column {name!r} is empty at data row {first} (counted from 0).")
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    ids = column.to_numpy(zero_copy_only=False)
    if ids.dtype.kind == "f" and np.all(np.isfinite(ids)) and np.all(ids == np.round(ids)):
        return ids.astype(np.int64)  # whole numbers (a CSV column is read as float64): integer ids
    return ids


def _weight_index(path: Path, schema: pa.Schema, name: str) -> int:
    """Position of the weight column, which must exist and be numeric."""
    if name not in schema.names:
        raise DataFileError(f"{path}: sample_weight={name!r} names no column; columns: {schema.names}.")
    if not _is_number(schema.field(name).type):
        raise InputTypeError(f"{path}: the weight column {name!r} is {schema.field(name).type}, not numeric.")
    return schema.get_field_index(name)


def _batch_weights(batch: pa.RecordBatch, index: int, name: str, row0: int) -> np.ndarray:
    """The weight column of one batch (whose first data row is ``row0``) as float64, checked:
    no missing, negative or infinite values."""
    column = batch.column(index)
    weight = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    if column.null_count:
        weight[np.asarray(column.is_null().to_numpy(zero_copy_only=False))] = np.nan
    _rows.check_weights(weight, f"weight column {name!r} (data rows counted from 0)", row0)
    return weight


def _column_moments(batch: pa.RecordBatch, indices: list[int]) -> Moments | None:
    """Statistics read straight from the Arrow buffers of float64 columns without nulls, the
    means' rounding residuals kept for the merges."""
    columns = [batch.column(i) for i in indices]
    if any(c.null_count or c.type != pa.float64() for c in columns):
        return None
    parts = [Moments.from_array(c.to_numpy(zero_copy_only=True).reshape(-1, 1)) for c in columns]
    return Moments.side_by_side(parts)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


# ---------------------------------------------------------------------------- transform
def _open_writer(kind: str, target: Path, schema: pa.Schema, delimiter: str | None) -> Any:
    """A writer with ``write_batch`` and ``close`` (Parquet with page checksums, or CSV)."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(target, schema, write_page_checksum=True)
    import pyarrow.csv as pacsv

    # an empty cell would make a blank line (skipped when read) in a one-column file
    null = "NA" if len(schema) == 1 else ""
    header = io.StringIO()  # pyarrow quotes every name; write the header as it was read
    csv.writer(header, delimiter=delimiter, lineterminator="\n").writerow(schema.names)
    with Path(target).open("w", encoding="utf-8", newline="") as handle:
        handle.write(header.getvalue())
    sink = pa.OSFile(str(target), "ab")
    writers = {
        style: pacsv.CSVWriter(
            sink,
            schema,
            write_options=pacsv.WriteOptions(
                delimiter=delimiter, quoting_style=style, null_string=null, include_header=False
            ),
        )
        for style in ("none", "needed")
    }
    return _CsvSink(writers, sink, delimiter)


class _CsvSink:
    """Appends batches to a CSV file, quoting text cells only in batches where one needs it.

    pyarrow quotes either every text cell or none; a batch whose text holds no delimiter, quote
    or line break is written unquoted, so text read as written is written back as it was.
    """

    def __init__(self, writers: dict, sink: Any, delimiter: str) -> None:
        self.writers, self.sink = writers, sink
        self.special = f'["\r\n{re.escape(delimiter)}]'

    def write_batch(self, batch: pa.RecordBatch) -> None:
        import pyarrow.compute as pc

        texts = [c for c in batch.columns if pa.types.is_string(c.type) or pa.types.is_large_string(c.type)]
        quote = any(pc.any(pc.match_substring_regex(c, self.special)).as_py() for c in texts)
        self.writers["needed" if quote else "none"].write_batch(batch)

    def close(self) -> None:
        try:
            for writer in self.writers.values():
                writer.close()
        finally:
            self.sink.close()


def _output_kind(out: Path) -> tuple[str, str | None]:
    try:
        return _OUTPUTS[out.suffix.lower()]
    except KeyError:
        raise DataFileError(
            f"{out}: unsupported output extension {out.suffix or '(none)'!r}; write .parquet, .pq, "
            ".csv, .tsv or .txt."
        ) from None


def _series_map(scaler: Any, groups: str | None, inverse: bool) -> Any:
    """For a per-series scaler, ``f(rows, ids) -> scaled rows``; None for one fitted per feature."""
    if not build.is_grouped(scaler):
        if groups is not None:
            raise ParameterError("groups= is for a scaler fitted per series; this one was fitted without.")
        return None
    if groups is None:
        raise ParameterError(
            "this scaler was fitted per series: pass groups= (the name of the file's id column)."
        )
    return build.transform_rows(scaler, inverse)


def _scaled_columns(
    est: Any, path: Path, schema: pa.Schema, skip: str | None = None
) -> tuple[list[str], np.ndarray]:
    """Names of the file columns the scaler transforms, and their feature positions."""
    fitted = build.fitted_feature_names(est)
    if fitted is None:
        found = [f.name for f in schema if _is_number(f.type) and f.name != skip]
        if len(found) != est.n_features_in_:
            raise FeatureMismatchError(
                f"{path} has {len(found)} numeric columns {found[:10]}, but "
                f"{type(est).__name__} was fitted on {est.n_features_in_} unnamed features; pass "
                "columns=[...] with exactly those, in order."
            )
        return found, np.arange(len(found))
    present = [name for name in schema.names if name in fitted]
    if not present:
        raise FeatureMismatchError(
            f"{path} has none of the fitted features {fitted[:10]}; its columns are {schema.names[:10]}."
        )
    bad = [name for name in present if not _is_number(schema.field(name).type)]
    if bad:
        raise InputTypeError(f"{path}: fitted feature column(s) {bad} are not numeric here.")
    return present, np.asarray([fitted.index(n) for n in present], dtype=np.intp)


def transform_file(
    scaler: Any,
    path: PathLike,
    out: PathLike,
    *,
    inverse: bool = False,
    columns: Sequence[str] | None = None,
    groups: str | None = None,
    batch_size: int = 1_000_000,
    progress: bool = False,
) -> Path:
    """Scale (or unscale) a CSV or Parquet file batch by batch into a new file, atomically.

    Parameters
    ----------
    scaler : a fitted seqscale scaler
    path : str or path-like
        The input file (``.parquet``/``.pq``/``.csv``/``.tsv``/``.txt``).
    out : str or path-like
        The output file; its extension chooses the format: Parquet (written with page
        checksums) or CSV (``.tsv``: tab-separated; floats written with the shortest digits that
        read back to the same float64). An existing file is replaced only once the new one is
        complete; on any error it is left as it was and no temporary file remains.
    inverse : bool, default=False
        Map scaled values back to original units (``inverse_transform``).
    columns : list of str, optional
        The columns to read and write, in this order (default: all).
    groups : str, optional
        For a scaler fitted per series: the name of the series id column. Each row is scaled
        with its series' coefficients (series unseen at fit time as the scaler's ``unseen``
        policy says), rows in any order.
    batch_size : int, default=1_000_000
        Rows per batch.
    progress : bool, default=False
        Show a progress bar on stderr: by bytes for CSV, by rows for Parquet, with an ETA.

    Returns
    -------
    pathlib.Path
        ``out``.

    Notes
    -----
    Columns named like a fitted feature are scaled (a file may hold only some of the features,
    e.g. predictions of a target); the scaled columns are written as float64, and their missing
    values stay null in Parquet and are written ``nan`` in CSV.
    Every other column is written unchanged. A scaler fitted on unnamed features scales the
    file's numeric columns, which must match in number. ``out_of_range`` applies per batch, with
    row numbers counted over the whole file.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from seqscale import MaxAbsScaler
    >>> from seqscale.files import io
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> frame = pd.DataFrame({"id": ["a", "b"], "x": [-2.0, 1.0]})
    >>> _ = io.write_table(frame, folder / "in.parquet")
    >>> scaler = MaxAbsScaler().fit(frame[["x"]])
    >>> out = transform_file(scaler, folder / "in.parquet", folder / "out.parquet")
    >>> io.read_table(out)["x"].tolist()
    [-1.0, 0.5]
    """
    path, out = Path(path), Path(out)
    kind, delimiter = _output_kind(out)
    per_series = _series_map(scaler, groups, inverse)
    affine = None if per_series is not None else build.fitted_affine(scaler)
    check_output(out, [path])
    if isinstance(columns, str):
        columns = [columns]
    names = (build.fitted_feature_names(scaler) or None) if build.is_scaler(scaler) else None
    offset, label = 0, f"{path.name} -> {out.name}"
    bar = _Progress(progress, path, label)
    batches = _batches(path, batch_size, columns, keep=names, progress=bar)
    first = _first(path, batches)
    g_index = None if groups is None else _id_index(path, first.schema, groups)
    numeric_ids = per_series is not None and build.series_ids(scaler).dtype.kind in "iuf"
    scaled, channels = _scaled_columns(scaler, path, first.schema, skip=groups)
    if per_series is not None and len(channels) != scaler.n_features_in_:
        missing = sorted(set(build.feature_names(scaler, scaler.n_features_in_)) - set(scaled))
        raise FeatureMismatchError(
            f"{path}: a per-series scaler needs every fitted feature; missing {missing}."
        )
    part = None if affine is None else affine.take((..., channels))
    indices = [first.schema.get_field_index(n) for n in scaled]
    schema = _output_schema(first.schema, indices)
    options = {
        "inverse": bool(inverse),
        "policy": build.range_policy(scaler),
        "mask_value": scaler.mask_value,
        "names": scaled,
    }
    source, result = _Buffer(len(scaled)), _Buffer(len(scaled), order="F")
    try:
        with atomic_path(out) as tmp, bar:
            writer = _open_writer(kind, tmp, schema, delimiter)
            try:
                for batch in _chain(first, batches):
                    rows, nulls = source.fill(batch, indices)
                    target = result.rows(batch.num_rows)
                    if per_series is None:
                        _apply_block(rows, part, row0=offset, out=target, **options)
                    else:
                        ids = _batch_ids(path, batch, g_index, groups, offset, numeric=numeric_ids)
                        target[:] = per_series(rows[:, np.argsort(channels)], ids)[:, channels]
                    arrays = list(batch.columns)
                    for j, i in enumerate(indices):
                        mask = nulls[j] if kind == "parquet" else None  # CSV: NaN is "nan"
                        arrays[i] = pa.array(target[:, j], type=pa.float64(), mask=mask)
                    writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                    offset += batch.num_rows
                    bar.rows(batch.num_rows)
            finally:
                writer.close()
    except (pa.ArrowException, OSError) as err:
        raise DataFileError(f"cannot write {out}: {err}") from None
    return out


def _output_schema(schema: pa.Schema, indices: Sequence[int]) -> pa.Schema:
    """The input schema with the scaled columns as float64 (pandas metadata kept if still valid)."""
    changed = any(schema.field(i).type != pa.float64() for i in indices)
    for i in indices:
        schema = schema.set(i, schema.field(i).with_type(pa.float64()))
    if changed and schema.metadata and b"pandas" in schema.metadata:
        schema = schema.with_metadata({k: v for k, v in schema.metadata.items() if k != b"pandas"})
    return schema
