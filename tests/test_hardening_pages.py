"""Regression tests for the hostile-input defects of issue 12 (pages, under AppTest)."""
from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest

from pumpmodel import sharelink
from pumpmodel.telemetry import STORY_DIR, load_telemetry

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "examples" / "spec_example.json").read_text()
EVIL = "evil-site.com"
INJECTION = (f"![pixel](https://{EVIL}/p.png) [Session expired: log in again](https://{EVIL}/login) "
             f"<https://{EVIL}> www.{EVIL} :red[alert] $x^2$")


def shown(at) -> list[str]:
    """The markdown source of everything text-like on the page."""
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    for exp in at.expander:
        out.append(str(exp.label))
    return out


def html_of(markdown: str) -> str:
    """GitHub-flavoured markdown (links, images, raw HTML, autolinked addresses) as HTML."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like", {"linkify": True, "html": True})
    md.linkify.set({"fuzzy_link": False})  # "www." addresses: checked by a pattern in assert_no_live_markup
    return md.render(markdown)


def assert_no_live_markup(at) -> None:
    """The injected text may be shown, but only as text: no link, image or HTML with the off-site address."""
    for text in shown(at):
        html = html_of(text)
        assert not re.search(r"<(a|img)\b[^>]*evil-site\.com", html), (text, html)
        outside_code = re.sub(r"`[^`]*`", "", text)  # Streamlit's :red[...] and $math$ are not parsed in code
        assert ":red[alert]" not in outside_code and "$x^2$" not in outside_code, text  # the page's own :red[ is fine
        # Streamlit autolinks bare addresses even after backslash escapes: they must be broken up
        assert not re.search(r"(?i)(?<![a-z])(https?\\?:|www\\?\.)", outside_code), text


def test_the_checker_sees_live_markup():
    assert re.search(r"<a\b[^>]*evil-site\.com", html_of(INJECTION))
    assert re.search(r"<img\b[^>]*evil-site\.com", html_of(INJECTION))
    assert re.search(r"<a\b[^>]*evil-site\.com", html_of(f"see https://{EVIL}/x"))


def token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# -- 2. share links that crashed the sandbox page ---------------------------------------

HOSTILE = {
    "depth 600": SPEC[:-2] + ', "x": ' + "[" * 600 + "]" * 600 + "}",
    "max_per_day 1e308": SPEC.replace('"max_per_day": 3', '"max_per_day": 1e308'),
    "reservoir Infinity": SPEC.replace('"reservoir_ml": 18.5', '"reservoir_ml": Infinity'),
    "max_per_day Infinity": SPEC.replace('"max_per_day": 3', '"max_per_day": Infinity'),
    "5000 digits": SPEC.replace('"reservoir_ml": 18.5', '"reservoir_ml": ' + "9" * 5000),
    # inside the gate's bounds but outside the model's: kept as typed, reported by field
    "max_per_day 1e11": SPEC.replace('"max_per_day": 3', '"max_per_day": 1e11'),
    "max_per_day 2.5": SPEC.replace('"max_per_day": 3', '"max_per_day": 2.5'),
    "reservoir 9e11": SPEC.replace('"reservoir_ml": 18.5', '"reservoir_ml": 9e11'),
    "reservoir text": SPEC.replace('"reservoir_ml": 18.5', '"reservoir_ml": "lots"'),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_2_hostile_share_links_show_problems_not_a_traceback(app, name):
    at = app({"case": token(HOSTILE[name])})
    at.switch_page("pages/sandbox.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(str(e.value) for e in at.error)
    assert errors and "error id" not in errors, errors  # a problem list, not the error boundary
    assert any(w in errors for w in ("max_per_day", "max per day", "reservoir_ml", "reservoir (mL)",
                                     "nested too deeply")), errors  # the field named (in plain words)


# -- 3. markdown injection ----------------------------------------------------------------

def test_3_pasted_case_with_markdown_in_drug_extra_key_and_profile_is_shown_as_text(app):
    case = json.loads(SPEC)
    case["proposed"]["drugs"][0]["drug"] = INJECTION
    case["pump"]["profile"] = INJECTION
    case[INJECTION] = 1
    at = app().run()
    at.switch_page("pages/case_io.py").run()
    at.text_area(key="io_text").input(json.dumps(case)).run()
    assert not at.exception
    assert at.error, "the case must be refused"
    assert_no_live_markup(at)


def test_3_share_link_with_markdown_is_shown_as_text(app):
    case = json.loads(SPEC)
    case["proposed"]["drugs"][0]["drug"] = INJECTION
    at = app({"case": sharelink.encode(case)})
    at.switch_page("pages/sandbox.py").run()
    assert not at.exception
    assert_no_live_markup(at)


@pytest.fixture(scope="module")
def evil_upload():
    from ui.clinician_upload import template_telemetry

    tel = template_telemetry(load_telemetry(STORY_DIR), "story-a", days=2)
    tel.pumps.loc[:, "story"] = f"# Heading\n{INJECTION}\n<img src='https://{EVIL}/x.png'>"
    tel.pumps.loc[:, "patient_label"] = f"Patient {INJECTION}"
    trial = json.loads(tel.pumps.iloc[0]["trial"])
    trial["note"] = f"Note {INJECTION}"
    trial["side_effects"][0]["effect"] = f"Effect {INJECTION}"[:200]
    tel.pumps.loc[:, "trial"] = json.dumps(trial)
    return tel


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/upload.py", "pages/trial.py"])
def test_3_uploaded_story_and_label_are_shown_as_text(app, evil_upload, page):
    from conftest import new_workspace
    from pumpmodel.telemetry import to_combined

    payload = to_combined(evil_upload).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()
    ws = new_workspace(**{f"[x](https://{EVIL}).csv": payload})  # uploads live in the workspace store
    at = app({"pump": "TEMPLATE-1", "ws": ws.token})
    at.switch_page(page).run()
    assert not at.exception
    for exp in at.sidebar.expander:
        exp.open = True  # noqa: the story expander's body is in the element tree either way
    assert any("Heading" in t for t in shown(at)), "the story is shown"
    assert_no_live_markup(at)


def test_3_uploaded_trial_note_and_side_effect_are_shown_as_text(app, evil_upload):
    from conftest import new_workspace
    from pumpmodel.telemetry import to_combined

    payload = to_combined(evil_upload).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()
    at = app({"pump": "TEMPLATE-1", "ws": new_workspace(**{"t.csv": payload}).token})
    at.switch_page("pages/trial.py").run()
    assert not at.exception
    assert any("Note" in t for t in shown(at)) and any("Effect" in t for t in shown(at)), "the trial is shown"
    assert_no_live_markup(at)


def test_3_trial_conversion_error_echoing_its_input_is_shown_as_text(app, monkeypatch):
    from pumpmodel.trial import conversion

    def convert(dose, route, target):
        raise conversion.ConversionError(f"route: {INJECTION!r} is not one of oral, iv, epidural")

    monkeypatch.setattr(conversion, "convert", convert)
    at = app({"pump": "story-a"})
    at.switch_page("pages/trial.py").run()
    assert not at.exception
    assert any("your value is kept" in str(e.value) for e in at.error)
    assert_no_live_markup(at)


def test_3_sandbox_origin_from_an_uploaded_case_file_name_is_shown_as_text(app):
    at = app({"pump": "story-a"}).run()  # the sidebar's pump is not the case's: the sidebar says what is shown
    at.session_state["sbx_pending"] = {"data": json.loads(SPEC), "origin": f"uploaded file {INJECTION}.json"}
    at.switch_page("pages/sandbox.py").run()
    assert not at.exception
    assert any("uploaded file" in str(i.value) for i in at.sidebar.info)
    assert_no_live_markup(at)


def test_3_typed_number_with_markdown_is_shown_as_text(app):
    at = app({"case": sharelink.encode(json.loads(SPEC))})
    at.switch_page("pages/sandbox.py").run()
    at.session_state["sbx_pump_box"] = True  # the section holding the reservoir field
    at.run()
    at.text_input(key=f"sbx{at.session_state['sbx_gen']}_reservoir").input(INJECTION).run()
    assert not at.exception
    assert any("is not a number" in str(m.value) for m in at.markdown)
    assert_no_live_markup(at)


def test_3_typed_override_reason_in_the_override_log_table_is_shown_as_text(app):
    """st.table renders every cell as markdown (Streamlit >= 1.46): the log's reasons are typed text."""
    from pumpmodel import sandbox

    at = app({"case": sharelink.encode(sandbox.demo_case("demo_soft_titration_baclofen.json"))})
    at.switch_page("pages/sandbox.py").run()
    for cb in [c for c in at.checkbox if c.key.startswith("sbx_ack_")]:
        cb.check()
        at.text_input(key=cb.key.replace("sbx_ack_", "sbx_reason_")).input(INJECTION)
    at.run()
    next(b for b in at.button if b.key == "sbx_send").click().run()
    assert not at.exception
    assert at.table, "the override log is shown"
    df = at.table[0].value.reset_index()
    cells = [str(v) for v in df.to_numpy().ravel()] + [str(c) for c in df.columns]
    assert sum("Session expired" in c for c in cells) == 2, cells
    for cell in cells:
        html = html_of(cell)
        assert not re.search(r"<(a|img)\b[^>]*evil-site\.com", html), (cell, html)
        assert not re.search(r"(?i)(?<![a-z])(https?\\?:|www\\?\.)", cell), cell


