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

from datetime import timedelta

import numpy as np

from . import library
from .evaluation import BridgeBolus, Finding
from .programs import WEEKDAYS, Case, Program
from .schedule import DAY_S, EPOCH, RateProfile, calendar_day_volumes, profile_for
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
    current_profile: RateProfile | None = None  # the current program's exact delivery

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
    """One finding per limit: the programmed dose against the soft and hard maxima; with
    PTM, the dose with every allowed bolus against the maxima the programmed dose stays under."""
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
            continue
        if above(dose, lim.soft_max):
            out.append(_f("DOSE_ABOVE_RECOMMENDED", "soft", name,
                          f"{name} {num(dose)} {unit} is above the recommended maximum {num(lim.soft_max)} {unit}.",
                          lim.source, dose, lim.soft_max, unit))
        ptm = ctx.proposed.ptm
        with_ptm = "" if ptm is None else f"With every allowed PTM bolus ({ptm.allowed_per_day} x " \
                                          f"{num(ptm.bolus_volume_ml)} mL) "
        if above(max_dose, lim.hard_max):
            out.append(_f("PTM_ALLOWS_DOSE_ABOVE_HARD_MAX", "hard", name,
                          f"{with_ptm}{name} reaches {num(max_dose)} {unit}, above the hard maximum "
                          f"{num(lim.hard_max)} {unit} (programmed alone: {num(dose)} {unit}): lower the PTM "
                          "bolus or the number allowed per day.", lim.source, max_dose, lim.hard_max, unit))
        elif not above(dose, lim.soft_max) and above(max_dose, lim.soft_max):
            out.append(_f("PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED", "soft", name,
                          f"{with_ptm}{name} reaches {num(max_dose)} {unit}, above the recommended maximum "
                          f"{num(lim.soft_max)} {unit} (programmed alone: {num(dose)} {unit}).",
                          lim.source, max_dose, lim.soft_max, unit))
    return out


def ptm_bolus_large(ctx: Context) -> list[Finding]:
    """One PTM bolus above a share of the programmed daily dose (assumed training value)."""
    ptm, prog = ctx.proposed.ptm, ctx.proposed
    if ptm is None or prog.mode == "stopped" or ptm.bolus_volume_ml <= 0 or ptm.allowed_per_day == 0:
        return []
    rule = library.rules().ptm_bolus_max_percent_of_daily_dose
    daily = ctx.daily_volume_ml
    pct = float("inf") if daily <= 0 else ptm.bolus_volume_ml / daily * 100
    if not above(pct, rule.value):
        return []
    doses = "; ".join(f"{num(ptm.bolus_volume_ml * c)} {library.drug(n).unit} {n} per bolus vs "
                      f"{num(ctx.daily_dose[n])} {library.drug(n).dose_unit}"
                      for n, c in prog.concentrations().items())
    share = "with no programmed delivery" if daily <= 0 else f"{num(pct, 4)} % of the programmed daily dose"
    names = prog.drug_names
    return [_f("PTM_BOLUS_LARGE", "soft", names[0] if len(names) == 1 else None,
               f"One PTM bolus of {num(ptm.bolus_volume_ml)} mL is {share} ({doses}); above "
               f"{num(rule.value)} % is large" + (" (assumed training value)" if rule.assumed else "") + ".",
               rule.source, None if daily <= 0 else pct, rule.value, "%")]


def _flex_steps(prog: Program) -> list[tuple[str | None, object]]:
    if prog.mode != "flex":
        return []
    if prog.steps is not None:
        return [(None, s) for s in prog.steps]
    return [(d, s) for d in WEEKDAYS for s in prog.week[d]]


