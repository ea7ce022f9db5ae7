"""Access lines wait one event-loop turn, then are written together, in order."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from service.access_log import ACCESS_LOGGER, AccessLog


def test_lines_wait_one_loop_turn_and_keep_order_and_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def two_requests() -> tuple[int, float]:
        log = AccessLog()
        log.add("POST", "/assign", 200, 0.0012, "v1")
        ended = time.time()
        log.add("GET", "/segments/{segment_id}", 404, 0.0003, None)
        written = sum(r.name == ACCESS_LOGGER for r in caplog.records)
        await asyncio.sleep(0)  # the loop's next turn
        return written, ended

    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        before, ended = asyncio.run(two_requests())
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert before == 0
    assert [r.getMessage() for r in lines] == [
        "POST /assign 200 1.2 ms",
        "GET /segments/{segment_id} 404 0.3 ms",
    ]
    assert [(r.status, r.model_version) for r in lines] == [(200, "v1"), (404, None)]  # type: ignore[attr-defined]
    assert lines[0].created <= ended <= lines[1].created <= time.time()
    assert lines[0].msecs == pytest.approx((lines[0].created % 1) * 1000)
