"""Load, check, merge and write pump telemetry (format: ``telemetry_schema.py``).

``load_telemetry`` accepts

* a folder: ``pumps.parquet`` + Hive-partitioned ``samples/pump_id=<ID>/*.parquet``
  and ``events/pump_id=<ID>/*.parquet`` (the simulator's layout), or
  ``pumps.csv`` + ``samples.csv`` + ``events.csv`` (each with a ``pump_id`` column);
* an uploaded file's bytes with its name:

  - ``.zip``: a telemetry folder zipped (either layout above, at the top of the
    archive or inside one top-level folder);
  - ``.csv`` / ``.parquet``: ONE file holding all three tables stacked, with an
    extra ``table`` column (``pumps`` | ``samples`` | ``events``) and the union of
    the three tables' columns; cells of columns that do not belong to a row's
    table are left empty. ``to_combined`` writes this layout.

A single table on its own (e.g. only ``samples.csv``) is not a telemetry: it is
rejected with a problem saying so.

Every check is columnar (pandas/pyarrow); a bad input raises ``TelemetryError``
listing each problem (file, column, row, message). ``row`` is the 0-based data
row within the named file (the header line is not counted). Loading is a pure
function: nothing already loaded is touched.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from . import gate, library, units
from .programs import FIRST_YEAR, LAST_YEAR, MAX_RATE_ML_PER_DAY, Case, HistoryEntry, Program, PumpSettings
from .telemetry_limits import ZIP_ERRORS, LimitExceeded, ZipReader, read_parquet
from .trial.record import Trial
from .telemetry_schema import (
    EVENT_KINDS, EVENTS, OPTIONAL_COLUMNS, PUMPS, SAMPLES, SEVERITIES, TABLE_COLUMN, TABLES,
)
from .telemetry_write import (  # noqa: F401  (re-exported: the write side lives in telemetry_write)
    PARQUET_OPTIONS, replace_folder, to_combined, to_zip, write_pump, write_pumps, write_telemetry,
)

ROOT = Path(__file__).resolve().parents[1]
STORY_DIR: Path = ROOT / "sample_data" / "story"
COHORT_DIR: Path = ROOT / "sample_data" / "cohort"

#: Battery level (per cent) at which the simulator raises the ERI alarm
#: (**assumed** training value); end of service follows after the profile's
#: ``eri_to_eos_days``. Used to project end of service from the battery trend.
ERI_BATTERY_PCT = 5.0
#: A battery projection further away than this is "not projectable" (None): a
#: nearly flat trend over the last 30 days says nothing about years ahead.
MAX_PROJECTION_YEARS = 50

PUMP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
#: Timestamps a pump clock can plausibly show (the case's pump-clock range, leaving a year for
#: "now" = last sample + 1 h and the projections).
FIRST_TIME, LAST_TIME = pd.Timestamp(FIRST_YEAR, 1, 1), pd.Timestamp(LAST_YEAR - 1, 12, 31, 23, 59, 59)
#: Most a catheter can hold (mL): a larger value is a unit error.
MAX_CATHETER_ML = 5.0
#: An event volume above the reservoir's capacity by more than this (mL) is impossible.
EVENT_VOLUME_MARGIN_ML = 5.0
UNFORESEEN = "cannot be checked (an input no check foresaw):"
MAX_ROWS_PER_CHECK = 10  # problems listed per check before summarising the rest


class Problem(BaseModel):
    file: str
    column: str | None = None
    row: int | None = None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.column is not None:
            where += f", column {self.column!r}"
        if self.row is not None:
            where += f", row {self.row}"
        return f"{where}: {self.message}"


class TelemetryError(Exception):
    """Telemetry that cannot be used; ``problems`` names each defect."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the telemetry:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Telemetry objects


@dataclass(frozen=True)
class Telemetry:
    pumps: pd.DataFrame
    samples: pd.DataFrame
    events: pd.DataFrame
    _rows: dict = field(default=None, repr=False, compare=False)  # pump_id -> (sample slice, event slice)

    def __post_init__(self) -> None:
        if self._rows is None:
            object.__setattr__(self, "_rows", {"samples": _slices(self.samples), "events": _slices(self.events)})

    def pump_ids(self) -> list[str]:
        return [str(p) for p in self.pumps["pump_id"]]

    def pump(self, pump_id: str) -> "PumpTelemetry":
        hit = np.flatnonzero(self.pumps["pump_id"].to_numpy() == pump_id)
        if len(hit) == 0:
            raise KeyError(f"no pump {pump_id!r}; known: {', '.join(self.pump_ids())}")
        s = self._rows["samples"].get(pump_id, slice(0, 0))
        e = self._rows["events"].get(pump_id, slice(0, 0))
        return PumpTelemetry(
            info=self.pumps.iloc[hit[0]],
            samples=self.samples.iloc[s].reset_index(drop=True),
            events=self.events.iloc[e].reset_index(drop=True),
        )


def _slices(df: pd.DataFrame) -> dict[str, slice]:
    """Row ranges per pump (tables are stored grouped by pump)."""
    if df.empty:
        return {}
    codes, labels = _codes(df["pump_id"])
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(codes)]))
    return {str(labels[codes[a]]): slice(int(a), int(b)) for a, b in zip(starts, ends)}


def _codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and labels of a pump-id column (categorical or not)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return ids.cat.codes.to_numpy(), np.asarray(ids.cat.categories, dtype=object)
    codes, labels = pd.factorize(ids)
    return codes, np.asarray(labels, dtype=object)


