"""The same query text on Spark SQL: every view, over the same partitioned Parquet,
gives what DuckDB gives. Skipped unless ``pyspark`` (and a Java runtime) is installed;
pyspark is not a project dependency. To run it::

    python -m venv /tmp/spark && /tmp/spark/bin/pip install pyspark -r requirements-dev.txt
    /tmp/spark/bin/python -m pytest -q tests/test_cohort_spark.py
"""
from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from cohort_fixture import write_cohort  # noqa: E402
from pumpmodel import cohort_queries as cq  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_cohort(tmp_path_factory.mktemp("spark") / "cohort", pumps=6, days=90, seed=9)


@pytest.fixture(scope="module")
def spark(folder):
    from pyspark.sql import SparkSession

    s = (SparkSession.builder.master("local[1]").appName("cohort-sql")
         .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    # The only engine-specific part: register the three tables (README "Scale beyond one machine").
    s.sql(f"CREATE OR REPLACE TEMPORARY VIEW samples USING parquet OPTIONS (path '{folder}/samples')")
    s.sql(f"CREATE OR REPLACE TEMPORARY VIEW events USING parquet OPTIONS (path '{folder}/events')")
    s.sql(f"CREATE OR REPLACE TEMPORARY VIEW pumps USING parquet OPTIONS (path '{folder}/pumps.parquet')")
    for stmt in cq.setup_sql():
        s.sql(stmt)
    yield s
    s.stop()


@pytest.mark.parametrize("f", [cq.Filters(), cq.Filters(date_from=date(2024, 2, 1), date_to=date(2024, 2, 29),
                                                        drugs=("baclofen", "morphine"))])
@pytest.mark.parametrize("view", list(cq.VIEWS))
def test_spark_matches_duckdb(spark, folder, view, f):
    text = cq.sql(view, f)
    got = spark.sql(text).toPandas()
    want = cq.run(view, [folder], f)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want), view
    for col in want.columns:
        a, b = want[col], got[col]
        if pd.api.types.is_numeric_dtype(a):
            np.testing.assert_allclose(pd.to_numeric(b, errors="coerce").astype(float), a.astype(float),
                                       rtol=1e-6, err_msg=f"{view}.{col}")
        elif pd.api.types.is_datetime64_any_dtype(a):
            assert (pd.to_datetime(b).dt.tz_localize(None).values == a.values).all(), f"{view}.{col}"
        else:
            assert list(b.astype(str)) == list(a.astype(str)), f"{view}.{col}"
