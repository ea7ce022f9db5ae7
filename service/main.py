"""The application factory: ``create_app(settings)``; the model is loaded in ``lifespan``.

Run it with ``segments serve`` (or ``uvicorn --factory service.main:app_factory``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from anyio import to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from service.config import Settings, get_settings
from service.errors import install_error_handlers
from service.middleware import BodyLimitMiddleware, ModelVersionHeaderMiddleware
from service.openapi import DESCRIPTION, TAGS, install_openapi
from service.routes import assign, health, model, profile, segments
from service.state import ModelHolder

__all__ = ["app_factory", "create_app"]


def _package_version() -> str:
    try:
        return version("customer-segments")
    except PackageNotFoundError:
        return "0.0.0"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Scoring holds the GIL: anyio's 40 threads only queue on it. A few threads keep the
    # same throughput with a p99 about 4x lower at 32 concurrent clients (bench/serve.py).
    to_thread.current_default_thread_limiter().total_tokens = settings.threads
    holder: ModelHolder = app.state.models
    await run_in_threadpool(holder.load)  # a failed load still starts: live, not ready
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the ``SEG_*`` environment."""
    settings = settings or get_settings()
    holder = ModelHolder(settings)
    app = FastAPI(
        title="Customer segments",
        description=DESCRIPTION,
        version=_package_version(),
        openapi_tags=TAGS,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.models = holder
    install_error_handlers(app)
    app.add_middleware(ModelVersionHeaderMiddleware, holder=holder)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    for module in (assign, segments, profile, model, health):
        app.include_router(module.router)
    install_openapi(app, holder)
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory``: logging, settings from the environment, the app."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(get_settings())


def uvicorn_argv(host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line that serves :func:`app_factory`.

    uvloop and httptools are named, not left to "auto": with the plain asyncio loop and
    several workers the shared socket never gets TCP_NODELAY and every response waits on
    a delayed ACK (~40 ms).
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
        "--http=httptools",
        "--ws=none",
        "--no-server-header",
    ]
