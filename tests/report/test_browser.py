"""The report in a real headless Chromium: served by the service, and opened from disk.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without
them the test skips with the reason, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from training.artifact import REPORT
from training.train import TrainResult

pytestmark = pytest.mark.slow

CHROME_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)
START_TIMEOUT = 30.0


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {what}")
    pytest.skip(what)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} not found on PATH: apt-get install chromium chromium-driver")
    assert path is not None
    return path


# Session scope: set up before the session's trained models, so a skip costs nothing.
@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = _tool("chromium"), _tool("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed: pip install -e '.[dev]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium  # with both paths given, Selenium Manager stays off
    for arg in (*CHROME_ARGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server_url(classic_model: TrainResult) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (free port) serving the classic model."""
    import uvicorn

    from service.config import Settings
    from service.main import create_app

    folder = classic_model.path
    app = create_app(Settings(models_dir=folder.parent, model_version=folder.name))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound before the server starts: no race for the port
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, f"uvicorn did not start in {START_TIMEOUT:.0f} s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _open(browser: Any, url: str) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    deadline = time.monotonic() + START_TIMEOUT
    while browser.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{url} did not finish loading"
        time.sleep(0.05)
    images = browser.execute_script(
        "return Array.from(document.images, i => [i.getAttribute('src'), i.complete,"
        " i.naturalWidth]);"
    )
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    return images, errors


def _expected_images(folder: Path) -> int:
    return len(list((folder / "figures").glob("*.png")))


def test_served_report_shows_every_figure(
    browser: Any, server_url: str, classic_model: TrainResult
) -> None:
    images, errors = _open(browser, f"{server_url}/profile/report")
    assert len(images) == _expected_images(classic_model.path)
    assert [src for src, complete, width in images if not complete or width == 0] == []
    assert errors == []


def test_report_from_disk_shows_every_figure(browser: Any, classic_model: TrainResult) -> None:
    images, errors = _open(browser, (classic_model.path / REPORT).as_uri())
    assert len(images) == _expected_images(classic_model.path)
    assert [src for src, complete, width in images if not complete or width == 0] == []
    assert errors == []
