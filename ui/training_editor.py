"""The exercise player's editor: what the exercise lets the trainee change (program, refill,
next appointment, alarm, bridge bolus), the acknowledgements of soft findings and the
questions. It returns a submission dict (``pumpmodel.training.models.Submission`` shape).

Widgets are seeded once from the saved draft (or the starting case) and then own their
values; the page saves the resulting draft to the store on every change.
"""
from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

from pumpmodel import library
from pumpmodel.evaluation import Evaluation
from pumpmodel.sandbox import ack_key, soft_findings
from pumpmodel.training.models import Exercise

MODES = {"simple_continuous": "Simple continuous", "flex": "Flex (time-of-day steps)", "stopped": "Stopped"}


def _seed(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def clear(prefix: str) -> None:
    for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[k]


def program_editor(prog: dict, k: str) -> dict:
    """Drugs and concentration, mode, rate or flex steps, PTM."""
    drugs = []
    names = list(library.drugs())
    for i, d in enumerate(prog.get("drugs") or []):
        c1, c2, c3 = st.columns([3, 2, 2])
        _seed(f"{k}_drug{i}", d["drug"])
        _seed(f"{k}_conc{i}", float(d["concentration"]))
        _seed(f"{k}_unit{i}", d["unit"])
        name = c1.selectbox("Drug", names, key=f"{k}_drug{i}")
        conc = c2.number_input("Concentration", min_value=0.0, format="%.4g", key=f"{k}_conc{i}")
        unit = c3.selectbox("Unit", ["mcg/mL", "mg/mL"], key=f"{k}_unit{i}")
        drugs.append({"drug": name, "concentration": conc, "unit": unit})
    modes = list(MODES) + ([prog["mode"]] if prog.get("mode") not in MODES else [])
    _seed(f"{k}_mode", prog.get("mode", "simple_continuous"))
    mode = st.selectbox("Infusion mode", modes, key=f"{k}_mode", format_func=lambda m: MODES.get(m, m))
    out: dict = {"drugs": drugs, "mode": mode}
    if mode == "simple_continuous":
        rate = prog.get("rate_ml_per_day")
        if rate is None:
            steps = prog.get("steps") or []
            rate = steps[0]["rate_ml_per_day"] if steps else 0.1
        _seed(f"{k}_rate", float(rate))
        out["rate_ml_per_day"] = st.number_input("Rate (mL/day)", min_value=0.0, step=0.001, format="%.4f",
                                                 key=f"{k}_rate")
    elif mode == "flex":
        steps = prog.get("steps") or [{"start": "00:00", "rate_ml_per_day": prog.get("rate_ml_per_day") or 0.1}]
        st.caption("Flex steps: start time (HH:MM) and rate in mL/day; the first step starts at 00:00.")
        table = st.data_editor(pd.DataFrame(steps, columns=["start", "rate_ml_per_day"]), num_rows="dynamic",
                               key=f"{k}_steps", hide_index=True,
                               column_config={"start": st.column_config.TextColumn("start (HH:MM)"),
                                              "rate_ml_per_day": st.column_config.NumberColumn(
                                                  "rate (mL/day)", min_value=0.0, format="%.4f")})
        out["steps"] = [{"start": str(r["start"]), "rate_ml_per_day": float(r["rate_ml_per_day"])}
                        for r in table.to_dict("records") if pd.notna(r["start"]) and pd.notna(r["rate_ml_per_day"])]
    elif mode == "periodic_bolus":
        out.update({x: prog[x] for x in ("rate_ml_per_day", "boluses") if x in prog})
        st.caption("Periodic boluses as programmed now (edit them in the programming sandbox).")
    if mode != "stopped":
        ptm = prog.get("ptm")
        _seed(f"{k}_ptm_on", ptm is not None)
        if st.toggle("PTM (patient bolus) on", key=f"{k}_ptm_on"):
            ptm = ptm or {"bolus_volume_ml": 0.02, "lockout_min": 240, "max_per_day": 3}
            c1, c2, c3 = st.columns(3)
            _seed(f"{k}_ptm_vol", float(ptm["bolus_volume_ml"]))
            _seed(f"{k}_ptm_lock", float(ptm["lockout_min"]))
            _seed(f"{k}_ptm_max", int(ptm["max_per_day"]))
            out["ptm"] = {
                "bolus_volume_ml": c1.number_input("PTM bolus (mL)", min_value=0.0, step=0.005, format="%.4f",
                                                   key=f"{k}_ptm_vol"),
                "lockout_min": c2.number_input("Lockout (min)", min_value=0.0, step=15.0, key=f"{k}_ptm_lock"),
                "max_per_day": c3.number_input("Max per day", min_value=0, step=1, key=f"{k}_ptm_max")}
    return out


def case_editor(ex: Exercise, start: dict, draft_case: dict, k: str) -> dict:
    """The case changes the exercise allows (program, refill, next appointment, alarm)."""
    changes: dict = {}
    if "proposed" in ex.edit:
        st.markdown("**Program**")
        changes["proposed"] = program_editor(draft_case.get("proposed") or start["proposed"], f"{k}_p")
    if "refill" in ex.edit:
        st.markdown("**Refill record**")
        r = draft_case.get("refill") or start.get("refill") or {}
        c1, c2 = st.columns(2)
        _seed(f"{k}_wd", float(r.get("withdrawn_ml", 0.0)))
        _seed(f"{k}_add", float(r.get("added_ml", 0.0)))
        changes["refill"] = {
            "withdrawn_ml": c1.number_input("Volume withdrawn (mL)", min_value=0.0, step=0.1, key=f"{k}_wd"),
            "added_ml": c2.number_input("Volume added (mL)", min_value=0.0, step=0.5, key=f"{k}_add")}
    if "next_appointment" in ex.edit:
        when = datetime.fromisoformat(draft_case.get("next_appointment") or start["next_appointment"])
        _seed(f"{k}_appt", when.date())
        day = st.date_input("Next appointment (refill)", key=f"{k}_appt")
        changes["next_appointment"] = datetime.combine(day, when.time() or time(9, 0)).isoformat()
    if "low_reservoir_alarm_ml" in ex.edit:
        lra = (draft_case.get("pump") or {}).get("low_reservoir_alarm_ml") or start["pump"].get(
            "low_reservoir_alarm_ml") or library.profile(start["pump"]["profile"]).low_reservoir_alarm_ml
        _seed(f"{k}_lra", float(lra))
        changes["pump"] = {"low_reservoir_alarm_ml": st.number_input("Low-reservoir alarm (mL)", min_value=0.0,
                                                                     step=0.5, key=f"{k}_lra")}
    return changes


def bridge_editor(ex: Exercise, draft: dict, k: str) -> float | None:
    if "bridge_bolus" not in ex.edit:
        return None
    _seed(f"{k}_bridge", float(draft.get("bridge_bolus_ml") or 0.0))
    v = st.number_input("Bridge bolus to give (mL; 0 = none)", min_value=0.0, step=0.01, format="%.3f",
                        key=f"{k}_bridge")
    return v or None


def ack_editor(ex: Exercise, ev: Evaluation | None, draft: dict, k: str) -> dict[str, str]:
    """A reason box for every soft finding (an override needs a reason)."""
    if ev is None or "acknowledgements" not in ex.edit:
        return {}
    acks = {}
    soft = soft_findings(ev)
    if soft:
        st.markdown("**Acknowledge soft warnings** (only if you mean to override them; give your reason)")
    for f in soft:
        key = ack_key(f)
        _seed(f"{k}_ack_{key}", (draft.get("acknowledgements") or {}).get(key, ""))
        reason = st.text_input(f"{f.code}" + (f" ({f.drug})" if f.drug else "") + ": reason",
                               key=f"{k}_ack_{key}", placeholder="why this is right for this patient")
        if reason.strip():
            acks[key] = reason.strip()
    return acks


def questions(ex: Exercise, draft: dict, k: str) -> dict[str, str]:
    answers = {}
    for q in ex.questions:
        key = f"{k}_q_{q.id}"
        saved = (draft.get("answers") or {}).get(q.id)
        if key not in st.session_state and saved is not None:
            st.session_state[key] = saved
        texts = {c.id: c.text for c in q.choices}
        extra = {} if key in st.session_state else {"index": None}
        got = st.radio(q.prompt, list(texts), format_func=texts.get, key=key, **extra)
        if got is not None:
            answers[q.id] = got
    return answers
