"""Entry point: `streamlit run dashboard.py` (or `make run`).

Builds the navigation; each page is one file in pages/. The shell also draws what every page
shares: presentation mode (?present=1), the guided-tour bar (?tour=&step=) and the pump picker.
"""
import streamlit as st

from ui import look, present  # noqa: E402

st.set_page_config(page_title="Intrathecal pump trainer", page_icon="assets/icon.png", layout="wide",
                   initial_sidebar_state="collapsed" if present.on() else "auto")

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
files = {}
for path, title, icon, section in PAGES:
    page = st.Page(path, title=title, icon=icon)
    files[id(page)] = path
    sections.setdefault(section, []).append(page)

nav = st.navigation(sections)  # the first page (Pump overview) is the default

from ui.boundary import error_boundary  # noqa: E402  (after set_page_config)
from ui import workspace  # noqa: E402  (after set_page_config)
from ui.picker import pump_picker  # noqa: E402
from ui.shell import mark_shell  # noqa: E402
from ui import tour  # noqa: E402

mark_shell()  # pages check this: see ui/shell.py
workspace.current()  # this browser's workspace (?ws=TOKEN in the address; a new one for a new visitor)
if (_notice := workspace.notice()) is not None:
    st.warning(_notice, icon=":material/info:")
with error_boundary("sidebar: look, presentation mode, pump picker, tour"):
    look.apply()
    present.apply()
    pump = pump_picker()  # sidebar pump choice, shared by every page (?pump=ID)
    tour.start_button(pump)
    if present.on():
        present.controls(st.container(key="present_bar"))
    else:
        present.controls(st.sidebar)
    tour.panel(files.get(id(nav), "").removeprefix("pages/").removesuffix(".py"))
with error_boundary(f"page {nav.title}"):  # every page: a short message with an error id, never a traceback
    nav.run()
