"""The error family: 413 body limit (declared or chunked), generic 500, model version header."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app

LIMIT = 1024
TOO_LARGE = {"detail": f"request body is larger than {LIMIT} bytes (SEG_MAX_BODY_BYTES)"}


def _body(size: int) -> bytes:
    # Valid JSON of exactly ``size`` bytes: trailing spaces are allowed.
    body = b'{"customer_id": "C-1", "annual_income": 85, "spending_score": 90}'
    return body + b" " * (size - len(body))


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 100):
        yield body[start : start + 100]


@pytest.fixture(scope="module")
def small_client(classic_settings: Settings) -> Iterator[TestClient]:
    settings = classic_settings.model_copy(update={"max_body_bytes": LIMIT})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(("size", "status"), [(LIMIT - 1, 200), (LIMIT, 200), (LIMIT + 1, 413)])
@pytest.mark.parametrize("chunked", [False, True])
def test_assign_customer_body_limit(
    small_client: TestClient, size: int, status: int, chunked: bool
) -> None:
    body = _body(size)
    content = _chunks(body) if chunked else body
    response = small_client.post(
        "/assign", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    if status == 413:
        assert response.json() == TOO_LARGE
    else:
        assert response.json()["customer_id"] == "C-1"


def test_body_limit_applies_to_every_route(small_client: TestClient) -> None:
    response = small_client.request("GET", "/segments", content=b"x" * (LIMIT + 1))
    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_unexpected_error_is_a_generic_500(
    classic_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(classic_settings)

    def explode() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/explode", explode)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="service.errors"),
    ):
        response = client.get("/explode")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    [record] = [r for r in caplog.records if r.name == "service.errors"]
    assert record.getMessage() == "unexpected error on GET /explode"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "secret detail"


def test_errors_carry_the_model_version(client: TestClient, classic_settings: Settings) -> None:
    for response in (
        client.get("/segments/42"),
        client.post("/assign", json={"customer_id": "x", "annual_income": -5}),
        client.get("/no/such/route"),
    ):
        assert response.headers["x-model-version"] == classic_settings.model_version


def test_customer_data_is_never_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.post("/assign", json={"customer_id": "SECRET-ID", "annual_income": 77})
        client.post("/assign", json={"customer_id": "SECRET-ID", "annual_income": -77})
    assert "SECRET-ID" not in caplog.text
