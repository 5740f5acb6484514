"""The sandbox and its workspace in a real Chromium (issue 10's "Done when"):
a reload after a send keeps the sent program, the override log and the
acknowledgements; two browser contexts never see each other's workspace;
acknowledgements never carry over to another case; the start bar's buttons
change the program."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import page_problems, wait_for_app
from pumpmodel import sandbox, sharelink

pytestmark = pytest.mark.browser
SOFT = "demo_soft_titration_baclofen.json"  # two soft findings: TITRATION_STEP_TOO_LARGE, PTM_ALLOWS_...
REASON = "titration agreed with the patient"


def _ready(pg):
    pg.get_by_text(re.compile(r"Guardrails: \d+ hard")).first.wait_for(timeout=90_000)
    wait_for_app(pg)


def _main(pg) -> str:
    return pg.locator("[data-testid='stMain']").inner_text()


def _ws(pg) -> str:
    return parse_qs(urlsplit(pg.url).query)["ws"][0]


def _tick(pg, i: int = 0) -> None:
    """Tick the i-th Acknowledge checkbox (Streamlit's label covers the input: click the label)."""
    if pg.get_by_label("Acknowledge").nth(i).is_checked():
        return
    pg.locator("[data-testid='stCheckbox']").filter(has_text="Acknowledge").nth(i).locator("label").click()
    wait_for_app(pg)


def _acknowledge_all(pg, reason: str) -> None:
    n = pg.get_by_label("Acknowledge").count()
    for i in range(n):
        _tick(pg, i)
        box = pg.get_by_placeholder("reason for overriding this warning").nth(i)
        box.fill(reason)
        box.press("Enter")
        wait_for_app(pg)


def _open(pg, url: str) -> None:
    pg.goto(url)
    _ready(pg)


def test_reload_after_send_keeps_program_override_log_and_acks(server_url, page):
    _open(page, sharelink.link(server_url + "/sandbox", sandbox.demo_case(SOFT)))
    ws = _ws(page)
    # acknowledge the first finding only: the tick and reason must survive a reload
    _tick(page)
    box = page.get_by_placeholder("reason for overriding this warning").first
    box.fill("first reason")
    box.press("Enter")
    wait_for_app(page)
    page.reload()
    _ready(page)
    assert _ws(page) == ws
    assert page.get_by_label("Acknowledge").first.is_checked()
    assert page.get_by_placeholder("reason for overriding this warning").first.input_value() == "first reason"
    _acknowledge_all(page, REASON)
    send = page.get_by_role("button", name="Send to the simulated pump")
    assert send.is_enabled()
    send.click()
    page.get_by_text("Sent to the simulated pump").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert send.is_disabled()  # nothing changed since
    page.reload()
    _ready(page)
    body = _main(page)
    assert "Override log" in body and REASON in body and "TITRATION_STEP_TOO_LARGE" in body
    assert "Nothing to send" in body  # the sent program is the pump's current program
    assert page.get_by_role("button", name="Undo last send").is_enabled()
    # a second tab with the same address: the same workspace
    other = page.context.new_page()
    other.goto(page.url)
    _ready(other)
    assert REASON in _main(other) and _ws(other) == ws
    other.close()
    assert page_problems(page) == []


def test_two_browser_contexts_never_share_a_workspace(server_url, browser):
    pages = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1440, "height": 900})
        pages.append(ctx.new_page())
    a, b = pages
    try:
        _open(a, sharelink.link(server_url + "/sandbox", sandbox.demo_case(SOFT)))
        _acknowledge_all(a, "only in workspace A")
        a.get_by_role("button", name="Send to the simulated pump").click()
        a.get_by_text("Sent to the simulated pump").first.wait_for(timeout=60_000)
        wait_for_app(a)
        _open(b, server_url + "/sandbox")
        assert _ws(a) != _ws(b)
        body = _main(b)
        assert "only in workspace A" not in body and "Override log" not in body
        # the same case opened in B: nothing of A's acknowledgements
        _open(b, sharelink.link(server_url + "/sandbox", sandbox.demo_case(SOFT)))
        assert not b.get_by_label("Acknowledge").first.is_checked()
        assert "only in workspace A" not in _main(b)
    finally:
        for pg in pages:
            pg.context.close()


