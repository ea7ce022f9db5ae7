"""POST /assign and /assign/batch are dispatched below the router (service.fast_route): they
must answer, count and fail exactly as the routed endpoints, and leave every other request
to the router."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.fast_route import FastRoute
from service.routes.assign import assign_customer, assign_customers

CUSTOMER = {"customer_id": "fast-1", "annual_income": 60, "spending_score": 50}


def test_the_fast_route_serves_post_assign_with_the_routed_endpoint(client: TestClient) -> None:
    layers = [m for m in client.app.user_middleware if m.cls is FastRoute]  # type: ignore[attr-defined]
    assert len(layers) == 1
    served = {route.path: endpoint for route, endpoint in layers[0].kwargs["routes"]}
    assert served == {"/assign": assign_customer, "/assign/batch": assign_customers}
    answer = client.post("/assign", json=CUSTOMER)
    assert answer.status_code == 200
    assert answer.json()["customer_id"] == "fast-1"
    assert answer.headers["x-model-version"] == answer.json()["model_version"]


def test_the_fast_routes_are_counted_under_their_routes(client: TestClient) -> None:
    def served(route: str) -> float:
        wanted = (f'route="{route}"', 'status="200"', 'method="POST"')
        for line in client.get("/metrics").text.splitlines():
            if line.startswith("segments_http_requests_total{") and all(w in line for w in wanted):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = served("/assign"), served("/assign/batch")
    client.post("/assign", json=CUSTOMER)
    client.post("/assign/batch", json={"customers": [CUSTOMER, CUSTOMER]})
    assert (served("/assign"), served("/assign/batch")) == (before[0] + 1, before[1] + 1)


def test_the_fast_route_answers_errors_as_the_handlers_do(client: TestClient) -> None:
    invalid = client.post("/assign", json={"customer_id": "x", "annual_income": "85"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "annual_income"]
    assert invalid.json()["error_count"] == 1
    not_json = client.post("/assign", content=b"a,b", headers={"content-type": "text/csv"})
    assert not_json.status_code == 415
    assert "text/csv" in not_json.json()["detail"]
    too_large = client.post("/assign", json=CUSTOMER | {"customer_id": "x" * 70_000})
    assert too_large.status_code == 413
    batch = client.post("/assign/batch", json={"customers": [CUSTOMER | {"age": -1}]})
    assert batch.status_code == 422
    assert batch.json()["detail"][0]["loc"] == ["body", "customers", 0, "age"]
    table = client.post("/assign/batch", content=b"x", headers={"content-type": "text/plain"})
    assert table.status_code == 415


def test_other_methods_and_paths_still_go_to_the_router(client: TestClient) -> None:
    assert client.get("/assign").status_code == 405
    assert client.post("/assign/", json=CUSTOMER, follow_redirects=False).status_code == 307
    assert client.post("/assign/batch", json={"customers": [CUSTOMER]}).status_code == 200
