"""Analyst: cohort explorer over fleet-scale telemetry (DuckDB on the Parquet files)."""
import streamlit as st

from pumpmodel.figures import cohort as figs
from pumpmodel.units import text_frame
from ui import cohort as ui
from ui.cohort_open import open_pump_form
from ui.common import disclaimer, static_table

st.title("Cohort explorer")
disclaimer()
st.caption("Fleet statistics over simulated pump telemetry. Queries run in DuckDB directly on the "
           "Parquet files; only aggregated results reach this page. Every export is the chart's data. "
           "Filters are kept in the address: share the link to show the same selection.")

picked = ui.source_picker()
if picked is None:
    st.stop()
folders, populations = picked
sel = ui.filter_widgets(folders, populations)

with st.spinner("Querying the cohort ..."):
    res = {v: ui.run_view(v, sel) for v in
           ("summary", "pump_table", "refill_intervals", "reservoir_margin", "dose_trajectory",
            "alarm_rates", "ptm_by_hour", "discrepancy_by_profile", "flagged_refills")}

s = res["summary"].iloc[0]
disc = res["discrepancy_by_profile"]
m = st.columns(4)
m[0].metric("Pumps in the selection", f"{int(s.pumps_selected):,}",
            help="Pumps matching the filters; those with telemetry in the date range: "
                 f"{int(s.pumps_with_data):,}.")
m[1].metric("Pump-days", f"{s.pump_days:,.0f}", help="Hours of telemetry in the selection / 24.")
m[2].metric("Refills", f"{int(disc.refills.sum()):,}")
m[3].metric("Refill discrepancies flagged", f"{int(disc.flagged.sum()):,}",
            help="|withdrawn - expected residual| above the pump profile's limit "
                 "(1 mL for 20 mL pumps, 2 mL for 40 mL; library data).")
if s.pumps_selected == 0:
    st.info("No pump matches these filters: widen the selection.")
    st.stop()
if s.pumps_with_data < figs.MIN_PUMPS:
    st.info(f"Only {int(s.pumps_with_data)} pump(s) in this selection: statistics are hidden below "
            f"{figs.MIN_PUMPS} pumps (too few to mean anything, and they could single out a patient). "
            "Widen the selection.", icon=":material/visibility_off:")
    st.stop()

left, right = st.columns(2)
with left:
    ui.chart(figs.refill_intervals(res["refill_intervals"]), "cohort_fig_intervals", res["refill_intervals"])
    st.caption(f"Days between consecutive refills of a pump (the later refill in the date range); "
               f"box: quartiles, whiskers: min to max. Drugs with fewer than {figs.MIN_PUMPS} intervals are hidden.")
with right:
    ui.chart(figs.reservoir_margin(res["reservoir_margin"]), "cohort_fig_margin", res["reservoir_margin"])
    st.caption("Reservoir just before refill (the pump's expected residual) minus its low-reservoir alarm "
               "level; left of the dashed line the alarm had already sounded.")

st.subheader("Daily dose by month since implant")
ui.chart(figs.dose_trajectory(res["dose_trajectory"]), "cohort_fig_dose",
         res["dose_trajectory"].query(f"pumps >= {figs.MIN_PUMPS}"), name="Daily dose by month since implant")
st.caption("Median (line) and interquartile band of the daily dose over full pump-days: delivered volume x "
           "concentration of the program's first drug, in the drug's own unit. Months with fewer than "
           f"{figs.MIN_PUMPS} pumps are hidden (where few pumps remain the median is noise, not a trend).")

left, right = st.columns(2)
with left:
    ui.chart(figs.alarm_rates(res["alarm_rates"]), "cohort_fig_alarms", res["alarm_rates"])
with right:
    ui.chart(figs.ptm_by_hour(res["ptm_by_hour"]), "cohort_fig_ptm", res["ptm_by_hour"])

st.subheader("Refill discrepancies")
left, right = st.columns([2, 3])
with left:
    ui.chart(figs.refill_discrepancies(disc), "cohort_fig_disc", disc)
with right:
    flagged = res["flagged_refills"]
    st.caption(f"{len(flagged):,} flagged refills (possible pocket fill or pump malfunction), largest first.")
    # plain HTML tables, not data grids: the grid's code (about 1 MB) took 0.6 s of every load of this page
    static_table(text_frame(figs.friendly(flagged)), "Flagged refills", scroll=True)
    ui.download(flagged, "flagged-refills")

st.subheader("Riskiest pumps")
pumps = res["pump_table"]
top = text_frame(figs.friendly(pumps.head(50)))  # counts as 2, not 2.0
st.caption(f"The {len(top)} riskiest of {len(pumps):,} pumps, ranked by days with the reservoir below the alarm "
           "level, then critical alarms and refill discrepancies. Open one in the clinician views below the table.")
static_table(top, "Riskiest pumps", scroll=True)
ui.download(pumps, "pump-list", label=f"Filtered pump list ({len(pumps):,} pumps), CSV")
open_pump_form(top, folders)
