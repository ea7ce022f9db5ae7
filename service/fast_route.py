"""``POST /assign`` and ``/assign/batch`` dispatched below the router.

Starlette's routing, FastAPI's request handling and its exception middleware took about a
third of a one-customer request, and solving the batch route's dependencies about 0.4 ms
of a 10,000-customer one (profiles in bench/RESULTS.md's notes). This layer, the innermost
middleware, hands an exact method and path straight to the route's own endpoint (the one
implementation, still registered with FastAPI for OpenAPI, taking only the request) and
answers its errors with the handlers FastAPI would use. Everything else, ``/assign/`` and
other methods included, goes on to the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ServiceError, error_response, validation_response

__all__ = ["Endpoint", "FastRoute"]

Endpoint = Callable[[Request], Awaitable[Response]]


class FastRoute:
    """Serve each ``(route, endpoint)`` of ``routes`` (its method and exact path) directly;
    pass everything else on."""

    def __init__(self, app: ASGIApp, routes: list[tuple[APIRoute, Endpoint]]) -> None:
        self.app = app
        self.routes = {
            (method, route.path): (route, endpoint)
            for route, endpoint in routes
            for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if found is None:
            await self.app(scope, receive, send)
            return
        route, endpoint = found
        scope["route"] = route  # what the router sets: the metrics' route label
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except ServiceError as exc:
            response = error_response(exc)
        except RequestValidationError as exc:
            response = validation_response(exc)
        await response(scope, receive, send)
