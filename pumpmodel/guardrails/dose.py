"""Rules about concentration and dose: limits, PTM, flex step rates, heaviest day, starting
dose, admixtures and first fill."""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from .. import library
from ..evaluation import Finding
from ..programs import WEEKDAYS, Program
from ..schedule import DAY_S, EPOCH, calendar_day_volumes
from ..units import above, num
from .context import Context, finding as _f


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