@dataclass(frozen=True)
class PumpTelemetry:
    info: pd.Series
    samples: pd.DataFrame
    events: pd.DataFrame

    @property
    def pump_id(self) -> str:
        return str(self.info["pump_id"])

    @property
    def profile(self) -> library.PumpProfile:
        return library.profile(self.info["profile"])

    def programs(self) -> list[tuple[datetime, Program]]:
        ev = self.events[self.events["kind"] == "program_change"]
        return [(_py(t), Program.model_validate(json.loads(d)["new"]))
                for t, d in zip(ev["timestamp"], ev["details"])]

    def current_program(self) -> Program:
        progs = self.programs()
        if not progs:
            raise ValueError(f"pump {self.pump_id} has no program_change event: no program known")
        return progs[-1][1]

    def now(self) -> datetime:
        if self.samples.empty:
            raise ValueError(f"pump {self.pump_id} has no samples")
        return _py(self.samples["timestamp"].iloc[-1]) + timedelta(hours=1)

    def reservoir_series_ml(self) -> pd.Series:
        """The reservoir as the pump estimates it, per sample (what interrogation
        shows); ``reservoir_ml`` where no estimate was recorded."""
        s = self.samples
        if "reservoir_estimate_ml" not in s:
            return s["reservoir_ml"]
        return s["reservoir_estimate_ml"].fillna(s["reservoir_ml"])

    def reservoir_now_ml(self) -> float:
        """The pump's own estimate at the last sample (not the simulated true volume)."""
        return float(self.reservoir_series_ml().iloc[-1])

    def next_appointment(self) -> datetime | None:
        v = self.info.get("next_appointment")
        return None if v is None or pd.isna(v) else _py(v)

    def trial(self) -> Trial | None:
        """The screening trial recorded before the implant, if any (checked at load)."""
        v = self.info.get("trial")
        return None if v is None or pd.isna(v) else Trial.model_validate_json(v)

    def end_of_service_at(self) -> datetime | None:
        """End of service: logged, or ERI alarm + the profile's ERI-to-EOS days, or
        projected from the battery trend over the last 30 days to ``ERI_BATTERY_PCT``
        (+ ERI-to-EOS days). None when not projectable (no battery, flat trend, or
        more than ``MAX_PROJECTION_YEARS`` away)."""
        spec = self.profile
        if spec.eri_to_eos_days is None:
            return None
        ev = self.events
        eos = ev.loc[ev["kind"] == "alarm_end_of_service", "timestamp"]
        if len(eos):
            return _py(eos.iloc[0])
        eri = ev.loc[ev["kind"] == "alarm_eri", "timestamp"]
        if len(eri):
            return _py(eri.iloc[0]) + timedelta(days=spec.eri_to_eos_days)
        b = self.samples[["timestamp", "battery_pct"]].dropna()
        if len(b) < 2:
            return None
        last_t = b["timestamp"].iloc[-1]
        window = b[b["timestamp"] >= last_t - pd.Timedelta(days=30)]
        if len(window) < 2:
            window = b
        hours = (window["timestamp"] - window["timestamp"].iloc[0]).dt.total_seconds().to_numpy() / 3600
        drop_per_h = (window["battery_pct"].iloc[0] - window["battery_pct"].iloc[-1]) / max(hours[-1], 1e-9)
        if drop_per_h <= 0:
            return None
        left_h = (float(window["battery_pct"].iloc[-1]) - ERI_BATTERY_PCT) / drop_per_h
        total_h = max(left_h, 0.0) + spec.eri_to_eos_days * 24
        if not np.isfinite(total_h) or total_h > MAX_PROJECTION_YEARS * 365.25 * 24:
            return None  # a nearly flat trend: too far away to mean anything (and past datetime.max)
        try:
            return _py(last_t) + timedelta(hours=total_h)
        except OverflowError:
            return None

    def case(self, proposed: Program | None = None) -> Case:
        """The pump's state as an ``evaluate()`` Case; ``history`` holds every program change
        in the telemetry (oldest first, the current program last)."""
        current = self.current_program()
        now = self.now()
        history = [HistoryEntry(at=t.replace(microsecond=0), program=p)
                   for t, p in sorted(self.programs(), key=lambda tp: tp[0]) if t <= now]
        info = self.info
        indication = info.get("indication")
        eos = self.end_of_service_at()
        settings = PumpSettings(
            profile=str(info["profile"]),
            low_reservoir_alarm_ml=_opt_float(info.get("low_reservoir_alarm_ml")),
            catheter_volume_ml=_opt_float(info.get("catheter_volume_ml")),
            end_of_service_at=None if eos is None else eos.replace(microsecond=0),
        )
        return Case(
            pump=settings,
            now=now,
            reservoir_ml=max(0.0, self.reservoir_now_ml()),
            next_appointment=self.next_appointment(),
            indication=None if indication is None or pd.isna(indication) else str(indication),
            current=current,
            proposed=proposed if proposed is not None else current,
            history=history or None,
        )

    def refills(self) -> pd.DataFrame:
        ev = self.events[self.events["kind"] == "refill"]
        out = pd.DataFrame({
            "date": ev["timestamp"].to_numpy(),
            "expected_residual_ml": ev["expected_residual_ml"].to_numpy(dtype=float),
            "withdrawn_ml": ev["withdrawn_ml"].to_numpy(dtype=float),
            "added_ml": ev["added_ml"].to_numpy(dtype=float),
        })
        out["discrepancy_ml"] = out["withdrawn_ml"] - out["expected_residual_ml"]
        limit = self.profile.refill_discrepancy_ml  # the engine's REFILL_DISCREPANCY rule: exactly the limit is fine
        out["flagged"] = np.array([units.above(abs(d), limit) for d in out["discrepancy_ml"]], dtype=bool)
        return out


def _py(ts) -> datetime:
    return pd.Timestamp(ts).to_pydatetime()


