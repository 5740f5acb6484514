"""Rate-schedule figures for the clinician views: the 24 h step chart (rate
and dose per drug), the weekday heatmap, the settings table and the dose
history over the whole record. Pure functions: Program / DataFrames in,
Plotly figures or DataFrames out (no Streamlit)."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..programs import WEEKDAYS, Program, minutes_to_hhmm
from ..schedule import DAY_S, profile_for
from ..units import d3, fmt, num
from .annotate import annotate_events, notable_events
from .style import OKABE_ITO, PALETTE, base_layout

RATE_TITLE = "rate (mL/day)"
HOUR_TITLE = "time of day (h)"
DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}


def _dose_unit(program: Program, drug: str) -> str:
    return next(e.spec.dose_unit for e in program.drugs if e.drug == drug)


def basal_steps(program: Program, day: str | None = None) -> list[tuple[int, int, float]]:
    """``(start_min, end_min, rate_ml_per_day)`` of the basal (background)
    rate over one day; ``day`` picks a weekday of a ``week`` schedule."""
    if program.mode == "stopped":
        return [(0, 1440, 0.0)]
    if program.mode == "flex":
        steps = program.steps if program.steps is not None else program.week[day or "mon"]
        ends = [s.start_min for s in steps[1:]] + [1440]
        return [(s.start_min, e, s.rate_ml_per_day) for s, e in zip(steps, ends)]
    return [(0, 1440, float(program.rate_ml_per_day))]


def bolus_times(program: Program) -> pd.DataFrame:
    """Periodic boluses on the grid's first day (the day of `now`; the same every day when the
    interval divides 24 h): start (h), volume (mL), duration (min)."""
    rows = []
    if program.mode == "periodic_bolus":
        for b in program.boluses or []:
            rows += [{"start_h": m / 60, "volume_ml": b.volume_ml, "duration_min": b.duration_min}
                     for m in b.starts_in_day_min(0)]
    return pd.DataFrame(rows, columns=["start_h", "volume_ml", "duration_min"])


def ptm_text(program: Program) -> str:
    """PTM settings in words, with units (empty when the program has no PTM)."""
    p = program.ptm
    if p is None or program.mode == "stopped":
        return ""
    return (f"PTM bolus {num(p.bolus_volume_ml)} mL, lockout {num(p.lockout_min)} min, "
            f"max {p.max_per_day}/day ({p.allowed_per_day} allowed in 24 h = {num(p.daily_volume_ml)} mL/day)")


def rate_step_figure(program: Program, day: str | None = None, title: str | None = None) -> go.Figure:
    """24 h step chart of the basal rate (mL/day) with one extra y axis per
    drug in dose units per day (same curve: dose = rate x concentration);
    periodic boluses as markers; PTM settings as a note."""
    steps = basal_steps(program, day)
    x = [s[0] / 60 for s in steps] + [24.0]
    y = [s[2] for s in steps] + [steps[-1][2]]
    concs = program.concentrations()
    n = len(concs)
    right = 1.0 - 0.09 * max(0, n - 1)
    fig = go.Figure()
    hover = "%{x:.2f} h: %{y:" + d3("mL/day") + "} mL/day<extra>rate</extra>"
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(shape="hv", width=3, color=OKABE_ITO["blue"]),
                             name="basal rate (mL/day)", hovertemplate=hover))
    ymax = max(max(y), 1e-9) * 1.25
    boluses = bolus_times(program)
    if len(boluses):
        ymax = max(ymax, max(y) * 1.4)
        fig.add_trace(go.Scatter(
            x=boluses["start_h"], y=[max(y) * 1.15] * len(boluses), mode="markers",
            marker=dict(symbol="triangle-down", size=13, color=OKABE_ITO["vermillion"]),
            name="periodic bolus", customdata=boluses[["volume_ml", "duration_min"]].to_numpy(),
            hovertemplate="bolus at %{x:.2f} h: %{customdata[0]:" + d3("mL") + "} mL over %{customdata[1]:.0f} min"
                          "<extra></extra>"))
    layout_axes = {}
    for i, (drug, conc) in enumerate(concs.items()):
        unit = _dose_unit(program, drug)
        axis = f"yaxis{i + 2}"
        colour = PALETTE[(i + 1) % len(PALETTE)]
        layout_axes[axis] = dict(
            title=dict(text=f"{drug} dose ({unit})", font=dict(color=colour)), overlaying="y", side="right",
            range=[0, ymax * conc], anchor="x" if i == 0 else "free", position=min(1.0, right + 0.09 * i),
            showgrid=False, tickfont=dict(color=colour), rangemode="tozero")
        fig.add_trace(go.Scatter(
            x=x, y=[v * conc for v in y], yaxis=f"y{i + 2}", mode="lines", name=f"{drug} dose ({unit})",
            line=dict(shape="hv", width=0.5, color=colour, dash="dot"), showlegend=False,
            hovertemplate=f"%{{x:.2f}} h: %{{y:{d3(unit)}}} {unit}<extra>{drug}</extra>"))
    fig.update_layout(**layout_axes)
    note = ptm_text(program)
    if note:  # PTM settings under the title, so the figure stands on its own
        title = (title or "") + f"<br><sup>{note}</sup>"
    base_layout(fig, title=title, x_title=HOUR_TITLE, height=380)
    fig.update_layout(xaxis=dict(domain=[0, right], range=[0, 24], tickvals=list(range(0, 25, 6)),
                                 ticktext=[f"{h:02d}:00" for h in range(0, 25, 6)], tickangle=0),
                      yaxis=dict(range=[0, ymax], title=dict(text=RATE_TITLE)), margin=dict(r=90, t=80))
    return fig


def hourly_rates(program: Program) -> pd.DataFrame:
    """Mean programmed rate (mL/day) in each hour of each weekday (7 x 24),
    exact from the rate profile (periodic boluses included)."""
    prof = profile_for(program)
    t0 = np.arange(7 * 24, dtype=float) * 3600
    vol = prof.volume_between(t0, t0 + 3600)  # EPOCH is a Monday: row 0 is Monday 00:00
    return pd.DataFrame((vol * 24).reshape(7, 24), index=[DAY_NAMES[d] for d in WEEKDAYS],
                        columns=[f"{h:02d}:00" for h in range(24)])


def week_heatmap(program: Program, title: str | None = None) -> go.Figure:
    """7 x 24 heatmap of the mean rate (mL/day) per hour and weekday."""
    rates = hourly_rates(program)
    fig = go.Figure(go.Heatmap(
        z=rates.to_numpy(), x=list(rates.columns), y=list(rates.index), colorscale="Cividis",
        colorbar=dict(title=dict(text="mL/day")),
        hovertemplate="%{y} %{x}: %{z:" + d3("mL/day") + "} mL/day<extra></extra>"))
    base_layout(fig, title=title, x_title="hour of day (h)", y_title="weekday", height=320)
    fig.update_yaxes(autorange="reversed")
    return fig


def settings_table(program: Program) -> pd.DataFrame:
    """Tidepool-style settings table: one row per step (per weekday for a
    week schedule) with start, end, rate, volume in the step and the dose
    rate per drug; periodic boluses (their rate while running, on top of the
    background); a last row with the totals per day (mean rate = daily volume)."""
    concs = program.concentrations()
    units = {d: _dose_unit(program, d) for d in concs}
    days = [None] if program.mode != "flex" or program.week is None else list(WEEKDAYS)
    rows = []
    for day in days:
        for start, end, rate in basal_steps(program, day):
            row = {} if day is None else {"day": DAY_NAMES[day]}
            row |= {"start": minutes_to_hhmm(start), "end": "24:00" if end == 1440 else minutes_to_hhmm(end),
                    "rate (mL/day)": rate, "volume in step (mL)": rate * (end - start) / 1440}
            row |= {f"{d} ({units[d]})": rate * c for d, c in concs.items()}
            rows.append(row)
    for b in bolus_times(program).itertuples():
        row = {} if days == [None] else {"day": "every day"}
        bolus_rate = b.volume_ml * 1440 / b.duration_min  # extra rate while the bolus runs
        row |= {"start": minutes_to_hhmm(int(round(b.start_h * 60))), "end": f"+{b.duration_min:g} min bolus",
                "rate (mL/day)": bolus_rate, "volume in step (mL)": b.volume_ml}
        row |= {f"{d} ({units[d]})": bolus_rate * c for d, c in concs.items()}
        rows.append(row)
    daily = profile_for(program).daily_volume_ml
    total = {} if days == [None] else {"day": "mean/day"}
    total |= {"start": "total per day", "end": "", "rate (mL/day)": daily, "volume in step (mL)": daily}
    total |= {f"{d} ({units[d]})": daily * c for d, c in concs.items()}
    rows.append(total)
    return pd.DataFrame(rows)


def _concentration_at(times: pd.Series, programs: list[tuple[datetime, Program]], drug: str) -> np.ndarray:
    """Concentration of ``drug`` (drug unit/mL) in effect at each time (0 when absent)."""
    if not programs:
        return np.zeros(len(times))
    starts = pd.DatetimeIndex([t for t, _ in programs]).as_unit("s")
    conc = np.array([p.concentrations().get(drug, 0.0) for _, p in programs])
    idx = starts.searchsorted(pd.DatetimeIndex(times).as_unit("s"), side="right") - 1
    return np.where(idx >= 0, conc[np.clip(idx, 0, None)], 0.0)


def daily_doses(samples: pd.DataFrame, programs: list[tuple[datetime, Program]]) -> pd.DataFrame:
    """Per calendar day and drug: delivered volume (mL/day), delivered and
    programmed dose (drug unit/day), from hourly samples and the program
    history. Partly recorded days (first and last) are left out when
    whole days exist; ``hours`` says how many hours each day has."""
    drugs = list(dict.fromkeys(d for _, p in programs for d in p.drug_names))
    if samples.empty or not drugs:
        return pd.DataFrame(columns=["date", "drug", "unit", "delivered_ml", "delivered_dose", "programmed_dose", "hours"])
    ts = pd.to_datetime(samples["timestamp"])
    frames = []
    for drug in drugs:
        c = _concentration_at(ts, programs, drug)
        f = pd.DataFrame({"date": ts.dt.floor("D"), "delivered_ml": samples["delivered_ml"].to_numpy(),
                          "delivered_dose": samples["delivered_ml"].to_numpy() * c,
                          "programmed_dose": samples["programmed_rate_ml_per_day"].to_numpy() / 24 * c})
        g = f.groupby("date", as_index=False).agg(delivered_ml=("delivered_ml", "mean"),
                                                   delivered_dose=("delivered_dose", "mean"),
                                                   programmed_dose=("programmed_dose", "mean"),
                                                   hours=("delivered_ml", "size"))
        g[["delivered_ml", "delivered_dose", "programmed_dose"]] *= 24
        if (g["hours"] >= 24).any():  # a partly recorded first/last day would mislead (flex schedules)
            g = g[g["hours"] >= 24]
        g["drug"] = drug
        g["unit"] = next(e.spec.dose_unit for _, p in programs for e in p.drugs if e.drug == drug)
        frames.append(g)
    return pd.concat(frames, ignore_index=True)


def dose_history_figure(samples: pd.DataFrame, programs: list[tuple[datetime, Program]],
                        title: str | None = None, events: pd.DataFrame | None = None) -> go.Figure:
    """Daily dose over the whole record, one panel per drug (each in its own
    unit), delivered (incl. PTM) and programmed, with program changes marked and the
    notable ``events`` (MRI, occlusion, alarms) labelled."""
    daily = daily_doses(samples, programs)
    drugs = list(dict.fromkeys(daily["drug"])) or ["(no drug)"]
    fig = make_subplots(rows=len(drugs), cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for i, drug in enumerate(drugs, start=1):
        d = daily[daily["drug"] == drug]
        unit = d["unit"].iloc[0] if len(d) else ""
        fig.add_trace(go.Scatter(
            x=d["date"], y=d["programmed_dose"], mode="lines", line=dict(shape="hv", color=OKABE_ITO["sky_blue"],
                                                                          width=2, dash="dash"),
            name="programmed dose", legendgroup="prog", showlegend=i == 1,
            hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:{d3(unit)}}} {unit} programmed<extra>{drug}</extra>"), row=i, col=1)
        fig.add_trace(go.Scatter(
            x=d["date"], y=d["delivered_dose"], mode="lines", line=dict(color=PALETTE[0], width=2),
            name="delivered dose (incl. PTM)", legendgroup="deliv", showlegend=i == 1,
            hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:{d3(unit)}}} {unit} delivered<extra>{drug}</extra>"), row=i, col=1)
        fig.update_yaxes(title_text=f"{drug} ({unit})", rangemode="tozero", row=i, col=1)
    changes = programs[1:]
    if changes:
        for t, _ in changes:
            fig.add_vline(x=t, line=dict(color=OKABE_ITO["orange"], width=1, dash="dot"))
        fig.add_trace(go.Scatter(
            x=[t for t, _ in changes], y=[0] * len(changes), mode="markers", name="program change",
            marker=dict(symbol="diamond", size=11, color=OKABE_ITO["orange"], line=dict(width=1, color="black")),
            text=[_change_text(prev, new) for (_, prev), (_, new) in zip(programs, programs[1:])],
            hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{text}<extra>program change</extra>"), row=1, col=1)
    annotate_events(fig, notable_events(events))
    base_layout(fig, title=title, height=280 + 160 * len(drugs))
    fig.update_layout(margin=dict(t=70 if title else 40))
    fig.update_xaxes(title_text="date (pump clock)", row=len(drugs), col=1)
    return fig


def _change_text(old: Program, new: Program) -> str:
    v0, v1 = profile_for(old).daily_volume_ml, profile_for(new).daily_volume_ml
    parts = [f"{fmt(v0, 'mL/day')} to {fmt(v1, 'mL/day')} ({new.mode.replace('_', ' ')})"]
    for e in new.drugs:
        c_old = old.concentrations().get(e.drug, 0.0)
        unit = e.spec.dose_unit
        parts.append(f"{e.drug}: {fmt(v0 * c_old, unit)} to {fmt(v1 * e.concentration_in_drug_unit, unit)}")
    return "<br>".join(parts)