def test_acknowledgements_do_not_carry_over_to_another_case(server_url, page):
    _open(page, sharelink.link(server_url + "/sandbox", sandbox.demo_case(SOFT)))
    _acknowledge_all(page, "written for the first case")
    # another case with a soft finding of the same code, opened in the same session
    other = sandbox.demo_case("demo_soft_admixture_and_ptm.json")
    _open(page, sharelink.link(server_url + "/sandbox", other) + "&ws=" + _ws(page))
    assert "written for the first case" not in _main(page)
    for i in range(page.get_by_label("Acknowledge").count()):
        assert not page.get_by_label("Acknowledge").nth(i).is_checked()
        assert page.get_by_placeholder("reason for overriding this warning").nth(i).input_value() == ""
    assert page.get_by_role("button", name="Send to the simulated pump").is_disabled()
    # and back to the first case: it is a new load, a new case: nothing pre-filled either
    _open(page, sharelink.link(server_url + "/sandbox", sandbox.demo_case(SOFT)) + "&ws=" + _ws(page))
    assert "written for the first case" not in _main(page)


def _program_text(pg) -> str:
    """The review table's pending column, as drawn."""
    return _main(pg).split("Review and send", 1)[1].split("Share and report", 1)[0]


def test_every_start_bar_button_changes_the_program(server_url, page):
    demo = sandbox.demo_case("demo_hard_constant_flow.json")
    _open(page, sharelink.link(server_url + "/sandbox", demo) + "&pump=story-b")
    assert "FIXED_RATE_PUMP" in _main(page)
    start = page.get_by_text(re.compile(r"^Start from \.\.\.")).first
    # 1. the selected pump's current program (the link in the address must not win)
    start.click()
    page.get_by_role("button", name="Current program of pump story-b").click()
    _ready(page)
    assert "FIXED_RATE_PUMP" not in _main(page) and "pump story-b" in _main(page)
    assert "story-b" in page.url or "send_to=story-b" in page.url
    before = _program_text(page)
    # 2. a blank pump
    page.get_by_text(re.compile(r"^Start from \.\.\.")).first.click()
    page.get_by_role("button", name="Blank pump").click()
    _ready(page)
    assert "blank programmable-20 pump" in _main(page)
    assert _program_text(page) != before
    blank = _program_text(page)
    # 3. a pasted link
    page.get_by_text(re.compile(r"^Start from \.\.\.")).first.click()
    page.get_by_label("Share link (or its case= part)").fill(sharelink.link("http://elsewhere/sandbox", demo))
    page.get_by_role("button", name="Open link").click()
    _ready(page)
    assert "FIXED_RATE_PUMP" in _main(page) and _program_text(page) != blank
    # undo goes back to the blank pump, redo to the link's case
    page.get_by_role("button", name="Undo", exact=True).click()
    _ready(page)
    assert "FIXED_RATE_PUMP" not in _main(page) and "blank programmable-20 pump" in _main(page)
    page.get_by_role("button", name="Redo", exact=True).click()
    _ready(page)
    assert "FIXED_RATE_PUMP" in _main(page)
    assert page_problems(page) == []


def test_minus_one_typed_in_a_rate_shows_an_error_and_stays(server_url, page):
    _open(page, sharelink.link(server_url + "/sandbox", sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json")))
    box = page.get_by_label("Rate (mL/day)", exact=True)
    box.fill("-1")
    box.press("Enter")
    page.get_by_text("-1 is too low").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert box.input_value() == "-1"
    body = _main(page)
    assert "cannot be negative" in body and "Stale" in body and "Guardrails:" in body
    page.reload()  # the typed text is in the draft: a reload keeps it too
    page.get_by_text("-1 is too low").first.wait_for(timeout=90_000)
    wait_for_app(page)
    from conftest import screenshot
    screenshot(page, "sandbox-minus-one-after-reload")
    assert page.get_by_label("Rate (mL/day)", exact=True).input_value() == "-1"
