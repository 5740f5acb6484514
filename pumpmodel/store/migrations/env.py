"""Alembic environment of the workspace store (run by ``pumpmodel.store.db.migrate``).

The caller passes an open connection in ``config.attributes["connection"]``;
run from the command line (``python -m pumpmodel.store``) it connects to
``sqlalchemy.url``.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pumpmodel.store.models import Base
from pumpmodel.training import tables as _training_tables  # noqa: F401  (training progress tables on Base)

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
