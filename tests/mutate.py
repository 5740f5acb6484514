"""`make mutate`: mutation testing (mutmut 3) of the core modules, one module at a time.

Each module runs in its own scratch copy (``.mutmut/<module>/``, git-ignored) with its own
mutmut configuration: only that file is mutated, and only that module's fast unit and
property tests run against each mutant (never AppTest or browser tests). Results stay cached
there, so a second run only checks what changed. Then a table per module:

    python tests/mutate.py                    # every module (hours on a 2-core machine)
    python tests/mutate.py schedule evaluate  # some modules
    python tests/mutate.py --report           # the table from cached results, runs nothing
    python tests/mutate.py --survivors schedule  # list surviving mutants (then: cd .mutmut/schedule && mutmut show NAME)
    python tests/mutate.py --fresh schedule   # forget cached verdicts: every mutant re-run (after editing tests)

A second run re-checks the earlier survivors and 'no tests' mutants against the current tests;
killed verdicts stay cached until the mutated function changes (``--fresh`` re-runs them all).

MUTATE_CHILDREN (default 1) sets mutmut's --max-children: keep it small on a shared machine.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutmut"

# module -> (file mutated, fast tests that exercise it)
MODULES: dict[str, tuple[str, list[str]]] = {
    "schedule": ("pumpmodel/schedule.py", ["tests/test_schedule.py", "tests/test_schedule_exact.py"]),
    "programs": ("pumpmodel/programs.py", ["tests/test_programs.py", "tests/test_evaluate.py"]),
    "guardrails": ("pumpmodel/guardrails/*.py", ["tests/test_guardrails_findings.py", "tests/test_evaluate.py",
                                                 "tests/test_guardrails_round2.py",
                                                 "tests/test_evaluate_explanations.py"]),
    "evaluate": ("pumpmodel/evaluate.py", ["tests/test_evaluate.py", "tests/test_evaluate_explanations.py",
                                           "tests/test_guardrails_round2.py", "tests/test_schedule_exact.py"]),
    "cohort_queries": ("pumpmodel/cohort_queries.py", ["tests/test_cohort_queries.py", "tests/test_cohort_sources.py"]),
    "telemetry": ("pumpmodel/telemetry.py", ["tests/test_telemetry.py"]),
    "objectives": ("pumpmodel/training/objectives.py", ["tests/test_objectives.py", "tests/test_training.py"]),
}
#: Extra pytest arguments for one module's mutation runs only (the normal suite is unchanged): the two
#: shipped-cohort telemetry tests take ~15 s each and only re-read the shipped files, which the fast
#: tests of the same checks cover on small hand-made files.
EXTRA_ARGS: dict[str, list[str]] = {
    "telemetry": ["--deselect=tests/test_telemetry.py::test_shipped_cohort_loads",
                  "--deselect=tests/test_telemetry.py::test_shipped_cohort_is_what_the_generator_draws"],
}
COPY = ["pumpmodel", "tests", "examples", "sample_data", "pytest.ini"]
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def _config(source: str, tests: list[str], extra: list[str] = ()) -> str:
    sel = "\n    ".join(tests)
    more = "".join(f"\n    {a}" for a in extra)
    return (f"[mutmut]\nsource_paths = pumpmodel/\nonly_mutate = {source}\n"
            f"pytest_add_cli_args_test_selection = {sel}\n"
            f"pytest_add_cli_args = -p no:cacheprovider -m \"not browser\"{more}\n"
            "also_copy = examples/\n    sample_data/\n    pytest.ini\n")


def present(source: str) -> bool:
    return any(ROOT.glob(source))


def prefix(source: str) -> str:
    """Dotted prefix of the mutants' names: pumpmodel.schedule, pumpmodel.guardrails (a package)."""
    return source.removesuffix("/*.py").removesuffix(".py").replace("/", ".")


def prepare(name: str) -> Path | None:
    source, tests = MODULES[name]
    if not present(source):
        return None
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    for item in COPY:
        src, dst = ROOT / item, work / item
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
        elif src.exists():
            shutil.copy2(src, dst)
    (work / "setup.cfg").write_text(_config(source, [t for t in tests if (ROOT / t).exists()],
                                            EXTRA_ARGS.get(name, [])))
    return work


def mutmut(work: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, text=True,
                          capture_output=capture, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def results(name: str) -> dict[str, str]:
    """mutant name -> status, from mutmut's cached results for this module."""
    work = WORK / name
    if not (work / "mutants").exists():
        return {}
    out = mutmut(work, "results", "--all", "true", capture=True).stdout
    module = prefix(MODULES[name][0])
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if m and m.group(1).startswith(module + "."):
            found[m.group(1)] = m.group(2).strip()
    return found


def table(names: list[str]) -> int:
    print(f"\n{'module':<16}{'mutants':>8}{'killed':>8}{'survived':>9}{'no tests':>9}{'not run':>8}"
          f"{'kill rate':>11}")
    worst = 100.0
    for name in names:
        r = results(name)
        if not r:
            print(f"{name:<16}{'not run' if present(MODULES[name][0]) else 'module not present':>30}")
            continue
        c = Counter(r.values())
        killed = sum(v for k, v in c.items() if k in KILLED)
        not_run = c["not checked"]
        checked = len(r) - not_run
        rate = 100.0 * killed / checked if checked else 0.0
        worst = min(worst, rate)
        print(f"{name:<16}{len(r):>8}{killed:>8}{c['survived']:>9}{c['no tests']:>9}{not_run:>8}{rate:>10.1f}%")
    print("\nkill rate = killed (incl. timeouts) / mutants checked; 'no tests' = no selected test runs "
          "that code (counted as not killed).")
    return 0 if worst >= 90 else 1


def main(argv: list[str]) -> int:
    report = "--report" in argv
    survivors = "--survivors" in argv
    names = [a for a in argv if not a.startswith("--")] or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        print(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
        return 2
    if survivors:
        for name in names:
            for mutant, status in sorted(results(name).items()):
                if status not in KILLED and status != "not checked":
                    print(f"{status:<12} {mutant}")
        return 0
    if not report:
        children = os.environ.get("MUTATE_CHILDREN", "1")
        for name in names:
            if "--fresh" in argv:
                shutil.rmtree(WORK / name / "mutants", ignore_errors=True)
            cached = {m for m, st in results(name).items() if st not in KILLED and st != "not checked"}
            work = prepare(name)
            if work is None:
                print(f"== {name}: {MODULES[name][0]} not present (yet), skipped")
                continue
            print(f"== {name}: mutating {MODULES[name][0]} (tests: {', '.join(MODULES[name][1])})", flush=True)
            mutmut(work, "run", "--max-children", children)
            # mutmut keeps a cached verdict until the mutated function changes: re-check the
            # survivors of the last run against the current tests (new tests may kill them)
            again = sorted(cached & {m for m, st in results(name).items() if st not in KILLED})
            if again:
                print(f"== {name}: re-checking {len(again)} earlier survivor(s) against the current tests", flush=True)
                mutmut(work, "run", "--max-children", children, *again)
    return table(names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
