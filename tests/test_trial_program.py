"""Trial -> new-implant case (and its guardrails), trials carried by cases, scenarios and
telemetry, and the trial figures. Expected numbers are worked out by hand."""
from __future__ import annotations

import json
import math

import pytest

from pumpmodel import evaluate, sharelink
from pumpmodel.figures.data import figure_table
from pumpmodel.figures.trial import conversion_figure, trial_response_figure
from pumpmodel.programs import Case
from pumpmodel.telemetry import STORY_DIR, Telemetry, TelemetryError, load_telemetry, write_telemetry
from pumpmodel.trial import conversion as cv
from pumpmodel.trial.first_program import first_program_case
from pumpmodel.trial.start import start_dose
from test_trial import baclofen_trial, opioid_trial, single_bolus


@pytest.fixture(scope="module")
def story():
    return load_telemetry(STORY_DIR)


def codes(case: Case) -> set[str]:
    return {w.code for w in evaluate(case).warnings}


# ---- the new-implant case -----------------------------------------------------------------------------------

def test_baclofen_first_program_case():
    case = first_program_case(baclofen_trial())
    assert case.current is None and case.first_fill and case.trial == baclofen_trial()
    p = case.proposed
    assert p.mode == "simple_continuous" and p.drugs[0].concentration == 500 and p.drugs[0].unit == "mcg/mL"
    assert math.isclose(p.rate_ml_per_day, 0.3)                       # 150 mcg/day / 500 mcg/mL
    assert case.reservoir_ml == 20 and case.indication == "spasticity_spinal" and case.screening_bolus_mcg == 75
    assert case.now.isoformat() == "2021-02-24T15:00:00"              # trial end 15:00 + 1 day
    assert case.next_appointment.isoformat() == "2021-03-03T15:00:00"  # + 7 days (first visit)
    assert math.isclose(evaluate(case).daily_dose["baclofen"].amount, 150)


@pytest.mark.parametrize("dose, flagged", [
    (150, False),   # 2 x the 75 mcg effective screening bolus: exactly the labelled start
    (151, True),    # above it
])
def test_baclofen_new_implant_start_dose_guardrail_both_sides(dose, flagged):
    case = first_program_case(baclofen_trial(), dose_per_day=dose)
    assert case.screening_bolus_mcg == 75
    found = [w for w in evaluate(case).warnings if w.code == "START_DOSE_ABOVE_RECOMMENDED"]
    assert bool(found) is flagged
    if flagged:
        assert found[0].limit == 150 and found[0].drug == "baclofen"


def test_the_trial_tightens_the_baclofen_start_check():
    """Without the screening bolus the engine falls back to 2 x 100 mcg = 200 mcg/day: 160 passes;
    with the trial's 75 mcg bolus the limit is 150 and 160 is flagged."""
    case = first_program_case(baclofen_trial(), dose_per_day=160)
    assert "START_DOSE_ABOVE_RECOMMENDED" in codes(case)
    blind = case.model_copy(update={"screening_bolus_mcg": None, "trial": None})
    assert "START_DOSE_ABOVE_RECOMMENDED" not in codes(blind)


@pytest.mark.parametrize("dose, flagged", [(0.5, False), (0.51, True)])
def test_morphine_new_implant_start_dose_guardrail_both_sides(dose, flagged):
    case = first_program_case(opioid_trial(bolus=0.5), dose_per_day=dose)
    assert math.isclose(case.proposed.rate_ml_per_day, dose)          # at 1 mg/mL
    assert ("START_DOSE_ABOVE_RECOMMENDED" in codes(case)) is flagged


def test_morphine_trial_start_runs_without_a_start_warning():
    case = first_program_case(opioid_trial(bolus=0.5))                # 0.25 mg/day
    assert not codes(case) & {"START_DOSE_ABOVE_RECOMMENDED", "RATE_OUT_OF_PUMP_RANGE"}


