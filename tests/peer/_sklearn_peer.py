"""Load scikit-learn's own preprocessing tests with seqscale's four scalers in their place."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import sklearn.preprocessing as skp

import seqscale

#: The names rebound to seqscale's classes; the functional forms (``scale``, ...) stay scikit-learn's.
SCALERS = ("MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler")
_MENTION = re.compile(r"\b(" + "|".join(SCALERS) + r")\b")


def load(module: str) -> ModuleType:
    """Import ``sklearn/preprocessing/tests/<module>.py`` under another name, the four names rebound.

    The rebinding holds only while the module body runs (its imports and parametrize lists); the
    scikit-learn package itself is left as it was.
    """
    path = Path(skp.__file__).parent / "tests" / f"{module}.py"
    saved = {name: getattr(skp, name) for name in SCALERS}
    try:
        for name in SCALERS:
            setattr(skp, name, getattr(seqscale, name))
        spec = importlib.util.spec_from_file_location(f"seqscale_peer.{module}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        for name, cls in saved.items():
            setattr(skp, name, cls)
    return mod


def tests_of(mod: ModuleType) -> dict[str, object]:
    """The module's test functions, by name."""
    return {k: v for k, v in vars(mod).items() if k.startswith("test_") and callable(v)}


def mentions_scalers(func: object) -> bool:
    """Whether a test's source names one of the four classes."""
    try:
        return bool(_MENTION.search(inspect.getsource(func)))
    except (OSError, TypeError):
        return False


def _is_seqscale(value: object) -> bool:
    cls = value if isinstance(value, type) else type(value)
    return cls.__module__.startswith("seqscale.") and cls.__name__ in SCALERS


def touches_scalers(func: object, params: dict) -> bool:
    """A test counts when it names the classes or is parametrized with one of them."""
    values = list(params.values())
    flat = [v for p in values for v in (p if isinstance(p, (tuple, list)) else (p,))]
    if any(_is_seqscale(v) for v in flat):
        return True
    if any(hasattr(v, "fit") for v in flat):  # parametrized with another estimator only
        return False
    return mentions_scalers(func)


def _all(params: dict) -> bool:
    return True


#: Every scikit-learn test that fails against seqscale, with the reason and the exception it
#: raises; docs/divergences.md lists the same. The peer conftest marks them strict xfail, so a
#: divergence that goes away (or fails differently) shows up.
DIVERGENCES: dict[str, tuple[str, object, object]] = {
    "test_common__test_missing_value_handling": (
        "passes est.get_params() to scikit-learn's function (maxabs_scale, scale, ...), which does "
        "not take seqscale's extra parameters (out_of_range, unseen, mask_value, bounds, ...)",
        TypeError,
        _all,
    ),
}


#: The peer tests that take seconds each (loops of one-row ``partial_fit`` calls, torch's array
#: API): marked slow (see :func:`is_slow`), so ``make test`` runs the rest in a few seconds and
#: ``make test-all`` all.
SLOW = frozenset(
    {
        "test_data__test_minmax_scaler_partial_fit",
        "test_data__test_standard_scaler_partial_fit",
        "test_data__test_maxabs_scaler_partial_fit",
        "test_data__test_standard_scaler_transform_with_partial_fit",
        "test_data__test_standard_scaler_partial_fit_numerical_stability",
        "test_data__test_standard_scaler_sample_weight_array_api",
    }
)


def is_slow(name: str, params: dict) -> bool:
    """A test of ``SLOW``, or an array-API case on torch (its first use imports torch)."""
    return name in SLOW or "torch" in [v for v in params.values() if isinstance(v, str)]


def divergence(name: str, params: dict) -> tuple[str, type[BaseException]] | None:
    """The pinned reason and exception of a test expected to fail, or None."""
    entry = DIVERGENCES.get(name)
    if entry is not None and entry[2](params):
        return entry[0], entry[1]
    return None
