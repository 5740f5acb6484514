"""Figures for the training progress and instructor views: plain functions from the
aggregate tables of ``pumpmodel.training.aggregates`` to Plotly figures."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .style import OKABE_ITO, base_layout

NO_ATTEMPTS = "No attempts yet"


def _empty(fig: go.Figure, text: str = NO_ATTEMPTS) -> go.Figure:
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=15))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return fig


def _height(n: int) -> int:
    return max(260, 28 * n + 110)


def pass_rate_by_exercise(per_exercise: pd.DataFrame) -> go.Figure:
    """Horizontal bars: pass rate (%) per exercise, with the number of attempts in the hover."""
    df = per_exercise[per_exercise["attempts"] > 0]
    fig = go.Figure()
    base_layout(fig, "Pass rate per exercise", "attempts passed (%)", None, height=_height(len(df)))
    if df.empty:
        return _empty(fig)
    df = df.iloc[::-1]
    fig.add_trace(go.Bar(
        x=df["pass_rate_percent"], y=df["exercise"], orientation="h", marker_color=OKABE_ITO["blue"],
        text=[f"{v:.0f} %" for v in df["pass_rate_percent"]], textposition="outside", cliponaxis=False,
        customdata=df[["attempts", "median_time_s"]].to_numpy(),
        hovertemplate="<b>%{y}</b><br>pass rate %{x:.1f} %<br>attempts %{customdata[0]}"
                      "<br>median time %{customdata[1]:.0f} s<extra></extra>"))
    fig.update_xaxes(range=[0, 112], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_layout(margin=dict(l=250))
    return fig


def objective_pass_rates(per_objective: pd.DataFrame) -> go.Figure:
    """Horizontal bars: pass rate (%) of every objective attempted, labelled exercise / objective."""
    df = per_objective[per_objective["attempts"] > 0].copy()
    fig = go.Figure()
    base_layout(fig, "Pass rate per objective", "attempts passing the objective (%)", None,
                height=_height(len(df)))
    if df.empty:
        return _empty(fig)
    df["label"] = df["exercise"] + " / " + df["objective"]
    df = df.iloc[::-1]
    colours = [OKABE_ITO["vermillion"] if r < 50 else OKABE_ITO["orange"] if r < 80 else OKABE_ITO["green"]
               for r in df["pass_rate_percent"]]
    fig.add_trace(go.Bar(
        x=df["pass_rate_percent"], y=df["label"], orientation="h", marker_color=colours,
        text=[f"{v:.0f} %" for v in df["pass_rate_percent"]], textposition="outside", cliponaxis=False,
        customdata=df[["text", "attempts"]].to_numpy(),
        hovertemplate="<b>%{y}</b><br>%{customdata[0]}<br>pass rate %{x:.1f} %"
                      "<br>attempts %{customdata[1]}<extra></extra>"))
    fig.update_xaxes(range=[0, 112], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_layout(margin=dict(l=330))
    return fig


def safety_per_100(per_exercise: pd.DataFrame) -> go.Figure:
    """Grouped bars: hard stops and overrides per 100 attempts, per exercise."""
    df = per_exercise[per_exercise["attempts"] > 0]
    fig = go.Figure()
    base_layout(fig, "Hard stops and overrides per 100 attempts", "events per 100 attempts", None,
                height=_height(2 * len(df)))
    if df.empty:
        return _empty(fig)
    df = df.iloc[::-1]
    fig.add_trace(go.Bar(name="hard stops", x=df["hard_stops_per_100"], y=df["exercise"], orientation="h",
                         marker_color=OKABE_ITO["vermillion"],
                         hovertemplate="<b>%{y}</b><br>hard stops %{x:.1f} per 100 attempts<extra></extra>"))
    fig.add_trace(go.Bar(name="overrides", x=df["overrides_per_100"], y=df["exercise"], orientation="h",
                         marker_color=OKABE_ITO["orange"],
                         hovertemplate="<b>%{y}</b><br>overrides %{x:.1f} per 100 attempts<extra></extra>"))
    fig.update_layout(barmode="group", margin=dict(l=250))
    return fig
