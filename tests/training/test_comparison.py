"""The comparison of algorithms: what each finds, and numbers equal to scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

from training.comparison import METRICS_NOTE, compare, dbscan_eps, silhouettes, verdict
from training.manifest import ComparisonRow, SelectionRow
from training.pipeline import build_model
from training.selection import GMM_RULE, choose_k, sweep
from training.train import TrainResult

ORDER = ["kmeans", "gmm", "ward", "dbscan", "hdbscan"]
CENTRES = np.array([[0.0, 0.0], [6.0, 0.0], [3.0, 5.0]])


def _anisotropic() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's classic example: three blobs sheared into long, tilted ellipses."""
    X, truth = make_blobs(n_samples=600, random_state=170)
    return X @ np.array([[0.6, -0.6], [-0.4, 0.8]]), truth


def _with_planted_noise() -> tuple[np.ndarray, np.ndarray]:
    """Three tight blobs and 60 uniform points at least 3 away from every centre."""
    blobs, _ = make_blobs(n_samples=900, centers=CENTRES, cluster_std=0.5, random_state=1)
    scatter = np.random.default_rng(0).uniform(-4, 10, size=(300, 2))
    far = np.linalg.norm(scatter[:, None] - CENTRES, axis=2).min(axis=1) > 3
    noise = scatter[far][:60]
    return np.vstack([blobs, noise]), np.r_[np.zeros(len(blobs), bool), np.ones(60, bool)]


def test_gmm_recovers_anisotropic_blobs_where_kmeans_does_not() -> None:
    X, truth = _anisotropic()
    kmeans = build_model(3).fit(X).labels_
    gmm = build_model(3, algorithm="gmm").fit(X).predict(X)
    assert adjusted_rand_score(truth, gmm) == pytest.approx(1.0)
    assert adjusted_rand_score(truth, kmeans) == pytest.approx(0.577, abs=0.005)
    result = compare(X, kmeans, k=3, served="kmeans")
    assert adjusted_rand_score(truth, result.labels["gmm"]) == pytest.approx(1.0)
    assert adjusted_rand_score(truth, result.labels["kmeans"]) < 0.6


def test_dbscan_finds_the_planted_noise() -> None:
    X, planted = _with_planted_noise()
    result = compare(X, build_model(3).fit(X).labels_, k=3, served="kmeans")
    noise = result.labels["dbscan"] < 0
    assert noise[planted].mean() >= 0.9  # 56 of the 60 planted points
    assert noise[~planted].mean() <= 0.01  # and almost no blob customer
    row = next(r for r in result.comparison.rows if r.algorithm == "dbscan")
    assert row.noise_share == pytest.approx(noise.mean())
    assert row.parameters.startswith("eps=")
    assert row.parameters.endswith("min_samples=4")


def test_comparison_numbers_are_scikit_learn_metrics_on_the_same_labels() -> None:
    X, _ = _with_planted_noise()
    served = build_model(3).fit(X).labels_
    result = compare(X, served, k=3, served="kmeans", sample_size=800)
    table = result.comparison
    assert [r.algorithm for r in table.rows] == ORDER
    assert [r.served for r in table.rows] == [True, False, False, False, False]
    assert (table.sample_size, table.n_customers, table.metrics_note) == (800, 960, METRICS_NOTE)
    assert len(result.rows) == 800
    assert np.all(np.diff(result.rows) > 0)
    Xs, reference = X[result.rows], served[result.rows]
    for row in table.rows:
        labels = result.labels[row.algorithm]
        kept = labels >= 0
        assert row.n_clusters == len(np.unique(labels[kept]))
        assert row.noise_share == pytest.approx(1 - kept.mean())
        assert row.ari_vs_served == pytest.approx(adjusted_rand_score(reference, labels))
        assert row.silhouette == pytest.approx(silhouette_score(Xs[kept], labels[kept]))
        assert row.davies_bouldin == pytest.approx(davies_bouldin_score(Xs[kept], labels[kept]))
        assert row.calinski_harabasz == pytest.approx(
            calinski_harabasz_score(Xs[kept], labels[kept])
        )
        assert row.fit_seconds >= 0


def test_comparison_is_deterministic_for_a_seed() -> None:
    X, _ = _anisotropic()
    served = build_model(3).fit(X).labels_
    a, b = (compare(X, served, k=3, served="kmeans", random_state=3) for _ in range(2))
    for name in ORDER:
        assert adjusted_rand_score(a.labels[name], b.labels[name]) == 1.0
    strip = {"rows": {"__all__": {"fit_seconds"}}}
    assert a.comparison.model_dump(exclude=strip) == b.comparison.model_dump(exclude=strip)


