"""The errors the service answers with, and the one handler for them.

Exceptions::

    ServiceError(message, status_code)    answered as {"detail": message}
     ├── UnauthorizedError                 401  X-API-Key missing or wrong (WWW-Authenticate)
     ├── ForbiddenError                    403  admin routes without SEG_ADMIN_API_KEYS
     ├── NotFoundError                     404  unknown segment, no report, no figure
     ├── PayloadTooLargeError              413  body over SEG_MAX_BODY_BYTES
     ├── UnsupportedMediaTypeError         415  a body that is not JSON
     ├── ModelNotReadyError                503  no verified model is loaded
     └── RequestTimeoutError               504  over SEG_REQUEST_TIMEOUT

Schema errors keep FastAPI's 422 shape (``{"detail": [{"loc", "msg", "type", ...}]}``),
capped at 100 issues without the values sent, plus ``error_count`` (:mod:`service.validation`).
Anything else is a bug: the traceback is logged (method and path only, never the body)
and the client gets a generic 500 without details.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from service.validation import public_issues

__all__ = [
    "ForbiddenError",
    "ModelNotReadyError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RequestTimeoutError",
    "ServiceError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "error_response",
    "install_error_handlers",
    "validation_response",
]

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """An error the client should see: a message and an HTTP status."""

    status_code = 500

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.headers: dict[str, str] = {}


class UnauthorizedError(ServiceError):
    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"www-authenticate": 'APIKey header="X-API-Key"'}


class ForbiddenError(ServiceError):
    status_code = 403


class NotFoundError(ServiceError):
    status_code = 404


class PayloadTooLargeError(ServiceError):
    status_code = 413

    def __init__(self, limit: int, why: str = "SEG_MAX_BODY_BYTES") -> None:
        super().__init__(f"request body is larger than {limit} bytes ({why})")
        self.headers = {"connection": "close"}


class UnsupportedMediaTypeError(ServiceError):
    status_code = 415


class ModelNotReadyError(ServiceError):
    status_code = 503

    def __init__(self, reason: str) -> None:
        super().__init__(f"no model loaded: {reason}")
        self.headers = {"retry-after": "5"}


class RequestTimeoutError(ServiceError):
    status_code = 504

    def __init__(self, limit: float) -> None:
        super().__init__(f"the request took longer than {limit:g} s (SEG_REQUEST_TIMEOUT)")
        self.headers = {"connection": "close"}


def error_response(exc: ServiceError) -> JSONResponse:
    """The response for a :class:`ServiceError` (also used by the body-limit middleware)."""
    return JSONResponse({"detail": exc.message}, exc.status_code, headers=exc.headers)


async def _handle_service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return error_response(exc)


def _json_safe(value: Any) -> Any:
    # JSON has no NaN or Infinity: echo such an input back as text rather than fail.
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """The 422 for a request that failed validation: at most 100 issues, no input values."""
    issues, total = public_issues(exc)
    detail = [_json_safe(issue) for issue in issues]
    return JSONResponse({"detail": jsonable_encoder(detail), "error_count": total}, 422)


async def _handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_response(exc)


async def _handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal Server Error"}, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _handle_service_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(Exception, _handle_unexpected_error)
