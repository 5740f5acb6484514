"""evaluate(): hand-computed expectations for every figure and warning code,
on both sides of each boundary (a value exactly at a limit is allowed)."""
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pumpmodel import Case, evaluate
from helpers import case, codes, drug, run, simple

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 21, 9, 0)


def iso(t):
    return t.isoformat()


def test_spec_example_every_figure():
    ev = evaluate(Case.model_validate(json.loads((ROOT / "examples/spec_example.json").read_text())))
    assert ev.daily_volume_ml == 0.39375 and ev.max_daily_volume_ml == 0.42375
    assert ev.daily_dose["baclofen"].amount == 787.5 and ev.daily_dose["baclofen"].unit == "mcg/day"
    assert ev.max_daily_dose["baclofen"].amount == 847.5
    # 16.5 mL: 41 days to 2027-01-01 09:00 (16.14375 mL), then 0.35625 mL: 13 h x 0.45 + 2 h x 0.30
    # (0.26875 mL) and 0.0875 mL at 0.30 mL/day = 7 h -> 2027-01-02 07:00
    assert ev.low_reservoir_alarm_at == datetime(2027, 1, 2, 7, 0)
    # worst case (+0.03 mL/day): 38 days (16.1025 mL), 0.2875 mL to midnight, 7 h x 0.33 (0.09625 mL),
    # 0.01375 mL at 0.48 mL/day = 41.25 min -> 2026-12-30 07:41:15
    assert ev.low_reservoir_alarm_at_worst_case == datetime(2026, 12, 30, 7, 41, 15)
    assert ev.empty_at == datetime(2027, 1, 7, 8, 40)
    assert ev.refill_by == ev.low_reservoir_alarm_at_worst_case
    assert ev.bridge_bolus is None
    # no current program: a first programming of baclofen above 200 mcg/day (2 x the 100 mcg screening maximum)
    assert ev.codes() == ["START_DOSE_ABOVE_RECOMMENDED", "RESERVOIR_ALARM_BEFORE_APPOINTMENT",
                          "RESERVOIR_EMPTY_BEFORE_APPOINTMENT"]
    assert all(w.severity == "soft" and w.source for w in ev.warnings)


def test_admixture_doses_and_unit_conversion():
    p = simple(0.5, drug("morphine", 10000, "mcg/mL"), drug("bupivacaine", 20, "mg/mL"),
               drug("clonidine", 0.5, "mg/mL"))
    ev = run(case(p))
    assert {k: (v.amount, v.unit) for k, v in ev.daily_dose.items()} == {
        "morphine": (5.0, "mg/day"), "bupivacaine": (10.0, "mg/day"), "clonidine": (250.0, "mcg/day")}


def test_refill_visit_projects_from_added_volume():
    ev = run(case(simple(1.0), reservoir=3.0, refill={"withdrawn_ml": 3.0, "added_ml": 20.0}))
    assert ev.start_volume_ml == 20.0
    assert ev.low_reservoir_alarm_at == NOW + timedelta(days=18)
    assert ev.empty_at == NOW + timedelta(days=20)


def test_stopped_program_has_no_moments():
    ev = run(case({"drugs": [drug()], "mode": "stopped"}))
    assert ev.daily_volume_ml == 0 and ev.empty_at is None and ev.low_reservoir_alarm_at is None
    assert ev.refill_by is None


def test_reservoir_already_below_alarm():
    ev = run(case(simple(1.0), reservoir=1.5))
    assert ev.low_reservoir_alarm_at == NOW
    assert ev.empty_at == NOW + timedelta(hours=36)


# --- warning codes, both sides of each boundary -------------------------------

@pytest.mark.parametrize("rate, fires", [(0.048, False), (0.0479, True), (24.0, False), (24.01, True), (0.0, False)])
def test_rate_out_of_pump_range(rate, fires):
    assert ("RATE_OUT_OF_PUMP_RANGE" in codes(case(simple(rate, drug("morphine", 0.01))))) == fires


