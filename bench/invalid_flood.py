"""/health/live during a flood of invalid 10,000-customer batches (`segments serve`, 1 worker).

Four clients post batches whose every row is invalid, back to back, for BENCH_SECONDS
(default 20); a probe asks /health/live every 10 ms. Prints the probe's p50 / p99 / max
with and without the flood (the baseline, same server, same run), and the 422's size.

    .venv/bin/python bench/invalid_flood.py [models_dir]    # or BENCH_URL=http://host:port
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from multiprocessing import Queue
from pathlib import Path

import httpx

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
ROWS = 10_000
CLIENTS = 4
BODY = json.dumps(
    {"customers": [{"customer_id": f"c{i}", "annual_income": -1} for i in range(ROWS)]}
).encode()


async def _probe(url: str, seconds: float) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(timeout=10) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            assert (await client.get(f"{url}/health/live")).status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.01)
    return latencies


async def _flood(url: str, seconds: float, sizes: list[int]) -> None:
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(timeout=60) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            response = await client.post(f"{url}/assign/batch", content=BODY, headers=headers)
            assert response.status_code == 422
            sizes.append(len(response.content))


def _report(name: str, latencies: list[float]) -> float:
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{name:>9}: /health/live p50 {q[49] * 1e3:6.1f} ms  p99 {q[98] * 1e3:6.1f} ms  "
        f"max {max(latencies) * 1e3:6.1f} ms  ({len(latencies)} probes)"
    )
    return q[98]


async def _floods(url: str, seconds: float) -> list[int]:
    sizes: list[int] = []
    await asyncio.gather(*(_flood(url, seconds, sizes) for _ in range(CLIENTS)))
    return sizes


def _flood_process(url: str, seconds: float, out: Queue[list[int]]) -> None:
    out.put(asyncio.run(_floods(url, seconds)))


def _run(url: str) -> None:
    # The flood runs in a process of its own: the probe's latencies are the server's.
    baseline = asyncio.run(_probe(url, min(SECONDS, 5)))
    sizes: Queue[list[int]] = multiprocessing.Queue()
    flood = multiprocessing.Process(target=_flood_process, args=(url, SECONDS, sizes))
    flood.start()
    during = asyncio.run(_probe(url, SECONDS))
    answered = sizes.get()
    flood.join()
    quiet = _report("baseline", baseline)
    loud = _report("flood", during)
    print(
        f"{len(answered)} invalid batches of {ROWS} rows answered 422, {max(answered)} bytes each"
    )
    print(f"p99 ratio flood / baseline: {loud / quiet:.1f}x")


def main() -> None:
    if url := os.environ.get("BENCH_URL"):  # a server started elsewhere (another build)
        _run(url)
        return
    models = Path(sys.argv[1] if len(sys.argv) > 1 else "models")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    segments = Path(sys.executable).with_name("segments")
    process = subprocess.Popen(
        [str(segments), "serve", f"--port={port}", f"--models-dir={models}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        _run(url)
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
