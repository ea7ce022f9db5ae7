"""Pure ASGI middleware: the request body limit and the model-version header."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLargeError, error_response
from service.state import ModelHolder

__all__ = ["PINNED_MODEL", "BodyLimitMiddleware", "ModelVersionHeaderMiddleware"]

MODEL_VERSION_HEADER = "x-model-version"
PINNED_MODEL = "model"


class BodyLimitMiddleware:
    """Answer 413 when a request body is over ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before anything is read; a body
    without one (chunked) is read up to the limit and refused as soon as it goes beyond.
    A body within the limit is buffered and handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(PayloadTooLargeError(self.max_bytes))(scope, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    pending: list[Message] = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


class ModelVersionHeaderMiddleware:
    """Pin the current model for the whole request and name it in ``X-Model-Version``.

    The model is read once, here: the dependencies find it in ``request.state.model``, so a
    swap during the request cannot mix two models in one answer.
    """

    def __init__(self, app: ASGIApp, holder: ModelHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        model = self.holder.current
        scope.setdefault("state", {})[PINNED_MODEL] = model

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start" and model is not None:
                MutableHeaders(scope=message).append(MODEL_VERSION_HEADER, model.version)
            await send(message)

        await self.app(scope, receive, send_with_version)
