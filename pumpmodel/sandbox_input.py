"""Reading what a trainee types in the sandbox editor, without rewriting it.

Numbers and times arrive as text. Each reader returns ``(value, problem)``:
the value when the text is valid, else ``None`` and a plain-words message
naming the field (1-based positions: "step 2: 25:99 is not a time of day").
The editor keeps the typed text as it is; only a valid value reaches the case.

``plain_errors`` turns pydantic's validation errors of a case into the same
kind of messages (no patterns, no ``Value error,``, no zero-based indexes).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_TIME = re.compile(r"^\s*(\d{1,2})\s*[:.h]\s*(\d{2})\s*$")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def fmt(value) -> str:
    """A number as the editor shows it (``0.39375``, ``120``, not ``120.00``); text stays as typed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def number(text, field: str, *, lo: float | None = 0.0, hi: float | None = None, integer: bool = False,
           above_lo: bool = False, unit: str = "") -> tuple[float | int | None, Problem | None]:
    """A number typed in ``field``: refused (with the reason) when empty, not a number, not whole
    where a count is asked, or outside ``[lo, hi]`` (``above_lo``: strictly above ``lo``)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        raw = text
    else:
        s = str(text if text is not None else "").strip()
        if not s:
            return None, Problem(field, "empty: enter a number")
        try:
            raw = float(s.replace("\u2212", "-"))
        except ValueError:
            hint = " (use a dot for decimals)" if re.fullmatch(r"-?\d+,\d+", s) else ""
            return None, Problem(field, f"{s!r} is not a number{hint}")
    v = float(raw)
    u = f" {unit}" if unit else ""
    if not math.isfinite(v):
        return None, Problem(field, f"{raw} is not a finite number")
    if integer and not v.is_integer():
        return None, Problem(field, f"{fmt(v)} is not a whole number")
    if lo is not None and (v < lo or (above_lo and v == lo)):
        what = "more than" if above_lo else "at least"
        neg = " (it cannot be negative)" if v < 0 <= lo else ""
        return None, Problem(field, f"{fmt(v)}{u} is too low: it must be {what} {fmt(lo)}{u}{neg}")
    if hi is not None and v > hi:
        return None, Problem(field, f"{fmt(v)}{u} is too high: at most {fmt(hi)}{u}")
    return (int(v) if integer else v), None


def time_of_day(text, field: str) -> tuple[str | None, Problem | None]:
    """``7:00``, ``07:00``, ``7.00`` or ``7h00`` -> ``07:00``; anything else is refused."""
    s = str(text if text is not None else "").strip()
    if not s:
        return None, Problem(field, "empty: enter a time of day (HH:MM)")
    m = _TIME.match(s)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None, Problem(field, f"{s} is not a time of day (HH:MM, 00:00 to 23:59)")
    return f"{int(m.group(1)):02d}:{m.group(2)}", None


def _empty(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def steps(rows: list[dict], *, label: str = "step", value_field: str = "rate",
          to_rate=lambda v: v, lo: float = 0.0, hi: float | None = None
          ) -> tuple[list[dict], list[Problem]]:
    """Flex steps from editor rows ``{"start", "value"}`` (typed text or numbers).

    Returns the steps sorted by start time (``rate_ml_per_day`` via ``to_rate``; an invalid cell
    keeps its typed text, so the case stays invalid and the text is kept) and the problems, with
    1-based positions in the order shown. Empty rows are reported, never dropped."""
    out, problems = [], []
    for i, r in enumerate(rows, start=1):
        where = f"{label} {i}"
        start_raw, value_raw = r.get("start"), r.get("value")
        if _empty(start_raw) and _empty(value_raw):
            problems.append(Problem(where, "empty row: fill it in or delete it"))
            out.append({"start": None, "rate_ml_per_day": None, "_row": i})
            continue
        start, p1 = time_of_day(start_raw, f"{where}, start")
        value, p2 = number(value_raw, f"{where}, {value_field}", lo=lo, hi=hi)
        problems += [p for p in (p1, p2) if p]
        out.append({"start": start if p1 is None else start_raw,
                    "rate_ml_per_day": to_rate(value) if p2 is None else value_raw, "_row": i})
    ok = [s for s in out if isinstance(s["start"], str) and _TIME.match(s["start"])]
    bad = [s for s in out if s not in ok]
    ok.sort(key=lambda s: s["start"])
    seen: dict[str, int] = {}
    for s in ok:
        if s["start"] in seen:
            problems.append(Problem(f"{label} {s['_row']}", f"starts at {s['start']} like {label} {seen[s['start']]}: "
                                                           "two steps cannot start at the same time"))
        seen.setdefault(s["start"], s["_row"])
    if ok and ok[0]["start"] != "00:00":
        problems.append(Problem(f"{label}s", f"the first step must start at 00:00 (the earliest is {ok[0]['start']})"))
    if not out:
        problems.append(Problem(f"{label}s", "no step: add one starting at 00:00"))
    return [{k: v for k, v in s.items() if k != "_row"} for s in ok + bad], problems


# -- pydantic errors in plain words ---------------------------------------------------

_NAMES = {
    "proposed": "proposed program", "current": "current program", "pump": "pump", "steps": "step",
    "week": "weekday", "boluses": "bolus", "drugs": "drug", "ptm": "PTM", "refill": "refill",
    "rate_ml_per_day": "rate (mL/day)", "start": "start", "first_at": "first at", "every_hours": "every (h)",
    "volume_ml": "volume (mL)", "duration_min": "duration (min)", "bolus_volume_ml": "PTM bolus (mL)",
    "lockout_min": "lockout (min)", "max_per_day": "max per day", "concentration": "concentration",
    "unit": "unit", "drug": "drug", "reservoir_ml": "reservoir (mL)", "low_reservoir_alarm_ml":
    "low-reservoir alarm (mL)", "withdrawn_ml": "withdrawn (mL)", "added_ml": "added (mL)",
    "now": "session date and time", "next_appointment": "next appointment", "profile": "pump profile",
    "mode": "infusion mode", "indication": "indication",
}
_LISTS = {"steps", "boluses", "drugs"}


def where(loc) -> str:
    """``['proposed', 'steps', 1, 'start']`` -> ``proposed program, step 2, start``."""
    parts: list[str] = []
    loc = [p for p in loc if p not in ("function-after[...]",) and not str(p).startswith(("function-", "tagged-"))]
    for i, p in enumerate(loc):
        if isinstance(p, int):
            if parts:
                parts[-1] = f"{parts[-1]} {p + 1}"
            else:
                parts.append(f"item {p + 1}")
        elif p in _LISTS and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            parts.append(_NAMES[p])
        else:
            parts.append(_NAMES.get(str(p), str(p).replace("_", " ")))
    return ", ".join(parts) or "case"


def message(msg: str) -> str:
    """Pydantic's message without its internals."""
    msg = re.sub(r"^(Value error|Assertion failed), ", "", msg)
    msg = re.sub(r"^(proposed|current)(\.\w+)*(\[\d+\])?: ", "", msg)
    if msg.startswith("String should match pattern"):
        return "not a time of day (HH:MM, 00:00 to 23:59)"
    msg = re.sub(r"steps\[(\d+)\]", lambda m: f"step {int(m.group(1)) + 1}", msg)
    msg = msg.replace("Input should be a valid number, unable to parse string as a number", "not a number")
    msg = msg.replace("Input should be", "should be").replace("Field required", "missing")
    return msg


def plain_errors(errors: list[dict]) -> list[str]:
    """``[{"loc", "msg"}]`` (``sharelink.validation_errors``) as plain sentences, duplicates dropped."""
    out: list[str] = []
    for e in errors:
        line = f"{where(e.get('loc') or [])}: {message(str(e.get('msg', '')))}"
        if line not in out:
            out.append(line)
    return out
