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

__all__ = ["METHODS", "Method", "declare", "get", "names"]


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
    plan_bounds : bool
        Whether a plan's ``bounds`` (a known range) apply to the method.
    sparse : bool
        Whether the method scales scipy.sparse input (it does not shift).
    """

    name: str
    rule: Callable[..., Any]
    extra: type | None = None
    domain: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plan_bounds: bool = False
    sparse: bool = False

    @property
    def domain_keys(self) -> tuple[str, ...]:
        """Every per-channel domain key of a coefficient file, in order."""
        return tuple(k for keys in self.domain.values() for k in keys)


METHODS: dict[str, Method] = {}


def declare(method: Method) -> Method:
    """Record ``method`` under its name; returns it."""
    METHODS[method.name] = method
    return method


def names() -> tuple[str, ...]:
    """The declared method names, in declaration order."""
    return tuple(METHODS)


def get(name: str) -> Method:
    """The declared method ``name`` (``ParameterError`` naming the choices otherwise)."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ParameterError(f"method={name!r} is not one of {list(METHODS)}.") from None
