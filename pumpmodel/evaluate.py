"""``evaluate(case) -> Evaluation``: the one pure function under the sandbox,
the reports and batch analysis (contract: shared/spec/evaluate.md)."""
from __future__ import annotations

from datetime import datetime, timedelta

from . import guardrails, library
from .evaluation import SEVERITY_ORDER, BridgeBolus, Dose, Evaluation, Explanation
from .programs import Case, Program, bolus_pattern_s
from .schedule import from_seconds, profile_for, to_seconds, worst_case_profile
from .units import clean, num, when


def doses(program: Program, daily_volume_ml: float) -> dict[str, float]:
    """Daily dose per drug, in the drug's unit per day: concentration x volume."""
    return {name: conc * daily_volume_ml for name, conc in program.concentrations().items()}


def _dose_models(values: dict[str, float]) -> dict[str, Dose]:
    return {n: Dose(amount=clean(v), unit=library.drug(n).dose_unit) for n, v in values.items()}


def _moment(profile, t0_s: float, volume_ml: float) -> datetime | None:
    s = profile.time_to_deliver(t0_s, volume_ml)
    return None if s is None else from_seconds(s)


def _bridge(case: Case, daily_volume_ml: float) -> BridgeBolus | None:
    cur, new = case.current, case.proposed
    if cur is None:
        return None
    a, b = cur.concentrations(), new.concentrations()
    same = a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-9 * max(1.0, a[k]) for k in a)
    if same:
        return None
    dead = case.pump.dead_space_ml
    hours = dead / daily_volume_ml * 24 if daily_volume_ml > 0 else None
    return BridgeBolus(volume_ml=clean(dead), hours_to_clear_without=None if hours is None else clean(hours))


def _stability(case: Case) -> tuple[float | None, datetime | None]:
    """Shortest stability window (days) of the proposed drugs, counted from
    ``now`` at a refill visit or a first fill; (None, None) otherwise."""
    if case.refill is None and not case.first_fill:
        return None, None
    windows = []
    for e in case.proposed.drugs:
        s = e.spec.stability
        if s is None:
            continue
        if case.first_fill:
            windows.append(s.first_fill_days)
        elif abs(e.concentration_in_drug_unit - s.undiluted_concentration) <= 1e-9 * s.undiluted_concentration \
                and len(case.proposed.drugs) == 1:
            windows.append(s.undiluted_days)
        else:
            windows.append(s.diluted_days)
    if not windows:
        return None, None
    days = min(windows)
    return days, case.now + timedelta(days=days)


def evaluate(case: Case) -> Evaluation:
    """Projected delivery and every guardrail finding for a programming case."""
    prog = case.proposed
    base = profile_for(prog, case.now)
    worst = worst_case_profile(prog, case.now)
    daily = base.daily_volume_ml
    max_daily = worst.daily_volume_ml
    dose, max_dose = doses(prog, daily), doses(prog, max_daily)

    cur_daily = cur_dose = cur_profile = None
    if case.current is not None:
        cur_profile = profile_for(case.current, case.now)
        cur_daily = cur_profile.daily_volume_ml
        cur_dose = doses(case.current, cur_daily)

    t0 = to_seconds(case.now)
    start = case.start_volume_ml
    lra = case.pump.lra_ml
    to_alarm = max(0.0, start - lra)
    alarm_at = _moment(base, t0, to_alarm)
    alarm_worst = _moment(worst, t0, to_alarm)
    empty_at = _moment(base, t0, start)
    stab_days, stab_end = _stability(case)
    refill_by = min((t for t in (alarm_worst, stab_end) if t is not None), default=None)
    bridge = _bridge(case, daily)

    ctx = guardrails.Context(
        case=case, rate_profile=base, daily_volume_ml=daily, daily_dose=dose, max_daily_dose=max_dose,
        current_daily_dose=cur_dose, alarm_at=alarm_at, alarm_worst_at=alarm_worst, empty_at=empty_at,
        stability_end=stab_end, stability_days=stab_days, bridge=bridge, current_profile=cur_profile,
    )
    findings = sorted(guardrails.check(ctx), key=lambda f: SEVERITY_ORDER[f.severity])

    return Evaluation(
        daily_volume_ml=clean(daily),
        max_daily_volume_ml=clean(max_daily),
        daily_dose=_dose_models(dose),
        max_daily_dose=_dose_models(max_dose),
        low_reservoir_alarm_at=alarm_at,
        low_reservoir_alarm_at_worst_case=alarm_worst,
        empty_at=empty_at,
        refill_by=refill_by,
        bridge_bolus=bridge,
        warnings=findings,
        start_volume_ml=clean(start),
        low_reservoir_alarm_ml=lra,
        stability_window_end=stab_end,
        current_daily_volume_ml=None if cur_daily is None else clean(cur_daily),
        current_daily_dose=None if cur_dose is None else _dose_models(cur_dose),
        explanations=_explain(case, daily, max_daily, dose, max_dose, alarm_at, alarm_worst, empty_at, refill_by,
                              stab_end),
    )


