"""Trial and conversion figures: the response to a screening trial over time, and the
systemic-to-intrathecal conversion band against the drug's starting range.
Pure functions returning Plotly figures (no Streamlit)."""
from __future__ import annotations

import html
import math

import plotly.graph_objects as go

from ..trial.conversion import Conversion
from ..trial.record import Trial
from ..trial.response import dose_responses
from ..trial.rules import scale
from ..units import num
from .style import OKABE_ITO, TITLE_MARGIN_PX, base_layout

EFFECTIVE_COLOUR = OKABE_ITO["green"]
NOT_EFFECTIVE_COLOUR = OKABE_ITO["orange"]
SCORE_COLOUR = OKABE_ITO["blue"]
SIDE_EFFECT_COLOUR = OKABE_ITO["vermillion"]


def trial_response_figure(trial: Trial, title: str | None = None) -> go.Figure:
    """Scores over time (left axis, the trial's scale) with each dose on the right axis:
    boluses as stems with their amount, infusions as a step line in unit/day. A dose that
    met the response rule is green (filled triangle), one that did not orange (open);
    side effects are crosses at the top with their description on hover."""
    rule = scale(trial.scale)
    responses = dose_responses(trial)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[r.at for r in trial.readings], y=[r.score for r in trial.readings], mode="lines+markers",
        name=rule.axis_title, line=dict(color=SCORE_COLOUR, width=2), marker=dict(size=8),
        hovertemplate="%{x|%Y-%m-%d %H:%M}: score %{y}<extra></extra>"))
    boluses = [r for r in responses if r.kind == "bolus"]
    for ok in (True, False):
        part = [r for r in boluses if r.effective == ok]
        if not part:
            continue
        colour = EFFECTIVE_COLOUR if ok else NOT_EFFECTIVE_COLOUR
        xs, ys = [], []
        for r in part:  # stems from 0 to the amount
            xs += [r.at, r.at, None]
            ys += [0, r.amount, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", yaxis="y2", line=dict(color=colour, width=3),
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=[r.at for r in part], y=[r.amount for r in part], yaxis="y2", mode="markers+text",
            name=f"bolus ({trial.unit}): {'met the rule' if ok else 'did not meet the rule'}",
            marker=dict(symbol="triangle-up" if ok else "triangle-up-open", size=13, color=colour,
                        line=dict(width=2, color=colour)),
            text=[f"{num(r.amount)} {trial.unit}" for r in part], textposition="top center",
            hovertemplate="%{x|%Y-%m-%d %H:%M}: bolus %{text}<extra></extra>"))
    infusions = [d for d in trial.doses if d.kind == "infusion"]
    if infusions:
        xs = [d.at for d in infusions] + [trial.end]
        ys = [d.dose_per_day for d in infusions] + [infusions[-1].dose_per_day]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, yaxis="y2", mode="lines", line=dict(shape="hv", color=OKABE_ITO["purple"], width=3),
            name=f"infusion ({trial.dose_unit})", hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y} " + trial.dose_unit +
                                                                  "<extra></extra>"))
        for r in responses:
            if r.kind == "infusion" and r.effective:
                fig.add_trace(go.Scatter(
                    x=[r.at], y=[r.amount], yaxis="y2", mode="markers", showlegend=False,
                    marker=dict(symbol="triangle-up", size=13, color=EFFECTIVE_COLOUR),
                    hovertemplate=f"%{{x|%Y-%m-%d %H:%M}}: {num(r.amount)} {trial.dose_unit} met the rule"
                                  "<extra></extra>"))
    if trial.side_effects:
        fig.add_trace(go.Scatter(
            x=[s.at for s in trial.side_effects], y=[rule.max] * len(trial.side_effects), mode="markers",
            name="side effect", marker=dict(symbol="x", size=12, color=SIDE_EFFECT_COLOUR),
            text=[f"{html.escape(s.effect)} ({s.severity})" for s in trial.side_effects],  # typed text: no HTML
            hovertemplate="%{x|%Y-%m-%d %H:%M}: %{text}<extra>side effect</extra>"))
    base_layout(fig, title=title, x_title="time (pump clock)", y_title=rule.axis_title, height=460)
    xs = [r.at for r in trial.readings] + [d.at for d in trial.doses] + [s.at for s in trial.side_effects]
    pad = (max(xs) - min(xs)) * 0.1 if xs else None  # the first and last labels are not cut by the axes
    top_dose = max([d.amount for d in trial.doses if d.kind == "bolus"]
                   + [d.dose_per_day for d in infusions] + [1e-9])
    fig.update_layout(
        yaxis=dict(range=[rule.min - 0.2, rule.max + 0.6]),
        yaxis2=dict(title_text=("bolus (" + trial.unit + ")" if not infusions else f"dose ({trial.unit}, {trial.dose_unit})"),
                    overlaying="y", side="right", range=[0, top_dose * 1.35], showgrid=False, tickmode="auto",
                    nticks=6),
        # the legend under the time axis and its two-line ticks, in up to four rows on a phone
        margin=dict(r=80, b=170),
        legend=dict(orientation="h", yanchor="top", y=-88 / (460 - (TITLE_MARGIN_PX if title else 30) - 170), xanchor="left", x=0),
    )
    # short upright tick labels of a fixed height ("12:00" over "Feb 22"): rotated or long ones (a phone)
    # overlapped each other and pushed the axis title into the legend
    fig.update_xaxes(tickangle=0, nticks=5, tickformat="%H:%M<br>%b %-d",
                     **({"range": [min(xs) - pad, max(xs) + pad]} if pad else {}))
    return fig


