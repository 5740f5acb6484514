"""Trial record, response rule, trial -> start dose, and the conversion calculator.

Every expected number is worked out by hand in the comment next to it."""
from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from pumpmodel.trial import Trial
from pumpmodel.trial import conversion as cv
from pumpmodel.trial.response import dose_responses, effective_dose, meets, outcome
from pumpmodel.trial.start import NoStartDose, start_dose


def baclofen_trial(second_best: float = 2.0, effect_until: str = "2021-02-23T15:00:00", **kw) -> Trial:
    """50 mcg (3.5 -> 3: 0.5 point, not enough), then 75 mcg (3.5 -> ``second_best``)."""
    data = dict(
        type="repeated_boluses", drug="baclofen", unit="mcg", indication="spasticity_spinal",
        scale="modified_ashworth",
        doses=[{"at": "2021-02-22T09:00:00", "amount": 50}, {"at": "2021-02-23T09:00:00", "amount": 75}],
        readings=[
            {"at": "2021-02-22T08:30:00", "score": 3.5}, {"at": "2021-02-22T13:00:00", "score": 3},
            {"at": "2021-02-23T08:30:00", "score": 3.5}, {"at": "2021-02-23T13:00:00", "score": second_best},
            {"at": effect_until, "score": second_best},
        ],
    )
    data.update(kw)
    return Trial.model_validate(data)


def opioid_trial(drug: str = "morphine", bolus: float | None = None, per_day: float | None = None,
                 before: float = 8, after: float = 3) -> Trial:
    unit = "mg"
    if bolus is not None:
        doses, kind = [{"at": "2025-01-10T09:00:00", "amount": bolus}], "single_bolus"
    else:
        doses, kind = [{"at": "2025-01-10T09:00:00", "dose_per_day": per_day}], "continuous_catheter"
    return Trial.model_validate(dict(
        type=kind, drug=drug, unit=unit, scale="pain_nrs", doses=doses,
        readings=[{"at": "2025-01-10T08:00:00", "score": before}, {"at": "2025-01-10T14:00:00", "score": after}]))


# ---- the record ---------------------------------------------------------------------------------------------

def test_story_like_trial_validates_and_round_trips_as_json():
    t = baclofen_trial()
    again = Trial.model_validate_json(t.model_dump_json())
    assert again == t
    assert t.started_at.isoformat() == "2021-02-22T08:30:00" and t.end.isoformat() == "2021-02-23T15:00:00"
    assert t.dose_unit == "mcg/day"


def test_kind_may_be_left_out_infusion_by_its_field():
    t = opioid_trial(per_day=0.4)
    assert t.doses[0].kind == "infusion" and t.doses[0].dose_per_day == 0.4


@pytest.mark.parametrize("change, words", [
    (dict(unit="mg"), "baclofen doses are in mcg"),
    (dict(type="single_bolus"), "exactly one bolus"),
    (dict(type="continuous_catheter"), "at least one infusion"),
    (dict(scale="borg"), "unknown scale"),
    (dict(drug="aspirin"), "unknown drug"),
    (dict(doses=[{"at": "2021-02-23T09:00:00", "amount": 50}, {"at": "2021-02-22T09:00:00", "amount": 75}]),
     "not in time order"),
    (dict(readings=[{"at": "2021-02-22T10:00:00", "score": 3}, {"at": "2021-02-22T13:00:00", "score": 2}]),
     "baseline"),
    (dict(readings=[{"at": "2021-02-22T08:00:00", "score": 3}, {"at": "2021-02-22T13:00:00", "score": 5}]),
     "above the modified_ashworth maximum of 4"),
    (dict(doses=[{"at": "2021-02-22T09:00:00", "amount": -5}, {"at": "2021-02-23T09:00:00", "amount": 75}]),
     "greater than 0"),
])
def test_malformed_trials_are_rejected_with_the_field_named(change, words):
    with pytest.raises(ValidationError) as err:
        baclofen_trial(**change)
    assert words in str(err.value)


def test_repeated_boluses_refuse_an_infusion_and_a_single_bolus_needs_one():
    with pytest.raises(ValidationError, match="two or more boluses"):
        baclofen_trial(doses=[{"at": "2021-02-22T09:00:00", "amount": 50},
                              {"at": "2021-02-23T09:00:00", "dose_per_day": 75}])


# ---- the response rule --------------------------------------------------------------------------------------

@pytest.mark.parametrize("baseline, score, expected", [
    (3.5, 2.5, True),    # drop 1 point: exactly the rule
    (3.5, 2.6, False),   # drop 0.9
])
def test_ashworth_rule_is_one_point_inclusive(baseline, score, expected):
    assert meets("modified_ashworth", baseline, score) is expected


