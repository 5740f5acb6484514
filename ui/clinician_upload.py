"""Upload page helpers: the downloadable template (a small valid telemetry
built from a story patient) and the problem table of a rejected upload."""
from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from pumpmodel.telemetry import Telemetry, TelemetryError, to_combined
from ui import data
from ui.safe_text import md

TEMPLATE_ID = "TEMPLATE-1"
_LAST = "upload_last"  # {"digest", "name", "ok", "pump_ids" | "problems"}


def template_telemetry(tel: Telemetry, pump_id: str, days: int = 14) -> Telemetry:
    """The last ``days`` days of one pump, renamed ``TEMPLATE-1`` (so it can be
    uploaded next to the story data), keeping the program in effect."""
    p = tel.pump(pump_id)
    start = p.samples["timestamp"].iloc[-1] - pd.Timedelta(days=days)
    samples = p.samples[p.samples["timestamp"] > start]
    ev = p.events
    changes = ev.index[(ev["kind"] == "program_change") & (ev["timestamp"] <= start)]
    keep = (ev["timestamp"] > start) | ev.index.isin(changes[-1:])
    pumps = tel.pumps[tel.pumps["pump_id"] == pump_id].assign(
        pump_id=TEMPLATE_ID, group="story", patient_label="Template: " + p.info["patient_label"])
    return Telemetry(pumps=pumps.reset_index(drop=True), samples=samples.assign(pump_id=TEMPLATE_ID).reset_index(drop=True),
                     events=ev[keep].assign(pump_id=TEMPLATE_ID).reset_index(drop=True))


@st.cache_data(show_spinner=False)
def template_files(folder: str) -> tuple[bytes, bytes]:
    """(combined CSV, combined Parquet) of the template telemetry."""
    story = data.story()
    combined = to_combined(template_telemetry(story, story.pump_ids()[0]))
    buf = io.BytesIO()
    combined.to_parquet(buf, index=False)
    return combined.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode(), buf.getvalue()


def first_problems(problems: pd.DataFrame, n: int = 3) -> str:
    """The first ``n`` problems of a refused upload as markdown list lines (escaped: a file's cells are
    text), each naming file, column and row, for the message above the full table."""
    lines = []
    for p in problems.head(n).to_dict("records"):
        where = str(p["file"])
        if pd.notna(p["column"]):
            where += f", column {p['column']}"
        if pd.notna(p["row"]):
            where += f", row {int(p['row'])}"
        lines.append(f"\n- {md(where + ': ' + str(p['message']), 300)}")
    more = f"\n- ... and {len(problems) - n} more, all in the table below" if len(problems) > n else ""
    return "".join(lines) + more


def handle(name: str, payload: bytes) -> dict:
    """Validate and add an upload once per distinct file; the outcome is kept
    in session state so reruns show it without loading again."""
    import hashlib

    digest = hashlib.sha256(payload).hexdigest()
    last = st.session_state.get(_LAST)
    if last is not None and last["digest"] == digest:
        return last
    try:
        tel = data.add_upload(payload, name)
        last = {"digest": digest, "name": name, "ok": True, "pump_ids": tel.pump_ids()}
    except TelemetryError as exc:
        last = {"digest": digest, "name": name, "ok": False,
                "problems": pd.DataFrame([p.model_dump() for p in exc.problems],
                                         columns=["file", "column", "row", "message"])}
    except Exception as exc:  # never crash on a strange file: report it as a problem
        last = {"digest": digest, "name": name, "ok": False,
                "problems": pd.DataFrame([{"file": name, "column": None, "row": None,
                                           "message": f"cannot be read: {type(exc).__name__}: {exc}"}])}
    st.session_state[_LAST] = last
    return last
