"""Telemetry loader: formats, rejections with precise problems, merge, story patients."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pumpmodel import evaluate, library
from pumpmodel.scenario import Scenario, load_scenario
from pumpmodel.simulator import simulate, to_telemetry
from pumpmodel.telemetry import (
    COHORT_DIR, STORY_DIR, Problem, Telemetry, TelemetryError, load_telemetry, merge, to_combined, to_zip,
    write_telemetry,
)

T0 = datetime(2026, 3, 2, 0, 0)
SCENARIOS = STORY_DIR.parent / "scenarios"


@pytest.fixture(scope="module")
def small() -> Telemetry:
    base = dict(patient_label="Test", profile="programmable-20", implant_date=T0 - timedelta(days=30), start=T0,
                end=T0 + timedelta(days=3), initial_reservoir_ml=15, seed=3,
                program={"drugs": [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"}],
                         "mode": "simple_continuous", "rate_ml_per_day": 0.5,
                         "ptm": {"bolus_volume_ml": 0.05, "lockout_min": 60, "max_per_day": 3}},
                ptm_use={"requests_per_day": 5}, refills=[{"at": T0 + timedelta(days=2), "added_ml": 20}])
    a = Scenario.model_validate({**base, "pump_id": "p-1"})
    b = Scenario.model_validate({**base, "pump_id": "p-2", "profile": "valve-gated-40", "seed": 4})
    return to_telemetry([simulate(a), simulate(b)])


def write_csv(tel_frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tel_frames.items():
        df.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return folder


def frames_of(tel: Telemetry) -> dict[str, pd.DataFrame]:
    return {"pumps": tel.pumps.copy(), "samples": tel.samples.astype({"pump_id": str}),
            "events": tel.events.astype({"pump_id": str})}


def problems_for(frames: dict[str, pd.DataFrame], tmp_path) -> list[Problem]:
    with pytest.raises(TelemetryError) as info:
        load_telemetry(write_csv(frames, tmp_path / "bad"))
    assert str(info.value).startswith(f"{len(info.value.problems)} problem")
    return info.value.problems


def assert_same(a: Telemetry, b: Telemetry) -> None:
    for name in ("pumps", "samples", "events"):
        x, y = getattr(a, name).reset_index(drop=True), getattr(b, name).reset_index(drop=True)
        assert list(x.columns) == list(y.columns), name
        for c in x.columns:
            if x[c].dtype.kind == "f":
                np.testing.assert_allclose(x[c].to_numpy(float), y[c].to_numpy(float), rtol=1e-12, equal_nan=True)
            else:
                assert x[c].astype(object).where(x[c].notna(), None).tolist() == \
                    y[c].astype(object).where(y[c].notna(), None).tolist(), (name, c)


# -- formats --------------------------------------------------------------------------

def test_parquet_csv_zip_and_combined_layouts_load_the_same(small, tmp_path):
    write_telemetry(small, tmp_path / "pq")
    assert (tmp_path / "pq" / "samples" / "pump_id=p-1" / "part-0.parquet").exists()
    from_pq = load_telemetry(tmp_path / "pq")
    assert_same(small, from_pq)
    assert_same(small, load_telemetry(write_csv(frames_of(small), tmp_path / "csv")))
    assert_same(small, load_telemetry(to_zip(small), name="export.zip"))
    combined = to_combined(small)
    assert_same(small, load_telemetry(combined.to_csv(index=False).encode(), name="all.csv"))
    buf = io.BytesIO()
    combined.to_parquet(buf)
    assert_same(small, load_telemetry(buf.getvalue(), name="all.parquet"))
    # a zip holding the Parquet folder inside one top-level folder
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        for p in (tmp_path / "pq").rglob("*.parquet"):
            zf.write(p, "mydata/" + str(p.relative_to(tmp_path / "pq")))
    assert_same(small, load_telemetry(zbuf.getvalue(), name="mydata.zip"))


def test_typed_frames(small, tmp_path):
    tel = load_telemetry(write_csv(frames_of(small), tmp_path / "csv"))
    assert tel.samples["timestamp"].dtype == "datetime64[s]"
    assert tel.samples["reservoir_ml"].dtype == "float64"
    assert tel.pumps["next_appointment"].dtype == "datetime64[s]"
    assert tel.events["volume_ml"].dtype == "float64"


def test_a_single_table_upload_is_rejected_with_guidance(small):
    with pytest.raises(TelemetryError, match="'table' column"):
        load_telemetry(small.samples.to_csv(index=False).encode(), name="samples.csv")
    with pytest.raises(TelemetryError, match="unsupported file type"):
        load_telemetry(b"hello", name="notes.txt")
    with pytest.raises(TelemetryError, match="cannot be read"):
        load_telemetry(b"not a zip", name="x.zip")
    with pytest.raises(TelemetryError, match="not a telemetry folder"):
        load_telemetry(zipfile_bytes({"readme.txt": "hi"}), name="x.zip")


def zipfile_bytes(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in files.items():
            zf.writestr(k, v)
    return buf.getvalue()


# -- rejections ---------------------------------------------------------------------

def test_missing_and_extra_columns(small, tmp_path):
    f = frames_of(small)
    f["samples"] = f["samples"].drop(columns=["reservoir_ml"]).assign(temperature_c=37.0)
    probs = problems_for(f, tmp_path)
    assert {(p.file.split("/")[-1], p.column, p.message) for p in probs} == {
        ("samples.csv", "reservoir_ml", "missing column"),
        ("samples.csv", "temperature_c", "unexpected column (not in the telemetry format)")}


def test_wrong_type_names_the_row(small, tmp_path):
    f = frames_of(small)
    f["samples"]["delivered_ml"] = f["samples"]["delivered_ml"].astype(object)
    f["samples"].loc[5, "delivered_ml"] = "0,02"
    f["events"]["timestamp"] = f["events"]["timestamp"].astype(object)
    f["events"].loc[1, "timestamp"] = "yesterday"
    probs = problems_for(f, tmp_path)
    assert [(p.column, p.row) for p in probs] == [("delivered_ml", 5), ("timestamp", 1)]
    assert "not a number (got '0,02')" in probs[0].message
    assert "ISO 8601" in probs[1].message and probs[1].file.endswith("events.csv")


def test_timestamp_with_offset_is_rejected(small, tmp_path):
    f = frames_of(small)
    f["pumps"]["implant_date"] = ["2026-01-01T00:00:00+01:00", "2026-01-01T00:00:00"]
    probs = problems_for(f, tmp_path)
    assert [(p.column, p.row) for p in probs] == [("implant_date", 0)]


def test_unsorted_and_duplicate_timestamps(small, tmp_path):
    f = frames_of(small)
    s = f["samples"]
    s.loc[[10, 11], "timestamp"] = s.loc[[11, 10], "timestamp"].to_numpy()
    s.loc[30, "timestamp"] = s.loc[29, "timestamp"]
    probs = problems_for(f, tmp_path)
    assert [(p.column, p.row, p.message.split(" (")[0]) for p in probs] == [
        ("timestamp", 11, "timestamps not sorted"), ("timestamp", 30, "duplicate timestamp")]


def test_negative_volume_and_battery_out_of_range(small, tmp_path):
    f = frames_of(small)
    f["samples"].loc[7, "delivered_ml"] = -0.01
    f["samples"].loc[8, "battery_pct"] = 140
    f["events"].loc[0, "volume_ml"] = -1
    probs = problems_for(f, tmp_path)
    assert {(p.column, p.row) for p in probs} == {("delivered_ml", 7), ("battery_pct", 8), ("volume_ml", 0)}
    assert any("negative" in p.message for p in probs)


def test_reservoir_above_capacity_suggests_a_unit_error(small, tmp_path):
    f = frames_of(small)
    f["samples"].loc[3, "reservoir_ml"] = 15000  # microlitres, not mL
    probs = problems_for(f, tmp_path)
    assert [(p.column, p.row) for p in probs] == [("reservoir_ml", 3)] and "capacity" in probs[0].message


def test_unknown_profile_kind_severity_indication_and_pump(small, tmp_path):
    f = frames_of(small)
    f["pumps"].loc[1, "profile"] = "synchromed-2"
    f["pumps"].loc[0, "indication"] = "migraine"
    f["events"].loc[2, "kind"] = "alarm_fire"
    f["events"].loc[3, "severity"] = "urgent"
    f["samples"].loc[0, "pump_id"] = "p-9"
    probs = problems_for(f, tmp_path)
    got = {(p.file.split("/")[-1], p.column, p.row) for p in probs}
    assert {("pumps.csv", "profile", 1), ("pumps.csv", "indication", 0), ("events.csv", "kind", 2),
            ("events.csv", "severity", 3), ("samples.csv", "pump_id", 0)} <= got
    assert any("unknown pump profile" in p.message and "programmable-20" in p.message for p in probs)


def test_an_empty_required_cell_is_one_problem_not_two(small, tmp_path):
    """An empty kind, severity or profile cell is reported once, as empty; not also as unknown."""
    f = frames_of(small)
    f["events"].loc[2, "kind"] = None
    f["events"].loc[3, "severity"] = None
    f["pumps"].loc[1, "profile"] = None
    probs = problems_for(f, tmp_path)
    cells = [(p.file.split("/")[-1], p.column, p.row) for p in probs]
    assert sorted(cells) == [("events.csv", "kind", 2), ("events.csv", "severity", 3), ("pumps.csv", "profile", 1)]
    assert all(p.message == "empty value in a required column" for p in probs)


def test_duplicate_and_unsafe_pump_ids_and_missing_required(small, tmp_path):
    f = frames_of(small)
    f["pumps"].loc[1, "pump_id"] = "p-1"
    f["pumps"].loc[0, "patient_label"] = None
    probs = problems_for(f, tmp_path)
    assert ("pump_id", 1, "duplicate pump id (got 'p-1')") in {(p.column, p.row, p.message) for p in probs}
    assert ("patient_label", 0) in {(p.column, p.row) for p in probs}
    f = frames_of(small)
    f["pumps"].loc[0, "pump_id"] = "a b/c"
    probs = problems_for(f, tmp_path)
    assert any(p.column == "pump_id" and "URL-safe" in p.message for p in probs)


def test_bad_program_json_in_a_program_change(small, tmp_path):
    f = frames_of(small)
    i = f["events"].index[f["events"]["kind"] == "program_change"][0]
    f["events"].loc[i, "details"] = json.dumps({"old": None, "new": {"drugs": [], "mode": "flex"}})
    probs = problems_for(f, tmp_path)
    assert [(p.column, p.row) for p in probs] == [("details", i)]


def test_parquet_partition_problems_name_the_partition_file(small, tmp_path):
    write_telemetry(small, tmp_path / "pq")
    part = tmp_path / "pq" / "samples" / "pump_id=p-2" / "part-0.parquet"
    df = pd.read_parquet(part)
    df.loc[4, "reservoir_ml"] = -2.0
    df.to_parquet(part, index=False)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(tmp_path / "pq")
    [p] = info.value.problems
    assert p.file == "samples/pump_id=p-2/part-0.parquet" and p.row == 4 and p.column == "reservoir_ml"


def test_many_bad_rows_are_summarised(small, tmp_path):
    f = frames_of(small)
    f["samples"]["delivered_ml"] = -1.0
    probs = problems_for(f, tmp_path)
    assert len(probs) == 11 and probs[-1].row is None and "more row(s)" in probs[-1].message


# -- merge ----------------------------------------------------------------------------

def test_merge_adds_uploads_and_rejects_clashes_without_touching_the_base(small):
    story = load_telemetry(STORY_DIR)
    before = story.pumps.copy()
    merged = merge(story, small)
    assert merged.pump_ids() == story.pump_ids() + ["p-1", "p-2"]
    assert len(merged.pump("p-2").samples) == 72
    with pytest.raises(TelemetryError) as info:
        merge(merged, small)
    assert [p.message.split(" already")[0] for p in info.value.problems] == ["pump id 'p-1'", "pump id 'p-2'"]
    assert story.pumps.equals(before) and len(merged.pumps) == len(before) + 2


# -- PumpTelemetry ----------------------------------------------------------------------

def test_pump_view(small):
    p = small.pump("p-1")
    assert p.now() == T0 + timedelta(days=3)
    assert p.reservoir_now_ml() == p.samples["reservoir_estimate_ml"].iloc[-1]  # what interrogation shows
    assert p.current_program().rate_ml_per_day == 0.5
    case = p.case()
    assert case.pump.profile == "programmable-20" and case.now == p.now() and case.proposed == case.current
    assert case.pump.low_reservoir_alarm_ml == 2.0 and case.pump.catheter_volume_ml == 0.25
    r = p.refills()
    assert list(r.columns) == ["date", "expected_residual_ml", "withdrawn_ml", "added_ml", "discrepancy_ml",
                               "flagged"]
    with pytest.raises(KeyError, match="p-7"):
        small.pump("p-7")


def test_refill_flag_uses_the_profile_threshold(small):
    p = small.pump("p-2")  # 40 mL pump: 2 mL
    ev = p.events.copy()
    i = ev.index[ev["kind"] == "refill"][0]
    ev.loc[i, "withdrawn_ml"] = ev.loc[i, "expected_residual_ml"] + 1.5
    assert not type(p)(p.info, p.samples, ev).refills()["flagged"].any()
    p1 = small.pump("p-1")  # 20 mL pump: 1 mL
    ev = p1.events.copy()
    ev.loc[ev["kind"] == "refill", "withdrawn_ml"] += 1.5
    assert type(p1)(p1.info, p1.samples, ev).refills()["flagged"].all()


# -- story patients ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def story() -> Telemetry:
    return load_telemetry(STORY_DIR)


def test_story_covers_the_library(story):
    # Load speed is a bench figure (bench/), not a timed unit test: under CI load it measures the machine.
    assert len(story.pump_ids()) >= 8
    assert set(story.pumps["profile"]) == set(library.pump_profiles())
    drugs = {d for pid in story.pump_ids() for _, prog in story.pump(pid).programs() for d in prog.drug_names}
    assert drugs == set(library.drugs())
    assert (story.pumps["group"] == "story").all() and story.pumps["story"].str.len().min() > 200
    assert story.pumps["next_appointment"].notna().all()
    for pid in story.pump_ids():
        p = story.pump(pid)
        assert p.now() == datetime(2026, 11, 21, 9, 0)
        assert p.next_appointment() > p.now()
        assert 365 <= (p.now() - p.samples["timestamp"].iloc[0].to_pydatetime()).days <= 731
        evaluate(p.case())  # every story pump is an evaluable case


def test_story_data_is_what_the_scenarios_generate(story):
    for path in sorted(SCENARIOS.glob("*.yaml")):
        r = simulate(load_scenario(path))
        pid = r.pump["pump_id"]
        p = story.pump(pid)
        s = r.samples.to_pandas()
        np.testing.assert_array_equal(p.samples["reservoir_ml"].to_numpy(), s["reservoir_ml"].to_numpy(), pid)
        assert p.events["kind"].tolist() == r.events.column("kind").to_pylist()


def test_story_a_baclofen_pump_nearly_runs_dry(story):
    p = story.pump("story-a")
    assert p.current_program().drug_names == ["baclofen"] and p.info["indication"] == "spasticity_spinal"
    r = p.refills()
    late = r[r["date"] == pd.Timestamp("2026-03-18T10:00")]
    assert len(late) == 1 and late["withdrawn_ml"].iloc[0] < 1.0
    alarms = p.events[p.events["kind"] == "alarm_low_reservoir"]["timestamp"]
    assert ((alarms > pd.Timestamp("2026-03-10")) & (alarms < pd.Timestamp("2026-03-18T10:00"))).any()
    assert p.samples["reservoir_ml"].min() > 0  # nearly, not quite


def test_story_b_admixture_with_heavy_ptm_use_and_denials(story):
    p = story.pump("story-b")
    assert p.current_program().drug_names == ["morphine", "bupivacaine", "clonidine"]
    kinds = p.events["kind"].value_counts()
    assert kinds["ptm_granted"] > 500 and kinds["ptm_denied_lockout"] > 100 and kinds["ptm_denied_daily_max"] > 50


def test_story_c_ziconotide_titration_follows_the_label(story):
    p = story.pump("story-c")
    progs = p.programs()
    doses = [prog.concentrations()["ziconotide"] * prog.rate_ml_per_day for _, prog in progs]
    steps = np.diff(doses)
    assert doses[0] == pytest.approx(2.4) and max(steps) <= 2.4 + 1e-9 and max(doses) > 7
    r = p.refills()
    assert (r["date"].iloc[0] - p.samples["timestamp"].iloc[0]).days <= 14  # first fill replaced
    assert r["date"].diff().dt.days.max() <= 84


def test_story_d_pocket_fill_is_caught_by_the_refill_discrepancy(story):
    p = story.pump("story-d")
    r = p.refills()
    assert r["flagged"].sum() == 1
    flagged = r[r["flagged"]].iloc[0]
    assert flagged["date"] == pd.Timestamp("2026-05-27T14:00") and flagged["discrepancy_ml"] < -4
    fills = p.events[p.events["kind"] == "refill"]["details"].map(json.loads)
    assert [d["pocket_fill"] for d in fills].count(True) == 1


def test_story_e_mri_motor_stall(story):
    p = story.pump("story-e")
    stall = p.events[p.events["kind"] == "alarm_motor_stall"]
    assert len(stall) == 1 and stall["severity"].iloc[0] == "critical"
    h = json.loads(stall["details"].iloc[0])["restart_after_h"]
    s = p.samples.set_index("timestamp")
    window = s.loc[stall["timestamp"].iloc[0]: stall["timestamp"].iloc[0] + pd.Timedelta(hours=h - 1)]
    assert len(window) == h and (window["delivered_ml"] == 0).all()
    assert (p.events["kind"] == "clinician_bolus").sum() == 1


def test_story_f_eri_then_end_of_service_before_the_next_appointment(story):
    p = story.pump("story-f")
    eri = p.events[p.events["kind"] == "alarm_eri"]
    assert len(eri) == 1 and eri["severity"].iloc[0] == "non_critical"
    eos = p.case().pump.end_of_service_at
    assert eos == eri["timestamp"].iloc[0] + timedelta(days=90)
    assert p.now() < eos < p.next_appointment()
    codes = {w.code for w in evaluate(p.case()).warnings}
    assert "BATTERY_END_OF_SERVICE_BEFORE_APPOINTMENT" in codes


def test_story_g_constant_flow_dose_changes_by_concentration_only(story):
    p = story.pump("story-g")
    progs = [prog for _, prog in p.programs()]
    assert {prog.rate_ml_per_day for prog in progs} == {1.0}
    assert [prog.concentrations()["morphine"] for prog in progs] == [2, 3, 4]
    assert p.samples["battery_pct"].isna().all() and p.case().pump.end_of_service_at is None


def test_story_h_catheter_occlusion_interrupts_baclofen(story):
    p = story.pump("story-h")
    occ = p.events[p.events["kind"] == "alarm_catheter_occlusion"]
    assert len(occ) == 1 and p.info["indication"] == "spasticity_cerebral"
    start = occ["timestamp"].iloc[0]
    s = p.samples[(p.samples["timestamp"] >= start) & (p.samples["timestamp"] < start + pd.Timedelta(hours=40))]
    assert len(s) == 40 and (s["delivered_ml"] == 0).all()


def test_shipped_cohort_loads():
    tel = load_telemetry(COHORT_DIR)
    assert len(tel.pump_ids()) >= 100 and set(tel.pumps["group"]) == {"cohort"}
    counts = tel.samples.groupby("pump_id").size()
    assert counts.min() == counts.max() == 365 * 24


def test_parquet_partition_with_missing_column_or_text_numbers(small, tmp_path):
    write_telemetry(small, tmp_path / "pq")
    part = tmp_path / "pq" / "events" / "pump_id=p-2" / "part-0.parquet"
    pd.read_parquet(part).drop(columns=["severity"]).to_parquet(part, index=False)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(tmp_path / "pq")
    assert [(p.file, p.column, p.message) for p in info.value.problems] == [
        ("events/pump_id=p-2/part-0.parquet", "severity", "missing column")]
    write_telemetry(small, tmp_path / "pq2")
    part = tmp_path / "pq2" / "samples" / "pump_id=p-1" / "part-0.parquet"
    df = pd.read_parquet(part)
    df["delivered_ml"] = df["delivered_ml"].astype(str)
    df.loc[9, "delivered_ml"] = "n/a"
    df.to_parquet(part, index=False)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(tmp_path / "pq2")
    assert [(p.file, p.column, p.row) for p in info.value.problems] == [
        ("samples/pump_id=p-1/part-0.parquet", "delivered_ml", 9)]


def test_shipped_cohort_is_what_the_generator_draws():
    """sample_data/cohort = `simulate --pumps 200 --days 365 --seed 2026` (checked on a few pumps)."""
    from pumpmodel.cohort import random_scenario

    tel = load_telemetry(COHORT_DIR)
    for i in (0, 57, 199):
        r = simulate(random_scenario(i, 365, 2026))
        p = tel.pump(r.pump["pump_id"])
        np.testing.assert_array_equal(p.samples["delivered_ml"].to_numpy(), r.samples.column("delivered_ml").to_numpy())
        assert p.events["kind"].tolist() == r.events.column("kind").to_pylist()


# -- regressions (code review) ----------------------------------------------------------

def test_nearly_flat_battery_trend_is_not_projectable_instead_of_overflowing(small):
    """A battery falling 1e-6 % in 30 days would reach ERI in ~1e11 h: timedelta overflowed
    and every clinician page crashed. Beyond ~50 years the projection is None."""
    p = small.pump("p-1")
    s = p.samples.copy()
    s["battery_pct"] = 80.0
    s.loc[s.index[-1], "battery_pct"] = 79.999999
    flat = type(p)(p.info, s, p.events)
    assert flat.end_of_service_at() is None
    assert flat.case().pump.end_of_service_at is None
    s.loc[s.index[-1], "battery_pct"] = 79.999999999999  # smaller still
    assert type(p)(p.info, s, p.events).end_of_service_at() is None
    # a normal trend still projects
    s["battery_pct"] = np.linspace(80, 79.9, len(s))
    eos = type(p)(p.info, s, p.events).end_of_service_at()
    assert eos is not None and p.now() < eos < p.now() + timedelta(days=365 * 50)


def test_battery_trend_end_of_service_hand_computed(small):
    """Battery falling 0.01 % per hour from 80 % at the first sample: it reaches the 5 % ERI level
    75 / 0.01 = 7500 h after the first sample, whatever the series length; end of service is
    ERI + 90 days (programmable-20, pumps.yaml eri_to_eos_days)."""
    p = small.pump("p-1")
    s = p.samples.copy()
    first = s["timestamp"].iloc[0].to_pydatetime()
    hours = (s["timestamp"] - s["timestamp"].iloc[0]).dt.total_seconds() / 3600
    s["battery_pct"] = 80.0 - 0.01 * hours
    eos = type(p)(p.info, s, p.events.iloc[0:0]).end_of_service_at()  # no ERI/EOS alarm logged
    expected = first + timedelta(hours=7500) + timedelta(days=90)
    assert abs((eos - expected).total_seconds()) <= 1
    # only the last 30 days count: a faster fall long ago does not move the projection
    s2 = s.copy()
    s2.loc[s2.index[0], "battery_pct"] = 99.0
    older = s2.iloc[:1].copy()
    older["timestamp"] = older["timestamp"] - pd.Timedelta(days=40)
    s2 = pd.concat([older, s], ignore_index=True)
    eos2 = type(p)(p.info, s2, p.events.iloc[0:0]).end_of_service_at()
    assert abs((eos2 - expected).total_seconds()) <= 1


def test_refill_discrepancy_equal_to_the_limit_is_not_flagged(small):
    """Same inclusive rule as the engine's REFILL_DISCREPANCY (pumpmodel.units.above)."""
    # as a clinician records them: 2.14 - 1.14 and 4.03 - 2.03 are a hair above 1 and 2 in float64
    for pid, expected, withdrawn in (("p-1", 1.14, 2.14), ("p-2", 2.03, 4.03)):
        p = small.pump(pid)
        ev = p.events.copy()
        refill = ev["kind"] == "refill"
        ev.loc[refill, "expected_residual_ml"] = expected
        ev.loc[refill, "withdrawn_ml"] = withdrawn
        r = type(p)(p.info, p.samples, ev).refills()
        assert not r["flagged"].any(), pid
        ev.loc[refill, "withdrawn_ml"] = withdrawn + 0.01
        assert type(p)(p.info, p.samples, ev).refills()["flagged"].all(), pid


