"""Baseline for the browser benches: a Streamlit page drawing ``?n=K`` trivial
Plotly charts (what every page pays for Streamlit + Plotly alone).

``?edit=1`` (bench/sandbox_browser.py) adds one number input; chart ``i``
then plots ``[v + i, v + i + 1, v + i]`` for the input's value ``v``, so an
edit reruns the script and redraws every chart with new data."""
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="baseline", layout="wide")
n = int(st.query_params.get("n", 1))
st.title("Baseline")
st.caption(f"{n} trivial Plotly chart(s)")
v = st.number_input("value", value=1.0, step=0.5, key="v") if st.query_params.get("edit") else 0.0
for i in range(n):
    st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[v + i, v + i + 1, v + i])), width="stretch", key=f"c{i}")
