"""Page furniture: disclaimer and small display helpers."""
from __future__ import annotations

import streamlit as st

from ui.shell import ensure_shell

DISCLAIMER = (
    "**Training simulator.** Every patient, pump and number here is synthetic. "
    "Not for clinical use and not medical advice."
)


def disclaimer() -> None:
    """The training disclaimer; every page calls it first, so it also makes sure the page
    runs inside the app shell (see ui.shell)."""
    ensure_shell()
    st.caption(":warning: " + DISCLAIMER)
