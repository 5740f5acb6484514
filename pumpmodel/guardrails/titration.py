"""Rules about changing a dose: titration step (also per weekday), how often, opioid switch,
abrupt decrease and interruptions of delivery."""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from .. import library
from ..evaluation import Finding
from ..programs import WEEKDAYS, Program
from ..schedule import DAY_S, RateProfile, calendar_day_volumes, profile_for
from ..units import above, below, num, when
from .context import Context, finding as _f


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
