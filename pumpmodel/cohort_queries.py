"""Cohort analytics over fleet-scale telemetry: plain SQL, run in DuckDB on Parquet.

Every analyst view is one SQL text over the telemetry tables ``pumps``,
``samples`` and ``events`` (``pumpmodel.telemetry_schema``), plus small views
set up by :func:`setup_sql`:

- ``profile_ref(profile, reservoir_ml, lra_ml, refill_discrepancy_ml)`` and
  ``drug_ref(drug, unit)``: the library data (``pumpmodel/data/*.yaml``) as SQL;
- ``programs(pump_id, valid_from, valid_to, drug, unit, conc_per_ml)``: each
  programme from the ``program_change`` events (first drug of the "new"
  programme, concentration converted to the drug's own unit per mL);
- ``pump_attrs``: one row per pump with profile, indication, group, implant
  date, alarm level, reservoir, discrepancy limit and current drug.

The SQL sticks to what DuckDB and Spark SQL (3.3+) both understand
(``get_json_object``, ``unix_timestamp``, ``percentile_cont ... WITHIN GROUP``,
window functions, ``TIMESTAMP`` literals), so the text returned by
:func:`sql` runs unchanged on Spark over the same partitioned Parquet. In
DuckDB the two Spark function names are defined as macros (:func:`connect`).

Only aggregated results leave the engine: the app never loads the sample
table into pandas. No streamlit here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Sequence

from . import library

ALARM_KINDS = ("alarm_low_reservoir", "alarm_empty_reservoir", "alarm_eri", "alarm_end_of_service",
               "alarm_motor_stall", "alarm_catheter_occlusion")
PTM_KINDS = ("ptm_granted", "ptm_denied_lockout", "ptm_denied_daily_max")
DAYS_PER_MONTH = 30.4375
MARGIN_BIN_ML = 0.5


# --------------------------------------------------------------------------- filters

@dataclass(frozen=True)
class Filters:
    """The analyst's selection. An empty tuple means "no restriction"."""

    drugs: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()          # "story" / "cohort"
    alarms: tuple[str, ...] = ()          # pumps that saw at least one of these alarm kinds in the date range
    date_from: date | None = None         # inclusive
    date_to: date | None = None           # inclusive

    def key(self) -> tuple:
        """Hashable, order-independent cache key."""
        return (tuple(sorted(self.drugs)), tuple(sorted(self.profiles)), tuple(sorted(self.indications)),
                tuple(sorted(self.groups)), tuple(sorted(self.alarms)), self.date_from, self.date_to)


