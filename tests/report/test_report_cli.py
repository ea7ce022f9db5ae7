"""``segments train --no-report`` and ``segments report`` (regeneration as a new version)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.artifact import (
    CLEANED,
    LATEST,
    MANIFEST,
    PIPELINE,
    PROFILE,
    REJECTED,
    REPORT,
    load_artifact,
)
from training.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def bare_model(classic_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a classic model trained with ``--no-report`` (read-only for tests)."""
    models = tmp_path_factory.mktemp("bare-models")
    result = runner.invoke(
        app, ["train", "--data", str(classic_path), "--models-dir", str(models), "--no-report"]
    )
    assert result.exit_code == 0, result.stderr
    return models / (models / LATEST).read_text().strip()


@pytest.fixture
def models(bare_model: Path, tmp_path: Path) -> Path:
    """A private models folder holding a copy of the bare model, named in LATEST."""
    shutil.copytree(bare_model, tmp_path / bare_model.name)
    (tmp_path / LATEST).write_text(bare_model.name + "\n")
    return tmp_path


def _report(models: Path, version: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["report", "--model-version", version, "--models-dir", str(models)])
    return result.exit_code, result.stdout, result.stderr


def test_train_no_report_writes_none(bare_model: Path) -> None:
    assert not (bare_model / REPORT).exists()
    assert not (bare_model / "figures").exists()
    manifest = load_artifact(bare_model.parent, bare_model.name).manifest
    assert not manifest.has_report
    assert not [name for name in manifest.files if "report" in name or "figures" in name]


def test_report_regenerates_as_new_version(models: Path) -> None:
    source = (models / LATEST).read_text().strip()
    manifest_before = (models / source / MANIFEST).read_bytes()

    code, stdout, stderr = _report(models, source)

    assert code == 0, stderr
    new = (models / LATEST).read_text().strip()  # the source was LATEST: LATEST follows
    assert new != source
    assert stdout.startswith(f"report: {models / new / REPORT}\n")
    assert f"same model as {source}, with the report; LATEST now names it" in stdout
    regenerated = load_artifact(models, new)  # every checksum of the new version holds
    assert regenerated.manifest.has_report
    assert (models / new / "figures" / "tsne.png").is_file()
    assert "regenerated from model version " + source in (models / new / REPORT).read_text()
    for name in (PIPELINE, PROFILE, CLEANED, REJECTED):
        assert (models / new / name).read_bytes() == (models / source / name).read_bytes()
    # The source is untouched: same manifest bytes, still no report, still loads.
    assert (models / source / MANIFEST).read_bytes() == manifest_before
    assert not (models / source / REPORT).exists()
    load_artifact(models, source)


def test_report_for_another_version_leaves_latest(models: Path) -> None:
    source = (models / LATEST).read_text().strip()
    (models / LATEST).write_text("20990101T000000000000Z-newer\n")

    code, stdout, stderr = _report(models, source)

    assert code == 0, stderr
    assert stdout.endswith("with the report; LATEST unchanged\n")
    assert (models / LATEST).read_text() == "20990101T000000000000Z-newer\n"


def test_report_unknown_version_fails(tmp_path: Path) -> None:
    code, _, stderr = _report(tmp_path, "nope")
    assert code == 2
    assert stderr == f"error: {tmp_path}/nope: model version 'nope' not found\n"
