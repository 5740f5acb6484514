"""Guardrail rules: small functions, each driven by the library data.

Each rule takes the ``Context`` of one evaluation and returns its findings.
Adding a drug or changing a limit is a data change (``data/*.yaml``); the
rules only read the library. Comparisons are inclusive as a clinician reads
them: a value exactly at a limit is allowed (see ``units.above``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from . import library
from .evaluation import BridgeBolus, Finding
from .programs import WEEKDAYS, Case, Program
from .schedule import DAY_S, RateProfile
from .units import above, below, num, when

PUMP_RANGE_SOURCE = "Pump profile rate range (pumpmodel/data/pumps.yaml)"


@dataclass(frozen=True)
class Context:
    case: Case
    rate_profile: RateProfile  # the proposal's exact delivery (background and boluses superposed)
    daily_volume_ml: float
    daily_dose: dict[str, float]
    max_daily_dose: dict[str, float]
    current_daily_dose: dict[str, float] | None
    alarm_at: datetime | None
    alarm_worst_at: datetime | None
    empty_at: datetime | None
    stability_end: datetime | None
    stability_days: float | None
    bridge: BridgeBolus | None

    @property
    def profile(self) -> library.PumpProfile:
        return self.case.pump.spec

    @property
    def proposed(self) -> Program:
        return self.case.proposed


def _f(code, severity, drug, message, source, value=None, limit=None, unit=None) -> Finding:
    return Finding(code=code, severity=severity, drug=drug, message=message, source=source,
                   value=value, limit=limit, unit=unit)


def rate_out_of_pump_range(ctx: Context) -> list[Finding]:
    """Every non-zero rate the pump must run, including background plus bolus and
    overlapping boluses, within the profile's range."""
    p = ctx.profile
    if p.fixed_rate:
        return []  # FIXED_RATE_PUMP speaks for constant-flow pumps
    basal = set(ctx.proposed.basal_rates())
    out = []
    for r in sorted({float(r) for r in ctx.rate_profile.rates_ml_per_day if r > 0}):
        if below(r, p.min_rate_ml_per_day) or above(r, p.max_rate_ml_per_day):
            what = "Rate" if r in basal else "Delivery rate during a bolus (background plus bolus)"
            out.append(_f(
                "RATE_OUT_OF_PUMP_RANGE", "hard", None,
                f"{what} {num(r)} mL/day is outside the {p.name} range "
                f"{num(p.min_rate_ml_per_day)} to {num(p.max_rate_ml_per_day)} mL/day"
                + (" (range assumed for training)" if p.rate_range_assumed else "") + ".",
                PUMP_RANGE_SOURCE + "; " + p.source, r,
                p.max_rate_ml_per_day if r > p.max_rate_ml_per_day else p.min_rate_ml_per_day, "mL/day"))
    return out


def concentration_limits(ctx: Context) -> list[Finding]:
    out = []
    for entry in ctx.proposed.drugs:
        d = entry.spec
        c = entry.concentration_in_drug_unit
        lim = d.concentration
        unit = d.concentration_unit
        supplied = ", ".join(num(s) for s in d.supplied_concentrations) or "none (compounded)"
        if above(c, lim.hard_max):
            hint = ""
            if any(abs(c / 1000 - s) < 1e-9 * s for s in d.supplied_concentrations):
                hint = f" {num(c)} is 1000 x the supplied {num(c / 1000)} {unit}: a mg/mcg mix-up?"
            out.append(_f("CONCENTRATION_NOT_PLAUSIBLE", "hard", d.name,
                          f"{d.name} {num(c)} {unit} is above the plausible maximum {num(lim.hard_max)} {unit}"
                          f" (supplied: {supplied}).{hint} Check the unit and the vial.",
                          lim.source, c, lim.hard_max, unit))
        elif above(c, lim.soft_max):
            out.append(_f("CONCENTRATION_ABOVE_RECOMMENDED", "soft", d.name,
                          f"{d.name} {num(c)} {unit} is above the recommended maximum {num(lim.soft_max)} {unit}.",
                          lim.source, c, lim.soft_max, unit))
    return out


