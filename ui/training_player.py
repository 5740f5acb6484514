"""The exercise player: starting situation, the trainee's edits evaluated live, submit,
per-objective results with reasons and numbers, the debrief, and this trainee's attempts."""
from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from pumpmodel import evaluate
from pumpmodel.programs import Case
from pumpmodel.sandbox import schedule_text
from pumpmodel.store import Workspace
from pumpmodel.training.models import Exercise
from pumpmodel.training.progress import AttemptRecord, attempt_from_score
from pumpmodel.training.scoring import apply_changes, error_lines, score, starting_case
from pumpmodel.units import fmt, when
from ui import training as T
from ui import training_editor as E
from ui import training_state as TS


def situation(start: dict) -> None:
    """The starting situation as the programmer shows it after interrogation."""
    case = Case.model_validate(start)
    cur = case.current
    rows = [("pump", f"{case.pump.spec.label}"),
            ("indication", (case.indication or "not given").replace("_", " ")),
            ("drug(s) now", " + ".join(f"{e.drug} {fmt(e.concentration, e.unit)}" for e in cur.drugs)
             if cur else "none (new implant)"),
            ("program now", schedule_text(cur) if cur else "none (first programming)"),
            ("reservoir (pump estimate)", fmt(case.reservoir_ml, "mL")),
            ("low-reservoir alarm", fmt(case.pump.lra_ml, "mL")),
            ("pump clock", when(case.now)), ("next appointment", when(case.next_appointment))]
    if case.refill:
        rows.append(("refill today", f"withdrawn {fmt(case.refill.withdrawn_ml, 'mL')}, added "
                                     f"{fmt(case.refill.added_ml, 'mL')}"))
    if case.pump.end_of_service_at:
        rows.append(("battery end of service", when(case.pump.end_of_service_at)))
    st.markdown("| starting situation | |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows))


def submit(ex: Exercise, ws: Workspace, name: str | None, sub: dict, started_at) -> None:
    if st.button("Submit for scoring", type="primary", key=f"trn_{ex.id}_submit", icon=":material/send:",
                 disabled=not name, help=None if name else "Enter your display name first"):
        res = score(ex, sub)
        rec = attempt_from_score(res, name, started_at, sub)
        store = TS.store()
        store.add_attempt(ws, rec)
        store.close_exercise(ws, ex.id)
        st.session_state[f"trn_{ex.id}_result"] = rec
        st.rerun()
    if not name:
        st.caption("Enter your display name above to submit.")


def show_result(ex: Exercise) -> bool:
    """The result of the attempt just submitted, with 'Try again'; False when there is none."""
    rec: AttemptRecord | None = st.session_state.get(f"trn_{ex.id}_result")
    if rec is None:
        return False
    T.results(rec, ex)
    if st.button("Try again", key=f"trn_{ex.id}_again", icon=":material/replay:"):
        E.clear(f"trn_{ex.id}_")
        st.rerun()
    return True


def play_program(ex: Exercise, ws: Workspace, name: str | None) -> None:
    store = TS.store()
    opened = store.open_exercise(ws, ex.id)
    draft, k = opened.draft, f"trn_{ex.id}_w"
    start = starting_case(ex)
    situation(start)
    left, right = st.columns([5, 6], gap="large")
    with left:
        if ex.edit:
            st.markdown("##### Your answer")
        changes = E.case_editor(ex, start, draft.get("case") or {}, k)
        bridge = E.bridge_editor(ex, draft, k)
    case_dict = apply_changes(start, changes)
    ev = None
    with right:
        try:
            ev = evaluate(Case.model_validate(case_dict))
        except ValidationError as exc:
            st.error("Not a valid program yet (your input is kept):\n\n" +
                     "\n".join(f"- {line}" for line in error_lines(exc)))
        if ev is not None:
            st.markdown("##### What the programmer computes")
            T.figures_row(ev)
            T.findings(ev)
            T.explanations(ev, case_dict)
    acks = E.ack_editor(ex, ev, draft, k)
    answers = E.questions(ex, draft, k)
    sub = {"case": changes, "acknowledgements": acks, "answers": answers, "bridge_bolus_ml": bridge}
    if sub != draft:
        store.save_draft(ws, ex.id, sub)
    submit(ex, ws, name, sub, opened.started_at)


def history(ex: Exercise, ws: Workspace) -> None:
    mine = [a for a in TS.store().attempts(ws) if a.exercise_id == ex.id]
    if not mine:
        return
    with st.expander(f"Your attempts at this exercise ({len(mine)})", icon=":material/history:"):
        st.markdown("| # | finished (UTC) | score | time | hard stops | overrides | failed |\n|---|---|---|---|---|---|---|\n"
                    + "\n".join(f"| {i} | {a.finished_at:%Y-%m-%d %H:%M} | {a.score_percent:.0f} % | "
                                f"{T.duration_text(a.duration_s)} | {a.hard_stops} | {len(a.overrides)} | "
                                f"{', '.join(a.failed_ids) or '-'} |" for i, a in enumerate(mine, 1)))

