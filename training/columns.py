"""Customers checked as columns against the spec: the fast path of every batch.

:func:`columns_from_records` takes parsed JSON objects (``/assign/batch``) and
:func:`check_columns` takes columns (Arrow, Parquet, CSV): each value's type, the bounds,
NaN/Inf, the allowed categories (matched as the request models match them: case and
surrounding spaces ignored) and "at least one cluster feature" are checked on whole
columns with numpy. They accept exactly what the spec-built request models accept; when
anything fails they return ``None`` and leave the report to those models, which name the
row and the field of every problem (one place builds the errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.spec import FeatureSpec, SegmentationSpec

__all__ = ["CustomerColumns", "check_columns", "columns_from_records"]

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


def _numeric(feature: FeatureSpec, values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    if not np.isfinite(present).all():
        return False
    low = feature.min is None or bool((present >= feature.min).all())
    return low and (feature.max is None or bool((present <= feature.max).all()))


def _categorical(feature: FeatureSpec, values: Sequence[Any]) -> list[str | None] | None:
    allowed = {value.casefold(): value for value in feature.allowed or ()}
    canonical = [None if v is None else allowed.get(v.strip().casefold(), "") for v in values]
    return None if "" in canonical else canonical


def _ids_text(ids: Sequence[Any]) -> list[str] | None:
    # JSON integer ids are kept as their decimal text, as the request models keep them.
    types = set(map(type, ids))
    if not types <= {str, int}:
        return None
    return [str(i) for i in ids] if int in types else list(ids)


def _ids_valid(spec: SegmentationSpec, ids: Sequence[str]) -> bool:
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    return bool(((lengths >= 1) & (lengths <= spec.id.max_length)).all())


def check_columns(
    spec: SegmentationSpec, ids: Sequence[Any], columns: Mapping[str, Any]
) -> CustomerColumns | None:
    """``columns`` (name -> sequence; a feature may be absent) if every value is valid.

    Numeric columns may be float arrays (NaN: missing) or sequences of int/float/None;
    categorical ones sequences of str/None.
    """
    texts = _ids_text(ids)
    if texts is None or not _ids_valid(spec, texts):
        return None
    n = len(texts)
    values: dict[str, np.ndarray | list[str | None]] = {}
    present = np.zeros(n, dtype=bool)
    for feature in spec.features:
        column = columns.get(feature.name)
        if feature.kind == "numeric":
            array = _as_float(column, n)
            if array is None or not _numeric(feature, array):
                return None
            values[feature.name] = array
            if feature.role == "cluster":
                present |= ~np.isnan(array)
        else:
            cells: list[Any] = [None] * n if column is None else list(column)
            if not _TEXT_TYPES.issuperset(map(type, cells)):
                return None
            canonical = _categorical(feature, cells)
            if canonical is None:
                return None
            values[feature.name] = canonical
            if feature.role == "cluster":
                present |= np.fromiter((v is not None for v in canonical), bool, count=n)
    if spec.cluster_features and not present.all():
        return None
    return CustomerColumns(texts, values)


def _as_float(column: Any, n: int) -> np.ndarray | None:
    if column is None:
        return np.full(n, np.nan)
    if isinstance(column, np.ndarray) and column.dtype.kind == "f":
        return column.astype(np.float64, copy=False)
    if not _NUMBER_TYPES.issuperset(map(type, column)):  # bool is not a number here
        return None
    try:
        return np.array(column, dtype=np.float64)  # None -> NaN
    except OverflowError:  # an integer beyond float64
        return None


def columns_from_records(spec: SegmentationSpec, records: Any) -> CustomerColumns | None:
    """Parsed JSON objects (one per customer) as checked columns, or None if any is off."""
    if type(records) is not list or not all(type(r) is dict for r in records):
        return None
    fields = {spec.id.name, *(f.name for f in spec.features)}
    if not fields.issuperset(set().union(*records)):
        return None  # an unknown field
    id_name = spec.id.name
    if not all(id_name in r for r in records):
        return None
    columns = {f.name: [r.get(f.name) for r in records] for f in spec.features}
    return check_columns(spec, [r[id_name] for r in records], columns)
