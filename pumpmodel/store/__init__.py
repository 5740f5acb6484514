"""Workspace store: what a user does, kept in a database (no Streamlit here).

A *workspace* is named by an unguessable token (``secrets.token_urlsafe``,
192 bits) that the app keeps in the address (``?ws=``); whoever has the token
has the workspace, and nothing of one workspace is reachable from another:
every query goes through a :class:`Workspace`, which filters on its id.

Database: ``PUMP_DATABASE_URL`` (SQLAlchemy URL; ``postgresql://...`` uses
psycopg 3), default ``sqlite:///data/workspace.sqlite`` (file and folder
created on first use). The schema is brought to the newest Alembic revision
(``pumpmodel/store/migrations/versions``) the first time a process connects;
on PostgreSQL an advisory lock makes concurrent app servers migrate one at a
time. Every write below is one transaction.

API
---
``get_store(url=None) -> Store``             the process's store (engine pooled, migrated once)
``Store(url=None, engine=None)``             a store on its own engine (tests)
``Store.create_workspace() -> Workspace``
``Store.workspace(token) -> Workspace``      raises ``WorkspaceNotFound``
``Store.open_or_create(token) -> (Workspace, created)``
``Store.delete_workspace(token) -> bool``    everything of the workspace goes (cascade)
``Store.transaction()``                      context manager: a SQLAlchemy ``Session``, committed or rolled back
``case_key(case) -> str``                    SHA-256 of a case's canonical JSON

``Workspace`` (``.token``, ``.id``):

- uploads: ``add_upload(name, data) -> Upload`` (``DuplicateUpload`` for the same bytes twice),
  ``uploads() -> [Upload]``, ``upload_data(id) -> bytes``, ``remove_upload(id)``, ``remove_uploads()``
- sent programs: ``send_program(pump_id, program, pump_time, case=, case_key=, overrides=[Override]) -> Sent``
  (program and overrides in one transaction), ``current_program(pump_id) -> Sent | None``,
  ``sent_history(pump_id=None, include_undone=True) -> [Sent]``, ``sent_pumps() -> {pump_id: json}``,
  ``undo_send(pump_id) -> bool``, ``reset_sent(pump_id) -> int`` (history is kept: rows get ``undone_at``)
- acknowledgements (one case key + one finding code): ``set_ack(case_key, code, checked=, reason=)``,
  ``acks(case_key) -> {code: Ack}``, ``clear_acks(case_key=None, codes=None)``
- override log: ``override_log(pump_id=None) -> [Override]`` (pump-clock ``pump_time`` and UTC ``sent_at``)
- drafts with undo/redo (per ``slot``, default ``"sandbox"``): ``draft(slot) -> Draft | None``,
  ``save_draft(case, slot=, origin=, target=, case_key=, label=, replace=False) -> Draft``,
  ``undo_draft(slot)``, ``redo_draft(slot)`` (``None`` when there is nothing to undo/redo),
  ``draft_base(slot)`` (the case as loaded, before its edits), ``discard_draft(slot)``

Times: ``pump_time`` is the pump clock's local time (naive ``datetime``); ``sent_at`` and other
``*_at`` are wall-clock UTC, returned timezone-aware.

Extending (e.g. training progress, issue 11): declare tables on ``pumpmodel.store.models.Base``
with a ``workspace_id`` foreign key to ``workspaces.id`` (``ondelete="CASCADE"``), add a revision
file in ``migrations/versions/`` (``python -m pumpmodel.store revision -m "training progress"``
writes one whose ``down_revision`` is the current head; fill in ``upgrade``/``downgrade`` by hand),
and write functions taking a ``Workspace`` that query inside ``ws.transaction()`` filtering on
``ws.id``. ``tests/test_store.py`` runs the store's tests on SQLite and, when
``PUMP_TEST_DATABASE_URL`` is set, on PostgreSQL (fixture ``store_url`` in ``tests/store_fixtures.py``).

Command line: ``python -m pumpmodel.store upgrade|current|heads|revision -m MSG``.
"""
from pumpmodel.store.api import (KEEP, Ack, Draft, DuplicateUpload, Override, Sent, Store, StoreError, Upload,
                                 Workspace, WorkspaceNotFound, case_key, get_store)
from pumpmodel.store.db import DEFAULT_URL, ENV_URL, database_url

__all__ = ["KEEP", "Ack", "Draft", "DuplicateUpload", "Override", "Sent", "Store", "StoreError", "Upload",
           "Workspace", "WorkspaceNotFound", "case_key", "get_store", "DEFAULT_URL", "ENV_URL", "database_url"]
