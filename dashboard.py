"""Entry point: `streamlit run dashboard.py` (or `make run`).

Builds the navigation; each page is one file in pages/.
"""
import streamlit as st

st.set_page_config(page_title="Intrathecal pump trainer", page_icon="assets/icon.png", layout="wide")

# (file, title, icon, section). Pages register here; files live in pages/.
PAGES = [
    ("pages/overview.py", "Pump overview", ":material/monitor_heart:", "Clinician"),
    ("pages/schedule.py", "Rate schedule", ":material/schedule:", "Clinician"),
    ("pages/reservoir.py", "Reservoir and refill", ":material/water_drop:", "Clinician"),
    ("pages/events.py", "Events and alarms", ":material/notifications:", "Clinician"),
    ("pages/trial.py", "Trial and first program", ":material/science:", "Clinician"),
    ("pages/upload.py", "Upload telemetry", ":material/upload:", "Clinician"),
    ("pages/library.py", "Drug library & pumps", ":material/menu_book:", "Reference"),
    ("pages/sandbox.py", "Programming sandbox", ":material/tune:", "Sandbox"),
    ("pages/case_io.py", "Cases: demos, import, export", ":material/upload_file:", "Sandbox"),
    ("pages/training.py", "Exercises and progress", ":material/school:", "Training"),
    ("pages/training_player.py", "Exercise player", ":material/play_circle:", "Training"),
    ("pages/training_instructor.py", "Instructor view", ":material/insights:", "Training"),
    ("pages/cohort.py", "Cohort explorer", ":material/query_stats:", "Analyst"),
]

sections: dict[str, list] = {}
for path, title, icon, section in PAGES:
    sections.setdefault(section, []).append(st.Page(path, title=title, icon=icon))

nav = st.navigation(sections)  # the first page (Pump overview) is the default

from ui.picker import pump_picker  # noqa: E402  (after set_page_config)
from ui.shell import mark_shell  # noqa: E402

mark_shell()  # pages check this: see ui/shell.py
pump_picker()  # sidebar pump choice, shared by every page (?pump=ID)
nav.run()
