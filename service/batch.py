"""The work of ``POST /assign/batch``: any body in, customers scored as columns, answer out.

JSON bodies (:mod:`service.batch_json`) and columnar ones (:mod:`service.columnar`) take the
same road: the columns are checked as columns (:mod:`training.columns`) and scored whole.
Only when that check fails do the rows go through the request models, which name each
problem's row and field (:mod:`service.validation` shapes the 422).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response

from service.batch_json import encode_batch
from service.campaign_state import CampaignHolder
from service.columnar import MEDIA_TYPES, answer_table, read_table, table_columns, write_table
from service.request_models import CustomerBase, missing_cluster_features
from service.state import LoadedModel, NoClusterFeatureError
from service.validation import invalid_request, validate_batch, validate_records
from training.columns import Ids
from training.scoring import Assignments

__all__ = ["JSON", "batch_response", "score_batch", "score_customers"]

JSON = "application/json"


def score_customers(
    model: LoadedModel, customers: list[CustomerBase], loc: Callable[[int], tuple[str | int, ...]]
) -> tuple[list[str], Assignments]:
    """Validated customers' ids and scorer results; a 422 (at ``loc(row)``) for any
    customer without a cluster feature."""
    ids = [getattr(c, model.spec.id.name) for c in customers]
    columns = {name: [getattr(c, name) for c in customers] for name in model.scorer_columns}
    try:
        return ids, model.score(columns)
    except NoClusterFeatureError as exc:
        issues = (missing_cluster_features(customers[row], loc(row)) for row in exc.rows)
        raise invalid_request(issues, len(exc.rows)) from None


def score_batch(model: LoadedModel, media_type: str, body: bytes) -> tuple[Ids, Assignments]:
    """The ids and the scorer's arrays of a batch body, or a 422 naming rows and fields."""
    if media_type == JSON:
        columns = model.decoder.columns(body)
        if columns is None:
            customers = validate_batch(model.requests.batch, model.requests.customer, body)
            return score_customers(model, customers, lambda row: ("body", "customers", row))
    else:
        table = read_table(media_type, body, model.spec)
        columns = table_columns(table, model.spec, model.requests.max_batch)
        if columns is None:
            records = table.to_pylist()
            customers = validate_records(model.requests.customer, records, ("body",))
            return score_customers(model, customers, lambda row: ("body", row))
    return columns.ids, model.score(columns.values)


def _as_list(ids: Ids) -> list[str]:
    """Ids as a list (a table's Arrow id column is read out only when text is wanted)."""
    return ids if isinstance(ids, list) else ids.to_pylist()


def _wanted(accept: str | None) -> str:
    for part in (accept or "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in MEDIA_TYPES or media_type == JSON:
            return media_type
    return JSON


def batch_response(
    model: LoadedModel,
    campaigns: CampaignHolder,
    scored: tuple[Ids, Assignments],
    accept: str | None,
) -> Response:
    """The answer in the format ``accept`` asks for (JSON unless a columnar one is named)."""
    ids, result = scored
    media_type = _wanted(accept)
    if media_type == JSON:
        texts = _as_list(ids)
        arms = campaigns.arms(result.segment.tolist(), texts)
        content = encode_batch(model.version, texts, result, model.segment_names, arms)
        return Response(content, media_type=JSON)
    joined = None
    if campaigns.book is not None:
        texts = _as_list(ids)
        joined = campaigns.column(result.segment.tolist(), texts)
    table = answer_table(ids, result, model.segment_names, joined, model.version)
    return Response(write_table(table, media_type), media_type=media_type)
