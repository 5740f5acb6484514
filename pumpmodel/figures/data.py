"""The text alternative of a chart: the numbers behind a Plotly figure as one
long table (series, x, y), rounded like every number shown, for a CSV beside
the chart. Pure functions (no Streamlit)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..units import round_frame, unit_of


def _axis_title(fig: go.Figure, axis: str) -> str:
    ax = fig.layout[axis] if axis in fig.layout else None
    text = ax.title.text if ax is not None and ax.title is not None else None
    return " ".join(re.sub(r"<br\s*/?>", " ", text).split()) if text else ""  # a title on two lines: one column name


def figure_table(fig: go.Figure) -> pd.DataFrame:
    """One row per drawn point: ``series``, ``x``, ``y`` (the y axis title, with its unit, names the
    value column); heatmaps give one row per cell, boxes their five numbers."""
    x_name = _axis_title(fig, "xaxis") or "x"
    y_name = _axis_title(fig, "yaxis") or "value"
    frames = []
    for tr in fig.data:
        name = tr.name or ""
        if tr.type == "heatmap" and tr.z is not None:
            z = np.asarray(tr.z, dtype=float)
            xs = list(tr.x) if tr.x is not None else list(range(z.shape[1]))
            ys = list(tr.y) if tr.y is not None else list(range(z.shape[0]))
            frames.append(pd.DataFrame({"series": name or "value", x_name: np.tile(xs, len(ys)),
                                        "row": np.repeat(ys, len(xs)), y_name: z.ravel()}))
        elif tr.type == "box":
            for stat in ("lowerfence", "q1", "median", "q3", "upperfence"):
                v = getattr(tr, stat)
                if v is not None:
                    frames.append(pd.DataFrame({"series": name, x_name: list(tr.x or [name]) * len(v),
                                                "statistic": stat, y_name: list(v)}))
        elif getattr(tr, "x", None) is not None and getattr(tr, "y", None) is not None:
            x, y = list(tr.x), list(tr.y)
            if getattr(tr, "orientation", None) == "h":
                x, y = y, x
            n = min(len(x), len(y))
            frames.append(pd.DataFrame({"series": name, x_name: x[:n], y_name: y[:n]}))
    if not frames:
        return pd.DataFrame(columns=["series", x_name, y_name])
    out = pd.concat(frames, ignore_index=True)
    num = pd.to_numeric(out[y_name], errors="coerce")
    out = out[num.notna() | out[y_name].isna()]
    return round_frame(out.assign(**{y_name: pd.to_numeric(out[y_name], errors="coerce")}),
                       {y_name: unit_of(y_name)})
