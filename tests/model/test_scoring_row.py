"""One customer in plain Python gives bit-for-bit the numpy path's answer (K-Means, and
full or tied Gaussian mixtures)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.artifact import load_artifact
from training.scoring import Scorer, load_scorer
from training.scoring_row import MixtureRowScorer, RowScorer
from training.train import TrainOptions, TrainResult, train

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


@pytest.fixture(scope="module")
def gmm_scorer(gmm_model: TrainResult) -> Scorer:
    return _verified(gmm_model)


def _mixture(classic_path: Path, folder: Path, covariance: str) -> Scorer:
    options = TrainOptions(
        data=classic_path, models_dir=folder, algorithm="gmm", k=4, report=False,
        compare=False, covariance_type=covariance,  # type: ignore[arg-type]
    )  # fmt: skip
    return _verified(train(options))


def test_full_gaussian_mixture_takes_the_row_path(gmm_scorer: Scorer) -> None:
    assert isinstance(gmm_scorer.row, MixtureRowScorer)


@pytest.mark.parametrize(("covariance", "row_path"), [("tied", True), ("diag", False)])
def test_tied_mixtures_take_the_row_path_and_diagonal_ones_numpy(
    classic_path: Path, tmp_path: Path, covariance: str, row_path: bool
) -> None:
    scorer = _mixture(classic_path, tmp_path, covariance)
    assert (scorer.row is not None) is row_path
    if row_path:
        _assert_same(scorer, {"annual_income": 61.5, "spending_score": None})
        _assert_same(scorer, {"annual_income": 137.0, "spending_score": 1.0})


@settings(max_examples=200, deadline=None)
@given(income=numbers, spending=numbers)
def test_mixture_row_path_equals_numpy_path(
    gmm_scorer: Scorer, income: float | None, spending: float | None
) -> None:
    _assert_same(gmm_scorer, {"annual_income": income, "spending_score": spending})


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
    assert isinstance(classic_scorer.row, RowScorer)
    centre = classic_scorer.row.centroids[0]
    mean, scale = classic_scorer.mean, classic_scorer.scale
    income, spending = (np.asarray(centre) * scale + mean).tolist()
    _assert_same(classic_scorer, {"annual_income": income, "spending_score": spending})
