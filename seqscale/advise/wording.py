"""Short texts shared by the advice's tables and its HTML report.

Examples
--------
>>> short_reason("roughly normal (skew 0.1, kurtosis 0.2) → standardize")
'roughly normal → standardize'
>>> spread_text(float("nan"))
'n/a'
"""

from __future__ import annotations

import re

__all__ = ["p_text", "short_reason", "spread_text"]


def short_reason(reason: str, limit: int = 120) -> str:
    """The reason without its parenthesized numbers, e.g. ``"roughly normal → standardize"``."""
    short, previous = reason, None
    while short != previous:
        previous, short = short, re.sub(r"\s*\([^()]*\)", "", short)
    short = " ".join(short.split())
    return short if len(short) <= limit else short[: limit - 1] + "…"


def spread_text(value: float) -> str:
    """A standard deviation over seeds, or "n/a" when one seed leaves it undefined."""
    return "n/a" if value != value else f"{value:.2g}"


def p_text(p: float) -> str:
    """A one-sided Diebold-Mariano p-value against the rules' plan ("" for the rules' own row)."""
    if p != p:
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"
