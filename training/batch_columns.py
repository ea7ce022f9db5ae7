"""A CSV chunk of ``segments assign`` checked as columns: the fast path of the batch CLI.

The chunk's text columns are mapped by header aliases, typed with Arrow and checked per row
with :func:`training.columns.row_validity` (the check of ``/assign/batch``). A row is taken
here only when it is valid and reads exactly as :func:`training.data.clean` would read it
(plain numbers, no blank padding around an id); the other rows go through ``clean()``,
which assigns what it can read and gives every rejected row its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from training.columns import row_validity
from training.data import ROW_COLUMN, clean
from training.spec import SegmentationSpec, normalise_header

__all__ = ["ChunkColumns", "chunk_columns", "read_chunk"]

# What Arrow's cast and Python's float() read alike: no blanks, no "_", no nan/inf words.
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


@dataclass(frozen=True)
class ChunkColumns:
    """The rows of a chunk taken by the fast path (``valid``), their ids and columns."""

    valid: np.ndarray  # (n_rows,) bool
    ids: list[str | None]  # every row's (meaningful where valid)
    values: dict[str, np.ndarray | list[str | None]]  # every row's
    absent: tuple[str, ...]  # feature columns not in the file


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


def _numeric(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values, plain): values as floats (NaN: missing or not plain), and where plain."""
    column = _blank_as_null(column)
    plain = pc.fill_null(pc.match_substring_regex(column, _PLAIN_NUMBER), True)
    kept = pc.if_else(plain, column, pa.scalar(None, pa.string()))
    values = pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False)
    return values, plain.to_numpy(zero_copy_only=False)


def chunk_columns(batch: pa.RecordBatch, spec: SegmentationSpec) -> ChunkColumns | None:
    """The chunk (text columns) checked per row; None when its headers need ``clean()``."""
    if not all(pa.types.is_string(t) for t in batch.schema.types):
        return None
    found = _by_name(batch, spec)
    if found is None:
        return None
    ids = found[spec.id.name]
    stripped = pc.fill_null(pc.equal(ids, pc.utf8_trim_whitespace(ids)), False)
    plain = stripped.to_numpy(zero_copy_only=False)  # clean() strips ids
    columns: dict[str, object] = {}
    for feature in spec.features:
        column = found.get(feature.name)
        if column is None:
            continue
        if feature.kind == "numeric":
            columns[feature.name], readable = _numeric(column)
            plain &= readable
        else:
            columns[feature.name] = _blank_as_null(column).to_pylist()
    id_list = ids.to_pylist()
    valid, values = row_validity(spec, id_list, columns)
    absent = tuple(f.name for f in spec.features if f.name not in found)
    return ChunkColumns(valid & plain, id_list, values, absent)


def _clean_chunk(
    frame: pd.DataFrame, spec: SegmentationSpec, source_rows: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """clean() one chunk as the API would: repeated ids kept, absent feature columns
    missing in every row; rejected rows numbered in the file."""
    result = clean(frame.reset_index(drop=True), spec, reject_duplicates=False, impute_absent=True)
    rejected = result.rejected
    rejected[ROW_COLUMN] = source_rows[rejected[ROW_COLUMN].to_numpy(dtype=np.int64) - 1]
    return result.cleaned, rejected, result.absent


def read_chunk(
    chunk: pd.DataFrame | pa.RecordBatch, spec: SegmentationSpec, source_rows: np.ndarray
) -> tuple[pa.Array, dict[str, Any], pd.DataFrame, tuple[str, ...]]:
    """(ids, feature columns, rejected rows, absent columns) of one chunk, in file order:
    rows checked as columns where valid, the others through clean() (which gives reasons)."""
    fast = chunk_columns(chunk, spec) if isinstance(chunk, pa.RecordBatch) else None
    if fast is None:
        frame = chunk.to_pandas() if isinstance(chunk, pa.RecordBatch) else chunk
        cleaned, rejected, absent = _clean_chunk(frame, spec, source_rows)
        ids = cleaned[spec.id.name].to_numpy(dtype=object)
        return pa.array(ids, pa.string()), _features(cleaned, spec), rejected, tuple(absent)
    rows = np.flatnonzero(fast.valid)
    ids = np.asarray(fast.ids, dtype=object)[rows]
    columns: dict[str, np.ndarray] = {
        name: np.asarray(v, dtype=_dtype(v))[rows] for name, v in fast.values.items()
    }
    slow = np.flatnonzero(~fast.valid)
    assert isinstance(chunk, pa.RecordBatch)
    cleaned, rejected, _ = _clean_chunk(
        chunk.take(pa.array(slow)).to_pandas(), spec, source_rows[slow]
    )
    if len(cleaned):  # rows clean() reads that the fast path left to it (e.g. " 85")
        local = rejected[ROW_COLUMN].to_numpy(dtype=np.int64)  # renumbered: find by source
        kept = slow[~np.isin(source_rows[slow], local)]
        order = np.argsort(np.concatenate([rows, kept]), kind="stable")
        ids = np.concatenate([ids, cleaned[spec.id.name].to_numpy(dtype=object)])[order]
        more = _features(cleaned, spec)
        columns = {n: np.concatenate([v, more[n]])[order] for n, v in columns.items()}
    return pa.array(ids, pa.string()), columns, rejected, fast.absent


def _dtype(values: object) -> type:
    return np.float64 if isinstance(values, np.ndarray) else object


def _features(cleaned: pd.DataFrame, spec: SegmentationSpec) -> dict[str, np.ndarray]:
    return {
        f.name: cleaned[f.name].to_numpy(dtype=np.float64 if f.kind == "numeric" else object)
        for f in spec.features
    }
