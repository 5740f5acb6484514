"""The browser's workspace (``pumpmodel.store``) and its token in the address (``?ws=``).

A reload, a second tab or a shared link with the same ``?ws=`` opens the same
workspace; a visitor without one (or with an unknown token) gets a fresh one.
The ``Workspace`` handle is cached in ``st.session_state`` (a handle, not
data: every read goes to the database, so two tabs see each other's writes).
"""
from __future__ import annotations

import streamlit as st

from pumpmodel.store import Workspace, get_store

WS_PARAM = "ws"
_KEY = "workspace"
_NOTICE = "workspace_notice"


def current() -> Workspace:
    """This session's workspace; puts its token in the address (again, after a page switch)."""
    token = st.query_params.get(WS_PARAM)
    ws: Workspace | None = st.session_state.get(_KEY)
    if ws is None or (token is not None and token != ws.token):
        ws, created = get_store().open_or_create(token)
        if created and token:
            st.session_state[_NOTICE] = ("The workspace in the address was not found (or has been removed): "
                                         "a new, empty workspace was started.")
        st.session_state[_KEY] = ws
    if st.query_params.get(WS_PARAM) != ws.token:
        st.query_params[WS_PARAM] = ws.token
    return ws


def notice() -> str | None:
    """A one-time message about the workspace (e.g. an unknown token), then None."""
    return st.session_state.pop(_NOTICE, None)
