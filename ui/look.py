"""Small CSS fixes for every page (normal mode), injected once per run by the shell.

- Streamlit's captions are drawn at 60 % opacity of the text colour: 3.9:1 on white, below
  WCAG AA (4.5:1) and flagged by axe-core as a serious colour-contrast problem; 80 % gives 7:1.
- Chart toolbars (Plotly's mode bar) sit over the chart title on narrow screens: on touch
  screens they only appear when the chart is touched.
"""
from __future__ import annotations

import streamlit as st

_CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: rgba(49, 51, 63, 0.85) !important; opacity: 1 !important; }
.pt-label, .pt-note { color: rgba(49, 51, 63, 0.85) !important; opacity: 1 !important; }
@media (hover: none), (max-width: 640px) {
  .js-plotly-plot .modebar-container { display: none; }
  .js-plotly-plot:active .modebar-container, .js-plotly-plot:focus-within .modebar-container { display: block; }
}
</style>
"""


def apply() -> None:
    st.html(_CSS)
