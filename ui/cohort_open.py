"""Open a pump chosen in the cohort explorer in the clinician views.

The clinician pages show the story patients and this session's uploads
(``ui.data``). A cohort pump is brought in as an upload: its own Parquet files
(pumps row + its samples/events partitions) zipped in memory, so it goes
through the same checks as any uploaded telemetry.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import streamlit as st

from ui import present, state
from ui.safe_text import code, md
from ui.cohort import ROOT

OVERVIEW = "pages/overview.py"


def pump_zip(folder: Path, pump_id: str) -> bytes | None:
    """One pump's telemetry (same layout as the folder) as zip bytes; None if it is not in ``folder``."""
    part = f"pump_id={pump_id}"
    if not (folder / "samples" / part).is_dir():
        return None
    pumps = pq.read_table(folder / "pumps.parquet")
    pumps = pumps.filter(pc.equal(pumps["pump_id"], pump_id))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        out = io.BytesIO()
        pq.write_table(pumps, out)
        zf.writestr("pumps.parquet", out.getvalue())
        for table in ("samples", "events"):
            for f in sorted((folder / table / part).glob("*.parquet")):
                zf.writestr(f"{table}/{part}/{f.name}", f.read_bytes())
    return buf.getvalue()


def restore(pump_id: str) -> bool:
    """A ``?pump=`` of a cohort pump this workspace does not hold yet (a link from another
    workspace, say): load it from the cohort folders as an upload. False when no folder has it."""
    import re

    from pumpmodel import cohort_queries as cq
    from pumpmodel.telemetry import TelemetryError
    from ui import data

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", pump_id) or pump_id.startswith("."):
        return False
    for folder in cq.discover_cohorts(ROOT):
        blob = pump_zip(Path(folder), pump_id)
        if blob is not None:
            try:
                data.add_upload(blob, f"cohort-{pump_id}.zip")
            except TelemetryError:
                return False
            return True
    return False


def open_in_clinician_views(pump_id: str, folders: tuple[str, ...]) -> None:
    """Select the pump and switch to the overview page (loading it as an upload if needed)."""
    from pumpmodel.telemetry import TelemetryError
    from ui import data

    if data.pump(pump_id) is None:
        blob = next((b for b in (pump_zip(Path(f), pump_id) for f in folders) if b is not None), None)
        if blob is None:
            st.warning(f"Pump {code(pump_id)} was not found in the selected telemetry folders.")
            return
        try:
            with st.spinner(f"Loading pump {pump_id} for the clinician views ..."):
                data.add_upload(blob, f"cohort-{pump_id}.zip")
        except TelemetryError as exc:
            st.warning(f"Pump {code(pump_id)} cannot be opened in the clinician views: {md(exc)}")
            return
    state.select_pump(pump_id)
    # the new address names the pump and keeps the app's own parameters (workspace, presentation
    # mode, tour); the cohort's filters stay behind (bound to their widgets: Streamlit refuses to
    # clear them, so a plain switch_page failed)
    keep = {k: st.query_params[k] for k in present.GLOBAL_PARAMS if k in st.query_params}
    st.switch_page(OVERVIEW, query_params={**keep, state.PUMP_PARAM: pump_id})


def open_pump_form(table: pd.DataFrame, folders: tuple[str, ...]) -> None:
    """Under the riskiest-pumps table (``table``: as shown, friendly column names): choose one of
    its pumps and open it in the clinician views (a keyboard- and touch-friendly choice; the table
    itself is plain HTML). Each choice reads as its row does."""
    if table.empty:
        return
    t = table.astype(str)
    labels = dict(zip(t["pump"], t["pump"] + ": " + t["drug"] + ", " + t["pump profile"] + ", "
                      + t["days below alarm"] + " days below alarm"))
    row = st.container(horizontal=True, vertical_alignment="bottom")
    pid = row.selectbox("Open a pump of this table in the clinician views", list(labels), index=None,
                        key="cohort_open_pick", format_func=labels.get, placeholder="choose a pump", width=520)
    if row.button("Open", key="cohort_open_go", icon=":material/open_in_new:", disabled=pid is None) and pid:
        open_in_clinician_views(pid, folders)
