"""The rfm spec on the bundled sample: personas recovered, log1p inside the pipeline,
RFM scores and labels, the recipe in the manifest."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from tests.transactions.conftest import SAMPLE_CUSTOMERS, SAMPLE_SEED, SAMPLE_TX
from training.artifact import load_artifact, read_cleaned
from training.rfm import rfm_scores
from training.sample_transactions import generate_transactions
from training.scoring import load_scorer
from training.train import TrainResult


def test_sample_transactions_file_is_the_generator_output() -> None:
    frame, _ = generate_transactions(SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)
    bundled = pd.read_csv(SAMPLE_TX, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(bundled, frame.astype(str))
    assert SAMPLE_TX.stat().st_size < 1_000_000


def test_rfm_model_recovers_the_generator_personas(rfm_model: TrainResult) -> None:
    _, personas = generate_transactions(SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)
    ids = rfm_model.cleaning.cleaned["customer_id"].to_numpy()
    ari = adjusted_rand_score(personas.loc[ids].to_numpy(), rfm_model.labels)
    assert ari >= 0.6


def test_rfm_scorer_applies_log1p_and_equals_predict(rfm_model: TrainResult) -> None:
    artifact = load_artifact(rfm_model.path.parent, rfm_model.path.name)
    scorer = load_scorer(artifact)  # raises unless equal to Pipeline.predict on every row
    assert scorer.log1p.tolist() == [True, True, True]
    frame = read_cleaned(artifact)
    X = rfm_model.pipeline.named_steps["preprocess"].transform(frame)
    mean = np.log1p(frame[["recency_days", "frequency", "monetary"]].to_numpy()).mean(axis=0)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(scorer.mean, mean, rtol=1e-12)


def test_rfm_profiles_stay_in_original_units(rfm_model: TrainResult) -> None:
    frame = rfm_model.cleaning.cleaned
    overall = rfm_model.profile.overall_numeric["monetary"]
    assert overall.mean == np.float64(frame["monetary"].mean())
    mixes = [s.categorical["rfm_label"] for s in rfm_model.profile.segments]
    assert all(abs(sum(mix.values()) - 1.0) < 1e-9 for mix in mixes)


def test_manifest_records_the_recipe(rfm_model: TrainResult) -> None:
    recipe = rfm_model.manifest.recipe
    assert recipe is not None
    assert recipe.as_of == "2025-01-01"  # the day after the last line (2024-12-31)
    assert recipe.mapping == {
        "customer_id": "CustomerID",
        "date": "InvoiceDate",
        "quantity": "Quantity",
        "price": "UnitPrice",
        "order_id": "InvoiceNo",
        "channel": "Channel",
        "coupon": "Coupon",
    }
    assert recipe.lines_read == 12871
    assert recipe.rejection_reasons == {
        "customer_id: missing": 8,
        "date: cannot parse": 7,
        "price: not a number": 7,
    }
    assert sorted(recipe.rfm_edges) == ["frequency", "monetary", "recency_days"]
    assert "GROUP BY customer_id" in recipe.sql
    assert "rejected_lines.csv" in rfm_model.manifest.files


def test_rfm_scores_and_labels_by_hand() -> None:
    edges = {
        "recency_days": [10.0, 20.0, 30.0, 40.0],
        "frequency": [1.0, 2.0, 3.0, 4.0],
        "monetary": [10.0, 20.0, 30.0, 40.0],
    }
    frame = pd.DataFrame(
        {
            "recency_days": [5.0, 50.0, 50.0, 25.0, 5.0, 50.0],
            "frequency": [9.0, 9.0, 1.0, 3.0, 1.0, 1.0],
            "monetary": [99.0, 99.0, 5.0, 25.0, 5.0, 35.0],
        }
    )
    got = rfm_scores(frame, edges)
    assert got["r_score"].tolist() == [5, 1, 1, 3, 5, 1]
    assert got["f_score"].tolist() == [5, 5, 1, 3, 1, 1]
    assert got["m_score"].tolist() == [5, 5, 1, 3, 1, 4]
    assert got["rfm_label"].tolist() == [
        "Champions",
        "Can't lose",
        "Lost",
        "Need attention",
        "New",
        "Hibernating",
    ]
