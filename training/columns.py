"""Customers checked as columns against the spec: the fast path of every batch.

:func:`row_validity` takes typed columns: a JSON batch decoded by :mod:`service.batch_json`,
a table body read by :mod:`service.columnar`. The ids' lengths, the bounds, NaN/Inf, the
allowed categories (matched as the request models match them: case and surrounding spaces
ignored) and "at least one cluster feature" are checked on whole columns with numpy,
accepting exactly what the spec-built request models accept. When a row fails, its callers
leave the report to those models, which name the row and the field of every problem (one
place builds the errors). A batch file's text is read by clean()'s own rules instead
(:mod:`training.batch_columns`), whose reasons go to its rejected-rows file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from training.spec import SegmentationSpec

__all__ = ["CustomerColumns", "Ids", "ids_text", "row_validity"]

Ids: TypeAlias = list[str] | pa.Array  # customer ids: a list, or an Arrow string array (tables)


@dataclass(frozen=True)
class CustomerColumns:
    """Valid customers as columns: ids, numeric features as float64 (NaN: missing) and
    categorical features as canonical strings (None: missing)."""

    ids: Ids
    values: dict[str, np.ndarray | list[str | None]]

    def __len__(self) -> int:
        return len(self.ids)


def ids_text(ids: Sequence[Any]) -> list[str] | None:
    # JSON integer ids are kept as their decimal text, as the request models keep them.
    types = set(map(type, ids))
    if not types <= {str, int}:
        return None
    return [str(i) for i in ids] if int in types else list(ids)


def _id_lengths(ids: Sequence[str | None] | pa.Array) -> np.ndarray:
    """Characters per id (0 for a missing one)."""
    if isinstance(ids, pa.Array):
        lengths = pc.fill_null(pc.utf8_length(ids), 0)
        return np.asarray(lengths.to_numpy(zero_copy_only=False), np.int64)
    try:
        return np.fromiter(map(len, ids), np.int64, count=len(ids))
    except TypeError:  # a None among them (a table's null id)
        return np.fromiter([0 if i is None else len(i) for i in ids], np.int64, count=len(ids))


def row_validity(
    spec: SegmentationSpec, ids: Sequence[str | None] | pa.Array, columns: Mapping[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray | list[str | None]]]:
    """Per row, whether its id and every value pass the spec, and the typed columns.

    ``ids``: a sequence of str/None, or an Arrow string array. ``columns``: numeric
    features as float arrays (NaN: missing), categorical ones as lists of str/None; a
    feature may be absent (missing in every row). The returned categorical columns hold
    the canonical spelling (None where missing or not allowed).
    """
    n = len(ids)
    lengths = _id_lengths(ids)
    valid = (lengths > 0) & (lengths <= spec.id.max_length)
    present = np.zeros(n, dtype=bool)
    values: dict[str, np.ndarray | list[str | None]] = {}
    for feature in spec.features:
        column = columns.get(feature.name)
        if feature.kind == "numeric":
            array = np.full(n, np.nan) if column is None else np.asarray(column, np.float64)
            with np.errstate(invalid="ignore"):
                valid &= ~np.isinf(array)
                if feature.min is not None:
                    valid &= ~(array < feature.min)
                if feature.max is not None:
                    valid &= ~(array > feature.max)
            values[feature.name] = array
            filled = ~np.isnan(array)
        else:
            values[feature.name], filled, known = _categorical(feature.allowed or (), column, n)
            valid &= known
        if feature.role == "cluster":
            present |= filled
    if spec.cluster_features:
        valid &= present
    return valid, values


def _categorical(
    allowed: Sequence[str], column: Sequence[str | None] | None, n: int
) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    """(canonical spellings, filled, allowed-or-missing) of a categorical column."""
    if column is None or column.count(None) == n:  # absent: missing in every row
        return [None] * n, np.zeros(n, bool), np.ones(n, bool)
    spelling = {value.casefold(): value for value in allowed}
    # Each distinct spelling once: a column holds a handful of them.
    spelled: dict[str | None, str | None] = {None: None}
    spelled |= {v: spelling.get(v.strip().casefold(), "") for v in set(column) if v is not None}
    canonical = list(map(spelled.__getitem__, column))
    as_array = np.array(canonical, dtype=object)
    filled = as_array != None  # noqa: E711 (elementwise)
    known = as_array != ""
    if "" in spelled.values():
        canonical = [v or None for v in canonical]
    return canonical, filled, known
