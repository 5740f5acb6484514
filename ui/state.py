"""Per-session state shared by the pages.

The selected pump lives in ``st.session_state`` and in the address
(``?pump=ID``); what a user *does* (programs sent to the simulated pumps)
lives in the workspace store (``ui.workspace``, ``?ws=``), so a reload, a
second tab or a shared link sees it. Nothing here is a module global.
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from pumpmodel.programs import Program
from pumpmodel.store import Override, Sent
from ui import workspace

PUMP_PARAM = "pump"


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
    """The program last sent to this (simulated) pump in this workspace and still in force, if any."""
    sent = workspace.current().current_program(pump_id)
    return None if sent is None else Program.model_validate_json(sent.program_json)


def last_sent(pump_id: str) -> Sent | None:
    return workspace.current().current_program(pump_id)


def send_program(pump_id: str, program: Program, pump_time: datetime, *, case: dict | None = None,
                 case_key: str | None = None, overrides: list[Override] = ()) -> Sent:
    """Send ``program`` (and log its overrides) in one transaction."""
    return workspace.current().send_program(pump_id, program.model_dump_json(), pump_time,
                                            case=case, case_key=case_key, overrides=overrides)


def undo_sent(pump_id: str) -> bool:
    """Take back the last sent program; False when there was none."""
    return workspace.current().undo_send(pump_id)


def reset_sent(pump_id: str) -> None:
    workspace.current().reset_sent(pump_id)
