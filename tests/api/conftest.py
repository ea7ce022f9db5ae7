"""The app on the session's real artifacts, called in-process with TestClient (lifespan runs)."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from training import artifact
from training.train import TrainResult

# A real 1x1 PNG: the service serves bytes, it does not look inside.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
REPORT_HTML = '<!doctype html><title>Report</title><img src="figures/sizes.png" alt="sizes">'


@pytest.fixture(scope="session")
def client(classic_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(classic_settings)) as test_client:
        yield test_client


def _republish(model: TrainResult, models_dir: Path, *, report: bool) -> Settings:
    """The model's artifact published again, with a small known report or none."""
    manifest = model.manifest.model_copy(update={"has_report": report, "files": {}})

    def write_files(folder: Path) -> None:
        for name in (artifact.PIPELINE, artifact.PROFILE, artifact.CLEANED, artifact.REJECTED):
            shutil.copyfile(model.path / name, folder / name)
        if report:
            (folder / artifact.REPORT).write_text(REPORT_HTML)
            (folder / "figures").mkdir()
            (folder / "figures" / "sizes.png").write_bytes(PNG)

    folder = artifact.publish(models_dir, manifest, write_files)
    return Settings(models_dir=folder.parent, model_version=folder.name)


@pytest.fixture(scope="session")
def report_settings(
    classic_model: TrainResult, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return _republish(classic_model, tmp_path_factory.mktemp("report-models"), report=True)


@pytest.fixture(scope="session")
def report_client(report_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(report_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def no_report_settings(
    classic_model: TrainResult, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return _republish(classic_model, tmp_path_factory.mktemp("plain-models"), report=False)


@pytest.fixture(scope="session")
def no_report_client(no_report_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(no_report_settings)) as test_client:
        yield test_client
