"""The service never runs code from a candidate's files, even with the manifest rewritten."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

from service.config import Settings
from service.state import ModelHolder
from training import artifact
from training.train import TrainResult


class PickleSentinel:
    """Unpickling this writes a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path, str]]:
        return (Path.write_text, (self.path, "unpickled"))


def test_reload_refuses_a_crafted_pickle_and_keeps_serving(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    good = shutil.copytree(classic_model.path, models / classic_model.path.name)
    (models / "LATEST").write_text(good.name + "\n")
    holder = ModelHolder(Settings(models_dir=models))
    serving = holder.load()
    assert serving is not None
    crafted = shutil.copytree(good, models / "crafted")
    marker = tmp_path / "marker"
    (crafted / artifact.PIPELINE).write_bytes(pickle.dumps(PickleSentinel(marker)))
    manifest = json.loads((crafted / artifact.MANIFEST).read_text())
    manifest["model_version"] = "crafted"
    manifest["files"][artifact.PIPELINE] = artifact.sha256_file(crafted / artifact.PIPELINE)
    (crafted / artifact.MANIFEST).write_text(json.dumps(manifest))
    (models / "LATEST").write_text("crafted\n")
    outcome = holder.reload()
    assert not marker.exists()
    assert outcome.status == "refused"
    assert outcome.refusal is not None
    assert (outcome.refusal.kind, outcome.refusal.reason) == (
        "untrusted",
        "SEG_MODELS_DIR/crafted/pipeline.skops: not a skops file (BadZipFile)",
    )
    assert holder.current is serving
