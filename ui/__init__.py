"""Streamlit-side helpers shared by the pages (the only place, with pages/
and dashboard.py, that imports streamlit)."""
