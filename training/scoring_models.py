"""The per-algorithm half of scoring: a design matrix in, segment and its measures out.

:class:`training.scoring.Scorer` prepares the design matrix (impute, scale, one-hot) and
hands it to one of these, behind one interface (:class:`SegmentModel`):

- :class:`CentroidModel` (K-Means): nearest centroid; confidence from the margin to the
  runner-up; atypical beyond the segment's training p99 distance.
- :class:`MixtureModel` (Gaussian mixture): most probable component; confidence = its
  posterior probability; atypical when the log-likelihood is below the training 1st
  percentile. The log-density mirrors scikit-learn's ``_estimate_log_gaussian_prob`` for
  every covariance type, so labels equal ``GaussianMixture.predict``.

Row results never depend on the other rows of a batch: products across rows use
``einsum`` (its own loops), never ``@`` (BLAS rounds a row differently with other rows
beside it), so a customer gets the same answer alone, in a batch or in a file chunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

__all__ = ["CentroidModel", "MixtureModel", "ModelScores", "SegmentModel", "from_estimator"]


@dataclass(frozen=True)
class ModelScores:
    """Per-row results, each an array of shape (n_samples,)."""

    segment: np.ndarray
    distance: np.ndarray
    confidence: np.ndarray
    atypical: np.ndarray


class SegmentModel(Protocol):
    """What the scorer needs from a fitted clustering model reduced to arrays."""

    @property
    def n_clusters(self) -> int: ...

    def score(self, X: np.ndarray) -> ModelScores: ...


def _squared_distances(X: np.ndarray, centres: np.ndarray, centres_sq: np.ndarray) -> np.ndarray:
    """(n_samples, n_centres) squared Euclidean distances, sklearn's expansion, row-stable."""
    sq: np.ndarray = np.einsum("ij,ij->i", X, X)[:, None] - 2.0 * np.einsum("ij,kj->ik", X, centres)
    sq += centres_sq
    np.maximum(sq, 0.0, out=sq)
    return sq


@dataclass(frozen=True)
class CentroidModel:
    """Nearest-centroid assignment equivalent to ``KMeans.predict``."""

    centroids: np.ndarray  # (n_clusters, n_features)
    p99: np.ndarray  # (n_clusters,) training distance p99 per segment
    centroid_sq: np.ndarray = field(init=False, repr=False)  # (n_clusters,) squared norms

    def __post_init__(self) -> None:
        sq = np.einsum("ij,ij->i", self.centroids, self.centroids)
        object.__setattr__(self, "centroid_sq", sq)  # frozen: derived once, here

    @property
    def n_clusters(self) -> int:
        return len(self.centroids)

    def score(self, X: np.ndarray) -> ModelScores:
        # Reduced over centres as rows of a (k, n) copy: numpy's reductions along the short
        # axis of an (n, k) array were most of the time of a large batch.
        per_centre = _squared_distances(X, self.centroids, self.centroid_sq).T.copy()
        segment = np.argmin(per_centre, axis=0)  # first minimum on ties, as sklearn does
        nearest, second = _two_smallest(per_centre)
        distance = np.sqrt(nearest)
        confidence = np.ones(len(X))
        if self.n_clusters > 1:
            runner_up = np.sqrt(second)
            # 1 - d1/d2 is in [0, 1]; 0 where both distances are 0 (a tie at a centroid).
            np.divide(distance, runner_up, out=confidence, where=runner_up > 0)
            np.subtract(1.0, confidence, out=confidence)
        return ModelScores(segment, distance, confidence, distance > self.p99[segment])


