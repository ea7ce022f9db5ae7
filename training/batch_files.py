"""The files of a batch run: never the input, never an existing file unasked, no leftovers.

- The output and its rejected-rows file must not be the input (the input is never written).
- An existing output or rejected-rows file is replaced only with ``overwrite``.
- Each run writes ``.<name>.partial-<pid>`` files and renames them into place at the end;
  a run killed without its clean-up (kill -9, power loss) leaves them: the next run in the
  folder removes those whose process is gone.
- Ragged CSV rows (too few or too many fields) are not a reason to stop: pyarrow hands
  them to :class:`RaggedRows`, which numbers them in the file and gives them a reason.
- :class:`AtomicWriter` writes a file under its partial name and renames it into place
  once complete and on disk; :class:`WriteBehind` does the writing on background threads.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from training.batch_csv import Distinct, keyed_csv
from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES, DataError

__all__ = [
    "AtomicWriter",
    "RaggedRows",
    "WriteBehind",
    "check_paths",
    "file_kind",
    "partial_path",
    "sweep_partials",
]

PARTIAL = ".partial-"


def file_kind(path: Path, what: str) -> str:
    """The kind of ``path`` from its suffix, csv or parquet (``what``: its role, in errors)."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise DataError(
        f"unsupported {what} file type {suffix or '(none)'!r} for {path}: use .csv or .parquet"
    )


