"""Fuzz suite (hypothesis): hostile cases, share links, telemetry files and cohort folders.

Every input is either accepted and then used the way the pages use it without
an error, or rejected with the documented error (``ShareLinkError`` /
``GateError`` with ``loc`` + ``msg``, ``TelemetryError`` naming file/column/row,
``CohortError``); no example may take longer than 2 s (hypothesis ``deadline``)
and the process's resident memory may not grow by more than ``MAX_GROWTH_MB`` over a target
(growth that stays: a leak; the peak is recorded in the figures).

Profiles (``FUZZ_PROFILE``): ``quick`` (default; ``make test``: a few thousand
examples in total, under a minute) and ``fuzz`` (``make fuzz``: 20,000 examples
per target). Each run writes its figures (examples, rejections, slowest input
per target) to ``test-artifacts/fuzz-<profile>.json``.
"""
from __future__ import annotations

import base64
import io
import json
import os
import resource
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis import given

from pumpmodel import Case, evaluate, gate, sandbox, sharelink
from pumpmodel.telemetry import STORY_DIR, TelemetryError, UNFORESEEN, load_telemetry, to_combined

ROOT = Path(__file__).resolve().parents[1]
PROFILE = os.environ.get("FUZZ_PROFILE", "quick")
EXAMPLES = {"quick": {"case": 1000, "link": 600, "telemetry": 300, "cohort": 40},
            "fuzz": {"case": 20_000, "link": 20_000, "telemetry": 20_000, "cohort": 20_000}}[PROFILE]
