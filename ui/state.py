"""Per-session state shared by the pages.

Everything here lives in ``st.session_state`` (one browser session each) or
in the URL query string, never in module globals, so sessions never leak
into each other.
"""
from __future__ import annotations

import streamlit as st

from pumpmodel.programs import Program

PUMP_PARAM = "pump"
_SENT = "sent_programs"  # {pump_id: [Program, ...]} programs sent from the sandbox, newest last


def selected_pump_id() -> str | None:
    """The pump chosen in the sidebar; survives page switches and reloads via ``?pump=ID``."""
    pid = st.session_state.get("pump_id")
    if pid is None:
        pid = st.query_params.get(PUMP_PARAM)
        if pid is not None:
            st.session_state["pump_id"] = pid
    return pid


def select_pump(pump_id: str | None) -> None:
    st.session_state["pump_id"] = pump_id
    if pump_id is None:
        st.query_params.pop(PUMP_PARAM, None)
    else:
        st.query_params[PUMP_PARAM] = pump_id


def sent_program(pump_id: str) -> Program | None:
    """The program last sent to this (simulated) pump in this session, if any."""
    history = st.session_state.get(_SENT, {}).get(pump_id, [])
    return history[-1] if history else None


def send_program(pump_id: str, program: Program) -> None:
    st.session_state.setdefault(_SENT, {}).setdefault(pump_id, []).append(program)


def undo_sent(pump_id: str) -> bool:
    """Take back the last sent program; False when there was none."""
    history = st.session_state.get(_SENT, {}).get(pump_id, [])
    if not history:
        return False
    history.pop()
    return True


def reset_sent(pump_id: str) -> None:
    st.session_state.get(_SENT, {}).pop(pump_id, None)