def lit(value) -> str:
    """A SQL literal (strings quoted, single quotes doubled; numbers as is). Backslashes stay as
    they are: DuckDB, like standard SQL, does not treat them as escapes (on Spark, set
    spark.sql.parser.escapedStringLiterals=true for values holding a backslash)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    raise TypeError(f"no SQL literal for {value!r}")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(lit(v) for v in sorted(values))})"


def time_range(column: str, f: Filters) -> str:
    """``column`` within the date range (``TRUE`` when unbounded)."""
    parts = []
    if f.date_from is not None:
        parts.append(f"{column} >= TIMESTAMP '{f.date_from.isoformat()} 00:00:00'")
    if f.date_to is not None:
        parts.append(f"{column} < TIMESTAMP '{(f.date_to + timedelta(days=1)).isoformat()} 00:00:00'")
    return " AND ".join(parts) or "TRUE"


def _sel(f: Filters) -> str:
    """CTE ``sel``: the selected pumps with their attributes."""
    where = ["TRUE"]
    if f.drugs:
        where.append(_in("a.drug", f.drugs))
    if f.profiles:
        where.append(_in("a.profile", f.profiles))
    if f.indications:
        where.append(_in("a.indication", f.indications))
    if f.groups:
        where.append(_in("a.source_group", f.groups))
    if f.alarms:
        where.append(f"a.pump_id IN (SELECT ae.pump_id FROM events ae WHERE {_in('ae.kind', f.alarms)}"
                     f" AND {time_range('ae.timestamp', f)})")
    return "sel AS (\n  SELECT a.* FROM pump_attrs a\n  WHERE " + "\n    AND ".join(where) + "\n)"


def day_range(column: str, f: Filters) -> str:
    """``column`` (a DATE) within the date range (``TRUE`` when unbounded)."""
    parts = []
    if f.date_from is not None:
        parts.append(f"{column} >= DATE '{f.date_from.isoformat()}'")
    if f.date_to is not None:
        parts.append(f"{column} <= DATE '{f.date_to.isoformat()}'")
    return " AND ".join(parts) or "TRUE"


def _daily(f: Filters) -> str:
    """CTE ``daily``: one row per selected pump and calendar day with samples."""
    return f"""daily AS (
  SELECT d.* FROM samples_daily d JOIN sel ON d.pump_id = sel.pump_id
  WHERE {day_range('d.day', f)}
)"""


# --------------------------------------------------------------------------- set-up views

def _profile_ref() -> str:
    rows = [f"SELECT {lit(p.name)} AS profile, CAST({p.reservoir_ml!r} AS DOUBLE) AS reservoir_ml, "
            f"CAST({p.low_reservoir_alarm_ml!r} AS DOUBLE) AS lra_ml, "
            f"CAST({p.refill_discrepancy_ml!r} AS DOUBLE) AS refill_discrepancy_ml"
            for p in library.pump_profiles().values()]
    return "\nUNION ALL ".join(rows)


def _drug_ref() -> str:
    rows = [f"SELECT {lit(d.name)} AS drug, {lit(d.unit)} AS unit" for d in library.drugs().values()]
    return "\nUNION ALL ".join(rows)


PROGRAMS = """SELECT p.pump_id, p.valid_from,
       LEAD(p.valid_from) OVER (PARTITION BY p.pump_id ORDER BY p.valid_from) AS valid_to,
       p.drug, d.unit,
       p.concentration * CASE WHEN p.conc_unit = concat(d.unit, '/mL') THEN 1.0
                              WHEN p.conc_unit = 'mg/mL' AND d.unit = 'mcg' THEN 1000.0
                              WHEN p.conc_unit = 'mcg/mL' AND d.unit = 'mg' THEN 0.001 END AS conc_per_ml
FROM (
  SELECT e.pump_id, e.timestamp AS valid_from,
         get_json_object(e.details, '$.new.drugs[0].drug') AS drug,
         CAST(get_json_object(e.details, '$.new.drugs[0].concentration') AS DOUBLE) AS concentration,
         get_json_object(e.details, '$.new.drugs[0].unit') AS conc_unit
  FROM events e
  WHERE e.kind = 'program_change'
) p
LEFT JOIN drug_ref d ON d.drug = p.drug"""

SAMPLES_DAILY = """SELECT s.pump_id, CAST(s.timestamp AS DATE) AS day, MIN(s.timestamp) AS first_hour,
       SUM(s.delivered_ml) AS delivered_ml, MIN(s.reservoir_ml) AS min_reservoir_ml, COUNT(*) AS hours
FROM samples s
GROUP BY s.pump_id, CAST(s.timestamp AS DATE)"""

PUMP_ATTRS = """SELECT p.pump_id, p.profile, p.indication, p.group AS source_group, p.implant_date,
       COALESCE(p.low_reservoir_alarm_ml, r.lra_ml) AS lra_ml, r.reservoir_ml, r.refill_discrepancy_ml,
       lp.drug, lp.unit
