"""Training mode (no Streamlit here): exercises as data with objectives, scoring and
feedback, a guided refill visit with fault injection, progress and instructor aggregates.

- ``models``: the exercise, objective and submission models (the YAML deck's schema);
- ``objectives``: one small checker per objective kind;
- ``scoring.score(exercise, submission)``: per-objective pass/fail with reasons and numbers;
- ``deck``: load and check the deck (``python -m pumpmodel exercise check``);
- ``refill_visit``: the guided refill visit as a state machine.
"""
from .deck import DECK_DIR, DeckError, check_exercise, check_path, exercise, load_deck
from .models import Exercise, Submission
from .scoring import Score, score, starting_case

__all__ = ["DECK_DIR", "DeckError", "Exercise", "Score", "Submission", "check_exercise", "check_path", "exercise",
           "load_deck", "score", "starting_case"]
