"""The guided refill visit as a domain state machine (no Streamlit here).

The steps are the ones real clinician programmers walk:

    interrogate -> expected residual -> withdraw and record -> compare (discrepancy
    decision) -> syringe contents -> needle access -> fill -> update reservoir volume
    and alarm -> program (bridge bolus if the concentration changed) -> review and
    send -> printout

A visit configuration (``VisitConfig``, data in an exercise's ``visit:``) may
inject faults the trainee must catch: a refill ``discrepancy`` (an earlier pocket
fill or a pump problem), a ``wrong_concentration`` in the syringe, the needle in
the ``catheter_access_port`` instead of the reservoir, a ``pocket_fill`` while
filling. ``advance(config, state, action)`` applies one step's action and returns
the new state with a record of whether the action was right, what it caught or
missed, and the consequence in numbers. ``run`` folds a whole visit (an expert
solution or a wrong answer is a dict of actions by step).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import library
from ..evaluate import evaluate
from ..evaluation import Evaluation
from ..programs import Case, DrugEntry, Program
from ..sandbox import send_check
from ..units import above, num, when
from .acks import normalise_acks

STEPS: tuple[str, ...] = ("interrogate", "expected_residual", "withdraw", "compare", "syringe", "access", "fill",
                          "update_reservoir", "program", "review_send", "printout")
STEP_TITLES = {
    "interrogate": "Interrogate the pump",
    "expected_residual": "Expected residual volume",
    "withdraw": "Withdraw and record the volume",
    "compare": "Compare: discrepancy decision",
    "syringe": "Check the syringe contents",
    "access": "Needle access",
    "fill": "Fill the reservoir",
    "update_reservoir": "Update reservoir volume and alarm",
    "program": "Program (bridge bolus if the concentration changed)",
    "review_send": "Review and send",
    "printout": "Printout and next refill",
}
# Decision steps: the choices a trainee has (id -> text).
CHOICES: dict[str, dict[str, str]] = {
    "compare": {"proceed": "Within the limit: proceed with the refill",
                "stop": "Discrepancy: stop, do not refill, investigate (pocket fill? pump or catheter problem?)"},
    "syringe": {"accept": "Contents match the order: use this syringe",
                "reject": "Does not match the order: reject it and ask pharmacy for the right one"},
    "access": {"inject": "Needle is in the central reservoir fill port: go on",
               "reposition": "Needle is not in the reservoir: withdraw it, reposition with the template"},
    "fill": {"continue": "Filling normally: continue",
             "stop": "Stop injecting: signs of a pocket fill"},
}
VOLUME_TOL_ML = 0.05
DOSE_TOL = 0.02  # the programmed dose within 2 % of the prescription
FaultKind = Literal["discrepancy", "wrong_concentration", "catheter_access_port", "pocket_fill"]
FAULT_STEP = {"discrepancy": "compare", "wrong_concentration": "syringe", "catheter_access_port": "access",
              "pocket_fill": "fill"}
FAULT_TEXT = {"discrepancy": "refill discrepancy (earlier pocket fill or pump problem)",
              "wrong_concentration": "wrong concentration in the syringe",
              "catheter_access_port": "needle in the catheter access port instead of the reservoir",
              "pocket_fill": "pocket fill while filling"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Fault(_Model):
    kind: FaultKind
    syringe_drugs: list[DrugEntry] | None = Field(None, description="wrong_concentration: what the syringe holds")
    pocket_ml: float | None = Field(None, ge=0, description="pocket_fill: volume that went into the pocket")


class Prescription(_Model):
    drugs: list[DrugEntry] = Field(min_length=1, description="What the reservoir must hold after the refill")
    dose_per_day: dict[str, float] = Field(description="Prescribed daily dose per drug [drug unit/day]")


class VisitConfig(_Model):
    case: dict[str, Any] = Field(description="The pump at interrogation (spec shape; reservoir_ml is the pump's "
                                             "estimate, current is the program running)")
    withdrawn_ml: float | None = Field(None, ge=0, description="What really comes out (default: the estimate)")
    prescription: Prescription
    syringe_volume_ml: float = Field(gt=0)
    faults: list[Fault] = []

    def start_case(self) -> Case:
        return Case.model_validate({**self.case, "proposed": self.case.get("proposed") or self.case["current"]})

    def fault(self, kind: str) -> Fault | None:
        return next((f for f in self.faults if f.kind == kind), None)

    @property
    def true_withdrawn_ml(self) -> float:
        return self.start_case().reservoir_ml if self.withdrawn_ml is None else self.withdrawn_ml


class StepRecord(_Model):
    step: str
    action: Any = None
    correct: bool
    feedback: str
    caught: str | None = None   # fault kind caught here
    missed: str | None = None   # fault kind missed here


class VisitState(_Model):
    step_index: int = 0
    records: list[StepRecord] = []
    ended: bool = False
    outcome: str = ""
    syringe_drugs: list[DrugEntry] | None = None   # what actually went into the reservoir
    pocket_ml: float = 0.0
    recorded_residual_ml: float | None = None
    recorded_withdrawn_ml: float | None = None
    reservoir_set_ml: float | None = None
    alarm_set_ml: float | None = None
    program: dict | None = None
    bridge_bolus_ml: float | None = None
    acknowledgements: dict[str, str] = {}
    sent: bool = False
    hard_stops: int = 0

    @property
    def step(self) -> str | None:
        return None if self.ended or self.step_index >= len(STEPS) else STEPS[self.step_index]

    def record(self, step: str) -> StepRecord | None:
        return next((r for r in reversed(self.records) if r.step == step), None)


# -- what the trainee sees at each step -------------------------------------------------

def _drugs_text(drugs) -> str:
    return " + ".join(f"{e.drug} {num(e.concentration)} {e.unit}" for e in drugs)


def view(config: VisitConfig, state: VisitState) -> dict:
    """What the trainee sees at the current step: title, facts (label, value), an observation, choices."""
    case = config.start_case()
    step = state.step
    out: dict = {"step": step, "title": STEP_TITLES.get(step, "Visit finished"), "facts": [], "observation": "",
                 "choices": CHOICES.get(step, {})}
    p = case.pump.spec
    if step == "interrogate":
        cur = case.current
        cur_eval = evaluate(case)
        out["facts"] = [("pump", p.label),
                        ("drug(s) in the pump", _drugs_text(cur.drugs)),
                        ("daily volume", f"{num(cur_eval.daily_volume_ml, 4)} mL/day"),
                        *[(f"{n} daily dose", f"{num(d.amount, 4)} {d.unit}") for n, d in cur_eval.daily_dose.items()],
                        ("reservoir volume (pump estimate)", f"{num(case.reservoir_ml, 4)} mL"),
                        ("low-reservoir alarm", f"{num(case.pump.lra_ml)} mL"),
                        ("pump clock", when(case.now)),
                        ("next appointment", when(case.next_appointment))]
    elif step == "expected_residual":
        out["observation"] = "Enter the expected residual volume: what the pump believes is left in the reservoir."
    elif step == "withdraw":
        out["observation"] = (f"You empty the reservoir through the refill kit. The syringe reads "
                              f"{num(config.true_withdrawn_ml, 4)} mL. Record the volume withdrawn.")
    elif step == "compare":
        out["facts"] = [("expected residual (recorded)", f"{num(state.recorded_residual_ml, 4)} mL"),
                        ("withdrawn (recorded)", f"{num(state.recorded_withdrawn_ml, 4)} mL"),
                        ("discrepancy limit for this pump", f"{num(p.refill_discrepancy_ml)} mL "
                                                            f"({library.pump_defaults().refill_discrepancy_source})")]
    elif step == "syringe":
        f = config.fault("wrong_concentration")
        drugs = f.syringe_drugs if f and state.syringe_drugs is None else config.prescription.drugs
        out["facts"] = [("order (prescription)", _drugs_text(config.prescription.drugs)),
                        ("syringe label", f"{_drugs_text(drugs)}, {num(config.syringe_volume_ml)} mL")]
    elif step == "access":
        if config.fault("catheter_access_port") and not state.record("access"):
            out["observation"] = ("The needle went in near the rim of the pump, away from the central septum. "
                                  "On aspiration clear fluid flows back freely and keeps coming: more than the "
                                  "empty reservoir could hold.")
        else:
            out["observation"] = ("The needle is through the central septum, inside the template's centre hole; "
                                  "aspiration returns a little air-free drug solution, then nothing: the reservoir "
                                  "is empty.")
    elif step == "fill":
        if config.fault("pocket_fill"):
            out["observation"] = ("Halfway through the injection the resistance changes, the patient says it "
                                  "burns, and the skin over the pump is swelling. An aspiration check returns "
                                  "nothing.")
        else:
            out["observation"] = "The injection runs with steady resistance; an aspiration check halfway returns drug."
    elif step == "update_reservoir":
        out["observation"] = ("Enter the reservoir volume now in the pump and the low-reservoir alarm volume "
                              f"(this pump's default alarm: {num(p.low_reservoir_alarm_ml)} mL).")
        out["facts"] = [("volume injected", f"{num(config.syringe_volume_ml)} mL")]
    elif step == "program":
        out["facts"] = [("order", _drugs_text(config.prescription.drugs)),
                        *[(f"prescribed {n}", f"{num(v)} {library.drug(n).dose_unit}")
                          for n, v in config.prescription.dose_per_day.items()],
                        ("program running", _drugs_text(case.current.drugs)),
                        ("dead space (catheter + tubing)", f"{num(case.pump.dead_space_ml)} mL")]
    elif step == "review_send":
        ev = program_evaluation(config, state)
        out["facts"] = [] if ev is None else [(w.code, f"{w.severity.upper()}: {w.message}") for w in ev.warnings]
    elif step == "printout":
        out["facts"] = printout(config, state)
    return out


# -- the state machine ----------------------------------------------------------------

def _close(a: Any, b: float, tol: float = VOLUME_TOL_ML) -> bool:
    try:
        return abs(float(a) - b) <= tol + 1e-12
    except (TypeError, ValueError):
        return False


def _same_drugs(a: list[DrugEntry], b: list[DrugEntry]) -> bool:
    ca = {e.drug: e.concentration_in_drug_unit for e in a}
    cb = {e.drug: e.concentration_in_drug_unit for e in b}
    return ca.keys() == cb.keys() and all(abs(ca[k] - cb[k]) <= 1e-9 * cb[k] for k in ca)


def visit_case(config: VisitConfig, state: VisitState, program: dict | None = None) -> Case | None:
    """The refill case the trainee programs: recorded volumes, the alarm set, the trainee's program."""
    prog = program if program is not None else state.program
    if prog is None:
        return None
    base = config.start_case()
    pump = {**config.case["pump"]}
    if state.alarm_set_ml is not None:
        pump["low_reservoir_alarm_ml"] = state.alarm_set_ml
    return Case.model_validate({
        **config.case, "pump": pump, "proposed": prog,
        "refill": {"withdrawn_ml": state.recorded_withdrawn_ml if state.recorded_withdrawn_ml is not None
                   else base.reservoir_ml,
                   "added_ml": state.reservoir_set_ml if state.reservoir_set_ml is not None
                   else config.syringe_volume_ml,
                   # what really went into the reservoir: the engine's REFILL_DRUG_MISMATCH compares it
                   "drugs": [e.model_dump(mode="json") for e in (state.syringe_drugs or config.prescription.drugs)]},
    })


