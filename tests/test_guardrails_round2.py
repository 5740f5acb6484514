"""The guardrails added in round 2 (spec: the last rows of the codes table), each on both
sides of its boundary with hand-computed numbers, and the impossible cases that are rejected."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pumpmodel import Case
from helpers import case, codes, drug, run, simple

ROOT = Path(__file__).resolve().parents[1]
M = drug("morphine", 10, "mg/mL")
B = drug("baclofen", 2000, "mcg/mL")
B500 = drug("baclofen", 500, "mcg/mL")
H = drug("hydromorphone", 10, "mg/mL")
Z25 = drug("ziconotide", 25, "mcg/mL")


def ptm(vol, lockout=60, per_day=4):
    return {"bolus_volume_ml": vol, "lockout_min": lockout, "max_per_day": per_day}


def flex(d, *steps):
    return {"drugs": [d], "mode": "flex", "steps": [{"start": s, "rate_ml_per_day": r} for s, r in steps]}


def findings(d, code):
    return [w for w in run(d).warnings if w.code == code]


# -- every example file under examples/codes triggers its code, through the CLI -------------

EXAMPLES = sorted((ROOT / "examples/codes").glob("*.json"))


def test_every_code_example_triggers_its_code_on_the_command_line():
    assert len(EXAMPLES) >= 11
    for f in EXAMPLES:
        r = subprocess.run([sys.executable, "-m", "pumpmodel", "evaluate", str(f)], capture_output=True, text=True,
                           cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f.stem in [w["code"] for w in json.loads(r.stdout)["warnings"]], f.name


# -- PTM -------------------------------------------------------------------------------------

def test_ptm_allows_dose_above_hard_max_boundary():
    # 1.4 mL/day x 10 mg/mL = 14 mg (under 15); 4 boluses of 0.65 mL: +26 mg = 40 mg: at the hard max
    at = case(simple(1.4, M, ptm=ptm(0.65)), current=simple(1.4, M))
    assert "PTM_ALLOWS_DOSE_ABOVE_HARD_MAX" not in codes(at)
    assert "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED" in codes(at)  # 40 > 15: the soft one speaks
    over = case(simple(1.4, M, ptm=ptm(0.66)), current=simple(1.4, M))  # 40.4 mg
    f = findings(over, "PTM_ALLOWS_DOSE_ABOVE_HARD_MAX")
    assert len(f) == 1 and f[0].severity == "hard" and f[0].value == pytest.approx(40.4) and f[0].limit == 40
    assert "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED" not in codes(over)  # one finding per limit
    assert run(over).blocked


def test_dose_above_recommended_and_ptm_above_hard_are_both_reported():
    # 1.6 mL/day = 16 mg (above 15) and 4 x 0.65 mL -> 42 mg (above 40)
    c = codes(case(simple(1.6, M, ptm=ptm(0.65)), current=simple(1.6, M)))
    assert "DOSE_ABOVE_RECOMMENDED" in c and "PTM_ALLOWS_DOSE_ABOVE_HARD_MAX" in c


def test_ptm_bolus_large_boundary():
    # 0.1 mL of 0.5 mL/day = 20 %: allowed; 0.1001 mL = 20.02 %: large
    assert "PTM_BOLUS_LARGE" not in codes(case(simple(0.5, M, ptm=ptm(0.1, 240, 2)), current=simple(0.5, M)))
    f = findings(case(simple(0.5, M, ptm=ptm(0.1001, 240, 2)), current=simple(0.5, M)), "PTM_BOLUS_LARGE")
    assert len(f) == 1 and f[0].value == pytest.approx(20.02) and f[0].limit == 20 and "assumed" in f[0].message
    assert "1.001 mg morphine per bolus" in f[0].message


def test_ptm_bolus_with_nothing_programmed_is_large():
    assert "PTM_BOLUS_LARGE" in codes(case(simple(0.0, M, ptm=ptm(0.05)), current=simple(0.0, M)))


# -- flex step rate: the per-hour vs per-day slip ----------------------------------------------

def test_step_rate_above_dose_limit_boundary():
    # baclofen 2000 mcg/mL: a step at 1.0 mL/day held 24 h = 2000 mcg (the hard max): allowed
    ok = case(flex(B, ("00:00", 0.2), ("08:00", 1.0), ("09:00", 0.2)), current=simple(0.24, B),
              indication="spasticity_spinal")
    assert "STEP_RATE_ABOVE_DOSE_LIMIT" not in codes(ok)
    bad = case(flex(B, ("00:00", 0.2), ("08:00", 1.001), ("09:00", 0.2)), current=simple(0.24, B),
               indication="spasticity_spinal")
    f = findings(bad, "STEP_RATE_ABOVE_DOSE_LIMIT")
    assert len(f) == 1 and f[0].value == pytest.approx(2002) and f[0].severity == "soft" and "08:00" in f[0].message
    assert "ISMP" in f[0].source


# -- interruption --------------------------------------------------------------------------------

@pytest.mark.parametrize("steps,fires", [
    ([("00:00", 0.0), ("04:00", 0.36)], True),  # exactly 4 h: "4 h or more"
    ([("00:00", 0.0), ("03:59", 0.36)], False),
    ([("00:00", 0.0), ("02:00", 0.36), ("22:00", 0.0)], True),  # 22:00 to 02:00 across midnight
    ([("00:00", 0.0), ("02:00", 0.36), ("22:01", 0.0)], False),
])
def test_delivery_interruption_boundary(steps, fires):
    c = case(flex(B, *steps), current=simple(0.3, B), indication="spasticity_spinal")
    assert ("DELIVERY_INTERRUPTION" in codes(c)) is fires


def test_interruption_only_for_withdrawal_drugs():
    assert "DELIVERY_INTERRUPTION" not in codes(case(flex(M, ("00:00", 0.0), ("06:00", 0.3)), current=simple(0.2, M)))
    clon = drug("clonidine", 500, "mcg/mL")
    assert "DELIVERY_INTERRUPTION" in codes(case(flex(clon, ("00:00", 0.0), ("06:00", 0.3)),
                                                current=simple(0.2, clon)))


# -- titration frequency -------------------------------------------------------------------------

def _history(*entries):
    return [{"at": at, "program": prog} for at, prog in entries]


@pytest.mark.parametrize("raised_at,fires", [("2026-11-20T09:01:00", True),  # 23 h 59 min ago
                                             ("2026-11-20T09:00:00", False)])  # 24 h ago: outside
def test_baclofen_raised_more_than_once_in_24_h(raised_at, fires):
    d = case(simple(0.24, B), current=simple(0.22, B), indication="spasticity_spinal",
             history=_history(("2026-11-10T09:00:00", simple(0.2, B)), (raised_at, simple(0.22, B))))
    assert ("TITRATION_TOO_FREQUENT" in codes(d)) is fires


def test_titration_frequency_needs_a_raise_and_history():
    hist = _history(("2026-11-10T09:00:00", simple(0.2, B)), ("2026-11-21T08:00:00", simple(0.22, B)))
    same = case(simple(0.22, B), current=simple(0.22, B), indication="spasticity_spinal", history=hist)
    assert "TITRATION_TOO_FREQUENT" not in codes(same)  # not a raise
    no_hist = case(simple(0.24, B), current=simple(0.22, B), indication="spasticity_spinal")
    assert "TITRATION_TOO_FREQUENT" not in codes(no_hist)  # silent without history


def test_ziconotide_raised_more_than_three_times_in_7_days():
    z = lambda r: simple(r, Z25)  # 25 mcg/mL: 0.048 mL/day = 1.2 mcg
    raises = [("2026-11-01T09:00:00", z(0.048)), ("2026-11-15T09:00:00", z(0.096)),
              ("2026-11-17T09:00:00", z(0.144)), ("2026-11-19T09:00:00", z(0.192))]
    d = case(z(0.24), current=z(0.192), history=_history(*raises))  # 3 raises in 7 days + this one = 4
    f = findings(d, "TITRATION_TOO_FREQUENT")
    assert len(f) == 1 and f[0].value == 4 and f[0].limit == 3
    raises[1] = ("2026-11-14T09:00:00", z(0.096))  # exactly 7 days before now: outside the window
    assert "TITRATION_TOO_FREQUENT" not in codes(case(z(0.24), current=z(0.192), history=_history(*raises)))


# -- opioid switch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("hydro_rate,fires", [(0.125, False), (0.126, True)])
def test_opioid_switch_up_boundary(hydro_rate, fires):
    # morphine 5 mg/day -> hydromorphone 1.25 mg x 5 = 6.25 mg morphine-equivalent: +25 % (allowed)
    c = codes(case(simple(hydro_rate, H), current=simple(0.5, M)))
    assert ("OPIOID_SWITCH" in c) is fires


@pytest.mark.parametrize("morph_rate,fires", [(0.375, False), (0.37, True)])
def test_opioid_switch_down_boundary(morph_rate, fires):
    # hydromorphone 1 mg/day = 5 mg morphine-equivalent -> morphine 3.75 mg: -25 % (allowed); 3.7 mg: -26 %
    assert ("OPIOID_SWITCH" in codes(case(simple(morph_rate, M), current=simple(0.1, H)))) is fires


def test_same_mg_switch_is_a_fivefold_change():
    f = findings(case(simple(0.5, H), current=simple(0.5, M)), "OPIOID_SWITCH")
    assert len(f) == 1 and f[0].value == pytest.approx(400) and "5 to 25 mg/day" in f[0].message


# -- bridge ------------------------------------------------------------------------------------------

def test_bridge_message_says_the_old_solution_runs_at_the_new_rate():
    f = findings(case(simple(0.1, B), current=simple(0.4, B500)), "BRIDGE_BOLUS_REQUIRED")
    assert "0.1 mL/day x 500 mcg/mL = 50 mcg/day of baclofen" in f[0].message
    assert "old dose" not in f[0].message


@pytest.mark.parametrize("rate,fires", [(0.32, False), (0.3198, True)])
def test_bridge_transient_baclofen_drop(rate, fires):
    # current 0.4 mL/day x 500 = 200 mcg; until cleared rate x 500: 0.32 -> 160 (-20 %), 0.3198 -> 159.9
    c = case(simple(rate, B), current=simple(0.4, B500), indication="spasticity_spinal")
    assert ("BRIDGE_TRANSIENT_DOSE" in codes(c)) is fires


def test_bridge_transient_hard_above_hard_max():
    # current 2000 mcg/mL x 0.4 = 800 mcg; proposed 500 mcg/mL at 1.0: transient 1.0 x 2000 = 2000 (hard max)
    at = findings(case(simple(1.0, B500), current=simple(0.4, B), indication="spasticity_spinal"),
                  "BRIDGE_TRANSIENT_DOSE")
    assert len(at) == 1 and at[0].severity == "soft"  # above the 1000 soft max (and the titration rule)
    over = findings(case(simple(1.001, B500), current=simple(0.4, B), indication="spasticity_spinal"),
                    "BRIDGE_TRANSIENT_DOSE")
    assert len(over) == 1 and over[0].severity == "hard" and over[0].value == pytest.approx(2002)


@pytest.mark.parametrize("rate,fires", [(0.5, False), (0.501, True)])
def test_bridge_transient_rise_over_the_titration_rule(rate, fires):
    # morphine 10 mg/mL x 0.4 = 4 mg; new 25 mg/mL: until cleared rate x 10 = 5 mg (+25 %) or 5.01 mg
    c = case(simple(rate, drug("morphine", 25, "mg/mL")), current=simple(0.4, M))
    assert ("BRIDGE_TRANSIENT_DOSE" in codes(c)) is fires


# -- first fill, refill drugs, alarm, appointment ---------------------------------------------

@pytest.mark.parametrize("drugs,first_fill,fires", [
    ([Z25], True, False), ([drug("ziconotide", 0.025, "mg/mL")], True, False), ([drug("ziconotide", 100, "mcg/mL")], True, True),
    ([drug("ziconotide", 100, "mcg/mL")], False, False), ([Z25, drug("morphine", 1, "mg/mL")], True, True)])
def test_first_fill_concentration(drugs, first_fill, fires):
    d = case({"drugs": drugs, "mode": "simple_continuous", "rate_ml_per_day": 0.05}, first_fill=first_fill)
    assert ("FIRST_FILL_CONCENTRATION" in codes(d)) is fires


@pytest.mark.parametrize("put,fires", [([drug("baclofen", 2, "mg/mL")], False), ([B500], True),
                                       ([B, M], True), (None, False)])
def test_refill_drug_mismatch(put, fires):
    refill = {"withdrawn_ml": 3.0, "added_ml": 20.0} | ({} if put is None else {"drugs": put})
    d = case(simple(0.2, B), current=simple(0.2, B), reservoir=3.0, refill=refill, indication="spasticity_spinal")
    f = findings(d, "REFILL_DRUG_MISMATCH")
    assert bool(f) is fires and all(w.severity == "hard" for w in f)


@pytest.mark.parametrize("profile,alarm,fires", [("programmable-20", 2.0, False), ("programmable-20", 1.99, True),
                                                 ("programmable-20", None, False), ("valve-gated-20", 2.5, True),
                                                 ("programmable-20", 0.0, True)])
def test_low_reservoir_alarm_low(profile, alarm, fires):
    d = case(simple(0.2, M), current=simple(0.2, M), profile=profile)
    if alarm is not None:
        d["pump"]["low_reservoir_alarm_ml"] = alarm
    f = findings(d, "LOW_RESERVOIR_ALARM_LOW")
    assert bool(f) is fires
    if alarm == 0.0:
        assert "never warns" in f[0].message


@pytest.mark.parametrize("appt,fires", [("2026-11-21T09:00:00", True), ("2026-11-21T09:01:00", False),
                                        ("2026-11-01T09:00:00", True)])
def test_appointment_in_past(appt, fires):
    assert ("APPOINTMENT_IN_PAST" in codes(case(simple(0.2, M), current=simple(0.2, M), appointment=appt))) is fires


# -- baclofen start, ziconotide admixture, weekday titration ---------------------------------

@pytest.mark.parametrize("screening,rate,fires", [(None, 0.1, False), (None, 0.1005, True), (100, 0.1, False),
                                                  (100, 0.1005, True), (50, 0.05, False), (50, 0.06, True)])
def test_baclofen_start_dose(screening, rate, fires):
    extra = {} if screening is None else {"screening_bolus_mcg": screening}
    f = findings(case(simple(rate, B), indication="spasticity_spinal", **extra), "START_DOSE_ABOVE_RECOMMENDED")
    assert bool(f) is fires
    if fires:
        assert f[0].limit == (200 if screening is None else 2 * screening)


def test_ziconotide_in_an_admixture():
    f = findings(case(simple(0.05, Z25, drug("morphine", 1, "mg/mL"))), "ADMIXTURE_NOT_RECOMMENDED")
    assert [w.drug for w in f] == ["ziconotide"] and "Prialt" in f[0].source


def _week(d, **rates):
    return {"drugs": [d], "mode": "flex", "week": {
        day: [{"start": "00:00", "rate_ml_per_day": rates.get(day, 0.2)}] for day in
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


@pytest.mark.parametrize("sat,fires", [(0.25, False), (0.252, True)])
def test_weekday_titration_per_weekday(sat, fires):
    # current 2 mg every day; Saturday 2.5 mg is +25 % (allowed), 2.52 mg +26 %; the 7-day mean moves ~4 %
    assert ("TITRATION_STEP_TOO_LARGE" in codes(case(_week(M, sat=sat), current=simple(0.2, M)))) is fires


def test_weekday_titration_compares_the_same_weekday():
    # current: Saturday 0.3, other days 0.2; proposed the same with Monday 0.3: Monday +50 %
    f = findings(case(_week(M, sat=0.3, mon=0.3), current=_week(M, sat=0.3)), "TITRATION_STEP_TOO_LARGE")
    assert len(f) == 1 and "mon" in f[0].message and "sat" not in f[0].message.split("rises")[0]


# -- impossible cases are rejected (exit 2, error document, no traceback) ----------------------

def cli(payload):
    return subprocess.run([sys.executable, "-m", "pumpmodel", "evaluate", "-"], input=payload, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def _base(**pump):
    return case(simple(0.2, M), profile="programmable-20") | {"pump": {"profile": "programmable-20", **pump}}


@pytest.mark.parametrize("mutate,ok", [
    (lambda d: d["pump"].update(low_reservoir_alarm_ml=20.0), True),
    (lambda d: d["pump"].update(low_reservoir_alarm_ml=20.5), False),
    (lambda d: d["pump"].update(catheter_volume_ml=2.5, pump_tubing_volume_ml=2.5), True),
    (lambda d: d["pump"].update(catheter_volume_ml=4.9, pump_tubing_volume_ml=0.2), False),
    (lambda d: d.update(refill={"withdrawn_ml": 25.0, "added_ml": 20.0}), True),
    (lambda d: d.update(refill={"withdrawn_ml": 25.01, "added_ml": 20.0}), False),
])
def test_model_level_rejections(mutate, ok):
    d = _base()
    mutate(d)
    try:
        Case.model_validate(d)
        accepted = True
    except Exception:
        accepted = False
    assert accepted is ok


@pytest.mark.parametrize("text,field", [
    ('"reservoir_ml": 1e400', "reservoir_ml"),  # not a double: infinity
    ('"reservoir_ml": NaN', "reservoir_ml"),
    ('"reservoir_ml": Infinity', "reservoir_ml"),
    ('"reservoir_ml": ' + "9" * 400, "reservoir_ml"),  # an integer far beyond a double
    ('"reservoir_ml": 18, "screening_bolus_mcg": -Infinity', "screening_bolus_mcg"),
])
def test_non_finite_numbers_exit_2_with_the_error_document(text, field):
    d = _base()
    del d["reservoir_ml"]
    payload = json.dumps(d)[:-1] + ", " + text + "}"
    r = cli(payload)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    err = json.loads(r.stdout)["error"]
    assert any(field in e["loc"] for e in err["errors"])


def test_impossible_pump_values_exit_2_naming_the_field():
    d = _base(low_reservoir_alarm_ml=25.0)
    r = cli(json.dumps(d))
    assert r.returncode == 2 and "low_reservoir_alarm_ml" in r.stdout and "Traceback" not in r.stderr


def test_history_must_be_oldest_first_and_not_after_now():
    hist = _history(("2026-11-20T09:00:00", simple(0.2, M)), ("2026-11-10T09:00:00", simple(0.2, M)))
    with pytest.raises(Exception, match="oldest first"):
        Case.model_validate(case(simple(0.2, M), history=hist))
    with pytest.raises(Exception, match="after now"):
        Case.model_validate(case(simple(0.2, M), history=_history(("2026-11-22T09:00:00", simple(0.2, M)))))


def test_bolus_intervals_without_a_common_measure_are_rejected():
    boluses = [{"first_at": "00:00", "every_hours": h, "volume_ml": 0.01, "duration_min": 5}
               for h in (23.99, 23.98, 23.97)]
    with pytest.raises(Exception, match="repeat together only after"):
        Case.model_validate(case({"drugs": [M], "mode": "periodic_bolus", "rate_ml_per_day": 0.1, "boluses": boluses}))
