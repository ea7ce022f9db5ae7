"""Schemathesis on POST /assign/transactions with the rfm model: generated lines never
cause a 5xx, and every answer matches its documented schema."""

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

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
LABEL = "POST /assign/transactions"


@pytest.fixture(scope="module")
def app(rfm_settings: Settings) -> Iterator[FastAPI]:
    yield create_app(rfm_settings.model_copy(update={"reload_interval": 0}))
    asgi.shutdown_lifespans()


def test_assign_transactions_conforms_to_its_schema(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == LABEL)
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    statuses: list[int] = []

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call()
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    check()
    with capsys.disabled():
        counts = ", ".join(f"{s}: {statuses.count(s)}" for s in sorted(set(statuses)))
        print(f"\nschemathesis {LABEL} (rfm model): {len(statuses)} cases ({counts})")
    assert len(statuses) >= 60
