"""Small CSS fixes for every page (normal mode), injected once per run by the shell.

- Streamlit's captions are drawn at 60 % opacity of the text colour: 3.9:1 on white, below
  WCAG AA (4.5:1) and flagged by axe-core as a serious colour-contrast problem; 80 % gives 7:1.
- Chart toolbars (Plotly's mode bar) sit over the chart title on narrow screens: on touch
  screens they only appear when the chart is touched.
- Markdown tables (the sandbox's review and comparison) wrap long values inside their cells on
  narrow screens, and scroll inside their own box if they still do not fit: never the page.
- Page links (the exercise deck) and buttons (a chart's CSV in a narrow column) wrap their label
  instead of cutting it.
"""
from __future__ import annotations

import streamlit as st

_CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: rgba(49, 51, 63, 0.85) !important; opacity: 1 !important; }
.pt-label, .pt-note { color: rgba(49, 51, 63, 0.85) !important; opacity: 1 !important; }
[data-testid="stMain"] [data-testid="stPageLink-NavLink"] span,
[data-testid="stMain"] [data-testid="stPageLink-NavLink"] p,
[data-testid="stMain"] button [data-testid="stMarkdownContainer"],
[data-testid="stMain"] button [data-testid="stMarkdownContainer"] p { white-space: normal; }
@media (max-width: 640px) {
  [data-testid="stMarkdownContainer"] table { display: block; max-width: 100%; overflow-x: auto; }
  [data-testid="stMarkdownContainer"] th, [data-testid="stMarkdownContainer"] td { overflow-wrap: break-word; padding: 0.3rem 0.4rem; }
  [data-testid="stMarkdownContainer"] td code { overflow-wrap: anywhere; }  /* WARNING_CODES break anywhere */
}
@media (hover: none), (max-width: 640px) {
  .js-plotly-plot .modebar-container { display: none; }
  .js-plotly-plot:active .modebar-container, .js-plotly-plot:focus-within .modebar-container { display: block; }
}
</style>
"""


def apply() -> None:
    st.html(_CSS)
