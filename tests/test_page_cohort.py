"""The cohort explorer page: AppTest (filters change the results) and a real browser."""
import pytest

from conftest import page_problems, screenshot, wait_for_app
from helpers import html_tables


def _metric(at, label):
    return next(m for m in at.metric if m.label == label).value


def _risky(at) -> list[dict[str, str]]:
    """The riskiest-pumps table (plain HTML): its rows as {column: cell}."""
    tables, _ = html_tables(at)
    return next(t for t in tables if t and "days below alarm" in t[0])


def _cohort(app):
    at = app().run()
    at.switch_page("pages/cohort.py").run()
    assert not at.exception, at.exception
    return at


def test_cohort_page_renders_every_view(app):
    at = _cohort(app)
    assert at.title[0].value == "Cohort explorer"
    assert any("Training simulator" in c.value for c in at.caption)
    assert int(_metric(at, "Pumps in the selection").replace(",", "")) > 100
    assert len(at.get("plotly_chart")) == 6
    assert len(at.get("download_button")) >= 8  # one per view + flagged refills + pump list
    assert not at.error


def test_filters_change_results(app):
    at = _cohort(app)
    everyone = int(_metric(at, "Pumps in the selection").replace(",", ""))
    at.multiselect(key="drug").set_value(["baclofen"]).run()
    assert not at.exception
    baclofen = int(_metric(at, "Pumps in the selection").replace(",", ""))
    assert 0 < baclofen < everyone
    assert {r["drug"] for r in _risky(at)} == {"baclofen"}
    at.multiselect(key="population").set_value(["story"]).run()
    assert not at.exception
    story = int(_metric(at, "Pumps in the selection").replace(",", ""))
    assert 0 < story < baclofen
    assert story < 5  # two story patients have baclofen: too few for statistics, and the page says so
    assert not at.get("plotly_chart") and not html_tables(at)[0]
    assert any("statistics are hidden below 5 pumps" in i.value for i in at.info)
    at.multiselect(key="drug").set_value([]).run()
    risky = _risky(at)
    assert {r["population"] for r in risky} == {"story"}  # friendly column names
    assert not any("_" in r["indication"] for r in risky)  # "spasticity spinal", in words


def test_a_pump_of_the_riskiest_table_opens_in_the_clinician_views(app):
    at = _cohort(app)
    at.multiselect(key="drug").set_value(["baclofen"]).run()  # a filter bound to the address (?drug=)
    risky = _risky(at)
    pick = at.selectbox(key="cohort_open_pick")
    assert pick.options[:3] == [f"{r['pump']}: {r['drug']}, {r['pump profile']}, {r['days below alarm']} days below alarm"
                                for r in risky[:3]]  # the table's pumps, in its order
    assert at.button(key="cohort_open_go").disabled  # nothing chosen yet
    pick.set_value(risky[-1]["pump"]).run()
    at.multiselect(key="drug").set_value(["morphine"]).run()  # the chosen pump leaves the table
    assert not at.exception and not at.error
    assert at.selectbox(key="cohort_open_pick").value is None  # not kept: it is no longer in the table
    at.multiselect(key="drug").set_value(["baclofen"]).run()
    risky = _risky(at)
    pick = at.selectbox(key="cohort_open_pick")
    top = risky[0]["pump"]
    pick.set_value(top).run()
    assert not at.button(key="cohort_open_go").disabled
    at.button(key="cohort_open_go").click().run()
    assert not at.exception
    assert at.title[0].value == "Pump overview"
    assert at.session_state["pump_id"] == top  # (AppTest keeps no sidebar after a page switch: see the browser test)
    assert any(f"`{top}`" in m.value for m in at.markdown)
    assert at.query_params["pump"] in (top, [top]) and "drug" not in at.query_params  # the filters stay behind


def test_narrow_date_range_and_empty_selection(app):
    at = _cohort(app)
    dates = next(d for d in at.date_input if d.label.startswith("Date range"))
    lo, hi = dates.value
    days_all = float(_metric(at, "Pump-days").replace(",", ""))
    dates.set_value((lo, lo.replace(day=28))).run()
    assert not at.exception
    assert float(_metric(at, "Pump-days").replace(",", "")) < days_all
    at.multiselect(key="drug").set_value(["ziconotide"]).run()
    zico = int(_metric(at, "Pumps in the selection").replace(",", ""))
    assert not at.exception and 0 < zico
    at.multiselect(key="alarm").set_value(["alarm_end_of_service"]).run()
    assert not at.exception and not at.error
    both = int(_metric(at, "Pumps in the selection").replace(",", ""))
    assert both < zico  # an end-of-service alarm within four weeks: few pumps, if any
    if both == 0:
        assert any("No pump matches these filters" in i.value for i in at.info)
        assert not at.get("plotly_chart")  # the page stops: no empty charts


def _settled(page):
    """The page ran to the end: title, all six charts drawn, script idle."""
    page.get_by_role("heading", name="Cohort explorer").first.wait_for(timeout=150_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6",
                           timeout=150_000)
    wait_for_app(page, timeout_ms=150_000)


@pytest.mark.browser
def test_cohort_page_in_browser(server_url, page):
    page.goto(server_url + "/cohort")
    _settled(page)
    before = page.get_by_test_id("stMetricValue").first.inner_text()
    page.get_by_test_id("stMultiSelect").filter(has_text="Drug").click()
    page.get_by_role("option", name="baclofen").click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(800)
    _settled(page)
    after = page.get_by_test_id("stMetricValue").first.inner_text()
    assert after != before
    assert page.locator(".js-plotly-plot").count() == 6
    screenshot(page, "cohort")
    assert page_problems(page) == []
    # open a pump of the riskiest-pumps table in the clinician views, by keyboard, with a filter
    # in the address (Streamlit refused to switch pages with bound filters: found here)
    listed = page.locator(".pt-table[aria-label='Riskiest pumps'] tbody th").all_inner_texts()
    pick = page.get_by_test_id("stSelectbox").filter(has_text="Open a pump")
    pick.get_by_role("combobox").click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    go = page.locator(".st-key-cohort_open_go button:not([disabled])")
    go.wait_for()
    chosen = pick.get_by_role("combobox").input_value().split(":")[0]
    assert chosen in [t.strip() for t in listed]
    go.click()
    page.get_by_role("heading", name="Pump overview").wait_for(timeout=60_000)
    wait_for_app(page)
    assert chosen in page.get_by_test_id("stSidebar").inner_text()
    assert f"pump={chosen}" in page.url and "drug=" not in page.url
    assert page_problems(page) == []