@pytest.mark.parametrize("background, duration, fires", [
    (0.0, 30, False),   # 0.5 mL over 30 min = 24 mL/day, the programmable maximum
    (0.0, 29, True),
    (0.5, 30, True),    # the pump runs 0.5 + 24 = 24.5 mL/day during the bolus
])
def test_bolus_delivery_rate_out_of_pump_range(background, duration, fires):
    p = {"drugs": [drug("morphine", 0.01)], "mode": "periodic_bolus", "rate_ml_per_day": background,
         "boluses": [{"first_at": "08:00", "every_hours": 24, "volume_ml": 0.5, "duration_min": duration}]}
    found = [w for w in run(case(p)).warnings if w.code == "RATE_OUT_OF_PUMP_RANGE"]
    assert bool(found) == fires
    if fires and background:
        assert "background plus bolus" in found[0].message and found[0].value == 24.5


def test_overlapping_boluses_add_up_against_the_pump_maximum():
    # two 0.3 mL / 30 min boluses at the same time: 14.4 + 14.4 = 28.8 mL/day > 24
    b = {"every_hours": 24, "volume_ml": 0.3, "duration_min": 30}
    p = {"drugs": [drug("morphine", 0.01)], "mode": "periodic_bolus", "rate_ml_per_day": 0.0,
         "boluses": [{"first_at": "08:00", **b}, {"first_at": "08:15", **b}]}
    assert "RATE_OUT_OF_PUMP_RANGE" in codes(case(p))


@pytest.mark.parametrize("conc, expected", [
    (20, []), (20.5, ["CONCENTRATION_ABOVE_RECOMMENDED"]), (50, ["CONCENTRATION_ABOVE_RECOMMENDED"]),
    (50.1, ["CONCENTRATION_NOT_PLAUSIBLE"]),
])
def test_concentration_limits(conc, expected):
    found = [c for c in codes(case(simple(0.01, drug("morphine", conc)))) if c.startswith("CONCENTRATION_")
             and c != "CONCENTRATION_NOT_SUPPLIED"]
    assert found == expected


def test_mg_mcg_mixup_is_named():
    ev = run(case(simple(0.1, drug("baclofen", 2000, "mg/mL"))))
    w = next(w for w in ev.warnings if w.code == "CONCENTRATION_NOT_PLAUSIBLE")
    assert w.severity == "hard" and "mg/mcg mix-up" in w.message and "2e+06" not in w.message


@pytest.mark.parametrize("rate, expected", [
    (1.5, None), (1.51, "DOSE_ABOVE_RECOMMENDED"), (4.0, "DOSE_ABOVE_RECOMMENDED"), (4.01, "DOSE_ABOVE_HARD_MAX"),
])
def test_dose_limits(rate, expected):
    # morphine 10 mg/mL: 1.5 mL/day = 15 mg/day (recommended max), 4.0 mL/day = 40 mg/day (hard max)
    found = [c for c in codes(case(simple(rate))) if c.startswith("DOSE_")]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize("ptm, fires", [
    ({"bolus_volume_ml": 0.05, "lockout_min": 60, "max_per_day": 3}, True),   # 14 + 1.5 = 15.5 mg/day
    ({"bolus_volume_ml": 0.01, "lockout_min": 60, "max_per_day": 10}, False),  # 14 + 1.0 = 15 mg/day
    ({"bolus_volume_ml": 0.05, "lockout_min": 720, "max_per_day": 10}, False),  # lockout: 2 x 0.5 = 15 mg/day
])
def test_ptm_allows_dose_above_recommended(ptm, fires):
    assert ("PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED" in codes(case(simple(1.4, ptm=ptm)))) == fires


@pytest.mark.parametrize("rate, current, fires", [
    (0.05, None, False), (0.051, None, True), (0.051, simple(0.05), False),
])
def test_start_dose(rate, current, fires):
    # morphine 10 mg/mL: 0.05 mL/day = 0.5 mg/day, the top of the usual starting range
    assert ("START_DOSE_ABOVE_RECOMMENDED" in codes(case(simple(rate), current=current))) == fires


