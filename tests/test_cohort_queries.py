"""Every cohort view's SQL (DuckDB on Parquet) checked against the same computation in pandas."""
from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cohort_fixture import write_cohort
from pumpmodel import cohort_queries as cq
from pumpmodel import library

FILTER_CASES = [
    cq.Filters(),
    cq.Filters(date_from=date(2024, 2, 1), date_to=date(2024, 3, 31)),
    cq.Filters(groups=("cohort",)),
    cq.Filters(alarms=("alarm_low_reservoir",)),
    cq.Filters(profiles=("valve-gated-20", "programmable-20")),
    cq.Filters(indications=("pain_cancer",)),
    cq.Filters(alarms=("alarm_low_reservoir",), date_from=date(2024, 3, 1), date_to=date(2024, 4, 10)),
    cq.Filters(drugs=("baclofen",), profiles=("valve-gated-40",), date_from=date(2024, 2, 1)),
]
# The fixture is seeded: these are the pumps each filter must select, read off its pumps table and
# alarm events (not computed by the code under test). Low-reservoir alarms: C0000 04-05, C0001 01-29,
# C0004 03-26, C0007 03-13, S0000 01-25, S0001 04-25; only three fall in 2024-03-01..04-10.
EXPECTED_PUMPS = {
    0: {"C0000", "C0001", "C0002", "C0003", "C0004", "C0005", "C0006", "C0007", "S0000", "S0001"},
    2: {"C0000", "C0001", "C0002", "C0003", "C0004", "C0005", "C0006", "C0007"},
    3: {"C0000", "C0001", "C0004", "C0007", "S0000", "S0001"},
    4: {"C0001", "C0002", "C0007", "S0000", "S0001"},
    5: {"C0001", "C0007", "S0001"},
    6: {"C0000", "C0004", "C0007"},
    7: {"C0000", "C0004"},
}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort")
    a = write_cohort(root / "cohort", pumps=8, days=120, seed=3)
    b = write_cohort(root / "story", pumps=2, days=120, seed=4, group="story", prefix="S")
    return [a, b]


@pytest.fixture(scope="module")
def engine(cohort):
    c = cq.Cohort(cohort)
    yield c
    c.close()


@pytest.fixture(scope="module")
def tables(cohort):
    """The whole cohort in pandas (fine for a fixture; the app never does this)."""
    def load(table):
        parts = []
        for folder in cohort:
            for f in sorted((folder / table).glob("pump_id=*/*.parquet")):
                df = pd.read_parquet(f)
                df["pump_id"] = f.parent.name.split("=", 1)[1]
                parts.append(df)
        return pd.concat(parts, ignore_index=True)

    pumps = pd.concat([pd.read_parquet(f / "pumps.parquet") for f in cohort], ignore_index=True)
    return pumps, load("samples"), load("events")


def _attrs(pumps, events):
    prof = {p.name: p for p in library.pump_profiles().values()}
    units = {d.name: d.unit for d in library.drugs().values()}
    pc = events[events.kind == "program_change"].sort_values("timestamp")
    latest = pc.groupby("pump_id").tail(1).set_index("pump_id")
    out = pumps.set_index("pump_id").copy()
    out["drug"] = latest["details"].map(lambda d: json.loads(d)["new"]["drugs"][0]["drug"])
    out["unit"] = out["drug"].map(units)
    out["lra_ml"] = out["low_reservoir_alarm_ml"].fillna(out["profile"].map(lambda p: prof[p].low_reservoir_alarm_ml))
    out["limit_ml"] = out["profile"].map(lambda p: prof[p].refill_discrepancy_ml)
    return out


def _in_range(ts: pd.Series, f: cq.Filters) -> pd.Series:
    ok = pd.Series(True, index=ts.index)
    if f.date_from:
        ok &= ts >= pd.Timestamp(f.date_from)
    if f.date_to:
        ok &= ts < pd.Timestamp(f.date_to) + pd.Timedelta(days=1)
    return ok


def _selected(attrs, events, f: cq.Filters):
    a = attrs
    if f.drugs:
        a = a[a.drug.isin(f.drugs)]
    if f.profiles:
        a = a[a.profile.isin(f.profiles)]
    if f.indications:
        a = a[a.indication.isin(f.indications)]
    if f.groups:
        a = a[a.group.isin(f.groups)]
    if f.alarms:
        seen = events[events.kind.isin(f.alarms) & _in_range(events.timestamp, f)].pump_id.unique()
        a = a[a.index.isin(seen)]
    return a


@pytest.fixture(scope="module")
def ref(tables):
    pumps, samples, events = tables
    return pumps, samples, events, _attrs(pumps, events)


def _daily(samples, sel, f):
    s = samples[samples.pump_id.isin(sel.index) & _in_range(samples.timestamp, f)]
    return s.groupby(["pump_id", s.timestamp.dt.normalize()]).agg(
        first_hour=("timestamp", "min"), delivered_ml=("delivered_ml", "sum"),
        min_reservoir_ml=("reservoir_ml", "min"), hours=("timestamp", "size")).reset_index()


