"""Random cohort: N varied scenarios, simulated in parallel and written as a
Hive-partitioned Parquet telemetry folder (``pumps.group == "cohort"``).

Each pump's scenario is drawn from ``numpy.random.default_rng([seed, index])``,
so a cohort is deterministic for its seed whatever the number of workers.
Rates of rare events are training assumptions (**assumed**): MRI 5 % and
catheter occlusion 2 % per pump-year, early ERI 1 % per pump-year, pocket fill
1 in 10,000 refills (domain.md), a visit 1-3 weeks late 1 % of refills.
"""
from __future__ import annotations

import multiprocessing as mp
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import library
from .programs import Program
from .scenario import Battery, ClinicianBolus, Fault, ProgramChange, PTMUse, RefillVisit, Scenario
from .telemetry_write import replace_folder, write_pump, write_pumps
from .telemetry_schema import PUMPS

COHORT_END = datetime(2026, 11, 21, 9, 0)
PROFILE_WEIGHTS = {"programmable-20": 0.28, "programmable-40": 0.32, "valve-gated-20": 0.12,
                   "valve-gated-40": 0.16, "constant-flow-30": 0.12}
MRI_PER_YEAR, OCCLUSION_PER_YEAR, EARLY_ERI_PER_YEAR = 0.05, 0.02, 0.01
POCKET_FILL_PER_REFILL, LATE_VISIT_PER_REFILL = 1e-4, 0.01

# therapy: (weight, indications, [(drug, unit, concentrations per mL, dose/day range)])
THERAPIES = [
    (0.22, ["spasticity_spinal", "spasticity_cerebral"], [("baclofen", "mcg/mL", [500, 1000, 2000], (80, 900))]),
    (0.25, ["pain_cancer", "pain_noncancer"], [("morphine", "mg/mL", [10, 25], (0.5, 10))]),
    (0.14, ["pain_noncancer", "pain_cancer"], [("hydromorphone", "mg/mL", [2, 4, 8], (0.2, 4))]),
    (0.08, ["pain_noncancer"], [("ziconotide", "mcg/mL", [25], (2.4, 2.4))]),
    (0.18, ["pain_cancer", "pain_noncancer"], [("morphine", "mg/mL", [10, 20], (1, 8)),
                                               ("bupivacaine", "mg/mL", [5, 10, 15], None),
                                               ("clonidine", "mcg/mL", [50, 75, 100], None)]),
    (0.13, ["pain_noncancer", "pain_cancer"], [("hydromorphone", "mg/mL", [2, 4], (0.3, 3)),
                                               ("clonidine", "mcg/mL", [50, 100], None)]),
]


def _program(drugs, mode, rate, rng, ptm, profile) -> Program:
    doc = {"drugs": drugs, "mode": mode}
    if mode == "flex":
        day = round(rate * 1.25, 4)
        night = round(max(rate * 0.75, profile.min_rate_ml_per_day), 4)
        doc["steps"] = [{"start": "00:00", "rate_ml_per_day": night}, {"start": "07:00", "rate_ml_per_day": day},
                        {"start": "22:00", "rate_ml_per_day": night}]
    elif mode == "periodic_bolus":
        doc["rate_ml_per_day"] = round(rate * 0.7, 4)
        doc["boluses"] = [{"first_at": "06:00", "every_hours": 8, "volume_ml": round(rate * 0.1, 4),
                           "duration_min": 30}]
    else:
        doc["rate_ml_per_day"] = round(rate, 4)
    if ptm is not None:
        doc["ptm"] = ptm
    return Program.model_validate(doc)


MIN_REFILL_DAYS = 35  # clinics choose a concentration that keeps refills 1-3 months apart
TITRATION_HEADROOM = 1.6  # room for the dose to grow before the concentration would be raised


def _max_rate_for_refills(profile) -> float:
    """Highest basal rate that still leaves MIN_REFILL_DAYS between refills."""
    usable = profile.reservoir_ml - profile.low_reservoir_alarm_ml
    return min(profile.max_rate_ml_per_day / 1.3, usable / MIN_REFILL_DAYS)


