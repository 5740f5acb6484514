"""Share links: round trip, malformed input, and every spec warning code reachable through a link."""
import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpmodel import Case, evaluate, sandbox, sharelink

ROOT = Path(__file__).resolve().parents[1]
SPEC = json.loads((ROOT / "examples" / "spec_example.json").read_text())


def test_round_trip_of_the_spec_example():
    case = Case.model_validate(SPEC)
    token = sharelink.encode(case)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert sharelink.decode(token) == case
    # the token is plain URL-safe base64 of the spec JSON: any tool can read it
    assert json.loads(base64.urlsafe_b64decode(token))["proposed"]["mode"] == "flex"


def test_decode_tolerates_missing_padding_and_standard_alphabet():
    token = sharelink.encode(SPEC)
    assert sharelink.decode(token.rstrip("=")) == Case.model_validate(SPEC)
    std = base64.b64encode(json.dumps(SPEC).encode()).decode()
    assert sharelink.decode(std) == Case.model_validate(SPEC)


@settings(max_examples=40, deadline=None)
@given(rate=st.floats(0.05, 20, allow_nan=False), reservoir=st.floats(0, 40, allow_nan=False),
       label=st.text(max_size=20))
def test_round_trip_property(rate, reservoir, label):
    d = json.loads(json.dumps(SPEC))
    d["proposed"]["steps"][1]["rate_ml_per_day"] = rate
    d["reservoir_ml"] = reservoir
    assert sharelink.decode(sharelink.encode(d)) == Case.model_validate(d)
    # drafts that do not validate (any JSON object) survive too
    draft = {"note": label, "proposed": {"steps": [{"start": label}]}}
    assert sharelink.decode_dict(sharelink.encode(draft)) == draft


@pytest.mark.parametrize("token, fragment", [
    ("", "empty"),
    ("!!!not-base64!!!", "not base64"),
    (base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(), "UTF-8"),
    (base64.urlsafe_b64encode(b"{not json").decode(), "JSON"),
    (base64.urlsafe_b64encode(b"[1, 2]").decode(), "object"),
    ("A" * 70_000, "too long"),
])
def test_malformed_tokens_raise_sharelink_error(token, fragment):
    with pytest.raises(sharelink.ShareLinkError) as exc:
        sharelink.decode(token)
    text = str(exc.value) + json.dumps(exc.value.errors)
    assert fragment.lower() in text.lower()
    assert all({"loc", "msg"} <= set(e) for e in exc.value.errors)


def test_invalid_case_lists_every_problem_by_field():
    d = json.loads(json.dumps(SPEC))
    d["proposed"]["steps"] = [{"start": "07:00", "rate_ml_per_day": 0.3}, {"start": "00:00", "rate_ml_per_day": 0.3}]
    d["pump"]["profile"] = "nope"
    with pytest.raises(sharelink.ShareLinkError) as exc:
        sharelink.decode(sharelink.encode(d))
    locs = [sharelink.format_loc(e["loc"]) for e in exc.value.errors]
    assert "pump.profile" in locs and "proposed.steps" in locs
    assert any("00:00" in e["msg"] for e in exc.value.errors)


def test_format_loc():
    assert sharelink.format_loc(["proposed", "steps", 0, "start"]) == "proposed.steps[0].start"
    assert sharelink.format_loc([]) == "(case)"


# -- every warning code of the spec table, through a share link ------------------------

def _drug(name, conc, unit):
    return {"drug": name, "concentration": conc, "unit": unit}


def _simple(rate, *drugs, **kw):
    return {"drugs": list(drugs), "mode": "simple_continuous", "rate_ml_per_day": rate, **kw}


MORPHINE = _drug("morphine", 10, "mg/mL")
BACLOFEN = _drug("baclofen", 2000, "mcg/mL")
BASE = {"pump": {"profile": "programmable-20"}, "now": "2026-11-21T09:00:00", "reservoir_ml": 18}

