"""Small CSS fixes for every page (normal mode), injected once per run by the shell.

- Streamlit's captions are drawn at 60 % opacity of the text colour: 3.9:1 on white, below
  WCAG AA (4.5:1) and flagged by axe-core as a serious colour-contrast problem; 80 % gives 7:1.
- Chart toolbars (Plotly's mode bar) sit over the chart title on narrow screens: on touch
  screens they only appear when the chart is touched.
- Markdown tables wrap long values inside their cells on narrow screens, and scroll inside their
  own box if they still do not fit: never the page. So do the plain HTML tables of
  ``ui.html_table`` (``.pt-table``: the sandbox's comparison and review), whose changed rows are
  highlighted and marked in words.
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
.pt-table { overflow-x: auto; margin-bottom: 0.5rem; }
.pt-table table { border-collapse: collapse; width: 100%; font-size: 0.875rem; color: rgb(49, 51, 63); }
.pt-table th, .pt-table td { border-bottom: 1px solid rgba(49, 51, 63, 0.12); padding: 0.35rem 0.5rem;
  text-align: left; vertical-align: top; overflow-wrap: break-word; }
.pt-table thead th { font-weight: 600; border-bottom: 2px solid rgba(49, 51, 63, 0.25); }
.pt-table tbody th { font-weight: 400; }
.pt-table tr.pt-marked th, .pt-table tr.pt-marked td { background: #fdebd3; font-weight: 600; }
.pt-table .pt-mark { color: #8a4500; font-weight: 400; }
.pt-table.pt-scroll { max-height: 26rem; overflow-y: auto; }
.pt-table.pt-scroll thead th { position: sticky; top: 0; background: #fff; z-index: 1; }
.pt-table-note { font-size: 0.8rem; margin: 0 0 1rem 0; color: rgba(49, 51, 63, 0.85); }
@media (hover: none), (max-width: 640px) {
  .js-plotly-plot .modebar-container { display: none; }
  .js-plotly-plot:active .modebar-container, .js-plotly-plot:focus-within .modebar-container { display: block; }
}
</style>
"""


def apply() -> None:
    st.html(_CSS)
