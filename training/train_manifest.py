"""The manifest of a training run: its base from the options and the data, then what the
fit, the segment ids, the comparison and a transactions recipe add."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from training import artifact
from training.artifact import DataSummary, Manifest, Selection
from training.comparison import ComparisonResult
from training.data import CleanResult
from training.features import FeatureResult
from training.manifest import FinalFit, Lineage, Recipe
from training.spec import SegmentationSpec

if TYPE_CHECKING:
    from training.train import TrainOptions

__all__ = ["Fitted", "base_manifest", "finish_manifest"]


@dataclass(frozen=True)
class Fitted:
    """The served pipeline, fitted: its labels, distances to their centres, a mixture's
    1st-percentile log-likelihood (None for K-Means) and how it was fitted."""

    pipeline: Pipeline
    labels: np.ndarray
    distances: np.ndarray
    floor: float | None
    final_fit: FinalFit


def base_manifest(
    options: TrainOptions,
    spec: SegmentationSpec,
    cleaning: CleanResult,
    data_hash: str,
    selection: Selection,
) -> Manifest:
    """What the options, the data and the choice of k say."""
    return Manifest(
        format_version=artifact.FORMAT_VERSION,
        created_at=datetime.now(UTC),
        libraries=artifact.library_versions(),
        spec=spec,
        data=DataSummary(
            source=Path(options.data).name,
            fingerprint=data_hash,
            rows_read=cleaning.rows_read,
            rows_kept=cleaning.rows_kept,
            rows_rejected=len(cleaning.rejected),
            duplicates=cleaning.duplicates,
            missing=cleaning.missing,
            rejection_reasons=cleaning.reason_counts(),
        ),
        selection=selection,
        n_clusters=selection.chosen_k,
        n_init=options.model_n_init,
        random_state=options.random_state,
        distance_percentiles={},
        has_report=options.report,
        algorithm=options.algorithm,
        covariance_type=options.covariance_type if options.algorithm == "gmm" else None,
    )


def finish_manifest(
    manifest: Manifest,
    fitted: Fitted,
    lineage: Lineage,
    comparison: ComparisonResult | None,
    transactions: tuple[FeatureResult, Recipe] | None,
    ids: pd.Series,
) -> None:
    """Add the fit, the stable ids, distance percentiles, the comparison and the recipe
    (with each segment's monthly spend; ``ids`` are the kept customers')."""
    labels, distances = fitted.labels, fitted.distances
    manifest.log_likelihood_p01 = fitted.floor
    manifest.final_fit = fitted.final_fit
    manifest.lineage = lineage
    manifest.distance_percentiles = _percentiles(distances, labels, lineage.segment_ids)
    if fitted.floor is None:  # K-Means: atypical beyond the p99 distance (a mixture: below p01)
        p99 = np.array([manifest.distance_percentiles[str(i)]["p99"] for i in lineage.segment_ids])
        manifest.atypical_share = float(np.mean(distances > p99[labels]))
    if comparison is not None:
        manifest.comparison = comparison.comparison
    if transactions is not None:
        result, recipe = transactions
        if result.monthly is not None:
            from training.behaviour import monthly_by_segment

            stable = np.asarray(lineage.segment_ids, dtype=np.int64)[labels]
            recipe.monthly_spend = monthly_by_segment(result.monthly, ids, stable)
        manifest.recipe = recipe


def _percentiles(
    distances: np.ndarray, labels: np.ndarray, ids: list[int]
) -> dict[str, dict[str, float]]:
    out = {}  # keyed by stable segment id
    for seg, sid in enumerate(ids):
        d = distances[labels == seg]
        qs = np.quantile(d, [0.5, 0.9, 0.95, 0.99]) if len(d) else [np.inf] * 4
        out[str(sid)] = {
            "p50": float(qs[0]),
            "p90": float(qs[1]),
            "p95": float(qs[2]),
            "p99": float(qs[3]),
            "max": float(d.max()) if len(d) else float("inf"),
        }
    return out