def _combined_parquet(tel: Telemetry, **replace) -> bytes:
    t = pa.Table.from_pandas(to_combined(tel), preserve_index=False)
    for name, arr in replace.items():
        t = t.set_column(t.column_names.index(name), name, arr)
    buf = io.BytesIO()
    pq.write_table(t, buf)
    return buf.getvalue()


def test_list_and_invalid_utf8_columns_are_telemetry_problems(small):
    n = len(to_combined(small))
    lists = pa.array([[1.0]] * n, pa.list_(pa.float64()))
    with pytest.raises(TelemetryError) as info:
        load_telemetry(_combined_parquet(small, delivered_ml=lists), name="all.parquet")
    assert [(p.file, p.column) for p in info.value.problems] == [("all.parquet", "delivered_ml")]
    labels = to_combined(small)["patient_label"].astype(object)
    raw = [None if pd.isna(v) else str(v).encode() for v in labels]
    raw[1] = b"Patient \xff\xfe"  # row 1 is the second pump (pumps rows come first)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(_combined_parquet(small, patient_label=pa.array(raw, pa.binary())), name="all.parquet")
    [p] = info.value.problems
    assert (p.file, p.column, p.row) == ("all.parquet", "patient_label", 1) and "UTF-8" in p.message


def test_header_only_combined_csv_is_a_telemetry_problem(small):
    header = to_combined(small).head(0).to_csv(index=False).encode()
    with pytest.raises(TelemetryError) as info:
        load_telemetry(header, name="empty.csv")
    assert all(p.file == "empty.csv" for p in info.value.problems)
    assert "no pumps" in str(info.value)


