"""The programming sandbox page: AppTest flows and a real Chromium."""
import base64
import re
from urllib.parse import unquote

import pytest

from conftest import page_problems, screenshot, wait_for_app, workspace_of
from helpers import html_blocks
from pumpmodel import sandbox, sharelink

SANDBOX = "pages/sandbox.py"


def open_sandbox(app, case: dict | None = None, token: str | None = None, **params):
    q = dict(params)
    if case is not None:
        q["case"] = sharelink.encode(case)
    if token is not None:
        q["case"] = token
    at = app(q)
    at.switch_page(SANDBOX)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_section(at, name="sbx_pump_box", is_open=True):
    """Open (or close) one of the editor's lazy sections, as a click on its expander does."""
    at.session_state[name] = is_open
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def story_pump() -> str:
    from pumpmodel.telemetry import STORY_DIR, load_telemetry

    return load_telemetry(STORY_DIR).pump_ids()[0]


def button(at, key):
    return next(b for b in at.button if b.key == key)


def codes_shown(at) -> set[str]:
    return {m for md in at.markdown for m in re.findall(r"`([A-Z_]{6,})`", md.value)}


def key(at, name):
    return f"sbx{at.session_state['sbx_gen']}_{name}"


def acknowledge_all(at, reason="reviewed with the patient"):
    for cb in [c for c in at.checkbox if c.key.startswith("sbx_ack_")]:
        cb.check()
        at.text_input(key=cb.key.replace("sbx_ack_", "sbx_reason_")).input(reason)
    return at.run()


def test_hard_case_blocks_sending(app):
    at = open_sandbox(app, sandbox.demo_case("demo_hard_mg_mcg_mixup.json"))
    assert {"CONCENTRATION_NOT_PLAUSIBLE", "DOSE_ABOVE_HARD_MAX"} <= codes_shown(at)
    assert button(at, "sbx_send").disabled
    acknowledge_all(at)  # acknowledging every soft warning does not lift a hard one
    assert button(at, "sbx_send").disabled
    assert any("hard warning CONCENTRATION_NOT_PLAUSIBLE" in w.value for w in at.warning)
    assert not at.error


