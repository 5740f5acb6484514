"""Event and alarm figures: a timeline coloured by severity and PTM
requests granted vs denied by hour of day. Pure functions (no Streamlit)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..telemetry_schema import EVENT_KINDS, SEVERITIES
from ..units import fmt
from .style import PTM_COLOURS, SEVERITY_COLOURS, base_layout, event_label

SEVERITY_LABELS = {"critical": "critical", "non_critical": "non-critical", "info": "info"}
SEVERITY_SYMBOLS = {"critical": "x", "non_critical": "triangle-up", "info": "circle"}  # shape too, not colour only
PTM_KINDS = {"ptm_granted": "granted", "ptm_denied_lockout": "denied: lockout",
             "ptm_denied_daily_max": "denied: daily maximum"}


def kind_label(kind: str) -> str:
    return event_label(kind)


def events_timeline(events: pd.DataFrame, kinds: list[str] | None = None, title: str | None = None) -> go.Figure:
    """One row per event kind, one marker per event, coloured (and shaped) by severity."""
    ev = events if kinds is None else events[events["kind"].isin(kinds)]
    present = [k for k in EVENT_KINDS if k in set(ev["kind"])] + sorted(set(ev["kind"]) - set(EVENT_KINDS))
    fig = go.Figure()
    for sev in SEVERITIES:
        part = ev[ev["severity"] == sev]
        if part.empty:
            continue
        detail = part.apply(_detail, axis=1) if len(part) else []
        fig.add_trace(go.Scatter(
            x=part["timestamp"], y=part["kind"].map(kind_label), mode="markers", name=SEVERITY_LABELS[sev],
            marker=dict(color=SEVERITY_COLOURS[sev], symbol=SEVERITY_SYMBOLS[sev], size=10 if sev != "info" else 7,
                        line=dict(width=1, color=SEVERITY_COLOURS[sev])),
            text=detail, hovertemplate="%{x|%Y-%m-%d %H:%M} %{y}<br>%{text}<extra>" + SEVERITY_LABELS[sev] +
                                       "</extra>"))
    base_layout(fig, title=title, x_title="date (pump clock)", y_title=None, height=max(260, 90 + 38 * len(present)))
    fig.update_layout(showlegend=True)  # even with one severity: the legend says what the colour means
    fig.update_yaxes(categoryorder="array", categoryarray=[kind_label(k) for k in reversed(present)],
                     automargin=True)
    if ev.empty:
        fig.add_annotation(text="no events of the chosen kinds", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False)
    return fig


def _detail(row: pd.Series) -> str:
    parts = []
    for col, unit in (("volume_ml", "mL"), ("expected_residual_ml", "mL expected"), ("withdrawn_ml", "mL withdrawn"),
                      ("added_ml", "mL added")):
        v = row.get(col)
        if v is not None and pd.notna(v):
            parts.append(f"{fmt(v, 'mL', with_unit=False)} {unit}")
    return ", ".join(parts) or kind_label(str(row["kind"]))


def ptm_by_hour(events: pd.DataFrame) -> pd.DataFrame:
    """PTM requests per hour of day (0-23) and outcome (granted / denied: ...)."""
    ptm = events[events["kind"].isin(list(PTM_KINDS))]
    hours = pd.to_datetime(ptm["timestamp"]).dt.hour
    table = pd.crosstab(hours, ptm["kind"].map(PTM_KINDS)) if len(ptm) else pd.DataFrame()
    table = table.reindex(index=range(24), columns=list(PTM_KINDS.values()), fill_value=0).fillna(0).astype(int)
    table.index.name = "hour"
    return table


def ptm_hour_figure(events: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Stacked bars: PTM requests granted vs denied by hour of day."""
    table = ptm_by_hour(events)
    fig = go.Figure()
    for outcome in table.columns:
        fig.add_trace(go.Bar(x=table.index, y=table[outcome], name=outcome, marker_color=PTM_COLOURS[outcome],
                             hovertemplate="%{x:02d}:00-%{x:02d}:59: %{y} requests<extra>" + outcome + "</extra>"))
    base_layout(fig, title=title, x_title="hour of day (h)", y_title="PTM requests (count)", height=340)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickmode="array", tickvals=list(range(0, 24, 2)), range=[-0.5, 23.5])
    if int(table.to_numpy().sum()) == 0:
        fig.add_annotation(text="no PTM requests in the record", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False)
    return fig
