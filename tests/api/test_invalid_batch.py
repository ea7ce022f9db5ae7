"""A large invalid batch: a 422 of at most 100 issues, the total count, no values echoed."""

from __future__ import annotations

from fastapi.testclient import TestClient

ROWS = 10_000


def _invalid_batch() -> dict[str, list[dict[str, object]]]:
    customers = [
        {"customer_id": f"private-{i:05d}", "annual_income": 1_000_000 + i, "spending_score": 50}
        for i in range(ROWS)
    ]
    return {"customers": customers}


def test_assign_customers_invalid_batch_lists_100_issues_and_the_count(
    client: TestClient,
) -> None:
    response = client.post("/assign/batch", json=_invalid_batch())
    assert response.status_code == 422
    body = response.json()
    assert body["error_count"] == ROWS
    assert len(body["detail"]) == 100
    assert body["detail"][99] == {
        "type": "less_than_equal",
        "loc": ["body", "customers", 99, "annual_income"],
        "msg": "Input should be less than or equal to 10000",
        "ctx": {"le": 10000.0},
    }
    assert "private-" not in response.text
    assert "1000099" not in response.text


def test_assign_customers_without_cluster_features_capped_too(client: TestClient) -> None:
    customers = [{"customer_id": f"private-{i}", "age": 30} for i in range(300)]
    response = client.post("/assign/batch", json={"customers": customers})
    assert response.status_code == 422
    body = response.json()
    assert body["error_count"] == 300
    assert [issue["loc"] for issue in body["detail"]] == [
        ["body", "customers", i] for i in range(100)
    ]
    assert "private-" not in response.text
