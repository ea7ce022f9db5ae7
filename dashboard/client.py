"""The dashboard's only way to the data: the scoring API over HTTP (httpx).

Every failure becomes an :class:`ApiError` whose message a person can act on::

    ApiError              the API answered an error, or could not be reached
    ├── ApiUnreachableError    no answer: connection refused, unknown host, timeout
    ├── ApiUnauthorizedError   401: no or wrong X-API-Key
    ├── ModelNotReadyError     503: the service runs but has no verified model
    └── ApiInvalidError        422: the request breaks the model's schema (``issues`` says where)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "API_KEY_ENV",
    "API_URL_ENV",
    "PUBLIC_URL_ENV",
    "Absent",
    "ApiClient",
    "ApiError",
    "ApiInvalidError",
    "ApiUnauthorizedError",
    "ApiUnreachableError",
    "Connection",
    "ModelNotReadyError",
]

API_URL_ENV = "SEG_DASHBOARD_API_URL"
API_KEY_ENV = "SEG_DASHBOARD_API_KEY"
PUBLIC_URL_ENV = "SEG_DASHBOARD_API_PUBLIC_URL"
DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30.0


class ApiError(Exception):
    """The API answered an error (``status``), or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail  # the API's own words (its ``detail``), when it answered


class ApiUnreachableError(ApiError):
    pass


class ApiUnauthorizedError(ApiError):
    pass


class ModelNotReadyError(ApiError):
    pass


class ApiInvalidError(ApiError):
    def __init__(self, message: str, issues: list[dict[str, Any]]) -> None:
        super().__init__(message, 422)
        self.issues = issues


@dataclass(frozen=True)
class Absent:
    """What a server answers for a route it does not offer (404), in its own words."""

    path: str
    detail: str

    @property
    def reason(self) -> str:
        """``no GET /monitoring`` for a route it lacks, else why it is off."""
        return f"no GET {self.path}" if self.detail == "Not Found" else self.detail


@dataclass(frozen=True)
class Connection:
    """Where the API is, the key to send, and the address a browser uses for links."""

    url: str
    api_key: str | None = None
    public_url: str | None = None

    @classmethod
    def from_env(cls) -> Connection:
        url = os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL
        return cls(
            url=url.rstrip("/"),
            api_key=os.environ.get(API_KEY_ENV) or None,
            public_url=(os.environ.get(PUBLIC_URL_ENV) or "").rstrip("/") or None,
        )

    def link(self, path: str) -> str:
        """An API address for the user's browser (the dashboard may reach it by another)."""
        return f"{self.public_url or self.url}{path}"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    return response.reason_phrase


def describe_issue(issue: dict[str, Any]) -> str:
    """``field: message`` for one 422 issue, without the request path around the field."""
    loc = [str(part) for part in issue.get("loc", []) if part not in ("body", "query")]
    while loc and (loc[0] == "customers" or loc[0].isdigit()):
        loc = loc[1:]
    where = ".".join(loc)
    message = str(issue.get("msg", "invalid value"))
    return f"{where}: {message}" if where else message


class ApiClient:
    """Calls the API at ``connection.url``; one instance per dashboard session is enough."""

    def __init__(
        self, connection: Connection, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.connection = connection
        headers = {"X-API-Key": connection.api_key} if connection.api_key else {}
        self._http = httpx.Client(
            base_url=connection.url,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def get_optional(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A route the server may not offer (an older service, or one turned off):
        :class:`Absent` on 404."""
        try:
            return self.get(path, params)
        except ApiError as exc:
            if exc.status == 404:
                return Absent(path, exc.detail or "Not Found")
            raise

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("POST", path, json=body)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.connection.url
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ApiUnreachableError(
                f"The API at {url} did not answer {method} {path} within {TIMEOUT_SECONDS:.0f} s."
            ) from None
        except httpx.HTTPError as exc:
            raise ApiUnreachableError(
                f"The API at {url} is not reachable ({type(exc).__name__}: {exc}). "
                "Is it running (`segments serve`), and is --api right?"
            ) from None
        if response.is_success:
            return response.json()
        raise self._error(method, path, response)

    def _error(self, method: str, path: str, response: httpx.Response) -> ApiError:
        url, status, detail = self.connection.url, response.status_code, _detail(response)
        if status == 401:
            hint = "a wrong key" if self.connection.api_key else "no key"
            return ApiUnauthorizedError(
                f"The API at {url} refused the request: {detail} (the dashboard sent {hint}). "
                "Start it with --api-key KEY, one of the server's SEG_API_KEYS.",
                status,
            )
        if status == 503:
            return ModelNotReadyError(f"The API at {url} has no model ready: {detail}", status)
        if status == 422:
            body = response.json()
            issues = body.get("detail") if isinstance(body, dict) else None
            if isinstance(issues, list):
                text = "; ".join(describe_issue(i) for i in issues[:5])
                return ApiInvalidError(f"The API refused the values: {text}", issues)
        message = f"The API at {url} answered {status} to {method} {path}: {detail}"
        return ApiError(message, status, detail)