FROM pumps p
LEFT JOIN profile_ref r ON r.profile = p.profile
LEFT JOIN (
  SELECT x.pump_id, x.drug, x.unit
  FROM (SELECT pump_id, drug, unit,
               ROW_NUMBER() OVER (PARTITION BY pump_id ORDER BY valid_from DESC) AS rn
        FROM programs) x
  WHERE x.rn = 1
) lp ON lp.pump_id = p.pump_id"""


def setup_selects() -> dict[str, str]:
    """The reference and derived relations, by name, as SELECT texts."""
    return {"profile_ref": _profile_ref(), "drug_ref": _drug_ref(), "programs": PROGRAMS, "pump_attrs": PUMP_ATTRS,
            "samples_daily": SAMPLES_DAILY}


def setup_sql(kind: str = "TEMPORARY VIEW", materialize: Sequence[str] = ()) -> list[str]:
    """Statements that create the reference and derived relations once ``pumps``,
    ``samples`` and ``events`` exist (same text on DuckDB and Spark SQL).
    Names in ``materialize`` become tables (small: one row per pump / programme)."""
    return [f"CREATE OR REPLACE {'TABLE' if name in materialize else kind} {name} AS\n{body}"
            for name, body in setup_selects().items()]


# --------------------------------------------------------------------------- the views

def _hours(f: Filters) -> str:
    """CTE ``hrs``: hourly samples per selected pump in the date range (pump-days = hours / 24)."""
    return f"""hrs AS (
  SELECT d.pump_id, SUM(d.hours) AS hours
  FROM samples_daily d JOIN sel ON d.pump_id = sel.pump_id
  WHERE {day_range('d.day', f)}
  GROUP BY d.pump_id
)"""


def q_summary(f: Filters) -> str:
    """Pumps and pump-days (hours of telemetry / 24) in the selection."""
    return f"""WITH {_sel(f)},
{_hours(f)}
SELECT (SELECT COUNT(*) FROM sel) AS pumps_selected,
       COUNT(*) AS pumps_with_data,
       COALESCE(SUM(hours), 0) / 24.0 AS pump_days,
       COALESCE(SUM(hours), 0) AS sample_hours
FROM hrs"""


def q_pump_table(f: Filters) -> str:
    """Every selected pump with its risk figures, riskiest first (the filtered pump list)."""
    return f"""WITH {_sel(f)},
{_daily(f)},
dd AS (
  SELECT d.pump_id, COUNT(*) AS pump_days,
         SUM(CASE WHEN d.min_reservoir_ml < sel.lra_ml THEN 1 ELSE 0 END) AS days_below_alarm,
         MIN(d.min_reservoir_ml) AS min_reservoir_ml
  FROM daily d JOIN sel ON d.pump_id = sel.pump_id
  GROUP BY d.pump_id
),
ev AS (
  SELECT e.pump_id,
         SUM(CASE WHEN e.kind LIKE 'alarm%' THEN 1 ELSE 0 END) AS alarms,
         SUM(CASE WHEN e.kind LIKE 'alarm%' AND e.severity = 'critical' THEN 1 ELSE 0 END) AS critical_alarms,
         SUM(CASE WHEN e.kind = 'refill' THEN 1 ELSE 0 END) AS refills,
         SUM(CASE WHEN e.kind = 'refill'
                   AND ABS(e.withdrawn_ml - e.expected_residual_ml) > sel.refill_discrepancy_ml
                  THEN 1 ELSE 0 END) AS refill_discrepancies
  FROM events e JOIN sel ON e.pump_id = sel.pump_id
  WHERE {time_range('e.timestamp', f)}
  GROUP BY e.pump_id
)
SELECT sel.pump_id, sel.source_group, sel.profile, sel.indication, sel.drug, sel.lra_ml AS alarm_level_ml,
       COALESCE(dd.pump_days, 0) AS pump_days,
       COALESCE(dd.days_below_alarm, 0) AS days_below_alarm,
       dd.min_reservoir_ml,
       COALESCE(ev.alarms, 0) AS alarms,
       COALESCE(ev.critical_alarms, 0) AS critical_alarms,
       COALESCE(ev.refills, 0) AS refills,
       COALESCE(ev.refill_discrepancies, 0) AS refill_discrepancies
FROM sel
LEFT JOIN dd ON dd.pump_id = sel.pump_id
LEFT JOIN ev ON ev.pump_id = sel.pump_id
ORDER BY days_below_alarm DESC, critical_alarms DESC, refill_discrepancies DESC,
         dd.min_reservoir_ml ASC, sel.pump_id ASC"""


def q_refill_intervals(f: Filters) -> str:
    """Days between consecutive refills (the later one in the date range), box statistics per drug."""
    return f"""WITH {_sel(f)},