@pytest.mark.parametrize("baseline, score, expected", [
    (8, 4, True),        # 50 % exactly
    (8, 4.1, False),     # 48.75 %
    (0, 0, False),       # no pain to relieve: nothing to judge
])
def test_pain_rule_is_fifty_percent_inclusive(baseline, score, expected):
    assert meets("pain_nrs", baseline, score) is expected


def test_each_bolus_is_judged_against_the_reading_before_it():
    r = dose_responses(baclofen_trial())
    assert [x.baseline for x in r] == [3.5, 3.5]
    assert [x.best for x in r] == [3.0, 2.0]
    assert [x.effective for x in r] == [False, True]
    assert r[1].effect_hours == 6.0              # 09:00 -> 15:00, last reading still at 2.0
    assert r[1].reduction == 1.5
    assert effective_dose(baclofen_trial()).amount == 75
    assert "75 mcg bolus" in outcome(baclofen_trial())


def test_infusions_are_judged_against_the_trial_baseline():
    t = Trial.model_validate(dict(
        type="continuous_catheter", drug="morphine", unit="mg", scale="pain_nrs",
        doses=[{"at": "2025-11-03T10:00:00", "dose_per_day": 0.2}, {"at": "2025-11-04T10:00:00", "dose_per_day": 0.4}],
        readings=[{"at": "2025-11-03T09:00:00", "score": 8}, {"at": "2025-11-04T09:00:00", "score": 6},
                  {"at": "2025-11-05T09:00:00", "score": 3}]))
    r = dose_responses(t)
    # 0.2 mg/day: 8 -> 6 = 25 %, not enough; 0.4 mg/day: against the baseline 8 (not the 6 before it): 62.5 %
    assert [(x.baseline, x.best, x.effective) for x in r] == [(8, 6, False), (8, 3, True)]
    assert effective_dose(t).amount == 0.4


# ---- trial -> starting dose ---------------------------------------------------------------------------------

def test_baclofen_start_is_twice_the_effective_screening_bolus():
    sd = start_dose(baclofen_trial())
    assert sd.dose_per_day == 150 and sd.unit == "mcg/day"      # 2 x 75 mcg
    assert sd.screening_bolus_mcg == 75 and sd.range_max == 150
    assert sd.formula == "2 x 75 mcg = 150 mcg/day"
    assert "twice the screening dose" in sd.source


@pytest.mark.parametrize("until, expected", [
    ("2021-02-23T17:00:00", 150),   # effect 8 h: not more than 8 h -> 2 x 75
    ("2021-02-23T17:30:00", 75),    # effect 8.5 h -> start at the bolus itself
])
def test_baclofen_long_effect_starts_at_the_bolus_itself(until, expected):
    assert start_dose(baclofen_trial(effect_until=until)).dose_per_day == expected


def test_baclofen_without_a_positive_response_gives_no_start():
    with pytest.raises(NoStartDose, match="stops at 100 mcg"):
        start_dose(baclofen_trial(second_best=3.0))   # 3.5 -> 3: half a point


@pytest.mark.parametrize("kw, dose, position", [
    (dict(bolus=0.5), 0.25, "within"),       # 0.5 mg bolus = 0.5 mg/day; half: 0.25
    (dict(per_day=1.0), 0.5, "within"),      # half of 1.0 = 0.5: exactly the top of 0.1-0.5, not capped
    (dict(per_day=1.2), 0.5, "above"),       # half of 1.2 = 0.6 > 0.5: capped at 0.5
    (dict(bolus=0.2), 0.1, "within"),        # 0.1: exactly the bottom of the range
    (dict(bolus=0.15), 0.075, "below"),      # 0.075 < 0.1: kept, never raised to the range
])
def test_morphine_start_is_half_the_trial_dose_within_the_pacc_range(kw, dose, position):
    sd = start_dose(opioid_trial(**kw))
    assert math.isclose(sd.dose_per_day, dose, rel_tol=1e-12)
    assert sd.position == position and (sd.range_min, sd.range_max) == (0.1, 0.5)
    assert sd.assumed


@pytest.mark.parametrize("per_day, dose, position", [
    (0.3, 0.15, "within"),     # half of 0.3 = 0.15: the top of 0.01-0.15
    (0.4, 0.15, "above"),      # 0.2 -> capped at 0.15
    (0.01, 0.005, "below"),    # 0.005 < 0.01
])
def test_hydromorphone_start_both_sides_of_its_range(per_day, dose, position):
    sd = start_dose(opioid_trial("hydromorphone", per_day=per_day))
    assert math.isclose(sd.dose_per_day, dose, rel_tol=1e-12) and sd.position == position


def single_bolus(drug: str, amount: float, unit: str) -> Trial:
    """One bolus, pain 7 -> 3 (57 %: effective)."""
    return Trial.model_validate(dict(
        type="single_bolus", drug=drug, unit=unit, scale="pain_nrs",
        doses=[{"at": "2025-08-18T09:00:00", "amount": amount}],
        readings=[{"at": "2025-08-18T08:00:00", "score": 7}, {"at": "2025-08-18T15:00:00", "score": 3}]))


