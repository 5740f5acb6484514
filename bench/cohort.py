"""Cohort explorer benchmark: DuckDB on Parquet vs pandas, and the app's peak RSS.

    nice -n 10 .venv/bin/python bench/cohort.py [--data data/cohort-1000] [--no-browser]

For each analyst view (``pumpmodel.cohort_queries.VIEWS``) it times, in the same run:

- DuckDB as the app runs it (per-pump-day rollup materialised once when the data
  folder is opened; median of 3 runs per view),
- DuckDB straight from Parquet (no materialisation at all; median of 3),
- pandas: the same aggregation after loading the Parquet into pandas (load time of
  the tables it needs + compute time; the load is done once and shared, and shown
  separately), checking that pandas and DuckDB agree.

Then it serves the app, opens the cohort page in headless Chromium with this cohort
selected, and reads the server's peak RSS (VmHWM in /proc/<pid>/status).

Without ``--data`` it uses ``data/cohort-1000`` (``make cohort``), else
``data/cohort-1000-synth``, generating the latter (synthetic, 1000 pumps x 730 days)
with ``tests/cohort_fixture.py`` when missing.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pumpmodel import cohort_queries as cq  # noqa: E402
from pumpmodel import library  # noqa: E402

TARGET_S, TARGET_SPEEDUP, TARGET_RSS_MB = 1.0, 5.0, 1536


def pick_data(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    for cand in (ROOT / "data" / "cohort-1000", ROOT / "data" / "cohort-1000-synth"):
        if cq.is_telemetry_folder(cand):
            return cand
    from cohort_fixture import write_cohort

    out = ROOT / "data" / "cohort-1000-synth"
    print(f"generating a synthetic 1000 x 730-day cohort into {out} ...", flush=True)
    return write_cohort(out, pumps=1000, days=730, seed=7, progress=True)


def timed(fn, repeat: int = 3):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# --------------------------------------------------------------------------- pandas path

class PandasCohort:
    """The same views computed in pandas after loading the Parquet (what the app avoids)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.load_s: dict[str, float] = {}
        t = time.perf_counter()
        self.pumps = pd.read_parquet(folder / "pumps.parquet")
        self.events = pd.read_parquet(folder / "events")
        self.events["pump_id"] = self.events["pump_id"].astype(str)
        self.load_s["events"] = time.perf_counter() - t
        t = time.perf_counter()
        self.samples = pd.read_parquet(folder / "samples", columns=["timestamp", "delivered_ml", "reservoir_ml",
                                                                    "pump_id"])
        self.samples["pump_id"] = self.samples["pump_id"].astype(str)
        self.load_s["samples"] = time.perf_counter() - t
        prof = library.pump_profiles()
        pc = self.events[self.events.kind == "program_change"].sort_values("timestamp").copy()
        first = pc.details.map(lambda d: json.loads(d)["new"]["drugs"][0])
        pc["drug"] = first.map(lambda x: x["drug"])
        factor = {("mg", "mg/mL"): 1.0, ("mcg", "mcg/mL"): 1.0, ("mcg", "mg/mL"): 1000.0, ("mg", "mcg/mL"): 0.001}
        pc["conc"] = [x["concentration"] * factor[(library.drug(x["drug"]).unit, x["unit"])] for x in first]
        self.programs = pc[["pump_id", "timestamp", "drug", "conc"]]
        a = self.pumps.set_index("pump_id").copy()
        a["drug"] = pc.groupby("pump_id").drug.last()
        a["lra_ml"] = a.low_reservoir_alarm_ml.fillna(a.profile.map(lambda p: prof[p].low_reservoir_alarm_ml))
        a["limit_ml"] = a.profile.map(lambda p: prof[p].refill_discrepancy_ml)
        self.attrs = a

    def needs(self, view: str) -> tuple[str, ...]:
        return ("events", "samples") if view in ("summary", "pump_table", "dose_trajectory", "alarm_rates") \
            else ("events",)

    def _sel(self, f: cq.Filters):
        a = self.attrs
        if f.drugs:
            a = a[a.drug.isin(f.drugs)]
        if f.date_from or f.date_to:
            raise NotImplementedError  # the bench times the unfiltered and drug-filtered views
        return a

    def _events(self, sel, kind_prefix):
        e = self.events
        return e[e.kind.str.startswith(kind_prefix) & e.pump_id.isin(sel.index)]

    def _daily(self, sel):
        s = self.samples[self.samples.pump_id.isin(sel.index)]
        return s.groupby(["pump_id", s.timestamp.dt.normalize()]).agg(
            first_hour=("timestamp", "min"), delivered_ml=("delivered_ml", "sum"),
            min_reservoir_ml=("reservoir_ml", "min"), hours=("timestamp", "size")).reset_index()

    def run(self, view: str, f: cq.Filters):
        sel = self._sel(f)
        if view == "summary":
            return self.samples.pump_id.isin(sel.index).sum() / 24
        if view == "pump_table":
            d = self._daily(sel)
            d["below"] = d.min_reservoir_ml < d.pump_id.map(sel.lra_ml)
            per = d.groupby("pump_id").agg(days=("hours", "size"), below=("below", "sum"))
            e = self.events[self.events.pump_id.isin(sel.index)]
            alarms = e[e.kind.str.startswith("alarm")].groupby("pump_id").size()
            return per.join(alarms.rename("alarms")).sort_values("below", ascending=False)
        if view == "refill_intervals":
            rf = self._events(sel, "refill").sort_values(["pump_id", "timestamp"]).copy()
            rf["drug"] = rf.details.map(lambda d: json.loads(d)["drugs"][0]["drug"])
            rf["days"] = rf.groupby("pump_id").timestamp.diff().dt.total_seconds() / 86400
            return rf.dropna(subset=["days"]).groupby("drug").days.describe()
        if view == "reservoir_margin":
            rf = self._events(sel, "refill")
            b = np.floor((rf.expected_residual_ml - rf.pump_id.map(sel.lra_ml)) / 0.5) * 0.5
            return rf.groupby([rf.pump_id.map(sel.profile), b]).size()
        if view == "dose_trajectory":
            d = self._daily(sel)
            d = d[d.hours == 24].sort_values("first_hour")
            m = pd.merge_asof(d, self.programs.sort_values("timestamp"), left_on="first_hour", right_on="timestamp",
                              by="pump_id").dropna(subset=["drug"])
            m["month"] = np.floor((m.first_hour - m.pump_id.map(sel.implant_date)).dt.total_seconds() / 86400 / 30.4375)
            m["dose"] = m.delivered_ml * m.conc
            return m[m.month >= 0].groupby(["drug", "month"]).dose.quantile([0.25, 0.5, 0.75])
        if view == "alarm_rates":
            days = self.samples.pump_id.isin(sel.index).sum() / 24
            return self._events(sel, "alarm").groupby("kind").size() * 1000 / days
        if view == "ptm_by_hour":
            e = self._events(sel, "ptm")
            return pd.crosstab(e.timestamp.dt.hour, e.kind)
        if view in ("discrepancy_by_profile", "flagged_refills"):
            rf = self._events(sel, "refill")
            flag = (rf.withdrawn_ml - rf.expected_residual_ml).abs() > rf.pump_id.map(sel.limit_ml)
            if view == "flagged_refills":
                return rf[flag]
            return flag.groupby(rf.pump_id.map(sel.profile)).agg(["size", "sum"])
        raise KeyError(view)


