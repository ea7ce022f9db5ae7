"""Reloads in the model holder: swap a whole, verified, same-schema model or keep the old one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.config import Settings
from service.metrics import Metrics
from service.state import ModelHolder
from tests.candidates import BAD_KINDS, break_artifact, point_latest, publish_copy, refusal
from training import artifact
from training.train import TrainResult


@pytest.fixture
def models(classic_model: TrainResult, tmp_path: Path) -> Path:
    """A models folder serving a copy of the classic model."""
    point_latest(tmp_path, publish_copy(classic_model.path, tmp_path))
    return tmp_path


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def holder(models: Path, metrics: Metrics) -> ModelHolder:
    holder = ModelHolder(Settings(models_dir=models), events=metrics)
    assert holder.load() is not None
    return holder


def _sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    assert metrics.registry is not None
    return metrics.registry.get_sample_value(name, labels)


def test_reload_swaps_in_a_new_version(
    holder: ModelHolder, models: Path, classic_model: TrainResult, metrics: Metrics
) -> None:
    old = holder.current
    assert old is not None
    version = publish_copy(classic_model.path, models)
    assert holder.reload().status == "unchanged"  # published, not yet in LATEST
    point_latest(models, version)
    outcome = holder.reload()
    assert (outcome.status, outcome.model_version) == ("loaded", version)
    assert holder.current is not None
    assert holder.current.version == version
    assert (holder.error, holder.refused) == ("", None)
    assert _sample(metrics, "segments_model_info", model_version=version) == 1
    assert _sample(metrics, "segments_model_info", model_version=old.version) == 0
    assert _sample(metrics, "segments_model_reloads_total") == 1


def test_reload_leaves_the_serving_version_alone(holder: ModelHolder) -> None:
    serving = holder.current
    outcome = holder.reload()
    assert (outcome.status, outcome.refusal) == ("unchanged", None)
    assert holder.current is serving


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_reload_refuses_a_broken_candidate(
    holder: ModelHolder, models: Path, classic_model: TrainResult, metrics: Metrics, kind: str
) -> None:
    serving = holder.current
    assert serving is not None
    version = publish_copy(classic_model.path, models)
    break_artifact(models / version, kind)
    point_latest(models, version)
    outcome = holder.reload()
    label, reason = refusal(kind, version)
    assert (outcome.status, outcome.candidate, outcome.model_version) == (
        "refused",
        version,
        serving.version,
    )
    assert holder.current is serving
    assert holder.refused is not None
    assert (holder.refused.version, holder.refused.kind, holder.refused.reason) == (
        version,
        label,
        reason,
    )
    assert _sample(metrics, "segments_model_reloads_refused_total", kind=label) == 1
    assert _sample(metrics, "segments_model_refused_info", model_version=version, kind=label) == 1
    assert _sample(metrics, "segments_model_reloads_total") == 0


def test_reload_refuses_a_feature_schema_change(
    holder: ModelHolder, models: Path, classic_model: TrainResult, metrics: Metrics
) -> None:
    serving = holder.current
    assert serving is not None
    version = publish_copy(classic_model.path, models)
    path = models / version / artifact.MANIFEST
    manifest = json.loads(path.read_text())
    spending = next(f for f in manifest["spec"]["features"] if f["name"] == "spending_score")
    spending["max"] = 200
    gender = next(f for f in manifest["spec"]["features"] if f["name"] == "gender")
    gender["allowed"] = [*gender["allowed"], "Other"]
    path.write_text(json.dumps(manifest))
    point_latest(models, version)
    outcome = holder.reload()
    assert outcome.status == "refused"
    assert holder.current is serving
    assert outcome.refusal is not None
    assert outcome.refusal.kind == "schema"
    assert outcome.refusal.reason == (
        f"model {version}: feature schema differs from the serving model {serving.version} "
        "(spending_score.max 100.0 -> 200.0; gender.allowed ['Female', 'Male'] -> "
        "['Female', 'Male', 'Other']); a schema change needs a restart"
    )


def test_refused_candidate_is_tried_again_only_when_forced_or_latest_moves(
    holder: ModelHolder, models: Path, classic_model: TrainResult, metrics: Metrics
) -> None:
    broken = publish_copy(classic_model.path, models)
    break_artifact(models / broken, "bit-flipped")
    point_latest(models, broken)
    assert holder.reload().status == "refused"
    for _ in range(3):  # the poll: no new attempt, no new count
        outcome = holder.reload()
        assert (outcome.status, outcome.candidate) == ("skipped", broken)
    assert _sample(metrics, "segments_model_reloads_refused_total", kind="checksum") == 1
    assert holder.reload(force=True).status == "refused"
    assert _sample(metrics, "segments_model_reloads_refused_total", kind="checksum") == 2
    fixed = publish_copy(classic_model.path, models)
    point_latest(models, fixed)
    assert holder.reload().status == "loaded"
    assert holder.refused is None
    gauge = _sample(metrics, "segments_model_refused_info", model_version=broken, kind="checksum")
    assert gauge == 0


def test_reload_keeps_serving_when_latest_disappears(holder: ModelHolder, models: Path) -> None:
    serving = holder.current
    (models / artifact.LATEST).unlink()
    outcome = holder.reload()
    assert (outcome.status, outcome.candidate) == ("refused", None)
    assert outcome.refusal is not None
    assert (outcome.refusal.kind, outcome.refusal.reason) == (
        "missing",
        "SEG_MODELS_DIR/LATEST not found: no model has been published yet",
    )
    assert holder.current is serving
    assert holder.reload().status == "skipped"


def test_reload_serves_the_first_model_published_after_start(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    holder = ModelHolder(Settings(models_dir=tmp_path / "models"))
    assert holder.load() is None
    assert holder.reload().status == "skipped"  # still no folder: nothing new to say
    version = publish_copy(classic_model.path, tmp_path / "models")
    point_latest(tmp_path / "models", version)
    assert holder.reload().status == "loaded"
    assert holder.current is not None
    assert holder.current.version == version


def test_reload_honours_the_pinned_version(
    classic_model: TrainResult, models: Path, metrics: Metrics
) -> None:
    pinned = (models / artifact.LATEST).read_text().strip()
    holder = ModelHolder(Settings(models_dir=models, model_version=pinned), events=metrics)
    assert holder.load() is not None
    point_latest(models, publish_copy(classic_model.path, models))
    assert holder.reload().status == "unchanged"
    assert holder.current is not None
    assert holder.current.version == pinned