def _row(algorithm: str, silhouette: float | None, noise: float = 0.0) -> ComparisonRow:
    return ComparisonRow(
        algorithm=algorithm,  # type: ignore[arg-type]
        title={"kmeans": "K-Means", "gmm": "Gaussian mixture", "hdbscan": "HDBSCAN"}[algorithm],
        parameters="",
        n_clusters=3,
        noise_share=noise,
        silhouette=silhouette,
        davies_bouldin=None,
        calinski_harabasz=None,
        ari_vs_served=0.5,
        fit_seconds=0.0,
        served=algorithm == "kmeans",
    )


def test_verdict_keeps_the_served_algorithm_or_says_how_to_switch() -> None:
    assert verdict([_row("kmeans", 0.50), _row("gmm", 0.51)], "kmeans") == (
        "K-Means is served and kept: no other algorithm that places at least 90 % of "
        "customers in a cluster has a Silhouette more than 0.02 above its 0.500."
    )
    assert verdict([_row("kmeans", 0.50), _row("gmm", 0.60)], "kmeans") == (
        "Gaussian mixture scores a higher Silhouette (0.600 against K-Means's 0.500, ARI 0.50 "
        "between them). To serve it, retrain with `segments train --algorithm gmm`; K-Means "
        "is served because it was asked for."
    )
    assert verdict([_row("kmeans", 0.50), _row("hdbscan", 0.70, noise=0.05)], "kmeans") == (
        "HDBSCAN scores a higher Silhouette (0.700 against K-Means's 0.500, ARI 0.50 between "
        "them), but it cannot place a new customer (no model of the space, only the sample's "
        "labels), so K-Means stays served; read its clusters as a second opinion on the "
        "segments' shapes."
    )
    noisy = verdict([_row("kmeans", 0.50), _row("hdbscan", 0.90, noise=0.3)], "kmeans")
    assert noisy.startswith("K-Means is served and kept")


def _selection_row(k: int, bic: float, min_share: float = 0.2) -> SelectionRow:
    return SelectionRow(
        k=k,
        wcss=100.0 / k,
        silhouette=0.5,
        calinski_harabasz=100.0,
        davies_bouldin=0.7,
        stability=0.9,
        min_share=min_share,
        bic=bic,
    )


def test_choose_k_for_a_mixture_takes_the_lowest_bic_among_eligible_k() -> None:
    table = [_selection_row(2, 900.0), _selection_row(3, 800.0), _selection_row(4, 700.0, 0.01)]
    selection = choose_k(table, algorithm="gmm")
    assert selection.chosen_k == 3  # k=4 has a lower BIC but a 1 % segment
    assert selection.rule == GMM_RULE.format(min_share=0.05, min_stability=0.8)
    assert selection.reason.startswith("k=3: the lowest BIC (800; Silhouette 0.500) among the 2 k")


def test_gmm_sweep_records_bic_and_recovers_anisotropic_k() -> None:
    X, _ = _anisotropic()
    table = sweep(X, range(2, 6), n_bootstrap=2, algorithm="gmm")
    assert all(row.bic is not None for row in table)
    assert choose_k(table, algorithm="gmm").chosen_k == 3


def test_silhouettes_equal_scikit_learn_with_noise_and_singletons() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    labels = rng.integers(-1, 4, size=300)
    labels[7] = 9  # a singleton cluster: its silhouette is 0, as scikit-learn has it
    kept = labels >= 0
    one_cluster = np.where(kept, 0, -1)
    got = silhouettes(X, [labels, one_cluster])
    assert got[0] == pytest.approx(silhouette_score(X[kept], labels[kept]), rel=1e-12)
    assert got[1] is None


def test_dbscan_eps_on_duplicates_and_tiny_samples() -> None:
    assert dbscan_eps(np.zeros((25, 2)), 4) == 1e-6  # no positive distance at all
    X = np.random.default_rng(0).normal(size=(22, 1))
    result = compare(X, (X[:, 0] > 0).astype(int), k=2, served="kmeans")
    assert [r.algorithm for r in result.comparison.rows] == ORDER
    assert result.comparison.sample_size == 22


def test_comparison_runs_on_the_one_hot_spec(full_model: TrainResult) -> None:
    comparison = full_model.manifest.comparison
    assert comparison is not None
    assert full_model.comparison is not None
    assert [r.algorithm for r in comparison.rows] == ORDER
    assert comparison.sample_size == comparison.n_customers == full_model.manifest.data.rows_kept
    served = comparison.rows[0]
    assert served.served
    assert served.n_clusters == full_model.manifest.n_clusters
    assert served.ari_vs_served == pytest.approx(1.0)  # all rows: the same K-Means fit
