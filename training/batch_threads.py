"""The threads of a batch run: the next chunk read ahead, chunks worked on in order.

pyarrow parses, computes and writes without holding the GIL, and so do numpy's whole-array
operations: a file's chunks can be read, checked and scored, and written at the same time
on more than one core. Both helpers keep a fixed number of chunks in flight (memory stays
flat in the file's size), hand results on in order, and raise a worker's error in the
caller; closing them stops their threads (a running step finishes first).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

__all__ = ["in_order", "read_ahead"]

_T = TypeVar("_T")
_R = TypeVar("_R")
_C = TypeVar("_C")


def _close(items: Iterator[object]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()


def read_ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """``items``, the next one read on another thread while the caller works on this one."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segments-read")
    end = object()
    try:
        ahead = pool.submit(next, items, end)
        while (item := ahead.result()) is not end:
            ahead = pool.submit(next, items, end)
            yield cast(_T, item)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _close(items)


def in_order(
    jobs: Iterator[tuple[Callable[[], _R], _C]], workers: int
) -> Generator[tuple[_R, _C], None, None]:
    """Each job's result and context, in order, ``workers`` jobs running at a time."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="segments-work")
    pending: deque[tuple[Future[_R], _C]] = deque()
    try:
        for call, context in jobs:
            pending.append((pool.submit(call), context))
            if len(pending) > workers:
                future, done = pending.popleft()
                yield future.result(), done
        while pending:
            future, done = pending.popleft()
            yield future.result(), done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _close(jobs)
