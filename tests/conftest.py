"""Shared fixtures: the classic data file and artifacts trained once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service.config import Settings
from training.train import TrainOptions, TrainResult, train

ROOT = Path(__file__).resolve().parents[1]
CLASSIC = ROOT.parent / "shared" / "data" / "mall_customers.csv"
SAMPLE = ROOT / "data" / "sample_customers.csv"
SAMPLE_TX = ROOT / "data" / "sample_transactions.csv"


def classic_or_skip() -> Path:
    """The classic Mall Customers file; skip where absent, but never under CI."""
    if CLASSIC.is_file():
        return CLASSIC
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the classic data file is missing: {CLASSIC}")
    pytest.skip(f"classic data file not found at {CLASSIC}")


@pytest.fixture(scope="session")
def classic_path() -> Path:
    return classic_or_skip()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One models folder for the session's trained artifacts (read-only for tests)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def classic_model(models_dir: Path) -> TrainResult:
    """The default-spec model trained on the classic file (the sample file where absent)."""
    if CLASSIC.is_file():
        data = CLASSIC
    elif os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the classic data file is missing: {CLASSIC}")
    else:
        data = SAMPLE
    return train(TrainOptions(data=data, models_dir=models_dir, report=True))


@pytest.fixture(scope="session")
def full_model(classic_path: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The 'mall-full' model (gender one-hot in the distance) on the classic file."""
    folder = tmp_path_factory.mktemp("full-models")
    return train(TrainOptions(data=classic_path, spec="mall-full", models_dir=folder, report=False))


@pytest.fixture(scope="session")
def classic_settings(classic_model: TrainResult) -> Settings:
    """Service settings pinned to the classic model (other tests may publish beside it)."""
    return Settings(models_dir=classic_model.path.parent, model_version=classic_model.path.name)


@pytest.fixture(scope="session")
def gmm_model(classic_path: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A Gaussian mixture (full covariance) served model on the classic file."""
    folder = tmp_path_factory.mktemp("gmm-models")
    return train(TrainOptions(data=classic_path, models_dir=folder, algorithm="gmm", report=False))


@pytest.fixture(scope="session")
def gmm_settings(gmm_model: TrainResult) -> Settings:
    return Settings(models_dir=gmm_model.path.parent, model_version=gmm_model.path.name)


@pytest.fixture(scope="session")
def rfm_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The 'rfm' spec trained on the bundled transactions sample."""
    folder = tmp_path_factory.mktemp("rfm-models")
    options = TrainOptions(
        data=SAMPLE_TX, spec="rfm", transactions=True, models_dir=folder, report=True
    )
    return train(options)


@pytest.fixture(scope="session")
def rfm_settings(rfm_model: TrainResult) -> Settings:
    return Settings(models_dir=rfm_model.path.parent, model_version=rfm_model.path.name)
