"""``segments dashboard``: the Streamlit dashboard, a client of a running API.

Needs the ``dashboard`` extra (``pip install '.[dashboard]'``); nothing here imports
Streamlit: the command becomes ``python -m streamlit run dashboard/app.py``. The API's
address and key reach the app through the environment, never the command line (where
``ps`` would show the key).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import typer

__all__ = ["dashboard", "streamlit_argv"]


def streamlit_argv(app_path: str, host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics, no file watcher."""
    return [
        "-m",
        "streamlit",
        "run",
        app_path,
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
    ]


def _check_url(option: str, url: str) -> str:
    from training.cli_support import fail

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{option} {url!r}: use an http:// or https:// address, e.g. http://127.0.0.1:8000")
    return url.rstrip("/")


def dashboard(
    api: Annotated[
        str, typer.Option(help="The API's address.", envvar="SEG_DASHBOARD_API_URL")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None,
        typer.Option(
            help="X-API-Key to send (one of SEG_API_KEYS).", envvar="SEG_DASHBOARD_API_KEY"
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8501,
    api_public_url: Annotated[
        str | None,
        typer.Option(
            help="The API's address for links opened in the user's browser (default: --api).",
            envvar="SEG_DASHBOARD_API_PUBLIC_URL",
        ),
    ] = None,
) -> None:
    """Open the dashboard for the people who act on segments (Streamlit, on the API)."""
    import importlib.util
    import os
    import sys

    from training.cli_support import fail, out

    env = {"SEG_DASHBOARD_API_URL": _check_url("--api", api)}
    if api_public_url:
        env["SEG_DASHBOARD_API_PUBLIC_URL"] = _check_url("--api-public-url", api_public_url)
    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("plotly") is None:
        fail(
            "the dashboard needs the 'dashboard' extra: pip install 'customer-segments[dashboard]'"
        )
    spec = importlib.util.find_spec("dashboard.app")
    if spec is None or spec.origin is None:
        fail("the dashboard package is not installed: pip install 'customer-segments[dashboard]'")
    os.environ.update(env)
    if api_key:
        os.environ["SEG_DASHBOARD_API_KEY"] = api_key
    out.print(f"dashboard: http://{host}:{port} (API {env['SEG_DASHBOARD_API_URL']})")
    sys.stdout.flush()
    # Become Streamlit: signals reach it directly (PID 1 in a container).
    os.execv(sys.executable, [sys.executable, *streamlit_argv(spec.origin, host, port)])
