"""The request context: one pure-ASGI middleware around every request.

It pins the model served when the request arrives (the dependencies find it in
``request.state.model``, so a swap during the request cannot mix two models in one answer),
names it in ``X-Model-Version``, times the request, writes the access line and counts it.
Routes that assign put the scorer's results on ``request.state.assigned``
(:func:`record_assignments`); they are counted only once the answer was a 2xx, after it was
sent. Nothing else wraps the model or reaches into the request from outside.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.access_log import AccessLog
from service.metrics import Metrics
from service.state import LoadedModel, ModelHolder
from training.scoring import Assignments

__all__ = [
    "ASSIGNED",
    "MODEL_VERSION_HEADER",
    "PINNED_MODEL",
    "RequestContextMiddleware",
    "record_assignments",
]

PINNED_MODEL = "model"
ASSIGNED = "assigned"
MODEL_VERSION_HEADER = "x-model-version"
ASSIGN_ROUTES = frozenset({"/assign", "/assign/batch", "/assign/transactions"})
UNMATCHED = "unmatched"  # 404s: one label value, whatever path was asked for

logger = logging.getLogger(__name__)


def record_assignments(request: Request, result: Assignments) -> None:
    """Hand a route's scorer results to the request context (counted after a 2xx)."""
    request.state.assigned.append(result)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestContextMiddleware:
    """Pin the model, stamp ``X-Model-Version``, time, log and count every request.

    The access line carries the method, route template (never the raw path or query),
    status, duration and the model version that answered; no customer data.
    """

    def __init__(self, app: ASGIApp, holder: ModelHolder, metrics: Metrics) -> None:
        self.app = app
        self.holder = holder
        self.metrics = metrics
        self.access = AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        model = self.holder.current
        state = scope.setdefault("state", {})
        state[PINNED_MODEL] = model
        assigned: list[Assignments] = []
        state[ASSIGNED] = assigned
        status = 500  # an exception escaping the app becomes a 500

        async def send_in_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if model is not None:
                    MutableHeaders(scope=message).append(MODEL_VERSION_HEADER, model.version)
            await send(message)

        try:
            await self.app(scope, receive, send_in_context)
        finally:
            self._record(scope, status, model, time.perf_counter() - start, assigned)

    def _record(
        self,
        scope: Scope,
        status: int,
        model: LoadedModel | None,
        seconds: float,
        assigned: list[Assignments],
    ) -> None:
        method, route = scope["method"], _route(scope)
        self.metrics.observe_request(method, route, status, seconds)
        if assigned and 200 <= status < 300 and route in ASSIGN_ROUTES:
            try:
                self.metrics.observe_assignments(assigned)
            except Exception:  # a metric must never fail a request that was answered
                logger.exception("could not count the assignments of %s %s", method, route)
        if self.access.enabled():
            version = model.version if model is not None else None
            self.access.add(method, route, status, seconds, version)
