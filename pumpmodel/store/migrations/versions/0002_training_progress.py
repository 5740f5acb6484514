"""Training progress: trainees' display names, open exercises with drafts, attempts.

Revision ID: 0002_training_progress
Revises: 0001_workspace_store
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_training_progress"
down_revision = "0001_workspace_store"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def _ws() -> sa.Column:
    return sa.Column("workspace_id", sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                     nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "training_trainees",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("display_name", sa.String(60), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("workspace_id"),
    )
    op.create_table(
        "training_open_exercises",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("exercise_id", sa.String(64), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("draft_json", sa.Text, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("workspace_id", "exercise_id"),
    )
    op.create_table(
        "training_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        _ws(),
        sa.Column("exercise_id", sa.String(64), nullable=False, index=True),
        sa.Column("trainee", sa.String(60), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("score_percent", sa.Float, nullable=False),
        sa.Column("hard_stops", sa.Integer, nullable=False),
        sa.Column("overrides_json", sa.Text, nullable=False),
        sa.Column("objectives_json", sa.Text, nullable=False),
        sa.Column("wrong_answer", sa.Text, nullable=True),
        sa.Column("submission_json", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("training_attempts", "training_open_exercises", "training_trainees"):
        op.drop_table(table)
