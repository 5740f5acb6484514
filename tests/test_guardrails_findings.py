"""Guardrail findings word for word: for each rule, a case worked out by hand and the whole finding
(severity, drug, message, value, limit, unit, source) it must give, not only its code. The sources
are the library's data texts (pumpmodel/data/*.yaml), quoted here as a trainee reads them."""
import pytest

from helpers import case, drug, run, simple

TITRATION_25 = "assumed training value (+25 % per programming step)"
PRIALT_STEP = "Prialt label: increase by at most 2.4 mcg/day, at most 2-3 times a week"
BACLOFEN_STEP = ("Lioresal / Gablofen labels: increase at most 10-30 % (spinal origin) or 5-15 % (cerebral "
                 "origin) once per 24 h; the stricter 15 % applies when the indication is not given")
ZICO = drug("ziconotide", 25, "mcg/mL")
BACLOFEN = drug("baclofen", 500, "mcg/mL")


def findings(ev, code):
    return [w.model_dump() for w in ev.warnings if w.code == code]


def only(ev, code):
    found = findings(ev, code)
    assert len(found) == 1, [w.code for w in ev.warnings]
    return found[0]


def expect(code, severity, drug_, message, source, value=None, limit=None, unit=None):
    return {"code": code, "severity": severity, "drug": drug_, "message": message, "source": source,
            "value": value if value is None else pytest.approx(value, rel=1e-9), "limit": limit, "unit": unit}


# --- titration step -----------------------------------------------------------------------

def test_titration_percent_rule_word_for_word():
    # morphine 10 mg/mL: 0.3 -> 0.4 mL/day is 3 -> 4 mg/day, +33.33 %; +25 % allows 3 x 1.25 = 3.75
    ev = run(case(simple(0.4), current=simple(0.3)))
    assert only(ev, "TITRATION_STEP_TOO_LARGE") == expect(
        "TITRATION_STEP_TOO_LARGE", "soft", "morphine",
        "morphine rises 33.33 % (3 to 4 mg/day); the rule allows at most +25 %, i.e. 3.75 mg/day.",
        TITRATION_25, 100 / 3, 25.0, "%")


def test_titration_absolute_rule_word_for_word():
    # ziconotide 25 mcg/mL: 0.1 -> 0.3 mL/day is 2.5 -> 7.5 mcg/day, +5 against at most +2.4 per step
    ev = run(case(simple(0.3, ZICO), current=simple(0.1, ZICO)))
    assert only(ev, "TITRATION_STEP_TOO_LARGE") == expect(
        "TITRATION_STEP_TOO_LARGE", "soft", "ziconotide",
        "ziconotide rises by 5 mcg/day (2.5 to 7.5); the rule allows at most +2.4 mcg/day per step.",
        PRIALT_STEP, 5.0, 2.4, "mcg/day")


@pytest.mark.parametrize("indication, new_rate, text, limit", [
    # 500 mcg/mL: 0.4 -> 0.5 mL/day = 200 -> 250 mcg/day (+25 %); no indication: 15 %, 200 x 1.15 = 230
    (None, 0.5, "baclofen rises 25 % (200 to 250 mcg/day); the rule allows at most +15 % (indication not given: "
                "the stricter limit applies), i.e. 230 mcg/day.", 15.0),
    # spinal origin: 30 %, 200 x 1.3 = 260; 0.6 mL/day = 300 mcg/day (+50 %)
    ("spasticity_spinal", 0.6, "baclofen rises 50 % (200 to 300 mcg/day); the rule allows at most +30 % for "
                               "spasticity spinal, i.e. 260 mcg/day.", 30.0),
])
def test_titration_baclofen_rule_by_indication(indication, new_rate, text, limit):
    extra = {} if indication is None else {"indication": indication}
    ev = run(case(simple(new_rate, BACLOFEN), current=simple(0.4, BACLOFEN), **extra))
    got = only(ev, "TITRATION_STEP_TOO_LARGE")
    assert got["message"] == text and got["limit"] == limit and got["source"] == BACLOFEN_STEP


def test_titration_small_doses_and_a_new_drug_listed_first():
    """Morphine 0.05 -> 0.1 mL/day = 0.5 -> 1 mg/day (+100 %, a dose below 1 mg/day is still checked).
    Clonidine is new in the proposal (no current dose): no titration finding for it, and the morphine
    after it is still checked."""
    ev = run(case(simple(0.1, drug("clonidine", 100, "mcg/mL"), drug()), current=simple(0.05)))
    assert only(ev, "TITRATION_STEP_TOO_LARGE")["message"] == (
        "morphine rises 100 % (0.5 to 1 mg/day); the rule allows at most +25 %, i.e. 0.625 mg/day.")


def test_titration_checks_the_next_drug_when_one_is_within_its_rule():
    # baclofen 500 mcg/mL and morphine 10 mg/mL, 0.25 -> 0.32 mL/day: +28 %, within baclofen's 30 % (spinal)
    mix = [B, drug()]
    ev = run(case(simple(0.32, *mix), current=simple(0.25, *mix), indication="spasticity_spinal"))
    assert only(ev, "TITRATION_STEP_TOO_LARGE")["message"] == (
        "morphine rises 28 % (2.5 to 3.2 mg/day); the rule allows at most +25 %, i.e. 3.125 mg/day.")


def test_titration_every_drug_of_an_admixture():
    # morphine 10 mg/mL and clonidine 100 mcg/mL, 0.3 -> 0.4 mL/day: both +33.33 % against +25 %
    mix = [drug(), drug("clonidine", 100, "mcg/mL")]
    ev = run(case(simple(0.4, *mix), current=simple(0.3, *mix)))
    assert [(w["drug"], w["message"]) for w in findings(ev, "TITRATION_STEP_TOO_LARGE")] == [
        ("morphine", "morphine rises 33.33 % (3 to 4 mg/day); the rule allows at most +25 %, i.e. 3.75 mg/day."),
        ("clonidine", "clonidine rises 33.33 % (30 to 40 mcg/day); the rule allows at most +25 %, i.e. 37.5 mcg/day."),
    ]


def week(rates):
    return {"drugs": [ZICO], "mode": "flex",
            "week": {d: [{"start": "00:00", "rate_ml_per_day": r}] for d, r in rates.items()}}


def test_titration_per_weekday_absolute_rule():
    """Current ziconotide 25 mcg/mL per weekday: Mon 0.4 mL (10 mcg), Tue/Wed/Fri 0.1 (2.5), Thu 0.09 (2.25),
    Sat 0.02 (0.5), Sun 0 (nothing). Mean 20.25 / 7 = 2.893 mcg/day; proposed 0.2 mL/day = 5 mcg/day every
    day: +2.107 on the mean (within +2.4), but +2.5 on Tue, Wed, Fri, +2.75 on Thu and +4.5 on Sat.
    The largest rise relative to the day is Saturday (0.5 to 5: +900 %); Sunday had nothing (not a rise
    of a dose), Monday falls."""
    cur = week({"mon": 0.4, "tue": 0.1, "wed": 0.1, "thu": 0.09, "fri": 0.1, "sat": 0.02, "sun": 0.0})
    ev = run(case(simple(0.2, ZICO), current=cur))
    assert only(ev, "TITRATION_STEP_TOO_LARGE") == expect(
        "TITRATION_STEP_TOO_LARGE", "soft", "ziconotide",
        "ziconotide on tue, wed, thu, fri, sat rises more than the rule allows (+2.4 mcg/day) compared with the "
        "same weekday of the current program: sat 0.5 to 5 mcg/day (+900 %), though the mean per day changes less.",
        PRIALT_STEP, 4.5, 2.4, "mcg/day")


