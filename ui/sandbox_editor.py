"""Sandbox editor widgets: they show the seed (the loaded case) and return the
draft (a spec-format dict, possibly invalid: validation happens afterwards so
that bad input is reported by field and kept as typed).

Numbers are typed as text and read by ``pumpmodel.sandbox_input``: a value
out of range or malformed is refused with a message at the field, and the
typed text stays (in the widget and in the draft), never clamped or
rewritten. Step tables are sorted by start time as steps are added."""
from __future__ import annotations

import copy
import math
from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from pumpmodel import library, sandbox
from pumpmodel import sandbox_input as si
from pumpmodel.programs import WEEKDAYS, DrugEntry
from pumpmodel.units import fmt, round_frame
from ui import sandbox_extras as extras
from ui import sandbox_state as S
from ui.safe_text import md

_PROBLEMS = "sbx_field_problems"  # [(loc tuple, Problem)] of this run's editor

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


def _row(ui=st, **kw):
    """A row of widgets side by side (they share the width)."""
    return ui.container(horizontal=True, **kw)


class Unseen:
    """Stands in for the widgets of a closed editor section: each "widget" returns the value it
    would show, from the draft, so the draft is read exactly as if the section were drawn
    (defaults filled in, numbers checked) without sending its widgets to the browser."""

    def container(self, *args, **kwargs) -> Unseen:
        return self

    @staticmethod
    def _kept(key, value):
        # the run that closes a section still has its widgets' last values (a value typed just
        # before the click arrives with it): those win over the draft, as they would if drawn
        return st.session_state.get(key, value) if key is not None else value

    def text_input(self, label, value="", key=None, **kwargs):
        return self._kept(key, value)

    def selectbox(self, label, options, index=0, key=None, **kwargs):
        return self._kept(key, None if index is None else list(options)[index])

    def checkbox(self, label, value=False, key=None, **kwargs):
        return self._kept(key, value)

    def date_input(self, label, value=None, key=None, **kwargs):
        return self._kept(key, value)

    def time_input(self, label, value=None, key=None, **kwargs):
        return self._kept(key, value)

    def number_input(self, label, min_value=None, max_value=None, value=None, key=None, **kwargs):
        return self._kept(key, value)

    def data_editor(self, data, **kwargs):
        return data

    def markdown(self, *args, **kwargs) -> None:
        return None

    caption = markdown


UNSEEN = Unseen()


def problems() -> list[tuple[tuple, si.Problem]]:
    """The field problems the editor found in this run: ``(loc, Problem)``."""
    return st.session_state.setdefault(_PROBLEMS, [])


def _num(box, label: str, value, key: str, loc: tuple, *, field: str | None = None, **rules):
    """A number typed as text: the value, or the typed text when it is refused (reported)."""
    text = box.text_input(label, value=si.fmt(value), key=S.key(key))
    v, problem = si.number(text, field or label, **rules)
    if problem is not None:
        problems().append((loc, problem))
        return text
    return v


def _say(start: int, ui=st) -> None:
    """The problems found since index ``start``, at the fields above."""
    found = problems()[start:]
    if found:
        ui.markdown("\n".join(f"- :red[{md(p, 300)}]" for _, p in found))


