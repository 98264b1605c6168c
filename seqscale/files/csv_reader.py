"""CSV internals of :mod:`seqscale.files.io`: delimiter sniffing, strict parsing, error locations.

The fast path parses with ``pyarrow.csv`` (every column as text), then decides per column whether
it is numeric. Python's :mod:`csv` module is used only on the first 64 KiB (to sniff the delimiter
and check the header) and, when something is wrong, to find the exact line to report.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from seqscale.errors import DataFileError

__all__ = [
    "DELIMITERS",
    "NULL_VALUES",
    "BadCell",
    "Layout",
    "arrow_error",
    "check_last_row",
    "convert",
    "iter_records",
    "line_numbers",
    "locate_bad_cell",
    "read_strings",
    "sniff",
    "stream_tables",
    "where_row",
]

DELIMITERS = (",", ";", "\t", "|")
#: Cells read as missing values (after trimming surrounding whitespace), as in pandas.
NULL_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip
SAMPLE_BYTES = 1 << 16
_FIELD_LIMIT = (1 << 31) - 1
MAX_HEADER_BYTES = 1 << 24
_NUMBER = r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity))\s*$"
NUMBER_RE = re.compile(_NUMBER)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_NULLS = pa.array(NULL_VALUES, pa.string())


@dataclass(frozen=True)
class Layout:
    """What sniffing learned about a CSV file."""

    delimiter: str
    header: tuple[str, ...]  # names with surrounding whitespace removed
    raw_header: tuple[str, ...]  # names exactly as written
    row_bytes: float  # average bytes per line in the sample (to size stream blocks)


class BadCell(Exception):
    """Internal: ``convert`` found a non-numeric cell at ``row`` (0-based data row)."""

    def __init__(self, row: int, value: str) -> None:
        super().__init__(row, value)
        self.row = row
        self.value = value


@contextlib.contextmanager
def _no_field_limit() -> Iterator[None]:
    """Lift :mod:`csv`'s 128 KiB field limit while seqscale reads (a wide header, a long cell)."""
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _records(text: str, delimiter: str) -> list[list[str]]:
    with _no_field_limit():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
        return [rec for rec in reader if rec]


def _read_sample(path: Path) -> tuple[str, bool]:
    with path.open("rb") as handle:
        chunks = [handle.read(SAMPLE_BYTES)]
        while b"\n" not in chunks[-1] and b"\r" not in chunks[-1]:
            if len(chunks) * SAMPLE_BYTES > MAX_HEADER_BYTES:
                break
            chunks.append(handle.read(SAMPLE_BYTES))  # a very wide header: read to its end
            if not chunks[-1]:
                break
        cut = handle.read(1) != b""
        raw = b"".join(chunks)
    raw = raw.removeprefix(codecs.BOM_UTF8)
    if not raw.strip():
        raise DataFileError(f"{path} is empty; a CSV file needs a header row and data rows.")
    if b"\x00" in raw:
        raise DataFileError(f"{path} looks like a binary file, not CSV text; check the file.")
    end = max(raw.rfind(b"\n"), raw.rfind(b"\r"))
    if cut and end > 0:
        raw = raw[: end + 1]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(raw, final=not cut)
    except UnicodeDecodeError as err:
        raise _not_utf8(path, err) from None
    return text, cut


def _not_utf8(path: Path, err: UnicodeDecodeError | None = None) -> DataFileError:
    where = f" (byte 0x{err.object[err.start]:02x} at offset {err.start})" if err else ""
    return DataFileError(f"{path} is not UTF-8 text{where}; re-save it as UTF-8 CSV.")


def _pick_delimiter(path: Path, text: str, cut: bool) -> str:
    parsed = {d: _records(text, d) for d in DELIMITERS}
    if cut:  # the last record of a cut sample may be incomplete
        parsed = {d: recs[:-1] if len(recs) > 1 else recs for d, recs in parsed.items()}
    scores = {}
    for delim, recs in parsed.items():
        width = len(recs[0])
        if width > 1:
            data = recs[1:]
            scores[delim] = sum(len(r) == width for r in data) / len(data) if data else 1.0
    if not scores:  # one column, unless most data lines split on some delimiter
        lines = [ln for ln in io.StringIO(text, newline="") if ln.strip()][1:]
        counts = {d: sum(d in ln for ln in lines) for d in DELIMITERS}
        best = max(DELIMITERS, key=counts.__getitem__)
        return best if lines and counts[best] * 2 > len(lines) else ","
    top = max(scores.values())
    winners = [d for d, s in scores.items() if s == top]
    if len(winners) > 1:
        shown = " and ".join(repr(d) for d in winners)
        raise DataFileError(
            f"{path}: cannot detect the delimiter; {shown} both split the lines consistently. "
            "Use a single delimiter (',' ';' tab or '|') and quote cells that contain it."
        )
    return winners[0]


