"""``segments dashboard``: bad options are one-line errors; it runs ``streamlit run``."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from typer.testing import CliRunner

from training.cli import app
from training.cli_dashboard import streamlit_argv

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--api", "127.0.0.1:8000"],
            "error: --api '127.0.0.1:8000': use an http:// or https:// address, "
            "e.g. http://127.0.0.1:8000\n",
        ),
        (
            ["--api", "http://127.0.0.1:8000", "--api-public-url", "ftp://x"],
            "error: --api-public-url 'ftp://x': use an http:// or https:// address, "
            "e.g. http://127.0.0.1:8000\n",
        ),
    ],
)
def test_dashboard_refuses_a_bad_address(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["dashboard", *args])
    assert (result.exit_code, result.stderr) == (2, message)


def test_dashboard_says_which_extra_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    find_spec = importlib.util.find_spec

    def without_streamlit(name: str, *args: Any) -> Any:
        return None if name == "streamlit" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_streamlit)
    result = runner.invoke(app, ["dashboard"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: the dashboard needs the 'dashboard' extra: "
        "pip install 'customer-segments[dashboard]'\n",
    )


def test_dashboard_is_listed_in_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert "dashboard" in result.stdout


def test_streamlit_argv_is_headless_on_the_given_address() -> None:
    assert streamlit_argv("/app.py", "127.0.0.1", 8501) == [
        "-m",
        "streamlit",
        "run",
        "/app.py",
        "--server.address=127.0.0.1",
        "--server.port=8501",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
    ]
