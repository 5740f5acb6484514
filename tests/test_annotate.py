"""History charts label the story events, the reservoir chart opens on each story's key
event, markers never clip and the legend keeps only the lines."""
from __future__ import annotations

import pandas as pd
import pytest

from pumpmodel import evaluate
from pumpmodel.figures import reservoir as fres, schedule as fsch
from pumpmodel.figures.annotate import notable_events
from pumpmodel.telemetry import STORY_DIR, load_telemetry


@pytest.fixture(scope="module")
def story():
    return load_telemetry(STORY_DIR)


def test_patient_a_key_window_shows_the_march_low_reservoir_event(story):
    pt = story.pump("story-a")
    case = pt.case()
    start = fres.window_start("key", case.now, pt.events, pt.refills())
    assert start <= pd.Timestamp("2026-03-18 09:00") - pd.Timedelta(days=7)  # the 0.376 mL reading, with room
    assert fres.window_start("120", case.now) == pd.Timestamp(case.now) - pd.Timedelta(days=120)
    assert fres.window_start("all", case.now) is None
    fig = fres.reservoir_figure(pt.samples, case, evaluate(case), refills=pt.refills(), start=start, events=pt.events)
    texts = [a.text for a in fig.layout.annotations]
    assert any("2026-03-18" in t and "0.376 mL left" in t for t in texts), texts
    assert any(t == "low-reservoir alarm" for t in texts)
    assert pd.Timestamp(fig.layout.xaxis.range[0]) == start
    markers = [t for t in fig.data if t.mode == "markers" and t.name in fres.MARKER_STYLE]
    assert markers and all(t.cliponaxis is False and t.showlegend is False for t in markers)
    assert sum(1 for t in fig.data if t.showlegend is not False) <= 5


@pytest.mark.parametrize("pump", ["story-a", "story-c"])
def test_lowest_reading_and_now_labels_keep_apart_on_any_width(story, pump):
    """Placed in data units, not beside their points: the lowest reading's label starts at the left
    edge of the window, above the end markers' ladder (which reaches 65 % of the reservoir); "now"
    sits above its marker (story-a: full, up and right; story-c: half empty, above the ladder).
    Beside their points they met on a 390 px phone."""
    pt = story.pump(pump)
    case = pt.case()
    start = fres.window_start("key", case.now, pt.events, pt.refills())
    fig = fres.reservoir_figure(pt.samples, case, evaluate(case), refills=pt.refills(), start=start, events=pt.events)
    cap = case.pump.spec.reservoir_ml
    low = next(a for a in fig.layout.annotations if "left" in a.text or a.text.startswith("lowest"))
    window = pd.Timestamp(fig.layout.xaxis.range[1]) - pd.Timestamp(fig.layout.xaxis.range[0])
    assert low.axref == "x" and low.xanchor == "left"
    assert pd.Timestamp(low.ax) - pd.Timestamp(fig.layout.xaxis.range[0]) < 0.05 * window
    assert low.ayref == "y" and low.ay > 0.65 * cap
    now = next(a for a in fig.layout.annotations if a.text == "now")
    marker = next(t for t in fig.data if t.name == "now" and t.mode == "markers")
    assert (marker.y[0] > cap / 2) == (pump == "story-a")  # each placement is checked once
    if marker.y[0] > cap / 2:
        assert now.ay < 0 and now.ax > 0 and now.xanchor == "left"  # pixels: up and to the right
    else:
        assert now.ayref == "y" and now.ay > 0.65 * cap  # above the ladder, in mL


def test_patient_e_mri_stall_is_labelled_on_the_dose_history(story):
    pt = story.pump("story-e")
    marks = notable_events(pt.events)
    assert list(marks["label"])[:1] == ["MRI (14 h)"]  # the stall alarm at the same hour is folded in
    assert "motor stall" not in " ".join(marks["label"])
    fig = fsch.dose_history_figure(pt.samples, pt.programs(), events=pt.events)
    assert "MRI (14 h)" in [a.text for a in fig.layout.annotations]


def test_patient_h_occlusion_is_labelled(story):
    marks = notable_events(story.pump("story-h").events)
    assert any(lbl.startswith("catheter occlusion") for lbl in marks["label"])