def seven_hour_boluses(*drugs):
    """0.07 mL every 7 h from 00:30 (lcm(24 h, 7 h) = a week). Anchored on Saturday 2026-11-21: 4 boluses on
    Sat, Mon, Wed; 3 on Sun, Tue, Thu, Fri (listed in test_evaluate_explanations); mean 24 x 0.07 / 7 = 0.24 mL."""
    return {"drugs": list(drugs), "mode": "periodic_bolus", "rate_ml_per_day": 0.0,
            "boluses": [{"first_at": "00:30", "every_hours": 7, "volume_ml": 0.07, "duration_min": 10}]}


def test_titration_per_weekday_percent_rule():
    # morphine 10 mg/mL: 3-bolus days 2.1 mg, proposed 0.288 mL/day = 2.88 mg: +37.14 % (mean: +20 %)
    ev = run(case(simple(0.288), current=seven_hour_boluses(drug())))
    assert only(ev, "TITRATION_STEP_TOO_LARGE") == expect(
        "TITRATION_STEP_TOO_LARGE", "soft", "morphine",
        "morphine on tue, thu, fri, sun rises more than the rule allows (+25 %) compared with the same weekday of "
        "the current program: tue 2.1 to 2.88 mg/day (+37.14 %), though the mean per day changes less.",
        TITRATION_25, (2.88 / 2.1 - 1) * 100, 25.0, "%")


def test_titration_per_weekday_checks_the_next_drug_when_one_is_within_its_rule():
    """Baclofen 500 mcg/mL and morphine 10 mg/mL on the 7-hour boluses; proposed 0.27 mL/day (+12.5 % on
    the mean): against a 3-bolus day (0.21 mL) that is +28.57 %: within baclofen's 30 % for spinal
    spasticity (listed first), beyond morphine's 25 %."""
    mix = [BACLOFEN, drug()]
    ev = run(case(simple(0.27, *mix), current=seven_hour_boluses(*mix), indication="spasticity_spinal"))
    got = only(ev, "TITRATION_STEP_TOO_LARGE")
    assert got["drug"] == "morphine" and "tue 2.1 to 2.7 mg/day (+28.57 %)" in got["message"]


# --- titration frequency ------------------------------------------------------------------

def history(*entries):
    return [{"at": at, "program": prog} for at, prog in entries]


def z(rate):
    return simple(rate, ZICO)  # ziconotide 25 mcg/mL: 0.04 mL/day = 1 mcg/day


# 0.125, 0.25 (raise), 0 (stopped), 0.5 (a restart from nothing: not a raise), 0.75 (raise), 0.9 (raise)
ZICO_HISTORY = history(("2026-10-01T09:00:00", simple(0.5)),  # morphine only: no ziconotide dose
                       ("2026-11-01T09:00:00", z(0.005)), ("2026-11-15T09:00:00", z(0.01)),
                       ("2026-11-16T09:00:00", z(0.0)), ("2026-11-17T09:00:00", z(0.02)),
                       ("2026-11-18T09:00:00", z(0.03)), ("2026-11-19T09:00:00", z(0.036)))
PRIALT_RAISES = ("Prialt label: titrate by up to 2.4 mcg/day at most 2-3 times a week (the upper figure, 3 in "
                 "any 7 days, is used)")


@pytest.mark.parametrize("current", [z(0.036), None])  # without a current program: the last in the history
def test_titration_too_frequent_word_for_word(current):
    """Now 2026-11-21 09:00, window 168 h: raises on 11-15, 11-18 and 11-19 (the 11-17 restart from 0 is not
    a raise); this raise 0.9 -> 1 mcg/day is the 4th, more than 3."""
    ev = run(case(z(0.04), current=current, history=ZICO_HISTORY))
    assert only(ev, "TITRATION_TOO_FREQUENT") == expect(
        "TITRATION_TOO_FREQUENT", "soft", "ziconotide",
        "ziconotide was already raised 3 time(s) in the last 168 h (2026-11-15 09:00, 2026-11-18 09:00, "
        "2026-11-19 09:00); this raise (0.9 to 1 mcg/day) makes 4, more than the 3 allowed per 168 h.",
        PRIALT_RAISES, 4, 3, "raises")


@pytest.mark.parametrize("current", [simple(0.5), z(0.0)])
def test_titration_frequency_not_a_raise_from_nothing(current):
    # ziconotide new in the pump at 2 mcg/day (current: morphine only, or ziconotide at 0 mL/day): not a raise
    assert findings(run(case(z(0.08), current=current, history=ZICO_HISTORY)), "TITRATION_TOO_FREQUENT") == []


def test_titration_frequency_restart_after_a_program_without_the_drug_is_not_a_raise():
    """2.5 mcg/day (11-15), a morphine-only program (11-16), then 5, 6, 7 mcg/day (11-17, 11-18, 11-19):
    the 11-17 restart is not a raise, so 2 raises + this one (7 -> 8) = 3, within 3 per 168 h."""
    hist = history(("2026-11-15T09:00:00", z(0.1)), ("2026-11-16T09:00:00", simple(0.5)),
                   ("2026-11-17T09:00:00", z(0.2)), ("2026-11-18T09:00:00", z(0.24)), ("2026-11-19T09:00:00", z(0.28)))
    assert findings(run(case(z(0.32), current=z(0.28), history=hist)), "TITRATION_TOO_FREQUENT") == []


def zb(rate, baclofen_conc=500):
    return simple(rate, ZICO, drug("baclofen", baclofen_conc, "mcg/mL"))


@pytest.mark.parametrize("proposed", [
    zb(0.22, 600),  # ziconotide unchanged (not a raise), baclofen 110 -> 132 mcg/day
    zb(0.24),       # both raised: ziconotide twice in 168 h (within 3), baclofen twice in 24 h (more than 1)
])
def test_titration_frequency_checks_every_drug(proposed):
    hist = history(("2026-11-10T09:00:00", zb(0.2)), ("2026-11-21T08:00:00", zb(0.22)))
    got = findings(run(case(proposed, current=zb(0.22), history=hist)), "TITRATION_TOO_FREQUENT")
    assert [w["drug"] for w in got] == ["baclofen"]


def test_titration_frequency_checks_the_drug_after_one_without_a_limit():
    # morphine (no frequency limit) listed before baclofen (once per 24 h): raised at 08:00, again now
    mix = lambda r: simple(r, drug(), BACLOFEN)  # noqa: E731
    ev = run(case(mix(0.24), current=mix(0.22), indication="spasticity_spinal",
                  history=history(("2026-11-10T09:00:00", mix(0.2)), ("2026-11-21T08:00:00", mix(0.22)))))
    assert only(ev, "TITRATION_TOO_FREQUENT")["message"] == (
        "baclofen was already raised 1 time(s) in the last 24 h (2026-11-21 08:00); this raise (110 to 120 "
        "mcg/day) makes 2, more than the 1 allowed per 24 h.")


# --- opioid switch ------------------------------------------------------------------------

M, H = drug(), drug("hydromorphone", 10, "mg/mL")
HYDRO_EQ = ("PACC 2017 (Deer et al., Neuromodulation 20:96-132): intrathecal hydromorphone is about 5 times as "
            "potent as intrathecal morphine")
