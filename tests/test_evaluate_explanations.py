"""evaluate(): the explanation behind each figure (the formula a trainee reads next to the number),
written out by hand, and the figures that only some cases have (current program, bridge bolus
without delivery, stability of an admixture, a bolus grid anchored at `now`)."""
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pumpmodel import Case, evaluate
from helpers import case, drug, run, simple

ROOT = Path(__file__).resolve().parents[1]
LRA_SOURCE = "Medtronic HCP pages: low-reservoir alarm recommended at 2 mL"  # pumps.yaml default


def formulas(ev):
    return {e.figure: e.formula for e in ev.explanations}


def test_spec_example_explanations_word_for_word():
    ev = evaluate(Case.model_validate(json.loads((ROOT / "examples/spec_example.json").read_text())))
    # moments as in test_evaluate.test_spec_example_every_figure (hand-computed there), shown to the minute
    assert formulas(ev) == {
        "daily_volume_ml": "(7 h x 0.3 + 15 h x 0.45 + 2 h x 0.3) / 24 h = 0.39375 mL/day",
        # PTM: 0.01 mL, at most 3 a day, lockout 120 min allows 12: min(3, 12) = 3 -> + 0.03 mL/day
        "max_daily_volume_ml": "0.39375 mL/day + 3 PTM boluses x 0.01 mL = 0.42375 mL/day (allowed boluses: "
                               "min(max 3/day, 24 h / lockout 120 min))",
        "daily_dose.baclofen": "0.39375 mL/day x 2000 mcg/mL = 787.5 mcg/day; recommended max 1000, "
                               "hard max 2000 mcg/day",
        "low_reservoir_alarm_at": "18.5 mL - 2 mL alarm = 16.5 mL delivered by the programmed schedule from "
                                  "2026-11-21 09:00 reaches the alarm on 2027-01-02 07:00",
        "low_reservoir_alarm_at_worst_case": "same 16.5 mL at 0.42375 mL/day with every PTM bolus: 2026-12-30 07:41",
        "empty_at": "18.5 mL delivered by the programmed schedule: 2027-01-07 08:40",
        "refill_by": "earliest of the worst-case alarm 2026-12-30 07:41: 2026-12-30 07:41",
    }
    src = {e.figure: e.source for e in ev.explanations}
    assert src["low_reservoir_alarm_at"] == src["low_reservoir_alarm_at_worst_case"] == LRA_SOURCE
    assert src["daily_dose.baclofen"].startswith("Lioresal Intrathecal / Gablofen labels")


def test_converted_unit_and_reservoir_already_below_the_alarm():
    """Morphine written as 10000 mcg/mL is 10 mg/mL: 0.5 mL/day x 10 = 5 mg/day (library: 15 / 40 mg/day).
    1.5 mL in the reservoir, alarm at 2 mL: 0 mL to deliver, alarm now; empty after 1.5 / 0.5 = 3 days."""
    ev = run(case(simple(0.5, drug("morphine", 10000, "mcg/mL")), reservoir=1.5))
    assert formulas(ev) == {
        "daily_volume_ml": "0.5 mL/day all day = 0.5 mL/day",
        "daily_dose.morphine": "0.5 mL/day x 10 mg/mL = 5 mg/day (10000 mcg/mL = 10 mg/mL); recommended max 15, "
                               "hard max 40 mg/day",
        "low_reservoir_alarm_at": "1.5 mL - 2 mL alarm = 0 mL delivered by the programmed schedule from "
                                  "2026-11-21 09:00 reaches the alarm on 2026-11-21 09:00",
        "low_reservoir_alarm_at_worst_case": "same 0 mL at 0.5 mL/day with every PTM bolus: 2026-11-21 09:00",
        "empty_at": "1.5 mL delivered by the programmed schedule: 2026-11-24 09:00",
        "refill_by": "earliest of the worst-case alarm 2026-11-21 09:00: 2026-11-21 09:00",
    }


def test_stopped_pump_with_ptm_explains_no_ptm_volume():
    prog = {"drugs": [drug()], "mode": "stopped", "ptm": {"bolus_volume_ml": 0.1, "lockout_min": 60, "max_per_day": 4}}
    f = formulas(run(case(prog)))
    assert "max_daily_volume_ml" not in f  # a stopped pump gives no PTM bolus
    assert f["daily_volume_ml"] == "stopped: 0 mL/day"
    assert f["daily_dose.morphine"] == "0 mL/day x 10 mg/mL = 0 mg/day; recommended max 15, hard max 40 mg/day"
    assert f["low_reservoir_alarm_at_worst_case"] == "same 16 mL at 0 mL/day with every PTM bolus: never"
    assert f["refill_by"] == "earliest of the worst-case alarm never: never"


