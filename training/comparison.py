"""Other clustering algorithms on the served model's cluster features, in every training run.

On a fixed-seed sample of the design matrix (the imputed, scaled, encoded rows the served
model saw), five algorithms are fitted and scored the same way:

- K-Means and a Gaussian mixture at the chosen k (the two the service can serve);
- agglomerative clustering with Ward linkage at the chosen k;
- DBSCAN, ``min_samples`` = max(4, 2 x the number of features) (the 2 x dimensions rule of
  Sander et al., 1998), ``eps`` at the knee of the sorted k-distance curve (kneed);
- HDBSCAN (scikit-learn's), ``min_cluster_size`` = 1 % of the sample (at least 5).

For each: clusters found, noise share, Silhouette, Davies-Bouldin and Calinski-Harabasz on
the rows placed in a cluster (noise excluded), ARI against the served model's labels on
the same rows (noise counts as one more group) and fit time.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
)
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from training.manifest import Algorithm, Comparison, ComparisonRow, CovarianceType
from training.pipeline import GMM_N_INIT, build_model

__all__ = [
    "COMPARISON_SAMPLE",
    "METRICS_NOTE",
    "TITLES",
    "ComparisonResult",
    "compare",
    "dbscan_eps",
    "dbscan_min_samples",
    "hdbscan_min_cluster_size",
    "silhouettes",
]

# Ward needs the n x n distances: 10,000 rows cost ~1 GB and ~3 s here, 5,000 rows a quarter.
COMPARISON_SAMPLE = 5_000
METRICS_NOTE = (
    "Silhouette, Davies-Bouldin and Calinski-Harabasz are computed on the customers each "
    "algorithm placed in a cluster: noise (DBSCAN, HDBSCAN) is excluded. ARI against the "
    "served model counts noise as one more group."
)
TITLES: dict[str, str] = {
    "kmeans": "K-Means",
    "gmm": "Gaussian mixture",
    "ward": "Agglomerative (Ward)",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
}
Labeller = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ComparisonResult:
    """The manifest's record, plus what the report draws: the sample and every labelling."""

    comparison: Comparison
    rows: np.ndarray  # (sample_size,) sorted row indices into the design matrix
    labels: dict[str, np.ndarray]  # algorithm -> (sample_size,) labels, -1 = noise


def dbscan_min_samples(n_features: int) -> int:
    return max(4, 2 * n_features)


