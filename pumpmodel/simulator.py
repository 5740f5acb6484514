"""Scenario simulator: hourly pump telemetry from a ``Scenario``.

Delivery uses the engine's exact math (``schedule.profile_for(program,
anchor).volume_between`` over every hour, vectorised per program period; a
periodic-bolus grid is anchored on the day the program takes effect, as
``evaluate`` anchors it on the day of ``now``). On top:

* **faults and stops** remove the running part of an hour (MRI motor stall,
  catheter occlusion, battery end of service): the hour's programmed volume is
  scaled by the fraction of the hour the pump ran;
* **PTM requests** are drawn per hour (Poisson, by hour of day) and granted or
  denied by the program's lockout and daily maximum (per pump-clock day);
* **delivery accuracy**: each refill interval gets a factor
  ``1 + e`` with ``e ~ N(0, sd)`` clipped to the profile's accuracy (seeded);
* **the reservoir**: ``reservoir_ml`` in the samples is the volume really in the
  reservoir (the simulated truth); at every sample ``reservoir = previous
  reservoir - delivered_ml`` (exactly, refills excepted: a refill drains the
  reservoir and puts ``added_ml - pocket_fill_ml`` in it, at the start of its
  hour). ``reservoir_estimate_ml`` is the pump's own estimate (counting
  programmed strokes, without the accuracy error and unaware of a pocket fill):
  what a clinician sees at interrogation. It drives the low-reservoir and empty
  alarms and is the ``expected_residual_ml`` of the next refill; the really
  remaining volume is ``withdrawn_ml``. Delivery stops when either reaches 0 (pump empty alarm, or
  a reservoir really empty without the pump knowing, e.g. after a pocket fill).

Deterministic for a scenario's ``seed`` (numpy ``Generator``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from . import library
from .programs import Program
from .scenario import Scenario
from .schedule import DAY_S, profile_for, to_seconds
from .telemetry import ERI_BATTERY_PCT, Telemetry, _categorical_ids
from .telemetry_schema import EVENTS, PUMPS, SAMPLES

HOUR_S = 3600
#: Volumes are multiples of 2**-20 mL (about 1e-6 mL): sums of such numbers are exact
#: in float64, so ``reservoir = previous - delivered`` holds exactly, and the
#: zero low-order bits let the Parquet files compress well.
VOLUME_QUANTUM_ML = 2.0 ** -20
BATTERY_QUANTUM_PCT = 2.0 ** -16


def _quantize(x, q: float = VOLUME_QUANTUM_ML):
    return np.round(np.asarray(x, dtype=float) / q) * q
_KIND_ORDER = {"refill": 0, "program_change": 1}  # at the same moment: refill, then the new program
_UNIX = np.datetime64("1970-01-01T00:00:00", "s")


@dataclass
class SimResult:
    """One simulated pump: the pumps row and its samples/events (Arrow, with pump_id)."""

    pump: dict
    samples: pa.Table
    events: pa.Table
    pump_estimate_ml: np.ndarray  # the pump's own reservoir estimate at the end of each hour (= reservoir_estimate_ml)

    @property
    def rows(self) -> int:
        return self.samples.num_rows


def _dt64(t: datetime) -> np.datetime64:
    return np.datetime64(t.replace(microsecond=0), "s")


def simulate(scn: Scenario) -> SimResult:
    spec = scn.spec
    rng = np.random.default_rng(scn.seed)
    start = scn.start.replace(minute=0, second=0, microsecond=0)
    n = int((scn.end - start).total_seconds() // HOUR_S)
    edges_s = to_seconds(start) + HOUR_S * np.arange(n + 1, dtype=float)
    t0 = edges_s[:-1]
    stamps = _dt64(start) + np.arange(n) * np.timedelta64(HOUR_S, "s")

    def hour_of(t: datetime) -> int:
        return max(0, min(n - 1, int((t - start).total_seconds() // HOUR_S)))

    events: list[dict] = []

    def event(t, kind, severity="info", **kw):
        events.append({"timestamp": _dt64(t), "kind": kind, "severity": severity, **kw})

    # -- programs over time --------------------------------------------------
    changes: list[tuple[int, Program, str | None]] = [(0, scn.program, None)]
    changes += [(hour_of(c.at), c.program, c.note) for c in scn.changes]
    changes += [(hour_of(r.at), r.program, "sent at the refill visit") for r in scn.all_refills() if r.program is not None]
    changes.sort(key=lambda c: c[0])
    prog_vol = np.zeros(n)
    lockout_s = np.full(n, np.nan)
    ptm_max = np.zeros(n, dtype=np.int64)
    ptm_vol = np.zeros(n)
    old = None
    for k, (a, prog, note) in enumerate(changes):
        b = changes[k + 1][0] if k + 1 < len(changes) else n
        if b > a:
            prog_vol[a:b] = profile_for(prog, start + timedelta(hours=a)).volume_between(edges_s[a:b], edges_s[a + 1:b + 1])
            if prog.ptm is not None and prog.mode != "stopped":
                lockout_s[a:b] = prog.ptm.lockout_min * 60
                ptm_max[a:b] = prog.ptm.max_per_day
                ptm_vol[a:b] = prog.ptm.bolus_volume_ml
        details = {"old": None if old is None else old.model_dump(mode="json", exclude_none=True),
                   "new": prog.model_dump(mode="json", exclude_none=True)}
        if note:
            details["note"] = note
        event(start + timedelta(hours=a), "program_change", details=json.dumps(details))
        old = prog
    prog_vol = np.maximum(prog_vol, 0.0)

    # -- battery, ERI, end of service ----------------------------------------
    battery = None
    off: list[tuple[float, float]] = []  # seconds intervals without delivery
    if spec.battery_life_years is not None:
        implant_s = to_seconds(scn.implant_date)
        eri_s = implant_s + scn.battery.life_years * 365.25 * DAY_S
        p0 = scn.battery.pct_at_implant
        xs, ys = [implant_s, eri_s], [p0, ERI_BATTERY_PCT]
        early = [f for f in scn.faults if f.kind == "early_eri"]
        if early and to_seconds(early[0].at) < eri_s:
            fs = to_seconds(early[0].at.replace(minute=0, second=0))
            before = float(np.interp(fs - 1, xs, ys))
            xs, ys = [implant_s, fs - 1, fs], [p0, before, ERI_BATTERY_PCT]
            eri_s = fs
        eos_s = eri_s + spec.eri_to_eos_days * DAY_S
        xs, ys = xs + [eos_s], ys + [0.0]
        battery = _quantize(np.interp(t0, xs, ys), BATTERY_QUANTUM_PCT)
        off.append((eos_s, np.inf))
        eri_dt = scn.implant_date + timedelta(seconds=eri_s - implant_s)
        eos_dt = scn.implant_date + timedelta(seconds=eos_s - implant_s)
        if start <= eri_dt < scn.end:
            event(eri_dt, "alarm_eri", "non_critical",
                  details=json.dumps({"end_of_service_at": eos_dt.replace(microsecond=0).isoformat()}))
        if start <= eos_dt < scn.end:
            event(eos_dt, "alarm_end_of_service", "critical")

    # -- faults --------------------------------------------------------------
    for f in scn.faults:
        at = f.at.replace(minute=0, second=0, microsecond=0) if f.kind != "mri" else f.at
        if f.kind == "mri":
            if spec.mri_motor_stall:
                stall_h = f.stall_h if f.stall_h is not None else round(float(rng.uniform(2, 24)), 1)
                event(at, "mri", details=json.dumps({"stall_h": stall_h}))
                event(at, "alarm_motor_stall", "critical", details=json.dumps({"restart_after_h": stall_h}))
                off.append((to_seconds(at), to_seconds(at) + stall_h * HOUR_S))
            else:
                event(at, "mri", details=json.dumps({"stall_h": 0}))
        elif f.kind == "catheter_occlusion":
            dur = f.duration_h if f.duration_h is not None else round(float(rng.uniform(6, 72)), 1)
            event(at, "alarm_catheter_occlusion", "critical", details=json.dumps({"duration_h": dur}))
            off.append((to_seconds(at), to_seconds(at) + dur * HOUR_S))
    run = np.ones(n)
    for a, b in off:
        overlap = np.clip(np.minimum(b, edges_s[1:]) - np.maximum(a, t0), 0, HOUR_S) / HOUR_S
        run -= overlap
    run = np.clip(run, 0.0, 1.0)

    # -- PTM requests (only while a program with PTM runs) --------------------
    extra = np.zeros(n)
    ptm_events = None
    if scn.ptm_use is not None and scn.ptm_use.requests_per_day > 0 and not np.isnan(lockout_s).all():
        hod = ((t0 % DAY_S) // HOUR_S).astype(int)
        lam = np.asarray(scn.ptm_use.per_hour())[hod] * ~np.isnan(lockout_s)
        counts = rng.poisson(lam)
        req_h = np.repeat(np.arange(n), counts)
        req_s = t0[req_h] + np.floor(rng.uniform(0, HOUR_S, len(req_h)))
        order = np.lexsort((req_s, req_h))
        req_h, req_s = req_h[order], req_s[order]
        outcome = _ptm_outcomes(req_s, lockout_s[req_h], ptm_max[req_h])
        granted = outcome == 0
        np.add.at(extra, req_h[granted], ptm_vol[req_h[granted]])
        ptm_events = (req_s.astype(np.int64) - int(edges_s[0]), outcome, np.where(granted, ptm_vol[req_h], np.nan))
    else:
        ptm_events = None
    for cb in scn.clinician_boluses:
        extra[hour_of(cb.at)] += cb.volume_ml
        event(cb.at, "clinician_bolus", volume_ml=cb.volume_ml)

    demand = (prog_vol + extra) * run  # what the pump pushes (its own count)

    # -- refill intervals, accuracy, reservoir ---------------------------------
    acc = spec.delivery_accuracy_percent
    sd = scn.accuracy_sd_percent if scn.accuracy_sd_percent is not None else acc / 3
    visits = [(hour_of(r.at), r) for r in scn.all_refills()]
    bounds = [0] + [h for h, _ in visits] + [n]
    factors = 1 + np.clip(rng.normal(0.0, sd, len(bounds) - 1), -acc, acc) / 100
    delivered = np.empty(n)
    reservoir = np.empty(n)
    estimate = np.empty(n)
    v_true = v_est = float(_quantize(scn.initial_reservoir_ml))
    lra = scn.low_reservoir_alarm_ml if scn.low_reservoir_alarm_ml is not None else spec.low_reservoir_alarm_ml
    for j in range(len(bounds) - 1):
        a, b = bounds[j], bounds[j + 1]
        if j > 0:
            r = visits[j - 1][1]
            prev_true = reservoir[a - 1] if a > 0 else v_true
            prev_est = estimate[a - 1] if a > 0 else v_est
            v_est = float(_quantize(r.added_ml))
            v_true = float(_quantize(r.added_ml - r.pocket_fill_ml))
            drugs = (r.program or _program_at(changes, a)).model_dump(mode="json")["drugs"]
            event(start + timedelta(hours=a), "refill", expected_residual_ml=round(max(prev_est, 0.0), 6),
                  withdrawn_ml=round(float(prev_true), 6), added_ml=r.added_ml,
                  details=json.dumps({"drugs": drugs, "pocket_fill": r.pocket_fill_ml > 0,
                                      "pocket_fill_ml": r.pocket_fill_ml}))
        if b <= a:
            continue
        f = factors[j]
        cum = np.cumsum(demand[a:b] * f)
        limit = min(v_true, f * v_est)
        cum_c = np.minimum(_quantize(cum), np.floor(limit / VOLUME_QUANTUM_ML) * VOLUME_QUANTUM_ML)
        d = np.diff(cum_c, prepend=0.0)
        delivered[a:b] = d
        res = v_true - cum_c
        # conservation by construction: each sample = previous - delivered (to rounding)
        reservoir[a:b] = res
        estimate[a:b] = v_est - cum_c / f
        est_seg = estimate[a:b]
        # alarms on the pump's estimate
        if v_est > lra:
            below = np.flatnonzero(est_seg <= lra + 1e-12)
            if len(below):
                i = below[0]
                event(_crossing(start, a + i, v_est if i == 0 else est_seg[i - 1], est_seg[i], lra),
                      "alarm_low_reservoir", "non_critical", details=json.dumps({"threshold_ml": lra}))
        if limit == f * v_est and v_est > 0 and cum_c[-1] >= limit - VOLUME_QUANTUM_ML:
            i = int(np.searchsorted(cum_c, cum_c[-1]))
            event(_crossing(start, a + i, v_est if i == 0 else est_seg[i - 1], est_seg[i], 0.0),
                  "alarm_empty_reservoir", "critical")
    # the true series must be exact: rebuild reservoir from delivered so that each
    # sample is previous - delivered to rounding (it already is; keep >= 0)
    reservoir = np.maximum(reservoir, 0.0)
    # what interrogation shows: the pump's own count, stored on the same 2**-20 mL grid
    estimate = np.maximum(_quantize(estimate), 0.0)

    samples = pa.table({
        "pump_id": _repeat(scn.pump_id, n),
        "timestamp": pa.array(stamps, pa.timestamp("s")),
        "programmed_rate_ml_per_day": pa.array(np.round(prog_vol * 24.0, 9), pa.float64()),
        "delivered_ml": pa.array(delivered, pa.float64()),
        "reservoir_ml": pa.array(reservoir, pa.float64()),
        "reservoir_estimate_ml": pa.array(estimate, pa.float64()),
        "battery_pct": pa.array(battery, pa.float64()) if battery is not None else pa.nulls(n, pa.float64()),
    }, schema=SAMPLES)
    ev = _events_table(events, ptm_events, scn.pump_id, start, scn.end)
    pump = {
        "pump_id": scn.pump_id, "profile": scn.profile, "implant_date": scn.implant_date.replace(microsecond=0),
        "indication": scn.indication,
        "battery_pct_at_implant": scn.battery.pct_at_implant if spec.battery_life_years is not None else None,
        "patient_label": scn.patient_label, "story": scn.story, "group": scn.group,
        "catheter_volume_ml": scn.catheter_volume_ml if scn.catheter_volume_ml is not None else spec.catheter_volume_ml,
        "low_reservoir_alarm_ml": lra, "next_appointment": scn.next_appointment,
        "trial": scn.trial.model_dump_json(exclude_none=True) if scn.trial is not None else None,
    }
    return SimResult(pump=pump, samples=samples, events=ev, pump_estimate_ml=estimate)


def _program_at(changes, h: int) -> Program:
    prog = changes[0][1]
    for a, p, _ in changes:
        if a <= h:
            prog = p
    return prog


def _crossing(start: datetime, i: int, before: float, after: float, level: float) -> datetime:
    """Moment within hour ``i`` at which a linearly falling volume reaches ``level``."""
    frac = 1.0 if before <= after else float(np.clip((before - level) / (before - after), 0, 1))
    return start + timedelta(seconds=int(HOUR_S * (i + frac)))


def _ptm_outcomes(req_s: np.ndarray, lockout_s: np.ndarray, max_per_day: np.ndarray) -> np.ndarray:
    """0 granted, 1 denied (lockout), 2 denied (daily maximum) for sorted requests.

    Sequential by nature (each grant moves the lockout); a few requests a day."""
    out = np.zeros(len(req_s), dtype=np.int64)
    last = -np.inf
    day = None
    count = 0
    days = (req_s // DAY_S).astype(np.int64)
    for k in range(len(req_s)):
        if days[k] != day:
            day, count = days[k], 0
        if req_s[k] - last < lockout_s[k]:
            out[k] = 1
        elif count >= max_per_day[k]:
            out[k] = 2
        else:
            last = req_s[k]
            count += 1
    return out


def _repeat(pump_id: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([pump_id])).cast(pa.string())


_PTM_KINDS = np.array(["ptm_granted", "ptm_denied_lockout", "ptm_denied_daily_max"], dtype=object)


def _events_table(events: list[dict], ptm, pump_id: str, start: datetime, end: datetime) -> pa.Table:
    """Events in time order (at one moment: refill, then program change, then the rest)."""
    cols = {f.name: [e.get(f.name) for e in events] for f in EVENTS if f.name not in ("pump_id", "timestamp")}
    ts = np.array([e["timestamp"] for e in events], dtype="datetime64[s]")
    if ptm is not None and len(ptm[0]):
        offs, outcome, vol = ptm
        ts = np.concatenate((ts, _dt64(start) + offs.astype("timedelta64[s]")))
        cols["kind"] = np.concatenate((np.array(cols["kind"], dtype=object), _PTM_KINDS[outcome]))
        cols["severity"] = np.concatenate((np.array(cols["severity"], dtype=object),
                                           np.full(len(offs), "info", dtype=object)))
        cols["volume_ml"] = np.concatenate((np.array(cols["volume_ml"], dtype=float), vol))
        for c in ("expected_residual_ml", "withdrawn_ml", "added_ml", "details"):
            cols[c] = list(cols[c]) + [None] * len(offs)
    kinds = np.asarray(cols["kind"], dtype=object)
    prio = np.array([_KIND_ORDER.get(k, 2) for k in kinds[:len(events)]] + [2] * (len(kinds) - len(events)))
    order = np.lexsort((prio, ts)) if len(ts) else np.array([], dtype=int)
    keep = order[(ts[order] >= _dt64(start)) & (ts[order] < _dt64(end))]
    out = {"pump_id": _repeat(pump_id, len(keep)), "timestamp": pa.array(ts[keep], pa.timestamp("s"))}
    for f in EVENTS:
        if f.name in out:
            continue
        arr = pa.array(cols[f.name], f.type, from_pandas=True) if len(kinds) else pa.array([], f.type)
        out[f.name] = arr.take(pa.array(keep, pa.int64()))
    return pa.table(out, schema=EVENTS)


def to_telemetry(results: list[SimResult]) -> Telemetry:
    """Simulated pumps as an in-memory Telemetry (no checks; for tests and notebooks)."""
    pumps = pa.Table.from_pylist([r.pump for r in results], schema=PUMPS).to_pandas()
    samples = _categorical_ids(pa.concat_tables([r.samples for r in results]).to_pandas())
    events = _categorical_ids(pa.concat_tables([r.events for r in results]).to_pandas())
    return Telemetry(pumps=pumps, samples=samples, events=events)