def test_invalid_utf8_csv_is_a_telemetry_problem(small):
    data = to_combined(small).to_csv(index=False).encode().replace(b"Test", b"T\xffst", 1)
    with pytest.raises(TelemetryError) as info:
        load_telemetry(data, name="all.csv")
    assert info.value.problems[0].file == "all.csv"


def _with_program(small, tmp_path, program: dict, pid: str = "p-1") -> list[Problem]:
    f = frames_of(small)
    ev = f["events"]
    i = ev.index[(ev["kind"] == "program_change") & (ev["pump_id"] == pid)][0]
    ev.loc[i, "details"] = json.dumps({"old": None, "new": program})
    return i, problems_for(f, tmp_path)


def test_program_that_does_not_fit_the_pump_profile_names_the_row(small, tmp_path):
    """11 flex steps loaded, then every page showed '1 validation error for Case'."""
    steps = [{"start": f"{h:02d}:00", "rate_ml_per_day": 0.5} for h in range(11)]
    drugs = [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"}]
    i, probs = _with_program(small, tmp_path, {"drugs": drugs, "mode": "flex", "steps": steps})
    assert [(p.file.split("/")[-1], p.column, p.row) for p in probs] == [("events.csv", "details", i)]
    assert "11 flex steps" in probs[0].message and "programmable-20" in probs[0].message
    # ten steps are allowed
    f = frames_of(small)
    ev = f["events"]
    j = ev.index[(ev["kind"] == "program_change") & (ev["pump_id"] == "p-1")][0]
    ev.loc[j, "details"] = json.dumps({"old": None, "new": {"drugs": drugs, "mode": "flex", "steps": steps[:10]}})
    tel = load_telemetry(write_csv(f, tmp_path / "ok"))
    tel.pump("p-1").case()
    # a weekday program on a pump without weekday flex (valve-gated)
    week = {d: steps[:2] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    i, probs = _with_program(small, tmp_path, {"drugs": drugs, "mode": "flex", "week": week}, pid="p-2")
    assert [(p.column, p.row) for p in probs] == [("details", i)] and "weekday" in probs[0].message


def test_the_pump_shows_its_own_reservoir_estimate_not_the_true_volume(story):
    """story-d (pocket fill): the true volume and the pump's estimate differ by mL; a
    clinician (and the engine's expected residual) only ever sees the estimate."""
    p = story.pump("story-d")
    s = p.samples
    assert s["reservoir_estimate_ml"].dtype == "float64"
    assert abs(s["reservoir_estimate_ml"] - s["reservoir_ml"]).max() > 5
    assert p.reservoir_now_ml() == s["reservoir_estimate_ml"].iloc[-1]
    assert p.case().reservoir_ml == max(0.0, s["reservoir_estimate_ml"].iloc[-1])
    for pid in story.pump_ids():  # every refill's expected residual is the estimate just before it
        q = story.pump(pid)
        ref = q.events[q.events["kind"] == "refill"]
        est = q.samples.set_index("timestamp")["reservoir_estimate_ml"]
        before = est.reindex(ref["timestamp"] - pd.Timedelta(hours=1)).to_numpy()
        np.testing.assert_allclose(ref["expected_residual_ml"].to_numpy(), np.maximum(before, 0), atol=1e-6)


def test_files_without_the_estimate_column_load_with_estimate_equal_to_the_volume(small, tmp_path):
    f = frames_of(small)
    f["samples"] = f["samples"].drop(columns=["reservoir_estimate_ml"])
    tel = load_telemetry(write_csv(f, tmp_path / "old"))
    np.testing.assert_array_equal(tel.samples["reservoir_estimate_ml"], tel.samples["reservoir_ml"])
    assert tel.pump("p-1").reservoir_now_ml() == tel.pump("p-1").samples["reservoir_ml"].iloc[-1]
    # an older Parquet folder (partitions without the column), and empty cells
    write_telemetry(small, tmp_path / "pq")
    part = tmp_path / "pq" / "samples" / "pump_id=p-2" / "part-0.parquet"
    pd.read_parquet(part).drop(columns=["reservoir_estimate_ml"]).to_parquet(part, index=False)
    tel = load_telemetry(tmp_path / "pq")
    s = tel.pump("p-2").samples
    np.testing.assert_array_equal(s["reservoir_estimate_ml"], s["reservoir_ml"])
    s1 = tel.pump("p-1").samples
    np.testing.assert_array_equal(s1["reservoir_estimate_ml"], small.pump("p-1").samples["reservoir_estimate_ml"])
    f = frames_of(small)
    f["samples"].loc[5, "reservoir_estimate_ml"] = None
    tel = load_telemetry(write_csv(f, tmp_path / "holes"))
    assert tel.samples["reservoir_estimate_ml"].iloc[5] == tel.samples["reservoir_ml"].iloc[5]
    # the estimate is range-checked like the volume
    f = frames_of(small)
    f["samples"].loc[6, "reservoir_estimate_ml"] = -1
    f["samples"].loc[7, "reservoir_estimate_ml"] = 15000
    probs = problems_for(f, tmp_path / "bad2")
    assert [(p.column, p.row) for p in probs] == [("reservoir_estimate_ml", 6), ("reservoir_estimate_ml", 7)]


# -- one pump by hand (PumpTelemetry), every figure worked out in the comment --------------

H0 = datetime(2026, 1, 1)
BACLOFEN = {"drugs": [{"drug": "baclofen", "concentration": 500, "unit": "mcg/mL"}], "mode": "simple_continuous",
            "rate_ml_per_day": 0.5}
TRIAL = json.dumps({"type": "repeated_boluses", "drug": "baclofen", "unit": "mcg", "indication": "spasticity_spinal",
                    "doses": [{"kind": "bolus", "at": "2025-11-02T09:00:00", "amount": 50.0},
                              {"kind": "bolus", "at": "2025-11-03T09:00:00", "amount": 75.0}],
                    "scale": "modified_ashworth",
                    "readings": [{"at": "2025-11-02T08:30:00", "score": 3.5},
                                 {"at": "2025-11-02T13:00:00", "score": 2.0}]})


def _program_change(at: datetime, rate: float = 0.5) -> dict:
    return {"timestamp": pd.Timestamp(at), "kind": "program_change", "severity": "info",
            "details": json.dumps({"old": None, "new": {**BACLOFEN, "rate_ml_per_day": rate}})}


def _pump(samples=None, events=None, **info):
    """programmable-20 pump 'A' (ERI to end of service: 90 days), 3 hourly samples from 2026-01-01 00:00
    holding 10, 9.5, 9 mL (the pump's estimate), one programme at 00:00 unless told otherwise."""
    from pumpmodel.telemetry import PumpTelemetry

    base = {"pump_id": "A", "profile": "programmable-20", "indication": "spasticity_spinal",
            "low_reservoir_alarm_ml": 2.0, "catheter_volume_ml": 0.2, "next_appointment": pd.Timestamp(2026, 2, 1),
            "trial": None}
    if samples is None:
        samples = pd.DataFrame({"timestamp": pd.date_range(H0, periods=3, freq="h"),
                                "reservoir_ml": [10.0, 9.5, 9.0], "reservoir_estimate_ml": [10.0, 9.5, 9.0],
                                "battery_pct": np.nan})
    if events is None:
        events = pd.DataFrame([_program_change(H0)])
    for c in ("expected_residual_ml", "withdrawn_ml", "added_ml"):  # refill volumes (a loaded table has them)
        if c not in events:
            events[c] = np.nan
    return PumpTelemetry(info=pd.Series({**base, **info}), samples=samples, events=events)


def _battery(points: list[tuple[datetime, float]]) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": [pd.Timestamp(t) for t, _ in points], "reservoir_ml": 5.0,
                         "battery_pct": [b for _, b in points]})


def test_pump_without_programme_or_samples_says_so():
    with pytest.raises(ValueError) as info:
        _pump(events=pd.DataFrame(columns=["timestamp", "kind", "severity", "details"])).current_program()
    assert str(info.value) == "pump A has no program_change event: no program known"
    with pytest.raises(ValueError) as info:
        _pump(samples=pd.DataFrame(columns=["timestamp", "reservoir_ml"])).now()
    assert str(info.value) == "pump A has no samples"


