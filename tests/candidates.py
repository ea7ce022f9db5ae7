"""Reload candidates: a trained artifact published again as a new version, whole or broken.

A candidate is published with ``LATEST`` untouched, broken (if asked) while no one looks at
it, and only then named in ``LATEST``, the way training publishes: a reader never sees a
candidate change under it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sklearn

from training import artifact

BAD_KINDS = ("truncated", "bit-flipped", "wrong checksum", "other sklearn version")
OTHER_SKLEARN = "0.24.2"


def publish_copy(source: Path, models_dir: Path) -> str:
    """Publish the artifact in ``source`` again, as a new version; return its name."""
    manifest = artifact.Manifest.model_validate_json((source / artifact.MANIFEST).read_text())
    names = list(manifest.files)

    def write_files(folder: Path) -> None:
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, folder / name)

    folder = artifact.publish(
        models_dir, manifest.model_copy(update={"files": {}}), write_files, update_latest=False
    )
    return folder.name


def point_latest(models_dir: Path, version: str) -> None:
    tmp = models_dir / ".LATEST.test"
    tmp.write_text(version + "\n")
    tmp.replace(models_dir / artifact.LATEST)


def break_artifact(folder: Path, kind: str) -> None:
    """Break a published artifact in one of the :data:`BAD_KINDS` ways."""
    pipeline = folder / artifact.PIPELINE
    if kind == "truncated":
        data = pipeline.read_bytes()
        pipeline.write_bytes(data[: len(data) // 2])
    elif kind == "bit-flipped":
        data = bytearray(pipeline.read_bytes())
        data[len(data) // 2] ^= 0x01
        pipeline.write_bytes(bytes(data))
    else:
        path = folder / artifact.MANIFEST
        manifest = json.loads(path.read_text())
        if kind == "wrong checksum":
            manifest["files"][artifact.PIPELINE] = "0" * 64
        elif kind == "other sklearn version":
            manifest["libraries"]["sklearn"] = OTHER_SKLEARN
        else:
            raise ValueError(f"unknown kind {kind!r}; one of {BAD_KINDS}")
        path.write_text(json.dumps(manifest, indent=2))


def refusal(kind: str, version: str) -> tuple[str, str]:
    """The refusal kind (metrics label) and the exact reason for a broken candidate."""
    if kind == "other sklearn version":
        return "library_version", (
            f"SEG_MODELS_DIR/{version}: trained with scikit-learn {OTHER_SKLEARN}, this process "
            f"has {sklearn.__version__}; retrain or install the recorded version"
        )
    return "checksum", (
        f"SEG_MODELS_DIR/{version}/pipeline.skops: sha256 does not match the manifest "
        "(file changed)"
    )
