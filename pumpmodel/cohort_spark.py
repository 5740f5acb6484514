"""The cohort views on Apache Spark: the same SQL text as DuckDB (``cohort_queries``).

Only registering the three telemetry tables is engine-specific; everything else is
``cohort_queries.setup_sql()`` and ``cohort_queries.sql(view, filters)``. pyspark is an
optional extra (``requirements-spark.txt``, Java 17): it is imported when a session is made.

    from pumpmodel import cohort_spark, cohort_queries as cq
    spark = cohort_spark.session()                      # local[*]
    cohort_spark.register(spark, "data/cohort-1000")   # or an s3:// / hdfs:// folder
    cohort_spark.run(spark, "alarm_rates", cq.Filters(drugs=("baclofen",)))
"""
from __future__ import annotations

import os
from typing import Sequence

from . import cohort_queries as cq

CACHED = ("events", "programs", "pump_attrs", "samples_daily")
"""What the app materialises in DuckDB (``cohort_queries.MATERIALIZE``), cached in Spark's memory."""


def session(master: str = "local[*]", shuffle_partitions: int | None = None, app_name: str = "pump-cohort"):
    """A SparkSession with the settings the views need: UTC session time zone (timestamps are
    pump-clock local time, stored without offset) and no web UI."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    b = (SparkSession.builder.master(master).appName(app_name)
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if shuffle_partitions:
        b = b.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    return s


def register(spark, folder: str | os.PathLike, cache: Sequence[str] = CACHED) -> None:
    """Register ``pumps``, ``samples`` and ``events`` over one telemetry folder (Hive-partitioned
    Parquet, local or remote), then the derived views; ``cache`` names are cached eagerly."""
    folder = str(folder).rstrip("/")
    for table, path in (("samples", f"{folder}/samples"), ("events", f"{folder}/events"),
                        ("pumps", f"{folder}/pumps.parquet")):
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {table} USING parquet OPTIONS (path {cq.lit(path)})")
    for stmt in cq.setup_sql():
        spark.sql(stmt)
    for name in cache:
        spark.sql(f"CACHE TABLE {name}")


def run(spark, view: str, f: cq.Filters | None = None):
    """One view's (small, aggregated) result as a pandas DataFrame."""
    return spark.sql(cq.sql(view, f)).toPandas()


def differences(view: str, got, want, rtol: float = 1e-6) -> list[str]:
    """How a Spark result ``got`` differs from DuckDB's ``want`` for one view (empty: the same).
    Numbers within ``rtol``; timestamps compared without a zone; text as text."""
    import numpy as np
    import pandas as pd

    if list(got.columns) != list(want.columns):
        return [f"{view}: columns {list(got.columns)} != {list(want.columns)}"]
    if len(got) != len(want):
        return [f"{view}: {len(got)} rows != {len(want)}"]
    out = []
    for col in want.columns:
        a, b = want[col].reset_index(drop=True), got[col].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(a):
            x, y = pd.to_numeric(b, errors="coerce").astype(float).to_numpy(), a.astype(float).to_numpy()
            same = np.isclose(x, y, rtol=rtol, atol=0.0, equal_nan=True)
        elif pd.api.types.is_datetime64_any_dtype(a):
            same = pd.to_datetime(b).dt.tz_localize(None).to_numpy() == a.to_numpy()
        else:
            same = b.astype(str).to_numpy() == a.astype(str).to_numpy()
        if not same.all():
            i = int(np.argmin(same))
            out.append(f"{view}.{col}: row {i}: {b.iloc[i]!r} != {a.iloc[i]!r} ({int((~same).sum())} rows differ)")
    return out
