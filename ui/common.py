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




def static_table(df, name: str, csv: bytes | None = None, key: str | None = None) -> None:
    """A small static table drawn as a plain HTML table (``st.html``, sanitised): every cell wraps,
    nothing is cut off, the first column names the row (a row header), and on a narrow screen the
    table scrolls sideways inside its own box (a keyboard-focusable region named ``name``). Styled
    in ui/look.py (``.pt-table``). Times show to the minute, True/False as yes (bold) / no.
    With ``csv``, a download of the table's data follows, as under every chart.

    Why not ``st.table`` / ``st.dataframe``: both go through Arrow in the browser, about 1 MB of
    JavaScript to load and run on every fresh page load, and the data grid also draws on a canvas;
    on the rate schedule and reservoir pages that grid alone took 0.5-0.7 s of the page load."""
    import html
    from datetime import datetime

    def cell(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, bool) or type(v).__name__ == "bool_":
            return "<strong>yes</strong>" if v else "no"
        if isinstance(v, datetime):
            return "" if v != v else f"{v:%Y-%m-%d %H:%M}"
        return html.escape(str(v))

    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for values in df.itertuples(index=False):
        first, *rest = (cell(v) for v in values)
        rows.append(f"<tr><th scope='row'>{first}</th>" + "".join(f"<td>{v}</td>" for v in rest) + "</tr>")
    st.html(f"<div class='pt-table' role='region' aria-label='{html.escape(name)}' tabindex='0'><table>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
    if csv is not None:
        from ui.charts import slug

        st.download_button(f"Data of this table (CSV): {name}", csv, file_name=f"{slug(name)}.csv", mime="text/csv",
                           key=key or f"csv_table_{slug(name)}", icon=":material/table_view:", type="tertiary",
                           on_click="ignore")
