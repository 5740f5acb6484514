"""Figures for the analyst cohort explorer: plain functions from the (small,
aggregated) query results of ``pumpmodel.cohort_queries`` to Plotly figures.
Axis titles carry units, colours are Okabe-Ito, hover shows exact values."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..units import d3, round_frame

from .style import OKABE_ITO, PALETTE, PTM_COLOURS as _STATE_COLOURS, SEVERITY_COLOURS, base_layout, event_label

PTM_LABELS = {"granted": "granted", "denied_lockout": "denied: lockout", "denied_daily_max": "denied: daily maximum"}
PTM_COLOURS = {col: _STATE_COLOURS[label] for col, label in PTM_LABELS.items()}  # the same colours on every page


MIN_PUMPS = 5  # a statistic over fewer pumps is hidden (noise, and it could single out a patient)

#: column names people read (tables and CSV exports); values are rounded by the unit in the name
COLUMNS = {
    "pump_id": "pump", "source_group": "population", "profile": "pump profile", "indication": "indication",
    "drug": "drug", "unit": "dose unit", "alarm_level_ml": "alarm level (mL)", "pump_days": "pump-days",
    "days_below_alarm": "days below alarm", "min_reservoir_ml": "lowest (mL)", "alarms": "alarms",
    "critical_alarms": "critical alarms", "refills": "refills", "refill_discrepancies": "refill discrepancies",
    "intervals": "intervals", "min_days": "min (days)", "q1_days": "lower quartile (days)",
    "median_days": "median (days)", "q3_days": "upper quartile (days)", "max_days": "max (days)",
    "mean_days": "mean (days)", "bin_start_ml": "margin from (mL)", "month_since_implant": "month since implant",
    "pumps": "pumps", "q1": "lower quartile (per day)", "median": "median (per day)", "q3": "upper quartile (per day)",
    "kind": "alarm", "severity": "severity", "per_1000_pump_days": "per 1000 pump-days", "hour": "hour of day",
    "granted": "granted", "denied_lockout": "denied: lockout", "denied_daily_max": "denied: daily maximum",
    "limit_ml": "limit (mL)", "flagged": "flagged", "flagged_pct": "flagged (%)", "timestamp": "refill at",
    "expected_residual_ml": "expected residual (mL)", "withdrawn_ml": "withdrawn (mL)",
    "difference_ml": "withdrawn - expected (mL)", "pumps_selected": "pumps selected",
    "pumps_with_data": "pumps with data", "sample_hours": "sample hours",
}


def friendly(df: pd.DataFrame) -> pd.DataFrame:
    """A query result as people read it: plain column names, rounded values, plain event and
    indication words (``alarm_eri`` -> "battery replacement due (ERI)")."""
    out = df.copy()
    for col in ("kind",):
        if col in out:
            out[col] = out[col].map(pretty)
    for col in ("indication", "severity", "source_group"):
        if col in out and not pd.api.types.is_numeric_dtype(out[col]):  # object, string or category
            out[col] = out[col].astype("string").str.replace("_", " ").str.replace("non critical", "non-critical")
    units = {"q1": "mg/day", "median": "mg/day", "q3": "mg/day", "pump_days": "days", "per_1000_pump_days": None}
    return round_frame(out, units).rename(columns=COLUMNS)


def _colour_map(values) -> dict[str, str]:
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(sorted(set(values)))}


def _legend_below(fig: go.Figure) -> go.Figure:
    """Legend under the x-axis title, so it never covers the chart title in a half-width column."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0),
                      margin=dict(b=120))
    return fig


def _empty(fig: go.Figure, text: str = "No data in this selection") -> go.Figure:
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=15))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return fig


def pretty(kind: str) -> str:
    return event_label(kind)


def refill_intervals(df: pd.DataFrame) -> go.Figure:
    """Box per drug from precomputed statistics (whiskers: min to max); drugs with fewer than
    ``MIN_PUMPS`` intervals are left out."""
    fig = go.Figure()
    base_layout(fig, "Refill intervals by drug", "drug", "days between refills (days)")
    if not df.empty:
        df = df[df["intervals"] >= MIN_PUMPS]
    if df.empty:
        return _empty(fig, f"No data in this selection (drugs with fewer than {MIN_PUMPS} intervals are hidden)")
    colours = _colour_map(df["drug"])
    for r in df.itertuples():
        fig.add_trace(go.Box(
            name=r.drug, x=[r.drug], q1=[r.q1_days], median=[r.median_days], q3=[r.q3_days],
            lowerfence=[r.min_days], upperfence=[r.max_days], mean=[r.mean_days],
            marker_color=colours[r.drug], boxpoints=False, showlegend=False,
            hovertemplate=(f"<b>{r.drug}</b><br>intervals: {r.intervals:,}<br>min %{{lowerfence:.1f}} d"
                           "<br>Q1 %{q1:.1f} d<br>median %{median:.1f} d<br>Q3 %{q3:.1f} d"
                           "<br>max %{upperfence:.1f} d<br>mean %{mean:.1f} d<extra></extra>"),
        ))
    fig.update_yaxes(rangemode="tozero")
    return fig


