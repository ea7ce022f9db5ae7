"""The batch run's threads keep order, keep few chunks in flight and raise their errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from training.batch_threads import in_order, read_ahead


def _squares(n: int, taken: list[int]) -> Iterator[tuple[Callable[[], int], int]]:
    for i in range(n):
        taken.append(i)
        yield (lambda i=i: time.sleep(0.002 * (4 - i % 4)) or i * i), i  # later ones faster


def test_in_order_keeps_order_and_few_jobs_in_flight() -> None:
    taken: list[int] = []
    seen: list[tuple[int, int]] = []
    for result, i in in_order(_squares(20, taken), 2):
        assert len(taken) - len(seen) <= 3  # two running, one waiting its turn
        seen.append((result, i))
    assert seen == [(i * i, i) for i in range(20)]


def test_in_order_raises_a_jobs_error_and_takes_no_more() -> None:
    def jobs() -> Iterator[tuple[Callable[[], int], int]]:
        for i in range(100):
            yield (lambda: 1 // 0) if i == 3 else (lambda i=i: i), i

    taken = jobs()
    with pytest.raises(ZeroDivisionError):
        list(in_order(taken, 2))
    assert next(taken, None) is None  # closed


def test_read_ahead_reads_one_ahead_and_raises_the_readers_error() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for i in range(5):
            taken.append(i)
            yield i
        raise OSError("disk gone")

    seen: list[int] = []

    def consume() -> None:
        for item in read_ahead(items()):
            time.sleep(0.005)  # the next one is read meanwhile, no further
            assert len(taken) <= len(seen) + 2
            seen.append(item)

    with pytest.raises(OSError, match="disk gone"):
        consume()
    assert seen == [0, 1, 2, 3, 4]
