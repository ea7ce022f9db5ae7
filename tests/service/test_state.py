"""The model holder: one reference, swapped whole; a failed load keeps what was serving."""

from __future__ import annotations

import shutil
from pathlib import Path

from service.config import Settings
from service.state import ModelHolder
from training.train import TrainResult


def test_load_fails_without_model_and_says_why(tmp_path: Path) -> None:
    holder = ModelHolder(Settings(models_dir=tmp_path))
    assert holder.load() is None
    assert holder.current is None
    assert holder.error == "SEG_MODELS_DIR/LATEST not found: no model has been published yet"


def test_failed_reload_keeps_the_current_model(classic_model: TrainResult, tmp_path: Path) -> None:
    folder = tmp_path / classic_model.path.name
    shutil.copytree(classic_model.path, folder)
    (tmp_path / "LATEST").write_text(folder.name)
    holder = ModelHolder(Settings(models_dir=tmp_path))
    first = holder.load()
    assert first is not None
    assert holder.current is first
    (folder / "pipeline.skops").write_bytes(b"not a pipeline")
    assert holder.load() is None
    assert holder.current is first
    assert holder.error == (
        f"SEG_MODELS_DIR/{folder.name}/pipeline.skops: sha256 does not match the manifest "
        "(file changed)"
    )


def test_loaded_model_assigns_like_the_scorer(classic_settings: Settings) -> None:
    holder = ModelHolder(classic_settings)
    model = holder.load()
    assert model is not None
    customer = model.requests.customer.model_validate(
        {"customer_id": "k", "annual_income": 15, "spending_score": 39}
    )
    [answer] = model.assign([customer])
    expected = model.scorer.assign({"annual_income": [15.0], "spending_score": [39.0]})
    assert answer["segment_id"] == int(expected.segment[0])
    assert answer["distance"] == float(expected.distance[0])
    assert answer["segment_name"] == model.segment_names[answer["segment_id"]]