rf AS (
  SELECT e.pump_id, e.timestamp,
         COALESCE(get_json_object(e.details, '$.drugs[0].drug'), sel.drug) AS drug,
         LAG(e.timestamp) OVER (PARTITION BY e.pump_id ORDER BY e.timestamp) AS prev_ts
  FROM events e JOIN sel ON e.pump_id = sel.pump_id
  WHERE e.kind = 'refill'
),
iv AS (
  SELECT drug, (unix_timestamp(timestamp) - unix_timestamp(prev_ts)) / 86400.0 AS interval_days
  FROM rf
  WHERE prev_ts IS NOT NULL AND {time_range('timestamp', f)}
)
SELECT drug, COUNT(*) AS intervals,
       MIN(interval_days) AS min_days,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY interval_days) AS q1_days,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY interval_days) AS median_days,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY interval_days) AS q3_days,
       MAX(interval_days) AS max_days,
       AVG(interval_days) AS mean_days
FROM iv
GROUP BY drug
ORDER BY drug"""


def _refill_margins(f: Filters) -> str:
    """CTE ``m``: the reservoir just before each refill (the pump's own estimate, recorded on the
    refill as ``expected_residual_ml``) minus the pump's low-reservoir alarm level."""
    return f"""m AS (
  SELECT e.pump_id, sel.profile, e.timestamp AS refill_ts, e.expected_residual_ml AS reservoir_ml,
         e.expected_residual_ml - sel.lra_ml AS margin_ml
  FROM events e JOIN sel ON e.pump_id = sel.pump_id
  WHERE e.kind = 'refill' AND e.expected_residual_ml IS NOT NULL AND {time_range('e.timestamp', f)}
)"""


def q_reservoir_margin(f: Filters) -> str:
    """Histogram (0.5 mL bins) of the reservoir margin above the low-reservoir alarm just before refill."""
    return f"""WITH {_sel(f)},
{_refill_margins(f)}
SELECT profile, FLOOR(margin_ml / {MARGIN_BIN_ML}) * {MARGIN_BIN_ML} AS bin_start_ml, COUNT(*) AS refills
FROM m
GROUP BY profile, FLOOR(margin_ml / {MARGIN_BIN_ML}) * {MARGIN_BIN_ML}
ORDER BY profile, bin_start_ml"""


def q_dose_trajectory(f: Filters) -> str:
    """Daily dose (drug unit/day) by month since implant: median and quartiles per drug (full days only)."""
    return f"""WITH {_sel(f)},
{_daily(f)},
dd AS (
  SELECT d.pump_id, p.drug, p.unit,
         FLOOR((unix_timestamp(d.first_hour) - unix_timestamp(sel.implant_date)) / 86400.0 / {DAYS_PER_MONTH})
           AS month_since_implant,
         d.delivered_ml * p.conc_per_ml AS dose_per_day
  FROM daily d
  JOIN sel ON d.pump_id = sel.pump_id
  JOIN programs p ON p.pump_id = d.pump_id AND d.first_hour >= p.valid_from
                 AND (p.valid_to IS NULL OR d.first_hour < p.valid_to)
  WHERE d.hours = 24
)
SELECT drug, unit, month_since_implant, COUNT(*) AS pump_days, COUNT(DISTINCT pump_id) AS pumps,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY dose_per_day) AS q1,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY dose_per_day) AS median,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY dose_per_day) AS q3
FROM dd
WHERE month_since_implant >= 0 AND dose_per_day IS NOT NULL
GROUP BY drug, unit, month_since_implant
ORDER BY drug, month_since_implant"""