def sniff(path: Path) -> Layout:
    """Detect the delimiter and read the header row of ``path``; raise on anything odd."""
    text, cut = _read_sample(path)
    delimiter = _pick_delimiter(path, text, cut)
    raw = tuple(_records(text, delimiter)[0])
    header = tuple(name.strip() for name in raw)
    if all(NUMBER_RE.match(name) or not name for name in header):
        raise DataFileError(
            f"{path} has no header row; add one with a name for each column "
            f"(its first line {delimiter.join(raw)[:60]!r} looks like data)."
        )
    for number, name in enumerate(header, start=1):
        if not name:
            raise DataFileError(f"{path}: column {number} has an empty name in the header row; "
                                "name every column.")  # fmt: skip
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataFileError(f"{path}: duplicate column names {duplicates}; make them unique.")
    lines = max(text.count("\n"), 1)
    return Layout(delimiter, header, raw, len(text.encode()) / lines)


def _parse_options(layout: Layout) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(
        delimiter=layout.delimiter, quote_char='"', double_quote=True, escape_char=False,
        newlines_in_values=True, ignore_empty_lines=True,
    )  # fmt: skip


def _convert_options(layout: Layout, names: list[str] | None = None) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={name: pa.string() for name in layout.raw_header},
        include_columns=names, strings_can_be_null=False, quoted_strings_can_be_null=False,
    )  # fmt: skip


def read_strings(path: Path, layout: Layout) -> pa.Table:
    """Read every column of ``path`` as text (no conversion); raise ``DataFileError``."""
    try:
        table = pacsv.read_csv(
            path, pacsv.ReadOptions(block_size=8 << 20), _parse_options(layout),
            _convert_options(layout),
        )  # fmt: skip
    except pa.ArrowException as err:
        raise arrow_error(path, layout, err) from None
    if table.num_columns != len(layout.header):
        raise DataFileError(f"{path}: the header could not be parsed consistently; check quoting.")
    return pa.table([pc.cast(c, pa.string()) for c in table.columns], names=list(layout.header))


def _record_ends(data: bytes, delimiter: str = ",") -> np.ndarray:
    """Offsets just past each line break of ``data`` that is outside quotes (``data`` starts a
    record).

    A quote opens a quoted field only at the start of a field (after a delimiter or a line
    break); inside, ``""`` is a quote and a lone quote closes the field. When every opening quote
    stands at a field's start, a line break ends a record exactly when an even number of quotes
    precede it (counted in numpy); otherwise (a stray quote inside an unquoted field, ``a"b``)
    the quotes are walked one by one.
    """
    view = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero((view == 10) | (view == 13))
    quotes = np.flatnonzero(view == 34)
    if not len(quotes):
        return breaks + 1
    before = np.where(quotes > 0, view[quotes - 1], 10)
    at_start = (before == ord(delimiter)) | (before == 10) | (before == 13)
    escaped = np.zeros(len(quotes), dtype=bool)  # right after the previous quote: ""
    escaped[1:] = quotes[1:] == quotes[:-1] + 1
    if (at_start[0::2] | escaped[0::2]).all():  # the quotes pair up as counted
        return breaks[np.searchsorted(quotes, breaks) % 2 == 0] + 1
    opens, closes = _quoted_spans(quotes.tolist(), at_start.tolist(), len(data))
    if not opens:
        return breaks + 1
    span = np.searchsorted(opens, breaks, side="right") - 1
    inside = (span >= 0) & (breaks < np.asarray(closes)[np.maximum(span, 0)])
    return breaks[~inside] + 1


def _quoted_spans(quotes: list[int], at_start: list[bool], end: int) -> tuple[list[int], list[int]]:
    """The (opening, closing) quote positions of each quoted field; an unclosed one runs to ``end``."""
    opens, closes = [], []
    i, n = 0, len(quotes)
    while i < n:
        if not at_start[i]:  # a quote inside an unquoted field is text
            i += 1
            continue
        j = i + 1
        while j + 1 < n and quotes[j + 1] == quotes[j] + 1:  # "" inside: a quote
            j += 2
        opens.append(quotes[i])
        closes.append(quotes[j] if j < n else end)
        i = j + 1
    return opens, closes


