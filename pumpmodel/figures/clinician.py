"""The interrogation screen's numbers, as plain data (no Streamlit): what a
clinician reads after interrogating a pump, each figure with its unit and,
for limits and projections, how it was computed and its source."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from .. import library
from ..evaluation import Evaluation
from ..programs import Case, Program
from ..units import fmt, num, when

ERI_PCT_DEFAULT = 5.0  # pumpmodel.telemetry.ERI_BATTERY_PCT (assumed training value)
MAX_PROJECTION_YEARS = 50  # pumpmodel.telemetry.MAX_PROJECTION_YEARS: further away is "not projectable"
ALARM_KINDS = ("alarm_low_reservoir", "alarm_empty_reservoir", "alarm_eri", "alarm_end_of_service",
               "alarm_motor_stall", "alarm_catheter_occlusion")
STICKY_ALARMS = ("alarm_eri", "alarm_end_of_service")  # stay active until the pump is replaced


@dataclass(frozen=True)
class Item:
    """One figure on the interrogation screen."""

    label: str
    value: str
    help: str = ""
    note: str = ""  # e.g. "in 45.2 days"
    alert: bool = False  # needs attention (e.g. a negative margin): drawn outlined, said in words


@dataclass(frozen=True)
class Battery:
    now_pct: float | None
    eri_at: datetime | None
    eos_at: datetime | None
    basis: str


def battery_projection(samples: pd.DataFrame, profile: str, events: pd.DataFrame | None,
                       end_of_service_at: datetime | None, eri_pct: float = ERI_PCT_DEFAULT) -> Battery:
    """Battery now and the ERI / end-of-service dates, from the end of service
    the telemetry gives (logged, or ERI alarm + ERI-to-EOS days, or projected
    from the battery trend to ``eri_pct``): ERI = end of service - ERI-to-EOS days."""
    spec = library.profile(profile)
    if spec.battery_life_years is None or "battery_pct" not in samples or samples["battery_pct"].isna().all():
        return Battery(None, None, None, f"{spec.name} has no battery (gas-driven)")
    eos_days = spec.eri_to_eos_days
    now_pct = float(samples["battery_pct"].dropna().iloc[-1])
    kinds = set(events["kind"]) if events is not None and len(events) else set()
    src = library.pump_defaults().eri_source
    if "alarm_end_of_service" in kinds:
        basis = f"end of service logged by the pump. {src}"
    elif "alarm_eri" in kinds:
        basis = f"ERI alarm logged; end of service {num(eos_days)} days later. {src}"
    else:
        basis = (f"projected from the battery trend over the last 30 days of telemetry to ERI at {num(eri_pct)} % "
                 f"(assumed training value), then {num(eos_days)} days to end of service. {src}")
    if end_of_service_at is None:
        return Battery(now_pct, None, None, basis + f" No measurable decline (or ERI more than {MAX_PROJECTION_YEARS} years away): "
                       "not projectable.")
    return Battery(now_pct, end_of_service_at - timedelta(days=eos_days), end_of_service_at, basis)


def active_alarms(events: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Alarms raised since the last refill (ERI and end of service: ever),
    the latest of each kind."""
    if events is None or events.empty:
        return pd.DataFrame(columns=["timestamp", "kind", "severity"])
    ts = pd.to_datetime(events["timestamp"])
    refills = ts[events["kind"] == "refill"]
    since = refills.max() if len(refills) else pd.Timestamp(now) - pd.Timedelta(days=30)
    alarms = events[events["kind"].isin(ALARM_KINDS) & (ts <= pd.Timestamp(now))]
    a_ts = pd.to_datetime(alarms["timestamp"])
    keep = alarms[(a_ts > since) | alarms["kind"].isin(STICKY_ALARMS)]
    return (keep.sort_values("timestamp").groupby("kind", as_index=False).last()
            .sort_values("timestamp", ascending=False)[["timestamp", "kind", "severity"]].reset_index(drop=True))


def program_text(p: Program) -> str:
    mode = p.mode.replace("_", " ")
    if p.mode == "flex":
        mode += " (every day, %d steps)" % len(p.steps) if p.steps is not None else " (per weekday)"
    if p.mode == "periodic_bolus":
        mode += f" ({len(p.boluses)} bolus pattern(s) on {fmt(p.rate_ml_per_day, 'mL/day')} background)"
    return mode


