"""Dependencies of the routes, named once as ``Annotated`` aliases.

All are ``async`` and do no blocking work, so they never cost a threadpool hop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.config import Settings
from service.errors import ModelNotReadyError, UnsupportedMediaTypeError
from service.middleware import PINNED_MODEL
from service.state import LoadedModel, ModelHolder

__all__ = ["HolderDep", "JsonBody", "ModelDep", "SettingsDep"]

_JSON_TYPES = ("", "application/json")


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.models
    return holder


async def _model(request: Request, holder: Annotated[ModelHolder, Depends(_holder)]) -> LoadedModel:
    model: LoadedModel | None = getattr(request.state, PINNED_MODEL, holder.current)
    if model is None:
        raise ModelNotReadyError(holder.error)
    return model


async def _json_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type!r} is not supported: send application/json"
        )
    return await request.body()


SettingsDep = Annotated[Settings, Depends(_settings)]
HolderDep = Annotated[ModelHolder, Depends(_holder)]
ModelDep = Annotated[LoadedModel, Depends(_model)]
JsonBody = Annotated[bytes, Depends(_json_body)]
