"""Reading a batch file in chunks: CSV as Arrow text columns (ragged rows numbered and set
aside with their reason), Parquet as text like training's ``load_table``."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from training.batch_files import RaggedRows, file_kind
from training.data import REASON_COLUMN, ROW_COLUMN, DataError, as_text

__all__ = ["ragged_table", "read_chunks", "with_ragged"]


def _block_size(path: Path, chunk_rows: int) -> int:
    """Bytes per CSV block for about ``chunk_rows`` rows, from the first 64 KiB."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    row_bytes = len(head) / max(head.count(b"\n"), 1)
    return int(min(max(row_bytes * chunk_rows, 1 << 20), 256 << 20))


def read_chunks(
    path: Path, chunk_rows: int, ragged: RaggedRows
) -> Iterator[tuple[pd.DataFrame | pa.RecordBatch, int, int]]:
    """Yield (chunk as text columns, progress done, progress total); ragged rows to ``ragged``.

    A CSV chunk stays an Arrow batch (of strings) for
    :func:`training.batch_columns.read_chunk`."""
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        if file_kind(path, "input") == "parquet":
            parquet = pq.ParquetFile(path)
            total, done = parquet.metadata.num_rows, 0
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                done += batch.num_rows
                yield as_text(batch), done, total  # as training's load_table
            return
        with path.open(newline="") as handle:
            header = next(csv.reader(handle), [])
        total = path.stat().st_size
        with path.open("rb") as source:
            reader = pacsv.open_csv(
                source,
                # One thread: pyarrow numbers the ragged rows only then.
                read_options=pacsv.ReadOptions(
                    block_size=_block_size(path, chunk_rows), use_threads=False
                ),
                parse_options=pacsv.ParseOptions(invalid_row_handler=ragged),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header}
                ),
            )
            for batch in reader:
                yield batch, source.tell(), total
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {path}: {reason}") from None


def ragged_table(ragged: list[tuple[int, str]], columns: list[str]) -> pa.Table:
    """Ragged rows as rejected rows: their number and reason (no values: none parsed)."""
    return pa.table(
        {
            ROW_COLUMN: pa.array([row for row, _ in ragged], pa.int64()),
            **{column: pa.nulls(len(ragged), pa.string()) for column in columns},
            REASON_COLUMN: pa.array([reason for _, reason in ragged], pa.string()),
        }
    )


def with_ragged(rejected: pa.Table, ragged: list[tuple[int, str]], columns: list[str]) -> pa.Table:
    """The chunk's rejected rows and the ragged rows pyarrow skipped, by row number."""
    if not ragged:
        return rejected
    both = pa.concat_tables([rejected, ragged_table(ragged, columns)])
    return both.take(pc.sort_indices(both[ROW_COLUMN]))  # a stable sort
