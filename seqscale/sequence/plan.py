"""The plan file: format constants, validation, reading and writing.

A plan (``format: "seqscale.plan", version: 1``; layout in ``docs/ARCHITECTURE.md``) is the
editable JSON that :func:`seqscale.advisor.api.advise` writes and the pipeline reads back. This module
only knows the file format: :func:`validate_plan` checks a plan dict and returns a normalized copy,
:func:`load_plan` reads and validates a file, :func:`save_plan` writes one atomically.

Every problem with a plan is reported as :class:`~seqscale.errors.CoefficientFileError` naming the
source and the offending field.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from seqscale.errors import CoefficientFileError
from seqscale.sequence.plan_schema import (
    ACTIVATIONS,
    ENCODINGS,
    METHODS,
    PLAN_FORMAT,
    PLAN_VERSION,
    ROLES,
    TASK_ACTIVATIONS,
    TASKS,
    PlanError,
    activation_problem,
    check_plan,
)
from seqscale.util.atomic import atomic_write
from seqscale.util.jsonfile import read_json

__all__ = [
    "ACTIVATIONS",
    "ENCODINGS",
    "METHODS",
    "PLAN_FORMAT",
    "PLAN_VERSION",
    "ROLES",
    "TASKS",
    "TASK_ACTIVATIONS",
    "activation_problem",
    "load_plan",
    "save_plan",
    "validate_plan",
]


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (JSON-safe)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------
def validate_plan(plan: object, *, source: str = "plan") -> dict:
    """Check a plan dict and return a normalized copy (defaults filled in).

    Raises :class:`~seqscale.errors.CoefficientFileError` naming ``source`` and the offending
    field for anything malformed; never another exception type.
    """
    try:
        return check_plan(plan)
    except PlanError as err:
        raise CoefficientFileError(f"{source}: field {err.where!r}: {err.message}") from None
    except CoefficientFileError:
        raise
    except Exception as err:  # defensive: any surprise in a hand-edited file stays a file error
        raise CoefficientFileError(f"{source}: malformed plan ({type(err).__name__}: {err})") from None


def load_plan(path: str | os.PathLike[str]) -> dict:
    """Read and validate a plan file written by :func:`save_plan` (or edited by hand).

    Raises :class:`~seqscale.errors.CoefficientFileError` naming the file (and the field) when
    the file is missing, unreadable, not JSON (e.g. truncated) or not a valid plan.
    """
    try:
        name = os.fspath(path)
    except TypeError as err:
        raise CoefficientFileError(f"plan path must be a path, got {type(path).__name__}") from err
    return validate_plan(read_json(name, "plan"), source=name)


def save_plan(plan: dict, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` as indented JSON, atomically. Returns the path.

    The plan is written as given (use :func:`validate_plan` first for a hand-built one).
    """
    text = json.dumps(plan, indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_write(path) as handle:
        handle.write(text + "\n")
    return Path(path)
