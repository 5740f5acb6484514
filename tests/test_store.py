"""Workspace store (pumpmodel.store) on SQLite, and on PostgreSQL when
PUMP_TEST_DATABASE_URL is set (fixture ``store_url`` in conftest.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from pumpmodel import store as ws_store
from pumpmodel.store import (Override, Store, WorkspaceNotFound, api, case_key, db)
from pumpmodel.store.models import Base, OverrideRow, SentProgramRow, UploadRow
from pumpmodel.training import tables as _training_tables  # noqa: F401  (training progress tables on Base)

PUMP_TIME = datetime(2026, 3, 14, 9, 30)
PROGRAM_A = {"mode": "simple_continuous", "rate_ml_per_day": 0.5}
PROGRAM_B = {"mode": "simple_continuous", "rate_ml_per_day": 0.65}
TABLES = {"workspaces", "uploads", "sent_programs", "acknowledgements", "overrides", "drafts", "draft_versions",
          "training_trainees", "training_open_exercises", "training_attempts", "alembic_version"}
HEAD = "0002_training_progress"


@pytest.fixture
def store(store_url):
    return Store(store_url)


@pytest.fixture
def ws(store):
    return store.create_workspace()


# -- schema and migrations -----------------------------------------------------

def test_first_use_migrates_an_empty_database_to_the_newest_revision(store):
    assert set(inspect(store.engine).get_table_names()) == TABLES
    assert db.current_revision(store.engine) == db.head_revision() == HEAD


def test_the_migrations_build_exactly_the_models_schema(store):
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_downgrade_to_empty_and_upgrade_again(store_url):
    engine = db.create(store_url)
    db.migrate(engine)
    db.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.migrate(engine)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_app_servers_starting_together_all_find_the_schema_ready(store_url):
    starters = [subprocess.Popen([sys.executable, "-c", "import sys; from pumpmodel.store import Store; "
                                  "print(Store(sys.argv[1]).create_workspace().id)", store_url],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in starters]
    assert [r[2] for r in results] == [0, 0, 0, 0], [r[1][-500:] for r in results]
    assert sorted(int(r[0]) for r in results) == [1, 2, 3, 4]
    engine = db.create(store_url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_default_database_is_a_sqlite_file_created_with_its_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.chdir(tmp_path)
    assert db.database_url() == "sqlite:///data/workspace.sqlite"
    store = Store()
    store.create_workspace()
    assert (tmp_path / "data" / "workspace.sqlite").is_file()
    db.dispose_all()


def test_a_sqlite_file_uses_the_wal_journal_synced_at_checkpoints(tmp_path):
    """WAL with synchronous=NORMAL: a commit is not synced to disk on its own (an edit waited for
    that sync), yet survives a crash of the app (test_a_crash_mid_send_loses_nothing_already_sent)."""
    engine = db.create(f"sqlite:///{tmp_path}/ws.sqlite")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # 1 = NORMAL (2 = FULL, the default)
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_env_url_is_used_and_postgres_urls_use_psycopg(tmp_path, monkeypatch):
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{tmp_path}/other/ws.sqlite")
    assert ws_store.get_store().create_workspace().token
    assert (tmp_path / "other" / "ws.sqlite").is_file()
    assert db.normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert db.normalize_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert db.normalize_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"


# -- workspaces ------------------------------------------------------------------

def test_tokens_are_unguessable_and_open_the_same_workspace(store):
    a, b = store.create_workspace(), store.create_workspace()
    assert a.token != b.token and len(a.token) >= 32
    assert set(a.token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert store.workspace(a.token).id == a.id
    assert a.token not in repr(a)


@pytest.mark.parametrize("token", [None, "", "nope", "x" * 500, "' OR 1=1 --"])
def test_unknown_tokens_open_nothing(store, token):
    store.create_workspace()
    with pytest.raises(WorkspaceNotFound):
        store.workspace(token)
    fresh, created = store.open_or_create(token)
    assert created and fresh.token != token


def test_open_or_create_reopens_a_known_token(store, ws):
    again, created = store.open_or_create(ws.token)
    assert not created and again.id == ws.id


def test_nothing_of_one_workspace_is_visible_from_another(store):
    a, b = store.create_workspace(), store.create_workspace()
    up = a.add_upload("a.zip", b"telemetry of A")
    a.send_program("story-a", PROGRAM_B, PUMP_TIME, case_key="k",
                   overrides=[Override("DOSE_ABOVE_RECOMMENDED", "titrating")])
    a.set_ack("k", "DOSE_ABOVE_RECOMMENDED", checked=True, reason="titrating")
    a.save_draft({"case": "A"})

    assert b.uploads() == [] and b.sent_history() == [] and b.override_log() == []
    assert b.current_program("story-a") is None and b.acks("k") == {} and b.draft() is None
    with pytest.raises(KeyError):
        b.upload_data(up.id)
    assert not b.remove_upload(up.id) and not b.undo_send("story-a")
    assert b.reset_sent("story-a") == 0 and b.clear_acks() == 0 and not b.discard_draft()
    # A is untouched by B's attempts
    assert a.upload_data(up.id) == b"telemetry of A"
    assert a.current_program("story-a").program == PROGRAM_B
    assert a.acks("k")["DOSE_ABOVE_RECOMMENDED"].reason == "titrating"
    assert a.draft().case == {"case": "A"}


def test_deleting_a_workspace_deletes_all_its_rows(store):
    a, b = store.create_workspace(), store.create_workspace()
    for w in (a, b):
        w.add_upload("x.csv", b"1")
        w.send_program("p", PROGRAM_A, PUMP_TIME, overrides=[Override("C", "r")])
    assert store.delete_workspace(a.token)
    with store.transaction() as s:
        for table in (UploadRow, SentProgramRow, OverrideRow):
            assert s.scalar(select(func.count()).select_from(table)) == 1
    assert len(b.uploads()) == 1
    with pytest.raises(WorkspaceNotFound):
        store.workspace(a.token)


# -- uploads ---------------------------------------------------------------------

def test_uploads_keep_name_and_exact_bytes_oldest_first(ws):
    data = bytes(range(256)) * 1000
    first = ws.add_upload("pumps.zip", data)
    second = ws.add_upload("other.csv", b"pump_id,x\n")
    assert [u.name for u in ws.uploads()] == ["pumps.zip", "other.csv"]
    assert first.size_bytes == 256_000 and len(first.digest) == 64
    assert ws.upload_data(first.id) == data
    assert ws.remove_upload(second.id) and [u.id for u in ws.uploads()] == [first.id]
    assert ws.remove_uploads() == 1 and ws.uploads() == []


def test_the_same_file_twice_is_refused_in_one_workspace_only(store):
    a, b = store.create_workspace(), store.create_workspace()
    a.add_upload("x.zip", b"same")
    with pytest.raises(ws_store.DuplicateUpload, match="already loaded"):
        a.add_upload("renamed.zip", b"same")
    assert b.add_upload("x.zip", b"same").name == "x.zip"
    assert len(a.uploads()) == 1


# -- sent programs -------------------------------------------------------------------

def test_send_undo_and_reset_keep_the_history(ws):
    assert ws.current_program("story-a") is None
    ws.send_program("story-a", PROGRAM_A, PUMP_TIME)
    ws.send_program("story-a", json.dumps(PROGRAM_B), PUMP_TIME + timedelta(minutes=5))
    ws.send_program("story-b", PROGRAM_A, PUMP_TIME)
    assert ws.current_program("story-a").program == PROGRAM_B
    assert ws.sent_pumps() == {"story-a": json.dumps(PROGRAM_B), "story-b": json.dumps(PROGRAM_A, sort_keys=True,
                                                                                          separators=(",", ":"))}
    assert ws.undo_send("story-a")
    assert ws.current_program("story-a").program == PROGRAM_A
    ws.send_program("story-a", PROGRAM_B, PUMP_TIME)
    assert ws.reset_sent("story-a") == 2
    assert ws.current_program("story-a") is None and not ws.undo_send("story-a")
    history = ws.sent_history("story-a")
    assert len(history) == 3 and all(h.undone_at is not None for h in history)
    assert ws.sent_history("story-a", include_undone=False) == []
    assert ws.current_program("story-b").program == PROGRAM_A


def test_send_records_pump_clock_and_utc_wall_clock(ws):
    before = datetime.now(timezone.utc)
    sent = ws.send_program("p", PROGRAM_A, PUMP_TIME, case={"current": PROGRAM_B, "proposed": PROGRAM_A},
                           case_key="case-1")
    again = ws.sent_history("p")[0]
    assert again.case == {"current": PROGRAM_B, "proposed": PROGRAM_A}
    assert ws.send_program("p", PROGRAM_B, PUMP_TIME).case is None
    assert again.pump_time == PUMP_TIME and again.pump_time.tzinfo is None
    assert again.sent_at.tzinfo is not None and before - timedelta(seconds=1) <= again.sent_at
    assert again.sent_at <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert again.id == sent.id and again.case_key == "case-1"


def test_overrides_are_logged_with_the_send(ws):
    ws.send_program("story-c", PROGRAM_B, PUMP_TIME, case_key="case-1", overrides=[
        Override("DOSE_ABOVE_RECOMMENDED", "titrating per plan", message="1200 mcg/day", drug="baclofen"),
        Override("INCREASE_ABOVE_TITRATION_LIMIT", "spinal origin", drug="baclofen"),
    ])
    log = ws.override_log()
    assert [(o.code, o.reason, o.drug, o.pump_id, o.case_key, o.pump_time) for o in log] == [
        ("DOSE_ABOVE_RECOMMENDED", "titrating per plan", "baclofen", "story-c", "case-1", PUMP_TIME),
        ("INCREASE_ABOVE_TITRATION_LIMIT", "spinal origin", "baclofen", "story-c", "case-1", PUMP_TIME),
    ]
    assert log[0].message == "1200 mcg/day" and log[0].sent_at.tzinfo is not None
    ws.undo_send("story-c")
    assert len(ws.override_log("story-c")) == 2  # the log is a log: undo does not erase it
    assert ws.override_log("story-a") == []


def test_a_failing_send_writes_nothing_and_keeps_earlier_sends(ws):
    ws.send_program("p", PROGRAM_A, PUMP_TIME, overrides=[Override("C1", "ok")])
    with pytest.raises(ValueError, match="C2: an override needs a reason"):
        ws.send_program("p", PROGRAM_B, PUMP_TIME, overrides=[Override("C1", "ok"), Override("C2", "  ")])
    assert [s.program for s in ws.sent_history("p")] == [PROGRAM_A]
    assert [o.code for o in ws.override_log()] == ["C1"]


CRASH = """
import os, sys
from datetime import datetime
from pumpmodel.store import Store
from pumpmodel.store.models import SentProgramRow, OverrideRow
ws = Store(sys.argv[1]).workspace(sys.argv[2])
ws.send_program("p", {"n": 1}, datetime(2026, 1, 1), overrides=[])
with ws.transaction() as s:        # the second send dies half-way: program written, overrides not yet
    row = SentProgramRow(workspace_id=ws.id, pump_id="p", program_json='{"n": 2}', pump_time=datetime(2026, 1, 1))
    s.add(row)
    s.flush()
    s.add(OverrideRow(workspace_id=ws.id, sent_id=row.id, pump_id="p", code="C", severity="soft", message="",
                      reason="r", pump_time=datetime(2026, 1, 1)))
    s.flush()
    os._exit(3)                    # the process is killed before the commit
