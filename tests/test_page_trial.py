"""The trial page: AppTest flows and a real Chromium, through to the sandbox."""
import json
import re

import pytest

from conftest import page_problems, screenshot, wait_for_app

PAGE = "pages/trial.py"


def open_page(app, pump="story-a"):
    at = app({"pump": pump})
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(w.value for w in at.warning)


def number(at, label):
    return next(n for n in at.number_input if n.label.startswith(label))


def test_story_a_trial_gives_twice_the_screening_bolus(app):
    at = open_page(app)
    body = text(at)
    assert "repeated intrathecal boluses" in body and "Positive response to the 75 mcg bolus" in body
    assert "Starting dose: 150 mcg/day" in body and "2 x 75 mcg = 150 mcg/day" in body
    assert "0.3 mL/day x 500 mcg/mL" in body
    table = at.dataframe[0].value
    assert list(table["met the rule"]) == ["no", "yes"]
    assert "A conversion is not a starting dose" in body
    assert not at.error


def test_baclofen_start_dose_guardrail_on_the_page_both_sides(app):
    at = open_page(app)                              # 2 x 75 mcg = 150 mcg/day
    number(at, "First dose").set_value(150.0).run()
    assert "START_DOSE_ABOVE_RECOMMENDED" not in text(at)
    number(at, "First dose").set_value(151.0).run()
    assert "START_DOSE_ABOVE_RECOMMENDED" in text(at)


def test_morphine_start_dose_guardrail_on_the_page_both_sides(app):
    at = open_page(app, "story-e")                   # 0.5 mg bolus -> 0.25 mg/day
    assert "Starting dose: 0.25 mg/day" in text(at)
    number(at, "First dose").set_value(0.5).run()
    assert "START_DOSE_ABOVE_RECOMMENDED" not in text(at)
    number(at, "First dose").set_value(0.6).run()
    assert "START_DOSE_ABOVE_RECOMMENDED" in text(at)


def test_open_in_the_sandbox_loads_the_new_implant_case(app):
    at = open_page(app, "story-e")
    number(at, "First dose").set_value(0.6).run()
    next(b for b in at.button if b.key == "trial_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    draft = at.session_state["sbx_draft"]
    assert "current" not in draft or draft["current"] is None
    assert draft["proposed"]["rate_ml_per_day"] == pytest.approx(0.6)  # 0.6 mg/day at 1 mg/mL
    assert draft["trial"]["drug"] == "morphine" and draft["first_fill"] is True  # the trial rides along
    shown = {m for md in at.markdown for m in re.findall(r"`([A-Z_]{6,})`", md.value)}
    assert "START_DOSE_ABOVE_RECOMMENDED" in shown


def test_the_capped_and_below_range_starts_are_explained(app):
    assert "capped at 0.15 mg/day" in text(open_page(app, "story-f"))
    assert "do not raise it to meet the range" in text(open_page(app, "story-g"))


def test_edited_trial_is_used_and_bad_edits_are_reported_by_field(app):
    at = open_page(app)
    box = at.text_area[0]
    trial = json.loads(box.value)
    trial["readings"][1]["score"] = 2.5                # 50 mcg now drops 1 point: effective
    box.set_value(json.dumps(trial)).run()
    assert "Starting dose: 100 mcg/day" in text(at)    # 2 x 50
    trial["unit"] = "mg"
    at.text_area[0].set_value(json.dumps(trial)).run()
    assert any("unit" in e.value and "baclofen doses are in mcg" in e.value for e in at.error)
    assert "Starting dose: 150 mcg/day" in text(at)    # back to the recorded trial, the text kept
    assert json.loads(at.text_area[0].value)["unit"] == "mg"


def test_conversion_calculator_inputs(app):
    at = open_page(app)
    number(at, "Daily dose").set_value(300.0).run()
    body = text(at)
    assert "classic 300:1 chain gives 1 mg/day" in body and "2.4 to 30 mg/day" in body
    assert "entirely above" in body
    next(s for s in at.selectbox if s.label == "Systemic morphine by").set_value("iv").run()
    assert "300 mg/day iv morphine: the classic 100:1 chain gives 3 mg/day" in text(at)
    target = next(s for s in at.selectbox if s.label == "Intrathecal drug")
    assert target.options == ["morphine", "hydromorphone"]
    target.set_value("hydromorphone").run()
    assert "gives 0.6 mg/day intrathecal hydromorphone" in text(at)   # 300 iv / 100 / 5
    number(at, "Daily dose").set_value(0.0).run()
    assert any("dose_mg_per_day" in e.value for e in at.error)


def test_pump_without_a_trial_says_so(app, monkeypatch):
    from pumpmodel.telemetry import PumpTelemetry

    monkeypatch.setattr(PumpTelemetry, "trial", lambda self: None)
    at = open_page(app, "story-b")
    assert "no screening trial is recorded" in text(at)
    assert "Starting dose" not in text(at) and not at.exception


@pytest.mark.browser
def test_trial_page_in_chromium_opens_the_sandbox(server_url, page):
    page.goto(server_url + "/trial?pump=story-a")
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    assert "Starting dose: 150 mcg/day" in main.inner_text()
    # both charts (trial response, conversion band) drawn
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
                           timeout=60_000)
    screenshot(page, "trial-story-a")
    assert page_problems(page) == []
    dose = page.get_by_role("spinbutton", name="First dose (mcg/day)")
    dose.fill("200")
    dose.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Open in the sandbox").click()
    page.get_by_text(re.compile(r"Guardrails: \d+ hard")).first.wait_for(timeout=90_000)
    wait_for_app(page)
    assert "/sandbox" in page.url and "case=" in page.url
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "first program after the baclofen trial" in body
    assert "200 mcg/day" in body or "0.4 mL/day" in body
    # 200 mcg/day is above 2 x the 75 mcg screening bolus (it would pass the 200 fallback without the trial)
    assert "START_DOSE_ABOVE_RECOMMENDED" in body
    screenshot(page, "trial-story-a-sandbox")
    assert page_problems(page) == []
