"""Documented error responses shared by the routers (OpenAPI only)."""

from __future__ import annotations

from typing import Any

from service.schemas import ErrorMessage, ValidationErrorBody

__all__ = [
    "FORBIDDEN",
    "NOT_FOUND",
    "NOT_READY",
    "TIMEOUT",
    "TOO_LARGE",
    "UNAUTHORIZED",
    "UNPROCESSABLE",
    "UNSUPPORTED",
]

_KEY_CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'The key to send: `APIKey header="X-API-Key"`.',
        "schema": {"type": "string"},
    }
}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorMessage,
        "description": "X-API-Key is missing or not one of the configured keys.",
        "headers": _KEY_CHALLENGE,
    }
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorMessage, "description": "No SEG_ADMIN_API_KEYS: the admin routes are off."}
}
TIMEOUT: dict[int | str, dict[str, Any]] = {
    504: {"model": ErrorMessage, "description": "Not answered within SEG_REQUEST_TIMEOUT."}
}

NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorMessage, "description": "No verified model is loaded (see /health/ready)."}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorMessage, "description": "No such segment, report or figure."}
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorMessage, "description": "Body over SEG_MAX_BODY_BYTES."}
}
UNSUPPORTED: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorMessage, "description": "The body is not application/json."}
}
UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ValidationErrorBody,
        "description": "The body breaks the schema; each issue names the field in `loc`.",
    }
}
