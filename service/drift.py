"""Drift bookkeeping: running counts and sums of the live assignments, in time buckets.

Each worker adds what it scored to a ring of time buckets (``SEG_MONITOR_BUCKET_SECONDS``
wide, kept for ``SEG_MONITOR_MAX_SECONDS``). A bucket row holds, for the model served:

    [bucket start (epoch s), assignments, atypical, count per segment (k columns),
     per numeric cluster feature: values present, their sum, their sum of squares]

Customer values are never stored, only these sums and counts. With several workers
(``PROMETHEUS_MULTIPROC_DIR`` set, as ``segments serve --workers N`` does) each worker's
ring is a memory-mapped file in ``<that folder>/drift/<model version>/<pid>.ring`` and
any worker reads and sums all of them, as the Prometheus multiprocess metrics are summed;
in one process the ring lives in memory. A reader may catch a bucket half updated: the
figures are a monitoring view, off by at most the one request being written.

:meth:`DriftBook.window` picks the sliding window: every bucket of the last
``SEG_MONITOR_MIN_SECONDS``, and older buckets until it holds ``SEG_MONITOR_WINDOW``
assignments (or the ring ends).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DriftBook", "DriftLayout", "DriftRecorder", "Window"]

EPOCH, COUNT, ATYPICAL, FIRST_SEGMENT = 0, 1, 2, 3
SUBFOLDER = "drift"
SUFFIX = ".ring"


@dataclass(frozen=True)
class DriftLayout:
    """Which columns a model's bucket rows have."""

    segment_ids: tuple[int, ...]
    features: tuple[str, ...]  # numeric cluster features

    @property
    def width(self) -> int:
        return FIRST_SEGMENT + len(self.segment_ids) + 3 * len(self.features)

    @property
    def first_feature(self) -> int:
        return FIRST_SEGMENT + len(self.segment_ids)


@dataclass(frozen=True)
class Window:
    """Totals over the sliding window, summed across workers."""

    totals: np.ndarray  # (width,) of the layout; EPOCH column unused
    seconds: float  # from the oldest bucket's start to now
    workers: int  # workers that counted assignments within max_seconds

    @property
    def assignments(self) -> int:
        return int(self.totals[COUNT])