def _explain(case, daily, max_daily, dose, max_dose, alarm_at, alarm_worst, empty_at, refill_by, stab_end):
    prog = case.proposed
    out = [Explanation(figure="daily_volume_ml", formula=_volume_formula(prog, daily, case.now))]
    ptm = prog.ptm
    if ptm is not None and prog.mode != "stopped":
        out.append(Explanation(
            figure="max_daily_volume_ml",
            formula=f"{num(daily)} mL/day + {ptm.allowed_per_day} PTM boluses x {num(ptm.bolus_volume_ml)} mL = "
                    f"{num(max_daily)} mL/day (allowed boluses: min(max {ptm.max_per_day}/day, "
                    f"24 h / lockout {num(ptm.lockout_min)} min))"))
    for e in prog.drugs:
        d = e.spec
        conv = "" if e.unit == d.concentration_unit else f" ({num(e.concentration)} {e.unit} = " \
            f"{num(e.concentration_in_drug_unit)} {d.concentration_unit})"
        out.append(Explanation(
            figure=f"daily_dose.{d.name}",
            formula=f"{num(daily)} mL/day x {num(e.concentration_in_drug_unit)} {d.concentration_unit} = "
                    f"{num(dose[d.name])} {d.dose_unit}{conv}; recommended max {num(d.dose_per_day.soft_max)}, "
                    f"hard max {num(d.dose_per_day.hard_max)} {d.dose_unit}",
            source=d.dose_per_day.source))
    start, lra = case.start_volume_ml, case.pump.lra_ml
    src = library.lra_source(case.pump.spec)
    out.append(Explanation(
        figure="low_reservoir_alarm_at",
        formula=f"{num(start)} mL - {num(lra)} mL alarm = {num(max(0.0, start - lra))} mL delivered by the "
                f"programmed schedule from {when(case.now)} reaches the alarm on {when(alarm_at)}", source=src))
    out.append(Explanation(
        figure="low_reservoir_alarm_at_worst_case",
        formula=f"same {num(max(0.0, start - lra))} mL at {num(max_daily)} mL/day with every PTM bolus: "
                f"{when(alarm_worst)}", source=src))
    out.append(Explanation(figure="empty_at",
                           formula=f"{num(start)} mL delivered by the programmed schedule: {when(empty_at)}"))
    stab = f" and the stability window end {when(stab_end)}" if stab_end else ""
    out.append(Explanation(figure="refill_by",
                           formula=f"earliest of the worst-case alarm {when(alarm_worst)}{stab}: {when(refill_by)}"))
    return out


def _volume_formula(prog: Program, daily: float, now: datetime) -> str:
    if prog.mode == "stopped":
        return "stopped: 0 mL/day"
    if prog.mode == "simple_continuous":
        return f"{num(prog.rate_ml_per_day)} mL/day all day = {num(daily)} mL/day"
    if prog.mode == "periodic_bolus":
        days = bolus_pattern_s(prog.boluses) // 86_400
        parts = [f"{num(prog.rate_ml_per_day)} mL/day background"]
        for b in prog.boluses:
            n = days * 86_400 // b.every_s
            per = "a day" if days == 1 else f"in {days} days"
            parts.append(f"{n} x {num(b.volume_ml)} mL bolus {per} (every {num(b.every_hours)} h from {b.first_at} "
                         f"on {now:%Y-%m-%d}, across midnight)" + ("" if days == 1 else f" / {days}"))
        pattern = "" if days == 1 else f" (the pattern repeats every lcm(24 h, intervals) = {days} days)"
        return " + ".join(parts) + f" = {num(daily)} mL/day{pattern}"
    if prog.steps is not None:
        return _steps_formula(prog.steps) + f" = {num(daily)} mL/day"
    return f"mean of the 7 weekday schedules = {num(daily)} mL/day"


def _steps_formula(steps) -> str:
    ends = [s.start_min for s in steps[1:]] + [1440]
    parts = [f"{num((e - s.start_min) / 60, 4)} h x {num(s.rate_ml_per_day)}" for s, e in zip(steps, ends)]
    return "(" + " + ".join(parts) + ") / 24 h"