def hdbscan_min_cluster_size(n_samples: int) -> int:
    return max(5, n_samples // 100)


def dbscan_eps(X: np.ndarray, min_samples: int) -> float:
    """``eps`` at the knee of the sorted distances to each row's ``min_samples``-th neighbour.

    The row itself counts as its first neighbour, as DBSCAN counts it in ``min_samples``.
    Without a knee (or at a zero distance: duplicates), the 95th percentile of the positive
    distances is used.
    """
    from kneed import KneeLocator  # imports matplotlib.pyplot: only when training

    distances = NearestNeighbors(n_neighbors=min(min_samples, len(X))).fit(X).kneighbors(X)[0]
    curve = np.sort(distances[:, -1])
    knee = None
    if curve[-1] > curve[0]:  # a flat curve (all duplicates) has no knee: kneed divides by 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no knee found" is an answer here, not a fault
            x = np.arange(len(curve))
            knee = KneeLocator(x, curve, curve="convex", direction="increasing").knee
    eps = float(curve[int(knee)]) if knee is not None else 0.0
    positive = curve[curve > 0]
    if eps <= 0 and len(positive):
        eps = float(np.quantile(positive, 0.95))
    return eps if eps > 0 else 1e-6


def silhouettes(X: np.ndarray, labelings: list[np.ndarray], chunk: int = 500) -> list[float | None]:
    """Mean Silhouette of each labelling on its non-noise rows, in one pass over the distances.

    Equal to ``silhouette_score(X[kept], labels[kept])`` with ``kept = labels >= 0`` (None
    below 2 clusters), but the n x n distances are computed once for every labelling.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labelings : list of ndarray of shape (n_samples,), -1 = noise
    """
    n, rows = len(X), np.arange(len(X))
    codes, sizes = [], []
    for labels in labelings:
        kept = labels >= 0
        found, inverse = np.unique(labels[kept], return_inverse=True)
        code = np.full(n, -1)
        code[kept] = inverse.ravel()
        codes.append(code)
        sizes.append(np.bincount(code[kept], minlength=len(found)))
    offsets = np.cumsum([0] + [len(size) for size in sizes])
    onehot = np.zeros((n, offsets[-1]))  # noise rows stay 0: they count in no cluster
    for code, offset in zip(codes, offsets, strict=False):
        onehot[rows[code >= 0], offset + code[code >= 0]] = 1.0
    sq = np.einsum("ij,ij->i", X, X)
    sums = np.empty((n, offsets[-1]))  # distance of each row to all rows of each cluster
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        dist = sq[start:stop, None] - 2.0 * X[start:stop] @ X.T + sq[None, :]
        np.sqrt(np.maximum(dist, 0.0, out=dist), out=dist)
        dist[np.arange(stop - start), np.arange(start, stop)] = 0.0
        sums[start:stop] = dist @ onehot
    return [
        _mean_silhouette(sums[code >= 0, offset : offset + len(size)], code[code >= 0], size)
        for code, size, offset in zip(codes, sizes, offsets, strict=False)
    ]


def _mean_silhouette(block: np.ndarray, labels: np.ndarray, size: np.ndarray) -> float | None:
    if len(size) < 2 or len(size) >= len(labels):
        return None
    rows = np.arange(len(labels))
    own = size[labels]
    a = block[rows, labels] / np.maximum(own - 1, 1)
    others = block / size[None, :]
    others[rows, labels] = np.inf
    b = others.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sil = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)  # 0 for a singleton, as sklearn
    return float(np.nan_to_num(sil).mean())


def _separation(X: np.ndarray, labels: np.ndarray) -> tuple[float | None, float | None]:
    """(Davies-Bouldin, Calinski-Harabasz) on the non-noise rows, or Nones."""
    kept = labels >= 0
    found = len(np.unique(labels[kept]))
    if found < 2 or found >= int(kept.sum()):
        return None, None
    return (
        float(davies_bouldin_score(X[kept], labels[kept])),
        float(calinski_harabasz_score(X[kept], labels[kept])),
    )


def _labellers(
    X: np.ndarray, k: int, covariance_type: CovarianceType, n_init: int, random_state: int
) -> dict[str, tuple[str, Labeller]]:
    min_samples = dbscan_min_samples(X.shape[1])
    eps = dbscan_eps(X, min_samples)
    min_cluster = hdbscan_min_cluster_size(len(X))

    def fitted(algorithm: Algorithm, n: int) -> Labeller:
        return lambda data: np.asarray(
            build_model(k, algorithm=algorithm, covariance_type=covariance_type, n_init=n,
                        random_state=random_state).fit(data).predict(data)
        )  # fmt: skip

    return {
        "kmeans": (f"k={k}, n_init={n_init}", fitted("kmeans", n_init)),
        "gmm": (f"k={k}, covariance={covariance_type}, n_init={GMM_N_INIT}",
                fitted("gmm", GMM_N_INIT)),
        "ward": (f"k={k}", lambda d: AgglomerativeClustering(k, linkage="ward").fit_predict(d)),
        "dbscan": (f"eps={eps:.3g} (k-distance knee), min_samples={min_samples}",
                   lambda d: DBSCAN(eps=eps, min_samples=min_samples).fit_predict(d)),
        "hdbscan": (f"min_cluster_size={min_cluster}",
                    lambda d: HDBSCAN(min_cluster_size=min_cluster, copy=True).fit_predict(d)),
    }  # fmt: skip


