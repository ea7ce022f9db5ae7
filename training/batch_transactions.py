"""Transactions logs through the recipe to files: ``segments features`` and
``segments assign --transactions``.

Both compute features with :mod:`training.behaviour` (the path the service takes too) and
write the table and the rejected lines atomically (a temporary file, fsync, rename), or
not at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from training.artifact import ArtifactError, load_artifact
from training.batch import rejected_path
from training.batch_files import check_paths
from training.behaviour import table_for_model, table_for_training
from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES, DataError
from training.features import FeatureResult
from training.scoring import load_scorer
from training.spec import SegmentationSpec, load_spec

__all__ = ["TableResult", "assign_transactions", "write_features", "write_table"]


@dataclass(frozen=True)
class TableResult:
    """What one run wrote: the table, the rejected lines, and how the log was read."""

    output: Path
    rejected: Path
    lines: FeatureResult
    table: pd.DataFrame
    model_version: str = ""


def _check_output(path: Path, option: str) -> None:
    if path.suffix.lower() not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        raise DataError(f"{option} {path}: use a .csv or .parquet file name")
    if path.is_dir():
        raise DataError(f"{option} {path} is a folder: give a file name")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV or Parquet (by suffix) to a temporary file, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="needed"))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_features(
    source: Path, output: Path, spec_name: str, as_of: date | None, *, overwrite: bool = False
) -> TableResult:
    """Features, RFM scores and label of every customer of ``source`` (scored among themselves)."""
    _check_output(output, "--out")
    check_paths(source, output, rejected_path(output), overwrite=overwrite)
    spec: SegmentationSpec = load_spec(spec_name)
    frame, _used, result, _recipe = table_for_training(source, spec, as_of)
    rejected = rejected_path(output)
    write_table(result.rejected, rejected)
    write_table(frame, output)
    return TableResult(output, rejected, result, frame)


def assign_transactions(
    source: Path,
    output: Path,
    models_dir: Path,
    model_version: str | None = None,
    as_of: date | None = None,
    *,
    overwrite: bool = False,
) -> TableResult:
    """Assign every customer of a log with a model trained on transactions.

    Output: the id, the spec's features, R/F/M scores and label, then the assignment
    columns of ``segments assign``.
    """
    _check_output(output, "--output")
    check_paths(source, output, rejected_path(output), overwrite=overwrite)
    artifact = load_artifact(models_dir, model_version)
    recipe = artifact.manifest.recipe
    if recipe is None:
        raise ArtifactError(
            f"model {artifact.version} was not trained on transactions: use --input with a "
            "customer file"
        )
    spec = artifact.spec
    scorer = load_scorer(artifact)
    frame, result = table_for_model(source, spec, recipe, as_of)
    columns = {
        name: frame[name].to_numpy(dtype=object if name in scorer.categorical else np.float64)
        for name in (*scorer.numeric, *scorer.categorical)
    }
    answers = scorer.assign(columns)
    names = np.array([s.name for s in artifact.profile.segments], dtype=object)
    out = frame.assign(
        segment_id=answers.segment,
        segment_name=names[answers.segment],
        distance=answers.distance,
        confidence=answers.confidence,
        atypical=answers.atypical,
        imputed=[";".join(fields) for fields in answers.imputed_lists()],
        model_version=artifact.version,
    )
    rejected = rejected_path(output)
    write_table(result.rejected, rejected)
    write_table(out, output)
    return TableResult(output, rejected, result, out, artifact.version)
