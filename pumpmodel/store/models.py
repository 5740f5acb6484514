"""SQLAlchemy 2 models of the workspace store.

Every table but ``workspaces`` carries ``workspace_id`` (a foreign key with
``ON DELETE CASCADE``): rows are only ever read or written through a
:class:`pumpmodel.store.Workspace`, which filters on it.

Adding tables (e.g. training progress): declare them on :class:`Base` in
your own module, with ``workspace_id = mapped_column(ForeignKey(
"workspaces.id", ondelete="CASCADE"), index=True)``, and add an Alembic
revision under ``pumpmodel/store/migrations/versions/`` whose
``down_revision`` is the current head (see ``pumpmodel/store/__init__.py``).
The schema is created by the migrations only, never by ``create_all``.

Times: ``pump_time`` columns are the pump clock's local time (naive);
``*_at`` columns are wall-clock UTC (returned timezone-aware).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (Boolean, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Wall-clock time stored as UTC; always returned timezone-aware (SQLite keeps no zone)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("wall-clock times must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ws_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)


class WorkspaceRow(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UploadRow(Base):
    """An uploaded telemetry file, as uploaded (bytes), with its name and SHA-256."""
    __tablename__ = "uploads"
    __table_args__ = (UniqueConstraint("workspace_id", "digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    name: Mapped[str] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SentProgramRow(Base):
    """A program sent to a simulated pump; ``undone_at`` set by undo/reset (history is kept)."""
    __tablename__ = "sent_programs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    pump_id: Mapped[str] = mapped_column(String(128), index=True)
    program_json: Mapped[str] = mapped_column(Text)
    case_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # the whole case as sent (before + after)
    case_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    pump_time: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AcknowledgementRow(Base):
    """A soft finding acknowledged with a reason: one case (``case_key``) and one finding code."""
    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("workspace_id", "case_key", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    case_key: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(96))
    checked: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OverrideRow(Base):
    """A soft finding overridden by a send, with its reason; written with the send, atomically."""
    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    sent_id: Mapped[int] = mapped_column(ForeignKey("sent_programs.id", ondelete="CASCADE"), index=True)
    pump_id: Mapped[str] = mapped_column(String(128))
    case_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code: Mapped[str] = mapped_column(String(96))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    drug: Mapped[str | None] = mapped_column(String(96), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    pump_time: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DraftRow(Base):
    """An editor's draft (one per ``slot``); ``position`` is the current version (undo/redo moves it)."""
    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("workspace_id", "slot"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = _ws_fk()
    slot: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DraftVersionRow(Base):
    """One state of a draft: the case JSON, where it came from, which pump it would be sent to, and the
    key of the case it belongs to (a new one each time a case is loaded; acknowledgements use it)."""
    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    case_json: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str | None] = mapped_column(String(128), nullable=True)
    case_key: Mapped[str | None] = mapped_column(String(128), nullable=True)  # acknowledgements belong to it
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
