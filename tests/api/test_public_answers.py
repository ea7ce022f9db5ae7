"""No training customer in any public answer: OpenAPI, /docs, segments, profile, model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from training.train import TrainResult

PUBLIC = ["/openapi.json", "/segments", "/profile", "/model", "/health/live", "/health/ready"]


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _rows(cleaned: pd.DataFrame, features: list[str]) -> set[tuple[Any, ...]]:
    frame = cleaned[features].astype(object).where(cleaned[features].notna(), None)
    return {tuple(row) for row in frame.itertuples(index=False)}


def test_no_training_customer_in_public_answers(
    client: TestClient, classic_model: TrainResult
) -> None:
    cleaned = classic_model.cleaning.cleaned
    features = ["annual_income", "spending_score", "age", "gender"]
    ids = set(cleaned["customer_id"].astype(str))
    rows = _rows(cleaned, features)
    segments = len(classic_model.profile.segments)
    urls = [*PUBLIC, *(f"/segments/{i}" for i in range(segments))]
    customers = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        for obj in _objects(response.json()):
            if "customer_id" in obj and isinstance(obj["customer_id"], str):
                assert obj["customer_id"] not in ids, url
            scalar = (int, float, str)
            if all(isinstance(obj.get(name), scalar) for name in features):
                customers += 1
                values = tuple(float(obj[n]) if n != "gender" else obj[n] for n in features)
                assert values not in rows, (url, obj)
            examples = obj.get("examples")
            if isinstance(examples, list) and obj.get("title") == "Customer Id":
                assert not set(map(str, examples)) & ids, url
    assert customers >= segments  # the examples were looked at
    docs = client.get("/docs").text
    assert not any(f'"{customer_id}"' in docs for customer_id in ids)
