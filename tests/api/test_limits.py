"""Limits: JSON only (415 for form and multipart bodies), and the per-request time limit.

The body-size limit (limit-1 / limit / limit+1, with and without Content-Length) is in
tests/api/test_errors.py; the batch-size limit in tests/api/test_assign.py.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("url", ["/assign", "/assign/batch"])
@pytest.mark.parametrize("kind", ["form", "multipart"])
def test_assign_refuses_form_and_multipart_bodies(client: TestClient, url: str, kind: str) -> None:
    if kind == "form":
        response = client.post(url, data={"customer_id": "C-1"})
        media_type = FORM
    else:
        response = client.post(url, files={"customers": ("c.json", b"{}", "application/json")})
        media_type = "multipart/form-data"
    accepted = "application/json"
    if url == "/assign/batch":
        accepted += (
            ", application/vnd.apache.arrow.stream, application/vnd.apache.parquet or text/csv"
        )
    assert response.status_code == 415
    assert response.json() == {
        "detail": f"Content-Type {media_type!r} is not supported: send {accepted}"
    }


def _batch(n_customers: int) -> dict[str, list[dict[str, object]]]:
    rng = np.random.default_rng(5)
    incomes, scores = rng.integers(0, 150, n_customers), rng.integers(1, 101, n_customers)
    return {
        "customers": [
            {"customer_id": f"C-{i}", "annual_income": int(a), "spending_score": int(s)}
            for i, (a, s) in enumerate(zip(incomes, scores, strict=True))
        ]
    }


def test_request_over_the_time_limit_is_a_504(
    classic_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # A real slow request: 10,000 customers take tens of milliseconds, the limit is 1 ms.
    settings = classic_settings.model_copy(update={"request_timeout": 0.001})
    app = create_app(settings)
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="service.access"):
        response = client.post("/assign/batch", json=_batch(10_000))
    assert response.status_code == 504
    assert response.json() == {
        "detail": "the request took longer than 0.001 s (SEG_REQUEST_TIMEOUT)"
    }
    [line] = [r for r in caplog.records if r.name == "service.access"]
    assert (line.route, line.status) == ("/assign/batch", 504)  # type: ignore[attr-defined]
    text = app.state.metrics.exposition().decode()
    assert (
        'segments_http_requests_total{method="POST",route="/assign/batch",status="504"} 1.0'
        in text.splitlines()
    )
    assert "segments_assignments_total{" not in text  # the late answer was dropped uncounted


def test_request_within_the_time_limit_is_answered(classic_settings: Settings) -> None:
    settings = classic_settings.model_copy(update={"request_timeout": 30})
    with TestClient(create_app(settings)) as client:
        response = client.post("/assign/batch", json=_batch(10_000))
    assert response.status_code == 200
    assert len(response.json()["assignments"]) == 10_000


def test_assign_single_customer_body_over_64_kib_is_413(classic_settings: Settings) -> None:
    body = b'{"customer_id": "' + b"x" * (64 * 1024) + b'"}'
    with TestClient(create_app(classic_settings)) as client:
        response = client.post(
            "/assign", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "request body is larger than 65536 bytes (one customer: use /assign/batch "
        "for many)"
    }