def test_case_history_and_settings_by_hand():
    """now = last sample (02:00) + 1 h = 03:00. Programmes: 00:00 (0.5 mL/day), two sent in the same second
    at 01:00 (0.6 then 0.7: file order kept), one at exactly 03:00 (= now: in the history, current) and
    one at 05:00 (after now: not in the history, but still the last programme)."""
    from pumpmodel.programs import HistoryEntry, Program

    times = [H0, H0 + timedelta(hours=1), H0 + timedelta(hours=1), H0 + timedelta(hours=3), H0 + timedelta(hours=5)]
    rates = [0.5, 0.6, 0.7, 0.8, 0.9]
    p = _pump(events=pd.DataFrame([_program_change(t, r) for t, r in zip(times, rates)]))
    assert [(t, prog.rate_ml_per_day) for t, prog in p.programs()] == list(zip(times, rates))
    case = p.case()
    assert case.now == datetime(2026, 1, 1, 3, 0)
    assert case.history == [HistoryEntry(at=t, program=Program.model_validate({**BACLOFEN, "rate_ml_per_day": r}))
                            for t, r in zip(times[:4], rates[:4])]
    assert case.current.rate_ml_per_day == 0.9 and case.proposed == case.current
    assert case.reservoir_ml == 9.0  # the estimate at the last sample
    assert case.indication == "spasticity_spinal" and case.next_appointment == datetime(2026, 2, 1)
    assert (case.pump.profile, case.pump.low_reservoir_alarm_ml, case.pump.catheter_volume_ml) == \
        ("programmable-20", 2.0, 0.2)
    other = Program.model_validate({**BACLOFEN, "rate_ml_per_day": 0.4})
    assert p.case(proposed=other).proposed == other


def test_case_of_a_pump_with_gaps_in_its_record():
    """No indication, alarm level or catheter volume recorded: None in the case (not NaN, not 0);
    an estimate of 0.4 mL is 0.4 (not rounded up), one below 0 is 0."""
    s = pd.DataFrame({"timestamp": pd.date_range(H0, periods=2, freq="h"), "reservoir_ml": [1.0, 0.5],
                      "reservoir_estimate_ml": [1.0, 0.4], "battery_pct": np.nan})
    case = _pump(samples=s, indication=np.nan, low_reservoir_alarm_ml=np.nan, catheter_volume_ml=None,
                 next_appointment=pd.NaT).case()
    assert case.indication is None and case.next_appointment is None
    assert case.pump.low_reservoir_alarm_ml is None and case.pump.catheter_volume_ml is None
    assert case.reservoir_ml == 0.4
    s["reservoir_estimate_ml"] = [1.0, -0.2]
    assert _pump(samples=s).case().reservoir_ml == 0.0
    # only the programme after "now" is known: no history at all (None, not an empty list)
    late = _pump(events=pd.DataFrame([_program_change(H0 + timedelta(hours=5))])).case()
    assert late.history is None


def test_reservoir_series_is_the_estimate_where_recorded():
    s = pd.DataFrame({"timestamp": pd.date_range(H0, periods=3, freq="h"), "reservoir_ml": [10.0, 9.5, 9.0],
                      "reservoir_estimate_ml": [9.8, np.nan, 8.7]})
    assert _pump(samples=s).reservoir_series_ml().tolist() == [9.8, 9.5, 8.7]
    assert _pump(samples=s.drop(columns=["reservoir_estimate_ml"])).reservoir_series_ml().tolist() == [10.0, 9.5, 9.0]
    assert _pump(samples=s.drop(columns=["reservoir_estimate_ml"])).reservoir_now_ml() == 9.0


def test_trial_record():
    from pumpmodel.trial.record import Trial

    assert _pump().trial() is None and _pump(trial=np.nan).trial() is None
    t = _pump(trial=TRIAL).trial()
    assert t == Trial.model_validate_json(TRIAL) and t.doses[0].amount == 50.0


def test_refills_of_a_pump_without_refills_can_still_be_filtered():
    r = _pump().refills()
    assert len(r) == 0 and r["flagged"].dtype == bool and len(r[r["flagged"]]) == 0


def _alarm(kind: str, at: datetime) -> dict:
    return {"timestamp": pd.Timestamp(at), "kind": kind, "severity": "non_critical", "details": None}


def test_end_of_service_logged_or_after_eri():
    """A logged end of service is the answer (the first one); else the first ERI alarm + 90 days
    (programmable-20); a pump without battery (constant flow) has none."""
    eos1, eos2, eri = datetime(2026, 5, 1, 7), datetime(2026, 6, 1), datetime(2026, 3, 1, 12)
    ev = pd.DataFrame([_program_change(H0), _alarm("alarm_eri", eri), _alarm("alarm_end_of_service", eos1),
                       _alarm("alarm_end_of_service", eos2)])
    assert _pump(events=ev).end_of_service_at() == eos1
    ev = pd.DataFrame([_program_change(H0), _alarm("alarm_eri", eri), _alarm("alarm_eri", eos2)])
    assert _pump(events=ev).end_of_service_at() == eri + timedelta(days=90)
    ev = pd.DataFrame([_program_change(H0), _alarm("alarm_end_of_service", eos1)])
    assert _pump(events=ev, profile="constant-flow-30").end_of_service_at() is None


T_B = datetime(2026, 1, 1)


@pytest.mark.parametrize("points, hours_after_last", [
    # two readings 10 h apart, 90 -> 89 %: 0.1 %/h; (89 - 5) / 0.1 = 840 h to ERI, + 90 days = 2160 h
    ([(T_B, 90.0), (T_B + timedelta(hours=10), 89.0)], 840 + 2160),
    # only the last 30 days count, from exactly 30 days before the last reading (T+10 d) on:
    # 90 -> 89 % in 720 h; (89 - 5) x 720 = 60480 h (readings at T and T+9.5 d are older)
    ([(T_B, 95.0), (T_B + timedelta(days=9, hours=12), 92.0), (T_B + timedelta(days=10), 90.0),
      (T_B + timedelta(days=40), 89.0)], 60480 + 2160),
    # one reading in the last 30 days: the whole series, 95 -> 89 % in 960 h: (89 - 5) / (6 / 960) = 13440 h
    ([(T_B, 95.0), (T_B + timedelta(days=40), 89.0)], 13440 + 2160),
    # readings half an hour apart, 90 -> 89.9 %: 0.2 %/h; (89.9 - 5) / 0.2 = 424.5 h
    ([(T_B, 90.0), (T_B + timedelta(minutes=30), 89.9)], 424.5 + 2160),
    # already below the ERI level (6 -> 4 % in 10 h): ERI is now, end of service 90 days on
    ([(T_B, 6.0), (T_B + timedelta(hours=10), 4.0)], 0 + 2160),
    # 96 -> 95 % in 4846 h: (95 - 5) x 4846 = 436140 h, + 2160 = 438300 h = exactly 50 years of 365.25 days
    ([(T_B, 96.0), (T_B + timedelta(hours=4846), 95.0)], 436140 + 2160),
    # one hour longer: 90 x 4847 + 2160 = 438390 h, beyond 50 years: not projectable
    ([(T_B, 96.0), (T_B + timedelta(hours=4847), 95.0)], None),
    # a single reading, or none falling: no trend
    ([(T_B, 90.0)], None),
    ([(T_B, 90.0), (T_B + timedelta(hours=10), 90.0)], None),
    ([(T_B, 90.0), (T_B + timedelta(hours=10), 91.0)], None),
])
def test_end_of_service_from_the_battery_trend(points, hours_after_last):
    eos = _pump(samples=_battery(points)).end_of_service_at()
    if hours_after_last is None:
        assert eos is None
    else:
        expected = points[-1][0] + timedelta(hours=hours_after_last)
        assert eos is not None and abs((eos - expected).total_seconds()) < 1


# -- problems word for word: uploads, zips, merge ------------------------------------------

def test_problem_and_error_texts():
    assert str(Problem(file="f.csv", column="c", row=3, message="m")) == "f.csv, column 'c', row 3: m"
    assert str(Problem(file="f.csv", row=0, message="m")) == "f.csv, row 0: m"
    assert str(Problem(file="f.csv", column="c", message="m")) == "f.csv, column 'c': m"
    assert str(Problem(file="f.csv", message="m")) == "f.csv: m"
    one = TelemetryError([Problem(file="a", message="x")])
    assert str(one) == "1 problem in the telemetry:\n  - a: x" and one.args == (str(one),)
    two = TelemetryError([Problem(file="a", message="x"), Problem(file="b", row=1, message="y")])
    assert str(two) == "2 problems in the telemetry:\n  - a: x\n  - b, row 1: y"


def _problems(source, name=None) -> list[tuple]:
    with pytest.raises(TelemetryError) as info:
        load_telemetry(source, name=name)
    return [(p.file, p.column, p.row, p.message) for p in info.value.problems]


def test_upload_names_and_types(small):
    assert _problems(b"hello", "notes.txt") == [
        ("notes.txt", None, None, "unsupported file type: upload a .zip of a telemetry folder, or one combined "
                                  ".csv/.parquet file")]
    assert _problems(small.samples.to_csv(index=False).encode(), "samples.csv") == [
        ("samples.csv", "table", None, "a single uploaded file must hold all three tables stacked, with a 'table' "
                                       "column (pumps | samples | events); for separate tables upload a .zip of "
                                       "the folder")]
    assert _problems(b"x", None) == [("upload", None, None, "an uploaded file needs its file name")]
    # the extension in capitals is the same type
    combined = to_combined(small)
    assert_same(small, load_telemetry(combined.to_csv(index=False).encode(), name="ALL.CSV"))
    buf = io.BytesIO()
    combined.to_parquet(buf)
    assert_same(small, load_telemetry(buf.getvalue(), name="All.Parquet"))
    assert_same(small, load_telemetry(to_zip(small), name="EXPORT.ZIP"))


def test_a_duplicate_header_names_the_uploaded_file(small):
    combined = to_combined(small)
    text = combined.to_csv(index=False)
    head, rest = text.split("\n", 1)
    assert _problems((head.replace(",story,", ",story,story,", 1) + "\n" + rest).encode(), "all.csv")[0] == \
        ("all.csv", "story", None, "column appears twice in the header")

    t = pa.Table.from_pandas(combined, preserve_index=False)
    t = t.append_column("group", t.column("group"))
    buf = io.BytesIO()
    pq.write_table(t, buf)
    assert _problems(buf.getvalue(), "all.parquet") == [("all.parquet", "group", None,
                                                         "column appears twice in the header")]


def test_combined_file_table_column_and_columns(small):
    """Rows of the combined file count from 0 after the header: pumps 0-1, then samples."""
    c = to_combined(small)
    c.loc[[3, 4], "table"] = ["sample", "event"]
    assert _problems(c.to_csv(index=False).encode(), "all.csv") == [
        ("all.csv", "table", 3, "must be one of pumps, samples, events"),
        ("all.csv", "table", 4, "must be one of pumps, samples, events")]
    c = to_combined(small).assign(colour="red").drop(columns=["severity", "reservoir_estimate_ml"])
    assert _problems(c.to_csv(index=False).encode(), "all.csv") == [
        ("all.csv", "colour", None, "unexpected column (not in the telemetry format)"),
        ("all.csv", "severity", None, "missing column")]  # the estimate is optional


