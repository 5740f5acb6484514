"""Sandbox inputs the round-2 rules read: the baclofen screening bolus, what was put into the
reservoir at a refill (``refill.drugs``) and the pump's earlier programmings (``history``, from
the telemetry's program changes). Each takes the seed (the loaded case) and the draft dict built
so far, and adds its field to the draft only when it is given."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pumpmodel import library
from pumpmodel.programs import Program
from pumpmodel.schedule import profile_for
from pumpmodel.units import fmt, rounded
from ui import sandbox_state as S

UNITS = ["mg/mL", "mcg/mL"]


def _cell(v):
    return None if v is None or (isinstance(v, float) and v != v) else v


def screening_bolus(seed: dict, draft: dict, container=st) -> None:
    v = seed.get("screening_bolus_mcg")
    x = container.number_input(
        "Baclofen screening bolus (mcg; 0 = not given)", min_value=0.0, step=25.0, key=S.key("screening"),
        value=float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0,
        help="The effective intrathecal screening bolus. The labelled baclofen start is twice it; "
             "without it, at most 200 mcg/day.")
    if x > 0:
        draft["screening_bolus_mcg"] = x


def refill_contents(seed: dict, draft: dict, ui=st) -> None:
    """At a refill visit: optionally, the drugs and concentrations really put into the reservoir."""
    if not isinstance(draft.get("refill"), dict):
        return
    refill0 = seed.get("refill") if isinstance(seed.get("refill"), dict) else {}
    drugs0 = refill0.get("drugs") if isinstance(refill0.get("drugs"), list) else None
    on = ui.checkbox("Record what was put into the reservoir", value=drugs0 is not None, key=S.key("refill_drugs_on"),
                     help="Checked against the proposed program's drugs and concentrations (REFILL_DRUG_MISMATCH).")
    if not on:
        return
    proposed = seed.get("proposed") if isinstance(seed.get("proposed"), dict) else {}
    # an emptied table stays empty (and is reported), never refilled with the program's drugs
    rows = [r for r in (drugs0 if drugs0 is not None else proposed.get("drugs") or []) if isinstance(r, dict)]
    df = pd.DataFrame([{"drug": r.get("drug"), "concentration": r.get("concentration"), "unit": r.get("unit")}
                       for r in rows] or [{"drug": None, "concentration": None, "unit": None}])
    edited = ui.data_editor(
        df, key=S.key("refill_drugs"), num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "drug": st.column_config.SelectboxColumn("drug put in", options=list(library.drugs()), required=True),
            "concentration": st.column_config.NumberColumn("concentration", min_value=0.0, format="%g", required=True),
            "unit": st.column_config.SelectboxColumn("unit", options=UNITS, required=True),
        })
    draft["refill"]["drugs"] = [{k: _cell(v) for k, v in r.items()} for r in edited.to_dict("records")
                                if any(_cell(v) is not None for v in r.values())]


def _summary(entry: dict) -> dict:
    """One history row for display: when, mode, drugs and the daily volume and dose."""
    try:
        prog = Program.model_validate(entry.get("program"))
        daily = profile_for(prog).daily_volume_ml
        doses = ", ".join(f"{n} {fmt(daily * c, library.drug(n).dose_unit)}" for n, c in prog.concentrations().items())
        return {"sent at": str(entry.get("at", "")).replace("T", " ")[:16], "mode": prog.mode.replace("_", " "),
                "mL/day": rounded(daily, "mL/day"), "daily dose": doses}
    except Exception:  # a malformed entry is shown as such; validation names it
        return {"sent at": str(entry.get("at", "")), "mode": "?", "mL/day": None, "daily dose": "not readable"}


def history(seed: dict, draft: dict, ui=st, ticked: dict | None = None) -> None:
    """The pump's earlier programmings, oldest first; untick a row to leave it out. ``ticked``: a
    draft whose ``history`` says which rows are ticked (default: all)."""
    hist = [h for h in (seed.get("history") or []) if isinstance(h, dict)]
    if not hist:
        ui.caption("Program history: none known (a pump's history comes from its telemetry program changes). "
                   "Rules on how often a dose may rise are silent without it.")
        return
    kept0 = None if ticked is None else [h for h in (ticked.get("history") or []) if isinstance(h, dict)]
    df = pd.DataFrame([{"use": kept0 is None or h in kept0, **_summary(h)} for h in hist])
    edited = ui.data_editor(
        df, key=S.key("history"), hide_index=True, width="stretch", disabled=[c for c in df.columns if c != "use"],
        column_config={"use": st.column_config.CheckboxColumn("use", help="Leave a programming out of the history")})
    ui.caption(f"Program history: {len(hist)} earlier programming(s) from the pump's telemetry, oldest first; "
               "used by TITRATION_TOO_FREQUENT (baclofen at most 1 raise per 24 h, ziconotide 3 per 7 days).")
    kept = [h for h, use in zip(hist, edited["use"].tolist()) if bool(use)]
    if kept:
        draft["history"] = kept
