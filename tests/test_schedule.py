"""Exact delivery math: hand-computed expectations and property tests."""
import math
from datetime import datetime, timedelta

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pumpmodel import Program
from pumpmodel.schedule import (DAY_S, HORIZON_DAYS, RateProfile, calendar_day_volumes, from_seconds, profile_for,
                                to_seconds, worst_case_profile)
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


def test_time_to_deliver_is_the_end_of_the_delivering_step_not_the_next_one():
    # 1.2 mL/day 00:00-06:00 (0.3 mL), nothing 06:00-18:00, 1.2 mL/day 18:00-24:00.
    # From midnight 0.3 mL is reached at 06:00 (not 18:00, when delivery resumes);
    # 0.35 mL at 19:00 (0.05 mL at 1.2 mL/day = 1 h after 18:00).
    p = profile_for(flex(("00:00", 1.2), ("06:00", 0.0), ("18:00", 1.2)))
    mid = to_seconds(datetime(2026, 11, 21))
    assert from_seconds(p.time_to_deliver(mid, 0.3)) == datetime(2026, 11, 21, 6, 0)
    assert from_seconds(p.time_to_deliver(mid, 0.35)) == datetime(2026, 11, 21, 19, 0)
    # from inside the gap: nothing until 18:00, then 0.6 mL/day... 0.3 mL at 24:00
    assert from_seconds(p.time_to_deliver(mid + 7 * 3600, 0.3)) == datetime(2026, 11, 22, 0, 0)
    # 0.9 mL: 0.6 mL a day, then 0.3 mL more by 06:00 on the second day (not 18:00);
    # 1.2 mL (two whole days): midnight after the second day
    assert from_seconds(p.time_to_deliver(mid, 0.9)) == datetime(2026, 11, 22, 6, 0)
    assert from_seconds(p.time_to_deliver(mid, 1.2)) == datetime(2026, 11, 23, 0, 0)


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


# a different rate every day (mL/day) and a different step time on Wednesday: a schedule
# shifted by one day, or with two days swapped, gives different numbers on every date
ASYMMETRIC = {"mon": 0.1, "tue": 0.2, "wed": 0.3, "thu": 0.4, "fri": 0.5, "sat": 0.6, "sun": 0.7}


def asymmetric_week():
    week = {d: [{"start": "00:00", "rate_ml_per_day": r}] for d, r in ASYMMETRIC.items()}
    week["wed"] = [{"start": "00:00", "rate_ml_per_day": 0.3}, {"start": "12:00", "rate_ml_per_day": 0.9}]
    return Program.model_validate({"drugs": [drug()], "mode": "flex", "week": week})


def test_each_calendar_date_gets_its_own_weekday():
    """2026-11-23 is a Monday (calendar fact, not product code): every date of two weeks
    gets the rate of its weekday, Wednesday 12 h x 0.3 + 12 h x 0.9 = 0.6 mL."""
    p = profile_for(asymmetric_week())
    expected = dict(ASYMMETRIC, wed=0.6)
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for i in range(14):
        day = datetime(2026, 11, 23) + timedelta(days=i)
        t = to_seconds(day)
        assert math.isclose(float(p.volume_between(t, t + DAY_S)), expected[names[i % 7]], abs_tol=1e-12), day
    # (0.1 + 0.2 + 0.6 + 0.4 + 0.5 + 0.6 + 0.7) / 7 = 3.1 / 7
    assert math.isclose(p.daily_volume_ml, 3.1 / 7, abs_tol=1e-12)


def test_weekday_moment_hand_computed():
    """From Tuesday 2026-11-24 12:00: 12 h of Tuesday at 0.2 = 0.1 mL, Wednesday 12 h at 0.3 = 0.15 mL
    (0.25 mL by Wed 12:00), then 0.9 mL/day: 0.05 mL more takes 0.05 / 0.9 day = 80 min -> Wed 13:20."""
    p = profile_for(asymmetric_week())
    t = p.time_to_deliver(to_seconds(datetime(2026, 11, 24, 12)), 0.30)
    assert from_seconds(t) == datetime(2026, 11, 25, 13, 20)


def test_stopped_never_reaches_a_volume():
    p = profile_for(Program.model_validate({"drugs": [drug()], "mode": "stopped"}))
    assert p.daily_volume_ml == 0 and p.time_to_deliver(T0, 1.0) is None


def test_worst_case_adds_ptm_spread_over_the_day():
    prog = Program.model_validate({"drugs": [drug()], "mode": "simple_continuous", "rate_ml_per_day": 0.5,
                                   "ptm": {"bolus_volume_ml": 0.05, "lockout_min": 240, "max_per_day": 4}})
    assert math.isclose(worst_case_profile(prog).daily_volume_ml, 0.7, abs_tol=1e-12)


class _Hung(Exception):
    pass


