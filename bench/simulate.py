"""Benchmark the cohort simulator: rows generated per second and peak memory.

    python bench/simulate.py                       # 1000 pumps x 730 days (17.5 M hourly rows), 2 workers
    python bench/simulate.py --pumps 100 --days 90 # a quick run

Generation includes writing the Hive-partitioned Parquet files (into a temporary
folder unless --out is given). Peak memory is the largest resident set size of
the parent and of any worker process (resource.getrusage); targets: >= 1 M rows/s
on 2 cores and < 2 GB peak. CPU seconds (parent + workers) are printed too: on a
shared machine ``rows_per_cpu_second`` x cores is what 2 free cores would reach.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pumpmodel.cohort import generate_cohort  # noqa: E402
from pumpmodel.telemetry import load_telemetry  # noqa: E402


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished workers."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _mb(kb: int) -> float:
    return kb / 1024  # ru_maxrss is in kB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pumps", type=int, default=1000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", help="output folder (default: a temporary folder, removed afterwards)")
    ap.add_argument("--load", action="store_true", help="also time loading the result with load_telemetry "
                                                        "(its memory is reported separately)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "cohort"
        t0 = time.perf_counter()
        cpu0 = _cpu()
        stats = generate_cohort(args.pumps, args.days, args.seed, out, jobs=args.jobs, progress=True)
        seconds = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
        result = {
            "pumps": args.pumps, "days": args.days, "jobs": args.jobs, "rows": stats["rows"],
            "seconds": round(seconds, 2), "rows_per_second": round(stats["rows"] / seconds),
            "cpu_seconds": round(cpu, 2),
            "rows_per_cpu_second": round(stats["rows"] / cpu) if cpu > 0 else None,
            "load_average_1min": round(os.getloadavg()[0], 1),
            "peak_rss_parent_mb": round(_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)),
            "peak_rss_worker_mb": round(_mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)),
            "output_mb": round(size_mb, 1),
        }
        if args.load:
            t1 = time.perf_counter()
            tel = load_telemetry(out)
            result["load_seconds"] = round(time.perf_counter() - t1, 2)
            result["loaded_rows"] = len(tel.samples)
            result["peak_rss_with_load_mb"] = round(_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    print(json.dumps(result, indent=2))
    peak = max(result["peak_rss_parent_mb"], result["peak_rss_worker_mb"])
    print(f"rows/s target (>= 1,000,000): {'met' if result['rows_per_second'] >= 1_000_000 else 'NOT met'}; "
          f"peak memory target (< 2048 MB): {'met' if peak < 2048 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
