"""Batch assignment: a customer file in, one assignment per customer out, in chunks.

The same cleaning as training (:func:`training.data.clean`, chunk by chunk) and the same
scorer as the service (:func:`training.scoring.load_scorer`), so a row gets the answer
``POST /assign`` gives. Memory stays flat in the file's size: pyarrow streams the input
in chunks, a few in flight at a time (the next read ahead, two checked and scored, the
ones before written behind, on threads). Rows that break the spec go to a side file with
a reason each. Unlike training, a repeated id is not a
reason to reject: like the API, every row is assigned on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from training.artifact import load_artifact
from training.batch_columns import read_chunk
from training.batch_csv import Distinct
from training.batch_files import (
    AtomicWriter,
    RaggedRows,
    WriteBehind,
    check_paths,
    file_kind,
    sweep_partials,
)
from training.batch_read import ragged_table, read_chunks, with_ragged
from training.batch_threads import in_order, read_ahead
from training.campaigns import CampaignBook, utc_today
from training.data import (
    DataError,
)
from training.scoring import RECORD_FIELDS, Scorer, load_scorer
from training.spec import SegmentationSpec

__all__ = [
    "OUTPUT_COLUMNS",
    "AssignedChunk",
    "BatchResult",
    "assign_chunks",
    "assign_file",
    "assign_frame",
    "rejected_path",
]

CHUNK_ROWS = 100_000
WORKERS = 2  # chunks checked and scored at a time
# The assignment record after its id (the file names its id column), then the version.
OUTPUT_COLUMNS = (*RECORD_FIELDS[1:], "model_version")
Progress = Callable[[int, int], None]  # (done, total) in bytes (CSV) or rows (Parquet)


@dataclass
class BatchResult:
    """What one run did."""

    model_version: str
    output: Path
    rejected: Path
    rows_read: int = 0
    rows_assigned: int = 0
    rows_rejected: int = 0
    atypical: int = 0
    imputed: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # feature columns not in the file: missing in every row


def rejected_path(output: Path) -> Path:
    """Where the rejected rows of ``output`` go: ``<stem>.rejected.csv`` beside it."""
    return output.with_name(output.stem + ".rejected.csv")


def _assignments(
    columns: Mapping[str, Any],
    scorer: Scorer,
    names: list[str],
    version: str,
    keys: np.ndarray | None = None,
) -> tuple[dict[str, pa.Array], Distinct | None]:
    """Every row's answer columns (the record after its id, then the version).

    With ``keys`` (equal where the cluster cells are), each distinct customer is scored
    once and its answer taken to its rows: an answer depends on the row's own cells only
    (:mod:`training.scoring_models`), as a value's reading does in clean()."""
    distinct = None if keys is None or not len(keys) else _distinct(keys)
    if distinct is None:
        answers, once = scorer.assign(columns).arrow_columns(names), None
    else:
        first, where = distinct
        scored = scorer.assign({name: values[first] for name, values in columns.items()})
        distinct_answers = scored.arrow_columns(names)
        once, rows = Distinct(pa.table(distinct_answers), where), pa.array(where)
        answers = {name: column.take(rows) for name, column in distinct_answers.items()}
    n = len(answers["segment_id"])
    version_column = pa.array([version], pa.string()).take(np.zeros(n, np.int64))
    return answers | {"model_version": version_column}, once


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(a row of each distinct key, each row's distinct key), or None when most differ."""
    seen = np.zeros(int(keys.max()) + 1, dtype=bool)
    seen[keys] = True
    found = np.flatnonzero(seen)
    if len(found) > len(keys) // 2:
        return None
    slot = np.empty(len(seen), dtype=np.intp)
    slot[found] = np.arange(len(found))
    where = slot[keys]
    first = np.empty(len(found), dtype=np.intp)
    first[where] = np.arange(len(keys))  # any row of a key will do: its cells are the same
    return first, where


def assign_frame(
    frame: pd.DataFrame | pa.RecordBatch,
    spec: SegmentationSpec,
    scorer: Scorer,
    names: list[str],
    version: str,
    source_rows: np.ndarray,
    *,
    campaigns: CampaignBook | None = None,
    day: date | None = None,
) -> tuple[pa.Table, pa.Table, tuple[str, ...], Distinct | None]:
    """Check and assign rows of text columns: (assignments, rejected rows, absent columns,
    the distinct answers when the rows were scored once per distinct customer).

    An Arrow batch of text (a CSV chunk) is read as columns with clean()'s rules and
    words (:mod:`training.batch_columns`); a frame (Parquet, Dask) goes through clean().

    ``source_rows`` are the rows' numbers in their file; with ``campaigns``, a
    ``campaigns`` column for ``day`` (see :func:`assign_file`). The Dask engine calls this
    per Parquet partition, so both paths give the same answers.
    """
    ids, features, rejected, absent, keys = read_chunk(frame, spec, source_rows)
    answers, distinct = _assignments(features, scorer, names, version, keys)
    if campaigns is not None:  # a column of its own per row: no distinct answers then
        segments, texts = answers["segment_id"].to_pylist(), ids.to_pylist()
        arms = campaigns.column(segments, texts, day or utc_today())
        answers["campaigns"], distinct = pa.array(arms, pa.string()), None
    return pa.table({spec.id.name: ids, **answers}), rejected, absent, distinct


@dataclass(frozen=True)
class AssignedChunk:
    """One chunk's answers (None: only ragged rows left), its rejected rows, progress."""

    table: pa.Table | None
    rejected: pa.Table
    rows_read: int  # rows of the file so far, parsed and ragged
    done: int
    total: int
    absent: tuple[str, ...]
    distinct: Distinct | None = None  # the table's distinct answers (see _assignments)


def assign_chunks(
    path: Path,
    spec: SegmentationSpec,
    scorer: Scorer,
    names: list[str],
    version: str,
    *,
    chunk_rows: int = CHUNK_ROWS,
    campaigns: CampaignBook | None = None,
    day: date | None = None,
) -> Generator[AssignedChunk, None, None]:
    """Clean and assign a file chunk by chunk (:func:`assign_file`; a CSV on Dask).

    The next chunk is read while :data:`WORKERS` chunks are checked and scored on their own
    threads (Arrow and numpy let go of the GIL); the chunks come out in file order."""
    ragged = RaggedRows()
    last, columns, absent, parsed, done, total = 0, list[str](), tuple[str, ...](), 0, 0, 0
    jobs = _jobs(path, chunk_rows, ragged, spec, scorer, names, version, campaigns, day)
    for (table, rejected, absent, distinct), (
        columns,
        source_rows,
        parsed,
        done,
        total,
    ) in in_order(jobs, WORKERS):
        last = int(source_rows[-1]) if len(source_rows) else last  # the reader is further
        rejected = with_ragged(rejected, ragged.drain(upto=last), columns)
        rows = parsed + ragged.count(upto=last)
        yield AssignedChunk(table, rejected, rows, done, total, absent, distinct)
    if leftover := ragged.drain():  # ragged rows after the last parsed one
        rejected = ragged_table(leftover, columns)
        yield AssignedChunk(None, rejected, parsed + ragged.count(), done, total, absent)


_Context = tuple[list[str], np.ndarray, int, int, int]  # columns, rows, parsed, progress
_Rows = tuple[pa.Table, pa.Table, tuple[str, ...], Distinct | None]


def _jobs(
    path: Path,
    chunk_rows: int,
    ragged: RaggedRows,
    spec: SegmentationSpec,
    scorer: Scorer,
    names: list[str],
    version: str,
    campaigns: CampaignBook | None,
    day: date | None,
) -> Iterator[tuple[Callable[[], _Rows], _Context]]:
    """Per chunk read (ahead, on a thread), the call that assigns it and its context."""
    parsed = 0
    for frame, done, total in read_ahead(read_chunks(path, chunk_rows, ragged)):
        source_rows = ragged.source_rows(parsed + 1, len(frame))  # its ragged rows are in
        parsed += len(frame)
        header = frame.schema.names if isinstance(frame, pa.RecordBatch) else frame.columns
        call = partial(
            assign_frame, frame, spec, scorer, names, version, source_rows,
            campaigns=campaigns, day=day,
        )  # fmt: skip
        yield call, (list(map(str, header)), source_rows, parsed, done, total)


def _tally(result: BatchResult, counts: np.ndarray, table: pa.Table) -> None:
    """Add one chunk's answers to the run's counts (``counts``: rows per segment id)."""
    result.rows_assigned += table.num_rows
    result.atypical += pc.sum(table["atypical"], min_count=0).as_py()
    result.imputed += pc.sum(pc.not_equal(table["imputed"], ""), min_count=0).as_py()
    counts += np.bincount(table["segment_id"].to_numpy(), minlength=len(counts))


def assign_file(
    input_path: Path,
    output_path: Path,
    models_dir: Path,
    model_version: str | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Progress | None = None,
    campaigns: CampaignBook | None = None,
    day: date | None = None,
    overwrite: bool = False,
) -> BatchResult:
    """Assign every customer of ``input_path`` and write ``output_path`` (CSV or Parquet).

    Output: the id, then :data:`OUTPUT_COLUMNS`, then with ``campaigns`` a ``campaigns``
    column: ``name=arm`` of each campaign active on ``day`` (default: today, UTC) that
    targets the row's segment, joined with ``;`` (the arms of ``POST /assign``). Rejected
    rows (with ``source_row``, their raw values and a ``reason``) go to
    :func:`rejected_path` of the output. Neither may be the input; existing ones are
    replaced only with ``overwrite`` (:mod:`training.batch_files`).

    Raises
    ------
    ArtifactError
        When the model cannot be loaded or verified.
    DataError
        When the input cannot be read, lacks a column, or a file type is not supported.
    """
    file_kind(input_path, "input")
    if not input_path.is_file():
        raise DataError(f"data file not found: {input_path}")
    if output_path.is_dir():
        raise DataError(f"--output {output_path} is a folder: give a file name")
    check_paths(input_path, output_path, rejected_path(output_path), overwrite=overwrite)
    sweep_partials(output_path, rejected_path(output_path))
    writer = AtomicWriter(output_path)
    rejects = AtomicWriter(rejected_path(output_path))
    artifact = load_artifact(models_dir, model_version)
    scorer = load_scorer(artifact, one_row=False)  # chunks of many rows
    spec = artifact.spec
    names = artifact.profile.names_by_id
    if campaigns is not None:
        campaigns.check_targets(artifact.profile.segment_ids, artifact.version)
    result = BatchResult(artifact.version, output_path, rejects.path)
    counts = np.zeros(len(names), dtype=np.int64)
    day = day or utc_today()
    ok, behind = False, WriteBehind()
    chunks = assign_chunks(
        input_path, spec, scorer, names, artifact.version,
        chunk_rows=chunk_rows, campaigns=campaigns, day=day,
    )  # fmt: skip
    try:
        for chunk in chunks:
            behind.write(rejects, chunk.rejected)
            result.rows_read, result.absent = chunk.rows_read, chunk.absent
            result.rows_rejected += chunk.rejected.num_rows
            if (table := chunk.table) is None:
                continue
            behind.write(writer, table, chunk.distinct)
            _tally(result, counts, table)
            if on_progress is not None:
                on_progress(chunk.done, chunk.total)
        behind.finish()
        if not writer.started:
            raise DataError(f"{input_path}: no rows to assign")
        ok = True
    finally:
        chunks.close()  # its reading and scoring threads first: they write nothing
        behind.stop()
        try:
            writer.close(keep=ok)
        finally:
            rejects.close(keep=ok)
    result.segments = {s.name: int(counts[s.segment_id]) for s in artifact.profile.segments}
    return result
