"""Drift figures of the live traffic against the training data, and when to retrain.

Computed from the sliding window of :mod:`service.drift` (summed across workers):

- **Segment mix**: live share of each segment against its training share, as a population
  stability index, ``PSI = sum((live - train) * ln(live / train))`` (shares floored at
  0.0001), and the p-value of a chi-square goodness-of-fit test (k - 1 degrees of
  freedom). With thousands of assignments the p-value is tiny for differences nobody acts
  on, so it is reported but the status follows PSI.
- **Atypical rate**: customers beyond their segment's training p99 distance. On the
  training data that is about 1 % by construction (the manifest's ``atypical_share``, the
  exact training figure: more on small files, where p99 sits just under each segment's
  farthest customer; 1 % for artifacts without it).
- **Features**: per numeric cluster feature, the live mean and its shift from the training
  mean in training standard deviations.

Status thresholds (the first that holds, worst first)::

    retrain  PSI >= 0.25, or |shift| >= 0.5 SD, or atypical rate >= 5 x the training one
    watch    PSI >= 0.10, or |shift| >= 0.25 SD, or atypical rate >= 2 x the training one
    ok       otherwise, or fewer than SEG_MONITOR_MIN_ASSIGNMENTS in the window

PSI 0.1 / 0.25 are the industry's usual "some shift" / "major shift" lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Literal

import numpy as np
from prometheus_client.core import GaugeMetricFamily, Metric
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import chdtrc

from service.drift import ATYPICAL, FIRST_SEGMENT, DriftBook, Window
from service.state import LoadedModel, ModelHolder

__all__ = ["DriftCollector", "Monitoring", "monitoring"]

logger = logging.getLogger(__name__)
Status = Literal["ok", "watch", "retrain"]
PSI_WATCH, PSI_RETRAIN = 0.10, 0.25
SHIFT_WATCH, SHIFT_RETRAIN = 0.25, 0.5
ATYPICAL_EXPECTED, ATYPICAL_WATCH, ATYPICAL_RETRAIN = 0.01, 2.0, 5.0  # x the training rate
SHARE_FLOOR = 1e-4
STATUS_CODE: dict[Status, int] = {"ok": 0, "watch": 1, "retrain": 2}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentMix(_Out):
    segment_id: int
    training_share: float
    live_share: float | None
    live_count: int


class FeatureDrift(_Out):
    feature: str
    training_mean: float
    training_std: float
    live_mean: float | None = Field(description="Null until the window has enough values.")
    shift_sd: float | None = Field(description="(live mean - training mean) / training std.")


class Monitoring(_Out):
    model_version: str
    status: Status
    reasons: list[str] = Field(description="Which thresholds the figures crossed, in words.")
    assignments: int = Field(description="Assignments in the window, across all workers.")
    window_seconds: float = Field(description="From the oldest bucket in the window to now.")
    workers: int = Field(
        description="Workers whose counts are summed here (those that assigned anyone "
        "within SEG_MONITOR_MAX_SECONDS)."
    )
    psi: float | None
    chi2_pvalue: float | None
    atypical_rate: float | None
    expected_atypical_rate: float = Field(description="The training customers' rate.")
    segments: list[SegmentMix]
    features: list[FeatureDrift]


def _mix(model: LoadedModel, window: Window, enough: bool) -> tuple[list[SegmentMix], np.ndarray]:
    """The live mix by segment id, and its counts in that order."""
    segments = model.artifact.profile.segments  # the drift layout's order (fitted labels)
    counts = window.totals[FIRST_SEGMENT : FIRST_SEGMENT + len(segments)]
    order = sorted(range(len(segments)), key=lambda i: segments[i].segment_id)
    n = window.assignments
    mix = [
        SegmentMix(
            segment_id=segments[i].segment_id,
            training_share=segments[i].share,
            live_share=float(counts[i] / n) if enough else None,
            live_count=int(counts[i]),
        )
        for i in order
    ]
    return mix, counts[order]


def _psi_chi2(train: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    n = counts.sum()
    live = np.maximum(counts / n, SHARE_FLOOR)
    expected = np.maximum(train, SHARE_FLOOR)
    psi = float(((live - expected) * np.log(live / expected)).sum())
    stat = float((((counts - expected * n) ** 2) / (expected * n)).sum())
    return psi, float(chdtrc(max(len(counts) - 1, 1), stat))


def _features(model: LoadedModel, window: Window, enough: bool) -> list[FeatureDrift]:
    out = []
    start = FIRST_SEGMENT + len(model.artifact.profile.segments)
    overall = model.artifact.profile.overall_numeric
    for i, name in enumerate(model.scorer.numeric):
        present, total = window.totals[start + 3 * i], window.totals[start + 3 * i + 1]
        mean, std = overall[name].mean, overall[name].std
        live = float(total / present) if enough and present else None
        shift = (live - mean) / std if live is not None and std > 0 else None
        out.append(
            FeatureDrift(
                feature=name, training_mean=mean, training_std=std, live_mean=live, shift_sd=shift
            )
        )
    return out


def _status(
    psi: float | None, atypical: float | None, expected: float, features: list[FeatureDrift]
) -> tuple[Status, list[str]]:
    reasons: list[tuple[Status, str]] = []
    if psi is not None and psi >= PSI_WATCH:
        level: Status = "retrain" if psi >= PSI_RETRAIN else "watch"
        reasons.append(
            (
                level,
                f"segment mix PSI {psi:.3f} >= {PSI_RETRAIN if level == 'retrain' else PSI_WATCH}",
            )
        )
    if atypical is not None and atypical >= ATYPICAL_WATCH * expected:
        level = "retrain" if atypical >= ATYPICAL_RETRAIN * expected else "watch"
        times = ATYPICAL_RETRAIN if level == "retrain" else ATYPICAL_WATCH
        reasons.append(
            (level, f"atypical rate {atypical:.1%} >= {times:g} x the training {expected:.1%}")
        )
    for f in features:
        if f.shift_sd is not None and abs(f.shift_sd) >= SHIFT_WATCH:
            level = "retrain" if abs(f.shift_sd) >= SHIFT_RETRAIN else "watch"
            line = SHIFT_RETRAIN if level == "retrain" else SHIFT_WATCH
            reasons.append(
                (level, f"{f.feature} mean moved {f.shift_sd:+.2f} SD (|shift| >= {line})")
            )
    worst = max((STATUS_CODE[level] for level, _ in reasons), default=0)
    status = next(s for s, code in STATUS_CODE.items() if code == worst)
    return status, [text for _, text in reasons]


def monitoring(model: LoadedModel, book: DriftBook, min_assignments: int) -> Monitoring:
    """The drift figures of ``model``'s live traffic over the window."""
    window = book.window(model.version, model.drift_layout)
    n = window.assignments
    enough = n >= min_assignments
    mix, counts = _mix(model, window, enough)
    features = _features(model, window, enough)
    psi = chi2 = atypical = None
    expected = model.artifact.manifest.atypical_share or ATYPICAL_EXPECTED
    if enough:
        train = np.array([s.training_share for s in mix])
        psi, chi2 = _psi_chi2(train, counts)
        atypical = float(window.totals[ATYPICAL] / n)
    status, reasons = _status(psi, atypical, expected, features)
    if not enough:
        reasons = [f"{n} assignments in the window, fewer than {min_assignments}: too few to judge"]
    return Monitoring(
        model_version=model.version,
        status=status,
        reasons=reasons,
        assignments=n,
        window_seconds=round(window.seconds, 3),
        workers=window.workers,
        psi=psi,
        chi2_pvalue=chi2,
        atypical_rate=atypical,
        expected_atypical_rate=expected,
        segments=mix,
        features=features,
    )


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
