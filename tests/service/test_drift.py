"""service/drift.py: time buckets, the sliding window, rings shared through files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.drift import COUNT, FIRST_SEGMENT, DriftBook, DriftLayout

LAYOUT = DriftLayout(segment_ids=(0, 3, 7), features=("income",))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_020.0  # a bucket boundary (a multiple of 60 s)

    def __call__(self) -> float:
        return self.now


def _book(clock: Clock, directory: Path | None = None, **options: float) -> DriftBook:
    values = {"window_size": 10, "min_seconds": 0.0, "bucket_seconds": 60.0, "max_seconds": 600.0}
    return DriftBook(**(values | options), directory=directory, clock=clock)  # type: ignore[arg-type]


def _record(book: DriftBook, segments: list[int], incomes: list[float | None]) -> None:
    recorder = book.recorder("v1", LAYOUT)
    atypical = np.zeros(len(segments), dtype=bool)
    recorder.record(np.array(segments), atypical, {"income": incomes})


def test_window_sums_counts_and_feature_sums() -> None:
    clock = Clock()
    book = _book(clock)
    _record(book, [0, 7, 7], [10.0, None, 30.0])
    window = book.window("v1", LAYOUT)
    start = FIRST_SEGMENT + 3
    assert window.assignments == 3
    assert window.totals[FIRST_SEGMENT:start].tolist() == [1, 0, 2]
    assert window.totals[start : start + 3].tolist() == [2, 40.0, 1000.0]  # present, sum, sum sq
    assert window.workers == 1


def test_window_takes_newest_buckets_until_it_holds_window_size() -> None:
    clock = Clock()
    book = _book(clock)
    for segments in ([0] * 6, [3] * 6, [7] * 6):  # three buckets, oldest first
        _record(book, segments, [1.0] * 6)
        clock.now += 60
    window = book.window("v1", LAYOUT)
    assert window.totals[FIRST_SEGMENT : FIRST_SEGMENT + 3].tolist() == [0, 6, 6]
    assert window.seconds == pytest.approx(120.0)


def test_window_keeps_at_least_min_seconds() -> None:
    clock = Clock()
    book = _book(clock, min_seconds=200.0)
    for _ in range(3):
        _record(book, [0] * 6, [1.0] * 6)
        clock.now += 60
    assert book.window("v1", LAYOUT).assignments == 18


def test_window_forgets_buckets_older_than_max_seconds() -> None:
    clock = Clock()
    book = _book(clock, min_seconds=10_000.0)
    _record(book, [0] * 4, [1.0] * 4)
    clock.now += 660
    _record(book, [3], [1.0])
    assert book.window("v1", LAYOUT).totals[COUNT] == 1


def test_rings_in_files_survive_a_new_recorder_and_sum(tmp_path: Path) -> None:
    clock = Clock()
    book = _book(clock, directory=tmp_path)
    _record(book, [0, 3], [5.0, 7.0])
    _record(book, [3], [9.0])  # a reload of the same version: same ring, counts go on
    (tmp_path / "drift" / "v1" / "99.ring").write_bytes(b"\0" * 12)  # a torn file: ignored
    window = _book(clock, directory=tmp_path).window("v1", LAYOUT)  # another reader
    assert window.totals[FIRST_SEGMENT : FIRST_SEGMENT + 3].tolist() == [1, 2, 0]
    assert window.workers == 1
    assert _book(clock, directory=tmp_path).window("v2", LAYOUT).assignments == 0
