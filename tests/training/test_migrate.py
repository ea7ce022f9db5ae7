"""Format-1 artifacts (a pickled pipeline) are refused with a way out: ``segments migrate``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from training import artifact
from training.artifact import ArtifactError, load_artifact, resolve_version
from training.artifact_migrate import migrate_artifact
from training.cli import app
from training.scoring import load_scorer
from training.train import TrainOptions, train

KEY_ENV = "SEG_MODEL_SIGNING_KEY"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("to-migrate")
    train(TrainOptions(data=SAMPLE, models_dir=models, k_min=2, k_max=4, report=False))
    return models


def _to_format_1(folder: Path) -> None:
    """Rewrite a published artifact as main wrote it before format 2: a joblib pickle."""
    pipeline = load_artifact(folder.parent, folder.name).pipeline
    (folder / artifact.PIPELINE).unlink()
    joblib.dump(pipeline, folder / "pipeline.joblib")
    path = folder / artifact.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 1
    del manifest["files"][artifact.PIPELINE]
    manifest["files"]["pipeline.joblib"] = artifact.sha256_file(folder / "pipeline.joblib")
    path.write_text(json.dumps(manifest, indent=2))


@pytest.fixture
def v1(published: Path, tmp_path: Path) -> Path:
    """A models folder whose LATEST names a format-1 artifact."""
    models = Path(shutil.copytree(published, tmp_path / "models"))
    _to_format_1(models / resolve_version(models))
    return models


def test_load_artifact_refuses_format_1_with_the_way_out(v1: Path) -> None:
    version = resolve_version(v1)
    with pytest.raises(ArtifactError) as caught:
        load_artifact(v1)
    assert str(caught.value) == (
        f"{v1 / version}/manifest.json: format_version=1 is no longer loaded: its model is a "
        "pickle, which can run code when loaded; retrain (segments train) or, if you trust "
        f"this artifact, migrate it: segments migrate --model-version {version}"
    )
    assert caught.value.kind == "format"


def test_migrate_republishes_as_format_2(v1: Path) -> None:
    source = resolve_version(v1)
    before = {p.name: p.read_bytes() for p in (v1 / source).iterdir()}
    folder = migrate_artifact(v1, source)
    assert resolve_version(v1) == folder.name  # LATEST named the source: it follows
    migrated = load_artifact(v1)
    assert migrated.manifest.format_version == 2
    assert set(migrated.manifest.files) == {
        "pipeline.skops",
        "profile.json",
        "cleaned.csv",
        "rejected.csv",
    }
    for name in ("profile.json", "cleaned.csv", "rejected.csv"):
        assert (folder / name).read_bytes() == before[name]
    old = joblib.load(v1 / source / "pipeline.joblib")
    np.testing.assert_array_equal(
        migrated.pipeline.named_steps["model"].cluster_centers_,
        old.named_steps["model"].cluster_centers_,
    )
    load_scorer(migrated)  # agrees with Pipeline.predict on every training row
    assert {p.name: p.read_bytes() for p in (v1 / source).iterdir()} == before


def test_migrate_signs_when_a_key_is_set(v1: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "m" * 32)
    folder = migrate_artifact(v1, resolve_version(v1))
    assert (folder / artifact.SIGNATURE).is_file()
    assert load_artifact(v1).version == folder.name


def test_migrate_refuses_a_tampered_format_1(v1: Path) -> None:
    source = resolve_version(v1)
    (v1 / source / "pipeline.joblib").write_bytes(b"not the pickle that was published")
    with pytest.raises(ArtifactError, match=r"pipeline\.joblib: sha256 does not match"):
        migrate_artifact(v1, source)
    assert resolve_version(v1) == source


def test_migrate_command(v1: Path) -> None:
    source = resolve_version(v1)
    args = ["migrate", "--model-version", source, "--models-dir", str(v1)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    new = resolve_version(v1)
    assert result.stdout == (
        f"new version {new}: {source} re-saved as format 2; LATEST now names it\n"
    )
    again = CliRunner().invoke(app, ["migrate", "--model-version", new, "--models-dir", str(v1)])
    assert (again.exit_code, again.stderr) == (
        2,
        f"error: {v1 / new}: already format 2: nothing to migrate\n",
    )
