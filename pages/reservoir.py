"""Clinician: reservoir over the record, projection to empty, refills."""
import streamlit as st

from pumpmodel import library
from pumpmodel.figures import clinician, reservoir as fig
from pumpmodel.units import fmt, round_frame, text_frame
from ui.clinician import cached_chart, items, page_start
from ui.common import static_table

view = page_start("Reservoir and refill")
pt, case, ev = view.pt, view.case, view.ev
refills = pt.refills()

# kept in the address by its code (?window=120|all; bind="query-params" would write the label shown)
wanted = st.query_params.get("window")
window = st.segmented_control("Chart window", list(fig.WINDOWS), format_func=fig.WINDOWS.get, key="window",
                              default=wanted if wanted in fig.WINDOWS else "key",
                              help="From the key event: the chart opens 14 days before the first alarm, MRI or "
                                   "flagged refill of the last year (or on the last 120 days). Kept in the address.")
window = window or "key"
if (window if window != "key" else None) != wanted:
    if window == "key":
        del st.query_params["window"]
    else:
        st.query_params["window"] = window
start = fig.window_start(window, case.now, pt.events, refills)
cached_chart(view, "reservoir", lambda: fig.reservoir_figure(
    pt.samples, case, ev, refills=refills, start=start, events=pt.events,
    title="Reservoir: telemetry, then projection"), extra=window)
groups = clinician.overview_items(case, ev, clinician.Battery(None, None, None, ""))
items([i for i in groups["Reservoir and refill"] if i.label != "reservoir now"], columns=5)
st.caption("The projection is exact: volume is linear between the schedule's step changes, where it is drawn. "
           "The shaded band reaches down to the worst case, with every allowed PTM bolus taken, spread over the day. "
           "Dotted vertical lines mark alarms, MRI and other notable events; double-click the chart for the whole "
           "record.")

st.subheader("Refills")
limit = case.pump.spec.refill_discrepancy_ml
if refills.empty:
    st.info("No refill in the record.")
else:
    raw = fig.refill_table(refills, limit)
    table = round_frame(raw)
    flag_col = table.columns[-1]
    static_table(text_frame(raw), "Refills", marked_column=flag_col,
                 csv=table.to_csv(index=False, date_format="%Y-%m-%d %H:%M").encode("utf-8"))
    n = int(table[flag_col].sum())
    st.caption(f"Flagged when the withdrawn volume differs from the expected residual by more than {fmt(limit, 'mL')} "
               f"for this {fmt(case.pump.spec.reservoir_ml, 'mL')} pump. Source: "
               f"{library.pump_defaults().refill_discrepancy_source}.")
    if n:
        st.warning(f"{n} refill{'s' if n > 1 else ''} with a discrepancy above {fmt(limit, 'mL')}: possible pocket "
                   "fill or pump malfunction.", icon=":material/warning:")
