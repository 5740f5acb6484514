"""Page furniture: disclaimer and small display helpers."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import streamlit as st

from ui.html_table import html_table
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


def static_table(df, name: str, csv: bytes | None = None, key: str | None = None,
                 marked_column: str | None = None, scroll: bool = False) -> None:
    """A small static data table as a plain HTML table (``ui.html_table``): every cell wraps,
    nothing is cut off, the first column names the row, and on a narrow screen the table scrolls
    sideways inside its own box. Times show to the minute, True/False as yes/no; rows where
    ``marked_column`` is true are highlighted and say so in words. With ``csv``, a download of the
    table's data follows, as under every chart. ``scroll``: a long table scrolls inside a box of
    bounded height.

    Why not ``st.table`` / ``st.dataframe``: both go through Arrow in the browser, about 1 MB of
    JavaScript to load and run on every fresh page load, and the data grid also draws on a canvas;
    on the rate schedule and reservoir pages that grid alone took 0.5-0.7 s of the page load."""
    def cell(v: object) -> object:
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, datetime):
            return "" if v != v else f"{v:%Y-%m-%d %H:%M}"
        return v

    rows = [[cell(v) for v in values] for values in df.itertuples(index=False)]
    marked = [] if marked_column is None else [i for i, v in enumerate(df[marked_column]) if bool(v)]
    mark = f"({marked_column.split(' (')[0]})" if marked_column else ""
    html_table([str(c) for c in df.columns], rows, name=name, marked=marked, mark=mark, scroll=scroll)
    if csv is not None:
        from ui.charts import slug

        st.download_button(f"Data of this table (CSV): {name}", csv, file_name=f"{slug(name)}.csv", mime="text/csv",
                           key=key or f"csv_table_{slug(name)}", icon=":material/table_view:", type="tertiary",
                           on_click="ignore")
