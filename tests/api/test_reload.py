"""Live reloads over HTTP: a new version serves without a restart; a bad one is refused, said
in /health/ready and /metrics, and the old model keeps answering."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.state import ModelHolder, ReloadOutcome
from tests.candidates import BAD_KINDS, break_artifact, point_latest, publish_copy, refusal
from training.train import TrainResult

ADMIN = {"X-API-Key": "admin-key"}
CUSTOMER = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
POLLS_AFTER_REFUSAL = 15


@contextmanager
def _serving(models: Path, interval: float = 0) -> Iterator[TestClient]:
    settings = Settings(models_dir=models, reload_interval=interval, admin_api_keys=("admin-key",))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def models(classic_model: TrainResult, tmp_path: Path) -> tuple[Path, str]:
    """A models folder whose LATEST names a copy of the classic model."""
    version = publish_copy(classic_model.path, tmp_path)
    point_latest(tmp_path, version)
    return tmp_path, version


def _wait_for(client: TestClient, version: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while client.get("/health/live").json()["model_version"] != version:
        assert time.monotonic() < deadline, f"{version} was not swapped in"
        time.sleep(0.02)


def _metric_lines(client: TestClient, prefix: str) -> list[str]:
    return [line for line in client.get("/metrics").text.splitlines() if line.startswith(prefix)]


def test_poll_swaps_in_a_new_version_without_restart(
    models: tuple[Path, str], classic_model: TrainResult
) -> None:
    folder, old = models
    with _serving(folder, interval=0.05) as client:
        assert client.post("/assign", json=CUSTOMER).headers["x-model-version"] == old
        new = publish_copy(classic_model.path, folder)
        point_latest(folder, new)
        _wait_for(client, new)
        answer = client.post("/assign", json=CUSTOMER)
        assert (answer.status_code, answer.json()["model_version"]) == (200, new)
        assert answer.headers["x-model-version"] == new
        assert client.get("/health/ready").json() == {"status": "ready", "model_version": new}
        assert _metric_lines(client, "segments_model_info{") == [
            f'segments_model_info{{model_version="{old}"}} 0.0',
            f'segments_model_info{{model_version="{new}"}} 1.0',
        ]
        assert _metric_lines(client, "segments_model_reloads_total") == [
            "segments_model_reloads_total 1.0"
        ]


@pytest.mark.parametrize("kind", [*BAD_KINDS, "different feature schema"])
def test_admin_reload_refuses_a_bad_candidate(
    models: tuple[Path, str],
    classic_model: TrainResult,
    full_model: TrainResult,
    kind: str,
) -> None:
    folder, old = models
    with _serving(folder) as client:
        if kind == "different feature schema":
            bad = publish_copy(full_model.path, folder)
            label = "schema"
            reason = (
                f"model {bad}: feature schema differs from the serving model {old} "
                "(age.role 'profile' -> 'cluster'; gender.role 'profile' -> 'cluster'); "
                "a schema change needs a restart"
            )
        else:
            bad = publish_copy(classic_model.path, folder)
            break_artifact(folder / bad, kind)
            label, reason = refusal(kind, bad)
        point_latest(folder, bad)
        response = client.post("/admin/reload", headers=ADMIN)
        refused = {"model_version": bad, "kind": label, "reason": reason}
        assert (response.status_code, response.json()) == (
            409,
            {"status": "refused", "candidate": bad, "model_version": old, "refused": refused},
        )
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ready", "model_version": old, "refused": refused},
        )
        answer = client.post("/assign", json=CUSTOMER)
        assert (answer.status_code, answer.json()["model_version"]) == (200, old)
        assert _metric_lines(client, "segments_model_reloads_refused_total") == [
            f'segments_model_reloads_refused_total{{kind="{label}"}} 1.0'
        ]
        assert _metric_lines(client, "segments_model_refused_info") == [
            f'segments_model_refused_info{{kind="{label}",model_version="{bad}"}} 1.0'
        ]
        assert _metric_lines(client, "segments_model_info{") == [
            f'segments_model_info{{model_version="{old}"}} 1.0'
        ]


def _count_reloads(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[ReloadOutcome]:
    """The outcome of every reload from now on, in order (the poll calls ``holder.reload``)."""
    holder: ModelHolder = cast(FastAPI, client.app).state.models
    reload = holder.reload
    outcomes: list[ReloadOutcome] = []

    def counted(*, force: bool = False) -> ReloadOutcome:
        outcome = reload(force=force)
        outcomes.append(outcome)
        return outcome

    monkeypatch.setattr(holder, "reload", counted)
    return outcomes


def _wait_until(done: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_poll_does_not_retry_a_refused_candidate(
    models: tuple[Path, str], classic_model: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, old = models
    with _serving(folder, interval=0.02) as client:
        outcomes = _count_reloads(client, monkeypatch)
        bad = publish_copy(classic_model.path, folder)
        break_artifact(folder / bad, "truncated")
        point_latest(folder, bad)
        _wait_until(
            lambda: any(o.status == "refused" for o in outcomes),
            "the candidate was never looked at",
        )
        assert "refused" in client.get("/health/ready").json()
        first = next(i for i, o in enumerate(outcomes) if o.status == "refused")
        assert outcomes[first].candidate == bad
        # A counted number of polls after the refusal, however slow the machine.
        _wait_until(
            lambda: len(outcomes) > first + POLLS_AFTER_REFUSAL,
            f"fewer than {POLLS_AFTER_REFUSAL} polls after the refusal",
        )
        after = outcomes[first + 1 :]
        assert {(o.status, o.candidate) for o in after} == {("skipped", bad)}
        assert _metric_lines(client, "segments_model_reloads_refused_total") == [
            'segments_model_reloads_refused_total{kind="checksum"} 1.0'
        ]
        assert client.get("/health/live").json()["model_version"] == old


def test_admin_reload_loads_a_valid_candidate_now(
    models: tuple[Path, str], classic_model: TrainResult
) -> None:
    folder, old = models
    with _serving(folder) as client:
        assert client.get("/health/live").json()["model_version"] == old
        new = publish_copy(classic_model.path, folder)
        point_latest(folder, new)
        response = client.post("/admin/reload", headers=ADMIN)
        assert (response.status_code, response.json()) == (
            200,
            {"status": "loaded", "candidate": new, "model_version": new, "refused": None},
        )
        assert client.post("/assign", json=CUSTOMER).headers["x-model-version"] == new


def test_ready_once_a_first_model_is_published(classic_model: TrainResult, tmp_path: Path) -> None:
    with _serving(tmp_path, interval=0.05) as client:
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (
            503,
            {"detail": "no model loaded: SEG_MODELS_DIR/LATEST not found: no model has been "
             "published yet"},
        )  # fmt: skip
        version = publish_copy(classic_model.path, tmp_path)
        point_latest(tmp_path, version)
        _wait_for(client, version)
        assert client.post("/assign", json=CUSTOMER).status_code == 200
