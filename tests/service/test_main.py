"""The app factory: settings are applied when the lifespan starts."""

from __future__ import annotations

from anyio import to_thread
from fastapi.testclient import TestClient

from service.config import Settings
from service.logs import LOG_CONFIG
from service.main import GRACEFUL_SHUTDOWN_SECONDS, create_app, uvicorn_argv


def test_create_app_sizes_the_threadpool(classic_settings: Settings) -> None:
    settings = classic_settings.model_copy(update={"threads": 3})

    async def tokens() -> float:
        return to_thread.current_default_thread_limiter().total_tokens

    with TestClient(create_app(settings)) as client:
        assert client.portal is not None
        assert client.portal.call(tokens) == 3


def test_uvicorn_argv_names_the_fast_loop_and_parser() -> None:
    argv = uvicorn_argv("0.0.0.0", 9000, 2)
    assert argv[:4] == ["-m", "uvicorn", "service.main:app_factory", "--factory"]
    assert {
        "--host=0.0.0.0",
        "--port=9000",
        "--workers=2",
        "--loop=uvloop",
        "--http=service.protocol:HardenedHttpToolsProtocol",
    } <= set(argv)


def test_uvicorn_argv_logs_json_and_shuts_down_gracefully() -> None:
    argv = uvicorn_argv("127.0.0.1", 8000, 1)
    assert {
        "--no-access-log",
        f"--log-config={LOG_CONFIG}",
        f"--timeout-graceful-shutdown={GRACEFUL_SHUTDOWN_SECONDS}",
    } <= set(argv)
    assert LOG_CONFIG.is_file()
