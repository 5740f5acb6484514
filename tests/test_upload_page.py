"""Upload: template round trip, precise problem tables, size cap, and the
selected pump staying usable after a bad upload."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from pumpmodel.telemetry import STORY_DIR, TelemetryError, load_telemetry, to_combined
from ui.clinician_upload import TEMPLATE_ID, template_telemetry


@pytest.fixture(scope="module")
def story():
    return load_telemetry(STORY_DIR)


@pytest.fixture(scope="module")
def template_csv(story) -> bytes:
    return to_combined(template_telemetry(story, story.pump_ids()[0])).to_csv(
        index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()


def test_template_is_valid_telemetry_with_a_program(story, template_csv):
    tel = load_telemetry(template_csv, name="telemetry-template.csv")
    assert tel.pump_ids() == [TEMPLATE_ID]
    pt = tel.pump(TEMPLATE_ID)
    assert len(pt.samples) == 14 * 24
    assert pt.current_program() == story.pump(story.pump_ids()[0]).current_program()
    pt.case()  # evaluable


def test_template_parquet_round_trip(story):
    buf = io.BytesIO()
    to_combined(template_telemetry(story, "story-b")).to_parquet(buf, index=False)
    assert load_telemetry(buf.getvalue(), name="t.parquet").pump_ids() == [TEMPLATE_ID]


def test_bad_upload_lists_every_problem_and_keeps_selection(app, template_csv):
    at = app({"pump": "story-b"}).run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception
    # a bad file: corrupt two cells
    df = pd.read_csv(io.BytesIO(template_csv), dtype=str)
    samples = df.index[df["table"] == "samples"]
    df.loc[samples[3], "reservoir_ml"] = "lots"
    df.loc[samples[5], "timestamp"] = "yesterday"
    bad = df.to_csv(index=False).encode()
    with pytest.raises(TelemetryError) as exc:
        load_telemetry(bad, name="bad.csv")
    problems = {(p.column, p.row) for p in exc.value.problems}
    assert ("reservoir_ml", int(samples[3])) in problems and ("timestamp", int(samples[5])) in problems
    # the page: the problems table, nothing changed, the selected pump still works
    script = """
import streamlit as st
from ui.clinician_upload import handle
st.session_state["r"] = handle("bad.csv", st.session_state["payload"])
"""
    from streamlit.testing.v1 import AppTest

    t = AppTest.from_string(script, default_timeout=60)
    t.session_state["payload"] = bad
    t.run()
    r = t.session_state["r"]
    assert not r["ok"] and list(r["problems"].columns) == ["file", "column", "row", "message"]
    assert len(r["problems"]) == len(exc.value.problems)
    assert t.session_state["workspace"].uploads() == []
    at.switch_page("pages/overview.py").run()
    assert not at.exception and "story-b" in "\n".join(m.value for m in at.markdown)


def test_good_upload_adds_pump_and_clash_is_reported(template_csv):
    script = """
import streamlit as st
from ui import data
from ui.clinician_upload import handle
first = handle("template.csv", st.session_state["payload"])
st.session_state["first"] = first
st.session_state["ids"] = data.all_telemetry().pump_ids()
st.session_state.pop("upload_last")
st.session_state["again"] = handle("template.csv", st.session_state["payload"])
"""
    from streamlit.testing.v1 import AppTest

    t = AppTest.from_string(script, default_timeout=60)
    t.session_state["payload"] = template_csv
    t.run()
    assert not t.exception
    assert t.session_state["first"]["ok"] and t.session_state["first"]["pump_ids"] == [TEMPLATE_ID]
    assert TEMPLATE_ID in t.session_state["ids"] and "story-a" in t.session_state["ids"]
    again = t.session_state["again"]
    assert not again["ok"] and "already loaded" in again["problems"]["message"][0]


def test_size_cap_and_garbage():
    from ui import data

    script = """