SPEC_CODES = {
    "RATE_OUT_OF_PUMP_RANGE": {**BASE, "proposed": _simple(30, MORPHINE)},
    "CONCENTRATION_NOT_PLAUSIBLE": {**BASE, "proposed": _simple(0.1, _drug("baclofen", 2000, "mg/mL"))},
    "CONCENTRATION_ABOVE_RECOMMENDED": {**BASE, "proposed": _simple(0.1, _drug("morphine", 25, "mg/mL"))},
    "DOSE_ABOVE_HARD_MAX": {**BASE, "proposed": _simple(5, MORPHINE)},
    "DOSE_ABOVE_RECOMMENDED": {**BASE, "proposed": _simple(2, MORPHINE)},
    "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED": {**BASE, "current": _simple(1.4, MORPHINE), "proposed": _simple(
        1.4, MORPHINE, ptm={"bolus_volume_ml": 0.1, "lockout_min": 60, "max_per_day": 4})},
    "START_DOSE_ABOVE_RECOMMENDED": {**BASE, "proposed": _simple(0.2, MORPHINE)},
    "TITRATION_STEP_TOO_LARGE": {**BASE, "current": _simple(0.2, MORPHINE), "proposed": _simple(0.3, MORPHINE)},
    "ABRUPT_DECREASE": {**BASE, "current": _simple(0.4, BACLOFEN), "proposed": {"drugs": [BACLOFEN],
                                                                               "mode": "stopped"}},
    "RESERVOIR_ALARM_BEFORE_APPOINTMENT": {**BASE, "next_appointment": "2027-03-01T09:00:00",
                                           "proposed": _simple(0.5, MORPHINE)},
    "RESERVOIR_EMPTY_BEFORE_APPOINTMENT": {**BASE, "next_appointment": "2027-03-01T09:00:00",
                                           "proposed": _simple(0.5, MORPHINE)},
    "STABILITY_WINDOW_EXCEEDED": {**BASE, "first_fill": True, "next_appointment": "2027-01-10T09:00:00",
                                  "proposed": _simple(0.05, _drug("ziconotide", 25, "mcg/mL"))},
    "FILL_EXCEEDS_CAPACITY": {**BASE, "reservoir_ml": 25, "proposed": _simple(0.1, MORPHINE)},
    "BRIDGE_BOLUS_REQUIRED": {**BASE, "current": _simple(0.5, MORPHINE),
                              "proposed": _simple(0.2, _drug("morphine", 25, "mg/mL"))},
    "ADMIXTURE_NOT_RECOMMENDED": {**BASE, "proposed": _simple(0.05, MORPHINE, _drug("baclofen", 500, "mcg/mL"))},
    "REFILL_DISCREPANCY": {**BASE, "refill": {"withdrawn_ml": 15, "added_ml": 20}, "proposed": _simple(0.1, MORPHINE)},
    "FIXED_RATE_PUMP": {**BASE, "pump": {"profile": "constant-flow-30"}, "proposed": _simple(2, MORPHINE)},
}
# the codes added to the spec in round 2: one example case file each (examples/codes/<CODE>.json)
SPEC_CODES |= {f.stem: json.loads(f.read_text()) for f in sorted((ROOT / "examples/codes").glob("*.json"))
               if f.stem not in SPEC_CODES}


# The warning-code table of shared/spec/evaluate.md, written here (not read from product code):
# the list must cover it even when the spec file is not on this machine (a fresh clone).
SPEC_TABLE_CODES = {
    "ABRUPT_DECREASE", "ADMIXTURE_NOT_RECOMMENDED", "APPOINTMENT_IN_PAST", "BRIDGE_BOLUS_REQUIRED",
    "BRIDGE_TRANSIENT_DOSE", "CONCENTRATION_ABOVE_RECOMMENDED", "CONCENTRATION_NOT_PLAUSIBLE",
    "DELIVERY_INTERRUPTION", "DOSE_ABOVE_HARD_MAX", "DOSE_ABOVE_RECOMMENDED", "FILL_EXCEEDS_CAPACITY",
    "FIRST_FILL_CONCENTRATION", "FIXED_RATE_PUMP", "LOW_RESERVOIR_ALARM_LOW", "OPIOID_SWITCH",
    "PTM_ALLOWS_DOSE_ABOVE_HARD_MAX", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED", "PTM_BOLUS_LARGE",
    "RATE_OUT_OF_PUMP_RANGE", "REFILL_DISCREPANCY", "REFILL_DRUG_MISMATCH", "RESERVOIR_ALARM_BEFORE_APPOINTMENT",
    "RESERVOIR_EMPTY_BEFORE_APPOINTMENT", "STABILITY_WINDOW_EXCEEDED", "START_DOSE_ABOVE_RECOMMENDED",
    "STEP_RATE_ABOVE_DOSE_LIMIT", "TITRATION_STEP_TOO_LARGE", "TITRATION_TOO_FREQUENT",
}


