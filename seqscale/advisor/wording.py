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


def short_reason(reason: str, limit: int | None = 120) -> str:
    """The reason without its parenthesized numbers, e.g. ``"roughly normal → standardize"``.

    Longer than ``limit`` characters, it is cut after a whole word and ends with "…".

    Examples
    --------
    >>> short_reason("unit root (ADF p=0.99) → difference first; then standardize", limit=40)
    'unit root → difference first; then…'
    """
    short, previous = reason, None
    while short != previous:
        previous, short = short, re.sub(r"\s*\([^()]*\)", "", short)
    short = " ".join(short.split())
    if limit is None or len(short) <= limit:
        return short
    cut = short[:limit]
    if short[limit] != " " and " " in cut:  # never end inside a word
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def spread_text(value: float) -> str:
    """A standard deviation over seeds, or "n/a" when one seed leaves it undefined."""
    return "n/a" if value != value else f"{value:.2g}"


def p_text(p: float) -> str:
    """A one-sided Diebold-Mariano p-value against the rules' plan ("" for the rules' own row)."""
    if p != p:
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"