def q_alarm_rates(f: Filters) -> str:
    """Alarms per 1000 pump-days, by kind."""
    return f"""WITH {_sel(f)},
{_hours(f)},
pd AS (SELECT SUM(hours) / 24.0 AS pump_days FROM hrs),
al AS (
  SELECT e.kind, e.severity, COUNT(*) AS alarms, COUNT(DISTINCT e.pump_id) AS pumps
  FROM events e JOIN sel ON e.pump_id = sel.pump_id
  WHERE e.kind LIKE 'alarm%' AND {time_range('e.timestamp', f)}
  GROUP BY e.kind, e.severity
)
SELECT al.kind, al.severity, al.alarms, al.pumps, pd.pump_days,
       1000.0 * al.alarms / pd.pump_days AS per_1000_pump_days
FROM al CROSS JOIN pd
WHERE pd.pump_days > 0
ORDER BY per_1000_pump_days DESC, al.kind"""


def q_ptm_by_hour(f: Filters) -> str:
    """PTM requests granted and denied, by hour of day (pump clock)."""
    return f"""WITH {_sel(f)}
SELECT hour(e.timestamp) AS hour,
       SUM(CASE WHEN e.kind = 'ptm_granted' THEN 1 ELSE 0 END) AS granted,
       SUM(CASE WHEN e.kind = 'ptm_denied_lockout' THEN 1 ELSE 0 END) AS denied_lockout,
       SUM(CASE WHEN e.kind = 'ptm_denied_daily_max' THEN 1 ELSE 0 END) AS denied_daily_max
FROM events e JOIN sel ON e.pump_id = sel.pump_id
WHERE e.kind LIKE 'ptm%' AND {time_range('e.timestamp', f)}
GROUP BY hour(e.timestamp)
ORDER BY hour"""


def _refills(f: Filters) -> str:
    return f"""rd AS (
  SELECT e.pump_id, e.timestamp, sel.profile, sel.drug, e.expected_residual_ml, e.withdrawn_ml,
         e.withdrawn_ml - e.expected_residual_ml AS difference_ml, sel.refill_discrepancy_ml AS limit_ml
  FROM events e JOIN sel ON e.pump_id = sel.pump_id
  WHERE e.kind = 'refill' AND e.withdrawn_ml IS NOT NULL AND e.expected_residual_ml IS NOT NULL
    AND {time_range('e.timestamp', f)}
)"""


def q_discrepancy_by_profile(f: Filters) -> str:
    """Refills with |withdrawn - expected residual| above the profile's limit, per profile."""
    return f"""WITH {_sel(f)},
{_refills(f)}
SELECT profile, MIN(limit_ml) AS limit_ml, COUNT(*) AS refills,
       SUM(CASE WHEN ABS(difference_ml) > limit_ml THEN 1 ELSE 0 END) AS flagged,
       100.0 * SUM(CASE WHEN ABS(difference_ml) > limit_ml THEN 1 ELSE 0 END) / COUNT(*) AS flagged_pct
FROM rd
GROUP BY profile
ORDER BY profile"""


def q_flagged_refills(f: Filters) -> str:
    """Every flagged refill (possible pocket fill or pump malfunction), largest difference first."""
    return f"""WITH {_sel(f)},
{_refills(f)}
SELECT pump_id, timestamp, profile, drug, expected_residual_ml, withdrawn_ml, difference_ml, limit_ml
FROM rd
WHERE ABS(difference_ml) > limit_ml
ORDER BY ABS(difference_ml) DESC, pump_id, timestamp"""


def q_filter_options(f: Filters | None = None) -> str:
    """Distinct values for the filter widgets (ignores the filters)."""
    return """SELECT 'drug' AS field, drug AS value FROM pump_attrs WHERE drug IS NOT NULL GROUP BY drug
UNION ALL SELECT 'profile', profile FROM pump_attrs GROUP BY profile
UNION ALL SELECT 'indication', indication FROM pump_attrs WHERE indication IS NOT NULL GROUP BY indication
UNION ALL SELECT 'group', source_group FROM pump_attrs GROUP BY source_group
UNION ALL SELECT 'alarm', kind FROM events WHERE kind LIKE 'alarm%' GROUP BY kind"""


