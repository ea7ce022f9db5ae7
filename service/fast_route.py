"""``POST /assign`` dispatched below the router: the busiest route skips route matching.

Starlette's routing, FastAPI's request handling and its exception middleware took about a
third of a one-customer request (bench/serve.py profile). This layer, the innermost
middleware, hands an exact ``POST /assign`` straight to the route's own endpoint
(:func:`service.routes.assign.assign_customer`, the one implementation, still registered
with FastAPI for OpenAPI) and answers its errors with the handlers FastAPI would use.
Everything else, ``/assign/`` and other methods included, goes on to the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ServiceError, error_response, validation_response

__all__ = ["FastRoute"]

Endpoint = Callable[[Request], Awaitable[Response]]


class FastRoute:
    """Serve ``method path`` with ``endpoint`` directly; pass everything else on."""

    def __init__(self, app: ASGIApp, method: str, route: APIRoute, endpoint: Endpoint) -> None:
        self.app = app
        self.method = method
        self.route = route
        self.path = route.path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != self.method:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the router sets: the metrics' route label
        request = Request(scope, receive, send)
        try:
            response = await self.endpoint(request)
        except ServiceError as exc:
            response = error_response(exc)
        except RequestValidationError as exc:
            response = validation_response(exc)
        await response(scope, receive, send)