@pytest.mark.parametrize("drug_, cur_rate, new_rate, indication, fires", [
    (drug("morphine", 10), 1.0, 1.25, None, False),         # +25 %
    (drug("morphine", 10), 1.0, 1.26, None, True),
    (drug("baclofen", 500, "mcg/mL"), 0.2, 0.26, "spasticity_spinal", False),   # +30 %
    (drug("baclofen", 500, "mcg/mL"), 0.2, 0.261, "spasticity_spinal", True),
    (drug("baclofen", 500, "mcg/mL"), 0.2, 0.23, "spasticity_cerebral", False),  # +15 %
    (drug("baclofen", 500, "mcg/mL"), 0.2, 0.231, "spasticity_cerebral", True),
    (drug("baclofen", 500, "mcg/mL"), 0.2, 0.231, None, True),                  # stricter when unknown
    (drug("ziconotide", 25, "mcg/mL"), 0.096, 0.192, None, False),              # 2.4 -> 4.8 mcg/day (+2.4)
    (drug("ziconotide", 25, "mcg/mL"), 0.096, 0.2, None, True),                 # +2.6 mcg/day
])
def test_titration_step(drug_, cur_rate, new_rate, indication, fires):
    d = case(simple(new_rate, drug_), current=simple(cur_rate, drug_), indication=indication)
    assert ("TITRATION_STEP_TOO_LARGE" in codes(d)) == fires


@pytest.mark.parametrize("proposed, fires", [
    (simple(0.4, drug("baclofen", 500, "mcg/mL")), False),   # 250 -> 200 mcg/day: -20 %
    (simple(0.39, drug("baclofen", 500, "mcg/mL")), True),
    ({"drugs": [drug("baclofen", 500, "mcg/mL")], "mode": "stopped"}, True),
])
def test_abrupt_decrease_of_baclofen(proposed, fires):
    d = case(proposed, current=simple(0.5, drug("baclofen", 500, "mcg/mL")))
    assert ("ABRUPT_DECREASE" in codes(d)) == fires


def test_abrupt_decrease_is_baclofen_only():
    assert "ABRUPT_DECREASE" not in codes(case(simple(0.1), current=simple(1.0)))


@pytest.mark.parametrize("appointment, alarm, empty", [
    (NOW + timedelta(days=16), False, False),                      # alarm exactly at the appointment
    (NOW + timedelta(days=16, seconds=1), True, False),
    (NOW + timedelta(days=18), True, False),                       # empty exactly at the appointment
    (NOW + timedelta(days=18, minutes=1), True, True),
])
def test_reservoir_before_appointment(appointment, alarm, empty):
    # 18 mL at 1 mL/day, alarm at 2 mL: alarm after 16 days, empty after 18
    found = codes(case(simple(1.0), appointment=iso(appointment)))
    assert ("RESERVOIR_ALARM_BEFORE_APPOINTMENT" in found) == alarm
    assert ("RESERVOIR_EMPTY_BEFORE_APPOINTMENT" in found) == empty


def test_worst_case_ptm_moves_the_alarm():
    p = simple(1.0, ptm={"bolus_volume_ml": 0.25, "lockout_min": 60, "max_per_day": 4})  # 2 mL/day worst case
    ev = run(case(p, appointment=iso(NOW + timedelta(days=10))))
    assert ev.low_reservoir_alarm_at_worst_case == NOW + timedelta(days=8)
    assert ev.refill_by == NOW + timedelta(days=8)
    assert "RESERVOIR_ALARM_BEFORE_APPOINTMENT" in ev.codes()


ZICO = drug("ziconotide", 25, "mcg/mL")


