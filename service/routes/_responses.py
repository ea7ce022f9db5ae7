"""Documented error responses shared by the routers (OpenAPI only)."""

from __future__ import annotations

from typing import Any

from service.schemas import ErrorMessage, ValidationErrorBody

__all__ = ["NOT_FOUND", "NOT_READY", "TOO_LARGE", "UNPROCESSABLE", "UNSUPPORTED"]

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
