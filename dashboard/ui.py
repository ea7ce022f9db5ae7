"""What every page shares: the API connection, cached reads, error messages, formatting.

A failed read shows one clear message (API down, wrong key, no model ready, ...) and stops
the page there: a page never shows a traceback for something the API said.
"""

from __future__ import annotations

from typing import Any, NoReturn

import streamlit as st

from dashboard.client import (
    ApiClient,
    ApiError,
    ApiUnauthorizedError,
    ApiUnreachableError,
    Connection,
    ModelNotReadyError,
)

__all__ = [
    "CACHE_SECONDS",
    "client",
    "cluster_features",
    "connection",
    "feature_label",
    "fmt_number",
    "get",
    "get_optional",
    "show_error",
    "stop_with",
]

CACHE_SECONDS = 10  # reads are cached this long: a model swapped in shows within it


def connection() -> Connection:
    return Connection.from_env()


@st.cache_resource(show_spinner=False)
def _client(url: str, api_key: str | None, public_url: str | None) -> ApiClient:
    return ApiClient(Connection(url, api_key, public_url))


def client() -> ApiClient:
    c = connection()
    return _client(c.url, c.api_key, c.public_url)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _read(
    url: str, api_key: str | None, path: str, params: tuple[tuple[str, Any], ...], optional: bool
) -> Any:
    api = _client(url, api_key, connection().public_url)
    read = api.get_optional if optional else api.get
    return read(path, dict(params) or None)


def show_error(exc: ApiError) -> None:
    """The message for an API failure, with the one thing to check first."""
    if isinstance(exc, ApiUnreachableError):
        st.error(f"**API not reachable.** {exc.message}", icon=":material/cloud_off:")
    elif isinstance(exc, ApiUnauthorizedError):
        st.error(f"**API key refused.** {exc.message}", icon=":material/key_off:")
    elif isinstance(exc, ModelNotReadyError):
        st.warning(f"**No model ready yet.** {exc.message}", icon=":material/hourglass_top:")
    else:
        st.error(exc.message, icon=":material/error:")


def stop_with(exc: ApiError) -> NoReturn:
    show_error(exc)
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover: it raises


def get(path: str, **params: Any) -> Any:
    """``GET path`` (cached briefly); on failure the page shows why and stops."""
    c = connection()
    try:
        return _read(c.url, c.api_key, path, tuple(sorted(params.items())), False)
    except ApiError as exc:
        stop_with(exc)


def get_optional(path: str, **params: Any) -> Any:
    """A route the server may not offer: :class:`~dashboard.client.Absent` when it does not
    (404, with the server's reason)."""
    c = connection()
    try:
        return _read(c.url, c.api_key, path, tuple(sorted(params.items())), True)
    except ApiError as exc:
        stop_with(exc)


def cluster_features(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in model["features"] if f["role"] == "cluster"]


def feature_label(feature: dict[str, Any]) -> str:
    """``Annual income (k$)``: the field's name in words, with its unit."""
    name = str(feature["name"]).replace("_", " ").capitalize()
    return f"{name} ({feature['unit']})" if feature.get("unit") else name


def fmt_number(value: Any) -> str:
    """61.5 -> ``61.5``; 78.0 -> ``78``; 1234.56 -> ``1,234.6``; text stays text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text
