"""Clinician: reservoir over the record, projection to empty, refills."""
import streamlit as st

from pumpmodel import library
from pumpmodel.figures import reservoir as fig
from pumpmodel.units import num, when
from ui.clinician import chart, page_start

view = page_start("Reservoir and refill")
pt, case, ev = view.pt, view.case, view.ev
refills = pt.refills()

chart(fig.reservoir_figure(pt.samples, case, ev, refills=refills,
                           title="Reservoir volume: telemetry, then projection under the current program"))
c1, c2, c3, c4 = st.columns(4)
c1.metric("refill by", when(ev.refill_by), border=True,
          help=next((e.formula for e in ev.explanations if e.figure == "refill_by"), None))
c2.metric("low-reservoir alarm", when(ev.low_reservoir_alarm_at), border=True,
          help=f"at {num(ev.low_reservoir_alarm_ml)} mL ({library.lra_source(case.pump.spec)})")
c3.metric("empty", when(ev.empty_at), border=True, help="programmed delivery, no PTM")
c4.metric("next appointment", when(case.next_appointment), border=True)
st.caption("The projection is exact: volume is linear between the schedule's step changes, where it is drawn. "
           "The shaded band reaches down to the worst case, with every allowed PTM bolus taken, spread over the day.")

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
