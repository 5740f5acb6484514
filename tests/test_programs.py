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
