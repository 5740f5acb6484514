"""Training exercises: the deck, objective checkers, scoring, the exercise CLI."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpmodel.training import DECK_DIR, check_exercise, check_path, load_deck, score
from pumpmodel.training.deck import DeckError, load_file
from pumpmodel.training.models import Exercise

ROOT = Path(__file__).resolve().parents[1]
DECK = load_deck()


def test_deck_has_at_least_14_exercises_from_beginner_to_advanced():
    assert len(DECK) >= 14
    assert {e.level for e in DECK} == {"beginner", "intermediate", "advanced"}
    levels = [e.level_rank for e in DECK]
    assert levels == sorted(levels)  # listed beginner first


def test_deck_covers_every_incident_and_topic_of_the_issue():
    topics = {t for e in DECK for t in e.topics}
    needed = {"pocket_fill", "catheter_access_port", "per_hour_slip", "mg_mcg_slip", "refill_discrepancy", "mri",
              "baclofen_withdrawal", "titration", "ziconotide", "bridge_bolus", "new_implant", "opioid_switch",
              "ptm", "battery", "refill_visit", "wrong_concentration"}
    assert needed <= topics, needed - topics


@pytest.mark.parametrize("ex", DECK, ids=[e.id for e in DECK])
def test_expert_passes_every_objective_and_each_wrong_answer_fails_what_it_names(ex: Exercise):
    report = check_exercise(ex)
    assert report.ok, report.problems
    expert = score(ex, ex.expert_solution)
    assert expert.passed and expert.percent == 100.0
    for w in ex.wrong_answers:
        res = score(ex, w.submission)
        assert set(w.fails) <= set(res.failed_ids), (w.label, res.failed_ids)
        assert not res.passed


def test_reasons_carry_the_numbers():
    ex = next(e for e in DECK if e.id == "baclofen-flex-per-hour")
    wrong = score(ex, ex.wrong_answers[0].submission)
    dose = next(o for o in wrong.objectives if o.id == "dose")
    # (8 x 0.1 + 12 x 2.88 + 4 x 0.1) / 24 = 1.49 mL/day x 500 mcg/mL = 745 mcg/day
    assert not dose.passed and "745 mcg/day" in dose.reason and "54 to 56 mcg/day" in dose.reason
    assert wrong.matched_wrong_answer == "daytime step read as 60 mcg per hour"
    right = score(ex, ex.expert_solution)
    assert "55 mcg/day" in next(o for o in right.objectives if o.id == "dose").reason


def test_overrides_and_hard_stops_are_counted():
    ex = next(e for e in DECK if e.id == "mg-mcg-concentration")
    res = score(ex, ex.wrong_answers[0].submission)  # 2000 mg/mL: implausible concentration and dose
    assert res.hard_stops == 2
    assert {"CONCENTRATION_NOT_PLAUSIBLE", "DOSE_ABOVE_HARD_MAX"} <= {w.code for w in res.evaluation.warnings}
    ex = next(e for e in DECK if e.id == "refill-discrepancy")
    res = score(ex, ex.expert_solution)
    assert res.hard_stops == 0
    assert res.overrides == [{"code": "REFILL_DISCREPANCY", "drug": None,
                              "reason": "1.4 mL short: pocket examined, last refill record checked before refilling"}]


def test_bridge_bolus_objective_wants_the_dead_space_volume():
    ex = next(e for e in DECK if e.id == "bridge-bolus-concentration-change")
    base = ex.expert_solution.model_dump()
    for given_ml, ok in ((0.25, True), (0.26, True), (0.1, False), (None, False)):
        res = score(ex, {**base, "bridge_bolus_ml": given_ml})
        assert next(o for o in res.objectives if o.id == "bridge").passed is ok, given_ml
    res = score(ex, {**base, "bridge_bolus_ml": None})
    # 0.25 mL dead space at 0.3 mL/day clears in 0.25 / 0.3 x 24 = 20 h
    assert "20 h" in next(o for o in res.objectives if o.id == "bridge").reason


def test_an_invalid_program_fails_with_the_field_named_and_no_traceback():
    ex = next(e for e in DECK if e.id == "mg-mcg-concentration")
    res = score(ex, {"case": {"proposed": {"drugs": [{"drug": "baclofen", "concentration": 2000, "unit": "mcg/mL"}],
                                           "mode": "flex", "steps": [{"start": "06:00", "rate_ml_per_day": 0.1}]}}})
    assert res.evaluation is None and not res.passed
    assert any("00:00" in o.reason for o in res.objectives)


def test_unanswered_question_fails_and_says_so():
    ex = next(e for e in DECK if e.id == "mri-motor-stall")
    res = score(ex, {})
    assert res.percent == 0.0
    assert all("not answered" in o.reason for o in res.objectives)


# -- validation of exercise files ------------------------------------------------------

def _raw(ex_id: str) -> dict:
    return yaml.safe_load((DECK_DIR / f"{ex_id}.yaml").read_text())


def _write(tmp_path: Path, raw: dict, name: str | None = None) -> Path:
    p = tmp_path / f"{name or raw['id']}.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_wrong_answer_naming_an_unknown_objective_is_rejected(tmp_path):
    raw = _raw("read-the-pump")
    raw["wrong_answers"][0]["fails"] = ["no_such_objective"]
    with pytest.raises(DeckError) as err:
        load_file(_write(tmp_path, raw))
    assert "no_such_objective" in str(err.value) and "read-the-pump.yaml" in str(err.value)


def test_file_name_must_match_the_id_and_yaml_errors_name_the_file(tmp_path):
    with pytest.raises(DeckError, match="file name must be the exercise id"):
        load_file(_write(tmp_path, _raw("read-the-pump"), name="other"))
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(DeckError, match="broken.yaml: not valid YAML"):
        load_file(bad)


def test_check_reports_an_expert_solution_that_fails(tmp_path):
    raw = _raw("ziconotide-slow-titration")
    raw["expert_solution"]["case"]["proposed"]["rate_ml_per_day"] = 0.48  # 12 mcg/day: too big a step
    [rep] = check_path(_write(tmp_path, raw))
    assert not rep.ok
    assert any(p.startswith("expert solution fails dose") and "12 mcg/day" in p for p in rep.problems)


def test_check_reports_a_wrong_answer_that_passes(tmp_path):
    raw = _raw("ziconotide-slow-titration")
    raw["wrong_answers"][0]["submission"] = raw["expert_solution"]
    [rep] = check_path(_write(tmp_path, raw))
    assert any("passes dose, which it must fail" in p for p in rep.problems)


def test_adding_an_exercise_is_a_data_change(tmp_path):
    """A new file in a deck folder is picked up, checked and listed with no code."""
    shutil.copy(DECK_DIR / "read-the-pump.yaml", tmp_path)
    raw = _raw("mri-motor-stall")
    raw["id"], raw["title"] = "mri-again", "Another MRI exercise"
    _write(tmp_path, raw)
    assert [r.ok for r in check_path(tmp_path)] == [True, True]
    assert [e.id for e in load_deck(tmp_path)] == ["read-the-pump", "mri-again"]


# -- the CLI ----------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pumpmodel", "exercise", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_checks_the_shipped_deck():
    r = _cli("check", str(DECK_DIR))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(DECK)} of {len(DECK)} exercise(s) pass" in r.stdout


def test_cli_exit_codes_for_a_failing_file_and_a_missing_path(tmp_path):
    raw = _raw("read-the-pump")
    raw["expert_solution"]["answers"]["daily_dose"] = "c"
    path = _write(tmp_path, raw)
    r = _cli("check", "--json", str(path))
    assert r.returncode == 1
    [doc] = json.loads(r.stdout)
    assert doc["exercise"] == "read-the-pump" and not doc["ok"]
    assert any("expert solution fails dose_read" in p for p in doc["problems"])
    r = _cli("check", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "no such file" in r.stdout and "Traceback" not in r.stderr


# -- a property: the dose objective agrees with the hand formula --------------------------

@settings(max_examples=40, deadline=None)
@given(day=st.floats(0.05, 0.3), night=st.floats(0.05, 0.3))
def test_flex_dose_objective_matches_the_time_weighted_formula(day, night):
    ex = next(e for e in DECK if e.id == "baclofen-flex-per-hour")
    sub = {"case": {"proposed": {"drugs": [{"drug": "baclofen", "concentration": 500, "unit": "mcg/mL"}],
                                 "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": night},
                                                           {"start": "08:00", "rate_ml_per_day": day},
                                                           {"start": "20:00", "rate_ml_per_day": night}]}}}
    dose = (12 * night + 12 * day) / 24 * 500
    res = score(ex, sub)
    passed = next(o for o in res.objectives if o.id == "dose").passed
    if abs(dose - 54) > 1e-6 and abs(dose - 56) > 1e-6:
        assert passed is (54 <= dose <= 56)
