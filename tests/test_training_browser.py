"""Chromium: one trainee completes an exercise correctly, another wrongly; the scores and the
instructor's aggregates follow. The server gets its own database and an instructor key."""
from __future__ import annotations

import os
import re
import secrets

import pytest

from conftest import _serve, page_problems, screenshot, wait_for_app

KEY = "browser-test-" + secrets.token_hex(4)


@pytest.fixture(scope="module")
def training_server_url(tmp_path_factory):
    db = tmp_path_factory.mktemp("training-db") / "workspace.sqlite"
    saved = {k: os.environ.get(k) for k in ("PUMP_INSTRUCTOR_KEY", "PUMP_DATABASE_URL")}
    os.environ["PUMP_INSTRUCTOR_KEY"] = KEY
    os.environ["PUMP_DATABASE_URL"] = f"sqlite:///{db}"
    try:
        yield from _serve()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _answer(page, url: str, name: str, choices: list[str]) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_label("Your display name").fill(name)
    page.get_by_role("button", name="Save name").click()
    wait_for_app(page)
    for text in choices:
        page.get_by_text(text, exact=True).click()
        wait_for_app(page)
    page.get_by_role("button", name="Submit for scoring").click()
    page.wait_for_selector("text=/of the objectives/", timeout=90_000)
    wait_for_app(page)


def test_right_and_wrong_attempts_then_instructor_aggregates(training_server_url, page):
    base = training_server_url
    _answer(page, f"{base}/training_player?ex=read-the-pump&ws={secrets.token_urlsafe(24)}", "Ada Trainee",
            ["787.5 mcg/day", "No: the refill-by date is after the next appointment"])
    body = page.inner_text("body")
    assert "Passed: 100 % of the objectives" in body
    assert "answered: 787.5 mcg/day" in body and "Debrief" in body
    assert not page_problems(page), page_problems(page)
    screenshot(page, "training-right")

    _answer(page, f"{base}/training_player?ex=mri-motor-stall&ws={secrets.token_urlsafe(24)}", "Bo Trainee",
            ["Nothing: the pump restarts by itself and logs nothing", "about 2.6 mg"])
    body = page.inner_text("body")
    assert "Not yet passed: 50 % of the objectives" in body
    assert re.search(r"FAIL\s*The pump is checked after every MRI: answered: Nothing", body)
    assert "assumes the pump restarts unchecked" in body
    screenshot(page, "training-wrong")

    page.goto(f"{base}/training_instructor")
    wait_for_app(page)
    page.get_by_label("Instructor key").fill("not-the-key")
    page.get_by_role("button", name="Open the instructor view").click()
    wait_for_app(page)
    body = page.inner_text("body")
    assert "Wrong key." in body and "Trainees" not in body
    page.get_by_label("Instructor key").fill(KEY)
    page.get_by_role("button", name="Open the instructor view").click()
    page.wait_for_selector("text=Most common wrong answers", timeout=90_000)
    wait_for_app(page)
    metrics = {m.get_by_test_id("stMetricLabel").inner_text().strip(): m.get_by_test_id("stMetricValue").inner_text()
               for m in page.get_by_test_id("stMetric").all()}
    assert metrics["Trainees"] == "2" and metrics["Attempts"] == "2"
    assert metrics["Pass rate"] == "50.0 %"
    assert metrics["Hard stops / 100 attempts"] == "0.0" and metrics["Overrides / 100 attempts"] == "0.0"
    body = page.inner_text("body")
    assert "mri-motor-stall\tassumes the pump restarts unchecked\t1\t100.0 %" in body
    assert page.locator(".js-plotly-plot").count() == 3
    assert not page_problems(page), page_problems(page)
    screenshot(page, "training-instructor")
