"""Liveness is not readiness: the health routes with a model, without one, with a bad one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sklearn
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.candidates import break_artifact
from training import artifact
from training.train import TrainResult

CUSTOMER = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}


@contextmanager
def _client(models_dir: Path, version: str | None = None) -> Iterator[TestClient]:
    settings = Settings(models_dir=models_dir, model_version=version)
    with TestClient(create_app(settings)) as client:
        yield client


def _copy(model: TrainResult, models_dir: Path) -> Path:
    folder = models_dir / model.path.name
    shutil.copytree(model.path, folder)
    (models_dir / "LATEST").write_text(model.path.name + "\n")
    return folder


def test_read_health_ready(client: TestClient, classic_model: TrainResult) -> None:
    version = classic_model.manifest.model_version
    assert client.get("/health/live").json() == {"status": "alive", "model_version": version}
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": version}


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no models folder", "models folder SEG_MODELS_DIR does not exist: train a model first"),
        ("no LATEST", "SEG_MODELS_DIR/LATEST not found: no model has been published yet"),
        ("no manifest", "SEG_MODELS_DIR/{v}/manifest.json: manifest not found"),
        (
            "bit-flipped pipeline",
            "SEG_MODELS_DIR/{v}/pipeline.skops: sha256 does not match the manifest "
            "(file changed)",
        ),
        ("truncated profile", "SEG_MODELS_DIR/{v}/profile.json: sha256 does not match the "
         "manifest (file changed)"),
        ("other sklearn version", "SEG_MODELS_DIR/{v}: trained with scikit-learn 0.24.2, this "
         f"process has {sklearn.__version__}; retrain or install the recorded version"),
        ("unknown version", "SEG_MODELS_DIR/nope: model version 'nope' not found"),
    ],
)  # fmt: skip
def test_read_health_without_a_verified_model(
    classic_model: TrainResult, tmp_path: Path, case: str, reason: str
) -> None:
    models_dir, version = tmp_path / "models", None
    if case != "no models folder":
        models_dir.mkdir()
    if case not in ("no models folder", "no LATEST"):
        folder = _copy(classic_model, models_dir)
        if case == "no manifest":
            (folder / artifact.MANIFEST).unlink()
        elif case == "bit-flipped pipeline":
            _flip_byte(folder / artifact.PIPELINE)
        elif case == "truncated profile":
            (folder / artifact.PROFILE).write_text("{")
        elif case == "other sklearn version":
            break_artifact(folder, case)
        else:
            version = "nope"
    detail = "no model loaded: " + reason.format(v=classic_model.path.name)
    with _client(models_dir, version) as client:
        live = client.get("/health/live")
        assert (live.status_code, live.json()) == (200, {"status": "alive", "model_version": None})
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (503, {"detail": detail})
        assert ready.headers["retry-after"] == "5"
        for method, url in [
            ("POST", "/assign"),
            ("POST", "/assign/batch"),
            ("GET", "/segments"),
            ("GET", "/segments/0"),
            ("GET", "/profile"),
            ("GET", "/profile/report"),
            ("GET", "/model"),
        ]:
            response = client.request(method, url, json=CUSTOMER)
            assert (response.status_code, response.json()) == (503, {"detail": detail}), url
            assert "x-model-version" not in response.headers


def test_read_openapi_without_a_model(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    customer = response.json()["components"]["schemas"]["Customer"]
    assert customer["description"].startswith("No model is loaded")
