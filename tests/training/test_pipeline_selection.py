from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from training.artifact import SelectionRow
from training.pipeline import build_pipeline
from training.selection import choose_k, sweep
from training.spec import load_spec


def _customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(n)],
            "annual_income": rng.normal(60, 20, n).clip(0),
            "spending_score": rng.uniform(1, 100, n),
            "age": rng.uniform(18, 70, n),
            "gender": rng.choice(np.array(["Female", "Male", np.nan], dtype=object), n),
        }
    )


def test_build_pipeline_imputes_scales_and_encodes() -> None:
    frame = _customers(200, 0)
    frame.loc[0, "age"] = np.nan
    pipeline = build_pipeline(load_spec("mall-full"), 3).fit(frame)
    X = pipeline.named_steps["preprocess"].transform(frame)
    assert X.shape == (200, 5)
    assert_allclose(X[:, :3].mean(axis=0), 0, atol=1e-12)
    assert set(np.unique(X[:, 3:])) == {0.0, 1.0}
    assert_allclose(X[:, 3:].sum(axis=1), 1.0)  # missing gender imputed to the mode
    assert pipeline.named_steps["model"].n_init == 10


def test_build_pipeline_same_seed_same_model() -> None:
    frame = _customers(500, 1)
    a = build_pipeline(load_spec("mall"), 4, random_state=7).fit(frame)
    b = build_pipeline(load_spec("mall"), 4, random_state=7).fit(frame)
    assert adjusted_rand_score(a.predict(frame), b.predict(frame)) == 1.0
    assert_allclose(
        a.named_steps["model"].cluster_centers_, b.named_steps["model"].cluster_centers_
    )


@pytest.mark.parametrize("true_k", [3, 4, 6])
def test_sweep_recovers_true_k_on_blobs(true_k: int) -> None:
    angles = 2 * np.pi * np.arange(true_k) / true_k
    centers = 10 * np.column_stack([np.cos(angles), np.sin(angles)])
    X, _ = make_blobs(n_samples=600, centers=centers, cluster_std=1.0, random_state=true_k)
    table = sweep(X, range(2, 9), n_bootstrap=5)
    selection = choose_k(table)
    assert selection.chosen_k == true_k
    assert [row.k for row in table] == list(range(2, 9))


def test_sweep_samples_at_most_sample_size_rows() -> None:
    X, _ = make_blobs(n_samples=3000, centers=3, random_state=0)
    table = sweep(X, [3], sample_size=500, n_bootstrap=1)
    assert table[0].min_share * 500 == pytest.approx(round(table[0].min_share * 500))


def _row(
    k: int,
    sil: float,
    ch: float,
    db: float,
    share: float = 0.2,
    stab: float = 0.9,
    wcss: float = 1.0,
) -> SelectionRow:
    return SelectionRow(
        k=k,
        wcss=wcss,
        silhouette=sil,
        calinski_harabasz=ch,
        davies_bouldin=db,
        stability=stab,
        min_share=share,
    )


def test_choose_k_skips_tiny_segments_and_unstable_k() -> None:
    table = [
        _row(2, 0.40, 100, 0.9, wcss=100),
        _row(3, 0.50, 150, 0.7, wcss=50),
        _row(4, 0.70, 300, 0.4, share=0.01, wcss=30),  # best metrics, but a 1 % segment
        _row(5, 0.65, 250, 0.5, stab=0.5, wcss=25),  # unstable
    ]
    selection = choose_k(table)
    assert selection.chosen_k == 3
    assert selection.reason.startswith(
        "k=3: the best Silhouette (0.500) and the best "
        "Calinski-Harabasz (150) and the best Davies-Bouldin"
    )
    assert "among the 2 k whose smallest segment holds >= 5% of customers" in selection.reason


def test_choose_k_forced_records_what_the_rule_would_choose() -> None:
    table = [_row(2, 0.4, 100, 0.9), _row(3, 0.5, 150, 0.7)]
    selection = choose_k(table, forced_k=2)
    assert selection.chosen_k == 2
    assert selection.reason == "k=2 was set by the user (--k); the rule alone would choose k=3."


def test_silhouette_scores_equal_sklearn_for_every_labeling() -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from training.selection import silhouette_scores

    X, _ = make_blobs(n_samples=1234, centers=4, random_state=0)
    labelings = [KMeans(k, n_init=1, random_state=0).fit_predict(X) for k in (2, 3, 5, 8)]
    labelings.append(np.r_[np.zeros(1233, dtype=int), 1])  # a singleton segment scores 0
    expected = [silhouette_score(X, labels) for labels in labelings]
    assert_allclose(silhouette_scores(X, labelings, chunk=100), expected, rtol=1e-10)
