"""The one number formatter (pumpmodel.units.fmt / rounded / round_frame) and the chart data
table (pumpmodel.figures.data): expectations computed by hand."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, strategies as st

from pumpmodel.figures.data import figure_table
from pumpmodel.units import SIG_FIGS, fmt, fmt_text, round_frame, rounded, unit_of


@pytest.mark.parametrize("value, unit, text", [
    (0.39375, "mL/day", "0.394 mL/day"),      # 3 significant figures for volumes and rates
    (1181.25, "mcg/day", "1,181 mcg/day"),    # integer digits are never rounded away
    (787.5, "mcg/day", "787.5 mcg/day"),      # 4 for doses
    (1888.51, "days", "1,889 days"),          # the "in 1,888.51 days"
    (18.583333333333332, "days", "18.6 days"),
    (-0.0001, "mL", "0 mL"),                  # never "-0.00"
    (-1e-12, "mL/day", "0 mL/day"),
    (-2.5, "days", "-2.5 days"),
    (20.0, "mL", "20 mL"),                    # no trailing zeros
    (9.9996, "mL", "10 mL"),
    (79.94, "%", "79.9 %"),                  # 3 for percentages: "30.4 %" must not read as a 30 % limit
    (30.4, "%", "30.4 %"),
    (4.256, "%", "4.3 %"),
    (None, "mL", "n/a"),
    (float("nan"), "mL", "n/a"),
])
def test_fmt_by_unit(value, unit, text):
    assert fmt(value, unit) == text


def test_fmt_signed_and_without_unit():
    assert fmt(0.5, "mL", signed=True) == "+0.5 mL"
    assert fmt(0.39375, "mL/day", with_unit=False) == "0.394"


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.sampled_from(sorted(SIG_FIGS)))
def test_rounding_never_shows_minus_zero_and_stays_close(x, unit):
    text = fmt(x, unit, with_unit=False)
    assert not text.startswith("-0") or any(c in "123456789" for c in text)
    r = rounded(x, unit)
    assert math.copysign(1, r) == 1 or r != 0
    # within half a unit of the last shown digit, or of the unit's resolution
    assert abs(r - x) <= max(abs(x) * 10 ** (1 - SIG_FIGS[unit]), 10 ** -3) / 2 + 1e-9 or abs(r - x) <= 0.5


def test_round_frame_reads_units_from_column_names():
    df = pd.DataFrame({"withdrawn (mL)": [0.376251220703125, -1e-9], "median_days": [27.5, 18.583333333333332],
                       "pump": ["a", "b"], "n": [1, 2]})
    out = round_frame(df)
    assert list(out["withdrawn (mL)"]) == [0.376, 0.0]
    assert list(out["median_days"]) == [27.5, 18.6]
    assert list(out["pump"]) == ["a", "b"] and list(out["n"]) == [1, 2]
    assert str(out["withdrawn (mL)"].iloc[1]) == "0.0"  # not -0.0
    assert unit_of("rate (mL/day)") == "mL/day" and unit_of("expected_residual_ml") == "mL"


def test_figure_table_is_the_charts_data_rounded():
    fig = go.Figure([go.Scatter(x=[1, 2], y=[0.39375, 1.0], name="rate"),
                     go.Bar(y=["a"], x=[3.14159], orientation="h", name="bar")])
    fig.update_layout(xaxis_title="time of day (h)", yaxis_title="rate (mL/day)")
    t = figure_table(fig)
    assert list(t.columns) == ["series", "time of day (h)", "rate (mL/day)"]
    assert list(t["rate (mL/day)"]) == [0.394, 1.0, 3.14]
    assert list(t["series"]) == ["rate", "rate", "bar"]


@pytest.mark.parametrize("text, shown", [
    # the engine's formulas and messages keep full precision; people read them rounded by unit
    ("(7 h x 0.35 + 15 h x 0.5 + 2 h x 0.35) / 24 h = 0.44375 mL/day",
     "(7 h x 0.35 + 15 h x 0.5 + 2 h x 0.35) / 24 h = 0.444 mL/day"),
    ("reaches 1047.4999999999998 mcg/day, above the recommended maximum 1000 mcg/day",
     "reaches 1,047 mcg/day, above the recommended maximum 1,000 mcg/day"),
    ("recommended max 1000, hard max 2000 mcg/day", "recommended max 1,000, hard max 2,000 mcg/day"),
    ("rises 30.4 % (625 to 815.25 mcg/day)", "rises 30.4 % (625 to 815.2 mcg/day)"),
    ("it needs 8.571428571 h to clear", "it needs 8.6 h to clear"),
    # dates, times, years and numbers without a unit stay as written
    ("from 2026-11-21 09:00 reaches the alarm on 2027-01-23 11:06", "from 2026-11-21 09:00 reaches the alarm on 2027-01-23 11:06"),
    ("March 2026 to 18.8375 mL", "March 2026 to 18.8 mL"),
    ("x 0.39375 per day, 0.3 mL/hour", "x 0.39375 per day, 0.3 mL/hour"),
])
def test_fmt_text_rounds_numbers_with_a_unit_only(text, shown):
    assert fmt_text(text) == shown