@pytest.mark.parametrize("i", sorted(EXPECTED_PUMPS))
def test_filters_select_the_expected_pumps(engine, ref, i):
    """Each filter on its own selects a known, non-empty set (an ignored filter, or a date range
    ignored for alarms, selects more; a broken one selects nothing): checked for the engine and
    for the pandas reference the other tests compare with."""
    pumps, samples, events, attrs = ref
    f = FILTER_CASES[i]
    assert set(_selected(attrs, events, f).index) == EXPECTED_PUMPS[i]
    assert set(engine.run("pump_table", f).pump_id) == EXPECTED_PUMPS[i]
    assert engine.run("summary", f).iloc[0].pumps_selected == len(EXPECTED_PUMPS[i])


@pytest.mark.parametrize("f", FILTER_CASES)
def test_summary(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    s = samples[samples.pump_id.isin(sel.index) & _in_range(samples.timestamp, f)]
    got = engine.run("summary", f).iloc[0]
    assert got.pumps_selected == len(sel)
    assert got.pumps_with_data == s.pump_id.nunique()
    assert got.pump_days == pytest.approx(len(s) / 24)


@pytest.mark.parametrize("f", FILTER_CASES)
def test_pump_table(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    d = _daily(samples, sel, f)
    d["below"] = d.min_reservoir_ml < d.pump_id.map(sel.lra_ml)
    per = d.groupby("pump_id").agg(pump_days=("hours", "size"), days_below_alarm=("below", "sum"),
                                   min_reservoir_ml=("min_reservoir_ml", "min"))
    e = events[events.pump_id.isin(sel.index) & _in_range(events.timestamp, f)]
    alarms = e[e.kind.str.startswith("alarm")].groupby("pump_id").size()
    rf = e[e.kind == "refill"]
    disc = rf[(rf.withdrawn_ml - rf.expected_residual_ml).abs() > rf.pump_id.map(sel.limit_ml)].groupby("pump_id").size()
    got = engine.run("pump_table", f).set_index("pump_id")
    assert set(got.index) == set(sel.index)
    for pid in sel.index:
        row = got.loc[pid]
        assert row.pump_days == per.pump_days.get(pid, 0)
        assert row.days_below_alarm == per.days_below_alarm.get(pid, 0)
        assert row.alarms == alarms.get(pid, 0)
        assert row.refill_discrepancies == disc.get(pid, 0)
        assert row.drug == sel.loc[pid, "drug"]
    # riskiest first
    assert list(got.days_below_alarm) == sorted(got.days_below_alarm, reverse=True)


@pytest.mark.parametrize("f", FILTER_CASES)
def test_refill_intervals(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    rf = events[(events.kind == "refill") & events.pump_id.isin(sel.index)].sort_values(["pump_id", "timestamp"]).copy()
    rf["drug"] = rf.details.map(lambda d: json.loads(d)["drugs"][0]["drug"])
    rf["days"] = rf.groupby("pump_id").timestamp.diff().dt.total_seconds() / 86400
    rf = rf[rf.days.notna() & _in_range(rf.timestamp, f)]
    want = rf.groupby("drug").days.agg(["size", "min", "median", "max", "mean"])
    q = rf.groupby("drug").days.quantile([0.25, 0.75]).unstack()
    got = engine.run("refill_intervals", f).set_index("drug")
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.intervals, want["size"])
    np.testing.assert_allclose(got.median_days, want["median"])
    np.testing.assert_allclose(got.mean_days, want["mean"])
    np.testing.assert_allclose(got.q1_days, q[0.25])
    np.testing.assert_allclose(got.q3_days, q[0.75])
    np.testing.assert_allclose(got.max_days, want["max"])


@pytest.mark.parametrize("f", FILTER_CASES)
def test_reservoir_margin(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    rf = events[(events.kind == "refill") & events.pump_id.isin(sel.index) & _in_range(events.timestamp, f)].copy()
    rf["profile"] = rf.pump_id.map(sel.profile)
    rf["bin"] = np.floor((rf.expected_residual_ml - rf.pump_id.map(sel.lra_ml)) / 0.5) * 0.5
    want = rf.groupby(["profile", "bin"]).size()
    got = engine.run("reservoir_margin", f).set_index(["profile", "bin_start_ml"]).refills
    assert got.to_dict() == {k: v for k, v in want.to_dict().items()}


@pytest.mark.parametrize("f", FILTER_CASES)
def test_dose_trajectory(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    d = _daily(samples, sel, f)
    d = d[d.hours == 24]
    pc = events[events.kind == "program_change"].sort_values("timestamp").copy()
    new = pc.details.map(lambda s: json.loads(s)["new"]["drugs"][0])
    pc["drug"] = new.map(lambda x: x["drug"])
    factor = {("mg", "mg/mL"): 1.0, ("mcg", "mcg/mL"): 1.0, ("mcg", "mg/mL"): 1000.0, ("mg", "mcg/mL"): 0.001}
    pc["conc"] = [x["concentration"] * factor[(library.drug(x["drug"]).unit, x["unit"])] for x in new]
    m = pd.merge_asof(d.sort_values("first_hour"), pc[["pump_id", "timestamp", "drug", "conc"]].sort_values("timestamp"),
                      left_on="first_hour", right_on="timestamp", by="pump_id").dropna(subset=["drug"])
    m["month"] = np.floor((m.first_hour - m.pump_id.map(sel.implant_date)).dt.total_seconds() / 86400 / 30.4375)
    m["dose"] = m.delivered_ml * m.conc
    m = m[m.month >= 0]
    g = m.groupby(["drug", "month"]).dose
    got = engine.run("dose_trajectory", f).set_index(["drug", "month_since_implant"])
    assert list(got.index) == list(g.median().index)
    np.testing.assert_allclose(got["median"], g.median())
    np.testing.assert_allclose(got.q1, g.quantile(0.25))
    np.testing.assert_allclose(got.q3, g.quantile(0.75))
    np.testing.assert_array_equal(got.pump_days, g.size())


@pytest.mark.parametrize("f", FILTER_CASES)
def test_alarm_rates(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    pump_days = (samples.pump_id.isin(sel.index) & _in_range(samples.timestamp, f)).sum() / 24
    e = events[events.pump_id.isin(sel.index) & _in_range(events.timestamp, f) & events.kind.str.startswith("alarm")]
    want = (e.groupby("kind").size() * 1000 / pump_days).to_dict()
    got = engine.run("alarm_rates", f).set_index("kind").per_1000_pump_days.to_dict()
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k])


@pytest.mark.parametrize("f", FILTER_CASES)
def test_ptm_by_hour(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    e = events[events.pump_id.isin(sel.index) & _in_range(events.timestamp, f) & events.kind.str.startswith("ptm")]
    want = pd.crosstab(e.timestamp.dt.hour, e.kind)
    got = engine.run("ptm_by_hour", f).set_index("hour")
    np.testing.assert_array_equal(got.granted, want.get("ptm_granted", 0))
    np.testing.assert_array_equal(got.denied_lockout, want.get("ptm_denied_lockout", 0))
    np.testing.assert_array_equal(got.denied_daily_max, want.get("ptm_denied_daily_max", 0))


@pytest.mark.parametrize("f", FILTER_CASES)
def test_refill_discrepancies(engine, ref, f):
    pumps, samples, events, attrs = ref
    sel = _selected(attrs, events, f)
    rf = events[(events.kind == "refill") & events.pump_id.isin(sel.index) & _in_range(events.timestamp, f)].copy()
    rf["profile"] = rf.pump_id.map(sel.profile)
    rf["flag"] = (rf.withdrawn_ml - rf.expected_residual_ml).abs() > rf.pump_id.map(sel.limit_ml)
    by = rf.groupby("profile").flag.agg(["size", "sum"])
    got = engine.run("discrepancy_by_profile", f).set_index("profile")
    np.testing.assert_array_equal(got.refills, by["size"])
    np.testing.assert_array_equal(got.flagged, by["sum"])
    flagged = engine.run("flagged_refills", f)
    assert len(flagged) == rf.flag.sum()
    assert (flagged.difference_ml.abs() > flagged.limit_ml).all()


def test_fixture_has_a_known_discrepancy(engine):
    """The writer forces one on pump C0000's first refill: 20 mL pumps flag > 1 mL, 40 mL > 2 mL."""
    got = engine.run("flagged_refills", cq.Filters())
    assert "C0000" in set(got.pump_id)
    limits = {p.name: p.refill_discrepancy_ml for p in library.pump_profiles().values()}
    assert all(got.limit_ml == got.profile.map(limits))


def test_filters_narrow_the_selection(engine):
    everyone = engine.run("summary", cq.Filters()).iloc[0]
    story = engine.run("summary", cq.Filters(groups=("story",))).iloc[0]
    assert story.pumps_selected == 2 < everyone.pumps_selected
    one_drug = engine.run("pump_table", cq.Filters(drugs=("baclofen",)))
    assert set(one_drug.drug) == {"baclofen"} and len(one_drug) == 4  # C0000, C0002, C0003, C0004


def test_options_and_literals(engine):
    opts = engine.filter_options()
    assert opts["group"] == ["cohort", "story"]
    assert opts["dates"][0] == date(2024, 1, 1)
    assert cq.lit("o'brien") == "'o''brien'"
    import duckdb
    for value in ("o'brien", "C:\\cohorts\\big", "a\\'b"):
        assert duckdb.sql("SELECT " + cq.lit(value)).fetchall()[0][0] == value
    # hostile values stay inside a literal
    assert engine.run("summary", cq.Filters(drugs=("x'); DROP TABLE pumps; --",))).iloc[0].pumps_selected == 0


def test_sql_is_engine_neutral():
    """No DuckDB-only spellings in the view texts (they must also run on Spark SQL)."""
    for view in cq.VIEWS:
        text = cq.sql(view, FILTER_CASES[1]).lower()
        for bad in ("read_parquet", "json_extract", "epoch(", "qualify", "::", "date_diff", "quantile_cont"):
            assert bad not in text, (view, bad)
    for stmt in cq.setup_sql():
        assert "read_parquet" not in stmt and "json_extract" not in stmt