"""


def test_a_crash_mid_send_loses_nothing_already_sent(store, store_url, ws):
    ws.send_program("p", {"n": 0}, PUMP_TIME)
    proc = subprocess.run([sys.executable, "-c", CRASH, store_url, ws.token], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3, proc.stderr
    again = store.workspace(ws.token)
    assert [s.program for s in again.sent_history("p")] == [{"n": 0}, {"n": 1}]
    assert again.override_log() == []
    again.send_program("p", {"n": 2}, PUMP_TIME)  # the database is usable after the crash
    assert again.current_program("p").program == {"n": 2}


# -- acknowledgements ----------------------------------------------------------------

def test_acknowledgements_belong_to_one_case_and_one_finding(ws):
    ws.set_ack("case-1", "DOSE_ABOVE_RECOMMENDED", checked=True, reason="written for case 1")
    ws.set_ack("case-1", "LOW_RESERVOIR", checked=False, reason="half typed")
    assert ws.acks("case-2") == {}  # no carry-over to another case
    acks = ws.acks("case-1")
    assert acks["DOSE_ABOVE_RECOMMENDED"] == api.Ack("DOSE_ABOVE_RECOMMENDED", True, "written for case 1")
    assert acks["LOW_RESERVOIR"].checked is False
    ws.set_ack("case-1", "DOSE_ABOVE_RECOMMENDED", checked=False, reason="changed")
    assert ws.acks("case-1")["DOSE_ABOVE_RECOMMENDED"] == api.Ack("DOSE_ABOVE_RECOMMENDED", False, "changed")
    ws.set_ack("case-2", "X", checked=True, reason="r")
    assert ws.clear_acks("case-1", codes=["LOW_RESERVOIR"]) == 1
    assert set(ws.acks("case-1")) == {"DOSE_ABOVE_RECOMMENDED"}
    assert ws.clear_acks("case-1") == 1 and ws.acks("case-1") == {} and set(ws.acks("case-2")) == {"X"}


def test_case_key_is_the_canonical_json_hash():
    assert case_key({"a": 1, "b": [1, 2]}) == case_key('{"b": [1, 2], "a": 1}')
    assert case_key({"a": 1}) != case_key({"a": 2})
    assert len(case_key({})) == 64


# -- drafts ------------------------------------------------------------------------------

def test_drafts_undo_and_redo(ws):
    assert ws.draft() is None and ws.undo_draft() is None and ws.redo_draft() is None
    d1 = ws.save_draft({"v": 1}, origin="pump story-a", target="story-a", case_key="k1", label="start")
    assert (d1.case, d1.origin, d1.target, d1.case_key, d1.can_undo, d1.can_redo) == (
        {"v": 1}, "pump story-a", "story-a", "k1", False, False)
    d2 = ws.save_draft({"v": 2})
    assert (d2.origin, d2.target, d2.case_key, d2.position, d2.versions, d2.can_undo) == (
        "pump story-a", "story-a", "k1", 2, 2, True)
    assert ws.save_draft({"v": 2}).versions == 2  # saving the same again is not an undo step
    ws.save_draft({"v": 3}, origin="blank pump", target=None, case_key="k2", label="start from blank")
    assert (ws.draft().target, ws.draft().case_key, ws.draft().label) == (None, "k2", "start from blank")
    assert (ws.undo_draft().case, ws.draft().case_key) == ({"v": 2}, "k1")
    assert ws.undo_draft().case == {"v": 1}
    assert ws.undo_draft() is None and ws.draft().case == {"v": 1}
    assert ws.redo_draft().case == {"v": 2}
    d = ws.save_draft({"v": 4})  # a new edit drops the redo branch
    assert (d.case, d.can_redo, d.versions) == ({"v": 4}, False, 3)
    assert ws.redo_draft() is None
    assert ws.draft("other") is None  # slots are separate
    assert ws.discard_draft() and ws.draft() is None


def test_draft_base_is_the_case_as_loaded_and_replace_adds_no_undo_step(ws):
    assert ws.draft_base() is None
    ws.save_draft({"v": 1}, case_key="k1", label="start")
    ws.save_draft({"v": 1.0, "normalised": True}, replace=True)
    assert (ws.draft().case, ws.draft().versions, ws.draft().can_undo) == ({"v": 1.0, "normalised": True}, 1, False)
    ws.save_draft({"v": 2})
    ws.save_draft({"v": 10}, case_key="k2", label="start")
    ws.save_draft({"v": 11})
    ws.save_draft({"v": 12})
    base = ws.draft_base()
    assert (base.case, base.case_key, base.label, base.position) == ({"v": 10}, "k2", "start", 3)
    ws.undo_draft()
    ws.undo_draft()
    ws.undo_draft()  # back in the first case
    assert ws.draft_base().case == {"v": 1.0, "normalised": True}
    assert ws.draft().case == {"v": 2}  # draft_base only reads


def test_earlier_cases_are_the_current_cases_versions_before_it_newest_first(ws):
    assert ws.earlier_cases() == []
    ws.save_draft({"v": 1}, case_key="k1", label="start")
    ws.save_draft({"v": 2})
    ws.save_draft({"v": 10}, case_key="k2", label="start")
    ws.save_draft({"v": 11})
    ws.save_draft({"v": 12})
    assert ws.earlier_cases() == [{"v": 11}, {"v": 10}]  # not k1's versions, not the current one
    ws.undo_draft()
    assert ws.earlier_cases() == [{"v": 10}]  # before the current position only (12 is a redo)
    assert ws.earlier_cases(limit=0) == []
    ws.undo_draft()
    ws.undo_draft()  # back in k1, at {"v": 2}
    assert ws.earlier_cases() == [{"v": 1}]


def test_draft_history_is_capped(ws, monkeypatch):
    monkeypatch.setattr(api, "MAX_DRAFT_VERSIONS", 3)
    for i in range(6):
        ws.save_draft({"v": i})
    d = ws.draft()
    assert (d.case, d.versions, d.position) == ({"v": 5}, 3, 3)
    assert ws.undo_draft().case == {"v": 4} and ws.undo_draft().case == {"v": 3} and ws.undo_draft() is None


def test_a_draft_survives_a_new_store_on_the_same_database(store_url, ws):
    ws.save_draft({"typed": "-1"}, origin="o")
    again = Store(store_url).workspace(ws.token)
    assert again.draft().case == {"typed": "-1"}


def test_command_line_upgrades_and_reports_the_revision(tmp_path):
    env = {**__import__("os").environ, "PUMP_DATABASE_URL": f"sqlite:///{tmp_path}/cli/ws.sqlite"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "pumpmodel.store", *a], env=env, capture_output=True,
                                    text=True, timeout=60)
    assert run("current").stdout.strip() == "(empty database)"
    assert run("upgrade").stdout.strip() == f"schema at {HEAD}"
    assert run("current").stdout.strip() == run("heads").stdout.strip() == HEAD
