"""Training objective checkers, one by one: (passed, reason) on cases worked out by hand. The reason is
what the trainee reads after a submission, so it is checked word for word, on both sides of each limit."""
from datetime import datetime
from types import SimpleNamespace

import pytest

from pumpmodel import Case, evaluate
from pumpmodel.training import load_deck
from pumpmodel.training import models as m
from pumpmodel.training import objectives as ob
from helpers import case, drug, simple

PTM4 = {"bolus_volume_ml": 0.1, "lockout_min": 60, "max_per_day": 4}  # 4 x 0.1 = 0.4 mL/day more


def checked(d=None, errors=(), submission=None, visit_state=None, exercise=None):
    c = None if d is None else Case.model_validate(d)
    return ob.Checked(exercise=exercise, submission=m.Submission(**(submission or {})), case=c,
                      evaluation=None if c is None else evaluate(c), case_errors=list(errors),
                      visit_state=visit_state)


def obj(cls, kind, **kw):
    return cls(id="o", text="objective", kind=kind, **kw)


def dose(lo, hi, name="morphine", which="daily"):
    return obj(m.DoseInRange, "dose_in_range", drug=name, min=lo, max=hi, which=which)


@pytest.mark.parametrize("lo, hi, ok", [(4.5, 5.5, True), (5, 5, True), (5.001, 6, False), (4, 4.999, False)])
def test_dose_in_range_both_sides(lo, hi, ok):
    # morphine 10 mg/mL at 0.5 mL/day = 5 mg/day; the range is inclusive
    got = ob.dose_in_range(dose(lo, hi), checked(case(simple(0.5))))
    assert got == (ok, f"morphine daily dose 5 mg/day; wanted {lo:g} to {hi:g} mg/day")


def test_dose_in_range_with_every_ptm_bolus_and_four_figures():
    # 0.5 + 0.4 = 0.9 mL/day x 10 = 9 mg/day; 0.123456 mL/day x 10 = 1.23456 -> 1.235 (4 figures)
    assert ob.dose_in_range(dose(8, 10, which="max"), checked(case(simple(0.5, ptm=PTM4)))) == (
        True, "morphine maximum daily dose with every PTM bolus 9 mg/day; wanted 8 to 10 mg/day")
    assert ob.dose_in_range(dose(8, 10, which="max"), checked(case(simple(0.5)))) == (
        False, "morphine maximum daily dose with every PTM bolus 5 mg/day; wanted 8 to 10 mg/day")
    assert ob.dose_in_range(dose(1, 2), checked(case(simple(0.123456))))[1].startswith("morphine daily dose 1.235 ")


def test_dose_in_range_names_a_missing_drug_and_an_invalid_program():
    assert ob.dose_in_range(dose(20, 100, "clonidine"), checked(case(simple(0.5)))) == (
        False, "no clonidine in the program (wanted 20 to 100 mcg/day)")
    assert ob.dose_in_range(dose(1, 2), checked(errors=["a", "b", "c", "d"])) == (
        False, "the program is not valid: a; b; c")  # the first three problems
    assert ob.dose_in_range(dose(1, 2), checked()) == (False, "no valid program to check")
    assert ob.dose_in_range(dose(1, 2), checked(visit_state=SimpleNamespace(acknowledgements={}))) == (
        False, "no valid program to check (the visit ended before the program step)")


def test_no_hard_finding_lists_them():
    o = obj(m.NoHardFinding, "no_hard_finding")
    assert ob.no_hard_finding(o, checked(case(simple(0.5)))) == (True, "no hard warning")
    assert ob.no_hard_finding(o, checked(case(simple(0.5), reservoir=25))) == (
        False, "hard warning(s): FILL_EXCEEDS_CAPACITY: reservoir_ml 25 mL is more than the 20 mL reservoir of "
               "programmable-20: impossible.")
    assert ob.no_hard_finding(o, checked(errors=["x"])) == (False, "the program is not valid: x")


def test_no_finding_quotes_the_first():
    o = obj(m.NoFinding, "no_finding", code="DOSE_ABOVE_RECOMMENDED")
    assert ob.no_finding(o, checked(case(simple(0.5)))) == (True, "no DOSE_ABOVE_RECOMMENDED")
    # 1.6 mL/day x 10 = 16 mg/day, above 15
    assert ob.no_finding(o, checked(case(simple(1.6)))) == (
        False, "DOSE_ABOVE_RECOMMENDED: morphine 16 mg/day is above the recommended maximum 15 mg/day.")
    assert ob.no_finding(o, checked())[0] is False


REASON = "checked with the prescriber"  # 27 characters


