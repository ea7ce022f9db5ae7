"""uvicorn's httptools protocol with limits against hostile connections.

uvicorn bounds none of these with httptools (its ``h11_max_incomplete_event_size`` is for
h11 only, and h11 is several times slower): a 100 MB header was read whole, a connection
sending one header line every 2 s stayed open for good, and at the open-files limit every
health probe failed. ``segments serve`` runs this class (``--http=service.protocol:...``):

- **Header size**: the request line and headers over ``SEG_MAX_HEADER_BYTES`` are answered
  431 and the connection closed, as soon as that many bytes arrived without the headers'
  end (so memory stays bounded whatever is sent).
- **Header time**: a connection that has not sent a whole request head
  ``SEG_HEADER_TIMEOUT`` seconds after it opened (or after the request's first byte) is
  answered 408 and closed. Idle keep-alive connections keep uvicorn's 5 s limit.
- **Connections**: at most ``SEG_MAX_CONNECTIONS`` per worker, and always 100 file
  descriptors under the open-files limit (model files, logs, metrics need some). A new
  connection beyond it closes the one that has waited longest without a complete request
  (a slow or idle client), never one whose request is being answered; with none to close,
  the new one gets 503. uvicorn's ``--limit-concurrency`` is not used: past its limit it
  answers 503 to every request, health probes included, which is the outage it should
  prevent.
"""

from __future__ import annotations

import asyncio
import functools
import http
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from service.config import get_settings

__all__ = ["FD_RESERVE", "ConnectionLimits", "HardenedHttpToolsProtocol", "connection_limits"]

logger = logging.getLogger(__name__)
FD_RESERVE = 100
_LOG_EVERY = 10.0  # seconds between two warnings about closed connections


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout: float
    max_connections: int


@functools.cache
def connection_limits() -> ConnectionLimits:
    """The limits of this process: the settings, the connection cap under RLIMIT_NOFILE."""
    settings = get_settings()
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = settings.max_connections
    if soft != resource.RLIM_INFINITY:
        cap = max(min(cap, soft - FD_RESERVE), 16)
    return ConnectionLimits(settings.max_header_bytes, settings.header_timeout, cap)


def _answer(status: int, message: str) -> bytes:
    body = message.encode()
    phrase = http.HTTPStatus(status).phrase
    return (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class _RefusedError(Exception):
    """Raised inside a parser callback to stop parsing a refused request."""


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a header size limit, a header time limit and a cap."""

    _last_warning = 0.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = connection_limits()
        self.header_bytes = 0  # received while waiting for a request head
        self.waiting_since: float | None = None  # set while no request is being handled
        self.header_timer: asyncio.TimerHandle | None = None
        self.refusal: bytes | None = None

    # Connection life ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_head(timed=True)
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self.waiting_since = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self.waiting_since is not None:
            self.header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # --ws=none: no upgrade is served
            return
        except httptools.HttpParserError:
            if self.refusal is None:
                self.logger.warning("Invalid HTTP request received.")
                self.refusal = _answer(400, "Invalid HTTP request received.")
            self._close_with(self.refusal)
            return
        if self.waiting_since is not None and self.header_bytes > self.limits.max_header_bytes:
            self._close_with(self._too_large())

    # Parser callbacks --------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.header_timer is None:
            self._wait_for_head(timed=True)

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.limits.max_header_bytes:
            self.refusal = self._too_large()
            raise _RefusedError
        self._stop_timer()
        self.waiting_since = None
        self.header_bytes = 0
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._wait_for_head(timed=False)  # idle: uvicorn's keep-alive timer runs

    # Helpers -----------------------------------------------------------------------------

    def _wait_for_head(self, *, timed: bool) -> None:
        if self.waiting_since is None:
            self.waiting_since = time.monotonic()
            self.header_bytes = 0
        if timed and self.header_timer is None:
            timeout = self.limits.header_timeout
            self.header_timer = self.loop.call_later(timeout, self._head_too_slow)

    def _stop_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _head_too_slow(self) -> None:
        self.header_timer = None
        busy = self.cycle is not None and not self.cycle.response_complete
        timeout = self.limits.header_timeout
        self._close_with(None if busy else _answer(408, f"no request head within {timeout:g} s"))

    def _too_large(self) -> bytes:
        limit = self.limits.max_header_bytes
        return _answer(431, f"request line and headers over {limit} bytes (SEG_MAX_HEADER_BYTES)")

    def _close_with(self, answer: bytes | None) -> None:
        self._stop_timer()
        self.waiting_since = None
        if not self.transport.is_closing():
            if answer is not None:
                self.transport.write(answer)
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a request head, or refuse this one."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, HardenedHttpToolsProtocol)
            and c is not self
            and c.waiting_since is not None
            and not c.transport.is_closing()
        ]
        self._warn(len(self.connections))
        if waiting:
            oldest = min(waiting, key=lambda c: c.waiting_since or 0.0)
            oldest._stop_timer()
            oldest.waiting_since = None
            oldest.transport.abort()  # frees its file descriptor now, without a last write
        else:
            self._close_with(_answer(503, "too many connections; retry shortly"))

    @classmethod
    def _warn(cls, open_connections: int) -> None:
        now = time.monotonic()
        if now - cls._last_warning >= _LOG_EVERY:
            cls._last_warning = now
            logger.warning(
                "%d open connections: over SEG_MAX_CONNECTIONS, closing the longest waiting",
                open_connections,
            )
