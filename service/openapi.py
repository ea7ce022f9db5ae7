"""The OpenAPI document, completed with the request schemas of the loaded model.

The request models come from the artifact's spec, so they exist only once a model is
loaded; the document is rebuilt whenever the served model changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import FastAPI

from service.state import LoadedModel, ModelHolder

__all__ = ["DESCRIPTION", "TAGS", "install_openapi"]

DESCRIPTION = """\
Places customers into the segments of a K-Means model trained offline on a customer file.

**Segments.** Each segment is a group of customers that earn and spend alike (for the
default `mall` spec: annual income and spending score). `GET /segments` lists them with a
readable name ("High income · Low spending"), their size, typical values and a suggested
marketing action; `GET /profile` adds how the number of segments was chosen, and
`GET /profile/report` shows it all in pictures.

**Assignments.** `POST /assign` (one customer) and `POST /assign/batch` (many) answer, per
customer: `segment_id` and `segment_name`; `distance` to the segment centre (standardised
units); `confidence` from 0 (on the border with the runner-up segment) to 1 (at the
centre); `atypical` when the customer is farther from the centre than 99 % of the
segment's training customers; `imputed`, the cluster features that were missing and
filled with the training median or most frequent value. The request fields, units and
bounds come from the model's spec (see `GET /model`); unknown fields are refused.

Segment ids are kept across retrains (`since_version` in `GET /segments` says since when;
`GET /model` has the lineage); `GET /monitoring` tells whether live traffic still looks
like the training data (status ok / watch / retrain).

Every answer names the `model_version` that produced it (also in the `X-Model-Version`
header). Errors: 401 missing or wrong `X-API-Key`, 404 unknown segment, 413 body too large,
415 not JSON, 422 invalid field (`loc` names it; at most 100 issues, `error_count` counts
them all, no value sent is echoed), 503 no verified model loaded
(`GET /health/ready` says why), 504 not answered within the time limit.

**Keys.** Send `X-API-Key`: `/assign*` need one when the server has `SEG_API_KEYS`;
`/admin/*` always need one of `SEG_ADMIN_API_KEYS`. The health routes and `/metrics` are open.

