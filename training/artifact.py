"""The artifact contract: layout, manifest, checksums, atomic publish and verified load.

Training is the only writer; the service and batch assignment only read. Light imports
only (stdlib, pydantic, joblib, sklearn): the service imports this module.

Exceptions::

    ArtifactError          anything wrong with a models folder or one artifact in it
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from training.manifest import (
    DataSummary,
    Manifest,
    NumericSummary,
    Profile,
    SegmentProfile,
    Selection,
    SelectionRow,
)

__all__ = [
    "FORMAT_VERSION",
    "Artifact",
    "ArtifactError",
    "DataSummary",
    "Manifest",
    "NumericSummary",
    "Profile",
    "SegmentProfile",
    "Selection",
    "SelectionRow",
    "library_versions",
    "load_artifact",
    "publish",
    "resolve_version",
]

FORMAT_VERSION = 1
LATEST = "LATEST"
MANIFEST = "manifest.json"
PIPELINE = "pipeline.joblib"
PROFILE = "profile.json"
CLEANED = "cleaned.csv"
REJECTED = "rejected.csv"
REPORT = "report.html"
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$")
_STALE_TMP_SECONDS = 24 * 3600


class ArtifactError(RuntimeError):
    """A models folder or artifact is missing, incomplete, tampered with or incompatible.

    ``kind`` is one of a small fixed set (``missing``, ``checksum``, ``library_version``,
    ``format``, ``invalid``), for metrics labels and callers that branch on the cause.
    """

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Artifact:
    """A verified, loaded artifact."""

    path: Path
    manifest: Manifest
    pipeline: Pipeline
    profile: Profile

    @property
    def version(self) -> str:
        return self.manifest.model_version


def library_versions() -> dict[str, str]:
    import pandas  # local: pandas is heavy and only needed to record its version

    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "joblib": joblib.__version__,
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_version_name(version: str) -> str:
    """Refuse a version name that could leave the models folder (``../x``, ``/abs``)."""
    if not _VERSION_RE.fullmatch(version) or ".." in version:
        raise ArtifactError(
            f"invalid model version {version!r}: use letters, digits, '.', '_' and '-' only"
        )
    return version


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_version(data_hash: str) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{data_hash[:8]}"


def _remove_stale_tmp(models_dir: Path) -> None:
    cutoff = time.time() - _STALE_TMP_SECONDS
    for tmp in models_dir.glob(".tmp-*"):
        if tmp.is_dir() and tmp.stat().st_mtime < cutoff:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_latest(models_dir: Path, version: str) -> None:
    tmp = models_dir / f".{LATEST}.{uuid.uuid4().hex}"
    with tmp.open("w") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, models_dir / LATEST)
    _fsync(models_dir)


def publish(
    models_dir: Path,
    manifest: Manifest,
    write_files: Callable[[Path], None],
    *,
    update_latest: bool = True,
) -> Path:
    """Write an artifact atomically and point ``LATEST`` at it.

    ``write_files(folder)`` writes every file but the manifest into a private temporary
    folder; this function checksums them, writes the manifest, fsyncs, renames the folder
    to ``models_dir/<version>`` and only then replaces ``LATEST`` (unless
    ``update_latest=False``). Any failure removes the temporary folder and leaves
    ``LATEST`` as it was.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(models_dir)
    tmp = models_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        write_files(tmp)
        files = sorted(p for p in tmp.rglob("*") if p.is_file() and p.name != MANIFEST)
        manifest.files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in files}
        for path in files:
            _fsync(path)
        for folder in {p.parent for p in files}:
            _fsync(folder)
        _check_readable(tmp, manifest)
        target = _rename_into_place(models_dir, tmp, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if update_latest:
        _write_latest(models_dir, target.name)
    return target


def _check_readable(folder: Path, manifest: Manifest) -> None:
    """Refuse to publish what the loader would refuse to read (e.g. NaN written as null)."""
    try:
        Manifest.model_validate_json(manifest.model_dump_json())
        if (folder / PROFILE).is_file():
            Profile.model_validate_json((folder / PROFILE).read_text())
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(map(str, first["loc"]))
        raise ArtifactError(f"refusing to publish: invalid {where}: {first['msg']}") from None


def _rename_into_place(models_dir: Path, tmp: Path, manifest: Manifest) -> Path:
    # A version folder, once published, is never empty, so rename() onto it fails: two
    # trainers that picked the same name cannot overwrite each other; the loser renames.
    for _ in range(100):
        manifest.model_version = _new_version(manifest.data.fingerprint)
        manifest_path = tmp / MANIFEST
        manifest_path.write_text(manifest.model_dump_json(indent=2))
        _fsync(manifest_path)
        _fsync(tmp)
        target = models_dir / manifest.model_version
        try:
            os.rename(tmp, target)
        except OSError:
            if target.exists():
                continue
            raise
        _fsync(models_dir)
        return target
    raise ArtifactError(f"{models_dir}: could not find a free version name")


def resolve_version(models_dir: Path, version: str | None = None) -> str:
    """The version to load: ``version`` if given, else the one named in ``LATEST``."""
    if version:
        return check_version_name(version)
    latest = models_dir / LATEST
    if not models_dir.is_dir():
        raise ArtifactError(
            f"models folder {models_dir} does not exist: train a model first", "missing"
        )
    if not latest.is_file():
        raise ArtifactError(f"{latest} not found: no model has been published yet", "missing")
    try:
        return check_version_name(latest.read_text(encoding="utf-8").strip())
    except UnicodeDecodeError:
        raise ArtifactError(f"{latest}: not a version name (not UTF-8 text)", "invalid") from None


def _read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{path}: manifest not found", "missing")
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: manifest is not valid JSON ({exc})") from None
    found = raw.get("format_version") if isinstance(raw, dict) else None
    if found != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: format_version={found!r} is not supported (expected {FORMAT_VERSION})",
            "format",
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(map(str, first["loc"]))
        raise ArtifactError(f"{path}: invalid manifest at {key}: {first['msg']}") from None


def _verify_files(folder: Path, manifest: Manifest) -> None:
    for required in (PIPELINE, PROFILE, CLEANED):
        if required not in manifest.files:
            raise ArtifactError(f"{folder / MANIFEST}: does not list {required}")
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.resolve().is_relative_to(folder.resolve()):
            raise ArtifactError(f"{folder / MANIFEST}: file {name!r} leaves the artifact folder")
        if not path.is_file():
            raise ArtifactError(f"{path}: file listed in the manifest is missing", "missing")
        if sha256_file(path) != expected:
            raise ArtifactError(
                f"{path}: sha256 does not match the manifest (file changed)", "checksum"
            )


def _check_libraries(folder: Path, manifest: Manifest) -> None:
    recorded = manifest.libraries.get("sklearn")
    if recorded != sklearn.__version__:
        raise ArtifactError(
            f"{folder}: trained with scikit-learn {recorded}, this process has "
            f"{sklearn.__version__}; retrain or install the recorded version",
            "library_version",
        )


def load_artifact(models_dir: Path, version: str | None = None) -> Artifact:
    """Load and verify one artifact: format version, every sha256, library versions.

    Checksums are verified before anything is unpickled.
    """
    name = resolve_version(models_dir, version)
    folder = models_dir / name
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: model version {name!r} not found", "missing")
    manifest = _read_manifest(folder)
    if manifest.model_version != name:
        raise ArtifactError(
            f"{folder / MANIFEST}: model_version {manifest.model_version!r} != folder {name!r}"
        )
    _verify_files(folder, manifest)
    _check_libraries(folder, manifest)
    try:
        pipeline = joblib.load(folder / PIPELINE)
        profile = Profile.model_validate_json((folder / PROFILE).read_text())
    except (ValidationError, ValueError, EOFError, ImportError, AttributeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArtifactError(f"{folder}: cannot load the model: {first_line}") from None
    if not isinstance(pipeline, Pipeline):
        raise ArtifactError(f"{folder / PIPELINE}: not a scikit-learn Pipeline")
    return Artifact(path=folder, manifest=manifest, pipeline=pipeline, profile=profile)
