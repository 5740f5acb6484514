"""Training figures: bars from the aggregate tables, labelled, empty state, units on axes."""
from datetime import datetime, timedelta, timezone

from pumpmodel.figures import training as F
from pumpmodel.training import aggregates as A
from pumpmodel.training import load_deck, score
from pumpmodel.training.progress import attempt_from_score

DECK = load_deck()


def _recs():
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    ex = {e.id: e for e in DECK}["read-the-pump"]
    subs = [ex.expert_solution.model_dump(), ex.wrong_answers[0].submission.model_dump()]
    return [attempt_from_score(score(ex, s), "A", t0, s, t0 + timedelta(seconds=20)) for s in subs]


def test_pass_rate_chart_has_one_labelled_bar_per_attempted_exercise():
    fig = F.pass_rate_by_exercise(A.per_exercise(DECK, _recs()))
    [bar] = fig.data
    assert list(bar.y) == ["read-the-pump"] and list(bar.x) == [50.0] and list(bar.text) == ["50 %"]
    assert fig.layout.xaxis.title.text == "attempts passed (%)"


def test_objective_chart_colours_weak_objectives():
    fig = F.objective_pass_rates(A.per_objective(DECK, _recs()))
    [bar] = fig.data
    rates = dict(zip(bar.y, bar.x))
    assert rates == {"read-the-pump / dose_read": 50.0, "read-the-pump / refill_read": 100.0}


def test_empty_charts_say_so():
    for fig in (F.pass_rate_by_exercise(A.per_exercise(DECK, [])), F.objective_pass_rates(A.per_objective(DECK, [])),
                F.safety_per_100(A.per_exercise(DECK, []))):
        assert not fig.data and fig.layout.annotations[0].text == F.NO_ATTEMPTS