@pytest.mark.parametrize("acks, ok, reason", [
    ({"DOSE_ABOVE_RECOMMENDED:morphine": REASON}, True, f"DOSE_ABOVE_RECOMMENDED acknowledged: \"{REASON}\""),
    ({"DOSE_ABOVE_RECOMMENDED": REASON}, True, f"DOSE_ABOVE_RECOMMENDED acknowledged: \"{REASON}\""),  # by code
    ({"DOSE_ABOVE_RECOMMENDED:morphine": "ok"}, False,
     "DOSE_ABOVE_RECOMMENDED (morphine 16 mg/day is above the recommended maximum 15 mg/day.) needs an "
     "acknowledgement with a reason of at least 10 characters"),
    ({"DOSE_ABOVE_RECOMMENDED:morphine": "0123456789"}, True,  # exactly 10 characters
     "DOSE_ABOVE_RECOMMENDED acknowledged: \"0123456789\""),
])
def test_finding_acknowledged(acks, ok, reason):
    o = obj(m.FindingAcknowledged, "finding_acknowledged", code="DOSE_ABOVE_RECOMMENDED")
    assert ob.finding_acknowledged(o, checked(case(simple(1.6)), submission={"acknowledgements": acks})) == (
        ok, reason)


def test_finding_acknowledged_needs_the_finding_and_reads_the_visit():
    o = obj(m.FindingAcknowledged, "finding_acknowledged", code="DOSE_ABOVE_RECOMMENDED")
    assert ob.finding_acknowledged(o, checked(case(simple(0.5)))) == (
        False, "DOSE_ABOVE_RECOMMENDED does not appear: the situation that raises it was not entered")
    # acknowledgements given during a refill visit count too
    visit = SimpleNamespace(acknowledgements={"DOSE_ABOVE_RECOMMENDED:morphine": REASON}, bridge_bolus_ml=None)
    assert ob.finding_acknowledged(o, checked(case(simple(1.6)), visit_state=visit))[0] is True
    assert ob.finding_acknowledged(o, checked())[0] is False


def test_sendable():
    o = obj(m.Sendable, "sendable")
    same = case(simple(0.5), current=simple(0.5))  # no finding at all
    assert ob.sendable(o, checked(same)) == (True, "the program can be sent")
    above = case(simple(1.6), current=simple(1.5))  # 16 mg/day (above 15), a raise of 6.7 %: one soft finding
    assert ob.sendable(o, checked(above)) == (
        False, "cannot be sent: 1 soft warning(s) not acknowledged with a reason: DOSE_ABOVE_RECOMMENDED (morphine)")
    assert ob.sendable(o, checked(above, submission={"acknowledgements": {
        "DOSE_ABOVE_RECOMMENDED:morphine": REASON}})) == (True, "the program can be sent")
    # no current program: the start dose (16 mg/day, usual 0.1-0.5) needs its own reason too
    assert ob.sendable(o, checked(case(simple(1.6)), submission={"acknowledgements": {
        "DOSE_ABOVE_RECOMMENDED:morphine": REASON}})) == (
        False, "cannot be sent: 1 soft warning(s) not acknowledged with a reason: START_DOSE_ABOVE_RECOMMENDED "
               "(morphine)")
    assert ob.sendable(o, checked(case(simple(0.5), current=simple(0.5), reservoir=25))) == (
        False, "cannot be sent: hard warning FILL_EXCEEDS_CAPACITY: reservoir_ml 25 mL is more than the 20 mL "
               "reservoir of programmable-20: impossible.")
    assert ob.sendable(o, checked())[0] is False


@pytest.mark.parametrize("figure, after, appointment, ok, reason", [
    # 16 mL to the 2 mL alarm at 1 mL/day from 2026-11-21 09:00: 2026-12-07 09:00 (no PTM: worst = programmed)
    ("refill_by", "next_appointment", "2026-12-01T09:00:00", True,
     "refill by 2026-12-07 09:00; the next appointment 2026-12-01 09:00"),
    ("refill_by", "next_appointment", "2026-12-07T09:00:00", True,  # on the appointment itself: in time
     "refill by 2026-12-07 09:00; the next appointment 2026-12-07 09:00"),
    ("low_reservoir_alarm_at", "next_appointment", "2026-12-07T09:01:00", False,
     "low-reservoir alarm at 2026-12-07 09:00; the next appointment 2026-12-07 09:01"),
    ("empty_at", datetime(2026, 12, 9, 9, 0), None, True,  # 18 mL: 2026-12-09 09:00
     "empty at 2026-12-09 09:00; the deadline 2026-12-09 09:00"),
    ("refill_by", "next_appointment", None, False, "no next appointment is set"),
])
def test_date_after(figure, after, appointment, ok, reason):
    o = obj(m.DateAfter, "date_after", figure=figure, after=after)
    assert ob.date_after(o, checked(case(simple(1.0), appointment=appointment))) == (ok, reason)


