"""Choosing the number of segments k.

For each k in the range, K-Means is fitted on a fixed-seed sample of the preprocessed rows
and scored with WCSS, Silhouette, Calinski-Harabasz, Davies-Bouldin, bootstrap stability
(mean ARI of refits on resamples against the reference labels) and the smallest segment's
share. :func:`choose_k` applies :data:`RULE`. With ``algorithm="gmm"`` the sweep fits a
Gaussian mixture per k instead, adds its BIC, scores the same metrics on the mixture's
labels and :func:`choose_k` applies :data:`GMM_RULE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from training.artifact import Selection, SelectionRow
from training.manifest import Algorithm, CovarianceType
from training.pipeline import GMM_N_INIT, build_model

__all__ = ["GMM_RULE", "RULE", "choose_k", "select_k", "silhouette_scores", "sweep"]

RULE = (
    "Eligible k: every segment holds at least {min_share:.0%} of customers (smaller segments "
    "are not worth a campaign) and bootstrap stability (mean ARI) is at least "
    "{min_stability:.2f}. Among eligible k, each of Silhouette (higher is better), "
    "Calinski-Harabasz (higher) and Davies-Bouldin (lower) ranks the candidates; the k with "
    "the best mean rank wins, ties going to the higher Silhouette. The WCSS knee is reported "
    "as a cross-check."
)
GMM_RULE = (
    "Gaussian mixture: eligible k as for K-Means (every segment holds at least "
    "{min_share:.0%} of customers, bootstrap stability at least {min_stability:.2f}). Among "
    "eligible k, the lowest BIC wins (Bayesian information criterion: -2 log-likelihood + "
    "parameters x ln(rows), on the sweep sample); Silhouette, Calinski-Harabasz and "
    "Davies-Bouldin of the mixture's labels are reported as cross-checks."
)
SWEEP_SAMPLE = 10_000
BOOTSTRAP_N_INIT = 3


def silhouette_scores(
    X: np.ndarray, labelings: Sequence[np.ndarray], chunk: int = 500
) -> list[float]:
    """Mean Silhouette of several labelings of the same rows, in one pass over the distances.

    Equal to ``sklearn.metrics.silhouette_score`` for each labeling, but the n x n distance
    matrix (the whole cost) is computed once for all k instead of once per k.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labelings : sequence of ndarray of shape (n_samples,), labels 0..k-1
    """
    n = len(X)
    sizes = [np.bincount(labels) for labels in labelings]
    offsets = np.cumsum([0] + [len(s) for s in sizes])
    onehot = np.zeros((n, offsets[-1]))
    rows = np.arange(n)
    for labels, offset in zip(labelings, offsets, strict=False):
        onehot[rows, offset + labels] = 1.0
    sq = np.einsum("ij,ij->i", X, X)
    sums = np.empty((n, offsets[-1]))  # distance of each row to all rows of each segment
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        dist = sq[start:stop, None] - 2.0 * X[start:stop] @ X.T + sq[None, :]
        np.sqrt(np.maximum(dist, 0.0, out=dist), out=dist)
        dist[np.arange(stop - start), np.arange(start, stop)] = 0.0
        sums[start:stop] = dist @ onehot
    scores = []
    for labels, size, offset in zip(labelings, sizes, offsets, strict=False):
        block = sums[:, offset : offset + len(size)]
        own = size[labels]
        a = block[rows, labels] / np.maximum(own - 1, 1)
        others = block / size[None, :]
        others[rows, labels] = np.inf
        b = others.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sil = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        scores.append(float(np.nan_to_num(sil).mean()))
    return scores


def _fit_k(
    X: np.ndarray,
    k: int,
    *,
    n_init: int,
    n_bootstrap: int,
    random_state: int,
    algorithm: Algorithm = "kmeans",
    covariance_type: CovarianceType = "full",
) -> tuple[np.ndarray, SelectionRow]:
    gmm = algorithm == "gmm"

    def model(n: int, seed: int) -> KMeans | GaussianMixture:
        return build_model(k, algorithm=algorithm, covariance_type=covariance_type,
                           n_init=n, random_state=seed)  # fmt: skip

    fitted = model(GMM_N_INIT if gmm else n_init, random_state).fit(X)
    labels = fitted.predict(X) if gmm else fitted.labels_
    rng = np.random.default_rng(random_state + k)
    aris = []
    for b in range(n_bootstrap):
        idx = rng.integers(0, len(X), len(X))
        refit = model(1 if gmm else BOOTSTRAP_N_INIT, random_state + b).fit(X[idx])
        aris.append(adjusted_rand_score(labels, refit.predict(X)))
    counts = np.bincount(labels, minlength=k)
    row = SelectionRow(
        k=k,
        wcss=_wcss(X, labels) if gmm else float(fitted.inertia_),
        silhouette=float("nan"),  # filled in by sweep(), all k in one pass
        calinski_harabasz=float(calinski_harabasz_score(X, labels)),
        davies_bouldin=float(davies_bouldin_score(X, labels)),
        stability=float(np.mean(aris)) if aris else 1.0,
        min_share=float(counts.min() / len(X)),
        bic=float(fitted.bic(X)) if gmm else None,
    )
    return labels, row


def _wcss(X: np.ndarray, labels: np.ndarray) -> float:
    """Sum of squared distances of the rows to their segment's mean."""
    total = 0.0
    for seg in np.unique(labels):
        members = X[labels == seg]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def sweep(
    X: np.ndarray,
    k_range: Sequence[int],
    *,
    n_init: int = 10,
    n_bootstrap: int = 5,
    sample_size: int = SWEEP_SAMPLE,
    random_state: int = 42,
    on_k: Callable[[int], None] | None = None,
    algorithm: Algorithm = "kmeans",
    covariance_type: CovarianceType = "full",
) -> list[SelectionRow]:
    """Score every k on a fixed-seed sample of at most ``sample_size`` rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Preprocessed (scaled, encoded) rows.
    k_range : sequence of int
        Candidate numbers of clusters; each must be < the sample's row count.
    """
    if len(X) > sample_size:
        rows = np.random.default_rng(random_state).choice(len(X), sample_size, replace=False)
        X = X[np.sort(rows)]
    labelings, table = [], []
    # K-Means on <= 10k rows runs faster on one thread than fighting for two; EM's small
    # matrix products too (BLAS threads made a 200-row mixture sweep 50x slower here).
    with threadpool_limits(limits=1, user_api=None if algorithm == "gmm" else "openmp"):
        for k in k_range:
            labels, row = _fit_k(
                X,
                k,
                n_init=n_init,
                n_bootstrap=n_bootstrap,
                random_state=random_state,
                algorithm=algorithm,
                covariance_type=covariance_type,
            )
            # A mixture may leave a component empty: number the labels found 0..m-1.
            labelings.append(np.unique(labels, return_inverse=True)[1].ravel())
            table.append(row)
            if on_k is not None:
                on_k(k)
    scores = silhouette_scores(X, labelings)
    return [
        row.model_copy(update={"silhouette": sil}) for row, sil in zip(table, scores, strict=True)
    ]


