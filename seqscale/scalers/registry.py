"""The scaler classes by method name, filled by :mod:`seqscale.scalers.estimators`.

Coefficient files and file streaming look a method's class up here instead of importing the
classes, so that the modules below the classes need not import them. The method registry (one
declaration per scaling method) belongs here.

Examples
--------
>>> import seqscale.scalers
>>> sorted(SCALERS)
['maxabs', 'minmax', 'robust', 'standard']
"""

from __future__ import annotations

__all__ = ["DEFAULT_METHOD", "SCALERS", "register"]

SCALERS: dict[str, type] = {}

#: The method used when none is given (``seqscale fit`` without a plan, ``fit_file``), as for an
#: unlisted numeric column of a pipeline: if in doubt, normalize to [0, 1].
DEFAULT_METHOD = "minmax"


def register(*classes: type) -> dict[str, type]:
    """Record each class under its ``method`` name; returns the registry."""
    for cls in classes:
        SCALERS[cls.method] = cls
    return SCALERS
