"""Service settings, read from ``SEG_*`` environment variables.

Invalid settings fail fast at start-up with a message naming the variable, e.g.
``SEG_MAX_BATCH='lots': Input should be a valid integer``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from training.artifact import ArtifactError, check_version_name
from training.campaigns import MAX_SALT_BYTES, CampaignError, load_campaigns

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "get_settings", "load_settings"]

ENV_PREFIX = "SEG_"


class SettingsError(ValueError):
    """An ``SEG_*`` environment variable has an invalid value."""


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


# "a,b" in the environment (not JSON); a tuple when built in Python.
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    models_dir: Path = Field(
        Path("models"), description="Folder of published artifacts (the one with LATEST)."
    )
    model_version: str | None = Field(
        None, description="Pin a model version; empty means the one named in LATEST."
    )
    max_batch: int = Field(10_000, ge=1, description="Most customers in one /assign/batch.")
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body in bytes (413 beyond)."
    )
    threads: int = Field(
        4, ge=1, le=64, description="Threads for the sync (CPU) handlers of one worker."
    )
    reload_interval: float = Field(
        2.0, ge=0, description="Seconds between two looks at LATEST (0: never look again)."
    )
    request_timeout: float = Field(
        30.0, gt=0, description="Seconds a request may take before it is answered 504."
    )
    api_keys: CommaList = Field((), repr=False, description="Keys for /assign*; empty: open.")
    admin_api_keys: CommaList = Field(
        (), repr=False, description="Keys for /admin/*; empty: the admin routes answer 403."
    )
    cors_origins: CommaList = Field((), description="Origins allowed by CORS; empty: no CORS.")
    campaigns: Path | None = Field(
        None, description="Campaign file (TOML); empty: no campaigns in the answers."
    )
    campaign_salt: str = Field(
        "", repr=False, description="Key of the campaign arms' hash (at most 64 bytes)."
    )
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="Largest request line + headers in bytes (431 beyond)."
    )
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a connection may take to send a request's headers."
    )
    max_connections: int = Field(
        1000,
        ge=16,
        description="Open connections per worker (also kept 100 under the open-files limit); "
        "beyond it the one idle longest is closed.",
    )
    monitor: bool = Field(True, description="Keep the drift counts of GET /monitoring.")
    monitor_window: int = Field(
        10_000, ge=1, description="The drift window holds at least this many assignments..."
    )
    monitor_min_seconds: float = Field(
        3600.0, ge=0, description="...and at least this many seconds of traffic."
    )
    monitor_bucket_seconds: float = Field(
        60.0, gt=0, description="Width of one time bucket of drift counts."
    )
    monitor_max_seconds: float = Field(
        86_400.0, gt=0, description="Drift counts older than this are forgotten."
    )
    monitor_min_assignments: int = Field(
        100, ge=1, description="Fewer assignments in the window: status ok, too few to judge."
    )

    @field_validator("model_version")
    @classmethod
    def _check_version(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return check_version_name(value)
        except ArtifactError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("campaigns")
    @classmethod
    def _check_campaigns(cls, value: Path | None) -> Path | None:
        if value is None or not str(value):
            return None
        try:
            load_campaigns(value)  # fail at start-up; later a bad file keeps the previous one
        except CampaignError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("campaign_salt")
    @classmethod
    def _check_salt(cls, value: str) -> str:
        if len(value.encode()) > MAX_SALT_BYTES:
            raise ValueError(f"{len(value.encode())} bytes, at most {MAX_SALT_BYTES}")
        return value


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise :class:`SettingsError` naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else ENV_PREFIX
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}={first.get('input')!r}: {message}") from None


@lru_cache
def get_settings() -> Settings:
    """The process's settings from the environment, read once."""
    return load_settings()
