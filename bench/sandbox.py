"""Sandbox speed: an edit -> updated warnings and charts, against a baseline page.

Both are measured in the same run with Streamlit's AppTest (script reruns, no
browser), interleaved so machine load hits both alike:

- sandbox: the whole app (navigation, sidebar pump picker, sandbox page) rerun
  after the proposed rate changes; the rerun re-validates, re-evaluates and
  redraws the comparison, both charts, the guardrails and the review table;
- baseline "bare": a script drawing as many trivial Plotly charts (2) and nothing else;
- baseline "in the app shell": the same two charts as a page under the app's
  navigation and sidebar pump picker (the fixed cost every page of the app pays).

In the browser an edit reruns only the sandbox's ``st.fragment`` (not the
navigation and picker); AppTest reruns the whole script, so the sandbox
figure here is an upper bound.

Prints medians and the ratio (target <= 1.5x). Usage: .venv/bin/python bench/sandbox.py [rounds]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from pumpmodel import sandbox, sharelink  # noqa: E402

BASELINE = '''
import plotly.graph_objects as go
import streamlit as st
st.title("Baseline")
c1, c2 = st.columns(2)
c1.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])), width="stretch")
c2.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[2, 1, 3])), width="stretch")
'''
SHELL = '''
import plotly.graph_objects as go
import streamlit as st
st.set_page_config(layout="wide")


def baseline():
    st.title("Baseline")
    c1, c2 = st.columns(2)
    c1.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])), width="stretch")
    c2.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[2, 1, 3])), width="stretch")


nav = st.navigation([st.Page(baseline, title="Baseline", url_path="baseline")])
from ui.picker import pump_picker
pump_picker()
nav.run()
'''
CASE = "demo_soft_titration_baclofen.json"


def main(rounds: int = 15) -> float:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params["case"] = sharelink.encode(sandbox.demo_case(CASE))
    at.switch_page("pages/sandbox.py")
    at.run()
    assert not at.exception, at.exception
    base = AppTest.from_string(BASELINE, default_timeout=120)
    base.run()
    shell = AppTest.from_string(SHELL, default_timeout=120)
    shell.run()
    assert not shell.exception, shell.exception
    n_charts = sum(1 for _ in at.get("plotly_chart"))
    assert n_charts == 2 == sum(1 for _ in base.get("plotly_chart")), n_charts

    def edit(i: int) -> float:
        # a different reservoir volume each round: new dates, warnings, both charts
        rate = at.text_input(key=f"sbx{at.session_state['sbx_gen']}_reservoir")
        t = time.perf_counter()
        rate.input(f"{30.0 - 0.1 * (i % 50):g}").run()
        dt = time.perf_counter() - t
        assert not at.exception
        assert any("TITRATION_STEP_TOO_LARGE" in m.value for m in at.markdown)
        return dt

    def rerun(a: AppTest) -> float:
        t = time.perf_counter()
        a.run()
        return time.perf_counter() - t

    edit(0), rerun(base), rerun(shell)  # warm-up (imports, caches)
    s_times, b_times, sh_times = [], [], []
    for i in range(1, rounds + 1):
        s_times.append(edit(i))
        b_times.append(rerun(base))
        sh_times.append(rerun(shell))
    s, b, sh = statistics.median(s_times), statistics.median(b_times), statistics.median(sh_times)
    print(f"sandbox edit -> warnings + 2 charts: median {s * 1000:.0f} ms (min {min(s_times) * 1000:.0f}) "
          f"over {rounds} edits")
    print(f"baseline page, 2 trivial Plotly charts: median {b * 1000:.0f} ms (min {min(b_times) * 1000:.0f})")
    print(f"baseline page in the app shell (navigation + pump picker): median {sh * 1000:.0f} ms "
          f"(min {min(sh_times) * 1000:.0f})")
    print(f"ratio sandbox / bare baseline: {s / b:.2f}x; sandbox / app-shell baseline: {s / sh:.2f}x "
          "(target <= 1.5x)")
    return s / sh


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
