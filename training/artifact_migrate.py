"""``segments migrate``: re-save a verified format-1 artifact (a pickled pipeline) as format 2.

The old artifact's checksums and scikit-learn version are verified first; its pickle is
then loaded (the one place a pickle is ever read: migrating says the operator trusts that
artifact), written as a skops file of trusted types only, read back, and checked to give
the same segment as the pickle on every training row. Every other file is copied byte for
byte. The result is published as a new version (a published folder never changes);
``LATEST`` moves to it only if it named the old one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training import artifact_model
from training.artifact import (
    SEGMENT_COLUMN,
    Artifact,
    ArtifactError,
    Profile,
    copy_files,
    latest_names,
    library_versions,
    publish,
    read_cleaned,
    write_pipeline,
)
from training.artifact_store import CLEANED, LEGACY_PIPELINE, PROFILE, check_version_name
from training.artifact_verify import (
    FORMAT_VERSION,
    LEGACY_FORMAT_VERSION,
    check_libraries,
    read_manifest,
    read_verified,
    verify_files,
)

__all__ = ["migrate_artifact"]


def _load_legacy(models_dir: Path, version: str) -> Artifact:
    folder = models_dir / check_version_name(version)
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: model version {version!r} not found", "missing")
    manifest = read_manifest(folder, (LEGACY_FORMAT_VERSION, FORMAT_VERSION))
    if manifest.format_version == FORMAT_VERSION:
        raise ArtifactError(f"{folder}: already format {FORMAT_VERSION}: nothing to migrate")
    if manifest.model_version != folder.name:
        raise ArtifactError(f"{folder}: the manifest names another version")
    verify_files(folder, manifest, (LEGACY_PIPELINE, PROFILE, CLEANED))
    check_libraries(folder, manifest)
    pipeline = artifact_model.load_legacy_pipeline(read_verified(folder, manifest, LEGACY_PIPELINE))
    profile = Profile.model_validate_json(read_verified(folder, manifest, PROFILE))
    return Artifact(path=folder, manifest=manifest, pipeline=pipeline, profile=profile)


def migrate_artifact(models_dir: Path, version: str) -> Path:
    """Publish format-1 ``version`` again as format 2; return the new version's folder."""
    source = _load_legacy(models_dir, version)
    frame = read_cleaned(source).drop(columns=SEGMENT_COLUMN)
    expected = source.pipeline.predict(frame)
    manifest = source.manifest.model_copy(deep=True)
    manifest.format_version = FORMAT_VERSION
    manifest.created_at = datetime.now(UTC)
    manifest.libraries = {**manifest.libraries, "skops": library_versions()["skops"]}
    manifest.files = {}
    kept = [name for name in source.manifest.files if name != LEGACY_PIPELINE]

    def write_files(folder: Path) -> None:
        copy_files(source, folder, kept)
        saved = write_pipeline(folder, source.pipeline)
        changed = int(np.count_nonzero(saved.predict(frame) != expected))
        if changed:
            raise ArtifactError(
                f"{source.path}: the re-saved model assigns {changed} of {len(frame)} "
                "training rows differently: not migrated"
            )

    update = latest_names(models_dir, source.version)
    return publish(models_dir, manifest, write_files, update_latest=update)
