"""Columnar bodies of ``/assign/batch``: Arrow IPC stream, Parquet and CSV, in and out.

A body in one of :data:`MEDIA_TYPES` (by ``Content-Type``) holds one row per customer and
one column per request field, named as in JSON. A null cell is a missing value; NaN is
invalid, as in JSON. The columns are checked as columns (:mod:`training.columns`); when
anything is off, the rows go through the request models, so the 422 names the row and
the field (``loc: ["body", row, field]``) in the one place errors are shaped
(:mod:`service.validation`). The answer is JSON unless ``Accept`` asks for one of
:data:`MEDIA_TYPES`: then a table of the assignment record's columns (``imputed`` and
``campaigns`` joined with ``;``), the model version in its metadata (Arrow, Parquet).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from service.validation import CappedValidationError, invalid_request
from training.columns import CustomerColumns, Ids, row_validity
from training.scoring import Assignments
from training.spec import SegmentationSpec

__all__ = ["ARROW", "CSV", "MEDIA_TYPES", "PARQUET", "answer_table", "read_table", "table_columns"]

ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
CSV = "text/csv"
MEDIA_TYPES = (ARROW, PARQUET, CSV)
_NAMES = {ARROW: "Arrow IPC stream", PARQUET: "Parquet", CSV: "CSV"}


def _body_error(message: str) -> CappedValidationError:
    return invalid_request([{"type": "invalid_body", "loc": ("body",), "msg": message}], 1)


def _read_csv(body: bytes, spec: SegmentationSpec) -> pa.Table:
    from pyarrow import csv

    types = {spec.id.name: pa.string()}
    types |= {f.name: pa.float64() if f.kind == "numeric" else pa.string() for f in spec.features}
    options = csv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True)
    return csv.read_csv(io.BytesIO(body), convert_options=options)


def read_table(media_type: str, body: bytes, spec: SegmentationSpec) -> pa.Table:
    """The table of a columnar body; a 422 naming the format and the problem if unreadable."""
    try:
        if media_type == ARROW:
            return pa.ipc.open_stream(body).read_all()
        if media_type == PARQUET:
            import pyarrow.parquet as pq

            return pq.read_table(io.BytesIO(body))
        return _read_csv(body, spec)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _body_error(f"cannot read the {_NAMES[media_type]} body: {exc}") from None


def _check_shape(table: pa.Table, spec: SegmentationSpec, max_batch: int) -> None:
    issues: list[dict[str, Any]] = []
    if table.num_rows > max_batch:
        msg = f"At most {max_batch} customers in one batch, not {table.num_rows}"
        issues.append({"type": "too_long", "loc": ("body",), "msg": msg})
    known = {spec.id.name, *(f.name for f in spec.features)}
    if len(set(table.column_names)) != table.num_columns:
        issues.append({"type": "invalid_body", "loc": ("body",), "msg": "Repeated column names"})
    for name in table.column_names:
        if name not in known:
            extra = "Extra inputs are not permitted"
            issues.append({"type": "extra_forbidden", "loc": ("body", name), "msg": extra})
    if spec.id.name not in table.column_names:
        issues.append({"type": "missing", "loc": ("body", spec.id.name), "msg": "Field required"})
    if issues:
        raise invalid_request(issues, len(issues))


def _numeric(column: pa.ChunkedArray) -> np.ndarray | None:
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)):
        return None
    values = pc.cast(column, pa.float64())
    if pc.any(pc.is_nan(values)).as_py():
        return None  # NaN is invalid (a null is missing): the request models say where
    array: np.ndarray = values.to_numpy(zero_copy_only=False)  # nulls -> NaN: missing
    return array


def _text(column: pa.ChunkedArray) -> list[Any] | None:
    kind = column.type
    ok = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
    return column.to_pylist() if ok else None


def _ids(column: pa.ChunkedArray) -> pa.Array | None:
    """The id column as one Arrow string array (integers as their decimal text)."""
    kind = column.type
    if pa.types.is_integer(kind):
        column = pc.cast(column, pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    return pc.cast(column.combine_chunks(), pa.string())


def table_columns(
    table: pa.Table, spec: SegmentationSpec, max_batch: int
) -> CustomerColumns | None:
    """The table as checked columns; None when the request models must look at its rows."""
    _check_shape(table, spec, max_batch)
    ids = _ids(table.column(spec.id.name))
    if ids is None:
        return None
    columns: dict[str, Any] = {}
    for feature in spec.features:
        if feature.name not in table.column_names:
            continue
        column = table.column(feature.name)
        values = _numeric(column) if feature.kind == "numeric" else _text(column)
        if values is None:
            return None
        columns[feature.name] = values
    valid, typed = row_validity(spec, ids, columns)
    return CustomerColumns(ids, typed) if valid.all() else None


def answer_table(
    ids: Ids,
    result: Assignments,
    names: tuple[str, ...],
    campaigns: list[str] | None,
    version: str,
) -> pa.Table:
    """The assignment records as columns, and ``campaigns`` (``name=arm`` joined by ``;``;
    None: no campaign file, every cell empty)."""
    n = len(result.segment)
    arms = pa.repeat("", n) if campaigns is None else pa.array(campaigns, pa.string())
    columns = {"customer_id": pa.array(ids, pa.string()), **result.arrow_columns(names)}
    table = pa.table({**columns, "campaigns": arms})
    return table.replace_schema_metadata({"model_version": version})


def write_table(table: pa.Table, media_type: str) -> bytes:
    """``table`` in ``media_type`` (one of :data:`MEDIA_TYPES`)."""
    sink = io.BytesIO()
    if media_type == ARROW:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    elif media_type == PARQUET:
        import pyarrow.parquet as pq

        pq.write_table(table, sink)
    else:
        from pyarrow import csv

        csv.write_csv(table, sink)
    return sink.getvalue()
