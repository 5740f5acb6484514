"""The telemetry format: three tables, as Arrow schemas (the contract between
the simulator, the loader, the clinician pages and the cohort queries).

On disk a telemetry folder holds::

    pumps.parquet                                   one row per pump
    samples/pump_id=<ID>/part-0.parquet             hourly samples (Hive-partitioned by pump)
    events/pump_id=<ID>/part-0.parquet              events (Hive-partitioned by pump)

Inside the partitions the ``pump_id`` column is implied by the folder name
(Hive style); loaders add it back. The same three tables load from CSV
(``pumps.csv``, ``samples.csv``, ``events.csv`` with a ``pump_id`` column),
or from a single uploaded Parquet/CSV file holding the three tables stacked
(with a ``table`` column, see ``pumpmodel.telemetry``).

Timestamps are pump-clock local time without offset (``timestamp[s]``).
Volumes in mL, rates in mL/day, battery in per cent.

The reservoir has two columns: ``reservoir_ml``, the volume really in it (the
simulator's truth, on which volume is conserved), and ``reservoir_estimate_ml``,
the pump's own estimate, the only one a real clinician sees. They differ by the
delivery inaccuracy and, after a pocket fill, by the volume that never reached
the reservoir. Real pump exports only have the estimate: put it in both.
"""
from __future__ import annotations

import pyarrow as pa

PUMPS = pa.schema([
    pa.field("pump_id", pa.string(), nullable=False),
    pa.field("profile", pa.string(), nullable=False),           # pump profile name (data/pumps.yaml)
    pa.field("implant_date", pa.timestamp("s"), nullable=False),
    pa.field("indication", pa.string()),                        # pain_cancer | pain_noncancer | spasticity_spinal | spasticity_cerebral
    pa.field("battery_pct_at_implant", pa.float64()),           # null for constant-flow pumps (no battery)
    pa.field("patient_label", pa.string(), nullable=False),     # e.g. "Patient A: spinal cord injury, baclofen"
    pa.field("story", pa.string()),                             # one-paragraph story for trainers (story patients)
    pa.field("group", pa.string(), nullable=False),             # "story" or "cohort"
    pa.field("catheter_volume_ml", pa.float64()),
    pa.field("low_reservoir_alarm_ml", pa.float64()),
    pa.field("next_appointment", pa.timestamp("s")),            # next scheduled visit after the record ends
    pa.field("trial", pa.string()),                             # screening trial before the implant: JSON of
                                                                # pumpmodel.trial.Trial; optional (column or cell)
])

SAMPLES = pa.schema([
    pa.field("pump_id", pa.string(), nullable=False),
    pa.field("timestamp", pa.timestamp("s"), nullable=False),   # start of the hour
    pa.field("programmed_rate_ml_per_day", pa.float64(), nullable=False),  # mean programmed rate over the hour (basal + periodic boluses)
    pa.field("delivered_ml", pa.float64(), nullable=False),     # volume actually delivered in the hour (incl. PTM/clinician boluses)
    pa.field("reservoir_ml", pa.float64(), nullable=False),     # volume really in the reservoir at the end of the hour
                                                                # (simulated truth: previous - delivered_ml, refills aside)
    pa.field("reservoir_estimate_ml", pa.float64()),            # the pump's own estimate at the end of the hour (what
                                                                # interrogation shows; unaware of a pocket fill or of
                                                                # delivery inaccuracy). Optional: a file without the
                                                                # column, or an empty cell, means "= reservoir_ml"
    pa.field("battery_pct", pa.float64()),                      # null for constant-flow pumps
])

EVENT_KINDS = (
    "program_change",            # details: {"old": Program JSON | null, "new": Program JSON}
    "refill",                    # expected_residual_ml, withdrawn_ml, added_ml; details: {"drugs": [...]} and pocket_fill flag
    "alarm_low_reservoir",       # non_critical
    "alarm_empty_reservoir",     # critical
    "alarm_eri",                 # non_critical (elective replacement indicator)
    "alarm_end_of_service",      # critical
    "alarm_motor_stall",         # critical; details: {"restart_after_h": H}
    "alarm_catheter_occlusion",  # critical
    "ptm_granted",               # volume_ml
    "ptm_denied_lockout",
    "ptm_denied_daily_max",
    "mri",                       # details: {"stall_h": H} for programmable pumps
    "clinician_bolus",           # volume_ml
)
SEVERITIES = ("critical", "non_critical", "info")

EVENTS = pa.schema([
    pa.field("pump_id", pa.string(), nullable=False),
    pa.field("timestamp", pa.timestamp("s"), nullable=False),
    pa.field("kind", pa.string(), nullable=False),              # one of EVENT_KINDS
    pa.field("severity", pa.string(), nullable=False),          # one of SEVERITIES
    pa.field("expected_residual_ml", pa.float64()),             # refill only
    pa.field("withdrawn_ml", pa.float64()),                     # refill only
    pa.field("added_ml", pa.float64()),                         # refill only
    pa.field("volume_ml", pa.float64()),                        # boluses
    pa.field("details", pa.string()),                           # JSON text
])

TABLES = {"pumps": PUMPS, "samples": SAMPLES, "events": EVENTS}

#: Columns a file may leave out (added after the first format; loaders fill them in).
OPTIONAL_COLUMNS = {"pumps": ("trial",), "samples": ("reservoir_estimate_ml",), "events": ()}

#: Single-file uploads stack the three tables; this column names each row's table.
TABLE_COLUMN = "table"
