"""Presenter features in a real Chromium: presentation mode, a guided tour from start to end
with a reload at every step, cohort filters restored from a link, and axe-core on every page of
the navigation in normal and presentation mode."""
from __future__ import annotations

import re
import time
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


def _screen(page) -> dict:
    """What the audience sees, for a before/after-reload comparison: headings, chart titles, the
    selected options and the tour bar."""
    return page.evaluate("""() => {
      const texts = sel => [...document.querySelectorAll(sel)].map(e => e.innerText || e.textContent).map(t => t.trim());
      return {headings: texts('[data-testid=stMain] h1, [data-testid=stMain] h2, [data-testid=stMain] h3'),
              charts: texts('[data-testid=stMain] .gtitle'),
              chosen: texts('[data-testid=stMain] [aria-checked=true], [data-testid=stMain] [aria-pressed=true], '
                            + '[data-testid=stMain] [data-testid=stSelectbox] [value]'),
              bar: texts('.st-key-tour_panel p')};
    }""")


def _same_screen(page, seen: dict, timeout_s: float = 60) -> None:
    """The screen after a reload equals ``seen`` once the page has drawn (charts mount late)."""
    deadline = time.monotonic() + timeout_s
    now = _screen(page)
    while now != seen and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        now = _screen(page)
    assert now == seen


def _walk_tour(page, tour, present: bool) -> None:
    """Every step of ``tour`` as the presenter sees it, and again after a reload (the same screen);
    Next by keyboard on the first step, by button after; on the second step Back and Next again."""
    back_checked = False
    i = 0
    while i < len(tour.steps):
        step = tour.steps[i]
        page.wait_for_function(f"() => location.search.includes('step={i + 1}')")
        wait_for_app(page)
        bar = page.locator(".st-key-tour_panel")
        for _ in range(2):  # as opened, then after a reload: the same screen
            text = bar.inner_text()
            assert f"step {i + 1} of {len(tour.steps)}" in text and step.title in text, text
            assert _h1(page) == H1[step.page]
            q = _query(page.url)
            assert q["tour"] == tour.pump and q["step"] == str(i + 1) and q["pump"] == tour.pump
            assert all(q.get(k) == v for k, v in step.params.items()), (q, step.params)
            assert ("case" in q) == bool(step.case)
            assert (q.get("present") == "1") == present
            if present:
                assert page.locator("[data-testid='stToolbar']").count() == 0 or \
                    not page.locator("[data-testid='stToolbar']").is_visible()
            assert page_problems(page) == []
            screenshot(page, f"tour-{tour.pump}{'-present' if present else ''}-step{i + 1}")
            url, seen = page.url, _screen(page)
            page.reload()
            wait_for_app(page)
            assert page.url == url
            _same_screen(page, seen)
        if i == 1 and not back_checked:  # Back by keyboard, then on again
            back_checked = True
            page.keyboard.press("ArrowLeft")
            page.wait_for_function("() => location.search.includes('step=1')")
            wait_for_app(page)
            assert f"step 1 of {len(tour.steps)}" in page.locator(".st-key-tour_panel").inner_text()
            page.locator(".st-key-tour_next button").click()
            continue
        if i == 0:
            page.keyboard.press("ArrowRight")  # the Next key
        else:
            page.locator(".st-key-tour_next button").click()
        i += 1
    page.wait_for_function("() => !location.search.includes('tour=')")
    wait_for_app(page)
    assert page.locator(".st-key-tour_panel").count() == 0


@pytest.mark.browser
def test_a_tour_from_start_to_end_with_a_reload_at_every_step(server_url, page):
    tour = tours.tours()["story-a"]
    page.goto(server_url + "/?pump=story-a")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Guided tour of this patient")).click()
    _walk_tour(page, tour, present=False)


@pytest.mark.browser
def test_a_tour_in_presentation_mode_from_a_link_keeps_each_steps_view(server_url, page):
    # story-c: its reservoir step opens the whole record (?window=all), the last one a prepared case
    tour = tours.tours()["story-c"]
    assert any(s.params for s in tour.steps) and tour.steps[-1].case
    page.goto(server_url + "/schedule?pump=story-c&present=1&tour=story-c&step=1")
    _walk_tour(page, tour, present=True)


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


#: every page of dashboard.py as its address: the first is the default page, served at "/"
PAGE_FILES = re.findall(r'"pages/([a-z0-9_]+)\.py"', (ROOT / "dashboard.py").read_text())


def _nav_paths(page, server_url) -> list[str]:
    """Every page's address (dashboard.py), checked against the navigation: the pages behind the
    sidebar's "View more" are not in its markup, and axe must see them too."""
    page.goto(server_url + "/?pump=story-a")
    wait_for_app(page)
    hrefs = page.locator("[data-testid='stSidebarNav'] a").evaluate_all("els => els.map(e => e.href)")
    paths = ["/"] + [f"/{name}" for name in PAGE_FILES[1:]]
    nav = {urlparse(h).path for h in hrefs}
    assert len(nav) >= 9 and nav <= set(paths), (nav, paths)
    assert len(paths) >= 13, paths  # every page, including pages added later
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
#: (a data grid, a table's scroller) that fits the viewport clips them; and markdown tables that
#: need sideways scrolling
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
  // a markdown table (a review, a comparison) must be read without sideways scrolling; data tables
  // (st.table, grids) may scroll inside their own box
  for (const t of document.querySelectorAll('[data-testid=stMain] [data-testid=stMarkdownContainer] table')) {
    const b = t.getBoundingClientRect();
    if (b.right > vw + 1 || t.scrollWidth > t.clientWidth + 1) out.push(`TABLE ${t.innerText.trim().slice(0, 40)}`);
  }
  // a label cut with an ellipsis (a page link, a button)
  for (const e of document.querySelectorAll('[data-testid=stMain] span, [data-testid=stMain] p, [data-testid=stMain] div')) {
    const st = getComputedStyle(e);
    if (st.textOverflow === 'ellipsis' && st.overflow !== 'visible' && e.scrollWidth > e.clientWidth + 1
        && e.getBoundingClientRect().width > 0) out.push(`CUT ${(e.innerText || '').trim().slice(0, 40)}`);
  }
  return out.slice(0, 10);
}"""

#: for chart i (hovered): do Plotly's mode bar or Streamlit's element toolbar cover its title?
_TOOLBAR_OVER_TITLE_JS = r"""(i) => {
  const chart = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];  // st.plotly_chart or live chart
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
    charts = page.locator("[data-testid='stMain'] .js-plotly-plot")
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


@pytest.mark.browser
@pytest.mark.parametrize("width, mode", [(390, "normal"), (390, "present"), (1440, "present")])
def test_every_page_fits_its_screen(server_url, browser, width, mode):
    """On a phone (390 px) and on a projector (presentation mode, larger type): nothing wider than
    the screen (grids and data tables scroll in their own box, markdown tables wrap), no label cut,
    and no chart toolbar over a chart title (hovered, in a half- or third-width column too)."""
    ctx = browser.new_context(viewport={"width": width, "height": 844})
    page = ctx.new_page()
    found = {}
    try:
        for path in ["/"] + [f"/{name}" for name in PAGE_FILES[1:]]:
            page.goto(f"{server_url}{path}?pump=story-a" + ("&present=1" if mode == "present" else ""))
            wait_for_app(page, timeout_ms=150_000)
            overflow, covered = _phone_checks(page)
            if overflow or covered:
                found[path] = (overflow, covered)
            screenshot(page, f"{width}-{mode}" + path.replace("/", "-").rstrip("-"))
    finally:
        ctx.close()
    assert found == {}
