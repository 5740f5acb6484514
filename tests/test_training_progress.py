"""Training progress in the workspace store, aggregates with hand-computed figures, the certificate."""
from __future__ import annotations

import io
import secrets
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from pypdf import PdfReader

from pumpmodel.store import Store
from pumpmodel.training import aggregates as A
from pumpmodel.training import load_deck, score
from pumpmodel.training.certificate import certificate_pdf, completed
from pumpmodel.training.progress import AttemptRecord, MemoryTrainingStore, attempt_from_score
from pumpmodel.training.progress_sql import SqlTrainingStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
DECK = load_deck()
BY_ID = {e.id: e for e in DECK}


def _attempt(ex_id: str, sub, seconds: float, trainee="Ada") -> AttemptRecord:
    ex = BY_ID[ex_id]
    sub = sub if isinstance(sub, dict) else sub.model_dump()
    return attempt_from_score(score(ex, sub), trainee, T0, sub, finished_at=T0 + timedelta(seconds=seconds))


@pytest.fixture(params=["sql", "memory"])
def progress(request, store_url):
    if request.param == "memory":
        s = MemoryTrainingStore()
        return s, (lambda: secrets.token_urlsafe(8))
    store = Store(store_url)
    return SqlTrainingStore(store), (lambda: store.create_workspace())


def test_name_draft_attempts_stay_in_their_workspace(progress):
    s, new_ws = progress
    a, b = new_ws(), new_ws()
    s.set_display_name(a, "  Dr  Ada ")
    assert s.display_name(a) == "Dr Ada" and s.display_name(b) is None
    with pytest.raises(ValueError, match="display name"):
        s.set_display_name(b, "   ")
    opened = s.open_exercise(a, "read-the-pump")
    s.save_draft(a, "read-the-pump", {"answers": {"daily_dose": "b"}})
    again = s.open_exercise(a, "read-the-pump")
    assert again.draft == {"answers": {"daily_dose": "b"}} and again.started_at == opened.started_at
    assert s.open_exercise(b, "read-the-pump").draft == {}
    rec = _attempt("read-the-pump", BY_ID["read-the-pump"].expert_solution, 42)
    s.add_attempt(a, rec)
    s.close_exercise(a, "read-the-pump")
    assert s.open_exercise(a, "read-the-pump").draft == {}  # a new attempt starts afresh
    [back] = s.attempts(a)
    assert back.passed and back.score_percent == 100.0 and back.duration_s == 42
    assert back.objectives == rec.objectives and back.submission == rec.submission
    assert s.attempts(b) == []
    s.add_attempt(b, _attempt("mri-motor-stall", BY_ID["mri-motor-stall"].wrong_answers[0].submission, 60, "Bo"))
    everyone = s.all_attempts()
    assert [x.trainee for x in everyone] == ["Ada", "Bo"]
    labels = {x.workspace for x in everyone}
    assert len(labels) == 2 and all(lbl.startswith("ws") and len(lbl) < 10 for lbl in labels)


def test_deleting_a_workspace_deletes_its_progress(store_url):
    store = Store(store_url)
    s = SqlTrainingStore(store)
    ws = store.create_workspace()
    s.set_display_name(ws, "Ada")
    s.save_draft(ws, "read-the-pump", {"answers": {}})
    s.add_attempt(ws, _attempt("read-the-pump", BY_ID["read-the-pump"].expert_solution, 10))
    assert store.delete_workspace(ws.token)
    assert s.all_attempts() == []


def _records() -> list[AttemptRecord]:
    """Three trainees: read-the-pump right (30 s) and wrong (90 s); mg/mcg wrong with 2 hard stops (120 s)."""
    recs = [_attempt("read-the-pump", BY_ID["read-the-pump"].expert_solution, 30, "Ada"),
            _attempt("read-the-pump", BY_ID["read-the-pump"].wrong_answers[0].submission, 90, "Bo"),
            _attempt("mg-mcg-concentration", BY_ID["mg-mcg-concentration"].wrong_answers[0].submission, 120, "Cy"),
            _attempt("refill-discrepancy", BY_ID["refill-discrepancy"].expert_solution, 300, "Cy")]
    return [AttemptRecord(**{**r.__dict__, "workspace": f"ws{i}"}) for i, r in enumerate(recs)]


def test_per_exercise_figures_by_hand():
    t = A.per_exercise(DECK, _records()).set_index("exercise")
    r = t.loc["read-the-pump"]
    assert (r.attempts, r.trainees, r.pass_rate_percent, r.median_time_s) == (2, 2, 50.0, 60.0)
    assert r.mean_score_percent == 75.0  # 100 % and 50 %
    m = t.loc["mg-mcg-concentration"]
    assert (m.attempts, m.pass_rate_percent, m.hard_stops_per_100, m.mean_score_percent) == (1, 0.0, 200.0, 0.0)
    d = t.loc["refill-discrepancy"]
    assert d.overrides_per_100 == 100.0  # one override with its reason
    assert t.loc["opioid-switch"].attempts == 0 and pd.isna(t.loc["opioid-switch"].pass_rate_percent)
    s = A.summary(_records())
    assert s == {"attempts": 4, "trainees": 4, "pass_rate_percent": 50.0, "hard_stops_per_100": 50.0,
                 "overrides_per_100": 25.0, "median_time_s": 105.0}


def test_per_objective_and_wrong_answers_by_hand():
    o = A.per_objective(DECK, _records())
    row = o[(o.exercise == "read-the-pump") & (o.objective == "dose_read")].iloc[0]
    assert (row.attempts, row.pass_rate_percent) == (2, 50.0)
    row = o[(o.exercise == "read-the-pump") & (o.objective == "refill_read")].iloc[0]
    assert row.pass_rate_percent == 100.0
    w = A.wrong_answers(DECK, _records())
    assert list(w["wrong answer"]) == ["2000 entered as mg/mL", "daytime step read as the daily rate"]
    assert list(w["share_of_attempts_percent"]) == [100.0, 50.0] and w["known typical error"].all()


def test_deck_progress_status_and_csv():
    recs = _records()[:2]
    p = A.deck_progress(DECK, [r for r in recs if r.trainee == "Bo"]).set_index("exercise")
    assert p.loc["read-the-pump", "status"] == "attempted" and p.loc["read-the-pump", "best_score_percent"] == 50.0
    p = A.deck_progress(DECK, recs).set_index("exercise")
    assert p.loc["read-the-pump", "status"] == "passed" and p.loc["mri-motor-stall", "status"] == "not started"
    csv = A.attempts_table(_records()).to_csv(index=False)
    assert "REFILL_DISCREPANCY: 1.4 mL short" in csv and "dose_read" in csv


def test_certificate_is_a_record_until_every_exercise_is_passed():
    recs = _records()
    pdf = PdfReader(io.BytesIO(certificate_pdf("Ada Trainee", DECK, recs, issued=datetime(2026, 12, 2))))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Training record" in text and "Ada Trainee" in text and f"2 of the {len(DECK)}" in text
    assert "not for clinical use" in text
    assert not completed(DECK, recs)
    every = [_attempt(e.id, e.expert_solution, 10) for e in DECK]
    assert completed(DECK, every)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(certificate_pdf("Ada", DECK, every))).pages)
    assert "Certificate of completion" in text and f"passed all {len(DECK)} exercises" in text
