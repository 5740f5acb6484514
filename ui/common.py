"""Page furniture: disclaimer and small display helpers."""
from __future__ import annotations

import streamlit as st

from ui.shell import ensure_shell

DISCLAIMER = (
    "**Training simulator.** Every patient, pump and number here is synthetic. "
    "Not for clinical use and not medical advice."
)


def disclaimer() -> None:
    """The training disclaimer; every page calls it first, so it also makes sure the page
    runs inside the app shell (see ui.shell)."""
    ensure_shell()
    # the warning sign as a character, not the ":warning:" shortcode: a shortcode makes the browser
    # load Streamlit's emoji plugin (a 260 kB emoji table) on every page load just for this sign
    st.caption("\u26a0\ufe0f " + DISCLAIMER)



def static_table(df, name: str) -> None:
    """A small static table drawn as a plain HTML table (``st.html``, sanitised): every cell wraps,
    nothing is cut off, the first column names the row (a row header), and on a narrow screen the
    table scrolls sideways inside its own box (a keyboard-focusable region named ``name``). Styled
    in ui/look.py (``.pt-table``). ``st.table`` draws the same through Arrow in the browser:
    about 1 MB of JavaScript (Arrow, moment, numbro) to load on every fresh page load."""
    import html

    def cell(v: object) -> str:
        return "" if v is None or (isinstance(v, float) and v != v) else html.escape(str(v))

    head = "".join(f"<th scope='col'>{cell(c)}</th>" for c in df.columns)
    rows = []
    for values in df.itertuples(index=False):
        first, *rest = (cell(v) for v in values)
        rows.append(f"<tr><th scope='row'>{first}</th>" + "".join(f"<td>{v}</td>" for v in rest) + "</tr>")
    st.html(f"<div class='pt-table' role='region' aria-label='{html.escape(name)}' tabindex='0'><table>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
