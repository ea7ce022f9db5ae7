"""A CSV chunk of ``segments assign`` checked as columns: the fast path of the batch CLI.

The chunk's text columns are mapped by header aliases, typed by Arrow and checked with
:func:`training.columns.check_columns` (the check of ``/assign/batch``). It is taken only
when every row is valid and reads exactly as :func:`training.data.clean` would read it;
otherwise (a rejected row, a blank-padded value, ``NaN``, a header clash, ...) the chunk
goes through ``clean()``, which gives each rejected row its reason.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from training.columns import CustomerColumns, check_columns
from training.spec import SegmentationSpec, normalise_header

__all__ = ["chunk_columns"]


def _by_name(batch: pa.RecordBatch, spec: SegmentationSpec) -> dict[str, pa.Array] | None:
    names = batch.schema.names
    if len(set(names)) != len(names):
        return None
    mapping = spec.header_map()
    found: dict[str, pa.Array] = {}
    for index, name in enumerate(names):
        target = mapping.get(normalise_header(name))
        if target is not None:
            if target in found:
                return None  # two columns for one field: clean() names them
            found[target] = batch.column(index)
    cluster = {f.name for f in spec.cluster_features}
    return found if spec.id.name in found and cluster & found.keys() else None


def _blank_as_null(column: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)


def _numeric(column: pa.Array) -> np.ndarray | None:
    try:
        values = pc.cast(_blank_as_null(column), pa.float64())
    except pa.ArrowInvalid:
        return None  # not a plain number (clean() may still read it, e.g. " 85")
    if pc.any(pc.is_nan(values)).as_py():
        return None
    array: np.ndarray = values.to_numpy(zero_copy_only=False)
    return array


def chunk_columns(
    batch: pa.RecordBatch, spec: SegmentationSpec
) -> tuple[CustomerColumns, tuple[str, ...]] | None:
    """The chunk (text columns) as checked columns and the absent feature columns, or None."""
    if not all(pa.types.is_string(t) for t in batch.schema.types):
        return None
    found = _by_name(batch, spec)
    if found is None:
        return None
    ids = found[spec.id.name]
    if ids.null_count or not pc.all(pc.equal(ids, pc.utf8_trim_whitespace(ids))).as_py():
        return None  # clean() strips ids
    columns: dict[str, object] = {}
    for feature in spec.features:
        column = found.get(feature.name)
        if column is None:
            continue
        if feature.kind == "numeric":
            values = _numeric(column)
            if values is None:
                return None
            columns[feature.name] = values
        else:
            columns[feature.name] = _blank_as_null(column).to_pylist()
    checked = check_columns(spec, ids.to_pylist(), columns)
    absent = tuple(f.name for f in spec.features if f.name not in found)
    return None if checked is None else (checked, absent)