def conversion_figure(conv: Conversion, title: str | None = None) -> go.Figure:
    """Intrathecal dose (log axis, mg/day of the target drug): the band from the observed
    oral:intrathecal ratios, the classic chain's single figure, and the drug's usual
    starting range, one row each."""
    # short row labels: on a phone they share the width with the plot
    obs_label = f"observed {num(conv.observed_min_ratio)}:1-{num(conv.observed_max_ratio)}:1"
    classic_label = f"classic {num(conv.classic_ratio)}:1" + ("" if conv.route == "oral" else f" ({conv.route})")
    start_label = "usual start"
    unit = "mg/day"
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[conv.band_low_mg_per_day, conv.band_high_mg_per_day], y=[obs_label] * 2, mode="lines+markers+text",
        line=dict(color=OKABE_ITO["orange"], width=18), marker=dict(size=4, color=OKABE_ITO["orange"]),
        text=[num(conv.band_low_mg_per_day, 3), num(conv.band_high_mg_per_day, 3)],
        textposition="top center", name="observed band",
        hovertemplate="%{x:.3g} " + unit + "<extra>observed band</extra>"))
    fig.add_trace(go.Scatter(
        x=[conv.classic_mg_per_day], y=[classic_label], mode="markers+text", name="classic chain",
        marker=dict(symbol="diamond", size=16, color=OKABE_ITO["vermillion"]),
        text=[num(conv.classic_mg_per_day, 3)], textposition="top center",
        hovertemplate="%{x:.3g} " + unit + "<extra>classic chain</extra>"))
    xs = [conv.band_low_mg_per_day, conv.band_high_mg_per_day, conv.classic_mg_per_day]
    if conv.start_max is not None:
        lo = conv.start_min if conv.start_min else conv.start_max / 10
        fig.add_trace(go.Scatter(
            x=[lo, conv.start_max], y=[start_label] * 2, mode="lines+markers+text", name="usual start",
            line=dict(color=OKABE_ITO["green"], width=18), marker=dict(size=4, color=OKABE_ITO["green"]),
            text=[num(lo, 3), num(conv.start_max, 3)], textposition="top center",
            hovertemplate="%{x:.3g} " + unit + "<extra>usual starting range</extra>"))
        fig.add_vrect(x0=lo, x1=conv.start_max, fillcolor=OKABE_ITO["green"], opacity=0.08, line_width=0)
        xs += [lo, conv.start_max]
    # the axis title on two lines: one line was cut at a phone's width
    base_layout(fig, title=title, x_title=f"intrathecal {conv.target}<br>({unit}, log scale)", height=330)
    # ticks 1-2-5 per decade (not every digit), and room above the top row for its value
    fig.update_xaxes(type="log", range=[math.log10(min(xs)) - 0.3, math.log10(max(xs)) + 0.3], dtick="D2")
    rows = [start_label, obs_label, classic_label] if conv.start_max is not None else [obs_label, classic_label]
    fig.update_yaxes(categoryorder="array", categoryarray=rows, automargin=True, range=[-0.5, len(rows) - 0.3])
    fig.update_layout(showlegend=False, margin=dict(l=20, r=30, t=TITLE_MARGIN_PX if title else 30, b=90))
    return fig
