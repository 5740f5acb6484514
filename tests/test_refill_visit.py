"""The guided refill visit state machine: steps, fault injection, consequences in numbers."""
from __future__ import annotations

import pytest

from pumpmodel.training.deck import exercise
from pumpmodel.training.refill_visit import STEPS, VisitConfig, VisitState, advance, faults_caught, printout, run, view


def _cfg(ex_id: str) -> VisitConfig:
    return VisitConfig.model_validate(exercise(ex_id).visit)


def _routine_actions() -> dict:
    return dict(exercise("refill-visit-routine").expert_solution.visit)


def test_steps_are_the_programmers_order():
    assert STEPS == ("interrogate", "expected_residual", "withdraw", "compare", "syringe", "access", "fill",
                     "update_reservoir", "program", "review_send", "printout")


def test_routine_visit_walks_every_step_correctly():
    cfg = _cfg("refill-visit-routine")
    state = run(cfg, _routine_actions())
    assert state.ended and state.outcome == "Visit complete."
    assert [r.step for r in state.records] == list(STEPS)
    assert all(r.correct for r in state.records), [(r.step, r.feedback) for r in state.records if not r.correct]
    rows = dict(printout(cfg, state))
    assert rows["morphine daily dose"] == "3 mg/day"  # 0.3 mL/day x 10 mg/mL
    assert rows["reservoir volume"] == "20 mL"
    # (20 - 2) mL / 0.3 mL/day = 60 days after 2026-11-21 09:00
    assert rows["low-reservoir alarm date"] == "2027-01-20 09:00"


def test_compare_uses_the_limit_for_the_pump_size():
    cfg = _cfg("refill-visit-discrepancy")  # 40 mL pump, |3.2 - 6.0| = 2.8 mL > 2 mL
    s = run(cfg, {"interrogate": True, "expected_residual": 6.0, "withdraw": 3.2})
    stop = advance(cfg, s, "stop")
    assert stop.ended and stop.records[-1].correct and stop.records[-1].caught == "discrepancy"
    assert "2.8 mL" in stop.records[-1].feedback and "2 mL limit of a 40 mL pump" in stop.records[-1].feedback
    go = advance(cfg, s, "proceed")
    assert not go.ended and not go.records[-1].correct and go.records[-1].missed == "discrepancy"
    # the routine visit: |4.1 - 4.2| = 0.1 mL: stopping is wrong and ends the visit without a refill
    r = _cfg("refill-visit-routine")
    s = run(r, {"interrogate": True, "expected_residual": 4.2, "withdraw": 4.1})
    wrong_stop = advance(r, s, "stop")
    assert wrong_stop.ended and not wrong_stop.records[-1].correct


def test_wrong_syringe_accepted_shows_the_real_dose():
    cfg = _cfg("refill-visit-wrong-syringe")
    actions = dict(exercise("refill-visit-wrong-syringe").wrong_answers[0].submission.visit)
    state = run(cfg, actions)
    prog = state.record("program")
    # programmed 0.8 mL/day at the ordered 500 mcg/mL, the reservoir holds 2000 mcg/mL: 1600 mcg/day
    assert not prog.correct and "baclofen really 1600 mcg/day" in prog.feedback
    assert faults_caught(cfg, state) == ([], ["wrong_concentration"])
    ok = run(cfg, dict(exercise("refill-visit-wrong-syringe").expert_solution.visit))
    assert ok.record("syringe").caught == "wrong_concentration" and ok.record("program").correct


def test_catheter_access_port_injection_ends_the_visit_with_the_overdose():
    cfg = _cfg("refill-visit-catheter-access-port")
    s = run(cfg, {"interrogate": True, "expected_residual": 5.0, "withdraw": 4.9, "compare": "proceed",
                  "syringe": "accept"})
    assert "keeps coming" in view(cfg, s)["observation"]
    bad = advance(cfg, s, "inject")
    assert bad.ended and bad.records[-1].missed == "catheter_access_port" and "18 mL" in bad.records[-1].feedback
    good = advance(cfg, s, "reposition")
    assert good.step == "fill" and good.records[-1].caught == "catheter_access_port"


def test_pocket_fill_missed_is_counted_in_the_pocket():
    cfg = _cfg("refill-visit-pocket-fill")
    s = run(cfg, {"interrogate": True, "expected_residual": 3.5, "withdraw": 3.4, "compare": "proceed",
                  "syringe": "accept", "access": "inject"})
    missed = advance(cfg, s, "continue")
    assert missed.pocket_ml == 9 and "9 mL went into the tissue pocket" in missed.records[-1].feedback
    caught = advance(cfg, s, "stop")
    assert caught.ended and caught.records[-1].caught == "pocket_fill"


def test_invalid_choice_stays_on_the_step_and_says_what_is_allowed():
    cfg = _cfg("refill-visit-routine")
    s = run(cfg, {"interrogate": True, "expected_residual": 4.2, "withdraw": 4.1})
    after = advance(cfg, s, "maybe")
    assert after.step == "compare" and not after.records[-1].correct
    assert "proceed, stop" in after.records[-1].feedback
    assert s.records == after.records[:-1]  # the old state is not changed


def test_concentration_change_needs_the_bridge_bolus_at_the_program_step():
    cfg = VisitConfig.model_validate({**exercise("refill-visit-routine").visit,
                                      "prescription": {"drugs": [{"drug": "morphine", "concentration": 25,
                                                                  "unit": "mg/mL"}],
                                                       "dose_per_day": {"morphine": 3}}})
    actions = _routine_actions()
    actions["syringe"] = "accept"
    actions["program"] = {"proposed": {"drugs": [{"drug": "morphine", "concentration": 25, "unit": "mg/mL"}],
                                       "mode": "simple_continuous", "rate_ml_per_day": 0.12}}
    no_bridge = run(cfg, actions).record("program")
    assert not no_bridge.correct and "bridge bolus of 0.25 mL" in no_bridge.feedback
    actions["program"]["bridge_bolus_ml"] = 0.25
    assert run(cfg, actions).record("program").correct


@pytest.mark.parametrize("step", ["update_reservoir"])
def test_alarm_below_the_default_is_wrong(step):
    cfg = _cfg("refill-visit-routine")
    actions = _routine_actions()
    actions["update_reservoir"] = {"reservoir_ml": 20, "alarm_ml": 0.5}
    rec = run(cfg, actions).record(step)
    assert not rec.correct and "below the default" in rec.feedback


def test_state_round_trips_as_json():
    cfg = _cfg("refill-visit-routine")
    s = run(cfg, _routine_actions())
    again = VisitState.model_validate_json(s.model_dump_json())
    assert again == s


def test_the_wrong_syringe_in_the_reservoir_is_a_hard_refill_drug_mismatch():
    """The visit passes what really went into the reservoir as refill.drugs: the engine blocks the send."""
    cfg = _cfg("refill-visit-wrong-syringe")
    state = run(cfg, dict(exercise("refill-visit-wrong-syringe").wrong_answers[0].submission.visit))
    assert "hard warning REFILL_DRUG_MISMATCH" in state.record("program").feedback
    assert not state.record("review_send").correct and state.hard_stops == 2  # at programming and at the send