def _training_results(reason: str) -> None:
    from datetime import datetime

    from pumpmodel.training.progress import AttemptRecord
    from ui.training import deck, results

    ex = deck()[0]
    t = datetime(2026, 12, 1, 9, 0)
    rec = AttemptRecord(exercise_id=ex.id, trainee="T", started_at=t, finished_at=t, passed=False, score_percent=0,
                        hard_stops=0, overrides=[{"code": "RATE_CHANGE_LARGE", "drug": None, "reason": reason}],
                        objectives=[{"id": "o", "text": "Override acknowledged", "passed": True,
                                     "reason": f'RATE_CHANGE_LARGE acknowledged: "{reason}"'}])
    results(rec, ex)


def test_3_typed_override_reason_in_training_results_is_shown_as_text():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_training_results, args=(INJECTION,), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert sum("Session expired" in t for t in shown(at)) == 2, "the reason is shown, in the objective and the log"
    assert_no_live_markup(at)


def test_3_refused_upload_names_its_first_problems_as_text():
    import pandas as pd

    from ui.clinician_upload import first_problems

    rows = [{"file": "t.csv", "column": "story", "row": 3, "message": f"bad {INJECTION}"},
            {"file": "t.csv", "column": None, "row": None, "message": "no events"}] * 3
    text = first_problems(pd.DataFrame(rows, columns=["file", "column", "row", "message"]))
    assert "t.csv, column story, row 3: bad" in text and "t.csv: no events" in text
    assert text.count("\n- ") == 4 and "3 more, all in the table below" in text
    html = html_of(text)
    assert not re.search(r"<(a|img)\b[^>]*evil-site\.com", html), html