def _within_seconds(limit_s, fn, *args):
    """``fn(*args)``, failing the test (instead of hanging the suite) if it runs past ``limit_s``.
    SIGALRM interrupts a pure-Python loop between bytecodes (pytest runs tests in the main thread)."""
    import signal

    def alarm(*_):
        raise _Hung

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        return fn(*args)
    except _Hung:
        raise AssertionError(f"{fn.__qualname__}{args[1:]} still running after {limit_s} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_time_to_deliver_ends_when_the_period_volume_is_below_the_float_spacing():
    """Regression (fixed in 34fd8d0): a period volume below the float spacing of the target
    (1e-300 mL a day against 1 mL) made `rest += total` a no-op and the period-correction loop
    endless. 1 mL at 1e-300 mL/day takes 1e300 days: beyond the 100-year horizon -> None."""
    tiny_day = RateProfile.constant(1e-300)
    assert _within_seconds(5, tiny_day.time_to_deliver, T0, 1.0) is None
    # the same on a weekday schedule (period one week): 1e-300 mL/day on Mondays only
    tiny_week = RateProfile.from_pieces(7 * DAY_S, [(0.0, DAY_S, 1e-300)])
    assert _within_seconds(5, tiny_week.time_to_deliver, T0, 0.5) is None


def test_time_to_deliver_at_and_beyond_the_horizon():
    """The early `None` for tiny period volumes must not cut off a moment inside the horizon.
    At 1 mL/day from midnight, 36525 mL take exactly 36525 days = the horizon (still reported,
    at midnight 36525 days on); 36524.5 mL take 36524.5 days (at noon); 36525.5 mL: None."""
    start = to_seconds(datetime(2026, 11, 21))
    one = RateProfile.constant(1.0)
    assert one.time_to_deliver(start, 36525.0) == start + 36525 * DAY_S
    assert one.time_to_deliver(start, 36524.5) == start + 36524.5 * DAY_S
    assert one.time_to_deliver(start, 36525.5) is None
    # the same with the volume spread over a weekday schedule (7 mL on Mondays, start on a Monday)
    week = RateProfile.from_pieces(7 * DAY_S, [(0.0, DAY_S, 7.0)])
    monday = to_seconds(datetime(2026, 11, 23))
    # 36519 days = 5217 weeks deliver 36519 mL; 6 mL more by 6/7 of the next Monday
    t = week.time_to_deliver(monday, 36525.0)
    assert abs(t - (monday + (36519 + 6 / 7) * DAY_S)) < 1e-3



def test_to_seconds_counts_microseconds():
    # EPOCH + 1 day 2 s 500 ms = 86,400 + 2 + 0.5 s (a datetime's microseconds add, in seconds)
    assert to_seconds(datetime(2001, 1, 2, 0, 0, 2, 500_000)) == 86_402.5
    assert to_seconds(datetime(2001, 1, 1, 0, 0, 0, 250_000)) == 0.25


def test_calendar_day_volumes_one_entry_per_day_of_the_period():
    # a daily schedule: one day starting at EPOCH, 0.39375 mL (7 h x 0.30 + 15 h x 0.45 + 2 h x 0.30)
    starts, vols = calendar_day_volumes(profile_for(flex(("00:00", 0.30), ("07:00", 0.45), ("22:00", 0.30))))
    assert list(starts) == [0.0] and len(vols) == 1 and math.isclose(vols[0], 0.39375, abs_tol=1e-12)
    # a weekday schedule: seven days, Monday first (EPOCH is a Monday), each at its midnight
    starts, vols = calendar_day_volumes(profile_for(asymmetric_week()))
    assert list(starts) == [i * 86_400.0 for i in range(7)]
    expected = [0.1, 0.2, 0.6, 0.4, 0.5, 0.6, 0.7]  # Wednesday 12 h x 0.3 + 12 h x 0.9 = 0.6 mL
    assert all(math.isclose(v, e, abs_tol=1e-12) for v, e in zip(vols, expected, strict=True))


def test_breakpoints_between_hand_computed():
    # steps at 00:00, 07:00, 22:00; from Saturday 09:00 to Monday 07:00 (both ends excluded)
    p = profile_for(flex(("00:00", 0.30), ("07:00", 0.45), ("22:00", 0.30)))
    sat = datetime(2026, 11, 21)
    expected = [sat + timedelta(hours=h) for h in (22, 24, 31, 46, 48)]  # Sat 22:00, Sun 00/07/22, Mon 00
    got = p.breakpoints_between(T0, to_seconds(sat + timedelta(hours=55)))
    assert [from_seconds(t) for t in got] == expected
    # starting exactly on a breakpoint (Sat 22:00) leaves it out; ending on one (Mon 00:00) too
    got = p.breakpoints_between(to_seconds(sat + timedelta(hours=22)), to_seconds(sat + timedelta(hours=48)))
    assert [from_seconds(t) for t in got] == [sat + timedelta(hours=h) for h in (24, 31, 46)]
    # before EPOCH (the sandbox asks from -1 s): the period starts at 0 s and 07:00, 22:00
    assert list(p.breakpoints_between(-1.0, float(DAY_S))) == [0.0, 7 * 3600.0, 22 * 3600.0]


def test_empty_pieces_are_a_stopped_profile():
    p = RateProfile.from_pieces(DAY_S, [])
    assert p.period_s == DAY_S and list(p.starts_s) == [0.0] and list(p.rates_ml_per_day) == [0.0]
    assert p.period_volume_ml == 0.0 and p.time_to_deliver(T0, 0.1) is None


def test_from_pieces_ignores_reversed_and_empty_pieces():
    # a piece ending before it starts delivers nothing (it must not subtract 5 mL/day from 01:00 to 02:00)
    p = RateProfile.from_pieces(DAY_S, [(0.0, DAY_S, 1.0), (7200.0, 3600.0, 5.0), (3600.0, 3600.0, 2.0)])
    assert list(p.starts_s) == [0.0] and list(p.rates_ml_per_day) == [1.0]
    assert p.period_volume_ml == 1.0


def test_overlap_cancelling_to_float_noise_is_exactly_zero():
    """0.1 mL/day 00:00-12:00 plus 0.2 mL/day 06:00-18:00: rates 0.1, 0.3, 0.2, then 0 from 18:00.
    The cumulative sum 0.1 + 0.2 - 0.1 - 0.2 leaves 5.6e-17 in float; the pump delivers nothing."""
    p = RateProfile.from_pieces(DAY_S, [(0.0, 12 * 3600.0, 0.1), (6 * 3600.0, 18 * 3600.0, 0.2)])
    assert float(p.rate_at(20 * 3600.0)) == 0.0
    assert list(p.starts_s) == [0.0, 6 * 3600.0, 12 * 3600.0, 18 * 3600.0]


def bolus_program(boluses, rate=0.1, ptm=None):
    return Program.model_validate({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": rate,
                                   "boluses": boluses, "ptm": ptm})


def test_zero_volume_bolus_does_not_hide_the_next_one():
    # a 0 mL bolus listed first; the 0.05 mL one after it still counts: 0.1 + 0.05 = 0.15 mL/day
    prog = bolus_program([{"first_at": "06:00", "every_hours": 24, "volume_ml": 0.0, "duration_min": 10},
                          {"first_at": "18:00", "every_hours": 24, "volume_ml": 0.05, "duration_min": 10}])
    assert math.isclose(profile_for(prog).daily_volume_ml, 0.15, abs_tol=1e-12)


def test_unanchored_bolus_grid_starts_on_the_minute():
    # without an anchor the grid is EPOCH + first_at: the 06:00 bolus starts at 06:00:00 exactly
    # (0.05 mL over 10 min = 7.2 mL/day on top of 0.1), and 06:00 - 1 s is still background
    prog = bolus_program([{"first_at": "06:00", "every_hours": 24, "volume_ml": 0.05, "duration_min": 10}])
    p = profile_for(prog)
    assert math.isclose(float(p.rate_at(6 * 3600.0)), 7.3, abs_tol=1e-9)
    assert math.isclose(float(p.rate_at(6 * 3600.0 - 1)), 0.1, abs_tol=1e-12)


def test_worst_case_keeps_the_anchor_and_stops_with_the_pump():
    """Every 5 h from 00:00 repeats every lcm(24 h, 5 h) = 120 h: the grid depends on the anchor day.
    2026-11-21 is 9,455 days after EPOCH (9,455 mod 5 = 0 -> 00:00 that day is on an EPOCH-anchored
    grid too); anchored on 2026-11-22 (9,456 days: 24 h mod 5 h = 4 h off) a bolus starts at 00:00."""
    prog = bolus_program([{"first_at": "00:00", "every_hours": 5, "volume_ml": 0.05, "duration_min": 10}],
                         ptm={"bolus_volume_ml": 0.01, "lockout_min": 60, "max_per_day": 2})
    anchor = datetime(2026, 11, 22, 9, 30)
    midnight = to_seconds(datetime(2026, 11, 22))
    # 0.1 background + 7.2 bolus (0.05 mL / 10 min) + 0.02 PTM spread = 7.32 mL/day at 00:00 on the anchor day
    assert math.isclose(float(worst_case_profile(prog, anchor).rate_at(midnight)), 7.32, abs_tol=1e-9)
    stopped = Program.model_validate({"drugs": [drug()], "mode": "stopped",
                                      "ptm": {"bolus_volume_ml": 0.01, "lockout_min": 60, "max_per_day": 2}})
    assert worst_case_profile(stopped).daily_volume_ml == 0.0  # a stopped pump gives no PTM bolus either


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


def earliest_second(p, t0, volume, tol):
    """Brute force: the first whole second s >= t0 with volume_between(t0, s) >= volume - tol,
    by doubling then bisection (volume delivered never decreases with time)."""
    hi = 1
    while float(p.volume_between(t0, t0 + hi)) < volume - tol:
        hi *= 2
    lo = 0  # not reached at t0 + lo (volume > 0), reached at t0 + hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(p.volume_between(t0, t0 + mid)) >= volume - tol:
            hi = mid
        else:
            lo = mid
    return t0 + hi


rounded_rates = st.one_of(st.just(0.0), st.floats(0.001, 24, allow_nan=False).map(lambda r: round(r, 3)))


@st.composite
def rounded_flex(draw):
    starts = sorted(set(draw(st.lists(minutes, min_size=0, max_size=6))))
    rates = draw(st.lists(rounded_rates, min_size=len(starts) + 1, max_size=len(starts) + 1))
    if not any(rates):
        rates[0] = 0.5
    steps = [{"start": f"{m // 60:02d}:{m % 60:02d}", "rate_ml_per_day": r} for m, r in zip([0] + starts, rates)]
    return Program.model_validate({"drugs": [drug()], "mode": "flex", "steps": steps})


@settings(max_examples=60, deadline=None)
@given(rounded_flex(), st.integers(0, 7 * DAY_S), st.floats(0.001, 10, allow_nan=False))
@example(flex(("00:00", 0.031), ("00:01", 0.0)), 0, 1.0)  # found by hypothesis: beyond the horizon
def test_time_to_deliver_is_the_earliest_moment(prog, offset_s, volume):
    """Earliest, checked by brute force over whole seconds: the reported moment is within the
    whole second the volume is first reached (a second earlier it was not yet delivered);
    rates are 0 or >= 0.001 mL/day, so one second delivers > 1e-8 mL, far above the tolerance."""
    p = profile_for(prog)
    t0 = T0 + offset_s
    t = p.time_to_deliver(t0, volume)
    tol = 1e-11 * max(1.0, volume)
    if t is None:  # e.g. 0.031 mL/day for one minute a day: 1 mL takes 46,452 days, past the horizon
        assert float(p.volume_between(t0, t0 + HORIZON_DAYS * DAY_S)) < volume - tol
        return
    s = earliest_second(p, t0, volume, tol)
    assert s - 1 - 1e-6 <= t <= s + 1e-6
    assert float(p.volume_between(t0, s - 1)) < volume - tol  # one second earlier: not yet


@settings(max_examples=40, deadline=None)
@given(flex_programs(), st.floats(0.0, 5, allow_nan=False), st.floats(0.1, 30, allow_nan=False))
def test_more_rate_never_makes_the_alarm_later(prog, extra, volume):
    p = profile_for(prog)
    more = p.plus_constant(extra)
    a, b = p.time_to_deliver(T0, volume), more.time_to_deliver(T0, volume)
    if a is not None:
        assert b <= a + 1e-6


@settings(max_examples=40, deadline=None)
@given(programs, st.floats(0.01, 40, allow_nan=False), st.integers(1, 400 * 24))
def test_hourly_series_empties_when_the_exact_moment_says(prog, filled, hours):
    """An hourly reservoir series (what the simulator writes) computed from per-hour volumes
    must run out in the same hour as the exact moment: an independent route (sums of hourly
    volumes) to the same answer; and the hourly volumes add up to the whole span."""
    p = profile_for(prog)
    edges = T0 + 3600.0 * np.arange(hours + 1)
    per_hour = p.volume_between(edges[:-1], edges[1:])
    assert np.all(per_hour >= -1e-12)
    assert abs(float(np.sum(per_hour)) - float(p.volume_between(edges[0], edges[-1]))) <= 1e-9 * max(1, filled)
    remaining = filled - np.cumsum(per_hour)  # after each hour
    tol = 1e-9 * max(1.0, filled)
    empty = p.time_to_deliver(T0, filled)
    emptied = np.nonzero(remaining <= tol)[0]
    if empty is None or empty > edges[-1] + 1e-6:
        assert remaining[-1] > -tol  # not run out within the series
        return
    first = int(emptied[0])  # the hour (edges[first], edges[first + 1]] in which it ran out
    assert edges[first] - 1e-6 <= empty <= edges[first + 1] + 1e-6


def test_from_pieces_merges_overlaps():
    p = RateProfile.from_pieces(DAY_S, [(0, DAY_S, 1.0), (3600, 7200, 2.0), (5400, 9000, 1.0)])
    assert list(p.starts_s) == [0, 3600, 5400, 7200, 9000]
    assert list(p.rates_ml_per_day) == [1, 3, 4, 2, 1]
