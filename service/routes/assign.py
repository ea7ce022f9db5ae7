"""POST /assign and /assign/batch: place customers into segments."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic_core
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from service.batch import batch_response, score_batch, score_customers
from service.campaign_state import CampaignHolder
from service.columnar import MEDIA_TYPES
from service.context import record_assignments
from service.deps import batch_body_of, check_api_key, json_body, pinned_model
from service.errors import PayloadTooLargeError
from service.fast_route import Endpoint
from service.request_models import CustomerBase
from service.routes._responses import (
    NOT_READY,
    TOO_LARGE,
    UNAUTHORIZED,
    UNPROCESSABLE,
    UNSUPPORTED,
)
from service.schemas import Assignment, AssignmentBatch
from service.state import LoadedModel
from service.validation import invalid_request

__all__ = ["answer_one", "fast_routes", "router"]

router = APIRouter(prefix="/assign", tags=["assign"], responses=UNAUTHORIZED)
# Both routes check the key themselves (service.deps.check_api_key): this says so in OpenAPI.
_KEYED: dict[str, Any] = {"security": [{"APIKey": []}]}
M = TypeVar("M", bound=BaseModel)
SINGLE_MAX_BYTES = 64 * 1024
ERRORS = NOT_READY | TOO_LARGE | UNSUPPORTED | UNPROCESSABLE
ACCEPT_HELP = "application/json (default), " + ", ".join(MEDIA_TYPES) + ": the answer's format."
# The Accept header, as FastAPI documents a Header parameter (the route takes the request).
_ACCEPT_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Accept"}
_ACCEPT: dict[str, Any] = {
    "parameters": [
        {
            "name": "accept",
            "in": "header",
            "required": False,
            "description": ACCEPT_HELP,
            "schema": _ACCEPT_SCHEMA | {"description": ACCEPT_HELP},
        }
    ]
}
_TABLE = {"schema": {"type": "string", "format": "binary"}}
BATCH_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {"content": dict.fromkeys(MEDIA_TYPES, _TABLE)}
}


def _body(schema: str) -> dict[str, Any]:
    # The request models are built from the loaded model's spec, after the routes exist,
    # so the body is declared here and its schema filled in by service.openapi.
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def batch_body() -> dict[str, Any]:
    """The batch body: JSON (``CustomerBatch``) or a table in one of the columnar formats."""
    body = _body("CustomerBatch")
    body["requestBody"]["content"] |= dict.fromkeys(MEDIA_TYPES, _TABLE)
    return body


def _validate(schema: type[M], body: bytes) -> M:
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        # Capped here, in the caller's thread (the batch route's is the threadpool's).
        errors = exc.errors(include_url=False, include_input=False)
        raise invalid_request(errors, exc.error_count(), prefix=("body",)) from None


def _json(content: Any) -> Response:
    return Response(pydantic_core.to_json(content), media_type="application/json")


@router.post(
    "", response_model=Assignment, responses=ERRORS, openapi_extra=_body("Customer") | _KEYED
)
async def assign_customer(request: Request) -> Response:
    """Assign one customer to the nearest segment."""
    # Only the request as a parameter: FastAPI's dependency solving was 38 % of this route's
    # time; the same checks as the dependencies, in the same order (401, 503, 415).
    check_api_key(request)
    model = pinned_model(request)
    body = await json_body(request)
    campaigns: CampaignHolder = request.app.state.campaigns
    # On the event loop on purpose: one customer is ~0.1 ms of CPU, less than the hop to
    # the threadpool costs (~0.4 ms, bench/serve.py); batches stay in the threadpool. The
    # body cap keeps a huge single-customer body from holding the loop while it is parsed.
    if len(body) > SINGLE_MAX_BYTES:
        raise PayloadTooLargeError(SINGLE_MAX_BYTES, "one customer: use /assign/batch for many")
    customer = _validate(model.requests.customer, body)
    return _json(answer_one(request, model, campaigns, customer))


def fast_routes() -> list[tuple[APIRoute, Endpoint]]:
    """``POST /assign`` and ``/assign/batch``: routes and endpoints for
    :class:`service.fast_route.FastRoute`."""
    endpoints: tuple[Endpoint, ...] = (assign_customer, assign_customers)
    routes = [r for r in router.routes if isinstance(r, APIRoute) and r.endpoint in endpoints]
    return [(route, route.endpoint) for route in routes]


def answer_one(
    request: Request, model: LoadedModel, campaigns: CampaignHolder, customer: CustomerBase
) -> dict[str, Any]:
    """One validated customer's assignment (counted by the request context) and arms."""
    ids, result = score_customers(model, [customer], lambda _row: ("body",))
    record_assignments(request, result)
    [answer] = result.records(ids, model.segment_names)
    answer["model_version"] = model.version
    return campaigns.attach([answer])[0]


@router.post(
    "/batch",
    response_model=AssignmentBatch,
    responses=ERRORS | BATCH_FORMATS,
    openapi_extra=batch_body() | _KEYED | _ACCEPT,
)
async def assign_customers(request: Request) -> Response:
    """Assign up to SEG_MAX_BATCH customers in one call; answers keep the request order.

    The body is JSON, or a table by `Content-Type`: Apache Arrow IPC stream, Parquet or
    CSV, one row per customer, the JSON field names as column names (a null cell is a
    missing value). `Accept` picks the answer's format: JSON (default), or one of the
    three, with the columns `customer_id, segment_id, segment_name, distance, confidence,
    atypical, imputed, campaigns` (lists joined with `;`).

        curl -s -X POST localhost:8000/assign/batch -H 'content-type: text/csv' \\
             -H 'accept: text/csv' --data-binary @customers.csv
        curl -s -X POST localhost:8000/assign/batch \\
             -H 'content-type: application/vnd.apache.parquet' \\
             -H 'accept: application/vnd.apache.arrow.stream' --data-binary @customers.parquet
    """
    # Only the request, as POST /assign: the same checks as the dependencies, in order
    # (401, 503, 415); the batch itself is scored in the threadpool.
    check_api_key(request)
    model = pinned_model(request)
    media_type, body = await batch_body_of(request)
    campaigns: CampaignHolder = request.app.state.campaigns
    accept = request.headers.get("accept")
    return await run_in_threadpool(
        _answer_batch, request, model, campaigns, (media_type, body), accept
    )


def _answer_batch(
    request: Request,
    model: LoadedModel,
    campaigns: CampaignHolder,
    body: tuple[str, bytes],
    accept: str | None,
) -> Response:
    ids, result = score_batch(model, *body)
    record_assignments(request, result)
    return batch_response(model, campaigns, (ids, result), accept)
