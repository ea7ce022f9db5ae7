"""The drift figures of GET /monitoring as Prometheus gauges, computed at scrape time.

They are already summed across workers (:mod:`service.drift` reads every worker's ring), so
each is one series, registered beside the multiprocess collector rather than in it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from service.drift import DriftBook
from service.monitoring import STATUS_CODE, monitoring
from service.state import ModelHolder

__all__ = ["DriftCollector"]

logger = logging.getLogger(__name__)


class DriftCollector:
    """The drift figures as Prometheus gauges, computed when ``/metrics`` is scraped."""

    def __init__(self, holder: ModelHolder, book: DriftBook, min_assignments: int) -> None:
        self.holder = holder
        self.book = book
        self.min_assignments = min_assignments

    def collect(self) -> Iterator[Metric]:
        model = self.holder.current
        if model is None:
            return
        try:
            m = monitoring(model, self.book, self.min_assignments)
        except Exception:  # the drift gauges must never cost the other metrics
            logger.exception("could not compute the drift gauges")
            return
        version = m.model_version
        singles = (
            (
                "status",
                "Drift status: 0 ok, 1 watch, 2 retrain (GET /monitoring).",
                STATUS_CODE[m.status],
            ),
            (
                "window_assignments",
                "Assignments in the sliding window, all workers.",
                m.assignments,
            ),
            ("segment_psi", "Population stability index of the live segment mix.", m.psi),
            ("segment_chi2_pvalue", "Chi-square p-value of the live segment mix.", m.chi2_pvalue),
            (
                "atypical_rate",
                "Share of atypical assignments in the window (training: about 1 %).",
                m.atypical_rate,
            ),
            (
                "atypical_expected_rate",
                "Share of atypical training customers (about 1 %).",
                m.expected_atypical_rate,
            ),
        )
        for name, doc, value in singles:
            family = GaugeMetricFamily(f"segments_drift_{name}", doc, labels=["model_version"])
            if value is not None:
                family.add_metric([version], value)
            yield family
        labels = ["model_version", "feature"]
        shift = GaugeMetricFamily(
            "segments_drift_feature_shift_sd",
            "Live mean minus training mean of a cluster feature, in training SDs.",
            labels=labels,
        )
        mean = GaugeMetricFamily(
            "segments_drift_feature_mean", "Live mean of a cluster feature.", labels=labels
        )
        for f in m.features:
            if f.shift_sd is not None and f.live_mean is not None:
                shift.add_metric([version, f.feature], f.shift_sd)
                mean.add_metric([version, f.feature], f.live_mean)
        yield shift
        yield mean