def _spec_file() -> Path | None:
    for spec in (Path("/work/shared/spec/evaluate.md"), ROOT.parent / "shared" / "spec" / "evaluate.md"):
        if spec.exists():
            return spec
    return None


def _spec_table_codes(spec: Path) -> set[str]:
    text = spec.read_text().split("## Warning codes", 1)[1]
    return {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}


def test_the_list_covers_the_spec_table():
    assert len(SPEC_TABLE_CODES) == 28
    assert SPEC_TABLE_CODES <= set(SPEC_CODES)
    spec = _spec_file()
    if spec is not None:  # the spec may grow; it never drops a code, and every code it lists is covered
        table = _spec_table_codes(spec)
        assert SPEC_TABLE_CODES <= table
        assert table <= set(SPEC_CODES)


@pytest.mark.parametrize("code", sorted(SPEC_CODES))
def test_every_spec_code_through_a_share_link(code):
    token = sharelink.encode(SPEC_CODES[code])
    assert code in evaluate(sharelink.decode(token)).codes()


# what each prepared demo is built to show (from its story, written here; the Cases page shows
# sandbox.DEMO_CASES, which must say the same)
DEMO_EXPECTED = {
    "spec_example.json": {"RESERVOIR_ALARM_BEFORE_APPOINTMENT", "RESERVOIR_EMPTY_BEFORE_APPOINTMENT"},
    "demo_hard_mg_mcg_mixup.json": {"CONCENTRATION_NOT_PLAUSIBLE", "DOSE_ABOVE_HARD_MAX"},
    "demo_hard_dose_above_max.json": {"DOSE_ABOVE_HARD_MAX"},
    "demo_hard_constant_flow.json": {"FIXED_RATE_PUMP"},
    "demo_hard_overfill_and_rate.json": {"FILL_EXCEEDS_CAPACITY", "RATE_OUT_OF_PUMP_RANGE"},
    "demo_soft_titration_baclofen.json": {"TITRATION_STEP_TOO_LARGE", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED"},
    "demo_soft_baclofen_abrupt_decrease.json": {"ABRUPT_DECREASE"},
    "demo_soft_refill_discrepancy.json": {"REFILL_DISCREPANCY"},
    "demo_soft_ziconotide_new_pump.json": {"START_DOSE_ABOVE_RECOMMENDED", "STABILITY_WINDOW_EXCEEDED"},
    "demo_soft_admixture_and_ptm.json": {"ADMIXTURE_NOT_RECOMMENDED", "PTM_ALLOWS_DOSE_ABOVE_RECOMMENDED"},
    "demo_soft_new_implant_start_dose.json": {"START_DOSE_ABOVE_RECOMMENDED"},
    "demo_info_bridge_bolus.json": {"BRIDGE_BOLUS_REQUIRED"},
}
HARD_DEMOS = {f for f in DEMO_EXPECTED if f.startswith("demo_hard_")}


@pytest.mark.parametrize("file", sorted(DEMO_EXPECTED))
def test_prepared_demo_cases_show_their_codes(file):
    ev = evaluate(sharelink.decode(sharelink.encode(sandbox.demo_case(file))))
    assert DEMO_EXPECTED[file] <= set(ev.codes())
    assert ev.blocked == (file in HARD_DEMOS)  # hard demos block, the others can be sent
    assert set(sandbox.DEMO_CASES[file][1]) == DEMO_EXPECTED[file]  # what the Cases page lists


def test_every_demo_file_is_listed():
    files = {p.name for p in (ROOT / "examples").glob("demo_*.json")} | {"spec_example.json"}
    assert files == set(DEMO_EXPECTED) == set(sandbox.DEMO_CASES)


def test_one_case_has_one_link_whatever_the_key_order():
    # a tour step (YAML order) and the sandbox after a reload (the store's sorted JSON) must
    # write the same address, or a reload changes the URL the presenter shared
    a = {"drugs": [{"drug": "baclofen", "concentration": 2000, "unit": "mcg/mL"}], "mode": "stopped"}
    b = {"mode": "stopped", "drugs": [{"unit": "mcg/mL", "concentration": 2000, "drug": "baclofen"}]}
    assert sharelink.encode(a) == sharelink.encode(b)
