"""Clinician: upload telemetry (validated; problems listed precisely)."""
import streamlit as st

from pumpmodel.telemetry import STORY_DIR
from ui import data, state
from ui.clinician_upload import first_problems, handle, template_files
from ui.common import disclaimer
from ui.safe_text import md

st.title("Upload telemetry")
disclaimer()
st.markdown(
    "Add pumps from your own (synthetic) telemetry to this workspace (kept across reloads; the address holds the workspace key). Accepted: a **.zip** of a telemetry "
    "folder (`pumps`, `samples`, `events` as Parquet or CSV), or **one .csv / .parquet file** holding the three "
    "tables stacked with a `table` column (`pumps` | `samples` | `events`), like the template below. "
    f"Limit {data.MAX_UPLOAD_MB} MB. Timestamps are pump-clock time without offset; volumes in mL, rates in mL/day.")

csv_bytes, parquet_bytes = template_files(str(STORY_DIR))
c1, c2 = st.columns(2)
c1.download_button("Template (.csv)", csv_bytes, file_name="telemetry-template.csv", mime="text/csv",
                   icon=":material/download:", width="stretch")
c2.download_button("Template (.parquet)", parquet_bytes, file_name="telemetry-template.parquet",
                   mime="application/octet-stream", icon=":material/download:", width="stretch")
st.caption("The template is 14 days of the first story patient as pump `TEMPLATE-1`: upload it unchanged to try.")

up = st.file_uploader("Telemetry file", type=["zip", "csv", "parquet"], max_upload_size=data.MAX_UPLOAD_MB,
                      key=f"telemetry_upload_{st.session_state.get('upload_round', 0)}")
if up is not None:
    result = handle(up.name, up.getvalue())
    if result["ok"]:
        ids = result["pump_ids"]
        st.success(f"{md(result['name'])}: {len(ids)} pump(s) loaded: {md(', '.join(ids))}", icon=":material/check:")
        if st.button(f"Show pump {ids[0]}", icon=":material/arrow_forward:"):
            state.select_pump(ids[0])
            st.switch_page("pages/overview.py")
    else:
        problems = result["problems"]
        st.error(f"{md(result['name'])} was not loaded: {len(problems)} problem(s):{first_problems(problems)}\n\n"
                 "Nothing changed; the selected pump stays available.", icon=":material/error:")
        st.dataframe(problems, hide_index=True, width="stretch", column_config={
            "row": st.column_config.NumberColumn("row (0-based data row)", format="%d"),
            "message": st.column_config.TextColumn("message", width="large")})

loaded = data.uploads()
if loaded:
    st.subheader("Uploaded in this workspace")
    st.dataframe([{"file": u["name"], "pumps": ", ".join(u["telemetry"].pump_ids())} for u in loaded],
                 hide_index=True, width="stretch")
    if st.button("Remove uploaded pumps", icon=":material/delete:"):
        data.remove_uploads()
        if state.selected_pump_id() not in data.story_ids():
            state.select_pump(data.story_ids()[0])
        st.session_state.pop("upload_last", None)
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1  # clears the uploader
        st.rerun()
