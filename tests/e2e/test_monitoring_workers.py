"""`segments serve --workers 2`: GET /monitoring sums both workers' drift counts, whichever
worker answers."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.e2e.test_workers import two_workers  # noqa: F401  (the fixture)

ROUNDS, PER_ROUND = 20, 24


def _assign(url: str, customer: dict[str, Any]) -> int:
    # A new connection each time, so the kernel hands requests to both workers.
    response = httpx.post(url + "/assign", json=customer, timeout=10)
    assert response.status_code == 200
    return int(response.json()["segment_id"])


def _monitoring(url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(url + "/monitoring", timeout=10).json()
    body.pop("window_seconds")  # the one figure that moves with the clock
    return body


def test_read_monitoring_sums_both_workers(
    two_workers: tuple[str, Path, str],  # noqa: F811
) -> None:
    url, _, version = two_workers
    rng = np.random.default_rng(11)
    sent: Counter[int] = Counter()
    incomes: list[float] = []
    with ThreadPoolExecutor(8) as pool:
        for _ in range(ROUNDS):
            customers = [
                {
                    "customer_id": f"W-{len(incomes) + i}",
                    "annual_income": float(income),
                    "spending_score": float(score),
                }
                for i, (income, score) in enumerate(
                    zip(
                        rng.integers(15, 138, PER_ROUND),
                        rng.integers(1, 100, PER_ROUND),
                        strict=True,
                    )
                )
            ]
            incomes += [c["annual_income"] for c in customers]
            sent.update(pool.map(lambda c: _assign(url, c), customers))
            # Past SEG_MONITOR_MIN_ASSIGNMENTS (100), once both workers have counted some.
            if len(incomes) > 100 and _monitoring(url)["workers"] == 2:
                break
    answers = [_monitoring(url) for _ in range(8)]
    assert all(answer == answers[0] for answer in answers)
    body = answers[0]
    assert (body["model_version"], body["workers"], body["assignments"]) == (
        version,
        2,
        len(incomes),
    )
    assert {s["segment_id"]: s["live_count"] for s in body["segments"]} == {
        s: sent[s] for s in range(5)
    }
    assert abs(body["features"][0]["live_mean"] - np.mean(incomes)) < 1e-9
