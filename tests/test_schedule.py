"""Exact delivery math: hand-computed expectations and property tests."""
import math
from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpmodel import Program
from pumpmodel.schedule import DAY_S, HORIZON_DAYS, RateProfile, from_seconds, profile_for, to_seconds, worst_case_profile
from helpers import drug

T0 = to_seconds(datetime(2026, 11, 21, 9, 0))  # a Saturday


def flex(*steps):
    return Program.model_validate({"drugs": [drug()], "mode": "flex",
                                   "steps": [{"start": s, "rate_ml_per_day": r} for s, r in steps]})


def test_flex_daily_volume_hand_computed():
    # (7 h x 0.30 + 15 h x 0.45 + 2 h x 0.30) / 24 h = 9.45 / 24 = 0.39375 mL/day
    p = profile_for(flex(("00:00", 0.30), ("07:00", 0.45), ("22:00", 0.30)))
    assert math.isclose(p.daily_volume_ml, 0.39375, abs_tol=1e-12)


def test_volume_across_midnight():
    # 20:00 -> 04:00 next day: 2 h at 0.45 (to 22:00), 6 h at 0.30 = (0.9 + 1.8) / 24 = 0.1125 mL
    p = profile_for(flex(("00:00", 0.30), ("07:00", 0.45), ("22:00", 0.30)))
    t0 = to_seconds(datetime(2026, 11, 21, 20))
    t1 = to_seconds(datetime(2026, 11, 22, 4))
    assert math.isclose(float(p.volume_between(t0, t1)), 0.1125, abs_tol=1e-12)


def test_time_to_deliver_hand_computed():
    p = profile_for(flex(("00:00", 0.30), ("07:00", 0.45), ("22:00", 0.30)))
    # from 09:00: 13 h at 0.45 = 0.24375 mL by 22:00; 0.0125 mL more at 0.30 mL/day = 1 h -> 23:00
    t = p.time_to_deliver(T0, 0.25625)
    assert from_seconds(t) == datetime(2026, 11, 21, 23, 0)


def test_periodic_bolus_wraps_midnight():
    prog = Program.model_validate({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1,
                                   "boluses": [{"first_at": "23:30", "every_hours": 24, "volume_ml": 0.05,
                                                "duration_min": 60}]})
    p = profile_for(prog)
    assert math.isclose(p.daily_volume_ml, 0.15, abs_tol=1e-12)
    # the half-hour after midnight carries half the bolus: 0.025 + 0.1 / 48
    t_mid = to_seconds(datetime(2026, 11, 22, 0, 0))
    assert math.isclose(float(p.volume_between(t_mid, t_mid + 1800)), 0.025 + 0.1 / 48, abs_tol=1e-12)


def test_periodic_bolus_every_6_hours():
    prog = Program.model_validate({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.2,
                                   "boluses": [{"first_at": "02:00", "every_hours": 6, "volume_ml": 0.01,
                                                "duration_min": 10}]})
    assert math.isclose(profile_for(prog).daily_volume_ml, 0.2 + 4 * 0.01, abs_tol=1e-12)


def test_weekday_schedule_uses_the_pump_clock_weekday():
    week = {d: [{"start": "00:00", "rate_ml_per_day": 0.2}] for d in ("mon", "tue", "wed", "thu", "fri")}
    week |= {d: [{"start": "00:00", "rate_ml_per_day": 0.4}] for d in ("sat", "sun")}
    p = profile_for(Program.model_validate({"drugs": [drug()], "mode": "flex", "week": week}))
    assert math.isclose(p.daily_volume_ml, (5 * 0.2 + 2 * 0.4) / 7, abs_tol=1e-12)
    sat = to_seconds(datetime(2026, 11, 21))  # Saturday
    mon = to_seconds(datetime(2026, 11, 23))
    assert math.isclose(float(p.volume_between(sat, sat + DAY_S)), 0.4, abs_tol=1e-12)
    assert math.isclose(float(p.volume_between(mon, mon + DAY_S)), 0.2, abs_tol=1e-12)


def test_stopped_never_reaches_a_volume():
    p = profile_for(Program.model_validate({"drugs": [drug()], "mode": "stopped"}))
    assert p.daily_volume_ml == 0 and p.time_to_deliver(T0, 1.0) is None


def test_worst_case_adds_ptm_spread_over_the_day():
    prog = Program.model_validate({"drugs": [drug()], "mode": "simple_continuous", "rate_ml_per_day": 0.5,
                                   "ptm": {"bolus_volume_ml": 0.05, "lockout_min": 240, "max_per_day": 4}})
    assert math.isclose(worst_case_profile(prog).daily_volume_ml, 0.7, abs_tol=1e-12)


