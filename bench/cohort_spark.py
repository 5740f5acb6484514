"""Every cohort view on Spark (local[*]) beside DuckDB, over the same Parquet.

    make cohort && make cohort-spark          # data/cohort-1000: 1000 pumps x 730 days, 17.5 M rows
    .venv/bin/python bench/cohort_spark.py [--data DIR] [--repeat 3] [--master local[*]]

Needs the optional extra (``pip install -r requirements-spark.txt``) and Java 17.
Both engines run the same SQL text (``pumpmodel.cohort_queries``). Each engine first
materialises what the app keeps in memory (DuckDB: ``cohort_queries.MATERIALIZE`` as
tables; Spark: the same relations with ``CACHE TABLE``): that one-off cost is printed
as "open". Then each view, for two filters, is timed (median of ``--repeat`` runs)
and the two results are compared cell by cell.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pumpmodel import cohort_queries as cq  # noqa: E402
from pumpmodel import cohort_spark  # noqa: E402
from cohort import timed  # noqa: E402  (bench/cohort.py)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "cohort-1000"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--master", default="local[*]")
    args = ap.parse_args()
    folder = Path(args.data)
    if not cq.is_telemetry_folder(folder):
        print(f"{folder} is not a telemetry folder: run `make cohort` first", file=sys.stderr)
        return 2

    t = time.perf_counter()
    duck = cq.Cohort([folder])
    duck_open = time.perf_counter() - t
    n_rows = duck.query("SELECT COUNT(*) AS n FROM samples").iloc[0].n
    print(f"cohort: {folder} ({n_rows:,} hourly sample rows)   cores: {os.cpu_count()}   "
          f"load average: {os.getloadavg()[0]:.2f}")

    t = time.perf_counter()
    spark = cohort_spark.session(master=args.master, shuffle_partitions=2 * (os.cpu_count() or 1))
    spark_start = time.perf_counter() - t
    t = time.perf_counter()
    cohort_spark.register(spark, folder)
    spark_open = time.perf_counter() - t
    print(f"open: DuckDB {duck_open:.1f} s; Spark {spark.version} {args.master}: session {spark_start:.1f} s, "
          f"register + cache {spark_open:.1f} s (both once per data folder)\n", flush=True)

    rows, problems = [], []
    last = duck.query(cq.sql("date_bounds")).iloc[0]["last_ts"].date()
    filters = (("all pumps", cq.Filters()),
               ("baclofen, last 90 days", cq.Filters(drugs=("baclofen",), date_from=date.fromordinal(last.toordinal() - 89),
                                                     date_to=last)))
    for label, f in filters:
        for view in cq.VIEWS:
            duck_s, want = timed(lambda: duck.run(view, f), args.repeat)
            cohort_spark.run(spark, view, f)  # plans and JIT once, as a long-running job would
            spark_s, got = timed(lambda: cohort_spark.run(spark, view, f), args.repeat)
            diff = cohort_spark.differences(view, got, want)
            problems += diff
            rows.append({"filter": label, "view": view, "rows": len(want), "duckdb_s": duck_s, "spark_s": spark_s,
                         "spark/duckdb": spark_s / duck_s, "same": not diff})
            print(f"  {label:24s} {view:24s} DuckDB {duck_s:7.3f} s   Spark {spark_s:7.3f} s", flush=True)
    spark.stop()
    duck.close()
    df = pd.DataFrame(rows)
    print()
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(df.to_string(index=False))
    print(f"\nslowest view: DuckDB {df.duckdb_s.max():.3f} s, Spark {df.spark_s.max():.3f} s; "
          f"total over {len(df)} views: DuckDB {df.duckdb_s.sum():.2f} s, Spark {df.spark_s.sum():.2f} s")
    print(f"Spark and DuckDB give the same results on every view: {not problems}")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
