"""The Dask engine: a cluster to run on, partitioned inputs, and datasets written atomically.

What every command's ``--engine dask`` path shares (batch assignment in
:mod:`training.dask_assign`, the final fit in :mod:`training.dask_train`; features from
transactions will reuse :func:`read_pieces` and :class:`AtomicDataset` the same way):

- :func:`connect`: a ``distributed.Client`` to ``--scheduler tcp://...``, or a
  ``LocalCluster`` sized to the machine (one single-threaded worker process per core).
- :func:`plan_pieces`: a glob of CSV / Parquet files cut into partitions that know their
  file and first row number, so a rejected row is reported as ``file``, ``row`` exactly as
  the single-process path reports it. A CSV file is one partition; a Parquet file is cut at
  row-group boundaries into partitions of about ``rows_per_partition`` rows.
- :class:`AtomicDataset`, :func:`write_part`, :func:`run_partitions`: each partition's
  task writes its own file(s) into a temporary folder beside the output, renamed into
  place as a whole at the end; a failed run leaves nothing at the output.

Features from transactions plug in the same way: read the log with ``dd.read_parquet``,
``shuffle`` on the customer id (a customer's rows in one partition), then
``map_partitions`` with the one recipe writing each partition's features by
:func:`write_part`, then :meth:`AtomicDataset.commit`.

Dask is an optional extra (``pip install .[dask]``): this module imports it inside its
functions only, so ``segments --help`` and the service never load it.
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES, DataError, as_text

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "AtomicDataset",
    "Piece",
    "connect",
    "expand_inputs",
    "part_name",
    "plan_pieces",
    "read_piece",
    "run_partitions",
    "write_part",
]

ROWS_PER_PARTITION = 500_000
Progress = Callable[[int, int], None]  # (partitions done, partitions in all)


class EngineError(RuntimeError):
    """The cluster cannot be reached or a distributed job failed."""


def require_dask() -> None:
    """Fail in one line when the optional extra is not installed."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise EngineError(
            "--engine dask needs the dask extra: pip install 'customer-segments[dask]'"
        ) from None