def test_soft_case_needs_each_acknowledgement_with_a_reason(app):
    at = open_sandbox(app, sandbox.demo_case("demo_soft_titration_baclofen.json"))
    acks = [c for c in at.checkbox if c.key.startswith("sbx_ack_")]
    assert len(acks) == 2 and button(at, "sbx_send").disabled
    acks[0].check()
    at.run()
    assert button(at, "sbx_send").disabled  # ticked without a reason
    at.text_input(key=acks[0].key.replace("sbx_ack_", "sbx_reason_")).input("goal not reached").run()
    assert button(at, "sbx_send").disabled  # second still missing
    acknowledge_all(at, "reviewed with the patient")
    assert not button(at, "sbx_send").disabled
    button(at, "sbx_send").click().run()
    assert not at.exception
    log = workspace_of(at).override_log()
    assert {e.code for e in log} == {"TITRATION_STEP_TOO_LARGE", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED"}
    assert all(e.reason == "reviewed with the patient" or e.reason == "goal not reached" for e in log)
    assert {e.drug for e in log} == {"baclofen"}
    assert any("Override log" in m.value for m in at.markdown)


def test_send_updates_the_current_program_then_undo_and_reset(app):
    at = open_sandbox(app, pump=story_pump())  # starts from the selected story pump
    pid = at.session_state["sbx_target"]
    assert pid and at.session_state["sbx_origin"].startswith(f"pump {pid}")
    before = at.session_state["sbx_draft"]["current"]
    mode = at.selectbox(key=key(at, "mode"))
    mode.set_value("simple_continuous").run()
    assert at.session_state["sbx_draft"]["proposed"]["mode"] == "simple_continuous"
    rate = at.text_input(key=key(at, "rate"))
    rate.input(f"{float(rate.value) * 1.1:.4f}").run()
    acknowledge_all(at)
    assert not button(at, "sbx_send").disabled, [w.value for w in at.warning]
    button(at, "sbx_send").click().run()
    assert not at.exception
    ws = workspace_of(at)
    sent = ws.current_program(pid).program
    assert sent["mode"] == "simple_continuous"
    # the clinician pages read the pump through ui.data.current_case: the sent program is current now
    assert at.session_state["sbx_draft"]["current"]["mode"] == "simple_continuous"
    assert any("Sent to the simulated pump" in s.value for s in at.success)
    button(at, "sbx_undo_send").click().run()
    assert ws.current_program(pid) is None
    assert at.session_state["sbx_draft"]["current"] == before
    # send twice, then reset to the story's original
    acknowledge_all(at)
    button(at, "sbx_send").click().run()
    assert button(at, "sbx_send").disabled  # nothing changed since: nothing to send
    assert any("Nothing to send" in i.value for i in at.info)
    rate = at.text_input(key=key(at, "rate"))
    rate.input(f"{float(rate.value) * 1.05:.4f}").run()
    acknowledge_all(at)
    button(at, "sbx_send").click().run()
    assert len(ws.sent_history(pid, include_undone=False)) == 2
    button(at, "sbx_reset").click().run()
    assert ws.current_program(pid) is None and len(ws.sent_history(pid)) == 3
    assert at.session_state["sbx_draft"]["current"] == before
    assert not at.exception


def test_sent_program_reaches_the_clinician_pages(app):
    at = open_sandbox(app, pump=story_pump())
    pid = at.session_state["sbx_target"]
    at.selectbox(key=key(at, "mode")).set_value("simple_continuous").run()
    at.text_input(key=key(at, "rate")).input("0.4").run()
    acknowledge_all(at)
    button(at, "sbx_send").click().run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    from ui.data import current_case  # noqa: F401 - the other pages' accessor exists
    assert workspace_of(at).current_program(pid).program["rate_ml_per_day"] == 0.4


def test_steps_are_sorted_and_bad_steps_are_named_in_plain_words_and_kept(app):
    case = sandbox.demo_case("spec_example.json")
    case["proposed"]["steps"] = [{"start": "07:00", "rate_ml_per_day": 0.45}, {"start": "0:00",
                                                                               "rate_ml_per_day": 0.3}]
    at = open_sandbox(app, case)
    assert not at.exception and not at.error  # out of order and "0:00": sorted, read as 00:00
    assert [s["start"] for s in at.session_state["sbx_draft"]["proposed"]["steps"]] == ["00:00", "07:00"]
    case["proposed"]["steps"] = [{"start": "00:00", "rate_ml_per_day": 0.3}, {"start": "25:99",
                                                                              "rate_ml_per_day": 0.45}]
    at = open_sandbox(app, case)
    text = " ".join(e.value for e in at.error)
    assert "step 2, start: 25:99 is not a time of day" in text
    assert "proposed.steps" not in text and "String should match" not in text and "Value error" not in text
    assert at.session_state["sbx_draft"]["proposed"]["steps"][1]["start"] == "25:99"  # kept as typed
    assert not any(b.key == "sbx_send" for b in at.button)  # nothing to send


def test_a_negative_rate_is_refused_at_the_field_and_kept(app):
    at = open_sandbox(app, sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json"))
    at.text_input(key=key(at, "rate")).input("-1").run()
    assert not at.exception
    assert at.text_input(key=key(at, "rate")).value == "-1"
    assert at.session_state["sbx_draft"]["proposed"]["rate_ml_per_day"] == "-1"
    shown = " ".join(m.value for m in [*at.markdown, *at.error])
    assert "-1 is too low" in shown and "cannot be negative" in shown
    assert any("Stale" in c.value for c in at.caption)  # the last valid evaluation stays, marked stale
    assert any(h.value.startswith("Guardrails: ") for h in at.subheader)  # the stale figures stay visible
    for typed, said in (("1e9", "too high"), ("abc", "'abc' is not a number"), ("", "empty")):
        at.text_input(key=key(at, "rate")).input(typed).run()
        assert at.text_input(key=key(at, "rate")).value == typed
        if said:
            assert said in " ".join(m.value for m in at.markdown)


def test_after_a_reload_with_an_invalid_field_the_last_valid_program_is_shown_stale(app):
    """The draft in the workspace holds "-1": a reload (a new session on the same ``?ws=``)
    finds the last valid version of the case there and shows its figures, marked stale."""
    at = open_sandbox(app, sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json"))
    at.text_input(key=key(at, "rate")).input("0.31").run()
    at.text_input(key=key(at, "rate")).input("-1").run()
    ws = workspace_of(at)
    again = app({"ws": ws.token})
    again.switch_page(SANDBOX)
    again.run()
    assert not again.exception, [e.value for e in again.exception]
    assert again.text_input(key=key(again, "rate")).value == "-1"  # the typed text is kept
    assert any("Stale" in c.value for c in again.caption)
    assert any(h.value.startswith("Guardrails: ") for h in again.subheader)
    shown = again.session_state["sbx_last_valid"]
    assert shown.proposed.rate_ml_per_day == 0.31  # the newest valid version, not the case as loaded


def test_malformed_link_shows_problems_and_a_blank_sandbox(app):
    at = open_sandbox(app, token=base64.urlsafe_b64encode(b"{broken").decode())
    assert any("not valid JSON" in e.value for e in at.error)
    assert at.session_state["sbx_origin"].startswith("blank pump")
    at = open_sandbox(app, token="%%%")
    assert any("base64" in e.value for e in at.error)
    assert not at.exception


def test_dose_entry_computes_the_rate(app):
    at = open_sandbox(app, sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json"))  # baclofen 2000 mcg/mL
    at.radio(key=key(at, "entry")).set_value("dose").run()
    dose = at.text_input(key=key(at, "rate"))
    assert "dose of baclofen (mcg/day)" in dose.label.lower() and float(dose.value) == pytest.approx(500)
    dose.input("700").run()
    assert at.session_state["sbx_draft"]["proposed"]["rate_ml_per_day"] == pytest.approx(0.35)
    assert not at.exception


def test_url_follows_the_edits(app):
    at = open_sandbox(app, sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json"))
    at.text_input(key=key(at, "rate")).input("0.38").run()
    case = sharelink.decode(at.query_params["case"][0] if isinstance(at.query_params["case"], list)
                            else at.query_params["case"])
    assert case.proposed.rate_ml_per_day == 0.38


def _wait_for_sandbox(page):
    page.get_by_text(re.compile(r"Guardrails: \d+ hard")).first.wait_for(timeout=90_000)
    wait_for_app(page)


@pytest.mark.browser
@pytest.mark.parametrize("file", ["demo_hard_mg_mcg_mixup.json", "demo_soft_admixture_and_ptm.json"])
def test_share_link_in_chromium(server_url, page, file):
    _, codes = sandbox.DEMO_CASES[file]
    page.goto(sharelink.link(server_url + "/sandbox", sandbox.demo_case(file)))
    _wait_for_sandbox(page)
    body = page.locator("[data-testid='stMain']").inner_text()
    for code in codes:
        assert code in body, code
    assert "Synthetic" in body or "synthetic" in body
    screenshot(page, "sandbox-" + file.removesuffix(".json"))
    assert page_problems(page) == []
    # a reload keeps the case (the URL holds it)
    page.reload()
    _wait_for_sandbox(page)
    assert codes[0] in page.locator("[data-testid='stMain']").inner_text()
    assert page_problems(page) == []


def test_closed_sections_are_not_drawn_but_their_fields_are_kept_and_checked(app):
    case = sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json")
    at = open_sandbox(app, case)
    keys = {w.key for w in at.text_input}
    assert key(at, "rate") in keys and key(at, "reservoir") not in keys  # closed: not sent to the browser
    draft = at.session_state["sbx_draft"]
    assert draft["reservoir_ml"] == case["reservoir_ml"] and draft["pump"]["profile"] == case["pump"]["profile"]
    open_section(at)
    at.text_input(key=key(at, "reservoir")).input("12.5").run()
    open_section(at, is_open=False)
    at.text_input(key=key(at, "rate")).input("0.38").run()
    draft = at.session_state["sbx_draft"]
    assert draft["reservoir_ml"] == 12.5 and draft["proposed"]["rate_ml_per_day"] == 0.38
    assert key(at, "reservoir") not in {w.key for w in at.text_input}
    open_section(at)  # opened again: the widget shows the draft's value, not the case as loaded
    assert at.text_input(key=key(at, "reservoir")).value == "12.5"
    assert at.text_input(key=key(at, "rate")).value == "0.38"
    # a refused value typed in a section stays reported (and kept) after the section is closed
    at.text_input(key=key(at, "reservoir")).input("-3").run()
    open_section(at, is_open=False)
    at.text_input(key=key(at, "rate")).input("0.39").run()
    assert at.session_state["sbx_draft"]["reservoir_ml"] == "-3"
    assert "reservoir now: -3 mL is too low" in " ".join(m.value for m in at.error)  # in the problems list above the figures
    open_section(at)
    assert at.text_input(key=key(at, "reservoir")).value == "-3"


def test_share_and_report_are_built_only_when_opened(app):
    case = sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json")
    at = open_sandbox(app, case)
    assert not at.get("download_button") and not at.code  # closed: nothing built or sent on an edit
    open_section(at, "sbx_share_box")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download case JSON", "Download session report (PDF)",
                      "Data of the schedule chart (CSV)", "Data of the reservoir projection chart (CSV)"]
    link = at.code[0].value
    token = at.query_params["case"][0] if isinstance(at.query_params["case"], list) else at.query_params["case"]
    assert link.startswith("/sandbox?case=")
    assert sharelink.decode(unquote(link.split("case=", 1)[1])) == sharelink.decode(token)  # the case shown


def _table_rows(body: str) -> list[tuple[bool, list[str]]]:
    """(marked, cells) per body row of a ui.html_table table."""
    rows = re.findall(r"<tr( class='pt-marked')?><th scope='row'>(.*?)</th>(.*?)</tr>", body.split("<tbody>")[1])
    return [(bool(m), [re.sub(r" <span class='pt-mark'>.*?</span>", "", head), *re.findall(r"<td>(.*?)</td>", rest)])
            for m, head, rest in rows]


def test_review_marks_every_changed_setting_in_words(app):
    at = open_sandbox(app, sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json"))
    review = next(b for b in html_blocks(at) if "aria-label='Review: current vs pending'" in b)
    rows = _table_rows(review)
    assert len(rows) > 5
    shown_changed = [cells[0] for marked, cells in rows if cells[1] != cells[2]]
    assert shown_changed and all(marked for marked, cells in rows if cells[1] != cells[2]), rows
    assert review.count("(changed)") == sum(marked for marked, _ in rows)
    assert not rows[0][0] and rows[0][1][0] == "pump profile"  # unchanged: not marked


def test_switching_to_weekday_flex_copies_the_daily_steps_to_each_day(app):
    case = sandbox.demo_case("spec_example.json")
    steps = case["proposed"]["steps"]
    assert len(steps) > 1
    at = open_sandbox(app, case)
    at.selectbox(key=key(at, "mode")).set_value("weekday_flex").run()
    assert not at.exception
    week = at.session_state["sbx_draft"]["proposed"]["week"]
    from pumpmodel.programs import WEEKDAYS

    assert set(week) == set(WEEKDAYS)
    for day in WEEKDAYS:
        assert [(s["start"], s["rate_ml_per_day"]) for s in week[day]] == [
            (s["start"], s["rate_ml_per_day"]) for s in steps], day
    assert not at.error


#: the two sandbox charts: is each the node remembered before the edit, and what its proposed trace holds
_CHART_STATE_JS = """() => Array.from(document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')).map((gd, i) => {
  const tr = (gd._fullData || []).find(t => /^proposed/.test(t.name));
  return {same: (window.__charts || [])[i] === gd, label: gd.getAttribute('aria-label'),
          x: tr ? Array.from(tr.x).map(String) : null, y: tr ? Array.from(tr.y).map(Number) : null};
})"""


@pytest.mark.browser
def test_an_edit_redraws_both_charts_in_place(server_url, page):
    """The charts are updated on the same nodes (Plotly.react), not unmounted and drawn anew
    (st.plotly_chart's id hashes the figure): that remount was most of an edit's wait."""
    page.goto(sharelink.link(server_url + "/sandbox", sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json")))
    _wait_for_sandbox(page)
    page.wait_for_function("() => { const c = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot'); "
                           "return c.length == 2 && Array.from(c).every(g => g.querySelector('.main-svg')); }")
    before = page.evaluate(_CHART_STATE_JS)
    assert [c["label"] for c in before] == ["Schedule: programmed rate", "Reservoir projection"]
    assert before[0]["y"] and set(before[0]["y"]) != {0.5}
    page.evaluate("() => { window.__charts = Array.from(document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')); }")
    box = page.get_by_label("Rate (mL/day)", exact=True).first
    box.fill("0.5")
    box.press("Enter")
    # the schedule's proposed line is the new rate at every point: 0.5 mL/day
    page.wait_for_function(f"() => {{ const s = ({_CHART_STATE_JS})(); "
                           "return s.length == 2 && s[0].y && s[0].y.every(v => v === 0.5); }", timeout=60_000)
    wait_for_app(page)
    after = page.evaluate(_CHART_STATE_JS)
    assert [c["same"] for c in after] == [True, True]  # the same chart nodes, redrawn
    assert after[1]["x"] != before[1]["x"]  # the reservoir projection follows the new rate (empty sooner)
    assert page_problems(page) == []


@pytest.mark.browser
def test_chart_data_downloads_as_csv_from_the_share_section(server_url, page):
    """The charts' text alternative: their data as CSV (built on click), here the schedule's."""
    case = sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json")
    page.goto(sharelink.link(server_url + "/sandbox", case))
    _wait_for_sandbox(page)
    page.get_by_text("Share and report: link, case JSON, session report (PDF)").click()
    button = page.get_by_role("button", name="Data of the schedule chart (CSV)")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as dl:
        button.click()
    rows = dl.value.path().read_text().splitlines()
    assert rows[0] == "series,time of day (h),rate (mL/day)"
    proposed = {float(r.split(",")[2]) for r in rows[1:] if r.startswith("proposed,")}
    assert proposed == {case["proposed"]["rate_ml_per_day"]}
    assert page_problems(page) == []
