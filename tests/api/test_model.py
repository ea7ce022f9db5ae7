"""GET /model: the manifest in short."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.schemas import ModelInfo
from training.train import TrainResult


def test_read_model(no_report_client: TestClient, classic_model: TrainResult) -> None:
    response = no_report_client.get("/model")
    assert response.status_code == 200
    body = ModelInfo.model_validate(response.json())
    manifest = classic_model.manifest
    assert body.data_fingerprint == manifest.data.fingerprint
    assert (body.spec, body.id_field, body.n_clusters) == ("mall", "customer_id", 5)
    assert body.libraries == manifest.libraries
    assert body.rows_kept == manifest.data.rows_kept
    assert body.report_url is None
    income = next(f for f in body.features if f.name == "annual_income")
    assert (income.unit, income.minimum, income.maximum, income.role) == (
        "k$",
        0,
        10000,
        "cluster",
    )
    gender = next(f for f in body.features if f.name == "gender")
    assert (gender.allowed, gender.role) == (["Female", "Male"], "profile")


def test_read_model_names_the_algorithm(
    no_report_client: TestClient, gmm_settings: Settings
) -> None:
    assert no_report_client.get("/model").json()["algorithm"] == "kmeans"
    assert no_report_client.get("/model").json()["covariance_type"] is None
    with TestClient(create_app(gmm_settings)) as client:
        body = client.get("/model").json()
    assert (body["algorithm"], body["covariance_type"]) == ("gmm", "full")