def test_constant_flow_pump_carries_the_dose_in_the_concentration():
    case = first_program_case(opioid_trial(bolus=0.15), profile="constant-flow-30")
    # 0.075 mg/day at the fixed 1.0 mL/day -> 0.075 mg/mL
    assert case.proposed.rate_ml_per_day == 1.0
    assert math.isclose(case.proposed.drugs[0].concentration, 0.075)
    assert "FIXED_RATE_PUMP" not in codes(case)


def test_ziconotide_first_fill_is_undiluted():
    case = first_program_case(single_bolus("ziconotide", 2.5, "mcg"))
    assert case.proposed.drugs[0].concentration == 25
    assert math.isclose(case.proposed.rate_ml_per_day, 0.096)         # 2.4 / 25
    assert not codes(case) & {"START_DOSE_ABOVE_RECOMMENDED", "STABILITY_WINDOW_EXCEEDED"}


def test_the_case_travels_through_a_share_link_with_its_trial():
    case = first_program_case(baclofen_trial())
    again = sharelink.decode(sharelink.encode(case))
    assert again == case and again.trial.doses[1].amount == 75


def test_a_case_with_a_bad_trial_is_rejected_naming_the_field():
    data = sharelink.case_to_dict(first_program_case(baclofen_trial()))
    data["trial"]["unit"] = "mg"
    with pytest.raises(sharelink.ShareLinkError) as err:
        sharelink.to_case(data)
    assert err.value.errors[0]["loc"][0] == "trial"
    assert "baclofen doses are in mcg" in err.value.errors[0]["msg"]


# ---- story patients and telemetry ---------------------------------------------------------------------------

EXPECTED_STARTS = {  # drug, start dose per day: worked out in test_trial.py's rules
    "story-a": ("baclofen", 150),        # 2 x 75 mcg
    "story-b": ("morphine", 0.2),        # 0.5 x 0.4 mg/day infusion
    "story-c": ("ziconotide", 2.4),      # label
    "story-d": ("hydromorphone", 0.05),  # 0.5 x 0.1 mg bolus
    "story-e": ("morphine", 0.25),       # 0.5 x 0.5 mg bolus
    "story-f": ("hydromorphone", 0.15),  # 0.5 x 0.4 = 0.2, capped at 0.15
    "story-g": ("morphine", 0.075),      # 0.5 x 0.15 = 0.075, below the range: kept
    "story-h": ("baclofen", 50),         # effect 10 h > 8 h: 1 x 50 mcg
}


def test_every_story_patient_has_a_trial_before_the_implant(story):
    assert set(story.pump_ids()) == set(EXPECTED_STARTS)
    for pid, (drug, dose) in EXPECTED_STARTS.items():
        pt = story.pump(pid)
        t = pt.trial()
        assert t is not None and t.drug == drug, pid
        assert t.end <= pt.info["implant_date"], pid
        assert math.isclose(start_dose(t).dose_per_day, dose), pid
        # the first program of every story trial runs on its pump without a start-dose or range finding
        case = first_program_case(t, profile=pt.info["profile"])
        assert not codes(case) & {"START_DOSE_ABOVE_RECOMMENDED", "RATE_OUT_OF_PUMP_RANGE"}, pid


def test_trial_types_cover_all_three(story):
    assert {story.pump(p).trial().type for p in story.pump_ids()} == {
        "single_bolus", "repeated_boluses", "continuous_catheter"}