MORPHINE_EQ = "reference opioid (morphine-equivalent dose = intrathecal morphine mg/day)"
SWITCH = ("PACC 2017 (Deer et al., Neuromodulation 20:96-132): intrathecal hydromorphone about 5 x morphine; a "
          "switch is checked on the morphine-equivalent daily dose against the new opioid's titration rule")


def test_opioid_switch_word_for_word():
    # morphine 5 mg/day -> hydromorphone 5 mg/day x 5 = 25 mg morphine-equivalent: +400 %
    ev = run(case(simple(0.5, H), current=simple(0.5, M)))
    assert only(ev, "OPIOID_SWITCH") == expect(
        "OPIOID_SWITCH", "soft", "hydromorphone",
        "Switching morphine to hydromorphone: the morphine-equivalent dose goes from 5 to 25 mg/day (+400 %; "
        "factors hydromorphone x 5; morphine x 1), more than the 25 % the titration rule allows.",
        f"{SWITCH}; {HYDRO_EQ}; {MORPHINE_EQ}", 400.0, 25.0, "%")


def test_opioid_switch_down_has_no_plus_sign():
    # hydromorphone 1 mg/day (5 mg equivalent) -> morphine 3 mg/day: -40 %
    got = only(run(case(simple(0.3, M), current=simple(0.1, H))), "OPIOID_SWITCH")
    assert got["drug"] == "morphine" and "goes from 5 to 3 mg/day (-40 %; factors" in got["message"]


def test_opioid_added_to_another_is_named_and_summed():
    """Hydromorphone 1 mg/day (5 mg equivalent) -> hydromorphone + morphine 2 mg/day each: 2 x 5 + 2 = 12 mg
    equivalent (+140 %); the new opioid is morphine (the finding names it, not hydromorphone)."""
    got = only(run(case(simple(0.2, H, M), current=simple(0.1, H))), "OPIOID_SWITCH")
    assert got["drug"] == "morphine"
    assert got["message"].startswith("Switching hydromorphone to hydromorphone, morphine: the morphine-equivalent "
                                     "dose goes from 5 to 12 mg/day (+140 %;")


def test_opioid_dropped_from_a_mix():
    # hydromorphone + morphine 2 mg/day each (12 mg equivalent) -> hydromorphone 1 mg/day (5): -58.33 %
    got = only(run(case(simple(0.1, H), current=simple(0.2, H, M))), "OPIOID_SWITCH")
    assert got["drug"] == "hydromorphone" and got["message"].startswith(
        "Switching hydromorphone, morphine to hydromorphone: the morphine-equivalent dose goes from 12 to 5 mg/day "
        "(-58.33 %;")


def test_no_opioid_switch_from_a_stopped_pump():
    # the current program delivers no morphine (stopped): nothing to compare the hydromorphone with
    assert findings(run(case(simple(0.5, H), current={"drugs": [M], "mode": "stopped"})), "OPIOID_SWITCH") == []


# --- abrupt decrease and interruption -----------------------------------------------------

B = BACLOFEN  # 500 mcg/mL


@pytest.mark.parametrize("current, proposed, what, value", [
    # 0.3 -> 0.2 mL/day = 150 -> 100 mcg/day: -33.33 % (more than 20 %)
    (simple(0.3, B), simple(0.2, B), "cuts baclofen by 33.33 % (150 to 100 mcg/day)", 100 / 3),
    # 0.3 -> 0.001 mL/day = 150 -> 0.5 mcg/day: a cut of 99.67 %, not a stop
    (simple(0.3, B), simple(0.001, B), "cuts baclofen by 99.67 % (150 to 0.5 mcg/day)", 99.666666666666667),
    # 0.002 -> 0.001 mL/day = 1 -> 0.5 mcg/day: -50 % (small doses count too)
    (simple(0.002, B), simple(0.001, B), "cuts baclofen by 50 % (1 to 0.5 mcg/day)", 50.0),
    # baclofen left out of the new program: it stops (150 to 0)
    (simple(0.3, B), simple(0.3, M), "stops (150 to 0 mcg/day)", 100.0),
    # morphine (no decrease rule) listed first in the current admixture; baclofen still checked
    (simple(0.3, M, B), simple(0.2, M, B), "cuts baclofen by 33.33 % (150 to 100 mcg/day)", 100 / 3),
])
def test_abrupt_decrease_word_for_word(current, proposed, what, value):
    from pumpmodel import library
    ev = run(case(proposed, current=current, indication="spasticity_spinal"))
    assert only(ev, "ABRUPT_DECREASE") == expect(
        "ABRUPT_DECREASE", "soft", "baclofen",
        f"The new program {what}; more than 20 % at once (assumed training value) risks life-threatening "
        "baclofen withdrawal.", library.drug("baclofen").decrease_source, value, 20.0, "%")


def test_delivery_interruption_word_for_word():
    # baclofen 500 mcg/mL: nothing 00:00-04:00, 0.3 mL/day 04:00-24:00: exactly 4 h without delivery
    from pumpmodel import library
    prog = {"drugs": [B], "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": 0.0},
                                                    {"start": "04:00", "rate_ml_per_day": 0.3}]}
    assert only(run(case(prog)), "DELIVERY_INTERRUPTION") == expect(
        "DELIVERY_INTERRUPTION", "soft", "baclofen",
        "The program delivers nothing for 4 h in a row while the pump holds baclofen: 4 h or more without "
        "delivery risks withdrawal (assumed training value).", library.drug("baclofen").interruption.source,
        4.0, 4.0, "h")


# --- concentration and dose ---------------------------------------------------------------

def lib():
    from pumpmodel import library
    return library


@pytest.mark.parametrize("entry, code, severity, text, value, limit", [
    # 10000 "mg/mL": above the plausible 50; 10000 / 1000 = 10 is a supplied morphine concentration
    (drug("morphine", 10000), "CONCENTRATION_NOT_PLAUSIBLE", "hard",
     "morphine 10000 mg/mL is above the plausible maximum 50 mg/mL (supplied: 10, 25). 10000 is 1000 x the "
     "supplied 10 mg/mL: a mg/mcg mix-up? Check the unit and the vial.", 10000.0, 50.0),
    (drug("morphine", 60), "CONCENTRATION_NOT_PLAUSIBLE", "hard",
     "morphine 60 mg/mL is above the plausible maximum 50 mg/mL (supplied: 10, 25). Check the unit and the vial.",
     60.0, 50.0),
    (drug("clonidine", 2500, "mcg/mL"), "CONCENTRATION_NOT_PLAUSIBLE", "hard",
     "clonidine 2500 mcg/mL is above the plausible maximum 2000 mcg/mL (supplied: none (compounded)). Check the "
     "unit and the vial.", 2500.0, 2000.0),
    (drug("morphine", 30), "CONCENTRATION_ABOVE_RECOMMENDED", "soft",
     "morphine 30 mg/mL is above the recommended maximum 20 mg/mL.", 30.0, 20.0),
])
def test_concentration_limits_word_for_word(entry, code, severity, text, value, limit):
    name = entry["drug"]
    unit = lib().drug(name).concentration_unit
    got = only(run(case(simple(0.01, entry))), code)
    assert got == expect(code, severity, name, text, lib().drug(name).concentration.source, value, limit, unit)


def test_not_supplied_word_for_word_and_silent_above_the_plausible_maximum():
    got = only(run(case(simple(0.1, drug("morphine", 30)))), "CONCENTRATION_NOT_SUPPLIED")
    assert got == expect("CONCENTRATION_NOT_SUPPLIED", "info", "morphine",
                         "morphine 30 mg/mL is not a supplied concentration (10, 25 mg/mL): check the label of the "
                         "syringe.", lib().drug("morphine").concentration.source)
    assert findings(run(case(simple(0.01, drug("morphine", 60)))), "CONCENTRATION_NOT_SUPPLIED") == []


