"""Clinician: the rate schedule of the current program, and the dose history."""
import streamlit as st

from pumpmodel.figures import schedule as fig
from pumpmodel.programs import WEEKDAYS
from pumpmodel.units import round_frame, text_frame
from ui.clinician import cached_chart, page_start
from ui.common import static_table

view = page_start("Rate schedule")
prog = view.case.proposed

st.subheader("24 h schedule")
day = None
if prog.mode == "flex" and prog.week is not None:
    day = st.segmented_control("Weekday", list(WEEKDAYS), default="mon", format_func=fig.DAY_NAMES.get,
                               key="day", bind="query-params") or "mon"
cached_chart(view, "step", lambda: fig.rate_step_figure(
    prog, day=day, title=f"Basal rate and dose, {fig.DAY_NAMES.get(day, 'every day')}"), extra=str(day))
if not fig.ptm_text(prog):
    st.caption("No patient bolus (PTM) programmed.")
if prog.week is not None:
    cached_chart(view, "week", lambda: fig.week_heatmap(prog, title="Mean rate per hour and weekday"))

st.subheader("Settings")
settings = fig.settings_table(prog)
static_table(text_frame(settings), "Settings", csv=round_frame(settings).to_csv(index=False).encode("utf-8"))
st.caption("Dose columns are the dose rate of each step in the drug's unit per day (rate x concentration); "
           "the last row is the programmed total per day (no PTM).")

st.subheader("History")
programs = view.pt.programs()
cached_chart(view, "history", lambda: fig.dose_history_figure(view.pt.samples, programs, events=view.pt.events,
                                                            title="Daily dose over the record"))
changes = len(programs) - 1
st.caption(("No program change in the record. " if changes == 0 else
            f"{changes} program change{'s' if changes > 1 else ''} in the record (orange diamonds, hover for old "
            "and new dose). ")
           + "Dotted lines label MRI, occlusions and alarms. Delivered dose includes PTM and clinician boluses.")
