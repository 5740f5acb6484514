"""Rules about the pump and the visit: rate range, capacity, fixed-rate pumps, modes, battery,
alarm level, refill volumes and contents, appointment and stability window."""
from __future__ import annotations

from .. import library
from ..evaluation import Finding
from ..units import above, below, num, when
from .context import PUMP_RANGE_SOURCE, Context, finding as _f


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


def appointment_in_past(ctx: Context) -> list[Finding]:
    appt, now = ctx.case.next_appointment, ctx.case.now
    if appt is None or appt > now:
        return []
    return [_f("APPOINTMENT_IN_PAST", "soft", None,
               f"The next appointment {when(appt)} is not after now ({when(now)}): the reservoir and stability "
               "checks against it say nothing. Enter the real next appointment.",
               library.rules().appointment_in_past.source)]


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
