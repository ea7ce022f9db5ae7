"""The API down, a wrong or missing key, no model ready: each page says so, no traceback."""

from __future__ import annotations

import httpx
import pytest

from tests.dashboard.conftest import open_dashboard, texts
from tests.e2e.conftest import ThreadedServer

pytestmark = pytest.mark.slow

TITLES = {
    "overview.py": "Customer segments",
    "explore.py": "Explore the segments",
    "whatif.py": "Where would this customer land?",
    "batch.py": "Assign a file",
    "operations.py": "Monitoring, changes and campaigns",
}
PAGES = list(TITLES)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_the_api_is_down(
    monkeypatch: pytest.MonkeyPatch, down_url: str, page: str
) -> None:
    app = open_dashboard(monkeypatch, down_url, page=page)
    [message] = texts(app.error)
    assert message.startswith(f"**API not reachable.** The API at {down_url} is not reachable (")
    assert message.endswith("Is it running (`segments serve`), and is --api right?")
    assert texts(app.title) == [TITLES[page]]  # and nothing after the message
    assert list(app.main.children.values())[-1].value == message


@pytest.mark.parametrize(("key", "sent"), [("wrong-key", "a wrong key"), (None, "no key")])
@pytest.mark.parametrize("page", ["whatif.py", "explore.py"])
def test_keyed_pages_say_the_key_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    keyed_server: ThreadedServer,
    page: str,
    key: str | None,
    sent: str,
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, key=key, page=page)
    detail = "invalid API key" if key else "missing API key: send it in the X-API-Key header"
    assert texts(app.error) == [
        f"**API key refused.** The API at {keyed_server.url} refused the request: {detail} "
        f"(the dashboard sent {sent}). Start it with --api-key KEY, one of the server's "
        "SEG_API_KEYS."
    ]


def test_open_pages_still_work_with_a_wrong_key(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, api: httpx.Client
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, key="wrong-key")
    assert texts(app.error) == []
    assert texts(app.subheader) == [s["name"] for s in api.get("/segments").json()["segments"]]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_no_model_is_ready(
    monkeypatch: pytest.MonkeyPatch, empty_server: ThreadedServer, page: str
) -> None:
    reason = httpx.get(f"{empty_server.url}/health/ready").json()["detail"]
    app = open_dashboard(monkeypatch, empty_server.url, page=page)
    assert texts(app.warning) == [
        f"**No model ready yet.** The API at {empty_server.url} has no model ready: {reason}"
    ]
    assert texts(app.error) == []
