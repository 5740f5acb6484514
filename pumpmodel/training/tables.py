"""Training progress tables in the workspace store (migration ``0002_training_progress``).

Every row carries ``workspace_id`` (``ON DELETE CASCADE``); rows are read and
written through ``progress_sql.SqlTrainingStore``, which filters on it, except
the instructor's ``all_attempts()``, which reads every workspace's attempts but
never their tokens.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.models import Base, UTCDateTime, utcnow


def _ws_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)


class TraineeRow(Base):
    """The trainee's display name in a workspace (no password)."""
    __tablename__ = "training_trainees"
    __table_args__ = (UniqueConstraint("workspace_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    display_name: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenExerciseRow(Base):
    """An exercise being worked on: when it started and the draft answer so far."""
    __tablename__ = "training_open_exercises"
    __table_args__ = (UniqueConstraint("workspace_id", "exercise_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    exercise_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    draft_json: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttemptRow(Base):
    """One submitted attempt with its per-objective results, overrides and hard stops."""
    __tablename__ = "training_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    exercise_id: Mapped[str] = mapped_column(String(64), index=True)
    trainee: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    passed: Mapped[bool] = mapped_column(Boolean)
    score_percent: Mapped[float] = mapped_column(Float)
    hard_stops: Mapped[int] = mapped_column(Integer)
    overrides_json: Mapped[str] = mapped_column(Text)
    objectives_json: Mapped[str] = mapped_column(Text)
    wrong_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    submission_json: Mapped[str] = mapped_column(Text)
