"""What a training run refuses before fitting: too few rows, an empty column, too few
distinct customers for the k range."""

from __future__ import annotations

import numpy as np

from training.data import CleanResult
from training.spec import SegmentationSpec

__all__ = ["MIN_ROWS", "MIN_ROWS_PER_K", "TrainingError", "check_cleaned", "check_distinct"]

MIN_ROWS_PER_K = 2
MIN_ROWS = 20


class TrainingError(ValueError):
    """Training cannot go on with these options or this data."""


def check_cleaned(cleaning: CleanResult, spec: SegmentationSpec, k_range: range) -> None:
    """Refuse too few kept rows for ``k_range``, or a feature without any valid value."""
    needed = max(MIN_ROWS, MIN_ROWS_PER_K * k_range.stop)
    if cleaning.rows_kept < needed:
        raise TrainingError(
            f"too few valid rows: {cleaning.rows_kept} of {cleaning.rows_read} remain after "
            f"cleaning, need at least {needed} for k in {k_range.start}..{k_range.stop - 1}"
        )
    empty = [f.name for f in spec.features if cleaning.missing[f.name] == cleaning.rows_kept]
    if empty:
        raise TrainingError(
            f"column {empty[0]!r} has no valid value in any of the {cleaning.rows_kept} kept rows"
        )


def check_distinct(X: np.ndarray, k_range: range) -> None:
    """Refuse fewer distinct customers (in the cluster features) than the largest k."""
    k_max = k_range.stop - 1
    # A million rows rarely need the full np.unique: a head with enough distinct rows will do.
    distinct = len(np.unique(X[:20_000], axis=0))
    if distinct < k_max:
        distinct = len(np.unique(X, axis=0))
    if distinct < k_max:
        raise TrainingError(
            f"only {distinct} distinct customers in the cluster features, need at least "
            f"{k_max} for k in {k_range.start}..{k_max}"
        )
