"""The guided refill visit in the player: one step at a time, feedback after each step.

The draft is the dict of actions by step (the same shape as an exercise's expert
solution); the visit's state is replayed from it with ``refill_visit.run``, so a
reload continues where the trainee was.
"""
from __future__ import annotations

from datetime import timedelta

import streamlit as st
from pydantic import ValidationError

from pumpmodel import evaluate
from pumpmodel.sandbox import ack_key, soft_findings
from pumpmodel.store import Workspace
from pumpmodel.training.models import Exercise
from pumpmodel.training.refill_visit import (STEP_TITLES, STEPS, VisitConfig, program_evaluation, run, view,
                                             visit_case)
from pumpmodel.training.scoring import error_lines
from ui import training as T
from ui import training_editor as E
from ui import training_state as TS
from ui.training_player import submit


def _record(ws: Workspace, ex: Exercise, actions: dict, step: str, action) -> None:
    TS.store().save_draft(ws, ex.id, {"visit": {**actions, step: action}})
    st.rerun()


def _log(state) -> None:
    for r in state.records:
        icon = ":material/check_circle:" if r.correct else ":material/cancel:"
        (st.success if r.correct else st.error)(f"**{STEP_TITLES[r.step]}.** {r.feedback}", icon=icon)


def play_visit(ex: Exercise, ws: Workspace, name: str | None) -> None:
    opened = TS.store().open_exercise(ws, ex.id)
    actions = dict((opened.draft or {}).get("visit") or {})
    cfg = VisitConfig.model_validate(ex.visit)
    state = run(cfg, actions)
    done = len(state.records)
    st.progress(min(1.0, (state.step_index if not state.ended else len(STEPS)) / len(STEPS)),
                text=f"Refill visit: step {min(state.step_index + 1, len(STEPS))} of {len(STEPS)}"
                if not state.ended else "Refill visit: finished")
    _log(state)
    if state.ended:
        st.info(f"**Visit over.** {state.outcome}", icon=":material/flag:")
        submit(ex, ws, name, {"visit": actions}, opened.started_at)
        return
    v = view(cfg, state)
    k = f"trn_{ex.id}_v{done}"
    with st.container(border=True):
        st.markdown(f"##### {v['title']}")
        if v["facts"]:
            st.markdown("| what you see | |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in v["facts"]))
        if v["observation"]:
            st.markdown(f"_{v['observation']}_")
        _step_input(ex, cfg, state, actions, ws, v, k)


def _step_input(ex, cfg, state, actions, ws, v, k) -> None:
    step = v["step"]
    if step == "interrogate":
        if st.button("Interrogated: go on", key=k, type="primary"):
            _record(ws, ex, actions, step, True)
    elif step in ("expected_residual", "withdraw"):
        label = "Expected residual (mL)" if step == "expected_residual" else "Volume withdrawn (mL)"
        val = st.number_input(label, min_value=0.0, step=0.1, format="%.2f", key=f"{k}_n")
        if st.button("Record", key=k, type="primary"):
            _record(ws, ex, actions, step, round(val, 3))
    elif v["choices"]:
        choice = st.radio("Your decision", list(v["choices"]), format_func=v["choices"].get, index=None,
                          key=f"{k}_r")
        if st.button("Decide", key=k, type="primary", disabled=choice is None):
            _record(ws, ex, actions, step, choice)
    elif step == "update_reservoir":
        c1, c2 = st.columns(2)
        res = c1.number_input("Reservoir volume now (mL)", min_value=0.0, step=0.5, key=f"{k}_res")
        alarm = c2.number_input("Low-reservoir alarm (mL)", min_value=0.0, step=0.5, key=f"{k}_alarm")
        if st.button("Update the pump", key=k, type="primary"):
            _record(ws, ex, actions, step, {"reservoir_ml": res, "alarm_ml": alarm})
    elif step == "program":
        current = cfg.start_case().current.model_dump(mode="json", exclude_none=True)
        prog = E.program_editor(current, f"{k}_p")
        try:
            preview = evaluate(visit_case(cfg, state, prog))
        except ValidationError as exc:
            st.error("Not a valid program yet: " + "; ".join(error_lines(exc)))
        else:
            T.figures_row(preview)
        bridge = st.number_input("Bridge bolus to give (mL; 0 = none)", min_value=0.0, step=0.01, format="%.3f",
                                 key=f"{k}_bridge")
        if st.button("Program", key=k, type="primary"):
            _record(ws, ex, actions, step, {"proposed": prog, "bridge_bolus_ml": bridge or None})
    elif step == "review_send":
        ev = program_evaluation(cfg, state)
        if ev is not None:
            T.figures_row(ev)
            T.explanations(ev, None)
        acks = {}
        for f in soft_findings(ev) if ev else []:
            reason = st.text_input(f"{f.code}: reason to override", key=f"{k}_ack_{ack_key(f)}")
            if reason.strip():
                acks[ack_key(f)] = reason.strip()
        if st.button("Send to the pump", key=k, type="primary"):
            _record(ws, ex, actions, step, {"send": True, "acknowledgements": acks})
    elif step == "printout":
        now = cfg.start_case().now.date()
        day = st.date_input("Book the next refill on", value=now + timedelta(days=28), key=f"{k}_d")
        if st.button("Book and finish", key=k, type="primary"):
            _record(ws, ex, actions, step, {"next_refill": (day or now).isoformat()})



