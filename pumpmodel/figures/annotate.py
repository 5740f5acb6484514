"""Notable events drawn on the history charts (reservoir, dose history): a dotted
vertical line and a short label per event, so an MRI stall or an occlusion is
not an unlabelled dip. Pure functions (no Streamlit)."""
from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go

from ..units import fmt
from .style import OKABE_ITO

#: event kind -> (short label, colour). One colour per meaning on every page:
#: vermillion = critical / therapy stopped, orange = warning, purple = procedure, blue = info.
NOTABLE = {
    "mri": ("MRI", OKABE_ITO["purple"]),
    "alarm_motor_stall": ("motor stall", OKABE_ITO["vermillion"]),
    "alarm_catheter_occlusion": ("catheter occlusion", OKABE_ITO["vermillion"]),
    "alarm_empty_reservoir": ("empty-reservoir alarm", OKABE_ITO["vermillion"]),
    "alarm_low_reservoir": ("low-reservoir alarm", OKABE_ITO["orange"]),
    "alarm_eri": ("battery replacement due (ERI)", OKABE_ITO["orange"]),
    "alarm_end_of_service": ("end of service", OKABE_ITO["vermillion"]),
    "clinician_bolus": ("clinician bolus", OKABE_ITO["blue"]),
}


def _label(kind: str, details) -> str:
    label = NOTABLE[kind][0]
    try:
        d = json.loads(details) if isinstance(details, str) and details else {}
    except ValueError:
        d = {}
    hours = d.get("stall_h") or d.get("restart_after_h") or d.get("duration_h")
    if isinstance(hours, (int, float)) and hours > 0:
        label += f" ({fmt(hours, 'h')})"
    return label


def notable_events(events: pd.DataFrame | None, start=None) -> pd.DataFrame:
    """``time``, ``kind``, ``label``, ``colour`` of the events worth a label, in time order
    (an MRI and the stall alarm it caused at the same hour become one label)."""
    cols = ["time", "kind", "label", "colour"]
    if events is None or events.empty:
        return pd.DataFrame(columns=cols)
    ev = events[events["kind"].isin(list(NOTABLE))].sort_values("timestamp")
    if start is not None:
        ev = ev[pd.to_datetime(ev["timestamp"]) >= pd.Timestamp(start)]
    rows, seen = [], set()
    details = ev["details"] if "details" in ev else pd.Series([None] * len(ev), index=ev.index)
    for t, kind, det in zip(pd.to_datetime(ev["timestamp"]), ev["kind"], details):
        hour = t.floor("h")
        if kind == "alarm_motor_stall" and (hour, "mri") in seen:
            continue  # the stall an MRI caused: one label, "MRI (14 h)"
        seen.add((hour, kind))
        rows.append({"time": t, "kind": kind, "label": _label(kind, det), "colour": NOTABLE[kind][1]})
    return pd.DataFrame(rows, columns=cols)


def annotate_events(fig: go.Figure, marks: pd.DataFrame, max_labels: int = 12) -> go.Figure:
    """A dotted line per event and its label at the top of the plot, staggered in three rows so
    neighbouring labels do not overlap; beyond ``max_labels`` only the lines (hover the chart)."""
    for i, m in enumerate(marks.itertuples()):
        fig.add_vline(x=m.time, line=dict(color=m.colour, width=1.2, dash="dot"))
        if i < max_labels:
            fig.add_annotation(x=m.time, y=1 - 0.07 * (i % 3), xref="x", yref="paper", text=m.label,
                               showarrow=False, xanchor="left", yanchor="top", font=dict(size=12, color=m.colour),
                               bgcolor="rgba(255,255,255,0.85)")
    return fig
