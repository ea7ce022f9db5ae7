"""The artifact contract: layout, manifest, checksums, signature, atomic publish, verified load.

Training is the only writer; the service and batch assignment only read. This module (with
its helpers :mod:`training.artifact_store`: file names, ``LATEST``, publish;
:mod:`training.artifact_model`: the pipeline as a skops file and the trusted types;
:mod:`training.artifact_signing`: the manifest's HMAC) owns every file name, reader and
writer of an artifact: nothing else opens an artifact's files. Light imports only (stdlib,
pydantic, skops, sklearn; pandas inside the readers): the service imports this module.

Exceptions::

    ArtifactError          anything wrong with a models folder or one artifact in it
"""

from __future__ import annotations

import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sklearn
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from training.artifact_store import (
    CLEANED,
    FIGURES,
    LATEST,
    LEGACY_PIPELINE,
    MANIFEST,
    PIPELINE,
    PROFILE,
    REJECTED,
    REJECTED_LINES,
    REPORT,
    SIGNATURE,
    ArtifactError,
    check_version_name,
    latest_names,
    publish,
    read_latest,
    sha256_file,
)
from training.artifact_verify import (
    FORMAT_VERSION,
    check_libraries,
    read_manifest,
    read_verified,
    verify_files,
)
from training.data import REASON_COLUMN, ROW_COLUMN
from training.manifest import (
    DataSummary,
    Manifest,
    NumericSummary,
    Profile,
    SegmentProfile,
    Selection,
    SelectionRow,
)
from training.spec import SegmentationSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CLEANED",
    "FIGURES",
    "FORMAT_VERSION",
    "LATEST",
    "LEGACY_PIPELINE",
    "MANIFEST",
    "PIPELINE",
    "PROFILE",
    "REJECTED",
    "REJECTED_LINES",
    "REPORT",
    "SEGMENT_COLUMN",
    "SIGNATURE",
    "Artifact",
    "ArtifactError",
    "DataSummary",
    "Manifest",
    "NumericSummary",
    "Profile",
    "SegmentProfile",
    "Selection",
    "SelectionRow",
    "check_version_name",
    "copy_files",
    "latest_names",
    "library_versions",
    "load_artifact",
    "publish",
    "read_cleaned",
    "read_rejected",
    "resolve_version",
    "sha256_file",
    "write_model_files",
    "write_pipeline",
]

SEGMENT_COLUMN = "segment"  # cleaned.csv: each training row's segment


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

    @property
    def spec(self) -> SegmentationSpec:
        return self.manifest.spec

    @property
    def report_path(self) -> Path | None:
        """The report's HTML file, when this artifact has one."""
        path = self.path / REPORT
        has = self.manifest.has_report and REPORT in self.manifest.files
        return path if has and path.is_file() else None

    def figure_path(self, name: str) -> Path | None:
        """A figure of the report, only if the manifest lists it (no path can escape)."""
        if self.report_path is None or f"{FIGURES}/{name}" not in self.manifest.files:
            return None
        path = self.path / FIGURES / name
        return path if "/" not in name and path.is_file() else None


def library_versions() -> dict[str, str]:
    import pandas  # local: pandas is heavy and only needed to record its version
    import skops

    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "skops": skops.__version__,
    }


def resolve_version(models_dir: Path, version: str | None = None) -> str:
    """The version to load: ``version`` if given, else the one named in ``LATEST``."""
    return check_version_name(version) if version else read_latest(models_dir)


def load_artifact(models_dir: Path, version: str | None = None) -> Artifact:
    """Load and verify one artifact: format version, signature (when a key is set), every
    sha256, library versions, then the model from its skops file (trusted types only)."""
    name = resolve_version(models_dir, version)
    folder = models_dir / name
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: model version {name!r} not found", "missing")
    manifest = read_manifest(folder)
    if manifest.model_version != name:
        raise ArtifactError(
            f"{folder / MANIFEST}: model_version {manifest.model_version!r} != folder {name!r}"
        )
    verify_files(folder, manifest, (PIPELINE, PROFILE, CLEANED))
    check_libraries(folder, manifest)
    from training import artifact_model  # local: the estimator classes are not light

    try:
        pipeline = artifact_model.load_pipeline(read_verified(folder, manifest, PIPELINE))
    except ArtifactError as exc:
        raise ArtifactError(f"{folder / PIPELINE}: {exc}", exc.kind) from None
    try:
        profile = Profile.model_validate_json(read_verified(folder, manifest, PROFILE))
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(map(str, first["loc"]))
        raise ArtifactError(f"{folder / PROFILE}: invalid at {where}: {first['msg']}") from None
    return Artifact(path=folder, manifest=manifest, pipeline=pipeline, profile=profile)


