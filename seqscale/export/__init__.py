"""Fitted coefficients as deep-learning layers: :mod:`seqscale.export.torch` (PyTorch modules)
and :mod:`seqscale.export.keras` (Keras layers). Neither framework is imported until used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seqscale.errors import NotFittedError

if TYPE_CHECKING:
    from seqscale.core.affine import Affine


def fitted_affine(scaler: Any, kind: str) -> Affine:
    """The scaler's fitted coefficients, or NotFittedError naming what it was to become."""
    affine = getattr(scaler, "affine_", None)
    if affine is None:
        raise NotFittedError(
            f"This {type(scaler).__name__} instance is not fitted yet. Call 'fit' before converting "
            f"it to a {kind}, or load fitted coefficients with seqscale.load(path)."
        )
    return affine


def fitted_names(scaler: Any) -> list[str] | None:
    """The scaler's fitted feature names, or None when it was fitted without names."""
    names = getattr(scaler, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]
