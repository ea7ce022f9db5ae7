"""A fixed-seed sample of the training customers, for plotting the segments in space.

Only the cluster features and the segment leave this module: no customer ids, no
profile-only fields. The rows come from the artifact's cleaned training rows
(:func:`training.artifact.read_cleaned`), their segment from the served scorer (equal to
``Pipeline.predict`` on those rows, as verified at load). One sample of at most
:data:`MAX_SAMPLE` rows, in a fixed random order, is drawn once per model version; a
request for ``n`` rows gets its first ``n``, so a smaller sample is part of a larger one.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.state import LoadedModel
from training.artifact import read_cleaned

__all__ = ["DEFAULT_SAMPLE", "MAX_SAMPLE", "SAMPLE_SEED", "TrainingSample", "training_sample"]

DEFAULT_SAMPLE = 2000
MAX_SAMPLE = 5000
SAMPLE_SEED = 0
Value = float | str | None


@dataclass(frozen=True)
class TrainingSample:
    """Cluster feature values (``None`` where missing) and segment of sampled customers."""

    model_version: str
    n_customers: int
    columns: dict[str, list[Value]]
    segment_id: list[int]

    def head(self, n: int) -> TrainingSample:
        return TrainingSample(
            model_version=self.model_version,
            n_customers=self.n_customers,
            columns={name: values[:n] for name, values in self.columns.items()},
            segment_id=self.segment_id[:n],
        )


def _column(values: np.ndarray) -> list[Value]:
    # NaN is not JSON: a missing value (imputed by the model) is sent as null.
    if values.dtype == object:
        return [value if isinstance(value, str) else None for value in values.tolist()]
    return [None if math.isnan(value) else value for value in values.tolist()]


def _draw(model: LoadedModel) -> TrainingSample:
    frame = read_cleaned(model.artifact)
    order = np.random.default_rng(SAMPLE_SEED).permutation(len(frame))[:MAX_SAMPLE]
    rows = frame.iloc[order]
    columns = {
        f.name: rows[f.name].to_numpy(dtype=object if f.kind == "categorical" else np.float64)
        for f in model.spec.cluster_features
    }
    return TrainingSample(
        model_version=model.version,
        n_customers=len(frame),
        columns={name: _column(values) for name, values in columns.items()},
        segment_id=model.scorer.assign(columns).segment.tolist(),
    )


_lock = threading.Lock()
_cached: dict[Path, TrainingSample] = {}  # the sample of the last artifact asked for


def training_sample(model: LoadedModel, n: int) -> TrainingSample:
    """The first ``n`` (<= :data:`MAX_SAMPLE`) customers of the model's fixed-seed sample."""
    with _lock:  # one read of the training rows per model, however many ask at once
        sample = _cached.get(model.artifact.path)
        if sample is None:
            sample = _draw(model)
            _cached.clear()
            _cached[model.artifact.path] = sample
    return sample.head(n)
