"""Workspace store: workspaces, uploads, sent programs, acknowledgements, overrides, drafts.

Revision ID: 0001_workspace_store
Revises:
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_workspace_store"
down_revision = None
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def _ws() -> sa.Column:
    return sa.Column("workspace_id", sa.Integer,
                     sa.ForeignKey("workspaces.id", name=None, ondelete="CASCADE"), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("seen_at", UTC, nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("workspace_id", "digest"),
    )
    op.create_table(
        "sent_programs",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("pump_id", sa.String(128), nullable=False, index=True),
        sa.Column("program_json", sa.Text, nullable=False),
        sa.Column("case_json", sa.Text, nullable=True),
        sa.Column("case_key", sa.String(128), nullable=True),
        sa.Column("pump_time", sa.DateTime, nullable=False),
        sa.Column("sent_at", UTC, nullable=False),
        sa.Column("undone_at", UTC, nullable=True),
    )
    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("case_key", sa.String(128), nullable=False),
        sa.Column("code", sa.String(96), nullable=False),
        sa.Column("checked", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("workspace_id", "case_key", "code"),
    )
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("sent_id", sa.Integer, sa.ForeignKey("sent_programs.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("pump_id", sa.String(128), nullable=False),
        sa.Column("case_key", sa.String(128), nullable=True),
        sa.Column("code", sa.String(96), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("drug", sa.String(96), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("pump_time", sa.DateTime, nullable=False),
        sa.Column("sent_at", UTC, nullable=False),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("workspace_id", "slot"),
    )
    op.create_table(
        "draft_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("case_json", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("target", sa.String(128), nullable=True),
        sa.Column("case_key", sa.String(128), nullable=True),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("draft_id", "seq"),
    )


def downgrade() -> None:
    for table in ("draft_versions", "drafts", "overrides", "acknowledgements", "sent_programs", "uploads",
                  "workspaces"):
        op.drop_table(table)
