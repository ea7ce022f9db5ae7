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

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import chdtrc

from service.drift import ATYPICAL, FIRST_SEGMENT, DriftBook, Window
from service.state import LoadedModel

__all__ = ["STATUS_CODE", "FeatureDrift", "Monitoring", "SegmentMix", "monitoring"]

Status = Literal["ok", "watch", "retrain"]
PSI_WATCH, PSI_RETRAIN = 0.10, 0.25
SHIFT_WATCH, SHIFT_RETRAIN = 0.25, 0.5
ATYPICAL_EXPECTED, ATYPICAL_WATCH, ATYPICAL_RETRAIN = 0.01, 2.0, 5.0  # x the training rate
SHARE_FLOOR = 1e-4
STATUS_CODE: dict[Status, int] = {"ok": 0, "watch": 1, "retrain": 2}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentMix(_Out):
    """One segment's share of the live traffic against its share of the training data."""

    segment_id: int = Field(description="Stable segment id (as in GET /segments).")
    training_share: float = Field(description="Share of the training customers, 0-1.")
    live_share: float | None = Field(
        description="Share of the assignments in the window, 0-1; null while the window "
        "holds fewer than SEG_MONITOR_MIN_ASSIGNMENTS."
    )
    live_count: int = Field(description="Assignments to this segment in the window.")


class FeatureDrift(_Out):
    """One numeric cluster feature: its live mean against the training distribution."""

    feature: str = Field(description="Feature name, as in the request schema.")
    training_mean: float = Field(description="Training mean, in the feature's unit.")
    training_std: float = Field(description="Training standard deviation, same unit.")
    live_mean: float | None = Field(
        description="Mean of the values sent in the window (imputed ones excluded); null "
        "while the window holds fewer than SEG_MONITOR_MIN_ASSIGNMENTS."
    )
    shift_sd: float | None = Field(description="(live mean - training mean) / training std.")


class Monitoring(_Out):
    """Drift of the live traffic against the training data (GET /monitoring)."""

    model_version: str = Field(description="The model whose traffic is counted.")
    status: Status = Field(
        description="ok, watch or retrain: the worst level any figure reaches (PSI "
        "0.10 / 0.25, |shift| 0.25 / 0.5 SD, atypical rate 2x / 5x the training one); ok "
        "while the window holds too few assignments."
    )
    reasons: list[str] = Field(description="Which thresholds the figures crossed, in words.")
    assignments: int = Field(description="Assignments in the window, across all workers.")
    window_seconds: float = Field(description="From the oldest bucket in the window to now.")
    workers: int = Field(
        description="Workers whose counts are summed here (those that assigned anyone "
        "within SEG_MONITOR_MAX_SECONDS)."
    )
    psi: float | None = Field(
        description="Population stability index of the live segment mix against the "
        "training one (0.1: some shift, 0.25: major); null with too few assignments."
    )
    chi2_pvalue: float | None = Field(
        description="Chi-square goodness-of-fit p-value of the live segment counts against "
        "the training shares; informative only (tiny for any shift once counts are large)."
    )
    atypical_rate: float | None = Field(
        description="Share of the window's assignments flagged atypical, 0-1."
    )
    expected_atypical_rate: float = Field(
        description="Share of the training customers that are atypical (about 0.01)."
    )
    segments: list[SegmentMix] = Field(description="Every segment of the model, by id.")
    features: list[FeatureDrift] = Field(description="Every numeric cluster feature.")


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
