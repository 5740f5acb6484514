"""Baseline for the browser benches: a Streamlit page drawing ``?n=K`` trivial
Plotly charts (what every page pays for Streamlit + Plotly alone).

The same page is served at the root (``/?n=K``) and as a named page
(``/page?n=K``), so each page of the app is compared with a bare page at the
same kind of address: on any address other than the root, Streamlit's browser
code first looks for the server under that path (``/page/_stcore/health``,
which answers 404) and tries the root 100 ms later, about 0.15 s that every
named page of every multipage app pays (measured 2026-12-02: 0.55 s at the root,
0.70 s as a named page, median of 7 fresh tabs).

``?edit=1`` (bench/sandbox_browser.py) adds one number input; chart ``i``
then plots ``[v + i, v + i + 1, v + i]`` for the input's value ``v``, so an
edit reruns the script and redraws every chart with new data."""
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="baseline", layout="wide")


def baseline() -> None:
    n = int(st.query_params.get("n", 1))
    st.title("Baseline")
    st.caption(f"{n} trivial Plotly chart(s)")
    v = st.number_input("value", value=1.0, step=0.5, key="v") if st.query_params.get("edit") else 0.0
    for i in range(n):
        st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[v + i, v + i + 1, v + i])), width="stretch",
                        key=f"c{i}")


st.navigation([st.Page(baseline, title="Baseline", url_path="root", default=True),
               st.Page(baseline, title="Baseline (named page)", url_path="page")], position="hidden").run()
