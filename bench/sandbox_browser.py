"""Sandbox edit speed in a real browser (GitHub issue 5, item 9).

Measures what a user waits for after an edit in the programming sandbox: from
the Enter key that commits a new value in a number input until the page shows
the result, against a baseline page drawing as many trivial Plotly charts
whose data depend on one number input (bench/baseline_app.py ``?edit=1``),
served and measured in the same run:

- sandbox "reservoir": ``examples/spec_example.json`` opened from a share
  link; the edit sets the reservoir volume. Done when the review table shows
  the new low-reservoir alarm date and reservoir volume, the guardrails
  heading has the new counts, every expected warning code is shown (and none
  that no longer applies), both charts hold the new case's data (the
  reservoir chart redrawn: its line path changed), no element is stale and
  Streamlit's status widget is gone;
- sandbox "rate": ``examples/demo_soft_baclofen_abrupt_decrease.json``
  (simple continuous, so the rate is a number input); the edit sets the
  proposed rate, so both charts change (both must be redrawn), as do the
  dates and the ABRUPT_DECREASE warning;
- baseline: the edit sets the input; done when both charts are redrawn with
  the new data and the status widget is gone.

Expected texts and chart data come from ``pumpmodel`` (the same functions the
page uses). The start of an edit is the Enter ``keydown`` as the page sees it
(its event timestamp); the end is found by polling in the page every 10 ms.
Edits alternate sandbox / baseline so machine load hits both alike.

    .venv/bin/python bench/sandbox_browser.py [--rounds 12] [--edits reservoir,rate]

Prints a table (median, min, max in ms) and each ratio against the 1.5x
target; exits 1 when a ratio is above it.
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.pages import serve  # noqa: E402
from pumpmodel import sandbox, sharelink  # noqa: E402
from pumpmodel.evaluate import evaluate  # noqa: E402
from pumpmodel.figures.sandbox import reservoir_figure, schedule_figure  # noqa: E402
from pumpmodel.programs import Case  # noqa: E402
from pumpmodel.units import num, when  # noqa: E402

TARGET = 1.5
CHARTS = 2
POLL_MS = 10
TIMEOUT_MS = 60_000

# Installed once per tab: the Enter keydown's timestamp starts an edit.
INSTALL_JS = """() => {
  window.addEventListener('keydown', e => { if (e.key === 'Enter') window.__t0 = e.timeStamp; }, true);
}"""

# Before an edit: remember what each chart draws, arm a poller that resolves with the
# timings once everything expected is on the page (first moment all conditions held).
ARM_JS = """(exp) => {
  const plots = () => Array.from(document.querySelectorAll('.js-plotly-plot'));
  // what is drawn: line paths and axis tick labels (autorange can keep a path's pixels the same)
  const paths = gd => Array.from(gd.querySelectorAll('.scatterlayer path.js-line, .xtick text, .ytick text'))
                           .map(p => p.getAttribute('d') || p.textContent).join('|');
  const prev = plots().map(paths);
  window.__t0 = undefined;
  const first = {};
  window.__done = new Promise((resolve, reject) => {
    const started = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      if (now - started > exp.timeout) { clearInterval(timer); reject(new Error('timeout: ' + JSON.stringify(first))); return; }
      if (window.__t0 === undefined) return;
      const main = document.querySelector('[data-testid="stMain"]');
      const text = main ? main.textContent : '';  // not innerText: that forces a layout each poll
      const textOk = exp.include.every(s => text.includes(s)) && !exp.exclude.some(s => text.includes(s));
      const ps = plots();
      const chartsOk = ps.length === exp.charts.length && exp.charts.every((c, i) => {
        const gd = ps[i];
        if (!gd.querySelector('.main-svg') || !gd._fullData) return false;
        const tr = gd._fullData.find(t => t.name === c.trace);
        if (!tr || !tr.y || tr.y.length !== c.n) return false;
        let sum = 0;
        for (let k = 0; k < tr.y.length; k++) sum += +tr.y[k];
        if (Math.abs(sum - c.sum) > 1e-7 * Math.max(1, Math.abs(c.sum))) return false;
        return !c.changed || paths(gd) !== prev[i];
      });
      const idle = !document.querySelector('[data-testid="stStatusWidget"]')
                   && !document.querySelector('[data-stale="true"]');
      if (textOk && first.text === undefined) first.text = now - window.__t0;
      if (chartsOk && first.charts === undefined) first.charts = now - window.__t0;
      if (textOk && chartsOk && idle) {
        clearInterval(timer);
        resolve({total: now - window.__t0, ...first});
      }
    }, exp.poll);
  });
}"""

IDLE_JS = """() => !document.querySelector('[data-testid="stStatusWidget"]')
  && !document.querySelector('[data-stale="true"]')
  && Array.from(document.querySelectorAll('.js-plotly-plot')).length > 0
  && Array.from(document.querySelectorAll('.js-plotly-plot')).every(p => p.querySelector('.main-svg'))"""


def _trace_sig(fig, name: str) -> dict:
    tr = next(t for t in fig.data if t.name == name)
    ys = [float(y) for y in tr.y]
    return {"trace": name, "n": len(ys), "sum": sum(ys)}


class SandboxEdit:
    """One sandbox tab and its number input; ``expect(value)`` from pumpmodel."""

    def __init__(self, name: str, file: str, label: str, field: str, values):
        self.name, self.label, self.field, self.values = name, label, field, values
        self.case = sandbox.demo_case(file)
        self.codes = set()
        for v in values(range(0, 40)):  # every code any edit can show: absent ones must be gone
            self.codes.update(evaluate(self._case(v)).codes())
        self.prev = None

    def _data(self, value: float) -> dict:
        data = copy.deepcopy(self.case)
        if self.field == "reservoir":
            data["reservoir_ml"] = value
        else:
            data["proposed"]["rate_ml_per_day"] = value
        return data

    def _case(self, value: float) -> Case:
        return Case.model_validate(self._data(value))

    def url(self, base: str) -> str:
        return sharelink.link(base + "/sandbox", self.case)

    def expect(self, value: float) -> dict:
        case = self._case(value)
        ev, cur = evaluate(case), sandbox.current_evaluation(case)
        hard = sum(f.severity == "hard" for f in ev.warnings)
        soft = sum(f.severity == "soft" for f in ev.warnings)
        codes = set(ev.codes())
        include = [f"Guardrails: {hard} hard, {soft} soft, {len(ev.warnings) - hard - soft} info",
                   when(ev.low_reservoir_alarm_at), f"{num(case.start_volume_ml)} mL", *sorted(codes)]
        charts = [_trace_sig(schedule_figure(case.current, case.proposed), "proposed"),
                  _trace_sig(reservoir_figure(case, ev, cur), "proposed program")]
        for c, p in zip(charts, self.prev or [None] * CHARTS):
            c["changed"] = p is None or (c["n"], round(c["sum"], 9)) != (p["n"], round(p["sum"], 9))
        self.prev = charts
        return {"include": include, "exclude": sorted(self.codes - codes), "charts": charts}

    def prepare(self, page) -> None:
        if self.field == "reservoir":  # the reservoir is in a collapsed expander: open it (not timed)
            page.get_by_text("Pump, reservoir, dates and refill visit").first.click()
        page.get_by_label(self.label, exact=True).first.wait_for(state="visible", timeout=TIMEOUT_MS)
        self.prev = None
        first = self.case["reservoir_ml"] if self.field == "reservoir" else self.case["proposed"]["rate_ml_per_day"]
        self.expect(first)  # the charts as first drawn: what the first edit must change


class BaselineEdit:
    """The baseline tab: chart i plots [v + i, v + i + 1, v + i] (unnamed: Plotly calls it "trace 0")."""
    label = "value"

    def __init__(self):
        self.value = 1.0  # the input's default

    def next(self) -> tuple[float, dict]:
        self.value += 0.5
        v = self.value
        charts = [{"trace": "trace 0", "n": 3, "sum": 3 * v + 3 * i + 1, "changed": True} for i in range(CHARTS)]
        return v, {"include": [], "exclude": [], "charts": charts}


def timed_edit(page, label: str, value: float, exp: dict) -> dict:
    page.wait_for_function(IDLE_JS, timeout=TIMEOUT_MS)
    page.wait_for_timeout(150)  # a quiet moment between edits (not part of any measurement)
    page.wait_for_function(IDLE_JS, timeout=TIMEOUT_MS)
    box = page.get_by_label(label, exact=True).first
    box.fill(f"{value:g}")
    page.evaluate(ARM_JS, {**exp, "poll": POLL_MS, "timeout": TIMEOUT_MS})
    box.press("Enter")
    return page.evaluate("() => window.__done")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=12, help="timed edits of each kind (after one warm-up)")
    ap.add_argument("--edits", default="reservoir,rate", help="sandbox edits to time: reservoir, rate")
    args = ap.parse_args()
    kinds = {
        # spec example: 0.39375 mL/day; alternate below / above what lasts to the appointment
        "reservoir": lambda: SandboxEdit("reservoir", "spec_example.json", "Reservoir now (mL, expected residual)",
                                         "reservoir", lambda idx: [(17.0 if i % 2 else 26.0) + 0.1 * i for i in idx]),
        # current 0.4 mL/day: alternate an abrupt decrease (soft warning) and a small one
        "rate": lambda: SandboxEdit("rate", "demo_soft_baclofen_abrupt_decrease.json", "Rate (mL/day)",
                                    "rate", lambda idx: [round((0.25 if i % 2 else 0.38) + 0.001 * i, 6)
                                                         for i in idx]),
    }
    edits = [kinds[k]() for k in args.edits.split(",")]
    app, app_url = serve("dashboard.py")
    base, base_url = serve("bench/baseline_app.py")
    results: dict[str, list[dict]] = {e.name: [] for e in edits}
    results["baseline"] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            bl = BaselineEdit()
            tabs = []
            for e in edits:
                pg = ctx.new_page()
                pg.goto(e.url(app_url))
                pg.get_by_text("Guardrails:").first.wait_for(timeout=120_000)
                pg.wait_for_function(IDLE_JS, timeout=120_000)
                e.prepare(pg)
                pg.evaluate(INSTALL_JS)
                tabs.append((e, pg))
            bpg = ctx.new_page()
            bpg.goto(f"{base_url}/?n={CHARTS}&edit=1")
            bpg.get_by_label(bl.label, exact=True).first.wait_for(timeout=120_000)
            bpg.evaluate(INSTALL_JS)

            for i in range(args.rounds + 1):  # round 0: warm-up
                for e, pg in tabs:
                    v = e.values([i])[0]
                    r = timed_edit(pg, e.label, v, e.expect(v))
                    b = timed_edit(bpg, bl.label, *bl.next())
                    if i:
                        results[e.name].append(r)
                        results["baseline"].append(b)
                    print(f"round {i:>2}{' (warm-up)' if not i else ''}: sandbox {e.name} {r['total']:.0f} ms, "
                          f"baseline {b['total']:.0f} ms", flush=True)
            browser.close()
    finally:
        for proc in (app, base):
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
    return report(results, [e.name for e in edits])


def report(results: dict[str, list[dict]], names: list[str]) -> int:
    def med(rows, k):
        vals = [r[k] for r in rows if r.get(k) is not None]
        return statistics.median(vals) if vals else float("nan")

    base = med(results["baseline"], "total")
    print(f"\n{'edit':<22} {'n':>3} {'median ms':>9} {'min':>6} {'max':>6} {'text':>6} {'charts':>6} {'ratio':>6}")
    worst = 0.0
    for name in [*names, "baseline"]:
        rows = results[name]
        tot = [r["total"] for r in rows]
        ratio = med(rows, "total") / base
        if name != "baseline":
            worst = max(worst, ratio)
        label = "baseline (2 charts)" if name == "baseline" else f"sandbox {name}"
        print(f"{label:<22} {len(rows):>3} {med(rows, 'total'):>9.0f} {min(tot):>6.0f} {max(tot):>6.0f} "
              f"{med(rows, 'text'):>6.0f} {med(rows, 'charts'):>6.0f} {ratio:>6.2f}"
              + ("  ABOVE TARGET" if ratio > TARGET else ""))
    print(f"worst sandbox / baseline ratio {worst:.2f}x (target <= {TARGET}x); Enter -> result shown, "
          f"polled every {POLL_MS} ms; text / charts: median ms until each first held")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
