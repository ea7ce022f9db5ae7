"""GET /metrics and the JSON access log: per route template and status, per segment."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.logs import JsonFormatter, ModelVersionFilter
from service.main import create_app

CUSTOMERS = [
    {"customer_id": "SECRET-1", "annual_income": 15, "spending_score": 39},
    {"customer_id": "SECRET-2", "annual_income": 137, "spending_score": 18},
    {"customer_id": "SECRET-3", "annual_income": 137, "spending_score": 97},
    {"customer_id": "SECRET-4", "annual_income": 9000, "spending_score": 1},
]


@pytest.fixture
def fresh(classic_settings: Settings) -> Iterator[TestClient]:
    """An app of its own: its counters start at zero."""
    with TestClient(create_app(classic_settings)) as client:
        yield client


def _samples(client: TestClient, name: str) -> dict[str, float]:
    lines = client.get("/metrics").text.splitlines()
    found = {}
    for line in lines:
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, value = line.rsplit(" ", 1)
            found[key.removeprefix(name)] = float(value)
    return found


def test_metrics_count_assignments_per_segment(fresh: TestClient) -> None:
    batch = fresh.post("/assign/batch", json={"customers": CUSTOMERS}).json()["assignments"]
    single = fresh.post("/assign", json=CUSTOMERS[0]).json()
    fresh.post("/assign", json={"customer_id": "x", "annual_income": -1})  # 422: not counted
    answers = [*batch, single]
    segments = Counter(str(a["segment_id"]) for a in answers)
    atypical = Counter(str(a["segment_id"]) for a in answers if a["atypical"])
    assert atypical, "the 9000 k$ customer should be atypical"
    assert _samples(fresh, "segments_assignments_total") == {
        f'{{segment="{s}"}}': float(n) for s, n in segments.items()
    }
    assert _samples(fresh, "segments_atypical_assignments_total") == {
        f'{{segment="{s}"}}': float(n) for s, n in atypical.items()
    }


def test_metrics_count_requests_per_route_template_and_status(
    fresh: TestClient, classic_settings: Settings
) -> None:
    for url in ("/segments/1", "/segments/2", "/segments/99", "/no/such/path", "/no/other"):
        fresh.get(url)
    requests = _samples(fresh, "segments_http_requests_total")
    assert requests == {
        '{method="GET",route="/segments/{segment_id}",status="200"}': 2.0,
        '{method="GET",route="/segments/{segment_id}",status="404"}': 1.0,
        '{method="GET",route="unmatched",status="404"}': 2.0,
    }
    latency = _samples(fresh, "segments_http_request_duration_seconds_count")
    assert latency['{method="GET",route="/segments/{segment_id}",status="200"}'] == 2.0
    assert _samples(fresh, "segments_model_info") == {
        f'{{model_version="{classic_settings.model_version}"}}': 1.0
    }


def _wait_for_access_lines(caplog: pytest.LogCaptureFixture, count: int) -> None:
    deadline = time.monotonic() + 5
    while sum(r.name == "service.access" for r in caplog.records) < count:
        assert time.monotonic() < deadline, "the access lines were not written within 5 s"
        time.sleep(0.01)


def test_access_log_is_one_json_line_without_customer_data(
    fresh: TestClient, classic_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        fresh.post("/assign/batch", json={"customers": CUSTOMERS})
        fresh.post("/assign", json={"customer_id": "SECRET-5", "annual_income": -77})
        _wait_for_access_lines(caplog, 2)  # written at the server loop's next turn
    formatter, stamp = JsonFormatter(), ModelVersionFilter(fresh.app.state.models)  # type: ignore[attr-defined]
    lines = []
    for record in caplog.records:
        stamp.filter(record)
        lines.append(formatter.format(record))
    assert "SECRET" not in "\n".join(lines)
    access = [json.loads(line) for line in lines if '"service.access"' in line]
    assert [{k: v for k, v in a.items() if k not in ("time", "duration_ms")} for a in access] == [
        {
            "level": "INFO",
            "logger": "service.access",
            "message": access[0]["message"],
            "model_version": classic_settings.model_version,
            "method": "POST",
            "route": "/assign/batch",
            "status": 200,
        },
        {
            "level": "INFO",
            "logger": "service.access",
            "message": access[1]["message"],
            "model_version": classic_settings.model_version,
            "method": "POST",
            "route": "/assign",
            "status": 422,
        },
    ]
    assert access[1]["message"].startswith("POST /assign 422 ")
    assert all(a["duration_ms"] > 0 for a in access)


def test_log_lines_carry_the_served_model_version(
    fresh: TestClient, classic_settings: Settings
) -> None:
    record = logging.LogRecord("service.state", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    ModelVersionFilter(fresh.app.state.models).filter(record)  # type: ignore[attr-defined]
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "message", "model_version")} == {
        "level": "INFO",
        "logger": "service.state",
        "message": "hello x",
        "model_version": classic_settings.model_version,
    }