PTM4 = lambda v: {"bolus_volume_ml": v, "lockout_min": 60, "max_per_day": 4}  # noqa: E731  (24 by lockout: 4 allowed)


@pytest.mark.parametrize("prog, code, severity, text, value, limit", [
    # morphine 10 mg/mL: 4.5 mL/day = 45 mg/day
    (simple(4.5), "DOSE_ABOVE_HARD_MAX", "hard", "morphine 45 mg/day is above the hard maximum 40 mg/day.", 45, 40),
    (simple(1.6), "DOSE_ABOVE_RECOMMENDED", "soft", "morphine 16 mg/day is above the recommended maximum 15 mg/day.",
     16, 15),
    # 1.6 + 4 x 0.7 = 4.4 mL/day = 44 mg/day
    (simple(1.6, ptm=PTM4(0.7)), "PTM_ALLOWS_DOSE_ABOVE_HARD_MAX", "hard",
     "With every allowed PTM bolus (4 x 0.7 mL) morphine reaches 44 mg/day, above the hard maximum 40 mg/day "
     "(programmed alone: 16 mg/day): lower the PTM bolus or the number allowed per day.", 44, 40),
    # 1.2 + 4 x 0.1 = 1.6 mL/day = 16 mg/day; programmed alone 12 (within 15)
    (simple(1.2, ptm=PTM4(0.1)), "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED", "soft",
     "With every allowed PTM bolus (4 x 0.1 mL) morphine reaches 16 mg/day, above the recommended maximum 15 mg/day "
     "(programmed alone: 12 mg/day).", 16, 15),
])
def test_dose_limits_word_for_word(prog, code, severity, text, value, limit):
    got = only(run(case(prog)), code)
    assert got == expect(code, severity, "morphine", text, lib().drug("morphine").dose_per_day.source, value,
                         limit, "mg/day")


def test_dose_limits_check_the_next_drug_after_a_hard_one():
    # 4.5 mL/day: morphine 10 mg/mL = 45 mg/day (hard 40), then bupivacaine 3.5 mg/mL = 15.75 mg/day (recommended 15)
    ev = run(case(simple(4.5, drug(), drug("bupivacaine", 3.5))))
    assert [(w["code"], w["drug"]) for w in ev.model_dump()["warnings"] if w["code"].startswith("DOSE_")] == [
        ("DOSE_ABOVE_HARD_MAX", "morphine"), ("DOSE_ABOVE_RECOMMENDED", "bupivacaine")]


def test_dose_above_hard_max_speaks_alone():
    # 4.5 mL/day (45 mg) with PTM: the hard maximum is already passed, no PTM or recommended finding besides
    got = [w.code for w in run(case(simple(4.5, ptm=PTM4(0.1)))).warnings
           if w.code.startswith(("DOSE_", "PTM_ALLOWS_"))]
    assert got == ["DOSE_ABOVE_HARD_MAX"]


PTM_RULE = ("assumed training value: one PTM bolus above 20 % of the programmed daily dose is flagged for review "
            "(PACC 2017 recommends small PTM boluses relative to the basal dose)")


@pytest.mark.parametrize("prog, drug_, share, value", [
    # 0.25 mL against 1.0 mL/day: 25 %; 0.25 x 10 = 2.5 mg per bolus vs 10 mg/day
    (simple(1.0, ptm=PTM4(0.25)), "morphine", "25 % of the programmed daily dose (2.5 mg morphine per bolus vs "
                                              "10 mg/day)", 25.0),
    (simple(0.0, ptm=PTM4(0.25)), "morphine", "with no programmed delivery (2.5 mg morphine per bolus vs 0 mg/day)",
     None),
    # two drugs: no single drug named; clonidine 100 mcg/mL: 25 mcg per bolus vs 100 mcg/day
    (simple(1.0, drug(), drug("clonidine", 100, "mcg/mL"), ptm=PTM4(0.25)), None,
     "25 % of the programmed daily dose (2.5 mg morphine per bolus vs 10 mg/day; 25 mcg clonidine per bolus vs "
     "100 mcg/day)", 25.0),
])
def test_ptm_bolus_large_word_for_word(prog, drug_, share, value):
    got = only(run(case(prog)), "PTM_BOLUS_LARGE")
    assert got == expect("PTM_BOLUS_LARGE", "soft", drug_,
                         f"One PTM bolus of 0.25 mL is {share}; above 20 % is large (assumed training value).",
                         PTM_RULE, value, 20.0, "%")


STEP_RULE = ("ISMP medication safety alert (baclofen flex step entered as 60 mcg per hour instead of per day): a "
             "step's rate held for 24 h is checked against the drug's hard daily maximum")


def test_step_rate_above_dose_limit_word_for_word():
    """Baclofen 500 mcg/mL at 0.1 mL/day with two half-hour steps at 5 and 6 mL/day (2500 and 3000 mcg/day if
    held for 24 h, above the hard 2000); the daily dose stays 0.1 x 23/24 + (5 + 6) x 0.5/24 = 0.325 mL/day."""
    steps = [("00:00", 0.1), ("08:00", 5.0), ("08:30", 0.1), ("20:00", 6.0), ("20:30", 0.1)]
    prog = {"drugs": [B], "mode": "flex", "steps": [{"start": s, "rate_ml_per_day": r} for s, r in steps]}
    got = only(run(case(prog)), "STEP_RATE_ABOVE_DOSE_LIMIT")
    assert got == expect("STEP_RATE_ABOVE_DOSE_LIMIT", "soft", "baclofen",
                         "The step at 08:00, 20:00 runs 6 mL/day: held for 24 h that is 3000 mcg/day of baclofen, "
                         "above the hard maximum 2000 mcg/day. Was a dose per hour entered as per day?",
                         STEP_RULE + "; " + lib().drug("baclofen").dose_per_day.source, 3000.0, 2000.0, "mcg/day")


