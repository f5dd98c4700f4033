"""Numbers as the venues print them: fixed decimal strings, rounded to a plausible tick."""

from __future__ import annotations

import math


def magnitude(reference: float) -> int:
    """Decimal exponent of ``reference`` (65000 -> 4, 0.15 -> -1)."""
    return math.floor(math.log10(reference))


def price_decimals(reference: float, significant: int = 7, maximum: int = 8) -> int:
    """Decimals that give about ``significant`` digits for prices near ``reference``."""
    return min(maximum, max(0, significant - 1 - magnitude(reference)))


def fixed(value: float, decimals: int, width: int | None = None) -> str:
    """``value`` rounded to ``decimals`` places, printed with ``width`` places (Binance pads
    every number to 8 places: "65012.34000000")."""
    return f"{round(value, decimals):.{decimals if width is None else width}f}"


def positive_fixed(value: float, decimals: int, width: int | None = None) -> str:
    """Like ``fixed`` but never rounds a positive quantity down to zero."""
    return fixed(max(value, 10.0**-decimals), decimals, width)
