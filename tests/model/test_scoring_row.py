"""One customer in plain Python gives bit-for-bit the numpy path's answer (K-Means only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.artifact import load_artifact
from training.scoring import Scorer, load_scorer
from training.train import TrainResult

numbers = st.one_of(st.none(), st.just(math.nan), st.floats(0, 10000))
genders = st.one_of(st.none(), st.just(math.nan), st.sampled_from(["Female", "Male"]))


def _verified(result: TrainResult) -> Scorer:
    return load_scorer(load_artifact(result.path.parent, result.path.name))


def _assert_same(scorer: Scorer, customer: dict[str, object]) -> None:
    columns = {name: [value] for name, value in customer.items()}
    row, arrays = scorer.assign(columns), scorer._assign_arrays(columns)
    assert row.segment.tolist() == arrays.segment.tolist()
    assert row.distance.tolist() == arrays.distance.tolist()  # exact, not approximately
    assert row.confidence.tolist() == arrays.confidence.tolist()
    assert row.atypical.tolist() == arrays.atypical.tolist()
    assert {k: v.tolist() for k, v in row.imputed.items()} == {
        k: v.tolist() for k, v in arrays.imputed.items()
    }


@pytest.fixture(scope="module")
def classic_scorer(classic_model: TrainResult) -> Scorer:
    return _verified(classic_model)


@pytest.fixture(scope="module")
def full_scorer(full_model: TrainResult) -> Scorer:
    return _verified(full_model)


def test_verified_kmeans_scorer_takes_the_row_path(classic_scorer: Scorer) -> None:
    assert classic_scorer.row is not None


def test_gaussian_mixture_keeps_the_numpy_path(gmm_model: TrainResult) -> None:
    assert _verified(gmm_model).row is None


@settings(max_examples=200, deadline=None)
@given(income=numbers, spending=numbers)
def test_row_path_equals_numpy_path(
    classic_scorer: Scorer, income: float | None, spending: float | None
) -> None:
    _assert_same(classic_scorer, {"annual_income": income, "spending_score": spending})


@settings(max_examples=200, deadline=None)
@given(income=numbers, spending=numbers, age=numbers, gender=genders)
def test_row_path_with_one_hot_equals_numpy_path(
    full_scorer: Scorer,
    income: float | None,
    spending: float | None,
    age: float | None,
    gender: str | float | None,
) -> None:
    if full_scorer.row is None:  # refused at load: the numpy path answers, nothing to compare
        pytest.skip("the row path did not match the numpy path on this model's training rows")
    customer = {"annual_income": income, "spending_score": spending, "age": age}
    _assert_same(full_scorer, customer | {"gender": gender})


def test_row_path_at_a_centre_has_zero_distance_and_full_confidence(
    classic_scorer: Scorer,
) -> None:
    assert classic_scorer.row is not None
    centre = classic_scorer.row.centroids[0]
    mean, scale = classic_scorer.mean, classic_scorer.scale
    income, spending = (np.asarray(centre) * scale + mean).tolist()
    _assert_same(classic_scorer, {"annual_income": income, "spending_score": spending})