def q_date_bounds(f: Filters | None = None) -> str:
    return "SELECT MIN(first_hour) AS first_ts, MAX(first_hour) AS last_ts FROM samples_daily"


# Pump-clock years the app accepts anywhere (programs.FIRST_YEAR/LAST_YEAR, the telemetry loader's
# bounds). A corrupt partition can hold a time outside them that DuckDB reads without complaint (the
# fuzz suite found year 15795); a range test in SQL does not catch it, as DuckDB simplifies the test
# away using the file's (wrong) column statistics.
_FIRST_YEAR, _LAST_YEAR = 1900, 2199


VIEWS: dict[str, Callable[[Filters], str]] = {
    "summary": q_summary,
    "pump_table": q_pump_table,
    "refill_intervals": q_refill_intervals,
    "reservoir_margin": q_reservoir_margin,
    "dose_trajectory": q_dose_trajectory,
    "alarm_rates": q_alarm_rates,
    "ptm_by_hour": q_ptm_by_hour,
    "discrepancy_by_profile": q_discrepancy_by_profile,
    "flagged_refills": q_flagged_refills,
}
"""The analyst views, by name (the benchmark times each of them)."""


def sql(view: str, f: Filters | None = None) -> str:
    """The SQL text of one view for these filters (engine-neutral)."""
    builders = {**VIEWS, "filter_options": q_filter_options, "date_bounds": q_date_bounds}
    return builders[view](f or Filters())


# --------------------------------------------------------------------------- sources and DuckDB

@dataclass(frozen=True)
class Source:
    """One telemetry folder (pumps.parquet + samples/ + events/)."""

    path: Path
    label: str = field(default="", compare=False)

    @property
    def version(self) -> float:
        """Changes when the folder is regenerated (part of every cache key)."""
        try:
            return os.stat(self.path / "pumps.parquet").st_mtime
        except OSError:
            return 0.0


def is_telemetry_folder(path: Path) -> bool:
    return (path / "pumps.parquet").is_file() and (path / "samples").is_dir() and (path / "events").is_dir()


def discover_cohorts(root: Path) -> list[Path]:
    """Cohort folders: the shipped ``sample_data/cohort`` first, then generated ``data/cohort-*``."""
    found = [root / "sample_data" / "cohort"] + sorted((root / "data").glob("cohort-*"))
    return [p for p in found if is_telemetry_folder(p)]


def story_folder(root: Path) -> Path | None:
    p = root / "sample_data" / "story"
    return p if is_telemetry_folder(p) else None


def _globs(folders: Sequence[Path], table: str, skip: frozenset[str] = frozenset()) -> str:
    """The partition files of ``table``: a glob per folder, or (when some files are skipped)
    every other file by name."""
    if not skip:
        return "[" + ", ".join(lit(str(Path(f) / table / "*" / "*.parquet")) for f in folders) + "]"
    files = [str(p) for f in folders for p in sorted((Path(f) / table).glob("*/*.parquet")) if str(p) not in skip]
    return "[" + ", ".join(lit(p) for p in files) + "]"


class CohortError(ValueError):
    """A telemetry folder the cohort queries cannot use at all (one clear message)."""


def _misfit(schema, table: str) -> str | None:
    """Why a partition's columns cannot be queried with the others (None when they can)."""
    import pyarrow as pa

    from .telemetry_schema import OPTIONAL_COLUMNS, TABLES

    for f in TABLES[table]:
        if f.name == "pump_id" and table != "pumps":
            continue
        if f.name not in schema.names:
            if f.name not in OPTIONAL_COLUMNS[table]:
                return f"missing column {f.name}"
            continue
        t = schema.field(f.name).type
        same_kind = (t == f.type or pa.types.is_null(t)
                     or (pa.types.is_floating(f.type) and (pa.types.is_integer(t) or pa.types.is_floating(t)))
                     or (pa.types.is_timestamp(f.type) and pa.types.is_timestamp(t))
                     or (pa.types.is_string(f.type) and (pa.types.is_large_string(t) or pa.types.is_dictionary(t))))
        if not same_kind:
            return f"column {f.name} is {t}, expected {f.type}"
    return None


