"""Validation: malformed programs and cases are rejected, naming the field."""
import pytest
from pydantic import ValidationError

from pumpmodel import Case, Program
from helpers import case, drug, simple


def _errors(d, model=Case):
    with pytest.raises(ValidationError) as exc:
        model.model_validate(d)
    return [(tuple(e["loc"]), e["msg"]) for e in exc.value.errors()]


def flex(*steps):
    return {"drugs": [drug()], "mode": "flex",
            "steps": [{"start": s, "rate_ml_per_day": r} for s, r in steps]}


@pytest.mark.parametrize("steps, text", [
    ([("01:00", 0.1)], "must start at 00:00"),
    ([("00:00", 0.1), ("08:00", 0.2), ("07:00", 0.1)], "not sorted"),
    ([("00:00", 0.1), ("08:00", 0.2), ("08:00", 0.1)], "duplicate step start time 08:00"),
])
def test_flex_step_rules(steps, text):
    errs = _errors(flex(*steps), Program)
    assert errs[0][0] == ("steps",) and text in errs[0][1]


def test_bad_times_and_negative_values():
    errs = _errors(flex(("00:00", -0.1), ("24:00", 0.1)), Program)
    locs = [e[0] for e in errs]
    assert ("steps", 0, "rate_ml_per_day") in locs and ("steps", 1, "start") in locs


def test_unit_must_be_mass_per_volume_and_drug_known():
    errs = _errors(simple(0.5, drug("aspirin", 1, "mg/L")), Program)
    assert {e[0] for e in errs} == {("drugs", 0, "drug"), ("drugs", 0, "unit")}


