"""Clinician: the screening trial before an implant, the first program it leads to, and why an
oral-to-intrathecal conversion is not a starting dose."""
import streamlit as st

from ui import trial as T
from ui.common import disclaimer
from ui.state import selected_pump_id

st.title("Trial and first program")
disclaimer()
st.markdown("Before an implant, a screening trial (a single intrathecal bolus, repeated boluses, or an infusion "
            "through a temporary catheter) shows whether the drug helps. The first program is derived from the "
            "trial, by the drug's rule, and opens in the sandbox as a new implant so the start-dose guardrails apply.")

pid = selected_pump_id()
st.subheader("Screening trial")
recorded, who = T.pump_trial(pid)
st.markdown(who)
trial = T.trial_editor(recorded, pid)
if trial is not None:
    T.trial_summary(trial)
    st.subheader("First program from the trial")
    T.start_section(trial, pid)

st.subheader("Oral or systemic morphine to intrathecal: a conversion is not a starting dose")
T.conversion_section()