def _opt_float(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


# ---------------------------------------------------------------------------
# Reading


class _Files:
    """File name per row, stored as names + an index per row (cheap for millions of rows)."""

    def __init__(self, names, index: np.ndarray):
        self.names = list(names)
        self.index = np.asarray(index, dtype=np.int32)

    @classmethod
    def single(cls, name: str, n: int) -> "_Files":
        return cls([name], np.zeros(n, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i) -> str:
        return self.names[self.index[i]] if len(self.index) else (self.names[0] if self.names else "")


@dataclass
class _Raw:
    """One table as read, before checks: arrow table + where each row came from."""

    table: pa.Table
    files: _Files      # file name per row
    rows: np.ndarray   # row within that file


def load_telemetry(source: str | Path | bytes, name: str | None = None) -> Telemetry:
    """Load and check telemetry from a folder, or an uploaded file's bytes (with ``name``)."""
    label = name or str(source) if not isinstance(source, bytes) else (name or "upload")
    try:
        raws = _read_source(source, name)
    except TelemetryError:
        raise
    except LimitExceeded as exc:
        raise TelemetryError([Problem(file=exc.file, message=str(exc))]) from None
    except (OSError, pa.ArrowException, ValueError, UnicodeDecodeError, *ZIP_ERRORS) as exc:
        raise TelemetryError([Problem(file=str(label), message=f"cannot be read: {exc}")]) from None
    except Exception as exc:  # noqa: BLE001  the contract: only TelemetryError leaves the loader
        raise TelemetryError([Problem(file=str(label), message=f"{UNFORESEEN} {type(exc).__name__}")]) from None
    try:
        return _check(raws)
    except TelemetryError:
        raise
    except Exception as exc:  # noqa: BLE001
        # safety net: every check above names file, column and row; an input no check foresaw
        # still becomes a TelemetryError (the contract), never a raw exception. The fuzz suite
        # (tests/test_fuzz.py) fails on this message, so each such input gets its own check.
        raise TelemetryError([Problem(file=str(label), message=f"{UNFORESEEN} {type(exc).__name__}: "
                                                               f"{str(exc)[:200]}")]) from None


def _read_source(source, name) -> dict[str, _Raw]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not name:
            raise TelemetryError([Problem(file="upload", message="an uploaded file needs its file name")])
        return _read_upload(bytes(source), name)
    path = Path(source)
    if path.is_dir():
        return _read_folder(path)
    if path.is_file():
        return _read_upload(path.read_bytes(), path.name)
    raise TelemetryError([Problem(file=str(path), message="no such file or folder")])


def _read_upload(data: bytes, name: str) -> dict[str, _Raw]:
    lower = name.lower()
    if lower.endswith(".zip"):
        return _read_zip(data, name)
    if lower.endswith(".csv"):
        table = _read_csv_bytes(data, name)
    elif lower.endswith(".parquet"):
        table = _read_parquet_bytes(data, name)
    else:
        raise TelemetryError([Problem(file=name, message="unsupported file type: upload a .zip of a telemetry "
                                                         "folder, or one combined .csv/.parquet file")])
    if TABLE_COLUMN not in table.column_names:
        raise TelemetryError([Problem(
            file=name, column=TABLE_COLUMN,
            message="a single uploaded file must hold all three tables stacked, with a 'table' column "
                    "(pumps | samples | events); for separate tables upload a .zip of the folder")])
    return _split_combined(table, name)


def _split_combined(table: pa.Table, name: str) -> dict[str, _Raw]:
    kinds = pd.Series(table.column(TABLE_COLUMN).to_pandas(), dtype="object")
    bad = ~kinds.isin(list(TABLES))
    if bad.any():
        raise TelemetryError(_row_problems(name, TABLE_COLUMN, np.flatnonzero(bad.to_numpy()),
                                           f"must be one of {', '.join(TABLES)}"))
    union = {f.name for s in TABLES.values() for f in s} | {TABLE_COLUMN}
    problems = [Problem(file=name, column=c, message="unexpected column (not in the telemetry format)")
                for c in table.column_names if c not in union]
    optional = {c for cols in OPTIONAL_COLUMNS.values() for c in cols}
    problems += [Problem(file=name, column=c, message="missing column") for c in sorted(union)
                 if c not in table.column_names and c not in optional]
    if problems:
        raise TelemetryError(problems)
    out = {}
    for tname, schema in TABLES.items():
        idx = np.flatnonzero((kinds == tname).to_numpy())
        sub = table.take(pa.array(idx)).select([c for c in schema.names if c in table.column_names])
        out[tname] = _Raw(sub, _Files.single(name, len(idx)), idx)
    return out


def _read_zip(data: bytes, name: str) -> dict[str, _Raw]:
    zf = ZipReader(data, name)  # streamed under a decompressed-size and member-count cap
    members = zf.members
    tops = {m.split("/", 1)[0] for m in members if "/" in m}
    prefix = ""
    if not any(Path(m).name in ("pumps.parquet", "pumps.csv") and "/" not in m for m in members) and len(tops) == 1:
        prefix = next(iter(tops)) + "/"
    files = {m[len(prefix):]: m for m in members if m.startswith(prefix)}
    return _read_layout(lambda rel: zf.read(files[rel]), set(files), f"{name}:")


def _read_folder(path: Path) -> dict[str, _Raw]:
    rels = {str(p.relative_to(path)).replace("\\", "/") for p in path.rglob("*") if p.is_file()}
    return _read_layout(lambda rel: (path / rel).read_bytes(), rels, "", folder=path)


def _read_layout(read, rels: set[str], label: str, folder: Path | None = None) -> dict[str, _Raw]:
    if "pumps.parquet" in rels:
        pumps_t = _read_parquet_bytes(read("pumps.parquet"), label + "pumps.parquet")
        out = {"pumps": _Raw(pumps_t, _Files.single(label + "pumps.parquet", pumps_t.num_rows),
                             np.arange(pumps_t.num_rows))}
        for tname in ("samples", "events"):
            out[tname] = _read_partitions(read, rels, tname, label, folder)
        return out
    if "pumps.csv" in rels:
        out = {}
        problems = []
        for tname in TABLES:
            fname = f"{tname}.csv"
            if fname not in rels:
                problems.append(Problem(file=label + fname, message="file missing (a CSV telemetry folder holds "
                                                                    "pumps.csv, samples.csv and events.csv)"))
                continue
            t = _read_csv_bytes(read(fname), label + fname)
            out[tname] = _Raw(t, _Files.single(label + fname, t.num_rows), np.arange(t.num_rows))
        if problems:
            raise TelemetryError(problems)
        return out
    raise TelemetryError([Problem(file=label or "folder", message="not a telemetry folder: no pumps.parquet "
                                                                  "or pumps.csv found")])


_PART = re.compile(r"^(samples|events)/pump_id=([^/]+)/[^/]+\.parquet$")


def _read_partitions(read, rels, tname, label, folder) -> _Raw:
    parts = sorted((m.group(2), rel) for rel in rels if (m := _PART.match(rel)) and m.group(1) == tname)
    schema = TABLES[tname]
    if not parts:
        empty = schema.empty_table()
        return _Raw(empty, _Files([tname], []), np.array([], dtype=int))
    expected = pa.schema([f for f in schema if f.name != "pump_id"])
    if folder is not None and _partitions_match(folder, parts, expected, label):
        # schemas checked from the file footers: one multi-threaded scan over all partitions
        dataset = ds.dataset([str(folder / rel) for _, rel in parts], schema=expected, format="parquet")
        table = dataset.to_table(columns=expected.names + ["__fragment_index"])
        part_index = table.column("__fragment_index").to_numpy().astype(np.int32)
        table = table.drop_columns(["__fragment_index"])
        counts = np.bincount(part_index, minlength=len(parts))
        if len(part_index) > 1 and (np.diff(part_index) < 0).any():  # keep rows grouped by file
            order = np.argsort(part_index, kind="stable")
            table, part_index = table.take(pa.array(order)), part_index[order]
    else:  # uploads, or partitions whose columns differ: file by file, so type problems name file and row
        tables, counts = [], []
        for _, rel in parts:
            t = _read_parquet_bytes(read(rel), label + rel)
            t = t.drop_columns([c for c in t.column_names if c == "pump_id"])
            tables.append(t)
            counts.append(t.num_rows)
        # named here, by file: once joined, a column of one partition seems to come from the first
        unexpected = [Problem(file=label + rel, column=c, message="unexpected column (not in the telemetry format)")
                      for t, (_, rel) in zip(tables, parts) for c in t.column_names if c not in expected.names]
        if unexpected:
            raise TelemetryError(unexpected[:50])
        # a column whose type differs in any file is read as text everywhere, checked row by row later
        odd = {n for t in tables for n in t.column_names
               if n in expected.names and t.schema.field(n).type != expected.field(n).type}
        tables = [t if not odd else pa.table({n: (_as_text(t.column(n), label + rel) if n in odd else t.column(n))
                                              for n in t.column_names})
                  for t, (_, rel) in zip(tables, parts)]
        counts = np.array(counts)
        part_index = np.repeat(np.arange(len(parts), dtype=np.int32), counts)
        try:
            table = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise TelemetryError([Problem(file=label + tname,
                                          message=f"partitions have incompatible columns: {exc}")])
    ids = pa.DictionaryArray.from_arrays(pa.array(part_index), pa.array([p for p, _ in parts], pa.string()))
    files = _Files([label + rel for _, rel in parts], part_index)
    rows = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    table = table.add_column(0, "pump_id", ids)
    return _Raw(table, files, rows)


def _as_text(col: pa.ChunkedArray, file: str) -> pa.ChunkedArray:
    """A column whose type differs between partitions, as text (checked row by row later);
    a column that has no text form (lists, invalid UTF-8) is left as it is for the checks."""
    try:
        return col.cast(pa.string())
    except pa.ArrowException:
        return col


def _part_table(rel: str) -> str:
    return rel.split("/", 1)[0]


def _partitions_match(folder: Path, parts, expected: pa.Schema, label: str) -> bool:
    """True when every partition file holds exactly the expected columns and types
    (read from the footers only). Missing or unexpected columns are problems
    naming the file; other type differences are left to the per-file checks."""
    problems, same = [], True
    for _, rel in parts:
        ps = pq.read_schema(folder / rel)
        names = [n for n in ps.names if n != "pump_id"]
        problems += [Problem(file=label + rel, column=c, message="missing column")
                     for c in expected.names if c not in names and c not in OPTIONAL_COLUMNS[_part_table(rel)]]
        problems += [Problem(file=label + rel, column=c, message="unexpected column (not in the telemetry format)")
                     for c in names if c not in expected.names]
        for f in expected:
            if f.name in names:
                t = ps.field(f.name).type
                if t != f.type and not (pa.types.is_timestamp(t) and pa.types.is_timestamp(f.type) and t.tz is None):
                    same = False
    if problems:
        raise TelemetryError(problems[:50])
    return same


def _read_csv_bytes(data: bytes, file: str = "csv") -> pa.Table:
    """CSV with every column read as text; types are checked column by column later."""
    head = data.split(b"\n", 1)[0].decode("utf-8-sig").strip("\r")
    cols = [c.strip().strip('"') for c in head.split(",")]
    _unique_columns(cols, file)
    return pacsv.read_csv(io.BytesIO(data), convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in cols}, strings_can_be_null=True))


