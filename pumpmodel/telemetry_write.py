"""Write pump telemetry (format: ``telemetry_schema.py``): the Parquet folder
layout, the single-file upload layout, a .zip of CSVs, and the safe
"fill a temp folder, then swap it in place" used by the simulator CLI and the
cohort generator. ``pumpmodel.telemetry`` re-exports everything here."""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .telemetry_schema import EVENTS, PUMPS, SAMPLES, TABLE_COLUMN, TABLES

if TYPE_CHECKING:
    from .telemetry import Telemetry

PARQUET_OPTIONS = dict(compression="zstd", compression_level=9, use_dictionary=["pump_id", "kind", "severity"],
                       use_byte_stream_split=["programmed_rate_ml_per_day", "delivered_ml", "reservoir_ml",
                                              "reservoir_estimate_ml", "battery_pct"])


def _arrow(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A frame as an Arrow table of ``schema``; nullable columns the frame lacks are left empty."""
    missing = [f.name for f in schema if f.name not in df.columns]
    if missing and all(schema.field(c).nullable for c in missing):
        df = df.assign(**{c: pd.Series([None] * len(df), index=df.index, dtype=schema.field(c).type.to_pandas_dtype())
                          for c in missing})
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)


def replace_folder(out: str | Path, fill: Callable[[Path], object]) -> Path:
    """Replace the folder ``out`` with what ``fill(tmp)`` writes into a fresh temp
    folder next to it. ``out`` is swapped only once ``fill`` has finished: if it
    fails, ``out`` is left as it was and the temp folder is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    old = None
    try:
        fill(tmp)
        if out.exists():
            old = tmp.with_name(tmp.name + ".old")  # unique, like tmp: out is missing only between two renames
            out.rename(old)
        tmp.rename(out)
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover)
    return out


def write_pump(folder: Path, pump_id: str, samples: pa.Table, events: pa.Table) -> None:
    """Write one pump's partitions (tables without the pump_id column, Hive style)."""
    for tname, t in (("samples", samples), ("events", events)):
        d = Path(folder) / tname / f"pump_id={pump_id}"
        d.mkdir(parents=True, exist_ok=True)
        opts = dict(PARQUET_OPTIONS)
        opts["use_byte_stream_split"] = [c for c in opts["use_byte_stream_split"] if c in t.column_names]
        opts["use_dictionary"] = [c for c in opts["use_dictionary"] if c in t.column_names]
        opts["column_encoding"] = {"timestamp": "DELTA_BINARY_PACKED"}
        pq.write_table(t, d / "part-0.parquet", **opts)


def write_pumps(folder: Path, pumps: pd.DataFrame | pa.Table) -> None:
    t = pumps if isinstance(pumps, pa.Table) else _arrow(pumps, PUMPS)
    Path(folder).mkdir(parents=True, exist_ok=True)
    pq.write_table(t, Path(folder) / "pumps.parquet", compression="zstd")


def write_telemetry(tel: "Telemetry", folder: str | Path) -> None:
    """Write a Telemetry in the Parquet folder layout."""
    folder = Path(folder)
    write_pumps(folder, tel.pumps)
    for pid in tel.pump_ids():
        p = tel.pump(pid)
        write_pump(folder, pid, _arrow(p.samples, SAMPLES).drop_columns(["pump_id"]),
                   _arrow(p.events, EVENTS).drop_columns(["pump_id"]))


def to_combined(tel: "Telemetry") -> pd.DataFrame:
    """The single-file upload layout: the three tables stacked with a ``table`` column."""
    parts = [df.assign(**{TABLE_COLUMN: name}) for name, df in
             (("pumps", tel.pumps), ("samples", tel.samples), ("events", tel.events))]
    out = pd.concat(parts, ignore_index=True)
    cols = [TABLE_COLUMN] + list(dict.fromkeys(c for s in TABLES.values() for c in s.names))
    return out.reindex(columns=cols)


def to_zip(tel: "Telemetry") -> bytes:
    """A .zip of the CSV folder layout (pumps.csv, samples.csv, events.csv)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, df in (("pumps", tel.pumps), ("samples", tel.samples), ("events", tel.events)):
            zf.writestr(f"{name}.csv", df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S"))
    return buf.getvalue()
