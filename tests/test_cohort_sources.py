"""The cohort engine around the SQL views (``pumpmodel.cohort_queries``): which folders count as
telemetry, the SQL helpers' text, the DuckDB database (settings, which relations are tables),
partition files that cannot be read (found, named, left out), error messages, the filter options
and their date bounds. Tiny hand-made folders: every expected figure is worked out by hand in the
comment next to it (the views themselves are checked against pandas in ``test_cohort_queries.py``)."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cohort_fixture import _EVENT_SCHEMA
from pumpmodel import cohort_queries as cq
from pumpmodel.telemetry_schema import PUMPS, SAMPLES, TABLES

T0 = datetime(2024, 1, 1)
_SAMPLE_SCHEMA = pa.schema([f for f in SAMPLES if f.name != "pump_id"])


def _hours(start: datetime, n: int) -> list[dict]:
    """n hourly samples from ``start``: 0.01 mL an hour, 10 mL left."""
    return [{"timestamp": start + timedelta(hours=h), "programmed_rate_ml_per_day": 0.24, "delivered_ml": 0.01,
             "reservoir_ml": 10.0} for h in range(n)]


def _program(ts: datetime, drug: str, conc: float, unit: str) -> dict:
    new = {"drugs": [{"drug": drug, "concentration": conc, "unit": unit}], "mode": "simple_continuous",
           "rate_ml_per_day": 0.24}
    return {"timestamp": ts, "kind": "program_change", "severity": "info",
            "details": json.dumps({"old": None, "new": new})}


def _write(folder: Path, pumps: list[dict], samples: dict[str, list[dict]], events: dict[str, list[dict]]) -> Path:
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(pumps, schema=PUMPS), folder / "pumps.parquet")
    for table, schema, rows in (("samples", _SAMPLE_SCHEMA, samples), ("events", _EVENT_SCHEMA, events)):
        (folder / table).mkdir()
        for pid, rs in rows.items():
            part = folder / table / f"pump_id={pid}"
            part.mkdir()
            pq.write_table(pa.Table.from_pylist(rs, schema=schema), part / "part-0.parquet")
    return folder


def tiny(folder: Path, prefix: str = "P", samples: dict | None = None) -> Path:
    """Two pumps. {prefix}1: programmable-20, spinal spasticity, cohort, baclofen; 48 hours of samples
    from 2024-01-01 00:00; a low-reservoir alarm on 01-02 05:00. {prefix}2: valve-gated-40, cancer pain,
    story, morphine; 24 hours on 2024-01-03; a catheter-occlusion alarm on 01-03 10:00."""
    p1, p2 = f"{prefix}1", f"{prefix}2"
    pumps = [{"pump_id": p1, "profile": "programmable-20", "implant_date": datetime(2023, 12, 1),
              "indication": "spasticity_spinal", "patient_label": "one", "group": "cohort"},
             {"pump_id": p2, "profile": "valve-gated-40", "implant_date": datetime(2023, 6, 1),
              "indication": "pain_cancer", "patient_label": "two", "group": "story"}]
    if samples is None:
        samples = {p1: _hours(T0, 48), p2: _hours(T0 + timedelta(days=2), 24)}
    events = {p1: [_program(T0, "baclofen", 500.0, "mcg/mL"),
                   {"timestamp": T0 + timedelta(hours=29), "kind": "alarm_low_reservoir", "severity": "non_critical"}],
              p2: [_program(T0 + timedelta(days=2), "morphine", 10.0, "mg/mL"),
                   {"timestamp": T0 + timedelta(days=2, hours=10), "kind": "alarm_catheter_occlusion",
                    "severity": "critical"}]}
    return _write(folder, pumps, samples, events)


def _spoil(path: Path) -> Path:
    """Overwrite a Parquet file's tail: no footer any more."""
    path.write_bytes(path.read_bytes()[:200] + b"garbage" * 50)
    return path


