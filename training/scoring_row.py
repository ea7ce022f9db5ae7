"""One customer's assignment in plain Python (K-Means, and full or tied Gaussian mixtures).

numpy costs a few microseconds per call whatever the size, and a single row through
:meth:`training.scoring.Scorer.assign` makes about twenty calls (~100 us) for a k x d
problem of a few dozen multiplications. This does the same arithmetic, in the same order
(impute, ``(x - mean) / scale``, one-hot, then sklearn's expansion
``x.x - 2 x.c + c.c`` clipped at 0), on Python floats; the dot products add up as
numpy's ``einsum`` does on two SIMD lanes (even and odd terms apart, then together), which
is bit-for-bit what it gives for up to 6 features here. Because that is a property of the
numpy build and the CPU, the scorer uses this path only after checking, at load, that it
gives exactly the numpy path's answers on the training rows
(:meth:`training.scoring.Scorer.verify`). A mixture's row (:class:`MixtureRowScorer`) follows
the numpy path's order the same way (``X @ chol`` one feature at a time, minus
``mu @ chol``); its exponentials and logarithm are numpy's own, on k values, and it is
taken under the same check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Columns", "MixtureRowScorer", "RowInputs", "RowResult", "RowScorer"]

Columns = Mapping[str, "Sequence[Any] | np.ndarray"]  # name -> values, one per customer

# (segment, distance, confidence, atypical, imputed per cluster feature)
RowResult = tuple[int, float, float, bool, dict[str, bool]]


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    """``einsum``'s order: the even and the odd terms summed apart, then added."""
    even = odd = 0.0
    for i in range(0, len(a) - 1, 2):
        even += a[i] * b[i]
        odd += a[i + 1] * b[i + 1]
    if len(a) % 2:
        even += a[-1] * b[-1]
    return even + odd


def _missing(value: object) -> bool:
    return value is None or value != value  # None or NaN


@dataclass(frozen=True)
class RowInputs:
    """The scorer's preprocessing as tuples of Python floats: impute, scale, one-hot."""

    numeric: tuple[str, ...]
    fill_numeric: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    categorical: tuple[str, ...]
    fill_categorical: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]

    def row(self, values: Columns) -> tuple[list[float], dict[str, bool]]:
        """The design row of the one customer of ``values``, and which features were imputed."""
        x: list[float] = []
        imputed: dict[str, bool] = {}
        for name, fill, mean, scale in zip(
            self.numeric, self.fill_numeric, self.mean, self.scale, strict=True
        ):
            value = values[name][0]
            imputed[name] = missing = _missing(value)
            x.append(((fill if missing else float(value)) - mean) / scale)
        for name, fill_text, cats in zip(
            self.categorical, self.fill_categorical, self.categories, strict=True
        ):
            value = values[name][0]
            imputed[name] = missing = _missing(value)
            chosen = fill_text if missing else value
            x.extend(1.0 if chosen == cat else 0.0 for cat in cats)
        return x, imputed


@dataclass(frozen=True)
class RowScorer:
    """K-Means: the nearest centroid, by sklearn's expansion."""

    inputs: RowInputs
    centroids: tuple[tuple[float, ...], ...]
    centroid_sq: tuple[float, ...]
    p99: tuple[float, ...]

    def assign(self, values: Columns) -> RowResult:
        """The one customer of ``values`` (name -> a one-item column)."""
        x, imputed = self.inputs.row(values)
        xx = _dot(x, x)
        squares = [
            max(xx - 2.0 * _dot(x, centre) + centre_sq, 0.0)
            for centre, centre_sq in zip(self.centroids, self.centroid_sq, strict=True)
        ]
        segment = squares.index(min(squares))  # the first minimum on ties, as numpy's argmin
        distance = math.sqrt(squares[segment])
        confidence = 1.0
        if len(squares) > 1:
            runner_up = math.sqrt(min(s for k, s in enumerate(squares) if k != segment))
            confidence = 1.0 - distance / runner_up if runner_up > 0 else 0.0
        return segment, distance, confidence, distance > self.p99[segment], imputed


@dataclass(frozen=True)
class MixtureRowScorer:
    """A full or tied Gaussian mixture: the most probable component."""

    inputs: RowInputs
    means: tuple[tuple[float, ...], ...]
    chol: tuple[tuple[tuple[float, ...], ...], ...]  # per component, rows of its Cholesky
    chol_means: tuple[tuple[float, ...], ...]  # mu @ chol per component
    log_det: tuple[float, ...]
    log_weights: tuple[float, ...]
    floor: float  # the training log-likelihood's 1st percentile

    def _weighted(self, x: list[float]) -> list[float]:
        constant = len(x) * math.log(2 * math.pi)
        weighted = []
        for chol, chol_mean, log_det, log_weight in zip(
            self.chol, self.chol_means, self.log_det, self.log_weights, strict=True
        ):
            y = [x[0] * c for c in chol[0]]
            for j in range(1, len(x)):
                y = [acc + x[j] * c for acc, c in zip(y, chol[j], strict=True)]
            y = [acc - m for acc, m in zip(y, chol_mean, strict=True)]
            weighted.append(-0.5 * (constant + _dot(y, y)) + log_det + log_weight)
        return weighted

    def assign(self, values: Columns) -> RowResult:
        """The one customer of ``values`` (name -> a one-item column)."""
        import numpy as np  # its exp and log, as the numpy path has them

        x, imputed = self.inputs.row(values)
        weighted = self._weighted(x)
        top = max(weighted)
        segment = weighted.index(top)  # the first maximum on ties, as numpy's argmax
        exps = np.exp(np.array(weighted) - top).tolist()
        total = exps[0]
        for value in exps[1:]:
            total += value
        log_likelihood = top + float(np.log(total))
        offset = [a - b for a, b in zip(x, self.means[segment], strict=True)]
        distance = math.sqrt(_dot(offset, offset))
        return segment, distance, 1.0 / total, log_likelihood < self.floor, imputed
