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

__all__ = ["SCALERS", "register"]

SCALERS: dict[str, type] = {}


def register(*classes: type) -> dict[str, type]:
    """Record each class under its ``method`` name; returns the registry."""
    for cls in classes:
        SCALERS[cls.method] = cls
    return SCALERS