def partial_path(path: Path, pid: int | None = None) -> Path:
    """Where a run writes ``path`` until it is complete."""
    return path.with_name(f".{path.name}{PARTIAL}{os.getpid() if pid is None else pid}")


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def check_paths(source: Path, output: Path, rejected: Path, *, overwrite: bool) -> None:
    """Refuse outputs that are the input, and existing outputs without ``overwrite``."""
    if _same(output, source):
        raise DataError(f"--output {output} is the input file: choose another --output")
    if _same(rejected, source):
        raise DataError(
            f"--output {output} would write its rejected rows to {rejected}, the input "
            "file: choose another --output"
        )
    existing = [str(path) for path in (output, rejected) if path.exists()]
    if existing and not overwrite:
        raise DataError(f"{' and '.join(existing)} already exists: pass --overwrite to replace")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_partials(*paths: Path) -> list[Path]:
    """Remove the partial files of ``paths`` left by runs whose process is gone."""
    removed = []
    for path in paths:
        if not path.parent.is_dir():
            continue
        for stale in path.parent.glob(f".{path.name}{PARTIAL}*"):
            pid = stale.name.rsplit(PARTIAL, 1)[1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                stale.unlink(missing_ok=True)
                removed.append(stale)
    return removed


@dataclass
class RaggedRows:
    """pyarrow's ``invalid_row_handler``: skip a ragged row, remember where and why.

    pyarrow numbers rows from 1 with the header as row 1 (with ``use_threads=False``), so a
    data row's number in the file (``source_row``) is that number - 1. The reader may run
    ahead on another thread (:func:`training.batch.assign_chunks`), hence the lock.
    """

    rows: list[int] = field(default_factory=list)  # every ragged data row seen, sorted
    pending: list[tuple[int, str]] = field(default_factory=list)  # not yet written
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __call__(self, row: Any) -> str:
        number = (row.number or 1) - 1
        reason = f"row has {row.actual_columns} fields, expected {row.expected_columns}"
        with self.lock:
            self.rows.insert(bisect.bisect(self.rows, number), number)
            bisect.insort(self.pending, (number, reason), key=_number)
        return "skip"

    def source_rows(self, first: int, n: int) -> np.ndarray:
        """File row numbers of parsed rows ``first .. first + n - 1`` (1-based, parsed only).

        The q-th parsed row is row q + (ragged rows before it); with ragged rows s_0 < s_1
        < ..., that count is how many s_j - j are <= q.
        """
        parsed = np.arange(first, first + n, dtype=np.int64)
        with self.lock:
            ragged = np.asarray(self.rows, dtype=np.int64)
        shifted = ragged - np.arange(len(ragged))
        return parsed + np.searchsorted(shifted, parsed, side="right")

    def count(self, upto: int | None = None) -> int:
        """How many ragged rows were seen (those up to row ``upto``, if given)."""
        with self.lock:
            return len(self.rows) if upto is None else bisect.bisect(self.rows, upto)

    def drain(self, upto: int | None = None) -> list[tuple[int, str]]:
        """The ragged rows not drained yet (those up to row ``upto``, if given), in order."""
        with self.lock:
            cut = (
                len(self.pending)
                if upto is None
                else bisect.bisect(self.pending, upto, key=_number)
            )
            drained, self.pending = self.pending[:cut], self.pending[cut:]
        return drained


def _number(ragged: tuple[int, str]) -> int:
    return ragged[0]


def _sync(path: Path, sync: Callable[[int], None]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        sync(fd)
    finally:
        os.close(fd)


Encoded = tuple[pa.Schema, pa.Buffer | pa.Table]


class AtomicWriter:
    """Write tables to :func:`partial_path`, then rename it into place on success.

    A table is first encoded (:meth:`encode`: CSV text, on any thread), then appended in
    order (:meth:`append`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = file_kind(path, "output")
        self.tmp = partial_path(path)
        self._file: pa.NativeFile | None = None
        self._parquet: pq.ParquetWriter | None = None

    @property
    def started(self) -> bool:
        return self._file is not None or self._parquet is not None

    def encode(self, table: pa.Table, distinct: Distinct | None = None) -> Encoded:
        """The table as this file's kind has it (``distinct``: see :func:`keyed_csv`)."""
        if self.kind == "parquet":
            return table.schema, table
        if distinct is not None and (text := keyed_csv(table, *distinct)) is not None:
            return table.schema, text
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
        return table.schema, sink.getvalue()

    def append(self, encoded: Encoded) -> None:
        schema, payload = encoded
        if not self.started:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.kind == "parquet":
                self._parquet = pq.ParquetWriter(self.tmp, schema)
            else:
                self._file = pa.OSFile(str(self.tmp), "wb")
                pacsv.write_csv(schema.empty_table(), self._file)  # the header line
        if isinstance(payload, pa.Table):
            assert self._parquet is not None
            self._parquet.write_table(payload)
        else:
            assert self._file is not None
            self._file.write(payload)

    def write(self, table: pa.Table) -> None:
        self.append(self.encode(table))

    def close(self, *, keep: bool) -> None:
        """Close; with ``keep``, fsync and rename into place, else (or on failure) remove."""
        try:
            for writer in (self._file, self._parquet):
                if writer is not None:
                    writer.close()
            if keep:
                _sync(self.tmp, os.fsync)
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)


class WriteBehind:
    """Writes on background threads, at most ``depth`` tables behind, in order.

    Arrow encodes CSV without the GIL, so two threads encode while the caller reads and
    scores the next chunk; one appends the encoded tables in order, and one flushes each
    file to disk as it grows (mostly waiting for the disk), so that the fsync before the
    rename has little left. The first error is raised by the next :meth:`write` or by
    :meth:`finish`."""

    def __init__(self, depth: int = 2, encoders: int = 2) -> None:
        self.depth = depth
        self._encoders = ThreadPoolExecutor(encoders, thread_name_prefix="segments-encode")
        self._appender = ThreadPoolExecutor(1, thread_name_prefix="segments-write")
        self._flusher = ThreadPoolExecutor(1, thread_name_prefix="segments-sync")
        self._pending: deque[Future[None]] = deque()
        self._flushes: deque[Future[None]] = deque()

    def write(
        self, writer: AtomicWriter, table: pa.Table, distinct: Distinct | None = None
    ) -> None:
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        encoded = self._encoders.submit(writer.encode, table, distinct)
        self._pending.append(self._appender.submit(self._append, writer, encoded))

    def _append(self, writer: AtomicWriter, encoded: Future[Encoded]) -> None:
        writer.append(encoded.result())
        self._flushes.append(self._flusher.submit(_sync, writer.tmp, os.fdatasync))

    def finish(self) -> None:
        """Wait for every write and flush; raise the first error."""
        for pending in (self._pending, self._flushes):
            while pending:
                pending.popleft().result()

    def stop(self) -> None:
        """Drop the writes not started, wait for those running (errors are not raised)."""
        for pool in (self._encoders, self._appender, self._flusher):
            pool.shutdown(wait=True, cancel_futures=True)
