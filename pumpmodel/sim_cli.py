"""``python -m pumpmodel simulate``: story patients, single scenarios, cohorts.

    python -m pumpmodel simulate --stories                 # rewrite sample_data/story from sample_data/scenarios
    python -m pumpmodel simulate SCENARIO.yaml --out DIR   # one or more scenario files into DIR
    python -m pumpmodel simulate --pumps N --days D --seed S --out DIR [--jobs 2]   # random cohort

Malformed scenarios exit with status 2 and an error document (no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from pydantic import ValidationError

from .cli import _fail, register
from .sharelink import validation_errors
from .scenario import load_scenario
from .telemetry import STORY_DIR
from .telemetry_write import replace_folder, write_pump, write_pumps

SCENARIO_DIR = STORY_DIR.parent / "scenarios"


def write_results(results, out: Path) -> None:
    """Replace ``out`` with the simulated pumps (written to a temp folder, then swapped)."""
    import pyarrow as pa

    from .telemetry_schema import PUMPS

    def fill(tmp: Path) -> None:
        for r in results:
            write_pump(tmp, r.pump["pump_id"], r.samples.drop_columns(["pump_id"]), r.events.drop_columns(["pump_id"]))
        write_pumps(tmp, pa.Table.from_pylist([r.pump for r in results], schema=PUMPS))

    replace_folder(out, fill)


def _scenarios(paths: list[Path]):
    out, errors = [], []
    for p in paths:
        try:
            out.append(load_scenario(p))
        except ValidationError as exc:
            errors += [{"loc": [str(p)] + e["loc"], "msg": e["msg"]} for e in validation_errors(exc)]
        except UnicodeDecodeError as exc:
            errors.append({"loc": [str(p)], "msg": f"{p} is not UTF-8 text (byte {exc.start}: {exc.reason})"})
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
            what = getattr(exc, "problem", None) or str(exc)
            errors.append({"loc": [str(p)], "msg": f"{p} is not valid YAML{at}: {what}"})
        except json.JSONDecodeError as exc:
            errors.append({"loc": [str(p)], "msg": f"{p} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                                                   f"{exc.msg}"})
        except (OSError, ValueError) as exc:
            errors.append({"loc": [str(p)], "msg": str(exc)})
    ids = [s.pump_id for s in out]
    errors += [{"loc": ["pump_id"], "msg": f"pump id {i!r} used by more than one scenario"}
               for i in sorted({i for i in ids if ids.count(i) > 1})]
    return out, errors


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulator import simulate

    if args.pumps is not None:
        from .cohort import generate_cohort

        if args.out is None:
            return _fail("--out is required for a cohort", [])
        stats = generate_cohort(args.pumps, args.days, args.seed, Path(args.out), jobs=args.jobs,
                                progress=not args.quiet)
        print(json.dumps(stats), file=sys.stderr if args.quiet else sys.stdout)
        return 0
    if args.stories:
        paths = sorted(SCENARIO_DIR.glob("*.yaml"))
        out = Path(args.out) if args.out else STORY_DIR
    else:
        if not args.scenario or not args.out:
            return _fail("give --stories, a cohort (--pumps/--days/--seed/--out), or SCENARIO files and --out", [])
        paths = [Path(p) for p in args.scenario]
        out = Path(args.out)
    scenarios, errors = _scenarios(paths)
    if errors:
        return _fail(f"{len(errors)} problem(s) in the scenario file(s)", errors)
    results = [simulate(s) for s in scenarios]
    write_results(results, out)
    rows = sum(r.rows for r in results)
    print(f"wrote {len(results)} pump(s), {rows} samples to {out}")
    return 0


@register("simulate")
def add_simulate(sub) -> None:
    p = sub.add_parser("simulate", help="simulate pump telemetry (story patients, scenario files or a cohort)",
                       description="Simulate hourly pump telemetry (synthetic; training only).")
    p.add_argument("scenario", nargs="*", help="scenario files (.yaml/.json)")
    p.add_argument("--stories", action="store_true",
                   help=f"rewrite the story patients ({STORY_DIR}) from {SCENARIO_DIR}")
    p.add_argument("--pumps", type=int, help="cohort: number of random pumps")
    p.add_argument("--days", type=int, default=365, help="cohort: days per pump (default 365)")
    p.add_argument("--seed", type=int, default=0, help="cohort: random seed (default 0)")
    p.add_argument("--jobs", type=int, default=2, help="cohort: worker processes (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", help="output folder (replaced)")
    p.set_defaults(func=cmd_simulate)
