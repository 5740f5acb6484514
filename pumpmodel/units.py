"""Small helpers for numbers shown to people and for inclusive comparisons."""
from __future__ import annotations

from datetime import datetime

REL_TOL = 1e-9


def above(value: float, limit: float) -> bool:
    """True when ``value`` is above ``limit`` beyond float noise: a value
    equal to the limit, as a clinician reads it, is not above it."""
    return value - limit > REL_TOL * max(1.0, abs(limit))


def below(value: float, limit: float) -> bool:
    return limit - value > REL_TOL * max(1.0, abs(limit))


def num(x: float | None, digits: int = 6) -> str:
    """A number for a message: up to ``digits`` significant figures, no float noise."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    text = f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:,.{max(0, digits - 1)}f}".rstrip("0").rstrip(".")
    return text


def when(t: datetime | None) -> str:
    return "never" if t is None else t.strftime("%Y-%m-%d %H:%M")


def clean(x: float, places: int = 9) -> float:
    """Round away float noise below 1e-9 for output (0.39374999999999993 -> 0.39375)."""
    r = round(x, places)
    return 0.0 if r == 0 else r
