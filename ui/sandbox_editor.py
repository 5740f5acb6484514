"""Sandbox editor widgets: they show the seed (the loaded case) and return the
draft (a spec-format dict, possibly invalid: validation happens afterwards so
that bad input is reported by field and kept as typed)."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from pumpmodel import library, sandbox
from pumpmodel.programs import WEEKDAYS, DrugEntry
from ui import sandbox_extras as extras
from ui import sandbox_state as S

MODES = list(sandbox.MODE_LABELS)
UNITS = ["mg/mL", "mcg/mL"]
NOT_GIVEN = "(not given)"


def _f(x, default: float | None = 0.0) -> float | None:
    """A float from seed/editor values (NaN, None and text become ``default``)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(v) else v


def _cell(x):
    """A data-editor cell as JSON: NaN/None/empty -> None, whole floats stay floats."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x == "":
        return None
    return x.item() if hasattr(x, "item") else x


def _dt(text, default: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return default


def _dicts(items) -> list[dict]:
    return [i for i in (items or []) if isinstance(i, dict)] if isinstance(items, list) else []


def _primary(drugs: list[dict]) -> DrugEntry | None:
    """The first drug as a DrugEntry (dose entry is for this drug), or None when it is not valid yet."""
    try:
        return DrugEntry.model_validate(drugs[0])
    except Exception:  # noqa: BLE001 - any invalid row: dose entry unavailable until fixed
        return None


def _to_value(rate, entry: DrugEntry | None, by_dose: bool):
    rate = _f(rate, None)
    if rate is None or not by_dose or entry is None:
        return rate
    return round(sandbox.dose_for_rate(rate, entry), 9)


def _to_rate(value, entry: DrugEntry | None, by_dose: bool):
    value = _f(value, None)
    if value is None or not by_dose:
        return value
    if entry is None:
        return None
    return round(sandbox.rate_for_dose(value, entry), 9)


def _row(**kw):
    """A row of widgets side by side (they share the width)."""
    return st.container(horizontal=True, **kw)


def pump_and_visit(seed: dict) -> dict:
    """Pump settings, reservoir, dates, indication and refill visit."""
    pump = seed.get("pump") if isinstance(seed.get("pump"), dict) else {}
    profiles = list(library.pump_profiles())
    prof = pump.get("profile") if pump.get("profile") in profiles else profiles[0]
    now = _dt(seed.get("now"), datetime(2026, 11, 21, 9, 0))
    # rows are horizontal containers, not st.columns: one block each instead of 1 + n, and the
    # editor is redrawn with every edit (the fragment reruns)
    row = _row()
    profile = row.selectbox("Pump profile", profiles, index=profiles.index(prof), key=S.key("profile"))
    spec = library.profile(profile)
    reservoir = row.number_input("Reservoir now (mL, expected residual)", min_value=0.0,
                                value=_f(seed.get("reservoir_ml"), spec.reservoir_ml), step=0.5, key=S.key("reservoir"))
    lra = row.number_input("Low-reservoir alarm (mL)", min_value=0.0, step=0.5, key=S.key("lra"),
                          value=_f(pump.get("low_reservoir_alarm_ml"), spec.low_reservoir_alarm_ml))
    row = _row()
    d = row.date_input("Session date (pump clock)", value=now.date(), key=S.key("now_d"))
    t = row.time_input("Session time", value=now.time(), key=S.key("now_t"), step=timedelta(minutes=15))
    appt = _dt(seed.get("next_appointment"), None) if seed.get("next_appointment") else None
    ad = row.date_input("Next appointment", value=appt.date() if appt else None, key=S.key("appt_d"))
    at = row.time_input("Appointment time", value=appt.time() if appt else time(9, 0), key=S.key("appt_t"),
                       step=timedelta(minutes=15))
    inds = [NOT_GIVEN, *library.INDICATIONS]
    ind0 = seed.get("indication") if seed.get("indication") in inds else NOT_GIVEN
    row = _row(vertical_alignment="bottom")
    ind = row.selectbox("Indication", inds, index=inds.index(ind0), key=S.key("indication"),
                       format_func=lambda s: s.replace("_", " "))
    first_fill = row.checkbox("First fill of a new pump", value=bool(seed.get("first_fill")), key=S.key("first_fill"))
    refill0 = seed.get("refill") if isinstance(seed.get("refill"), dict) else None
    row = _row(vertical_alignment="bottom")
    refill_on = row.checkbox("Refill visit today", value=refill0 is not None, key=S.key("refill_on"))
    out = {"pump": {"profile": profile, "low_reservoir_alarm_ml": lra}, "now": datetime.combine(d, t).isoformat(),
           "reservoir_ml": reservoir}
    for k in ("catheter_volume_ml", "pump_tubing_volume_ml", "end_of_service_at"):
        if pump.get(k) is not None:
            out["pump"][k] = pump[k]
    if ad is not None:
        out["next_appointment"] = datetime.combine(ad, at).isoformat()
    if ind != NOT_GIVEN:
        out["indication"] = ind
    if refill_on:
        w = row.number_input("Withdrawn (mL)", min_value=0.0, step=0.1, key=S.key("withdrawn"),
                            value=_f((refill0 or {}).get("withdrawn_ml"), reservoir))
        a = row.number_input("Added (mL)", min_value=0.0, step=0.5, key=S.key("added"),
                            value=_f((refill0 or {}).get("added_ml"), spec.reservoir_ml))
        out["refill"] = {"withdrawn_ml": w, "added_ml": a}
    if first_fill:
        out["first_fill"] = True
    return out


def drugs_table(prog: dict) -> list[dict]:
    rows = _dicts(prog.get("drugs"))
    df = pd.DataFrame([{"drug": r.get("drug"), "concentration": _f(r.get("concentration"), None),
                        "unit": r.get("unit")} for r in rows] or [{"drug": None, "concentration": None, "unit": None}])
    edited = st.data_editor(
        df, key=S.key("drugs"), num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "drug": st.column_config.SelectboxColumn("drug", options=list(library.drugs()), required=True),
            "concentration": st.column_config.NumberColumn("concentration", min_value=0.0, format="%g",
                                                           required=True),
            "unit": st.column_config.SelectboxColumn("unit", options=UNITS, required=True,
                                                     help="mg/mL or mcg/mL; converted to the drug's own unit"),
        })
    return [{k: _cell(v) for k, v in r.items()} for r in edited.to_dict("records")
            if any(_cell(v) is not None for v in r.values())]


def _on_mode_change() -> None:
    new = st.session_state[S.key("mode")]
    data = dict(S.draft())
    data["proposed"] = sandbox.convert_mode(data.get("proposed") or {}, new)
    S.reseed(data)


def _on_entry_change() -> None:
    st.session_state["sbx_entry"] = st.session_state[S.key("entry")]
    S.reseed()


def program_editor(seed: dict) -> dict:
    """The proposed program: drugs, mode, schedule (by rate or by dose), PTM."""
    prog = seed.get("proposed") if isinstance(seed.get("proposed"), dict) else {}
    st.markdown("**Drug(s) in the reservoir** (one row each; more rows make an admixture)")
    drugs = drugs_table(prog)
    out: dict = {"drugs": drugs}
    row = _row()
    mode0 = sandbox.editor_mode(prog) if sandbox.editor_mode(prog) in MODES else "simple_continuous"
    mode = row.selectbox("Infusion mode", MODES, index=MODES.index(mode0), key=S.key("mode"),
                        format_func=sandbox.MODE_LABELS.get, on_change=_on_mode_change)
    primary = _primary(drugs)
    dose_unit = primary.spec.dose_unit if primary else "dose/day"
    choices = ["rate", "dose"]
    by = row.radio("Enter by", choices, index=choices.index(S.entry()), key=S.key("entry"), horizontal=True,
                  on_change=_on_entry_change,
                  format_func=lambda c: "volume rate (mL/day)" if c == "rate" else f"dose ({dose_unit})")
    by_dose = by == "dose"
    seed_primary = _primary(_dicts(prog.get("drugs")))
    vlabel = f"dose of {primary.drug} ({dose_unit})" if by_dose and primary else "rate (mL/day)"
    if by_dose and primary is None:
        st.warning("Dose entry needs a valid first drug row (drug, concentration, unit).")
    out["mode"] = "flex" if mode == "weekday_flex" else mode
    if mode in ("simple_continuous", "periodic_bolus"):
        label = "Background " + vlabel if mode == "periodic_bolus" else vlabel[0].upper() + vlabel[1:]
        v = st.number_input(label, min_value=0.0, format="%.6g", key=S.key("rate"),
                            value=_to_value(prog.get("rate_ml_per_day"), seed_primary, by_dose) or 0.0)
        out["rate_ml_per_day"] = _to_rate(v, primary, by_dose)
    if mode == "flex":
        out["steps"] = _steps_editor(_dicts(prog.get("steps")), seed_primary, primary, by_dose, vlabel)
    if mode == "weekday_flex":
        week = prog.get("week") if isinstance(prog.get("week"), dict) else {}
        rows = [{"day": d, **s} for d in WEEKDAYS for s in _dicts(week.get(d))]
        out["week"] = _steps_editor(rows, seed_primary, primary, by_dose, vlabel, weekly=True)
    if mode == "periodic_bolus":
        out["boluses"] = _boluses_editor(_dicts(prog.get("boluses")))
    if mode != "stopped":
        ptm = _ptm_editor(prog.get("ptm") if isinstance(prog.get("ptm"), dict) else None)
        if ptm is not None:
            out["ptm"] = ptm
    return out


def _steps_editor(rows: list[dict], seed_primary, primary, by_dose: bool, vlabel: str, weekly: bool = False):
    st.markdown("**Steps** (start `HH:MM`, the first at 00:00, sorted; "
                + ("one list per weekday" if weekly else "every day") + ")")
    df = pd.DataFrame([{**({"day": r.get("day")} if weekly else {}), "start": r.get("start"),
                        "value": _to_value(r.get("rate_ml_per_day"), seed_primary, by_dose)} for r in rows],
                      columns=(["day"] if weekly else []) + ["start", "value"])
    config = {"start": st.column_config.TextColumn("start (HH:MM)", required=True),
              "value": st.column_config.NumberColumn(vlabel, min_value=0.0, format="%.6g", required=True)}
    if weekly:
        config["day"] = st.column_config.SelectboxColumn("day", options=list(WEEKDAYS), required=True)
    edited = st.data_editor(df, key=S.key("steps"), num_rows="dynamic", hide_index=True, width="stretch",
                            column_config=config)
    steps = [{"day": _cell(r.get("day")), "start": _cell(r["start"]),
              "rate_ml_per_day": _to_rate(_cell(r["value"]), primary, by_dose)}
             for r in edited.to_dict("records") if any(_cell(v) is not None for v in r.values())]
    if not weekly:
        return [{"start": s["start"], "rate_ml_per_day": s["rate_ml_per_day"]} for s in steps]
    week: dict = {}
    for s in steps:  # rows keep their typed order within a day; unknown days are reported by validation
        week.setdefault(s["day"] or "?", []).append({"start": s["start"], "rate_ml_per_day": s["rate_ml_per_day"]})
    return week


def _boluses_editor(rows: list[dict]) -> list[dict]:
    st.markdown("**Periodic boluses** (each day: a volume over a duration, every N hours from a start time)")
    cols = ["first_at", "every_hours", "volume_ml", "duration_min"]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    edited = st.data_editor(df, key=S.key("boluses"), num_rows="dynamic", hide_index=True, width="stretch",
                            column_config={
                                "first_at": st.column_config.TextColumn("first at (HH:MM)", required=True),
                                "every_hours": st.column_config.NumberColumn("every (h)", min_value=0.0, format="%g"),
                                "volume_ml": st.column_config.NumberColumn("volume (mL)", min_value=0.0,
                                                                           format="%.6g"),
                                "duration_min": st.column_config.NumberColumn("duration (min)", min_value=0.0,
                                                                              format="%g")})
    return [{k: _cell(v) for k, v in r.items()} for r in edited.to_dict("records")
            if any(_cell(v) is not None for v in r.values())]


def _ptm_editor(ptm: dict | None) -> dict | None:
    on = st.checkbox("Patient bolus (PTM)", value=ptm is not None, key=S.key("ptm_on"))
    if not on:
        return None
    ptm = ptm or {}
    row = _row()
    vol = row.number_input("PTM bolus (mL)", min_value=0.0, format="%.4g", key=S.key("ptm_vol"),
                          value=_f(ptm.get("bolus_volume_ml"), 0.01))
    lock = row.number_input("Lockout (min)", min_value=0.0, step=15.0, key=S.key("ptm_lock"),
                           value=_f(ptm.get("lockout_min"), 120.0))
    mx = row.number_input("Max per day", min_value=0, step=1, key=S.key("ptm_max"),
                         value=int(_f(ptm.get("max_per_day"), 3)))
    return {"bolus_volume_ml": vol, "lockout_min": lock, "max_per_day": int(mx)}


def editor() -> dict:
    """Draw the whole editor from the seed; return the draft case dict."""
    seed = S.seed()
    with st.expander("Pump, reservoir, dates and refill visit", expanded=False):
        data = pump_and_visit(seed)
        extras.screening_bolus(seed, data)
        extras.refill_contents(seed, data)
    with st.expander("Program history (how often the dose rose)", expanded=False):
        extras.history(seed, data)
    data["current"] = seed.get("current") if isinstance(seed.get("current"), dict) else None
    if data["current"] is None:
        data.pop("current")
    data["proposed"] = program_editor(seed)
    if isinstance(seed.get("trial"), dict):  # a new implant's screening trial rides along as loaded
        data["trial"] = seed["trial"]
    return data


def rates_table(case) -> pd.DataFrame | None:
    """Both views of a flex schedule: rate (mL/day) and the dose of every drug, per step."""
    p = case.proposed
    if p.mode != "flex":
        return None
    days = {"every day": p.steps} if p.steps is not None else p.week
    rows = []
    for day, steps in days.items():
        for s in steps:
            row = {"day": day, "start": s.start, "rate (mL/day)": s.rate_ml_per_day}
            for e in p.drugs:
                row[f"{e.drug} ({e.spec.dose_unit})"] = round(sandbox.dose_for_rate(s.rate_ml_per_day, e), 6)
            rows.append(row)
    return pd.DataFrame(rows)


_ = date  # date_input values are dates