def _header_end(data: bytes, delimiter: str) -> int | None:
    """Offset just past the line break that ends the header record (the first non-blank one), by
    the parsers' rule that a quote opens a quoted field only at the start of a field (``a"b`` is
    text, so a stray quote in a name does not upset the count); None when the first
    ``MAX_HEADER_BYTES`` of ``data`` hold no complete header."""
    special = re.compile(b'[\r\n"' + re.escape(delimiter.encode()) + b"]")
    end = min(len(data), MAX_HEADER_BYTES)
    i = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    seen, field_start = False, True
    while i < end:
        found = special.search(data, i, end)
        j = found.start() if found else end
        if data[i:j].strip():
            seen, field_start = True, False
        elif j > i:
            field_start = False  # spaces before a quote make it text, as in the parsers
        if j == end:
            return None
        byte = data[j]
        if byte in (10, 13):
            if seen:
                return j + 1
            field_start = True
        elif byte == 34 and field_start:
            while True:  # inside a quoted field: skip to its closing quote ("" is a quote)
                j = data.find(b'"', j + 1, end)
                if j < 0 or j + 1 >= end:
                    return None
                if data[j + 1] != 34:
                    break
                j += 1
            seen, field_start = True, False
        else:
            seen, field_start = True, byte != 34
        i = j + 1
    return None


def iter_records(path: Path, block_size: int, delimiter: str = ",") -> Iterator[bytes]:
    """Yield the data records of ``path`` (the header skipped) in chunks of about ``block_size``.

    Each chunk ends at a record boundary, so it parses on its own: memory stays bounded by the
    chunk, whatever the file size. (pyarrow's own streaming reader keeps memory that grows with
    the number of blocks read.)
    """
    with path.open("rb") as handle:
        carry, header_done = b"", False
        while True:
            block = handle.read(block_size)
            data = carry + block
            if not block:
                if header_done and data.strip(b"\r\n"):  # a last line of spaces is a row too
                    yield data
                return
            ends = _record_ends(data, delimiter)
            if not header_done:
                first = next((end for end in ends if data[:end].removeprefix(codecs.BOM_UTF8).strip()), None)
                if b'"' in (data if first is None else data[:first]):
                    first = _header_end(data, delimiter)  # a quote may be a stray one: parse
                if first is None:
                    carry = data
                    continue
                data, header_done = data[first:], True
                ends = _record_ends(data, delimiter)
            if not len(ends):
                carry = data
                continue
            cut = int(ends[-1])
            carry = data[cut:]
            yield data[:cut]


def _parse_chunk(chunk: bytes, layout: Layout, names: list[str]) -> pa.Table:
    if chunk.startswith(codecs.BOM_UTF8):  # data, not a file's mark: pyarrow drops one, keep it
        chunk = codecs.BOM_UTF8 + chunk
    return pacsv.read_csv(
        pa.py_buffer(chunk),
        pacsv.ReadOptions(column_names=list(layout.raw_header), block_size=max(len(chunk), 1 << 16)),
        _parse_options(layout),
        _convert_options(layout, names),
    )  # fmt: skip


def stream_tables(
    path: Path, layout: Layout, names: list[str], block_size: int
) -> Iterator[tuple[pa.Table, int]]:
    """Parse ``path`` chunk by chunk into tables of text columns (raw-named ``names``), each with
    the number of bytes of the file it was parsed from (for progress bars).

    A chunk that does not parse is joined with the next one and parsed again (a cut inside a
    quoted field, see :func:`_record_ends`); at the end of the file the error is reported as
    :func:`arrow_error` words it.
    """
    pending, scanned = b"", False
    for chunk in iter_records(path, block_size, layout.delimiter):
        pending += chunk
        try:
            table = _parse_chunk(pending, layout, names)
        except pa.ArrowInvalid as err:
            found = None if scanned else _located_error(path, layout, err)
            if found is not None:
                raise found from None
            scanned = True  # the file is fine: the cut fell inside a quoted field
            continue
        size, pending = len(pending), b""
        yield table, size
    if pending:
        try:
            table = _parse_chunk(pending, layout, names)
        except pa.ArrowException as err:
            raise arrow_error(path, layout, err) from None
        yield table, len(pending)