def morphine_week(mon, others):
    return {"drugs": [drug()], "mode": "flex",
            "week": {d: [{"start": "00:00", "rate_ml_per_day": mon if d == "mon" else others}]
                     for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


@pytest.mark.parametrize("prog, code, text, value, limit", [
    # Monday 4.5 mL (45 mg), other days 1 mL (10 mg): mean (45 + 60) / 7 = 15 (at the recommended maximum)
    (morphine_week(4.5, 1.0), "DAY_DOSE_ABOVE_HARD_MAX",
     "On mon the schedule gives 45 mg/day of morphine, above the hard maximum 40 mg/day (7-day mean 15).", 45, 40),
    # Monday 20 mg, others 10: mean 80 / 7 = 11.4286
    (morphine_week(2.0, 1.0), "DAY_DOSE_ABOVE_RECOMMENDED",
     "On mon the schedule gives 20 mg/day of morphine, above the recommended maximum 15 mg/day (7-day mean "
     "11.4286).", 20, 15),
    # 0.8 mL (8 mg) every 18 h from 06:30 for 60 min: lcm(24 h, 18 h) = 3 days, 4 boluses; from now's day
    # (2026-11-21): 06:30 | 00:30, 18:30 | 12:30: the day after now has two (16 mg), the mean is 32 / 3.
    # (2026-11-21 is day 9,455 after EPOCH, 9,455 mod 3 = 2: the heavy day is not a whole period after EPOCH.)
    ({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.0,
      "boluses": [{"first_at": "06:30", "every_hours": 18, "volume_ml": 0.8, "duration_min": 60}]},
     "DAY_DOSE_ABOVE_RECOMMENDED", "On 2026-11-22 (and every 3 days after) the schedule gives 16 mg/day of "
                                   "morphine, above the recommended maximum 15 mg/day (mean over the 3-day bolus "
                                   "pattern 10.6667).", 16, 15),
])
def test_day_dose_limits_word_for_word(prog, code, text, value, limit):
    got = only(run(case(prog)), code)
    assert got == expect(code, "hard" if "HARD" in code else "soft", "morphine", text,
                         lib().drug("morphine").dose_per_day.source, value, limit, "mg/day")


@pytest.mark.parametrize("prog, screening, text, value, limit", [
    (simple(1.0), None, "Starting morphine at 10 mg/day: the usual start is 0.1-0.5 mg/day.", 10, 0.5),
    (simple(0.2, ZICO), None, "Starting ziconotide at 5 mcg/day: the usual start is up to 2.4 mcg/day.", 5, 2.4),
    # baclofen 500 mcg/mL: 0.4 mL/day = 200 mcg/day; 2 x a 50 mcg screening bolus = 100
    (simple(0.4, B), 50, "Starting baclofen at 200 mcg/day: the usual start is 2 x the effective screening bolus "
                         "50 mcg = 100 mcg/day.", 200, 100),
    (simple(0.5, B), None, "Starting baclofen at 250 mcg/day: the usual start is at most 200 mcg/day (screening "
                           "bolus not given).", 250, 200),
])
def test_start_dose_word_for_word(prog, screening, text, value, limit):
    name = prog["drugs"][0]["drug"]
    d = lib().drug(name)
    extra = {} if screening is None else {"screening_bolus_mcg": screening}
    got = only(run(case(prog, **extra)), "START_DOSE_ABOVE_RECOMMENDED")
    assert got == expect("START_DOSE_ABOVE_RECOMMENDED", "soft", name, text, d.start_dose_per_day.source, value,
                         limit, d.dose_unit)


def test_admixture_word_for_word():
    ev = run(case(simple(0.1, ZICO, drug(), drug("clonidine", 100, "mcg/mL"))))
    assert only(ev, "ADMIXTURE_NOT_RECOMMENDED") == expect(
        "ADMIXTURE_NOT_RECOMMENDED", "soft", "ziconotide",
        "ziconotide is mixed with morphine, clonidine; it should be the only drug in the pump.",
        lib().drug("ziconotide").admixture_source)


@pytest.mark.parametrize("drugs, what, value", [
    ([drug("ziconotide", 10, "mcg/mL")], "10 mcg/mL", 10.0),
    ([ZICO, drug()], "25 mcg/mL in an admixture", 25.0),
    # listed after a drug with no first-fill rule: the rule still reaches ziconotide
    ([drug(), ZICO], "25 mcg/mL in an admixture", 25.0),
])
def test_first_fill_concentration_word_for_word(drugs, what, value):
    ev = run(case(simple(0.05, *drugs), first_fill=True))
    assert only(ev, "FIRST_FILL_CONCENTRATION") == expect(
        "FIRST_FILL_CONCENTRATION", "soft", "ziconotide",
        f"First fill of a new pump with ziconotide {what}: the label allows only undiluted 25 mcg/mL, alone.",
        lib().drug("ziconotide").first_fill.source, value, 25.0, "mcg/mL")


# --- pump and visit -------------------------------------------------------------------------

def pump_source(profile="programmable-20"):
    return lib().profile(profile).source


RANGE = "Pump profile rate range (pumpmodel/data/pumps.yaml)"


@pytest.mark.parametrize("prog, text, value, limit", [
    (simple(30.0), "Rate 30 mL/day is outside the programmable-20 range 0.048 to 24 mL/day (range assumed for "
                   "training).", 30.0, 24.0),
    (simple(0.01), "Rate 0.01 mL/day is outside the programmable-20 range 0.048 to 24 mL/day (range assumed for "
                   "training).", 0.01, 0.048),
    # 0.5 mL in 10 min = 72 mL/day on top of 0.1
    ({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1,
      "boluses": [{"first_at": "06:00", "every_hours": 24, "volume_ml": 0.5, "duration_min": 10}]},
     "Delivery rate during a bolus (background plus bolus) 72.1 mL/day is outside the programmable-20 range 0.048 "
     "to 24 mL/day (range assumed for training).", 72.1, 24.0),
])
def test_rate_out_of_pump_range_word_for_word(prog, text, value, limit):
    got = only(run(case(prog)), "RATE_OUT_OF_PUMP_RANGE")
    assert got == expect("RATE_OUT_OF_PUMP_RANGE", "hard", None, text, RANGE + "; " + pump_source(), value, limit,
                         "mL/day")


@pytest.mark.parametrize("reservoir, added, text, value", [
    (25, None, "reservoir_ml 25 mL is more than the 20 mL reservoir of programmable-20: impossible.", 25),
    (5, 21, "refill.added_ml 21 mL is more than the 20 mL reservoir of programmable-20: impossible.", 21),
])
def test_fill_capacity_word_for_word(reservoir, added, text, value):
    extra = {} if added is None else {"refill": {"withdrawn_ml": reservoir, "added_ml": added}}
    got = only(run(case(simple(0.5), reservoir=reservoir, **extra)), "FILL_EXCEEDS_CAPACITY")
    assert got == expect("FILL_EXCEEDS_CAPACITY", "hard", None, text, pump_source(), value, 20, "mL")


@pytest.mark.parametrize("prog, asked, value", [
    (simple(0.5, ptm=PTM4(0.1)), "a rate of 0.5 mL/day and patient boluses (PTM)", 0.5),
    ({"drugs": [drug()], "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": 1.0}]},
     "flex programming", None),
    ({"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 1.0,
      "boluses": [{"first_at": "06:00", "every_hours": 24, "volume_ml": 0.1, "duration_min": 60}]},
     "periodic bolus programming", 1.0),
])
def test_fixed_rate_pump_word_for_word(prog, asked, value):
    got = only(run(case(prog, profile="constant-flow-30")), "FIXED_RATE_PUMP")
    assert got == expect("FIXED_RATE_PUMP", "hard", None,
                         f"constant-flow-30 delivers a fixed 1 mL/day and cannot be programmed ({asked} requested): "
                         "change the dose by changing the concentration at the next refill.",
                         pump_source("constant-flow-30"), value, 1.0, "mL/day")


def test_mode_not_supported_word_for_word():
    ev = run(case(morphine_week(1.0, 0.5), profile="valve-gated-20"))
    assert only(ev, "MODE_NOT_SUPPORTED") == expect(
        "MODE_NOT_SUPPORTED", "hard", None, "valve-gated-20 does not offer weekday flex programming.",
        pump_source("valve-gated-20"))


def test_battery_word_for_word():
    d = case(simple(0.5), appointment="2027-02-01T09:00:00")
    d["pump"]["end_of_service_at"] = "2027-01-01T09:00:00"
    assert only(run(d), "BATTERY_END_OF_SERVICE_BEFORE_APPOINTMENT") == expect(
        "BATTERY_END_OF_SERVICE_BEFORE_APPOINTMENT", "soft", None,
        "The battery reaches end of service on 2027-01-01 09:00, before the next appointment on 2027-02-01 09:00: "
        "plan pump replacement.", lib().pump_defaults().eri_source)


