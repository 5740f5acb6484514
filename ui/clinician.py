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
from pumpmodel.figures.style import event_label
from pumpmodel.programs import Case
from pumpmodel.telemetry import PumpTelemetry
from pumpmodel.units import fmt_text
from ui import data, present, state
from ui.charts import chart, figure_csv
from ui.common import disclaimer, static_table
from ui.safe_text import code, md

SEVERITY_ICON = {"hard": ":material/block:", "soft": ":material/warning:", "info": ":material/info:"}


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
    st.markdown(f"**{md(label)}** &nbsp; {code(pid)} &nbsp; {md(pt.info['profile'])}" + (f" &nbsp; {caption}" if caption else ""))
    try:
        case, ev = data.current_case(pid), data.current_evaluation(pid)
    except (ValueError, KeyError) as exc:  # e.g. an upload without any program_change event
        st.warning(f"This pump's telemetry cannot be evaluated: {md(exc)}")
        st.stop()
    if state.sent_program(pid) is not None:
        st.info("Showing the program sent from the sandbox in this session (simulated; the telemetry "
                "shows the program before it).", icon=":material/send:")
    return PumpView(pid, pt, case, ev)


@st.cache_resource(show_spinner=False, max_entries=512)
def _derived(name: str, source_key: str, pump_id: str, sent_json: str | None, extra: str, _build):
    return _build()


def derived(view: PumpView, name: str, build: Callable[[], object], extra: str = ""):
    """What ``build()`` returns (a figure, a table), computed once per (name, pump, sent program,
    ``extra`` options) for all sessions and shared as is (``st.cache_resource``: no copy per run;
    callers never modify it; st.plotly_chart only reads a figure)."""
    source_key, sent_json = data.cache_keys(view.pump_id)
    return _derived(name, source_key, view.pump_id, sent_json, extra, build)


def cached_chart(view: PumpView, name: str, build: Callable[[], go.Figure], extra: str = "") -> None:
    """Draw a figure (and its data as CSV) built once per (figure, pump, sent program, ``extra``
    options) for all sessions."""
    def both():
        fig = build()
        return fig, figure_csv(fig)

    fig, csv = derived(view, "figure:" + name, both, extra)
    if present.on():  # chart() scales the figure in place for presenters: never the shared one
        fig = go.Figure(fig)
    chart(fig, key=f"chart_{name}", csv=csv)


_CARD = ("border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;padding:0.6rem 0.9rem;"
         "min-width:0;background:white")
_LABEL = "font-size:0.875rem;color:rgba(49,51,63,0.85);margin-bottom:0.25rem"
_HELP = ("display:inline-block;width:1.6em;height:1.6em;line-height:1.5em;margin-left:0.35em;"
         "border:1px solid rgba(49,51,63,0.6);border-radius:50%;text-align:center;font-size:0.8rem;"
         "cursor:pointer;color:rgb(49,51,63);list-style:none")
_TIP = "font-size:0.85rem;margin-top:0.35rem;color:rgb(49,51,63)"
_ALERT = "border:2px solid #D55E00;background:#fff4ec"
_VALUE = "font-size:1.3rem;font-weight:600;line-height:1.3;overflow-wrap:anywhere"
_NOTE = "font-size:0.85rem;color:rgba(49,51,63,0.85)"


def items(group: list[Item], columns: int = 3) -> None:
    """Figures as bordered cards (values wrap, never clipped), each with its formula and source
    behind a ? that opens on click, tap or Enter (a <details> element: no hover-only tooltip).
    A figure that needs attention (``Item.alert``, e.g. a negative margin) is outlined in
    vermillion and says so in words. One HTML grid per group: a single element instead of ~4 per
    card, which keeps the page fast; the grid wraps by itself on narrow screens. Drawn with ``st.html``
    (sanitised, inserted as is) rather than markdown with HTML allowed: that would make the browser
    load Streamlit's HTML parser for markdown (190 kB), and a time such as "02:29:" in a formula
    would also pull in its emoji table (260 kB), on every load of the page."""
    cards = []
    for it in group:
        label = html.escape(it.label)
        help_mark = (f"<details><summary style='{_HELP}' aria-label='How {label} is computed' title='How it is "
                     f"computed'>?</summary><div class='pt-tip' style='{_TIP}'>{html.escape(it.help)}</div></details>"
                     if it.help else "")
        note = f"<div class='pt-note' style='{_NOTE}'>{html.escape(it.note)}</div>" if it.note else ""
        alert = "<div style='color:#A03F00;font-weight:600'>needs attention</div>" if it.alert else ""
        style = _CARD + (";" + _ALERT if it.alert else "")
        cards.append(f"<div style='{style}'><div class='pt-label' style='{_LABEL}'>{label}</div>"
                     f"<div style='{_VALUE}'>{html.escape(it.value)}</div>{note}{alert}{help_mark}</div>")
    min_px = 300 if columns <= 2 else 180
    st.html(f"<div class='pt-cards' style='display:grid;gap:0.75rem;margin-bottom:0.75rem;grid-template-columns:"
            f"repeat(auto-fill,minmax(max({min_px}px,calc((100% - {columns - 1} * 0.75rem) / {columns})),1fr))'>"
            + "".join(cards) + "</div>")


def findings(warnings: list[Finding]) -> None:
    """Engine warnings, hardest first, each with its source."""
    if not warnings:
        st.success("No warnings from the engine for the current program.", icon=":material/check_circle:")
        return
    for w in warnings:
        drug = f" ({w.drug})" if w.drug else ""
        text = f"**{w.code}**{drug} [{w.severity}]: {fmt_text(w.message)}  \n*Source: {w.source}*"
        if w.severity == "info":
            st.info(text, icon=SEVERITY_ICON["info"])
        else:  # hard findings are shown as warnings too: the page reports, it does not block anything
            st.warning(text, icon=SEVERITY_ICON[w.severity])


def alarm_table(alarms: pd.DataFrame) -> None:
    if alarms.empty:
        st.success("No active alarms.", icon=":material/notifications_off:")
        return
    shown = alarms.assign(kind=alarms["kind"].map(event_label), severity=alarms["severity"].str.replace("_", "-"))
    shown = shown.rename(columns={"kind": "alarm", "timestamp": "raised (pump clock)"})
    # a plain HTML table: no data-grid code to load for a few rows
    static_table(shown[["alarm", "raised (pump clock)", "severity"]], "Active alarms")
