"""Instructor view across every trainee of the deployment, behind an instructor key.

The view is closed unless a key is configured (``PUMP_INSTRUCTOR_KEY`` in the
environment, or ``instructor_key`` in Streamlit secrets); a wrong key gets nothing
but "wrong key". The key is compared in constant time and never stored: the
session keeps only a digest of it, checked against the configured key each run.
"""
from __future__ import annotations

import hashlib
import hmac
import os

import streamlit as st

from pumpmodel.figures import training as F
from pumpmodel.training import aggregates as A
from pumpmodel.training.models import Exercise
from pumpmodel.training.progress import AttemptRecord

ENV_KEY = "PUMP_INSTRUCTOR_KEY"
SECRET_KEY = "instructor_key"
CHART_CONFIG = {"displaylogo": False}


def configured_key() -> str | None:
    key = os.environ.get(ENV_KEY)
    if not key:
        try:
            key = st.secrets.get(SECRET_KEY)
        except Exception:  # no secrets file: not configured
            key = None
    return str(key) if key else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unlocked() -> bool:
    """Ask for the key; True only when it matches the configured one."""
    key = configured_key()
    if key is None:
        st.info(f"The instructor view is closed: no instructor key is configured. Set the environment variable "
                f"`{ENV_KEY}` (or `{SECRET_KEY}` in `.streamlit/secrets.toml`) and restart the app.",
                icon=":material/lock:")
        return False
    if hmac.compare_digest(st.session_state.get("trn_instructor", ""), _digest(key)):
        if st.button("Lock the instructor view", key="trn_lock", icon=":material/lock:"):
            st.session_state.pop("trn_instructor", None)
            st.rerun()
        return True
    with st.form("trn_instructor_form"):
        typed = st.text_input("Instructor key", type="password", key="trn_key")
        go = st.form_submit_button("Open the instructor view", icon=":material/lock_open:")
    if go:
        if hmac.compare_digest(_digest(typed), _digest(key)):
            st.session_state["trn_instructor"] = _digest(key)
            st.rerun()
        st.error("Wrong key.")
    return False


def dashboard(deck: list[Exercise], attempts: list[AttemptRecord]) -> None:
    s = A.summary(attempts)
    c = st.columns(6)
    c[0].metric("Trainees", s["trainees"])
    c[1].metric("Attempts", s["attempts"])
    c[2].metric("Pass rate", "n/a" if s["pass_rate_percent"] is None else f"{s['pass_rate_percent']:.1f} %")
    c[3].metric("Hard stops / 100 attempts", "n/a" if s["hard_stops_per_100"] is None
                else f"{s['hard_stops_per_100']:.1f}")
    c[4].metric("Overrides / 100 attempts", "n/a" if s["overrides_per_100"] is None
                else f"{s['overrides_per_100']:.1f}")
    c[5].metric("Median time", "n/a" if s["median_time_s"] is None else f"{s['median_time_s'] / 60:.1f} min")
    ex_table = A.per_exercise(deck, attempts)
    obj_table = A.per_objective(deck, attempts)
    wrong = A.wrong_answers(deck, attempts)
    st.plotly_chart(F.pass_rate_by_exercise(ex_table), config=CHART_CONFIG, key="trn_chart_ex")
    st.markdown("**Per exercise**")
    st.dataframe(ex_table, hide_index=True, width="stretch", key="trn_tab_ex")
    st.plotly_chart(F.safety_per_100(ex_table), config=CHART_CONFIG, key="trn_chart_safety")
    st.plotly_chart(F.objective_pass_rates(obj_table), config=CHART_CONFIG, key="trn_chart_obj")
    st.markdown("**Most common wrong answers**")
    if wrong.empty:
        st.caption("No failed attempt yet.")
    else:
        st.markdown("| exercise | wrong answer | count | share of its attempts |\n|---|---|---|---|\n" + "\n".join(
            f"| {r['exercise']} | {r['wrong answer']} | {r['count']} | {r['share_of_attempts_percent']:.1f} % |"
            for r in wrong.to_dict("records")))
    st.markdown("**Export (CSV)**")
    c = st.columns(4)
    for col, (label, df, fname) in zip(c, (
            ("per exercise", ex_table, "training-per-exercise.csv"),
            ("per objective", obj_table, "training-per-objective.csv"),
            ("wrong answers", wrong, "training-wrong-answers.csv"),
            ("every attempt", A.attempts_table(attempts), "training-attempts.csv"))):
        col.download_button(label, df.to_csv(index=False), file_name=fname, mime="text/csv",
                            icon=":material/download:", key=f"trn_dl_{fname}")
