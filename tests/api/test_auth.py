"""Keys in X-API-Key: /assign* when SEG_API_KEYS is set, /admin/* always; CORS only when set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app

KEYS = ("client-key-1", "client-key-2")
ADMIN_KEYS = ("admin-key-1",)
CUSTOMER = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
PROTECTED: list[tuple[str, dict[str, Any] | None, tuple[str, ...]]] = [
    ("/assign", CUSTOMER, KEYS),
    ("/assign/batch", {"customers": [CUSTOMER]}, KEYS),
    ("/admin/reload", None, ADMIN_KEYS),
]
CHALLENGE = 'APIKey header="X-API-Key"'
MISSING = {"detail": "missing API key: send it in the X-API-Key header"}
INVALID = {"detail": "invalid API key"}


@pytest.fixture(scope="module")
def keyed(classic_settings: Settings) -> Iterator[TestClient]:
    settings = classic_settings.model_copy(
        update={"api_keys": KEYS, "admin_api_keys": ADMIN_KEYS, "reload_interval": 0}
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(("url", "body", "keys"), PROTECTED)
@pytest.mark.parametrize("sent", ["none", "wrong", "valid"])
def test_protected_routes_need_a_key(
    keyed: TestClient, url: str, body: dict[str, Any] | None, keys: tuple[str, ...], sent: str
) -> None:
    headers = {"none": {}, "wrong": {"X-API-Key": keys[0] + "x"}, "valid": {"X-API-Key": keys[-1]}}
    response = keyed.post(url, json=body, headers=headers[sent])
    if sent == "valid":
        assert response.status_code == 200, response.text
        assert "www-authenticate" not in response.headers
        return
    assert response.status_code == 401
    assert response.json() == (MISSING if sent == "none" else INVALID)
    assert response.headers["www-authenticate"] == CHALLENGE
    assert keys[0] not in response.text


def test_client_and_admin_keys_are_apart(keyed: TestClient) -> None:
    assign = keyed.post("/assign", json=CUSTOMER, headers={"X-API-Key": ADMIN_KEYS[0]})
    admin = keyed.post("/admin/reload", headers={"X-API-Key": KEYS[0]})
    assert [(r.status_code, r.json()) for r in (assign, admin)] == [(401, INVALID)] * 2


def test_key_is_checked_before_the_body(keyed: TestClient) -> None:
    response = keyed.post("/assign", content=b"not json", headers={"content-type": "text/plain"})
    assert (response.status_code, response.json()) == (401, MISSING)


@pytest.mark.parametrize("url", ["/health/live", "/health/ready", "/metrics", "/segments"])
def test_open_routes_need_no_key_and_leak_none(keyed: TestClient, url: str) -> None:
    response = keyed.get(url)
    assert response.status_code == 200
    for key in (*KEYS, *ADMIN_KEYS):
        assert key not in response.text


def test_assign_is_open_without_api_keys(client: TestClient) -> None:
    assert client.post("/assign", json=CUSTOMER).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "anything"}])
def test_admin_is_off_without_admin_keys(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/admin/reload", headers=headers)
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "the admin routes are disabled: no SEG_ADMIN_API_KEYS configured"},
    )


def test_openapi_offers_the_key_schemes(keyed: TestClient) -> None:
    document = keyed.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()} == {
        "APIKey": ("apiKey", "header", "X-API-Key"),
        "AdminKey": ("apiKey", "header", "X-API-Key"),
    }
    assert document["paths"]["/assign"]["post"]["security"] == [{"APIKey": []}]
    assert document["paths"]["/admin/reload"]["post"]["security"] == [{"AdminKey": []}]
    assert "security" not in document["paths"]["/health/ready"]["get"]


PREFLIGHT = {
    "Origin": "https://crm.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-api-key",
}


def test_cors_is_off_by_default(client: TestClient) -> None:
    preflight = client.options("/assign", headers=PREFLIGHT)
    assert preflight.status_code == 405
    answer = client.post("/assign", json=CUSTOMER, headers={"Origin": "https://crm.example"})
    assert "access-control-allow-origin" not in answer.headers


def test_cors_allows_the_configured_origins(classic_settings: Settings) -> None:
    settings = classic_settings.model_copy(update={"cors_origins": ("https://crm.example",)})
    with TestClient(create_app(settings)) as client:
        preflight = client.options("/assign", headers=PREFLIGHT)
        other = client.options("/assign", headers=PREFLIGHT | {"Origin": "https://evil.example"})
        answer = client.post("/assign", json=CUSTOMER, headers={"Origin": "https://crm.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://crm.example"
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    assert other.status_code == 400
    assert answer.headers["access-control-allow-origin"] == "https://crm.example"
    assert answer.headers["access-control-expose-headers"] == "X-Model-Version"
