"""What a report is drawn from: a fresh training run or a published artifact.

Both roads lead to one :class:`ReportInputs`, so the figures never know where their data
came from. From an artifact, the design matrix is rebuilt with the artifact's own fitted
preprocessor on its cleaned rows: the same rows through the same transform give the same X.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from training.artifact import (
    SEGMENT_COLUMN,
    Artifact,
    Manifest,
    Profile,
    read_cleaned,
    read_rejected,
)
from training.comparison import ComparisonResult
from training.data import REASON_COLUMN, ROW_COLUMN, CleanResult
from training.pipeline import model_step
from training.spec import FeatureSpec, SegmentationSpec

__all__ = ["REJECTED_EXAMPLES", "ReportInputs"]

REJECTED_EXAMPLES = 10
MIN_PER_SEGMENT = 30  # a sample keeps at least this many rows of every segment (when it has them)


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report needs.

    Attributes
    ----------
    frame : DataFrame of shape (n_samples, n_columns)
        Cleaned customers in original units, NaN where a value was missing.
    labels : ndarray of shape (n_samples,)
        Fitted label of each row, 0..k-1 (the position in ``profile.segments``; the stable
        segment id is ``profile.segments[label].segment_id``).
    X : ndarray of shape (n_samples, n_features)
        The preprocessed (imputed, scaled, encoded) rows K-Means saw.
    centers : ndarray of shape (n_clusters, n_features)
        K-Means centroids (or a Gaussian mixture's means) in the space of ``X``.
    imputation : dict
        Cluster feature -> the value the pipeline puts in for a missing one.
    rejected : DataFrame
        The first few rejected rows: source row number and reason.
    source_version : str or None
        The published version this report was regenerated from, if any.
    comparison : ComparisonResult or None
        The run's comparison of algorithms with its labels (None when regenerated: the
        "Other algorithms" section recomputes it from the manifest's settings).
    """

    spec: SegmentationSpec
    manifest: Manifest
    profile: Profile
    frame: pd.DataFrame
    labels: np.ndarray
    X: np.ndarray
    centers: np.ndarray
    imputation: dict[str, float | str]
    rejected: pd.DataFrame
    source_version: str | None = None
    comparison: ComparisonResult | None = None

    @classmethod
    def from_fit(
        cls,
        spec: SegmentationSpec,
        manifest: Manifest,
        profile: Profile,
        cleaning: CleanResult,
        pipeline: Pipeline,
        X: np.ndarray,
        labels: np.ndarray,
        comparison: ComparisonResult | None,
    ) -> ReportInputs:
        """The inputs of a fresh fit (training calls this: the report never imports train)."""
        return cls(
            spec=spec,
            manifest=manifest,
            profile=profile,
            frame=cleaning.cleaned,
            labels=np.asarray(labels),
            X=X,
            centers=_centres(pipeline),
            imputation=_imputation(pipeline),
            rejected=cleaning.rejected[[ROW_COLUMN, REASON_COLUMN]].head(REJECTED_EXAMPLES),
            comparison=comparison,
        )

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> ReportInputs:
        """Rebuild the inputs of a loaded (already verified) artifact from its files."""
        frame = read_cleaned(artifact)
        ids = frame.pop(SEGMENT_COLUMN).to_numpy(dtype=np.int64)  # stable ids -> labels
        stable = artifact.manifest.lineage.segment_ids or range(artifact.manifest.n_clusters)
        lookup = np.zeros(max(stable) + 1, dtype=np.int64)
        lookup[list(stable)] = np.arange(len(stable))
        labels = lookup[ids]
        return cls(
            spec=artifact.spec,
            manifest=artifact.manifest,
            profile=artifact.profile,
            frame=frame,
            labels=labels,
            X=artifact.pipeline.named_steps["preprocess"].transform(frame),
            centers=_centres(artifact.pipeline),
            imputation=_imputation(artifact.pipeline),
            rejected=read_rejected(artifact, REJECTED_EXAMPLES),
            source_version=artifact.version,
        )

    @property
    def n_clusters(self) -> int:
        return int(self.centers.shape[0])

    @property
    def n_samples(self) -> int:
        return len(self.labels)

    @property
    def random_state(self) -> int:
        return self.manifest.random_state

    @property
    def numeric_features(self) -> list[FeatureSpec]:
        return [f for f in self.spec.features if f.kind == "numeric"]

    @property
    def categorical_features(self) -> list[FeatureSpec]:
        return [f for f in self.spec.features if f.kind == "categorical"]

    @cached_property
    def _order(self) -> np.ndarray:
        return np.random.default_rng(self.random_state).permutation(self.n_samples)

    def sample(self, size: int) -> np.ndarray:
        """Sorted row indices of a fixed-seed sample of at most ``size`` rows (+ top-ups).

        Samples are nested (a smaller one is part of a larger one) and every segment keeps
        at least ``MIN_PER_SEGMENT`` rows where it has them, so a small segment never
        vanishes from a plot.
        """
        if self.n_samples <= size:
            return np.arange(self.n_samples)
        picked, rest = self._order[:size], self._order[size:]
        counts = np.bincount(self.labels[picked], minlength=self.n_clusters)
        extra = [
            rest[self.labels[rest] == seg][: MIN_PER_SEGMENT - counts[seg]]
            for seg in np.flatnonzero(counts < MIN_PER_SEGMENT)
        ]
        return np.sort(np.concatenate([picked, *extra]))

    def sample_note(self, rows: np.ndarray) -> str:
        if len(rows) >= self.n_samples:
            return f"all {self.n_samples:,} customers"
        return f"a fixed-seed sample of {len(rows):,} of {self.n_samples:,} customers"


def _centres(pipeline: Pipeline) -> np.ndarray:
    """K-Means centroids or a mixture's component means, in the space of X."""
    model = model_step(pipeline)
    return np.asarray(
        model.cluster_centers_ if hasattr(model, "cluster_centers_") else model.means_
    )


def _imputation(pipeline: Pipeline) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    for name, transformer, columns in pipeline.named_steps["preprocess"].transformers_:
        if name == "remainder":
            continue
        statistics = transformer.named_steps["impute"].statistics_
        for column, value in zip(columns, statistics, strict=True):
            out[column] = value if isinstance(value, str) else float(value)
    return out
