"""Clinician pages: AppTest per page (story patients), picker persistence,
sent programs, and a real Chromium pass over every page for two patients."""
from __future__ import annotations

import pytest

from conftest import page_problems, screenshot, wait_for_app
from helpers import html_blocks, html_tables
from pumpmodel.telemetry import STORY_DIR, load_telemetry

CLINICIAN_PAGES = ["pages/overview.py", "pages/schedule.py", "pages/reservoir.py", "pages/events.py",
                   "pages/upload.py"]
BROWSER_PATIENTS = [f"story-{c}" for c in "abcdefgh"]  # every story patient, every page


@pytest.fixture(scope="module")
def story():
    return load_telemetry(STORY_DIR)


def open_page(app, page: str, pump: str | None = None):
    """Run the app (entrypoint with the picker), then the page. AppTest's
    switch_page runs the page script alone, so sidebar checks go before it."""
    at = app({"pump": pump} if pump else None).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> str:
    parts = ([m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
             + html_blocks(at))
    return "\n".join(str(p) for p in parts)


def test_default_page_is_overview_for_first_story_patient(app, story):
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Pump overview"
    first = story.pump_ids()[0]
    assert at.selectbox(key="pump_picker").value == first
    assert at.query_params["pump"] == [first] or at.query_params["pump"] == first


@pytest.mark.parametrize("page", CLINICIAN_PAGES)
@pytest.mark.parametrize("pump", ["story-a", "story-b", "story-e", "story-g"])
def test_every_clinician_page_runs_for_story_patients(app, page, pump):
    at = open_page(app, page, pump)
    assert not at.error
    assert "Training simulator" in texts(at)  # the disclaimer on every page
    if page != "pages/upload.py":
        assert pump in texts(at)


def test_overview_numbers_come_from_the_engine(app, story):
    from pumpmodel import evaluate

    at = open_page(app, "pages/overview.py", "story-a")
    ev = evaluate(story.pump("story-a").case())
    shown = texts(at)
    assert f"{ev.low_reservoir_alarm_at:%Y-%m-%d %H:%M}" in shown
    assert f"{ev.refill_by:%Y-%m-%d %H:%M}" in shown
    assert "mL/day" in shown and "mcg/day" in shown and " %" in shown


@pytest.mark.parametrize("pump", ["story-f", "story-a"])  # one active alarm; none
def test_overview_lists_the_active_alarms_in_a_plain_table(app, story, pump):
    from pumpmodel.figures.clinician import active_alarms
    from pumpmodel.figures.style import event_label

    pt = story.pump(pump)
    expected = active_alarms(pt.events, pt.case().now)
    at = open_page(app, "pages/overview.py", pump)
    assert not at.dataframe  # no data grid to load in the browser
    tables, _ = html_tables(at)
    shown = next((t for t in tables if t and "raised (pump clock)" in t[0]), [])
    assert [(r["alarm"], r["raised (pump clock)"], r["severity"]) for r in shown] == [
        (event_label(k), f"{t:%Y-%m-%d %H:%M}", sev.replace("_", "-"))
        for t, k, sev in expected[["timestamp", "kind", "severity"]].itertuples(index=False)]
    assert (not shown) == any("No active alarms." in s.value for s in at.success)
    assert bool(shown) == (pump == "story-f")


def test_picker_choice_survives_page_switch(app):
    at = app({"pump": "story-a"}).run()
    at.selectbox(key="pump_picker").select("story-c").run()
    assert "story-c" in texts(at)
    at.switch_page("pages/reservoir.py").run()
    assert not at.exception
    assert "story-c" in texts(at)  # (AppTest runs only the page on switch_page: the picker is checked above)
    assert at.query_params["pump"] in ("story-c", ["story-c"])


def test_unknown_pump_in_url_falls_back_to_first_story_patient(app, story):
    at = app({"pump": "no-such-pump"}).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="pump_picker").value == story.pump_ids()[0]
    assert any("not in this workspace" in w.value for w in at.sidebar.warning)


def test_sent_program_is_reflected_on_overview_and_reservoir(app, story):
    from pumpmodel import evaluate

    pt = story.pump("story-a")
    prog = pt.current_program().model_copy(update={"mode": "simple_continuous", "steps": None, "week": None,
                                                   "rate_ml_per_day": 0.2})
    from conftest import new_workspace

    ws = new_workspace()
    ws.send_program("story-a", prog.model_dump_json(), pt.now())
    at = app({"pump": "story-a", "ws": ws.token}).run()
    case = pt.case().model_copy(update={"current": prog, "proposed": prog})
    ev = evaluate(case)
    shown = texts(at)
    assert "0.2 mL/day" in shown and f"{ev.refill_by:%Y-%m-%d %H:%M}" in shown
    assert any("sent from the sandbox" in i.value for i in at.info)
    at.switch_page("pages/reservoir.py").run()
    assert not at.exception and f"{ev.empty_at:%Y-%m-%d %H:%M}" in texts(at)


