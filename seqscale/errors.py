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
    """Base class of every error seqscale raises for a user mistake."""


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