@contextmanager
def connect(
    scheduler: str | None, *, on_dashboard: Callable[[str], None] | None = None
) -> Iterator[Client]:
    """A client to ``scheduler`` (``tcp://host:8786``), else to a local cluster for this machine.

    The local cluster runs one worker process per core with one thread each (the scorer and
    cleaning are numpy / pandas work that holds the GIL) and splits the memory between them.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            _announce(client, on_dashboard)
            yield client
        return
    workers = len(os.sched_getaffinity(0))  # the cores this process may use, not the host's
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        _announce(client, on_dashboard)
        yield client


def _announce(client: Client, on_dashboard: Callable[[str], None] | None) -> None:
    if on_dashboard is not None and client.dashboard_link:
        on_dashboard(client.dashboard_link)


def expand_inputs(pattern: str) -> list[Path]:
    """The files a glob names, sorted (the order of the output's partitions).

    A folder stands for the .csv / .parquet files in it (a Parquet dataset's marker and
    metadata files are left out).

    Raises
    ------
    DataError
        When nothing matches, or a match is not a .csv / .parquet file.
    """
    folder = Path(os.path.expanduser(pattern))
    if folder.is_dir():
        suffixes = CSV_SUFFIXES | PARQUET_SUFFIXES
        paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    else:
        paths = sorted(Path(p) for p in glob.glob(str(folder)) if Path(p).is_file())
    if not paths:
        raise DataError(f"no input file matches {pattern!r}")
    for path in paths:
        if path.suffix.lower() not in CSV_SUFFIXES | PARQUET_SUFFIXES:
            raise DataError(
                f"unsupported input file type {path.suffix or '(none)'!r} for {path}: "
                "use .csv or .parquet"
            )
    return paths


@dataclass(frozen=True)
class Piece:
    """One partition: rows of one file (all of a CSV, some row groups of a Parquet file)."""

    path: str
    first_row: int  # 1-based number of the partition's first row in its file
    row_groups: tuple[int, ...] = ()  # Parquet only; empty for CSV (the whole file)


def plan_pieces(paths: Sequence[Path], rows_per_partition: int = ROWS_PER_PARTITION) -> list[Piece]:
    """Cut files into partitions; Parquet at row-group boundaries, from its footer only."""
    pieces: list[Piece] = []
    for path in paths:
        if path.suffix.lower() in CSV_SUFFIXES:
            pieces.append(Piece(str(path), 1))
            continue
        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        first, groups, rows = 1, [], 0
        for group in range(meta.num_row_groups):
            groups.append(group)
            rows += meta.row_group(group).num_rows
            if rows >= rows_per_partition or group == meta.num_row_groups - 1:
                pieces.append(Piece(str(path), first, tuple(groups)))
                first, groups, rows = first + rows, [], 0
    return pieces


def read_piece(piece: Piece) -> pd.DataFrame:
    """A Parquet piece's rows as text columns, as the single-process reader gives them.

    Raises
    ------
    DataError
        When the file cannot be read.
    """
    path = Path(piece.path)
    try:
        table = pq.ParquetFile(path).read_row_groups(list(piece.row_groups))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    return as_text(table)


class AtomicDataset:
    """A folder written partition by partition, that appears at ``path`` whole or not at all.

    Partitions go to ``.<name>.partial-<id>/`` beside ``path`` (the same file system, so the
    final rename is atomic); :meth:`commit` renames it into place, :meth:`abort` removes it.
    Workers write into :attr:`tmp`, so with a remote cluster it must be on storage they share.
    """

    def __init__(self, path: Path) -> None:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise DataError(
                f"--output {path} already exists: give a new folder (a dataset is never "
                "written over another)"
            )
        self.path = path
        self.tmp = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:12]}")

    def __enter__(self) -> AtomicDataset:
        self.tmp.mkdir(parents=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            self.abort()

    def commit(self, expected: Sequence[str]) -> None:
        """Keep only ``expected`` files (relative paths: leftovers of killed attempts go),
        fsync them, then rename the folder into place."""
        keep = {self.tmp / name for name in expected}
        for path in sorted(self.tmp.rglob("*"), reverse=True):
            if path.is_file() and path not in keep:
                path.unlink()
        for path in keep:
            if not path.is_file():
                raise EngineError(f"partition file {path.name} is missing after the run")
            _fsync(path)
        if self.path.is_dir():
            self.path.rmdir()  # empty: checked in __init__
        os.replace(self.tmp, self.path)
        _fsync(self.path.parent)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def part_name(kind: str, number: int) -> str:
    """The relative path of partition ``number`` of the dataset ``kind`` in an output."""
    return f"{kind}/part-{number:05d}.parquet"


def write_part(table: pa.Table, path: Path) -> None:
    """Write one partition's file (on a worker); a retried task writes it again, whole."""
    # A killed attempt leaves at most a uniquely named temporary file, never a bad part;
    # AtomicDataset.commit removes such leftovers.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_partitions(
    client: Client, collection: Any, on_progress: Progress | None = None
) -> list[Any]:
    """Compute a Dask collection partition by partition; results in partition order.

    Progress is reported as partitions finish. A worker lost mid-run has its tasks re-run
    on another (``distributed.scheduler.allowed-failures``); a task that fails, or keeps
    killing its workers, fails the whole run with :class:`EngineError`, the first error's
    message kept when it is one of ours.
    """
    from distributed import as_completed

    futures = client.compute(collection.to_delayed())
    order = {future.key: i for i, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            results[order[future.key]] = future.result()
            if on_progress is not None:
                on_progress(done, len(futures))
    except DataError:
        raise
    except Exception as exc:  # KilledWorker, CommClosedError...: one line, not a traceback
        raise EngineError(f"the Dask job failed: {type(exc).__name__}: {exc}") from None
    finally:
        client.cancel(futures)
    return results
