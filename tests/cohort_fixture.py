"""A synthetic cohort writer for the cohort-explorer tests and benchmark.

Writes schema-valid telemetry (``pumpmodel.telemetry_schema``) as Hive-partitioned
Parquet with pyarrow, vectorised with numpy (one pass per pump), so it serves both
the small test fixture (a few pumps, checked against pandas) and the 17.5 M-row
benchmark cohort when the real simulator is not available.

This is *not* the project's simulator (``python -m pumpmodel simulate``): the
physiology is crude, only the format and the shapes the analyst views need
(refills, alarms, PTM requests, programme changes, refill discrepancies) are real.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pumpmodel import library  # noqa: E402
from pumpmodel.telemetry_schema import EVENTS, OPTIONAL_COLUMNS, PUMPS, SAMPLES  # noqa: E402

START = datetime(2024, 1, 1)
_INDICATION_DRUGS = {
    "spasticity_spinal": [("baclofen", 500.0, "mcg/mL"), ("baclofen", 1000.0, "mcg/mL")],
    "spasticity_cerebral": [("baclofen", 500.0, "mcg/mL"), ("baclofen", 2000.0, "mcg/mL")],
    "pain_cancer": [("morphine", 10.0, "mg/mL"), ("hydromorphone", 5.0, "mg/mL"), ("ziconotide", 25.0, "mcg/mL")],
    "pain_noncancer": [("morphine", 10.0, "mg/mL"), ("morphine", 25.0, "mg/mL"),
                       ("hydromorphone", 2.0, "mg/mL"), ("clonidine", 0.5, "mg/mL")],
}
_ALARMS = ("alarm_motor_stall", "alarm_catheter_occlusion", "alarm_eri")
# optional columns (reservoir_estimate_ml) left out: the fixture is an older-format folder
_SAMPLE_SCHEMA = pa.schema([f for f in SAMPLES if f.name != "pump_id" and f.name not in OPTIONAL_COLUMNS["samples"]])
_EVENT_SCHEMA = pa.schema([f for f in EVENTS if f.name != "pump_id"])


def _program(drug: str, conc: float, unit: str, rate: float, ptm: bool) -> dict:
    prog = {"drugs": [{"drug": drug, "concentration": conc, "unit": unit}],
            "mode": "simple_continuous", "rate_ml_per_day": round(rate, 4)}
    if ptm:
        prog["ptm"] = {"bolus_volume_ml": 0.02, "lockout_min": 120, "max_per_day": 4}
    return prog


def _pump(rng: np.random.Generator, pid: str, group: str, days: int, out: Path,
          force_discrepancy: bool = False) -> dict:
    profiles = library.pump_profiles()
    prof_name = str(rng.choice(sorted(profiles)))
    prof = profiles[prof_name]
    indication = str(rng.choice(list(_INDICATION_DRUGS)))
    drug, conc, unit = _INDICATION_DRUGS[indication][rng.integers(len(_INDICATION_DRUGS[indication]))]
    cap, lra = prof.reservoir_ml, prof.low_reservoir_alarm_ml
    implant = START - timedelta(days=int(rng.integers(0, 400)))
    n = days * 24
    ts = np.datetime64(START, "s") + np.arange(n, dtype="int64") * np.timedelta64(3600, "s")
    has_ptm = prof.ptm and indication.startswith("pain")

    # programme: a change every 45-120 days (rate titration, sometimes a concentration change)
    events: list[dict] = []
    rate = np.empty(n)
    if prof.fixed_rate:
        base = prof.nominal_rate_ml_per_day or 1.0
    else:
        base = float(rng.uniform(0.12, 0.6)) * (cap / 20)
    h, old = 0, None
    while h < n:
        length = int(rng.integers(45, 121)) * 24
        if old is not None:
            if prof.fixed_rate or rng.random() < 0.3:
                conc = round(conc * float(rng.choice([0.5, 1.5, 2.0])), 4)
            if not prof.fixed_rate:
                base = base * float(rng.uniform(0.85, 1.3))
        new = _program(drug, conc, unit, base, has_ptm)
        events.append({"timestamp": ts[h] + np.timedelta64(int(rng.integers(0, 3600)) if h else 0, "s"),
                       "kind": "program_change", "severity": "info",
                       "details": json.dumps({"old": old, "new": new})})
        rate[h:h + length] = base
        old, h = new, h + length

    delivered = rate / 24 * (1 + rng.normal(0, 0.01, n))
    # PTM requests: ~1.5 a day, mostly waking hours
    if has_ptm:
        n_req = rng.poisson(1.5 * days)
        req_h = np.sort(rng.integers(0, days, n_req) * 24 + rng.choice(24, n_req, p=_HOUR_WEIGHTS))
        outcome = rng.choice(3, n_req, p=[0.75, 0.2, 0.05])
        kinds = np.array(["ptm_granted", "ptm_denied_lockout", "ptm_denied_daily_max"])[outcome]
        np.add.at(delivered, req_h[outcome == 0], 0.02)
        for hh, k in zip(req_h, kinds):
            events.append({"timestamp": ts[hh] + np.timedelta64(int(rng.integers(0, 3600)), "s"), "kind": str(k),
                           "severity": "info", "volume_ml": 0.02 if k == "ptm_granted" else None})

    # reservoir and refills
    reservoir = np.empty(n)
    level, pos, cycle = cap * float(rng.uniform(0.85, 1.0)), 0, 0
    while pos < n:
        left = level - np.cumsum(delivered[pos:])
        target = max(0.3, lra + float(rng.uniform(-1.5, 5.0)))
        below = np.flatnonzero(left < target)
        end = pos + (below[0] if below.size else n - pos)  # refill during hour `end` (exclusive of cycle)
        reservoir[pos:end] = np.maximum(left[:end - pos], 0.0)
        lra_hit = np.flatnonzero(left[:end - pos] < lra)
        if lra_hit.size:
            events.append({"timestamp": ts[pos + lra_hit[0]] + np.timedelta64(3599, "s"),
                           "kind": "alarm_low_reservoir", "severity": "non_critical"})
        empty = np.flatnonzero(left[:end - pos] <= 0)
        if empty.size:
            events.append({"timestamp": ts[pos + empty[0]] + np.timedelta64(3599, "s"),
                           "kind": "alarm_empty_reservoir", "severity": "critical"})
        if end >= n:
            break
        expected = round(float(reservoir[end - 1]) if end > pos else level, 3)
        withdrawn = expected + float(rng.normal(0, 0.25 * prof.refill_discrepancy_ml))
        if rng.random() < 0.04 or (force_discrepancy and cycle == 0):
            withdrawn = expected - prof.refill_discrepancy_ml - float(rng.uniform(0.3, 2.0))
        withdrawn = round(max(withdrawn, 0.0), 3)
        added = round(cap * float(rng.uniform(0.9, 1.0)), 3)
        events.append({"timestamp": ts[end] + np.timedelta64(int(rng.integers(60, 1800)), "s"),
                       "kind": "refill", "severity": "info", "expected_residual_ml": expected,
                       "withdrawn_ml": withdrawn, "added_ml": added,
                       "details": json.dumps({"drugs": old["drugs"], "pocket_fill": False})})
        level, pos, cycle = added, end, cycle + 1  # the refill hour's delivery comes off the new fill

    # occasional other alarms
    for kind in _ALARMS:
        if kind == "alarm_eri" and prof.battery_life_years is None:
            continue
        if kind == "alarm_motor_stall" and not prof.mri_motor_stall:
            continue
        for hh in rng.integers(0, n, rng.poisson(days / 365 * 0.6)):
            events.append({"timestamp": ts[hh] + np.timedelta64(int(rng.integers(0, 3600)), "s"), "kind": kind,
                           "severity": "non_critical" if kind == "alarm_eri" else "critical",
                           "details": json.dumps({"restart_after_h": 4}) if kind == "alarm_motor_stall" else None})

    battery0 = None if prof.battery_life_years is None else float(rng.uniform(90, 100))
    battery = None if battery0 is None else battery0 - (
        (ts - np.datetime64(implant, "s")).astype("timedelta64[h]").astype(float) / (6 * 365 * 24) * 100)
    samples = pa.table({
        "timestamp": pa.array(ts, pa.timestamp("s")),
        "programmed_rate_ml_per_day": pa.array(np.round(rate, 4)),
        "delivered_ml": pa.array(np.round(delivered, 6)),
        "reservoir_ml": pa.array(np.round(reservoir, 4)),
        "battery_pct": pa.array(np.round(battery, 3) if battery is not None else np.full(n, None), pa.float64()),
    }, schema=_SAMPLE_SCHEMA)
    events.sort(key=lambda e: e["timestamp"])
    ev = pa.table({f.name: pa.array([e.get(f.name) for e in events], f.type) for f in _EVENT_SCHEMA},
                  schema=_EVENT_SCHEMA)
    for name, table in (("samples", samples), ("events", ev)):
        part = out / name / f"pump_id={pid}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, part / "part-0.parquet")
    return {"pump_id": pid, "profile": prof_name, "implant_date": implant, "indication": indication,
            "battery_pct_at_implant": battery0,
            "patient_label": f"Synthetic {group} pump {pid}: {indication.replace('_', ' ')}, {drug}",
            "story": "A story patient for trainers." if group == "story" else None,
            "group": group, "catheter_volume_ml": prof.catheter_volume_ml, "low_reservoir_alarm_ml": lra,
            "next_appointment": START + timedelta(days=days + 14)}


_HOUR_WEIGHTS = np.array([0.2] * 7 + [1.0] * 15 + [0.4] * 2)
_HOUR_WEIGHTS = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()


def write_cohort(out: str | Path, pumps: int = 6, days: int = 120, seed: int = 1, group: str = "cohort",
                 prefix: str = "C", progress: bool = False) -> Path:
    """Write a cohort of ``pumps`` pumps x ``days`` days of hourly samples to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(pumps):
        rows.append(_pump(rng, f"{prefix}{i:04d}", group, days, out, force_discrepancy=(i == 0)))
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{pumps} pumps written", flush=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=PUMPS), out / "pumps.parquet")
    return out


if __name__ == "__main__":  # pragma: no cover - manual use
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pumps", type=int, default=6)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--group", default="cohort")
    ap.add_argument("--prefix", default="C")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    write_cohort(a.out, a.pumps, a.days, a.seed, a.group, a.prefix, progress=True)
