"""Uplift statistics against scipy / statsmodels, and the analysis on simulated outcomes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from training.campaigns import arm
from training.outcomes_sim import simulate_outcomes, true_uplift
from training.uplift import (
    holm,
    newcombe_interval,
    proportions_row,
    two_proportion_p,
    welch_row,
    wilson_interval,
)
from training.uplift_data import analyse, join_inputs

# (treatment conversions, treatment n, holdout conversions, holdout n)
TABLES = [(45, 300, 30, 310), (0, 50, 3, 40), (120, 1000, 118, 1000), (9, 10, 1, 12)]


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), TABLES)
def test_newcombe_interval_matches_statsmodels(c1: int, n1: int, c2: int, n2: int) -> None:
    expected = confint_proportions_2indep(c1, n1, c2, n2, method="newcomb", compare="diff")
    assert_allclose(newcombe_interval(c1, n1, c2, n2), expected, rtol=1e-12, atol=1e-14)


def test_wilson_interval_matches_scipy() -> None:
    expected = stats.binomtest(45, 300).proportion_ci(method="wilson")
    assert_allclose(wilson_interval(45, 300), (expected.low, expected.high), rtol=1e-12)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), TABLES)
def test_two_proportion_p_matches_statsmodels_and_scipy(c1: int, n1: int, c2: int, n2: int) -> None:
    _, expected = proportions_ztest([c1, c2], [n1, n2])
    assert_allclose(two_proportion_p(c1, n1, c2, n2), expected, rtol=1e-10)
    table = [[c1, n1 - c1], [c2, n2 - c2]]
    chi2 = stats.chi2_contingency(table, correction=False)
    assert_allclose(two_proportion_p(c1, n1, c2, n2), chi2.pvalue, rtol=1e-10)


def test_welch_row_matches_scipy_ttest() -> None:
    rng = np.random.default_rng(7)
    treated, held = rng.gamma(2, 30, 400), rng.gamma(2, 25, 90)
    row = welch_row(
        "1", "x", (treated.mean(), treated.var(ddof=1), 400), (held.mean(), held.var(ddof=1), 90)
    )
    test = stats.ttest_ind(treated, held, equal_var=False)
    ci = test.confidence_interval(0.95)
    assert_allclose((row.ci_low, row.ci_high, row.p_value), (ci.low, ci.high, test.pvalue))
    assert_allclose(row.uplift, treated.mean() - held.mean())
    assert_allclose(row.relative, (treated.mean() - held.mean()) / held.mean())


def test_holm_matches_statsmodels() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    assert_allclose(holm(p), multipletests(p, method="holm")[1])


def test_mde_gives_80_percent_power() -> None:
    row = proportions_row("1", "x", (60, 50), (500, 500))
    se = math.sqrt(0.11 * 0.89 * (2 / 500))
    power = stats.norm.sf(1.959963984540054 - row.mde / se) + stats.norm.cdf(
        -1.959963984540054 - row.mde / se
    )
    assert_allclose(power, 0.80, atol=1e-4)


def test_proportions_row_is_empty_without_a_holdout() -> None:
    row = proportions_row("2", "x", (5, 0), (40, 0))
    assert math.isnan(row.uplift)
    assert math.isnan(row.p_value)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """60,000 customers in 5 segments, holdout 30 %, outcomes with the documented truths."""
    folder = tmp_path_factory.mktemp("uplift")
    n = 60_000
    ids = np.array([f"S-{i:06d}" for i in range(n)], dtype=object)
    segments = np.arange(n) % 5
    arms = np.array([arm("sim", i, 0.3) for i in ids], dtype=object)
    assigned = pd.DataFrame(
        {"customer_id": ids, "segment_id": segments, "campaigns": "other=holdout;sim=" + arms}
    )
    assigned.to_csv(folder / "assigned.csv", index=False)
    simulate_outcomes(ids, segments, arms, seed=11).to_csv(folder / "outcomes.csv", index=False)
    return folder / "assigned.csv", folder / "outcomes.csv"


def test_true_uplift_lies_in_every_interval(simulated: tuple[Path, Path]) -> None:
    rows = analyse(join_inputs(*simulated, "sim"))
    assert len(rows) == 12
    for row in rows:
        if row.segment == "all":
            continue
        truth = true_uplift(int(row.segment))[0 if row.metric == "converted" else 1]
        assert row.ci_low <= truth <= row.ci_high, row


def test_zero_effect_segment_gets_no_evidence(simulated: tuple[Path, Path]) -> None:
    rows = {(r.metric, r.segment): r for r in analyse(join_inputs(*simulated, "sim"))}
    assert rows["converted", "2"].verdict.startswith("no evidence yet: ")
    assert rows["revenue", "2"].verdict.startswith("no evidence yet: ")
    assert rows["converted", "3"].verdict.startswith("uplift: +")
    assert rows["converted", "all"].verdict.startswith("uplift: +")
