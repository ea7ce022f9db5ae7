"""Loading a model never runs code from its files; a signed manifest cannot be edited.

Each crafted payload carries a sentinel: building it writes a file. The sentinel is shown to
work (it runs when a loader trusts it), and never to run through ``load_artifact``.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

from tests.candidates import publish_copy
from tests.conftest import SAMPLE
from training import artifact, artifact_model
from training.artifact import ArtifactError, load_artifact, resolve_version
from training.train import TrainOptions, train

KEY = "k" * 40
KEY_ENV = "SEG_MODEL_SIGNING_KEY"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("secure")
    train(TrainOptions(data=SAMPLE, models_dir=models, k_min=2, k_max=4, report=False))
    return models


@pytest.fixture
def models(published: Path, tmp_path: Path) -> Path:
    """A private copy of a published models folder, free to tamper with."""
    return Path(shutil.copytree(published, tmp_path / "models"))


@pytest.fixture
def signed(models: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``models`` with LATEST naming a copy published (so signed) under :data:`KEY`."""
    monkeypatch.setenv(KEY_ENV, KEY)
    version = publish_copy(models / resolve_version(models), models)
    (models / "LATEST").write_text(version + "\n")
    return models


class PickleSentinel:
    """Unpickling this writes a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path, str]]:
        return (Path.write_text, (self.path, "unpickled"))


class SkopsSentinel:
    """Building this from a skops file writes a file (skops calls ``__setstate__``)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __setstate__(self, state: dict[str, Any]) -> None:
        Path(state["path"]).write_text("built")


def _edit_manifest(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _plant(folder: Path, payload: bytes) -> None:
    """Replace the model file and update the manifest's sha256 to match, as an attacker would."""
    (folder / artifact.PIPELINE).write_bytes(payload)
    sha = artifact.sha256_file(folder / artifact.PIPELINE)
    _edit_manifest(folder, lambda m: m["files"].__setitem__(artifact.PIPELINE, sha))


def test_load_artifact_crafted_pickle_with_matching_hash_never_runs(
    models: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    _plant(models / resolve_version(models), pickle.dumps(PickleSentinel(marker)))
    with pytest.raises(ArtifactError) as caught:
        load_artifact(models)
    assert not marker.exists()  # checked first: on a pickle-loading main, this is what fails
    assert str(caught.value).endswith("pipeline.skops: not a skops file (BadZipFile)")
    assert caught.value.kind == "untrusted"
    pickle.loads((models / resolve_version(models) / artifact.PIPELINE).read_bytes())
    assert marker.read_text() == "unpickled"  # the payload was live


def test_load_artifact_crafted_skops_payload_never_runs(models: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    payload = sio.dumps(SkopsSentinel(marker))
    _plant(models / resolve_version(models), payload)
    name = f"{__name__}.SkopsSentinel"
    with pytest.raises(ArtifactError) as caught:
        load_artifact(models)
    assert str(caught.value).endswith(
        f"pipeline.skops: untrusted types {name}: refused (the trusted list is TRUSTED_TYPES "
        "in training/artifact_model.py)"
    )
    assert caught.value.kind == "untrusted"
    assert not marker.exists()
    sio.loads(payload, trusted=[name])
    assert marker.read_text() == "built"  # the payload was live


def test_write_pipeline_refuses_an_untrusted_type(tmp_path: Path) -> None:
    pipeline = Pipeline([("scale", MinMaxScaler().fit(np.arange(6.0).reshape(3, 2)))])
    with pytest.raises(
        ArtifactError, match=r"^untrusted types sklearn\.preprocessing\._data\.MinMaxScaler: "
    ):
        artifact.write_pipeline(tmp_path, pipeline)
    assert not (tmp_path / artifact.PIPELINE).exists()


def test_load_artifact_refuses_a_default_trusted_sklearn_type_not_listed(models: Path) -> None:
    # skops trusts every scikit-learn estimator; our list is explicit and shorter.
    pipeline = Pipeline([("scale", MinMaxScaler().fit(np.arange(6.0).reshape(3, 2)))])
    _plant(models / resolve_version(models), sio.dumps(pipeline))
    with pytest.raises(ArtifactError, match=r"untrusted types sklearn\.preprocessing\._data\.Min"):
        load_artifact(models)


def test_publish_signs_and_load_verifies(signed: Path) -> None:
    folder = signed / resolve_version(signed)
    line = (folder / artifact.SIGNATURE).read_text()
    assert line.startswith("hmac-sha256:")
    assert len(line.strip()) == len("hmac-sha256:") + 64
    assert artifact.SIGNATURE not in json.loads((folder / artifact.MANIFEST).read_text())["files"]
    assert load_artifact(signed).version == folder.name


def _raise_p99(manifest: dict[str, Any]) -> None:
    manifest["distance_percentiles"]["0"]["p99"] = 1e9


def test_load_artifact_edited_bound_refused_when_signing(
    signed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = signed / resolve_version(signed)
    _edit_manifest(folder, _raise_p99)
    with pytest.raises(ArtifactError) as caught:
        load_artifact(signed)
    assert str(caught.value) == (
        f"{folder}/manifest.sig: signature does not match the manifest (the manifest was "
        "changed, or signed with another SEG_MODEL_SIGNING_KEY)"
    )
    assert caught.value.kind == "signature"
    assert KEY not in caplog.text


def test_load_artifact_edited_bound_loads_without_a_key(models: Path) -> None:
    # What the signature is for: without a key, an edited manifest is only checked by schema.
    _edit_manifest(models / resolve_version(models), _raise_p99)
    assert load_artifact(models).manifest.distance_percentiles["0"]["p99"] == 1e9


def test_load_artifact_unsigned_refused_when_key_set(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    folder = models / resolve_version(models)
    with pytest.raises(ArtifactError) as caught:
        load_artifact(models)
    assert str(caught.value) == (
        f"{folder}/manifest.json: not signed, and SEG_MODEL_SIGNING_KEY is set: publish it "
        "again with the key (segments train, migrate or report)"
    )


def test_load_artifact_other_key_refused(signed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "another key of enough length")
    with pytest.raises(ArtifactError, match=r"manifest\.sig: signature does not match"):
        load_artifact(signed)


def test_signing_key_too_short_is_named_never_shown(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "s3cret")
    with pytest.raises(ArtifactError) as caught:
        load_artifact(models)
    assert str(caught.value).startswith(
        "SEG_MODEL_SIGNING_KEY is set but shorter than 16 characters: use a random key"
    )
    assert "s3cret" not in str(caught.value)


def test_trusted_types_cover_log1p_transforms_and_gaussian_mixtures() -> None:
    # What issues 8 (spec transforms) and 12 (a GMM servable) put in a pipeline.
    X = np.random.default_rng(0).gamma(2.0, 3.0, size=(200, 2))
    log = FunctionTransformer(np.log1p, feature_names_out="one-to-one")
    pipeline = Pipeline([("log", log), ("gmm", GaussianMixture(3, random_state=0))]).fit(X)
    loaded = artifact_model.load_pipeline(artifact_model.dump_pipeline(pipeline))
    np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))