import streamlit as st
from ui.clinician_upload import handle
st.session_state["big"] = handle("big.csv", b"x" * (26 * 1024 * 1024))
st.session_state["junk"] = handle("junk.parquet", b"not parquet at all")
st.session_state["txt"] = handle("notes.txt", b"hello")
"""
    from streamlit.testing.v1 import AppTest

    t = AppTest.from_string(script, default_timeout=60)
    t.run()
    assert not t.exception
    assert "limit is 25 MB" in t.session_state["big"]["problems"]["message"][0]
    assert not t.session_state["junk"]["ok"] and not t.session_state["txt"]["ok"]
    assert data.MAX_UPLOAD_MB == 25


def test_uploaded_pump_pages_render(app, template_csv):
    # an upload already in this session (as add_upload leaves it), selected by the URL
    from conftest import new_workspace

    at = app({"pump": TEMPLATE_ID, "ws": new_workspace(**{"template.csv": template_csv}).token})
    at.run()
    assert not at.exception and at.selectbox(key="pump_picker").value == TEMPLATE_ID
    for page in ("pages/overview.py", "pages/schedule.py", "pages/reservoir.py", "pages/events.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert TEMPLATE_ID in "\n".join(m.value for m in at.markdown)


def test_pump_in_the_address_comes_back_from_the_workspace_or_the_cohort(app, template_csv):
    from conftest import new_workspace, workspace_of
    from ui.cohort_open import ROOT

    # an uploaded pump: a new session (a reload, a shared link) with the workspace's token finds it
    ws = new_workspace(**{"template.csv": template_csv})
    at = app({"pump": TEMPLATE_ID, "ws": ws.token}).run()
    assert not at.exception and at.selectbox(key="pump_picker").value == TEMPLATE_ID
    # another workspace does not have it: said so, not silently replaced
    at = app({"pump": TEMPLATE_ID}).run()
    assert at.selectbox(key="pump_picker").value != TEMPLATE_ID
    assert any(TEMPLATE_ID in w.value and "not in this workspace" in w.value for w in at.sidebar.warning)
    # a cohort pump is loaded from the cohort data into the workspace
    cohort_pump = sorted((ROOT / "sample_data" / "cohort" / "samples").iterdir())[0].name.split("=", 1)[1]
    at = app({"pump": cohort_pump}).run()
    assert not at.exception and at.selectbox(key="pump_picker").value == cohort_pump
    assert [u.name for u in workspace_of(at).uploads()] == [f"cohort-{cohort_pump}.zip"]
    assert not at.sidebar.warning
    # a path in the address is not a pump id
    at = app({"pump": "../../etc"}).run()
    assert not at.exception and any("not in this workspace" in w.value for w in at.sidebar.warning)


# -- regressions (code review) ----------------------------------------------------------

def _template_frame(story, pump_id: str = "story-a") -> pd.DataFrame:
    return to_combined(template_telemetry(story, pump_id))


def _render_all_pages(app, payload: bytes, name: str) -> None:
    from conftest import new_workspace

    at = app({"pump": TEMPLATE_ID, "ws": new_workspace(**{name: payload}).token})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for page in ("pages/overview.py", "pages/schedule.py", "pages/reservoir.py", "pages/events.py",
                 "pages/sandbox.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])


def test_upload_with_a_nearly_flat_battery_renders_every_page(app, story):
    """battery 80.0 on every row but the last (79.999999999): the projection to ERI was
    ~1e11 h away and timedelta overflowed on every clinician page and the sandbox."""
    df = _template_frame(story)
    samples = df["table"] == "samples"
    df.loc[samples, "battery_pct"] = 80.0
    df.loc[df.index[samples][-1], "battery_pct"] = 79.999999999
    df = df[~df["kind"].isin(["alarm_eri", "alarm_end_of_service"])]
    payload = df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()
    tel = load_telemetry(payload, name="flat.csv")
    assert tel.pump(TEMPLATE_ID).end_of_service_at() is None
    _render_all_pages(app, payload, "flat.csv")


def test_older_upload_without_the_estimate_column_renders(app, story):
    df = _template_frame(story).drop(columns=["reservoir_estimate_ml"])
    payload = df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()
    _render_all_pages(app, payload, "old.csv")


def test_program_with_too_many_flex_steps_is_rejected_at_upload_with_its_row(story):
    import json

    df = _template_frame(story)
    i = df.index[df["kind"] == "program_change"][-1]
    doc = json.loads(df.loc[i, "details"])
    doc["new"].update(mode="flex", steps=[{"start": f"{h:02d}:00", "rate_ml_per_day": 0.3} for h in range(11)])
    for k in ("rate_ml_per_day", "boluses", "week"):
        doc["new"].pop(k, None)
    df.loc[i, "details"] = json.dumps(doc)
    with pytest.raises(TelemetryError) as exc:
        load_telemetry(df.to_csv(index=False).encode(), name="steps.csv")
    [p] = exc.value.problems
    assert (p.file, p.column, p.row) == ("steps.csv", "details", int(i)) and "11 flex steps" in p.message
