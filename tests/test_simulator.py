"""Simulator: conservation, exact delivery math, determinism, faults, PTM, CLI, cohort."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pumpmodel import library
from pumpmodel.cli import main
from pumpmodel.cohort import generate_cohort, random_scenario
from pumpmodel.programs import Program
from pumpmodel.scenario import Scenario
from pumpmodel.schedule import profile_for, to_seconds
from pumpmodel.simulator import _ptm_outcomes, simulate, to_telemetry
from pumpmodel.telemetry import load_telemetry

T0 = datetime(2026, 1, 5, 0, 0)  # a Monday

BACLOFEN = {"drugs": [{"drug": "baclofen", "concentration": 2000, "unit": "mcg/mL"}]}
MORPHINE = {"drugs": [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"}]}


def scenario(**kw) -> Scenario:
    doc = dict(pump_id="t-1", patient_label="Test", profile="programmable-20", implant_date=T0 - timedelta(days=400),
               start=T0, end=T0 + timedelta(days=10), initial_reservoir_ml=20,
               program={**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": 1.0}, seed=1)
    doc.update(kw)
    return Scenario.model_validate(doc)


def frames(result):
    return result.samples.to_pandas(), result.events.to_pandas()


def assert_conserved(scn: Scenario, result) -> None:
    s, _ = frames(result)
    res = s["reservoir_ml"].to_numpy()
    d = s["delivered_ml"].to_numpy()
    before = np.concatenate(([scn.initial_reservoir_ml], res[:-1]))
    # the reservoir after a refill is the volume that reached it (volumes are stored
    # as multiples of 2**-20 mL, so a fill is exact to 1e-6 mL)
    fills = [0] + [int((r.at.replace(minute=0) - scn.start).total_seconds() // 3600) for r in scn.all_refills()]
    for h, r in zip(fills[1:], scn.all_refills()):
        before[h] = r.added_ml - r.pocket_fill_ml
    np.testing.assert_allclose(res[fills], before[fills] - d[fills], rtol=0, atol=1e-6)
    # every other hour: reservoir after = before - delivered, to 1e-9 mL
    other = np.setdiff1d(np.arange(len(res)), fills)
    np.testing.assert_allclose(res[other], before[other] - d[other], rtol=0, atol=1e-9)
    assert (d >= 0).all() and (res >= 0).all()


# -- conservation (property test over random scenarios) -----------------------

programs = st.one_of(
    st.builds(lambda r: {**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": r},
              st.floats(0.05, 6.0)),
    st.builds(lambda a, b, h: {**MORPHINE, "mode": "flex", "steps": [
        {"start": "00:00", "rate_ml_per_day": a}, {"start": f"{h:02d}:30", "rate_ml_per_day": b}]},
        st.floats(0.05, 4.0), st.floats(0.05, 4.0), st.integers(1, 23)),
    st.builds(lambda r, v, e: {**MORPHINE, "mode": "periodic_bolus", "rate_ml_per_day": r,
                               "boluses": [{"first_at": "03:15", "every_hours": e, "volume_ml": v,
                                            "duration_min": 45}]},
              st.floats(0.05, 2.0), st.floats(0.01, 0.5), st.integers(2, 12)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    program=programs,
    change=programs,
    days=st.integers(2, 20),
    refill_days=st.lists(st.floats(0.2, 19.0), max_size=3, unique=True),
    pocket=st.floats(0, 1),
    ptm_rate=st.floats(0, 12),
    mri=st.booleans(),
    profile=st.sampled_from(["programmable-20", "programmable-40", "valve-gated-20", "valve-gated-40"]),
    seed=st.integers(0, 2**31),
    initial=st.floats(0, 1),
)
def test_volume_is_conserved_at_every_sample(program, change, days, refill_days, pocket, ptm_rate, mri, profile,
                                             seed, initial):
    cap = library.profile(profile).reservoir_ml
    end = T0 + timedelta(days=days)
    refills = [{"at": (T0 + timedelta(days=x)).replace(minute=0), "added_ml": cap * 0.9,
                "pocket_fill_ml": cap * 0.9 * pocket * (i == 0)}
               for i, x in enumerate(sorted(x for x in refill_days if x < days - 0.1))]
    refills = [r for k, r in enumerate(refills) if k == 0 or r["at"] != refills[k - 1]["at"]]
    ptm = {"bolus_volume_ml": 0.05, "lockout_min": 60, "max_per_day": 5}
    scn = scenario(
        profile=profile, end=end, initial_reservoir_ml=cap * initial, seed=seed,
        program={**program, "ptm": ptm},
        changes=[{"at": T0 + timedelta(hours=days * 12), "program": change}],
        refills=refills, ptm_use={"requests_per_day": ptm_rate},
        faults=[{"kind": "mri", "at": T0 + timedelta(hours=30)}] if mri and days > 2 else [],
    )
    result = simulate(scn)
    assert result.rows == days * 24
    assert_conserved(scn, result)


# -- exact delivery math ----------------------------------------------------------

def test_delivery_follows_the_engine_exactly_without_noise():
    prog = {**BACLOFEN, "mode": "flex", "steps": [{"start": "00:00", "rate_ml_per_day": 0.3},
                                                  {"start": "07:20", "rate_ml_per_day": 0.45},
                                                  {"start": "22:00", "rate_ml_per_day": 0.3}]}
    scn = scenario(program=prog, accuracy_sd_percent=0, end=T0 + timedelta(days=3))
    s, _ = frames(simulate(scn))
    edges = to_seconds(T0) + 3600 * np.arange(len(s) + 1)
    expected = profile_for(Program.model_validate(prog)).volume_between(edges[:-1], edges[1:])
    np.testing.assert_allclose(s["delivered_ml"], expected, atol=1e-6)
    # a whole day is the engine's daily volume, the 07:00 hour is 2/3 at the higher rate
    daily = (0.3 * (7 + 1 / 3) + 0.45 * (14 + 2 / 3) + 0.3 * 2) / 24
    assert s["delivered_ml"][:24].sum() == pytest.approx(daily, abs=1e-5)
    assert s["programmed_rate_ml_per_day"][7] == pytest.approx(0.3 / 3 + 0.45 * 2 / 3)


def test_delivery_accuracy_is_within_the_profile_accuracy_and_seeded():
    factors = []
    for seed in range(30):
        s, _ = frames(simulate(scenario(seed=seed, end=T0 + timedelta(days=2))))
        factors.append(s["delivered_ml"].sum() / 2.0)
    factors = np.array(factors)
    acc = library.profile("programmable-20").delivery_accuracy_percent / 100
    assert (np.abs(factors - 1) <= acc + 1e-6).all()
    assert factors.std() > 0.001  # it does vary between seeds


def test_same_seed_same_output_different_seed_differs():
    kw = dict(program={**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": 1.0,
                       "ptm": {"bolus_volume_ml": 0.05, "lockout_min": 60, "max_per_day": 4}},
              ptm_use={"requests_per_day": 6}, faults=[{"kind": "mri", "at": T0 + timedelta(days=2)}])
    a, b, c = simulate(scenario(seed=5, **kw)), simulate(scenario(seed=5, **kw)), simulate(scenario(seed=6, **kw))
    assert a.samples.equals(b.samples) and a.events.equals(b.events)
    assert not a.events.equals(c.events)


# -- events per fault kind ----------------------------------------------------------

def test_mri_stalls_a_programmable_pump_for_the_stall_time():
    at = T0 + timedelta(days=2, hours=14)
    scn = scenario(faults=[{"kind": "mri", "at": at, "stall_h": 6}], accuracy_sd_percent=0)
    s, e = frames(simulate(scn))
    stall = e[e.kind == "alarm_motor_stall"]
    assert len(stall) == 1 and stall.severity.iloc[0] == "critical"
    assert json.loads(stall.details.iloc[0]) == {"restart_after_h": 6}
    assert json.loads(e[e.kind == "mri"].details.iloc[0]) == {"stall_h": 6}
    h = 2 * 24 + 14
    assert (s["delivered_ml"][h:h + 6] == 0).all()
    assert s["delivered_ml"][h - 1] > 0 and s["delivered_ml"][h + 6] > 0
    assert (s["programmed_rate_ml_per_day"][h:h + 6] == 1.0).all()


def test_mri_draws_a_stall_between_2_and_24_h_and_does_not_stall_a_valve_gated_pump():
    s_ = scenario(faults=[{"kind": "mri", "at": T0 + timedelta(days=1)}])
    stall = json.loads(frames(simulate(s_))[1].query("kind == 'alarm_motor_stall'").details.iloc[0])
    assert 2 <= stall["restart_after_h"] <= 24
    v = scenario(profile="valve-gated-20", faults=[{"kind": "mri", "at": T0 + timedelta(days=1)}])
    s, e = frames(simulate(v))
    assert "alarm_motor_stall" not in set(e.kind) and json.loads(e[e.kind == "mri"].details.iloc[0])["stall_h"] == 0
    assert (s["delivered_ml"] > 0).all()


def test_catheter_occlusion_stops_delivery_and_raises_a_critical_alarm():
    at = T0 + timedelta(days=3, hours=2)
    s, e = frames(simulate(scenario(faults=[{"kind": "catheter_occlusion", "at": at, "duration_h": 40}])))
    alarm = e[e.kind == "alarm_catheter_occlusion"]
    assert len(alarm) == 1 and alarm.severity.iloc[0] == "critical" and alarm.timestamp.iloc[0] == at
    h = 3 * 24 + 2
    assert (s["delivered_ml"][h:h + 40] == 0).all() and s["delivered_ml"][h + 40] > 0


def test_early_eri_then_end_of_service_after_90_days_stops_delivery():
    at = T0 + timedelta(days=1)
    scn = scenario(end=T0 + timedelta(days=95), initial_reservoir_ml=20,
                   program={**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": 0.1},
                   faults=[{"kind": "early_eri", "at": at}])
    s, e = frames(simulate(scn))
    eri = e[e.kind == "alarm_eri"]
    eos = e[e.kind == "alarm_end_of_service"]
    assert eri.severity.tolist() == ["non_critical"] and eri.timestamp.iloc[0] == at
    assert eos.severity.tolist() == ["critical"] and eos.timestamp.iloc[0] == at + timedelta(days=90)
    after = s["timestamp"] >= at + timedelta(days=90)
    assert (s.loc[after, "delivered_ml"] == 0).all() and (s.loc[~after, "delivered_ml"] > 0).all()
    assert s["battery_pct"].is_monotonic_decreasing and s["battery_pct"].iloc[-1] == pytest.approx(0, abs=1e-3)


def test_nominal_battery_life_raises_eri_at_the_eri_level():
    implant = T0 - timedelta(days=365)
    scn = scenario(implant_date=implant, battery={"pct_at_implant": 100, "life_years": 1.01})
    s, e = frames(simulate(scn))
    eri = e[e.kind == "alarm_eri"].timestamp.iloc[0]
    assert eri == implant + timedelta(days=1.01 * 365.25)
    assert s.loc[s.timestamp <= eri, "battery_pct"].iloc[-1] == pytest.approx(5.0, abs=0.01)


def test_constant_flow_pump_has_no_battery():
    scn = scenario(profile="constant-flow-30", initial_reservoir_ml=30)
    s, e = frames(simulate(scn))
    assert s["battery_pct"].isna().all() and simulate(scn).pump["battery_pct_at_implant"] is None


def test_empty_reservoir_stops_delivery_after_low_reservoir_alarm():
    scn = scenario(initial_reservoir_ml=5, program={**BACLOFEN, "mode": "simple_continuous", "rate_ml_per_day": 1.0},
                   accuracy_sd_percent=0)
    s, e = frames(simulate(scn))
    low, empty = e[e.kind == "alarm_low_reservoir"], e[e.kind == "alarm_empty_reservoir"]
    assert low.severity.tolist() == ["non_critical"] and empty.severity.tolist() == ["critical"]
    # 5 mL at 1 mL/day: the 2 mL alarm after 3 days, empty after 5 days
    assert abs(low.timestamp.iloc[0] - (T0 + timedelta(days=3))) <= timedelta(seconds=2)
    assert abs(empty.timestamp.iloc[0] - (T0 + timedelta(days=5))) <= timedelta(seconds=2)
    assert s["delivered_ml"][5 * 24:].sum() == 0 and s["reservoir_ml"].iloc[-1] == 0
    assert s["delivered_ml"].sum() == pytest.approx(5.0, abs=1e-6)


def test_refill_events_record_expected_residual_withdrawn_and_added():
    at = T0 + timedelta(days=4)
    scn = scenario(refills=[{"at": at, "added_ml": 18}], accuracy_sd_percent=0)
    s, e = frames(simulate(scn))
    r = e[e.kind == "refill"].iloc[0]
    assert r.expected_residual_ml == pytest.approx(16.0, abs=1e-5) and r.withdrawn_ml == pytest.approx(16.0, abs=1e-5)
    assert r.added_ml == 18 and json.loads(r.details)["pocket_fill"] is False
    assert s["reservoir_ml"][4 * 24] == pytest.approx(18 - 1 / 24, abs=1e-6)


def test_pocket_fill_misses_the_reservoir_and_shows_at_the_next_refill():
    refills = [{"at": T0 + timedelta(days=2), "added_ml": 20, "pocket_fill_ml": 6},
               {"at": T0 + timedelta(days=8), "added_ml": 20}]
    tel = to_telemetry([simulate(scenario(refills=refills))])
    r = tel.pump("t-1").refills()
    assert r["flagged"].tolist() == [False, True]
    assert r["discrepancy_ml"].iloc[1] == pytest.approx(-6, abs=0.2)
    s = tel.pump("t-1").samples
    assert s["reservoir_ml"][2 * 24] == pytest.approx(14 - 1 / 24, abs=0.01)


def test_ptm_lockout_and_daily_maximum():
    h = 3600.0
    req = np.array([0, 0.5 * h, 1.1 * h, 2.5 * h, 3.0 * h, 5 * h, 24 * h + 10]) + to_seconds(T0)
    out = _ptm_outcomes(req, np.full(len(req), 3600.0), np.full(len(req), 3))
    # granted, lockout, granted, granted, lockout(0.5 h after), daily max, new day granted
    assert out.tolist() == [0, 1, 0, 0, 1, 2, 0]


def test_ptm_requests_produce_all_three_outcomes_and_granted_volume_is_delivered():
    prog = {**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": 0.5,
            "ptm": {"bolus_volume_ml": 0.05, "lockout_min": 120, "max_per_day": 3}}
    s, e = frames(simulate(scenario(program=prog, ptm_use={"requests_per_day": 10}, accuracy_sd_percent=0,
                                    initial_reservoir_ml=20)))
    kinds = e.kind.value_counts()
    assert kinds["ptm_granted"] > 0 and kinds["ptm_denied_lockout"] > 0 and kinds["ptm_denied_daily_max"] > 0
    granted = e[e.kind == "ptm_granted"]
    assert granted.groupby(granted.timestamp.dt.date).size().max() <= 3
    assert s["delivered_ml"].sum() == pytest.approx(10 * 0.5 + 0.05 * len(granted), abs=1e-5)


def test_no_ptm_events_without_a_ptm_program():
    _, e = frames(simulate(scenario(ptm_use={"requests_per_day": 10})))
    assert not e.kind.str.startswith("ptm").any()


def test_clinician_bolus_is_delivered_and_logged():
    at = T0 + timedelta(days=1, hours=3)
    s, e = frames(simulate(scenario(clinician_boluses=[{"at": at, "volume_ml": 0.2}], accuracy_sd_percent=0)))
    assert e[e.kind == "clinician_bolus"].volume_ml.tolist() == [0.2]
    assert s["delivered_ml"][27] == pytest.approx(1 / 24 + 0.2, abs=1e-6)


def test_program_changes_carry_old_and_new_programs():
    new = {**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": 1.25}
    at = T0 + timedelta(days=2)
    tel = to_telemetry([simulate(scenario(changes=[{"at": at, "program": new}]))])
    progs = tel.pump("t-1").programs()
    assert [t for t, _ in progs] == [T0, at] and progs[1][1] == Program.model_validate(new)
    ev = tel.events[tel.events.kind == "program_change"]
    assert json.loads(ev.details.iloc[0])["old"] is None
    assert json.loads(ev.details.iloc[1])["old"]["rate_ml_per_day"] == 1.0


# -- scenario validation -----------------------------------------------------------

@pytest.mark.parametrize("kw, words", [
    ({"refills": [{"at": T0 + timedelta(days=1), "added_ml": 10, "pocket_fill_ml": 11}]}, "pocket_fill_ml"),
    ({"refills": [{"at": T0 + timedelta(days=30), "added_ml": 10}]}, "outside the record"),
    ({"refills": [{"at": T0 + timedelta(days=1), "added_ml": 25}]}, "above the 20 mL reservoir"),
    ({"profile": "constant-flow-30", "initial_reservoir_ml": 10, "program": {**MORPHINE, "mode": "simple_continuous", "rate_ml_per_day": 0.5}}, "only simple_continuous at 1.0"),
    ({"profile": "pump-9000"}, "unknown pump profile"),
    ({"faults": [{"kind": "mri", "at": T0 + timedelta(days=1), "stall_h": 30}]}, "less than or equal to 24"),
])
def test_malformed_scenarios_are_rejected(kw, words):
    with pytest.raises(ValidationError, match=words):
        scenario(**kw)


# -- CLI and cohort -------------------------------------------------------------------

def test_cli_simulates_a_scenario_file_into_a_loadable_folder(tmp_path, capsys):
    scn = scenario(pump_id="cli-1", refills=[{"at": T0 + timedelta(days=5), "added_ml": 20}])
    path = tmp_path / "s.json"
    path.write_text(scn.model_dump_json())
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 0
    tel = load_telemetry(tmp_path / "out")
    assert tel.pump_ids() == ["cli-1"] and len(tel.samples) == 240
    assert "wrote 1 pump(s), 240 samples" in capsys.readouterr().out


def test_cli_rejects_a_malformed_scenario_with_an_error_document(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pump_id: x\nprofile: nope\n")
    assert main(["simulate", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
    doc = json.loads(capsys.readouterr().out)
    msgs = " ".join(e["msg"] for e in doc["error"]["errors"])
    assert "unknown pump profile" in msgs and "Field required" in msgs


def test_cohort_is_deterministic_varied_and_loadable(tmp_path):
    a = generate_cohort(6, 20, 11, tmp_path / "a", jobs=1, progress=False, chunk=4)
    generate_cohort(6, 20, 11, tmp_path / "b", jobs=2, progress=False, chunk=2)
    assert a["rows"] == 6 * 20 * 24
    ta, tb = load_telemetry(tmp_path / "a"), load_telemetry(tmp_path / "b")
    assert ta.samples.equals(tb.samples) and ta.events.equals(tb.events) and ta.pumps.equals(tb.pumps)
    assert set(ta.pumps["group"]) == {"cohort"}
    for pid in ta.pump_ids():
        assert ta.pump(pid).current_program() is not None


def test_random_scenarios_are_valid_for_long_records():
    # every draw must be a valid scenario (a cohort run must never stop on a bad draw)
    for i in range(400):
        s = random_scenario(i, 730, 7)
        assert s.end - s.start == timedelta(days=730)


def test_random_scenarios_cover_the_library():
    scns = [random_scenario(i, 60, 1) for i in range(120)]
    drugs = {d for s in scns for d in s.program.drug_names}
    assert drugs == set(library.drugs())
    assert {s.profile for s in scns} == set(library.pump_profiles())
    for s in scns[:20]:
        assert_conserved(s, simulate(s))


def test_cohort_pumps_are_refilled_one_to_three_months_apart_not_every_few_days():
    """Clinics pick a concentration that keeps refills weeks apart; a generator that
    titrates the volume rate instead would force refills every few days."""
    gaps = []
    for i in range(40):
        ev = simulate(random_scenario(i, 365, seed=3)).events.to_pandas()
        t = ev.loc[ev["kind"] == "refill", "timestamp"].sort_values()
        gaps += list(t.diff().dropna().dt.total_seconds() / 86400)
    assert min(gaps) >= 14
    assert 21 <= float(np.median(gaps)) <= 90


# -- regressions (code review) ----------------------------------------------------------

@pytest.mark.parametrize("content, words", [
    (b"pump_id: x\nprogram: [unclosed\n", "not valid YAML"),
    (b"pump_id: \xff\xfe x\n", "not UTF-8"),
])
def test_cli_reports_unreadable_scenario_files_without_a_traceback(tmp_path, capsys, content, words):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    assert main(["simulate", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
    doc = json.loads(capsys.readouterr().out)
    [err] = doc["error"]["errors"]
    assert err["loc"] == [str(bad)] and words in err["msg"]


def test_samples_carry_the_pumps_estimate_next_to_the_true_volume():
    """reservoir_ml is the true volume (conserved); reservoir_estimate_ml is what the pump
    shows at interrogation (unaware of a pocket fill)."""
    scn = scenario(refills=[{"at": T0 + timedelta(days=3), "added_ml": 20, "pocket_fill_ml": 5}])
    r = simulate(scn)
    s, ev = frames(r)
    assert_conserved(scn, r)
    np.testing.assert_array_equal(s["reservoir_estimate_ml"].to_numpy(), r.pump_estimate_ml)
    after = s["timestamp"] >= T0 + timedelta(days=3)
    gap = (s["reservoir_estimate_ml"] - s["reservoir_ml"])[after]
    assert gap.min() > 4.5  # the pump believes the 5 mL injected into the pocket are in the reservoir
    refill = ev[ev["kind"] == "refill"].iloc[0]
    before = s[s["timestamp"] < T0 + timedelta(days=3)].iloc[-1]
    assert refill["expected_residual_ml"] == pytest.approx(before["reservoir_estimate_ml"], abs=1e-6)
    assert refill["withdrawn_ml"] == pytest.approx(before["reservoir_ml"], abs=1e-6)
    assert (s["reservoir_estimate_ml"] >= 0).all()


def test_replace_folder_swaps_in_a_complete_folder_or_leaves_the_old_one(tmp_path):
    from pumpmodel.telemetry import replace_folder

    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    replace_folder(out, lambda d: (d / "new.txt").write_text("new"))
    assert [p.name for p in out.iterdir()] == ["new.txt"]

    def broken(d):
        (d / "half.txt").write_text("half")
        raise RuntimeError("simulation failed")

    with pytest.raises(RuntimeError):
        replace_folder(out, broken)
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp folder left behind


def test_scenario_and_pump_settings_share_the_profile_validator():
    from pumpmodel.library import known_profile
    from pumpmodel.programs import PumpSettings

    assert known_profile("programmable-20") == "programmable-20"
    with pytest.raises(ValueError) as lib_err:
        known_profile("pump-9000")
    with pytest.raises(ValidationError) as scn_err:
        scenario(profile="pump-9000")
    with pytest.raises(ValidationError) as settings_err:
        PumpSettings(profile="pump-9000")
    msg = str(lib_err.value)
    assert msg.startswith("unknown pump profile 'pump-9000'; known: programmable-20")
    assert msg in str(scn_err.value) and msg in str(settings_err.value)


def test_dead_helpers_are_gone():
    import pumpmodel.simulator as sim
    import pumpmodel.telemetry as tel

    assert not hasattr(sim, "_hour") and not hasattr(tel, "iter_problems")


@pytest.mark.parametrize("kw, words", [
    ({"program": {**MORPHINE, "mode": "flex",
                  "steps": [{"start": f"{h:02d}:00", "rate_ml_per_day": 0.5} for h in range(11)]}}, "11 flex steps"),
    ({"profile": "constant-flow-30", "initial_reservoir_ml": 10, "program": {**MORPHINE, "mode": "stopped"}},
     "only simple_continuous"),
    ({"profile": "valve-gated-20", "program": {**MORPHINE, "mode": "flex", "week": {
        d: [{"start": "00:00", "rate_ml_per_day": 0.5}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}},
     "weekday flex"),
])
def test_scenarios_the_loader_would_reject_are_rejected(kw, words):
    """A scenario must simulate into telemetry that loads (same profile checks as the loader)."""
    with pytest.raises(ValidationError, match=words):
        scenario(**kw)