EXAMPLES = {t: int(os.environ.get(f"FUZZ_{t.upper()}_EXAMPLES", n)) for t, n in EXAMPLES.items()}  # one target longer
MAX_GROWTH_MB = 300
# Hypothesis' deadline is wall-clock time, which a loaded machine stretches: it guards against hangs
# (10 s); the 2 s budget is checked on each example's CPU time by the recorder.
MAX_CPU_S = 2.0
settings.register_profile("quick", deadline=10_000, derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", parent=settings.get_profile("quick"), derandomize=False)


def fuzz(target: str):
    """Settings of one target under the selected profile."""
    return settings(settings.get_profile(PROFILE), max_examples=EXAMPLES[target])


# -- figures per target ----------------------------------------------------------------------

STATS: dict[str, dict] = {}
FIGURES = ROOT / "test-artifacts" / f"fuzz-{PROFILE}.json"
WRITE_EVERY_S = 30.0


class Recorder:
    def __init__(self, target: str):
        self.s = STATS.get(target)
        if self.s is None:
            self.s = STATS[target] = {
                "examples": 0, "accepted": 0, "rejected": 0, "failing_calls": 0, "planned_examples": EXAMPLES[target],
                "finished": False, "started_utc": _utc(), "load_average_1min": [round(os.getloadavg()[0], 2)],
                "cpu_s_total": 0.0, "slowest_cpu_s": 0.0, "slowest_input": "", "rss_start_mb": round(_rss_mb(), 1)}
            self.s["_written"] = time.monotonic()

    def __call__(self, fn, shown):
        s = self.s
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            accepted = fn()
        except BaseException:
            s["failing_calls"] += 1  # hypothesis then shrinks the input: each call counts
            s.setdefault("first_failing_input", shown()[:300])
            write_figures()
            raise
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        s["examples"] += 1
        s["accepted" if accepted else "rejected"] += 1
        s["cpu_s_total"] = round(s["cpu_s_total"] + cpu, 3)
        if cpu > s["slowest_cpu_s"]:
            s["slowest_cpu_s"], s["slowest_wall_s"], s["slowest_input"] = round(cpu, 4), round(dt, 4), shown()[:300]
        s["rss_end_mb"] = round(_rss_mb(), 1)
        s["rss_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if time.monotonic() - s["_written"] > WRITE_EVERY_S:  # an interrupted run leaves the count it reached
            s["load_average_1min"].append(round(os.getloadavg()[0], 2))
            write_figures()
        if cpu >= MAX_CPU_S:
            s["failing_calls"] += 1
            s.setdefault("first_failing_input", shown()[:300])
        assert cpu < MAX_CPU_S, f"{cpu:.2f} s of CPU for one input: {shown()[:300]}"


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _rss_mb() -> float:
    """Resident memory now (MB): what stays allocated after each input, i.e. growth that accumulates."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, where /proc is missing


def write_figures() -> None:
    """This run's targets over the file's earlier entries (a target can be run on its own with -k; each
    entry carries its own start time), rewritten while a target runs too."""
    FIGURES.parent.mkdir(exist_ok=True)
    try:
        old = json.loads(FIGURES.read_text())
    except (OSError, ValueError):
        old = {}
    for s in STATS.values():
        s["_written"] = time.monotonic()
    now = {t: {k: v for k, v in s.items() if not k.startswith("_")} for t, s in STATS.items()}
    FIGURES.write_text(json.dumps({**old, **now}, indent=2))


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield
    for s in STATS.values():
        s["finished"] = s["examples"] >= s["planned_examples"] and not s["failing_calls"]
        s["finished_utc"] = _utc()
    write_figures()


def check_growth(target: str) -> None:
    s = STATS[target]
    assert s["rss_end_mb"] - s["rss_start_mb"] < MAX_GROWTH_MB, s


# -- hostile values ---------------------------------------------------------------------------

RAW_LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e308", "1E+309", "9" * 5000, "-" + "9" * 30,
                "1e-400", "-0", "0.0000000000000000000000001", "[" * 600 + "]" * 600, "{" * 40 + "}" * 40,
                '"' + "x" * 5000 + '"', "123456789012345678901", "true", "null", "[]", "{}"]
TEXTS = ["", " ", "00:00", "23:59", "24:00", "7:00", "99:99", "2026-11-21T09:00:00", "9999-12-31T23:59:59",
         "0001-01-01T00:00:00", "2026-11-21T09:00:00+02:00", "baclofen", "morphine", "ziconotide", "clonidine",
         "mg/mL", "mcg/mL", "µg/mL", "flex", "stopped", "periodic_bolus", "simple_continuous", "programmable-20",
         "programmable-40", "valve-gated-20", "constant-flow-30", "spasticity_spinal", "pain_cancer",
         "![x](https://evil-site.com/x.png)", "[login](https://evil-site.com)", "<script>alert(1)</script>",
         "\x00", "\ud800", "é" * 50]
NUMBERS = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, -1, 0.5, 1, 1e-9, 1e6, 1e12, 1e13, 1e300, 2**53, 2**63, 1439, 1440, 1441]))
VALUES = st.one_of(st.none(), st.booleans(), NUMBERS, st.sampled_from(TEXTS), st.text(max_size=20),
                   st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.sampled_from(["a", "drug", "start"]),
                                                                            st.integers(0, 3), max_size=2))
KEYS = st.sampled_from(["drug", "concentration", "unit", "mode", "rate_ml_per_day", "steps", "week", "boluses",
                        "ptm", "start", "first_at", "every_hours", "volume_ml", "duration_min", "bolus_volume_ml",
                        "lockout_min", "max_per_day", "profile", "now", "reservoir_ml", "refill", "withdrawn_ml",
                        "added_ml", "first_fill", "indication", "mon", "sun", "x", "__proto__", ""])


def _paths(doc, here=()):
    yield here
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*here, i))


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


CASE_FILES = ["spec_example.json", *sandbox.DEMO_CASES]


@st.composite
def case_texts(draw) -> str:
    """A real case (the spec example or a demo case) with a few hostile edits, as JSON text."""
    doc = sandbox.demo_case(draw(st.sampled_from(CASE_FILES)))
    raws = []
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        parent_path, last = path[:-1], (path[-1] if path else None)
        op = draw(st.sampled_from(["set", "set", "set", "raw", "delete", "add", "grow"]))
        target = _get(doc, path)
        if op == "add" and isinstance(target, dict):
            target[draw(KEYS)] = draw(VALUES)
        elif op == "grow" and isinstance(target, list) and target:
            target.extend([target[0]] * draw(st.sampled_from([1, 2, 50, 1001])))
        elif not path:
            continue
        elif op == "delete":
            del _get(doc, parent_path)[last]
        elif op == "raw":
            _get(doc, parent_path)[last] = f"__RAW{len(raws)}__"
            raws.append(draw(st.sampled_from(RAW_LITERALS)))
        else:
            _get(doc, parent_path)[last] = draw(VALUES)
    text = json.dumps(doc, allow_nan=True, ensure_ascii=draw(st.booleans()))
    for i, raw in enumerate(raws):
        text = text.replace(f'"__RAW{i}__"', raw)
    return text


def _accepted_or_named(parse) -> bool:
    """True when the case was accepted (and evaluated), False when rejected with named problems."""
    try:
        case = parse()
    except gate.GateError as exc:  # ShareLinkError is one
        assert exc.errors and all(isinstance(e["loc"], list) and isinstance(e["msg"], str) and e["msg"]
                                  for e in exc.errors), exc.errors
        [sharelink.format_loc(e["loc"]) for e in exc.errors]
        return False
    ev = evaluate(case)
    json.loads(ev.model_dump_json())  # what the CLI prints: finite JSON
    sandbox.current_evaluation(case)
    return True


# -- targets ----------------------------------------------------------------------------------

@fuzz("case")
@given(text=st.one_of(case_texts(), case_texts(), st.text(max_size=200),
                      st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_fuzz_case_json_through_the_gate_and_evaluate(text):
    Recorder("case")(lambda: _accepted_or_named(lambda: sharelink.to_case(sharelink.parse_json(text))),
                     lambda: text)


@fuzz("link")
@given(token=st.one_of(
    case_texts().map(lambda t: base64.urlsafe_b64encode(t.encode("utf-8", "surrogatepass")).decode()),
    case_texts().map(lambda t: base64.b64encode(t.encode("utf-8", "surrogatepass")).decode().rstrip("=")),
    st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.text(max_size=300),
    st.sampled_from(["", "=", "%%%", "a" * 70_000, "e30=", "W10=", "bnVsbA=="])))
def test_fuzz_share_link_tokens(token):
    Recorder("link")(lambda: _accepted_or_named(lambda: sharelink.decode(token)), lambda: token)


@pytest.fixture(scope="module")
def base_telemetry():
    from ui.clinician_upload import template_telemetry

    tel = template_telemetry(load_telemetry(STORY_DIR), "story-a", days=1)
    return tel


TELEMETRY_TEXTS = ["inf", "-inf", "nan", "1e300", "-1", "-0", "1e-300", "", " ", "x", "9999-12-31T23:30:00",
                   "1900-01-01T00:00:00", "1899-12-31T23:00:00", "2026-13-01T00:00:00", "2026-11-21T09:00:00Z",
                   "2200-01-01T00:00:00", "2030-01-01T00:00:00", "programmable-20", "constant-flow-30", "story",
                   "program_change", "refill", "critical", "info", "TEMPLATE-1", "p/../x", "a" * 70,
                   '{"new": ' + "[" * 3000 + "]" * 3000 + "}", '{"old": null, "new": {}}', "{", "null",
                   '{"old": null, "new": {"drugs": [{"drug": "baclofen", "concentration": 1e400, "unit": "mcg/mL"}],'
                   ' "mode": "stopped"}}', "![x](https://evil-site.com/x.png)", "\x00", "é"]


@st.composite
def telemetry_files(draw, base) -> tuple[bytes, str]:
    df = to_combined(base).astype(object)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop_col", "dup_col", "add_col", "drop_rows",
                                   "dup_rows", "reverse"]))
        cols = list(df.columns)
        if op == "cell" and len(df):
            row = draw(st.integers(0, len(df) - 1))
            df.iat[row, cols.index(draw(st.sampled_from(cols)))] = draw(
                st.one_of(st.sampled_from(TELEMETRY_TEXTS), NUMBERS.map(str), st.text(max_size=12)))
        elif op == "drop_col":
            df = df.drop(columns=[draw(st.sampled_from(cols))])
        elif op == "dup_col" and cols:
            c = draw(st.sampled_from(cols))
            df = pd.concat([df, df[[c]]], axis=1)
        elif op == "add_col":
            df[draw(st.sampled_from(["extra", "table ", "", "pump_id.1"]))] = "1"
        elif op == "drop_rows" and len(df):
            df = df.drop(index=df.index[draw(st.integers(0, len(df) - 1))])
        elif op == "dup_rows" and len(df):
            df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]])
        elif op == "reverse":
            df = df.iloc[::-1]
    df = df.reset_index(drop=True)
    fmt = draw(st.sampled_from(["csv", "parquet", "zip-csv", "zip-parquet", "bytes"]))
    if fmt == "bytes":
        return draw(st.binary(max_size=400)), draw(st.sampled_from(["x.zip", "x.csv", "x.parquet", "x.txt"]))
    csv = df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()
    if fmt == "csv":
        return csv, "t.csv"
    if fmt == "parquet":
        return _parquet(df), "t.parquet"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if list(df.columns).count("table") != 1:
            zf.writestr("junk.txt", "x")
        else:
            for name in ("pumps", "samples", "events"):
                part = df[df["table"] == name].drop(columns=["table"])
                if fmt == "zip-csv":
                    zf.writestr(f"{name}.csv", part.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S"))
                else:
                    zf.writestr("pumps.parquet" if name == "pumps" else f"{name}/pump_id=TEMPLATE-1/part-0.parquet",
                                _parquet(part))
    return buf.getvalue(), "t.zip"


def _parquet(df: pd.DataFrame) -> bytes:
    """Every column as text (the loader checks types itself); duplicate names kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array([None if pd.isna(v) else str(v) for v in df.iloc[:, i]], pa.string())
              for i in range(df.shape[1])]
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=[str(c) for c in df.columns]), buf)
    return buf.getvalue()


