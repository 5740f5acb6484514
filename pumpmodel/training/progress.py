"""Training progress: attempts, open exercises and display names, behind one small interface.

``TrainingStore`` is what the pages use. ``SqlTrainingStore`` (in
``progress_sql.py``) keeps progress in the workspace store's database
(``pumpmodel.store``), so it survives reloads and server restarts;
``MemoryTrainingStore`` keeps it in one process (notebooks, tests). Every
method takes the workspace (a ``pumpmodel.store.Workspace``, or any object with
a ``token``; the memory store also takes the token itself): one workspace never
sees another's rows. ``all_attempts()`` is the instructor's view across the
whole deployment; it labels workspaces ``ws<n>``, never with their tokens.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from .scoring import Score


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class AttemptRecord:
    """One submitted attempt of one exercise."""

    exercise_id: str
    trainee: str                       # display name at the time (no password)
    started_at: datetime               # UTC
    finished_at: datetime              # UTC
    passed: bool
    score_percent: float
    hard_stops: int
    overrides: list[dict] = field(default_factory=list)     # [{code, drug, reason}]
    objectives: list[dict] = field(default_factory=list)    # [{id, text, passed, reason}]
    wrong_answer: str | None = None    # the typical wrong answer it matches, if any
    submission: dict = field(default_factory=dict)
    workspace: str = ""                # an opaque per-workspace label (never the token) in all_attempts()

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def failed_ids(self) -> list[str]:
        return [o["id"] for o in self.objectives if not o["passed"]]

    def to_json(self) -> str:
        d = asdict(self)
        d["started_at"], d["finished_at"] = self.started_at.isoformat(), self.finished_at.isoformat()
        return json.dumps(d)


def attempt_from_score(res: Score, trainee: str, started_at: datetime, submission: dict,
                       finished_at: datetime | None = None) -> AttemptRecord:
    return AttemptRecord(
        exercise_id=res.exercise_id, trainee=trainee, started_at=started_at, finished_at=finished_at or utcnow(),
        passed=res.passed, score_percent=round(res.percent, 1), hard_stops=res.hard_stops,
        overrides=list(res.overrides),
        objectives=[{"id": o.id, "text": o.text, "passed": o.passed, "reason": o.reason} for o in res.objectives],
        wrong_answer=res.matched_wrong_answer, submission=submission)


@dataclass
class OpenExercise:
    """An exercise the trainee is working on: when it started and the draft so far (survives a reload)."""

    exercise_id: str
    started_at: datetime
    draft: dict = field(default_factory=dict)


class TrainingStore:
    """The interface the training pages use."""

    def display_name(self, ws) -> str | None:
        raise NotImplementedError

    def set_display_name(self, ws, name: str) -> None:
        raise NotImplementedError

    def open_exercise(self, ws, exercise_id: str) -> OpenExercise:
        """The open attempt, started now if there is none."""
        raise NotImplementedError

    def save_draft(self, ws, exercise_id: str, draft: dict) -> None:
        raise NotImplementedError

    def close_exercise(self, ws, exercise_id: str) -> None:
        raise NotImplementedError

    def add_attempt(self, ws, rec: AttemptRecord) -> None:
        raise NotImplementedError

    def attempts(self, ws) -> list[AttemptRecord]:
        """This workspace's attempts, oldest first."""
        raise NotImplementedError

    def all_attempts(self) -> list[AttemptRecord]:
        """Every attempt of the deployment (instructor view), oldest first."""
        raise NotImplementedError


def clean_name(name: str) -> str:
    """A display name: trimmed, inner whitespace collapsed, at most 60 characters; ValueError when empty."""
    text = " ".join((name or "").split())[:60]
    if not text:
        raise ValueError("display name: enter a name (any name; there is no password)")
    return text


class MemoryTrainingStore(TrainingStore):
    """Progress in one process's memory (tests, notebooks)."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._open: dict[tuple[str, str], OpenExercise] = {}
        self._attempts: list[tuple[str, AttemptRecord]] = []

    def display_name(self, ws):
        return self._names.get(_token(ws))

    def set_display_name(self, ws, name):
        self._names[_token(ws)] = clean_name(name)

    def open_exercise(self, ws, exercise_id):
        return self._open.setdefault((_token(ws), exercise_id), OpenExercise(exercise_id, utcnow()))

    def save_draft(self, ws, exercise_id, draft):
        self.open_exercise(ws, exercise_id).draft = json.loads(json.dumps(draft))

    def close_exercise(self, ws, exercise_id):
        self._open.pop((_token(ws), exercise_id), None)

    def add_attempt(self, ws, rec):
        self._attempts.append((_token(ws), rec))

    def attempts(self, ws):
        return [r for t, r in self._attempts if t == _token(ws)]

    def all_attempts(self):
        labels: dict[str, str] = {}
        return [_labelled(r, labels.setdefault(t, f"ws{len(labels) + 1}")) for t, r in self._attempts]


def _token(ws) -> str:
    return ws if isinstance(ws, str) else ws.token


def _labelled(rec: AttemptRecord, label: str) -> AttemptRecord:
    from dataclasses import replace

    return replace(rec, workspace=label)