def _knee(table: Sequence[SelectionRow]) -> int | None:
    if len(table) < 3:
        return None
    from kneed import KneeLocator  # imports matplotlib.pyplot: ~1 s, so only when needed

    ks = [row.k for row in table]
    knee = KneeLocator(ks, [row.wcss for row in table], curve="convex", direction="decreasing").knee
    return int(knee) if knee is not None else None


def _ranks(values: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    order = np.argsort(-values if higher_is_better else values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def choose_k(
    table: Sequence[SelectionRow],
    *,
    min_share: float = 0.05,
    min_stability: float = 0.8,
    forced_k: int | None = None,
    algorithm: Algorithm = "kmeans",
) -> Selection:
    """Apply :data:`RULE` (:data:`GMM_RULE` for a mixture) to a sweep table, or record an
    override, and say why in words."""
    by_bic = algorithm == "gmm"
    rule = (GMM_RULE if by_bic else RULE).format(min_share=min_share, min_stability=min_stability)
    knee = _knee(table)
    eligible = [r for r in table if r.min_share >= min_share and r.stability >= min_stability]
    pool = eligible or list(table)
    sil = np.array([r.silhouette for r in pool])
    mean_rank = (
        _ranks(sil, higher_is_better=True)
        + _ranks(np.array([r.calinski_harabasz for r in pool]), higher_is_better=True)
        + _ranks(np.array([r.davies_bouldin for r in pool]), higher_is_better=False)
    ) / 3
    best = pool[min(range(len(pool)), key=lambda i: (mean_rank[i], -sil[i]))]
    if by_bic:  # never a k whose mixture leaves a component without customers
        pool = [r for r in pool if r.min_share > 0] or pool
        best = min(pool, key=lambda r: (np.inf if r.bic is None else r.bic, -r.silhouette))
    if forced_k is not None:
        chosen = forced_k
        reason = f"k={forced_k} was set by the user (--k); the rule alone would choose k={best.k}."
    else:
        chosen = best.k
        reason = _explain(best, pool, eligible, knee, min_share, min_stability, by_bic=by_bic)
    return Selection(
        rule=rule,
        table=list(table),
        chosen_k=chosen,
        reason=reason,
        knee_k=knee,
        min_share=min_share,
        min_stability=min_stability,
    )


def _explain(
    best: SelectionRow,
    pool: Sequence[SelectionRow],
    eligible: Sequence[SelectionRow],
    knee: int | None,
    min_share: float,
    min_stability: float,
    *,
    by_bic: bool = False,
) -> str:
    leads = []
    if best.silhouette == max(r.silhouette for r in pool):
        leads.append(f"the best Silhouette ({best.silhouette:.3f})")
    if best.calinski_harabasz == max(r.calinski_harabasz for r in pool):
        leads.append(f"the best Calinski-Harabasz ({best.calinski_harabasz:.0f})")
    if best.davies_bouldin == min(r.davies_bouldin for r in pool):
        leads.append(f"the best Davies-Bouldin ({best.davies_bouldin:.3f})")
    why = " and ".join(leads) if leads else "the best mean rank over the three metrics"
    if by_bic:
        why = f"the lowest BIC ({best.bic:,.0f}; Silhouette {best.silhouette:.3f})"
    scope = (
        f"among the {len(eligible)} k whose smallest segment holds >= {min_share:.0%} of "
        f"customers and whose stability is >= {min_stability:.2f}"
        if eligible
        else "among all k, because no k met the size and stability floors"
    )
    knee_text = (
        "; the WCSS knee agrees"
        if knee == best.k
        else f"; the WCSS knee is at k={knee}"
        if knee is not None
        else "; WCSS shows no clear knee"
    )
    return (
        f"k={best.k}: {why} {scope} (smallest segment {best.min_share:.1%}, stability "
        f"{best.stability:.2f}){knee_text}."
    )


def select_k(
    X: np.ndarray,
    k_range: Sequence[int],
    *,
    forced_k: int | None = None,
    min_share: float = 0.05,
    random_state: int = 42,
    on_k: Callable[[int], None] | None = None,
    algorithm: Algorithm = "kmeans",
    covariance_type: CovarianceType = "full",
) -> Selection:
    """Sweep ``k_range`` on ``X`` and choose k (or record ``forced_k``)."""
    table = sweep(
        X,
        k_range,
        random_state=random_state,
        on_k=on_k,
        algorithm=algorithm,
        covariance_type=covariance_type,
    )
    return choose_k(table, min_share=min_share, forced_k=forced_k, algorithm=algorithm)