def _telemetry_accepted_or_named(data: bytes, name: str) -> bool:
    try:
        tel = load_telemetry(data, name=name)
    except TelemetryError as exc:
        assert exc.problems and all(p.file and p.message for p in exc.problems)
        assert not any(p.message.startswith(UNFORESEEN) for p in exc.problems), str(exc)
        return False
    for pid in tel.pump_ids():  # what the clinician pages do with every pump
        pt = tel.pump(pid)
        case = pt.case()
        evaluate(case)
        pt.end_of_service_at()
        pt.refills()
        pt.reservoir_now_ml()
    return True


@fuzz("telemetry")
@given(data=st.data())
def test_fuzz_telemetry_files_through_the_loader(base_telemetry, data):
    blob, name = data.draw(telemetry_files(base_telemetry))
    Recorder("telemetry")(lambda: _telemetry_accepted_or_named(blob, name), lambda: f"{name}: {blob[:200]!r}")


@pytest.fixture(scope="module")
def cohort_template(tmp_path_factory):
    from cohort_fixture import write_cohort

    return write_cohort(tmp_path_factory.mktemp("fuzz-cohort") / "c", pumps=2, days=8, seed=11)


@st.composite
def cohort_edits(draw, files: list[str]):
    edits = []
    for _ in range(draw(st.integers(0, 3))):
        f = draw(st.sampled_from(files))
        op = draw(st.sampled_from(["truncate", "garbage", "flip", "empty", "delete", "schema", "types"]))
        edits.append((f, op, draw(st.integers(0, 10_000)), draw(st.binary(min_size=1, max_size=64))))
    return edits


