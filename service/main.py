"""The application factory: ``create_app(settings)``; the model is loaded in ``lifespan``.

Run it with ``segments serve`` (or ``uvicorn --factory service.main:app_factory``).

Middleware, outermost first: CORS (only with SEG_CORS_ORIGINS), the request context (model
pin and version header, timing, access log, metrics), the time limit, the body limit, the
direct dispatch of ``POST /assign`` (:mod:`service.fast_route`); then the app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import anyio
from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service import docs
from service.campaign_state import CampaignHolder, poll_campaigns
from service.config import Settings, get_settings
from service.context import RequestContextMiddleware
from service.drift import DriftBook
from service.drift_gauges import DriftCollector
from service.errors import install_error_handlers
from service.fast_route import FastRoute
from service.logs import LOG_CONFIG, configure_logging
from service.metrics import Metrics
from service.middleware import (
    BodyLimitMiddleware,
    TimeoutMiddleware,
)
from service.openapi import DESCRIPTION, TAGS, install_openapi
from service.routes import (
    admin,
    assign,
    campaigns,
    health,
    metrics,
    model,
    monitoring,
    profile,
    segments,
    transactions,
)
from service.state import ModelHolder

__all__ = [
    "GRACEFUL_SHUTDOWN_SECONDS",
    "HTTP_PROTOCOL",
    "app_factory",
    "create_app",
    "uvicorn_argv",
]

logger = logging.getLogger(__name__)
# In-flight requests get this long to finish after SIGTERM (under Kubernetes' default 30 s
# grace period, so the process exits before it is killed).
GRACEFUL_SHUTDOWN_SECONDS = 20
# httptools with limits on header size and time and a connection cap (service.protocol).
HTTP_PROTOCOL = "service.protocol:HardenedHttpToolsProtocol"


def _package_version() -> str:
    try:
        return version("customer-segments")
    except PackageNotFoundError:
        return "0.0.0"


async def _poll(holder: ModelHolder, interval: float) -> None:
    """Look at LATEST every ``interval`` seconds, for the life of the worker."""
    while True:
        await anyio.sleep(interval)
        try:
            await holder.reload_async()
        except Exception:  # never let the poll die: the next look may succeed
            logger.exception("looking for a new model failed")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Scoring holds the GIL: anyio's 40 threads only queue on it. A few threads keep the
    # same throughput with a p99 about 4x lower at 32 concurrent clients (bench/serve.py).
    to_thread.current_default_thread_limiter().total_tokens = settings.threads
    holder: ModelHolder = app.state.models
    await holder.reload_async(force=True)  # a failed load still starts: live, not ready
    app.state.campaigns.reload(holder.current)
    async with anyio.create_task_group() as tasks:
        if settings.reload_interval > 0:
            tasks.start_soon(_poll, holder, settings.reload_interval)
            if app.state.campaigns.configured:
                tasks.start_soon(
                    poll_campaigns, app.state.campaigns, holder, settings.reload_interval
                )
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()
            app.state.metrics.close()


def _drift_book(settings: Settings, app_metrics: Metrics) -> DriftBook:
    """Drift rings beside the Prometheus multiprocess files (in memory in one process)."""
    folder = app_metrics.multiprocess_dir
    return DriftBook(
        window_size=settings.monitor_window,
        min_seconds=settings.monitor_min_seconds,
        bucket_seconds=settings.monitor_bucket_seconds,
        max_seconds=settings.monitor_max_seconds,
        directory=Path(folder) if folder else None,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the ``SEG_*`` environment."""
    settings = settings or get_settings()
    app_metrics = Metrics.from_environment()
    book = _drift_book(settings, app_metrics) if settings.monitor else None
    holder = ModelHolder(settings, events=app_metrics, drift=book)
    app = FastAPI(
        title="Customer segments",
        description=DESCRIPTION,
        version=_package_version(),
        openapi_tags=TAGS,
        lifespan=_lifespan,
        openapi_url=None,  # served by service.docs, with /docs and its assets (no CDN)
        docs_url=None,
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks (0.16x) are off: /metrics and the access log are
        # ours, its per-request check cost ~5 % of a one-customer request, and its "logs"
        # record validation failures with their messages (input values: customer data).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.models = holder
    app.state.metrics = app_metrics
    app.state.campaigns = CampaignHolder(settings)
    app.state.drift = book
    if book is not None:
        app_metrics.add_collector(DriftCollector(holder, book, settings.monitor_min_assignments))
    install_error_handlers(app)
    routers = (assign, segments, profile, model, health, metrics, admin, campaigns, docs)
    for module in (*routers, transactions, monitoring):
        app.include_router(module.router)
    app.add_middleware(FastRoute, routes=assign.fast_routes())
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(TimeoutMiddleware, seconds=settings.request_timeout)
    app.add_middleware(RequestContextMiddleware, holder=holder, metrics=app_metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
            expose_headers=["X-Model-Version"],
        )
    install_openapi(app, holder)
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory``: JSON logs, settings from the environment, app."""
    app = create_app(get_settings())
    configure_logging(app.state.models)
    return app


def uvicorn_argv(host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line that serves :func:`app_factory`.

    uvloop and httptools are named, not left to "auto": with the plain asyncio loop and
    several workers the shared socket never gets TCP_NODELAY and every response waits on
    a delayed ACK (~40 ms). The httptools protocol is ours: it bounds header size and time
    and the number of connections (:mod:`service.protocol`). Logs are JSON from the first
    line (``--log-config``); uvicorn's access log is replaced by ours
    (:class:`service.context.RequestContextMiddleware`).
    """
    return [
        "-m",
        "uvicorn",
        "service.main:app_factory",
        "--factory",
        f"--host={host}",
        f"--port={port}",
        f"--workers={workers}",
        "--loop=uvloop",
        f"--http={HTTP_PROTOCOL}",
        "--ws=none",
        "--no-server-header",
        "--no-access-log",
        f"--log-config={LOG_CONFIG}",
        f"--timeout-graceful-shutdown={GRACEFUL_SHUTDOWN_SECONDS}",
    ]
