"""Cohort figures: units on axes, exact hover, Okabe-Ito colours, an honest empty state."""
from __future__ import annotations

import pandas as pd
import pytest

from cohort_fixture import write_cohort
from pumpmodel import cohort_queries as cq
from pumpmodel.figures import cohort as figs
from pumpmodel.figures.style import PALETTE, SEVERITY_COLOURS

BUILDERS = {
    "refill_intervals": figs.refill_intervals,
    "reservoir_margin": figs.reservoir_margin,
    "dose_trajectory": lambda df: figs.dose_trajectory(df, min_pumps=1),  # the small fixture cohort
    "alarm_rates": figs.alarm_rates,
    "ptm_by_hour": figs.ptm_by_hour,
    "discrepancy_by_profile": figs.refill_discrepancies,
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = write_cohort(tmp_path_factory.mktemp("c") / "cohort", pumps=8, days=90, seed=5)
    c = cq.Cohort([folder])
    yield {v: c.run(v) for v in BUILDERS}
    c.close()


def _axis_titles(fig):
    lay = fig.layout
    return [a.title.text for name in dir(lay) if name.startswith(("xaxis", "yaxis"))
            for a in [getattr(lay, name)] if a is not None and a.title is not None and a.title.text]


@pytest.mark.parametrize("view", list(BUILDERS))
def test_figures_have_units_and_hover(results, view):
    fig = BUILDERS[view](results[view])
    assert fig.data, view
    titles = _axis_titles(fig)
    numeric = [t for t in titles if t not in ("drug",)]  # category axes need no unit
    assert numeric and all("(" in t and ")" in t for t in numeric), titles
    for tr in fig.data:
        assert tr.hoverinfo == "skip" or tr.hovertemplate, (view, tr.name)


@pytest.mark.parametrize("view", list(BUILDERS))
def test_empty_selection_says_so(results, view):
    fig = BUILDERS[view](results[view].iloc[0:0])
    assert any("No data" in (a.text or "") for a in fig.layout.annotations)


def test_colours_are_okabe_ito(results):
    fig = figs.ptm_by_hour(results["ptm_by_hour"])
    assert {t.marker.color for t in fig.data} <= set(PALETTE)
    fig = figs.alarm_rates(results["alarm_rates"])
    assert {t.marker.color for t in fig.data} <= set(SEVERITY_COLOURS.values())


def test_dose_panels_carry_drug_units(results):
    df = results["dose_trajectory"]
    fig = figs.dose_trajectory(df, min_pumps=1)
    titles = [a.text for a in fig.layout.annotations]
    for drug, unit in df.groupby("drug")["unit"].first().items():
        assert f"{drug} ({unit}/day)" in titles


def test_ptm_fills_all_24_hours():
    df = pd.DataFrame({"hour": [3], "granted": [5], "denied_lockout": [1], "denied_daily_max": [0]})
    fig = figs.ptm_by_hour(df)
    assert all(len(t.x) == 24 for t in fig.data)
    assert fig.data[0].y[3] == 5


def test_dose_panels_name_the_time_axis_once_per_column():
    # four drugs in a 2 x 2 grid: the top row's axis title ran into the bottom row's panel titles
    df = pd.DataFrame([{"drug": d, "unit": "mg", "month_since_implant": m, "q1": 1.0, "median": 2.0, "q3": 3.0,
                        "pump_days": 300, "pumps": 10} for d in ("a", "b", "c", "d") for m in range(6)])
    fig = figs.dose_trajectory(df)
    titled = sorted(name for name in fig.layout if name.startswith("xaxis") and fig.layout[name].title.text)
    assert titled == ["xaxis3", "xaxis4"]  # the bottom row
    three = figs.dose_trajectory(df[df["drug"] != "d"])  # the right column's lowest panel is in the top row
    assert sorted(n for n in three.layout if n.startswith("xaxis") and three.layout[n].title.text) == ["xaxis2", "xaxis3"]