def unreadable_files(folders: Sequence[Path | str]) -> list[tuple[Path, str]]:
    """Partition files that are not readable Parquet or whose columns do not fit the telemetry
    format, each with the reason (read in full: only called after DuckDB failed). Raises
    CohortError when a folder's pumps.parquet is unreadable: without it the pumps are unknown."""
    import pyarrow.parquet as pq

    def why_not(p: Path, table: str) -> str | None:
        try:
            t = pq.read_table(p)
            t.validate(full=True)  # e.g. text that is not UTF-8
        except Exception as exc:  # noqa: BLE001  (any reason is a reason)
            return f"not readable Parquet ({type(exc).__name__}: {str(exc)[:200]})"
        return _misfit(t.schema, table)

    bad = []
    for folder in (Path(f) for f in folders):
        why = why_not(folder / "pumps.parquet", "pumps")
        if why:
            raise CohortError(f"The telemetry folder {folder} cannot be used: its pumps.parquet is {why}. "
                              "Regenerate or replace the folder.")
        for table in ("samples", "events"):
            parts = sorted((folder / table).glob("*/*.parquet"))
            wrong = [(p, w) for p in parts if (w := why_not(p, table))]
            if parts and len(wrong) == len(parts):
                raise CohortError(f"The telemetry folder {folder} cannot be used: none of its {len(parts)} "
                                  f"{table} partition file(s) can be read (first: {wrong[0][0].name}: {wrong[0][1]}).")
            bad += wrong
    return bad


MACROS = [
    # Spark SQL names for the two functions whose DuckDB spelling differs.
    "CREATE OR REPLACE MACRO get_json_object(j, p) AS json_extract_string(j, p)",
    "CREATE OR REPLACE MACRO unix_timestamp(t) AS epoch(t)",
]
MATERIALIZE = ("events", "programs", "pump_attrs", "samples_daily")
"""Relations read into DuckDB once per database (by SQL, from the Parquet): the events
(about 0.5 M rows for 1000 pumps x 2 years: reading a thousand small partition files
costs more than the query), one row per programme, per pump and per pump-day (730 k
rows, built in about a second from the 17.5 M hourly samples, which stay on disk).
Pass ``materialize=()`` to keep everything a view over the Parquet files."""


def connect(folders: Sequence[Path | str], memory_limit: str = "1GB", threads: int | None = None,
            materialize: Sequence[str] = MATERIALIZE, skip: frozenset[str] = frozenset()):
    """A fresh in-memory DuckDB database with the telemetry views over ``folders``.

    Nothing is loaded: ``samples`` and ``events`` are views that read the Parquet
    files at query time (projection and filter push-down); only the per-pump
    ``programs`` and ``pump_attrs`` are materialised (a few thousand rows).
    """
    import duckdb

    folders = [Path(f) for f in folders]
    if not folders:
        raise ValueError("no telemetry folder given")
    con = duckdb.connect(config={"memory_limit": memory_limit})
    con.execute("SET enable_progress_bar = false")  # this connection only (it cannot be set globally)
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    # GLOBAL: a plain SET is for this one connection, and every query runs on its own cursor
    con.execute("SET GLOBAL parquet_metadata_cache = true")
    for m in MACROS:
        con.execute(m)
    opts = "hive_partitioning = true, hive_types = {'pump_id': VARCHAR}, union_by_name = true"
    for table in ("samples", "events"):
        kind = "TABLE" if table in materialize else "VIEW"
        con.execute(f"CREATE {kind} {table} AS SELECT * FROM read_parquet({_globs(folders, table, skip)}, {opts})")
    pumps = "[" + ", ".join(lit(str(f / "pumps.parquet")) for f in folders) + "]"
    con.execute(f"CREATE VIEW pumps AS SELECT * FROM read_parquet({pumps}, union_by_name = true)")
    for stmt in setup_sql(kind="VIEW", materialize=materialize):
        con.execute(stmt)
    return con


