"""The scorer agrees with Pipeline.predict for any valid customer, not only training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from training.scoring import Scorer
from training.train import TrainResult

values = st.one_of(st.just(np.nan), st.floats(0, 10000))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(values, st.one_of(st.just(np.nan), st.floats(1, 100))), min_size=1, max_size=30
    )
)
def test_scorer_segment_equals_pipeline_predict(
    classic_model: TrainResult, rows: list[tuple[float, float]]
) -> None:
    scorer = Scorer.from_pipeline(
        classic_model.pipeline, classic_model.spec, [np.inf] * classic_model.manifest.n_clusters
    )
    frame = pd.DataFrame(rows, columns=["annual_income", "spending_score"], dtype=float)
    got = scorer.assign({name: frame[name].to_numpy() for name in frame}).segment
    np.testing.assert_array_equal(got, classic_model.pipeline.predict(frame))


# Missing is NaN, as training writes it: sklearn's SimpleImputer does not see None as
# missing in an object column (it would one-hot it as an unknown category).
genders = st.one_of(st.just(np.nan), st.sampled_from(["Female", "Male"]))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(values, st.floats(1, 100), st.floats(0, 120), genders), min_size=1, max_size=30
    )
)
def test_scorer_with_one_hot_equals_pipeline_predict(
    full_model: TrainResult, rows: list[tuple[float, float, float, str | float]]
) -> None:
    spec = full_model.manifest.spec
    scorer = Scorer.from_pipeline(
        full_model.pipeline, spec, [np.inf] * full_model.manifest.n_clusters
    )
    frame = pd.DataFrame(rows, columns=["annual_income", "spending_score", "age", "gender"])
    frame = frame.astype({"annual_income": float, "spending_score": float, "age": float})
    columns = {name: frame[name].to_numpy() for name in frame}
    got = scorer.assign(columns).segment
    np.testing.assert_array_equal(got, full_model.pipeline.predict(frame))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.integers(1, 7).flatmap(
        lambda k: st.lists(
            st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 1e-300, 7.25]), min_size=k, max_size=k),
            min_size=1,
            max_size=20,
        )
    )
)
def test_two_smallest_per_customer_are_the_sorted_first_two(rows: list[list[float]]) -> None:
    # Distances as (centres, customers), with ties: the second equals the first on a tie.
    from training.scoring_models import _two_smallest

    per_centre = np.array(rows, dtype=float).T
    smallest, second = _two_smallest(per_centre)
    ordered = np.sort(per_centre, axis=0)
    np.testing.assert_array_equal(smallest, ordered[0])
    expected = ordered[1] if len(per_centre) > 1 else np.full(per_centre.shape[1], np.inf)
    np.testing.assert_array_equal(second, expected)
