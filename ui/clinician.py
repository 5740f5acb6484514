"""Shared pieces of the clinician pages (overview, schedule, reservoir,
events): the page header with the selected pump, and small renderers."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pumpmodel.evaluation import Evaluation, Finding
from pumpmodel.figures.clinician import Item
from pumpmodel.programs import Case
from pumpmodel.telemetry import PumpTelemetry
from ui import data, state
from ui.common import disclaimer

SEVERITY_ICON = {"hard": ":material/block:", "soft": ":material/warning:", "info": ":material/info:"}
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@dataclass(frozen=True)
class PumpView:
    pump_id: str
    pt: PumpTelemetry
    case: Case
    ev: Evaluation


def page_start(title: str, caption: str | None = None) -> PumpView:
    """Title, disclaimer and the selected pump's state; stops the page
    (with a hint) when no pump can be shown."""
    st.title(title)
    disclaimer()
    pid = state.selected_pump_id()
    pt = data.pump(pid)
    if pt is None:
        st.info("No pump selected: pick one in the sidebar, or upload telemetry on the Upload page.")
        st.stop()
    label = pt.info.get("patient_label")
    st.markdown(f"**{label}** &nbsp; `{pid}` &nbsp; {pt.info['profile']}" + (f" &nbsp; {caption}" if caption else ""))
    try:
        case, ev = data.current_case(pid), data.current_evaluation(pid)
    except (ValueError, KeyError) as exc:  # e.g. an upload without any program_change event
        st.warning(f"This pump's telemetry cannot be evaluated: {exc}")
        st.stop()
    if state.sent_program(pid) is not None:
        st.info("Showing the program sent from the sandbox in this session (simulated; the telemetry "
                "shows the program before it).", icon=":material/send:")
    return PumpView(pid, pt, case, ev)


def chart(fig: go.Figure, key: str | None = None) -> None:
    st.plotly_chart(fig, width="stretch", config=CHART_CONFIG, theme=None, key=key)


@st.cache_data(show_spinner=False, max_entries=256)
def _figure(name: str, source_key: str, pump_id: str, sent_json: str | None, extra: str, _build) -> go.Figure:
    return _build()


def cached_chart(view: PumpView, name: str, build: Callable[[], go.Figure], extra: str = "") -> None:
    """Draw a figure built once per (figure, pump, sent program, ``extra`` options) for all sessions."""
    source_key, sent_json = data.cache_keys(view.pump_id)
    chart(_figure(name, source_key, view.pump_id, sent_json, extra, build))


def items(group: list[Item], columns: int = 3) -> None:
    """Figures as bordered cards (values wrap, never clipped), each with its
    formula and source in the help tooltip."""
    cols = st.columns(columns)
    for i, it in enumerate(group):
        with cols[i % columns].container(border=True):
            st.caption(it.label, help=it.help or None)
            note = f"<br><span style='font-size:0.85rem;opacity:0.75'>{html.escape(it.note)}</span>" if it.note else ""
            st.markdown(f"<div style='font-size:1.3rem;font-weight:600;line-height:1.3;overflow-wrap:anywhere'>"
                        f"{html.escape(it.value)}{note}</div>", unsafe_allow_html=True)


def findings(warnings: list[Finding]) -> None:
    """Engine warnings, hardest first, each with its source."""
    if not warnings:
        st.success("No warnings from the engine for the current program.", icon=":material/check_circle:")
        return
    for w in warnings:
        drug = f" ({w.drug})" if w.drug else ""
        text = f"**{w.code}**{drug} [{w.severity}]: {w.message}  \n*Source: {w.source}*"
        if w.severity == "info":
            st.info(text, icon=SEVERITY_ICON["info"])
        else:  # hard findings are shown as warnings too: the page reports, it does not block anything
            st.warning(text, icon=SEVERITY_ICON[w.severity])


def alarm_table(alarms: pd.DataFrame) -> None:
    if alarms.empty:
        st.success("No active alarms.", icon=":material/notifications_off:")
        return
    shown = alarms.assign(kind=alarms["kind"].str.replace("_", " "),
                          severity=alarms["severity"].str.replace("_", "-"))
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"timestamp": st.column_config.DatetimeColumn("raised (pump clock)",
                                                                             format="YYYY-MM-DD HH:mm")})
