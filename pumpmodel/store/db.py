"""Database URL, engine and migrations of the workspace store.

``database_url()`` reads ``PUMP_DATABASE_URL`` (default: a SQLite file
``data/workspace.sqlite`` under the working directory). ``connect(url)``
creates the engine (the folder of a SQLite file too) and brings the schema
to the newest Alembic revision before returning; engines are kept per URL
for the process (a connection pool, never user data).
"""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

ENV_URL = "PUMP_DATABASE_URL"
DEFAULT_URL = "sqlite:///data/workspace.sqlite"
MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK = 80_461_010  # pg_advisory_lock key: one app server migrates at a time

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_migrate_lock = threading.RLock()


def database_url() -> str:
    return os.environ.get(ENV_URL) or DEFAULT_URL


def normalize_url(url: str) -> str:
    """``postgresql://`` / ``postgres://`` use psycopg 3 (the installed driver)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url or database_url()).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # WAL journal (set once per file in create): a commit appends to the WAL and syncs it only at
    # checkpoints. Committed work survives an app or server crash; a power cut may roll back the
    # last commits, never corrupt the file (SQLite's documented WAL guarantee). FULL synced the
    # WAL on every commit: a third of a sandbox edit's server time went to that sync.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create(url: str) -> Engine:
    """A new engine for ``url`` (SQLite: folder created, foreign keys on, WAL journal, synced at
    checkpoints)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``. Several app servers may call this at once: on
    PostgreSQL an advisory lock serialises them, on a SQLite file an exclusive lock on
    ``<file>.migrate-lock``; within a process a lock (Alembic's context is process-global)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migrate_lock, _file_lock(engine):
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


@contextmanager
def _file_lock(engine: Engine):
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migrate_lock, _file_lock(engine), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def connect(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default ``database_url()``), migrated to head on first use."""
    url = normalize_url(url or database_url())
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_all() -> None:
    """Close every pooled connection (tests; a forked worker)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
