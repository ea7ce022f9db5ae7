"""Uplift of a campaign per segment: treatment against holdout, with honest uncertainty.

For each segment and overall, per metric:

- ``converted`` (0/1): rates per arm, absolute uplift (treatment - holdout) with Newcombe's
  hybrid score interval (method 10 of Newcombe 1998: Wilson intervals of each rate,
  combined), the two-sided pooled two-proportion z-test, and the minimum detectable effect
  at 80 % power for the n observed: ``(z_0.975 + z_0.8) * sqrt(p (1 - p) (1/n_t + 1/n_h))``
  with ``p`` the pooled rate.
- ``revenue``: means per arm, difference with Welch's interval and t-test (unequal
  variances, Welch-Satterthwaite degrees of freedom), MDE
  ``(z_0.975 + z_0.8) * sqrt(s_t^2/n_t + s_h^2/n_h)``.

Relative uplift is the difference over the holdout's value. p-values of the segments are
Holm-adjusted within a metric (the overall row is one test on its own). The verdict reads
the adjusted p-value at 5 %: "uplift", "harm", or "no evidence yet".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "ALPHA",
    "POWER",
    "UpliftRow",
    "holm",
    "mde_difference",
    "newcombe_interval",
    "proportions_row",
    "two_proportion_p",
    "verdict",
    "welch_row",
    "wilson_interval",
]

ALPHA = 0.05
POWER = 0.80
_Z = float(stats.norm.ppf(1 - ALPHA / 2))
_Z_POWER = float(stats.norm.ppf(POWER))


@dataclass(frozen=True)
class UpliftRow:
    """One segment (or ``"all"``) and one metric."""

    metric: str
    segment: str  # a segment id as text, or "all"
    segment_name: str
    n_treatment: int
    n_holdout: int
    treatment: float  # conversion rate or mean revenue per customer
    holdout: float
    uplift: float  # treatment - holdout
    ci_low: float
    ci_high: float
    relative: float  # uplift / holdout (nan when the holdout is 0)
    p_value: float
    p_adjusted: float
    mde: float
    verdict: str = ""


def wilson_interval(count: int, n: int, z: float = _Z) -> tuple[float, float]:
    """Wilson score interval of ``count / n`` (no continuity correction)."""
    if n == 0:
        return (0.0, 1.0)
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_interval(c1: int, n1: int, c2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``c1/n1 - c2/n2`` at 95 %."""
    p1, p2 = c1 / n1, c2 / n2
    l1, u1 = wilson_interval(c1, n1)
    l2, u2 = wilson_interval(c2, n2)
    d = p1 - p2
    return (d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2))


def two_proportion_p(c1: int, n1: int, c2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when undefined)."""
    pooled = (c1 + c2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (c1 / n1 - c2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def mde_difference(se: float) -> float:
    """Smallest true difference detected 80 % of the time at 5 % (two-sided), given its SE."""
    return (_Z + _Z_POWER) * se


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (monotone, capped at 1), in the input order."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def _relative(uplift: float, base: float) -> float:
    return uplift / base if base else math.nan


def proportions_row(
    segment: str, name: str, converted: tuple[int, int], n: tuple[int, int]
) -> UpliftRow:
    """The ``converted`` row of one segment: ``converted`` and ``n`` as (treatment, holdout)."""
    (c1, c2), (n1, n2) = converted, n
    if not n1 or not n2:
        return _empty("converted", segment, name, n1, n2)
    p1, p2 = c1 / n1, c2 / n2
    low, high = newcombe_interval(c1, n1, c2, n2)
    pooled = (c1 + c2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = two_proportion_p(c1, n1, c2, n2)
    return UpliftRow(
        "converted", segment, name, n1, n2, p1, p2, p1 - p2, low, high,
        _relative(p1 - p2, p2), p, p, mde_difference(se),
    )  # fmt: skip


def welch_row(
    segment: str, name: str, treated: tuple[float, float, int], held: tuple[float, float, int]
) -> UpliftRow:
    """The ``revenue`` row of one segment from (mean, variance with ddof=1, n) per arm:
    Welch's interval and t-test on the difference of means."""
    (m1, var1, n1), (m2, var2, n2) = treated, held
    if n1 < 2 or n2 < 2:
        return _empty("revenue", segment, name, n1, n2)
    v1, v2 = var1 / n1, var2 / n2
    se = math.sqrt(v1 + v2)
    d = m1 - m2
    if se == 0:
        low = high = d
        p = 1.0 if d == 0 else 0.0
    else:
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        t = float(stats.t.ppf(1 - ALPHA / 2, df))
        low, high = d - t * se, d + t * se
        p = float(2 * stats.t.sf(abs(d / se), df))
    return UpliftRow(
        "revenue", segment, name, n1, n2, m1, m2, d, low, high, _relative(d, m2), p, p,
        mde_difference(se),
    )  # fmt: skip


def _empty(metric: str, segment: str, name: str, n1: int, n2: int) -> UpliftRow:
    nan = math.nan
    return UpliftRow(metric, segment, name, n1, n2, nan, nan, nan, nan, nan, nan, nan, nan, nan)


def verdict(row: UpliftRow, unit: str) -> str:
    """A plain-words reading of one row (its adjusted p-value at 5 %)."""
    if math.isnan(row.p_adjusted):
        return "cannot tell: too few customers in one arm"
    interval = f"95 % CI {_fmt(row.ci_low, unit)} to {_fmt(row.ci_high, unit)}"
    if row.p_adjusted < ALPHA:
        word = "uplift" if row.uplift > 0 else "harm"
        return f"{word}: {_fmt(row.uplift, unit)} ({interval})"
    return (
        f"no evidence yet: {_fmt(row.uplift, unit)} ({interval}, adjusted p = "
        f"{row.p_adjusted:.2g}); effects under {_fmt(row.mde, unit).lstrip('+')} would likely "
        "go unnoticed at this size"
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "pp":
        return f"{value * 100:+.1f} pp"
    return f"{value:+,.2f}{unit}"
