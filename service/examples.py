"""Synthetic customers for the OpenAPI page: never a training customer.

One example per segment, built from the segment's profile (not from any training row): a
made-up id, each numeric feature at the segment median rounded to a multiple of 5 (kept
within the spec's bounds), each categorical one at the segment's most common value. An
example is shown only if the scorer places it in the segment it is named after.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from service.request_models import Example
from training.artifact import Profile, SegmentProfile
from training.scoring import Scorer
from training.spec import FeatureSpec, SegmentationSpec

__all__ = ["EXAMPLE_ID_PREFIX", "synthetic_customers"]

EXAMPLE_ID_PREFIX = "example-"
STEP = 5.0


def _round(value: float, feature: FeatureSpec) -> float | int:
    rounded = STEP * round(value / STEP)
    if feature.min is not None:
        rounded = max(rounded, feature.min)
    if feature.max is not None:
        rounded = min(rounded, feature.max)
    return int(rounded) if float(rounded).is_integer() else rounded


def _customer(
    segment: SegmentProfile, spec: SegmentationSpec, rounded: bool
) -> dict[str, Any] | None:
    customer: dict[str, Any] = {spec.id.name: f"{EXAMPLE_ID_PREFIX}{segment.segment_id + 1}"}
    for feature in spec.features:
        if feature.kind == "numeric":
            summary = segment.numeric.get(feature.name)
            if summary is None or not math.isfinite(summary.median):
                return None
            median = summary.median
            customer[feature.name] = _round(median, feature) if rounded else round(median, 1)
        else:
            mix = segment.categorical.get(feature.name) or {}
            if not mix:
                return None
            customer[feature.name] = max(mix, key=mix.__getitem__)
    return customer


def _segment_of(customer: dict[str, Any], scorer: Scorer) -> int:
    columns = {name: [customer[name]] for name in (*scorer.numeric, *scorer.categorical)}
    return int(np.asarray(scorer.assign(columns).segment)[0])


def synthetic_customers(profile: Profile, spec: SegmentationSpec, scorer: Scorer) -> list[Example]:
    """One made-up customer per segment that the scorer places in that segment."""
    examples = []
    for segment in profile.segments:
        for rounded in (True, False):
            customer = _customer(segment, spec, rounded)
            if customer is not None and _segment_of(customer, scorer) == segment.segment_id:
                summary = f"{segment.name}: a typical customer (made up)"
                examples.append(Example(summary, customer))
                break
    return examples
