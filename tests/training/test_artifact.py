from __future__ import annotations

import json
import os
import pickle
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE
from training import artifact
from training.artifact import ArtifactError, load_artifact, resolve_version
from training.scoring import load_scorer
from training.train import TrainOptions, TrainResult, train


def _train(models_dir: Path) -> TrainResult:
    return train(TrainOptions(data=SAMPLE, models_dir=models_dir, k_min=2, k_max=4, report=False))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("published")
    _train(models)
    return models


@pytest.fixture
def models(published: Path, tmp_path: Path) -> Path:
    """A private copy of a published models folder, free to tamper with."""
    return Path(shutil.copytree(published, tmp_path / "models"))


class _Sentinel:
    """Unpickling this writes a file: proof that a pickle was (or was not) loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path, str]]:
        return (Path.write_text, (self.path, "unpickled"))


def _plant_sentinel(folder: Path, marker: Path, *, fix_checksum: bool) -> None:
    (folder / artifact.PIPELINE).write_bytes(pickle.dumps(_Sentinel(marker)))
    if fix_checksum:
        _edit_manifest(
            folder,
            lambda m: m["files"].__setitem__(
                artifact.PIPELINE, artifact.sha256_file(folder / artifact.PIPELINE)
            ),
        )


def _edit_manifest(folder: Path, change: object) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)  # type: ignore[operator]
    path.write_text(json.dumps(manifest))


def test_load_artifact_round_trip(models: Path) -> None:
    loaded = load_artifact(models)
    assert loaded.version == (models / "LATEST").read_text().strip()
    assert loaded.manifest.files.keys() == {
        artifact.PIPELINE,
        "profile.json",
        "cleaned.csv",
        "rejected.csv",
    }
    assert loaded.manifest.data.rows_read == 2000
    assert len(loaded.profile.segments) == loaded.manifest.n_clusters
    scorer = load_scorer(loaded)  # agrees with Pipeline.predict on every training row
    assert scorer.n_clusters == loaded.manifest.n_clusters
    assert set(loaded.manifest.distance_percentiles) == {
        str(i) for i in range(loaded.manifest.n_clusters)
    }


def test_load_artifact_flipped_byte_never_unpickles(models: Path, tmp_path: Path) -> None:
    folder = models / resolve_version(models)
    marker = tmp_path / "marker"
    _plant_sentinel(folder, marker, fix_checksum=False)
    with pytest.raises(
        ArtifactError, match=r"pipeline\.skops: sha256 does not match the manifest"
    ) as caught:
        load_artifact(models)
    assert caught.value.kind == "checksum"
    assert not marker.exists()


def test_load_artifact_flipped_byte_in_profile(models: Path) -> None:
    path = models / resolve_version(models) / "profile.json"
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"profile\.json: sha256 does not match the manifest"):
        load_artifact(models)


def test_load_artifact_missing_file(models: Path) -> None:
    (models / resolve_version(models) / "cleaned.csv").unlink()
    with pytest.raises(
        ArtifactError, match=r"cleaned\.csv: file listed in the manifest is missing"
    ):
        load_artifact(models)


def test_load_artifact_wrong_format_version(models: Path) -> None:
    _edit_manifest(models / resolve_version(models), lambda m: m.__setitem__("format_version", 99))
    with pytest.raises(ArtifactError, match=r"format_version=99 is not supported \(expected 2\)"):
        load_artifact(models)


def test_load_artifact_other_sklearn_never_unpickles(models: Path, tmp_path: Path) -> None:
    folder = models / resolve_version(models)
    marker = tmp_path / "marker"
    _plant_sentinel(folder, marker, fix_checksum=True)
    _edit_manifest(folder, lambda m: m["libraries"].__setitem__("sklearn", "0.24.2"))
    with pytest.raises(
        ArtifactError, match=r"trained with scikit-learn 0\.24\.2, this process has"
    ) as caught:
        load_artifact(models)
    assert caught.value.kind == "library_version"
    assert not marker.exists()


@pytest.mark.parametrize("version", ["../x", "/etc", "a/../../b", ".."])
def test_resolve_version_refuses_paths_leaving_the_folder(models: Path, version: str) -> None:
    with pytest.raises(ArtifactError, match=r"invalid model version"):
        load_artifact(models, version)


def test_resolve_version_refuses_a_path_in_latest(models: Path) -> None:
    (models / "LATEST").write_text("../../etc\n")
    with pytest.raises(ArtifactError, match=r"LATEST does not hold a valid version name"):
        load_artifact(models)


def test_load_artifact_no_models_folder(tmp_path: Path) -> None:
    with pytest.raises(
        ArtifactError, match=r"models folder .* does not exist: train a model first"
    ):
        load_artifact(tmp_path / "nope")


def test_publish_failure_leaves_no_folder_and_latest_unchanged(models: Path) -> None:
    before = sorted(p.name for p in models.iterdir())
    latest = (models / "LATEST").read_text()
    manifest = load_artifact(models).manifest.model_copy(deep=True)

    def write_then_fail(folder: Path) -> None:
        (folder / artifact.PIPELINE).write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        artifact.publish(models, manifest, write_then_fail)
    assert sorted(p.name for p in models.iterdir()) == before
    assert (models / "LATEST").read_text() == latest


def test_publish_failure_at_rename_leaves_latest_unchanged(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sorted(p.name for p in models.iterdir())
    latest = (models / "LATEST").read_text()
    manifest = load_artifact(models).manifest.model_copy(deep=True)

    def refuse(src: object, dst: object) -> None:
        raise OSError("rename refused")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(OSError, match="rename refused"):
        artifact.publish(models, manifest, lambda folder: (folder / "a.txt").write_text("a"))
    assert sorted(p.name for p in models.iterdir()) == before
    assert (models / "LATEST").read_text() == latest


def test_concurrent_trainings_publish_distinct_versions(tmp_path: Path) -> None:
    results: list[TrainResult] = []
    threads = [threading.Thread(target=lambda: results.append(_train(tmp_path))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith((".", "L")))
    assert len(versions) == 2
    assert sorted(r.path.name for r in results) == versions
    assert (tmp_path / "LATEST").read_text().strip() in versions
    for version in versions:
        assert load_artifact(tmp_path, version).version == version


def test_same_data_same_seed_same_model(published: Path, tmp_path: Path) -> None:
    first = load_artifact(published)
    second = _train(tmp_path)
    np.testing.assert_array_equal(first.pipeline.named_steps["model"].labels_, second.labels)
    np.testing.assert_allclose(
        first.pipeline.named_steps["model"].cluster_centers_,
        second.pipeline.named_steps["model"].cluster_centers_,
    )
