"""Settings come from SEG_* variables and fail fast naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings, SettingsError, load_settings


def test_load_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODELS_DIR", "MODEL_VERSION", "MAX_BATCH", "MAX_BODY_BYTES", "THREADS"):
        monkeypatch.delenv("SEG_" + name, raising=False)
    assert load_settings() == Settings(
        models_dir=Path("models"),
        model_version=None,
        max_batch=10_000,
        max_body_bytes=4 * 1024 * 1024,
        threads=4,
    )


def test_load_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEG_MODELS_DIR", "/srv/models")
    monkeypatch.setenv("SEG_MODEL_VERSION", "20260101T000000000000Z-abcdef12")
    monkeypatch.setenv("SEG_MAX_BATCH", "500")
    settings = load_settings()
    assert settings.models_dir == Path("/srv/models")
    assert settings.model_version == "20260101T000000000000Z-abcdef12"
    assert settings.max_batch == 500


def test_load_settings_empty_version_means_latest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEG_MODEL_VERSION", "")
    assert load_settings().model_version is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SEG_MAX_BATCH", "lots",
         "SEG_MAX_BATCH='lots': Input should be a valid integer, unable to parse string as an "
         "integer"),
        ("SEG_MAX_BATCH", "0", "SEG_MAX_BATCH='0': Input should be greater than or equal to 1"),
        ("SEG_MAX_BODY_BYTES", "10",
         "SEG_MAX_BODY_BYTES='10': Input should be greater than or equal to 1024"),
        ("SEG_MODEL_VERSION", "../other",
         "SEG_MODEL_VERSION='../other': invalid model version '../other': use letters, digits, "
         "'.', '_' and '-' only"),
        ("SEG_MODEL_VERSION", "/etc",
         "SEG_MODEL_VERSION='/etc': invalid model version '/etc': use letters, digits, '.', '_' "
         "and '-' only"),
    ],
)  # fmt: skip
def test_load_settings_invalid_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    assert str(excinfo.value) == message


def test_load_settings_reads_comma_separated_keys_and_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEG_API_KEYS", " key-1, key-2 ,,")
    monkeypatch.setenv("SEG_ADMIN_API_KEYS", "admin-1")
    monkeypatch.setenv("SEG_CORS_ORIGINS", "https://crm.example")
    monkeypatch.setenv("SEG_RELOAD_INTERVAL", "0.5")
    monkeypatch.setenv("SEG_REQUEST_TIMEOUT", "2")
    settings = load_settings()
    assert (settings.api_keys, settings.admin_api_keys, settings.cors_origins) == (
        ("key-1", "key-2"),
        ("admin-1",),
        ("https://crm.example",),
    )
    assert (settings.reload_interval, settings.request_timeout) == (0.5, 2.0)
    assert "key-1" not in repr(settings)
    assert "admin-1" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SEG_REQUEST_TIMEOUT", "0", "SEG_REQUEST_TIMEOUT='0': Input should be greater than 0"),
        ("SEG_RELOAD_INTERVAL", "-1",
         "SEG_RELOAD_INTERVAL='-1': Input should be greater than or equal to 0"),
    ],
)  # fmt: skip
def test_load_settings_invalid_limits_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    assert str(excinfo.value) == message
