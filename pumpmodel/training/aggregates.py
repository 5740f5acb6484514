"""Progress and instructor aggregates over attempt records (pandas, no Streamlit).

- ``deck_progress(deck, attempts)``: one row per exercise with the trainee's status;
- ``per_exercise(deck, attempts)``: attempts, trainees, pass rate, median time, hard stops and
  overrides per 100 attempts;
- ``per_objective(deck, attempts)``: pass rate of every objective;
- ``wrong_answers(deck, attempts)``: the most common ways attempts failed (the typical wrong answer
  they match, else the objectives failed);
- ``attempts_table(attempts)``: one row per attempt, for CSV export.
"""
from __future__ import annotations

import pandas as pd

from .models import Exercise
from .progress import AttemptRecord

STATUS_ORDER = ("passed", "attempted", "not started")


def attempts_table(attempts: list[AttemptRecord]) -> pd.DataFrame:
    cols = ["trainee", "workspace", "exercise", "started_at_utc", "finished_at_utc", "duration_s", "passed",
            "score_percent", "hard_stops", "overrides", "override_reasons", "failed_objectives", "wrong_answer"]
    rows = [{"trainee": a.trainee, "workspace": a.workspace, "exercise": a.exercise_id,
             "started_at_utc": a.started_at.strftime("%Y-%m-%d %H:%M:%S"),
             "finished_at_utc": a.finished_at.strftime("%Y-%m-%d %H:%M:%S"),
             "duration_s": round(a.duration_s, 1), "passed": a.passed, "score_percent": a.score_percent,
             "hard_stops": a.hard_stops, "overrides": len(a.overrides),
             "override_reasons": "; ".join(f"{o['code']}: {o['reason']}" for o in a.overrides),
             "failed_objectives": ", ".join(a.failed_ids), "wrong_answer": a.wrong_answer or ""}
            for a in attempts]
    return pd.DataFrame(rows, columns=cols)


def deck_progress(deck: list[Exercise], attempts: list[AttemptRecord]) -> pd.DataFrame:
    """The deck with this trainee's status, best score, attempts and time of the best attempt."""
    rows = []
    for ex in deck:
        mine = [a for a in attempts if a.exercise_id == ex.id]
        best = max(mine, key=lambda a: (a.score_percent, -a.duration_s), default=None)
        status = "not started" if not mine else "passed" if any(a.passed for a in mine) else "attempted"
        rows.append({"exercise": ex.id, "title": ex.title, "level": ex.level, "status": status,
                     "best_score_percent": None if best is None else best.score_percent,
                     "attempts": len(mine),
                     "best_time_s": None if best is None else round(best.duration_s, 1)})
    return pd.DataFrame(rows, columns=["exercise", "title", "level", "status", "best_score_percent", "attempts",
                                       "best_time_s"])


def _per100(n: int, attempts: int) -> float:
    return round(100.0 * n / attempts, 1) if attempts else 0.0


def per_exercise(deck: list[Exercise], attempts: list[AttemptRecord]) -> pd.DataFrame:
    rows = []
    for ex in deck:
        mine = [a for a in attempts if a.exercise_id == ex.id]
        n = len(mine)
        rows.append({
            "exercise": ex.id, "level": ex.level, "attempts": n,
            "trainees": len({(a.workspace, a.trainee) for a in mine}),
            "pass_rate_percent": _per100(sum(a.passed for a in mine), n) if n else None,
            "mean_score_percent": round(sum(a.score_percent for a in mine) / n, 1) if n else None,
            "median_time_s": round(float(pd.Series([a.duration_s for a in mine]).median()), 1) if n else None,
            "hard_stops_per_100": _per100(sum(a.hard_stops for a in mine), n) if n else None,
            "overrides_per_100": _per100(sum(len(a.overrides) for a in mine), n) if n else None,
        })
    return pd.DataFrame(rows)


def per_objective(deck: list[Exercise], attempts: list[AttemptRecord]) -> pd.DataFrame:
    rows = []
    for ex in deck:
        mine = [a for a in attempts if a.exercise_id == ex.id]
        for o in ex.objectives:
            results = [r["passed"] for a in mine for r in a.objectives if r["id"] == o.id]
            rows.append({"exercise": ex.id, "objective": o.id, "text": o.text, "attempts": len(results),
                         "pass_rate_percent": _per100(sum(results), len(results)) if results else None})
    return pd.DataFrame(rows, columns=["exercise", "objective", "text", "attempts", "pass_rate_percent"])


def wrong_answers(deck: list[Exercise], attempts: list[AttemptRecord], top: int = 20) -> pd.DataFrame:
    """Failed attempts grouped by the typical wrong answer they match, else by the objectives failed."""
    titles = {ex.id: ex for ex in deck}
    counts: dict[tuple[str, str], int] = {}
    for a in attempts:
        if a.passed:
            continue
        what = a.wrong_answer or ("failed: " + ", ".join(a.failed_ids))
        counts[(a.exercise_id, what)] = counts.get((a.exercise_id, what), 0) + 1
    totals = {ex_id: sum(a.exercise_id == ex_id for a in attempts) for ex_id, _ in counts}
    rows = [{"exercise": ex_id, "wrong answer": what, "count": n,
             "share_of_attempts_percent": _per100(n, totals[ex_id]),
             "known typical error": any(w.label == what for w in titles[ex_id].wrong_answers)
             if ex_id in titles else False}
            for (ex_id, what), n in counts.items()]
    df = pd.DataFrame(rows, columns=["exercise", "wrong answer", "count", "share_of_attempts_percent",
                                     "known typical error"])
    return df.sort_values(["count", "exercise"], ascending=[False, True]).head(top).reset_index(drop=True)


def summary(attempts: list[AttemptRecord]) -> dict:
    n = len(attempts)
    return {"attempts": n, "trainees": len({(a.workspace, a.trainee) for a in attempts}),
            "pass_rate_percent": _per100(sum(a.passed for a in attempts), n) if n else None,
            "hard_stops_per_100": _per100(sum(a.hard_stops for a in attempts), n) if n else None,
            "overrides_per_100": _per100(sum(len(a.overrides) for a in attempts), n) if n else None,
            "median_time_s": round(float(pd.Series([a.duration_s for a in attempts]).median()), 1) if n else None}