LRA_LOW = ("Medtronic HCP pages / Prometra II labelling: the low-reservoir alarm is set at the profile's default "
           "(2 mL; 3 mL valve-gated); a lower alarm warns later or not at all")
LRA_DEFAULT = "Medtronic HCP pages: low-reservoir alarm recommended at 2 mL"


@pytest.mark.parametrize("set_ml, tail", [(1.0, ""), (0.0, " An alarm at 0 mL never warns.")])
def test_low_reservoir_alarm_low_word_for_word(set_ml, tail):
    d = case(simple(0.5))
    d["pump"]["low_reservoir_alarm_ml"] = set_ml
    assert only(run(d), "LOW_RESERVOIR_ALARM_LOW") == expect(
        "LOW_RESERVOIR_ALARM_LOW", "soft", None,
        f"The low-reservoir alarm is set at {set_ml:g} mL, below the 2 mL default of programmable-20: it warns "
        f"later, with less time to refill.{tail}", f"{LRA_LOW}; {LRA_DEFAULT}", set_ml, 2.0, "mL")


def test_refill_drug_mismatch_word_for_word():
    refill = {"withdrawn_ml": 5, "added_ml": 18, "drugs": [drug("morphine", 25)]}
    ev = run(case(simple(0.5, drug(), drug("clonidine", 100, "mcg/mL")), reservoir=5, refill=refill))
    assert only(ev, "REFILL_DRUG_MISMATCH") == expect(
        "REFILL_DRUG_MISMATCH", "hard", None,
        "The reservoir does not hold what the program is for: clonidine is programmed but was not put in; morphine "
        "25 mg/mL was put in, the program says 10 mg/mL. Every dose figure would be wrong: correct the program or "
        "the refill.", lib().rules().refill_drug_mismatch.source)
    extra = {"withdrawn_ml": 5, "added_ml": 18, "drugs": [drug(), drug("bupivacaine", 20)]}
    got = only(run(case(simple(0.5), reservoir=5, refill=extra)), "REFILL_DRUG_MISMATCH")
    assert got["message"].startswith("The reservoir does not hold what the program is for: bupivacaine was put in "
                                     "but is not programmed. Every")


@pytest.mark.parametrize("prog, lead", [
    # 16 mL to the alarm at 1 mL/day: 2026-12-07 09:00, 3 days before the appointment
    (simple(1.0), "The reservoir reaches the 2 mL low-reservoir alarm on 2026-12-07 09:00"),
    # with PTM 0.25 x 4 = 2 mL/day worst case: 8 days, 2026-11-29 09:00 (11 days early)
    (simple(1.0, ptm=PTM4(0.25)), "With every allowed PTM bolus the reservoir reaches the 2 mL low-reservoir alarm "
                                  "on 2026-11-29 09:00"),
])
def test_alarm_before_appointment_word_for_word(prog, lead):
    ev = run(case(prog, appointment="2026-12-10T09:00:00"))
    days = "3" if "PTM" not in lead else "11"
    assert only(ev, "RESERVOIR_ALARM_BEFORE_APPOINTMENT") == expect(
        "RESERVOIR_ALARM_BEFORE_APPOINTMENT", "soft", None,
        f"{lead}, before the next appointment on 2026-12-10 09:00 ({days} days early).", LRA_DEFAULT)


def test_reservoir_already_low_and_empty_before_appointment_word_for_word():
    # 1.5 mL at 1 mL/day: at the alarm now (2 days before 11-23 09:00), empty after 1.5 days: 11-22 21:00
    ev = run(case(simple(1.0), reservoir=1.5, appointment="2026-11-23T09:00:00"))
    assert only(ev, "RESERVOIR_ALARM_BEFORE_APPOINTMENT")["message"] == (
        "The reservoir (1.5 mL) is already at or below the 2 mL alarm, before the next appointment on 2026-11-23 "
        "09:00 (2 days early).")
    assert only(ev, "RESERVOIR_EMPTY_BEFORE_APPOINTMENT") == expect(
        "RESERVOIR_EMPTY_BEFORE_APPOINTMENT", "soft", None,
        "The reservoir empties on 2026-11-22 21:00, before the next appointment on 2026-11-23 09:00: therapy would "
        "stop.", lib().pump_defaults().empty_reservoir_source)


def test_appointment_in_past_word_for_word():
    assert only(run(case(simple(0.5), appointment="2026-11-21T09:00:00")), "APPOINTMENT_IN_PAST") == expect(
        "APPOINTMENT_IN_PAST", "soft", None,
        "The next appointment 2026-11-21 09:00 is not after now (2026-11-21 09:00): the reservoir and stability "
        "checks against it say nothing. Enter the real next appointment.", lib().rules().appointment_in_past.source)


def test_stability_window_word_for_word():
    ev = run(case(simple(0.1, ZICO), reservoir=5, refill={"withdrawn_ml": 5, "added_ml": 18},
                  appointment="2027-03-01T09:00:00"))
    assert only(ev, "STABILITY_WINDOW_EXCEEDED") == expect(
        "STABILITY_WINDOW_EXCEEDED", "soft", "ziconotide",
        "The next appointment 2027-03-01 09:00 is after the end of the stability window (84 days, until 2027-02-13 "
        "09:00): refill by then.", lib().drug("ziconotide").stability.source, 84.0, None, "days")


def test_refill_discrepancy_word_for_word():
    ev = run(case(simple(0.5), reservoir=5, refill={"withdrawn_ml": 6.5, "added_ml": 18}))
    assert only(ev, "REFILL_DISCREPANCY") == expect(
        "REFILL_DISCREPANCY", "soft", None,
        "Withdrawn 6.5 mL but 5 mL expected: 1.5 mL more than expected, above the 1 mL tolerance for a 20 mL pump. "
        "Possible pocket fill or pump malfunction: investigate before refilling.",
        lib().pump_defaults().refill_discrepancy_source, 1.5, 1.0, "mL")


# --- bridge ---------------------------------------------------------------------------------

BRIDGE = ("Prometra II labelling / SynchroMed II HCP pages: after a drug or concentration change the dead space "
          "(catheter and tubing) still holds the old solution, delivered at the new rate until it clears")


