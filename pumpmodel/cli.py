"""Command line: ``python -m pumpmodel {evaluate,schema,...}``.

Malformed input exits with status 2 and prints
``{"error": {"message": ..., "errors": [{"loc": [...], "msg": ...}]}}``;
never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from . import gate, sharelink
from .evaluate import evaluate
from .evaluation import Evaluation
from .programs import Case

_EXTRA_COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}


def register(name: str):
    """Let other modules add subcommands (e.g. the simulator)."""
    def deco(fn):
        _EXTRA_COMMANDS[name] = fn
        return fn
    return deco


def error_document(message: str, errors: list[dict]) -> dict:
    return {"error": {"message": message, "errors": errors}}


def _fail(message: str, errors: list[dict]) -> int:
    print(json.dumps(error_document(message, errors), indent=2))
    return 2


def read_case_bytes(path: str) -> bytes:
    """At most one byte more than the gate's cap (the gate then refuses it): a huge file is never read whole."""
    limit = gate.MAX_CASE_BYTES + 1
    if path == "-":
        return sys.stdin.buffer.read(limit)
    with open(path, "rb") as fh:
        return fh.read(limit)


def cmd_evaluate(args: argparse.Namespace) -> int:
    try:
        raw = read_case_bytes(args.case)
    except OSError as exc:
        return _fail(f"cannot read case file {args.case!r}", [{"loc": [], "msg": str(exc)}])
    try:
        case = sharelink.to_case(sharelink.parse_json(sharelink.decode_text(raw)))
    except sharelink.ShareLinkError as exc:
        return _fail(str(exc), exc.errors)
    result = evaluate(case)
    exclude = None if args.explain else {"explanations"}
    print(result.model_dump_json(indent=2, exclude=exclude))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    model = Case if args.document == "case" else Evaluation
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pumpmodel",
        description="Intrathecal pump training model (synthetic data; training only, not for clinical use).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ev = sub.add_parser("evaluate", help="evaluate a programming case (JSON) and print the Evaluation as JSON",
                        description="Evaluate a programming case. Exit status 2 with an error document "
                                    "when the case is malformed.")
    ev.add_argument("case", help="path to CASE.json, or - to read it from standard input")
    ev.add_argument("--explain", action="store_true", help="include the formula behind each figure")
    ev.set_defaults(func=cmd_evaluate)
    sc = sub.add_parser("schema", help="print the JSON Schema of the case or evaluation document",
                        description="Print a JSON Schema.")
    sc.add_argument("document", choices=["case", "evaluation"])
    sc.set_defaults(func=cmd_schema)
    for add in _EXTRA_COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from . import sim_cli  # noqa: F401  (registers `simulate`)
    from .training import cli as _training_cli  # noqa: F401  (registers `exercise`)
    args = build_parser().parse_args(argv)
    return args.func(args)
