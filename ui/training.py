"""Streamlit helpers shared by the training pages: name gate, exercise picker, briefing,
results with reasons and numbers, debrief, explanations."""
from __future__ import annotations

import streamlit as st

from pumpmodel import sharelink
from pumpmodel.evaluation import Evaluation
from pumpmodel.store import Workspace
from pumpmodel.training import load_deck
from pumpmodel.training.models import Exercise
from pumpmodel.training.progress import AttemptRecord, clean_name
from pumpmodel.units import fmt, fmt_text
from ui import training_state as TS
from ui.safe_text import md

LEVEL_ICON = {"beginner": ":material/looks_one:", "intermediate": ":material/looks_two:",
              "advanced": ":material/looks_3:"}
EX_PARAM = "ex"


@st.cache_data(show_spinner=False)
def _deck_json() -> list[str]:
    return [e.model_dump_json() for e in load_deck()]


def deck() -> list[Exercise]:
    """The shipped deck (parsed once per process; the files are data shipped with the app)."""
    return [Exercise.model_validate_json(j) for j in _deck_json()]


def name_gate(ws: Workspace) -> str | None:
    """The trainee's display name; asks for one (no password) when the workspace has none."""
    name = TS.trainee_name(ws)
    with st.container(border=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        typed = c1.text_input("Your display name (shown on your progress and certificate; no password)",
                              value=name or "", key="trn_name", max_chars=60)
        if c2.button("Save name", key="trn_name_save", icon=":material/badge:"):
            try:
                TS.store().set_display_name(ws, typed)
            except ValueError as exc:
                st.error(md(exc))
            else:
                name = clean_name(typed)
                st.toast(f"Saved: {md(name)}")
        st.caption("Your progress is kept in this workspace: bookmark this page's address (it carries `?ws=`) "
                   "to come back to it from any browser.")
    return name


def pick_exercise(exercises: list[Exercise]) -> Exercise:
    """The exercise chosen in the selectbox, or opened by a link (``?ex=ID``) the session has not seen yet."""
    ids = [e.id for e in exercises]
    wanted = st.query_params.get(EX_PARAM)
    if wanted in ids and wanted != st.session_state.get("trn_pick_seen"):
        st.session_state["trn_pick"] = wanted  # a link to another exercise wins over the last choice
    if st.session_state.get("trn_pick") not in ids:
        st.session_state["trn_pick"] = ids[0]
    by_id = {e.id: e for e in exercises}
    pick = st.selectbox("Exercise", ids, key="trn_pick",
                        format_func=lambda i: f"{by_id[i].level.capitalize()}: {by_id[i].title}")
    st.session_state["trn_pick_seen"] = pick
    if st.query_params.get(EX_PARAM) != pick:
        st.query_params[EX_PARAM] = pick
    return by_id[pick]


def briefing(ex: Exercise) -> None:
    st.markdown(f"#### {ex.title}")
    st.caption(f"{ex.level.capitalize()} · learning objective: {ex.learning_objective}")
    st.markdown(f"**Briefing.** {ex.briefing}")
    st.info(f"**Your task.** {ex.task}", icon=":material/assignment:")
    st.markdown("**Objectives checked when you submit:**\n" + "\n".join(f"- {o.text}" for o in ex.objectives))
    if ex.hints:
        with st.expander(f"Hints ({len(ex.hints)})", icon=":material/lightbulb:"):
            for h in ex.hints:
                st.markdown(f"- {h}")


def results(rec: AttemptRecord, ex: Exercise) -> None:
    """Per objective passed or failed with the reason and the numbers; attempt figures; the debrief."""
    verdict = "Passed" if rec.passed else "Not yet passed"
    st.subheader(f"{verdict}: {rec.score_percent:.0f} % of the objectives")
    c = st.columns(4)
    c[0].metric("Score", f"{rec.score_percent:.0f} %")
    c[1].metric("Time taken", duration_text(rec.duration_s))
    c[2].metric("Hard stops hit", rec.hard_stops)
    c[3].metric("Overrides", len(rec.overrides))
    lines = []
    for o in rec.objectives:
        mark = ":green[**PASS**]" if o["passed"] else ":red[**FAIL**]"
        lines.append(f"- {mark} {o['text']}: {md(o['reason'])}")  # may quote a typed reason
    st.markdown("\n".join(lines))
    if rec.overrides:
        st.markdown("**Overrides with your reasons:** " + "; ".join(f"`{o['code']}`: {md(o['reason'])}"
                                                                     for o in rec.overrides))
    if rec.wrong_answer:
        st.warning(f"This is a typical error: **{rec.wrong_answer}**.", icon=":material/school:")
    debrief(ex)


def duration_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def debrief(ex: Exercise) -> None:
    with st.container(border=True):
        st.markdown(f"**Debrief: what an expert does and why.** {ex.debrief.text}")
        st.caption(f"Source: {ex.debrief.source}")


def explanations(ev: Evaluation | None, case_dict: dict | None) -> None:
    """The sandbox's explanations one click away, and the case opened in the sandbox."""
    if ev is None:
        return
    box = st.expander("Explain the numbers (formulas and sources)", icon=":material/functions:",
                      key="trn_explain_box", on_change="rerun")
    if box.open:
        for e in ev.explanations:
            box.markdown(f"- **{e.figure}**: {fmt_text(e.formula)}" + (f"  \n  _source: {e.source}_" if e.source else ""))
        if case_dict is not None:
            try:
                link = "/sandbox?case=" + sharelink.encode(case_dict)
            except Exception:  # a draft the share link cannot carry: no link, never an error
                link = None
            if link:
                box.markdown(f"[Open this program in the programming sandbox]({link})")


def findings(ev: Evaluation) -> None:
    if not ev.warnings:
        st.success("No guardrail finding.", icon=":material/check_circle:")
    for w in ev.warnings:
        text = f"**{w.severity.upper()} · `{w.code}`** {fmt_text(w.message)}  \n_source: {w.source}_"
        {"hard": st.error, "soft": st.warning, "info": st.info}[w.severity](text)


def figures_row(ev: Evaluation) -> None:
    doses = "<br>".join(f"{n} {fmt(d.amount, d.unit)}" for n, d in ev.daily_dose.items())
    worst = ev.low_reservoir_alarm_at_worst_case
    cells = [("Daily volume", fmt(ev.daily_volume_ml, "mL/day")), ("Daily dose", doses),
             ("Refill by", f"{ev.refill_by:%Y-%m-%d %H:%M}" if ev.refill_by else "never"),
             ("Low-reservoir alarm (all PTM)", f"{worst:%Y-%m-%d %H:%M}" if worst else "never")]
    st.markdown("| " + " | ".join(c[0] for c in cells) + " |\n|" + "---|" * len(cells) + "\n| "
                + " | ".join(c[1] for c in cells) + " |", unsafe_allow_html=True)
