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


# --------------------------------------------------------------------------- display rounding
# ONE rounding for every number a person reads (cards, tables, chart hovers, CSV exports):
# significant figures chosen by unit, integer digits never rounded away (1181.25 mcg/day ->
# "1,181", not "1,180"), trailing zeros dropped, and never "-0" / "-0.00".

#: significant figures per unit; units not listed get ``DEFAULT_SIG``.
SIG_FIGS = {
    "mL": 3, "mL/day": 3, "mL/h": 3, "mg/mL": 3, "mcg/mL": 3,   # volumes, rates, concentrations
    "mg": 4, "mcg": 4, "mg/day": 4, "mcg/day": 4,               # doses: a titration step of 1 % shows
    "days": 3, "d": 3, "h": 3, "%": 3, "months": 2,              # durations and shares (% with 3: "+30.4 %" is above a +30 % limit)
    "count": 1,
}
#: no more decimals than this per unit (below it is noise: -0.0004 mL reads "0 mL")
UNIT_MAX_DECIMALS = {"mL": 3, "mL/day": 4, "mL/h": 4, "days": 1, "d": 1, "h": 1, "%": 1, "months": 1, "count": 0,
                     "min": 0}
DEFAULT_SIG = 3
MAX_DECIMALS = 6


def decimals(value: float, unit: str | None = None) -> int:
    """Decimal places that give ``value`` its unit's significant figures (0 for integers above it)."""
    import math

    if value is None or not math.isfinite(value) or value == 0:
        return 0
    sig = SIG_FIGS.get(unit or "", DEFAULT_SIG)
    cap = UNIT_MAX_DECIMALS.get(unit or "", MAX_DECIMALS)
    return int(min(cap, max(0, sig - 1 - math.floor(math.log10(abs(value))))))


def rounded(value: float | None, unit: str | None = None) -> float | None:
    """``value`` rounded for display (a float, e.g. for a table or CSV cell); -0.0 becomes 0.0."""
    import math

    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return value
    r = round(float(value), decimals(value, unit))
    r = round(r, decimals(r, unit))  # 9.996 -> 10.0 has one digit more before the point
    return 0.0 if r == 0 else r


def fmt(value: float | None, unit: str | None = None, with_unit: bool = True, signed: bool = False) -> str:
    """A number as people read it: ``fmt(0.39375, "mL/day") == "0.394 mL/day"``,
    ``fmt(1888.51, "days") == "1,889 days"``, ``fmt(-0.001, "mL") == "0 mL"``."""
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    r = rounded(value, unit)
    text = f"{r:,.{decimals(r, unit)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if signed and r > 0:
        text = "+" + text
    return f"{text} {unit}" if with_unit and unit and unit != "count" else text


def d3(unit: str | None = None) -> str:
    """The same rounding as a d3 format for Plotly hover templates (``%{y:.3~r}``): equal to
    :func:`fmt` below 10^sig (every volume and dose this app shows)."""
    return f",.{SIG_FIGS.get(unit or '', DEFAULT_SIG)}~r"


def unit_of(column: str) -> str | None:
    """The unit a column name carries: ``"withdrawn (mL)"`` -> mL, ``"expected_residual_ml"`` -> mL."""
    import re

    m = re.search(r"\(([^()]*)\)\s*$", column)
    if m:
        inner = m.group(1).split(",")[-1].strip()
        return inner.removeprefix("per ").strip() or None
    for suffix, unit in (("_ml_per_day", "mL/day"), ("_ml", "mL"), ("_days", "days"), ("_pct", "%"),
                         ("_h", "h"), ("_min", "min")):
        if column.endswith(suffix):
            return unit
    return None


def round_frame(df, units: dict[str, str] | None = None):
    """A copy of ``df`` with every float column rounded by its unit (given, or read from the
    column name): what tables and CSV exports show. Vectorised; -0.0 becomes 0.0."""
    import numpy as np
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col].dtype):
            continue
        unit = (units or {}).get(col) or unit_of(str(col))
        x = out[col].to_numpy(dtype=float)
        sig = SIG_FIGS.get(unit or "", DEFAULT_SIG)
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = np.floor(np.log10(np.abs(x)))
        cap = UNIT_MAX_DECIMALS.get(unit or "", MAX_DECIMALS)
        dec = np.clip(sig - 1 - np.nan_to_num(mag, nan=0, posinf=0, neginf=0), 0, cap)
        scale = 10.0 ** dec
        r = np.round(x * scale) / scale
        out[col] = np.where(r == 0, 0.0, r)
    return out


def text_frame(df, units: dict[str, str] | None = None):
    """A copy of ``df`` with every float column as text from :func:`fmt` (no unit: the column
    name carries it; empty for missing): for static tables, which would print 20.0000."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            unit = (units or {}).get(col) or unit_of(str(col))
            out[col] = [("" if pd.isna(v) else fmt(v, unit, with_unit=False)) for v in out[col]]
    return out


#: units :func:`fmt_text` recognises after a number, longest first ("mL/day" before "mL")
_TEXT_UNITS = sorted({*SIG_FIGS, "min", "mcg/h", "mg/h"} - {"count", "d"}, key=len, reverse=True)
_NUMBER_UNIT = None


def fmt_text(text: str) -> str:
    """A message or formula with every "<number> <unit>" rounded as :func:`fmt` does
    ("= 0.44375 mL/day" -> "= 0.444 mL/day", "8.571 h" -> "8.6 h"); numbers without a unit,
    dates ("2027-01-13") and times ("18:58") are left as they are. For texts the engine writes
    with full precision (messages, formulas), shown rounded without changing the engine."""
    import re

    global _NUMBER_UNIT
    if _NUMBER_UNIT is None:
        units = "|".join(re.escape(u) for u in _TEXT_UNITS)
        num = r"(?<![\w.:/-])(-?\d[\d,]*(?:\.\d+)?)(?![\d.:-]\d)"  # not inside a date, time, word or number
        # an optional first number of a range or pair ("625 to 887.5 mcg/day", "max 1000, hard max
        # 2000 mcg/day") takes the unit of the second; the unit ends at a word boundary
        _NUMBER_UNIT = re.compile(rf"(?:{num}( to |, hard max | and | or ))?{num} ({units})(?![\w/])")

    def one(m) -> str:
        first, gap, value, unit = m.groups()
        if first is None:
            head = ""
        elif re.fullmatch(r"(19|20)\d\d", first):  # a year ("March 2026 to ..."), not a value
            head = first + gap
        else:
            head = fmt(float(first.replace(",", "")), unit, with_unit=False) + gap
        return head + fmt(float(value.replace(",", "")), unit)

    return _NUMBER_UNIT.sub(one, str(text))