def test_not_utf8_cells_are_named_by_their_row_in_the_combined_file(small):
    """Invalid bytes in the details of two events that are not programme changes: the problems give
    their rows in the combined file (after 2 pumps and all the samples), not within the events;
    empty cells stay empty."""

    c = to_combined(small)
    rows = c.index[(c["table"] == "events") & (c["kind"] != "program_change")][:2].tolist()
    assert rows[0] >= 2 + len(small.samples)
    raw = [None if pd.isna(v) else str(v).encode() for v in c["details"]]
    raw[rows[0]], raw[rows[1]] = b"\xff", b"caf\xe9"
    with pytest.raises(TelemetryError) as info:
        load_telemetry(_combined_parquet(small, details=pa.array(raw, pa.binary())), name="all.parquet")
    assert [(p.file, p.column, p.row, p.message) for p in info.value.problems] == [
        ("all.parquet", "details", rows[0], "not UTF-8 text"), ("all.parquet", "details", rows[1], "not UTF-8 text")]


def _csv_files(tel: Telemetry, prefix: str = "") -> dict[str, bytes]:
    return {f"{prefix}{n}.csv": df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()
            for n, df in frames_of(tel).items()}


def test_zip_layouts(small):
    # one folder and a readme beside it: the folder is the telemetry
    assert_same(small, load_telemetry(zipfile_bytes({**_csv_files(small, "mydata/"), "readme.txt": b"hi"}), name="x.zip"))
    # the tables at the top and some other folder: the top is the telemetry
    assert_same(small, load_telemetry(zipfile_bytes({**_csv_files(small), "docs/readme.txt": b"hi"}), name="x.zip"))
    # problems name the zip and the member
    files = _csv_files(small)
    files["samples.csv"] = files["samples.csv"].replace(b"p-1,", b"p-9,", 1)
    got = _problems(zipfile_bytes(files), "up.zip")
    assert got[0][:3] == ("up.zip:samples.csv", "pump_id", 0)
    del files["events.csv"]
    assert _problems(zipfile_bytes(files), "up.zip") == [
        ("up.zip:events.csv", None, None, "file missing (a CSV telemetry folder holds pumps.csv, samples.csv and "
                                          "events.csv)")]


def test_zip_of_a_parquet_folder_without_events(small, tmp_path):
    """pumps.parquet at the top and one folder (samples/): the top is still the telemetry, and the
    missing events are said as such."""
    write_telemetry(small, tmp_path / "pq")
    files = {str(p.relative_to(tmp_path / "pq")): p.read_bytes() for p in (tmp_path / "pq").rglob("*.parquet")
             if "events" not in p.parts}
    got = _problems(zipfile_bytes(files), "pq.zip")
    assert got == [("pq.zip:pumps.parquet", "pump_id", 0, "pump has no program_change event (no program known) "
                                                          "(got 'p-1')"),
                   ("pq.zip:pumps.parquet", "pump_id", 1, "pump has no program_change event (no program known) "
                                                          "(got 'p-2')")]


def test_merge_problems_and_tables(small):
    from pumpmodel.telemetry import merge as merge_

    story = load_telemetry(STORY_DIR)
    with pytest.raises(TelemetryError) as info:
        merge_(small, small)
    assert [(p.file, p.column, p.row, p.message) for p in info.value.problems] == [
        ("upload", "pump_id", None, "pump id 'p-1' already exists in the loaded data; rename it"),
        ("upload", "pump_id", None, "pump id 'p-2' already exists in the loaded data; rename it")]
    m = merge_(story, small)
    n = len(story.pumps)
    assert m.pumps.index.tolist() == list(range(n + 2))
    assert m.samples.index.tolist() == list(range(len(story.samples) + len(small.samples)))
    assert m.events.index.tolist() == list(range(len(story.events) + len(small.events)))
    for df in (m.samples, m.events):
        assert isinstance(df["pump_id"].dtype, pd.CategoricalDtype)
    assert m.pump("p-1").samples["timestamp"].iloc[0] == small.pump("p-1").samples["timestamp"].iloc[0]


# -- Parquet partitions: folder and zip ------------------------------------------------------

@pytest.fixture(scope="module")
def small_pq(small, tmp_path_factory) -> Path:
    """``small`` written once as a Parquet folder (tests read it, never change it)."""
    folder = tmp_path_factory.mktemp("small_pq")
    write_telemetry(small, folder)
    return folder


def _pq_files(folder: Path, edit=None) -> dict[str, bytes]:
    """A Parquet telemetry folder as {relative path: bytes}, each partition passed through
    ``edit(rel, table) -> table`` first."""

    out = {}
    for p in sorted(folder.rglob("*.parquet")):
        rel = str(p.relative_to(folder))
        if edit is not None and rel != "pumps.parquet":
            t = edit(rel, pq.read_table(p))
            buf = io.BytesIO()
            pq.write_table(t, buf)
            out[rel] = buf.getvalue()
        else:
            out[rel] = p.read_bytes()
    return out


def _as_folder(files: dict[str, bytes], path: Path) -> Path:
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


# partition edits for _pq_files: each changes the partitions whose path contains ``match``
def _extra_column(match: str):
    def edit(rel, t):
        return t.append_column("temperature_c", pa.array([37.0] * len(t))) if match in rel else t
    return edit


def _without(match: str, column: str):
    def edit(rel, t):
        return t.drop_columns([column]) if match in rel else t
    return edit


def _many_columns(match: str, k: int = 60):
    def edit(rel, t):
        if match not in rel:
            return t
        for i in range(k):
            t = t.append_column(f"x{i:02d}", pa.array([0.0] * len(t)))
        return t
    return edit


def _as_lists(match: str, column: str = "delivered_ml"):
    def edit(rel, t):
        if match not in rel:
            return t
        i = t.schema.get_field_index(column)
        return t.set_column(i, column, pa.array([[v] for v in t.column(i).to_pylist()], pa.list_(pa.float64())))
    return edit


def test_partitions_holding_their_pump_id_column_load_the_same(small, small_pq, tmp_path):
    def with_id(rel, t):
        pid = rel.split("pump_id=")[1].split("/")[0]
        return t.append_column("pump_id", pa.array([pid] * len(t)))

    files = _pq_files(small_pq, with_id)
    assert_same(small, load_telemetry(zipfile_bytes(files), name="ids.zip"))
    assert_same(small, load_telemetry(_as_folder(files, tmp_path / "ids")))


def test_first_partition_without_the_optional_estimate_column(small, small_pq, tmp_path):
    """p-1's samples (the first partition) lack reservoir_estimate_ml, p-2's have it: the estimate of
    p-1 is its volume, p-2 keeps its own (a folder is scanned with the expected columns, not the
    first file's; a zip's partitions are joined permissively)."""
    files = _pq_files(small_pq, _without("samples/pump_id=p-1", "reservoir_estimate_ml"))
    for tel in (load_telemetry(_as_folder(files, tmp_path / "f")), load_telemetry(zipfile_bytes(files), name="f.zip")):
        s1, s2 = tel.pump("p-1").samples, tel.pump("p-2").samples
        np.testing.assert_array_equal(s1["reservoir_estimate_ml"], s1["reservoir_ml"])
        np.testing.assert_array_equal(s2["reservoir_estimate_ml"], small.pump("p-2").samples["reservoir_estimate_ml"])


def test_partition_problems_in_a_zip_name_the_member(small_pq):
    assert _problems(zipfile_bytes(_pq_files(small_pq, _extra_column("samples/pump_id=p-2"))), "z.zip") == [
        ("z.zip:samples/pump_id=p-2/part-0.parquet", "temperature_c", None,
         "unexpected column (not in the telemetry format)")]

    def twice(rel, t):
        return t.append_column("battery_pct", t.column("battery_pct")) if "samples/pump_id=p-1" in rel else t

    assert _problems(zipfile_bytes(_pq_files(small_pq, twice)), "z.zip") == [
        ("z.zip:samples/pump_id=p-1/part-0.parquet", "battery_pct", None, "column appears twice in the header")]

    got = _problems(zipfile_bytes(_pq_files(small_pq, _as_lists("samples/pump_id=p-2"))), "z.zip")
    assert len(got) == 1 and got[0][:3] == ("z.zip:samples", None, None)
    assert got[0][3].startswith("partitions have incompatible columns: ")


def test_a_scan_returning_files_out_of_order_is_regrouped_by_file(small, tmp_path, monkeypatch):
    """The multi-threaded scan of a folder may return files out of order: rows are put back in file
    order (each file's rows keep their order). Also with one row per file (2 rows in all)."""
    from pumpmodel import telemetry as tm

    real = tm.ds.dataset

    class Reversed:  # the last file's rows first, each file's rows in their own order
        def __init__(self, *a, **k):
            self.d = real(*a, **k)

        def to_table(self, columns):
            t = self.d.to_table(columns=columns)
            frag = t.column("__fragment_index").to_numpy()
            order = np.concatenate([np.flatnonzero(frag == f) for f in sorted(set(frag), reverse=True)])
            return t.take(pa.array(order))

    folder = tmp_path / "pq"
    write_telemetry(small, folder)
    monkeypatch.setattr(tm.ds, "dataset", Reversed)
    assert_same(small, load_telemetry(folder))
    # one sample per pump: two rows, from two files, the second file's first

    for pid in ("p-1", "p-2"):
        part = folder / "samples" / f"pump_id={pid}" / "part-0.parquet"
        pq.write_table(pq.read_table(part).slice(0, 1), part)
    tel = load_telemetry(folder)
    assert tel.samples["pump_id"].astype(str).tolist() == ["p-1", "p-2"]
    assert tel.samples["timestamp"].tolist() == [small.pump("p-1").samples["timestamp"].iloc[0],
                                                 small.pump("p-2").samples["timestamp"].iloc[0]]


def test_folder_layout_problems_name_the_file(small, tmp_path):
    files = _csv_files(small)
    only_pumps = _as_folder({"pumps.csv": files["pumps.csv"]}, tmp_path / "one")
    missing = "file missing (a CSV telemetry folder holds pumps.csv, samples.csv and events.csv)"
    assert _problems(only_pumps) == [("samples.csv", None, None, missing), ("events.csv", None, None, missing)]
    head, rest = files["samples.csv"].split(b"\n", 1)
    twice = {**files, "samples.csv": head + b",delivered_ml\n" + rest}
    assert _problems(_as_folder(twice, tmp_path / "twice")) == [
        ("samples.csv", "delivered_ml", None, "column appears twice in the header")]
    write_telemetry(small, tmp_path / "pq")
    t = pq.read_table(tmp_path / "pq" / "pumps.parquet")
    pq.write_table(t.append_column(pa.field("profile", pa.string()), t.column("profile")),
                   tmp_path / "pq" / "pumps.parquet")
    assert _problems(tmp_path / "pq") == [("pumps.parquet", "profile", None, "column appears twice in the header")]
    assert _problems(tmp_path / "nowhere") == [(str(tmp_path / "nowhere"), None, None, "no such file or folder")]
    (tmp_path / "empty").mkdir()
    assert _problems(tmp_path / "empty") == [("folder", None, None, "not a telemetry folder: no pumps.parquet or "
                                                                    "pumps.csv found")]
    assert _problems(zipfile_bytes({"a.txt": b"x"}), "x.zip") == [("x.zip:", None, None, "not a telemetry folder: no "
                                                                               "pumps.parquet or pumps.csv found")]


