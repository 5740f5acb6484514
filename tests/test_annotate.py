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
