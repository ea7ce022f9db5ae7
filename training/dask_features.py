"""Features from a transactions log on a Dask cluster: the one recipe, per customer partition.

The log (a glob of CSV / Parquet files, see :func:`training.dask_engine.plan_pieces`) is
read by the workers and cast to text by DuckDB as the recipe's own reader casts it, each
line numbered in its file; then shuffled on the trimmed customer id, so all of a customer's
lines meet in one partition; then :func:`training.features.compute_features` runs on each
partition as it runs on a whole file. A customer's features depend only on that customer's
lines and ``as_of``, so the partitions' features put together are the single-machine
path's, value for value (tested).

``as_of`` defaults to the day after the last usable line of the whole log: each partition
first computes with its own default; the latest of those is the log's, and only the
partitions whose own default differs are computed again with it.

The features (one row per customer) are gathered on the client: training needs them there,
and ``segments features --engine dask`` scores them (RFM quintiles over all customers) and
writes them as a dataset. The log itself never passes through the client.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from training.dask_engine import (
    ROWS_PER_PARTITION,
    AtomicDataset,
    EngineError,
    Piece,
    expand_inputs,
    part_name,
    plan_pieces,
    write_part,
)
from training.data import CSV_SUFFIXES, DataError
from training.features import (
    FeatureResult,
    NoUsableLinesError,
    compute_features,
    reason_examples,
)
from training.recipe import TransactionsSpec
from training.transactions_source import (
    LINE_COLUMN,
    check_header,
    file_scan,
    map_columns,
    read_error,
)

if TYPE_CHECKING:
    import duckdb
    from distributed import Client

__all__ = [
    "FEATURES",
    "FILE_LINES",
    "REJECTED",
    "SOURCE_FILE",
    "dask_features",
    "with_source_files",
    "write_dataset",
]

KEY = "__customer_key"
FILE_LINES = 10**12  # a line's number carries its file: file index x FILE_LINES + line
SOURCE_FILE = "source_file"
FEATURES = "features"
REJECTED = "rejected"


def _duckdb() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(config={"threads": 1})  # one task per worker thread
    con.sql("SET TimeZone = 'UTC'")  # as training.features reads zoned timestamps
    return con


def _text(table: pa.Table, columns: list[str]) -> pa.Table:
    """``columns`` of ``table`` as DuckDB casts them to text (what the recipe sees)."""
    con = _duckdb()
    try:
        con.register("piece", table)
        cast = ", ".join(f'CAST("{c.replace(chr(34), chr(34) * 2)}" AS VARCHAR)' for c in columns)
        return con.sql(f"SELECT {cast} FROM piece").fetch_arrow_table().rename_columns(columns)
    finally:
        con.close()


def _read(piece: Piece, file_index: int, *, columns: list[str], id_column: str) -> pd.DataFrame:
    """One piece's mapped columns as text, its lines numbered, and the shuffle key.

    Raises
    ------
    DataError
        When the file cannot be read or lacks a column of the first file's mapping.
    """
    import duckdb

    try:
        text = _text(_table(piece, columns).select(columns), columns)
    except (OSError, ValueError, KeyError, duckdb.Error) as exc:
        reason = str(exc.args[0] if exc.args else type(exc).__name__).splitlines()[0]
        raise DataError(f"cannot read {piece.path}: {reason}") from None
    frame: pd.DataFrame = text.to_pandas(types_mapper=_as_string)
    start = file_index * FILE_LINES + piece.first_row
    frame.insert(0, LINE_COLUMN, range(start, start + len(frame)))
    # The id as the recipe sees it (trimmed; blank = missing), so one customer's lines
    # always meet. Python's strip() trims more than SQL's trim(): coarser keys are safe.
    frame[KEY] = frame[id_column].fillna("").str.strip()
    return frame


def _table(piece: Piece, columns: list[str]) -> pa.Table:
    if Path(piece.path).suffix.lower() not in CSV_SUFFIXES:
        return pq.ParquetFile(piece.path).read_row_groups(list(piece.row_groups), columns=columns)
    con = _duckdb()
    try:
        return con.sql(f"SELECT * FROM {file_scan(Path(piece.path))}").fetch_arrow_table()
    finally:
        con.close()


def _as_string(_: pa.DataType) -> pd.StringDtype:
    return pd.StringDtype()


def _partition(
    frame: pd.DataFrame, spec: TransactionsSpec, id_name: str, as_of: date | None, monthly: bool
) -> FeatureResult | None:
    """The recipe on one partition's lines; ``None`` when it has no line, or (as_of not yet
    known) no usable line."""
    if frame.empty:
        return None
    lines = frame.drop(columns=KEY).sort_values(LINE_COLUMN)
    table = pa.Table.from_pandas(lines, preserve_index=False)
    try:
        return compute_features(
            table, spec, id_name=id_name, as_of=as_of, monthly=monthly, partition=True
        )
    except NoUsableLinesError:
        return None


def _concat(frames: list[pd.DataFrame], by: str | list[str]) -> pd.DataFrame:
    """Partitions' frames put together, sorted as the recipe sorts them; empty ones left
    out (their dtypes are DuckDB's for no rows)."""
    kept = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(kept, ignore_index=True).sort_values(by, ignore_index=True, kind="stable")


def _merge(parts: list[FeatureResult], id_name: str) -> FeatureResult:
    """The partitions' results as one: what the recipe gives on the whole log."""
    first = parts[0]
    rejected = _concat([p.rejected for p in parts], LINE_COLUMN)
    monthly = None
    if first.monthly is not None:
        months = [p.monthly for p in parts if p.monthly is not None]
        monthly = _concat(months, [id_name, "month"])  # in no set order from the recipe
    return replace(
        first,
        features=_concat([p.features for p in parts], id_name),
        rejected=rejected,
        lines_read=sum(p.lines_read for p in parts),
        lines_after_as_of=sum(p.lines_after_as_of for p in parts),
        customers_without_purchase=sum(p.customers_without_purchase for p in parts),
        examples=reason_examples(rejected, first.mapping),
        monthly=monthly,
    )


def _header(path: Path, spec: TransactionsSpec) -> list[str]:
    import duckdb

    con = _duckdb()
    try:
        check_header(con, path, spec)
        rows = con.sql(f"DESCRIBE SELECT * FROM {file_scan(path)}").fetchall()
    except duckdb.Error as exc:
        raise read_error(exc, path) from None
    finally:
        con.close()
    return [str(row[0]) for row in rows]


def with_source_files(rejected: pd.DataFrame, paths: list[Path]) -> pd.DataFrame:
    """Rejected lines with their file's name and their line number in that file."""
    files, lines = divmod(rejected[LINE_COLUMN].to_numpy(), FILE_LINES)
    out = rejected.assign(**{LINE_COLUMN: lines})
    out.insert(0, SOURCE_FILE, [paths[i].name for i in files])
    return out


def dask_features(
    pattern: str,
    spec: TransactionsSpec,
    client: Client,
    *,
    id_name: str = "customer_id",
    as_of: date | None = None,
    monthly: bool = False,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> FeatureResult:
    """The features of every customer of the logs ``pattern`` matches, computed on ``client``.

    The same result as :func:`training.features.compute_features` on one file. With several
    files, a rejected line's ``line`` is ``file index x FILE_LINES + line in that file``
    (files in name order): :func:`with_source_files` splits it.

    Raises
    ------
    DataError
        When nothing matches or a file cannot be read.
    TransactionsError
        When the first file lacks a required column, or no line is usable.
    """
    import dask.dataframe as dd

    paths = expand_inputs(pattern)
    mapping = map_columns(_header(paths[0], spec), spec)
    columns = list(dict.fromkeys(mapping.values()))
    pieces = plan_pieces(paths, rows_per_partition)
    index = {str(p): i for i, p in enumerate(paths)}
    meta = pd.DataFrame(
        {LINE_COLUMN: pd.Series(dtype="int64")}
        | {c: pd.Series(dtype="string") for c in columns}
        | {KEY: pd.Series(dtype="string")}
    )
    read = partial(_read, columns=columns, id_column=mapping["customer_id"])
    lines = dd.from_map(read, pieces, [index[p.path] for p in pieces], meta=meta)
    shuffled = client.compute(lines.shuffle(on=KEY, npartitions=len(pieces)).to_delayed())
    try:
        parts = [r for r in _run(client, shuffled, spec, id_name, as_of, monthly) if r]
        if not any(p.lines_read > p.lines_rejected for p in parts):
            total = sum(client.gather(client.map(len, shuffled)))
            raise NoUsableLinesError(f"no usable transaction line in {pattern}: {total} lines read")
    except DataError:
        raise
    except Exception as exc:  # KilledWorker, CommClosedError...: one line, not a traceback
        raise EngineError(f"the Dask job failed: {type(exc).__name__}: {exc}") from None
    finally:
        client.cancel(shuffled)
    return _merge(parts, id_name)


def _run(
    client: Client,
    frames: list[Any],
    spec: TransactionsSpec,
    id_name: str,
    as_of: date | None,
    monthly: bool,
) -> list[FeatureResult | None]:
    """The recipe on every partition with one ``as_of`` for all."""

    def run(chosen: list[Any], day: date | None) -> list[FeatureResult | None]:
        futures = [
            client.submit(_partition, f, spec, id_name, day, monthly, pure=False) for f in chosen
        ]
        return list(client.gather(futures))

    results = run(frames, as_of)
    if as_of is not None:
        return results
    days = [r.as_of for r in results if r is not None]
    if not days:
        return results
    log_as_of = max(days)
    again = [i for i, r in enumerate(results) if r is None or r.as_of != log_as_of]
    for i, result in zip(again, run([frames[i] for i in again], log_as_of), strict=True):
        results[i] = result
    return results


def write_dataset(
    table: pd.DataFrame,
    rejected: pd.DataFrame,
    dataset: AtomicDataset,
    rows_per_part: int = ROWS_PER_PARTITION,
) -> None:
    """Write the customer table and the rejected lines into ``dataset``, then commit it.

    ``features/part-*.parquet``: ``table`` in its order (sorted by id), ``rows_per_part``
    rows a file; ``rejected/part-00000.parquet``: the rejected lines, when there are any.
    """
    names = []
    (dataset.tmp / FEATURES).mkdir()
    for number, start in enumerate(range(0, max(len(table), 1), rows_per_part)):
        chunk = table.iloc[start : start + rows_per_part]
        names.append(part_name(FEATURES, number))
        write_part(pa.Table.from_pandas(chunk, preserve_index=False), dataset.tmp / names[-1])
    if len(rejected):
        (dataset.tmp / REJECTED).mkdir()
        names.append(part_name(REJECTED, 0))
        write_part(pa.Table.from_pandas(rejected, preserve_index=False), dataset.tmp / names[-1])
    dataset.commit(names)
