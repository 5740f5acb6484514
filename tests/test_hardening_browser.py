"""Issue 12 in a real browser: a zip bomb, a 9999 timestamp and a markdown-laden story
uploaded to a fresh server. Each gets a clear message, nothing is fetched from another
site, and the server stays under 600 MB."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import SERVER_PIDS, screenshot, wait_for_app
from pumpmodel.telemetry import STORY_DIR, load_telemetry, to_combined

pytestmark = pytest.mark.browser
MAX_RSS_MB = 600
EVIL = "evil-site.com"


def rss_mb(pid: int) -> float:
    """Resident memory of the server process (kB in /proc -> MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def zip_bomb(inflated_mb: int = 1024) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("pumps.csv", "pump_id\n")
        with zf.open("samples.csv", "w", force_zip64=True) as fh:
            chunk = b"0" * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(chunk)
        zf.writestr("events.csv", "pump_id\n")
    return buf.getvalue()


def combined_csv(edit) -> bytes:
    from ui.clinician_upload import template_telemetry

    df = to_combined(template_telemetry(load_telemetry(STORY_DIR), "story-a", days=2))
    edit(df)
    return df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()


def year_9999(df):
    df.loc[df.index[df["table"] == "samples"][-1], "timestamp"] = datetime(9999, 12, 31, 23, 30)


def markdown_story(df):
    df.loc[df["table"] == "pumps", "story"] = (
        f"**Trainer notes** ![pixel](https://{EVIL}/pixel.png) [Session expired: log in again](https://{EVIL}/login) "
        f"<img src='https://{EVIL}/img.png'> www.{EVIL}")


def upload(pg, name: str, data: bytes, mime: str) -> None:
    pg.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
    pg.wait_for_function(f"() => document.body.innerText.includes({name!r} + ' was not loaded')"
                         f" || document.body.innerText.includes({name!r} + ': 1 pump(s) loaded')", timeout=90_000)
    wait_for_app(pg)


def test_hostile_uploads_get_clear_messages_no_off_site_request_and_bounded_memory(browser, fresh_server_url):
    pid = SERVER_PIDS[fresh_server_url]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    off_site = []
    pg.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None)
          and not r.url.startswith("data:") and off_site.append(r.url))
    try:
        pg.goto(fresh_server_url + "/upload")
        wait_for_app(pg)
        rss = [rss_mb(pid)]

        bomb = zip_bomb()
        assert len(bomb) < 2_000_000
        upload(pg, "bomb.zip", bomb, "application/zip")
        alert = pg.locator("[data-testid='stAlertContentError']").inner_text()
        assert "bomb.zip was not loaded" in alert and "Nothing changed" in alert
        assert "inflates to" in alert and "at most 100 MB" in alert, alert  # the reason, in plain words
        rss.append(rss_mb(pid))

        upload(pg, "year9999.csv", combined_csv(year_9999), "text/csv")
        alert = pg.locator("[data-testid='stAlertContentError']").inner_text()
        assert "year9999.csv was not loaded" in alert
        assert "column timestamp, row" in alert and "(got 9999-12-31T23:30:00)" in alert, alert  # field, row, value
        screenshot(pg, "hardening-year9999")
        rss.append(rss_mb(pid))

        upload(pg, "story.csv", combined_csv(markdown_story), "text/csv")
        assert "story.csv: 1 pump(s) loaded" in pg.locator("[data-testid='stAlertContentSuccess']").inner_text()
        pg.get_by_role("button", name="Show pump TEMPLATE-1").click()
        wait_for_app(pg)
        pg.get_by_text("Patient story").click()
        pg.wait_for_timeout(500)
        body = pg.locator("body").inner_text().replace("\u2060", "")  # invisible joiners break autolinks
        assert f"![pixel](https://{EVIL}/pixel.png)" in body  # the story's text, as text
        assert pg.locator(f"img[src*='{EVIL}'], a[href*='{EVIL}']").count() == 0
        assert not pg.locator("[data-testid='stException']").count()
        rss.append(rss_mb(pid))
        screenshot(pg, "hardening-markdown-story")
        assert off_site == [], off_site
        assert max(rss) < MAX_RSS_MB, rss
        print(f"server RSS (MB) at start, after bomb, 9999 file, story: {[round(r) for r in rss]}")
    finally:
        ctx.close()