def program_evaluation(config: VisitConfig, state: VisitState) -> Evaluation | None:
    try:
        case = visit_case(config, state)
    except ValidationError:
        return None
    return None if case is None else evaluate(case)


def _rec(state: VisitState, step: str, action, correct: bool, feedback: str, caught=None, missed=None,
         end: str | None = None) -> VisitState:
    s = state.model_copy(deep=True)
    s.records.append(StepRecord(step=step, action=action, correct=correct, feedback=feedback, caught=caught,
                                missed=missed))
    if end is not None:
        s.ended, s.outcome = True, end
    else:
        s.step_index += 1
        if s.step_index >= len(STEPS):
            s.ended, s.outcome = True, "Visit complete."
    return s


def advance(config: VisitConfig, state: VisitState, action: Any) -> VisitState:
    """Apply the trainee's action at the current step; a new state (the old one is not changed)."""
    step = state.step
    if step is None:
        return state
    case = config.start_case()
    p = case.pump.spec
    if step == "interrogate":
        return _rec(state, step, action, True, "Interrogated: settings, reservoir estimate and alarms read.")
    if step == "expected_residual":
        ok = _close(action, case.reservoir_ml)
        s = _rec(state, step, action, ok, f"The pump's estimate is {num(case.reservoir_ml, 4)} mL"
                 + ("." if ok else f"; you entered {action} mL."))
        s.recorded_residual_ml = _float(action)
        return s
    if step == "withdraw":
        true = config.true_withdrawn_ml
        ok = _close(action, true)
        s = _rec(state, step, action, ok, f"The syringe read {num(true, 4)} mL"
                 + ("." if ok else f"; you recorded {action} mL."))
        s.recorded_withdrawn_ml = _float(action)
        return s
    if step == "compare":
        diff = abs(config.true_withdrawn_ml - case.reservoir_ml)
        discrepant = above(diff, p.refill_discrepancy_ml)
        numbers = (f"|{num(config.true_withdrawn_ml, 4)} - {num(case.reservoir_ml, 4)}| = {num(diff, 3)} mL against "
                   f"the {num(p.refill_discrepancy_ml)} mL limit of a {p.reservoir_ml:g} mL pump")
        fault = "discrepancy" if config.fault("discrepancy") or discrepant else None
        if action == "stop":
            if discrepant:
                return _rec(state, step, action, True, f"Right: {numbers}. Do not refill; investigate for a pocket "
                            "fill or a pump or catheter problem before the pump is filled again.", caught=fault,
                            end="Refill stopped at the discrepancy, as it should be.")
            return _rec(state, step, action, False, f"{numbers}: within the limit, no reason to stop. The patient "
                        "leaves without a refill and the reservoir runs towards empty.",
                        end="Refill abandoned without cause.")
        if action == "proceed":
            if discrepant:
                return _rec(state, step, action, False, f"Missed: {numbers}. A discrepancy this size can mean the "
                            "last fill went into the pocket; refilling now repeats the hazard.", missed=fault)
            return _rec(state, step, action, True, f"Right: {numbers}, within the limit.")
        return _invalid(state, step, action)
    if step == "syringe":
        f = config.fault("wrong_concentration")
        shown = f.syringe_drugs if f and state.syringe_drugs is None else config.prescription.drugs
        mismatch = not _same_drugs(shown, config.prescription.drugs)
        over = above(config.syringe_volume_ml, p.reservoir_ml)
        bad = mismatch or over
        why = (f"the syringe holds {_drugs_text(shown)}, the order is {_drugs_text(config.prescription.drugs)}"
               if mismatch else f"{num(config.syringe_volume_ml)} mL exceeds the {p.reservoir_ml:g} mL reservoir"
               if over else "label and order match")
        if action == "reject":
            s = _rec(state, step, action, bad, (f"Right: {why}. Pharmacy sends the right syringe." if bad
                                                else f"Not needed: {why}."),
                     caught="wrong_concentration" if bad and mismatch else None)
            s.syringe_drugs = list(config.prescription.drugs)
            return s
        if action == "accept":
            s = _rec(state, step, action, not bad, (f"Right: {why}." if not bad else f"Missed: {why}."),
                     missed="wrong_concentration" if mismatch else None)
            s.syringe_drugs = list(shown)
            return s
        return _invalid(state, step, action)
    if step == "access":
        cap = config.fault("catheter_access_port") and not state.record("access")
        if action == "reposition":
            s = _rec(state, step, action, bool(cap), "Right: free-flowing clear fluid is CSF from the catheter access "
                     "port. Needle out, template on, into the central reservoir septum." if cap else
                     "Not needed: the needle was in the reservoir.", caught="catheter_access_port" if cap else None)
            return s
        if action == "inject":
            if cap:
                return _rec(state, step, action, False, f"Missed: the needle was in the catheter access port. "
                            f"{num(config.syringe_volume_ml)} mL of drug went straight into the intrathecal "
                            "space: a massive overdose (fatal cases reported, ISMP 2004).",
                            missed="catheter_access_port", end="Drug injected into the catheter access port.")
            return _rec(state, step, action, True, "Right: the needle is in the reservoir.")
        return _invalid(state, step, action)
    if step == "fill":
        f = config.fault("pocket_fill")
        if action == "stop":
            if f:
                return _rec(state, step, action, True, "Right: stop at once. Drug in the pocket is absorbed into the "
                            "blood: watch the patient for overdose; do not reprogram as if the reservoir were full.",
                            caught="pocket_fill", end="Fill stopped at the signs of a pocket fill, as it should be.")
            return _rec(state, step, action, False, "Nothing suggested a pocket fill: the fill is left unfinished.",
                        end="Fill abandoned without cause.")
        if action == "continue":
            if f:
                pocket = f.pocket_ml if f.pocket_ml is not None else config.syringe_volume_ml / 2
                s = _rec(state, step, action, False, f"Missed: about {num(pocket)} mL went into the tissue pocket "
                         "(pocket fill: FDA class I recall, deaths).", missed="pocket_fill")
                s.pocket_ml = pocket
                return s
            return _rec(state, step, action, True, "Right: filled into the reservoir.")
        return _invalid(state, step, action)
    if step == "update_reservoir":
        a = action if isinstance(action, dict) else {}
        res_ok = _close(a.get("reservoir_ml"), config.syringe_volume_ml)
        alarm = _float(a.get("alarm_ml"))
        alarm_ok = alarm is not None and not above(p.low_reservoir_alarm_ml, alarm) and alarm < p.reservoir_ml
        fb = [f"reservoir {a.get('reservoir_ml')} mL (injected {num(config.syringe_volume_ml)} mL)"
              + ("" if res_ok else ": wrong, every projection starts from it"),
              f"alarm {a.get('alarm_ml')} mL (this pump's default {num(p.low_reservoir_alarm_ml)} mL)"
              + ("" if alarm_ok else ": below the default, the warning comes too late")]
        s = _rec(state, step, action, res_ok and alarm_ok, "; ".join(fb) + ".")
        s.reservoir_set_ml, s.alarm_set_ml = _float(a.get("reservoir_ml")), alarm
        return s
    if step == "program":
        return _program(config, state, action)
    if step == "review_send":
        a = action if isinstance(action, dict) else {}
        ev = program_evaluation(config, state)
        acks = normalise_acks(ev, a.get("acknowledgements") or {}) if ev else {}
        chk = send_check(ev, acks) if ev else None
        ok = bool(a.get("send")) and chk is not None and chk.allowed
        why = "Sent." if ok else ("Not sent: " + "; ".join(chk.reasons) if chk and chk.reasons else "Not sent.")
        s = _rec(state, step, action, ok, why)
        s.acknowledgements, s.sent = acks, ok
        s.hard_stops += 0 if ev is None else sum(w.severity == "hard" for w in ev.warnings) * bool(a.get("send"))
        return s
    if step == "printout":
        ev = program_evaluation(config, state)
        booked = _date(action.get("next_refill") if isinstance(action, dict) else action)
        limit = ev.refill_by.date() if ev and ev.refill_by else None
        ok = booked is not None and limit is not None and case.now.date() < booked <= limit
        return _rec(state, step, action, ok, f"Refill-by on the printout: {when(ev.refill_by) if ev else 'n/a'}; "
                    f"you booked {booked or 'nothing'}" + ("." if ok else ": the refill must be booked by then."))
    return state