def _explain(ev: Evaluation, figure: str) -> str:
    e = next((x for x in ev.explanations if x.figure == figure), None)
    if e is None:
        return ""
    return e.formula + (f". Source: {e.source}" if e.source else "")


def _date(label: str, t: datetime | None, now: datetime, help: str) -> Item:
    if t is None:
        return Item(label, "never", help)
    days = (t - now).total_seconds() / 86400
    note = f"in {fmt(days, 'days')}" if days >= 0 else f"{fmt(-days, 'days')} ago"
    return Item(label, f"{t:%Y-%m-%d %H:%M}", help, note)


def overview_items(case: Case, ev: Evaluation, battery: Battery) -> dict[str, list[Item]]:
    """The interrogation screen, grouped: pump, therapy, reservoir, battery."""
    spec, prog, now = case.pump.spec, case.proposed, case.now
    pump = [
        Item("pump profile", spec.name, spec.label + ". " + spec.source),
        Item("reservoir size", fmt(spec.reservoir_ml, "mL"), spec.source),
        Item("mode", program_text(prog), "Infusion mode of the program running now"),
        Item("drug(s)", ", ".join(f"{e.drug} {fmt(e.concentration, e.unit)}" for e in prog.drugs),
             "; ".join(f"{e.drug}: supplied {', '.join(num(c) for c in e.spec.supplied_concentrations) or 'compounded'}"
                       f" {e.spec.concentration_unit}; concentration recommended max {num(e.spec.concentration.soft_max)}"
                       f" {e.spec.concentration_unit} ({e.spec.concentration.source})" for e in prog.drugs)),
    ]
    therapy = [Item("daily volume", fmt(ev.daily_volume_ml, "mL/day"), _explain(ev, "daily_volume_ml"))]
    for drug, dose in ev.daily_dose.items():
        d = library.drug(drug)
        therapy.append(Item(f"{drug} daily dose", fmt(dose.amount, dose.unit),
                            _explain(ev, f"daily_dose.{drug}")))
        if prog.ptm is not None:
            therapy.append(Item(f"{drug} max with PTM", fmt(ev.max_daily_dose[drug].amount, dose.unit),
                                _explain(ev, "max_daily_volume_ml") + f". Recommended max {fmt(d.dose_per_day.soft_max, dose.unit)}"
                                f" ({d.dose_per_day.source})"))
    margin_alert = False
    margin_help = "days between the refill-by date and the next appointment (negative: refill is due before it)"
    if case.next_appointment is not None and ev.refill_by is not None:
        margin_days = (ev.refill_by - case.next_appointment).total_seconds() / 86400
        margin, margin_alert = fmt(margin_days, "days"), margin_days < 0
    elif ev.refill_by is not None:
        margin, margin_help = fmt((ev.refill_by - now).total_seconds() / 86400, "days"), \
            "days from now to the refill-by date (no appointment booked)"
    else:
        margin = "no refill needed (nothing delivered)"
    reservoir = [
        Item("reservoir now", f"{fmt(case.start_volume_ml, 'mL')} of {fmt(spec.reservoir_ml, 'mL')}",
             f"the pump's own estimate at {when(now)} (last telemetry sample), as interrogation shows it: "
             "counted from the programmed delivery, so it does not know about delivery inaccuracy or a "
             "pocket fill. The refill's withdrawn volume shows the real residual"),
        _date("low-reservoir alarm", ev.low_reservoir_alarm_at, now,
              f"alarm at {fmt(ev.low_reservoir_alarm_ml, 'mL')}. " + _explain(ev, "low_reservoir_alarm_at")),
        _date("refill by", ev.refill_by, now, _explain(ev, "refill_by")),
        _date("empty", ev.empty_at, now, _explain(ev, "empty_at")),
        _date("next appointment", case.next_appointment, now, "from the clinic schedule in the telemetry"),
        Item("days of margin", margin, margin_help,
             "refill is due before the next appointment: bring the visit forward" if margin_alert else "",
             alert=margin_alert),
    ]
    if battery.now_pct is None:
        power = [Item("battery", "none (gas-driven pump)", battery.basis)]
    else:
        power = [Item("battery now", fmt(battery.now_pct, "%"), "last telemetry sample"),
                 _date("projected ERI", battery.eri_at, now, battery.basis),
                 _date("projected end of service", battery.eos_at, now, battery.basis)]
    return {"Pump": pump, "Therapy now": therapy, "Reservoir and refill": reservoir, "Battery": power}
