"""A CSV chunk of ``segments assign`` read as Arrow columns: the fast path of the batch CLI.

:func:`training.data.clean` reads each distinct value of a column once; so does this, with
the same rules, but keeps the rows in Arrow and numpy: ids are stripped of what
``str.strip`` strips and measured by Arrow, each column's distinct values
(``dictionary_encode``) are read once (plain numbers by Arrow's cast, any other text by
clean()'s own :func:`training.data.value_parser`) and taken back to their rows. No Python
runs per valid row. A row with a problem gets its reason from clean()'s own
:func:`training.data.row_reasons`, in its words; a chunk whose headers need a word (a
clash, a missing column) goes through ``clean()`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from training.data import REASON_COLUMN, ROW_COLUMN, clean, row_reasons, value_parser
from training.spec import FeatureSpec, SegmentationSpec, normalise_header

__all__ = ["Chunk", "ChunkColumns", "chunk_columns", "read_chunk", "rejected_table"]

# What Arrow's cast and Python's float() read alike: no blanks, no "_", no nan/inf words.
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
MAX_KEYS = 1 << 20  # cluster cell combinations numbered at most (a lookup table each)
# Every character for which str.isspace() holds: what clean()'s str.strip() removes.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True)
class ChunkColumns:
    """Every row of a chunk as clean() reads it; ``valid`` where clean() keeps the row,
    ``reasons`` of the others (clean()'s words), in order."""

    valid: np.ndarray  # (n_rows,) bool
    ids: pa.Array  # (n_rows,) stripped (meaningful where valid)
    values: dict[str, np.ndarray]  # per cluster feature (n_rows,): float64 (NaN), object (None)
    reasons: np.ndarray  # (n_rows - valid.sum(),) object
    absent: tuple[str, ...]  # feature columns not in the file
    # (n_rows,) equal where the cluster cells are equal (so are the answers); None: too
    # many combinations to number
    keys: np.ndarray | None = None


class Chunk(NamedTuple):
    """One chunk read: the kept rows' ids and feature columns, the rejected rows."""

    ids: pa.Array
    features: dict[str, np.ndarray]
    rejected: pa.Table
    absent: tuple[str, ...]
    keys: np.ndarray | None  # of the kept rows (see ChunkColumns)


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


def _read_distinct(uniques: pa.Array, feature: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """(value, reason) of each distinct cell as clean() reads it (missing: NaN or None;
    reason '' when fine): plain numbers by one cast, any other text by clean()'s parser."""
    numeric = feature.kind == "numeric"
    n = len(uniques)
    values = np.full(n, np.nan) if numeric else np.full(n, None, dtype=object)
    why = np.full(n, "", dtype=object)
    todo = ~np.asarray(pc.equal(uniques, "").to_numpy(zero_copy_only=False))  # "": missing
    if numeric:
        plain = pc.match_substring_regex(uniques, _PLAIN_NUMBER).to_numpy(zero_copy_only=False)
        cast = pc.cast(pc.if_else(plain, uniques, pa.scalar(None, pa.string())), pa.float64())
        read = cast.to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):  # the parser's bounds, on the whole column
            inside = plain & np.isfinite(read)
            inside &= ~(read < feature.min) if feature.min is not None else True
            inside &= ~(read > feature.max) if feature.max is not None else True
        values[inside] = read[inside]
        todo &= ~inside  # the parser names the problem of the others
    parse = value_parser(feature)
    for i in np.flatnonzero(todo):  # " 85", "abc", 101, categories: a handful a column
        value, why[i] = parse(str(uniques[i].as_py()).strip())
        if not why[i] and value == value:  # NaN: missing, as values holds it
            values[i] = value
    return values, why


def _read_column(
    column: pa.Array, feature: FeatureSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value per code, code per row, reason per code): each distinct cell read once."""
    encoded = pc.dictionary_encode(column)
    values, why = _read_distinct(encoded.dictionary, feature)
    missing = np.nan if feature.kind == "numeric" else None
    values = np.append(values, np.array([missing], dtype=values.dtype))  # the null cell
    codes = pc.fill_null(encoded.indices, len(why)).to_numpy(zero_copy_only=False)
    return values, codes, np.append(why, "")


def chunk_columns(batch: pa.RecordBatch, spec: SegmentationSpec) -> ChunkColumns | None:
    """The chunk (text columns) read as clean() reads it; None when its headers need
    ``clean()`` (which names the problem)."""
    if not all(pa.types.is_string(t) for t in batch.schema.types):
        return None
    found = _by_name(batch, spec)
    if found is None:
        return None
    n = batch.num_rows
    ids = pc.utf8_trim(found[spec.id.name], characters=WHITESPACE)
    lengths = pc.fill_null(pc.utf8_length(ids), 0).to_numpy(zero_copy_only=False)
    valid = (lengths > 0) & (lengths <= spec.id.max_length)
    present = np.zeros(n, dtype=bool)
    values: dict[str, np.ndarray] = {}
    why: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    keys: np.ndarray | None = np.zeros(n, dtype=np.int64)
    combinations = 1
    for feature in spec.features:
        cluster = feature.role == "cluster"
        column = found.get(feature.name)
        if column is None:
            if cluster:  # the scorer imputes it in every row
                missing = np.nan if feature.kind == "numeric" else None
                values[feature.name] = np.full(n, missing, dtype=_dtype(feature))
            continue
        distinct, codes, reasons = _read_column(column, feature)
        valid &= (reasons == "")[codes]
        why[feature.name] = codes, reasons
        if cluster:
            values[feature.name] = distinct[codes]
            present |= ~pd.isna(distinct)[codes]
            combinations *= len(reasons)
            keys = keys * len(reasons) + codes if keys is not None else None
            keys = keys if combinations <= MAX_KEYS else None
    valid &= present
    bad = np.flatnonzero(~valid)
    reasons = row_reasons(
        spec, lengths[bad], {name: r[c[bad]] for name, (c, r) in why.items()}, ~present[bad]
    )
    absent = tuple(f.name for f in spec.features if f.name not in found)
    return ChunkColumns(valid, ids, values, reasons, absent, keys)


def _dtype(feature: FeatureSpec) -> type:
    return np.float64 if feature.kind == "numeric" else object


def _clean_chunk(
    frame: pd.DataFrame, spec: SegmentationSpec, source_rows: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """clean() one chunk as the API would: repeated ids kept, absent feature columns
    missing in every row; rejected rows numbered in the file."""
    result = clean(frame.reset_index(drop=True), spec, reject_duplicates=False, impute_absent=True)
    rejected = result.rejected
    rejected[ROW_COLUMN] = source_rows[rejected[ROW_COLUMN].to_numpy(dtype=np.int64) - 1]
    return result.cleaned, rejected, result.absent


def rejected_table(rejected: pd.DataFrame) -> pa.Table:
    """clean()'s rejected rows as the table every chunk gives, empty or not: the row
    numbers, then every column as text."""
    return pa.table(
        {
            str(name): pa.array(
                values.to_numpy(dtype=np.int64)
                if name == ROW_COLUMN
                else values.astype(object).where(values.notna(), None).to_numpy(),
                pa.int64() if name == ROW_COLUMN else pa.string(),
            )
            for name, values in rejected.items()
        }
    )


def read_chunk(
    chunk: pd.DataFrame | pa.RecordBatch, spec: SegmentationSpec, source_rows: np.ndarray
) -> Chunk:
    """One chunk's kept rows (in file order) and rejected rows.

    A CSV chunk is read as columns (:func:`chunk_columns`), its rejected rows kept as
    read; a Parquet or Dask frame, or a chunk whose headers need a word, goes through
    clean()."""
    fast = chunk_columns(chunk, spec) if isinstance(chunk, pa.RecordBatch) else None
    if fast is None:
        frame = chunk.to_pandas() if isinstance(chunk, pa.RecordBatch) else chunk
        cleaned, rejected, absent = _clean_chunk(frame, spec, source_rows)
        ids = pa.array(cleaned[spec.id.name].to_numpy(dtype=object), pa.string())
        return Chunk(ids, _features(cleaned, spec), rejected_table(rejected), absent, None)
    assert isinstance(chunk, pa.RecordBatch)
    rows, bad = np.flatnonzero(fast.valid), np.flatnonzero(~fast.valid)
    columns = {name: values[rows] for name, values in fast.values.items()}
    raw = pa.Table.from_batches([chunk.take(pa.array(bad))])
    rejected = raw.add_column(0, ROW_COLUMN, pa.array(source_rows[bad], pa.int64()))
    rejected = rejected.append_column(REASON_COLUMN, pa.array(fast.reasons, pa.string()))
    keys = None if fast.keys is None else fast.keys[rows]
    return Chunk(fast.ids.take(pa.array(rows)), columns, rejected, fast.absent, keys)


def _features(cleaned: pd.DataFrame, spec: SegmentationSpec) -> dict[str, np.ndarray]:
    return {f.name: cleaned[f.name].to_numpy(dtype=_dtype(f)) for f in spec.features}
