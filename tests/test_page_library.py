"""The reference page: AppTest and a real browser."""
import pytest

from conftest import page_problems, screenshot, wait_for_app


def test_library_page_lists_every_drug_and_profile(app):
    at = app().run()
    assert not at.exception
    drugs, profiles = at.dataframe[0].value, at.dataframe[1].value
    assert set(drugs["drug"]) == {"morphine", "hydromorphone", "ziconotide", "baclofen", "bupivacaine", "clonidine"}
    assert len(profiles) == 5
    assert drugs.set_index("drug").loc["ziconotide", "dose soft max (/day)"] == 19.2
    assert all(drugs["source"].str.len() > 10)


@pytest.mark.browser
def test_library_page_in_browser(server_url, page):
    page.goto(server_url + "/library")
    wait_for_app(page)
    assert page.get_by_text("Drug library and pump profiles").first.is_visible()
    screenshot(page, "library")
    assert page_problems(page) == []
