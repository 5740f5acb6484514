"""Pure logic behind the programming sandbox (no Streamlit here).

Converts between dose and volume-rate entry, builds blank cases for a new
implant, compares the current and the pending program for the review screen,
and decides whether a proposal may be sent (hard findings block; each soft
finding needs an acknowledgement with a reason).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import library
from .evaluate import evaluate
from .evaluation import Evaluation, Finding
from .programs import WEEKDAYS, Case, DrugEntry, Program
from .units import fmt, num, when

MODE_LABELS = {
    "simple_continuous": "Simple continuous",
    "flex": "Flex (time-of-day steps)",
    "weekday_flex": "Weekday flex (steps per weekday)",
    "periodic_bolus": "Periodic bolus",
    "stopped": "Stopped",
}


def editor_mode(program: dict | Program | None) -> str:
    """The sandbox's mode choice for a program: the spec's mode, or weekday_flex."""
    if program is None:
        return "simple_continuous"
    p = program.model_dump() if isinstance(program, Program) else program
    if p.get("mode") == "flex" and p.get("week") is not None:
        return "weekday_flex"
    return p.get("mode") or "simple_continuous"


def concentration_in_drug_unit(drug: str, concentration: float, unit: str) -> float:
    return DrugEntry(drug=drug, concentration=concentration, unit=unit).concentration_in_drug_unit


def dose_for_rate(rate_ml_per_day: float, entry: DrugEntry) -> float:
    """Dose per day (drug unit/day) = volume rate (mL/day) x concentration (drug unit/mL)."""
    return rate_ml_per_day * entry.concentration_in_drug_unit


def rate_for_dose(dose_per_day: float, entry: DrugEntry) -> float:
    """Volume rate (mL/day) = dose per day / concentration (drug unit/mL)."""
    return dose_per_day / entry.concentration_in_drug_unit


def blank_case(profile: str = "programmable-20", now: datetime | None = None, drug: str = "baclofen") -> dict:
    """A new implant in the spec format: full reservoir, first fill, no current program.

    The starting program is a low simple continuous rate at the drug's first
    supplied concentration, inside its usual starting range."""
    spec = library.profile(profile)
    d = library.drug(drug)
    now = (now or datetime(2026, 11, 21, 9, 0)).replace(second=0, microsecond=0)
    conc = d.supplied_concentrations[0] if d.supplied_concentrations else d.concentration.soft_max / 2
    start_dose = d.start_dose_per_day.max or d.dose_per_day.soft_max / 10
    lasts_60_days = (spec.reservoir_ml - spec.low_reservoir_alarm_ml) / 60
    rate = max(spec.min_rate_ml_per_day, min(start_dose / 2 / conc, lasts_60_days))
    if spec.fixed_rate:  # the rate is fixed: the dose is set by the concentration
        rate = spec.nominal_rate_ml_per_day
        conc = round(start_dose / 2 / rate, 4)
    return {
        "pump": {"profile": profile},
        "now": now.isoformat(),
        "reservoir_ml": spec.reservoir_ml,
        "next_appointment": (now + timedelta(days=28)).isoformat(),
        "proposed": {"drugs": [{"drug": drug, "concentration": conc, "unit": d.concentration_unit}],
                     "mode": "simple_continuous", "rate_ml_per_day": round(rate, 4)},
        "first_fill": True,
    }


def current_evaluation(case: Case) -> Evaluation | None:
    """The current program evaluated on its own (its dates if nothing were changed)."""
    if case.current is None:
        return None
    return evaluate(case.model_copy(update={"proposed": case.current, "current": None}))


# -- comparison ---------------------------------------------------------------

def pct_change(old: float | None, new: float | None) -> str:
    if old is None or new is None:
        return ""
    if old == 0:
        return "" if new == 0 else "new"
    return fmt((new / old - 1) * 100, "%", signed=True)


def comparison_rows(case: Case, ev: Evaluation, cur: Evaluation | None, exact: bool = False) -> list[dict]:
    """Current vs proposed: daily volume, dose per drug (with change), dates; values rounded by
    unit (:func:`units.fmt`), or ``exact`` to full precision (to tell a change apart)."""
    def _ml(v: float | None) -> str:
        return "" if v is None else _q(v, "mL/day", exact)

    def _amt(v: float | None, unit: str) -> str:
        return "" if v is None else _q(v, unit, exact)

    rows = [{"figure": "daily volume", "current": _ml(cur.daily_volume_ml if cur else None),
             "proposed": _ml(ev.daily_volume_ml),
             "change": pct_change(cur.daily_volume_ml if cur else None, ev.daily_volume_ml)}]
    rows.append({"figure": "max volume (all PTM)",
                 "current": _ml(cur.max_daily_volume_ml if cur else None), "proposed": _ml(ev.max_daily_volume_ml),
                 "change": pct_change(cur.max_daily_volume_ml if cur else None, ev.max_daily_volume_ml)})
    names = list(dict.fromkeys([*(cur.daily_dose if cur else {}), *ev.daily_dose]))
    for n in names:
        old = cur.daily_dose.get(n) if cur else None
        new = ev.daily_dose.get(n)
        unit = (new or old).unit
        rows.append({"figure": f"{n} daily dose", "current": _amt(old.amount if old else None, unit),
                     "proposed": _amt(new.amount if new else None, unit),
                     "change": pct_change(old.amount if old else (0.0 if cur else None), new.amount if new else 0.0)})
        oldm, newm = (cur.max_daily_dose.get(n) if cur else None), ev.max_daily_dose.get(n)
        rows.append({"figure": f"{n} max (all PTM)", "current": _amt(oldm.amount if oldm else None, unit),
                     "proposed": _amt(newm.amount if newm else None, unit),
                     "change": pct_change(oldm.amount if oldm else None, newm.amount if newm else None)})
    for label, attr in (("low-reservoir alarm", "low_reservoir_alarm_at"),
                        ("alarm (all PTM)", "low_reservoir_alarm_at_worst_case"),
                        ("reservoir empty", "empty_at"), ("refill by", "refill_by")):
        rows.append({"figure": label, "current": when(getattr(cur, attr)) if cur else "",
                     "proposed": when(getattr(ev, attr)), "change": _days_shift(cur, ev, attr)})
    return rows


def _days_shift(cur, ev, attr) -> str:
    if cur is None or getattr(cur, attr) is None or getattr(ev, attr) is None:
        return ""
    d = (getattr(ev, attr) - getattr(cur, attr)).total_seconds() / 86400
    return fmt(d, "days", signed=True)



# -- review screen ------------------------------------------------------------

def _q(value: float, unit: str, exact: bool = False, with_unit: bool = True) -> str:
    """A setting as shown (:func:`fmt`) or, ``exact``, to full precision (to tell changes apart)."""
    if exact:
        return num(value) + (f" {unit}" if with_unit else "")
    return fmt(value, unit, with_unit=with_unit)


def schedule_text(p: Program | None, exact: bool = False) -> str:
    if p is None:
        return "none (new implant)"
    if p.mode == "stopped":
        return "stopped"
    if p.mode == "simple_continuous":
        return f"{_q(p.rate_ml_per_day, 'mL/day', exact)} all day"
    if p.mode == "periodic_bolus":
        bol = "; ".join(f"{_q(b.volume_ml, 'mL', exact)} over {_q(b.duration_min, 'min', exact)} every "
                        f"{_q(b.every_hours, 'h', exact)} from {b.first_at}" for b in p.boluses)
        return f"{_q(p.rate_ml_per_day, 'mL/day', exact)} background; {bol}"
    if p.steps is not None:
        return ", ".join(f"{s.start} {_q(s.rate_ml_per_day, 'mL/day', exact, False)}" for s in p.steps) + " (mL/day)"
    return " | ".join(f"{d}: " + ", ".join(f"{s.start} {_q(s.rate_ml_per_day, 'mL/day', exact, False)}"
                                          for s in p.week[d]) for d in WEEKDAYS) + " (mL/day)"


def _drugs_text(p: Program | None, exact: bool = False) -> str:
    if p is None:
        return "none (new implant)"
    return " + ".join(f"{e.drug} {_q(e.concentration, e.unit, exact)}" for e in p.drugs)


def _ptm_text(p: Program | None, exact: bool = False) -> str:
    if p is None:
        return ""
    if p.ptm is None:
        return "off"
    t = p.ptm
    return (f"{_q(t.bolus_volume_ml, 'mL', exact)}, lockout {_q(t.lockout_min, 'min', exact)}, "
            f"max {t.max_per_day}/day")


def review_rows(case: Case, ev: Evaluation, cur: Evaluation | None) -> list[dict]:
    """Every setting, current vs pending, with ``changed`` flags (the review screen).

    Values are rounded as everywhere else (:func:`units.fmt`); ``changed`` compares them to full
    precision, and a change that rounding would hide (0.3937 -> 0.3938 mL/day) is shown to full
    precision on its row."""
    c, p = case.current, case.proposed

    def both(text, program) -> tuple[str, str]:  # (as shown, to full precision)
        return text(program), text(program, exact=True)

    def same(text: str) -> tuple[str, str]:
        return text, text

    rows = [("pump profile", same(case.pump.profile), same(case.pump.profile)),
            ("drug(s) and concentration", both(_drugs_text, c), both(_drugs_text, p)),
            ("infusion mode", same(MODE_LABELS[editor_mode(c)] if c else ""), same(MODE_LABELS[editor_mode(p)])),
            ("schedule", both(schedule_text, c) if c else same(""), both(schedule_text, p)),
            ("PTM bolus", both(_ptm_text, c), both(_ptm_text, p))]
    full = {r["figure"]: r for r in comparison_rows(case, ev, cur, exact=True)}
    rows += [(r["figure"], (r["current"], full[r["figure"]]["current"]), (r["proposed"], full[r["figure"]]["proposed"]))
             for r in comparison_rows(case, ev, cur)]
    lra = _q(case.pump.lra_ml, "mL"), _q(case.pump.lra_ml, "mL", True)
    rows += [("low-reservoir alarm volume", lra, lra),
             ("reservoir volume", (_q(case.reservoir_ml, "mL"), _q(case.reservoir_ml, "mL", True)),
              (_q(case.start_volume_ml, "mL"), _q(case.start_volume_ml, "mL", True))),
             ("next appointment", same(when(case.next_appointment)), same(when(case.next_appointment)))]
    out = []
    for setting, (a, a_exact), (b, b_exact) in rows:
        changed = a_exact != b_exact
        if changed and a == b:  # rounding would hide the change
            a, b = a_exact, b_exact
        out.append({"setting": setting, "current": a, "pending": b, "changed": changed})
    return out


# -- sending --------------------------------------------------------------------

def ack_key(f: Finding) -> str:
    """Identity of a soft finding for its acknowledgement (stable across small edits)."""
    return f"{f.code}:{f.drug or '-'}"


def soft_findings(ev: Evaluation) -> list[Finding]:
    return [f for f in ev.warnings if f.severity == "soft"]


@dataclass(frozen=True)
class SendCheck:
    allowed: bool
    reasons: list[str]
    missing_acks: list[str]


def send_check(ev: Evaluation, acks: dict[str, str]) -> SendCheck:
    """Hard findings block; every soft finding needs an acknowledgement with a non-blank reason."""
    reasons = [f"{f.code}: {f.message}" for f in ev.warnings if f.severity == "hard"]
    missing_f = [f for f in soft_findings(ev) if not (acks.get(ack_key(f)) or "").strip()]
    missing = [ack_key(f) for f in missing_f]
    why = [f"hard warning {r}" for r in reasons]
    if missing:
        names = ", ".join(f.code + (f" ({f.drug})" if f.drug else "") for f in missing_f)
        why.append(f"{len(missing)} soft warning(s) not acknowledged with a reason: {names}")
    return SendCheck(allowed=not why, reasons=why, missing_acks=missing)


def override_entries(ev: Evaluation, acks: dict[str, str], pump_id: str, at: datetime) -> list[dict]:
    """Override-log entries for the soft findings acknowledged at a send."""
    return [{"at": at.isoformat(timespec="seconds"), "pump": pump_id, "code": f.code, "drug": f.drug,
             "message": f.message, "source": f.source, "reason": acks[ack_key(f)].strip()}
            for f in soft_findings(ev) if (acks.get(ack_key(f)) or "").strip()]


# -- editing helpers ---------------------------------------------------------------

def _first_rate(program: dict) -> float | None:
    if isinstance(program.get("rate_ml_per_day"), (int, float)):
        return float(program["rate_ml_per_day"])
    steps = program.get("steps") or next(iter((program.get("week") or {}).values()), None) or []
    for s in steps:
        if isinstance(s, dict) and isinstance(s.get("rate_ml_per_day"), (int, float)):
            return float(s["rate_ml_per_day"])
    return None


def mean_rate(program: dict) -> float:
    """Daily volume of a (possibly invalid) program dict; a first rate or 0.1 mL/day when it does not validate."""
    from .schedule import profile_for

    try:
        v = profile_for(Program.model_validate(program)).daily_volume_ml
    except Exception:  # an invalid draft: fall back to what can be read
        v = None
    if not v:
        v = _first_rate(program) or 0.1
    return round(v, 6)


def convert_mode(program: dict, new_mode: str) -> dict:
    """A program dict switched to another editor mode, keeping drugs, PTM and (where it can) the daily volume."""
    out: dict = {"drugs": program.get("drugs") or [], "mode": "flex" if new_mode == "weekday_flex" else new_mode}
    rate = mean_rate(program)
    old_mode = editor_mode(program)
    if new_mode == "simple_continuous":
        out["rate_ml_per_day"] = rate
    elif new_mode == "flex":
        week = program.get("week") or {}
        steps = program.get("steps") if old_mode == "flex" else week.get("mon") if old_mode == "weekday_flex" else None
        out["steps"] = steps or [{"start": "00:00", "rate_ml_per_day": rate}]
    elif new_mode == "weekday_flex":
        steps = program.get("steps") or [{"start": "00:00", "rate_ml_per_day": rate}]
        out["week"] = program.get("week") or {d: [dict(s) for s in steps] for d in WEEKDAYS}
    elif new_mode == "periodic_bolus":
        if old_mode == "periodic_bolus":
            out["rate_ml_per_day"], out["boluses"] = program.get("rate_ml_per_day", rate), program.get("boluses")
        else:  # same daily volume: three quarters background, one quarter as a daily bolus
            out["rate_ml_per_day"] = round(rate * 0.75, 6)
            out["boluses"] = [{"first_at": "08:00", "every_hours": 24, "volume_ml": round(rate * 0.25, 6),
                               "duration_min": 30}]
    if new_mode != "stopped" and program.get("ptm"):
        out["ptm"] = program["ptm"]
    return out


# -- prepared demo cases (examples/*.json) --------------------------------------------

EXAMPLES_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "examples"

# file -> (title for presenters, codes the case is built to show)
DEMO_CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "spec_example.json": ("Spec example: new baclofen flex program, reservoir runs low before the appointment",
                          ("RESERVOIR_ALARM_BEFORE_APPOINTMENT", "RESERVOIR_EMPTY_BEFORE_APPOINTMENT")),
    "demo_hard_mg_mcg_mixup.json": ("Hard: baclofen 2000 entered as mg/mL instead of mcg/mL",
                                    ("CONCENTRATION_NOT_PLAUSIBLE", "DOSE_ABOVE_HARD_MAX")),
    "demo_hard_dose_above_max.json": ("Hard: morphine raised to 45 mg/day", ("DOSE_ABOVE_HARD_MAX",)),
    "demo_hard_constant_flow.json": ("Hard: rate change asked of a constant-flow pump", ("FIXED_RATE_PUMP",)),
    "demo_hard_overfill_and_rate.json": ("Hard: 22 mL into a 20 mL pump, rate below the pump's minimum",
                                         ("FILL_EXCEEDS_CAPACITY", "RATE_OUT_OF_PUMP_RANGE")),
    "demo_soft_titration_baclofen.json": ("Soft: baclofen flex titration +42 % with generous PTM",
                                          ("TITRATION_STEP_TOO_LARGE", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED")),
    "demo_soft_baclofen_abrupt_decrease.json": ("Soft: baclofen cut by 37.5 % (withdrawal risk)", ("ABRUPT_DECREASE",)),
    "demo_soft_refill_discrepancy.json": ("Soft: 1.2 mL withdrawn where 4 mL were expected (pocket fill?)",
                                          ("REFILL_DISCREPANCY",)),
    "demo_soft_ziconotide_new_pump.json": ("Soft: ziconotide first fill, start dose and 14-day stability window",
                                           ("START_DOSE_ABOVE_RECOMMENDED", "STABILITY_WINDOW_EXCEEDED")),
    "demo_soft_admixture_and_ptm.json": ("Soft: baclofen added to hydromorphone, PTM allows too much",
                                         ("ADMIXTURE_NOT_RECOMMENDED", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED")),
    "demo_soft_new_implant_start_dose.json": ("Soft: new implant, morphine started at 2 mg/day",
                                              ("START_DOSE_ABOVE_RECOMMENDED",)),
    "demo_info_bridge_bolus.json": ("Info: morphine 25 to 10 mg/mL at the same dose (bridge bolus)",
                                    ("BRIDGE_BOLUS_REQUIRED",)),
}


def demo_codes(file: str) -> list[tuple[str, str]]:
    """``(severity, code)`` of every finding the engine gives for a demo case (hard, soft, info)."""
    from .evaluate import evaluate

    order = {"hard": 0, "soft": 1, "info": 2}
    found = {(f.severity, f.code) for f in evaluate(Case.model_validate(demo_case(file))).warnings}
    return sorted(found, key=lambda sc: (order.get(sc[0], 3), sc[1]))


def demo_case(file: str) -> dict:
    """A prepared demo case (spec-format dict) from examples/."""
    import json

    if file not in DEMO_CASES:
        raise KeyError(file)
    return json.loads((EXAMPLES_DIR / file).read_text(encoding="utf-8"))
