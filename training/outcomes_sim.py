"""Simulated campaign outcomes with a known true uplift per segment (``sample-data --outcomes``).

The truths, by segment id (ids beyond 5 reuse the table: id mod 5):

======= =============== ============== =============================
segment base conversion true uplift    true revenue uplift / customer
======= =============== ============== =============================
0       10 %            +6 pp          +3.00
1       12 %            +3 pp          +1.50
2        8 %             0 (no effect)  0.00
3       15 %            +10 pp         +5.00
4        5 %            +1.5 pp        +0.75
======= =============== ============== =============================

A customer converts with probability base (holdout) or base + uplift (treatment); a
converted customer spends a basket drawn from Gamma(shape 2, scale 25) (mean 50), others
spend 0, so the true revenue uplift per customer is the conversion uplift x 50.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.campaigns import TREATMENT

__all__ = ["BASE_RATE", "BASKET_MEAN", "TRUE_UPLIFT", "simulate_outcomes", "true_uplift"]

BASE_RATE = (0.10, 0.12, 0.08, 0.15, 0.05)
TRUE_UPLIFT = (0.06, 0.03, 0.0, 0.10, 0.015)
BASKET_SHAPE, BASKET_SCALE = 2.0, 25.0
BASKET_MEAN = BASKET_SHAPE * BASKET_SCALE


def true_uplift(segment_id: int) -> tuple[float, float]:
    """(conversion uplift, revenue uplift per customer) simulated for ``segment_id``."""
    uplift = TRUE_UPLIFT[segment_id % len(TRUE_UPLIFT)]
    return uplift, uplift * BASKET_MEAN


def simulate_outcomes(
    ids: np.ndarray, segments: np.ndarray, arms: np.ndarray, *, seed: int = 0
) -> pd.DataFrame:
    """Outcomes (id, converted, revenue) of customers with their segment id and arm.

    Parameters
    ----------
    ids, segments, arms : ndarray of shape (n_customers,)
        Customer ids, segment ids (int) and arms ("treatment" / "holdout").
    seed : int
        Same seed, same outcomes.
    """
    rng = np.random.default_rng(seed)
    which = np.asarray(segments, dtype=np.int64) % len(BASE_RATE)
    treated = np.asarray(arms) == TREATMENT
    rate = np.asarray(BASE_RATE)[which] + treated * np.asarray(TRUE_UPLIFT)[which]
    converted = rng.random(len(which)) < rate
    basket = rng.gamma(BASKET_SHAPE, BASKET_SCALE, len(which)).round(2)
    return pd.DataFrame(
        {
            "customer_id": np.asarray(ids),
            "converted": converted.astype(np.int64),
            "revenue": np.where(converted, basket, 0.0),
        }
    )
