"""The rfm model trained once per session on the bundled transactions sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from training.train import TrainOptions, TrainResult, train

SAMPLE_TX = Path(__file__).resolve().parents[2] / "data" / "sample_transactions.csv"
SAMPLE_CUSTOMERS = 1000
SAMPLE_SEED = 0


@pytest.fixture(scope="session")
def rfm_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    folder = tmp_path_factory.mktemp("rfm-models")
    options = TrainOptions(
        data=SAMPLE_TX, spec="rfm", transactions=True, models_dir=folder, report=True
    )
    return train(options)


@pytest.fixture(scope="session")
def rfm_settings(rfm_model: TrainResult) -> Settings:
    return Settings(models_dir=rfm_model.path.parent, model_version=rfm_model.path.name)
