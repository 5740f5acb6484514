"""Reservoir figures: the volume over the record (refill sawtooth) from
telemetry, as the pump estimates it (with the simulated true volume, dotted,
where the two differ), then the exact projection to empty under the current program,
drawn at the rate profile's segment breakpoints (volume is linear between
them, so the line is exact), with the all-PTM worst case as a band.
Pure functions (no Streamlit)."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import library
from ..evaluation import Evaluation
from ..programs import Case
from ..schedule import from_seconds, profile_for, to_seconds, worst_case_profile
from ..units import d3, fmt, num, when
from .annotate import annotate_events, notable_events
from .style import OKABE_ITO, TITLE_MARGIN_PX, base_layout

STOPPED_HORIZON = timedelta(days=90)
MAX_POINTS = 50_000
HISTORY_TOL_ML = 0.01  # telemetry line drawn within 0.01 mL of every hourly sample
#: The simulated true volume is drawn (thin, dotted) only where it differs from the
#: pump's estimate by more than this: the estimate is what a clinician sees.
TRUE_VOLUME_MIN_DIFF_ML = 0.05
TRUE_VOLUME_NAME = "simulated true volume (not visible to a real clinician)"


def projection(case: Case) -> pd.DataFrame:
    """Reservoir volume from ``case.now`` until it is empty under the proposed
    program: ``time``, ``programmed_ml`` (no PTM) and ``worst_ml`` (every
    allowed PTM bolus, spread evenly), at every breakpoint of the schedule
    and at the moments the worst case and the programmed line reach 0."""
    base, worst = profile_for(case.proposed, case.now), worst_case_profile(case.proposed, case.now)
    t0, start = to_seconds(case.now), case.start_volume_ml
    end = base.time_to_deliver(t0, start)
    worst_end = worst.time_to_deliver(t0, start)
    if end is None:
        end = t0 + STOPPED_HORIZON.total_seconds()
    pts = base.breakpoints_between(t0, end)
    if len(pts) > MAX_POINTS:  # very long horizons: keep the breakpoints evenly (never seen with real programs)
        pts = pts[np.linspace(0, len(pts) - 1, MAX_POINTS).astype(int)]
    extra = [t0, end] + ([worst_end] if worst_end is not None and worst_end < end else [])
    t = np.unique(np.concatenate([pts, extra]))
    prog = np.clip(start - base.volume_between(t0, t), 0.0, None)
    wc = np.clip(start - worst.volume_between(t0, t), 0.0, None)
    times = pd.to_datetime([from_seconds(s) for s in t]) if len(t) < 2000 else \
        pd.Timestamp(from_seconds(0)) + pd.to_timedelta(np.floor(t + 1e-6), unit="s")
    return pd.DataFrame({"time": times, "programmed_ml": prog, "worst_ml": wc})


def thin_line(x: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray:
    """Indices of points to keep so that straight lines between kept points
    stay within ``tol`` of every dropped point (cone intersection, O(n)).
    Hourly reservoir telemetry falls at a near-constant rate: most points go."""
    n = len(x)
    if n <= 2:
        return np.arange(n)
    keep = [0]
    a = 0
    lo, hi = -np.inf, np.inf
    for i in range(1, n):
        dx = x[i] - x[a]
        if dx <= 0:
            continue
        slope = (y[i] - y[a]) / dx  # the segment a -> i must pass within tol of every point between
        if not lo <= slope <= hi:
            a = i - 1
            keep.append(a)
            dx = x[i] - x[a]
            lo, hi = -np.inf, np.inf
        lo, hi = max(lo, (y[i] - tol - y[a]) / dx), min(hi, (y[i] + tol - y[a]) / dx)
    keep.append(n - 1)
    return np.unique(keep)


def _true_where_different(ts: pd.Series, x: np.ndarray, true: np.ndarray,
                          est: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """The simulated true volume, thinned, only over the runs of samples where it
    differs from the pump's estimate by more than ``TRUE_VOLUME_MIN_DIFF_ML``
    (runs separated by a gap, so the dotted line is not drawn in between)."""
    differ = np.abs(true - est) > TRUE_VOLUME_MIN_DIFF_ML
    if not differ.any():
        return ts.iloc[:0], np.array([])
    edges = np.flatnonzero(np.diff(np.concatenate(([0], differ.astype(np.int8), [0]))))
    xs, ys = [], []
    for a, b in zip(edges[::2], edges[1::2]):
        keep = a + thin_line(x[a:b], true[a:b], HISTORY_TOL_ML)
        xs += [ts.iloc[keep], pd.Series([ts.iloc[b - 1] + pd.Timedelta(minutes=1)])]  # gap after each run
        ys += [true[keep], [np.nan]]
    return pd.concat(xs, ignore_index=True), np.concatenate(ys)


def volume_at(case: Case, when_: datetime, worst: bool = False) -> float:
    """Projected reservoir volume (mL) at ``when_`` (not before ``case.now``)."""
    prof = worst_case_profile(case.proposed, case.now) if worst else profile_for(case.proposed, case.now)
    t0 = to_seconds(case.now)
    t1 = max(to_seconds(when_), t0)
    return max(0.0, case.start_volume_ml - float(prof.volume_between(t0, t1)))


def markers(case: Case, ev: Evaluation) -> pd.DataFrame:
    """The dated moments to mark on the projection: label, time, volume (mL), hover text."""
    lra_src = library.lra_source(case.pump.spec)
    rows = [
        ("now", case.now, case.start_volume_ml, "reservoir now (telemetry)"),
        ("refill by", ev.refill_by, None, "latest recommended refill: earlier of worst-case alarm and stability end"),
        ("low-reservoir alarm", ev.low_reservoir_alarm_at, ev.low_reservoir_alarm_ml,
         f"programmed delivery reaches {num(ev.low_reservoir_alarm_ml)} mL ({lra_src})"),
        ("alarm, all PTM boluses", ev.low_reservoir_alarm_at_worst_case, ev.low_reservoir_alarm_ml,
         "worst case: every allowed PTM bolus taken"),
        ("empty", ev.empty_at, 0.0, "programmed delivery empties the reservoir: therapy stops"),
        ("next appointment", case.next_appointment, None, "next scheduled visit"),
    ]
    out = []
    for label, t, vol, note in rows:
        if t is None:
            continue
        if vol is None:
            vol = volume_at(case, t, worst=label == "refill by")
        out.append({"label": label, "time": pd.Timestamp(t), "volume_ml": vol, "note": note})
    return pd.DataFrame(out, columns=["label", "time", "volume_ml", "note"])


#: short labels written beside the markers (the legend keeps only the lines)
MARKER_TEXT = {"now": "now", "refill by": "refill by", "low-reservoir alarm": "alarm",
               "alarm, all PTM boluses": "alarm (all PTM)", "empty": "empty", "next appointment": "appointment"}
WINDOWS = {"key": "from the key event", "120": "last 120 days", "all": "whole record"}
KEY_EVENT_KINDS = ("alarm_low_reservoir", "alarm_empty_reservoir", "alarm_motor_stall", "alarm_catheter_occlusion",
                   "alarm_eri", "alarm_end_of_service", "mri")


def window_start(window: str, now: datetime, events: pd.DataFrame | None = None,
                 refills: pd.DataFrame | None = None) -> pd.Timestamp | None:
    """Where the chart opens: ``"all"`` -> None (whole record), ``"120"`` -> 120 days before now,
    ``"key"`` (default) -> 120 days before now or earlier, 14 days before the first alarm, MRI or
    flagged refill of the last year, so each story's key event (Patient A's March low-reservoir
    alarm) is on screen."""
    if window == "all":
        return None
    start = pd.Timestamp(now) - pd.Timedelta(days=120)
    if window != "key":
        return start
    year_ago = pd.Timestamp(now) - pd.Timedelta(days=365)
    times = []
    if events is not None and len(events):
        ts = pd.to_datetime(events["timestamp"])
        times += list(ts[events["kind"].isin(KEY_EVENT_KINDS) & (ts >= year_ago)])
    if refills is not None and len(refills) and "flagged" in refills:
        d = pd.to_datetime(refills["date"])
        times += list(d[refills["flagged"].astype(bool) & (d >= year_ago)])
    return min([start] + [t - pd.Timedelta(days=14) for t in times])


MARKER_STYLE = {
    "now": ("circle", OKABE_ITO["black"]),
    "refill by": ("star", OKABE_ITO["green"]),
    "low-reservoir alarm": ("triangle-down", OKABE_ITO["orange"]),
    "alarm, all PTM boluses": ("triangle-down-open", OKABE_ITO["vermillion"]),
    "empty": ("x", OKABE_ITO["vermillion"]),
    "next appointment": ("square", OKABE_ITO["purple"]),
}


def reservoir_figure(samples: pd.DataFrame, case: Case, ev: Evaluation, title: str | None = None,
                     refills: pd.DataFrame | None = None, start: pd.Timestamp | None = None,
                     events: pd.DataFrame | None = None) -> go.Figure:
    """Reservoir over the record (telemetry: the pump's estimate; the simulated
    true volume dotted where it differs) and the projection to empty, with the notable
    ``events`` (MRI, occlusion, alarms) labelled and the lowest reading marked.
    The view opens at ``start`` (None: the whole record) and shows the whole projection."""
    fig = go.Figure()
    ml = d3("mL")
    hover_ml = "%{x|%Y-%m-%d %H:%M}: %{y:" + ml + "} mL"
    if samples is not None and len(samples):
        ts = pd.to_datetime(samples["timestamp"])
        x = ts.to_numpy().astype("datetime64[s]").astype(np.int64) / 3600.0
        true = samples["reservoir_ml"].to_numpy(dtype=float)
        est = samples["reservoir_estimate_ml"].to_numpy(dtype=float) if "reservoir_estimate_ml" in samples else true
        est = np.where(np.isnan(est), true, est)
        idx = thin_line(x, est, HISTORY_TOL_ML)
        fig.add_trace(go.Scatter(x=ts.iloc[idx], y=est[idx], mode="lines",
                                 name="reservoir (telemetry)", line=dict(color=OKABE_ITO["blue"], width=1.5),
                                 hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:" + ml + "} mL, the pump's estimate"
                                               "<extra>telemetry</extra>"))
        gx, gy = _true_where_different(ts, x, true, est)
        if len(gx):
            fig.add_trace(go.Scatter(
                x=gx, y=gy, mode="lines", name=TRUE_VOLUME_NAME, connectgaps=False,
                line=dict(color=OKABE_ITO["black"], width=1, dash="dot"),
                hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:" + ml + "} mL really in the reservoir (simulation only)"
                              "<extra>true volume</extra>"))
    if refills is not None and len(refills):
        fig.add_trace(go.Scatter(
            x=refills["date"], y=refills["added_ml"], mode="markers", name="refill",
            marker=dict(symbol="circle-open", size=9, color=OKABE_ITO["blue"], line=dict(width=2)),
            customdata=refills[["withdrawn_ml", "added_ml"]].to_numpy(),
            hovertemplate="refill %{x|%Y-%m-%d}: withdrawn %{customdata[0]:" + ml + "} mL, added %{customdata[1]:"
                          + ml + "} mL"
                          "<extra></extra>"))
    proj = projection(case)
    fig.add_trace(go.Scatter(x=proj["time"], y=proj["programmed_ml"], mode="lines", name="projection (programmed)",
                             line=dict(color=OKABE_ITO["green"], width=2.5),
                             hovertemplate=hover_ml + "<extra>programmed</extra>"))
    fig.add_trace(go.Scatter(x=proj["time"], y=proj["worst_ml"], mode="lines", name="worst case (all PTM boluses)",
                             line=dict(color=OKABE_ITO["vermillion"], width=1.5, dash="dash"), fill="tonexty",
                             fillcolor="rgba(213,94,0,0.15)", hovertemplate=hover_ml + "<extra>worst case</extra>"))
    lra = ev.low_reservoir_alarm_ml
    fig.add_hline(y=lra, line=dict(color=OKABE_ITO["orange"], width=1.5, dash="dot"),
                  annotation_text=f"low-reservoir alarm {fmt(lra, 'mL')}", annotation_position="top left")
    # dated markers labelled where they are (not in the legend), never clipped by the axes; each label
    # sits at the end of its own arrow, fanned out by date order, so close dates do not overwrite
    for i, m in enumerate(markers(case, ev).sort_values("time").itertuples()):
        symbol, colour = MARKER_STYLE[m.label]
        fig.add_trace(go.Scatter(
            x=[m.time], y=[m.volume_ml], mode="markers", name=m.label, showlegend=False, cliponaxis=False,
            marker=dict(symbol=symbol, size=13, color=colour, line=dict(width=1.5, color=colour)),
            hovertemplate=f"<b>{m.label}</b> {when(m.time.to_pydatetime())}<br>{fmt(m.volume_ml, 'mL')}<br>{m.note}"
                          "<extra></extra>"))
        cap = case.pump.spec.reservoir_ml
        if m.label == "now":  # a full reservoir: up and to the right, where the projection has left
            # room; lower: straight up, above the end markers' ladder (on a phone, labels beside the
            # marker met the lowest reading's label or the ladder)
            place = dict(ax=24, ay=-20, xanchor="left") if m.volume_ml > cap / 2 else \
                dict(ax=0, ayref="y", ay=0.85 * cap, xanchor="center")
        else:  # a ladder of labels (in mL on the y axis), one rung per marker in date order
            place = dict(ax=-70, ayref="y", ay=cap * (0.25 + 0.1 * (i - 1)), xanchor="right")
        fig.add_annotation(x=m.time, y=m.volume_ml, text=MARKER_TEXT[m.label], showarrow=True, arrowcolor=colour,
                           arrowwidth=1, font=dict(size=12, color=colour), bgcolor="rgba(255,255,255,0.9)",
                           **place)
    if case.next_appointment is not None:
        fig.add_vline(x=case.next_appointment, line=dict(color=OKABE_ITO["purple"], width=1, dash="dot"))
    fig.add_vline(x=case.now, line=dict(color=OKABE_ITO["black"], width=1, dash="dot"))
    if samples is not None and len(samples):
        _mark_lowest(fig, ts, est, true, start)
    annotate_events(fig, notable_events(events, start))
    cap = case.pump.spec.reservoir_ml
    base_layout(fig, title=title, x_title="date (pump clock)", y_title="reservoir volume (mL)", height=480)
    fig.update_yaxes(range=[0, cap * 1.12])
    end = max([proj["time"].iloc[-1]] + ([pd.Timestamp(case.next_appointment)] if case.next_appointment else []))
    first = start if start is not None else (pd.Timestamp(samples["timestamp"].min()) if samples is not None
                                             and len(samples) else pd.Timestamp(case.now))
    fig.update_xaxes(range=[first, end + (end - first) * 0.05])  # room for the last marker's label
    # legend: the lines only, in rows under the axis title (it wraps on a phone, never over the title)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0, font=dict(size=12)),
                      margin=dict(t=TITLE_MARGIN_PX if title else 30, r=20, b=120))
    return fig


def _mark_lowest(fig: go.Figure, ts: pd.Series, est: np.ndarray, true: np.ndarray, start: pd.Timestamp | None) -> None:
    """Arrow to the lowest reading in view; where the simulated true volume was lower (Patient A's
    "0.38 mL left" in March 2026, while the pump counted 0.706 mL) both are written."""
    shown = np.flatnonzero(ts.to_numpy() >= np.datetime64(start)) if start is not None else np.arange(len(est))
    if not len(shown):
        return
    i = shown[np.argmin(est[shown])]
    # short lines (a narrow box) placed away from the projection's end: on a phone a long one-line
    # label reached the end-marker labels
    text = f"lowest {fmt(est[i], 'mL')}<br>{ts.iloc[i]:%Y-%m-%d}"
    if abs(true[i] - est[i]) > TRUE_VOLUME_MIN_DIFF_ML:
        text = f"{ts.iloc[i]:%Y-%m-%d}: {fmt(true[i], 'mL')} left<br>(pump's estimate {fmt(est[i], 'mL')})"
    # high up (in mL, above the ladder of end-marker labels, which reaches 65 % of the reservoir) and
    # starting at the left edge of the plot (in dates), with an arrow to the reading: on any screen
    # width it stays inside the plot, clear of the y-axis title and of the labels at the record's end
    top = float(np.nanmax(est[shown]))
    first, last = ts.iloc[shown[0]], ts.iloc[shown[-1]]
    fig.add_annotation(x=ts.iloc[i], y=est[i], text=text, xanchor="left", axref="x", ax=first + (last - first) * 0.02,
                       ayref="y", ay=0.75 * top, showarrow=True, arrowhead=2,
                       font=dict(size=12, color=OKABE_ITO["black"]), bgcolor="rgba(255,255,255,0.85)")


def refill_table(refills: pd.DataFrame, limit_ml: float) -> pd.DataFrame:
    """Refill visits with units in the column names and the discrepancy
    verdict (|withdrawn - expected residual| above ``limit_ml``)."""
    r = refills.copy()
    disc = r["withdrawn_ml"] - r["expected_residual_ml"]
    flagged = r["flagged"] if "flagged" in r else disc.abs() > limit_ml + 1e-9
    return pd.DataFrame({
        "date": pd.to_datetime(r["date"]),
        "expected residual (mL)": r["expected_residual_ml"],
        "withdrawn (mL)": r["withdrawn_ml"],
        "added (mL)": r["added_ml"],
        "discrepancy (mL)": r["discrepancy_ml"] if "discrepancy_ml" in r else disc,
        f"flagged (> {num(limit_ml)} mL)": flagged.astype(bool),
    })