def _part(folder: Path, table: str, pump: str) -> Path:
    return folder / table / f"pump_id={pump}" / "part-0.parquet"


# --------------------------------------------------------------------------- SQL helpers

def test_filter_key_sorts_each_field_and_keeps_fields_apart():
    f = cq.Filters(drugs=("morphine", "baclofen"), profiles=("valve-gated-40", "programmable-20"),
                   indications=("pain_cancer", "pain_noncancer"), groups=("story", "cohort"),
                   alarms=("alarm_low_reservoir", "alarm_eri"), date_from=date(2024, 2, 1), date_to=date(2024, 3, 31))
    assert f.key() == (("baclofen", "morphine"), ("programmable-20", "valve-gated-40"),
                       ("pain_cancer", "pain_noncancer"), ("cohort", "story"), ("alarm_eri", "alarm_low_reservoir"),
                       date(2024, 2, 1), date(2024, 3, 31))
    same = cq.Filters(drugs=("baclofen", "morphine"), profiles=("programmable-20", "valve-gated-40"),
                      indications=("pain_noncancer", "pain_cancer"), groups=("cohort", "story"),
                      alarms=("alarm_eri", "alarm_low_reservoir"), date_from=date(2024, 2, 1), date_to=date(2024, 3, 31))
    assert same.key() == f.key()
    # one value in another field is another selection
    assert cq.Filters(drugs=("x",)).key() != cq.Filters(profiles=("x",)).key()
    assert cq.Filters(date_from=date(2024, 1, 1)).key() != cq.Filters(date_to=date(2024, 1, 1)).key()


@pytest.mark.parametrize("value, text, back", [
    (True, "TRUE", True), (False, "FALSE", False), (3, "3", 3), (-12, "-12", -12),
    (2.5, "2.5", 2.5), (1e-07, "1e-07", 1e-07), ("o'brien", "'o''brien'", "o'brien")])
def test_literals(value, text, back):
    assert cq.lit(value) == text
    assert duckdb.sql("SELECT " + text).fetchall()[0][0] == back


@pytest.mark.parametrize("value", [None, date(2024, 1, 1), [1]])
def test_no_literal_for_other_types(value):
    with pytest.raises(TypeError) as info:
        cq.lit(value)
    assert str(info.value) == f"no SQL literal for {value!r}"


def test_date_ranges_as_sql():
    """date_to is inclusive: the timestamp bound is the next midnight (2024-03-31 -> 04-01 00:00)."""
    both = cq.Filters(date_from=date(2024, 2, 1), date_to=date(2024, 3, 31))
    assert cq.time_range("e.ts", both) == ("e.ts >= TIMESTAMP '2024-02-01 00:00:00' AND "
                                           "e.ts < TIMESTAMP '2024-04-01 00:00:00'")
    assert cq.day_range("d.day", both) == "d.day >= DATE '2024-02-01' AND d.day <= DATE '2024-03-31'"
    assert cq.time_range("t", cq.Filters(date_to=date(2024, 12, 31))) == "t < TIMESTAMP '2025-01-01 00:00:00'"
    assert cq.day_range("d", cq.Filters(date_from=date(2024, 2, 29))) == "d >= DATE '2024-02-29'"
    assert cq.time_range("t", cq.Filters()) == "TRUE" and cq.day_range("d", cq.Filters()) == "TRUE"


def test_setup_sql_for_spark_names_each_relation_and_its_kind():
    names = ["profile_ref", "drug_ref", "programs", "pump_attrs", "samples_daily"]
    heads = [s.split("\n", 1)[0] for s in cq.setup_sql()]
    assert heads == [f"CREATE OR REPLACE TEMPORARY VIEW {n} AS" for n in names]
    heads = [s.split("\n", 1)[0] for s in cq.setup_sql(kind="VIEW", materialize=("programs", "samples_daily"))]
    assert heads == ["CREATE OR REPLACE VIEW profile_ref AS", "CREATE OR REPLACE VIEW drug_ref AS",
                     "CREATE OR REPLACE TABLE programs AS", "CREATE OR REPLACE VIEW pump_attrs AS",
                     "CREATE OR REPLACE TABLE samples_daily AS"]


