"""One exception family for seqscale.

Every error seqscale raises for a user mistake is a :class:`SeqscaleError`. Each subclass also
derives from the matching built-in exception, so ``except ValueError`` keeps working for code
written against scikit-learn.

Examples
--------
>>> import seqscale
>>> try:
...     seqscale.MinMaxScaler(feature_range=(1, 0)).fit([[1.0], [2.0]])
... except seqscale.SeqscaleError as err:
...     print(type(err).__name__)
ParameterError
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "CoefficientFileError",
    "ConstantFeatureWarning",
    "DataFileError",
    "FeatureMismatchError",
    "InputError",
    "InputTypeError",
    "LeakageError",
    "LeakageWarning",
    "NotFittedError",
    "OutOfRangeError",
    "OutOfRangeWarning",
    "ParameterError",
    "SeqscaleError",
    "SeqscaleWarning",
    "UnseenSeriesError",
]


class SeqscaleError(Exception):
    """Base class of every error seqscale raises for a user mistake.

    An error about particular rows (made by :meth:`at_rows`) keeps their 0-based positions in
    the data given in ``rows``, so a caller that read the data from a file can name the file's
    lines instead (:meth:`naming_rows`).
    """

    #: 0-based positions, in the data given, of the rows the message names
    rows: tuple[int, ...] = ()
    _template: str | None = None
    _values: dict[str, object] | None = None

    @classmethod
    def at_rows(cls, template: str, /, *rows: int, **values: object) -> SeqscaleError:
        """The error whose message is ``template`` with each ``{row}`` naming one of ``rows``.

        Text from the user (a column name, a cell, a series id) goes in ``values``, never into
        ``template``: ``{name}`` (or ``{name!r}`` for its repr) in ``template`` shows
        ``values["name"]``, which is inserted as it is, so a value holding ``{row}`` or other
        braces cannot be taken for a row. Other braces in ``template`` are kept as written.

        Examples
        --------
        >>> err = InputError.at_rows("column 'id' is empty at {row}.", 4)
        >>> str(err), err.rows
        ("column 'id' is empty at row 4.", (4,))
        >>> err.naming_rows(lambda r: f"line {r + 2}")
        "column 'id' is empty at line 6."
        >>> str(InputError.at_rows("column {name!r} is empty at {row}.", 1, name="{row}"))
        "column '{row}' is empty at row 1."
        """
        err = cls()
        err.rows, err._template, err._values = tuple(int(r) for r in rows), template, values
        err.args = (err.naming_rows(_row),)
        return err

    def naming_rows(self, name: Callable[[int], str]) -> str:
        """The message with each row it names written as ``name(row)``."""
        if self._template is None:
            return str(self)
        return _fill(self._template, [name(r) for r in self.rows], self._values or {})

    def prefixed(self, text: str) -> SeqscaleError:
        """The same error, of the same type, with its message after ``text``.

        The rows it names stay named, so a caller can still renumber them or name file lines.

        Examples
        --------
        >>> err = InputError.at_rows("bad value at {row}.", 2).prefixed("variant '{x}': ")
        >>> str(err), err.rows
        ("variant '{x}': bad value at row 2.", (2,))
        """
        if self._template is None:
            return type(self)(f"{text}{self}")
        values = dict(self._values or {})
        key = "_prefix" + "_" * max((len(k) for k in values), default=0)  # a name no value has
        values[key] = text
        return type(self).at_rows("{" + key + "}" + self._template, *self.rows, **values)

    def renumber(self, positions: Sequence[int]) -> None:
        """Name row ``positions[r]`` wherever the error named row ``r``, in place.

        For an error about rows of data the library re-ordered or cut: ``positions`` holds each
        of those rows' place in the data the caller gave, so ``rows`` and the message name the
        caller's rows. An error naming no rows is left as it is.

        Examples
        --------
        >>> err = InputError.at_rows("bad value at {row}.", 1)
        >>> err.renumber([5, 3, 4])
        >>> str(err), err.rows
        ('bad value at row 3.', (3,))
        """
        if self._template is None:
            return
        self.rows = tuple(int(positions[r]) for r in self.rows)
        self.args = (self.naming_rows(_row),)


def _row(r: int) -> str:
    """How a message names row ``r`` (0-based) of the data given."""
    return f"row {r}"


def _fill(template: str, places: list[str], values: Mapping[str, object]) -> str:
    """``template`` with its ``{row}`` fields replaced by ``places`` and ``{name}`` fields by values.

    Only the template is searched for fields: a value is inserted as it is, whatever it holds.
    """
    names = "|".join(re.escape(k) for k in ["row", *values])
    fields = list(re.finditer(r"\{(" + names + r")(!r)?\}", template))
    n_rows = sum(f[1] == "row" for f in fields)
    if n_rows != len(places) or any(f[1] == "row" and f[2] for f in fields):
        raise ValueError(f"{template!r} names {n_rows} rows, not {len(places)}")
    rows, out, end = iter(places), [], 0
    for f in fields:
        text = next(rows) if f[1] == "row" else values[f[1]]
        out += [template[end : f.start()], repr(text) if f[2] else str(text)]
        end = f.end()
    return "".join([*out, template[end:]])


class InputError(SeqscaleError, ValueError):
    """The data given has a value or shape seqscale cannot use (NaN where not allowed, inf, 4D...)."""


class InputTypeError(SeqscaleError, TypeError):
    """The data given has a type or dtype seqscale cannot scale (strings, booleans, datetimes...)."""


class ParameterError(SeqscaleError, ValueError):
    """A constructor or method parameter is invalid (e.g. ``feature_range=(1, 0)``)."""


class FeatureMismatchError(InputError):
    """The features at transform time differ from those seen at fit time (count or names)."""


class UnseenSeriesError(InputError):
    """A series id was not seen at fit time and the policy is ``unseen="error"``."""


class OutOfRangeError(InputError):
    """Values fall outside the fitted or domain bounds and the policy is ``out_of_range="error"``."""


class NotFittedError(SeqscaleError, _SklearnNotFittedError):
    """The estimator is used before ``fit`` (also a scikit-learn ``NotFittedError``)."""


class CoefficientFileError(SeqscaleError, ValueError):
    """A coefficient or plan file is missing, truncated, tampered with or of an unknown version."""


class DataFileError(SeqscaleError, ValueError):
    """A CSV or Parquet data file cannot be read strictly (ragged row, non-numeric cell, ...)."""


class LeakageError(SeqscaleError, ValueError):
    """Fitting would use data from the declared test period."""


class SeqscaleWarning(UserWarning):
    """Base class of seqscale's warnings."""


class ConstantFeatureWarning(SeqscaleWarning):
    """A feature has zero range or zero variance; it is mapped to a documented constant."""


class OutOfRangeWarning(SeqscaleWarning):
    """Values at transform time fall outside the fitted or domain bounds."""


class LeakageWarning(SeqscaleWarning):
    """The data looks windowed or overlapping; statistics would count values several times."""
