"""Page furniture: disclaimer and small display helpers."""
from __future__ import annotations

import streamlit as st

DISCLAIMER = (
    "**Training simulator.** Every patient, pump and number here is synthetic. "
    "Not for clinical use and not medical advice."
)


def disclaimer() -> None:
    st.caption(":warning: " + DISCLAIMER)
