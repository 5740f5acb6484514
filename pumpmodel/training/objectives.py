"""Objective checkers: one small function per objective kind, over evaluate()'s
result and the trainee's submission. Each returns (passed, reason); the reason
names the numbers either way, so feedback can say exactly why."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .. import library
from ..evaluation import Evaluation
from ..programs import Case
from ..sandbox import send_check
from ..units import above, below, num, when
from . import models as m
from .acks import normalise_acks, reason_for
from .refill_visit import FAULT_TEXT, STEP_TITLES, VisitConfig, VisitState, faults_caught


@dataclass
class Checked:
    """Everything objectives look at for one submission."""

    exercise: m.Exercise
    submission: m.Submission
    case: Case | None
    evaluation: Evaluation | None
    case_errors: list[str] = field(default_factory=list)
    visit_config: VisitConfig | None = None
    visit_state: VisitState | None = None


Result = tuple[bool, str]
NO_PROGRAM = "no valid program to check"


def _no_eval(c: Checked) -> str:
    if c.case_errors:
        return "the program is not valid: " + "; ".join(c.case_errors[:3])
    return NO_PROGRAM + (" (the visit ended before the program step)" if c.visit_state is not None else "")


def dose_in_range(o: m.DoseInRange, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    doses = c.evaluation.daily_dose if o.which == "daily" else c.evaluation.max_daily_dose
    unit = library.drug(o.drug).dose_unit
    label = "daily dose" if o.which == "daily" else "maximum daily dose with every PTM bolus"
    d = doses.get(o.drug)
    if d is None:
        return False, f"no {o.drug} in the program (wanted {num(o.min)} to {num(o.max)} {unit})"
    ok = not below(d.amount, o.min) and not above(d.amount, o.max)
    return ok, f"{o.drug} {label} {num(d.amount, 4)} {unit}; wanted {num(o.min)} to {num(o.max)} {unit}"


def no_hard_finding(o: m.NoHardFinding, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    hard = [w for w in c.evaluation.warnings if w.severity == "hard"]
    if not hard:
        return True, "no hard warning"
    return False, "hard warning(s): " + "; ".join(f"{w.code}: {w.message}" for w in hard)


def no_finding(o: m.NoFinding, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    hits = [w for w in c.evaluation.warnings if w.code == o.code]
    if not hits:
        return True, f"no {o.code}"
    return False, f"{o.code}: {hits[0].message}"


def finding_acknowledged(o: m.FindingAcknowledged, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    hits = [w for w in c.evaluation.warnings if w.code == o.code]
    if not hits:
        return False, f"{o.code} does not appear: the situation that raises it was not entered"
    acks = _acks(c)
    short = [w for w in hits if len(reason_for(w, acks)) < o.min_reason_chars]
    if short:
        return False, (f"{o.code} ({short[0].message}) needs an acknowledgement with a reason of at least "
                       f"{o.min_reason_chars} characters")
    return True, f"{o.code} acknowledged: \"{reason_for(hits[0], acks)}\""


def sendable(o: m.Sendable, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    chk = send_check(c.evaluation, normalise_acks(c.evaluation, _acks(c)))
    return chk.allowed, "the program can be sent" if chk.allowed else "cannot be sent: " + "; ".join(chk.reasons)


def date_after(o: m.DateAfter, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    moment = getattr(c.evaluation, o.figure)
    ref = c.case.next_appointment if o.after == "next_appointment" else o.after
    ref_label = "the next appointment" if o.after == "next_appointment" else "the deadline"
    label = o.figure.replace("_", " ").replace("low reservoir", "low-reservoir")
    if ref is None:
        return False, "no next appointment is set"
    if moment is None:  # never reached: nothing delivered, or beyond 100 years
        return True, f"{label}: never; {ref_label} {when(ref)}"
    return moment >= ref, f"{label} {when(moment)}; {ref_label} {when(ref)}"


def bridge_bolus_addressed(o: m.BridgeBolusAddressed, c: Checked) -> Result:
    if c.evaluation is None:
        return False, _no_eval(c)
    bridge = c.evaluation.bridge_bolus
    given = c.submission.bridge_bolus_ml
    if c.visit_state is not None and c.visit_state.bridge_bolus_ml is not None:
        given = c.visit_state.bridge_bolus_ml
    if bridge is None:
        if given:
            return False, f"no bridge bolus is needed (same drug and concentration), you gave {num(given)} mL"
        return True, "no bridge bolus needed: drug and concentration unchanged"
    hours = bridge.hours_to_clear_without
    clear = f"; without it the old solution runs for {num(hours, 3)} h" if hours is not None else ""
    if given is None or abs(given - bridge.volume_ml) > o.tolerance_ml:
        return False, (f"the concentration changed: bridge bolus {num(bridge.volume_ml)} mL (the dead space) "
                       f"needed, given {num(given) if given else 'none'}{clear}")
    return True, f"bridge bolus {num(given)} mL for a {num(bridge.volume_ml)} mL dead space{clear}"


def answer(o: m.Answer, c: Checked) -> Result:
    q = next(q for q in c.exercise.questions if q.id == o.question)
    got = c.submission.answers.get(o.question)
    if got is None:
        return False, f"\"{q.prompt}\" not answered"
    right = " / ".join(q.choice_text(x) for x in o.correct)
    if got in o.correct:
        return True, f"answered: {q.choice_text(got)}"
    return False, f"answered: {q.choice_text(got)}; expected: {right}"


def concentration_is(o: m.ConcentrationIs, c: Checked) -> Result:
    if c.case is None:
        return False, _no_eval(c)
    conc = c.case.proposed.concentrations().get(o.drug)
    unit = library.drug(o.drug).concentration_unit
    if conc is None:
        return False, f"no {o.drug} in the program"
    ok = abs(conc - o.concentration) <= 1e-9 * o.concentration
    return ok, f"{o.drug} {num(conc)} {unit}; wanted {num(o.concentration)} {unit}"


def visit_step(o: m.VisitStep, c: Checked) -> Result:
    st = c.visit_state
    title = STEP_TITLES.get(o.step, o.step)
    rec = None if st is None else st.record(o.step)
    if rec is None:
        return False, f"{title}: not reached" + (f" ({st.outcome})" if st and st.outcome else "")
    return rec.correct, f"{title}: {rec.feedback}"


def fault_caught(o: m.FaultCaught, c: Checked) -> Result:
    if c.visit_state is None or c.visit_config is None:
        return False, "the visit was not played"
    caught, missed = faults_caught(c.visit_config, c.visit_state)
    if missed:
        return False, "missed: " + "; ".join(FAULT_TEXT[k] for k in missed)
    return True, ("caught: " + "; ".join(FAULT_TEXT[k] for k in caught)) if caught else "no fault injected"


def _acks(c: Checked) -> dict[str, str]:
    if c.visit_state is not None and c.visit_state.acknowledgements:
        return {**c.submission.acknowledgements, **c.visit_state.acknowledgements}
    return c.submission.acknowledgements


CHECKERS: dict[str, Callable[..., Result]] = {
    "dose_in_range": dose_in_range, "no_hard_finding": no_hard_finding, "no_finding": no_finding,
    "finding_acknowledged": finding_acknowledged, "sendable": sendable, "date_after": date_after,
    "bridge_bolus_addressed": bridge_bolus_addressed, "answer": answer, "concentration_is": concentration_is,
    "visit_step": visit_step, "fault_caught": fault_caught,
}