def _read_parquet_bytes(data: bytes, file: str) -> pa.Table:
    """A Parquet file after its footer passed the row and size caps (``telemetry_limits``)."""
    schema = pq.read_schema(io.BytesIO(data))
    _unique_columns(schema.names, file)
    return read_parquet(data, file)


def _unique_columns(names: list[str], file: str) -> None:
    seen, twice = set(), []
    for n in names:
        if n in seen and n not in twice:
            twice.append(n)
        seen.add(n)
    if twice:
        raise TelemetryError([Problem(file=file, column=n, message="column appears twice in the header")
                              for n in twice])


# ---------------------------------------------------------------------------
# Checks (columnar)


def _as_typed(value) -> str:
    """An offending value for a message: a timestamp as the ISO text a file holds, else its repr
    (of the Python value: -1.0, not numpy's np.float64(-1.0))."""
    if isinstance(value, np.generic):
        value = value.item()
    return value.isoformat() if isinstance(value, datetime) else repr(value)  # pd.Timestamp is a datetime


def _row_problems(files, column, idx: np.ndarray, message: str, rows: np.ndarray | None = None,
                  values: pd.Series | None = None) -> list[Problem]:
    idx = np.asarray(idx)
    if isinstance(files, str):
        files = _Files.single(files, int(idx.max()) + 1 if len(idx) else 0)
    out = []
    for k, i in enumerate(idx[:MAX_ROWS_PER_CHECK]):
        f = files[i]
        r = int(rows[i]) if rows is not None else int(i)
        val = "" if values is None else f" (got {_as_typed(values.iloc[i])})"
        out.append(Problem(file=str(f), column=column, row=r, message=message + val))
    if len(idx) > MAX_ROWS_PER_CHECK:
        f = files[idx[0]]
        out.append(Problem(file=str(f), column=column, row=None,
                           message=f"{message}: {len(idx) - MAX_ROWS_PER_CHECK} more row(s) like this"))
    return out


