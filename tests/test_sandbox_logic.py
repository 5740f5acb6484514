"""Sandbox pure logic and figures (no browser)."""
import json
from pathlib import Path

import plotly.graph_objects as go
import pytest

from pumpmodel import Case, DrugEntry, evaluate, sandbox
from pumpmodel.figures.sandbox import reservoir_figure, schedule_figure

ROOT = Path(__file__).resolve().parents[1]
SPEC = json.loads((ROOT / "examples" / "spec_example.json").read_text())


def test_dose_and_rate_conversion_with_unit():
    e = DrugEntry(drug="baclofen", concentration=2, unit="mg/mL")  # 2000 mcg/mL
    assert sandbox.dose_for_rate(0.39375, e) == pytest.approx(787.5)
    assert sandbox.rate_for_dose(787.5, e) == pytest.approx(0.39375)


@pytest.mark.parametrize("profile", ["programmable-20", "programmable-40", "valve-gated-20", "valve-gated-40",
                                     "constant-flow-30"])
@pytest.mark.parametrize("drug", ["morphine", "baclofen", "ziconotide", "clonidine"])
def test_blank_cases_validate_without_hard_findings(profile, drug):
    case = Case.model_validate(sandbox.blank_case(profile, drug=drug))
    ev = evaluate(case)
    assert not ev.blocked, ev.codes()
    assert case.current is None and case.first_fill


@pytest.mark.parametrize("mode", list(sandbox.MODE_LABELS))
def test_convert_mode_keeps_daily_volume(mode):
    prog = sandbox.convert_mode(SPEC["proposed"], mode)
    case = Case.model_validate({**SPEC, "proposed": prog})
    assert sandbox.editor_mode(case.proposed) == mode
    if mode != "stopped":
        assert evaluate(case).daily_volume_ml == pytest.approx(0.39375, rel=1e-5)


