"""Entry point: `streamlit run dashboard.py` (or `make run`).

Builds the navigation; each page is one file in pages/.
"""
import streamlit as st

st.set_page_config(page_title="Intrathecal pump trainer", page_icon=":material/medication:", layout="wide")

# (file, title, icon, section). Pages register here; files live in pages/.
PAGES = [
    ("pages/library.py", "Drug library & pumps", ":material/menu_book:", "Reference"),
]

sections: dict[str, list] = {}
for path, title, icon, section in PAGES:
    sections.setdefault(section, []).append(st.Page(path, title=title, icon=icon))

nav = st.navigation(sections)
nav.run()