def test_folder_partition_columns_named_by_file(small_pq, tmp_path):
    assert _problems(_as_folder(_pq_files(small_pq, _extra_column("samples/pump_id=p-2")), tmp_path / "x")) == [
        ("samples/pump_id=p-2/part-0.parquet", "temperature_c", None, "unexpected column (not in the telemetry format)")]

    assert _problems(_as_folder(_pq_files(small_pq, _without("events/", "severity")), tmp_path / "y")) == [
        ("events/pump_id=p-1/part-0.parquet", "severity", None, "missing column"),
        ("events/pump_id=p-2/part-0.parquet", "severity", None, "missing column")]

    # 60 unexpected columns: the first 50 are listed
    got = _problems(_as_folder(_pq_files(small_pq, _many_columns("samples/pump_id=p-1")), tmp_path / "z"))
    assert [c for _, c, _, _ in got] == [f"x{k:02d}" for k in range(50)]


def test_folder_partition_with_timestamps_carrying_a_time_zone(small, small_pq, tmp_path):
    """A time zone on the timestamps is refused (pump-clock local time only), naming the partition and row."""

    def utc(rel, t):
        if "samples/pump_id=p-1" not in rel:
            return t
        i = t.schema.get_field_index("timestamp")
        return t.set_column(i, "timestamp", t.column(i).cast(pa.timestamp("s", tz="UTC")))

    files = _pq_files(small_pq, utc)
    for source, name, file in ((_as_folder(files, tmp_path / "f"), None, "samples/pump_id=p-1/part-0.parquet"),
                               (zipfile_bytes(files), "f.zip", "f.zip:samples/pump_id=p-1/part-0.parquet")):
        got = _problems(source, name)  # each row's time, read as text with its "Z": refused by row
        assert {(f, c) for f, c, _, _ in got} == {(file, "timestamp")}
        assert got[0][2:] == (0, "not an ISO 8601 timestamp without offset (e.g. 2026-11-21T09:00:00) "
                                 "(got '2026-03-02 00:00:00.000Z')")

    def millis(rel, t):  # another unit without a time zone is fine
        i = t.schema.get_field_index("timestamp")
        return t.set_column(i, "timestamp", t.column(i).cast(pa.timestamp("ms")))

    assert_same(small, load_telemetry(_as_folder(_pq_files(small_pq, millis), tmp_path / "ms")))


def test_csv_header_quoted_and_every_value_read_as_text(tmp_path, small):
    """Pump id 007 stays '007' (CSV cells are text until checked), also with quoted column names."""
    f = frames_of(small)
    for df in f.values():
        df["pump_id"] = df["pump_id"].map({"p-1": "007", "p-2": "008"})
    folder = write_csv(f, tmp_path / "ids")
    for name in ("pumps", "samples", "events"):
        path = folder / f"{name}.csv"
        head, rest = path.read_text().split("\n", 1)
        path.write_text(",".join(f'"{c}"' for c in head.split(",")) + "\n" + rest)
    tel = load_telemetry(folder)
    assert tel.pump_ids() == ["007", "008"] and len(tel.pump("007").samples) == len(small.pump("p-1").samples)


def test_a_parquet_file_too_large_when_decoded_is_named(tmp_path):
    (tmp_path / "big").mkdir()
    pq.write_table(pa.table({"pump_id": pa.nulls(6_000_000, pa.string())}), tmp_path / "big" / "pumps.parquet")
    assert _problems(tmp_path / "big") == [("pumps.parquet", None, None, "6,000,000 rows; at most 5,000,000")]
    data = (tmp_path / "big" / "pumps.parquet").read_bytes()
    assert _problems(zipfile_bytes({"pumps.parquet": data}), "b.zip") == [
        ("b.zip:pumps.parquet", None, None, "6,000,000 rows; at most 5,000,000")]


def test_ten_bad_rows_are_listed_and_more_are_summarised_naming_the_first_file(small, tmp_path):
    f = frames_of(small)
    f["samples"].loc[:9, "delivered_ml"] = -1.0  # exactly 10: each listed, no summary
    got = [(p.file, p.column, p.row, p.message) for p in problems_for(f, tmp_path / "ten")]
    assert got == [("samples.csv", "delivered_ml", r, "negative value (mL) (got -1.0)") for r in range(10)]
    # 11 bad rows in two partition files: 10 listed, then one line for the rest naming the first bad row's file
    write_telemetry(small, tmp_path / "pq")

    for pid, rows in (("p-1", [5]), ("p-2", list(range(10)))):
        part = tmp_path / "pq" / "samples" / f"pump_id={pid}" / "part-0.parquet"
        df = pq.read_table(part).to_pandas()
        df.loc[rows, "delivered_ml"] = -1.0
        df.to_parquet(part, index=False)
    got = _problems(tmp_path / "pq")
    assert got[0] == ("samples/pump_id=p-1/part-0.parquet", "delivered_ml", 5, "negative value (mL) (got -1.0)")
    assert got[1:10] == [("samples/pump_id=p-2/part-0.parquet", "delivered_ml", r, "negative value (mL) (got -1.0)")
                         for r in range(9)]
    assert got[10:] == [("samples/pump_id=p-1/part-0.parquet", "delivered_ml", None,
                         "negative value (mL): 1 more row(s) like this")]


def test_telemetry_tables_sliced_per_pump_by_hand():
    """Plain (not categorical) pump ids, rows grouped by pump: B has samples 1-2 and no events,
    C has neither; each pump's rows are numbered from 0 again, with the tables' own columns."""
    pumps = pd.DataFrame({"pump_id": ["A", "B", "C"], "profile": "programmable-20"})
    samples = pd.DataFrame({"pump_id": ["A", "B", "B"], "timestamp": pd.date_range(H0, periods=3, freq="h"),
                            "reservoir_ml": [5.0, 6.0, 7.0]})
    events = pd.DataFrame([{"pump_id": "A", **_program_change(H0)}])
    tel = Telemetry(pumps=pumps, samples=samples, events=events)
    b = tel.pump("B")
    assert b.samples["reservoir_ml"].tolist() == [6.0, 7.0] and b.samples.index.tolist() == [0, 1]
    assert list(b.samples.columns) == ["pump_id", "timestamp", "reservoir_ml"]
    assert len(b.events) == 0 and list(b.events.columns) == list(events.columns)
    c = tel.pump("C")
    assert len(c.samples) == 0 and len(c.events) == 0 and c.pump_id == "C"
    a = tel.pump("A")
    assert a.samples["reservoir_ml"].tolist() == [5.0] and a.events.index.tolist() == [0]
    assert list(a.events.columns) == list(events.columns)
    with pytest.raises(KeyError) as info:
        tel.pump("D")
    assert info.value.args[0] == "no pump 'D'; known: A, B, C"
    # the same with categorical ids
    cat = Telemetry(pumps=pumps, samples=samples.astype({"pump_id": "category"}),
                    events=events.astype({"pump_id": "category"}))
    assert cat.pump("B").samples["reservoir_ml"].tolist() == [6.0, 7.0] and len(cat.pump("C").samples) == 0


def test_trial_cells_each_named_with_the_first_reason(small, tmp_path):
    f = frames_of(small)
    f["pumps"]["trial"] = ["not json", '{"type": "x"}']
    assert [(p.file, p.column, p.row, p.message) for p in problems_for(f, tmp_path / "a")] == [
        ("pumps.csv", "trial", 0, "not a valid trial record: line 1, column 1: Expecting value"),
        ("pumps.csv", "trial", 1, "not a valid trial record: type: Input should be 'single_bolus', "
                                  "'repeated_boluses' or 'continuous_catheter'")]
    f["pumps"]["trial"] = ["[1]", TRIAL.replace('"drug": "baclofen", ', "")]
    assert [(p.file, p.column, p.row, p.message) for p in problems_for(f, tmp_path / "b")] == [
        ("pumps.csv", "trial", 0, "not a valid trial record: trial: expected an object, got list"),
        ("pumps.csv", "trial", 1, "not a valid trial record: drug: Field required")]
    f["pumps"]["trial"] = [None, TRIAL]
    tel = load_telemetry(write_csv(f, tmp_path / "ok"))
    assert tel.pump("p-1").trial() is None and tel.pump("p-2").trial().drug == "baclofen"


# -- every check of the loader: its problem word for word, and both sides of each limit ----------

_KNOWN_PROFILES = "programmable-20, programmable-40, valve-gated-20, valve-gated-40, constant-flow-30"
_KINDS = ("program_change, refill, alarm_low_reservoir, alarm_empty_reservoir, alarm_eri, alarm_end_of_service, "
          "alarm_motor_stall, alarm_catheter_occlusion, ptm_granted, ptm_denied_lockout, ptm_denied_daily_max, mri, "
          "clinician_bolus")


def _set(f, table, row, column, value):
    df = f[table]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        df[column] = df[column].astype(object)
    df.loc[row, column] = value


def _first(f, kind, pid="p-1"):
    ev = f["events"]
    return int(ev.index[(ev["kind"] == kind) & (ev["pump_id"] == pid)][0])


