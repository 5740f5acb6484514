"""A Plotly chart that is updated in place: the same chart node, redrawn with ``Plotly.react``.

``st.plotly_chart`` gives a chart a new element id whenever its figure changes (the id hashes
the figure, even with a ``key``), so the browser unmounts the chart and draws it anew on every
rerun. In the sandbox both charts change on every edit, and that remount was most of an edit's
wait (README, Benchmarks). This custom component (Streamlit components v2, rendered in the page
itself, not in an iframe) keeps its node for a given ``key`` and hands each new figure to
``Plotly.react``, which redraws only what changed.

Plotly's JavaScript is the bundle shipped inside the ``plotly`` Python package (the version that
wrote the figure JSON), served by Streamlit's component file route and loaded once per page.
"""
from __future__ import annotations

from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components_v1

from ui.charts import plain_title

#: Serves plotly.min.js from the plotly package (a file route only: never mounted as an element).
_ASSET = components_v1.declare_component("plotly_js", path=str(Path(plotly.__file__).parent / "package_data"))


def _script() -> str:
    """plotly.js's address on this server (under its base path, if any)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base + '/' if base else ''}component/{_ASSET.name}/plotly.min.js"


_JS = r"""
function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__pumpPlotly) {
    window.__pumpPlotly = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = new URL(src, document.baseURI).href;
      s.async = true;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { window.__pumpPlotly = undefined; reject(new Error('Plotly did not load')); };
      document.head.appendChild(s);
    });
  }
  return window.__pumpPlotly;
}

export default function ({ parentElement, data }) {
  let gd = parentElement.querySelector('.pump-live-chart');
  if (!gd) {
    gd = document.createElement('div');
    gd.className = 'pump-live-chart';
    gd.setAttribute('role', 'figure');
    parentElement.appendChild(gd);
  }
  gd.setAttribute('aria-label', data.label);
  const fig = JSON.parse(data.figure);
  const seq = (gd.__seq = (gd.__seq || 0) + 1);
  loadPlotly(data.src).then(Plotly => {
    if (seq !== gd.__seq) return;  // a newer figure arrived while Plotly was loading
    Plotly.react(gd, fig.data, fig.layout, data.config);
    if (!gd.__observer) {
      gd.__observer = new ResizeObserver(() => { if (gd._fullLayout) Plotly.Plots.resize(gd); });
      gd.__observer.observe(parentElement);
    }
  }).catch(err => { gd.textContent = 'The chart could not be drawn: ' + err.message; });
  return () => {
    if (gd.__observer) { gd.__observer.disconnect(); gd.__observer = undefined; }
  };
}
"""

_CSS = ".pump-live-chart { width: 100%; min-width: 300px; }"  # side by side, or wrapped below on a phone

_component = st.components.v2.component("pump_live_chart", js=_JS, css=_CSS, isolate_styles=False)


def live_chart(fig: go.Figure, *, key: str, config: dict | None = None, label: str | None = None) -> None:
    """Draw ``fig`` full width in the current container, updated in place on later reruns with
    the same ``key``. ``label``: the chart's text alternative (default: its title)."""
    data = {"figure": fig.to_json(), "config": {"responsive": True, **(config or {})},
            "src": _script(), "label": label or plain_title(fig)}
    _component(key=key, data=data, width="stretch")