def test_schedule_page_tables(app):
    at = open_page(app, "pages/schedule.py", "story-a")
    assert not at.dataframe  # a static HTML table: no data grid to load in the browser
    (table,), _ = html_tables(at)
    assert table[0]["start"] == "00:00" and table[-1]["start"] == "total per day"
    assert "rate (mL/day)" in table[0] and any(c.endswith("(mcg/day)") for c in table[0])
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Data of this table (CSV): Settings" in labels  # the table's data stays downloadable


def test_reservoir_page_refill_table(app, story):
    at = open_page(app, "pages/reservoir.py", "story-b")
    assert not at.dataframe
    (table,), _ = html_tables(at)
    assert {"expected residual (mL)", "withdrawn (mL)", "added (mL)", "discrepancy (mL)",
            "flagged (> 2 mL)"} <= set(table[0])
    refills = story.pump("story-b").refills()
    assert len(table) == len(refills) > 0
    assert table[0]["date"] == f"{refills['date'].iloc[0]:%Y-%m-%d %H:%M}"  # to the minute
    assert {r["flagged (> 2 mL)"] for r in table} <= {"yes", "no"}
    assert "Data of this table (CSV): Refills" in [b.proto.label for b in at.get("download_button")]


def test_events_page_filter(app, story):
    at = open_page(app, "pages/events.py", "story-b")
    ms = at.multiselect(key="kinds")
    assert "refill" in ms.value
    ms.set_value(["refill"]).run()
    at.toggle(key="log").set_value(True).run()
    assert not at.exception
    from pumpmodel.figures.events import kind_label

    table = at.dataframe[-1].value
    refills = story.pump("story-b").events["kind"].eq("refill").sum()  # counted in the telemetry itself
    assert set(table["event"]) == {kind_label("refill")} and len(table) == refills > 0


def test_events_page_draws_no_empty_ptm_chart(app):
    with_ptm = open_page(app, "pages/events.py", "story-b")  # heavy PTM user
    without = open_page(app, "pages/events.py", "story-a")   # no PTM programmed
    assert len(without.get("plotly_chart")) == len(with_ptm.get("plotly_chart")) - 1
    assert any("no PTM" in i.value for i in without.info)


@pytest.mark.browser
@pytest.mark.parametrize("pump", BROWSER_PATIENTS)
def test_clinician_pages_in_browser(server_url, page, pump):
    for path in ("", "schedule", "reservoir", "events", "upload"):
        page.goto(f"{server_url}/{path}?pump={pump}")
        page.get_by_text("Training simulator").first.wait_for(state="visible", timeout=60_000)
        if path in ("schedule", "reservoir", "events"):  # wait_for_app is vacuous before the first chart exists
            page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        wait_for_app(page)
        screenshot(page, f"clinician-{path or 'overview'}-{pump}")
        assert page_problems(page) == [], (path, pump)


@pytest.mark.browser
def test_clinician_pages_readable_at_1024(server_url, browser):
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = ctx.new_page()
    pg.console_errors, pg.failed_requests = [], []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    try:
        for path in ("", "schedule", "reservoir"):
            pg.goto(f"{server_url}/{path}?pump=story-b")
            pg.get_by_text("Training simulator").first.wait_for(state="visible", timeout=60_000)
            if path:
                pg.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
            wait_for_app(pg)
            screenshot(pg, f"clinician-{path or 'overview'}-1024")
            assert page_problems(pg) == []
            # no horizontal scrolling of the main area
            assert pg.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth "
                               "<= document.querySelector('[data-testid=\"stMain\"]').clientWidth + 1")
    finally:
        ctx.close()


def test_overview_cards_carry_formula_and_source_behind_the_help_mark(app):
    at = open_page(app, "pages/overview.py", "story-a")
    cards = "\n".join(h for h in html_blocks(at) if "display:grid" in h)
    assert "787.5 mcg/day" in cards                       # baclofen daily dose card
    assert "title='" in cards and "x 2000 mcg/mL" in cards  # its formula in the tooltip
    assert "Lioresal" in cards                             # and the limit's source
