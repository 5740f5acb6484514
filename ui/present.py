"""Presentation mode (``?present=1``): no Streamlit toolbar, menu or Deploy button, the sidebar
collapsed, larger type and chart fonts, a high-contrast look, and a one-click *Reset demo*.

The mode is kept in the address and in the session (Streamlit drops query parameters on a
page switch; the shell writes it back on every run)."""
from __future__ import annotations

import streamlit as st

PARAM = "present"
_KEY = "_present"
#: query parameters that belong to the whole app (kept on every page and in every link we build)
GLOBAL_PARAMS = ("pump", "present", "tour", "step", "ws")

FONT_SCALE = 1.45  # chart fonts in presentation mode: readable from the back of a room

# Streamlit's own chrome: the toolbar (menu, Deploy), the header decoration, the status widget's
# "Running..." man; type and contrast for a projector.
_CSS = """
<style>
[data-testid="stToolbar"], [data-testid="stAppDeployButton"], [data-testid="stMainMenu"],
[data-testid="stDecoration"], #MainMenu { display: none !important; }
html { font-size: 20px; }
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMarkdownContainer"] { font-size: 1.1rem; }
.pt-table table { font-size: 1.1rem; color: #000; }
[data-testid="stMain"] h1 { font-size: 2.6rem; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 1.8rem; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: #000 !important; opacity: 1 !important;
  font-size: 1rem !important; }
.stApp { color: #000; background: #fff; }
[data-testid="stMain"] a { color: #003f73; text-decoration: underline; }
[data-testid="stMain"] .block-container { max-width: 100%; padding-top: 4rem; }
[data-testid="stHeader"] { background: transparent; }
.pt-label, .pt-note, .pt-tip, .pt-table-note { color: #000 !important; opacity: 1 !important; }
/* a phone in presentation mode (a presenter's own screen): the projector's type would not fit */
@media (max-width: 640px) { html { font-size: 16px; }
  [data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMarkdownContainer"],
  .pt-table table { font-size: 1rem; } }
</style>
"""


def on() -> bool:
    """True in presentation mode (``?present=1`` once in this session, until switched off)."""
    if _KEY not in st.session_state:
        st.session_state[_KEY] = str(st.query_params.get(PARAM, "")).lower() in ("1", "true", "yes")
    return bool(st.session_state[_KEY])


def set_mode(value: bool) -> None:
    st.session_state[_KEY] = value
    if value:
        st.query_params[PARAM] = "1"
    else:
        st.query_params.pop(PARAM, None)


def apply() -> None:
    """Called by the shell on every run: keep ``?present=1`` in the address and inject the look."""
    if not on():
        return
    if st.query_params.get(PARAM) != "1":
        st.query_params[PARAM] = "1"
    st.html(_CSS)


def scale_figure(fig) -> None:
    """Larger fonts for every text of a Plotly figure (titles, axes, legend, annotations, labels)."""
    base = fig.layout.font.size or 13
    fig.update_layout(font_size=round(base * FONT_SCALE), hoverlabel_font_size=18)
    if fig.layout.title and fig.layout.title.text:
        fig.update_layout(title_font_size=round((fig.layout.title.font.size or 16) * FONT_SCALE))
    if fig.layout.legend and fig.layout.legend.font and fig.layout.legend.font.size:
        fig.update_layout(legend_font_size=round(fig.layout.legend.font.size * FONT_SCALE))
    for a in fig.layout.annotations or ():
        a.font.size = round((a.font.size or base) * FONT_SCALE)
    for tr in fig.data:
        tf = getattr(tr, "textfont", None)
        if tf is not None and tf.size:
            tf.size = round(tf.size * FONT_SCALE)
    # taller, with a bottom margin grown like the type, and a legend under the plot kept as far
    # below it (in pixels) as the larger tick labels and axis title need: never over the x-axis
    # title, and a plot tall enough for the y-axis title
    lay = fig.layout
    h0 = lay.height or 450
    top = 100 if lay.margin.t is None else lay.margin.t
    b0 = 80 if lay.margin.b is None else lay.margin.b
    b1 = round(b0 * FONT_SCALE)
    h1 = round(h0 * 1.25) + b1 - b0
    below = lay.legend.y is not None and lay.legend.y < 0 and lay.legend.orientation == "h"
    if below and h0 - top - b0 > 0 and h1 - top - b1 > 0:
        gap_px = -lay.legend.y * (h0 - top - b0)
        fig.update_layout(legend_y=-gap_px * FONT_SCALE / (h1 - top - b1))
    fig.update_layout(height=h1, margin_b=b1)


def reset_demo() -> None:
    """Back to the shipped state: forget everything this browser session did (sent programs,
    uploads, sandbox edits, acknowledgements, tour) and start over on the first story patient.
    Presentation mode itself stays on."""
    keep_present = on()
    for k in list(st.session_state.keys()):
        del st.session_state[k]
    st.query_params.clear()
    st.session_state[_KEY] = keep_present
    if keep_present:
        st.query_params[PARAM] = "1"
    st.session_state["_reset_done"] = True


def controls(where) -> None:
    """The presentation switch and *Reset demo*, in ``where`` (the sidebar, or the bar on top)."""
    row = where.container(horizontal=True, horizontal_alignment="right")
    c1 = c2 = row
    label = "Leave presentation" if on() else "Presentation mode"
    if c1.button(label, key="present_switch", icon=":material/co_present:",
                 help="Larger type, high contrast, no toolbar; kept in the address as ?present=1."):
        set_mode(not on())
        st.rerun()
    if c2.button("Reset demo", key="reset_demo", icon=":material/restart_alt:",
                 help="Restore the shipped state: forget sent programs, uploads and sandbox edits of this session."):
        reset_demo()
        st.switch_page("pages/overview.py", query_params={PARAM: "1"} if on() else None)
    if st.session_state.pop("_reset_done", False):
        where.success("Demo reset to the shipped state.", icon=":material/restart_alt:")