@pytest.mark.parametrize("current, proposed, severity, body, value, limit", [
    # old 10 mg/mL at the new 4.5 mL/day: 45 mg/day (hard 40; current 5 mg/day: +800 %); 0.25 / 4.5 x 24 h
    (simple(0.5), simple(4.5, drug("morphine", 25)), "hard",
     "morphine 10 mg/mL runs at the new rate: 4.5 mL/day x 10 = 45 mg/day for about 1.333 h, above the hard "
     "maximum 40 mg/day and a rise over the current 5 mg/day beyond the titration rule (+25 %)", 45.0, 40.0),
    # 1.6 x 10 = 16 (recommended 15); 0.25 / 1.6 x 24 = 3.75 h
    (simple(0.5), simple(1.6, drug("morphine", 25)), "soft",
     "morphine 10 mg/mL runs at the new rate: 1.6 mL/day x 10 = 16 mg/day for about 3.75 h, above the recommended "
     "maximum 15 mg/day and a rise over the current 5 mg/day beyond the titration rule (+25 %)", 16.0, 15.0),
    # 0.6 x 10 = 6 against the current 4: +50 %, the limit is 4 x 1.25 = 5; 0.25 / 0.6 x 24 = 10 h
    (simple(0.4), simple(0.6, drug("morphine", 25)), "soft",
     "morphine 10 mg/mL runs at the new rate: 0.6 mL/day x 10 = 6 mg/day for about 10 h, a rise over the current "
     "4 mg/day beyond the titration rule (+25 %)", 6.0, 5.0),
    # ziconotide 25 -> 100 mcg/mL at 0.3 mL/day: 0.3 x 25 = 7.5 against 2.5 (+2.4 at most: 4.9)
    (simple(0.1, ZICO), simple(0.3, drug("ziconotide", 100, "mcg/mL")), "soft",
     "ziconotide 25 mcg/mL runs at the new rate: 0.3 mL/day x 25 = 7.5 mcg/day for about 20 h, a rise over the "
     "current 2.5 mcg/day beyond the titration rule (+2.4 mcg/day)", 7.5, 4.9),
    # baclofen 500 -> 2000 mcg/mL at 0.1 mL/day: 50 mcg/day against 200 (floor 200 x 0.8 = 160); 60 h
    (simple(0.4, B), simple(0.1, drug("baclofen", 2000, "mcg/mL")), "soft",
     "baclofen 500 mcg/mL runs at the new rate: 0.1 mL/day x 500 = 50 mcg/day for about 60 h, more than 20 % below "
     "the current 200 mcg/day (withdrawal risk)", 50.0, 160.0),
    # stopped: nothing delivered, the dead space never clears
    (simple(0.4, B), {"drugs": [drug("baclofen", 2000, "mcg/mL")], "mode": "stopped"}, "soft",
     "baclofen 500 mcg/mL runs at the new rate: 0 mL/day x 500 = 0 mcg/day until it clears, more than 20 % below "
     "the current 200 mcg/day (withdrawal risk)", 0.0, 160.0),
])
def test_bridge_transient_dose_word_for_word(current, proposed, severity, body, value, limit):
    name = current["drugs"][0]["drug"]
    d = lib().drug(name)
    got = only(run(case(proposed, current=current, indication="spasticity_spinal")), "BRIDGE_TRANSIENT_DOSE")
    assert got == expect("BRIDGE_TRANSIENT_DOSE", severity, name,
                         f"Until the 0.25 mL dead space clears the old {body}. Give the bridge bolus or adjust the rate.",
                         f"{BRIDGE}; {d.dose_per_day.source}", value, limit, d.dose_unit)


@pytest.mark.parametrize("proposed, clears, runs", [
    (simple(0.5, drug("morphine", 25)), "needs 12 h to clear", "0.5 mL/day x 10 mg/mL = 5 mg/day of morphine"),
    ({"drugs": [drug("morphine", 25)], "mode": "stopped"}, "never clears (nothing is delivered)",
     "0 mL/day x 10 mg/mL = 0 mg/day of morphine"),
])
def test_bridge_bolus_word_for_word(proposed, clears, runs):
    ev = run(case(proposed, current=simple(0.5)))
    assert only(ev, "BRIDGE_BOLUS_REQUIRED") == expect(
        "BRIDGE_BOLUS_REQUIRED", "info", None,
        f"The drug or concentration changes: 0.25 mL of the old solution fills the tubing and catheter. Without a "
        f"bridge bolus it {clears}, and until then the old solution runs at the new rate: {runs} (current dose 5).",
        lib().pump_defaults().catheter_volume_source, 0.25, None, "mL")


def _bridge(current, proposed):
    return findings(run(case(proposed, current=current, indication="spasticity_spinal")), "BRIDGE_TRANSIENT_DOSE")


def test_bridge_from_a_stopped_pump_is_no_rise_over_a_current_dose_of_zero():
    # current morphine 10 mg/mL stopped: current dose 0 mg/day. The old solution at the new 0.5 mL/day
    # is 5 mg/day, under the recommended maximum; a "rise over 0" has no titration limit to break
    assert _bridge({"drugs": [drug()], "mode": "stopped"}, simple(0.5, drug("morphine", 25))) == []


def test_bridge_rise_over_a_current_dose_below_one_unit_a_day():
    # current 0.05 mL/day x 10 mg/mL = 0.5 mg/day; old solution at the new 0.1 mL/day: 1 mg/day, +100 %
    # against morphine's +25 % (limit 0.5 x 1.25 = 0.625); 0.25 mL / 0.1 mL/day x 24 h = 60 h
    [got] = _bridge(simple(0.05), simple(0.1, drug("morphine", 25)))
    assert got["message"] == ("Until the 0.25 mL dead space clears the old morphine 10 mg/mL runs at the new rate: "
                              "0.1 mL/day x 10 = 1 mg/day for about 60 h, a rise over the current 0.5 mg/day beyond "
                              "the titration rule (+25 %). Give the bridge bolus or adjust the rate.")
    assert (got["severity"], got["value"], got["limit"]) == ("soft", pytest.approx(1.0), pytest.approx(0.625))


def test_bridge_fall_under_a_current_dose_below_one_unit_a_day():
    # baclofen 2 mcg/mL at 0.4 mL/day = 0.8 mcg/day; new 8 mcg/mL at 0.1 mL/day: old solution 0.1 x 2 = 0.2
    # mcg/day, 75 % below the current 0.8 (baclofen allows 20 %: floor 0.8 x 0.8 = 0.64); 0.25 / 0.1 x 24 = 60 h
    [got] = _bridge(simple(0.4, drug("baclofen", 2, "mcg/mL")), simple(0.1, drug("baclofen", 8, "mcg/mL")))
    assert got["message"].endswith("0.1 mL/day x 2 = 0.2 mcg/day for about 60 h, more than 20 % below the current "
                                   "0.8 mcg/day (withdrawal risk). Give the bridge bolus or adjust the rate.")
    assert (got["severity"], got["value"], got["limit"]) == ("soft", pytest.approx(0.2), pytest.approx(0.64))


def test_bridge_fall_from_above_the_maximum_reports_the_maximum_as_its_limit():
    # current baclofen 2000 mcg/mL at 0.9 mL/day = 1800 mcg/day (above the recommended maximum, below the hard);
    # new 1000 mcg/mL at 0.7 mL/day: old solution 0.7 x 2000 = 1400 mcg/day: still above the recommended
    # maximum, and 22 % below 1800 (floor 1440). Both reasons; the limit shown is the maximum it is above
    lim = lib().drug("baclofen").dose_per_day
    assert lim.soft_max < 1400 < lim.hard_max
    [got] = _bridge(simple(0.9, drug("baclofen", 2000, "mcg/mL")), simple(0.7, drug("baclofen", 1000, "mcg/mL")))
    assert f"above the recommended maximum {lim.soft_max:g} mcg/day and more than 20 % below the current " \
           "1800 mcg/day (withdrawal risk)" in got["message"]
    assert (got["severity"], got["value"], got["limit"]) == ("soft", pytest.approx(1400), lim.soft_max)


# --- second round: survivors of the first full run ------------------------------------------

def test_start_dose_for_a_drug_new_to_the_pump_and_the_next_one_after_a_usual_start():
    # current morphine only; clonidine 500 mcg/mL is new: 0.5 x 500 = 250 mcg/day, usual start 20-100
    ev = run(case(simple(0.5, drug(), drug("clonidine", 500, "mcg/mL")), current=simple(0.5)))
    assert [w["drug"] for w in findings(ev, "START_DOSE_ABOVE_RECOMMENDED")] == ["clonidine"]
    # first programming: morphine 0.05 x 10 = 0.5 mg/day (the top of 0.1-0.5: usual), then ziconotide
    # 100 mcg/mL: 5 mcg/day, above 2.4
    ev = run(case(simple(0.05, drug(), drug("ziconotide", 100, "mcg/mL"))))
    assert [w["drug"] for w in findings(ev, "START_DOSE_ABOVE_RECOMMENDED")] == ["ziconotide"]