def test_send_check_hard_blocks_soft_needs_reasons():
    hard = evaluate(Case.model_validate(sandbox.demo_case("demo_hard_mg_mcg_mixup.json")))
    assert not sandbox.send_check(hard, {}).allowed
    soft = evaluate(Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json")))
    keys = [sandbox.ack_key(f) for f in sandbox.soft_findings(soft)]
    assert len(keys) == 2
    assert sandbox.send_check(soft, {keys[0]: "ok"}).missing_acks == [keys[1]]
    assert not sandbox.send_check(soft, {keys[0]: "ok", keys[1]: "   "}).allowed
    assert sandbox.send_check(soft, {keys[0]: "ok", keys[1]: "reviewed"}).allowed
    log = sandbox.override_entries(soft, {keys[0]: "ok", keys[1]: "reviewed"}, "p1", __import__("datetime").datetime(
        2026, 11, 21, 9))
    assert [e["reason"] for e in log] == ["ok", "reviewed"] and all(e["pump"] == "p1" for e in log)


def test_review_rows_flag_changes():
    case = Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json"))
    rows = {r["setting"]: r for r in sandbox.review_rows(case, evaluate(case), sandbox.current_evaluation(case))}
    assert rows["schedule"]["changed"] and not rows["pump profile"]["changed"]
    assert rows["baclofen daily dose"]["current"] == "625 mcg/day"
    assert rows["baclofen daily dose"]["pending"] == "887.5 mcg/day"


def _flex_case(current_rates, proposed_rates) -> Case:
    def prog(rates):
        return {**SPEC["proposed"], "steps": [{"start": t, "rate_ml_per_day": r}
                                             for t, r in zip(("00:00", "07:00", "22:00"), rates)]}
    return Case.model_validate({**SPEC, "reservoir_ml": 18.8375, "current": prog(current_rates),
                                "proposed": prog(proposed_rates)})


def test_review_and_comparison_show_numbers_rounded_by_unit():
    # story-a's program: (7 h x 0.3 + 15 h x 0.45 + 2 h x 0.3) / 24 h = 0.39375 mL/day
    case = _flex_case((0.3, 0.45, 0.3), (0.3, 0.45, 0.3))
    ev, cur = evaluate(case), sandbox.current_evaluation(case)
    comp = {r["figure"]: r for r in sandbox.comparison_rows(case, ev, cur)}
    assert comp["daily volume"]["proposed"] == "0.394 mL/day"
    assert comp["daily volume"]["change"] == "0 %"
    assert comp["baclofen daily dose"]["proposed"] == "787.5 mcg/day"
    assert comp["refill by"]["change"] == "0 days"
    review = {r["setting"]: r for r in sandbox.review_rows(case, ev, cur)}
    assert review["reservoir volume"]["current"] == "18.8 mL"
    assert review["drug(s) and concentration"]["pending"] == "baclofen 2,000 mcg/mL"
    shown = [v for r in review.values() for v in (r["current"], r["pending"])]
    assert not [v for v in shown if "0.39375" in v or "18.8375" in v]
    assert not any(r["changed"] for r in review.values())


def test_review_shows_full_precision_where_rounding_would_hide_a_change():
    case = _flex_case((0.3, 0.45, 0.3), (0.3, 0.4501, 0.3))
    review = {r["setting"]: r for r in sandbox.review_rows(case, evaluate(case), sandbox.current_evaluation(case))}
    assert review["schedule"]["changed"]
    assert review["schedule"]["current"] == "00:00 0.3, 07:00 0.45, 22:00 0.3 (mL/day)"
    assert review["schedule"]["pending"] == "00:00 0.3, 07:00 0.4501, 22:00 0.3 (mL/day)"
    assert review["daily volume"]["changed"] and review["daily volume"]["current"] != review["daily volume"]["pending"]
    assert review["pump profile"]["current"] == "programmable-40" and not review["pump profile"]["changed"]


def test_comparison_rows_change_in_percent():
    case = Case.model_validate(sandbox.demo_case("demo_soft_baclofen_abrupt_decrease.json"))
    rows = {r["figure"]: r for r in sandbox.comparison_rows(case, evaluate(case), sandbox.current_evaluation(case))}
    assert rows["baclofen daily dose"]["change"] == "-37.5 %"  # 3 significant figures for percentages
    assert rows["refill by"]["change"].endswith("days")


def test_schedule_figure_steps_and_week():
    case = Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json"))
    fig = schedule_figure(case.current, case.proposed)
    assert [t.name for t in fig.data] == ["current", "proposed"]
    assert list(fig.data[1].x) == [0, 7, 22, 24] and list(fig.data[1].y) == [0.35, 0.5, 0.35, 0.35]
    assert "mL/day" in fig.layout.yaxis.title.text
    week = Case.model_validate({**SPEC, "proposed": sandbox.convert_mode(SPEC["proposed"], "weekday_flex")})
    fig = schedule_figure(None, week.proposed)
    assert fig.data[0].x[-1] == 168


def test_reservoir_figure_projects_both_programs():
    case = Case.model_validate(sandbox.demo_case("demo_soft_titration_baclofen.json"))
    ev, cur = evaluate(case), sandbox.current_evaluation(case)
    fig = reservoir_figure(case, ev, cur)
    names = [t.name for t in fig.data]
    assert names == ["current program", "proposed program", "proposed, every PTM bolus"]
    prop = fig.data[1]
    assert prop.y[0] == pytest.approx(30) and min(prop.y) >= 0
    assert all(y1 <= y0 + 1e-12 for y0, y1 in zip(prop.y, prop.y[1:]))  # never rises
    assert "mL" in fig.layout.yaxis.title.text
    assert any(a.text == "refill by" for a in fig.layout.annotations)


@pytest.mark.parametrize("file", sorted(sandbox.DEMO_CASES))
def test_figures_are_valid_plotly_in_the_shared_style(file):
    case = Case.model_validate(sandbox.demo_case(file))
    ev, cur = evaluate(case), sandbox.current_evaluation(case)
    for fig in (schedule_figure(case.current, case.proposed), reservoir_figure(case, ev, cur)):
        checked = go.Figure(fig.to_dict())  # full validation (the figures are built without it, for speed)
        assert checked.layout.template.layout.paper_bgcolor == "white"  # plotly_white from base_layout
        assert checked.layout.xaxis.title.text and "(" in checked.layout.yaxis.title.text
        assert all(len(t.x) == len(t.y) > 1 for t in fig.data)  # (to_dict packs numeric arrays as base64)
