"""Dependencies of the routes, named once as ``Annotated`` aliases.

All are ``async`` and do no blocking work, so they never cost a threadpool hop.

Keys come in the ``X-API-Key`` header: ``/assign*`` asks for one of ``SEG_API_KEYS`` when
that is set (:func:`require_api_key`), ``/admin/*`` always asks for one of
``SEG_ADMIN_API_KEYS`` and is disabled (403) without them (:func:`require_admin_key`).
Keys are compared in constant time; every configured key is compared, whichever matches.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from service.columnar import MEDIA_TYPES
from service.config import Settings
from service.context import PINNED_MODEL
from service.errors import (
    ForbiddenError,
    ModelNotReadyError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)
from service.state import LoadedModel, ModelHolder

__all__ = [
    "API_KEY_HEADER",
    "HolderDep",
    "JsonBody",
    "ModelDep",
    "SettingsDep",
    "batch_body_of",
    "check_api_key",
    "json_body",
    "pinned_model",
    "require_admin_key",
    "require_api_key",
]

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="APIKey",
    description="One of SEG_API_KEYS, for /assign and /assign/batch (only when it is set).",
    auto_error=False,
)
_admin_key = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="AdminKey",
    description="One of SEG_ADMIN_API_KEYS, for /admin/*.",
    auto_error=False,
)

_JSON_TYPES = ("", "application/json")


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.models
    return holder


def pinned_model(request: Request) -> LoadedModel:
    """The model pinned for this request (503 without one); what ``ModelDep`` gives."""
    holder: ModelHolder = request.app.state.models
    model: LoadedModel | None = getattr(request.state, PINNED_MODEL, holder.current)
    if model is None:
        raise ModelNotReadyError(holder.error)
    return model


async def _model(request: Request) -> LoadedModel:
    return pinned_model(request)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type in _JSON_TYPES or media_type.endswith("+json")


async def json_body(request: Request) -> bytes:
    """The body, if JSON (415 otherwise); what ``JsonBody`` gives."""
    media_type = _media_type(request)
    if not _is_json(media_type):
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type!r} is not supported: send application/json"
        )
    return await request.body()


async def batch_body_of(request: Request) -> tuple[str, bytes]:
    """The media type and the body of a batch (JSON or a table; 415 otherwise)."""
    media_type = _media_type(request)
    if _is_json(media_type):
        return "application/json", await request.body()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type!r} is not supported: send application/json, "
            + ", ".join(MEDIA_TYPES[:-1])
            + f" or {MEDIA_TYPES[-1]}"
        )
    return media_type, await request.body()


def _check_key(sent: str | None, keys: tuple[str, ...]) -> None:
    if not sent:
        raise UnauthorizedError(f"missing API key: send it in the {API_KEY_HEADER} header")
    found = False
    for key in keys:  # no early exit: the time does not say which key matched
        found |= hmac.compare_digest(sent.encode(), key.encode())
    if not found:
        raise UnauthorizedError("invalid API key")


async def require_api_key(request: Request, key: Annotated[str | None, Security(_api_key)]) -> None:
    """One of SEG_API_KEYS in X-API-Key, when SEG_API_KEYS is set."""
    check_api_key(request)


def check_api_key(request: Request) -> None:
    """:func:`require_api_key` for a route that takes only the request (no dependencies to
    solve: on ``POST /assign`` they cost more than the scoring)."""
    settings: Settings = request.app.state.settings
    if settings.api_keys:
        _check_key(request.headers.get(API_KEY_HEADER), settings.api_keys)


async def require_admin_key(
    request: Request, key: Annotated[str | None, Security(_admin_key)]
) -> None:
    """One of SEG_ADMIN_API_KEYS in X-API-Key; without any configured, admin is off."""
    settings: Settings = request.app.state.settings
    if not settings.admin_api_keys:
        raise ForbiddenError("the admin routes are disabled: no SEG_ADMIN_API_KEYS configured")
    _check_key(key, settings.admin_api_keys)


SettingsDep = Annotated[Settings, Depends(_settings)]
HolderDep = Annotated[ModelHolder, Depends(_holder)]
ModelDep = Annotated[LoadedModel, Depends(_model)]
JsonBody = Annotated[bytes, Depends(json_body)]
