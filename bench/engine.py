"""Engine benchmark: evaluate() latency, and exact projection vs minute stepping.

Prints figures; ratios are against baselines measured in the same run.
    .venv/bin/python bench/engine.py
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pumpmodel import Case, Program, evaluate  # noqa: E402
from pumpmodel.schedule import profile_for, to_seconds  # noqa: E402

STEPS = [("00:00", 0.30), ("02:30", 0.25), ("05:00", 0.35), ("07:00", 0.45), ("09:15", 0.50),
         ("12:00", 0.40), ("14:45", 0.55), ("17:30", 0.45), ("20:00", 0.35), ("22:00", 0.30)]
PROGRAM = Program.model_validate({
    "drugs": [{"drug": "baclofen", "concentration": 2000, "unit": "mcg/mL"}], "mode": "flex",
    "steps": [{"start": s, "rate_ml_per_day": r} for s, r in STEPS],
    "ptm": {"bolus_volume_ml": 0.01, "lockout_min": 120, "max_per_day": 3}})
T0 = datetime(2026, 11, 21, 9, 0)
MINUTES_PER_YEAR = 365 * 1440


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def exact_year():
    """Volume over one year and the moment the year's volume is reached, exactly."""
    p = profile_for(PROGRAM)
    t0 = to_seconds(T0)
    v = float(p.volume_between(t0, t0 + 365 * 86400))
    return v, p.time_to_deliver(t0, v)


def minute_loop_year():
    """Baseline: step minute by minute through the year in Python."""
    starts = [int(s[:2]) * 60 + int(s[3:]) for s, _ in STEPS]
    rates = [r for _, r in STEPS]
    minute0 = T0.hour * 60 + T0.minute
    v = 0.0
    for m in range(MINUTES_PER_YEAR):
        tod = (minute0 + m) % 1440
        i = 0
        while i + 1 < len(starts) and starts[i + 1] <= tod:
            i += 1
        v += rates[i] / 1440
    return v


def minute_numpy_year():
    """Second baseline: the same minute grid, vectorised with numpy."""
    starts = np.array([int(s[:2]) * 60 + int(s[3:]) for s, _ in STEPS])
    rates = np.array([r for _, r in STEPS])
    tod = (T0.hour * 60 + T0.minute + np.arange(MINUTES_PER_YEAR)) % 1440
    return float(np.sum(rates[np.searchsorted(starts, tod, side="right") - 1]) / 1440)


def main() -> None:
    case = Case.model_validate(json.loads((ROOT / "examples/spec_example.json").read_text()))
    evaluate(case)  # warm up
    ev = timed(lambda: evaluate(case), 200)
    year_case = case.model_copy(update={"proposed": PROGRAM, "reservoir_ml": 40.0})
    ev_year = timed(lambda: evaluate(year_case), 200)

    exact = timed(exact_year, 200)
    loop = timed(minute_loop_year, 3)
    vec = timed(minute_numpy_year, 20)
    v_exact, v_loop = exact_year()[0], minute_loop_year()

    med = statistics.median
    print("engine benchmark (median of repeated runs, same process)")
    print(f"  evaluate() spec example            {med(ev) * 1e3:8.3f} ms")
    print(f"  evaluate() 10-step flex, 40 mL      {med(ev_year) * 1e3:8.3f} ms")
    print(f"  1-year projection, exact            {med(exact) * 1e6:8.1f} us")
    print(f"  1-year projection, minute loop      {med(loop) * 1e3:8.1f} ms   -> exact is "
          f"{med(loop) / med(exact):,.0f}x faster (target >= 1000x)")
    print(f"  1-year projection, numpy minutes    {med(vec) * 1e3:8.1f} ms   -> exact is "
          f"{med(vec) / med(exact):,.0f}x faster")
    print(f"  agreement: exact {v_exact:.9f} mL vs minute loop {v_loop:.9f} mL "
          f"(diff {abs(v_exact - v_loop):.2e} mL)")


if __name__ == "__main__":
    main()
