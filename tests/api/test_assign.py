"""POST /assign and /assign/batch on the classic model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from service.config import Settings
from service.main import create_app
from service.schemas import Assignment, AssignmentBatch
from training.train import TrainResult

JSON = {"content-type": "application/json"}


def _post(client: TestClient, body: str, url: str = "/assign") -> Any:
    return client.post(url, content=body, headers=JSON)


def test_assign_customer_high_income_high_spending(
    client: TestClient, classic_model: TrainResult
) -> None:
    response = client.post(
        "/assign", json={"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
    )
    assert response.status_code == 200
    body = Assignment.model_validate(response.json())
    assert body.customer_id == "C-1"
    assert body.segment_name == "High income · High spending"
    assert body.imputed == []
    assert body.atypical is False
    assert 0 < body.confidence <= 1
    assert body.model_version == classic_model.manifest.model_version
    assert response.headers["x-model-version"] == body.model_version


def test_assign_customer_matches_pipeline_predict(
    client: TestClient, classic_model: TrainResult
) -> None:
    import pandas as pd

    customers = [(15, 39), (137, 18), (60, 60), (20, 95), (120, 95), (0, 1), (10000, 100)]
    frame = pd.DataFrame(customers, columns=["annual_income", "spending_score"], dtype=float)
    expected = classic_model.pipeline.predict(frame)
    for (income, spending), segment in zip(customers, expected, strict=True):
        body = {"customer_id": "x", "annual_income": income, "spending_score": spending}
        assert client.post("/assign", json=body).json()["segment_id"] == segment


def test_assign_customer_imputes_missing_cluster_feature(client: TestClient) -> None:
    response = client.post("/assign", json={"customer_id": "C-2", "annual_income": 20})
    assert response.status_code == 200
    assert response.json()["imputed"] == ["spending_score"]
    null = client.post(
        "/assign", json={"customer_id": "C-2", "annual_income": 20, "spending_score": None}
    )
    assert null.json() == response.json()


def test_assign_customer_accepts_profile_features_in_any_case(client: TestClient) -> None:
    base = {"customer_id": "C-3", "annual_income": 40, "spending_score": 60}
    plain = client.post("/assign", json=base).json()
    described = client.post("/assign", json=base | {"age": 31, "gender": " female "}).json()
    assert described == plain


def test_assign_customers_keeps_order_and_equals_single_calls(client: TestClient) -> None:
    customers = [
        {"customer_id": "a", "annual_income": 20, "spending_score": 80},
        {"customer_id": "b", "annual_income": 120},
        {"customer_id": "c", "spending_score": 5},
        {"customer_id": "d", "annual_income": 55.5, "spending_score": 50, "gender": "Male"},
    ]
    response = client.post("/assign/batch", json={"customers": customers})
    assert response.status_code == 200
    batch = AssignmentBatch.model_validate(response.json())
    assert [a.customer_id for a in batch.assignments] == ["a", "b", "c", "d"]
    singles = [client.post("/assign", json=c).json() for c in customers]
    assert {single.pop("model_version") for single in singles} == {batch.model_version}
    assert [a.model_dump() for a in batch.assignments] == singles  # no per-row model_version
    assert batch.assignments[1].imputed == ["spending_score"]
    assert batch.assignments[2].imputed == ["annual_income"]


def test_assign_customers_empty_batch(client: TestClient, classic_model: TrainResult) -> None:
    response = client.post("/assign/batch", json={"customers": []})
    assert response.status_code == 200
    assert response.json() == {
        "model_version": classic_model.manifest.model_version,
        "assignments": [],
    }


def test_assign_customer_distance_is_euclidean_in_scaled_space(
    client: TestClient, classic_model: TrainResult
) -> None:
    num = classic_model.pipeline.named_steps["preprocess"].named_transformers_["num"]
    scaler = num.named_steps["scale"]
    x = (np.array([70.0, 40.0]) - scaler.mean_) / scaler.scale_
    centres = classic_model.pipeline.named_steps["model"].cluster_centers_
    body = client.post(
        "/assign", json={"customer_id": "z", "annual_income": 70, "spending_score": 40}
    ).json()
    distances = ((centres - x) ** 2).sum(axis=1) ** 0.5
    assert_allclose(body["distance"], distances.min())
    second = sorted(distances)[1]
    assert_allclose(body["confidence"], 1 - distances.min() / second)


# Each invalid body and the exact FastAPI-shaped 422 detail it gets.
INVALID: list[tuple[str, str, list[str | int], str]] = [
    ('"annual_income": NaN', "finite_number", ["body", "annual_income"],
     "Input should be a finite number"),
    ('"annual_income": "NaN"', "float_type", ["body", "annual_income"],
     "Input should be a valid number"),
    ('"annual_income": Infinity', "finite_number", ["body", "annual_income"],
     "Input should be a finite number"),
    ('"annual_income": -Infinity', "finite_number", ["body", "annual_income"],
     "Input should be a finite number"),
    ('"annual_income": 1e400', "finite_number", ["body", "annual_income"],
     "Input should be a finite number"),
    ('"annual_income": true', "float_type", ["body", "annual_income"],
     "Input should be a valid number"),
    ('"annual_income": "85"', "float_type", ["body", "annual_income"],
     "Input should be a valid number"),
    ('"annual_income": -1', "greater_than_equal", ["body", "annual_income"],
     "Input should be greater than or equal to 0"),
    ('"spending_score": 101', "less_than_equal", ["body", "spending_score"],
     "Input should be less than or equal to 100"),
    ('"annual_income": 50, "age": -3', "greater_than_equal", ["body", "age"],
     "Input should be greater than or equal to 0"),
    ('"annual_income": 50, "gender": "x"', "literal_error", ["body", "gender"],
     "Input should be 'Female' or 'Male'"),
    ('"annual_income": 50, "spending_scor": 3', "extra_forbidden", ["body", "spending_scor"],
     "Extra inputs are not permitted"),
    ('"age": 40', "missing_cluster_features", ["body"],
     "At least one cluster feature is required: annual_income, spending_score"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "kind", "loc", "message"), INVALID)
def test_assign_customer_invalid_field(
    client: TestClient, fields: str, kind: str, loc: list[str | int], message: str
) -> None:
    response = _post(client, '{"customer_id": "C-9", ' + fields + "}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"], error["msg"]) == (kind, loc, message)


@pytest.mark.parametrize(("fields", "kind", "loc", "message"), INVALID)
def test_assign_customers_invalid_field_names_the_row(
    client: TestClient, fields: str, kind: str, loc: list[str | int], message: str
) -> None:
    good = '{"customer_id": "ok", "annual_income": 10}'
    bad = '{"customer_id": "C-9", ' + fields + "}"
    response = _post(client, '{"customers": [' + good + ", " + bad + "]}", "/assign/batch")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "customers", 1, *loc[1:]]
    assert (error["type"], error["msg"]) == (kind, message)


def test_assign_customer_invalid_input_is_not_echoed(client: TestClient) -> None:
    response = _post(client, '{"customer_id": "C-9", "annual_income": NaN, "age": 555}')
    assert response.json() == {
        "detail": [
            {"type": "finite_number", "loc": ["body", "annual_income"],
             "msg": "Input should be a finite number"},
            {"type": "less_than_equal", "loc": ["body", "age"],
             "msg": "Input should be less than or equal to 120", "ctx": {"le": 120.0}},
        ],
        "error_count": 2,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "kind", "loc", "message"),
    [
        ('{"annual_income": 50}', "missing", ["body", "customer_id"], "Field required"),
        ('{"customer_id": 17.0, "annual_income": 50}', "string_type", ["body", "customer_id"],
         "Input should be a valid string"),
        ('{"customer_id": true, "annual_income": 50}', "string_type", ["body", "customer_id"],
         "Input should be a valid string"),
        ('{"customer_id": "", "annual_income": 50}', "string_too_short", ["body", "customer_id"],
         "String should have at least 1 character"),
        ("[1, 2]", "model_type", ["body"], "Input should be an object"),
        ('{"customer_id": "C-9",', "json_invalid", ["body"],
         "Invalid JSON: EOF while parsing a value at line 1 column 22"),
        ("", "json_invalid", ["body"],
         "Invalid JSON: EOF while parsing a value at line 1 column 0"),
    ],
)  # fmt: skip
def test_assign_customer_invalid_body(
    client: TestClient, body: str, kind: str, loc: list[str], message: str
) -> None:
    response = _post(client, body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"], error["msg"]) == (kind, loc, message)


def test_assign_customer_refuses_form_body(client: TestClient) -> None:
    response = client.post("/assign", data={"customer_id": "C-1"})
    assert response.status_code == 415
    assert response.json() == {
        "detail": "Content-Type 'application/x-www-form-urlencoded' is not supported: "
        "send application/json"
    }


def test_assign_customers_over_max_batch(classic_settings: Settings) -> None:
    settings = classic_settings.model_copy(update={"max_batch": 3})
    customers = [{"customer_id": str(i), "annual_income": 50} for i in range(4)]
    with TestClient(create_app(settings)) as client:
        assert client.post("/assign/batch", json={"customers": customers[:3]}).status_code == 200
        response = client.post("/assign/batch", json={"customers": customers})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "customers"]
    assert error["msg"] == "List should have at most 3 items after validation, not 4"


def test_assign_customers_needs_the_customers_field(client: TestClient) -> None:
    response = client.post("/assign/batch", json={"customer": []})
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("missing", ["body", "customers"]),
        ("extra_forbidden", ["body", "customer"]),
    ]
