"""POST /assign/transactions on a real uvicorn (127.0.0.1), with the rfm model."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from service.config import Settings
from tests.e2e.conftest import ThreadedServer

pytestmark = pytest.mark.slow
LINES = [
    {"date": "2024-06-02", "amount": 64.0, "channel": "store"},
    {"date": "2024-10-14", "amount": 120.5, "channel": "online", "coupon": "SAVE10"},
    {"date": "2024-11-28 18:30", "amount": 19.9, "order_id": "A-77"},
]


@pytest.fixture(scope="module")
def rfm_http(rfm_settings: Settings) -> Iterator[httpx.Client]:
    with (
        ThreadedServer(rfm_settings) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def test_assign_transactions_answers_features_and_segment(rfm_http: httpx.Client) -> None:
    body = {"customer_id": "C-1", "as_of": "2024-12-10", "transactions": LINES}
    response = rfm_http.post("/assign/transactions", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["customer_id"] == "C-1"
    assert answer["as_of"] == "2024-12-10"
    assert answer["lines_after_as_of"] == 0
    features = answer["features"]
    assert features["recency_days"] == 12.0
    assert features["frequency"] == 3.0
    assert features["monetary"] == 204.4
    assert features["coupon_share"] == pytest.approx(1 / 3)
    assert response.headers["X-Model-Version"] == answer["model_version"]
    same = rfm_http.post(
        "/assign",
        json={
            "customer_id": "C-1",
            **{k: features[k] for k in ("recency_days", "frequency", "monetary")},
        },
    )
    assert same.json()["segment_id"] == answer["segment_id"]


def test_assign_transactions_names_the_bad_line_and_field(rfm_http: httpx.Client) -> None:
    lines = [*LINES, {"date": "2024-02-30", "amount": 5.0}, {"date": "2024-01-01"}]
    response = rfm_http.post(
        "/assign/transactions", json={"customer_id": "C-1", "transactions": lines}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "transaction_line",
            "loc": ["body", "transactions", 3, "date"],
            "msg": "date: cannot parse",
        },
        {
            "type": "transaction_line",
            "loc": ["body", "transactions", 4, "amount"],
            "msg": "amount: missing",
        },
    ]


def test_assign_transactions_refuses_a_customer_without_a_usable_line(
    rfm_http: httpx.Client,
) -> None:
    body = {"customer_id": "C-1", "as_of": "2024-01-01", "transactions": LINES}
    response = rfm_http.post("/assign/transactions", json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "no_usable_line",
            "loc": ["body", "transactions"],
            "msg": "no purchase before as_of 2024-01-01 (3 of 3 lines on or after it; the "
            "others, if any, are returns)",
        }
    ]


def test_assign_transactions_checks_the_schema(rfm_http: httpx.Client) -> None:
    too_many = [{"date": "2024-01-01", "amount": 1.0}] * 10_001
    response = rfm_http.post(
        "/assign/transactions", json={"customer_id": "C-1", "transactions": too_many}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "transactions"]
    assert response.json()["detail"][0]["type"] == "too_long"
    nan = rfm_http.post(
        "/assign/transactions",
        content=b'{"customer_id": "C-1", "transactions": [{"date": "2024-01-01", "amount": NaN}]}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 422
    assert nan.json()["detail"][0]["loc"] == ["body", "transactions", 0, "amount"]


def test_openapi_documents_a_synthetic_transactions_example(rfm_http: httpx.Client) -> None:
    schema = rfm_http.get("/openapi.json").json()
    body = schema["paths"]["/assign/transactions"]["post"]["requestBody"]["content"]
    example = body["application/json"]["examples"]["synthetic"]["value"]
    assert example["customer_id"] == "C-1"
    assert body["application/json"]["schema"]["properties"]["transactions"]["maxItems"] == 10_000


def _assigned(client: httpx.Client, segment: int) -> float:
    line = f'segments_assignments_total{{segment="{segment}"}} '
    found = [row for row in client.get("/metrics").text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def test_assign_transactions_is_counted_by_segment(rfm_http: httpx.Client) -> None:
    body = {"customer_id": "C-1", "as_of": "2024-12-10", "transactions": LINES}
    segment = rfm_http.post("/assign/transactions", json=body).json()["segment_id"]
    before = _assigned(rfm_http, segment)
    assert rfm_http.post("/assign/transactions", json=body).status_code == 200
    assert _assigned(rfm_http, segment) == before + 1