def dose_limits(ctx: Context) -> list[Finding]:
    out = []
    for name, dose in ctx.daily_dose.items():
        d = library.drug(name)
        lim = d.dose_per_day
        unit = d.dose_unit
        max_dose = ctx.max_daily_dose[name]
        if above(dose, lim.hard_max):
            out.append(_f("DOSE_ABOVE_HARD_MAX", "hard", name,
                          f"{name} {num(dose)} {unit} is above the hard maximum {num(lim.hard_max)} {unit}.",
                          lim.source, dose, lim.hard_max, unit))
        elif above(dose, lim.soft_max):
            out.append(_f("DOSE_ABOVE_RECOMMENDED", "soft", name,
                          f"{name} {num(dose)} {unit} is above the recommended maximum {num(lim.soft_max)} {unit}.",
                          lim.source, dose, lim.soft_max, unit))
        elif above(max_dose, lim.soft_max):
            ptm = ctx.proposed.ptm
            out.append(_f("PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED", "soft", name,
                          f"With every allowed PTM bolus ({ptm.allowed_per_day} x {num(ptm.bolus_volume_ml)} mL) "
                          f"{name} reaches {num(max_dose)} {unit}, above the recommended maximum "
                          f"{num(lim.soft_max)} {unit} (programmed alone: {num(dose)} {unit}).",
                          lim.source, max_dose, lim.soft_max, unit))
    return out


def day_dose_limits(ctx: Context) -> list[Finding]:
    """Weekday schedules: the contract checks the 7-day mean; a single day above a
    maximum is flagged too (hard above the hard maximum), so a heavy day is not averaged away."""
    prog = ctx.proposed
    if prog.mode != "flex" or prog.week is None:
        return []
    p = ctx.rate_profile
    day_ml = {d: float(p.volume_between(i * DAY_S, (i + 1) * DAY_S)) for i, d in enumerate(WEEKDAYS)}
    worst_day = max(day_ml, key=day_ml.get)
    out = []
    for entry in prog.drugs:
        d, lim = entry.spec, entry.spec.dose_per_day
        mean, dose = ctx.daily_dose[d.name], day_ml[worst_day] * entry.concentration_in_drug_unit
        for code, severity, limit, word in (("DAY_DOSE_ABOVE_HARD_MAX", "hard", lim.hard_max, "hard maximum"),
                                            ("DAY_DOSE_ABOVE_RECOMMENDED", "soft", lim.soft_max,
                                             "recommended maximum")):
            if above(dose, limit):
                if not above(mean, limit):  # the mean already speaks for this limit otherwise
                    out.append(_f(code, severity, d.name,
                                  f"On {worst_day} the schedule gives {num(dose)} {d.dose_unit} of {d.name}, above "
                                  f"the {word} {num(limit)} {d.dose_unit} (7-day mean {num(mean)}).",
                                  lim.source, dose, limit, d.dose_unit))
                break
    return out


def _new_drugs(ctx: Context) -> list[str]:
    """Drugs with no dose in the current program (no current program: all)."""
    cur = ctx.current_daily_dose
    return [n for n in ctx.daily_dose if cur is None or cur.get(n, 0.0) <= 0]


def start_dose(ctx: Context) -> list[Finding]:
    out = []
    for name in _new_drugs(ctx):
        d = library.drug(name)
        dose, start = ctx.daily_dose[name], d.start_dose_per_day
        if start.max is not None and above(dose, start.max):
            lo = f"{num(start.min)}-" if start.min else "up to "
            out.append(_f("START_DOSE_ABOVE_RECOMMENDED", "soft", name,
                          f"Starting {name} at {num(dose)} {d.dose_unit}: the usual start is "
                          f"{lo}{num(start.max)} {d.dose_unit}.", start.source, dose, start.max, d.dose_unit))
    return out


def titration_step(ctx: Context) -> list[Finding]:
    cur = ctx.current_daily_dose
    if cur is None:
        return []
    out = []
    for name, new in ctx.daily_dose.items():
        old = cur.get(name, 0.0)
        if old <= 0:
            continue
        d = library.drug(name)
        t = d.titration
        if t.max_increase_per_day is not None:
            if above(new - old, t.max_increase_per_day):
                out.append(_f("TITRATION_STEP_TOO_LARGE", "soft", name,
                              f"{name} rises by {num(new - old)} {d.dose_unit} ({num(old)} to {num(new)}); "
                              f"the rule allows at most +{num(t.max_increase_per_day)} {d.dose_unit} per step.",
                              t.source, new - old, t.max_increase_per_day, d.dose_unit))
            continue
        pct, why = t.max_increase_percent, ""
        if pct is None:
            ind = ctx.case.indication
            pct = t.max_increase_percent_by_indication.get(ind) if ind else None
            if pct is None:
                pct = t.default_max_increase_percent
                why = (" (indication not given: the stricter limit applies)" if ind is None else
                       f" (no specific rule for {ind.replace('_', ' ')}: the stricter limit applies)")
            else:
                why = f" for {ind.replace('_', ' ')}"
        if pct is None:
            continue
        limit = old * (1 + pct / 100)
        if above(new, limit):
            out.append(_f("TITRATION_STEP_TOO_LARGE", "soft", name,
                          f"{name} rises {num((new / old - 1) * 100, 4)} % ({num(old)} to {num(new)} {d.dose_unit}); "
                          f"the rule allows at most +{num(pct)} %{why}, i.e. {num(limit)} {d.dose_unit}.",
                          t.source, (new / old - 1) * 100, pct, "%"))
    return out


