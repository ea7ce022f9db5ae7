"""The one place a 422 body is shaped: at most 100 issues, the total count, no input values.

A 10,000-customer batch with every row wrong has 10,000 or more issues: listing them all
(with the values sent) made a 422 of megabytes, built and serialised on the event loop.
Routes that validate in a thread raise :func:`invalid_request` there, so the issues are
capped before the exception reaches the handler on the loop; the handler runs every 422
(FastAPI's own ones for path or query parameters too) through :func:`public_issues`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

import pydantic_core
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = [
    "MAX_ISSUES",
    "CappedValidationError",
    "invalid_request",
    "public_issues",
    "validate_batch",
    "validate_records",
]

MAX_ISSUES = 100
_PRIVATE = ("input", "url")  # the value sent (customer data) and pydantic's docs link


class CappedValidationError(RequestValidationError):
    """A 422 whose issues are already capped; ``total`` counts them all."""

    def __init__(self, issues: Sequence[Any], total: int) -> None:
        super().__init__(issues)
        self.total = total


def _public(issue: Mapping[str, Any], prefix: tuple[str | int, ...]) -> dict[str, Any]:
    kept = {k: v for k, v in issue.items() if k not in _PRIVATE}
    if isinstance(ctx := kept.get("ctx"), Mapping) and isinstance(ctx.get("error"), Exception):
        kept["ctx"] = {**ctx, "error": str(ctx["error"])}  # a ValueError is not JSON
    kept["loc"] = (*prefix, *issue.get("loc", ()))
    return kept


def invalid_request(
    issues: Iterable[Mapping[str, Any]], total: int, prefix: tuple[str | int, ...] = ()
) -> CappedValidationError:
    """A 422 with the first :data:`MAX_ISSUES` of ``issues`` (``total`` in all)."""
    first = [_public(issue, prefix) for issue in islice(issues, MAX_ISSUES)]
    return CappedValidationError(first, total)


def public_issues(exc: RequestValidationError) -> tuple[list[dict[str, Any]], int]:
    """The issues to answer (at most :data:`MAX_ISSUES`, no input values) and their total."""
    errors = exc.errors()
    total = exc.total if isinstance(exc, CappedValidationError) else len(errors)
    return [_public(issue, ()) for issue in islice(errors, MAX_ISSUES)], total


# Batches ---------------------------------------------------------------------------------
# A batch is validated in chunks of CHUNK customers: pydantic holds the GIL for a whole
# call, and one call over 10,000 customers (and the list of their issues) kept the event
# loop waiting for 0.1-0.8 s. Between two chunks the loop gets its turn.
CHUNK = 250


@functools.cache
def _customers_adapter(customer: type[BaseModel]) -> TypeAdapter[list[BaseModel]]:
    return TypeAdapter(list[customer])  # type: ignore[valid-type]


def _plain_batch(parsed: Any, max_batch: int) -> list[dict[str, Any]] | None:
    """The customers when the envelope is exactly ``{"customers": [{...}, ...]}``."""
    if type(parsed) is not dict or parsed.keys() != {"customers"}:
        return None
    customers = parsed["customers"]
    if type(customers) is not list or len(customers) > max_batch:
        return None
    return customers if all(type(c) is dict for c in customers) else None


def validate_batch(batch: type[BaseModel], customer: type[BaseModel], body: bytes) -> list[Any]:
    """The customers of a batch body, or a capped :class:`CappedValidationError`.

    Anything but a plain envelope of objects goes through ``batch`` whole (its errors are
    then exactly pydantic's JSON-mode ones); the plain case, chunk by chunk, in Python mode
    (strict: the same types and messages for values parsed from JSON).
    """
    limits = batch.model_fields["customers"].metadata
    max_batch = next((m.max_length for m in limits if hasattr(m, "max_length")), 0)
    try:
        customers = _plain_batch(pydantic_core.from_json(body), max_batch)
    except ValueError:
        customers = None
    if customers is None:
        try:
            return list(batch.model_validate_json(body).customers)  # type: ignore[attr-defined]
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            raise invalid_request(errors, exc.error_count(), prefix=("body",)) from None
    return validate_records(customer, customers, ("body", "customers"))


def validate_records(
    customer: type[BaseModel], customers: list[Any], loc: tuple[str | int, ...]
) -> list[Any]:
    """Customers (parsed objects) validated chunk by chunk; issues located at ``loc + row``."""
    adapter = _customers_adapter(customer)
    valid: list[Any] = []
    issues: list[dict[str, Any]] = []
    total = 0
    for start in range(0, len(customers), CHUNK):
        try:
            valid.extend(adapter.validate_python(customers[start : start + CHUNK]))
        except ValidationError as exc:
            total += exc.error_count()
            if len(issues) < MAX_ISSUES:
                for issue in exc.errors(include_url=False, include_input=False):
                    row, *rest = issue["loc"]
                    issue["loc"] = (*loc, start + int(row), *rest)
                    issues.append(dict(issue))
    if total:
        raise invalid_request(issues, total)
    return valid
