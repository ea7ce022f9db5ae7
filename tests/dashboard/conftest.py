"""Real uvicorn servers for the dashboard to talk to, and the dashboard under AppTest.

The servers serve the session's trained models on 127.0.0.1: one with an API key (the
dashboard's normal case), one without a model (503), one with the "mall-full" spec, and
a free port nobody listens on (the API down).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.client import API_KEY_ENV, API_URL_ENV
from service.config import Settings
from tests.e2e.conftest import ThreadedServer
from training.train import TrainResult

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
KEY = "dashboard-test-key"
RUN_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def keyed_server(classic_settings: Settings) -> Iterator[ThreadedServer]:
    """The classic model behind SEG_API_KEYS."""
    settings = classic_settings.model_copy(update={"api_keys": (KEY,), "reload_interval": 0})
    with ThreadedServer(settings) as running:
        yield running


@pytest.fixture(scope="session")
def api(keyed_server: ThreadedServer) -> Iterator[httpx.Client]:
    """The same API, called directly: what the dashboard must show."""
    with httpx.Client(base_url=keyed_server.url, headers={"X-API-Key": KEY}) as client:
        yield client


@pytest.fixture(scope="session")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A service with no model published: every model route answers 503."""
    settings = Settings(models_dir=tmp_path_factory.mktemp("no-models"), reload_interval=0)
    with ThreadedServer(settings) as running:
        yield running


@pytest.fixture(scope="session")
def full_server(full_model: TrainResult) -> Iterator[ThreadedServer]:
    """The 'mall-full' spec: gender (categorical) is a cluster feature."""
    folder = full_model.path
    settings = Settings(models_dir=folder.parent, model_version=folder.name, reload_interval=0)
    with ThreadedServer(settings) as running:
        yield running


@pytest.fixture
def down_url() -> str:
    """An address where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def open_dashboard(
    monkeypatch: pytest.MonkeyPatch, url: str, key: str | None = KEY, page: str | None = None
) -> AppTest:
    """The dashboard at ``page`` (a file of dashboard/views), run once against ``url``."""
    monkeypatch.setenv(API_URL_ENV, url)
    if key is None:
        monkeypatch.delenv(API_KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(API_KEY_ENV, key)
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    if page is not None:
        app.switch_page(f"views/{page}").run()
    assert [e.value for e in app.exception] == []
    return app


def texts(elements: Any) -> list[str]:
    return [str(element.value) for element in elements]