def reservoir_margin(df: pd.DataFrame, bin_ml: float = 0.5) -> go.Figure:
    """Histogram (stacked by pump profile) of the reservoir margin above the alarm level before refill."""
    fig = go.Figure()
    base_layout(fig, "Reservoir margin at refill", "margin above alarm at refill (mL)",
                "refills (count)", height=420)
    _legend_below(fig)
    if df.empty:
        return _empty(fig)
    colours = _colour_map(df["profile"])
    for prof, g in df.groupby("profile", sort=True):
        fig.add_trace(go.Bar(
            name=prof, x=g["bin_start_ml"] + bin_ml / 2, y=g["refills"], width=bin_ml * 0.95,
            marker_color=colours[prof],
            customdata=list(zip(g["bin_start_ml"], g["bin_start_ml"] + bin_ml)),
            hovertemplate=(f"<b>{prof}</b><br>margin %{{customdata[0]:.1f}} to %{{customdata[1]:.1f}} mL"
                           "<br>refills: %{y:,}<extra></extra>"),
        ))
    fig.update_layout(barmode="stack", bargap=0)
    fig.add_vline(x=0, line=dict(color=OKABE_ITO["vermillion"], dash="dash", width=2))
    fig.add_annotation(x=0, y=1, yref="paper", text="alarm level", showarrow=False, xanchor="left",
                       yanchor="top", font=dict(color=OKABE_ITO["vermillion"]))
    return fig