@pytest.mark.parametrize("prog, fires", [
    (simple(1.0, ptm={"bolus_volume_ml": 0.3, "lockout_min": 60, "max_per_day": 1}), True),   # one a day: 30 %
    (simple(1.0, ptm={"bolus_volume_ml": 0.3, "lockout_min": 60, "max_per_day": 0}), False),  # none allowed
    (simple(0.0, ptm={"bolus_volume_ml": 0.0, "lockout_min": 60, "max_per_day": 4}), False),  # a 0 mL bolus
    ({"drugs": [drug()], "mode": "stopped", "ptm": PTM4(0.25)}, False),                       # a stopped pump
])
def test_ptm_bolus_large_only_for_a_bolus_that_can_be_given(prog, fires):
    assert bool(findings(run(case(prog)), "PTM_BOLUS_LARGE")) is fires


def test_ptm_bolus_share_has_four_figures():
    # 0.1 mL against 0.3 mL/day: 33.33 %; 1 mg morphine per bolus vs 3 mg/day
    got = only(run(case(simple(0.3, ptm=PTM4(0.1)))), "PTM_BOLUS_LARGE")
    assert got["message"].startswith("One PTM bolus of 0.1 mL is 33.33 % of the programmed daily dose (1 mg morphine "
                                     "per bolus vs 3 mg/day)")


def two_drug_flex(base, first):
    steps = [("00:00", base), ("08:00", 5.0), ("08:30", base)]
    return {"drugs": [first, drug()], "mode": "flex",
            "steps": [{"start": s, "rate_ml_per_day": r} for s, r in steps]}


@pytest.mark.parametrize("prog", [
    # clonidine 100 mcg/mL first: its 5 mL/day step is 500 mcg/day (within 1000): morphine after it still checked
    two_drug_flex(0.1, drug("clonidine", 100, "mcg/mL")),
    # clonidine 2000 mcg/mL at 0.6 mL/day (+ the step): 0.6917 mL/day x 2000 = 1383 mcg/day, above the hard 1000
    # itself (the step finding is silent for it); morphine after it still checked
    two_drug_flex(0.6, drug("clonidine", 2000, "mcg/mL")),
])
def test_step_rate_checks_every_drug(prog):
    got = only(run(case(prog)), "STEP_RATE_ABOVE_DOSE_LIMIT")
    assert got["drug"] == "morphine" and got["message"].startswith(
        "The step at 08:00 runs 5 mL/day: held for 24 h that is 50 mg/day of morphine, above the hard maximum")


def test_step_rate_names_the_weekday():
    week = {d: [{"start": "00:00", "rate_ml_per_day": 0.1}] for d in ("tue", "wed", "thu", "fri", "sat", "sun")}
    week["mon"] = [{"start": "00:00", "rate_ml_per_day": 0.1}, {"start": "08:00", "rate_ml_per_day": 5.0},
                   {"start": "08:30", "rate_ml_per_day": 0.1}]
    got = only(run(case({"drugs": [drug()], "mode": "flex", "week": week})), "STEP_RATE_ABOVE_DOSE_LIMIT")
    assert got["message"].startswith("The step at mon 08:00 runs 5 mL/day: held for 24 h that is 50 mg/day")


def test_a_profile_without_a_mode_or_ptm_and_with_a_labelled_range(monkeypatch):
    """The shipped programmable profiles offer every mode and PTM and have an assumed maximum rate; a profile
    added as data may not: programmable-20 here offers no periodic bolus and no PTM, and its range is labelled."""
    from pumpmodel import library
    real = library.profile
    spec = real("programmable-20").model_copy(update={
        "modes": ["simple_continuous", "flex", "stopped"], "ptm": False, "max_rate_assumed": False})
    monkeypatch.setattr(library, "profile", lambda name: spec if name == "programmable-20" else real(name))
    prog = {"drugs": [drug()], "mode": "periodic_bolus", "rate_ml_per_day": 0.1, "ptm": PTM4(0.01),
            "boluses": [{"first_at": "06:00", "every_hours": 24, "volume_ml": 0.01, "duration_min": 60}]}
    assert findings(run(case(prog)), "MODE_NOT_SUPPORTED") == [
        expect("MODE_NOT_SUPPORTED", "hard", None, "programmable-20 does not offer periodic bolus programming.",
               spec.source),
        expect("MODE_NOT_SUPPORTED", "hard", None, "programmable-20 has no patient bolus (PTM).", spec.source)]
    assert only(run(case(simple(30.0))), "RATE_OUT_OF_PUMP_RANGE")["message"] == (
        "Rate 30 mL/day is outside the programmable-20 range 0.048 to 24 mL/day.")


@pytest.mark.parametrize("prog, what, value", [
    # nothing 00:00-04:07, then 0.3 mL/day: 4 h 7 min = 4.117 h (four figures)
    ({"drugs": [B], "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": 0.0},
                                              {"start": "04:07", "rate_ml_per_day": 0.3}]},
     "delivers nothing for 4.117 h in a row", 4 + 7 / 60),
    ({"drugs": [B], "mode": "stopped"}, "delivers nothing at all", None),
])
def test_delivery_interruption_figures_and_a_stopped_pump(prog, what, value):
    got = only(run(case(prog)), "DELIVERY_INTERRUPTION")
    assert got["message"].startswith(f"The program {what} while the pump holds baclofen:")
    assert got["value"] == (None if value is None else pytest.approx(value, rel=1e-9))


def test_bridge_bolus_hours_and_every_old_drug():
    # 0.25 mL at 0.7 mL/day clears in 0.25 / 0.7 x 24 = 8.571 h; both old drugs run at the new rate
    mix = lambda conc: simple(0.7, drug("morphine", conc), drug("clonidine", 100, "mcg/mL"))  # noqa: E731
    got = only(run(case(mix(25), current=mix(10))), "BRIDGE_BOLUS_REQUIRED")
    assert "it needs 8.571 h to clear" in got["message"]
    assert got["message"].endswith(
        "runs at the new rate: 0.7 mL/day x 10 mg/mL = 7 mg/day of morphine (current dose 7); 0.7 mL/day x 100 "
        "mcg/mL = 70 mcg/day of clonidine (current dose 70).")


def test_bridge_transient_dose_checks_the_next_old_drug():
    # baclofen 500 mcg/mL and morphine 10 -> 25 mg/mL, 0.5 -> 0.64 mL/day: until cleared +28 % for both;
    # within baclofen's 30 % (spinal), beyond morphine's 25 %
    cur = simple(0.5, B, drug())
    got = findings(run(case(simple(0.64, B, drug("morphine", 25)), current=cur, indication="spasticity_spinal")),
                   "BRIDGE_TRANSIENT_DOSE")
    assert [w["drug"] for w in got] == ["morphine"]


def test_days_early_has_three_figures():
    # alarm 2026-12-07 09:00 (16 mL at 1 mL/day), appointment 2026-12-10 13:00: 3 days 4 h = 3.17 days early
    got = only(run(case(simple(1.0), appointment="2026-12-10T13:00:00")), "RESERVOIR_ALARM_BEFORE_APPOINTMENT")
    assert got["message"].endswith("(3.17 days early).")
