"""Exercise player: briefing, task, your answer evaluated live, submit, per-objective results, debrief."""
import streamlit as st

from ui import training as T
from ui import training_state as TS
from ui.common import disclaimer
from ui.training_player import history, play_program, show_result
from ui.training_visit import play_visit

st.title("Exercise player")
disclaimer()
ws = TS.current()
name = TS.trainee_name(ws)
if not name:
    name = T.name_gate(ws)
ex = T.pick_exercise(T.deck())
T.briefing(ex)
if not show_result(ex):
    (play_visit if ex.visit is not None else play_program)(ex, ws, name)
history(ex, ws)
st.page_link("pages/training.py", label="All exercises and your progress", icon=":material/school:",
             query_params={"ws": ws.token})