def _concentration_for(dose: float, concs: list[float], profile) -> float:
    """The weakest supplied concentration whose rate, with titration headroom, keeps refills
    at least MIN_REFILL_DAYS apart (the strongest when none does)."""
    for c in concs:
        if dose / c * TITRATION_HEADROOM <= _max_rate_for_refills(profile):
            return float(c)
    return float(concs[-1])


def random_scenario(index: int, days: int, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, index])
    names = list(PROFILE_WEIGHTS)
    profile = library.profile(str(rng.choice(names, p=list(PROFILE_WEIGHTS.values()))))
    weights = np.array([t[0] for t in THERAPIES])
    therapy = THERAPIES[rng.choice(len(THERAPIES), p=weights / weights.sum())]
    indication = str(rng.choice(therapy[1]))
    main_drug, main_unit, concs, dose_range = therapy[2][0]
    dose = float(rng.uniform(*dose_range))
    fixed = profile.fixed_rate
    if fixed:  # constant flow: the dose comes from the concentration
        rate = profile.nominal_rate_ml_per_day
        conc = dose / rate
    else:
        conc = _concentration_for(dose, sorted(concs), profile)
        rate = float(np.clip(dose / conc, max(profile.min_rate_ml_per_day, 0.05), 1.5))
    drugs = [{"drug": main_drug, "concentration": round(conc, 3), "unit": main_unit}]
    for name, unit, cs, _ in therapy[2][1:]:
        drugs.append({"drug": name, "concentration": float(rng.choice(cs)), "unit": unit})
    mode = "simple_continuous" if fixed else str(rng.choice(["simple_continuous", "flex", "periodic_bolus"],
                                                            p=[0.6, 0.3, 0.1]))
    pain = main_drug != "baclofen" and main_drug != "ziconotide"
    ptm = None
    if profile.ptm and pain and rng.random() < 0.4:
        ptm = {"bolus_volume_ml": round(rate * 0.08, 4) or 0.005, "lockout_min": float(rng.choice([60, 120, 180, 240])),
               "max_per_day": int(rng.integers(2, 7))}
    end = COHORT_END
    start = end - timedelta(days=days)
    implant = start - timedelta(days=float(rng.uniform(0, 5 * 365)))
    program = _program(drugs, mode, rate, rng, ptm, profile)

    # titration: a few steps of +10-25 % (ziconotide: +1.2 mcg/day weekly early on)
    changes = []
    if not fixed:
        if main_drug == "ziconotide":
            n_steps = int(rng.integers(2, 6))
            t = start + timedelta(days=7)
            for _ in range(n_steps):
                if t >= end - timedelta(hours=2):
                    break
                rate += 1.2 / conc
                changes.append(ProgramChange(at=t, program=_program(drugs, mode, rate, rng, ptm, profile),
                                             note="+1.2 mcg/day"))
                t += timedelta(days=7)
        else:
            for _ in range(int(rng.poisson(days / 180))):
                rate *= 1 + float(rng.uniform(0.1, 0.25))
                rate = min(rate, _max_rate_for_refills(profile))
                at = start + timedelta(hours=int(rng.integers(1, days * 24 - 1)))
                changes.append(ProgramChange(at=at, program=_program(drugs, mode, rate, rng, ptm, profile),
                                             note="titration"))
            changes.sort(key=lambda c: c.at)

    # refills: interval from the usable volume at the highest rate, within stability limits
    lra = profile.low_reservoir_alarm_ml
    top_rate = max([rate] + [max(c.program.basal_rates()) for c in changes]) * 1.1 + (
        (ptm or {}).get("bolus_volume_ml", 0) * 2)
    usable = profile.reservoir_ml - lra
    interval = min(usable / top_rate * 0.85, 180.0)
    if main_drug == "ziconotide":
        interval = min(interval, 80.0 if conc == 25 else 38.0)
    interval = max(interval, 7.0)
    refills = []
    t = start + timedelta(days=float(rng.uniform(0.3, 1.0) * interval))
    while t < end - timedelta(hours=2):
        at = t.replace(minute=0, second=0, microsecond=0)
        late = rng.random() < LATE_VISIT_PER_REFILL
        if late:
            at += timedelta(days=int(rng.integers(7, 22)))
        if at >= end - timedelta(hours=2):
            break
        pocket = float(profile.reservoir_ml * rng.uniform(0.2, 0.6)) if rng.random() < POCKET_FILL_PER_REFILL else 0.0
        added = profile.reservoir_ml
        refills.append(RefillVisit(at=at, added_ml=added, pocket_fill_ml=round(min(pocket, added), 2)))
        t = at + timedelta(days=float(max(interval + rng.normal(0, 2), interval * 0.7)))
    years = days / 365.25
    faults = []
    for kind, per_year in (("mri", MRI_PER_YEAR), ("catheter_occlusion", OCCLUSION_PER_YEAR),
                           ("early_eri", EARLY_ERI_PER_YEAR)):
        for _ in range(int(rng.poisson(per_year * years))):
            at = start + timedelta(hours=int(rng.integers(1, days * 24 - 1)))
            faults.append(Fault(kind=kind, at=at))
    faults.sort(key=lambda f: f.at)
    boluses = []
    if rng.random() < 0.05:
        boluses.append(ClinicianBolus(at=start + timedelta(hours=int(rng.integers(1, days * 24 - 1))),
                                      volume_ml=round(rate * 0.2, 4) or 0.01))
    ptm_use = None
    if ptm is not None:
        w = np.ones(24)
        w[17:23] = 2.0
        w[0:6] = 0.3
        ptm_use = PTMUse(requests_per_day=float(rng.gamma(2.0, 1.0)), hour_weights=w.tolist())
    pid = f"c{index:05d}"
    label = f"Cohort {pid}: {indication.replace('_', ' ')}, {' + '.join(d['drug'] for d in drugs)}"
    return Scenario(
        pump_id=pid, patient_label=label, group="cohort", indication=indication, profile=profile.name,
        implant_date=implant.replace(microsecond=0), start=start, end=end,
        next_appointment=(refills[-1].at if refills else start) + timedelta(days=round(interval)),
        initial_reservoir_ml=round(float(rng.uniform(0.5, 1.0)) * profile.reservoir_ml, 2),
        program=program, changes=changes, refills=refills, ptm_use=ptm_use, faults=faults,
        clinician_boluses=boluses,
        battery=Battery(pct_at_implant=100.0, life_years=float(rng.uniform(5, 7))),
        seed=int(rng.integers(0, 2**31)),
    )


