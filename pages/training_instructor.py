"""Instructor view: pass rates per exercise and objective, common wrong answers, hard stops and
overrides per 100 attempts, median time, across every trainee; closed without the instructor key."""
import streamlit as st

from ui import training as T
from ui import training_state as TS
from ui.common import disclaimer
from ui.training_instructor import dashboard, unlocked

st.title("Instructor view")
disclaimer()
st.markdown("Results of every trainee of this deployment (all workspaces).")
if unlocked():
    dashboard(T.deck(), TS.store().all_attempts())