def read_cleaned(
    artifact: Artifact, nrows: int | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """The cleaned training rows (the id, every spec feature, ``segment``; or only
    ``columns``), typed as training typed them. One rule for missing values: an empty
    cell, nothing else (a category spelled ``NA`` or ``None`` stays that text)."""
    import pandas as pd

    spec, path = artifact.spec, artifact.path / CLEANED
    dtypes: dict[str, Any] = {spec.id.name: "string"}
    for f in spec.features:
        dtypes[f.name] = "float64" if f.kind == "numeric" else "object"
    dtypes[SEGMENT_COLUMN] = "int64"
    if columns is not None:
        dtypes = {name: dtypes[name] for name in columns}
    # A few columns of every row (segment matching reads the ids of a whole training):
    # pyarrow's multithreaded reader is 1.5-3x faster; it cannot stop after nrows.
    engine: Literal["c", "pyarrow"] = "pyarrow" if columns is not None and nrows is None else "c"
    try:
        frame = pd.read_csv(
            path,
            dtype=dtypes,
            keep_default_na=False,
            na_values=[""],
            nrows=nrows,
            usecols=columns,
            engine=engine,
        )
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"{path}: cannot read the cleaned rows: {exc}") from None
    absent = [c for c in dtypes if c not in frame.columns]
    if absent:
        raise ArtifactError(f"{path}: column {absent[0]!r} not found")
    return frame[list(dtypes)]


def read_rejected(artifact: Artifact, nrows: int) -> pd.DataFrame:
    """The first ``nrows`` rejected rows: ``source_row`` and ``reason``, as text."""
    import pandas as pd

    path, columns = artifact.path / REJECTED, [ROW_COLUMN, REASON_COLUMN]
    if REJECTED not in artifact.manifest.files:
        return pd.DataFrame(columns=columns)
    try:
        head = pd.read_csv(path, dtype="string", nrows=nrows, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=columns)
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"{path}: cannot read the rejected rows: {exc}") from None
    if not set(columns) <= set(head.columns):
        raise ArtifactError(f"{path}: expected columns {', '.join(columns)}")
    return head[columns]


def write_pipeline(folder: Path, pipeline: Pipeline) -> Pipeline:
    """Write the skops file; return the pipeline as loaded back from the written bytes."""
    from training import artifact_model

    data = artifact_model.dump_pipeline(pipeline)
    (folder / PIPELINE).write_bytes(data)
    return artifact_model.load_pipeline(data)


def write_model_files(
    folder: Path,
    pipeline: Pipeline,
    profile: Profile,
    cleaned: pd.DataFrame,
    labels: np.ndarray,
    rejected: pd.DataFrame,
    rejected_lines: pd.DataFrame | None = None,
) -> None:
    """A training run's files (all but the report and the manifest) into ``folder``.

    ``rejected_lines``: the transaction lines the recipe could not use (``--transactions``).
    """
    write_pipeline(folder, pipeline)
    (folder / PROFILE).write_text(profile.model_dump_json(indent=2))
    _write_csv(cleaned.assign(**{SEGMENT_COLUMN: labels}), folder / CLEANED)
    _write_csv(rejected, folder / REJECTED)
    if rejected_lines is not None:
        _write_csv(rejected_lines, folder / REJECTED_LINES)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow
    import pyarrow.csv

    # pyarrow's writer is ~10x faster than DataFrame.to_csv at a million rows.
    pyarrow.csv.write_csv(pyarrow.Table.from_pandas(frame, preserve_index=False), path)


def copy_files(source: Artifact, folder: Path, names: list[str]) -> None:
    """Copy files of ``source`` byte for byte into ``folder``, checked against its sha256."""
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path / name, target)
        if sha256_file(target) != source.manifest.files.get(name):
            raise ArtifactError(f"{source.path / name}: changed while it was being copied")
