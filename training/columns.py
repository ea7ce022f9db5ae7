"""Customers checked as columns against the spec: the fast path of every batch.

:func:`row_validity` takes typed columns (a JSON batch, decoded by :mod:`service.batch_json`)
and :func:`check_columns` any columns (Arrow, Parquet, CSV), whose value types it checks
first. The bounds, NaN/Inf, the allowed categories (matched as the request models match
them: case and surrounding spaces ignored) and "at least one cluster feature" are checked
on whole columns with numpy. They accept exactly what the spec-built request models accept; when
anything fails they return ``None`` and leave the report to those models, which name the
row and the field of every problem (one place builds the errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.spec import SegmentationSpec

__all__ = ["CustomerColumns", "check_columns", "ids_text", "row_validity"]

_NUMBER_TYPES = frozenset({int, float, type(None)})
_TEXT_TYPES = frozenset({str, type(None)})


@dataclass(frozen=True)
class CustomerColumns:
    """Valid customers as columns: ids, numeric features as float64 (NaN: missing) and
    categorical features as canonical strings (None: missing)."""

    ids: list[str]
    values: dict[str, np.ndarray | list[str | None]]

    def __len__(self) -> int:
        return len(self.ids)


def ids_text(ids: Sequence[Any]) -> list[str] | None:
    # JSON integer ids are kept as their decimal text, as the request models keep them.
    types = set(map(type, ids))
    if not types <= {str, int}:
        return None
    return [str(i) for i in ids] if int in types else list(ids)


def row_validity(
    spec: SegmentationSpec, ids: Sequence[str | None], columns: Mapping[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray | list[str | None]]]:
    """Per row, whether its id and every value pass the spec, and the typed columns.

    ``columns``: numeric features as float arrays (NaN: missing), categorical ones as lists
    of str/None; a feature may be absent (missing in every row). The returned categorical
    columns hold the canonical spelling (None where missing or not allowed).
    """
    n = len(ids)
    most = spec.id.max_length
    try:
        lengths = np.fromiter(map(len, ids), np.int64, count=n)  # type: ignore[arg-type]
    except TypeError:  # a None among them (a table's null id)
        lengths = np.fromiter([0 if i is None else len(i) for i in ids], np.int64, count=n)
    valid = (lengths > 0) & (lengths <= most)
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
            allowed = {value.casefold(): value for value in feature.allowed or ()}
            cells = [None] * n if column is None else column
            # Each distinct spelling once: a column holds a handful of them.
            spelled: dict[str | None, str | None] = {None: None}
            spelled |= {v: allowed.get(v.strip().casefold(), "") for v in set(cells) - {None}}
            canonical = list(map(spelled.__getitem__, cells))
            as_array = np.array(canonical, dtype=object)
            filled = as_array != None  # noqa: E711 (elementwise)
            valid &= as_array != ""
            unknown = "" in spelled.values()
            values[feature.name] = [v or None for v in canonical] if unknown else canonical
        if feature.role == "cluster":
            present |= filled
    if spec.cluster_features:
        valid &= present
    return valid, values


def check_columns(
    spec: SegmentationSpec, ids: Sequence[Any], columns: Mapping[str, Any]
) -> CustomerColumns | None:
    """``columns`` (name -> sequence; a feature may be absent) if every value is valid.

    Numeric columns may be float arrays (NaN: missing) or sequences of int/float/None;
    categorical ones sequences of str/None.
    """
    texts = ids_text(ids)
    if texts is None:
        return None
    typed: dict[str, Any] = {}
    for feature in spec.features:
        column = columns.get(feature.name)
        if column is None:
            continue
        if feature.kind == "numeric":
            typed[feature.name] = _as_float(column)
        elif _TEXT_TYPES.issuperset(map(type, column)):
            typed[feature.name] = list(column)
        else:
            typed[feature.name] = None
        if typed[feature.name] is None:
            return None
    valid, values = row_validity(spec, texts, typed)
    return CustomerColumns(texts, values) if valid.all() else None


def _as_float(column: Any) -> np.ndarray | None:
    if isinstance(column, np.ndarray) and column.dtype.kind == "f":
        return column.astype(np.float64, copy=False)
    if not _NUMBER_TYPES.issuperset(map(type, column)):  # bool is not a number here
        return None
    try:
        return np.array(column, dtype=np.float64)  # None -> NaN
    except OverflowError:  # an integer beyond float64
        return None