def test_date_after_never_reached_passes():
    o = obj(m.DateAfter, "date_after")
    stopped = case({"drugs": [drug()], "mode": "stopped"}, appointment="2026-12-01T09:00:00")
    assert ob.date_after(o, checked(stopped)) == (True, "refill by: never; the next appointment 2026-12-01 09:00")
    assert ob.date_after(o, checked())[0] is False


CHANGE = case(simple(0.5, drug("morphine", 25)), current=simple(0.5))  # 0.25 mL dead space, 0.25 / 0.5 x 24 = 12 h
CLEAR = "; without it the old solution runs for 12 h"


@pytest.mark.parametrize("given, ok, reason", [
    (0.25, True, f"bridge bolus 0.25 mL for a 0.25 mL dead space{CLEAR}"),
    (0.26, True, f"bridge bolus 0.26 mL for a 0.25 mL dead space{CLEAR}"),   # within 0.02 mL
    (0.3, False, f"the concentration changed: bridge bolus 0.25 mL (the dead space) needed, given 0.3{CLEAR}"),
    (None, False, f"the concentration changed: bridge bolus 0.25 mL (the dead space) needed, given none{CLEAR}"),
])
def test_bridge_bolus_addressed(given, ok, reason):
    o = obj(m.BridgeBolusAddressed, "bridge_bolus_addressed")
    assert ob.bridge_bolus_addressed(o, checked(CHANGE, submission={"bridge_bolus_ml": given})) == (ok, reason)


def test_bridge_bolus_when_none_is_needed_or_nothing_flows():
    o = obj(m.BridgeBolusAddressed, "bridge_bolus_addressed")
    same = case(simple(0.5), current=simple(0.4))
    assert ob.bridge_bolus_addressed(o, checked(same)) == (True, "no bridge bolus needed: drug and concentration "
                                                                 "unchanged")
    assert ob.bridge_bolus_addressed(o, checked(same, submission={"bridge_bolus_ml": 0.25})) == (
        False, "no bridge bolus is needed (same drug and concentration), you gave 0.25 mL")
    stopped = case({"drugs": [drug("morphine", 25)], "mode": "stopped"}, current=simple(0.5))
    assert ob.bridge_bolus_addressed(o, checked(stopped, submission={"bridge_bolus_ml": 0.25})) == (
        True, "bridge bolus 0.25 mL for a 0.25 mL dead space")  # nothing delivered: no clearing time
    # the volume given during a refill visit is the one that counts
    visit = SimpleNamespace(acknowledgements={}, bridge_bolus_ml=0.25)
    assert ob.bridge_bolus_addressed(o, checked(CHANGE, visit_state=visit))[0] is True
    assert ob.bridge_bolus_addressed(o, checked())[0] is False


@pytest.mark.parametrize("conc, ok", [(500, True), (500.0000001, True), (2000, False)])
def test_concentration_is(conc, ok):
    o = obj(m.ConcentrationIs, "concentration_is", drug="baclofen", concentration=500)
    got = ob.concentration_is(o, checked(case(simple(0.1, drug("baclofen", conc, "mcg/mL")))))
    assert got == (ok, f"baclofen {conc:g} mcg/mL; wanted 500 mcg/mL")


def test_concentration_is_names_a_missing_drug():
    o = obj(m.ConcentrationIs, "concentration_is", drug="baclofen", concentration=500)
    assert ob.concentration_is(o, checked(case(simple(0.5)))) == (False, "no baclofen in the program")
    assert ob.concentration_is(o, checked(errors=["e"])) == (False, "the program is not valid: e")


def test_answer():
    ex = next(e for e in load_deck() if e.questions)
    q = ex.questions[0]
    right, wrong = q.choices[0].id, q.choices[1].id
    o = obj(m.Answer, "answer", question=q.id, correct=[right])
    assert ob.answer(o, checked(exercise=ex, submission={"answers": {q.id: right}})) == (
        True, f"answered: {q.choices[0].text}")
    assert ob.answer(o, checked(exercise=ex, submission={"answers": {q.id: wrong}})) == (
        False, f"answered: {q.choices[1].text}; expected: {q.choices[0].text}")
    assert ob.answer(o, checked(exercise=ex)) == (False, f"\"{q.prompt}\" not answered")


