"""Exercises as data: pydantic models for the YAML deck (no Streamlit here).

An exercise sets a trainee a task on a starting situation (a story patient's
telemetry or an inline case), checks what the trainee submits against its
objectives, and carries its own expert solution (must pass every objective)
and typical wrong answers (each must fail the objectives it names). Adding an
exercise is a data change: one YAML file in ``pumpmodel/data/exercises/``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime, model_validator

Level = Literal["beginner", "intermediate", "advanced"]
LEVELS: tuple[str, ...] = Level.__args__  # type: ignore[attr-defined]
SLUG = r"^[a-z0-9][a-z0-9-]{1,60}$"
# What the trainee may change in the player (and what a submission's `case` may hold).
Editable = Literal["proposed", "refill", "next_appointment", "low_reservoir_alarm_ml", "bridge_bolus",
                   "acknowledgements"]
# Evaluation moments an objective can compare with the next appointment.
Figure = Literal["refill_by", "low_reservoir_alarm_at", "low_reservoir_alarm_at_worst_case", "empty_at"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Choice(_Model):
    id: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    text: str = Field(min_length=1)


class Question(_Model):
    """A multiple-choice question (e.g. "what do you do about this discrepancy?")."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,30}$")
    prompt: str = Field(min_length=1)
    choices: list[Choice] = Field(min_length=2)

    @model_validator(mode="after")
    def _distinct(self) -> "Question":
        ids = [c.id for c in self.choices]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id}: choice ids repeat")
        return self

    def choice_text(self, choice_id: str | None) -> str:
        return next((c.text for c in self.choices if c.id == choice_id), "no answer")


# -- objectives: what is checked on a submission (checkers in objectives.py) --------------

class _Objective(_Model):
    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$", description="Unique within the exercise")
    text: str = Field(min_length=1, description="What the trainee reads, e.g. 'Morphine 4.5 to 5.5 mg/day'")


class DoseInRange(_Objective):
    kind: Literal["dose_in_range"]
    drug: str
    min: float = Field(ge=0, description="[drug unit/day], inclusive")
    max: float = Field(ge=0, description="[drug unit/day], inclusive")
    which: Literal["daily", "max"] = Field("daily", description="daily_dose, or max_daily_dose (every PTM bolus)")


class NoHardFinding(_Objective):
    kind: Literal["no_hard_finding"]


class NoFinding(_Objective):
    kind: Literal["no_finding"]
    code: str


class FindingAcknowledged(_Objective):
    kind: Literal["finding_acknowledged"]
    code: str
    min_reason_chars: int = Field(10, ge=1)


class Sendable(_Objective):
    """No hard finding and every soft finding acknowledged with a reason (the sandbox's send rule)."""

    kind: Literal["sendable"]


class DateAfter(_Objective):
    """An evaluation moment (refill-by by default) not before the next appointment (or a fixed time)."""

    kind: Literal["date_after"]
    figure: Figure = "refill_by"
    after: Literal["next_appointment"] | NaiveDatetime = "next_appointment"


class BridgeBolusAddressed(_Objective):
    """A bridge bolus of the dead-space volume is given when the drug or concentration changes (and only then)."""

    kind: Literal["bridge_bolus_addressed"]
    tolerance_ml: float = Field(0.02, ge=0)


class Answer(_Objective):
    kind: Literal["answer"]
    question: str
    correct: list[str] = Field(min_length=1)


class ConcentrationIs(_Objective):
    kind: Literal["concentration_is"]
    drug: str
    concentration: float = Field(gt=0, description="[drug unit/mL]")


class VisitStep(_Objective):
    """Refill visit: the trainee's action at this step was right."""

    kind: Literal["visit_step"]
    step: str


class FaultCaught(_Objective):
    """Refill visit: every injected fault was caught at its step."""

    kind: Literal["fault_caught"]


Objective = Annotated[
    Union[DoseInRange, NoHardFinding, NoFinding, FindingAcknowledged, Sendable, DateAfter, BridgeBolusAddressed,
          Answer, ConcentrationIs, VisitStep, FaultCaught],
    Field(discriminator="kind"),
]