def test_ziconotide_starts_at_the_label_dose_whatever_the_trial():
    sd = start_dose(single_bolus("ziconotide", 5, "mcg"))
    assert sd.dose_per_day == 2.4 and sd.unit == "mcg/day" and "Prialt" in sd.source


def test_a_drug_without_a_rule_gives_no_start():
    with pytest.raises(NoStartDose, match="No trial-to-program rule for clonidine"):
        start_dose(single_bolus("clonidine", 50, "mcg"))


# ---- conversion ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("route, ratio", [("oral", 300), ("iv", 100), ("epidural", 10)])
def test_classic_chain_ratios(route, ratio):
    assert cv.chain_ratio(route) == ratio     # 3 x 10 x 10, 10 x 10, 10


def test_oral_60_mg_classic_and_observed_band():
    c = cv.convert(60, "oral")
    assert math.isclose(c.classic_mg_per_day, 0.2)        # 60 / 300
    assert math.isclose(c.band_low_mg_per_day, 0.48)      # 60 / 125
    assert math.isclose(c.band_high_mg_per_day, 6.0)      # 60 / 10
    assert math.isclose(c.fold_spread, 12.5)
    assert c.classic_vs_start == "within" and c.band_vs_start == "overlaps"
    assert "not a starting dose" in c.summary()
    assert c.steps[0] == "oral 60 mg/day / 3 = iv 20 mg/day"


def test_iv_and_epidural_inputs_go_back_to_oral_equivalents():
    iv = cv.convert(10, "iv")
    assert iv.oral_mg_per_day == 30 and math.isclose(iv.classic_mg_per_day, 0.1)   # 10 x 3; 10 / 100
    assert math.isclose(iv.band_low_mg_per_day, 0.24) and math.isclose(iv.band_high_mg_per_day, 3.0)
    ep = cv.convert(1, "epidural")
    assert ep.oral_mg_per_day == 30 and math.isclose(ep.classic_mg_per_day, 0.1)   # 1 x 30; 1 / 10


@pytest.mark.parametrize("oral, band, classic", [
    (62.5, "overlaps", "within"),   # band 0.5-6.25: its low end exactly at the 0.5 start maximum
    (62.6, "above", "within"),      # band 0.5008-6.26: entirely above 0.1-0.5
    (1.0, "overlaps", "below"),     # band 0.008-0.1: high end exactly at the 0.1 minimum; classic 0.00333
    (0.99, "below", "below"),       # band high 0.099 < 0.1
    (150, "above", "within"),       # classic 150/300 = 0.5: at the top of the start range
    (151, "above", "above"),        # classic 0.5033
])
def test_band_and_classic_against_the_start_range_both_sides(oral, band, classic):
    c = cv.convert(oral)
    assert c.band_vs_start == band and c.classic_vs_start == classic


def test_hydromorphone_uses_the_library_equivalence():
    assert cv.targets() == ["morphine", "hydromorphone"]
    c = cv.convert(60, "oral", "hydromorphone")
    assert c.potency == 5 and "PACC" in c.potency_source           # drugs.yaml morphine_equivalence
    assert math.isclose(c.classic_mg_per_day, 0.04)                # 60 / 300 / 5
    assert math.isclose(c.band_low_mg_per_day, 0.096)              # 60 / 125 / 5
    assert math.isclose(c.band_high_mg_per_day, 1.2)               # 60 / 10 / 5
    assert (c.start_min, c.start_max) == (0.01, 0.15)
    assert c.band_vs_start == "overlaps" and c.classic_vs_start == "within"
    assert c.steps[-1].startswith("intrathecal hydromorphone = intrathecal morphine / 5")


@pytest.mark.parametrize("oral, band", [
    (46.875, "overlaps"),   # band low 46.875 / 125 / 5 = 0.075 ... high 0.9375: overlaps 0.01-0.15
    (93.75, "overlaps"),    # band low 0.15: exactly the top of the start range
    (94, "above"),          # band low 0.1504
])
def test_hydromorphone_band_against_its_start_range_both_sides(oral, band):
    assert cv.convert(oral, "oral", "hydromorphone").band_vs_start == band


@pytest.mark.parametrize("args, words", [
    ((0,), "dose_mg_per_day"), ((-3,), "dose_mg_per_day"), ((math.nan,), "dose_mg_per_day"),
    ((math.inf,), "dose_mg_per_day"), ((1e7,), "unit slip"), ((60, "nasal"), "route"),
    ((60, "oral", "ziconotide"), "target"), ((60, "oral", "heroin"), "target"),
])
def test_conversion_refuses_bad_input_with_the_field_named(args, words):
    with pytest.raises(cv.ConversionError, match=words):
        cv.convert(*args)
