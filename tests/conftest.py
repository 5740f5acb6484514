"""Shared fixtures: AppTest factory and a real Streamlit server + Chromium."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
SERVER_PIDS: dict[str, int] = {}  # url -> pid of the Streamlit server serving it (for memory checks)
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session", autouse=True)
def _workspace_database(tmp_path_factory):
    """The app under test (AppTest and served) keeps workspaces in a throwaway SQLite file,
    never in the developer's data/workspace.sqlite (servers inherit the environment)."""
    if os.environ.get("PUMP_DATABASE_URL"):
        yield
        return
    path = tmp_path_factory.mktemp("store") / "workspace.sqlite"
    os.environ["PUMP_DATABASE_URL"] = f"sqlite:///{path}"
    yield
    os.environ.pop("PUMP_DATABASE_URL", None)


def _store_backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("PUMP_TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(params=_store_backends())
def store_url(request, tmp_path):
    """An empty database for the workspace store: a SQLite file, and (when
    ``PUMP_TEST_DATABASE_URL`` names a PostgreSQL server) a throwaway database created on
    that server for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    from pumpmodel.store import db

    base = make_url(db.normalize_url(os.environ["PUMP_TEST_DATABASE_URL"]))
    name = "pumptest_" + secrets.token_hex(6)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        db.dispose_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app():
    """An AppTest of the whole multipage app (navigation included)."""
    from streamlit.testing.v1 import AppTest

    def make(query: dict | None = None):
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        return at

    return make


def workspace_of(at):
    """The workspace (``pumpmodel.store.Workspace``) an AppTest session is using."""
    return at.session_state["workspace"]


def new_workspace(**uploads: bytes):
    """A fresh workspace in the test database (``PUMP_DATABASE_URL``), with ``name=bytes`` uploads."""
    from pumpmodel.store import get_store

    ws = get_store().create_workspace()
    for name, data in uploads.items():
        ws.add_upload(name, data)
    return ws


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url():
    """Serve the app once for all browser tests."""
    yield from _serve()


@pytest.fixture
def fresh_server_url():
    """A server of its own, never visited before (for first-request behaviour)."""
    yield from _serve()


def _serve():
    port = _free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    proc = subprocess.Popen(
        [str(streamlit), "run", str(ROOT / "dashboard.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    SERVER_PIDS[url] = proc.pid
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit server did not become healthy")
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium via Playwright. Missing chromium fails under CI, skips locally."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: CI must install it (apt-get install -y chromium)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.console_errors = []
    pg.failed_requests = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("response", lambda r: r.status >= 400 and pg.failed_requests.append(f"{r.status} {r.url}"))
    pg.on("requestfailed", lambda r: pg.failed_requests.append(f"failed {r.failure} {r.url}"))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    ctx.close()


def wait_for_app(pg, timeout_ms: int = 90_000) -> None:
    """Wait until the app's own script has run (its disclaimer and navigation are drawn, which
    excludes Streamlit's pre-run placeholder page), the run has stayed finished, and every
    Plotly chart is drawn."""
    pg.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    pg.wait_for_function(
        "() => document.body.innerText.includes('Training simulator')"
        " && document.querySelector('[data-testid=\"stSidebarNav\"]')?.innerText.includes('Clinician')",
        timeout=timeout_ms,
    )
    for _ in range(2):  # finished twice in a row, 300 ms apart: not between two reruns
        pg.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            " && !document.querySelector('[data-stale=\"true\"]')",
            timeout=timeout_ms,
        )
        pg.wait_for_timeout(300)
    pg.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(p => p.querySelector('.main-svg'))",
        timeout=timeout_ms,
    )


def page_problems(pg) -> list[str]:
    """Exception boxes, error alerts and console errors on the page."""
    problems = [f"exception: {t}" for t in pg.locator("[data-testid='stException']").all_inner_texts()]
    problems += [f"error alert: {t}" for t in pg.locator("[data-testid='stAlertContentError']").all_inner_texts()]
    # Streamlit probes <page>/_stcore/health and host-config on deep links before falling
    # back to the root: those 404s (and their console lines) are the framework's, not ours.
    failed = [r for r in pg.failed_requests if not _benign(r)]
    problems += [f"request: {r}" for r in failed]
    problems += [f"console: {t}" for t in pg.console_errors
                 if not (t.startswith("Failed to load resource") and not failed)]
    return problems


def _benign(request: str) -> bool:
    return request.startswith("404 ") and request.endswith(("/_stcore/health", "/_stcore/host-config"))


def screenshot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def chart_specs(at) -> list[dict]:
    """The Plotly figures an AppTest run drew: ``st.plotly_chart`` specs, then the figures of
    live charts (ui/live_chart.py, a custom component that redraws in place)."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return specs + [json.loads(json.loads(c.proto.json)["figure"]) for c in at.get("bidi_component")
                    if c.proto.component_name == "pump_live_chart"]