def _work(task) -> tuple[list[dict], int]:
    from .simulator import simulate

    indices, days, seed, folder = task
    pumps, rows = [], 0
    for i in indices:
        r = simulate(random_scenario(i, days, seed))
        write_pump(Path(folder), r.pump["pump_id"], r.samples.drop_columns(["pump_id"]),
                   r.events.drop_columns(["pump_id"]))
        pumps.append(r.pump)
        rows += r.rows
    return pumps, rows


def generate_cohort(n_pumps: int, days: int, seed: int, out: Path, jobs: int = 2, progress: bool = True,
                    chunk: int = 10) -> dict:
    """Simulate and write a cohort into ``out`` (replaced). Returns counts and timing."""
    from tqdm import tqdm

    out = Path(out)
    t0 = time.perf_counter()
    pumps, rows = [], 0

    def fill(tmp: Path) -> None:
        nonlocal rows
        tasks = [(list(range(a, min(a + chunk, n_pumps))), days, seed, str(tmp)) for a in range(0, n_pumps, chunk)]
        with tqdm(total=n_pumps, unit="pump", desc="simulating", disable=not progress) as bar:
            if jobs > 1:
                with mp.get_context("fork").Pool(jobs) as pool:
                    for p, r in pool.imap(_work, tasks):
                        pumps.extend(p)
                        rows += r
                        bar.update(len(p))
            else:
                for task in tasks:
                    p, r = _work(task)
                    pumps.extend(p)
                    rows += r
                    bar.update(len(p))
        write_pumps(tmp, pa.Table.from_pylist(pumps, schema=PUMPS))

    replace_folder(out, fill)
    seconds = time.perf_counter() - t0
    return {"pumps": n_pumps, "days": days, "rows": rows, "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds) if seconds > 0 else None, "out": str(out)}
