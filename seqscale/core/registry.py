"""The method registry: each scaling method declared once, read by every path.

A :class:`Method` names the method, the statistic it needs besides the moments (an
:class:`~seqscale.core.extras.ExtraStatistic` class, or None), its domain parameters and the
keys they are recorded under in a coefficient file, and whether the plan's ``bounds`` apply.
The coefficient rule itself is the function of :mod:`seqscale.core.methods` of the same name,
declared beside it. The scalers, coefficient files, plan and pipeline validation, the command
line's ``--method`` choices, the Dask engine and file streaming all read this table, so a new
method is one declaration here, one rule and one scaler class.

Examples
--------
>>> import seqscale.core.methods
>>> sorted(names())
['maxabs', 'meanabs', 'minmax', 'robust', 'standard']
>>> METHODS["robust"].extra.record
('median', 'q_low', 'q_high')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from seqscale.errors import ParameterError

__all__ = ["METHODS", "Method", "declare", "get", "names", "plan_methods"]


@dataclass(frozen=True)
class Method:
    """One scaling method.

    Attributes
    ----------
    name : str
        The name used in code, coefficient files, plans and the command line.
    rule : callable
        ``rule(moments, extra_table, **options) -> Affine`` (see :mod:`seqscale.core.methods`).
    extra : class or None
        The statistic besides the moments (:class:`~seqscale.core.extras.ExtraStatistic`).
    domain : dict
        Domain parameter -> the keys of its per-channel values in a coefficient file
        (``{"bounds": ("low", "high")}``).
    plan_bounds : {"pair", "mean_std"} or None
        The plan's ``bounds`` for the method: ``[low, high]``, ``{"mean": m, "std": s}``, or
        none allowed.
    bounds_params : callable or None
        Plan ``bounds`` -> the scaler's domain parameters.
    plan_params : tuple of str
        Plan keys passed to the scaler as parameters of the same name (``feature_range``).
    output : (low, high), "feature_range" or None
        Where training values land: a fixed range, the ``feature_range`` parameter, or
        unbounded (None); the pipeline checks a target's output activation against it.
    """

    name: str
    rule: Callable[..., Any]
    extra: type | None = None
    domain: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plan_bounds: str | None = None
    bounds_params: Callable[[Any], dict[str, Any]] | None = None
    plan_params: tuple[str, ...] = ()
    output: tuple[float, float] | str | None = None

    @property
    def domain_keys(self) -> tuple[str, ...]:
        """Every per-channel domain key of a coefficient file, in order."""
        return tuple(k for keys in self.domain.values() for k in keys)


METHODS: dict[str, Method] = {}


def declare(method: Method) -> Method:
    """Record ``method`` under its name; returns it."""
    METHODS[method.name] = method
    return method


def plan_methods() -> tuple[str, ...]:
    """The methods a plan or pipeline column may name: every declared one and ``"none"``."""
    return (*METHODS, "none")


def names() -> tuple[str, ...]:
    """The declared method names, in declaration order."""
    return tuple(METHODS)


def get(name: str) -> Method:
    """The declared method ``name`` (``ParameterError`` naming the choices otherwise)."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ParameterError(f"method={name!r} is not one of {list(METHODS)}.") from None
