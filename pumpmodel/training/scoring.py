"""Scoring a submission: build the trainee's case, evaluate it, run every objective.

``score(exercise, submission) -> Score``: per objective passed or failed with the
reason and the numbers, the overall score (per cent of objectives passed), the
hard stops hit, the overrides with their reasons, and the typical wrong answer
the result matches (by the set of objectives failed), if any.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from ..evaluate import evaluate
from ..evaluation import Evaluation
from ..programs import Case
from . import models as m
from .acks import overrides
from .objectives import CHECKERS, Checked
from .refill_visit import VisitConfig, VisitState, run, visit_case


@dataclass(frozen=True)
class ObjectiveResult:
    id: str
    text: str
    passed: bool
    reason: str


@dataclass
class Score:
    exercise_id: str
    objectives: list[ObjectiveResult]
    evaluation: Evaluation | None
    case: Case | None
    case_errors: list[str] = field(default_factory=list)
    hard_stops: int = 0
    overrides: list[dict] = field(default_factory=list)
    matched_wrong_answer: str | None = None
    visit_state: VisitState | None = None

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.objectives)

    @property
    def percent(self) -> float:
        return 100.0 * sum(o.passed for o in self.objectives) / len(self.objectives)

    @property
    def failed_ids(self) -> list[str]:
        return [o.id for o in self.objectives if not o.passed]


@lru_cache(maxsize=16)
def _story_case(pump_id: str) -> str:
    from ..telemetry import STORY_DIR, load_telemetry

    return load_telemetry(STORY_DIR).pump(pump_id).case().model_dump_json(exclude_none=True)


def apply_changes(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (changes or {}).items():
        if k == "pump" and isinstance(v, dict):
            out["pump"] = {**out.get("pump", {}), **v}
        else:
            out[k] = copy.deepcopy(v)
    return out


def starting_case(ex: m.Exercise) -> dict:
    """The exercise's starting case in the spec's JSON shape (``proposed`` = the current program
    unless the start says otherwise)."""
    import json

    if ex.visit is not None:
        cfg = VisitConfig.model_validate(ex.visit)
        return {**cfg.case, "proposed": cfg.case.get("proposed") or cfg.case.get("current")}
    base = json.loads(_story_case(ex.start.story)) if ex.start.story else copy.deepcopy(ex.start.case)
    base = apply_changes(base, ex.start.changes)
    if base.get("proposed") is None:
        base["proposed"] = base.get("current")
    return base


def trainee_case(ex: m.Exercise, sub: m.Submission) -> dict:
    return apply_changes(starting_case(ex), sub.case)


def error_lines(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(x) for x in e['loc']) or 'case'}: {e['msg']}" for e in exc.errors()]


def score(ex: m.Exercise, sub: m.Submission | dict[str, Any]) -> Score:
    sub = sub if isinstance(sub, m.Submission) else m.Submission.model_validate(sub)
    case = ev = None
    errors: list[str] = []
    cfg = state = None
    if ex.visit is not None:
        cfg = VisitConfig.model_validate(ex.visit)
        state = run(cfg, sub.visit or {})
        try:
            case = visit_case(cfg, state)
        except ValidationError as exc:
            errors = error_lines(exc)
        ev = None if case is None else evaluate(case)
    else:
        try:
            case = Case.model_validate(trainee_case(ex, sub))
            ev = evaluate(case)
        except ValidationError as exc:
            errors = error_lines(exc)
    checked = Checked(exercise=ex, submission=sub, case=case, evaluation=ev, case_errors=errors,
                      visit_config=cfg, visit_state=state)
    results = []
    for o in ex.objectives:
        ok, reason = CHECKERS[o.kind](o, checked)
        results.append(ObjectiveResult(id=o.id, text=o.text, passed=ok, reason=reason))
    acks = {**sub.acknowledgements, **(state.acknowledgements if state else {})}
    hard = state.hard_stops if state is not None else sum(w.severity == "hard" for w in (ev.warnings if ev else []))
    out = Score(exercise_id=ex.id, objectives=results, evaluation=ev, case=case, case_errors=errors, hard_stops=hard,
                overrides=overrides(ev, acks), visit_state=state)
    failed = set(out.failed_ids)
    if failed:
        out.matched_wrong_answer = next((w.label for w in ex.wrong_answers if set(w.fails) == failed), None)
    return out