**New models.** A model published by training is loaded, verified, warmed and swapped in
without a restart (every worker looks every `SEG_RELOAD_INTERVAL` seconds;
`POST /admin/reload` makes the receiving worker look now). A candidate that fails a check,
or changes the request fields, is refused and the current model keeps serving.
"""

TAGS = [
    {"name": "assign", "description": "Place customers into segments."},
    {"name": "segments", "description": "What each segment is and what to offer it."},
    {"name": "profile", "description": "Profiles, the choice of k and the HTML report."},
    {"name": "model", "description": "The model being served."},
    {"name": "health", "description": "Liveness and readiness probes, Prometheus metrics."},
    {"name": "admin", "description": "Operations; need one of SEG_ADMIN_API_KEYS."},
    {"name": "monitoring", "description": "Live traffic against the training data: drift."},
]
# What any operation can answer: the body limit and the time limit apply to every route.
_EVERYWHERE = {
    "413": "Body over SEG_MAX_BODY_BYTES.",
    "504": "Not answered within SEG_REQUEST_TIMEOUT.",
}

_PLACEHOLDER = {
    "type": "object",
    "description": "No model is loaded: the fields come from the model's spec (GET /model).",
}


# One example per error status: what a client sees (see service.errors).
_ERROR_EXAMPLES: dict[str, Any] = {
    "401": {"detail": "invalid API key"},
    "403": {"detail": "the admin routes are disabled: no SEG_ADMIN_API_KEYS configured"},
    "404": {"detail": "segment 9 not found; valid ids: 0, 1, 2, 3, 4"},
    "409": {
        "status": "refused",
        "candidate": "20260102T030405000000Z-0badc0de",
        "model_version": "20260101T020304000000Z-1c2d3e4f",
        "refused": {
            "model_version": "20260102T030405000000Z-0badc0de",
            "kind": "checksum",
            "reason": "pipeline.joblib: sha256 does not match the manifest",
        },
    },
    "413": {"detail": "request body is larger than 4194304 bytes (SEG_MAX_BODY_BYTES)"},
    "415": {"detail": "Content-Type 'text/plain' is not supported: send application/json"},
    "422": {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["body", "spending_score"],
                "msg": "Input should be less than or equal to 100",
                "ctx": {"le": 100.0},
            }
        ],
        "error_count": 1,
    },
    "503": {"detail": "no model loaded: models/LATEST not found: no model has been published yet"},
    "504": {"detail": "the request took longer than 30 s (SEG_REQUEST_TIMEOUT)"},
}
_ONE_422 = {"$ref": "#/components/schemas/ValidationErrorBody"}


def _at_least_one_cluster_feature(model: LoadedModel) -> list[dict[str, Any]]:
    """``anyOf``: the customer carries at least one cluster feature, not null."""
    kinds = {"numeric": "number", "categorical": "string"}
    return [
        {"required": [f.name], "properties": {f.name: {"type": kinds[f.kind]}}}
        for f in model.spec.cluster_features
    ]


def _request_schemas(model: LoadedModel | None) -> dict[str, Any]:
    if model is None:
        batch = {
            "type": "object",
            "properties": {
                "customers": {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}}
            },
            "required": ["customers"],
        }
        return {"Customer": _PLACEHOLDER, "CustomerBatch": batch}
    template = "#/components/schemas/{model}"
    customer = model.requests.customer.model_json_schema(ref_template=template)
    customer["anyOf"] = _at_least_one_cluster_feature(model)
    batch = model.requests.batch.model_json_schema(ref_template=template)
    batch.pop("$defs", None)
    return {"Customer": customer, "CustomerBatch": batch}


def _add_examples(schema: dict[str, Any], model: LoadedModel) -> None:
    examples = model.requests.examples
    if not examples:
        return
    single = schema["paths"]["/assign"]["post"]
    single["requestBody"]["content"]["application/json"]["examples"] = examples
    values = [example["value"] for example in examples.values()]
    customers = [model.requests.customer.model_validate(value) for value in values]
    # Made-up customers, not traffic: kept out of the drift counts of GET /monitoring.
    answers = replace(model, drift=None).assign(customers)
    _response_example(single, answers[0] | {"model_version": model.version, "campaigns": []})
    batch = schema["paths"]["/assign/batch"]["post"]
    batch["requestBody"]["content"]["application/json"]["example"] = {"customers": values}
    _response_example(batch, {"model_version": model.version, "assignments": answers})


def _response_example(operation: dict[str, Any], example: Any) -> None:
    operation["responses"]["200"]["content"]["application/json"]["example"] = example


def _add_limits(schema: dict[str, Any]) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}}
    for path in schema["paths"].values():
        for operation in path.values():
            for status, description in _EVERYWHERE.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": error}
                )


def _add_error_examples(schema: dict[str, Any]) -> None:
    """Every 422 with the one ValidationErrorBody; an example for every error answer."""
    for path in schema["paths"].values():
        for operation in path.values():
            for status, response in operation["responses"].items():
                if status == "422":
                    response["content"] = {"application/json": {"schema": _ONE_422}}
                example = _ERROR_EXAMPLES.get(status)
                content = response.get("content", {}).get("application/json")
                if example is not None and content is not None:
                    content["example"] = example
    components = schema.get("components", {}).get("schemas", {})
    for fastapi_own in ("HTTPValidationError", "ValidationError"):
        components.pop(fastapi_own, None)


def install_openapi(app: FastAPI, holder: ModelHolder) -> None:
    """Make ``app.openapi()`` describe the request bodies of the model being served."""
    built: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        model = holder.current
        key = model.version if model else ""
        if built.get("key") != key or app.openapi_schema is None:
            app.openapi_schema = None
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                _request_schemas(model)
            )
            _add_limits(schema)
            _add_error_examples(schema)
            if model is not None:
                _add_examples(schema, model)
            built["key"] = key
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
