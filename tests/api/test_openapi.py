"""The OpenAPI page is enough to integrate from: schemas from the spec, examples, errors."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from training.train import TrainResult


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_openapi_describes_the_service(openapi: dict[str, Any]) -> None:
    assert openapi["info"]["title"] == "Customer segments"
    for word in ("segment_id", "confidence", "atypical", "imputed", "model_version"):
        assert word in openapi["info"]["description"]
    assert [t["name"] for t in openapi["tags"]] == [
        "assign",
        "segments",
        "profile",
        "model",
        "health",
        "admin",
        "monitoring",
    ]


def test_openapi_customer_schema_comes_from_the_spec(openapi: dict[str, Any]) -> None:
    customer = openapi["components"]["schemas"]["Customer"]
    assert customer["additionalProperties"] is False
    assert customer["required"] == ["customer_id"]
    income = customer["properties"]["annual_income"]
    assert income["x-unit"] == "k$"
    assert income["x-role"] == "cluster"
    assert income["anyOf"][0] == {"type": "number", "minimum": 0.0, "maximum": 10000.0}
    assert "thousands of US dollars" in income["description"]
    gender = customer["properties"]["gender"]
    assert gender["anyOf"][0] == {"type": "string", "enum": ["Female", "Male"]}
    assert gender["x-role"] == "profile"
    batch = openapi["components"]["schemas"]["CustomerBatch"]
    assert batch["properties"]["customers"]["maxItems"] == 10_000


def test_openapi_examples_are_synthetic_and_land_in_their_segment(
    openapi: dict[str, Any], classic_model: TrainResult, client: TestClient
) -> None:
    body = openapi["paths"]["/assign"]["post"]["requestBody"]
    examples = body["content"]["application/json"]["examples"]
    names = {s.name for s in classic_model.profile.segments}
    typical = [e for key, e in examples.items() if key.startswith("segment-")]
    assert {e["summary"].removesuffix(": a typical customer (made up)") for e in typical} == names
    assert typical[0]["value"] == {
        "customer_id": "example-1",
        "annual_income": 55,
        "spending_score": 50,
        "age": 45,
        "gender": "Female",
    }
    for example in examples.values():
        assert example["value"]["customer_id"].startswith("example-")
        answer = client.post("/assign", json=example["value"])
        assert answer.status_code == 200
    for example in typical:
        answer = client.post("/assign", json=example["value"]).json()
        assert example["summary"] == f"{answer['segment_name']}: a typical customer (made up)"
    response = openapi["paths"]["/assign"]["post"]["responses"]["200"]
    assert response["content"]["application/json"]["example"]["segment_name"] in names


def test_openapi_customer_needs_a_cluster_feature(openapi: dict[str, Any]) -> None:
    customer = openapi["components"]["schemas"]["Customer"]
    assert customer["anyOf"] == [
        {"required": ["annual_income"], "properties": {"annual_income": {"type": "number"}}},
        {"required": ["spending_score"], "properties": {"spending_score": {"type": "number"}}},
    ]


@pytest.mark.parametrize(
    ("customer", "status"),
    [
        ({"customer_id": "0081"}, 422),
        ({"customer_id": "0081", "annual_income": None, "age": 30}, 422),
        ({"customer_id": "0081", "spending_score": 40}, 200),
        ({"customer_id": 81, "annual_income": 50}, 200),
    ],
)
def test_openapi_schema_and_server_agree_on_cluster_features(
    openapi: dict[str, Any], client: TestClient, customer: dict[str, Any], status: int
) -> None:
    validator = jsonschema_rs.validator_for(openapi["components"]["schemas"]["Customer"])
    assert validator.is_valid(customer) == (status == 200)
    assert client.post("/assign", json=customer).status_code == status


def test_openapi_one_422_schema_and_an_example_per_error(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ValidationErrorBody"]["required"]) == {"detail", "error_count"}
    errors = 0
    for path in openapi["paths"].values():
        for operation in path.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                content = response["content"]["application/json"]
                assert "example" in content, (operation["operationId"], status)
                if status == "422":
                    ref = content["schema"]["$ref"]
                    assert ref == "#/components/schemas/ValidationErrorBody"
                errors += 1
    assert errors >= 30


def test_openapi_documents_errors(openapi: dict[str, Any]) -> None:
    assign = openapi["paths"]["/assign"]["post"]["responses"]
    assert set(assign) == {"200", "401", "413", "415", "422", "503", "504"}
    assert set(openapi["paths"]["/segments/{segment_id}"]["get"]["responses"]) >= {"404", "503"}
    assert set(openapi["paths"]["/profile/report"]["get"]["responses"]) >= {"404", "503"}
    assert "/profile/figures/{name}" in openapi["paths"]
    assert "/profile/report/figures/{name}" not in openapi["paths"]


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text


def test_openapi_documents_monitoring_and_lineage_shapes(openapi: dict[str, Any]) -> None:
    """The dashboard reads GET /monitoring and GET /model's lineage: every field described."""
    schemas = openapi["components"]["schemas"]
    ok = openapi["paths"]["/monitoring"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Monitoring"
    }
    assert schemas["ModelInfo"]["properties"]["lineage"]["$ref"] == (
        "#/components/schemas/LineageSummary"
    )
    assert schemas["Monitoring"]["properties"]["status"]["enum"] == ["ok", "watch", "retrain"]
    for name in ("Monitoring", "SegmentMix", "FeatureDrift", "LineageSummary"):
        properties = schemas[name]["properties"]
        undescribed = [p for p, v in properties.items() if not v.get("description")]
        assert (name, undescribed) == (name, [])
        assert schemas[name]["required"] == list(properties)
