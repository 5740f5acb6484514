"""Sandbox inputs for the round-2 rules (ui/sandbox_extras.py): screening bolus, what was put
into the reservoir at a refill, and the program history, under AppTest."""
import json
from pathlib import Path

from test_sandbox_page import codes_shown, key, open_sandbox, open_section

ROOT = Path(__file__).resolve().parents[1]


def example(code):
    return json.loads((ROOT / "examples/codes" / f"{code}.json").read_text())


def test_screening_bolus_sets_the_baclofen_start_limit(app):
    at = open_sandbox(app, example("START_DOSE_ABOVE_RECOMMENDED"))  # 120 mcg/day, screening 50 mcg -> limit 100
    assert at.session_state["sbx_draft"]["screening_bolus_mcg"] == 50
    assert "START_DOSE_ABOVE_RECOMMENDED" in codes_shown(at)
    open_section(at)
    at.number_input(key=key(at, "screening")).set_value(60.0).run()  # limit 120: exactly at it
    assert at.session_state["sbx_draft"]["screening_bolus_mcg"] == 60
    assert "START_DOSE_ABOVE_RECOMMENDED" not in codes_shown(at)
    at.number_input(key=key(at, "screening")).set_value(0.0).run()  # not given: 200 mcg/day
    assert "screening_bolus_mcg" not in at.session_state["sbx_draft"]
    assert not at.exception


def test_refill_contents_are_checked_against_the_program(app):
    at = open_sandbox(app, example("REFILL_DRUG_MISMATCH"))
    assert at.session_state["sbx_draft"]["refill"]["drugs"][0]["concentration"] == 500
    assert "REFILL_DRUG_MISMATCH" in codes_shown(at)
    open_section(at)
    at.checkbox(key=key(at, "refill_drugs_on")).uncheck().run()
    assert "drugs" not in at.session_state["sbx_draft"]["refill"]
    assert "REFILL_DRUG_MISMATCH" not in codes_shown(at)
    assert not at.exception


def test_program_history_rides_along_and_drives_titration_frequency(app):
    at = open_sandbox(app, example("TITRATION_TOO_FREQUENT"))
    hist = at.session_state["sbx_draft"]["history"]
    assert [h["at"] for h in hist] == ["2026-11-19T09:00:00", "2026-11-20T15:00:00"]
    assert "TITRATION_TOO_FREQUENT" in codes_shown(at)
    open_section(at, "sbx_history_box")
    assert any("2 earlier programming(s)" in c.value for c in at.caption)
    assert not at.exception


def test_a_story_pump_brings_its_telemetry_history(app):
    from test_sandbox_page import story_pump

    at = open_sandbox(app, pump=story_pump())
    at.run()
    hist = at.session_state["sbx_draft"].get("history")
    assert hist and all("program" in h for h in hist)
    assert not at.exception


def test_an_unticked_history_row_stays_listed_and_can_be_ticked_again(app):
    at = open_sandbox(app, example("TITRATION_TOO_FREQUENT"))
    open_section(at, "sbx_history_box")
    at.session_state[key(at, "history")] = {"edited_rows": {0: {"use": False}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert [h["at"] for h in at.session_state["sbx_draft"]["history"]] == ["2026-11-20T15:00:00"]
    for name, is_open in (("sbx_pump_box", True), ("sbx_pump_box", False), ("sbx_history_box", False),
                          ("sbx_history_box", True)):  # other sections, and this one, toggled
        open_section(at, name, is_open)
        assert [h["at"] for h in at.session_state["sbx_draft"]["history"]] == ["2026-11-20T15:00:00"]
    assert any("2 earlier programming(s)" in c.value for c in at.caption)  # both rows still listed
    at.session_state[key(at, "history")] = {"edited_rows": {0: {"use": True}}, "added_rows": [], "deleted_rows": []}
    at.run()  # ticked again
    assert [h["at"] for h in at.session_state["sbx_draft"]["history"]] == ["2026-11-19T09:00:00",
                                                                           "2026-11-20T15:00:00"]


def test_an_emptied_refill_table_stays_empty_and_reported(app):
    at = open_sandbox(app, example("REFILL_DRUG_MISMATCH"))
    open_section(at)
    at.session_state[key(at, "refill_drugs")] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    assert at.session_state["sbx_draft"]["refill"]["drugs"] == []
    open_section(at, is_open=False)  # read through the stand-in: not refilled with the program's drugs
    at.run()
    assert at.session_state["sbx_draft"]["refill"]["drugs"] == []
    assert "refill" in " ".join(e.value for e in at.error)  # reported as a problem of the refill


def test_a_value_typed_just_before_its_section_is_closed_is_kept(app):
    at = open_sandbox(app, example("REFILL_DRUG_MISMATCH"))
    open_section(at)
    at.text_input(key=key(at, "reservoir")).input("12.5")
    at.session_state["sbx_pump_box"] = False  # the same run: the text's commit arrives with the click
    at.run()
    assert not at.exception
    assert at.session_state["sbx_draft"]["reservoir_ml"] == 12.5