def pump_and_visit(seed: dict, ui=st) -> dict:
    """Pump settings, reservoir, dates, indication and refill visit (``ui``: where the widgets
    go, or :data:`UNSEEN` when the section is closed)."""
    pump = seed.get("pump") if isinstance(seed.get("pump"), dict) else {}
    profiles = list(library.pump_profiles())
    prof = pump.get("profile") if pump.get("profile") in profiles else profiles[0]
    now = _dt(seed.get("now"), datetime(2026, 11, 21, 9, 0))
    # rows are horizontal containers, not st.columns: one block each instead of 1 + n, and the
    # editor is redrawn with every edit (the fragment reruns)
    row = _row(ui)
    n0 = len(problems())
    profile = row.selectbox("Pump profile", profiles, index=profiles.index(prof), key=S.key("profile"))
    spec = library.profile(profile)
    reservoir = _num(row, "Reservoir now (mL, expected residual)", seed.get("reservoir_ml", spec.reservoir_ml),
                     "reservoir", ("reservoir_ml",), field="reservoir now", lo=0.0, hi=1000.0, unit="mL")
    lra = _num(row, "Low-reservoir alarm (mL)", pump.get("low_reservoir_alarm_ml", spec.low_reservoir_alarm_ml),
               "lra", ("pump", "low_reservoir_alarm_ml"), field="low-reservoir alarm", lo=0.0, hi=1000.0, unit="mL")
    _say(n0, ui)
    row = _row(ui)
    d = row.date_input("Session date (pump clock)", value=now.date(), key=S.key("now_d"))
    t = row.time_input("Session time", value=now.time(), key=S.key("now_t"), step=timedelta(minutes=15))
    appt = _dt(seed.get("next_appointment"), None) if seed.get("next_appointment") else None
    ad = row.date_input("Next appointment", value=appt.date() if appt else None, key=S.key("appt_d"))
    at = row.time_input("Appointment time", value=appt.time() if appt else time(9, 0), key=S.key("appt_t"),
                       step=timedelta(minutes=15))
    inds = [NOT_GIVEN, *library.INDICATIONS]
    ind0 = seed.get("indication") if seed.get("indication") in inds else NOT_GIVEN
    row = _row(ui, vertical_alignment="bottom")
    ind = row.selectbox("Indication", inds, index=inds.index(ind0), key=S.key("indication"),
                       format_func=lambda s: s.replace("_", " "))
    first_fill = row.checkbox("First fill of a new pump", value=bool(seed.get("first_fill")), key=S.key("first_fill"))
    refill0 = seed.get("refill") if isinstance(seed.get("refill"), dict) else None
    row = _row(ui, vertical_alignment="bottom")
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
        n0 = len(problems())
        w = _num(row, "Withdrawn (mL)", (refill0 or {}).get("withdrawn_ml", reservoir), "withdrawn",
                 ("refill", "withdrawn_ml"), field="withdrawn", lo=0.0, hi=1000.0, unit="mL")
        a = _num(row, "Added (mL)", (refill0 or {}).get("added_ml", spec.reservoir_ml), "added",
                 ("refill", "added_ml"), field="added", lo=0.0, hi=1000.0, unit="mL")
        _say(n0, ui)
        out["refill"] = {"withdrawn_ml": w, "added_ml": a}
    if first_fill:
        out["first_fill"] = True
    return out


def drugs_table(prog: dict) -> list[dict]:
    rows = _dicts(prog.get("drugs"))
    df = pd.DataFrame([{"drug": r.get("drug"), "concentration": si.fmt(r.get("concentration")),
                        "unit": r.get("unit")} for r in rows] or [{"drug": None, "concentration": None, "unit": None}])
    edited = st.data_editor(
        df, key=S.key("drugs"), num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "drug": st.column_config.SelectboxColumn("drug", options=list(library.drugs())),
            "concentration": st.column_config.TextColumn("concentration"),
            "unit": st.column_config.SelectboxColumn("unit", options=UNITS,
                                                     help="mg/mL or mcg/mL; converted to the drug's own unit"),
        })
    out, n0 = [], len(problems())
    for i, r in enumerate(edited.to_dict("records"), start=1):
        r = {k: _cell(v) for k, v in r.items()}
        if all(v is None for v in r.values()):
            problems().append((("proposed", "drugs"), si.Problem(f"drug {i}", "empty row: fill it in or delete it")))
            continue
        for col, what in (("drug", "choose the drug"), ("unit", "choose mg/mL or mcg/mL")):
            if r.get(col) is None:
                problems().append((("proposed", "drugs"), si.Problem(f"drug {i}, {col}", what)))
        v, p = si.number(r.get("concentration"), f"drug {i}, concentration", lo=0.0, above_lo=True)
        if p is not None:
            problems().append((("proposed", "drugs"), p))
        out.append({**r, "concentration": v if p is None else r.get("concentration")})
    _say(n0)
    return out


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
        n0 = len(problems())
        raw = prog.get("rate_ml_per_day")
        v = _num(st, label, raw if isinstance(raw, str) else _to_value(raw, seed_primary, by_dose), "rate",
                 ("proposed", "rate_ml_per_day"), field=label[0].lower() + label[1:], lo=0.0,
                 hi=None if by_dose else 1000.0)
        _say(n0)
        out["rate_ml_per_day"] = v if isinstance(v, str) else _to_rate(v, primary, by_dose)
    if mode == "flex":
        out["steps"] = _steps_editor(_dicts(prog.get("steps")), seed_primary, primary, by_dose, vlabel)
    if mode == "weekday_flex":
        week = prog.get("week") if isinstance(prog.get("week"), dict) else {}
        rows = [{"day": d, **s} for d in WEEKDAYS for s in _dicts(week.get(d))]
        out["week"] = _steps_editor(rows, seed_primary, primary, by_dose, vlabel, weekly=True)
    if mode == "periodic_bolus":
        out["boluses"] = _boluses_editor(_dicts(prog.get("boluses")))
    if mode != "stopped":
        ptm = _ptm_editor(prog.get("ptm") if isinstance(prog.get("ptm"), dict) else None, primary)
        if ptm is not None:
            out["ptm"] = ptm
    return out


