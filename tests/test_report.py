"""The session report PDF: its text, read back with pypdf."""
import io
import json
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader

from pumpmodel import Case, evaluate, sandbox
from pumpmodel.report import DISCLAIMER, latin1, session_report

ROOT = Path(__file__).resolve().parents[1]


def _text(pdf: bytes) -> tuple[list[str], str]:
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    return pages, "\n".join(pages)


def test_report_has_programs_doses_dates_warnings_overrides_and_json():
    case = Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json"))
    ev, cur = evaluate(case), sandbox.current_evaluation(case)
    overrides = [{"at": "2026-11-21T09:10:00", "pump": "story-a", "code": "TITRATION_STEP_TOO_LARGE",
                  "drug": "baclofen", "reason": "spasticity not controlled, 2 µg × check"}]
    pdf = session_report(case, ev, cur, overrides, pump_id="story-a", sent=True,
                         generated_at=datetime(2026, 11, 21, 9, 15))
    assert pdf.startswith(b"%PDF")
    pages, text = _text(pdf)
    flat = " ".join(text.split())
    assert len(pages) >= 2
    for page in pages:  # the disclaimer on every page
        assert DISCLAIMER in " ".join(page.split())
    for needle in ("story-a", "programmable-40", "baclofen 2,000 mcg/mL", "887.5 mcg/day", "625 mcg/day", "+42 %",
                   "TITRATION_STEP_TOO_LARGE", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED", "refill by",
                   "spasticity not controlled, 2 mcg x check", "sent to the simulated pump",
                   '"rate_ml_per_day": 0.35', "Lioresal"):
        assert needle in flat, needle


def test_report_of_a_new_implant_without_findings():
    case = Case.model_validate(sandbox.blank_case("valve-gated-40", drug="morphine"))
    pdf = session_report(case, evaluate(case), None, [], generated_at=datetime(2026, 11, 21))
    _, text = _text(pdf)
    flat = " ".join(text.split())
    assert "No soft warning was overridden" in flat
    assert "proposal, not sent" in flat
    assert "none (new implant)" in flat


def test_latin1_keeps_text_drawable():
    assert latin1("0.5 µg × 2 – ≤ 3") == "0.5 mcg x 2 - <= 3"
    assert latin1("日本").encode("latin-1")


def test_report_before_vs_after_with_charts_patient_and_both_clocks():
    case = Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json"))
    ev, cur = evaluate(case), sandbox.current_evaluation(case)
    overrides = [{"pump clock": "2026-11-21 09:10", "wall clock (UTC)": "2026-12-02 05:40:11", "pump": "story-a",
                  "code": "TITRATION_STEP_TOO_LARGE", "drug": "baclofen", "reason": "agreed with the patient"}]
    pdf = session_report(case, ev, cur, overrides, pump_id="story-a", sent=True,
                         generated_at=datetime(2026, 12, 2, 5, 41), patient_label="Patient A: spinal cord injury",
                         sent_at=datetime(2026, 12, 2, 5, 40))
    reader = PdfReader(io.BytesIO(pdf))
    images = [img for page in reader.pages for img in page.images]
    assert len(images) == 2  # the schedule and the reservoir projection
    _, text = _text(pdf)
    flat = " ".join(text.split())
    for needle in ("Patient: Patient A: spinal cord injury", "Before vs after", "2026-11-21 09:10",
                   "2026-12-02 05:40:11", "sent to the simulated pump at 2026-12-02 05:40 UTC",
                   "TITRATION_STEP_TOO_LARGE (baclofen)", "agreed with the patient", "severity", "SOFT"):
        assert needle in flat, needle
    # the program before and after are both there: 0.5 -> 0.71 mL/day... as the review rows say
    rows = sandbox.review_rows(case, ev, cur)
    changed = [r for r in rows if r["changed"]]
    assert changed and all(latin1(r["current"]) in flat and latin1(r["pending"]) in flat for r in changed[:3])
    for word in ("severity", "message", "source", "reason", "pump clock"):
        assert word in flat  # headings not broken mid-word
    assert "severit y" not in flat


def test_report_without_a_chart_renderer_still_has_every_number(monkeypatch):
    import plotly.graph_objects as go

    def broken(*a, **k):
        raise RuntimeError("no chromium")

    monkeypatch.setattr(go.Figure, "to_image", broken)
    case = Case.model_validate(sandbox.demo_case("spec_example.json"))
    pdf = session_report(case, evaluate(case), sandbox.current_evaluation(case), [])
    flat = " ".join(_text(pdf)[1].split())
    assert "Charts could not be drawn (RuntimeError: no chromium)" in flat
    assert not [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