def step_rate_above_dose_limit(ctx: Context) -> list[Finding]:
    """A flex step whose rate, held for 24 h, gives more than the hard daily maximum: the
    mg/hour vs mg/day slip. Silent when the daily dose is itself above the hard maximum."""
    steps = _flex_steps(ctx.proposed)
    if not steps:
        return []
    src = library.rules().step_rate_above_dose_limit.source
    out = []
    for entry in ctx.proposed.drugs:
        d, c = entry.spec, entry.concentration_in_drug_unit
        if above(ctx.daily_dose[d.name], d.dose_per_day.hard_max):
            continue
        bad = [(day, s) for day, s in steps if above(s.rate_ml_per_day * c, d.dose_per_day.hard_max)]
        if not bad:
            continue
        day, worst = max(bad, key=lambda x: x[1].rate_ml_per_day)
        where = ", ".join(f"{dd + ' ' if dd else ''}{s.start}" for dd, s in bad)
        dose = worst.rate_ml_per_day * c
        out.append(_f("STEP_RATE_ABOVE_DOSE_LIMIT", "soft", d.name,
                      f"The step at {where} runs {num(worst.rate_ml_per_day)} mL/day: held for 24 h that is "
                      f"{num(dose)} {d.dose_unit} of {d.name}, above the hard maximum "
                      f"{num(d.dose_per_day.hard_max)} {d.dose_unit}. Was a dose per hour entered as per day?",
                      src + "; " + d.dose_per_day.source, dose, d.dose_per_day.hard_max, d.dose_unit))
    return out


def _longest_zero_run_s(p: RateProfile) -> float:
    """Longest stretch (seconds) with zero rate in the periodic profile, across period ends."""
    zero = p.rates_ml_per_day <= 0
    if zero.all():
        return float("inf")
    ends = np.append(p.starts_s[1:], p.period_s)
    lengths = np.where(zero, ends - p.starts_s, 0.0)
    best, run = 0.0, 0.0
    for length, z in zip(np.concatenate((lengths, lengths)), np.concatenate((zero, zero))):  # twice: wrap
        run = run + length if z else 0.0
        best = max(best, run)
    return best


def delivery_interruption(ctx: Context) -> list[Finding]:
    """Baclofen or clonidine: the program delivers nothing for the drug's interruption limit or longer."""
    drugs = [e.spec for e in ctx.proposed.drugs if e.spec.interruption is not None]
    if not drugs:
        return []
    gap_s = _longest_zero_run_s(ctx.rate_profile)
    out = []
    for d in drugs:
        lim = d.interruption
        if below(gap_s / 3600, lim.hours):  # "4 h or more": exactly 4 h counts
            continue
        what = "delivers nothing at all" if gap_s == float("inf") else \
            f"delivers nothing for {num(gap_s / 3600, 4)} h in a row"
        out.append(_f("DELIVERY_INTERRUPTION", "soft", d.name,
                      f"The program {what} while the pump holds {d.name}: {num(lim.hours)} h or more without "
                      f"delivery risks withdrawal" + (" (assumed training value)" if lim.assumed else "") + ".",
                      lim.source, None if gap_s == float("inf") else gap_s / 3600, lim.hours, "h"))
    return out


def day_dose_limits(ctx: Context) -> list[Finding]:
    """Schedules that differ from day to day (weekday flex; periodic boluses whose pattern
    spans several days): the contract checks the mean per day; the heaviest calendar day
    above a maximum is flagged too (hard above the hard maximum), so it is not averaged away."""
    p = ctx.rate_profile
    if p.period_s <= DAY_S:
        return []
    starts, vols = calendar_day_volumes(p)
    i = int(np.argmax(vols))
    if ctx.proposed.week is not None:
        day_name = f"on {WEEKDAYS[i]}"
        span = "7-day mean"
    else:
        n = len(vols)
        first = _day_of(ctx, starts[i])
        day_name = f"on {first:%Y-%m-%d} (and every {n} days after)"
        span = f"mean over the {n}-day bolus pattern"
    out = []
    for entry in ctx.proposed.drugs:
        d, lim = entry.spec, entry.spec.dose_per_day
        mean, dose = ctx.daily_dose[d.name], float(vols[i]) * entry.concentration_in_drug_unit
        for code, severity, limit, word in (("DAY_DOSE_ABOVE_HARD_MAX", "hard", lim.hard_max, "hard maximum"),
                                            ("DAY_DOSE_ABOVE_RECOMMENDED", "soft", lim.soft_max,
                                             "recommended maximum")):
            if above(dose, limit):
                if not above(mean, limit):  # the mean already speaks for this limit otherwise
                    out.append(_f(code, severity, d.name,
                                  f"{day_name[0].upper() + day_name[1:]} the schedule gives {num(dose)} "
                                  f"{d.dose_unit} of {d.name}, above the {word} {num(limit)} {d.dose_unit} "
                                  f"({span} {num(mean)}).", lim.source, dose, limit, d.dose_unit))
                break
    return out