class DriftRecorder:
    """One worker's ring for one model: ``record`` is called beside scoring."""

    def __init__(
        self,
        layout: DriftLayout,
        ring: np.ndarray,
        bucket_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.layout = layout
        self.ring = ring  # (n_slots, width)
        self.bucket_seconds = bucket_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._position = np.full(max(layout.segment_ids) + 1, -1, dtype=np.int64)
        self._position[list(layout.segment_ids)] = np.arange(len(layout.segment_ids))
        self._column = {sid: FIRST_SEGMENT + i for i, sid in enumerate(layout.segment_ids)}
        # Item access on a memoryview is a few times cheaper than on numpy scalars.
        self._flat: Any = memoryview(np.asarray(ring).reshape(-1))  # type: ignore[arg-type]
        self._width, self._first_feature = layout.width, layout.first_feature
        self._features = layout.features
        self._index = -1  # the bucket the cached row belongs to
        self._base = 0  # that row's first item in _flat

    def record(
        self,
        segments: np.ndarray,
        atypical: np.ndarray,
        columns: Mapping[str, Sequence[object] | np.ndarray],
    ) -> None:
        """Add one scored batch: stable ids, atypical flags, the request's columns."""
        if len(segments) == 1:  # one customer: plain Python beats a dozen tiny numpy calls
            self._record_one(segments, atypical, columns)
            return
        layout = self.layout
        delta = np.zeros(layout.width)
        delta[COUNT] = len(segments)
        delta[ATYPICAL] = np.count_nonzero(atypical)
        positions = self._position[segments]
        delta[FIRST_SEGMENT : layout.first_feature] = np.bincount(
            positions, minlength=len(layout.segment_ids)
        )
        start = layout.first_feature
        for name in layout.features:
            values = np.asarray(columns[name], dtype=np.float64)
            present = ~np.isnan(values)
            kept = values[present]
            delta[start : start + 3] = (len(kept), kept.sum(), (kept * kept).sum())
            start += 3
        self._add(delta)

    def _record_one(
        self,
        segments: np.ndarray,
        atypical: np.ndarray,
        columns: Mapping[str, Sequence[object] | np.ndarray],
    ) -> None:
        column = self._column[int(segments[0])]
        odd = 1.0 if atypical[0] else 0.0
        values = [columns[name][0] for name in self._features]
        flat = self._flat
        with self._lock:
            base = self._row_base()
            flat[base + COUNT] += 1.0
            flat[base + ATYPICAL] += odd
            flat[base + column] += 1.0
            at = base + self._first_feature
            for value in values:
                if value is not None and value == value:  # present (not None, not NaN)
                    number = float(value)  # type: ignore[arg-type]
                    flat[at] += 1.0
                    flat[at + 1] += number
                    flat[at + 2] += number * number
                at += 3

    def _add(self, delta: np.ndarray) -> None:
        with self._lock:
            slot = self._row_base() // self._width
            self.ring[slot, 1:] += delta[1:]

    def _row_base(self) -> int:
        """Where the current bucket's row starts in ``_flat``; a new bucket's row is
        cleared first (called under the lock)."""
        index = math.floor(self.clock() / self.bucket_seconds)
        if index != self._index:
            bucket = index * self.bucket_seconds
            slot = index % len(self.ring)
            if self._flat[slot * self._width + EPOCH] != bucket:  # not reopened: start afresh
                self.ring[slot] = 0.0
                self.ring[slot, EPOCH] = bucket
            self._index, self._base = index, slot * self._width
        return self._base


@dataclass
class DriftBook:
    """Where the workers' rings live, and the window read from all of them."""

    window_size: int
    min_seconds: float
    bucket_seconds: float
    max_seconds: float
    directory: Path | None = None  # None: one process, rings in memory
    clock: Callable[[], float] = time.time
    _memory: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_slots(self) -> int:
        return math.ceil(self.max_seconds / self.bucket_seconds) + 1

    def recorder(self, version: str, layout: DriftLayout) -> DriftRecorder:
        """A fresh ring of this worker for the model ``version``."""
        shape = (self.n_slots, layout.width)
        if self.directory is None:
            ring = self._memory.setdefault(version, np.zeros(shape))
        else:
            folder = self.directory / SUBFOLDER / version
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{os.getpid()}{SUFFIX}"
            ring = np.memmap(
                path, dtype=np.float64, mode="r+" if path.exists() else "w+", shape=shape
            )
        return DriftRecorder(layout, ring, self.bucket_seconds, self.clock)

    def _rings(self, version: str, width: int) -> list[np.ndarray]:
        if self.directory is None:
            ring = self._memory.get(version)
            return [] if ring is None else [np.array(ring)]
        rings = []
        for path in sorted((self.directory / SUBFOLDER / version).glob(f"*{SUFFIX}")):
            try:
                data = np.fromfile(path, dtype=np.float64)
            except OSError:  # a worker's file removed meanwhile: it has nothing to add
                continue
            if data.size and data.size % width == 0:
                rings.append(data.reshape(-1, width))
        return rings

    def window(self, version: str, layout: DriftLayout) -> Window:
        """The sliding window's totals for the model ``version``, across every worker."""
        now = self.clock()
        rings = self._rings(version, layout.width)
        rows = np.vstack(rings) if rings else np.zeros((0, layout.width))
        rows = self._live(rows, now)
        workers = sum(bool(self._live(r, now)[:, COUNT].any()) for r in rings)
        if not len(rows):
            return Window(np.zeros(layout.width), 0.0, workers)
        epochs, where = np.unique(rows[:, EPOCH], return_inverse=True)
        per_bucket = np.zeros((len(epochs), layout.width))
        np.add.at(per_bucket, where, rows)
        order = np.argsort(-epochs)  # newest first
        counts_before = np.concatenate([[0.0], np.cumsum(per_bucket[order, COUNT])[:-1]])
        recent = epochs[order] + self.bucket_seconds > now - self.min_seconds
        take = order[recent | (counts_before < self.window_size)]
        totals = per_bucket[take].sum(axis=0)
        return Window(totals, float(now - epochs[take].min()), workers)

    def _live(self, rows: np.ndarray, now: float) -> np.ndarray:
        """The rows of buckets in use and not older than ``max_seconds``."""
        return rows[(rows[:, EPOCH] > 0) & (rows[:, EPOCH] > now - self.max_seconds)]