def bolus_prog(rate, first, every, volume, duration=10):
    return {"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": rate,
            "boluses": [{"first_at": first, "every_hours": every, "volume_ml": volume, "duration_min": duration}]}


@pytest.mark.parametrize("prog, text", [
    # 24 h / 6 h = 4 boluses a day: 0.2 + 4 x 0.01 = 0.24
    (bolus_prog(0.2, "02:00", 6, 0.01),
     "0.2 mL/day background + 4 x 0.01 mL bolus a day (every 6 h from 02:00 on 2026-11-21, across midnight) "
     "= 0.24 mL/day"),
    # every 5 h repeats after lcm(24, 5) = 120 h = 5 days: 24 boluses, 24 x 0.05 = 1.2 mL / 5 = 0.24 + 0.1
    (bolus_prog(0.1, "00:00", 5, 0.05),
     "0.1 mL/day background + 24 x 0.05 mL bolus in 5 days (every 5 h from 00:00 on 2026-11-21, across midnight)"
     " / 5 = 0.34 mL/day (the pattern repeats every lcm(24 h, intervals) = 5 days)"),
    # 7 h 20 min (7.333 h, 4 figures) at 0.3 and 16 h 40 min at 0.6: (2.2 + 10) / 24 = 0.508333 mL/day
    ({"drugs": [drug()], "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": 0.3},
                                                   {"start": "07:20", "rate_ml_per_day": 0.6}]},
     "(7.333 h x 0.3 + 16.67 h x 0.6) / 24 h = 0.508333 mL/day"),
    # Monday 0.7, other days 0.35: (0.7 + 6 x 0.35) / 7 = 2.8 / 7 = 0.4
    ({"drugs": [drug()], "mode": "flex",
      "week": {d: [{"start": "00:00", "rate_ml_per_day": 0.7 if d == "mon" else 0.35}]
               for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
     "mean of the 7 weekday schedules = 0.4 mL/day"),
])
def test_daily_volume_formula_per_mode(prog, text):
    assert formulas(run(case(prog)))["daily_volume_ml"] == text


ZICO = drug("ziconotide", 25, "mcg/mL")  # the undiluted concentration: 84 days after a refill


@pytest.mark.parametrize("rate, refill_by", [
    (0.5, "2026-12-23 09:00"),   # 18 - 2 = 16 mL at 0.5 mL/day = 32 days: before the stability end
    (0.1, "2027-02-13 09:00"),   # 160 days to the alarm: the stability end (84 days) comes first
])
def test_refill_by_names_the_stability_end(rate, refill_by):
    ev = run(case(simple(rate, ZICO), reservoir=5, refill={"withdrawn_ml": 5, "added_ml": 18}))
    alarm = {0.5: "2026-12-23 09:00", 0.1: "2027-04-30 09:00"}[rate]
    # 2026-11-21 + 84 days = 2027-02-13 (9 days to Nov 30, 31 + 31 to Jan 31, 13 more)
    assert formulas(ev)["refill_by"] == (f"earliest of the worst-case alarm {alarm} and the stability window end "
                                         f"2027-02-13 09:00: {refill_by}")


def test_stability_finding_counts_the_days():
    ev = run(case(simple(0.1, ZICO), reservoir=5, refill={"withdrawn_ml": 5, "added_ml": 18},
                  appointment="2027-03-01T09:00:00"))
    w = next(w for w in ev.warnings if w.code == "STABILITY_WINDOW_EXCEEDED")
    assert w.value == 84 and "(84 days, until 2027-02-13 09:00)" in w.message


@pytest.mark.parametrize("conc, days", [(25.00000001, 84), (25.0001, 40)])
def test_undiluted_means_the_undiluted_concentration_within_float_noise(conc, days):
    # 25 mcg/mL within 1e-9 x 25 = 2.5e-8 mcg/mL is undiluted (84 days); 25.0001 is a dilution (40 days)
    ev = run(case(simple(0.1, drug("ziconotide", conc, "mcg/mL")), reservoir=5,
                  refill={"withdrawn_ml": 5, "added_ml": 18}))
    assert ev.stability_window_end == datetime(2026, 11, 21, 9, 0) + timedelta(days=days)