def compare(
    X: np.ndarray,
    served_labels: np.ndarray,
    *,
    k: int,
    served: Algorithm,
    covariance_type: CovarianceType = "full",
    n_init: int = 10,
    random_state: int = 42,
    sample_size: int = COMPARISON_SAMPLE,
) -> ComparisonResult:
    """Fit and score every algorithm on a fixed-seed sample of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The design matrix the served model was fitted on.
    served_labels : ndarray of shape (n_samples,)
        The served model's segment of every row.
    """
    rows = np.arange(len(X))
    if len(X) > sample_size:
        rows = np.sort(np.random.default_rng(random_state).choice(len(X), sample_size, False))
    Xs, reference = X[rows], served_labels[rows]
    labels, runs = {}, {}
    with threadpool_limits(limits=1):  # small fits (OpenMP, BLAS): one thread is faster
        for name, (parameters, labeller) in _labellers(
            Xs, k, covariance_type, n_init, random_state
        ).items():
            start = time.perf_counter()
            labels[name] = labeller(Xs)
            runs[name] = (parameters, time.perf_counter() - start)
        scores = silhouettes(Xs, list(labels.values()))
    table = [
        _row(name, *runs[name], Xs, labels[name], reference, silhouette, served)
        for name, silhouette in zip(labels, scores, strict=True)
    ]
    comparison = Comparison(
        sample_size=len(rows),
        n_customers=len(X),
        random_state=random_state,
        metrics_note=METRICS_NOTE,
        rows=table,
        verdict=verdict(table, served),
    )
    return ComparisonResult(comparison=comparison, rows=rows, labels=labels)


def _row(
    name: str,
    parameters: str,
    seconds: float,
    X: np.ndarray,
    labels: np.ndarray,
    reference: np.ndarray,
    silhouette: float | None,
    served: Algorithm,
) -> ComparisonRow:
    davies_bouldin, calinski_harabasz = _separation(X, labels)
    return ComparisonRow(
        algorithm=name,  # one of TITLES' keys
        title=TITLES[name],
        parameters=parameters,
        n_clusters=len(np.unique(labels[labels >= 0])),
        noise_share=float(np.mean(labels < 0)),
        silhouette=silhouette,
        davies_bouldin=davies_bouldin,
        calinski_harabasz=calinski_harabasz,
        ari_vs_served=float(adjusted_rand_score(reference, labels)),
        fit_seconds=seconds,
        served=name == served,
    )


SERVABLE = ("kmeans", "gmm")
MARGIN = 0.02  # a Silhouette lead smaller than this is within the noise of a sample


def verdict(table: list[ComparisonRow], served: Algorithm) -> str:
    """Why the served algorithm is kept, or which one scored better and how to switch."""
    own = next(r for r in table if r.algorithm == served)
    rivals = [
        r
        for r in table
        if r.silhouette is not None and r.algorithm != served and r.noise_share <= 0.10
    ]
    best = max(rivals, key=lambda r: r.silhouette or -1.0, default=None)
    base = own.silhouette if own.silhouette is not None else -1.0
    if best is None or best.silhouette is None or best.silhouette < base + MARGIN:
        return (
            f"{own.title} is served and kept: no other algorithm that places at least 90 % of "
            f"customers in a cluster has a Silhouette more than {MARGIN} above its "
            f"{base:.3f}."
        )
    lead = (
        f"{best.title} scores a higher Silhouette ({best.silhouette:.3f} against "
        f"{own.title}'s {base:.3f}, ARI {best.ari_vs_served:.2f} between them)"
    )
    if best.algorithm in SERVABLE:
        return (
            f"{lead}. To serve it, retrain with `segments train --algorithm "
            f"{best.algorithm}`; {own.title} is served because it was asked for."
        )
    return (
        f"{lead}, but it cannot place a new customer (no model of the space, only the "
        f"sample's labels), so {own.title} stays served; read its clusters as a second "
        "opinion on the segments' shapes."
    )
