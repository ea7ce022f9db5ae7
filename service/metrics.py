"""Prometheus metrics and the assignment counters.

One process: every app has a registry of its own. Several workers
(``PROMETHEUS_MULTIPROC_DIR`` set, as ``segments serve --workers N`` does): each worker
writes its values to files in that folder and ``GET /metrics`` adds them up
(prometheus-client's multiprocess mode), so any worker answers for all of them.

The request context (:mod:`service.context`) feeds them: every request's route, status and
time, and the scorer's results a route recorded, counted only once the response of
``/assign`` or ``/assign/batch`` was a 2xx (a request refused after scoring, or answered
504, counts nothing), after the response is sent.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
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
from prometheus_client.registry import Collector

from service.state import LoadedModel, Refusal
from training.scoring import Assignments

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROC_ENV",
    "Metrics",
    "fresh_multiprocess_dir",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROC_PREFIX = "segments-metrics-"
STALE_SECONDS = 600
CONTENT_TYPE = CONTENT_TYPE_LATEST
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

logger = logging.getLogger(__name__)


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
        self._collectors: list[Collector] = []  # computed at scrape time (drift gauges)
        # labels() validates and locks on every call; a request only needs a dict lookup.
        self._per_route: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._per_segment: dict[int, tuple[Any, Any]] = {}  # (assignments, atypical)

    @classmethod
    def from_environment(cls) -> Metrics:
        """Multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set."""
        return cls(os.environ.get(MULTIPROC_ENV) or None)

    # ModelEvents ---------------------------------------------------------------------------

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
            if len(result.segment) == 1:  # one customer (POST /assign): no array work
                self._observe_one(int(result.segment[0]), bool(result.atypical[0]))
                continue
            segments = np.bincount(result.segment)
            atypical = np.bincount(result.segment[result.atypical], minlength=len(segments))
            for segment in np.flatnonzero(segments).tolist():
                self.assignments.labels(str(segment)).inc(int(segments[segment]))
                if atypical[segment]:
                    self.atypical.labels(str(segment)).inc(int(atypical[segment]))

    def _observe_one(self, segment: int, atypical: bool) -> None:
        children = self._per_segment.get(segment)
        if children is None:
            children = self.assignments.labels(str(segment)), self.atypical.labels(str(segment))
            self._per_segment[segment] = children
        children[0].inc()
        if atypical:
            children[1].inc()

    def add_collector(self, collector: Collector) -> None:
        """A collector whose values are already summed across workers (one series each)."""
        self._collectors.append(collector)
        if self.registry is not None:
            self.registry.register(collector)

    def exposition(self) -> bytes:
        """The text format of every metric (of every worker in multiprocess mode)."""
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        for collector in self._collectors:
            registry.register(collector)
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
