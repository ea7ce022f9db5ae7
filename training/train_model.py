"""The model of a training run: k chosen by the sweep, the served pipeline fitted (here, or
by an engine's ``fit``), the other algorithms compared on the same features."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from training.artifact import Selection
from training.comparison import ComparisonResult, compare
from training.manifest import FinalFit
from training.pipeline import DEFAULT_N_INIT, build_pipeline, model_step
from training.selection import select_k
from training.spec import SegmentationSpec
from training.train_checks import TrainingError
from training.train_manifest import Fitted

if TYPE_CHECKING:
    from training.train import TrainOptions

__all__ = ["Fit", "compare_served", "fit_here", "fit_served", "sweep"]

Fit = Callable[[Pipeline, pd.DataFrame, np.ndarray], FinalFit]  # fit in place on (frame, X)


def fit_here(pipeline: Pipeline, frame: pd.DataFrame, X: np.ndarray) -> FinalFit:
    """The default engine: fit the whole pipeline in this process."""
    pipeline.fit(frame)
    return FinalFit()


def sweep(
    options: TrainOptions, X: np.ndarray, k_range: range, on_k: Callable[[int], None] | None
) -> Selection:
    """k by the elbow and the internal scores over ``k_range`` (or the forced one)."""
    return select_k(
        X,
        k_range,
        forced_k=options.k,
        min_share=options.min_share,
        random_state=options.random_state,
        on_k=on_k,
        algorithm=options.algorithm,
        covariance_type=options.covariance_type,
    )


def fit_served(
    options: TrainOptions,
    spec: SegmentationSpec,
    frame: pd.DataFrame,
    X: np.ndarray,
    k: int,
    fit: Fit = fit_here,
) -> Fitted:
    """Fit the served pipeline; its labels, distances to the centres, a mixture's p1 floor,
    and how it was fitted (``fit``: here, or on a Dask cluster)."""
    pipeline = build_pipeline(
        spec,
        k,
        algorithm=options.algorithm,
        covariance_type=options.covariance_type,
        n_init=options.model_n_init,
        random_state=options.random_state,
    )
    final_fit = fit(pipeline, frame, X)
    model = model_step(pipeline)
    if options.algorithm == "kmeans":
        labels, centres, floor = model.labels_, model.cluster_centers_, None
    else:
        labels, centres = model.predict(X), model.means_
        floor = float(np.quantile(model.score_samples(X), 0.01))
        empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
        if len(empty):
            raise TrainingError(
                f"the Gaussian mixture left {len(empty)} of its k={k} components without "
                f"customers: choose a smaller --k"
            )
    distances = np.sqrt(((X - centres[labels]) ** 2).sum(axis=1))
    return Fitted(pipeline, labels, distances, floor, final_fit)


def compare_served(
    options: TrainOptions, X: np.ndarray, labels: np.ndarray, k: int
) -> ComparisonResult:
    return compare(
        X,
        labels,
        k=k,
        served=options.algorithm,
        covariance_type=options.covariance_type,
        n_init=DEFAULT_N_INIT,
        random_state=options.random_state,
    )
