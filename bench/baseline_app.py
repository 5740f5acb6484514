"""Baseline for bench/pages.py: a Streamlit page drawing ``?n=K`` trivial
Plotly charts (what every page pays for Streamlit + Plotly alone)."""
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="baseline", layout="wide")
n = int(st.query_params.get("n", 1))
st.title("Baseline")
st.caption(f"{n} trivial Plotly chart(s)")
for i in range(n):
    st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[i, i + 1, i])), width="stretch", key=f"c{i}")
