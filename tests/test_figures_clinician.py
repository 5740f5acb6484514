"""Clinician figure builders: traces, axis titles with units, exact values.
Hand-made frames following ``telemetry_schema`` (no Streamlit)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from pumpmodel import evaluate
from pumpmodel.figures import clinician, events as fev, reservoir as fres, schedule as fsch
from pumpmodel.figures.style import SEVERITY_COLOURS
from pumpmodel.programs import Case, Program

BACLOFEN_FLEX = Program.model_validate({
    "drugs": [{"drug": "baclofen", "concentration": 2000, "unit": "mcg/mL"}],
    "mode": "flex",
    "steps": [{"start": "00:00", "rate_ml_per_day": 0.30}, {"start": "07:00", "rate_ml_per_day": 0.45},
              {"start": "22:00", "rate_ml_per_day": 0.30}],
    "ptm": {"bolus_volume_ml": 0.01, "lockout_min": 120, "max_per_day": 3},
})
ADMIX_PERIODIC = Program.model_validate({
    "drugs": [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"},
              {"drug": "clonidine", "concentration": 500, "unit": "mcg/mL"}],
    "mode": "periodic_bolus", "rate_ml_per_day": 0.2,
    "boluses": [{"first_at": "02:00", "every_hours": 6, "volume_ml": 0.025, "duration_min": 30}],
})
WEEK = Program.model_validate({
    "drugs": [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"}], "mode": "flex",
    "week": {d: [{"start": "00:00", "rate_ml_per_day": 0.5 if d in ("sat", "sun") else 0.3},
                 {"start": "12:00", "rate_ml_per_day": 0.6}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
})
NOW = datetime(2026, 11, 21, 9, 0)


def case_for(program: Program, reservoir_ml: float = 18.5, appt: datetime | None = datetime(2027, 1, 10, 9)) -> Case:
    return Case.model_validate({"pump": {"profile": "programmable-40"}, "now": NOW, "reservoir_ml": reservoir_ml,
                                "next_appointment": appt, "current": program.model_dump(mode="json"),
                                "proposed": program.model_dump(mode="json")})


def samples_frame(days: int = 10, rate: float = 0.39375, start_ml: float = 20.0) -> pd.DataFrame:
    ts = pd.date_range(NOW - timedelta(days=days), periods=days * 24, freq="h")
    delivered = np.full(len(ts), rate / 24)
    return pd.DataFrame({"pump_id": "P1", "timestamp": ts, "programmed_rate_ml_per_day": rate,
                         "delivered_ml": delivered, "reservoir_ml": start_ml - np.cumsum(delivered),
                         "battery_pct": np.linspace(80, 79.9, len(ts))})


def events_frame() -> pd.DataFrame:
    rows = [
        (NOW - timedelta(days=9), "program_change", "info", None, None, None, None,
         json.dumps({"old": None, "new": BACLOFEN_FLEX.model_dump(mode="json")})),
        (NOW - timedelta(days=5), "refill", "info", 3.0, 5.5, 20.0, None, None),
        (NOW - timedelta(days=4, hours=-1), "ptm_granted", "info", None, None, None, 0.01, None),
        (NOW - timedelta(days=4, hours=-2), "ptm_denied_lockout", "info", None, None, None, None, None),
        (NOW - timedelta(days=3, hours=-2), "ptm_denied_daily_max", "info", None, None, None, None, None),
        (NOW - timedelta(days=2), "alarm_low_reservoir", "non_critical", None, None, None, None, None),
        (NOW - timedelta(days=1), "alarm_motor_stall", "critical", None, None, None, None, '{"restart_after_h": 4}'),
    ]
    cols = ["timestamp", "kind", "severity", "expected_residual_ml", "withdrawn_ml", "added_ml", "volume_ml",
            "details"]
    df = pd.DataFrame(rows, columns=cols)
    df.insert(0, "pump_id", "P1")
    return df


# -- schedule -----------------------------------------------------------------

def test_step_chart_has_rate_and_dose_axes_with_units():
    fig = fsch.rate_step_figure(BACLOFEN_FLEX)
    rate = fig.data[0]
    assert list(rate.x) == [0, 7, 22, 24] and list(rate.y) == [0.30, 0.45, 0.30, 0.30]
    assert rate.line.shape == "hv"
    assert fig.layout.xaxis.title.text == "time of day (h)"
    assert fig.layout.yaxis.title.text == "rate (mL/day)"
    assert fig.layout.yaxis2.title.text == "baclofen dose (mcg/day)"
    dose = fig.data[1]
    assert dose.yaxis == "y2" and list(dose.y) == pytest.approx([600, 900, 600, 600])
    # the dose axis is the rate axis scaled by the concentration: the curves coincide
    assert fig.layout.yaxis2.range[1] == pytest.approx(fig.layout.yaxis.range[1] * 2000)
    assert "lockout 120 min" in fig.layout.title.text


def test_step_chart_admixture_gets_one_dose_axis_per_drug_and_bolus_markers():
    fig = fsch.rate_step_figure(ADMIX_PERIODIC)
    assert fig.layout.yaxis2.title.text == "morphine dose (mg/day)"
    assert fig.layout.yaxis3.title.text == "clonidine dose (mcg/day)"
    bolus = next(t for t in fig.data if t.name == "periodic bolus")
    assert list(bolus.x) == [2, 8, 14, 20]
    assert bolus.customdata[0][0] == 0.025


def test_week_heatmap_is_exact_per_hour():
    rates = fsch.hourly_rates(WEEK)
    assert rates.shape == (7, 24)
    assert rates.loc["Mon", "00:00"] == pytest.approx(0.3)
    assert rates.loc["Sat", "03:00"] == pytest.approx(0.5)
    assert rates.loc["Wed", "13:00"] == pytest.approx(0.6)
    fig = fsch.week_heatmap(WEEK)
    assert fig.data[0].type == "heatmap" and fig.data[0].colorbar.title.text == "mL/day"
    assert fig.layout.xaxis.title.text == "hour of day (h)"
    # a periodic bolus of 0.025 mL over 30 min lands in its hour: 0.2 + 0.025 * 24 mL/day
    assert fsch.hourly_rates(ADMIX_PERIODIC).loc["Tue", "02:00"] == pytest.approx(0.2 + 0.025 * 24)


def test_settings_table_rows_and_total():
    t = fsch.settings_table(BACLOFEN_FLEX)
    assert list(t["start"]) == ["00:00", "07:00", "22:00", "total per day"]
    assert list(t["end"][:3]) == ["07:00", "22:00", "24:00"]
    assert t["volume in step (mL)"].iloc[1] == pytest.approx(0.45 * 15 / 24)
    assert t["baclofen (mcg/day)"].iloc[-1] == pytest.approx(787.5)
    w = fsch.settings_table(WEEK)
    assert "day" in w and (w["day"] == "Sat").sum() == 2
    p = fsch.settings_table(ADMIX_PERIODIC)
    assert p["volume in step (mL)"].iloc[-1] == pytest.approx(0.2 + 4 * 0.025)
    assert p["rate (mL/day)"].iloc[-1] == pytest.approx(0.3)  # mean rate = daily volume
    assert p["rate (mL/day)"].iloc[1] == pytest.approx(0.025 * 1440 / 30)  # while the bolus runs
    assert not t.isna().any().any()


def test_dose_history_marks_program_changes():
    s = samples_frame(days=4, rate=0.3)
    later = BACLOFEN_FLEX.model_copy(update={"drugs": [BACLOFEN_FLEX.drugs[0].model_copy(update={"concentration": 1000})]})
    progs = [(NOW - timedelta(days=10), BACLOFEN_FLEX), (NOW - timedelta(days=2), later)]
    daily = fsch.daily_doses(s, progs)
    assert list(daily["unit"].unique()) == ["mcg/day"]
    assert (daily["hours"] == 24).all() and len(daily) == 3  # partial first and last days left out
    assert daily["delivered_dose"].iloc[0] == pytest.approx(0.3 * 2000)
    assert daily["delivered_dose"].iloc[-1] == pytest.approx(0.3 * 1000)
    fig = fsch.dose_history_figure(s, progs)
    names = [t.name for t in fig.data]
    assert names == ["programmed dose", "delivered dose (incl. PTM)", "program change"]
    assert fig.layout.yaxis.title.text == "baclofen (mcg/day)"
    assert fig.layout.xaxis.title.text == "date (pump clock)"
    assert fig.data[2].text[0] == "0.394 mL/day to 0.394 mL/day (flex)<br>baclofen: 787.5 mcg/day to 393.8 mcg/day"


# -- reservoir ----------------------------------------------------------------

def test_projection_is_exact_at_breakpoints():
    case = case_for(BACLOFEN_FLEX)
    ev = evaluate(case)
    proj = fres.projection(case)
    assert proj["time"].iloc[0] == pd.Timestamp(NOW) and proj["programmed_ml"].iloc[0] == 18.5
    assert proj["time"].iloc[-1] == pd.Timestamp(ev.empty_at) and proj["programmed_ml"].iloc[-1] == pytest.approx(0, abs=1e-6)
    # breakpoints only (3 steps a day), not minute sampling
    days = (ev.empty_at - NOW).total_seconds() / 86400
    assert len(proj) < 3 * (days + 2) + 3
    # first breakpoint after 09:00 is 22:00 the same day: 13 h at 0.45 mL/day
    row = proj[proj["time"] == pd.Timestamp(2026, 11, 21, 22)].iloc[0]
    assert row["programmed_ml"] == pytest.approx(18.5 - 0.45 * 13 / 24)
    # worst case (3 PTM boluses of 0.01 mL a day) always at or below the programmed line
    assert (proj["worst_ml"] <= proj["programmed_ml"] + 1e-12).all()
    assert row["worst_ml"] == pytest.approx(18.5 - (0.45 + 0.03) * 13 / 24)


def test_reservoir_figure_traces_markers_and_units():
    case = case_for(BACLOFEN_FLEX)
    ev = evaluate(case)
    refills = pd.DataFrame({"date": [NOW - timedelta(days=5)], "expected_residual_ml": [3.0], "withdrawn_ml": [5.5],
                            "added_ml": [20.0], "discrepancy_ml": [2.5], "flagged": [True]})
    fig = fres.reservoir_figure(samples_frame(), case, ev, refills=refills)
    names = [t.name for t in fig.data]
    assert names[:4] == ["reservoir (telemetry)", "refill", "projection (programmed)", "worst case (all PTM boluses)"]
    assert {"refill by", "low-reservoir alarm", "empty", "next appointment", "now"} <= set(names)
    assert fig.layout.yaxis.title.text == "reservoir volume (mL)"
    assert fig.layout.xaxis.title.text == "date (pump clock)"
    assert fig.data[3].fill == "tonexty"
    alarm = next(t for t in fig.data if t.name == "low-reservoir alarm")
    assert alarm.y[0] == 2.0 and pd.Timestamp(alarm.x[0]) == pd.Timestamp(ev.low_reservoir_alarm_at)
    assert "mL" in fig.data[2].hovertemplate
    assert any(s.y0 == 2.0 for s in fig.layout.shapes)  # low-reservoir threshold line


def test_stopped_program_projects_flat_line():
    stopped = Program.model_validate({"drugs": [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"}],
                                      "mode": "stopped"})
    proj = fres.projection(case_for(stopped, reservoir_ml=10))
    assert (proj["programmed_ml"] == 10).all() and (proj["worst_ml"] == 10).all()
    assert proj["time"].iloc[-1] == pd.Timestamp(NOW + fres.STOPPED_HORIZON)


def test_refill_table_flags_by_pump_rule():
    r = pd.DataFrame({"date": [NOW, NOW], "expected_residual_ml": [3.0, 3.0], "withdrawn_ml": [4.0, 5.5],
                      "added_ml": [20.0, 20.0]})
    t = fres.refill_table(r, 2.0)
    assert list(t["flagged (> 2 mL)"]) == [False, True]
    assert list(t["discrepancy (mL)"]) == [1.0, 2.5]


# -- events -------------------------------------------------------------------

def test_timeline_colours_by_severity_and_filters():
    ev = events_frame()
    fig = fev.events_timeline(ev)
    by_name = {t.name: t for t in fig.data}
    assert by_name["critical"].marker.color == SEVERITY_COLOURS["critical"]
    assert by_name["non-critical"].marker.color == SEVERITY_COLOURS["non_critical"]
    assert list(by_name["critical"].y) == ["motor stall"]
    assert fig.layout.xaxis.title.text == "date (pump clock)"
    only = fev.events_timeline(ev, kinds=["refill"])
    assert [t.name for t in only.data] == ["info"] and list(only.data[0].y) == ["refill"]
    assert "5.5 mL withdrawn" in only.data[0].text[0]
    empty = fev.events_timeline(ev, kinds=[])
    assert len(empty.data) == 0 and empty.layout.annotations


def test_ptm_by_hour():
    table = fev.ptm_by_hour(events_frame())
    assert table.shape == (24, 3)
    assert table.loc[10, "granted"] == 1 and table.loc[11, "denied: lockout"] == 1
    assert table.loc[11, "denied: daily maximum"] == 1 and table.to_numpy().sum() == 3
    fig = fev.ptm_hour_figure(events_frame())
    assert [t.name for t in fig.data] == ["granted", "denied: lockout", "denied: daily maximum"]
    assert fig.layout.yaxis.title.text == "PTM requests (count)" and fig.layout.barmode == "stack"


# -- overview -----------------------------------------------------------------

def test_overview_items_carry_units_and_sources():
    case = case_for(BACLOFEN_FLEX)
    ev = evaluate(case)
    bat = clinician.battery_projection(samples_frame(), "programmable-40", events_frame(), datetime(2030, 1, 1))
    assert bat.eri_at == datetime(2030, 1, 1) - timedelta(days=90) and bat.now_pct == pytest.approx(79.9)
    groups = clinician.overview_items(case, ev, bat)
    items = {i.label: i for g in groups.values() for i in g}
    assert items["daily volume"].value == "0.394 mL/day"  # one rounding everywhere: 3 significant figures
    assert items["baclofen daily dose"].value == "787.5 mcg/day"
    assert "Lioresal" in items["baclofen daily dose"].help or "source" in items["baclofen daily dose"].help.lower()
    assert items["reservoir size"].value == "40 mL"
    assert items["low-reservoir alarm"].value == f"{ev.low_reservoir_alarm_at:%Y-%m-%d %H:%M}"
    assert items["low-reservoir alarm"].note.startswith("in ") and items["low-reservoir alarm"].note.endswith(" days")
    assert "2 mL" in items["low-reservoir alarm"].help
    assert items["days of margin"].value.endswith("days")
    assert items["battery now"].value == "79.9 %"  # 3 significant figures for percentages


def test_active_alarms_since_last_refill():
    ev = events_frame()
    a = clinician.active_alarms(ev, NOW)
    assert list(a["kind"]) == ["alarm_motor_stall", "alarm_low_reservoir"]
    assert clinician.active_alarms(ev.iloc[:0], NOW).empty


def test_thin_line_stays_within_tolerance():
    rng = np.random.default_rng(1)
    x = np.arange(5000, dtype=float)
    y = 40 - np.cumsum(rng.uniform(0.01, 0.03, len(x)))
    y[2500:] += 30  # a refill
    keep = fres.thin_line(x, y, 0.01)
    assert keep[0] == 0 and keep[-1] == len(x) - 1 and len(keep) < len(x) / 3
    assert np.max(np.abs(np.interp(x, x[keep], y[keep]) - y)) <= 0.01 + 1e-9
    assert 2499 in keep and 2500 in keep


# -- regressions (code review) ------------------------------------------------------

TRUE_NAME = "simulated true volume (not visible to a real clinician)"


def test_reservoir_figure_draws_the_pumps_estimate_and_the_true_volume_only_where_they_differ():
    case = case_for(BACLOFEN_FLEX)
    ev = evaluate(case)
    s = samples_frame()
    s["reservoir_estimate_ml"] = s["reservoir_ml"]
    s.loc[120:, "reservoir_estimate_ml"] += np.linspace(0, 1.0, len(s) - 120)  # pump over-estimates, growing
    fig = fres.reservoir_figure(s, case, ev)
    main = fig.data[0]
    assert main.name == "reservoir (telemetry)" and "estimate" in main.hovertemplate
    est = s.set_index("timestamp")["reservoir_estimate_ml"]
    np.testing.assert_array_equal(np.asarray(main.y, float), est.reindex(pd.to_datetime(list(main.x))).to_numpy())
    true = next(t for t in fig.data if t.name == TRUE_NAME)
    assert true.line.dash == "dot" and true.line.width <= 1.5 and "mL" in true.hovertemplate
    shown = pd.Series(np.asarray(true.y, float), index=pd.to_datetime(list(true.x)))
    diff = (s["reservoir_estimate_ml"] - s["reservoir_ml"]).abs().set_axis(s["timestamp"])
    drawn = shown.dropna()
    assert len(drawn) and (diff.reindex(drawn.index) > 0.05).all()  # drawn only where they differ
    assert drawn.index.min() >= s["timestamp"][120]
    assert len(drawn) < len(s) / 4  # thinned like the main line
    # no difference: no extra line
    s["reservoir_estimate_ml"] = s["reservoir_ml"] + 0.04
    assert TRUE_NAME not in [t.name for t in fres.reservoir_figure(s, case, ev).data]


def test_overview_reservoir_now_help_says_it_is_the_pumps_estimate():
    case = case_for(BACLOFEN_FLEX)
    ev = evaluate(case)
    bat = clinician.battery_projection(samples_frame(), "programmable-40", events_frame(), datetime(2030, 1, 1))
    items = {i.label: i for g in clinician.overview_items(case, ev, bat).values() for i in g}
    help_ = items["reservoir now"].help
    assert "pump's own estimate" in help_ and "pocket fill" in help_