def _apply(folder: Path, edits) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for rel, op, n, junk in edits:
        p = folder / rel
        if not p.exists():
            continue
        raw = p.read_bytes()
        if not raw and op in ("truncate", "garbage", "flip"):
            continue
        if op == "truncate":
            p.write_bytes(raw[: n % max(len(raw), 1)])
        elif op == "garbage":
            p.write_bytes(raw[: n % max(len(raw), 1)] + junk + raw[n % max(len(raw), 1) + len(junk):])
        elif op == "flip":
            i = n % len(raw)
            p.write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:])
        elif op == "empty":
            p.write_bytes(b"")
        elif op == "delete":
            p.unlink()
        else:
            try:  # the harness's own rewrite; a file an earlier edit corrupted is left as it is
                t = pq.read_table(p)  # (it may read, then fail to cast or write: invalid UTF-8)
                if op == "schema" and t.num_columns > 1:
                    t = t.drop_columns([t.column_names[n % t.num_columns]])
                elif op == "types":
                    t = pa.table({c: t.column(c).cast(pa.string()) for c in t.column_names})
                buf = io.BytesIO()
                pq.write_table(t, buf)
            except Exception:  # noqa: BLE001
                continue
            p.write_bytes(buf.getvalue())


# Outcome per distinct edited folder (its bytes) and materialisation: hypothesis draws many edit lists
# that leave the same bytes (a deleted file's offset, an emptied file's junk, a cast twice); the queries
# are deterministic, so a repeat reuses the outcome instead of paying DuckDB again (~0.2 s of CPU).
# The figures count both: examples, and the distinct folder states that went through DuckDB.
_COHORT_OUTCOMES: dict[tuple[str, tuple], bool] = {}