@pytest.mark.parametrize("prog, extra, days", [
    (simple(0.05, ZICO), {"refill": {"withdrawn_ml": 5, "added_ml": 20}}, 84),               # undiluted
    (simple(0.05, drug("ziconotide", 10, "mcg/mL")), {"refill": {"withdrawn_ml": 5, "added_ml": 20}}, 40),
    (simple(0.05, ZICO), {"first_fill": True}, 14),
])
def test_stability_window(prog, extra, days):
    end = NOW + timedelta(days=days)
    at_end = run(case(prog, reservoir=5, appointment=iso(end), **extra))
    assert at_end.stability_window_end == end and at_end.refill_by == end
    assert "STABILITY_WINDOW_EXCEEDED" not in at_end.codes()
    after = codes(case(prog, reservoir=5, appointment=iso(end + timedelta(hours=1)), **extra))
    assert "STABILITY_WINDOW_EXCEEDED" in after


def test_stability_not_counted_without_refill_or_first_fill():
    ev = run(case(simple(0.05, ZICO), appointment=iso(NOW + timedelta(days=200))))
    assert ev.stability_window_end is None and "STABILITY_WINDOW_EXCEEDED" not in ev.codes()


@pytest.mark.parametrize("reservoir, added, fires", [(20, None, False), (20.1, None, True), (5, 20, False),
                                                     (5, 21, True)])
def test_fill_exceeds_capacity(reservoir, added, fires):
    extra = {"refill": {"withdrawn_ml": reservoir, "added_ml": added}} if added is not None else {}
    assert ("FILL_EXCEEDS_CAPACITY" in codes(case(simple(0.5), reservoir=reservoir, **extra))) == fires


def test_bridge_bolus_on_concentration_change():
    ev = run(case(simple(0.5, drug("morphine", 25)), current=simple(0.5, drug("morphine", 10))))
    assert ev.bridge_bolus.volume_ml == 0.25 and ev.bridge_bolus.hours_to_clear_without == 12.0
    w = next(w for w in ev.warnings if w.code == "BRIDGE_BOLUS_REQUIRED")
    assert w.severity == "info"


def test_no_bridge_bolus_when_only_the_unit_is_written_differently():
    ev = run(case(simple(0.5, drug("morphine", 10000, "mcg/mL")), current=simple(0.4, drug("morphine", 10))))
    assert ev.bridge_bolus is None and "BRIDGE_BOLUS_REQUIRED" not in ev.codes()


def test_bridge_bolus_uses_case_dead_space():
    d = case(simple(0.5, drug("clonidine", 500, "mcg/mL")), current=simple(0.5, drug("morphine", 10)))
    d["pump"].update(catheter_volume_ml=0.2, pump_tubing_volume_ml=0.05)
    assert run(d).bridge_bolus.volume_ml == 0.25


@pytest.mark.parametrize("drugs, fires", [
    ([drug("baclofen", 500, "mcg/mL"), drug("clonidine", 100, "mcg/mL")], True),
    ([drug("morphine", 10), drug("clonidine", 100, "mcg/mL")], False),
])
def test_admixture_not_recommended(drugs, fires):
    assert ("ADMIXTURE_NOT_RECOMMENDED" in codes(case(simple(0.3, *drugs)))) == fires


@pytest.mark.parametrize("profile, withdrawn, fires", [
    ("programmable-20", 6.0, False), ("programmable-20", 6.01, True), ("programmable-20", 3.99, True),
    ("programmable-40", 7.0, False), ("programmable-40", 7.01, True),
])
def test_refill_discrepancy(profile, withdrawn, fires):
    d = case(simple(0.5), profile=profile, reservoir=5.0, refill={"withdrawn_ml": withdrawn, "added_ml": 18})
    assert ("REFILL_DISCREPANCY" in codes(d)) == fires


@pytest.mark.parametrize("prog, current, fires", [
    (simple(1.0), None, False), (simple(1.5), None, True),
    ({"drugs": [drug()], "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": 1.0}]}, None, True),
    (simple(2.0), simple(2.0), True),   # "keeping" an impossible rate is still impossible
    (simple(1.0, ptm={"bolus_volume_ml": 0.1, "lockout_min": 60, "max_per_day": 2}), None, True),
])
def test_fixed_rate_pump(prog, current, fires):
    found = codes(case(prog, current=current, profile="constant-flow-30"))
    assert ("FIXED_RATE_PUMP" in found) == fires
    assert "RATE_OUT_OF_PUMP_RANGE" not in found


