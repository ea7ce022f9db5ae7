"""The mixture scorer equals GaussianMixture.predict, row by row and batch by batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import Pipeline

from training.data import clean, load_table
from training.manifest import COVARIANCE_TYPES, CovarianceType
from training.pipeline import build_pipeline, model_step
from training.scoring import Scorer
from training.scoring_models import MixtureModel
from training.spec import load_spec

values = st.one_of(st.just(np.nan), st.floats(0, 10000))
rows_strategy = st.lists(
    st.tuples(values, st.one_of(st.just(np.nan), st.floats(1, 100))), min_size=1, max_size=30
)
COLUMNS = ["annual_income", "spending_score"]


@pytest.fixture(scope="module")
def mixtures(classic_path: Path) -> dict[CovarianceType, tuple[Pipeline, Scorer]]:
    """One fitted mixture pipeline (k=5, spec mall) per covariance type, and its scorer."""
    spec = load_spec("mall")
    frame = clean(load_table(classic_path), spec).cleaned
    out = {}
    for cov in COVARIANCE_TYPES:
        pipeline = build_pipeline(spec, 5, algorithm="gmm", covariance_type=cov).fit(frame)
        out[cov] = (pipeline, Scorer.from_pipeline(pipeline, spec, [np.inf] * 5, -5.0))
    return out


def _columns(rows: list[tuple[float, float]]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=float)
    return frame, {name: frame[name].to_numpy() for name in COLUMNS}


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@settings(max_examples=40, deadline=None)
@given(rows=rows_strategy)
def test_mixture_scorer_equals_predict_for_any_customer(
    mixtures: dict[CovarianceType, tuple[Pipeline, Scorer]],
    cov: CovarianceType,
    rows: list[tuple[float, float]],
) -> None:
    pipeline, scorer = mixtures[cov]
    frame, columns = _columns(rows)
    got = scorer.assign(columns)
    assert_array_equal(got.segment, pipeline.predict(frame))
    X = pipeline.named_steps["preprocess"].transform(frame)
    gmm = model_step(pipeline)
    assert_allclose(got.confidence, gmm.predict_proba(X).max(axis=1), rtol=1e-9, atol=1e-12)
    assert isinstance(scorer.model, MixtureModel)
    log_likelihood = scorer.model.log_likelihood(X)
    assert_allclose(log_likelihood, gmm.score_samples(X), rtol=1e-10)
    assert_array_equal(got.atypical, log_likelihood < -5.0)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@settings(max_examples=25, deadline=None)
@given(rows=rows_strategy)
def test_mixture_scorer_batch_equals_single_calls(
    mixtures: dict[CovarianceType, tuple[Pipeline, Scorer]],
    cov: CovarianceType,
    rows: list[tuple[float, float]],
) -> None:
    _, scorer = mixtures[cov]
    batch = scorer.assign(_columns(rows)[1])
    singles = [scorer.assign(_columns([row])[1]) for row in rows]
    for field in ("segment", "distance", "confidence", "atypical"):
        assert_array_equal(
            getattr(batch, field), np.concatenate([getattr(s, field) for s in singles])
        )


def test_mixture_scorer_verifies_on_training_rows_of_every_covariance_type(
    mixtures: dict[CovarianceType, tuple[Pipeline, Scorer]], classic_path: Path
) -> None:
    frame = clean(load_table(classic_path), load_spec("mall")).cleaned
    for pipeline, scorer in mixtures.values():
        scorer.verify(pipeline, frame)  # raises ArtifactError on any mismatch


def test_scorer_reads_pipelines_with_the_legacy_kmeans_step(classic_path: Path) -> None:
    spec = load_spec("mall")
    frame = clean(load_table(classic_path), spec).cleaned
    fitted = build_pipeline(spec, 4).fit(frame)
    legacy = Pipeline([("preprocess", fitted.steps[0][1]), ("kmeans", fitted.steps[1][1])])
    scorer = Scorer.from_pipeline(legacy, spec, [np.inf] * 4)
    scorer.verify(legacy, frame)
    assert scorer.n_clusters == 4


genders = st.one_of(st.just(np.nan), st.sampled_from(["Female", "Male"]))


@pytest.fixture(scope="module")
def full_spec_mixture(classic_path: Path) -> tuple[Pipeline, Scorer]:
    """A mixture on the 'mall-full' spec: gender one-hot inside the density."""
    spec = load_spec("mall-full")
    frame = clean(load_table(classic_path), spec).cleaned
    pipeline = build_pipeline(spec, 4, algorithm="gmm", covariance_type="full").fit(frame)
    return pipeline, Scorer.from_pipeline(pipeline, spec, [np.inf] * 4)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(values, st.floats(1, 100), st.floats(0, 120), genders), min_size=1, max_size=30
    )
)
def test_mixture_scorer_with_one_hot_equals_predict(
    full_spec_mixture: tuple[Pipeline, Scorer], rows: list[tuple[float, float, float, object]]
) -> None:
    pipeline, scorer = full_spec_mixture
    frame = pd.DataFrame(rows, columns=["annual_income", "spending_score", "age", "gender"])
    frame = frame.astype({"annual_income": float, "spending_score": float, "age": float})
    got = scorer.assign({name: frame[name].to_numpy() for name in frame})
    assert_array_equal(got.segment, pipeline.predict(frame))