# (what, edit(frames) -> expected problems as (file, column, row, message)); pumps row 0 is p-1
# (programmable-20: 20 mL), row 1 p-2 (valve-gated-40: 40 mL); samples rows 0-71 are p-1's.
CHECKS = [
    ("pump id not URL-safe", lambda f: (
        [_set(f, t, f[t].index[f[t]["pump_id"] == "p-1"], "pump_id", "a b") for t in ("pumps", "samples", "events")],
        [("pumps.csv", "pump_id", 0, "pump ids are short and URL-safe (letters, digits, . _ -) (got 'a b')")])[-1]),
    ("unknown profile", lambda f: (
        _set(f, "pumps", 1, "profile", "synchromed-2"),
        [("pumps.csv", "profile", 1, f"unknown pump profile (known: {_KNOWN_PROFILES}) (got 'synchromed-2')")])[-1]),
    ("unknown indication", lambda f: (
        _set(f, "pumps", 0, "indication", "migraine"),
        [("pumps.csv", "indication", 0, "unknown indication (allowed: pain_cancer, pain_noncancer, "
                                        "spasticity_spinal, spasticity_cerebral) (got 'migraine')")])[-1]),
    ("battery at implant above 100", lambda f: (
        _set(f, "pumps", 0, "battery_pct_at_implant", 100.5), _set(f, "pumps", 1, "battery_pct_at_implant", 100.0),
        [("pumps.csv", "battery_pct_at_implant", 0, "outside 0-100 value (per cent) (got 100.5)")])[-1]),
    ("battery at implant below 0", lambda f: (
        _set(f, "pumps", 0, "battery_pct_at_implant", -0.5), _set(f, "pumps", 1, "battery_pct_at_implant", 0.0),
        [("pumps.csv", "battery_pct_at_implant", 0, "outside 0-100 value (per cent) (got -0.5)")])[-1]),
    ("catheter above 5 mL", lambda f: (
        _set(f, "pumps", 0, "catheter_volume_ml", 5.0), _set(f, "pumps", 1, "catheter_volume_ml", 5.5),
        [("pumps.csv", "catheter_volume_ml", 1, "outside 0-5.0 value (mL) (got 5.5)")])[-1]),
    ("alarm level negative or above the reservoir", lambda f: (
        _set(f, "pumps", 0, "low_reservoir_alarm_ml", -1.0), _set(f, "pumps", 1, "low_reservoir_alarm_ml", 40.5),
        [("pumps.csv", "low_reservoir_alarm_ml", 0, "negative value (mL) (got -1.0)"),
         ("pumps.csv", "low_reservoir_alarm_ml", 1, "above the reservoir capacity (mL expected) (got 40.5)")])[-1]),
    ("alarm level at the reservoir capacity is allowed", lambda f: (
        _set(f, "pumps", 0, "low_reservoir_alarm_ml", 20.0), _set(f, "pumps", 1, "low_reservoir_alarm_ml", 0.0),
        [])[-1]),
    ("implant outside the pump clock", lambda f: (
        _set(f, "pumps", 0, "implant_date", "1899-12-31T23:59:59"),
        _set(f, "pumps", 1, "next_appointment", "2200-01-01T00:00:00"),
        [("pumps.csv", "implant_date", 0, "must be between 1900-01-01 and 2199-12-31 (pump clock) "
                                          "(got 1899-12-31T23:59:59)"),
         ("pumps.csv", "next_appointment", 1, "must be between 1900-01-01 and 2199-12-31 (pump clock) "
                                              "(got 2200-01-01T00:00:00)")])[-1]),
    ("pump clock bounds themselves are allowed", lambda f: (
        _set(f, "pumps", 0, "implant_date", "1900-01-01T00:00:00"),
        _set(f, "pumps", 1, "next_appointment", "2199-12-31T23:59:59"), [])[-1]),
    ("implant after the last sample", lambda f: (
        _set(f, "pumps", 0, "implant_date", "2026-03-05T00:00:00"),  # p-1's last sample: 03-04 23:00
        _set(f, "pumps", 1, "implant_date", "2026-03-04T23:00:00"),  # exactly p-2's last sample: fine
        [("pumps.csv", "implant_date", 0, "after the pump's last sample (implant first, then telemetry) "
                                          "(got 2026-03-05T00:00:00)")])[-1]),
    ("sample of an unknown pump", lambda f: (
        _set(f, "samples", 71, "pump_id", "p-9"),
        [("samples.csv", "pump_id", 71, "pump id not in the pumps table (got 'p-9')")])[-1]),
    ("sample times outside the pump clock", lambda f: (
        _set(f, "samples", 0, "timestamp", "1899-12-31T23:00:00"),
        [("samples.csv", "timestamp", 0, "must be between 1900-01-01 and 2199-12-31 (pump clock) "
                                         "(got 1899-12-31T23:00:00)")])[-1]),
    ("programmed rate outside 0-1000 mL/day", lambda f: (
        _set(f, "samples", 2, "programmed_rate_ml_per_day", 1000.5),
        _set(f, "samples", 3, "programmed_rate_ml_per_day", 1000.0),
        _set(f, "samples", 4, "programmed_rate_ml_per_day", -0.1),
        [("samples.csv", "programmed_rate_ml_per_day", 2, "outside 0-1000.0 value (mL/day) (got 1000.5)"),
         ("samples.csv", "programmed_rate_ml_per_day", 4, "outside 0-1000.0 value (mL/day) (got -0.1)")])[-1]),
    ("estimate negative", lambda f: (
        _set(f, "samples", 6, "reservoir_estimate_ml", -0.5), _set(f, "samples", 7, "reservoir_estimate_ml", 0.0),
        [("samples.csv", "reservoir_estimate_ml", 6, "negative value (mL) (got -0.5)")])[-1]),
    ("battery sample outside 0-100", lambda f: (
        _set(f, "samples", 8, "battery_pct", 100.1), _set(f, "samples", 9, "battery_pct", -1.0),
        [("samples.csv", "battery_pct", 8, "outside 0-100 value (per cent) (got 100.1)"),
         ("samples.csv", "battery_pct", 9, "outside 0-100 value (per cent) (got -1.0)")])[-1]),
    ("volumes above the reservoir (20 mL for p-1, 40 mL for p-2)", lambda f: (
        _set(f, "samples", 1, "reservoir_ml", 20.0), _set(f, "samples", 2, "reservoir_ml", 20.01),
        _set(f, "samples", 73, "reservoir_ml", 40.0), _set(f, "samples", 3, "delivered_ml", 20.5),
        _set(f, "samples", 4, "reservoir_estimate_ml", 21.0),
        [("samples.csv", "reservoir_ml", 2, "above the pump's reservoir capacity (mL expected) (got 20.01)"),
         ("samples.csv", "reservoir_estimate_ml", 4, "above the pump's reservoir capacity (mL expected) (got 21.0)"),
         ("samples.csv", "delivered_ml", 3, "above the pump's reservoir capacity (mL expected) (got 20.5)")])[-1]),
    ("unknown event kind and severity", lambda f: (
        _set(f, "events", 1, "kind", "alarm_fire"), _set(f, "events", 2, "severity", "urgent"),
        [("events.csv", "kind", 1, f"unknown event kind (allowed: {_KINDS}) (got 'alarm_fire')"),
         ("events.csv", "severity", 2, "unknown severity (allowed: critical, non_critical, info) (got 'urgent')")])[-1]),
    ("event volumes: negative, above capacity + 5 mL", lambda f: (
        _set(f, "events", _first(f, "refill"), "added_ml", 25.0),        # 20 + 5: allowed
        _set(f, "events", _first(f, "refill", "p-2"), "added_ml", 45.5),  # 40 + 5.5
        _set(f, "events", _first(f, "refill"), "withdrawn_ml", -0.5),
        [("events.csv", "withdrawn_ml", _first(f, "refill"), "negative value (mL) (got -0.5)"),
         ("events.csv", "added_ml", _first(f, "refill", "p-2"),
          "more than the pump's reservoir holds (+ 5 mL): impossible, or not mL (got 45.5)")])[-1]),
    ("refill without its volumes", lambda f: (
        _set(f, "events", _first(f, "refill"), "withdrawn_ml", None),
        _set(f, "events", _first(f, "refill", "p-2"), "added_ml", None),
        [("events.csv", "withdrawn_ml", _first(f, "refill"), "a refill event needs this volume"),
         ("events.csv", "added_ml", _first(f, "refill", "p-2"), "a refill event needs this volume")])[-1]),
    ("empty required cells", lambda f: (
        _set(f, "pumps", 1, "group", None), _set(f, "events", 3, "severity", None),
        [("pumps.csv", "group", 1, "empty value in a required column"),
         ("events.csv", "severity", 3, "empty value in a required column")])[-1]),  # once: not also "unknown"
    ("a pump without samples and one without programme", lambda f: (
        f.__setitem__("samples", f["samples"][f["samples"]["pump_id"] != "p-2"].reset_index(drop=True)),
        f.__setitem__("events", f["events"][(f["events"]["pump_id"] != "p-1")
                                            | (f["events"]["kind"] != "program_change")].reset_index(drop=True)),
        [("pumps.csv", "pump_id", 1, "pump has no samples (got 'p-2')"),
         ("pumps.csv", "pump_id", 0, "pump has no program_change event (no program known) (got 'p-1')")])[-1]),
]


@pytest.mark.parametrize("edit", [c[1] for c in CHECKS], ids=[c[0] for c in CHECKS])
def test_each_check_word_for_word(small, tmp_path, edit):
    f = frames_of(small)
    expected = edit(f)
    folder = write_csv(f, tmp_path / "t")
    if not expected:
        load_telemetry(folder)
        return
    assert _problems(folder) == expected


def test_order_checks(small, tmp_path):
    f = frames_of(small)
    s = f["samples"]
    f["samples"] = pd.concat([s.drop(index=5), s.loc[[5]]], ignore_index=True)  # one p-1 row after p-2's
    assert _problems(write_csv(f, tmp_path / "split")) == [
        ("samples.csv", "pump_id", None, "rows of pump 'p-1' are not together (group rows by pump)")]
    f = frames_of(small)
    ev = f["events"]
    a, b = ev.index[ev["pump_id"] == "p-1"][:2]
    _set(f, "events", b, "timestamp", ev.loc[a, "timestamp"])  # two events in the same second: allowed
    load_telemetry(write_csv(f, tmp_path / "same"))
    t = pd.Timestamp(ev.loc[a, "timestamp"]) - pd.Timedelta(seconds=1)
    _set(f, "events", b, "timestamp", t.isoformat())
    assert _problems(write_csv(f, tmp_path / "back")) == [
        ("events.csv", "timestamp", b, "timestamps not sorted (earlier than the row before, same pump) "
                                       f"(got {t.isoformat()})")]


def test_program_change_details_problems(small, tmp_path):
    f = frames_of(small)
    i = _first(f, "program_change")
    j = _first(f, "program_change", "p-2")
    _set(f, "events", i, "details", "{not json")
    _set(f, "events", j, "details", json.dumps({"old": None}))
    got = _problems(write_csv(f, tmp_path / "a"))
    head = 'program_change details must be JSON {"old": Program|null, "new": Program}: '
    assert [g[:3] for g in got] == [("events.csv", "details", i), ("events.csv", "details", j)]
    assert got[0][3].startswith(head + "The details is not valid JSON. line 1.column 2: ") and got[1][3] == head + "'new'"


def test_program_that_no_profile_can_run_lists_each_misfit(small, tmp_path):
    """A constant-flow pump: one mode (simple_continuous), no flex, one step, no PTM; the old programme
    is checked too."""
    f = frames_of(small)
    f["pumps"].loc[0, "profile"] = "constant-flow-30"
    flex = {"drugs": [{"drug": "morphine", "concentration": 10, "unit": "mg/mL"}], "mode": "flex",
            "steps": [{"start": "00:00", "rate_ml_per_day": 1.0}, {"start": "12:00", "rate_ml_per_day": 1.0}],
            "ptm": {"bolus_volume_ml": 0.05, "lockout_min": 60, "max_per_day": 3}}
    old = {"drugs": flex["drugs"], "mode": "simple_continuous", "rate_ml_per_day": 1.0,
           "ptm": flex["ptm"]}
    i = _first(f, "program_change")
    _set(f, "events", i, "details", json.dumps({"old": old, "new": flex}))
    assert _problems(write_csv(f, tmp_path / "cf")) == [
        ("events.csv", "details", i, "program not possible on a constant-flow-30 pump: "
                                     "new: mode flex not offered (modes: simple_continuous); "
                                     "new: 2 flex steps in a day, more than the 1 that profile constant-flow-30 allows; "
                                     "new: no patient bolus (PTM); old: no patient bolus (PTM)")]


def test_program_misfits_by_hand():
    from pumpmodel.programs import Program
    from pumpmodel.telemetry import program_misfits

    drugs = [{"drug": "baclofen", "concentration": 500, "unit": "mcg/mL"}]
    steps = [{"start": f"{h:02d}:00", "rate_ml_per_day": 0.5} for h in range(11)]
    p20, vg = library.profile("programmable-20"), library.profile("valve-gated-20")
    ten = Program.model_validate({"drugs": drugs, "mode": "flex", "steps": steps[:10]})
    eleven = Program.model_validate({"drugs": drugs, "mode": "flex", "steps": steps})
    assert program_misfits(ten, p20) == []
    assert program_misfits(eleven, p20) == ["11 flex steps in a day, more than the 10 that profile programmable-20 "
                                            "allows"]
    week = Program.model_validate({"drugs": drugs, "mode": "flex", "week": {d: steps[:2] for d in
                                                                            ("mon", "tue", "wed", "thu", "fri",
                                                                             "sat", "sun")}})
    assert program_misfits(week, p20) == []
    assert program_misfits(week, vg) == ["no weekday flex programming (one step list for every day)"]


def test_ten_bad_programmes_are_listed_then_the_check_stops(small, tmp_path):
    f = frames_of(small)
    ev = f["events"]
    rows = ev.index[ev["pump_id"] == "p-1"][:12]
    for r in rows:  # 12 programme changes with broken details: the first 10 are named
        _set(f, "events", r, "kind", "program_change")
        _set(f, "events", r, "details", "{")
    got = _problems(write_csv(f, tmp_path / "many"))
    assert [(c, r) for _, c, r, _ in got if c == "details"] == [("details", int(r)) for r in rows[:10]]


