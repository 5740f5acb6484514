"""Page speed in a real browser: each page's time until the script has finished
and every chart is drawn, over the time of a baseline Streamlit page drawing the
same number of trivial Plotly charts at the same kind of address (the root for
the overview, a named page for the others: see bench/baseline_app.py), served in
the same run; in normal and in presentation mode (``?present=1``).

    .venv/bin/python bench/pages.py [--repeat 5] [--pumps story-a,story-b] [--modes normal,present]

Starts two servers (the dashboard, bench/baseline_app.py), uses Debian's
chromium headless, prints a table and exits 1 when a page is above 1.5x.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["", "schedule", "reservoir", "events", "upload", "library", "case_io", "cohort"]
MODES = {"normal": "", "present": "&present=1"}
TARGET = 1.5
STATE_JS = """() => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  return [!!document.querySelector('[data-testid="stStatusWidget"]'),
          document.querySelectorAll('[data-testid="stMain"] *').length,
          plots.length, plots.filter(p => p.querySelector('.main-svg')).length,
          !!document.querySelector('[data-testid="stMain"] h1')];
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: str, cwd: Path = ROOT, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("streamlit")), "run", script, "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{script} did not start")


def expected_charts(path: str, pump: str) -> int:
    """How many Plotly charts the page draws (from a server-side AppTest run), so the
    browser timing waits for all of them: Plotly's JS loads lazily, and a page can sit
    still for a while before its first chart appears."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["pump"] = pump
    at.run()
    at.switch_page(f"pages/{path or 'overview'}.py").run()
    return len(at.get("plotly_chart"))


def timed_load(ctx, url: str, charts: int, settle_s: float = 0.6, timeout_s: float = 180) -> tuple[float, int]:
    """Seconds from navigation until the final state (script done, all ``charts``
    charts drawn) first appeared and then held for ``settle_s``; and the chart count."""
    pg = ctx.new_page()
    t0 = time.perf_counter()
    pg.goto(url, wait_until="commit")
    last, since = None, t0
    try:
        while time.perf_counter() - t0 < timeout_s:
            running, n_el, n_plots, n_drawn, has_h1 = pg.evaluate(STATE_JS)
            state = (running, n_el, n_plots, n_drawn)
            now = time.perf_counter()
            if state != last:
                last, since = state, now
            done = has_h1 and not running and n_plots == n_drawn == charts and n_el > 5
            if done and now - since >= settle_s:
                return since - t0, n_plots
            time.sleep(0.03)
        raise TimeoutError(url)
    finally:
        pg.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pumps", default="story-a,story-b")
    ap.add_argument("--modes", default="normal,present")
    args = ap.parse_args()
    app, app_url = serve("dashboard.py")
    base, base_url = serve("bench/baseline_app.py")
    worst = 0.0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            for warm, n in ((f"{app_url}/schedule?pump=story-a", expected_charts("schedule", "story-a")),
                            (f"{app_url}/cohort", expected_charts("cohort", "story-a")),
                            (f"{base_url}/?n=1", 1)):  # first loads compile and fill caches (cohort: its rollup)
                timed_load(ctx, warm, n, timeout_s=240)
            print(f"{'page':<12} {'mode':<8} {'pump':<9} {'charts':>6} {'page s':>7} {'baseline s':>10} {'ratio':>6}")
            for mode in args.modes.split(","):
                for pump in args.pumps.split(","):
                    for path in PAGES:
                        n = expected_charts(path, pump)
                        url = f"{app_url}/{path}?pump={pump}{MODES[mode]}"
                        page_s = statistics.median(timed_load(ctx, url, n)[0] for _ in range(args.repeat))
                        base_page = f"{base_url}/{'page' if path else ''}?n={n}"  # same kind of address
                        base_s = statistics.median(timed_load(ctx, base_page, n)[0]
                                                   for _ in range(args.repeat))
                        ratio = page_s / base_s
                        worst = max(worst, ratio)
                        print(f"{'/' + path:<12} {mode:<8} {pump:<9} {n:>6} {page_s:>7.2f} {base_s:>10.2f} {ratio:>6.2f}"
                              + ("  ABOVE TARGET" if ratio > TARGET else ""), flush=True)
            browser.close()
    finally:
        for proc in (app, base):
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
    print(f"worst ratio {worst:.2f} (target <= {TARGET}); median of {args.repeat} fresh-tab loads each")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