def _coerce(raw: _Raw, tname: str, problems: list[Problem]) -> pd.DataFrame | None:
    """Typed DataFrame for one table, or None when columns are missing/extra."""
    schema = TABLES[tname]
    t = raw.table
    file0 = raw.files[0] or tname
    local = []
    for c in t.column_names:
        if c not in schema.names:
            local.append(Problem(file=str(file0), column=c, message="unexpected column (not in the telemetry format)"))
    for c in schema.names:
        if c not in t.column_names and c not in OPTIONAL_COLUMNS[tname]:
            local.append(Problem(file=str(file0), column=c, message="missing column"))
    if local:
        problems.extend(local)
        return None
    cols = {}
    for f in schema:
        present = f.name in t.column_names  # optional columns may be left out
        col, unreadable = _readable(t.column(f.name) if present else pa.chunked_array([pa.nulls(t.num_rows, f.type)]),
                                    f, raw, problems)
        if col is None:  # the whole column is unusable (problem already listed)
            cols[f.name] = pd.Series(pa.nulls(t.num_rows, f.type).to_pandas(), dtype=f.type.to_pandas_dtype()) \
                if not pa.types.is_timestamp(f.type) else pd.Series(pd.NaT, index=range(t.num_rows),
                                                                     dtype="datetime64[s]")
            cols[f.name].attrs["bad"] = np.ones(t.num_rows, dtype=bool)
            continue
        if f.name == "pump_id" and tname != "pumps":
            # pump ids of samples/events are categorical (few pumps, millions of rows)
            cols[f.name] = col.cast(pa.string()).dictionary_encode().to_pandas() \
                if not pa.types.is_dictionary(col.type) else col.to_pandas()
            continue
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if col.type == f.type:
            cols[f.name] = col.to_pandas()
        elif pa.types.is_null(col.type):
            cols[f.name] = pa.nulls(len(col), f.type).to_pandas()
        elif f.type == pa.string():
            cols[f.name] = col.cast(pa.string()).to_pandas()
        else:
            cols[f.name] = _parse(col, f.type, raw, f.name, problems)
        if unreadable is not None:
            cols[f.name].attrs["bad"] = _bad_mask(cols[f.name]) | unreadable
        if not f.nullable:
            nulls = np.flatnonzero(pd.isna(cols[f.name]).to_numpy() & ~_bad_mask(cols[f.name]))
            if len(nulls):
                problems.extend(_row_problems(raw.files, f.name, nulls, "empty value in a required column",
                                              rows=raw.rows))
    df = pd.DataFrame(cols, copy=False)
    return df


_TYPE_WORDS = {"string": "text", "double": "a number", "timestamp[s]": "a timestamp"}


def _readable(col: pa.ChunkedArray, f: pa.Field, raw: _Raw,
              problems: list[Problem]) -> tuple[pa.ChunkedArray | None, np.ndarray | None]:
    """The column as a type the checks handle (text, numbers, timestamps), or None
    with a problem when it cannot be one (lists, structs...). Binary cells are
    decoded as UTF-8; undecodable cells become problems naming their row, and
    are returned empty with their mask (second value)."""
    file0 = str(raw.files[0] or f.name)
    want = _TYPE_WORDS.get(str(f.type), str(f.type))
    try:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        typ = col.type
        if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
            return _decode_utf8(col, f.name, raw, problems)
        if pa.types.is_nested(typ) or pa.types.is_union(typ):
            raise pa.ArrowNotImplementedError(f"nested type {typ}")
        if not (typ == f.type or pa.types.is_null(typ) or pa.types.is_integer(typ) or pa.types.is_floating(typ)
                or pa.types.is_timestamp(typ) or pa.types.is_date(typ)):
            col.slice(0, min(len(col), 1)).cast(pa.string())  # castable to text (decimals, booleans, ...)
    except pa.ArrowException:
        problems.append(Problem(file=file0, column=f.name, message=f"must be {want}, got {col.type}"))
        return None, None
    return col, None


