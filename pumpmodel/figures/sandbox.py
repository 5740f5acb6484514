"""Sandbox figures: current vs proposed schedule and reservoir projection.

Plain functions returning Plotly figures (no Streamlit), drawn with the
shared style. Volumes in mL, rates in mL/day, times on the pump clock.

Speed: the sandbox redraws both charts on every edit. Plotly validates every
property when a figure is built, and the shared layout (with its template)
costs tens of ms to validate, so the styled layout is built once per
title/axes (``base_layout`` on an empty figure, cached, its template cut to
the scatter defaults: less for the browser to parse and merge on each
redraw) and each chart is assembled from plain dicts without re-validation. The unit tests validate
the result in full (``go.Figure(fig.to_dict())``).
"""
from __future__ import annotations

import copy
from datetime import timedelta
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from ..evaluation import Evaluation
from ..programs import Case, Program
from ..schedule import DAY_S, EPOCH, WEEK_S, profile_for, to_seconds, worst_case_profile
from .style import CURRENT_COLOUR, OKABE_ITO, PROPOSED_COLOUR, base_layout


@lru_cache(maxsize=16)
def _styled_layout(title: str, x_title: str, y_title: str, height: int) -> dict:
    lay = base_layout(go.Figure(), title, x_title, y_title, height).layout.to_plotly_json()
    # The template carries defaults for every trace type (~4 kB the browser parses and
    # merges on every redraw); these charts only draw scatter traces.
    template = lay.get("template") or {}
    lay["template"] = {"layout": template.get("layout", {}),
                       "data": {"scatter": template.get("data", {}).get("scatter", [])}}
    return lay


def _figure(traces: list[dict], title: str, x_title: str, y_title: str, height: int, **layout) -> go.Figure:
    """A figure in the shared style from plain trace dicts (validated once, in the tests)."""
    lay = copy.deepcopy(_styled_layout(title, x_title, y_title, height))
    for axis in ("xaxis", "yaxis"):
        lay[axis] = {**lay.get(axis, {}), **layout.pop(axis, {})}
    lay.update(layout)
    return go.Figure(data=traces, layout=lay, _validate=False)


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
    traces = []
    for label, prog, colour, dash in (("current", current, CURRENT_COLOUR, "dash"),
                                      ("proposed", proposed, PROPOSED_COLOUR, "solid")):
        if prog is None:
            continue
        xs, ys = _step_xy(prog, period)
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=label,
                           line=dict(color=colour, width=3, dash=dash, shape="hv"),
                           hovertemplate="%{x:.2f} h: %{y:.4g} mL/day<extra>" + label + "</extra>"))
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    notes = [dict(x=i * 24 + 12, y=1, yref="paper", text=d, showarrow=False, yanchor="bottom")
             for i, d in enumerate(days)] if weekly else []
    x_title = "time since Monday 00:00 (h)" if weekly else "time of day (h)"
    return _figure(traces, "Schedule: programmed rate", x_title, "rate (mL/day)", height, annotations=notes,
                   xaxis=dict(range=[0, period / 3600], dtick=24 if weekly else 3), yaxis=dict(rangemode="tozero"))


_EPOCH64 = np.datetime64(EPOCH, "us")


def _projection(case: Case, program: Program, worst: bool, t_end: float, max_points: int = 400):
    """Times (numpy datetime64, fast to draw) and reservoir volumes (mL) from now to ``t_end``.

    The volume is piecewise linear in time (the rate is piecewise constant), so the line is
    exact through the segment breakpoints alone (and the moment the reservoir runs dry):
    a couple of points for a constant rate instead of a few hundred samples for the browser
    to parse and draw on every edit. Past ``max_points`` breakpoints (many short steps over a
    long horizon) it falls back to evenly spaced samples."""
    prof = worst_case_profile(program, case.now) if worst else profile_for(program, case.now)
    t0 = to_seconds(case.now)
    t_empty = prof.time_to_deliver(t0, case.start_volume_ml) if case.start_volume_ml > 0 else t0
    last = t_empty if t_empty is not None and t_empty < t_end else t_end
    inner = prof.breakpoints_between(t0, last)
    inner = inner[prof.rate_at(inner) != prof.rate_at(inner - 1.0)]  # the period wrap is no break for a constant rate
    if len(inner) > max_points:
        inner = np.linspace(t0, last, max_points)[1:-1]
    ts = np.concatenate(([t0], inner, [last] if last > t0 else [], [t_end] if last < t_end else []))
    vol = np.clip(case.start_volume_ml - prof.volume_between(t0, ts), 0, None)
    return _EPOCH64 + (ts * 1e6).astype("timedelta64[us]"), vol


def _line(x, y, name: str, colour: str, width: float, dash: str, hover: str) -> dict:
    return dict(type="scatter", x=x, y=y, name=name, mode="lines", line=dict(color=colour, width=width, dash=dash),
                hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.2f} mL<extra>" + hover + "</extra>")


def reservoir_figure(case: Case, ev: Evaluation, cur: Evaluation | None = None, height: int = 360) -> go.Figure:
    """Reservoir volume from now under the current and the proposed program (and the proposed worst case)."""
    marks = [t for t in (ev.empty_at, cur.empty_at if cur else None, case.next_appointment) if t is not None]
    end = max(marks) + timedelta(days=7) if marks else case.now + timedelta(days=90)
    end = min(end, case.now + timedelta(days=400))
    t_end = to_seconds(end)
    traces = []
    if case.current is not None:
        traces.append(_line(*_projection(case, case.current, False, t_end), "current program", CURRENT_COLOUR, 3,
                            "dash", "current"))
    traces.append(_line(*_projection(case, case.proposed, False, t_end), "proposed program", PROPOSED_COLOUR, 3,
                        "solid", "proposed"))
    if case.proposed.ptm is not None and ev.max_daily_volume_ml > ev.daily_volume_ml:
        traces.append(_line(*_projection(case, case.proposed, True, t_end), "proposed, every PTM bolus",
                            OKABE_ITO["orange"], 2, "dot", "worst case"))
    lra = ev.low_reservoir_alarm_ml
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, y0=lra, y1=lra,
                   line=dict(color=OKABE_ITO["vermillion"], dash="dot", width=1.5))]
    notes = [dict(xref="paper", x=0, y=lra, text=f"low-reservoir alarm {lra:g} mL", showarrow=False,
                  xanchor="left", yanchor="bottom", font=dict(color=OKABE_ITO["vermillion"], size=12))]
    for t, label, colour, y in ((case.next_appointment, "next appointment", OKABE_ITO["black"], 0.98),
                                (ev.refill_by, "refill by", OKABE_ITO["vermillion"], 0.88)):
        if t is not None and t <= end:
            # add_vline with datetimes is slow and fragile in Plotly; a shape and a note
            shapes.append(dict(type="line", x0=t, x1=t, y0=0, y1=1, yref="paper",
                               line=dict(color=colour, dash="dash", width=1.5)))
            # horizontal, at the top, staggered: close dates never overlap each other or the lines
            notes.append(dict(x=t, y=y, yref="paper", text=label, xshift=-3, showarrow=False, xanchor="right",
                              yanchor="top", bgcolor="rgba(255,255,255,0.85)", font=dict(color=colour, size=12)))
    return _figure(traces, "Reservoir projection", "date (pump clock)", "reservoir volume (mL)", height,
                   shapes=shapes, annotations=notes, xaxis=dict(range=[case.now, end]),
                   yaxis=dict(rangemode="tozero"))