def abrupt_decrease(ctx: Context) -> list[Finding]:
    cur = ctx.current_daily_dose
    if cur is None:
        return []
    out = []
    for name, old in cur.items():
        d = library.drug(name)
        if d.max_decrease_percent is None or old <= 0:
            continue
        new = ctx.daily_dose.get(name, 0.0)
        floor = old * (1 - d.max_decrease_percent / 100)
        if below(new, floor):
            what = "stops" if new <= 0 else f"cuts {name} by {num((1 - new / old) * 100, 4)} %"
            out.append(_f("ABRUPT_DECREASE", "soft", name,
                          f"The new program {what} ({num(old)} to {num(new)} {d.dose_unit}); more than "
                          f"{num(d.max_decrease_percent)} % at once risks life-threatening {name} withdrawal.",
                          d.decrease_source or "", (1 - new / old) * 100, d.max_decrease_percent, "%"))
    return out


def reservoir_vs_appointment(ctx: Context) -> list[Finding]:
    appt = ctx.case.next_appointment
    if appt is None:
        return []
    out = []
    lra = ctx.case.pump.lra_ml
    src = library.lra_source(ctx.profile)
    if ctx.alarm_worst_at is not None and ctx.alarm_worst_at < appt:
        if ctx.alarm_worst_at <= ctx.case.now:
            lead = f"The reservoir ({num(ctx.case.start_volume_ml)} mL) is already at or below the {num(lra)} mL alarm"
        else:
            how = "With every allowed PTM bolus the reservoir" if ctx.proposed.ptm else "The reservoir"
            lead = f"{how} reaches the {num(lra)} mL low-reservoir alarm on {when(ctx.alarm_worst_at)}"
        out.append(_f("RESERVOIR_ALARM_BEFORE_APPOINTMENT", "soft", None,
                      f"{lead}, before the next appointment on {when(appt)} "
                      f"({num((appt - ctx.alarm_worst_at).total_seconds() / 86400, 3)} days early).", src))
    if ctx.empty_at is not None and ctx.empty_at < appt:
        out.append(_f("RESERVOIR_EMPTY_BEFORE_APPOINTMENT", "soft", None,
                      f"The reservoir empties on {when(ctx.empty_at)}, before the next appointment on {when(appt)}: "
                      "therapy would stop.", library.pump_defaults().empty_reservoir_source))
    return out


def stability_window(ctx: Context) -> list[Finding]:
    appt = ctx.case.next_appointment
    if appt is None or ctx.stability_end is None or not appt > ctx.stability_end:
        return []
    names = [e.drug for e in ctx.proposed.drugs if e.spec.stability is not None]
    src = "; ".join(library.drug(n).stability.source for n in names)
    return [_f("STABILITY_WINDOW_EXCEEDED", "soft", names[0] if len(names) == 1 else None,
               f"The next appointment {when(appt)} is after the end of the stability window "
               f"({num(ctx.stability_days)} days, until {when(ctx.stability_end)}): refill by then.",
               src, ctx.stability_days, None, "days")]


def fill_capacity(ctx: Context) -> list[Finding]:
    cap = ctx.profile.reservoir_ml
    out = []
    vols = [("reservoir_ml", ctx.case.reservoir_ml)]
    if ctx.case.refill is not None:
        vols.append(("refill.added_ml", ctx.case.refill.added_ml))
    for field, v in vols:
        if above(v, cap):
            out.append(_f("FILL_EXCEEDS_CAPACITY", "hard", None,
                          f"{field} {num(v)} mL is more than the {num(cap)} mL reservoir of {ctx.profile.name}: impossible.",
                          ctx.profile.source, v, cap, "mL"))
    return out


def bridge_bolus(ctx: Context) -> list[Finding]:
    b = ctx.bridge
    if b is None:
        return []
    hours = "never (nothing is delivered)" if b.hours_to_clear_without is None else \
        f"{num(b.hours_to_clear_without, 4)} h"
    return [_f("BRIDGE_BOLUS_REQUIRED", "info", None,
               f"The drug or concentration changes: {num(b.volume_ml)} mL of the old solution fills the tubing and "
               f"catheter. Without a bridge bolus the new program needs {hours} to clear it, delivering the old "
               "dose meanwhile.", library.pump_defaults().catheter_volume_source, b.volume_ml, None, "mL")]


