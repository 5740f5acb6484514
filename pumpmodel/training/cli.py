"""``python -m pumpmodel exercise check FILE|DIR`` and ``exercise list``."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cli import register
from .deck import DECK_DIR, check_path, load_deck


def cmd_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.path]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("no such file or folder: " + ", ".join(str(p) for p in missing))
        return 2
    reports = [r for p in paths for r in check_path(p)]
    if not reports:
        print("no exercise files (*.yaml) in " + ", ".join(str(p) for p in paths))
        return 2
    if args.json:
        print(json.dumps([{"exercise": r.exercise_id, "ok": r.ok, "problems": r.problems, "runs": r.runs}
                          for r in reports], indent=2))
    else:
        for r in reports:
            print(f"{'ok  ' if r.ok else 'FAIL'} {r.exercise_id}")
            for line in r.runs if args.verbose else []:
                print(f"       {line}")
            for p in r.problems:
                print(f"       {p}")
        bad = sum(not r.ok for r in reports)
        print(f"{len(reports) - bad} of {len(reports)} exercise(s) pass")
    return 0 if all(r.ok for r in reports) else 1


def cmd_list(args: argparse.Namespace) -> int:
    for ex in load_deck(args.path):
        print(f"{ex.level:<12} {ex.id:<40} {ex.title}")
    return 0


@register("exercise")
def add(sub) -> None:
    p = sub.add_parser("exercise", help="training exercises: check the deck, list it",
                       description="Training exercises (YAML, pumpmodel/data/exercises/).")
    ex = p.add_subparsers(dest="exercise_command", required=True, metavar="ACTION")
    c = ex.add_parser("check", help="validate exercise files and run their expert solution and wrong answers",
                      description="Validate each file, run its expert solution (must pass every objective) and "
                                  "its typical wrong answers (each must fail the objective it names). "
                                  "Exit 1 when any check fails, 2 when there is nothing to check.")
    c.add_argument("path", nargs="*", default=[str(DECK_DIR)],
                   help="exercise YAML files or folders of them (default: the shipped deck)")
    c.add_argument("-v", "--verbose", action="store_true", help="also show what each run failed")
    c.add_argument("--json", action="store_true", help="print the reports as JSON")
    c.set_defaults(func=cmd_check)
    ls = ex.add_parser("list", help="list the deck, beginner to advanced")
    ls.add_argument("path", nargs="?", default=str(DECK_DIR))
    ls.set_defaults(func=cmd_list)
