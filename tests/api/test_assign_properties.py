"""Properties of /assign: a batch is the concatenation of single calls; both spec kinds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.config import Settings
from service.main import create_app
from training.train import TrainResult

income = st.one_of(st.none(), st.floats(0, 10000), st.integers(0, 10000))
spending = st.one_of(st.none(), st.floats(1, 100), st.integers(1, 100))
gender = st.one_of(st.none(), st.sampled_from(["Female", "Male", " male", "FEMALE"]))
customers = st.fixed_dictionaries(
    {"customer_id": st.text(min_size=1, max_size=20)},
    optional={
        "annual_income": income,
        "spending_score": spending,
        "age": st.one_of(st.none(), st.integers(0, 120)),
        "gender": gender,
    },
).filter(lambda c: c.get("annual_income") is not None or c.get("spending_score") is not None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(customers, max_size=12))
def test_assign_customers_equals_single_calls(
    client: TestClient, batch: list[dict[str, Any]]
) -> None:
    response = client.post("/assign/batch", json={"customers": batch})
    assert response.status_code == 200
    singles = [client.post("/assign", json=customer).json() for customer in batch]
    version = response.json()["model_version"]
    assert all(single.pop("model_version") == version for single in singles)
    assert response.json()["assignments"] == singles


@pytest.fixture(scope="module")
def full_client(full_model: TrainResult) -> Iterator[TestClient]:
    settings = Settings(models_dir=full_model.path.parent, model_version=full_model.path.name)
    with TestClient(create_app(settings)) as client:
        yield client


full_customers = st.fixed_dictionaries(
    {
        "customer_id": st.just("c"),
        "annual_income": st.floats(0, 200),
        "spending_score": st.floats(1, 100),
        "age": st.floats(0, 120),
        "gender": gender,
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customer=full_customers)
def test_assign_customer_with_categorical_cluster_feature_matches_predict(
    full_client: TestClient, full_model: TrainResult, customer: dict[str, Any]
) -> None:
    response = full_client.post("/assign", json=customer)
    assert response.status_code == 200
    g = customer["gender"]
    row = {k: customer[k] for k in ("annual_income", "spending_score", "age")}
    row["gender"] = g.strip().capitalize() if g is not None else np.nan  # missing, as trained
    frame = pd.DataFrame([row]).astype({"gender": object})
    assert response.json()["segment_id"] == full_model.pipeline.predict(frame)[0]
    assert response.json()["imputed"] == ([] if g is not None else ["gender"])
