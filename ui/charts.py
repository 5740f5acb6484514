"""Every chart goes through :func:`chart`: the same toolbar settings, larger fonts in
presentation mode, and a text alternative beside it (the chart's data as CSV)."""
from __future__ import annotations

import re

import plotly.graph_objects as go
import streamlit as st

from pumpmodel.figures.data import figure_table
from ui import present

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "chart"


def chart(fig: go.Figure, key: str | None = None, csv: bytes | None = None, name: str | None = None) -> None:
    """Draw ``fig`` (full width) and, under it, a download of its data (``csv``, or built from the
    figure). The figure is mutated: pass a fresh or cached copy."""
    if present.on():
        present.scale_figure(fig)
    st.plotly_chart(fig, width="stretch", config=CHART_CONFIG, theme=None, key=key)
    title = name or plain_title(fig, key or "chart")
    if csv is None:
        csv = figure_csv(fig)
    st.download_button(f"Data of this chart (CSV): {title}", csv, file_name=f"{slug(title)}.csv", mime="text/csv",
                       key=f"csv_{key or slug(title)}", icon=":material/table_view:", type="tertiary",
                       on_click="ignore")


def plain_title(fig: go.Figure, default: str = "chart") -> str:
    """The figure's title as plain words (a ``<br><sup>`` subtitle dropped), else ``default``."""
    text = fig.layout.title.text if fig.layout.title and fig.layout.title.text else default
    return re.sub(r"<[^>]+>.*", "", text).strip() or default


def figure_csv(fig: go.Figure) -> bytes:
    return figure_table(fig).to_csv(index=False).encode("utf-8")