def admixture(ctx: Context) -> list[Finding]:
    if len(ctx.proposed.drugs) < 2:
        return []
    out = []
    for entry in ctx.proposed.drugs:
        d = entry.spec
        if not d.admixture_allowed:
            others = ", ".join(n for n in ctx.proposed.drug_names if n != d.name)
            out.append(_f("ADMIXTURE_NOT_RECOMMENDED", "soft", d.name,
                          f"{d.name} is mixed with {others}; it should not be mixed with other drugs in the pump.",
                          d.admixture_source or ""))
    return out


def refill_discrepancy(ctx: Context) -> list[Finding]:
    r = ctx.case.refill
    if r is None:
        return []
    limit = ctx.profile.refill_discrepancy_ml
    diff = r.withdrawn_ml - ctx.case.reservoir_ml
    if not above(abs(diff), limit):
        return []
    return [_f("REFILL_DISCREPANCY", "soft", None,
               f"Withdrawn {num(r.withdrawn_ml)} mL but {num(ctx.case.reservoir_ml)} mL expected: "
               f"{num(abs(diff))} mL {'more' if diff > 0 else 'less'} than expected, above the "
               f"{num(limit)} mL tolerance for a {num(ctx.profile.reservoir_ml)} mL pump. Possible pocket fill "
               "or pump malfunction: investigate before refilling.",
               library.pump_defaults().refill_discrepancy_source, abs(diff), limit, "mL")]


def fixed_rate(ctx: Context) -> list[Finding]:
    """A constant-flow pump delivers its fixed flow; only the concentration changes the dose."""
    p = ctx.profile
    if not p.fixed_rate:
        return []
    fixed, prop = p.nominal_rate_ml_per_day, ctx.proposed
    asked = []
    if prop.mode != "simple_continuous":
        asked.append(f"{prop.mode.replace('_', ' ')} programming")
    elif fixed is not None and abs(prop.rate_ml_per_day - fixed) > 1e-9 * max(1.0, fixed):
        asked.append(f"a rate of {num(prop.rate_ml_per_day)} mL/day")
    if prop.ptm is not None:
        asked.append("patient boluses (PTM)")
    if not asked:
        return []
    return [_f("FIXED_RATE_PUMP", "hard", None,
               f"{p.name} delivers a fixed {num(fixed)} mL/day and cannot be programmed ({' and '.join(asked)} "
               "requested): change the dose by changing the concentration at the next refill.", p.source,
               prop.rate_ml_per_day, fixed, "mL/day")]


def mode_supported(ctx: Context) -> list[Finding]:
    p, prog = ctx.profile, ctx.proposed
    if p.fixed_rate:
        return []
    out = []
    if prog.mode not in p.modes or (prog.week is not None and not p.weekday_flex):
        what = "weekday flex" if prog.week is not None else prog.mode.replace("_", " ")
        out.append(_f("MODE_NOT_SUPPORTED", "hard", None, f"{p.name} does not offer {what} programming.", p.source))
    if prog.ptm is not None and not p.ptm:
        out.append(_f("MODE_NOT_SUPPORTED", "hard", None, f"{p.name} has no patient bolus (PTM).", p.source))
    return out


def battery(ctx: Context) -> list[Finding]:
    eos, appt = ctx.case.pump.end_of_service_at, ctx.case.next_appointment
    if eos is None or appt is None or not eos < appt:
        return []
    return [_f("BATTERY_END_OF_SERVICE_BEFORE_APPOINTMENT", "soft", None,
               f"The battery reaches end of service on {when(eos)}, before the next appointment on {when(appt)}: "
               "plan pump replacement.", library.pump_defaults().eri_source)]


def supplied_concentration(ctx: Context) -> list[Finding]:
    out = []
    for entry in ctx.proposed.drugs:
        d = entry.spec
        c = entry.concentration_in_drug_unit
        if d.supplied_concentrations and not above(c, d.concentration.hard_max) and not any(
                abs(c - s) <= 1e-9 * s for s in d.supplied_concentrations):
            out.append(_f("CONCENTRATION_NOT_SUPPLIED", "info", d.name,
                          f"{d.name} {num(c)} {d.concentration_unit} is not a supplied concentration "
                          f"({', '.join(num(s) for s in d.supplied_concentrations)} {d.concentration_unit}): "
                          "check the label of the syringe.", d.concentration.source))
    return out


RULES: list[Callable[[Context], list[Finding]]] = [
    fill_capacity, fixed_rate, mode_supported, rate_out_of_pump_range, concentration_limits, dose_limits, day_dose_limits,
    start_dose, titration_step, abrupt_decrease, admixture, refill_discrepancy, reservoir_vs_appointment,
    stability_window, battery, bridge_bolus, supplied_concentration,
]


def check(ctx: Context) -> list[Finding]:
    return [f for rule in RULES for f in rule(ctx)]
