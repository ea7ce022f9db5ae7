"""POST /assign/transactions: one customer's transactions in, features and a segment out.

The lines go, as an in-memory Arrow table, through the same recipe as ``segments features``
and training (:func:`training.behaviour.table_for_model`), with the served artifact's
mapping rules and RFM edges. A line the recipe cannot use is a 422 whose ``loc`` names the
line index and the field.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.campaign_state import CampaignsDep
from service.deps import JsonBody, ModelDep, require_api_key
from service.errors import ServiceError
from service.routes._responses import NOT_READY, TOO_LARGE, UNAUTHORIZED, UNPROCESSABLE
from service.routes.assign import _json, _validate, answer_one
from service.schemas import Assignment, ErrorMessage
from service.state import LoadedModel

__all__ = ["MAX_LINES", "router"]

MAX_LINES = 10_000
router = APIRouter(
    prefix="/assign",
    tags=["assign"],
    dependencies=[Depends(require_api_key)],
    responses=UNAUTHORIZED,
)


class TransactionLine(BaseModel):
    """One line of the log: a date, and an amount or a quantity and a unit price."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    date: str = Field(
        min_length=1, max_length=40, description="ISO 8601 date or timestamp of the line."
    )
    amount: float | None = Field(None, description="Line value; negative for a return.")
    quantity: float | None = Field(
        None, description="With price, when no line of the request has an amount."
    )
    price: float | None = Field(None, description="Unit price, with quantity.")
    order_id: str | None = Field(
        None, max_length=64, description="Order (invoice) id; a 'C' prefix marks a cancellation."
    )
    channel: str | None = Field(None, max_length=32, description="'online' or 'store'.")
    coupon: str | None = Field(None, max_length=64, description="Coupon code, if one was used.")


class CustomerTransactions(BaseModel):
    """One customer's transactions, and the reference date of the features."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    customer_id: str = Field(min_length=1, max_length=128)
    as_of: date | None = Field(
        None,
        description="Reference date; lines on or after it are ignored. Default: the day "
        "after the last line.",
    )
    transactions: list[TransactionLine] = Field(min_length=1, max_length=MAX_LINES)


class TransactionsAssignment(Assignment):
    """The assignment, with the features computed from the lines (original units)."""

    as_of: date
    lines_after_as_of: int = Field(description="Lines on or after as_of, left out.")
    features: dict[str, float | str | None]


NOT_TRANSACTIONS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorMessage, "description": "The served model was not trained on transactions."}
}
EXAMPLE = {
    "customer_id": "C-1",
    "as_of": "2024-12-10",
    "transactions": [
        {"date": "2024-06-02", "amount": 64.0, "channel": "store"},
        {"date": "2024-10-14", "amount": 120.5, "channel": "online", "coupon": "SAVE10"},
        {"date": "2024-11-28 18:30", "amount": 39.8, "order_id": "A-77"},
    ],
}


def _schema() -> dict[str, Any]:
    """The request schema with the line schema inlined (no $defs outside components)."""
    schema = CustomerTransactions.model_json_schema()
    line = schema.pop("$defs")["TransactionLine"]
    schema["properties"]["transactions"]["items"] = line
    return schema


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _schema(),
                "examples": {"synthetic": {"summary": "A synthetic customer", "value": EXAMPLE}},
            }
        },
    }
}


def _table(request: CustomerTransactions, trained: set[str]) -> Any:
    """The lines as text columns, with every optional column the training log had (so a
    customer who never used a coupon gets coupon_share 0, as in a file, not missing)."""
    import pyarrow as pa

    lines = request.transactions
    used = {name for line in lines for name, value in line if value is not None}
    used |= trained & {"order_id", "channel", "coupon"}
    if "amount" not in used:
        used |= {"quantity", "price"}
    columns: dict[str, list[str | None]] = {
        "line": [str(i) for i in range(len(lines))],
        "customer_id": [request.customer_id] * len(lines),
    }
    for name in ("date", "amount", "quantity", "price", "order_id", "channel", "coupon"):
        if name in used or name == "date":
            columns[name] = [_text(getattr(line, name)) for line in lines]
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _text(value: object) -> str | None:
    if value is None:
        return None
    return repr(value) if isinstance(value, float) else str(value)


def _features(model: LoadedModel, request: CustomerTransactions) -> tuple[dict[str, Any], Any]:
    from training.behaviour import table_for_model
    from training.features import NoUsableLinesError, TransactionsError

    recipe = model.artifact.manifest.recipe
    if recipe is None:
        raise ServiceError(
            f"model {model.version} was not trained on transactions: use POST /assign", 409
        )
    try:
        lines = _table(request, set(recipe.mapping))
        frame, result = table_for_model(lines, model.spec, recipe, request.as_of)
    except NoUsableLinesError as exc:
        if exc.rejected is None or not len(exc.rejected):
            raise _unusable(str(exc)) from None
        raise _bad_lines(exc.rejected) from None
    except TransactionsError as exc:
        raise _unusable(str(exc)) from None
    if len(result.rejected):
        raise _bad_lines(result.rejected)
    if frame.empty:
        raise _unusable(
            f"no purchase before as_of {result.as_of} ({result.lines_after_as_of} of "
            f"{result.lines_read} lines on or after it; the others, if any, are returns)"
        )
    row = frame.iloc[0].to_dict()
    features = {str(k): _value(v) for k, v in row.items() if k != model.spec.id.name}
    return features, result


def _customer(model: LoadedModel, request: CustomerTransactions, features: dict[str, Any]) -> Any:
    """The features as the model's customer; beyond its bounds (a far as_of...) is a 422."""
    schema = model.requests.customer
    values = {k: v for k, v in features.items() if k in schema.model_fields}
    try:
        return schema.model_validate({model.spec.id.name: request.customer_id} | values)
    except ValidationError as exc:
        issues = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        loc = ("body", "as_of") if request.as_of is not None else ("body", "transactions")
        raise RequestValidationError(
            [{"type": "features_out_of_range", "loc": loc, "msg": f"features {issues}"}]
        ) from None


def _value(value: Any) -> float | str | None:
    if isinstance(value, str):
        return value
    number = float(value)
    return None if math.isnan(number) else number


def _unusable(message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "no_usable_line", "loc": ("body", "transactions"), "msg": message}]
    )


def _bad_lines(rejected: Any) -> RequestValidationError:
    return RequestValidationError([_issue(row) for row in rejected.itertuples()])


def _issue(row: Any) -> dict[str, Any]:
    field = str(row.reason).split(":")[0]
    return {
        "type": "transaction_line",
        "loc": ("body", "transactions", int(row.line), field),
        "msg": str(row.reason),
        "input": value if isinstance(value := getattr(row, field, None), str) else None,
    }


@router.post(
    "/transactions",
    response_model=TransactionsAssignment,
    responses=NOT_READY | TOO_LARGE | UNPROCESSABLE | NOT_TRANSACTIONS,
    openapi_extra=_BODY,
)
def assign_transactions(
    http: Request, model: ModelDep, body: JsonBody, campaigns: CampaignsDep
) -> Response:
    """Compute one customer's features from their transactions and assign a segment."""
    request = _validate(CustomerTransactions, body)
    features, result = _features(model, request)
    customer = _customer(model, request, features)
    answer = answer_one(http, model, campaigns, customer)
    return _json(
        answer
        | {
            "as_of": result.as_of.isoformat(),
            "lines_after_as_of": result.lines_after_as_of,
            "features": features,
        }
    )
