"""Training progress in the workspace store (SQLAlchemy; SQLite by default, PostgreSQL by URL).

Every method but ``all_attempts`` works inside one ``Workspace`` and filters on its
id; each write is one transaction.
"""
from __future__ import annotations

import json

from sqlalchemy import delete, select

from ..store import Store, Workspace, get_store
from .progress import AttemptRecord, OpenExercise, TrainingStore, clean_name, utcnow
from .tables import AttemptRow, OpenExerciseRow, TraineeRow


class SqlTrainingStore(TrainingStore):
    def __init__(self, store: Store | None = None):
        self.store = store or get_store()

    def display_name(self, ws: Workspace) -> str | None:
        with ws.transaction() as s:
            return s.scalar(select(TraineeRow.display_name).where(TraineeRow.workspace_id == ws.id))

    def set_display_name(self, ws: Workspace, name: str) -> None:
        name = clean_name(name)
        with ws.transaction() as s:
            row = s.scalar(select(TraineeRow).where(TraineeRow.workspace_id == ws.id))
            if row is None:
                s.add(TraineeRow(workspace_id=ws.id, display_name=name))
            else:
                row.display_name, row.updated_at = name, utcnow()

    def _open_row(self, s, ws: Workspace, exercise_id: str) -> OpenExerciseRow:
        row = s.scalar(select(OpenExerciseRow).where(OpenExerciseRow.workspace_id == ws.id,
                                                     OpenExerciseRow.exercise_id == exercise_id))
        if row is None:
            row = OpenExerciseRow(workspace_id=ws.id, exercise_id=exercise_id, started_at=utcnow(), draft_json="{}")
            s.add(row)
            s.flush()
        return row

    def open_exercise(self, ws: Workspace, exercise_id: str) -> OpenExercise:
        with ws.transaction() as s:
            row = self._open_row(s, ws, exercise_id)
            return OpenExercise(exercise_id, row.started_at, json.loads(row.draft_json))

    def save_draft(self, ws: Workspace, exercise_id: str, draft: dict) -> None:
        with ws.transaction() as s:
            row = self._open_row(s, ws, exercise_id)
            row.draft_json, row.updated_at = json.dumps(draft), utcnow()

    def close_exercise(self, ws: Workspace, exercise_id: str) -> None:
        with ws.transaction() as s:
            s.execute(delete(OpenExerciseRow).where(OpenExerciseRow.workspace_id == ws.id,
                                                    OpenExerciseRow.exercise_id == exercise_id))

    def add_attempt(self, ws: Workspace, rec: AttemptRecord) -> None:
        with ws.transaction() as s:
            s.add(AttemptRow(
                workspace_id=ws.id, exercise_id=rec.exercise_id, trainee=rec.trainee, started_at=rec.started_at,
                finished_at=rec.finished_at, passed=rec.passed, score_percent=rec.score_percent,
                hard_stops=rec.hard_stops, overrides_json=json.dumps(rec.overrides),
                objectives_json=json.dumps(rec.objectives), wrong_answer=rec.wrong_answer,
                submission_json=json.dumps(rec.submission)))

    def attempts(self, ws: Workspace) -> list[AttemptRecord]:
        with ws.transaction() as s:
            rows = s.scalars(select(AttemptRow).where(AttemptRow.workspace_id == ws.id).order_by(AttemptRow.id))
            return [_record(r) for r in rows]

    def all_attempts(self) -> list[AttemptRecord]:
        with self.store.transaction() as s:
            return [_record(r, f"ws{r.workspace_id}") for r in s.scalars(select(AttemptRow).order_by(AttemptRow.id))]


def _record(r: AttemptRow, workspace: str = "") -> AttemptRecord:
    return AttemptRecord(
        exercise_id=r.exercise_id, trainee=r.trainee, started_at=r.started_at, finished_at=r.finished_at,
        passed=r.passed, score_percent=r.score_percent, hard_stops=r.hard_stops,
        overrides=json.loads(r.overrides_json), objectives=json.loads(r.objectives_json),
        wrong_answer=r.wrong_answer, submission=json.loads(r.submission_json), workspace=workspace)
