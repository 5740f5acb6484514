"""Regression tests for the hostile-input defects of issue 12 (library level).

Each test names its defect number; docs/hazards.md maps them. The page-level
ones (markdown injection, error boundary, server caps) are in
test_hardening_pages.py, the browser one in test_hardening_browser.py.
"""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import tomllib
import tracemalloc
import zipfile
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pumpmodel import Case, evaluate, sandbox, sharelink
from pumpmodel.telemetry import STORY_DIR, TelemetryError, load_telemetry, to_combined, to_zip

ROOT = Path(__file__).resolve().parents[1]
SPEC = json.loads((ROOT / "examples" / "spec_example.json").read_text())


def token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def locs(exc) -> list[str]:
    return [sharelink.format_loc(e["loc"]) for e in exc.errors]


@pytest.fixture(scope="module")
def story():
    return load_telemetry(STORY_DIR)


@pytest.fixture(scope="module")
def combined(story):
    """Two days of story-a as a combined table (pandas), for hand-made bad uploads."""
    from ui.clinician_upload import template_telemetry

    return to_combined(template_telemetry(story, "story-a", days=2))


def csv_of(df) -> bytes:
    return df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()


# -- 1. zip bomb -------------------------------------------------------------------------

def _bomb(inflated_mb: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("pumps.csv", "pump_id\n")
        with zf.open("samples.csv", "w") as fh:
            chunk = b"0" * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(chunk)
        zf.writestr("events.csv", "pump_id\n")
    return buf.getvalue()


def test_1_zip_bomb_is_refused_without_inflating_it():
    bomb = _bomb(300)
    assert len(bomb) < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(TelemetryError) as info:
            load_telemetry(bomb, name="bomb.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "bomb.zip" in str(info.value) and "at most 100 MB" in str(info.value)
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_1_members_are_inflated_as_a_stream_under_the_budget():
    from pumpmodel.telemetry_limits import LimitExceeded, ZipReader

    reader = ZipReader(_bomb(40), "bomb.zip")  # the header's 40 MB fit the budget ...
    reader.budget = 8 * 1024 * 1024            # ... what is really inflated is counted too
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded) as info:
            reader.read("samples.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.file == "bomb.zip:samples.csv"
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_1_zip_with_too_many_members_is_refused(story):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(5001):
            zf.writestr(f"x/{i}.txt", "")
    with pytest.raises(TelemetryError, match="members"):
        load_telemetry(buf.getvalue(), name="many.zip")


def test_1_a_normal_zip_still_loads(story):
    assert load_telemetry(to_zip(story), name="story.zip").pump_ids() == story.pump_ids()


def test_1_parquet_that_decodes_to_millions_of_rows_is_refused_from_its_footer():
    import pyarrow as pa

    buf = io.BytesIO()
    pq.write_table(pa.table({"table": pa.nulls(6_000_000, pa.string())}), buf)
    assert len(buf.getvalue()) < 1_000_000
    with pytest.raises(TelemetryError) as info:
        load_telemetry(buf.getvalue(), name="rows.parquet")
    assert "rows.parquet" in str(info.value) and "6,000,000 rows" in str(info.value)


# -- 2. share links that crashed the sandbox --------------------------------------------

def _deep(n: int) -> str:
    return json.dumps(SPEC)[:-1] + ', "x": ' + "[" * n + "]" * n + "}"


@pytest.mark.parametrize("text, field", [
    (_deep(600), "(case)"),
    (json.dumps(SPEC).replace('"max_per_day": 3', '"max_per_day": 1e308'), "proposed.ptm.max_per_day"),
    (json.dumps(SPEC).replace('"reservoir_ml": 18.5', '"reservoir_ml": Infinity'), "reservoir_ml"),
    (json.dumps(SPEC).replace('"max_per_day": 3', '"max_per_day": Infinity'), "proposed.ptm.max_per_day"),
    (json.dumps(SPEC).replace('"reservoir_ml": 18.5', '"reservoir_ml": ' + "9" * 5000), "reservoir_ml"),
    (json.dumps(SPEC).replace('"reservoir_ml": 18.5', '"reservoir_ml": NaN'), "reservoir_ml"),
])
def test_2_hostile_share_links_are_refused_at_the_gate_naming_the_field(text, field):
    with pytest.raises(sharelink.ShareLinkError) as info:
        sharelink.decode_dict(token(text))
    assert field in locs(info.value), info.value.errors


def test_2_the_gate_refuses_duplicate_keys_long_arrays_and_long_text():
    from pumpmodel import gate

    with pytest.raises(gate.GateError) as info:
        gate.load_object('{"a": 1, "a": 2}')
    assert locs(info.value) == ["a"]
    with pytest.raises(gate.GateError) as info:
        gate.load_object(json.dumps({"p": {"steps": [0] * (gate.MAX_ITEMS + 1)}}))
    assert locs(info.value) == ["p.steps"]
    with pytest.raises(gate.GateError):
        gate.load_object(json.dumps({"drug": "x" * (gate.MAX_STRING_CHARS + 1)}))
    assert gate.load_object(json.dumps(SPEC)) == SPEC


def test_2_cli_5000_digit_number_exits_2_without_a_traceback(tmp_path):
    f = tmp_path / "big.json"
    f.write_text(json.dumps(SPEC).replace('"reservoir_ml": 18.5', '"reservoir_ml": ' + "9" * 5000))
    r = subprocess.run([sys.executable, "-m", "pumpmodel", "evaluate", str(f)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert json.loads(r.stdout)["error"]["errors"][0]["loc"] == ["reservoir_ml"]


# -- 3. user text in charts ----------------------------------------------------------------

def test_3_trial_side_effect_in_the_chart_hover_is_text(story):
    """Plotly renders a subset of HTML in hover text (<a href>, <b>, <br>): a side effect typed in a trial
    or uploaded with one is shown as its characters."""
    from pumpmodel.figures.trial import trial_response_figure

    trial = story.pump(story.pump_ids()[0]).trial().model_copy(deep=True)
    trial.side_effects[0].effect = "<a href='https://evil-site.com'>log in</a> <b>x</b>"
    fig = trial_response_figure(trial)
    texts = [t for tr in fig.data if tr.name == "side effect" for t in tr.text]
    assert texts and all("<" not in t and "&lt;a href=" in t for t in texts), texts


# -- 4, 5, 6. telemetry outside its contract ---------------------------------------------

def test_4_last_sample_in_year_9999_is_refused(combined):
    df = combined.copy()
    last = df.index[df["table"] == "samples"][-1]
    df.loc[last, "timestamp"] = datetime(9999, 12, 31, 23, 30)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(csv_of(df), name="y9999.csv")
    assert any(p.column == "timestamp" and "between" in p.message and "(got 9999-12-31T23:30:00)" in p.message
               for p in info.value.problems), info.value.problems  # the value as the file has it, no Python repr


@pytest.mark.parametrize("table, column, value", [
    ("samples", "delivered_ml", "inf"), ("samples", "delivered_ml", "1e300"),
    ("samples", "programmed_rate_ml_per_day", "inf"), ("samples", "programmed_rate_ml_per_day", "1e300"),
    ("events", "volume_ml", "1e300"), ("events", "withdrawn_ml", "inf"),
])
def test_5_impossible_volumes_and_rates_are_refused(combined, table, column, value):
    df = combined.copy().astype({column: object})
    row = df.index[df["table"] == table][-1]
    df.loc[row, column] = value
    with pytest.raises(TelemetryError) as info:
        load_telemetry(csv_of(df), name="inf.csv")
    assert any(p.column == column for p in info.value.problems), str(info.value)


def test_5_implant_after_the_last_sample_is_refused(combined):
    df = combined.copy()
    df.loc[df["table"] == "pumps", "implant_date"] = datetime(2030, 1, 1)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(csv_of(df), name="implant.csv")
    assert any(p.column == "implant_date" for p in info.value.problems)


def test_6_duplicate_column_names_are_a_telemetry_error(combined):
    text = csv_of(combined).decode().split("\n")
    text[0] = text[0] + ",delivered_ml"
    text = "\n".join(line + "," if i and line else line for i, line in enumerate(text))
    with pytest.raises(TelemetryError) as info:
        load_telemetry(text.encode(), name="dup.csv")
    assert any(p.column == "delivered_ml" and "twice" in p.message for p in info.value.problems)


def test_6_deeply_nested_details_are_a_telemetry_error(combined):
    df = combined.copy()
    row = df.index[(df["table"] == "events") & (df["kind"] == "program_change")][0]
    df.loc[row, "details"] = '{"new": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(TelemetryError) as info:
        load_telemetry(csv_of(df), name="deep.csv")
    assert any(p.column == "details" and "deep" in p.message for p in info.value.problems)


# -- 7, 10. server caps and error details ------------------------------------------------

def test_7_10_server_config_caps_uploads_and_messages_and_hides_error_details():
    from ui import data

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] == data.MAX_UPLOAD_MB
    assert data.MAX_UPLOAD_MB <= cfg["server"]["maxMessageSize"] <= 64
    assert cfg["client"]["showErrorDetails"] == "none"


def test_7_an_8_mb_case_is_refused_before_parsing():
    raw = b'{"pad": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    with pytest.raises(sharelink.ShareLinkError) as info:
        sharelink.parse_json(sharelink.decode_text(raw))
    assert "1 MB" in info.value.errors[0]["msg"]


# -- 8. the PDF with a long override reason ----------------------------------------------

def test_8_pdf_survives_a_4000_character_override_reason():
    from pypdf import PdfReader

    from pumpmodel.report import session_report

    case = Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json"))
    ev, cur = evaluate(case), sandbox.current_evaluation(case)
    reason = ("spasticity not controlled " * 200)[:4000]
    overrides = [{"at": "2026-11-21T09:10:00", "pump": "story-a", "code": "TITRATION_STEP_TOO_LARGE",
                  "drug": "baclofen", "reason": reason}]
    pdf = session_report(case, ev, cur, overrides, pump_id="story-a", generated_at=datetime(2026, 11, 21))
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "spasticity not controlled" in text
    assert "reason shortened: 4,000 characters" in text and "Row 1, reason in full" in text


# -- 9. a corrupt partition in a cohort folder -------------------------------------------

def test_9_a_timestamp_in_year_15795_does_not_crash_the_date_range(tmp_path):
    """Found by the cohort fuzz target (one byte of a samples partition overwritten): DuckDB reads a
    valid timestamp in year 15795 and filter_options() raised NotImplementedError in Timestamp.date()."""
    import numpy as np
    import pyarrow as pa
    from datetime import date

    from cohort_fixture import write_cohort
    from pumpmodel import cohort_queries as cq

    folder = write_cohort(tmp_path / "c", pumps=2, days=8, seed=11)
    part = sorted((folder / "samples").glob("pump_id=*/*.parquet"))[0]
    t = pq.read_table(part)
    i, typ = t.schema.get_field_index("timestamp"), t.schema.field("timestamp").type
    ts = t.column(i).cast(pa.int64()).to_numpy().copy()
    ts[-1] = np.datetime64("15795-06-01T00:00", typ.unit).astype("int64")
    pq.write_table(t.set_column(i, "timestamp", pa.array(ts).cast(typ)), part)
    c = cq.Cohort([folder], materialize=())
    try:
        for view in ("summary", "pump_table", "refill_intervals", "flagged_refills"):
            c.run(view)
        opts = c.filter_options()
        assert opts["dates"] == [] and opts["dates_outside_pump_clock"] is True  # no date filter, said why
    finally:
        c.close()
    clean = cq.Cohort([write_cohort(tmp_path / "ok", pumps=2, days=8, seed=11)], materialize=())
    try:
        opts = clean.filter_options()
        assert opts["dates"] == [date(2024, 1, 1), date(2024, 1, 8)] and opts["dates_outside_pump_clock"] is False
    finally:
        c.close()


def test_9_corrupt_partition_is_reported_by_file_and_the_rest_is_usable(tmp_path):
    from cohort_fixture import write_cohort
    from pumpmodel import cohort_queries as cq

    folder = write_cohort(tmp_path / "c", pumps=4, days=30, seed=5)
    victim = sorted((folder / "samples").glob("pump_id=*/*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:200] + b"garbage" * 50)
    c = cq.Cohort([folder])
    try:
        assert [str(p) for p, _ in c.skipped] == [str(victim)]
        summary = c.run("summary").iloc[0]
        assert int(summary.pumps_selected) == 4
    finally:
        c.close()


def test_9_corrupt_pumps_table_refuses_the_folder_with_one_clear_message(tmp_path):
    from cohort_fixture import write_cohort
    from pumpmodel import cohort_queries as cq

    folder = write_cohort(tmp_path / "c", pumps=2, days=10, seed=5)
    (folder / "pumps.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(cq.CohortError) as info:
        cq.Cohort([folder])
    assert "pumps.parquet" in str(info.value)
