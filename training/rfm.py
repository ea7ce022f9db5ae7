"""Classic RFM scores (quintiles 1-5) and the standard RFM label map.

The quintile edges come from the training customers and are recorded in the artifact, so a
new customer is scored against the same population in every path. R is reversed: the most
recent fifth scores 5. Labels follow the usual R x F grid, with ``Lost`` for the customers
of the lowest R, F and M.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RFM_COLUMNS", "RFM_LABELS", "rfm_edges", "rfm_scores"]

RFM_COLUMNS = ("recency_days", "frequency", "monetary")
SCORE_COLUMNS = ("r_score", "f_score", "m_score")
LABEL_COLUMN = "rfm_label"
RFM_LABELS = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose",
    "Hibernating",
    "Lost",
)
# _GRID[r - 1][f - 1]: the label of an R score and an F score.
_GRID = (
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"),
    ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
)
QUINTILES = (0.2, 0.4, 0.6, 0.8)


def rfm_edges(features: pd.DataFrame) -> dict[str, list[float]]:
    """Quintile edges of recency, frequency and monetary (4 per feature)."""
    return {
        name: [float(v) for v in np.quantile(features[name].to_numpy(np.float64), QUINTILES)]
        for name in RFM_COLUMNS
    }


def _score(values: np.ndarray, edges: list[float], *, reverse: bool) -> np.ndarray:
    if reverse:  # fewer days since the last order is better: <= first edge scores 5
        return 5 - np.searchsorted(edges, values, side="left")
    return 1 + np.searchsorted(edges, values, side="left")


def rfm_scores(features: pd.DataFrame, edges: dict[str, list[float]]) -> pd.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score`` (1-5) and ``rfm_label`` to a copy."""
    r = _score(features["recency_days"].to_numpy(np.float64), edges["recency_days"], reverse=True)
    f = _score(features["frequency"].to_numpy(np.float64), edges["frequency"], reverse=False)
    m = _score(features["monetary"].to_numpy(np.float64), edges["monetary"], reverse=False)
    grid = np.array(_GRID, dtype=object)
    labels = grid[r - 1, f - 1]
    labels[(r == 1) & (f == 1) & (m <= 2)] = "Lost"
    out = features.copy()
    for name, values in zip(SCORE_COLUMNS, (r, f, m), strict=True):
        out[name] = values.astype(np.int64)
    out[LABEL_COLUMN] = labels
    return out