def _program(config: VisitConfig, state: VisitState, action) -> VisitState:
    a = action if isinstance(action, dict) else {}
    try:
        case = visit_case(config, state, a.get("proposed"))
    except ValidationError as exc:
        s = _rec(state, "program", action, False, "Not a valid program: " + "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()))
        return s
    if case is None:
        return _rec(state, "program", action, False, "No program entered.")
    ev = evaluate(case)
    problems = []
    if not _same_drugs(case.proposed.drugs, config.prescription.drugs):
        problems.append(f"the program says {_drugs_text(case.proposed.drugs)}, the reservoir now holds "
                        f"{_drugs_text(config.prescription.drugs)}")
    for drug, want in config.prescription.dose_per_day.items():
        got = ev.daily_dose.get(drug)
        if got is None or abs(got.amount - want) > DOSE_TOL * want:
            problems.append(f"{drug} {num(got.amount, 4) if got else 0} {library.drug(drug).dose_unit}, "
                            f"prescribed {num(want)}")
    hard = [w for w in ev.warnings if w.severity == "hard"]
    problems += [f"hard warning {w.code}" for w in hard]
    bridge = ev.bridge_bolus
    given = _float(a.get("bridge_bolus_ml"))
    if bridge is not None and not _close(given, bridge.volume_ml, 0.02):
        problems.append(f"the concentration changed: a bridge bolus of {num(bridge.volume_ml)} mL (the dead space) "
                        f"is needed, you gave {given or 0} mL")
    if bridge is None and given:
        problems.append("no bridge bolus is needed: the drug and concentration did not change")
    real = state.syringe_drugs or config.prescription.drugs
    if not _same_drugs(real, config.prescription.drugs):
        conc = {e.drug: e.concentration_in_drug_unit for e in real}
        parts = [f"{n} really {num(ev.daily_volume_ml * conc[n], 4)} {library.drug(n).dose_unit}"
                 for n in conc if n in ev.daily_dose]
        problems.append("the reservoir holds the wrong syringe: " + ", ".join(parts))
    s = _rec(state, "program", action, not problems,
             "Program matches the order." if not problems else "; ".join(problems) + ".")
    s.program, s.bridge_bolus_ml = case.proposed.model_dump(mode="json", exclude_none=True), given
    s.hard_stops += len(hard)
    return s


def _invalid(state: VisitState, step: str, action) -> VisitState:
    s = state.model_copy(deep=True)
    s.records.append(StepRecord(step=step, action=action, correct=False,
                                feedback=f"Choose one of: {', '.join(CHOICES.get(step, {}))} (got {action!r})."))
    return s


def _float(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) != float("inf") else None


def _date(v) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def run(config: VisitConfig, actions: dict[str, Any]) -> VisitState:
    """Play a whole visit from a dict of actions by step; stops at the first step without an action
    or at an invalid choice."""
    state = VisitState()
    while state.step is not None and state.step in actions:
        nxt = advance(config, state, actions[state.step])
        if nxt.step_index == state.step_index and not nxt.ended:  # invalid choice: stays put
            return nxt
        state = nxt
    return state


def faults_caught(config: VisitConfig, state: VisitState) -> tuple[list[str], list[str]]:
    """(caught, not caught) fault kinds of the configuration."""
    caught = {r.caught for r in state.records if r.caught}
    kinds = [f.kind for f in config.faults]
    return [k for k in kinds if k in caught], [k for k in kinds if k not in caught]


def printout(config: VisitConfig, state: VisitState) -> list[tuple[str, str]]:
    """The session printout: pump, drug(s), mode, daily dose, reservoir, alarm date, refill-by date."""
    case = config.start_case()
    ev = program_evaluation(config, state)
    prog = Program.model_validate(state.program) if state.program else case.current
    rows = [("pump", f"{case.pump.spec.label}, reservoir {case.pump.spec.reservoir_ml:g} mL"),
            ("drug(s) and concentration", _drugs_text(prog.drugs)),
            ("infusion mode", prog.mode.replace("_", " "))]
    if ev is not None:
        rows += [(f"{n} daily dose", f"{num(d.amount, 4)} {d.unit}") for n, d in ev.daily_dose.items()]
        rows += [("reservoir volume", f"{num(ev.start_volume_ml, 4)} mL"),
                 ("low-reservoir alarm date", when(ev.low_reservoir_alarm_at)),
                 ("refill-by date", when(ev.refill_by)),
                 ("next appointment", when(case.next_appointment))]
    return rows
