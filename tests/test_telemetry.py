"""Telemetry loader: formats, rejections with precise problems, merge, story patients."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
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


def zipfile_bytes(files: dict[str, str]) -> bytes:
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.Table.from_pandas(to_combined(tel), preserve_index=False)
    for name, arr in replace.items():
        t = t.set_column(t.column_names.index(name), name, arr)
    buf = io.BytesIO()
    pq.write_table(t, buf)
    return buf.getvalue()


def test_list_and_invalid_utf8_columns_are_telemetry_problems(small):
    import pyarrow as pa

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