# -- submissions ----------------------------------------------------------------------

class Submission(_Model):
    """What a trainee hands in (and what expert solutions and wrong answers are written as).

    ``case`` holds top-level changes to the starting case in the spec's JSON shape
    (``proposed``, ``refill``, ``next_appointment``, ...; ``pump`` is merged key by key).
    ``acknowledgements`` maps a finding code (or ``CODE:drug``) to the reason.
    ``visit`` holds a refill visit's actions by step (see refill_visit.py)."""

    case: dict[str, Any] = {}
    acknowledgements: dict[str, str] = {}
    answers: dict[str, str] = {}
    bridge_bolus_ml: float | None = Field(None, ge=0)
    visit: dict[str, Any] | None = None


class WrongAnswer(_Model):
    label: str = Field(min_length=1, description="The slip in a few words, e.g. 'rate entered per hour'")
    submission: Submission
    fails: list[str] = Field(min_length=1, description="Objective ids this answer must fail")


class Debrief(_Model):
    text: str = Field(min_length=1, description="What an expert does and why")
    source: str = Field(min_length=1)


class Start(_Model):
    """The starting situation: a story patient's telemetry or an inline case, then optional changes."""

    story: str | None = Field(None, pattern=r"^story-[a-z]$")
    case: dict[str, Any] | None = None
    changes: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one(self) -> "Start":
        if (self.story is None) == (self.case is None):
            raise ValueError("start needs exactly one of story (a story patient id) or case (an inline case)")
        return self


class Exercise(_Model):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    level: Level
    order: int = Field(0, description="Position within the level (lower first)")
    learning_objective: str = Field(min_length=1)
    fault: str = Field(min_length=1, description="The incident or slip the exercise teaches to catch")
    topics: list[str] = []
    briefing: str = Field(min_length=1)
    start: Start | None = Field(None, description="The starting situation (not for a refill visit)")
    task: str = Field(min_length=1)
    edit: list[Editable] = ["proposed", "acknowledgements"]
    questions: list[Question] = []
    objectives: list[Objective] = Field(min_length=1)
    hints: list[str] = []
    debrief: Debrief
    expert_solution: Submission
    wrong_answers: list[WrongAnswer] = Field(min_length=1)
    visit: dict[str, Any] | None = Field(None, description="A guided refill visit (refill_visit.VisitConfig)")

    @model_validator(mode="after")
    def _references(self) -> "Exercise":
        if (self.start is None) == (self.visit is None):
            raise ValueError("an exercise needs exactly one of start (a programming task) or visit (a refill visit)")
        ids = [o.id for o in self.objectives]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"objective ids repeat: {', '.join(dup)}")
        questions = {q.id: q for q in self.questions}
        for o in self.objectives:
            if isinstance(o, Answer):
                q = questions.get(o.question)
                if q is None:
                    raise ValueError(f"objective {o.id}: no question {o.question!r}")
                bad = [c for c in o.correct if c not in {ch.id for ch in q.choices}]
                if bad:
                    raise ValueError(f"objective {o.id}: question {q.id} has no choice {', '.join(bad)}")
            if isinstance(o, (VisitStep, FaultCaught)) and self.visit is None:
                raise ValueError(f"objective {o.id}: {o.kind} needs a visit")
        for i, w in enumerate(self.wrong_answers):
            unknown = [f for f in w.fails if f not in ids]
            if unknown:
                raise ValueError(f"wrong_answers[{i}] ({w.label}): fails unknown objective(s) {', '.join(unknown)}")
        return self

    @property
    def level_rank(self) -> int:
        return LEVELS.index(self.level)

    def objective(self, objective_id: str):
        return next(o for o in self.objectives if o.id == objective_id)


def sort_key(ex: Exercise) -> tuple[int, int, str]:
    return (ex.level_rank, ex.order, ex.id)


def parse_time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
