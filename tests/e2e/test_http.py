"""Every endpoint over real HTTP against uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import httpx
import numpy as np
import pandas as pd
import pytest

from service.schemas import Assignment, AssignmentBatch, ModelInfo, ProfileOut, SegmentList
from tests.e2e.conftest import ThreadedServer
from training.train import TrainResult


def test_every_endpoint(http: httpx.Client, classic_model: TrainResult) -> None:
    version = classic_model.manifest.model_version
    assert http.get("/health/live").json() == {"status": "alive", "model_version": version}
    assert http.get("/health/ready").json() == {"status": "ready", "model_version": version}
    segments = SegmentList.model_validate(http.get("/segments").json())
    assert len(segments.segments) == 5
    assert http.get("/segments/4").json()["name"] == segments.segments[4].name
    missing = http.get("/segments/5")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "segment 5 not found; valid ids: 0, 1, 2, 3, 4"},
    )
    profile = ProfileOut.model_validate(http.get("/profile").json())
    assert ModelInfo.model_validate(http.get("/model").json()).model_version == version
    answer = http.post(
        "/assign", json={"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
    )
    assert answer.headers["x-model-version"] == version
    assert Assignment.model_validate(answer.json()).segment_name == "High income · High spending"
    assert http.get("/openapi.json").json()["info"]["title"] == "Customer segments"
    assert http.get("/docs").status_code == 200
    report = http.get("/profile/report")
    if profile.report_url is None:
        assert report.status_code == 404
        return
    assert report.headers["content-type"] == "text/html; charset=utf-8"
    for source in re.findall(r'<img[^>]+src="(figures/[^"]+)"', report.text):
        image = http.get(str(report.url.join(source)))
        assert (image.status_code, image.headers["content-type"]) == (200, "image/png")


def test_assign_customers_ten_thousand(http: httpx.Client, classic_model: TrainResult) -> None:
    rng = np.random.default_rng(7)
    incomes, scores = rng.integers(0, 150, 10_000), rng.integers(1, 101, 10_000)
    customers = [
        {"customer_id": f"C-{i}", "annual_income": int(a), "spending_score": int(s)}
        for i, (a, s) in enumerate(zip(incomes, scores, strict=True))
    ]
    response = http.post("/assign/batch", json={"customers": customers})
    assert response.status_code == 200
    batch = AssignmentBatch.model_validate(response.json())
    assert [a.customer_id for a in batch.assignments] == [c["customer_id"] for c in customers]
    frame = pd.DataFrame(customers).drop(columns="customer_id").astype(float)
    expected = classic_model.pipeline.predict(frame)
    np.testing.assert_array_equal([a.segment_id for a in batch.assignments], expected)


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


@pytest.mark.parametrize("chunked", [False, True])
def test_assign_customers_body_over_limit(http: httpx.Client, chunked: bool) -> None:
    body = b'{"customers": [' + b" " * (4 * 1024 * 1024) + b"]}"
    response = http.post(
        "/assign/batch",
        content=_chunks(body) if chunked else body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "request body is larger than 4194304 bytes (SEG_MAX_BODY_BYTES)"
    }


def _raw_get(server: ThreadedServer, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "path",
    [
        "/profile/figures/../../manifest.json",
        "/profile/figures/../../../../../../etc/passwd",
        "/profile/report/figures/../../../LATEST",
        "/profile/figures/..%2F..%2Fmanifest.json",
    ],
)
def test_figure_paths_cannot_escape(server: ThreadedServer, path: str) -> None:
    response = _raw_get(server, path)
    assert response.startswith(b"HTTP/1.1 404 "), response[:200]
    assert b"format_version" not in response
    assert b"root:" not in response
