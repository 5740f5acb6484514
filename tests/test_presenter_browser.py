"""Presenter features in a real Chromium: presentation mode, a guided tour from start to end
with a reload at every step, cohort filters restored from a link, and axe-core on every page of
the navigation in normal and presentation mode."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import page_problems, screenshot, wait_for_app
from pumpmodel import tours

ROOT = Path(__file__).resolve().parents[1]
TITLES = dict(re.findall(r'"pages/([a-z0-9_]+)\.py", "([^"]+)"', (ROOT / "dashboard.py").read_text()))
H1 = {"overview": "Pump overview", "schedule": "Rate schedule", "reservoir": "Reservoir and refill",
      "events": "Events and alarms", "sandbox": "Programming sandbox"}
#: Streamlit's own navigation markup puts section headers inside its <ul> (axe: list/listitem);
#: it is the framework's, not this app's, so axe checks everything but the navigation links.
AXE_EXCLUDE = [['[data-testid="stSidebarNav"]'], ['[data-testid="stSidebarNavItems"]']]


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _h1(page) -> str:
    return page.locator("[data-testid='stMain'] h1").first.inner_text().strip()


@pytest.mark.browser
def test_presentation_mode_hides_the_chrome_and_enlarges_type(server_url, page):
    page.goto(server_url + "/reservoir?pump=story-a&present=1")
    wait_for_app(page)
    assert not page.locator("[data-testid='stToolbar']").is_visible()
    assert not page.get_by_text("Deploy", exact=True).is_visible()
    assert page.locator("[data-testid='stSidebar']").get_attribute("data-collapsed") == "true"
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    page.wait_for_selector(".js-plotly-plot .gtitle", timeout=120_000)  # the chart may still be on its way
    title_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.js-plotly-plot .gtitle')).fontSize)")
    assert title_px >= 20  # 16 px in normal mode, scaled for the back of the room
    screenshot(page, "present-reservoir")
    assert page_problems(page) == []
    # Reset demo: back to the shipped state, presentation mode kept
    page.get_by_role("button", name="Reset demo").click()
    page.wait_for_url(re.compile(r".*present=1.*"))
    wait_for_app(page)
    assert _h1(page) == "Pump overview"
    assert page.get_by_text("Demo reset to the shipped state.").is_visible()
    # and out of presentation mode again
    page.get_by_role("button", name="Leave presentation").click()
    page.wait_for_function("() => !location.search.includes('present=1')")
    wait_for_app(page)
    assert page.locator("[data-testid='stToolbar']").is_visible()


@pytest.mark.browser
def test_a_tour_from_start_to_end_with_a_reload_at_every_step(server_url, page):
    tour = tours.tours()["story-a"]
    page.goto(server_url + "/?pump=story-a")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Guided tour of this patient")).click()
    for i, step in enumerate(tour.steps):
        page.wait_for_function(f"() => location.search.includes('step={i + 1}')")
        wait_for_app(page)
        bar = page.locator(".st-key-tour_panel")
        for _ in range(2):  # as opened, then after a reload: the same screen
            text = bar.inner_text()
            assert f"step {i + 1} of {len(tour.steps)}" in text and step.title in text, text
            assert _h1(page) == H1[step.page]
            q = _query(page.url)
            assert q["tour"] == "story-a" and q["step"] == str(i + 1) and q["pump"] == "story-a"
            assert all(q.get(k) == v for k, v in step.params.items())
            if step.case:
                assert "case" in q
            assert page_problems(page) == []
            screenshot(page, f"tour-a-step{i + 1}")
            url = page.url
            page.reload()
            wait_for_app(page)
            assert page.url == url
        if i == 0:
            page.keyboard.press("ArrowRight")  # the Next key
        else:
            page.locator(".st-key-tour_next button").click()
    page.wait_for_function("() => !location.search.includes('tour=')")
    wait_for_app(page)
    assert page.locator(".st-key-tour_panel").count() == 0


@pytest.mark.browser
def test_cohort_filters_are_restored_from_a_link(server_url, page):
    page.goto(server_url + "/cohort?drug=baclofen&profile=programmable-20")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6",
                           timeout=150_000)
    wait_for_app(page, timeout_ms=150_000)
    drug = page.get_by_test_id("stMultiSelect").filter(has_text="Drug")
    assert "baclofen" in drug.inner_text()
    assert "programmable-20" in page.get_by_test_id("stMultiSelect").filter(has_text="Pump profile").inner_text()
    pumps = int(page.get_by_test_id("stMetricValue").first.inner_text().replace(",", ""))
    assert 5 <= pumps < 100
    q = _query(page.url)
    assert q.get("drug") == "baclofen" and q.get("profile") == "programmable-20"
    assert page_problems(page) == []


def _nav_paths(page, server_url) -> list[str]:
    page.goto(server_url + "/?pump=story-a")
    wait_for_app(page)
    hrefs = page.locator("[data-testid='stSidebarNav'] a").evaluate_all("els => els.map(e => e.href)")
    paths = sorted({urlparse(h).path for h in hrefs})
    assert len(paths) >= 9, paths  # every page of the navigation, including pages added later
    return paths


@pytest.mark.browser
@pytest.mark.parametrize("mode", ["normal", "present"])
def test_axe_finds_no_serious_violation_on_any_page(server_url, page, mode):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = []
    for path in _nav_paths(page, server_url):
        page.goto(f"{server_url}{path}?pump=story-a" + ("&present=1" if mode == "present" else ""))
        wait_for_app(page, timeout_ms=150_000)
        res = axe.run(page, context={"exclude": AXE_EXCLUDE}, options={"resultTypes": ["violations"]})
        for v in res.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                found.append(f"{path} [{mode}] {v['impact']} {v['id']}: {v['help']} "
                             f"{[n['target'] for n in v['nodes']][:3]}")
    assert found == []


#: elements of the main area whose right edge is beyond the viewport, unless a box of their own
#: (a data grid) that fits the viewport clips them; and tables that need sideways scrolling
_OVERFLOW_JS = r"""() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('[data-testid=stMain] *')) {
    const b = e.getBoundingClientRect();
    if (b.width === 0 || b.right <= vw + 1) continue;
    let clipped = false;
    for (let p = e.parentElement; p && !clipped; p = p.parentElement) {
      clipped = /(auto|scroll|hidden|clip)/.test(getComputedStyle(p).overflowX) && p.getBoundingClientRect().right <= vw + 1;
    }
    if (!clipped) out.push(`${e.tagName} ${(e.innerText || e.textContent || '').trim().slice(0, 40)}`);
  }
  // a table must be read without sideways scrolling: it fits, in its own box too
  for (const t of document.querySelectorAll('[data-testid=stMain] table')) {
    const b = t.getBoundingClientRect();
    if (b.right > vw + 1 || t.scrollWidth > t.clientWidth + 1) out.push(`TABLE ${t.innerText.trim().slice(0, 40)}`);
  }
  return out.slice(0, 10);
}"""

#: for chart i (hovered): do Plotly's mode bar or Streamlit's element toolbar cover its title?
_TOOLBAR_OVER_TITLE_JS = r"""(i) => {
  const chart = document.querySelectorAll('[data-testid=stPlotlyChart]')[i];
  const title = chart.querySelector('.gtitle');
  if (!title) return null;
  const shown = e => { const s = getComputedStyle(e); const b = e.getBoundingClientRect();
                       return s.display !== 'none' && s.visibility !== 'hidden' && s.opacity !== '0' && b.width > 0; };
  const t = title.getBoundingClientRect();
  const box = chart.closest('[data-testid=stElementContainer]') || chart;
  const bars = [...chart.querySelectorAll('.modebar'), ...box.querySelectorAll('[data-testid=stElementToolbar]')];
  return bars.filter(shown).some(e => { const b = e.getBoundingClientRect();
    return b.left < t.right && t.left < b.right && b.top < t.bottom && t.top < b.bottom; })
    ? title.textContent : '';
}"""


def _phone_checks(page) -> tuple[list, list]:
    overflow = page.evaluate(_OVERFLOW_JS)
    covered = []
    charts = page.locator("[data-testid='stPlotlyChart']")
    for i in range(charts.count()):
        charts.nth(i).scroll_into_view_if_needed()
        charts.nth(i).hover()
        page.wait_for_timeout(200)
        hit = page.evaluate(_TOOLBAR_OVER_TITLE_JS, i)
        if hit:
            covered.append(hit)
    return overflow, covered


@pytest.mark.browser
def test_sandbox_at_phone_width_fits_and_shows_rounded_numbers(server_url, browser):
    from pumpmodel import sandbox, sharelink

    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    try:
        page.goto(sharelink.link(server_url + "/sandbox", sandbox.demo_case("demo_soft_titration_baclofen.json")))
        page.get_by_text(re.compile(r"Guardrails: \d+ hard")).first.wait_for(timeout=120_000)
        wait_for_app(page, timeout_ms=120_000)
        main = page.locator("[data-testid='stMain']").inner_text()
        # (7 h x 0.35 + 15 h x 0.5 + 2 h x 0.35) / 24 h = 0.44375 mL/day, shown as 3 significant figures
        assert "0.444 mL/day" in main and "0.44375" not in main
        assert "1,048 mcg/day" in main and "1047.5" not in main  # the PTM warning's message, rounded
        assert "(changed)" in main  # the review marks changes in words, not colour only
        overflow, covered = _phone_checks(page)
        assert overflow == [], overflow
        assert covered == [], covered
        screenshot(page, "phone-sandbox")
    finally:
        ctx.close()
