"""Training: your display name, the exercise deck with your progress, results CSV and certificate."""
import streamlit as st

from ui import training as T
from ui import training_state as TS
from ui.common import disclaimer
from ui.training_progress import progress_view

st.title("Training: exercises and progress")
disclaimer()
st.markdown("Practise programming and refilling intrathecal pumps on synthetic patients. Each exercise sets a task, "
            "checks what you submit against its objectives, explains every mistake with the numbers, and ends "
            "with a debrief from the sources. Start with the beginner exercises.")
ws = TS.current()
name = T.name_gate(ws)
progress_view(T.deck(), TS.store().attempts(ws), ws, name)
