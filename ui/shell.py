"""Make sure every page runs inside the app shell (dashboard.py).

Streamlit 1.67 quirk: while a ``pages/`` folder exists, a freshly started
server treats the app as an old-style multipage app until the main script
has called ``st.navigation`` once. Until then a deep link (``/sandbox?case=…``
opened first on a new server) runs the page file on its own: no page config,
no pump picker, Streamlit's file-list sidebar. ``dashboard.py`` marks each
session it has run for; a page running without that mark switches Streamlit
to ``st.navigation`` mode (what it would do itself after the first root
visit) and reruns, so the same URL is served through the shell.
"""
from __future__ import annotations

import streamlit as st

SHELL_KEY = "_shell_ran"


def mark_shell() -> None:
    """Called by dashboard.py on every run, before the page runs."""
    st.session_state[SHELL_KEY] = True


def ensure_shell() -> None:
    """Called first by every page (via ``ui.common.disclaimer``)."""
    if st.session_state.get(SHELL_KEY):
        return
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    st.rerun()