def dose_trajectory(df: pd.DataFrame, min_pumps: int = MIN_PUMPS) -> go.Figure:
    """Median daily dose and interquartile band by month since implant, one panel per drug
    (months with fewer than ``min_pumps`` pumps are left out: a median of one or two pumps is noise)."""
    if not df.empty:
        df = df[df["pumps"] >= min_pumps]
    drugs = sorted(df["drug"].unique()) if not df.empty else []
    if not drugs:
        return _empty(base_layout(go.Figure(), "Daily dose by month since implant", "time since implant (months)",
                                  "dose (per day)"), f"No data in this selection (months with fewer than {min_pumps} "
                                                     "pumps are hidden)")
    cols = 2 if len(drugs) > 1 else 1
    rows = math.ceil(len(drugs) / cols)
    units = df.groupby("drug")["unit"].first()
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{d} ({units[d]}/day)" for d in drugs],
                        horizontal_spacing=0.12, vertical_spacing=0.16 if rows > 1 else 0.1)
    colours = _colour_map(drugs)
    for i, drug in enumerate(drugs):
        g = df[df["drug"] == drug].sort_values("month_since_implant")
        r, c = i // cols + 1, i % cols + 1
        unit = f"{units[drug]}/day"
        x = g["month_since_implant"]
        fig.add_trace(go.Scatter(x=x, y=g["q3"], mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip"), row=r, col=c)
        fig.add_trace(go.Scatter(x=x, y=g["q1"], mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(colours[drug], 0.25), showlegend=False, hoverinfo="skip"),
                      row=r, col=c)
        fig.add_trace(go.Scatter(
            x=x, y=g["median"], mode="lines+markers", name=drug, line=dict(color=colours[drug], width=2),
            marker=dict(size=4), showlegend=False,
            customdata=list(zip(g["q1"], g["q3"], g["pump_days"], g["pumps"])),
            hovertemplate=(f"<b>{drug}</b>, month %{{x:.0f}}<br>median %{{y:{d3(unit)}}} {unit}"
                           f"<br>IQR %{{customdata[0]:{d3(unit)}}} to %{{customdata[1]:{d3(unit)}}} {unit}"
                           "<br>%{customdata[2]:,} pump-days, %{customdata[3]:,} pumps<extra></extra>"),
        ), row=r, col=c)
        # the dose axis titled in the left column only (the panel title names drug and unit): on a
        # phone the right column's title ran into the left panel
        fig.update_yaxes(title_text=f"dose ({unit})" if c == 1 else None, rangemode="tozero", row=r, col=c)
        span = float(x.max() - x.min()) if len(x) else 1.0
        # the axis title only under the lowest panel of a column: above another panel it ran into that
        # panel's title
        fig.update_xaxes(title_text="time since implant<br>(months)" if i + cols >= len(drugs) else None, tick0=0,
                         dtick=max(1, math.ceil(span / 5)), tickformat="d", row=r, col=c)  # 5 ticks fit a phone
    base_layout(fig, None, height=max(340, 300 * rows))
    fig.update_layout(margin=dict(t=50))
    fig.update_annotations(font_size=13)  # the panel titles: two side by side fit a phone's width
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def alarm_rates(df: pd.DataFrame) -> go.Figure:
    """Alarms per 1000 pump-days by kind, coloured by severity."""
    fig = go.Figure()
    base_layout(fig, "Alarm rates", "alarms<br>(per 1000 pump-days)", None, height=440)  # 2 lines: fits a phone
    _legend_below(fig)
    if df.empty:
        return _empty(fig)
    d = df.sort_values("per_1000_pump_days")
    for sev, g in d.groupby("severity", sort=False):
        fig.add_trace(go.Bar(
            name=sev.replace("_", "-"), y=[pretty(k) for k in g["kind"]], x=g["per_1000_pump_days"], orientation="h",
            marker_color=SEVERITY_COLOURS.get(sev, OKABE_ITO["black"]),
            customdata=list(zip(g["alarms"], g["pumps"], g["pump_days"])),
            hovertemplate=("<b>%{y}</b><br>%{x:.3f} per 1000 pump-days<br>%{customdata[0]:,} alarms on "
                           "%{customdata[1]:,} pumps<br>%{customdata[2]:,.1f} pump-days<extra></extra>"),
        ))
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=[pretty(k) for k in d["kind"]])
    return fig


def ptm_by_hour(df: pd.DataFrame) -> go.Figure:
    """PTM requests granted and denied by hour of day (stacked)."""
    fig = go.Figure()
    base_layout(fig, "PTM requests by hour of day", "hour of day (pump clock, h)", "requests (count)", height=420)
    _legend_below(fig)
    if df.empty:
        return _empty(fig)
    d = df.set_index("hour").reindex(range(24), fill_value=0)
    total = d[list(PTM_LABELS)].sum(axis=1)
    for col, label in PTM_LABELS.items():
        share = (100 * d[col] / total.where(total > 0)).fillna(0)
        fig.add_trace(go.Bar(
            name=label, x=d.index, y=d[col], marker_color=PTM_COLOURS[col], customdata=share,
            hovertemplate=f"{label}<br>%{{x:02d}}:00-%{{x:02d}}:59<br>%{{y:,}} requests (%{{customdata:.1f}} %)"
                          "<extra></extra>",
        ))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickmode="linear", dtick=2, range=[-0.5, 23.5])
    return fig


def refill_discrepancies(df: pd.DataFrame) -> go.Figure:
    """Share of refills flagged (|withdrawn - expected residual| above the profile's limit), by profile."""
    fig = go.Figure()
    base_layout(fig, "Refill discrepancies flagged", "refills flagged (%)", None, height=340)
    if df.empty:
        return _empty(fig)
    colours = _colour_map(df["profile"])
    d = df.sort_values("profile", ascending=False)
    fig.add_trace(go.Bar(
        y=d["profile"], x=d["flagged_pct"], orientation="h", marker_color=[colours[p] for p in d["profile"]],
        customdata=list(zip(d["flagged"], d["refills"], d["limit_ml"])),
        text=[f"{int(f):,} of {int(n):,}" for f, n in zip(d["flagged"], d["refills"])], textposition="outside",
        cliponaxis=False,
        hovertemplate=("<b>%{y}</b><br>%{x:.2f} % of refills flagged<br>%{customdata[0]:,} of %{customdata[1]:,}"
                       " refills<br>limit: |withdrawn - expected residual| > %{customdata[2]:g} mL<extra></extra>"),
        showlegend=False,
    ))
    top = float(d["flagged_pct"].max() or 0)
    fig.update_xaxes(range=[0, max(1.0, top * 1.35)])
    fig.update_yaxes(automargin=True)
    return fig
