"""A running ``segments dashboard`` in a real headless Chromium: every page, screenshots.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them): without
them the test skips, except under ``CI=true`` where it fails. The screenshots are kept in
``build/dashboard/`` (git-ignored) for CI to keep as artifacts and for people to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboard.conftest import KEY
from tests.e2e.conftest import ThreadedServer
from tests.report.test_browser import browser  # noqa: F401 (the fixture: one Chromium)

pytestmark = pytest.mark.slow

SEGMENTS = Path(sys.executable).with_name("segments")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "dashboard"
START_TIMEOUT = 90.0
PAGE_TIMEOUT = 60.0
# Path, title, and an element that appears only when the page has drawn its data.
PAGES = [
    ("", "Customer segments", '[data-testid="stMetricValue"]'),
    ("explore", "Explore the segments", '[data-testid="stPlotlyChart"] .main-svg'),
    ("what-if", "Where would this customer land?", '[data-testid="stPlotlyChart"] .main-svg'),
    ("batch", "Assign a file", '[data-testid="stFileUploader"]'),
    ("monitoring", "Monitoring, changes and campaigns", '[data-testid="stAlertContentInfo"]'),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(api: str, key: str | None, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEG_DASHBOARD_")}
    args = [str(SEGMENTS), "dashboard", "--api", api, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            args + (["--api-key", key] if key else []), stdout=out, stderr=out, env=env
        )
    return process, f"http://127.0.0.1:{port}"


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"segments dashboard exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(
        f"the dashboard did not start in {START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="module")
def dashboards(
    keyed_server: ThreadedServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Two running dashboards: on the keyed API with its key, and on an API that is down."""
    folder = tmp_path_factory.mktemp("dashboard-logs")
    good, good_url = _start(keyed_server.url, KEY, folder / "good.log")
    down_api = f"http://127.0.0.1:{_free_port()}"
    down, down_url = _start(down_api, None, folder / "down.log")
    try:
        _wait_healthy(good, good_url, folder / "good.log")
        _wait_healthy(down, down_url, folder / "down.log")
        yield {"good": good_url, "down": down_url, "down_api": down_api}
    finally:
        for process in (good, down):
            process.terminate()
            process.wait(timeout=20)


def _elements(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    found: list[Any] = driver.find_elements(By.CSS_SELECTOR, css)
    return found


def _wait_for(find: Callable[[], list[Any]], what: str) -> list[Any]:
    deadline = time.monotonic() + PAGE_TIMEOUT
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not appear in {PAGE_TIMEOUT:.0f} s")


def _open(driver: Any, url: str, title: str, ready: str) -> None:
    """Open ``url`` and wait until the page's script has run and drawn ``ready``."""
    driver.get(url)
    deadline = time.monotonic() + PAGE_TIMEOUT
    while time.monotonic() < deadline:
        titles = [e.text for e in _elements(driver, "h1")]
        running = _elements(driver, '[data-testid="stStatusWidget"]')
        charts = _elements(driver, '[data-testid="stPlotlyChart"]')
        painted = _elements(driver, '[data-testid="stPlotlyChart"] .main-svg')
        drawn = len(painted) >= len(charts)  # each Plotly chart has its svg
        if titles == [title] and _elements(driver, ready) and not running and drawn:
            time.sleep(0.5)  # let the last frame paint before the screenshot
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not show {title!r} with {ready!r} in {PAGE_TIMEOUT:.0f} s")


def test_every_page_renders_without_an_exception(
    browser: Any,  # noqa: F811 (the imported fixture)
    dashboards: dict[str, str],
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1400, 1100)
    try:
        for path, title, ready in PAGES:
            _open(browser, f"{dashboards['good']}/{path}", title, ready)
            assert browser.save_screenshot(str(SHOTS / f"{path or 'overview'}.png"))
            assert _elements(browser, '[data-testid="stException"]') == [], path
            assert _elements(browser, '[data-testid="stAlertContentError"]') == [], path
    finally:
        browser.set_window_size(1280, 900)


def test_a_page_says_the_api_is_down(
    browser: Any,  # noqa: F811 (the imported fixture)
    dashboards: dict[str, str],
) -> None:
    _open(browser, dashboards["down"], "Customer segments", '[data-testid="stAlertContentError"]')
    assert browser.save_screenshot(str(SHOTS / "api-down.png"))
    [alert] = _elements(browser, '[data-testid="stAlertContentError"] p')
    assert alert.text.startswith(
        f"API not reachable. The API at {dashboards['down_api']} is not reachable ("
    )
    assert _elements(browser, '[data-testid="stException"]') == []


def test_batch_page_assigns_an_uploaded_file(
    browser: Any,  # noqa: F811 (the imported fixture)
    dashboards: dict[str, str],
    classic_path: Path,
    tmp_path: Path,
) -> None:
    upload = tmp_path / "customers.csv"
    upload.write_bytes(classic_path.read_bytes().rstrip(b"\n") + b"\nX-1,Male,30,99999,50\n")
    dropzone = '[data-testid="stFileUploaderDropzoneInput"]'
    _open(browser, f"{dashboards['good']}/batch", "Assign a file", dropzone)
    _elements(browser, dropzone)[0].send_keys(str(upload))
    [button] = _wait_for(
        lambda: [
            b
            for b in _elements(browser, '[data-testid="stButton"] button')
            if b.text == "Assign 201 customers"
        ],
        "the assign button",
    )
    button.click()
    _wait_for(lambda: _elements(browser, '[data-testid="stDataFrame"]'), "the tables")
    metrics = [e.text for e in _elements(browser, '[data-testid="stMetricValue"]')]
    assert metrics == ["200", "1"]
    assert browser.save_screenshot(str(SHOTS / "batch-assigned.png"))
    assert _elements(browser, '[data-testid="stException"]') == []