def test_mode_needs_its_fields():
    assert "needs rate_ml_per_day" in _errors({"drugs": [drug()], "mode": "simple_continuous"}, Program)[0][1]
    assert "exactly one of steps" in _errors({"drugs": [drug()], "mode": "flex"}, Program)[0][1]
    assert "at least one entry in boluses" in _errors(
        {"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1}, Program)[0][1]


def test_week_needs_every_day():
    p = {"drugs": [drug()], "mode": "flex", "week": {"mon": [{"start": "00:00", "rate_ml_per_day": 0.1}]}}
    assert "missing day(s) tue" in _errors(p, Program)[0][1]


def test_too_many_steps_for_the_profile():
    steps = [(f"{h:02d}:00", 0.1) for h in range(11)]
    errs = _errors(case(flex(*steps)))
    assert "11 flex steps" in errs[0][1] and "allows" in errs[0][1]


def test_unknown_profile_and_every_problem_named():
    d = case(simple(-1), profile="nope", reservoir=-2)
    locs = {e[0] for e in _errors(d)}
    assert {("pump", "profile"), ("reservoir_ml",), ("proposed", "rate_ml_per_day")} <= locs


def test_timestamps_with_offset_rejected():
    errs = _errors(case(simple(0.5), now="2026-11-21T09:00:00+01:00"))
    assert errs[0][0] == ("now",)


def test_unit_conversion_is_exact():
    p = Program.model_validate(simple(0.5, drug("morphine", 10000, "mcg/mL"), drug("clonidine", 0.5, "mg/mL")))
    assert p.concentrations() == {"morphine": 10.0, "clonidine": 500.0}


def test_ptm_allowed_boluses_respect_lockout():
    from pumpmodel import PTM
    assert PTM(bolus_volume_ml=0.01, lockout_min=120, max_per_day=3).allowed_per_day == 3
    assert PTM(bolus_volume_ml=0.01, lockout_min=120, max_per_day=30).allowed_per_day == 12
    assert PTM(bolus_volume_ml=0.01, lockout_min=100, max_per_day=30).allowed_per_day == 15
    assert PTM(bolus_volume_ml=0.01, lockout_min=0, max_per_day=30).allowed_per_day == 30


# --- every validation message word for word (pydantic prefixes "Value error, ") -------------------

def _msg(d, model=Case):
    errs = _errors(d, model)
    assert len(errs) == 1, errs
    return errs[0][1].removeprefix("Value error, ")


@pytest.mark.parametrize("prog, text", [
    (flex(("01:00", 0.1)), "steps: the first step must start at 00:00, not 01:00"),
    (flex(("00:00", 0.1), ("08:00", 0.2), ("07:00", 0.1)), "steps: steps are not sorted (07:00 comes after 08:00)"),
    (flex(("00:00", 0.1), ("08:00", 0.2), ("08:00", 0.1)), "steps: duplicate step start time 08:00"),
    (flex(), "steps: at least one step is needed"),
    ({"drugs": [drug()], "mode": "flex", "week": {"mon": [{"start": "00:00", "rate_ml_per_day": 0.1}],
                                                  "fri": [{"start": "00:00", "rate_ml_per_day": 0.1}]}},
     "week: missing day(s) tue, wed, thu, sat, sun"),
    ({"drugs": [drug()], "mode": "flex",
      "week": {d: [{"start": "01:00" if d == "tue" else "00:00", "rate_ml_per_day": 0.1}]
               for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
     "week.tue: the first step must start at 00:00, not 01:00"),
    (simple(0.5, drug(), drug("morphine", 25)), "drug listed twice: morphine"),
    (simple(0.5, drug(), drug("clonidine", 100, "mcg/mL"), drug("morphine", 25), drug("clonidine", 50, "mcg/mL")),
     "drug listed twice: clonidine, morphine"),
    (simple(0.5, drug("aspirin")), "unknown drug 'aspirin'; the library has morphine, hydromorphone, ziconotide, "
                                   "baclofen, bupivacaine, clonidine"),
    ({"drugs": [drug()], "mode": "simple_continuous"}, "mode simple_continuous needs rate_ml_per_day"),
    ({"drugs": [drug()], "mode": "flex"}, "mode flex needs exactly one of steps (every day) or week (per weekday)"),
    ({"drugs": [drug()], "mode": "periodic_bolus", "boluses": [
        {"first_at": "06:00", "every_hours": 6, "volume_ml": 0.1, "duration_min": 10}]},
     "mode periodic_bolus needs rate_ml_per_day (the background rate)"),
    ({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1, "boluses": []},
     "mode periodic_bolus needs at least one entry in boluses"),
    ({**simple(0.5), "steps": [{"start": "00:00", "rate_ml_per_day": 0.1}]},
     "steps/week belong to mode flex, not simple_continuous"),
    ({**flex(("00:00", 0.1)), "boluses": [{"first_at": "06:00", "every_hours": 6, "volume_ml": 0.1,
                                            "duration_min": 10}]},
     "boluses belong to mode periodic_bolus, not flex"),
])
def test_program_messages_word_for_word(prog, text):
    assert _msg(prog, Program) == text


def test_many_boluses_in_one_pattern():
    # every 25,201 s (7 h 0 min 1 s): lcm(86,400, 25,201) = 86,400 x 25,201 s = 25,201 days, 86,400 boluses
    # (<= 100,000: a program); adding every 24 h keeps the period and adds 25,201 boluses (111,601: too many)
    odd = {"first_at": "06:00", "every_hours": 25201 / 3600, "volume_ml": 0.1, "duration_min": 10}
    daily = {"first_at": "07:00", "every_hours": 24, "volume_ml": 0.1, "duration_min": 10}
    base = {"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1}
    assert Program.model_validate({**base, "boluses": [odd]}).boluses[0].every_s == 25201
    assert _msg({**base, "boluses": [odd, daily]}, Program) == (
        "boluses: these intervals repeat together only after 25,201 days (111,601 boluses); use intervals with a "
        "common measure (e.g. whole hours)")


def test_ptm_lockout_message_and_bounds():
    from pumpmodel import PTM
    assert _msg({"bolus_volume_ml": 0.1, "lockout_min": 0.5, "max_per_day": 4}, PTM) == (
        "lockout_min must be 0 (no lockout) or at least 1 minute")
    assert PTM(bolus_volume_ml=0.1, lockout_min=1, max_per_day=4).lockout_min == 1
    # 24 h / 1440 min lockout = 1 bolus; a daily maximum of 0 allows none
    assert PTM(bolus_volume_ml=0.1, lockout_min=1440, max_per_day=4).allowed_per_day == 1
    assert PTM(bolus_volume_ml=0.1, lockout_min=60, max_per_day=0).allowed_per_day == 0
    assert PTM(bolus_volume_ml=0.1, lockout_min=60, max_per_day=4).daily_volume_ml == pytest.approx(0.4)


@pytest.mark.parametrize("patch, text", [
    ({"pump": {"profile": "programmable-20", "catheter_volume_ml": 4.5, "pump_tubing_volume_ml": 1.5}},
     "catheter_volume_ml plus pump_tubing_volume_ml is 6 mL, above 5 mL: impossible for a catheter (a typo or a "
     "unit slip?)"),
    ({"pump": {"profile": "programmable-20", "low_reservoir_alarm_ml": 20.5}},
     "pump.low_reservoir_alarm_ml 20.5 mL is above the 20 mL reservoir of programmable-20: impossible (a typo or a "
     "unit slip?)"),
    ({"refill": {"withdrawn_ml": 25.5, "added_ml": 18}},
     "refill.withdrawn_ml 25.5 mL is more than the 20 mL reservoir of programmable-20 plus 5 mL: impossible"),
    ({"proposed": flex(*[(f"{h:02d}:00", 0.1) for h in range(11)])},
     "proposed: 11 flex steps in a day, more than the 10 that profile programmable-20 allows"),
    ({"current": flex(*[(f"{h:02d}:00", 0.1) for h in range(11)])},
     "current: 11 flex steps in a day, more than the 10 that profile programmable-20 allows"),
    ({"history": [{"at": "2026-11-20T09:00:00", "program": simple(0.2)},
                  {"at": "2026-11-10T09:00:00", "program": simple(0.2)}]},
     "history must be oldest first: history[1].at 2026-11-10T09:00:00 is before history[0].at 2026-11-20T09:00:00"),
    ({"history": [{"at": "2026-11-10T09:00:00", "program": simple(0.2)},
                  {"at": "2026-11-22T09:00:00", "program": simple(0.2)}]},
     "history[1].at 2026-11-22T09:00:00 is after now 2026-11-21T09:00:00"),
    ({"now": "2201-01-01T00:00:00"}, "pump-clock time must be between 1900 and 2200, not 2201-01-01T00:00:00"),
    ({"now": "1899-12-31T23:59:00"}, "pump-clock time must be between 1900 and 2200, not 1899-12-31T23:59:00"),
])
def test_case_messages_word_for_word(patch, text):
    assert _msg({**case(simple(0.5)), **patch}) == text


@pytest.mark.parametrize("patch", [
    {"pump": {"profile": "programmable-20", "catheter_volume_ml": 4.5, "pump_tubing_volume_ml": 0.5}},  # 5 mL
    {"pump": {"profile": "programmable-20", "low_reservoir_alarm_ml": 20}},
    {"refill": {"withdrawn_ml": 25, "added_ml": 18}},
    {"proposed": flex(*[(f"{h:02d}:00", 0.1) for h in range(10)])},
    {"history": [{"at": "2026-11-10T09:00:00", "program": simple(0.2)},
                 {"at": "2026-11-10T09:00:00", "program": simple(0.3)}, {"at": "2026-11-21T09:00:00",
                                                                         "program": simple(0.3)}]},
    {"now": "2200-12-31T23:59:00"}, {"now": "1900-01-01T00:00:00"},
])
def test_case_limits_are_inclusive(patch):
    Case.model_validate({**case(simple(0.5)), **patch})


def test_pump_settings_defaults_and_overrides():
    from pumpmodel.programs import PumpSettings
    default = PumpSettings(profile="programmable-20")
    assert default.lra_ml == 2.0 and default.dead_space_ml == 0.25  # profile: catheter 0.25 + tubing 0
    own = PumpSettings(profile="programmable-20", low_reservoir_alarm_ml=3, catheter_volume_ml=0.5,
                       pump_tubing_volume_ml=0.1)
    assert own.lra_ml == 3 and own.dead_space_ml == pytest.approx(0.6)
    assert PumpSettings(profile="valve-gated-20").lra_ml == 3.0


def test_start_volume_is_the_added_volume_at_a_refill():
    assert Case.model_validate(case(simple(0.5), reservoir=4)).start_volume_ml == 4
    assert Case.model_validate(case(simple(0.5), reservoir=4,
                                    refill={"withdrawn_ml": 4, "added_ml": 18})).start_volume_ml == 18


def test_times_of_day():
    from pumpmodel.programs import hhmm_to_minutes, minutes_to_hhmm
    assert hhmm_to_minutes("07:20") == 440 and hhmm_to_minutes("23:59") == 1439
    assert minutes_to_hhmm(440) == "07:20" and minutes_to_hhmm(5) == "00:05" and minutes_to_hhmm(1439) == "23:59"
    assert minutes_to_hhmm(60) == "01:00" and minutes_to_hhmm(0) == "00:00"


def test_bolus_grid_starts_per_day():
    from pumpmodel import Bolus
    from pumpmodel.programs import bolus_pattern_s
    b5 = Bolus(first_at="00:00", every_hours=5, volume_ml=0.1, duration_min=10)
    assert b5.every_s == 18_000 and b5.first_s == 0
    assert b5.starts_in_day_min(0) == [0, 300, 600, 900, 1200]       # 00:00 05:00 10:00 15:00 20:00
    assert b5.starts_in_day_min(1) == [60, 360, 660, 960, 1260]      # 25 h = 01:00 the next day, ...
    # every 7 h from 10:00: the grid also ran at 03:00 (10:00 - 7 h) on the anchor day
    b7 = Bolus(first_at="10:00", every_hours=7, volume_ml=0.1, duration_min=10)
    assert b7.first_s == 36_000 and b7.starts_in_day_min() == [180, 600, 1020]      # 03:00 10:00 17:00
    assert b7.starts_in_day_min(1) == [0, 420, 840, 1260]                           # 24:00 = 00:00, 07:00, ...
    # 20 minutes written as 1/3 h counts as 1200 whole seconds
    assert Bolus(first_at="00:00", every_hours=1 / 3, volume_ml=0.1, duration_min=1).every_s == 1200
    assert bolus_pattern_s([b5]) == 5 * 86_400 and bolus_pattern_s([b5, b7]) == 35 * 86_400


def test_rates_and_steps_per_mode():
    week = {d: [{"start": "00:00", "rate_ml_per_day": 0.1}] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    week["sun"] = [{"start": "00:00", "rate_ml_per_day": 0.2}, {"start": "12:00", "rate_ml_per_day": 0.3}]
    weekly = Program.model_validate({"drugs": [drug()], "mode": "flex", "week": week})
    assert weekly.basal_rates() == [0.1] * 6 + [0.2, 0.3] and weekly.max_steps_per_day() == 2
    daily = Program.model_validate(flex(("00:00", 0.1), ("06:00", 0.4), ("18:00", 0.2)))
    assert daily.basal_rates() == [0.1, 0.4, 0.2] and daily.max_steps_per_day() == 3
    assert Program.model_validate({"drugs": [drug()], "mode": "stopped"}).basal_rates() == []
    bolus = Program.model_validate({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1, "boluses": [
        {"first_at": "06:00", "every_hours": 6, "volume_ml": 0.1, "duration_min": 10}]})
    assert bolus.basal_rates() == [0.1] and bolus.max_steps_per_day() == 1
    assert Program.model_validate(simple(0.5)).drug_names == ["morphine"]


def test_concentration_in_the_drug_unit():
    # baclofen is dosed in mcg: 0.5 mg/mL = 500 mcg/mL; morphine in mg: 500 mcg/mL = 0.5 mg/mL
    p = Program.model_validate(simple(0.1, drug("baclofen", 0.5, "mg/mL"), drug("morphine", 500, "mcg/mL")))
    assert p.concentrations() == {"baclofen": 500.0, "morphine": 0.5}
