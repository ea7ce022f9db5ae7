"""POST /assign and /assign/batch: place customers into segments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pydantic_core
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ValidationError

from service.campaign_state import CampaignsDep
from service.deps import JsonBody, ModelDep, require_api_key
from service.errors import PayloadTooLargeError
from service.routes._responses import (
    NOT_READY,
    TOO_LARGE,
    UNAUTHORIZED,
    UNPROCESSABLE,
    UNSUPPORTED,
)
from service.schemas import Assignment, AssignmentBatch, CustomerBase, missing_cluster_features
from service.state import LoadedModel, NoClusterFeatureError
from service.validation import invalid_request, validate_batch
from training.columns import CustomerColumns, columns_from_records

__all__ = ["router"]

router = APIRouter(
    prefix="/assign",
    tags=["assign"],
    dependencies=[Depends(require_api_key)],
    responses=UNAUTHORIZED,
)
M = TypeVar("M", bound=BaseModel)
SINGLE_MAX_BYTES = 64 * 1024
ERRORS = NOT_READY | TOO_LARGE | UNSUPPORTED | UNPROCESSABLE


def _body(schema: str) -> dict[str, Any]:
    # The request models are built from the loaded model's spec, after the routes exist,
    # so the body is declared here and its schema filled in by service.openapi.
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def _validate(schema: type[M], body: bytes) -> M:
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        # Capped here, in the caller's thread (the batch route's is the threadpool's).
        errors = exc.errors(include_url=False, include_input=False)
        raise invalid_request(errors, exc.error_count(), prefix=("body",)) from None


def _assign(
    model: LoadedModel, customers: list[CustomerBase], loc: Callable[[int], tuple[str | int, ...]]
) -> list[dict[str, Any]]:
    try:
        return model.assign(customers)
    except NoClusterFeatureError as exc:
        issues = (missing_cluster_features(customers[row], loc(row)) for row in exc.rows)
        raise invalid_request(issues, len(exc.rows)) from None


def _json(content: Any) -> Response:
    return Response(pydantic_core.to_json(content), media_type="application/json")


@router.post("", response_model=Assignment, responses=ERRORS, openapi_extra=_body("Customer"))
async def assign_customer(model: ModelDep, body: JsonBody, campaigns: CampaignsDep) -> Response:
    """Assign one customer to the nearest segment."""
    # On the event loop on purpose: one customer is ~0.1 ms of CPU, less than the hop to
    # the threadpool costs (~0.4 ms, bench/serve.py); batches stay in the threadpool. The
    # body cap keeps a huge single-customer body from holding the loop while it is parsed.
    if len(body) > SINGLE_MAX_BYTES:
        raise PayloadTooLargeError(SINGLE_MAX_BYTES, "one customer: use /assign/batch for many")
    customer = _validate(model.requests.customer, body)
    [answer] = _assign(model, [customer], lambda _row: ("body",))
    answer["model_version"] = model.version
    return _json(campaigns.attach([answer])[0])


@router.post(
    "/batch",
    response_model=AssignmentBatch,
    responses=ERRORS,
    openapi_extra=_body("CustomerBatch"),
)
def assign_customers(model: ModelDep, body: JsonBody, campaigns: CampaignsDep) -> Response:
    """Assign up to SEG_MAX_BATCH customers in one call; answers keep the request order."""
    columns = _batch_columns(model, body)
    if columns is not None:  # every customer valid: checked as columns
        answers = model.assign_columns(columns.ids, columns.values)
    else:  # something is off: the request models name each problem's row and field
        customers: list[CustomerBase] = validate_batch(
            model.requests.batch, model.requests.customer, body
        )
        answers = _assign(model, customers, lambda row: ("body", "customers", row))
    return _json({"model_version": model.version, "assignments": campaigns.attach(answers)})


def _batch_columns(model: LoadedModel, body: bytes) -> CustomerColumns | None:
    """The batch as checked columns, or None when the request models must look at it."""
    try:
        parsed = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError:
        return None
    if type(parsed) is not dict or parsed.keys() != {"customers"}:
        return None
    records = parsed["customers"]
    if type(records) is not list or len(records) > model.requests.max_batch:
        return None
    return columns_from_records(model.spec, records)