def check_agree(view: str, duck: pd.DataFrame, pan) -> bool:
    """Spot checks that both paths computed the same thing."""
    if view == "summary":
        return abs(duck.iloc[0].pump_days - pan) < 1e-6
    if view == "pump_table":
        return int(duck.days_below_alarm.sum()) == int(pan.below.sum())
    if view == "refill_intervals":
        return np.allclose(duck.set_index("drug").median_days, pan["50%"])
    if view == "reservoir_margin":
        return int(duck.refills.sum()) == int(pan.sum())
    if view == "dose_trajectory":
        return len(duck) == len(pan) // 3 or len(duck) == pan.index.droplevel(-1).nunique()
    if view == "alarm_rates":
        return np.allclose(duck.set_index("kind").per_1000_pump_days.sort_index(), pan.sort_index())
    if view == "ptm_by_hour":
        return int(duck.granted.sum()) == int(pan.get("ptm_granted", pd.Series([0])).sum())
    if view == "discrepancy_by_profile":
        return int(duck.flagged.sum()) == int(pan["sum"].sum())
    if view == "flagged_refills":
        return len(duck) == len(pan)
    return False


# --------------------------------------------------------------------------- app RSS

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def app_rss(folder: Path) -> dict:
    """Serve the app, open the cohort page with ``folder`` selected, read the server's peak RSS."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("streamlit")), "run", str(ROOT / "dashboard.py"), "--server.port",
         str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    out: dict = {}
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        out["rss_idle_mb"] = _status_kb(proc.pid, "VmRSS") / 1024
        label = str(folder.resolve().relative_to(ROOT)) if folder.resolve().is_relative_to(ROOT) else str(folder)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                   args=["--no-sandbox", "--disable-gpu"])
            pg = b.new_page(viewport={"width": 1440, "height": 900})

            def settle():
                pg.get_by_role("heading", name="Cohort explorer").first.wait_for(timeout=180_000)
                pg.wait_for_timeout(500)
                pg.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                    " && document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=180_000)

            pg.goto(url + "/cohort")
            settle()
            t = time.perf_counter()
            pg.get_by_test_id("stSelectbox").filter(has_text="Cohort data folder").click()
            pg.get_by_role("option", name=label, exact=True).click()
            pg.wait_for_timeout(300)
            settle()
            out["page_big_cold_s"] = time.perf_counter() - t
            out["pumps_shown"] = pg.get_by_test_id("stMetricValue").first.inner_text()
            t = time.perf_counter()
            pg.get_by_test_id("stMultiSelect").filter(has_text="Drug").click()
            pg.get_by_role("option", name="baclofen").click()
            pg.keyboard.press("Escape")
            pg.wait_for_timeout(300)
            settle()
            out["page_big_filter_change_s"] = time.perf_counter() - t
            out["exceptions"] = pg.locator("[data-testid='stException']").count()
            pg.screenshot(path=str(ROOT / "test-artifacts" / "bench-cohort-big.png"), full_page=True)
            b.close()
        out["rss_now_mb"] = _status_kb(proc.pid, "VmRSS") / 1024
        out["rss_peak_mb"] = _status_kb(proc.pid, "VmHWM") / 1024
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return out


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = pick_data(args.data)
    n_rows = cq.Cohort([folder], materialize=()).query("SELECT COUNT(*) AS n FROM samples").iloc[0].n
    print(f"cohort: {folder}  ({n_rows:,} hourly sample rows)   cores: {os.cpu_count()}   "
          f"load average: {os.getloadavg()[0]:.2f}")

    t = time.perf_counter()
    app_db = cq.Cohort([folder])
    open_s = time.perf_counter() - t
    direct_db = cq.Cohort([folder], materialize=("programs", "pump_attrs"))
    print(f"DuckDB open incl. per-pump-day rollup ({app_db.query('SELECT COUNT(*) n FROM samples_daily').iloc[0].n:,}"
          f" rows): {open_s:.2f} s (once per data folder, cached by the app)")
    t = time.perf_counter()
    pdc = PandasCohort(folder)
    print(f"pandas load: events {pdc.load_s['events']:.2f} s, samples {pdc.load_s['samples']:.2f} s "
          f"(total setup {time.perf_counter() - t:.2f} s)\n")

    rows, ok_all = [], True
    for label, f in (("all pumps", cq.Filters()), ("drug = baclofen", cq.Filters(drugs=("baclofen",)))):
        for view in cq.VIEWS:
            duck_s, duck = timed(lambda: app_db.run(view, f), args.repeat)
            direct_s, direct = timed(lambda: direct_db.run(view, f), args.repeat)
            pan_s, pan = timed(lambda: pdc.run(view, f), 1)
            load = sum(pdc.load_s[t] for t in pdc.needs(view))
            agree = check_agree(view, duck, pan) and len(duck) == len(direct)
            ok_all &= agree
            rows.append({"filter": label, "view": view, "duckdb_app_s": duck_s, "duckdb_parquet_s": direct_s,
                         "pandas_compute_s": pan_s, "pandas_load+compute_s": load + pan_s,
                         "speedup_vs_load+compute": (load + pan_s) / duck_s,
                         "speedup_vs_compute_only": pan_s / duck_s, "agree": agree})
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(df.to_string(index=False))
    worst = df.duckdb_app_s.max()
    print(f"\nslowest view (app path): {worst:.3f} s   target < {TARGET_S} s: {'OK' if worst < TARGET_S else 'MISSED'}")
    print(f"slowest view straight from Parquet: {df.duckdb_parquet_s.max():.3f} s")
    sp = df["speedup_vs_load+compute"].min()
    print(f"smallest speed-up vs pandas (load + compute): {sp:.1f}x   target >= {TARGET_SPEEDUP}x: "
          f"{'OK' if sp >= TARGET_SPEEDUP else 'MISSED'}")
    print(f"smallest speed-up vs pandas compute only (data already in memory): "
          f"{df.speedup_vs_compute_only.min():.1f}x")
    print(f"pandas and DuckDB agree on every view: {ok_all}")
    app_db.close()
    direct_db.close()
    del pdc

    if not args.no_browser:
        print("\nserving the app and opening the cohort page with this cohort in Chromium ...", flush=True)
        r = app_rss(folder)
        print(f"server RSS idle {r['rss_idle_mb']:.0f} MB, after the page {r['rss_now_mb']:.0f} MB, "
              f"peak (VmHWM) {r['rss_peak_mb']:.0f} MB   target < {TARGET_RSS_MB} MB: "
              f"{'OK' if r['rss_peak_mb'] < TARGET_RSS_MB else 'MISSED'}")
        print(f"page with the big cohort, first open (rollup + 9 queries + drawing): {r['page_big_cold_s']:.1f} s; "
              f"after a filter change: {r['page_big_filter_change_s']:.1f} s; pumps shown {r['pumps_shown']}; "
              f"exceptions {r['exceptions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
