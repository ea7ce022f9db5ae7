"""Batch assignment on a Dask cluster: a glob of customer files in, a Parquet dataset out.

Each partition (see :func:`training.dask_engine.plan_pieces`) is one task
(``dask.dataframe.from_map``) that cleans and scores with the single-process path's own
functions: a CSV file through :func:`training.batch.assign_chunks` (its chunked loop, ragged
rows rejected), Parquet row groups through :func:`training.batch.assign_frame`, with the
verified scorer loaded once on the client and shipped to the workers. So every row gets
the answer ``segments assign`` and ``POST /assign`` give. Partitions write their own files
(the output never passes through the client); the client gathers only their counts.

The output folder, written as a whole or not at all::

    <output>/assignments/part-00000.parquet ...   id, then batch.OUTPUT_COLUMNS
    <output>/rejected/part-00000.parquet ...      source_file, source_row, raw values, reason

one file per partition, in input order (files sorted by name, rows in file order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from training.artifact import load_artifact
from training.batch import BatchResult, assign_chunks, assign_frame
from training.campaigns import CampaignBook, utc_today
from training.dask_engine import (
    ROWS_PER_PARTITION,
    AtomicDataset,
    Piece,
    Progress,
    expand_inputs,
    part_name,
    plan_pieces,
    read_piece,
    run_partitions,
    write_part,
)
from training.data import DataError
from training.scoring import Scorer, load_scorer
from training.spec import SegmentationSpec

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["ASSIGNMENTS", "REJECTED", "assign_dataset"]

ASSIGNMENTS = "assignments"
REJECTED = "rejected"
_COUNTS = ("rows_read", "rows_assigned", "rows_rejected", "atypical", "imputed")
_STATS = (*_COUNTS, "has_assignments", "has_rejected")


@dataclass(frozen=True)
class _Job:
    """What every partition needs: small, pickled once into the graph."""

    pieces: tuple[Piece, ...]
    folder: str
    scorer: Scorer
    spec: SegmentationSpec
    names: tuple[str, ...]
    version: str
    campaigns: CampaignBook | None
    day: date  # one day for the whole run, decided on the client


def _assigned(number: int, piece: Piece, job: _Job) -> tuple[list[pa.Table], list[pa.Table], int]:
    """One piece's answers and rejected rows, and its rows read, as the single path makes them."""
    if piece.row_groups:  # Parquet row groups: one frame, rows numbered from the piece's first
        frame = read_piece(piece)
        rows = np.arange(piece.first_row, piece.first_row + len(frame), dtype=np.int64)
        table, rejected, _, _ = assign_frame(
            frame, job.spec, job.scorer, list(job.names), job.version, rows,
            campaigns=job.campaigns, day=job.day,
        )  # fmt: skip
        return [table], [rejected], len(frame)
    chunks = list(  # a CSV: the single path's own loop (chunked, ragged rows rejected)
        assign_chunks(
            Path(piece.path), job.spec, job.scorer, list(job.names), job.version,
            campaigns=job.campaigns, day=job.day,
        )
    )  # fmt: skip
    tables = [c.table for c in chunks if c.table is not None]
    return tables, [c.rejected for c in chunks], chunks[-1].rows_read if chunks else 0


def _assign_partition(number: int, piece: Piece, job: _Job) -> pd.DataFrame:
    """Clean, score and write one partition; return its counts (one row)."""
    tables, rejects, rows_read = _assigned(number, piece, job)
    folder = Path(job.folder)
    row = dict.fromkeys(_STATS, 0) | {"rows_read": rows_read, "has_assignments": int(bool(tables))}
    counts = np.zeros(len(job.names), dtype=np.int64)  # by stable id
    if tables:
        table = pa.concat_tables(tables)
        write_part(table, folder / part_name(ASSIGNMENTS, number))
        imputed = table["imputed"].to_numpy(zero_copy_only=False)
        counts += np.bincount(table["segment_id"].to_numpy(), minlength=len(job.names))
        row["rows_assigned"] = table.num_rows
        row["atypical"] = int(np.count_nonzero(table["atypical"].to_numpy()))
        row["imputed"] = int(np.count_nonzero(imputed != ""))
    rejected = pa.concat_tables(rejects) if rejects else None
    if rejected is not None:
        source = pa.array([Path(piece.path).name] * rejected.num_rows, pa.string())
        write_part(
            rejected.add_column(0, "source_file", source), folder / part_name(REJECTED, number)
        )
    row["rows_rejected"] = rejected.num_rows if rejected is not None else 0
    row["has_rejected"] = int(rejected is not None)
    row.update({f"segment_{i}": int(n) for i, n in enumerate(counts)})
    return pd.DataFrame([row], dtype=np.int64)


def assign_dataset(
    pattern: str,
    output: Path,
    models_dir: Path,
    model_version: str | None,
    client: Client,
    *,
    rows_per_partition: int = ROWS_PER_PARTITION,
    on_progress: Progress | None = None,
    campaigns: CampaignBook | None = None,
    day: date | None = None,
) -> BatchResult:
    """Assign every customer of the files ``pattern`` matches into the dataset ``output``.

    With ``campaigns``, a ``campaigns`` column as :func:`training.batch.assign_file` writes.

    Raises
    ------
    ArtifactError
        When the model cannot be loaded or verified.
    CampaignError
        When a campaign targets a segment the model does not have.
    DataError
        When no file matches, a file cannot be read or lacks a column, or ``output`` exists.
    EngineError
        When the distributed job fails (nothing is left at ``output``).
    """
    import dask.dataframe as dd

    paths = expand_inputs(pattern)
    dataset = AtomicDataset(output)
    artifact = load_artifact(models_dir, model_version)
    scorer = load_scorer(artifact)
    spec = artifact.spec
    names = tuple(artifact.profile.names_by_id)
    if campaigns is not None:
        campaigns.check_targets(artifact.profile.segment_ids, artifact.version)
    pieces = plan_pieces(paths, rows_per_partition)
    with dataset:
        for kind in (ASSIGNMENTS, REJECTED):
            (dataset.tmp / kind).mkdir()
        job = _Job(
            tuple(pieces),
            str(dataset.tmp),
            scorer,
            spec,
            names,
            artifact.version,
            campaigns,
            day or utc_today(),
        )
        meta = pd.DataFrame(
            {name: pd.Series(dtype=np.int64) for name in _STATS}
            | {f"segment_{i}": pd.Series(dtype=np.int64) for i in range(len(names))}
        )
        counts = dd.from_map(_assign_partition, range(len(pieces)), pieces, args=[job], meta=meta)
        parts = run_partitions(client, counts, on_progress)
        stats = pd.concat(parts, ignore_index=True).fillna(0).astype(np.int64)
        total = stats.sum()
        if int(total["rows_assigned"]) == 0:
            raise DataError(f"{pattern}: no rows to assign")
        dataset.commit(
            [part_name(ASSIGNMENTS, int(i)) for i in np.flatnonzero(stats["has_assignments"])]
            + [part_name(REJECTED, int(i)) for i in np.flatnonzero(stats["has_rejected"])]
        )
    result = BatchResult(artifact.version, output / ASSIGNMENTS, output / REJECTED)
    for name in _COUNTS:
        setattr(result, name, int(total[name]))
    result.segments = {
        s.name: int(total[f"segment_{s.segment_id}"]) for s in artifact.profile.segments
    }
    return result
