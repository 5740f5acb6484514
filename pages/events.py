"""Clinician: events and alarms, and PTM requests by hour of day."""
import streamlit as st

from pumpmodel.figures import events as fig
from pumpmodel.units import round_frame
from ui.clinician import cached_chart, page_start

view = page_start("Events and alarms")
events = view.pt.events
present = list(dict.fromkeys(k for k in fig.EVENT_KINDS if k in set(events["kind"])))

kinds = st.multiselect("Event kinds", present, default=present, format_func=fig.kind_label, key="kinds",
                       bind="query-params", help="Filter the timeline by kind of event (kept in the address).")
cached_chart(view, "timeline", lambda: fig.events_timeline(events, kinds=kinds, title="Timeline (pump clock)"),
             extra=",".join(kinds))
st.caption("Colour and shape by severity: critical (vermillion cross), non-critical (orange triangle), "
           "info (blue dot).")

st.subheader("Patient bolus requests by hour of day")
table = fig.ptm_by_hour(events)
total = int(table.to_numpy().sum())
if not total:
    ptm = (view.case.current or view.case.proposed).ptm
    st.info("No patient bolus (PTM) requests in this record"
            + ("." if ptm is not None else ": the current program has no PTM."), icon=":material/info:")
else:
    cached_chart(view, "ptm", lambda: fig.ptm_hour_figure(events, title="PTM requests granted and denied"))
    granted = int(table["granted"].sum())
    st.caption(f"{total} requests in the record: {granted} granted (green), {total - granted} denied "
               f"({(total - granted) / total:.0%}; orange: lockout, vermillion: daily maximum). "
               "Denials cluster where the lockout or the daily maximum binds.")

if st.toggle("Show the event log as a table", key="log", bind="query-params"):
    shown = events[events["kind"].isin(kinds)].drop(columns=["pump_id"])
    shown = round_frame(shown.assign(kind=shown["kind"].map(fig.kind_label))).rename(columns={
        "timestamp": "time (pump clock)", "kind": "event", "expected_residual_ml": "expected residual (mL)",
        "withdrawn_ml": "withdrawn (mL)", "added_ml": "added (mL)", "volume_ml": "volume (mL)"})
    st.dataframe(shown.sort_values("time (pump clock)", ascending=False), hide_index=True, width="stretch")
