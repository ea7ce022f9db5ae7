"""/docs in a real headless Chromium with the network off: every operation renders.

Chromium resolves no host name but 127.0.0.1 and sends everything else to a proxy that
does not exist, so a page that needs a CDN stays blank. Needs Debian's ``chromium`` and
``chromium-driver`` (``make test`` installs them); skips without them, except under CI.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ThreadedServer
from tests.report.test_browser import CHROME_ARGS, START_TIMEOUT, _missing, _tool

pytestmark = pytest.mark.slow

OFFLINE_ARGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # loopback stays direct; anything else goes nowhere
)


@pytest.fixture(scope="module")
def offline_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = _tool("chromium"), _tool("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed: pip install -e '.[dev]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tmp_path_factory.mktemp("chromium-offline")
    for arg in (*CHROME_ARGS, *OFFLINE_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


def _operations(server: ThreadedServer) -> int:
    paths = httpx.get(f"{server.url}/openapi.json", timeout=30).json()["paths"]
    return sum(len(operations) for operations in paths.values())


def test_docs_render_every_operation_offline(offline_browser: Any, server: ThreadedServer) -> None:
    expected = _operations(server)
    offline_browser.get(f"{server.url}/docs")
    deadline = time.monotonic() + START_TIMEOUT
    rendered = 0
    while time.monotonic() < deadline:
        rendered = offline_browser.execute_script(
            "return document.querySelectorAll('.opblock').length"
        )
        if rendered >= expected:
            break
        time.sleep(0.1)
    assert rendered == expected >= 13  # every operation, /campaigns included
    title = offline_browser.execute_script(
        "return document.querySelector('.info .title').textContent"
    )
    assert title.startswith("Customer segments")
    resources = offline_browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert [url for url in resources if not url.startswith(server.url)] == []
    assert f"{server.url}/docs/assets/swagger-ui-bundle.js" in resources
