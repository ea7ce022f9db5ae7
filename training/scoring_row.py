"""One customer's K-Means assignment in plain Python.

numpy costs a few microseconds per call whatever the size, and a single row through
:meth:`training.scoring.Scorer.assign` makes about twenty calls (~100 us) for a k x d
problem of a few dozen multiplications. This does the same arithmetic, in the same order
(impute, ``(x - mean) / scale``, one-hot, then sklearn's expansion
``x.x - 2 x.c + c.c`` clipped at 0), on Python floats; the dot products add up as
numpy's ``einsum`` does on two SIMD lanes (even and odd terms apart, then together), which
is bit-for-bit what it gives for up to 6 features here. Because that is a property of the
numpy build and the CPU, the scorer uses this path only after checking, at load, that it
gives exactly the numpy path's answers on the training rows
(:meth:`training.scoring.Scorer.verify`); mixtures always take the numpy path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Columns", "RowResult", "RowScorer"]

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
class RowScorer:
    """The scorer's arrays as tuples of Python floats."""

    numeric: tuple[str, ...]
    fill_numeric: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    categorical: tuple[str, ...]
    fill_categorical: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    centroids: tuple[tuple[float, ...], ...]
    centroid_sq: tuple[float, ...]
    p99: tuple[float, ...]

    def _row(self, values: Columns) -> tuple[list[float], dict[str, bool]]:
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

    def assign(self, values: Columns) -> RowResult:
        """The one customer of ``values`` (name -> a one-item column)."""
        x, imputed = self._row(values)
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