def _folder_digest(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode() + b"\0")
        if p.is_file():
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _cohort_accepted_or_named(template: Path, edits, materialize) -> bool:
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-cohort-"))
    try:
        folder = tmp / "c"
        shutil.copytree(template, folder)
        _apply(folder, edits)
        key = (_folder_digest(folder), tuple(materialize))
        if key not in _COHORT_OUTCOMES:
            _COHORT_OUTCOMES[key] = _cohort_queries(folder, materialize)
            STATS["cohort"]["distinct_folder_states_queried"] = len(_COHORT_OUTCOMES)
        return _COHORT_OUTCOMES[key]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cohort_queries(folder: Path, materialize) -> bool:
    """The cohort page's path: open the folder, four views and the filter options."""
    from pumpmodel import cohort_queries as cq

    try:
        c = cq.Cohort([folder], materialize=materialize, threads=1, memory_limit="256MB")
    except cq.CohortError as exc:
        assert str(exc)
        return False
    try:
        for view in ("summary", "pump_table", "refill_intervals", "flagged_refills"):
            c.run(view)
        c.filter_options()
    except cq.CohortError as exc:
        assert str(exc)
        return False
    finally:
        c.close()
    return True


@fuzz("cohort")
@given(data=st.data())
def test_fuzz_cohort_folders_through_the_queries(cohort_template, data):
    files = sorted(str(p.relative_to(cohort_template)) for p in cohort_template.rglob("*.parquet"))
    edits = data.draw(cohort_edits(files))
    materialize = data.draw(st.sampled_from([(), ("events",), None]))
    from pumpmodel import cohort_queries as cq

    mat = cq.MATERIALIZE if materialize is None else materialize
    Recorder("cohort")(lambda: _cohort_accepted_or_named(cohort_template, edits, mat),
                       lambda: f"materialize={mat} edits={[(f, op, n) for f, op, n, _ in edits]}")


def test_fuzz_memory_stayed_bounded():
    """Runs after the targets (file order): the process grew by less than MAX_GROWTH_MB in each."""
    assert STATS, "no fuzz target ran"
    for target in STATS:
        check_growth(target)
