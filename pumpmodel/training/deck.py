"""The exercise deck: YAML files in ``pumpmodel/data/exercises/`` (one exercise each),
validated by pydantic, and the check that runs each exercise's expert solution
(must pass every objective) and typical wrong answers (each must fail the
objectives it names)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..programs import Case
from .models import Exercise, sort_key
from .refill_visit import VisitConfig
from .scoring import error_lines, score, starting_case

DECK_DIR = Path(__file__).resolve().parents[1] / "data" / "exercises"


class DeckError(Exception):
    """A file that is not a valid exercise; ``problems`` name the file and field."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def load_file(path: str | Path) -> Exercise:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DeckError([f"{path.name}: cannot read: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise DeckError([f"{path.name}: not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise DeckError([f"{path.name}: an exercise file holds one mapping (id, title, ...)"])
    try:
        ex = Exercise.model_validate(raw)
        if ex.visit is not None:
            VisitConfig.model_validate(ex.visit)
    except ValidationError as exc:
        raise DeckError([f"{path.name}: {line}" for line in error_lines(exc)]) from None
    if path.stem != ex.id:
        raise DeckError([f"{path.name}: the file name must be the exercise id ({ex.id}.yaml)"])
    return ex


def files(path: str | Path = DECK_DIR) -> list[Path]:
    path = Path(path)
    return sorted(path.glob("*.yaml")) if path.is_dir() else [path]


@lru_cache(maxsize=4)
def _load_deck(folder: str) -> tuple[Exercise, ...]:
    exercises = [load_file(f) for f in files(folder)]
    ids = [e.id for e in exercises]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise DeckError([f"exercise id used twice: {', '.join(dup)}"])
    return tuple(sorted(exercises, key=sort_key))


def load_deck(folder: str | Path = DECK_DIR) -> list[Exercise]:
    """Every exercise in the folder, beginner to advanced (cached: the deck is data shipped with the app)."""
    return list(_load_deck(str(folder)))


def exercise(exercise_id: str, folder: str | Path = DECK_DIR) -> Exercise:
    for ex in load_deck(folder):
        if ex.id == exercise_id:
            return ex
    raise KeyError(exercise_id)


@dataclass
class CheckReport:
    exercise_id: str
    problems: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_exercise(ex: Exercise) -> CheckReport:
    """Starting case valid, expert solution passes every objective, each wrong answer fails what it names."""
    rep = CheckReport(ex.id)
    try:
        Case.model_validate(starting_case(ex))
    except ValidationError as exc:
        rep.problems += [f"starting case: {line}" for line in error_lines(exc)]
        return rep
    expert = score(ex, ex.expert_solution)
    for o in expert.objectives:
        if not o.passed:
            rep.problems.append(f"expert solution fails {o.id}: {o.reason}")
    rep.runs.append(f"expert solution: {sum(o.passed for o in expert.objectives)}/{len(expert.objectives)} passed")
    for w in ex.wrong_answers:
        res = score(ex, w.submission)
        by_id = {o.id: o for o in res.objectives}
        for oid in w.fails:
            if by_id[oid].passed:
                rep.problems.append(f"wrong answer '{w.label}' passes {oid}, which it must fail ({by_id[oid].reason})")
        rep.runs.append(f"wrong answer '{w.label}': fails {', '.join(res.failed_ids) or 'nothing'}")
    return rep


def check_path(path: str | Path) -> list[CheckReport]:
    """Check a file or every ``*.yaml`` in a folder; a file that does not load is a report with its problems."""
    reports, seen = [], {}
    for f in files(path):
        try:
            ex = load_file(f)
        except DeckError as exc:
            reports.append(CheckReport(f.stem, problems=exc.problems))
            continue
        if ex.id in seen:
            reports.append(CheckReport(ex.id, problems=[f"{f.name}: id {ex.id} already used by {seen[ex.id]}"]))
            continue
        seen[ex.id] = f.name
        reports.append(check_exercise(ex))
    return reports