def test_3_pump_parameter_with_markdown_is_shown_as_text(app):
    at = app({"pump": f"[login](https://{EVIL})"}).run()
    assert not at.exception
    assert any("is not in this workspace" in w.value for w in at.sidebar.warning)
    assert_no_live_markup(at)


# -- 10. the error boundary on every page -------------------------------------------------

PAGES = [p for p, *_ in __import__("ast").literal_eval(
    (ROOT / "dashboard.py").read_text().split("PAGES = ", 1)[1].split("\n]\n", 1)[0] + "\n]")]


@pytest.fixture
def shell_app(app, monkeypatch):
    """AppTest running every page through dashboard.py, as the server does once ``st.navigation``
    has run (AppTest itself runs a switched-to page file on its own: Streamlit's pages-folder mode)."""
    from streamlit.runtime.scriptrunner import script_runner

    def through_shell(main_script_path):
        code = compile(Path(main_script_path).read_text(), main_script_path, "exec")
        exec(code, {"__name__": "__main__", "__file__": main_script_path})  # noqa: S102

    monkeypatch.setattr(script_runner, "_mpa_v1", through_shell)
    return app


@pytest.mark.parametrize("page", PAGES)
def test_10_an_unforeseen_error_shows_an_error_id_not_a_traceback(shell_app, page, monkeypatch, caplog):
    import ui.common

    app = shell_app

    def boom():
        raise RuntimeError("boom at /srv/secret/path.py")

    at = app().run()  # the shell has run once (before that, a deep link reruns through it: ui/shell.py)
    assert not at.exception
    monkeypatch.setattr(ui.common, "ensure_shell", boom)  # every page calls disclaimer() -> ensure_shell()
    at.switch_page(page)
    with caplog.at_level(logging.ERROR, logger="pumptrainer"):
        at.run()
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "error id" in errors[0], errors
    assert not any("secret" in t or "boom" in t for t in shown(at))
    error_id = errors[0].split("error id `", 1)[1].split("`", 1)[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_10_a_fragment_rerun_is_inside_the_boundary_too(app, monkeypatch):
    at = app()  # pages-folder mode: the page runs without dashboard.py, its fragment has its own boundary
    at.switch_page("pages/sandbox.py").run()
    assert not at.exception

    import ui.sandbox_results

    def boom(*a, **k):
        raise RuntimeError("boom at /srv/secret/path.py")

    monkeypatch.setattr(ui.sandbox_results, "evaluations", boom)
    at.run()
    assert not at.exception
    assert any("error id" in str(e.value) for e in at.error)
