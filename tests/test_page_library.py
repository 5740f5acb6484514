"""The reference page: AppTest and a real browser."""
import pytest

from conftest import page_problems, screenshot, wait_for_app


def test_library_page_lists_every_drug_and_profile(app):
    at = app().run()
    at.switch_page("pages/library.py").run()
    assert not at.exception
    drugs, profiles = at.table[0].value.reset_index(), at.table[1].value  # static tables: nothing truncated
    assert set(drugs["drug"]) == {"morphine", "hydromorphone", "ziconotide", "baclofen", "bupivacaine", "clonidine"}
    assert len(profiles) == 5
    assert drugs.set_index("drug").loc["ziconotide", "dose soft max (/day)"] == "19.2"  # one rounding, as text
    assert all(drugs["source"].str.len() > 10)


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