def test_weekday_flex_not_on_valve_gated():
    week = {d: [{"start": "00:00", "rate_ml_per_day": 0.2}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    p = {"drugs": [drug()], "mode": "flex", "week": week}
    assert "MODE_NOT_SUPPORTED" in codes(case(p, profile="valve-gated-20"))
    assert "MODE_NOT_SUPPORTED" not in codes(case(p, profile="programmable-20"))


@pytest.mark.parametrize("eos, appointment, fires", [
    (NOW + timedelta(days=29), NOW + timedelta(days=30), True),
    (NOW + timedelta(days=30, seconds=-1), NOW + timedelta(days=30), True),
    (NOW + timedelta(days=30), NOW + timedelta(days=30), False),   # exactly at the appointment: still working
    (NOW + timedelta(days=31), NOW + timedelta(days=30), False),
    (NOW + timedelta(days=29), None, False),                       # no appointment to compare with
    (None, NOW + timedelta(days=30), False),                       # end of service not known
])
def test_battery_end_of_service_before_appointment(eos, appointment, fires):
    d = case(simple(0.2), appointment=None if appointment is None else iso(appointment))
    if eos is not None:
        d["pump"]["end_of_service_at"] = iso(eos)
    found = [w for w in run(d).warnings if w.code == "BATTERY_END_OF_SERVICE_BEFORE_APPOINTMENT"]
    assert bool(found) == fires
    if fires:
        assert found[0].severity == "soft" and found[0].source
        assert f"{eos:%Y-%m-%d %H:%M}" in found[0].message and f"{appointment:%Y-%m-%d %H:%M}" in found[0].message


@pytest.mark.parametrize("withdrawn, reservoir, direction, diff", [
    (6.01, 5.0, "more", 1.01),   # withdrawn more than the pump says is left
    (3.99, 5.0, "less", 1.01),   # less came out than expected: pocket fill?
    (2.5, 5.0, "less", 2.5),
    (9.0, 5.0, "more", 4.0),
])
def test_refill_discrepancy_direction_and_value(withdrawn, reservoir, direction, diff):
    d = case(simple(0.5), reservoir=reservoir, refill={"withdrawn_ml": withdrawn, "added_ml": 18})
    w = next(w for w in run(d).warnings if w.code == "REFILL_DISCREPANCY")
    assert w.severity == "soft" and w.unit == "mL" and w.limit == 1.0  # programmable-20: 1 mL tolerance
    assert w.value == pytest.approx(diff, abs=1e-9)
    assert f"{diff:g} mL {direction} than expected" in w.message
    assert f"Withdrawn {withdrawn:g} mL but {reservoir:g} mL expected" in w.message


@pytest.mark.parametrize("entry, expected", [
    (drug("morphine", 10), False), (drug("morphine", 25), False),          # supplied: 10 and 25 mg/mL
    (drug("morphine", 10000, "mcg/mL"), False),                            # 10 mg/mL written in mcg
    (drug("morphine", 12), True), (drug("morphine", 10.5), True),
    (drug("morphine", 60), False),                                         # implausible: NOT_PLAUSIBLE only
    (drug("baclofen", 2000, "mcg/mL"), False), (drug("baclofen", 1500, "mcg/mL"), True),
    (drug("hydromorphone", 7), False),                                     # compounded: nothing supplied
])
def test_concentration_not_supplied(entry, expected):
    ev = run(case(simple(0.01, entry)))
    found = [w for w in ev.warnings if w.code == "CONCENTRATION_NOT_SUPPLIED"]
    assert bool(found) == expected
    if expected:
        w = found[0]
        assert w.severity == "info" and w.drug == entry["drug"] and w.source
        assert f"{entry['concentration']:g} " in w.message and "is not a supplied concentration" in w.message


def test_hard_findings_block_and_come_first():
    ev = run(case(simple(5.0), reservoir=25))  # 50 mg/day and overfilled
    assert ev.blocked and ev.warnings[0].severity == "hard"
    sev = [w.severity for w in ev.warnings]
    assert sev == sorted(sev, key=["hard", "soft", "info"].index)


def test_explanations_show_the_formula_with_values():
    ev = evaluate(Case.model_validate(json.loads((ROOT / "examples/spec_example.json").read_text())))
    by = {e.figure: e for e in ev.explanations}
    assert "0.39375 mL/day x 2000 mcg/mL = 787.5 mcg/day" in by["daily_dose.baclofen"].formula
    assert "(7 h x 0.3 + 15 h x 0.45 + 2 h x 0.3) / 24 h = 0.39375 mL/day" == by["daily_volume_ml"].formula
    assert by["daily_dose.baclofen"].source


def test_one_heavy_day_in_a_weekday_schedule_is_flagged():
    # morphine 10 mg/mL: weekdays 1.0 mL/day (10 mg), Saturday 2.0 mL/day (20 mg); mean 11.43 mg/day
    week = {d: [{"start": "00:00", "rate_ml_per_day": 1.0}] for d in ("mon", "tue", "wed", "thu", "fri", "sun")}
    week["sat"] = [{"start": "00:00", "rate_ml_per_day": 2.0}]
    ev = run(case({"drugs": [drug()], "mode": "flex", "week": week}, current=simple(1.0)))
    w = next(w for w in ev.warnings if w.code == "DAY_DOSE_ABOVE_RECOMMENDED")
    assert "sat" in w.message and w.value == 20.0
    assert "DOSE_ABOVE_RECOMMENDED" not in ev.codes()
    week["sat"] = [{"start": "00:00", "rate_ml_per_day": 1.5}]  # 15 mg: at the limit
    assert "DAY_DOSE_ABOVE_RECOMMENDED" not in codes(case({"drugs": [drug()], "mode": "flex", "week": week}))


def test_one_weekday_above_the_hard_maximum_blocks():
    # baclofen 2000 mcg/mL: 0.1 mL/day Mon-Sat (200 mcg), 1.5 mL/day on Sunday (3000 mcg > 2000 hard)
    week = {d: [{"start": "00:00", "rate_ml_per_day": 0.1}] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    week["sun"] = [{"start": "00:00", "rate_ml_per_day": 1.5}]
    ev = run(case({"drugs": [drug("baclofen", 2000, "mcg/mL")], "mode": "flex", "week": week}))
    day = [w for w in ev.warnings if w.code.startswith("DAY_DOSE")]
    assert [(w.code, w.severity) for w in day] == [("DAY_DOSE_ABOVE_HARD_MAX", "hard")]
    assert ev.blocked and "sun" in day[0].message


def test_titration_message_names_an_indication_without_a_rule():
    bac = drug("baclofen", 500, "mcg/mL")
    w = next(w for w in run(case(simple(0.3, bac), current=simple(0.2, bac), indication="pain_cancer")).warnings
             if w.code == "TITRATION_STEP_TOO_LARGE")
    assert "no specific rule for pain cancer" in w.message and "not given" not in w.message


def test_alarm_message_fits_the_situation():
    later = iso(NOW + timedelta(days=30))
    no_ptm = next(w for w in run(case(simple(1.0), appointment=later)).warnings
                  if w.code == "RESERVOIR_ALARM_BEFORE_APPOINTMENT")
    assert no_ptm.message.startswith("The reservoir reaches") and "PTM" not in no_ptm.message
    below = next(w for w in run(case(simple(1.0), reservoir=1.0, appointment=later)).warnings
                 if w.code == "RESERVOIR_ALARM_BEFORE_APPOINTMENT")
    assert "already at or below" in below.message
