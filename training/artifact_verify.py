"""Checks of an artifact folder before anything in it is built: format, signature, checksums,
library versions. Part of :mod:`training.artifact` (which callers use)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sklearn
from pydantic import ValidationError

from training import artifact_signing
from training.artifact_store import (
    MANIFEST,
    SIGNATURE,
    ArtifactError,
    read_small_file,
    sha256_file,
    signing_key,
)
from training.manifest import Manifest

__all__ = [
    "FORMAT_VERSION",
    "LEGACY_FORMAT_VERSION",
    "check_libraries",
    "read_manifest",
    "read_verified",
    "verify_files",
]

FORMAT_VERSION = 2  # 2: the pipeline is a skops file; 1: a pickle (refused; migrate it)
LEGACY_FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 16 << 20
_MIGRATE_HINT = (
    "{path}: format_version=1 is no longer loaded: its model is a pickle, which can run code "
    "when loaded; retrain (segments train) or, if you trust this artifact, migrate it: "
    "segments migrate --model-version {version}"
)


def read_manifest(folder: Path, formats: tuple[int, ...] = (FORMAT_VERSION,)) -> Manifest:
    """The manifest of ``folder``: its format checked, then its signature (when a key is
    set), then its schema."""
    path = folder / MANIFEST
    if not path.exists():
        raise ArtifactError(f"{path}: manifest not found", "missing")
    data = read_small_file(path, MAX_MANIFEST_BYTES, "a manifest is a small JSON file")
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: manifest is not valid JSON ({exc})") from None
    found = raw.get("format_version") if isinstance(raw, dict) else None
    if found not in formats:
        if found == LEGACY_FORMAT_VERSION:
            raise ArtifactError(_MIGRATE_HINT.format(path=path, version=folder.name), "format")
        raise ArtifactError(
            f"{path}: format_version={found!r} is not supported (expected {formats[0]})", "format"
        )
    if found == FORMAT_VERSION:  # format 1 was never signed: only migrate reads it
        _check_signature(folder, data)
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        key = ".".join(map(str, first["loc"]))
        raise ArtifactError(f"{path}: invalid manifest at {key}: {first['msg']}") from None


def _check_signature(folder: Path, data: bytes) -> None:
    key = signing_key()
    if key is None:
        return
    path = folder / SIGNATURE
    if not path.exists():
        raise ArtifactError(
            f"{folder / MANIFEST}: not signed, and {artifact_signing.KEY_ENV} is set: publish "
            "it again with the key (segments train, migrate or report)",
            "signature",
        )
    signature = read_small_file(path, 256, "a signature is one short line")
    if not artifact_signing.signature_matches(data, signature, key):
        raise ArtifactError(
            f"{path}: signature does not match the manifest (the manifest was changed, or "
            f"signed with another {artifact_signing.KEY_ENV})",
            "signature",
        )


def verify_files(folder: Path, manifest: Manifest, required: tuple[str, ...]) -> None:
    for name in required:
        if name not in manifest.files:
            raise ArtifactError(f"{folder / MANIFEST}: does not list {name}")
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


def read_verified(folder: Path, manifest: Manifest, name: str) -> bytes:
    """A file's bytes, read once and checked against the manifest's sha256."""
    data = (folder / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest.files.get(name):
        raise ArtifactError(f"{folder / name}: sha256 does not match the manifest", "checksum")
    return data


def check_libraries(folder: Path, manifest: Manifest) -> None:
    recorded = manifest.libraries.get("sklearn")
    if recorded != sklearn.__version__:
        raise ArtifactError(
            f"{folder}: trained with scikit-learn {recorded}, this process has "
            f"{sklearn.__version__}; retrain or install the recorded version",
            "library_version",
        )