# --- properties -----------------------------------------------------------

minutes = st.integers(min_value=1, max_value=1439)


@st.composite
def flex_programs(draw):
    starts = sorted(set(draw(st.lists(minutes, min_size=0, max_size=9))))
    rates = draw(st.lists(st.floats(0, 24, allow_nan=False), min_size=len(starts) + 1, max_size=len(starts) + 1))
    steps = [{"start": f"{m // 60:02d}:{m % 60:02d}", "rate_ml_per_day": r} for m, r in zip([0] + starts, rates)]
    return Program.model_validate({"drugs": [drug()], "mode": "flex", "steps": steps})


@st.composite
def bolus_programs(draw):
    boluses = [{"first_at": f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
                "every_hours": draw(st.sampled_from([2, 3, 4, 6, 8, 12, 24])),
                "volume_ml": draw(st.floats(0, 1, allow_nan=False)),
                "duration_min": draw(st.integers(1, 180))} for _ in range(draw(st.integers(1, 3)))]
    return Program.model_validate({"drugs": [drug()], "mode": "periodic_bolus",
                                   "rate_ml_per_day": draw(st.floats(0, 5, allow_nan=False)), "boluses": boluses})


programs = st.one_of(flex_programs(), bolus_programs())


@settings(max_examples=40, deadline=None)
@given(programs, st.integers(0, 3 * DAY_S), st.integers(1, 2 * DAY_S))
def test_exact_integration_equals_fine_numeric_integration(prog, offset_s, span_s):
    """Per-second Riemann sum (exact on this grid: every breakpoint is on a whole second)."""
    p = profile_for(prog)
    t0 = T0 + offset_s
    grid = t0 + np.arange(span_s, dtype=float)
    numeric = math.fsum(p.rate_at(grid) / DAY_S)
    assert abs(float(p.volume_between(t0, t0 + span_s)) - numeric) <= 1e-9


@settings(max_examples=60, deadline=None)
@given(programs, st.integers(0, 7 * DAY_S), st.floats(0.001, 40, allow_nan=False))
def test_time_to_deliver_inverts_volume_between(prog, offset_s, volume):
    p = profile_for(prog)
    t0 = T0 + offset_s
    t = p.time_to_deliver(t0, volume)
    if t is None:  # never, or beyond the 100-year horizon
        assert p.daily_volume_ml * HORIZON_DAYS <= volume * (1 + 1e-9)
        return
    assert abs(float(p.volume_between(t0, t)) - volume) <= 1e-9 * max(1, volume)
    # earliest: a second earlier not yet delivered (unless rate is zero there)
    assert float(p.volume_between(t0, t - 1)) <= volume + 1e-9


@settings(max_examples=40, deadline=None)
@given(flex_programs(), st.floats(0.0, 5, allow_nan=False), st.floats(0.1, 30, allow_nan=False))
def test_more_rate_never_makes_the_alarm_later(prog, extra, volume):
    p = profile_for(prog)
    more = p.plus_constant(extra)
    a, b = p.time_to_deliver(T0, volume), more.time_to_deliver(T0, volume)
    if a is not None:
        assert b <= a + 1e-6


@settings(max_examples=40, deadline=None)
@given(programs, st.floats(0, 40, allow_nan=False), st.integers(1, 400 * 24))
def test_delivered_plus_remaining_equals_filled(prog, filled, hours):
    """Conservation over an hourly series: what left + what remains = what was filled."""
    p = profile_for(prog)
    edges = T0 + 3600.0 * np.arange(hours + 1)
    per_hour = p.volume_between(edges[:-1], edges[1:])
    delivered = np.minimum(np.cumsum(per_hour), filled)
    remaining = filled - delivered
    assert np.all(np.abs(delivered + remaining - filled) <= 1e-9)
    assert abs(float(np.sum(per_hour)) - float(p.volume_between(edges[0], edges[-1]))) <= 1e-9 * max(1, filled)


def test_from_pieces_merges_overlaps():
    p = RateProfile.from_pieces(DAY_S, [(0, DAY_S, 1.0), (3600, 7200, 2.0), (5400, 9000, 1.0)])
    assert list(p.starts_s) == [0, 3600, 5400, 7200, 9000]
    assert list(p.rates_ml_per_day) == [1, 3, 4, 2, 1]