def test_setup_sql_runs_as_is_over_plain_tables(tmp_path):
    """The Spark text (temporary views) on a plain DuckDB connection holding the three tables: the
    per-pump attributes come out as in the hand-made folder and the library's pump profiles
    (programmable-20: 20 mL, alarm at 2 mL, discrepancy limit 1 mL; valve-gated-40: 40, 3, 2)."""
    folder = tiny(tmp_path / "c")
    con = duckdb.connect()
    for m in cq.MACROS:
        con.execute(m)
    con.execute(f"CREATE TABLE pumps AS SELECT * FROM read_parquet('{folder / 'pumps.parquet'}')")
    for table in ("samples", "events"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{folder / table}/*/*.parquet', "
                    "hive_partitioning = true, hive_types = {'pump_id': VARCHAR})")
    for stmt in cq.setup_sql():
        con.execute(stmt)
    got = con.execute("SELECT pump_id, profile, source_group, lra_ml, reservoir_ml, refill_discrepancy_ml, drug, unit "
                      "FROM pump_attrs ORDER BY pump_id").fetchall()
    assert got == [("P1", "programmable-20", "cohort", 2.0, 20.0, 1.0, "baclofen", "mcg"),
                   ("P2", "valve-gated-40", "story", 3.0, 40.0, 2.0, "morphine", "mg")]
    # 48 + 24 hours, 0.01 mL each: 0.24 mL on each of the three days
    days = con.execute("SELECT pump_id, day, hours, delivered_ml FROM samples_daily ORDER BY pump_id, day").fetchall()
    assert [(p, d, h) for p, d, h, _ in days] == [("P1", date(2024, 1, 1), 24), ("P1", date(2024, 1, 2), 24),
                                                  ("P2", date(2024, 1, 3), 24)]
    assert [v for *_, v in days] == pytest.approx([0.24, 0.24, 0.24])


# --------------------------------------------------------------------------- folders

def _touch_folder(path: Path, pumps=True, samples=True, events=True) -> Path:
    path.mkdir(parents=True)
    if pumps:
        (path / "pumps.parquet").write_bytes(b"x")
    if samples:
        (path / "samples").mkdir()
    if events:
        (path / "events").mkdir()
    return path


def test_a_telemetry_folder_needs_pumps_file_samples_and_events_folders(tmp_path):
    assert cq.is_telemetry_folder(_touch_folder(tmp_path / "ok"))
    assert not cq.is_telemetry_folder(_touch_folder(tmp_path / "a", pumps=False))
    assert not cq.is_telemetry_folder(_touch_folder(tmp_path / "b", samples=False))
    assert not cq.is_telemetry_folder(_touch_folder(tmp_path / "c", events=False))
    wrong = _touch_folder(tmp_path / "d", pumps=False)
    (wrong / "pumps.parquet").mkdir()  # a folder by that name
    assert not cq.is_telemetry_folder(wrong)
    wrong = _touch_folder(tmp_path / "e", samples=False)
    (wrong / "samples").write_bytes(b"x")  # a file by that name
    assert not cq.is_telemetry_folder(wrong)
    wrong = _touch_folder(tmp_path / "f", events=False)
    (wrong / "events").write_bytes(b"x")
    assert not cq.is_telemetry_folder(wrong)


def test_discover_cohorts_shipped_first_then_generated_by_name(tmp_path):
    root = tmp_path
    _touch_folder(root / "data" / "cohort-b")
    _touch_folder(root / "data" / "cohort-a")
    _touch_folder(root / "data" / "cohort-c", events=False)  # not telemetry
    _touch_folder(root / "data" / "other")                    # not named cohort-*
    assert cq.discover_cohorts(root) == [root / "data" / "cohort-a", root / "data" / "cohort-b"]
    _touch_folder(root / "sample_data" / "cohort")
    assert cq.discover_cohorts(root) == [root / "sample_data" / "cohort", root / "data" / "cohort-a",
                                         root / "data" / "cohort-b"]
    assert cq.discover_cohorts(root / "nowhere") == []


def test_story_folder(tmp_path):
    assert cq.story_folder(tmp_path) is None
    _touch_folder(tmp_path / "sample_data" / "story", events=False)
    assert cq.story_folder(tmp_path) is None
    (tmp_path / "sample_data" / "story" / "events").mkdir()
    assert cq.story_folder(tmp_path) == tmp_path / "sample_data" / "story"


# --------------------------------------------------------------------------- partition columns

def _schema(table: str, drop=(), **retype) -> pa.Schema:
    fields = [pa.field(f.name, retype.get(f.name, f.type)) for f in TABLES[table] if f.name not in drop]
    return pa.schema(fields)


@pytest.mark.parametrize("table, schema, why", [
    ("pumps", _schema("pumps"), None),
    ("samples", _schema("samples"), None),
    ("events", _schema("events"), None),
    # pump_id comes from the partition folder's name, except in pumps.parquet
    ("samples", _schema("samples", drop=("pump_id",)), None),
    ("events", _schema("events", drop=("pump_id",)), None),
    ("pumps", _schema("pumps", drop=("pump_id",)), "missing column pump_id"),
    # optional columns may be missing (older folders); the ones after them are still checked
    ("samples", _schema("samples", drop=("reservoir_estimate_ml",)), None),
    ("pumps", _schema("pumps", drop=("trial",)), None),
    ("samples", _schema("samples", drop=("pump_id", "reservoir_estimate_ml"), battery_pct=pa.string()),
     "column battery_pct is string, expected double"),
    ("samples", _schema("samples", drop=("pump_id", "delivered_ml")), "missing column delivered_ml"),
    ("events", _schema("events", drop=("details",)), "missing column details"),
    ("pumps", _schema("pumps", drop=("group",)), "missing column group"),
    # the same kind of value in another width or encoding is fine
    ("samples", _schema("samples", delivered_ml=pa.int64()), None),
    ("samples", _schema("samples", delivered_ml=pa.float32()), None),
    ("samples", _schema("samples", delivered_ml=pa.int32(), battery_pct=pa.null()), None),
    ("samples", _schema("samples", timestamp=pa.timestamp("ms")), None),
    ("events", _schema("events", timestamp=pa.timestamp("us", tz="UTC")), None),
    ("events", _schema("events", kind=pa.large_string()), None),
    ("events", _schema("events", kind=pa.dictionary(pa.int32(), pa.string())), None),
    # another kind is not
    ("samples", _schema("samples", delivered_ml=pa.string()), "column delivered_ml is string, expected double"),
    ("samples", _schema("samples", delivered_ml=pa.bool_()), "column delivered_ml is bool, expected double"),
    ("samples", _schema("samples", timestamp=pa.int64()), "column timestamp is int64, expected timestamp[s]"),
    ("samples", _schema("samples", timestamp=pa.string()), "column timestamp is string, expected timestamp[s]"),
    ("events", _schema("events", kind=pa.int64()), "column kind is int64, expected string"),
    ("events", _schema("events", kind=pa.timestamp("s")), "column kind is timestamp[s], expected string"),
    ("events", _schema("events", kind=pa.float64()), "column kind is double, expected string"),
    ("pumps", _schema("pumps", implant_date=pa.date32()), "column implant_date is date32[day], expected timestamp[s]"),
    ("pumps", _schema("pumps", catheter_volume_ml=pa.large_string()),
     "column catheter_volume_ml is large_string, expected double"),
    # the first wrong column is named
    ("samples", _schema("samples", timestamp=pa.string(), delivered_ml=pa.string()),
     "column timestamp is string, expected timestamp[s]"),
])
def test_misfit_names_the_first_column_that_cannot_be_queried(table, schema, why):
    assert cq._misfit(schema, table) == why


# --------------------------------------------------------------------------- unreadable files

def test_a_clean_folder_has_no_unreadable_files(tmp_path):
    assert cq.unreadable_files([tiny(tmp_path / "c")]) == []


def test_unreadable_files_are_named_with_the_reason(tmp_path):
    a = tiny(tmp_path / "a")
    b = tiny(tmp_path / "b", prefix="Q")
    bad_sample = _spoil(_part(a, "samples", "P2"))
    bad_event = _spoil(_part(a, "events", "P1"))
    # a column of the wrong kind: delivered volumes as text
    retyped = _part(b, "samples", "Q1")
    t = pq.read_table(retyped)
    i = t.schema.get_field_index("delivered_ml")
    pq.write_table(t.set_column(i, "delivered_ml", t.column(i).cast(pa.string())), retyped)
    # text that is not UTF-8 (Parquet stores it; reading it in full finds it)
    not_utf8 = _part(b, "events", "Q2")
    t = pq.read_table(not_utf8)
    i = t.schema.get_field_index("details")
    junk = pa.array([b"\xff\xfe"] * len(t), pa.binary()).view(pa.string())
    pq.write_table(t.set_column(i, "details", junk), not_utf8)

    got = cq.unreadable_files([a, str(b)])
    assert [p for p, _ in got] == [bad_sample, bad_event, retyped, not_utf8]  # by folder, then samples, events
    why = dict(got)
    for p in (bad_event, bad_sample):
        assert why[p].startswith("not readable Parquet (ArrowInvalid: ") and why[p].endswith(")")
        assert "Parquet magic bytes not found" in why[p]
    assert why[not_utf8].startswith("not readable Parquet (ArrowInvalid: ") and "UTF8" in why[not_utf8].replace("-", "")
    assert why[retyped] == "column delivered_ml is string, expected double"


def test_a_long_reading_error_is_cut_to_200_characters(tmp_path):
    """The exception text is cut at 200 characters: a long folder name makes it longer."""
    folder = tiny(tmp_path / ("x" * 150))
    bad = _spoil(_part(folder, "samples", "P1"))
    (why,) = [w for _, w in cq.unreadable_files([folder])]
    full = f"Could not open Parquet input source '{bad}': Parquet magic bytes not found"
    assert why == f"not readable Parquet (ArrowInvalid: {full[:200]})"


def test_a_folder_whose_pumps_table_is_unreadable_cannot_be_used(tmp_path):
    folder = tiny(tmp_path / "c")
    _spoil(folder / "pumps.parquet")
    with pytest.raises(cq.CohortError) as info:
        cq.unreadable_files([folder])
    msg = str(info.value)
    assert msg.startswith(f"The telemetry folder {folder} cannot be used: its pumps.parquet is not readable "
                          "Parquet (ArrowInvalid: ")
    assert msg.endswith("). Regenerate or replace the folder.")


def test_a_pumps_table_without_a_required_column_cannot_be_used(tmp_path):
    folder = tiny(tmp_path / "c")
    pq.write_table(pq.read_table(folder / "pumps.parquet").drop_columns(["profile"]), folder / "pumps.parquet")
    with pytest.raises(cq.CohortError) as info:
        cq.Cohort([folder])
    assert str(info.value) == (f"The telemetry folder {folder} cannot be used: its pumps.parquet is missing column "
                               "profile. Regenerate or replace the folder.")


@pytest.mark.parametrize("table", ["samples", "events"])
def test_a_table_with_no_readable_partition_cannot_be_used(tmp_path, table):
    folder = tiny(tmp_path / "c")
    _spoil(_part(folder, table, "P1"))
    _spoil(_part(folder, table, "P2")).rename(_part(folder, table, "P2").with_name("part-9.parquet"))
    with pytest.raises(cq.CohortError) as info:
        cq.unreadable_files([folder])
    msg = str(info.value)
    assert msg.startswith(f"The telemetry folder {folder} cannot be used: none of its 2 {table} partition file(s) "
                          f"can be read (first: part-0.parquet: not readable Parquet (ArrowInvalid: "
                          f"Could not open Parquet input source '{_part(folder, table, 'P1')}'")
    assert msg.endswith(").")


def test_one_readable_partition_is_enough(tmp_path):
    folder = tiny(tmp_path / "c")
    bad = _spoil(_part(folder, "events", "P1"))
    assert [p for p, _ in cq.unreadable_files([folder])] == [bad]


# --------------------------------------------------------------------------- the database

def _settings(query) -> tuple:
    row = query("SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t, "
                "current_setting('parquet_metadata_cache') AS c, current_setting('enable_progress_bar') AS p")
    return tuple(row.iloc[0]) if hasattr(row, "iloc") else row.fetchone()


def test_connect_settings(tmp_path):
    """memory_limit is given in MB (10^6 bytes) and shown in MiB: 300 MB = 286.1 MiB, 1 GB = 953.6 MiB."""
    folder = tiny(tmp_path / "c")
    con = cq.connect([folder], memory_limit="300MB", threads=3)
    assert _settings(con.execute) == ("286.1 MiB", 3, True, False)
    con.close()
    con = cq.connect([str(folder)])
    assert _settings(con.execute)[0] == "953.6 MiB"
    con.close()
    with pytest.raises(ValueError, match="^no telemetry folder given$"):
        cq.connect([])


def test_cohort_passes_its_settings_to_the_database(tmp_path):
    folder = tiny(tmp_path / "c")
    with cq.Cohort([folder], memory_limit="300MB", threads=3) as c:
        # every query runs on its own cursor: it has the database's settings and the Parquet metadata
        # cache (set GLOBAL: a plain SET is for one connection only)
        assert _settings(c.query)[:3] == ("286.1 MiB", 3, True)
        assert c.skipped == []
    with cq.Cohort([folder]) as c:
        assert _settings(c.query)[0] == "953.6 MiB"


def _relations(query) -> tuple[set, set]:
    tables = set(query("SELECT table_name FROM duckdb_tables()").table_name)
    views = set(query("SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary").view_name)
    return tables, views


def test_materialized_relations_are_tables_the_rest_views(tmp_path):
    folder = tiny(tmp_path / "c")
    with cq.Cohort([folder]) as c:
        assert _relations(c.query) == ({"events", "programs", "pump_attrs", "samples_daily"},
                                       {"samples", "pumps", "profile_ref", "drug_ref"})
    with cq.Cohort([folder], materialize=()) as c:
        assert _relations(c.query) == (set(), {"samples", "events", "pumps", "profile_ref", "drug_ref", "programs",
                                               "pump_attrs", "samples_daily"})
        # views, not temporary views: every query runs on its own cursor, which must see them
        got = c.run("summary").iloc[0]
        assert (got.pumps_selected, got.pumps_with_data, got.sample_hours) == (2, 2, 72)
    con = cq.connect([folder], materialize=("samples", "pump_attrs"))
    assert _relations(lambda q: con.execute(q).df()) == (
        {"samples", "pump_attrs"}, {"events", "pumps", "profile_ref", "drug_ref", "programs", "samples_daily"})
    con.close()


def test_run_and_filter_options_on_a_throwaway_database(tmp_path):
    """P1 48 h + P2 24 h = 72 h = 3 pump-days; the story group is P2 alone (24 h)."""
    folder = tiny(tmp_path / "c")
    got = cq.run("summary", [folder]).iloc[0]
    assert (got.pumps_selected, got.pumps_with_data, got.pump_days, got.sample_hours) == (2, 2, 3.0, 72)
    got = cq.run("summary", [folder], cq.Filters(groups=("story",))).iloc[0]
    assert (got.pumps_selected, got.pumps_with_data, got.pump_days, got.sample_hours) == (1, 1, 1.0, 24)
    assert cq.filter_options([str(folder)]) == {
        "drug": ["baclofen", "morphine"], "profile": ["programmable-20", "valve-gated-40"],
        "indication": ["pain_cancer", "spasticity_spinal"], "group": ["cohort", "story"],
        "alarm": ["alarm_catheter_occlusion", "alarm_low_reservoir"],
        "dates": [date(2024, 1, 1), date(2024, 1, 3)], "dates_outside_pump_clock": False}


@pytest.mark.parametrize("first, last, dates, outside", [
    (datetime(1900, 1, 1), datetime(2199, 12, 31, 23), [date(1900, 1, 1), date(2199, 12, 31)], False),
    (datetime(1899, 12, 31, 23), datetime(2024, 1, 1), [], True),
    (datetime(2024, 1, 1), datetime(2200, 1, 1), [], True),
])
def test_date_bounds_within_the_pump_clock_years(tmp_path, first, last, dates, outside):
    """The date filter is offered for times in the years 1900-2199 only (both ends inclusive)."""
    folder = tiny(tmp_path / "c", samples={"P1": _hours(first, 1), "P2": _hours(last, 1)})
    opts = cq.filter_options([folder])
    assert opts["dates"] == dates and opts["dates_outside_pump_clock"] is outside
    assert opts["group"] == ["cohort", "story"]


def test_no_samples_no_dates_and_nothing_wrong_with_them(tmp_path):
    folder = tiny(tmp_path / "c", samples={"P1": [], "P2": []})
    opts = cq.filter_options([folder])
    assert opts["dates"] == [] and opts["dates_outside_pump_clock"] is False
    assert opts["drug"] == ["baclofen", "morphine"]


# --------------------------------------------------------------------------- unreadable files in a database

def test_unreadable_partition_is_left_out_at_start(tmp_path):
    """P2's samples unreadable: P1's 48 h remain (and both folders' other files are read)."""
    a = tiny(tmp_path / "a")
    b = tiny(tmp_path / "b", prefix="Q")
    bad = _spoil(_part(a, "samples", "P2"))
    with cq.Cohort([a, b]) as c:
        assert [p for p, _ in c.skipped] == [bad]
        got = c.run("summary").iloc[0]
        assert (got.pumps_selected, got.pumps_with_data, got.sample_hours) == (4, 3, 48 + 48 + 24)
        assert set(c.run("pump_table").query("pump_days > 0").pump_id) == {"P1", "Q1", "Q2"}


def test_a_partition_spoilt_after_opening_is_left_out_at_query_time(tmp_path):
    folder = tiny(tmp_path / "c")
    with cq.Cohort([folder], materialize=(), memory_limit="300MB", threads=3) as c:
        assert c.run("summary").iloc[0].sample_hours == 72
        bad = _spoil(_part(folder, "samples", "P1"))
        old = c._db
        got = c.run("summary").iloc[0]
        assert (got.pumps_with_data, got.sample_hours) == (1, 24)  # P2 alone
        assert [p for p, _ in c.skipped] == [bad]
        assert _settings(c.query)[:2] == ("286.1 MiB", 3)  # the new database has the same settings
        assert _relations(c.query)[0] == set()  # and keeps every relation a view
        with pytest.raises(duckdb.ConnectionException):
            old.execute("SELECT 1")  # the first database was closed


def test_a_query_error_that_is_not_a_file_is_reported_once(tmp_path):
    a, b = tiny(tmp_path / "a"), tiny(tmp_path / "b", prefix="Q")
    with cq.Cohort([a, b]) as c:
        with pytest.raises(cq.CohortError) as info:
            c.query("SELECT CAST('x' AS INTEGER)")
        assert str(info.value) == (f"The telemetry in {a}, {b} cannot be queried: ConversionException: "
                                   "Conversion Error: Could not convert string 'x' to INT32")
        assert c.skipped == []
        with pytest.raises(duckdb.ParserException):  # our SQL, not the data: as DuckDB said it
            c.query("SELEC 1")
        assert c.run("summary").iloc[0].sample_hours == 144  # still usable


def test_a_query_that_fails_again_without_the_unreadable_file(tmp_path):
    """The first try fails, the spoilt file is found and left out, the second try fails for another
    reason: that reason is reported (first line, cut at 300 characters)."""
    a, b = tiny(tmp_path / "a"), tiny(tmp_path / "b", prefix="Q")
    with cq.Cohort([a, b], materialize=()) as c:
        bad = _spoil(_part(a, "samples", "P1"))
        text = "x" * 400
        with pytest.raises(cq.CohortError) as info:
            c.query(f"SELECT COUNT(*) FROM samples WHERE CAST('{text}' AS INTEGER) = 1")
        reason = f"Conversion Error: Could not convert string '{text}' to INT32"[:300]
        assert str(info.value) == f"The telemetry in {a}, {b} cannot be queried: ConversionException: {reason}"
        assert [p for p, _ in c.skipped] == [bad]
        assert c.run("summary").iloc[0].sample_hours == 72 - 48 + 72


def test_a_folder_that_fails_for_another_reason_is_reported(tmp_path):
    folder = tiny(tmp_path / "c", samples={})  # a samples folder without any file
    with pytest.raises(cq.CohortError) as info:
        cq.Cohort([folder])
    assert str(info.value) == (f'The telemetry in {folder} cannot be queried: IOException: IO Error: No files found '
                               f'that match the pattern "{folder}/samples/*/*.parquet"')


def test_a_folder_that_fails_even_without_its_unreadable_files(tmp_path):
    folder = tiny(tmp_path / "c")
    bad = _spoil(_part(folder, "samples", "P1"))
    _spoil(_part(folder, "samples", "P2"))
    for f in (folder / "events").glob("*/*.parquet"):
        f.unlink()
    # every samples file unreadable: the folder cannot be used
    with pytest.raises(cq.CohortError, match="none of its 2 samples partition file"):
        cq.Cohort([folder])
    # one readable, but no events at all: even without the unreadable file DuckDB fails
    pq.write_table(pa.Table.from_pylist(_hours(T0, 2), schema=_SAMPLE_SCHEMA), _part(folder, "samples", "P2"))
    with pytest.raises(cq.CohortError) as info:
        cq.Cohort([folder])
    assert str(info.value) == (f"The telemetry in {folder} cannot be queried even without the 1 unreadable file(s): "
                               'IOException: IO Error: "read_parquet" needs at least one file to read')
    assert bad.exists()


def _bad_concentration(folder: Path) -> None:
    """P1's programme with a concentration that is 400 letters, not a number: the programmes cannot be
    built (DuckDB's conversion error quotes the whole text: a first line over 300 characters)."""
    path = _part(folder, "events", "P1")
    t = pq.read_table(path)
    rows = t.to_pylist()
    details = json.loads(rows[0]["details"])
    details["new"]["drugs"][0]["concentration"] = "x" * 400
    rows[0]["details"] = json.dumps(details)
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), path)


def test_a_long_database_error_is_cut_to_300_characters(tmp_path):
    a, b = tiny(tmp_path / "a"), tiny(tmp_path / "b", prefix="Q")
    _bad_concentration(a)
    reason = f"Conversion Error: Could not convert string '{'x' * 400}' to DOUBLE"[:300]
    with pytest.raises(cq.CohortError) as info:
        cq.Cohort([a, b])
    assert str(info.value) == f"The telemetry in {a}, {b} cannot be queried: ConversionException: {reason}"
    # with an unreadable file as well: left out, and the error remains
    _spoil(_part(b, "samples", "Q1"))
    with pytest.raises(cq.CohortError) as info:
        cq.Cohort([a, b])
    assert str(info.value) == (f"The telemetry in {a}, {b} cannot be queried even without the 1 unreadable file(s): "
                               f"ConversionException: {reason}")