def scan(path: Path, delimiter: str, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line number, fields)`` of each non-blank record, the header included.

    With ``strict``, a malformed quoted field raises ``DataFileError`` naming its line.
    """
    with _no_field_limit(), path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar='"', strict=strict)
        previous = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                if not strict:
                    raise
                raise DataFileError(
                    f"{path}: line {previous + 1} has a badly quoted field ({err}); close every "
                    'quote, and double a quote inside a quoted cell ("").'
                ) from None
            start, previous = previous + 1, reader.line_num
            if record:
                yield start, record


def check_last_row(path: Path, layout: Layout, row: list[object]) -> None:
    """An unclosed quote swallows the rest of the file into the last row: find it if so."""
    if any(isinstance(cell, str) and ("\n" in cell or "\r" in cell) for cell in row):
        for _ in scan(path, layout.delimiter, strict=True):
            pass


def _find_ragged(path: Path, layout: Layout) -> tuple[int, list[str]] | None:
    width = len(layout.header)
    for line, record in scan(path, layout.delimiter):
        if len(record) != width:
            return line, record
    return None


def _located_error(path: Path, layout: Layout, err: Exception) -> DataFileError | None:
    """The problem behind a pyarrow CSV failure, found by scanning the file; None if none is."""
    message = str(err)
    if "UTF8" in message or "UTF-8" in message:
        return _not_utf8(path)
    try:
        ragged = _find_ragged(path, layout)
    except UnicodeDecodeError as decode_error:
        return _not_utf8(path, decode_error)
    except csv.Error as csv_error:
        return DataFileError(f"{path} could not be parsed as CSV ({csv_error}); check quoting.")
    if not ragged:
        return None
    line, record = ragged
    width, delim = len(layout.header), layout.delimiter
    advice = f"Fix the row, and quote cells that contain {delim!r}."
    if len(record) == 1 and not record[0].strip():
        advice = "The line holds only spaces: delete it."
    return DataFileError(
        f"{path}: line {line} has the wrong number of fields: expected {width} "
        f"(as in the header), got {len(record)}. {advice}"
    )


def arrow_error(path: Path, layout: Layout, err: Exception) -> DataFileError:
    """Turn a pyarrow CSV failure into a ``DataFileError`` that names the line when it can."""
    found = _located_error(path, layout, err)
    if found is not None:
        return found
    message = str(err)
    first = message.splitlines()[0] if message else type(err).__name__
    return DataFileError(f"{path} could not be parsed as CSV ({first}); check quoting.")


def line_numbers(path: Path, layout: Layout, rows: list[int]) -> dict[int, int]:
    """The 1-based file line of each 0-based data row in ``rows`` (blank lines and quoted line
    breaks counted as in the file); rows it cannot find are left out."""
    wanted, found = set(rows), {}
    if not wanted:
        return found
    last = max(wanted)
    with contextlib.suppress(csv.Error, UnicodeDecodeError):
        for index, (number, _record) in enumerate(scan(path, layout.delimiter)):
            if index - 1 in wanted:  # index 0 is the header
                found[index - 1] = number
            if index - 1 >= last:
                break
    return found


def where_row(path: Path, layout: Layout, row: int) -> str:
    """``"line N"`` for the 0-based data row ``row`` (``"data row N"`` if it cannot be found)."""
    line = line_numbers(path, layout, [row]).get(row)
    return f"line {line}" if line else f"data row {row + 1}"


def locate_bad_cell(path: Path, layout: Layout, column: str, bad: BadCell) -> DataFileError:
    """Build the error for a non-numeric cell, with its 1-based line number."""
    where = where_row(path, layout, bad.row)
    hint = ""
    if _DECIMAL_COMMA.match(bad.value):
        hint = " Decimal commas and thousands separators are not supported: write 1234.5."
    return DataFileError(
        f"{path}: {where}, column {column!r}: {bad.value!r} is not a number. Fix the cell, or "
        f"leave it empty for a missing value.{hint}"
    )


def convert(column: pa.Array | pa.ChunkedArray, mode: str) -> pa.Array | pa.ChunkedArray:
    """Convert a text column: ``mode`` is "infer", "numeric", "float", "text" or "raw".

    Missing cells (see ``NULL_VALUES``) become nulls. "infer" returns int64 (integers, no missing
    cells), float64 (other numbers) or text; a column where most cells are numbers raises
    ``BadCell`` for the first one that is not, as does a column of decimal-comma numbers.
    "numeric" and "float" raise on any non-number; "raw" returns the cells exactly as written.
    """
    if mode == "raw":  # exactly as written, missing-value tokens included
        return column
    trimmed = pc.utf8_trim_whitespace(column)
    missing = pc.or_(pc.is_null(column), pc.is_in(trimmed, value_set=_NULLS))
    null = pa.scalar(None, pa.string())
    if mode == "text":
        return pc.if_else(missing, null, column)
    values = pc.if_else(missing, null, trimmed)
    for target in (pa.int64(), pa.float64()):  # fast path: pyarrow parses every cell
        if target == pa.int64() and (mode == "float" or values.null_count or not len(values)):
            continue
        with contextlib.suppress(pa.ArrowInvalid):
            return pc.cast(values, target)
    present = pc.invert(missing)
    bad = pc.and_(present, pc.invert(pc.match_substring_regex(column, _NUMBER)))
    n_bad = pc.sum(bad).as_py() or 0
    if n_bad:
        n_present = pc.sum(present).as_py() or 0
        comma = pc.match_substring_regex(column, _DECIMAL_COMMA.pattern)
        decimal_commas = pc.sum(pc.and_(bad, comma)).as_py() == n_bad
        if mode == "infer" and n_bad * 2 >= n_present and not decimal_commas:
            return pc.if_else(missing, null, column)
        row = pc.index(bad, True).as_py()
        raise BadCell(row, column[row].as_py())
    # numbers in a spelling pyarrow rejects but Python parses (correctly rounded)
    return pa.array([None if v is None else float(v) for v in values.to_pylist()], pa.float64())
