"""Clinician: the interrogation screen of the selected pump."""
import streamlit as st

from pumpmodel.figures import clinician
from pumpmodel.telemetry import ERI_BATTERY_PCT
from ui.clinician import alarm_table, derived, findings, items, page_start

view = page_start("Pump overview", "interrogated state (last telemetry sample)")
pt, case, ev = view.pt, view.case, view.ev


def build():
    battery = clinician.battery_projection(pt.samples, case.pump.profile, pt.events, case.pump.end_of_service_at,
                                           eri_pct=ERI_BATTERY_PCT)
    return clinician.overview_items(case, ev, battery), clinician.active_alarms(pt.events, case.now)


groups, alarms = derived(view, "overview", build)  # once per pump state, for every session

st.caption(f"Pump clock now: {case.now:%Y-%m-%d %H:%M}. Open the ? of a figure (click, tap or Enter) for its formula and source.")
for name, group in groups.items():
    st.subheader(name)
    items(group, columns=4 if name != "Pump" else 2)

left, right = st.columns(2)
with left:
    st.subheader("Active alarms")
    st.caption("Alarms raised since the last refill; ERI and end of service stay active until pump replacement.")
    alarm_table(alarms)
with right:
    st.subheader("Engine warnings for the current program")
    findings(ev.warnings)
