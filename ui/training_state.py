"""Training pages' state: the workspace token (``?ws=``), the progress store, the trainee's name.

Progress lives in the store (``pumpmodel.training.progress``), keyed by the
workspace token that the address carries, never only in ``st.session_state``:
a reload or another server finds it again. Widget values are only the editor's
scratch space; each change of the draft is saved to the store.
"""
from __future__ import annotations

import secrets

import streamlit as st

from pumpmodel.training.progress import TrainingStore

WS_PARAM = "ws"


def workspace_token() -> str:
    """This browser's workspace token from the address; a new one (put in the address) if there is none."""
    token = st.query_params.get(WS_PARAM) or st.session_state.get("_ws_token")
    if not token:
        token = secrets.token_urlsafe(24)
    st.session_state["_ws_token"] = token
    if st.query_params.get(WS_PARAM) != token:
        st.query_params[WS_PARAM] = token
    return token


@st.cache_resource(show_spinner=False)
def _store() -> TrainingStore:
    try:
        from pumpmodel.training.progress_sql import SqlTrainingStore
    except ImportError:  # the workspace store (issue 10) is not on this branch yet
        from pumpmodel.training.progress import MemoryTrainingStore

        return MemoryTrainingStore()
    return SqlTrainingStore()


def store() -> TrainingStore:
    """The progress store (a connection pool to the workspace database, the same for every session)."""
    return _store()


def trainee_name(token: str) -> str | None:
    return store().display_name(token)