def test_read_errors_name_the_source(small, tmp_path):
    assert _problems(b"PAR1 not parquet", "x.parquet")[0][:3] == ("x.parquet", None, None)
    assert _problems(b"PAR1 not parquet", "x.parquet")[0][3].startswith("cannot be read: ")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pumps.parquet").write_bytes(b"PAR1 not parquet")
    got = _problems(tmp_path / "bad")
    assert got[0][0] == str(tmp_path / "bad") and got[0][3].startswith("cannot be read: ")
    got = _problems(tmp_path / "bad", "my upload")
    assert got[0][0] == "my upload"
    # a file on disk is read like an upload of that name
    path = tmp_path / "all.csv"
    path.write_bytes(to_combined(small).to_csv(index=False).encode())
    assert_same(small, load_telemetry(path))
    c = to_combined(small)
    c["delivered_ml"] = c["delivered_ml"].astype(object)
    c.loc[5, "delivered_ml"] = "lots"
    path.write_bytes(c.to_csv(index=False).encode())
    assert _problems(path) == [("all.csv", "delivered_ml", 5, "not a number (got 'lots')")]


def test_column_types_in_a_combined_parquet(small):
    n = len(to_combined(small))
    c = to_combined(small)
    # a whole column of another kind: named once
    got = _problems(_combined_parquet(small, delivered_ml=pa.array([[1.0]] * n, pa.list_(pa.float64()))),
                    "all.parquet")
    assert got == [("all.parquet", "delivered_ml", None, "must be a number, got list<element: double>")]
    got = _problems(_combined_parquet(small, timestamp=pa.array([1] * n, pa.int64())), "all.parquet")
    assert got[0] == ("all.parquet", "timestamp", None, "must be a timestamp, got int64")
    # booleans read as text are not numbers; dictionary (categorical) text, decimals and dates are fine
    flags = pa.array([None if pd.isna(v) else True for v in c["battery_pct"]], pa.bool_())
    got = _problems(_combined_parquet(small, battery_pct=flags), "all.parquet")
    first = int(c.index[c["battery_pct"].notna()][0])
    assert got[0] == ("all.parquet", "battery_pct", first, "not a number (got 'true')")
    kinds = pa.array(c["kind"].astype(object).where(c["kind"].notna(), None)).dictionary_encode()
    assert_same(small, load_telemetry(_combined_parquet(small, kind=kinds), name="all.parquet"))
    import decimal
    dec = pa.array([None if pd.isna(v) else decimal.Decimal(str(v)) for v in c["added_ml"]], pa.decimal128(12, 3))
    tel = load_telemetry(_combined_parquet(small, added_ml=dec), name="all.parquet")
    np.testing.assert_allclose(tel.events["added_ml"].to_numpy(float), small.events["added_ml"].to_numpy(float),
                               equal_nan=True)
    days = pa.array([None if pd.isna(v) else pd.Timestamp(v).date() for v in c["implant_date"]], pa.date32())
    tel = load_telemetry(_combined_parquet(small, implant_date=days), name="all.parquet")
    assert tel.pumps["implant_date"].tolist() == small.pumps["implant_date"].dt.normalize().tolist()
    # text numbers with spaces are numbers; a time zone on timestamp columns is refused
    text = pa.array([None if pd.isna(v) else f" {v} " for v in c["delivered_ml"]], pa.string())
    assert_same(small, load_telemetry(_combined_parquet(small, delivered_ml=text), name="all.parquet"))
    utc = pa.array(pd.to_datetime(c["timestamp"]).dt.tz_localize("UTC"), pa.timestamp("s", tz="UTC"))
    got = _problems(_combined_parquet(small, timestamp=utc), "all.parquet")
    assert got == [("all.parquet", "timestamp", None, "timestamps must be pump-clock local time without offset")] * 2


def test_details_that_are_not_an_object(small, tmp_path):
    f = frames_of(small)
    i = _first(f, "program_change")
    _set(f, "events", i, "details", "[1]")
    assert _problems(write_csv(f, tmp_path / "list")) == [
        ("events.csv", "details", i, 'program_change details must be JSON {"old": Program|null, "new": Program}: '
                                     "The details must be a JSON object. details: expected an object, got list")]


def test_rows_are_counted_in_the_file_when_pumps_come_last(small):
    """A combined file with the samples first, then the events, then the pumps: a problem names the
    row in that file (the 2nd pump is the last row), not in its table."""
    c = to_combined(small)
    c = pd.concat([c[c["table"] == "samples"], c[c["table"] == "events"], c[c["table"] == "pumps"]],
                  ignore_index=True)
    n = len(c)
    c["implant_date"] = c["implant_date"].astype(object)
    c.loc[n - 1, "implant_date"] = "2026-03-06T00:00:00"  # after p-2's last sample (03-04 23:00)
    assert _problems(c.to_csv(index=False).encode(), "all.csv") == [
        ("all.csv", "implant_date", n - 1, "after the pump's last sample (implant first, then telemetry) "
                                           "(got 2026-03-06T00:00:00)")]
    c = to_combined(small)  # pumps first (rows 0-1): samples row k of the table is row k + 2 of the file
    c["timestamp"] = c["timestamp"].astype(object)
    c.loc[12, "timestamp"] = c.loc[11, "timestamp"]
    c.loc[21, "timestamp"] = c.loc[19, "timestamp"]
    assert _problems(c.to_csv(index=False).encode(), "all.csv") == [
        ("all.csv", "timestamp", 21, "timestamps not sorted (earlier than the row before, same pump) "
                                     f"(got {pd.Timestamp(c.loc[19, 'timestamp']).isoformat()})"),
        ("all.csv", "timestamp", 12, f"duplicate timestamp (same pump) (got {pd.Timestamp(c.loc[11, 'timestamp']).isoformat()})")]


def test_order_of_one_pump_with_two_samples(small, tmp_path):
    """The smallest table that can be out of order: one pump, two samples, the second earlier."""
    f = frames_of(small)
    f["pumps"] = f["pumps"].iloc[:1]
    f["events"] = f["events"][f["events"]["pump_id"] == "p-1"]
    s = f["samples"]
    f["samples"] = s.iloc[[1, 0]].reset_index(drop=True)
    t = pd.Timestamp(s.loc[0, "timestamp"]).isoformat()
    assert _problems(write_csv(f, tmp_path / "two")) == [
        ("samples.csv", "timestamp", 1, f"timestamps not sorted (earlier than the row before, same pump) (got {t})")]


def test_a_column_missing_from_every_partition_of_a_zip_names_the_first(small_pq):
    assert _problems(zipfile_bytes(_pq_files(small_pq, _without("events/", "severity"))), "z.zip") == [
        ("z.zip:events/pump_id=p-1/part-0.parquet", "severity", None, "missing column")]


def test_pump_ids_are_categorical_in_the_large_tables(small, tmp_path):
    """Few pumps, millions of rows: samples and events hold pump ids as categories, in every layout;
    the pumps table keeps plain text."""
    write_telemetry(small, tmp_path / "pq")
    for tel in (load_telemetry(write_csv(frames_of(small), tmp_path / "csv")), load_telemetry(tmp_path / "pq"),
                load_telemetry(to_zip(small), name="z.zip")):
        for df in (tel.samples, tel.events):
            assert isinstance(df["pump_id"].dtype, pd.CategoricalDtype)
        assert not isinstance(tel.pumps["pump_id"].dtype, pd.CategoricalDtype)


def test_all_empty_columns_of_a_combined_parquet(small):
    """Columns written with no type at all (every cell empty): loaded as empty cells of their own type."""

    n = len(to_combined(small))
    tel = load_telemetry(_combined_parquet(small, trial=pa.nulls(n), battery_pct=pa.nulls(n)), name="all.parquet")
    assert tel.pumps["trial"].isna().all()
    assert tel.samples["battery_pct"].dtype == "float64" and tel.samples["battery_pct"].isna().all()


def test_empty_required_cell_named_by_its_row_in_the_combined_file(small):
    c = to_combined(small)
    r = int(c.index[c["table"] == "events"][3])
    c["patient_label"] = c["patient_label"].astype(object)
    c.loc[1, "patient_label"] = None
    c["kind"] = c["kind"].astype(object)
    c.loc[r, "kind"] = None
    got = _problems(c.to_csv(index=False).encode(), "all.csv")
    assert got[:2] == [("all.csv", "patient_label", 1, "empty value in a required column"),
                       ("all.csv", "kind", r, "empty value in a required column")]


def test_a_column_of_lists_in_every_partition_is_named_once(small_pq):
    assert _problems(zipfile_bytes(_pq_files(small_pq, _as_lists("samples/"))), "z.zip") == [
        ("z.zip:samples/pump_id=p-1/part-0.parquet", "delivered_ml", None,
         "must be a number, got list<element: double>")]


def test_zip_partition_with_too_many_columns(small_pq):
    # 60 unexpected columns in one partition: the first 50 are listed
    got = _problems(zipfile_bytes(_pq_files(small_pq, _many_columns("samples/pump_id=p-2"))), "z.zip")
    assert got == [("z.zip:samples/pump_id=p-2/part-0.parquet", f"x{k:02d}", None,
                    "unexpected column (not in the telemetry format)") for k in range(50)]


def test_pump_clock_and_validation_problems_in_a_combined_file(small):
    """Rows are counted in the file (2 pumps first: samples row 3 is file row 5); a programme that
    fails validation shows pydantic's first three lines."""
    from pydantic import ValidationError
    from pumpmodel.programs import Program

    c = to_combined(small)
    c["timestamp"] = c["timestamp"].astype(object)
    c.loc[5, "timestamp"] = "1899-12-31T23:00:00"
    c.loc[7, "timestamp"] = "yesterday"
    got = _problems(c.to_csv(index=False).encode(), "all.csv")
    assert ("all.csv", "timestamp", 5, "must be between 1900-01-01 and 2199-12-31 (pump clock) "
                                       "(got 1899-12-31T23:00:00)") in got
    assert ("all.csv", "timestamp", 7, "not an ISO 8601 timestamp without offset (e.g. 2026-11-21T09:00:00) "
                                       "(got 'yesterday')") in got
    c = to_combined(small)
    i = int(c.index[c["kind"] == "program_change"][0])
    bad = {"drugs": [], "mode": "flex"}
    c["details"] = c["details"].astype(object)
    c.loc[i, "details"] = json.dumps({"old": None, "new": bad})
    with pytest.raises(ValidationError) as info:
        Program.model_validate(bad)
    lines = str(info.value).splitlines()
    assert _problems(c.to_csv(index=False).encode(), "all.csv") == [
        ("all.csv", "details", i, 'program_change details must be JSON {"old": Program|null, "new": Program}: '
                                  + " ".join(lines[:3]))]


def test_no_pumps_and_a_number_column_holding_times(small, tmp_path):
    f = frames_of(small)
    f["pumps"] = f["pumps"].iloc[0:0]
    got = _problems(write_csv(f, tmp_path / "none"))
    assert got[-1] == ("pumps.csv", None, None, "no pumps: the pumps table has no rows")
    n = len(to_combined(small))
    times = pa.array([datetime(2026, 3, 2)] * n, pa.timestamp("s"))
    assert _problems(_combined_parquet(small, delivered_ml=times), "all.parquet")[0] == \
        ("all.parquet", "delivered_ml", None, "must be a number, got timestamp[ms]")  # Parquet stores ms