def _steps_editor(rows: list[dict], seed_primary, primary, by_dose: bool, vlabel: str, weekly: bool = False):
    st.markdown("**Steps** (start `HH:MM`, the first at 00:00; sorted by time as you add them; "
                + ("one list per weekday" if weekly else "every day") + ")")

    def shown(r):
        v = r.get("rate_ml_per_day")
        return si.fmt(v if isinstance(v, str) else _to_value(v, seed_primary, by_dose))

    df = pd.DataFrame([{**({"day": r.get("day")} if weekly else {}), "start": r.get("start"), "value": shown(r)}
                       for r in rows], columns=(["day"] if weekly else []) + ["start", "value"])
    config = {"start": st.column_config.TextColumn("start (HH:MM)"),
              "value": st.column_config.TextColumn(vlabel)}
    if weekly:
        config["day"] = st.column_config.SelectboxColumn("day", options=list(WEEKDAYS))
    edited = st.data_editor(df, key=S.key("steps"), num_rows="dynamic", hide_index=True, width="stretch",
                            column_config=config)
    records = [{k: _cell(v) for k, v in r.items()} for r in edited.to_dict("records")]
    to_rate = (lambda v: _to_rate(v, primary, by_dose))
    n0 = len(problems())
    if not weekly:
        steps, found = si.steps(records, to_rate=to_rate)
        problems().extend((("proposed", "steps"), p) for p in found)
        _say(n0)
        _resort(records, steps)
        return steps
    week: dict = {}
    for d in WEEKDAYS:
        day_rows = [r for r in records if r.get("day") == d]
        if day_rows:
            steps, found = si.steps(day_rows, label=f"{d} step", to_rate=to_rate)
            week[d] = steps
            problems().extend((("proposed", "week"), p) for p in found)
    for i, r in enumerate(records, start=1):
        if r.get("day") not in WEEKDAYS:
            problems().append((("proposed", "week"), si.Problem(f"row {i}", "choose the weekday")))
    _say(n0)
    return week


def _resort(records: list[dict], steps: list[dict]) -> None:
    """A step added out of time order: draw the table again in order (the values stay as typed)."""
    starts = [si.time_of_day(r.get("start"), "")[0] for r in records]
    valid = [t for t in starts if t is not None]
    if len(valid) == len(records) and valid != sorted(valid):
        data = copy.deepcopy(S.draft())
        data.setdefault("proposed", {})["steps"] = steps
        st.session_state["sbx_resort"] = data


def _boluses_editor(rows: list[dict]) -> list[dict]:
    st.markdown("**Periodic boluses** (each day: a volume over a duration, every N hours from a start time)")
    cols = ["first_at", "every_hours", "volume_ml", "duration_min"]
    df = pd.DataFrame([{c: si.fmt(r.get(c)) for c in cols} for r in rows], columns=cols)
    edited = st.data_editor(df, key=S.key("boluses"), num_rows="dynamic", hide_index=True, width="stretch",
                            column_config={
                                "first_at": st.column_config.TextColumn("first at (HH:MM)"),
                                "every_hours": st.column_config.TextColumn("every (h)"),
                                "volume_ml": st.column_config.TextColumn("volume (mL)"),
                                "duration_min": st.column_config.TextColumn("duration (min)")})
    out, n0 = [], len(problems())
    rules = {"every_hours": ("every", {"lo": 0.25, "hi": 24.0, "unit": "h"}),
             "volume_ml": ("volume", {"lo": 0.0, "above_lo": True, "unit": "mL"}),
             "duration_min": ("duration", {"lo": 1.0, "hi": 1440.0, "unit": "min"})}
    for i, r in enumerate(edited.to_dict("records"), start=1):
        r = {k: _cell(v) for k, v in r.items()}
        if all(v is None for v in r.values()):
            problems().append((("proposed", "boluses"), si.Problem(f"bolus {i}", "empty row: fill it in or delete it")))
            continue
        t, p = si.time_of_day(r.get("first_at"), f"bolus {i}, first at")
        row = {"first_at": t if p is None else r.get("first_at")}
        found = [p] if p else []
        for col, (name, kw) in rules.items():
            v, p = si.number(r.get(col), f"bolus {i}, {name}", **kw)
            row[col] = v if p is None else r.get(col)
            found += [p] if p else []
        problems().extend((("proposed", "boluses"), p) for p in found)
        out.append(row)
    _say(n0)
    return out