def test_a_malformed_trial_in_telemetry_is_a_problem_naming_column_and_row(story, tmp_path):
    pumps = story.pumps.copy()
    bad = json.loads(pumps.loc[pumps["pump_id"] == "story-b", "trial"].iloc[0])
    bad["unit"] = "mcg"                                                # morphine is in mg
    pumps.loc[pumps["pump_id"] == "story-b", "trial"] = json.dumps(bad)
    pumps.loc[pumps["pump_id"] == "story-c", "trial"] = "{not json"
    write_telemetry(Telemetry(pumps=pumps, samples=story.samples, events=story.events), tmp_path / "t")
    with pytest.raises(TelemetryError) as err:
        load_telemetry(tmp_path / "t")
    found = [p for p in err.value.problems if p.column == "trial"]
    assert len(found) == 2
    rows = sorted(p.row for p in found)
    assert rows == sorted(int(i) for i in pumps.index[pumps["pump_id"].isin(["story-b", "story-c"])])
    assert any("morphine doses are in mg" in p.message for p in found)
    assert any("not a valid trial record: line 1, column 2" in p.message for p in found)  # the JSON slip, located


def test_telemetry_without_the_trial_column_still_loads(story, tmp_path):
    write_telemetry(Telemetry(pumps=story.pumps.drop(columns=["trial"]), samples=story.samples,
                              events=story.events), tmp_path / "t")
    tel = load_telemetry(tmp_path / "t")
    assert tel.pump("story-a").trial() is None


# ---- figures ------------------------------------------------------------------------------------------------

def test_trial_response_figure_marks_doses_and_scores():
    fig = trial_response_figure(baclofen_trial())
    names = [t.name for t in fig.data]
    assert "bolus (mcg): met the rule" in names and "bolus (mcg): did not meet the rule" in names
    met = next(t for t in fig.data if t.name == "bolus (mcg): met the rule")
    assert list(met.y) == [75] and list(met.text) == ["75 mcg"]
    scores = fig.data[0]
    assert list(scores.y) == [3.5, 3, 3.5, 2.0, 2.0]
    assert fig.layout.yaxis.title.text == "tone (Ashworth points)"
    assert fig.layout.yaxis2.title.text == "bolus (mcg)" and fig.layout.yaxis2.range[1] == pytest.approx(75 * 1.35)
    assert fig.layout.xaxis.title.text == "time (pump clock)"


def test_trial_response_figure_draws_infusions_as_steps_and_side_effects():
    from pumpmodel.trial import Trial

    t = Trial.model_validate(dict(
        type="continuous_catheter", drug="morphine", unit="mg", scale="pain_nrs",
        doses=[{"at": "2025-11-03T10:00:00", "dose_per_day": 0.2}, {"at": "2025-11-04T10:00:00", "dose_per_day": 0.4}],
        readings=[{"at": "2025-11-03T09:00:00", "score": 8}, {"at": "2025-11-05T09:00:00", "score": 3}],
        side_effects=[{"at": "2025-11-04T22:00:00", "effect": "itching", "severity": "mild"}]))
    fig = trial_response_figure(t)
    inf = next(t_ for t_ in fig.data if t_.name == "infusion (mg/day)")
    assert inf.line.shape == "hv" and list(inf.y) == [0.2, 0.4, 0.4]
    se = next(t_ for t_ in fig.data if t_.name == "side effect")
    assert list(se.y) == [10] and "itching (mild)" in se.text[0]


def test_conversion_figure_rows_and_log_axis():
    fig = conversion_figure(cv.convert(60))
    band = next(t for t in fig.data if t.name == "observed band")
    assert list(band.x) == pytest.approx([0.48, 6.0])
    classic = next(t for t in fig.data if t.name == "classic chain")
    assert list(classic.x) == pytest.approx([0.2])
    start = next(t for t in fig.data if t.name == "usual start")
    assert list(start.x) == [0.1, 0.5]
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.title.text == "intrathecal morphine<br>(mg/day, log scale)"
    assert "intrathecal morphine (mg/day, log scale)" in figure_table(fig).columns  # one line in the CSV
    assert fig.layout.yaxis.range[1] > 2  # room above the top row for its value label
    lo, hi = fig.layout.xaxis.range
    assert lo == pytest.approx(math.log10(0.1) - 0.3) and hi == pytest.approx(math.log10(6.0) + 0.3)
