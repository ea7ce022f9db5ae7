"""Prometheus metrics, the access log line, and the assignment counters.

One process: every app has a registry of its own. Several workers
(``PROMETHEUS_MULTIPROC_DIR`` set, as ``segments serve --workers N`` does): each worker
writes its values to files in that folder and ``GET /metrics`` adds them up
(prometheus-client's multiprocess mode), so any worker answers for all of them.

Assignments are counted from what the served model returned (a thin subclass of
:class:`LoadedModel` hands its answers to the request being served), and only once the
response of ``/assign`` or ``/assign/batch`` was a 2xx: a request refused after scoring, or
answered 504, counts nothing. The counting runs after the response is sent.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from contextvars import ContextVar
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.state import LoadedModel, Refusal
from training.scoring import Assignments

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROC_ENV",
    "Metrics",
    "MetricsMiddleware",
    "fresh_multiprocess_dir",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROC_PREFIX = "segments-metrics-"
STALE_SECONDS = 600
CONTENT_TYPE = CONTENT_TYPE_LATEST
ASSIGN_ROUTES = frozenset({"/assign", "/assign/batch"})
UNMATCHED = "unmatched"  # 404s: one label value, whatever path was asked for
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("service.access")
_ASSIGNED: ContextVar[list[Assignments] | None] = ContextVar("assigned", default=None)


class _MeteredModel(LoadedModel):
    """The served model: hands every answer list to the request being served."""

    def score(self, *args: Any, **kwargs: Any) -> Any:
        result = super().score(*args, **kwargs)
        sink = _ASSIGNED.get()
        if sink is not None:
            sink.append(result)
        return result


class Metrics:
    """The service's metrics; also the holder's :class:`~service.state.ModelEvents`."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        registry = None if multiprocess_dir else CollectorRegistry()
        self.registry = registry
        route = ["method", "route", "status"]
        self.requests = Counter(
            "segments_http_requests",
            "HTTP requests by route template and status.",
            route,
            registry=registry,
        )
        self.latency = Histogram(
            "segments_http_request_duration_seconds",
            "Time from the request's arrival to its answer, by route template and status.",
            route,
            buckets=BUCKETS,
            registry=registry,
        )
        self.assignments = Counter(
            "segments_assignments",
            "Customers assigned, by segment id.",
            ["segment"],
            registry=registry,
        )
        self.atypical = Counter(
            "segments_atypical_assignments",
            "Customers assigned but farther from the centre than 99 % of the segment's "
            "training customers, by segment id.",
            ["segment"],
            registry=registry,
        )
        self.model = Gauge(
            "segments_model_info",
            "1 for the model version this worker serves, 0 for versions it served before.",
            ["model_version"],
            multiprocess_mode="liveall",
            registry=registry,
        )
        self.reloads = Counter(
            "segments_model_reloads",
            "Swaps of the served model for a verified candidate (the first load not counted).",
            registry=registry,
        )
        self.refusals = Counter(
            "segments_model_reloads_refused",
            "Candidates refused (the served model, if any, kept serving), by kind: checksum, "
            "signature, untrusted, format, library_version, schema, missing, invalid, error.",
            ["kind"],
            registry=registry,
        )
        self.last_refused = Gauge(
            "segments_model_refused_info",
            "1 for the last refused candidate while no newer one was swapped in "
            "(the reason is in GET /health/ready).",
            ["model_version", "kind"],
            multiprocess_mode="liveall",
            registry=registry,
        )
        self._refused_labels: tuple[str, str] | None = None
        # labels() validates and locks on every call; a request only needs a dict lookup.
        self._per_route: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @classmethod
    def from_environment(cls) -> Metrics:
        """Multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set."""
        return cls(os.environ.get(MULTIPROC_ENV) or None)

    # ModelEvents ---------------------------------------------------------------------------

    def serve(self, model: LoadedModel) -> LoadedModel:
        values = {f.name: getattr(model, f.name) for f in fields(model) if f.init}
        return _MeteredModel(**values)

    def swapped(self, old: LoadedModel | None, new: LoadedModel) -> None:
        if old is not None:
            self.reloads.inc()
            if old.version != new.version:
                self.model.labels(old.version).set(0)
        self.model.labels(new.version).set(1)
        self._clear_refused()

    def refused(self, refusal: Refusal) -> None:
        self.refusals.labels(refusal.kind).inc()
        self._clear_refused()
        self._refused_labels = (refusal.version or "", refusal.kind)
        self.last_refused.labels(*self._refused_labels).set(1)

    def _clear_refused(self) -> None:
        if self._refused_labels is not None:
            self.last_refused.labels(*self._refused_labels).set(0)
            self._refused_labels = None

    # Requests ------------------------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._per_route.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = self.requests.labels(*labels), self.latency.labels(*labels)
            self._per_route[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_assignments(self, results: list[Assignments]) -> None:
        for result in results:
            segments = np.bincount(result.segment)
            atypical = np.bincount(result.segment[result.atypical], minlength=len(segments))
            for segment in np.flatnonzero(segments).tolist():
                self.assignments.labels(str(segment)).inc(int(segments[segment]))
                if atypical[segment]:
                    self.atypical.labels(str(segment)).inc(int(atypical[segment]))

    def exposition(self) -> bytes:
        """The text format of every metric (of every worker in multiprocess mode)."""
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        """At a worker's exit: its live gauges leave the sum."""
        if self.multiprocess_dir:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


def fresh_multiprocess_dir() -> str:
    """A new folder for the workers' metrics files (values left by an earlier run would be
    counted again); folders of servers no longer running are removed on the way."""
    for folder in Path(tempfile.gettempdir()).glob(MULTIPROC_PREFIX + "*"):
        if _stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
    return tempfile.mkdtemp(prefix=MULTIPROC_PREFIX)


def _stale(folder: Path) -> bool:
    # Old (a young, empty one may belong to a server starting now) and no worker alive.
    try:
        if time.time() - folder.stat().st_mtime < STALE_SECONDS:
            return False
        names = [f.name for f in folder.iterdir()]
    except OSError:
        return False
    pids = {int(m[1]) for name in names if (m := re.search(r"_(\d+)\.db$", name))}
    return not any(map(_alive, pids))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class MetricsMiddleware:
    """Count and time every request by route template and status; log one access line.

    The access line carries the method, route template (never the raw path or query),
    status, duration and the model version that answered; no customer data.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, version = 500, None  # an exception escaping the app becomes a 500

        async def observed_send(message: Message) -> None:
            nonlocal status, version
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"x-model-version":
                        version = value.decode("latin-1")
            await send(message)

        assigned: list[Assignments] = []
        token = _ASSIGNED.set(assigned)
        try:
            await self.app(scope, receive, observed_send)
        finally:
            _ASSIGNED.reset(token)
            seconds = time.perf_counter() - start
            self._record(scope, status, version, seconds, assigned)

    def _record(
        self,
        scope: Scope,
        status: int,
        version: str | None,
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
        access_logger.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "model_version": version,
            },
        )
