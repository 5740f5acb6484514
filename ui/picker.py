"""The sidebar pump picker, drawn once by dashboard.py for every page.

The choice lives in ``ui.state`` (session state + ``?pump=ID``), so it
survives page switches and a browser reload; the default is the first
story patient. Uploaded pumps come from the workspace (``?ws=``); a cohort
pump named in the address is loaded from the cohort folders; a pump that is
nowhere is reported, never silently replaced."""
from __future__ import annotations

import streamlit as st

from ui import data, state
from ui.safe_text import code, md

_KEY = "pump_picker"


def _choose() -> None:
    state.select_pump(st.session_state[_KEY])


def _restore_cohort_pump(pump_id: str) -> bool:
    from ui.cohort_open import restore

    try:
        return restore(pump_id)
    except Exception:  # noqa: BLE001 - a broken cohort folder must not break every page
        return False


def pump_picker() -> str | None:
    """Draw the picker in the sidebar; returns the selected pump id."""
    try:
        pumps = data.pumps_table()
    except Exception as exc:  # the story data itself is broken: say so, keep the app usable
        st.sidebar.warning(f"Story telemetry could not be loaded: {md(exc)}")
        return None
    ids = list(pumps["pump_id"])
    if not ids:
        st.sidebar.info("No pumps loaded: upload telemetry.")
        return None
    wanted = state.selected_pump_id()
    if wanted is not None and wanted not in ids and _restore_cohort_pump(wanted):
        pumps = data.pumps_table()
        ids = list(pumps["pump_id"])
    if wanted not in ids:
        if wanted is not None:
            st.sidebar.warning(f"Pump {code(wanted)} is not in this workspace (it was uploaded in another workspace, or "
                               f"removed) nor in the cohort data: showing {pumps['patient_label'].iloc[0]} instead.",
                               icon=":material/warning:")
        state.select_pump(ids[0])
        wanted = ids[0]
    elif st.query_params.get(state.PUMP_PARAM) != wanted:
        st.query_params[state.PUMP_PARAM] = wanted  # keep the URL shareable after page switches
    if st.session_state.get(_KEY) != wanted:
        st.session_state[_KEY] = wanted
    labels = dict(zip(pumps["pump_id"], pumps["patient_label"]))
    sources = dict(zip(pumps["pump_id"], pumps["source"]))
    with st.sidebar:
        st.selectbox(
            "Pump", ids, key=_KEY, on_change=_choose,
            format_func=lambda pid: labels[pid] + ("" if sources[pid] == "story" else f" (uploaded: {sources[pid]})"),
            help="Story patients first, then pumps from telemetry uploaded in this workspace. "
                 "The choice is kept in the address (?pump=ID).")
        st.caption(f"{md(labels[wanted])} (pump id {code(wanted)})")
        story = pumps["story"].iat[ids.index(wanted)]
        if isinstance(story, str) and story:
            with st.expander("Patient story"):
                st.markdown(md(story, max_chars=5000))  # an uploaded story is text, never markdown
    return wanted