def _day_of(ctx: Context, phase_s: float):
    """The first calendar day on or after ``now``'s day that is at ``phase_s`` within the profile's period."""
    period_days = ctx.rate_profile.period_s // DAY_S
    day0 = (ctx.case.now.date() - EPOCH.date()).days
    k = int(phase_s // DAY_S)
    ahead = (k - day0) % period_days
    return ctx.case.now.date() + timedelta(days=ahead)


def _new_drugs(ctx: Context) -> list[str]:
    """Drugs with no dose in the current program (no current program: all)."""
    cur = ctx.current_daily_dose
    return [n for n in ctx.daily_dose if cur is None or cur.get(n, 0.0) <= 0]


def start_dose(ctx: Context) -> list[Finding]:
    out = []
    for name in _new_drugs(ctx):
        d = library.drug(name)
        dose, start = ctx.daily_dose[name], d.start_dose_per_day
        limit, how = start.max, None
        screening = ctx.case.screening_bolus_mcg
        if start.screening_bolus_multiple is not None:
            if screening is not None:
                bolus = screening / 1000 if d.unit == "mg" else screening
                limit = start.screening_bolus_multiple * bolus
                how = (f"{num(start.screening_bolus_multiple)} x the effective screening bolus "
                       f"{num(bolus)} {d.unit} = {num(limit)} {d.dose_unit}")
            elif limit is not None:
                how = f"at most {num(limit)} {d.dose_unit} (screening bolus not given)"
        if limit is None or not above(dose, limit):
            continue
        if how is None:
            how = (f"{num(start.min)}-" if start.min else "up to ") + f"{num(limit)} {d.dose_unit}"
        out.append(_f("START_DOSE_ABOVE_RECOMMENDED", "soft", name,
                      f"Starting {name} at {num(dose)} {d.dose_unit}: the usual start is {how}.",
                      start.source, dose, limit, d.dose_unit))
    return out


def _titration_limit(ctx: Context, d: library.Drug) -> tuple[str, float, str] | None:
    """(kind, value, why) of the drug's titration rule: kind "abs" (per-day amount) or "pct"."""
    t = d.titration
    if t.max_increase_per_day is not None:
        return "abs", t.max_increase_per_day, ""
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
    return None if pct is None else ("pct", pct, why)


def _rises_too_much(rule: tuple[str, float, str], old: float, new: float) -> bool:
    kind, value, _ = rule
    return above(new - old, value) if kind == "abs" else above(new, old * (1 + value / 100))


def _weekday_volumes(p: RateProfile) -> np.ndarray | None:
    """Volume on each weekday (Mon..Sun) when the profile has a week period, else None."""
    if p.period_s != 7 * DAY_S:
        return None
    return calendar_day_volumes(p)[1]


def titration_step(ctx: Context) -> list[Finding]:
    cur = ctx.current_daily_dose
    if cur is None:
        return []
    out = []
    new_week = _weekday_volumes(ctx.rate_profile)
    old_week = None if ctx.current_profile is None else _weekday_volumes(ctx.current_profile)
    per_weekday = new_week is not None or old_week is not None
    for name, new in ctx.daily_dose.items():
        old = cur.get(name, 0.0)
        if old <= 0:
            continue
        d = library.drug(name)
        rule = _titration_limit(ctx, d)
        if rule is None:
            continue
        kind, value, why = rule
        if _rises_too_much(rule, old, new):
            if kind == "abs":
                msg = (f"{name} rises by {num(new - old)} {d.dose_unit} ({num(old)} to {num(new)}); "
                       f"the rule allows at most +{num(value)} {d.dose_unit} per step.")
                out.append(_f("TITRATION_STEP_TOO_LARGE", "soft", name, msg, d.titration.source,
                              new - old, value, d.dose_unit))
            else:
                msg = (f"{name} rises {num((new / old - 1) * 100, 4)} % ({num(old)} to {num(new)} {d.dose_unit}); "
                       f"the rule allows at most +{num(value)} %{why}, i.e. {num(old * (1 + value / 100))} "
                       f"{d.dose_unit}.")
                out.append(_f("TITRATION_STEP_TOO_LARGE", "soft", name, msg, d.titration.source,
                              (new / old - 1) * 100, value, "%"))
            continue
        if not per_weekday:
            continue
        conc_new = ctx.proposed.concentrations()[name]
        conc_old = ctx.case.current.concentrations()[name]
        nw = new_week * conc_new if new_week is not None else np.full(7, new)
        ow = old_week * conc_old if old_week is not None else np.full(7, old)
        bad = [(WEEKDAYS[i], float(ow[i]), float(nw[i])) for i in range(7)
               if ow[i] > 0 and _rises_too_much(rule, float(ow[i]), float(nw[i]))]
        if not bad:
            continue
        day, o, n = max(bad, key=lambda x: x[2] / x[1])
        days = ", ".join(b[0] for b in bad)
        limit = f"+{num(value)} {d.dose_unit}" if kind == "abs" else f"+{num(value)} %{why}"
        out.append(_f("TITRATION_STEP_TOO_LARGE", "soft", name,
                      f"{name} on {days} rises more than the rule allows ({limit}) compared with the same weekday "
                      f"of the current program: {day} {num(o)} to {num(n)} {d.dose_unit} "
                      f"(+{num((n / o - 1) * 100, 4)} %), though the mean per day changes less.",
                      d.titration.source, n - o if kind == "abs" else (n / o - 1) * 100, value,
                      d.dose_unit if kind == "abs" else "%"))
    return out


def _program_dose(prog: Program, at, name: str) -> float:
    c = prog.concentrations().get(name)
    return 0.0 if c is None else profile_for(prog, at).daily_volume_ml * c


def titration_too_frequent(ctx: Context) -> list[Finding]:
    """With ``history``: the proposal is a raise, and with the raises in the history it makes
    more than the drug allows within its window (baclofen once per 24 h; ziconotide 3 a week)."""
    hist = ctx.case.history
    if not hist:
        return []
    now = ctx.case.now
    out = []
    for name, new in ctx.daily_dose.items():
        d = library.drug(name)
        lim = d.titration.max_raises
        if lim is None:
            continue
        doses = [(h.at, _program_dose(h.program, h.at, name)) for h in hist]
        prev = ctx.current_daily_dose.get(name, 0.0) if ctx.current_daily_dose is not None else doses[-1][1]
        if prev <= 0 or not above(new, prev):
            continue  # the proposal is not a raise
        window = timedelta(hours=lim.window_hours)
        raises = [t for (t0, a), (t, b) in zip(doses, doses[1:]) if a > 0 and above(b, a) and now - t < window]
        if len(raises) + 1 <= lim.count:
            continue
        times = ", ".join(when(t) for t in raises)
        out.append(_f("TITRATION_TOO_FREQUENT", "soft", name,
                      f"{name} was already raised {len(raises)} time(s) in the last {num(lim.window_hours)} h "
                      f"({times}); this raise ({num(prev)} to {num(new)} {d.dose_unit}) makes {len(raises) + 1}, "
                      f"more than the {lim.count} allowed per {num(lim.window_hours)} h.",
                      lim.source, len(raises) + 1, lim.count, "raises"))
    return out


def _morphine_equivalent(prog_doses: dict[str, float]) -> tuple[float, set[str]]:
    total, opioids = 0.0, set()
    for name, dose in prog_doses.items():
        eq = library.drug(name).morphine_equivalence
        if eq is not None and dose > 0:
            conv = dose * eq.factor * (0.001 if library.drug(name).unit == "mcg" else 1.0)
            total += conv
            opioids.add(name)
    return total, opioids


def opioid_switch(ctx: Context) -> list[Finding]:
    """The opioid changes and the morphine-equivalent daily dose changes by more than the
    new opioid's titration rule (either way): a switch at the same mg is a large change."""
    if ctx.current_daily_dose is None:
        return []
    old_med, old_set = _morphine_equivalent(ctx.current_daily_dose)
    new_med, new_set = _morphine_equivalent(ctx.daily_dose)
    if not old_set or not new_set or old_set == new_set:
        return []
    target = sorted(new_set - old_set) or sorted(new_set)
    d = library.drug(target[0])
    pct = d.titration.max_increase_percent or 25.0
    change = (new_med / old_med - 1) * 100
    if not (above(new_med, old_med * (1 + pct / 100)) or below(new_med, old_med * (1 - pct / 100))):
        return []
    factors = "; ".join(f"{n} x {num(library.drug(n).morphine_equivalence.factor)}"
                        for n in sorted(old_set | new_set))
    srcs = "; ".join(dict.fromkeys([library.rules().opioid_switch.source] +
                                   [library.drug(n).morphine_equivalence.source for n in sorted(old_set | new_set)]))
    return [_f("OPIOID_SWITCH", "soft", d.name,
               f"Switching {', '.join(sorted(old_set))} to {', '.join(sorted(new_set))}: the morphine-equivalent "
               f"dose goes from {num(old_med)} to {num(new_med)} mg/day ({'+' if change > 0 else ''}"
               f"{num(change, 4)} %; factors {factors}), more than the {num(pct)} % the titration rule allows.",
               srcs, change, pct, "%")]


def bridge_transient_dose(ctx: Context) -> list[Finding]:
    """Until the dead space clears, the old solution runs at the new rate: proposed daily volume
    x old concentration, checked against the maxima and the current dose."""
    if ctx.bridge is None or ctx.case.current is None:
        return []
    src = library.rules().bridge_transient_dose.source
    out = []
    hours = ctx.bridge.hours_to_clear_without
    for name, conc in ctx.case.current.concentrations().items():
        d = library.drug(name)
        old = ctx.current_daily_dose.get(name, 0.0)
        transient = ctx.daily_volume_ml * conc
        lim = d.dose_per_day
        reasons, severity, value, limit = [], "soft", transient, None
        if above(transient, lim.hard_max):
            reasons.append(f"above the hard maximum {num(lim.hard_max)} {d.dose_unit}")
            severity, limit = "hard", lim.hard_max
        elif above(transient, lim.soft_max):
            reasons.append(f"above the recommended maximum {num(lim.soft_max)} {d.dose_unit}")
            limit = lim.soft_max
        rule = _titration_limit(ctx, d)
        if old > 0 and rule is not None and _rises_too_much(rule, old, transient):
            reasons.append(f"a rise over the current {num(old)} {d.dose_unit} beyond the titration rule "
                           f"(+{num(rule[1])} {'%' if rule[0] == 'pct' else d.dose_unit})")
            limit = limit if limit is not None else (old + rule[1] if rule[0] == "abs" else old * (1 + rule[1] / 100))
        if d.max_decrease_percent is not None and old > 0 and below(transient, old * (1 - d.max_decrease_percent / 100)):
            reasons.append(f"more than {num(d.max_decrease_percent)} % below the current {num(old)} {d.dose_unit} "
                           "(withdrawal risk)")
            limit = limit if limit is not None else old * (1 - d.max_decrease_percent / 100)
        if not reasons:
            continue
        span = "until it clears" if hours is None else f"for about {num(hours, 4)} h"
        out.append(_f("BRIDGE_TRANSIENT_DOSE", severity, name,
                      f"Until the {num(ctx.bridge.volume_ml)} mL dead space clears the old {name} "
                      f"{num(conc)} {d.concentration_unit} runs at the new rate: {num(ctx.daily_volume_ml)} mL/day x "
                      f"{num(conc)} = {num(transient)} {d.dose_unit} {span}, " + " and ".join(reasons)
                      + ". Give the bridge bolus or adjust the rate.", src + "; " + lim.source,
                      value, limit, d.dose_unit))
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
                          f"{num(d.max_decrease_percent)} % at once"
                          + (" (assumed training value)" if d.decrease_assumed else "")
                          + f" risks life-threatening {name} withdrawal.",
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
    hours = "never clears (nothing is delivered)" if b.hours_to_clear_without is None else \
        f"needs {num(b.hours_to_clear_without, 4)} h to clear"
    old = ctx.case.current.concentrations() if ctx.case.current is not None else {}
    runs = "; ".join(f"{num(ctx.daily_volume_ml)} mL/day x {num(c)} {library.drug(n).concentration_unit} = "
                     f"{num(ctx.daily_volume_ml * c)} {library.drug(n).dose_unit} of {n}"
                     + (f" (current dose {num(ctx.current_daily_dose.get(n, 0.0))})"
                        if ctx.current_daily_dose is not None else "")
                     for n, c in old.items())
    return [_f("BRIDGE_BOLUS_REQUIRED", "info", None,
               f"The drug or concentration changes: {num(b.volume_ml)} mL of the old solution fills the tubing and "
               f"catheter. Without a bridge bolus it {hours}, and until then the old solution runs at the new "
               f"rate: {runs}.", library.pump_defaults().catheter_volume_source, b.volume_ml, None, "mL")]


def admixture(ctx: Context) -> list[Finding]:
    if len(ctx.proposed.drugs) < 2:
        return []
    out = []
    for entry in ctx.proposed.drugs:
        d = entry.spec
        if not d.admixture_allowed:
            others = ", ".join(n for n in ctx.proposed.drug_names if n != d.name)
            out.append(_f("ADMIXTURE_NOT_RECOMMENDED", "soft", d.name,
                          f"{d.name} is mixed with {others}; it should be the only drug in the pump.",
                          d.admixture_source or ""))
    return out


def first_fill_concentration(ctx: Context) -> list[Finding]:
    """A new pump's first fill with a drug that must be first filled undiluted (ziconotide 25 mcg/mL alone)."""
    if not ctx.case.first_fill:
        return []
    out = []
    for entry in ctx.proposed.drugs:
        d, c = entry.spec, entry.concentration_in_drug_unit
        ff = d.first_fill
        if ff is None:
            continue
        alone = len(ctx.proposed.drugs) == 1
        if alone and abs(c - ff.concentration) <= 1e-9 * ff.concentration:
            continue
        what = f"{num(c)} {d.concentration_unit}" + ("" if alone else " in an admixture")
        out.append(_f("FIRST_FILL_CONCENTRATION", "soft", d.name,
                      f"First fill of a new pump with {d.name} {what}: the label allows only undiluted "
                      f"{num(ff.concentration)} {d.concentration_unit}, alone.", ff.source, c, ff.concentration,
                      d.concentration_unit))
    return out


def refill_drug_mismatch(ctx: Context) -> list[Finding]:
    """What was put into the reservoir (``refill.drugs``) differs from the proposed program's drugs."""
    r = ctx.case.refill
    if r is None or r.drugs is None:
        return []
    put = {e.drug: e for e in r.drugs}
    prog = {e.drug: e for e in ctx.proposed.drugs}
    diffs = []
    for name in sorted(put.keys() | prog.keys()):
        a, b = put.get(name), prog.get(name)
        if a is None:
            diffs.append(f"{name} is programmed but was not put in")
        elif b is None:
            diffs.append(f"{name} was put in but is not programmed")
        else:
            ca, cb = a.concentration_in_drug_unit, b.concentration_in_drug_unit
            if abs(ca - cb) > 1e-9 * max(ca, cb):
                u = a.spec.concentration_unit
                diffs.append(f"{name} {num(ca)} {u} was put in, the program says {num(cb)} {u}")
    if not diffs:
        return []
    return [_f("REFILL_DRUG_MISMATCH", "hard", None,
               "The reservoir does not hold what the program is for: " + "; ".join(diffs)
               + ". Every dose figure would be wrong: correct the program or the refill.",
               library.rules().refill_drug_mismatch.source)]


def low_reservoir_alarm_low(ctx: Context) -> list[Finding]:
    set_ml, default = ctx.case.pump.low_reservoir_alarm_ml, ctx.profile.low_reservoir_alarm_ml
    if set_ml is None or not below(set_ml, default):
        return []
    tail = " An alarm at 0 mL never warns." if set_ml <= 0 else ""
    return [_f("LOW_RESERVOIR_ALARM_LOW", "soft", None,
               f"The low-reservoir alarm is set at {num(set_ml)} mL, below the {num(default)} mL default of "
               f"{ctx.profile.name}: it warns later, with less time to refill.{tail}",
               library.rules().low_reservoir_alarm_low.source + "; " + library.lra_source(ctx.profile),
               set_ml, default, "mL")]


def appointment_in_past(ctx: Context) -> list[Finding]:
    appt, now = ctx.case.next_appointment, ctx.case.now
    if appt is None or appt > now:
        return []
    return [_f("APPOINTMENT_IN_PAST", "soft", None,
               f"The next appointment {when(appt)} is not after now ({when(now)}): the reservoir and stability "
               "checks against it say nothing. Enter the real next appointment.",
               library.rules().appointment_in_past.source)]


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
    fill_capacity, fixed_rate, mode_supported, rate_out_of_pump_range, concentration_limits, dose_limits,
    day_dose_limits, step_rate_above_dose_limit, ptm_bolus_large, start_dose, titration_step, titration_too_frequent,
    opioid_switch, abrupt_decrease, delivery_interruption, admixture, first_fill_concentration, refill_drug_mismatch,
    refill_discrepancy, reservoir_vs_appointment, appointment_in_past, low_reservoir_alarm_low, stability_window,
    battery, bridge_transient_dose, bridge_bolus, supplied_concentration,
]


def check(ctx: Context) -> list[Finding]:
    return [f for rule in RULES for f in rule(ctx)]
