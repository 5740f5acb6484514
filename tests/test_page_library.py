"""The reference page: AppTest and a real browser."""
import pytest

from conftest import page_problems, screenshot, wait_for_app
from helpers import html_tables


def test_library_page_lists_every_drug_and_profile(app):
    at = app().run()
    at.switch_page("pages/library.py").run()
    assert not at.exception
    assert not at.table  # plain HTML tables: no Arrow table to load in the browser
    (drugs, profiles), row_headers = html_tables(at)  # static tables: nothing truncated
    assert {r["drug"] for r in drugs} == {"morphine", "hydromorphone", "ziconotide", "baclofen", "bupivacaine",
                                          "clonidine"}
    assert len(profiles) == 5 and {r["profile"] for r in profiles} >= {"programmable-20", "programmable-40"}
    zic = next(r for r in drugs if r["drug"] == "ziconotide")
    assert zic["dose soft max (/day)"] == "19.2"  # one rounding, as text
    assert zic["usual start (/day)"] == "<= 2.4"   # escaped on the server, shown as the characters
    assert all(len(r["source"]) > 10 for r in drugs)
    assert all(len(r) == 11 for r in drugs) and all(len(r) == 10 for r in profiles)
    assert row_headers == [0] * (len(drugs) + len(profiles))  # each row is named by its first cell


@pytest.mark.browser
def test_library_page_in_browser(server_url, page):
    page.goto(server_url + "/library")
    wait_for_app(page)
    assert page.get_by_text("Drug library and pump profiles").first.is_visible()
    screenshot(page, "library")
    assert page_problems(page) == []


@pytest.mark.browser
def test_deep_link_on_a_fresh_server_runs_inside_the_app_shell(fresh_server_url, page):
    """A page opened first on a new server still gets the navigation and the pump picker."""
    page.goto(fresh_server_url + "/library")
    wait_for_app(page)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Clinician" in nav and "Programming sandbox" in nav and "case io" not in nav
    assert page.get_by_text("Drug library and pump profiles").first.is_visible()
    assert page_problems(page) == []
