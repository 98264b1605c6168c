"""Register seqscale's Keras layer whenever Keras is imported, without importing Keras here.

Keras finds the custom layer of a ``.keras`` file by its registered name
(``"seqscale>ScaleLayer"``), which exists only once :mod:`seqscale.export.keras` has run. ``import
seqscale`` must not import Keras (it is heavy, and fixes its backend when imported), so
:func:`install` runs :mod:`seqscale.export.keras` right after Keras finishes importing: at once when
Keras is already loaded, otherwise through a finder on ``sys.meta_path`` that wraps the
``exec_module`` of Keras' own loader (the module, its loader and its spec stay Keras' own).
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import warnings
from typing import Any

_LAYER_MODULE = "seqscale.export.keras"


def _register() -> None:
    try:
        importlib.import_module("seqscale.export.keras")
    except Exception as exc:  # never break the user's `import keras`
        warnings.warn(
            f"seqscale could not register its Keras layer ({type(exc).__name__}: {exc}); "
            f"`import {_LAYER_MODULE}` before loading a model that holds one.",
            stacklevel=3,
        )


class _AfterKeras(importlib.abc.MetaPathFinder):
    """Lets the other finders find Keras, then registers the layer once Keras has executed."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "keras":
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            vars(loader).pop("exec_module", None)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _register()

        loader.exec_module = exec_module
        return spec


def install() -> None:
    """Register the layer now if Keras is loaded, else as soon as it is (idempotent)."""
    if "keras" in sys.modules:
        if _LAYER_MODULE not in sys.modules:
            _register()
        return
    if not any(isinstance(finder, _AfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
