"""Sandbox figures: current vs proposed schedule and reservoir projection.

Plain functions returning Plotly figures (no Streamlit), drawn with the
shared style. Volumes in mL, rates in mL/day, times on the pump clock.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import plotly.graph_objects as go

from ..evaluation import Evaluation
from ..programs import Case, Program
from ..schedule import DAY_S, WEEK_S, from_seconds, profile_for, to_seconds, worst_case_profile
from .style import CURRENT_COLOUR, OKABE_ITO, PROPOSED_COLOUR, base_layout


def _step_xy(program: Program, period_s: int) -> tuple[list[float], list[float]]:
    """Hours and rates of a step line over ``period_s`` (ends with the last rate at the period end)."""
    prof = profile_for(program)
    starts = list(prof.breakpoints_between(-1.0, float(period_s)))
    if not starts or starts[0] > 0:
        starts = [0.0] + starts
    xs = [s / 3600 for s in starts] + [period_s / 3600]
    rates = [float(r) for r in prof.rate_at(np.array(starts))]
    return xs, rates + [rates[-1]]


def schedule_figure(current: Program | None, proposed: Program | None, height: int = 340) -> go.Figure:
    """Both schedules on one step chart: 24 h, or the week when either has a weekday schedule."""
    weekly = any(p is not None and p.week is not None for p in (current, proposed))
    period = WEEK_S if weekly else DAY_S
    fig = go.Figure()
    for label, prog, colour, dash in (("current", current, CURRENT_COLOUR, "dash"),
                                      ("proposed", proposed, PROPOSED_COLOUR, "solid")):
        if prog is None:
            continue
        xs, ys = _step_xy(prog, period)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line_shape="hv", name=label,
                                 line=dict(color=colour, width=3, dash=dash),
                                 hovertemplate="%{x:.2f} h: %{y:.4g} mL/day<extra>" + label + "</extra>"))
    x_title = "time since Monday 00:00 (h)" if weekly else "time of day (h)"
    base_layout(fig, "Schedule: programmed rate", x_title, "rate (mL/day)", height)
    tick = 24 if weekly else 3
    fig.update_xaxes(range=[0, period / 3600], dtick=tick)
    fig.update_yaxes(rangemode="tozero")
    if weekly:
        for i, d in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
            fig.add_annotation(x=i * 24 + 12, y=1, yref="paper", text=d, showarrow=False, yanchor="bottom")
    return fig


def _projection(case: Case, program: Program, worst: bool, t_end: float, n: int = 400):
    prof = worst_case_profile(program) if worst else profile_for(program)
    t0 = to_seconds(case.now)
    ts = np.linspace(t0, t_end, n)
    vol = np.clip(case.start_volume_ml - prof.volume_between(t0, ts), 0, None)
    return [from_seconds(t) for t in ts], vol


def reservoir_figure(case: Case, ev: Evaluation, cur: Evaluation | None = None, height: int = 360) -> go.Figure:
    """Reservoir volume from now under the current and the proposed program (and the proposed worst case)."""
    marks = [t for t in (ev.empty_at, cur.empty_at if cur else None, case.next_appointment) if t is not None]
    end = max(marks) + timedelta(days=7) if marks else case.now + timedelta(days=90)
    end = min(end, case.now + timedelta(days=400))
    t_end = to_seconds(end)
    fig = go.Figure()
    if case.current is not None:
        x, y = _projection(case, case.current, False, t_end)
        fig.add_trace(go.Scatter(x=x, y=y, name="current program", line=dict(color=CURRENT_COLOUR, width=3, dash="dash"),
                                 hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.2f} mL<extra>current</extra>"))
    x, y = _projection(case, case.proposed, False, t_end)
    fig.add_trace(go.Scatter(x=x, y=y, name="proposed program", line=dict(color=PROPOSED_COLOUR, width=3),
                             hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.2f} mL<extra>proposed</extra>"))
    if case.proposed.ptm is not None and ev.max_daily_volume_ml > ev.daily_volume_ml:
        x, y = _projection(case, case.proposed, True, t_end)
        fig.add_trace(go.Scatter(x=x, y=y, name="proposed, every PTM bolus",
                                 line=dict(color=OKABE_ITO["orange"], width=2, dash="dot"),
                                 hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.2f} mL<extra>worst case</extra>"))
    fig.add_hline(y=ev.low_reservoir_alarm_ml, line=dict(color=OKABE_ITO["vermillion"], dash="dot", width=1.5),
                  annotation_text=f"low-reservoir alarm {ev.low_reservoir_alarm_ml:g} mL",
                  annotation_position="top left")
    for t, label, colour in ((case.next_appointment, "next appointment", OKABE_ITO["black"]),
                             (ev.refill_by, "refill by", OKABE_ITO["vermillion"])):
        if t is not None and t <= end:
            _vline(fig, t, label, colour)
    base_layout(fig, "Reservoir projection", "date (pump clock)", "reservoir volume (mL)", height)
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(range=[case.now, end])
    return fig


def _vline(fig: go.Figure, t: datetime, label: str, colour: str) -> None:
    # add_vline with datetimes and annotations is fragile in Plotly; draw a shape and a note
    fig.add_shape(type="line", x0=t, x1=t, y0=0, y1=1, yref="paper", line=dict(color=colour, dash="dash", width=1.5))
    fig.add_annotation(x=t, y=0.02, yref="paper", text=label, showarrow=False, textangle=-90,
                       xanchor="right", yanchor="bottom", font=dict(color=colour, size=12))
