"""The files of a batch run: never the input, never an existing file unasked, no leftovers.

- The output and its rejected-rows file must not be the input (the input is never written).
- An existing output or rejected-rows file is replaced only with ``overwrite``.
- Each run writes ``.<name>.partial-<pid>`` files and renames them into place at the end;
  a run killed without its clean-up (kill -9, power loss) leaves them: the next run in the
  folder removes those whose process is gone.
- Ragged CSV rows (too few or too many fields) are not a reason to stop: pyarrow hands
  them to :class:`RaggedRows`, which numbers them in the file and gives them a reason.
"""

from __future__ import annotations

import bisect
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from training.data import DataError

__all__ = ["RaggedRows", "check_paths", "partial_path", "sweep_partials"]

PARTIAL = ".partial-"


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
