"""Results shared by every session (``st.cache_resource`` in ui/data.py and ui/clinician.py) are
the same objects in every session, so nothing a session does may change them: presentation mode
(which enlarges chart fonts in place) must scale a copy, never the shared figure."""
from __future__ import annotations

from conftest import chart_specs


def _chart_font_sizes(at) -> list:
    return [spec["layout"].get("font", {}).get("size") for spec in chart_specs(at)]


def test_presentation_mode_does_not_enlarge_the_shared_figures_of_other_sessions(app):
    plain = app({"pump": "story-a"})
    plain.switch_page("pages/schedule.py").run()
    assert not plain.exception
    before = _chart_font_sizes(plain)
    assert before, "the schedule page draws charts"

    presenter = app({"pump": "story-a", "present": "1"})
    for _ in range(3):  # three runs: in-place scaling of a shared figure would compound
        presenter.switch_page("pages/schedule.py").run()
        assert not presenter.exception
    big = _chart_font_sizes(presenter)
    assert all(b is not None and (a or 13) < b for a, b in zip(before, big)), (before, big)
    assert len(set(big)) <= len(set(before)) + 1, big

    plain.run()
    assert _chart_font_sizes(plain) == before


def test_presentation_mode_enlarges_the_sandbox_charts_too(app):
    plain = app({"pump": "story-a"})
    plain.switch_page("pages/sandbox.py").run()
    presenter = app({"pump": "story-a", "present": "1"})
    for _ in range(2):  # edits rerun the page: the figures are fresh each time, never scaled twice
        presenter.switch_page("pages/sandbox.py").run()
    assert not plain.exception and not presenter.exception
    before, big = _chart_font_sizes(plain), _chart_font_sizes(presenter)
    assert len(before) == len(big) == 2
    assert all((a or 13) < b < 2 * (a or 13) for a, b in zip(before, big)), (before, big)
