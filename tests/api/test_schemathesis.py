"""Schemathesis against the app in-process (ASGI, lifespan run, a valid key configured).

Every operation of the OpenAPI document gets up to 100 generated cases, valid and invalid
(positive and negative modes), checked for: no 5xx, a documented status code, and a body
that matches the documented schema. Operations without any input (no path, query or body)
have exactly one possible request: Hypothesis stops after it, and the count says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from service.config import Settings
from service.main import create_app

KEY = "schemathesis-key"
HEADERS = {"X-API-Key": KEY}
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
MAX_EXAMPLES = 100
OPERATIONS = {
    # label: True when the operation takes an input (so >= 100 distinct cases exist)
    "POST /assign": True,
    "POST /assign/batch": True,
    "POST /assign/transactions": True,
    "GET /segments": False,
    "GET /segments/{segment_id}": True,
    "GET /profile": False,
    "GET /profile/sample": True,
    "GET /profile/report": False,
    "GET /profile/figures/{name}": True,
    "GET /model": False,
    "GET /health/live": False,
    "GET /health/ready": False,
    "GET /metrics": False,
    "POST /admin/reload": False,
    "GET /campaigns": False,
    "GET /monitoring": False,
}


@pytest.fixture(scope="module")
def app(classic_settings: Settings) -> Iterator[FastAPI]:
    settings = classic_settings.model_copy(
        update={"api_keys": (KEY,), "admin_api_keys": (KEY,), "reload_interval": 0}
    )
    application = create_app(settings)
    yield application
    asgi.shutdown_lifespans()  # schemathesis started it on the first call


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_schema_lists_every_operation(schema: Any) -> None:
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == set(OPERATIONS)


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_operation_conforms_to_its_schema(
    schema: Any, label: str, capsys: pytest.CaptureFixture[str]
) -> None:
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, headers=HEADERS),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=HEADERS),
    )
    statuses: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(headers=HEADERS)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    check()
    with capsys.disabled():
        counts = ", ".join(f"{s}: {statuses.count(s)}" for s in sorted(set(statuses)))
        print(f"\nschemathesis {label}: {len(statuses)} cases ({counts})")
    assert len(statuses) >= (MAX_EXAMPLES if OPERATIONS[label] else 1)
