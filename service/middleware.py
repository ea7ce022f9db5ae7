"""Pure ASGI middleware: the request time limit and the body limit (the request context,
with the model pin and its header, is :mod:`service.context`)."""

from __future__ import annotations

import asyncio
import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLargeError, RequestTimeoutError, error_response

__all__ = [
    "BodyLimitMiddleware",
    "TimeoutMiddleware",
]

logger = logging.getLogger(__name__)


class TimeoutMiddleware:
    """Answer 504 when a request has not started its answer ``seconds`` after it arrived.

    The time counts from the first byte of the request, so a body sent too slowly is cut
    off too. At the deadline a timer sends the 504 at once and cancels the request's task
    (a timer, not a task per request: it costs microseconds). A handler inside a thread
    cannot be interrupted (Python threads cannot be killed): it finishes in the background,
    holding one of SEG_THREADS, and its late answer is dropped. An answer that has started
    is left to finish.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        request = asyncio.current_task()
        assert request is not None
        started = False
        answer: asyncio.Task[None] | None = None

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answer is not None:
                return  # the late answer of a request already answered 504
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        def expire() -> None:
            nonlocal answer
            if not started:
                response = error_response(RequestTimeoutError(self.seconds))
                answer = loop.create_task(response(scope, receive, send))
                request.cancel()

        timer = loop.call_later(self.seconds, expire)
        try:
            await self.app(scope, receive, guarded_send)
        except asyncio.CancelledError:
            if answer is None:
                raise  # cancelled from outside: the client left, the server stops
            request.uncancel()
        except Exception:
            if answer is None:
                raise
            logger.exception("a request failed after it was answered 504")
        finally:
            timer.cancel()
        if answer is not None:
            await answer


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
