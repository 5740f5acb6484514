"""Cases page: demo links, paste/upload a case JSON, malformed input named, never a traceback."""
import json
from pathlib import Path

from pumpmodel import sandbox

ROOT = Path(__file__).resolve().parents[1]


def open_cases(app):
    at = app().run()
    at.switch_page("pages/case_io.py").run()
    assert not at.exception
    return at


def test_every_demo_case_is_listed_with_a_share_link_and_its_codes(app):
    at = open_cases(app)
    table = next(m.value for m in at.markdown if m.value.startswith("| case (file) | shows |"))
    for file, (title, codes) in sandbox.DEMO_CASES.items():
        assert title in table and f"examples/{file}" in table and all(c in table for c in codes)
    assert table.count("](sandbox?case=") == len(sandbox.DEMO_CASES)
    # every code the engine gives (as the sandbox shows), not only the ones the case was built for:
    # the mg/mcg mix-up shows 6 findings, of which it was built for 2
    row = next(line for line in table.splitlines() if "demo_hard_mg_mcg_mixup.json" in line)
    from pumpmodel import evaluate
    from pumpmodel.programs import Case

    shown = evaluate(Case.model_validate(sandbox.demo_case("demo_hard_mg_mcg_mixup.json"))).warnings
    assert len(shown) > 2 and all(f"{f.severity.upper()} `{f.code}`" in row for f in shown)


def test_demo_cases_show_what_they_were_built_for():
    for file, (_, codes) in sandbox.DEMO_CASES.items():
        assert set(codes) <= {c for _, c in sandbox.demo_codes(file)}, file


def test_pasted_spec_example_is_evaluated(app):
    at = open_cases(app)
    at.text_area(key="io_text").input((ROOT / "examples/spec_example.json").read_text()).run()
    assert not at.exception
    ok = " ".join(s.value for s in at.success)
    assert "RESERVOIR_ALARM_BEFORE_APPOINTMENT" in ok and "RESERVOIR_EMPTY_BEFORE_APPOINTMENT" in ok


def test_malformed_paste_names_the_problems_and_loads_nothing(app):
    at = open_cases(app)
    case = json.loads((ROOT / "examples/spec_example.json").read_text())
    case["proposed"]["steps"][0]["start"] = "01:00"
    case["reservoir_ml"] = -1
    at.text_area(key="io_text").input(json.dumps(case)).run()
    assert not at.exception and not at.success
    shown = " ".join(str(e.value) for e in [*at.error, *at.warning, *at.markdown])
    assert "reservoir (mL)" in shown and "first step must start at 00:00" in shown and "Nothing was loaded" in shown
    assert "Value error" not in shown and "reservoir_ml" not in shown  # plain words, no internals
    at.text_area(key="io_text").input("{not json").run()
    assert not at.exception and "not valid JSON" in " ".join(str(e.value) for e in [*at.error, *at.warning])


import pytest  # noqa: E402

from conftest import page_problems, screenshot, wait_for_app  # noqa: E402


@pytest.mark.browser
def test_cases_page_in_browser_and_a_demo_link_opens_the_sandbox(server_url, page):
    page.goto(server_url + "/case_io")
    wait_for_app(page)
    screenshot(page, "case_io")
    assert page_problems(page) == []
    title, codes = sandbox.DEMO_CASES["demo_hard_mg_mcg_mixup.json"]
    with page.context.expect_page() as opened:  # markdown links open in a new tab: the list stays
        page.get_by_role("link", name=title).click()
    sbx = opened.value
    sbx.console_errors, sbx.failed_requests = [], []
    sbx.on("console", lambda m: m.type == "error" and sbx.console_errors.append(m.text))
    wait_for_app(sbx)
    assert "/sandbox?case=" in sbx.url
    guardrails = sbx.get_by_text("Guardrails:").first
    guardrails.wait_for(timeout=60_000)
    body = sbx.inner_text("body")
    assert all(code in body for code in codes)
    assert page_problems(sbx) == []