def _decode_utf8(col: pa.ChunkedArray, name: str, raw: _Raw,
                 problems: list[Problem]) -> tuple[pa.ChunkedArray, np.ndarray | None]:
    try:
        return col.cast(pa.string()), None
    except pa.ArrowInvalid:
        pass
    values, bad = [], []
    for v in col.to_pylist():  # only for files whose text is not UTF-8: find the rows
        try:
            values.append(None if v is None else v.decode("utf-8"))
            bad.append(False)
        except UnicodeDecodeError:
            values.append(None)
            bad.append(True)
    mask = np.array(bad, dtype=bool)
    problems.extend(_row_problems(raw.files, name, np.flatnonzero(mask), "not UTF-8 text", rows=raw.rows))
    return pa.chunked_array([pa.array(values, pa.string())]), mask


def _bad_mask(s: pd.Series) -> np.ndarray:
    return np.asarray(s.attrs.get("bad", np.zeros(len(s), dtype=bool)))


def _parse(col: pa.ChunkedArray, typ: pa.DataType, raw: _Raw, name: str, problems: list[Problem]) -> pd.Series:
    text = col.cast(pa.string()).to_pandas().astype("object") if not pa.types.is_timestamp(col.type) \
        and not pa.types.is_integer(col.type) and not pa.types.is_floating(col.type) else None
    if pa.types.is_timestamp(typ):
        if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            if getattr(col.type, "tz", None):
                problems.append(Problem(file=str(raw.files[0]), column=name,
                                        message="timestamps must be pump-clock local time without offset"))
            return col.cast(pa.timestamp("s", tz=getattr(col.type, "tz", None))).to_pandas().dt.tz_localize(None) \
                if getattr(col.type, "tz", None) else col.cast(typ).to_pandas()
        if text is None:
            problems.append(Problem(file=str(raw.files[0]), column=name,
                                    message=f"must be a timestamp, got {col.type}"))
            return pd.Series(pd.NaT, index=range(len(col)), dtype="datetime64[s]")
        has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False).to_numpy()
        parsed = pd.to_datetime(text.where(~has_offset, None), format="ISO8601", errors="coerce")
        if getattr(parsed.dtype, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        bad = (parsed.isna() & text.notna()).to_numpy() | has_offset
        if bad.any():
            problems.extend(_row_problems(raw.files, name, np.flatnonzero(bad),
                                          "not an ISO 8601 timestamp without offset (e.g. 2026-11-21T09:00:00)",
                                          rows=raw.rows, values=text))
        out = parsed.astype("datetime64[s]")
        out.attrs["bad"] = bad
        return out
    if pa.types.is_floating(typ):
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
            return col.cast(pa.float64()).to_pandas()
        if text is None:
            problems.append(Problem(file=str(raw.files[0]), column=name, message=f"must be a number, got {col.type}"))
            return pd.Series(np.nan, index=range(len(col)))
        stripped = text.where(text.isna(), text.astype("object").str.strip() if len(text) else text)
        stripped = stripped.replace("", None)
        parsed = pd.to_numeric(stripped, errors="coerce").astype(float)
        bad = (parsed.isna() & stripped.notna()).to_numpy()
        if bad.any():
            problems.extend(_row_problems(raw.files, name, np.flatnonzero(bad), "not a number",
                                          rows=raw.rows, values=text))
        parsed.attrs["bad"] = bad
        return parsed
    raise AssertionError(f"unhandled type {typ}")


def _check(raws: dict[str, _Raw]) -> Telemetry:
    problems: list[Problem] = []
    frames = {t: _coerce(raws[t], t, problems) for t in TABLES}
    if any(f is None for f in frames.values()):
        raise TelemetryError(problems)  # structure first: columns missing or unexpected
    pumps, samples, events = frames["pumps"], frames["samples"], frames["events"]
    rp, rs, re_ = raws["pumps"], raws["samples"], raws["events"]
    if pumps.empty:
        problems.append(Problem(file=str(rp.files[0] or "pumps"),
                                message="no pumps: the pumps table has no rows"))
        raise TelemetryError(problems)

    # pumps
    ids = pumps["pump_id"].astype("object")
    bad = ~ids.astype(str).str.match(PUMP_ID_PATTERN).to_numpy()
    problems += _row_problems(rp.files, "pump_id", np.flatnonzero(bad),
                              "pump ids are short and URL-safe (letters, digits, . _ -)", rp.rows, ids)
    dup = ids.duplicated(keep="first").to_numpy()
    problems += _row_problems(rp.files, "pump_id", np.flatnonzero(dup), "duplicate pump id", rp.rows, ids)
    known = list(library.pump_profiles())
    bad = (pumps["profile"].notna() & ~pumps["profile"].isin(known)).to_numpy()  # empty: reported as empty
    problems += _row_problems(rp.files, "profile", np.flatnonzero(bad),
                              f"unknown pump profile (known: {', '.join(known)})", rp.rows, pumps["profile"])
    ind = pumps["indication"]
    bad = (ind.notna() & ~ind.isin(library.INDICATIONS)).to_numpy()
    problems += _row_problems(rp.files, "indication", np.flatnonzero(bad),
                              f"unknown indication (allowed: {', '.join(library.INDICATIONS)})", rp.rows, ind)
    problems += _trial_problems(pumps, rp)
    problems += _range(pumps, rp, "battery_pct_at_implant", 0, 100, "per cent")
    problems += _range(pumps, rp, "catheter_volume_ml", 0, MAX_CATHETER_ML, "mL")
    problems += _range(pumps, rp, "low_reservoir_alarm_ml", 0, None, "mL")
    for c in ("implant_date", "next_appointment"):
        problems += _time_range(pumps, rp, c)
    capacity = pumps["profile"].map({k: p.reservoir_ml for k, p in library.pump_profiles().items()}).astype(float)
    over = (pumps["low_reservoir_alarm_ml"] > capacity).to_numpy()
    problems += _row_problems(rp.files, "low_reservoir_alarm_ml", np.flatnonzero(over),
                              "above the reservoir capacity (mL expected)", rp.rows, pumps["low_reservoir_alarm_ml"])

    # samples and events: pump ids known, sorted timestamps
    known_ids = set(ids)
    for df, raw, tname in ((samples, rs, "samples"), (events, re_, "events")):
        bad = ~df["pump_id"].isin(known_ids).to_numpy()
        problems += _row_problems(raw.files, "pump_id", np.flatnonzero(bad), "pump id not in the pumps table",
                                  raw.rows, df["pump_id"])
        problems += _time_range(df, raw, "timestamp")
        problems += _order(df, raw, strict=tname == "samples")
    problems += _range(samples, rs, "programmed_rate_ml_per_day", 0, MAX_RATE_ML_PER_DAY, "mL/day")
    for c in ("delivered_ml", "reservoir_ml", "reservoir_estimate_ml"):
        problems += _range(samples, rs, c, 0, None, "mL")
    problems += _range(samples, rs, "battery_pct", 0, 100, "per cent")
    cap = samples["pump_id"].map(dict(zip(ids, capacity))).astype(float)
    for c in ("reservoir_ml", "reservoir_estimate_ml", "delivered_ml"):  # an hour cannot deliver more than it holds
        over = (samples[c] > cap + 1e-6).to_numpy()
        problems += _row_problems(rs.files, c, np.flatnonzero(over),
                                  "above the pump's reservoir capacity (mL expected)", rs.rows, samples[c])
    problems += _implant_before_samples(pumps, samples, rp)
    # no estimate recorded (older files, or a real pump's export): the pump's estimate is the volume
    samples["reservoir_estimate_ml"] = samples["reservoir_estimate_ml"].fillna(samples["reservoir_ml"])
    bad = (events["kind"].notna() & ~events["kind"].isin(EVENT_KINDS)).to_numpy()  # empty: reported as empty
    problems += _row_problems(re_.files, "kind", np.flatnonzero(bad),
                              f"unknown event kind (allowed: {', '.join(EVENT_KINDS)})", re_.rows, events["kind"])
    bad = (events["severity"].notna() & ~events["severity"].isin(SEVERITIES)).to_numpy()
    problems += _row_problems(re_.files, "severity", np.flatnonzero(bad),
                              f"unknown severity (allowed: {', '.join(SEVERITIES)})", re_.rows, events["severity"])
    ecap = events["pump_id"].map(dict(zip(ids, capacity))).astype(float)
    for c in ("expected_residual_ml", "withdrawn_ml", "added_ml", "volume_ml"):
        problems += _range(events, re_, c, 0, None, "mL")
        over = (events[c] > ecap + EVENT_VOLUME_MARGIN_ML).to_numpy(dtype=bool, na_value=False)
        problems += _row_problems(re_.files, c, np.flatnonzero(over), "more than the pump's reservoir holds "
                                  f"(+ {EVENT_VOLUME_MARGIN_ML:g} mL): impossible, or not mL", re_.rows, events[c])
    refill = (events["kind"] == "refill").to_numpy()
    for c in ("withdrawn_ml", "added_ml"):
        miss = refill & events[c].isna().to_numpy()
        problems += _row_problems(re_.files, c, np.flatnonzero(miss), "a refill event needs this volume", re_.rows)
    profiles = dict(zip(ids, pumps["profile"]))
    problems += _check_programs(events, re_, profiles)
    # every pump must be showable: a last sample ("now") and a program in effect
    for what, has in (("no samples", set(samples["pump_id"].astype(str))),
                      ("no program_change event (no program known)",
                       set(events.loc[events["kind"] == "program_change", "pump_id"].astype(str)))):
        lacking = np.flatnonzero(~ids.astype(str).isin(has).to_numpy())
        problems += _row_problems(rp.files, "pump_id", lacking, f"pump has {what}", rp.rows, ids)
    if problems:
        raise TelemetryError(problems)
    return Telemetry(pumps=pumps.reset_index(drop=True), samples=samples, events=events)


def _trial_problems(pumps: pd.DataFrame, raw: _Raw) -> list[Problem]:
    """The optional ``trial`` cell of each pump must be a valid Trial JSON (pumpmodel.trial)."""
    out = []
    for i in np.flatnonzero(pumps["trial"].notna().to_numpy()):
        try:
            Trial.model_validate(gate.load_object(pumps["trial"].iloc[i], what="trial"))  # the one input gate
        except (gate.GateError, ValidationError) as exc:
            first = exc.errors[0] if isinstance(exc, gate.GateError) else exc.errors()[0]
            where = ", ".join(str(x) for x in first["loc"]) or "trial"
            out += _row_problems(raw.files, "trial", np.array([i]),
                                 f"not a valid trial record: {where}: {first['msg']}", raw.rows)
    return out


def _range(df, raw, col, lo, hi, unit) -> list[Problem]:
    v = df[col]
    bad = np.zeros(len(v), dtype=bool)
    if lo is not None:
        bad |= (v < lo).to_numpy(dtype=bool, na_value=False)
    if hi is not None:
        bad |= (v > hi).to_numpy(dtype=bool, na_value=False)
    word = "negative" if hi is None else f"outside {lo}-{hi}"
    return _row_problems(raw.files, col, np.flatnonzero(bad), f"{word} value ({unit})", raw.rows, v)


def _time_range(df, raw, col) -> list[Problem]:
    """Timestamps outside what a pump clock can show (e.g. 9999-12-31) are refused: the
    pages add hours and days to them."""
    t = df[col]
    bad = ((t < FIRST_TIME) | (t > LAST_TIME)).to_numpy(dtype=bool, na_value=False)
    return _row_problems(raw.files, col, np.flatnonzero(bad),
                         f"must be between {FIRST_TIME:%Y-%m-%d} and {LAST_TIME:%Y-%m-%d} (pump clock)",
                         raw.rows, t)


def _implant_before_samples(pumps, samples, raw) -> list[Problem]:
    """A pump cannot record samples before it was implanted... nor be implanted after its last sample."""
    if samples.empty:
        return []
    last = samples.groupby("pump_id", observed=True)["timestamp"].max()
    lasts = pumps["pump_id"].astype(str).map(last.rename(index=str)).to_numpy()
    implant = pumps["implant_date"].to_numpy()
    with np.errstate(invalid="ignore"):
        bad = pd.notna(lasts) & pd.notna(implant) & (implant > lasts.astype("datetime64[s]"))
    return _row_problems(raw.files, "implant_date", np.flatnonzero(bad),
                         "after the pump's last sample (implant first, then telemetry)", raw.rows,
                         pumps["implant_date"])


def _order(df, raw, strict: bool) -> list[Problem]:
    if len(df) < 2:
        return []
    codes, labels = _codes(df["pump_id"])
    if len(labels) == 0:  # no pump id at all (each empty cell is already a problem)
        return []
    t = df["timestamp"].to_numpy()
    same = codes[1:] == codes[:-1]
    # pumps stored in more than one block
    blocks = pd.Series(labels[codes[np.concatenate(([True], ~same))]])
    out = []
    split = blocks[blocks.duplicated()]
    for pid in split.unique()[:MAX_ROWS_PER_CHECK]:
        out.append(Problem(file=str(raw.files[0]), column="pump_id",
                           message=f"rows of pump {pid!r} are not together (group rows by pump)"))
    with np.errstate(invalid="ignore"):
        back = same & (t[1:] < t[:-1])
        dup = same & (t[1:] == t[:-1])
    out += _row_problems(raw.files, "timestamp", np.flatnonzero(back) + 1,
                         "timestamps not sorted (earlier than the row before, same pump)", raw.rows,
                         df["timestamp"])
    if strict:
        out += _row_problems(raw.files, "timestamp", np.flatnonzero(dup) + 1,
                             "duplicate timestamp (same pump)", raw.rows, df["timestamp"])
    return out


def _check_programs(events, raw, profiles: dict[str, str]) -> list[Problem]:
    """program_change details must hold valid Programs that the pump can run
    (only these rows are parsed): modes, flex steps and PTM of its profile."""
    idx = np.flatnonzero((events["kind"] == "program_change").to_numpy())
    out = []
    details = events["details"].to_numpy()
    pump_ids = events["pump_id"].astype(str).to_numpy()
    known = library.pump_profiles()
    for i in idx:  # a handful per pump: programs have to be validated by pydantic one by one
        try:
            doc = gate.load_object(details[i], what="details")  # the one gate every case passes
            programs = {"new": Program.model_validate(doc["new"])}
            if doc.get("old") is not None:
                programs["old"] = Program.model_validate(doc["old"])
        except gate.GateError as exc:
            msg = [str(exc)] + [f"{'.'.join(map(str, e['loc'])) or 'details'}: {e['msg']}" for e in exc.errors[:2]]
            out.append(Problem(file=str(raw.files[i]), column="details", row=int(raw.rows[i]),
                               message="program_change details must be JSON {\"old\": Program|null, \"new\": "
                                       f"Program}}: {' '.join(msg)}"))
        except (TypeError, KeyError, AttributeError, ValidationError) as exc:
            msg = str(exc).splitlines()
            out.append(Problem(file=str(raw.files[i]), column="details", row=int(raw.rows[i]),
                               message="program_change details must be JSON {\"old\": Program|null, \"new\": "
                                       f"Program}}: {' '.join(msg[:3])}"))
        else:
            spec = known.get(profiles.get(pump_ids[i]))
            misfits = [f"{k}: {m}" for k, prog in programs.items() if spec is not None
                       for m in program_misfits(prog, spec)]
            if misfits:
                out.append(Problem(file=str(raw.files[i]), column="details", row=int(raw.rows[i]),
                                   message=f"program not possible on a {spec.name} pump: " + "; ".join(misfits)))
        if len(out) >= MAX_ROWS_PER_CHECK:
            break
    return out


def program_misfits(prog: Program, spec: library.PumpProfile) -> list[str]:
    """What in ``prog`` the pump profile cannot run (empty when it fits)."""
    out = []
    if prog.mode not in spec.modes:
        out.append(f"mode {prog.mode} not offered (modes: {', '.join(spec.modes)})")
    if prog.week is not None and not spec.weekday_flex:
        out.append("no weekday flex programming (one step list for every day)")
    if prog.max_steps_per_day() > spec.max_flex_steps:
        out.append(f"{prog.max_steps_per_day()} flex steps in a day, more than the {spec.max_flex_steps} "
                   f"that profile {spec.name} allows")
    if prog.ptm is not None and not spec.ptm:
        out.append("no patient bolus (PTM)")
    return out


# ---------------------------------------------------------------------------
# Merge and write


def merge(base: Telemetry, extra: Telemetry) -> Telemetry:
    """``extra`` (an upload) on top of ``base``; a pump id in both is a problem."""
    clash = sorted(set(base.pump_ids()) & set(extra.pump_ids()))
    if clash:
        raise TelemetryError([Problem(file="upload", column="pump_id", row=None,
                                      message=f"pump id {p!r} already exists in the loaded data; rename it")
                              for p in clash])
    return Telemetry(
        pumps=pd.concat([base.pumps, extra.pumps], ignore_index=True),
        samples=_categorical_ids(pd.concat([base.samples, extra.samples], ignore_index=True)),
        events=_categorical_ids(pd.concat([base.events, extra.events], ignore_index=True)),
    )


def _categorical_ids(df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df["pump_id"].dtype, pd.CategoricalDtype):
        df["pump_id"] = df["pump_id"].astype(str).astype("category")
    return df