def _two_smallest(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``rows``, the smallest and second smallest value (equal on a tie)."""
    smallest = rows[0].copy()
    second = np.full(rows.shape[1], np.inf)
    for row in rows[1:]:
        np.minimum(second, np.maximum(smallest, row), out=second)
        np.minimum(smallest, row, out=smallest)
    return smallest, second


@dataclass(frozen=True)
class MixtureModel:
    """Most-probable-component assignment equivalent to ``GaussianMixture.predict``.

    Attributes
    ----------
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        'full' (n_components, n_features, n_features), 'tied' (n_features, n_features),
        'diag' (n_components, n_features), 'spherical' (n_components,).
    weights : ndarray of shape (n_components,)
    log_likelihood_floor : float
        Training 1st percentile of the log-likelihood; below it a customer is atypical.
    """

    means: np.ndarray
    precisions_cholesky: np.ndarray
    covariance_type: str
    weights: np.ndarray
    log_likelihood_floor: float
    log_det: np.ndarray = field(init=False, repr=False)  # (n_components,)
    chol_means: np.ndarray = field(init=False, repr=False)  # (n_components, n_features)

    def __post_init__(self) -> None:
        # frozen: derived once, here. mu @ prec_chol per component, exactly as sklearn has it.
        chol, kind = self.precisions_cholesky, self.covariance_type
        chol_means = [
            mu @ (chol[k] if kind == "full" else chol)
            for k, mu in enumerate(self.means)
            if kind in ("full", "tied")
        ]
        object.__setattr__(self, "log_det", self._log_det_cholesky())
        object.__setattr__(self, "chol_means", np.array(chol_means))

    @property
    def n_clusters(self) -> int:
        return len(self.means)

    def _log_det_cholesky(self) -> np.ndarray:
        chol, n_features = self.precisions_cholesky, self.means.shape[1]
        if self.covariance_type == "full":
            flat = chol.reshape(len(chol), -1)[:, :: n_features + 1]
            return np.asarray(np.sum(np.log(flat), axis=1))
        if self.covariance_type == "tied":
            return np.full(self.n_clusters, np.sum(np.log(np.diag(chol))))
        if self.covariance_type == "diag":
            return np.asarray(np.sum(np.log(chol), axis=1))
        return np.asarray(n_features * np.log(chol))

    def _mahalanobis_sq(self, X: np.ndarray) -> np.ndarray:
        """(n_samples, n_components) squared Mahalanobis distances, as sklearn computes them."""
        chol, means = self.precisions_cholesky, self.means
        if self.covariance_type in ("full", "tied"):
            # y[k] = X @ chol_k - mu_k @ chol_k for every component at once, shape (k, n, d),
            # summed over the features one at a time: per row, whatever the batch (and ~4x
            # faster than a 3-operand einsum here).
            full = chol if self.covariance_type == "full" else chol[None, :, :]
            y = X[None, :, 0, None] * full[:, None, 0, :]
            for j in range(1, X.shape[1]):
                y += X[None, :, j, None] * full[:, None, j, :]
            y = y - self.chol_means[:, None, :]  # (X @ chol) - (mu @ chol): sklearn's order
            return np.asarray(np.einsum("kil,kil->ik", y, y))
        precisions = chol**2
        if self.covariance_type == "diag":
            return np.asarray(
                np.sum(means**2 * precisions, axis=1)
                - 2.0 * np.einsum("ij,kj->ik", X, means * precisions)
                + np.einsum("ij,kj->ik", X**2, precisions)
            )
        return np.asarray(
            np.sum(means**2, axis=1) * precisions
            - 2 * (np.einsum("ij,kj->ik", X, means) * precisions)
            + np.einsum("ij,ij->i", X, X)[:, None] * precisions[None, :]
        )

    def weighted_log_prob(self, X: np.ndarray) -> np.ndarray:
        """log p(x | component) + log weight, shape (n_samples, n_components)."""
        n_features = self.means.shape[1]
        log_prob = -0.5 * (n_features * math.log(2 * math.pi) + self._mahalanobis_sq(X))
        return np.asarray(log_prob + self.log_det + np.log(self.weights))

    def score(self, X: np.ndarray) -> ModelScores:
        weighted = self.weighted_log_prob(X)
        rows = np.arange(len(X))
        segment = np.argmax(weighted, axis=1)  # first maximum on ties, as sklearn does
        top = weighted[rows, segment]
        # sum(exp(w - max)) >= 1: the posterior of the top component is its inverse.
        total = np.exp(weighted - top[:, None]).sum(axis=1)
        log_likelihood = top + np.log(total)
        offset = X - self.means[segment]  # only the chosen component's mean: (n, d), not (n, k)
        return ModelScores(
            segment=segment,
            distance=np.sqrt(np.einsum("ij,ij->i", offset, offset)),
            confidence=1.0 / total,
            atypical=log_likelihood < self.log_likelihood_floor,
        )

    def log_likelihood(self, X: np.ndarray) -> np.ndarray:
        """log p(x) of each row, shape (n_samples,): ``GaussianMixture.score_samples``."""
        weighted = self.weighted_log_prob(X)
        top = weighted.max(axis=1)
        return np.asarray(top + np.log(np.exp(weighted - top[:, None]).sum(axis=1)))


def from_estimator(
    model: KMeans | GaussianMixture,
    p99: np.ndarray,
    log_likelihood_floor: float | None,
) -> CentroidModel | MixtureModel:
    """Reduce a fitted K-Means or Gaussian mixture to the arrays its scorer needs."""
    if hasattr(model, "precisions_cholesky_"):
        return MixtureModel(
            means=np.asarray(model.means_, dtype=np.float64),
            precisions_cholesky=np.asarray(model.precisions_cholesky_, dtype=np.float64),
            covariance_type=str(model.covariance_type),
            weights=np.asarray(model.weights_, dtype=np.float64),
            log_likelihood_floor=(
                -np.inf if log_likelihood_floor is None else float(log_likelihood_floor)
            ),
        )
    return CentroidModel(
        centroids=np.asarray(model.cluster_centers_, dtype=np.float64),
        p99=np.asarray(p99, dtype=np.float64),
    )