def test_admixture_stability_skips_drugs_without_a_window():
    """Morphine (no stability limit) listed before ziconotide: the admixture is diluted ziconotide,
    40 days after the refill: 2026-11-21 + 40 days = 2026-12-31."""
    prog = simple(0.1, drug("morphine", 10), ZICO)
    ev = run(case(prog, reservoir=5, refill={"withdrawn_ml": 5, "added_ml": 18}))
    assert ev.stability_window_end == datetime(2026, 12, 31, 9, 0)


def test_current_program_figures():
    # current 0.4 mL/day of morphine 10 mg/mL = 4 mg/day
    ev = run(case(simple(0.45), current=simple(0.4)))
    assert ev.current_daily_volume_ml == 0.4
    assert {k: (v.amount, v.unit) for k, v in ev.current_daily_dose.items()} == {"morphine": (4.0, "mg/day")}
    first = run(case(simple(0.45)))
    assert first.current_daily_volume_ml is None and first.current_daily_dose is None


def test_bridge_bolus_when_the_new_program_delivers_nothing():
    # 10 -> 25 mg/mL with the pump stopped: 0.25 mL of old drug in the catheter, never cleared by delivery
    ev = run(case({"drugs": [drug("morphine", 25)], "mode": "stopped"}, current=simple(0.5)))
    assert ev.bridge_bolus.volume_ml == 0.25 and ev.bridge_bolus.hours_to_clear_without is None


@pytest.mark.parametrize("conc, bridge", [(10.000000005, False), (10.00000002, True)])
def test_bridge_tolerance_is_one_part_in_a_billion(conc, bridge):
    # 10 mg/mL: the same concentration within 1e-9 x 10 = 1e-8 mg/mL (float noise), a change beyond it
    ev = run(case(simple(0.5, drug("morphine", conc)), current=simple(0.5)))
    assert (ev.bridge_bolus is not None) == bridge


def test_bolus_grid_is_anchored_on_the_day_of_now():
    """0.5 mL over 60 min every 5 h from 00:00 on the day of `now` (2026-11-22 00:00), no background.
    2.25 mL in the reservoir, alarm at 2 mL: 0.25 mL is half the first bolus -> 00:30; empty after
    4 boluses (2 mL, 00:00, 05:00, 10:00, 15:00) and half of the 20:00 one -> 20:30.
    A grid anchored at EPOCH instead would put boluses at 20:00 the day before and 01:00 (2026-11-22
    is 9,456 days = 226,944 h after EPOCH; 226,944 mod 5 = 4): the alarm would read 01:30."""
    ev = run(case(bolus_prog(0.0, "00:00", 5, 0.5, duration=60), reservoir=2.25, now="2026-11-22T00:00:00"))
    assert ev.low_reservoir_alarm_at == datetime(2026, 11, 22, 0, 30)
    assert ev.low_reservoir_alarm_at_worst_case == datetime(2026, 11, 22, 0, 30)
    assert ev.empty_at == datetime(2026, 11, 22, 20, 30)


def test_current_bolus_program_compared_per_weekday_on_its_own_grid():
    """Current: 0.07 mL of morphine 10 mg/mL (0.7 mg) every 7 h from 00:30, no background; every 7 h
    repeats after lcm(24 h, 7 h) = 168 h, a week, so the weekdays are compared. Anchored on the day of
    `now` (Saturday 2026-11-21): Sat 00:30 07:30 14:30 21:30, Sun 04:30 11:30 18:30, Mon 01:30 08:30 15:30
    22:30, Tue 05:30 12:30 19:30, Wed 02:30 09:30 16:30 23:30, Thu 06:30 13:30 20:30, Fri 03:30 10:30 17:30:
    4 boluses (2.8 mg) on Sat, Mon, Wed; 3 (2.1 mg) on Tue, Thu, Fri, Sun. Mean 24 x 0.7 / 7 = 2.4 mg/day.
    Proposed 0.288 mL/day = 2.88 mg/day: +20 % on the mean (within +25 %), +37.14 % against a 3-bolus day.
    (On a grid anchored at EPOCH, a Monday, the 3-bolus days would be Tue, Thu, Sat, Sun.)"""
    current = {"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.0,
               "boluses": [{"first_at": "00:30", "every_hours": 7, "volume_ml": 0.07, "duration_min": 10}]}
    ev = run(case(simple(0.288), current=current))
    assert ev.current_daily_volume_ml == 0.24
    w = [w for w in ev.warnings if w.code == "TITRATION_STEP_TOO_LARGE"]
    assert len(w) == 1
    assert w[0].message.startswith("morphine on tue, thu, fri, sun rises more than the rule allows (+25 %)")
    assert "tue 2.1 to 2.88 mg/day (+37.14 %)" in w[0].message
