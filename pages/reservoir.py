"""Clinician: reservoir over the record, projection to empty, refills."""
import streamlit as st

from pumpmodel import library
from pumpmodel.figures import clinician, reservoir as fig
from pumpmodel.units import num
from ui.clinician import cached_chart, items, page_start

view = page_start("Reservoir and refill")
pt, case, ev = view.pt, view.case, view.ev
refills = pt.refills()

cached_chart(view, "reservoir", lambda: fig.reservoir_figure(
    pt.samples, case, ev, refills=refills, title="Reservoir volume: telemetry, then projection under the current program"))
groups = clinician.overview_items(case, ev, clinician.Battery(None, None, None, ""))
items([i for i in groups["Reservoir and refill"] if i.label != "reservoir now"], columns=5)
st.caption("The projection is exact: volume is linear between the schedule's step changes, where it is drawn. "
           "The shaded band reaches down to the worst case, with every allowed PTM bolus taken, spread over the day. "
           "The chart opens on the last 120 days; double-click it for the whole record.")

st.subheader("Refills")
limit = case.pump.spec.refill_discrepancy_ml
if refills.empty:
    st.info("No refill in the record.")
else:
    table = fig.refill_table(refills, limit)
    flag_col = table.columns[-1]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "date": st.column_config.DatetimeColumn("date", format="YYYY-MM-DD HH:mm"),
        **{c: st.column_config.NumberColumn(c, format="%.2f") for c in table.columns[1:5]},
    })
    n = int(table[flag_col].sum())
    st.caption(f"Flagged when the withdrawn volume differs from the expected residual by more than {num(limit)} mL "
               f"for this {num(case.pump.spec.reservoir_ml)} mL pump. Source: "
               f"{library.pump_defaults().refill_discrepancy_source}.")
    if n:
        st.warning(f"{n} refill(s) with a discrepancy above {num(limit)} mL: possible pocket fill or pump "
                   "malfunction.", icon=":material/warning:")
