"""Benchmark: POST /assign against a bare FastAPI echo, measured in the same run.

Starts real uvicorn servers (1 worker each, uvloop + httptools, no access log) on
127.0.0.1 and drives each with a bounded, closed-loop load (wrk when installed, else an
asyncio httpx client) at concurrency 1 and 32:

    (a) echo:    a bare FastAPI endpoint echoing the same JSON body   (the baseline)
    (b) assign:  our POST /assign
    (c) pandas:  a DataFrame + Pipeline.predict per request           (the common approach)

and, to show what a threadpool hop costs, the echo as a sync ``def`` (echo-sync): the
reason single-customer /assign runs on the event loop.

Then POST /assign/batch with 1,000 and 10,000 customers (p50 of sequential calls), against
the echo of the same body. Prints req/s, p50, p99 and the ratios.

    .venv/bin/python bench/serve.py [--seconds 5] [--client auto|wrk|httpx]

Targets: assign >= 80 % of echo req/s; >= 40x pandas; 10k batch p50 <= 15 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BODY = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
TARGETS = {
    "echo": ("bench.apps:echo_app", "/echo"),
    "echo-sync": ("bench.apps:echo_app", "/echo-sync"),
    "assign": ("service.main:app_factory", "/assign"),
    "pandas": ("bench.apps:pandas_app", "/assign"),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, target: str, models_dir: Path) -> None:
        self.port = _free_port()
        command = [
            sys.executable, "-m", "uvicorn", target, "--factory",
            "--host=127.0.0.1", f"--port={self.port}", "--workers=1",
            "--loop=uvloop", "--http=httptools", "--ws=none",
            "--no-access-log", "--log-level=warning",
        ]  # fmt: skip
        env = os.environ | {"SEG_MODELS_DIR": str(models_dir), "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _wrk(url: str, body: bytes, concurrency: int, seconds: float) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(body.decode())}\n"
        )
    done = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency", "-s",
         script.name, url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    os.unlink(script.name)
    text = done.stdout
    if "Non-2xx" in text:
        raise RuntimeError(f"non-2xx answers from {url}:\n{text}")
    units = {"us": 1e-3, "ms": 1.0, "s": 1e3}

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)$", text, re.M).groups()  # type: ignore[union-attr]
        return float(value) * units[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}


async def _httpx_load(url: str, body: bytes, concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                response.raise_for_status()
                latencies.append((time.perf_counter() - start) * 1e3)

        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": quantiles[49], "p99": quantiles[98]}


def _load(client: str, url: str, body: bytes, concurrency: int, seconds: float) -> dict[str, float]:
    if client == "wrk":
        return _wrk(url, body, concurrency, seconds)
    return asyncio.run(_httpx_load(url, body, concurrency, seconds))


def _batch_p50(url: str, body: bytes, repeats: int) -> float:
    times = []
    with httpx.Client(timeout=60) as client:
        for _ in range(repeats + 2):
            start = time.perf_counter()
            client.post(
                url, content=body, headers={"content-type": "application/json"}
            ).raise_for_status()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[2:])  # the first two warm up


def _model(models_dir: Path) -> None:
    if (models_dir / "LATEST").is_file():
        return
    sys.path.insert(0, str(ROOT))
    from training.train import TrainOptions, train

    train(
        TrainOptions(
            data=ROOT / "data" / "sample_customers.csv", models_dir=models_dir, report=False
        )
    )


def _batch(n: int) -> bytes:
    customers = [
        {"customer_id": f"C-{i:06d}", "annual_income": 15 + i % 120, "spending_score": 1 + i % 100}
        for i in range(n)
    ]
    return json.dumps({"customers": customers}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    models_dir = OUT / "serve-models"
    _model(models_dir)
    body = json.dumps(BODY).encode()
    print(f"load generator: {client}; {args.seconds:g} s per run; 1 uvicorn worker per server")
    if client == "httpx":
        print("note: the Python client is slower than the servers, so ratios shrink toward 1")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for name in ("echo", "echo-sync", "assign", "pandas"):
        target, path = TARGETS[name]
        server = Server(target, models_dir)
        try:
            _load(client, server.url(path), body, 8, 1.0)  # warm up
            for concurrency in (1, 32):
                results[name, concurrency] = _load(
                    client, server.url(path), body, concurrency, args.seconds
                )
                r = results[name, concurrency]
                print(
                    f"{name:<10} c={concurrency:<3} {r['rps']:9.0f} req/s   "
                    f"p50 {r['p50']:7.2f} ms   p99 {r['p99']:7.2f} ms"
                )
        finally:
            server.stop()
    print()
    for concurrency in (1, 32):
        a, e, s, p = (results[n, concurrency] for n in ("assign", "echo", "echo-sync", "pandas"))
        print(
            f"c={concurrency:<3} assign / echo {a['rps'] / e['rps']:6.1%}   "
            f"assign / pandas {a['rps'] / p['rps']:5.1f}x   (targets: >= 80 %, >= 40x)   "
            f"echo / pandas {e['rps'] / p['rps']:5.1f}x   "
            f"echo-sync / echo {s['rps'] / e['rps']:6.1%}"
        )
    print()
    batches: dict[tuple[str, int], float] = {}
    for name in ("echo", "assign"):
        target, _ = TARGETS[name]
        server = Server(target, models_dir)
        try:
            for n in (1_000, 10_000):
                path = "/echo" if name == "echo" else "/assign/batch"
                batches[name, n] = _batch_p50(server.url(path), _batch(n), repeats=30)
        finally:
            server.stop()
    for n in (1_000, 10_000):
        ours, echo = batches["assign", n], batches["echo", n]
        print(
            f"/assign/batch {n:>6} customers: p50 {ours:7.2f} ms   echo of the same body "
            f"{echo:7.2f} ms   ratio {ours / echo:4.2f}"
            + ("   (target <= 15 ms)" if n == 10_000 else "")
        )


if __name__ == "__main__":
    main()
