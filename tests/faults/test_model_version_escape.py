"""A SEG_MODEL_VERSION that tries to leave the models folder stops the service at start.

The same check guards version names read from LATEST (tests/training/test_artifact.py).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import SettingsError, get_settings
from service.main import app_factory

ESCAPES = ["../x", "../../etc/passwd", "/etc/passwd", "/srv/models/20260101T000000000000Z-abc"]


def _message(value: str) -> str:
    return (
        f"SEG_MODEL_VERSION={value!r}: invalid model version {value!r}: use letters, digits, "
        "'.', '_' and '-' only"
    )


@pytest.mark.parametrize("value", ESCAPES)
def test_serve_refuses_a_model_version_leaving_the_folder(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SEG_MODEL_VERSION", value)
    done = CliRunner().invoke(app, ["serve"])
    assert done.exit_code == 2
    assert done.stderr.strip() == f"error: {_message(value)}"


@pytest.mark.parametrize("value", ESCAPES)
def test_app_factory_refuses_a_model_version_leaving_the_folder(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # `uvicorn --factory service.main:app_factory` without `segments serve` stops too.
    monkeypatch.setenv("SEG_MODEL_VERSION", value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as excinfo:
            app_factory()
    finally:
        get_settings.cache_clear()
    assert str(excinfo.value) == _message(value)