def _ptm_editor(ptm: dict | None, primary: DrugEntry | None = None) -> dict | None:
    on = st.checkbox("Patient bolus (PTM)", value=ptm is not None, key=S.key("ptm_on"))
    if not on:
        return None
    ptm = ptm or {}
    row = _row()
    n0 = len(problems())
    vol = _num(row, "PTM bolus (mL)", ptm.get("bolus_volume_ml", 0.01), "ptm_vol", ("proposed", "ptm", "bolus_volume_ml"),
               field="PTM bolus", lo=0.0, above_lo=True, hi=1000.0, unit="mL")
    lock = _num(row, "Lockout (min)", ptm.get("lockout_min", 120), "ptm_lock", ("proposed", "ptm", "lockout_min"),
                field="lockout", lo=1.0, hi=1440.0, unit="min")
    mx = _num(row, "Max per day", ptm.get("max_per_day", 3), "ptm_max", ("proposed", "ptm", "max_per_day"),
              field="max per day", lo=1, hi=96, integer=True)
    _say(n0)
    if primary is not None and isinstance(vol, float):
        st.caption(f"PTM bolus: {si.fmt(vol)} mL = "  # the volume as typed, the dose rounded by its unit
                   f"{fmt(sandbox.dose_for_rate(vol, primary), primary.spec.dose_unit.split('/')[0])} of {primary.drug}")
    return {"bolus_volume_ml": vol, "lockout_min": lock, "max_per_day": mx}


SECTIONS = ("sbx_pump_box", "sbx_history_box")  # the editor's lazy expanders (their open state)


def _section_source(name: str, is_open: bool) -> dict | None:
    """What an open lazy section's widgets start from: the draft as it was when the section was
    opened (its widgets are created then, from these values; kept while it stays open), taken
    again when another case or generation of the editor is shown. Nothing else is restarted.
    None while closed."""
    src = st.session_state.setdefault("sbx_section_src", {})
    if not is_open:
        src[name] = None
    elif src.get(name) is None or src[name][0] != S.gen():
        src[name] = (S.gen(), copy.deepcopy(S.draft()))
    return src[name][1] if is_open else None


def editor() -> dict:
    """Draw the whole editor from the seed; return the draft case dict (problems: ``problems()``)."""
    st.session_state[_PROBLEMS] = []
    seed = S.seed()
    # lazy sections: closed, their widgets are not drawn (an edit elsewhere does not send them to
    # the browser again) and their fields are read from the draft through UNSEEN
    box = st.expander("Pump, reservoir, dates and refill visit", key=SECTIONS[0], on_change="rerun")
    src = _section_source(SECTIONS[0], bool(box.open))
    ui, src = (box, src) if box.open else (UNSEEN, S.draft())
    data = pump_and_visit(src, ui)
    extras.screening_bolus(src, data, ui)
    extras.refill_contents(src, data, ui)
    box = st.expander("Program history (how often the dose rose)", key=SECTIONS[1], on_change="rerun")
    ticked = _section_source(SECTIONS[1], bool(box.open))
    # the rows are the loaded case's (an unticked row is not in the draft but can be ticked again)
    extras.history(seed, data, box if box.open else UNSEEN, ticked=ticked if box.open else S.draft())
    data["current"] = seed.get("current") if isinstance(seed.get("current"), dict) else None
    if data["current"] is None:
        data.pop("current")
    data["proposed"] = program_editor(seed)
    if isinstance(seed.get("trial"), dict):  # a new implant's screening trial rides along as loaded
        data["trial"] = seed["trial"]
    return data


def rates_table(case) -> pd.DataFrame | None:
    """Both views of a flex schedule: rate (mL/day) and the dose of every drug, per step (rounded by unit)."""
    p = case.proposed
    if p.mode != "flex":
        return None
    days = {"every day": p.steps} if p.steps is not None else p.week
    rows = []
    for day, steps in days.items():
        for s in steps:
            row = {"day": day, "start": s.start, "rate (mL/day)": s.rate_ml_per_day}
            for e in p.drugs:
                row[f"{e.drug} ({e.spec.dose_unit})"] = sandbox.dose_for_rate(s.rate_ml_per_day, e)
            rows.append(row)
    return round_frame(pd.DataFrame(rows))


_ = date  # date_input values are dates