class Cohort:
    """One DuckDB database over a set of telemetry folders, safe to share between threads.

    DuckDB connections are not thread-safe, so every query runs on its own
    ``cursor()`` (a new connection to the same database, sharing its Parquet
    metadata cache and the materialised per-pump tables) and closes it after.
    """

    def __init__(self, folders: Sequence[Path | str], memory_limit: str = "1GB", threads: int | None = None,
                 materialize: Sequence[str] = MATERIALIZE):
        import threading

        import duckdb

        self.folders = tuple(Path(f) for f in folders)
        self._opts = dict(memory_limit=memory_limit, threads=threads, materialize=materialize)
        #: partition files left out because they are not readable Parquet: [(path, reason)]
        self.skipped: list[tuple[Path, str]] = []
        self._lock = threading.Lock()
        try:
            self._db = connect(self.folders, **self._opts)
        except duckdb.Error as exc:
            self._db = None
            self._without_unreadable(exc)

    def _without_unreadable(self, exc: Exception) -> None:
        """After DuckDB failed: find the unreadable files and open the folders without them
        (CohortError when that is not the cause, or when the folder cannot be used at all)."""
        bad = unreadable_files(self.folders)
        if not bad or self.skipped:
            raise CohortError(f"The telemetry in {', '.join(map(str, self.folders))} cannot be queried: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
        import duckdb

        if self._db is not None:
            self._db.close()
        self.skipped = bad
        try:
            self._db = connect(self.folders, skip=frozenset(str(p) for p, _ in bad), **self._opts)
        except duckdb.Error as again:
            raise CohortError(f"The telemetry in {', '.join(map(str, self.folders))} cannot be queried even "
                              f"without the {len(bad)} unreadable file(s): {type(again).__name__}: "
                              f"{str(again).splitlines()[0][:300]}") from None

    def query(self, text: str):
        import duckdb

        for attempt in (1, 2):
            with self._lock:
                cur = self._db.cursor()
            try:
                return cur.execute(text).df()
            except duckdb.Error as exc:  # a file read at query time (views): leave it out, once
                if isinstance(exc, duckdb.ParserException):
                    raise  # our SQL, not the data
                if attempt == 2:
                    raise CohortError(f"The telemetry in {', '.join(map(str, self.folders))} cannot be queried: "
                                      f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
                with self._lock:
                    self._without_unreadable(exc)
            finally:
                cur.close()

    def run(self, view: str, f: Filters | None = None):
        """One view's (small, aggregated) result as a DataFrame."""
        return self.query(sql(view, f))

    def filter_options(self) -> dict:
        """Values present in the data for each filter, plus the date bounds (none, and
        ``dates_outside_pump_clock`` True, when a time outside the years 1900-2199 was read: a
        corrupt partition)."""
        df = self.query(sql("filter_options"))
        bounds = self.query(sql("date_bounds"))
        out: dict = {k: sorted(df.loc[df["field"] == k, "value"].astype(str))
                     for k in ("drug", "profile", "indication", "group", "alarm")}
        first, last = bounds.iloc[0]["first_ts"], bounds.iloc[0]["last_ts"]
        known = not (first is None or str(first) == "NaT")
        plausible = known and all(_FIRST_YEAR <= t.year <= _LAST_YEAR for t in (first, last))
        out["dates"] = [first.date(), last.date()] if plausible else []
        out["dates_outside_pump_clock"] = known and not plausible  # no date filter offered then
        return out

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Cohort":
        return self

    def __exit__(self, *exc) -> None:  # ``with Cohort(folders) as c:`` closes the database
        self.close()


def run(view: str, folders: Sequence[Path | str], f: Filters | None = None):
    """Run one view on a throw-away database (tests, scripts)."""
    with Cohort(folders) as c:
        return c.run(view, f)


def filter_options(folders: Sequence[Path | str]) -> dict:
    with Cohort(folders) as c:
        return c.filter_options()
