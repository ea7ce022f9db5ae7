"""Small contract points: segment id spelling, integer customer ids, /docs in the metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

DIGITS_ONLY = "Value error, a segment id is written in digits only, e.g. 3"


@pytest.mark.parametrize("spelling", ["+1", "1.0", "%201", "01", "-1", "1e0"])
def test_read_segment_refuses_other_spellings_of_an_id(client: TestClient, spelling: str) -> None:
    response = client.get(f"/segments/{spelling}")
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert (issue["loc"], issue["msg"]) == (["path", "segment_id"], DIGITS_ONLY)


def test_read_segment_plain_digits(client: TestClient) -> None:
    assert client.get("/segments/1").json()["segment_id"] == 1
    assert client.get("/segments/0").json()["segment_id"] == 0


@pytest.mark.parametrize(("sent", "kept"), [(123, "123"), (0, "0"), (-7, "-7")])
def test_assign_customer_integer_id_kept_as_decimal_text(
    client: TestClient, sent: int, kept: str
) -> None:
    response = client.post("/assign", json={"customer_id": sent, "annual_income": 50})
    assert response.status_code == 200
    assert response.json()["customer_id"] == kept


def test_assign_customers_integer_ids(client: TestClient) -> None:
    customers = [{"customer_id": 81, "annual_income": 50}, {"customer_id": "0081"}]
    customers[1]["spending_score"] = 40
    response = client.post("/assign/batch", json={"customers": customers})
    assert [a["customer_id"] for a in response.json()["assignments"]] == ["81", "0081"]


def test_metrics_count_docs_under_their_routes(client: TestClient) -> None:
    for url in ("/docs", "/openapi.json", "/docs/assets/swagger-ui.css"):
        assert client.get(url).status_code == 200
    text = client.get("/metrics").text
    for route in ("/docs", "/openapi.json", "/docs/assets/{name}"):
        line = f'segments_http_requests_total{{method="GET",route="{route}",status="200"}}'
        assert line in text
    assert 'route="unmatched",status="200"' not in text