def test_bridge_clearing_time_has_three_figures_and_the_tolerance_is_inclusive():
    # 0.25 mL dead space at 0.7 mL/day: 0.25 / 0.7 x 24 = 8.571 h -> "8.57" (3 figures)
    o = obj(m.BridgeBolusAddressed, "bridge_bolus_addressed")
    faster = case(simple(0.7, drug("morphine", 25)), current=simple(0.5))
    assert ob.bridge_bolus_addressed(o, checked(faster, submission={"bridge_bolus_ml": 0.25})) == (
        True, "bridge bolus 0.25 mL for a 0.25 mL dead space; without it the old solution runs for 8.57 h")
    wide = obj(m.BridgeBolusAddressed, "bridge_bolus_addressed", tolerance_ml=0.25)
    assert ob.bridge_bolus_addressed(wide, checked(CHANGE, submission={"bridge_bolus_ml": 0.5}))[0] is True  # 0.25 off


def test_several_hard_findings_are_all_listed():
    # 5 mL/day x 10 = 50 mg/day (hard 40) and 25 mL in a 20 mL reservoir; same rate as now: nothing soft
    d = case(simple(5.0), current=simple(5.0), reservoir=25)
    fill = "FILL_EXCEEDS_CAPACITY: reservoir_ml 25 mL is more than the 20 mL reservoir of programmable-20: impossible."
    dose_ = "DOSE_ABOVE_HARD_MAX: morphine 50 mg/day is above the hard maximum 40 mg/day."
    assert ob.no_hard_finding(obj(m.NoHardFinding, "no_hard_finding"), checked(d)) == (
        False, f"hard warning(s): {fill}; {dose_}")
    assert ob.sendable(obj(m.Sendable, "sendable"), checked(d)) == (
        False, f"cannot be sent: hard warning {fill}; hard warning {dose_}")


def test_answer_with_several_right_choices():
    q = m.Question(id="q", prompt="Which?", choices=[{"id": "a", "text": "A"}, {"id": "b", "text": "B"},
                                                     {"id": "c", "text": "C"}])
    o = obj(m.Answer, "answer", question="q", correct=["a", "c"])
    ex = SimpleNamespace(questions=[q])
    assert ob.answer(o, checked(exercise=ex, submission={"answers": {"q": "b"}})) == (
        False, "answered: B; expected: A / C")
    assert ob.answer(o, checked(exercise=ex, submission={"answers": {"q": "c"}})) == (True, "answered: C")


DISCREPANCY = "refill discrepancy (earlier pocket fill or pump problem)"
POCKET = "pocket fill while filling"


def visit(faults, caught):
    config = SimpleNamespace(faults=[SimpleNamespace(kind=k) for k in faults])
    state = SimpleNamespace(records=[SimpleNamespace(caught=k) for k in caught], acknowledgements={})
    return config, state


@pytest.mark.parametrize("faults, caught, result", [
    (["discrepancy", "pocket_fill"], ["discrepancy", "pocket_fill"], (True, f"caught: {DISCREPANCY}; {POCKET}")),
    (["discrepancy", "pocket_fill"], ["discrepancy"], (False, f"missed: {POCKET}")),
    (["discrepancy", "pocket_fill"], [], (False, f"missed: {DISCREPANCY}; {POCKET}")),
    ([], [], (True, "no fault injected")),
])
def test_fault_caught(faults, caught, result):
    config, state = visit(faults, caught)
    c = checked(visit_state=state)
    c.visit_config = config
    assert ob.fault_caught(obj(m.FaultCaught, "fault_caught"), c) == result


def test_fault_caught_needs_a_played_visit():
    config, state = visit(["discrepancy"], ["discrepancy"])
    o = obj(m.FaultCaught, "fault_caught")
    assert ob.fault_caught(o, checked()) == (False, "the visit was not played")
    assert ob.fault_caught(o, checked(visit_state=state)) == (False, "the visit was not played")  # no configuration


def test_visit_step():
    o = obj(m.VisitStep, "visit_step", step="interrogate")
    assert ob.visit_step(o, checked()) == (False, "Interrogate the pump: not reached")
    ended = SimpleNamespace(record=lambda step: None, outcome="Visit ended: pump not interrogated.")
    assert ob.visit_step(o, checked(visit_state=ended)) == (
        False, "Interrogate the pump: not reached (Visit ended: pump not interrogated.)")
    assert ob.visit_step(o, checked(visit_state=SimpleNamespace(record=lambda step: None, outcome=""))) == (
        False, "Interrogate the pump: not reached")
    done = SimpleNamespace(record=lambda step: SimpleNamespace(correct=step == "interrogate", feedback="read 12 mL"),
                           outcome="")
    assert ob.visit_step(o, checked(visit_state=done)) == (True, "Interrogate the pump: read 12 mL")
    other = obj(m.VisitStep, "visit_step", step="debrief")  # not a titled step: its id
    assert ob.visit_step(other, checked(visit_state=done)) == (False, "debrief: read 12 mL")
