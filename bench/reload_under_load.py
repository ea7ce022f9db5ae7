"""Benchmark: live reloads under a steady load, 2 workers, 127.0.0.1 only.

Starts ``segments serve --workers 2`` (SEG_RELOAD_INTERVAL=2, the default) and sends
``POST /assign`` at a steady, bounded rate (about 200 req/s, open loop, at most 64 in
flight, keep-alive pool of 16 connections) with an asyncio httpx client. After a baseline
window, it publishes 10 valid versions (copies of a trained artifact, through
``training.artifact.publish``) and 10 broken ones (truncated, bit-flipped, wrong checksum,
other scikit-learn version, other feature schema; each broken before LATEST names it),
alternating, each one waited for before the next:

- valid: until every worker serves it (the per-worker ``segments_model_info`` gauges), and
  the header-observed lag: from LATEST's change to the last answer still carrying an older
  ``X-Model-Version``;
- broken: until every worker has refused it (``segments_model_refused_info``); then the
  answers since it was published must all carry the version served before it.

Prints total requests, non-2xx, connection errors, p50/p99 before and during the reloads
(and their ratio), the convergence times and the broken candidates refused 10/10.

    .venv/bin/python bench/reload_under_load.py [--rate 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.candidates import break_artifact, point_latest, publish_copy  # noqa: E402
from training.train import TrainOptions, train  # noqa: E402

OUT = ROOT / "bench" / "out" / "reload"
SAMPLE = ROOT / "data" / "sample_customers.csv"
BROKEN = ("truncated", "bit-flipped", "wrong checksum", "other sklearn version", "schema")
MAX_IN_FLIGHT = 64
POOL = 16


@dataclass
class Answer:
    sent: float
    done: float
    status: int | None  # None: connection error
    version: str | None


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    waited_for_slot: int = 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(folder: Path) -> tuple[Path, Path, Path]:
    """A fresh models folder serving a new model; the artifacts that candidates copy."""
    if folder.exists():
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    trained = folder / "trained"
    base = train(TrainOptions(data=SAMPLE, models_dir=trained, report=False)).path
    other = train(TrainOptions(data=SAMPLE, spec="mall-full", models_dir=trained, report=False))
    models = folder / "models"
    point_latest(models, publish_copy(base, models))
    return models, base, other.path


def _start(models: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"SEG_MODELS_DIR": str(models), "SEG_RELOAD_INTERVAL": "2"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # `segments serve` makes a fresh one
    log = (models.parent / "server.log").open("wb")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("segments")), "serve", f"--port={port}", "--workers=2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )


async def _per_worker(client: httpx.AsyncClient, pattern: str) -> list[str]:
    try:
        text = (await client.get("/metrics")).text
    except httpx.TransportError:
        return []
    return re.findall(pattern, text, re.M)


async def _serving(client: httpx.AsyncClient) -> dict[str, str]:
    found = await _per_worker(
        client, r'^segments_model_info\{model_version="([^"]+)",pid="(\d+)"\} 1\.0$'
    )
    return {pid: version for version, pid in found}  # type: ignore[misc]


async def _wait(condition, seconds: float = 30) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not await condition():
        if time.perf_counter() - start > seconds:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.05)
    return time.perf_counter() - start


async def _load(url: str, rate: float, stop: asyncio.Event, run: Run) -> None:
    bodies = [
        json.dumps(
            {
                "customer_id": f"C-{i}",
                "annual_income": 15 + i % 120,
                "spending_score": 1 + (7 * i) % 100,
            }
        ).encode()
        for i in range(500)
    ]
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def one(body: bytes) -> None:
            sent = time.perf_counter()
            try:
                response = await client.post("/assign", content=body, headers=headers)
                status, version = response.status_code, response.headers.get("x-model-version")
            except httpx.TransportError:
                status, version = None, None
            run.answers.append(Answer(sent, time.perf_counter(), status, version))
            slots.release()

        next_at, i = time.perf_counter(), 0
        while not stop.is_set():
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if slots.locked():
                run.waited_for_slot += 1
            await slots.acquire()
            task = asyncio.create_task(one(bodies[i % len(bodies)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)


def _quantiles(answers: list[Answer]) -> tuple[float, float]:
    ms = [(a.done - a.sent) * 1e3 for a in answers if a.status is not None]
    q = statistics.quantiles(ms, n=100)
    return q[49], q[98]


async def _reloads(url: str, models: Path, base: Path, other: Path, run: Run) -> dict[str, object]:
    valid_times: list[float] = []
    header_lags: list[float] = []
    unchanged = 0
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        served = set((await _serving(client)).values())
        (current,) = served
        for cycle in range(10):
            version = await asyncio.to_thread(publish_copy, base, models)
            published = time.perf_counter()
            point_latest(models, version)
            valid_times.append(await _wait(lambda v=version: _all_serve(client, v)))
            await asyncio.sleep(0.3)  # answers in flight at the swap come back
            stale = [
                a.done
                for a in run.answers
                if a.sent >= published and a.version != version and a.status is not None
            ]
            header_lags.append((max(stale) - published) if stale else 0.0)
            current = version
            kind = BROKEN[cycle % len(BROKEN)]
            source = other if kind == "schema" else base
            bad = await asyncio.to_thread(publish_copy, source, models)
            if kind != "schema":
                break_artifact(models / bad, kind)
            published = time.perf_counter()
            point_latest(models, bad)
            await _wait(lambda b=bad: _all_refused(client, b))
            await asyncio.sleep(0.3)
            after = [a for a in run.answers if a.sent >= published and a.status is not None]
            if after and all(a.version == current for a in after):
                unchanged += 1
            print(
                f"  cycle {cycle + 1:>2}: {version} in every worker after "
                f"{valid_times[-1]:.2f} s; broken ({kind}) refused by both, "
                f"{len(after)} answers since, all from {current}: "
                f"{all(a.version == current for a in after)}"
            )
    return {"valid": valid_times, "lags": header_lags, "unchanged": unchanged}


async def _all_serve(client: httpx.AsyncClient, version: str) -> bool:
    serving = await _serving(client)
    return len(serving) == 2 and set(serving.values()) == {version}


async def _all_refused(client: httpx.AsyncClient, version: str) -> bool:
    pattern = rf'^segments_model_refused_info\{{kind="[a-z_]+",model_version="{version}",pid="\d+"\}} 1\.0$'  # noqa: E501
    return len(await _per_worker(client, pattern)) == 2


async def _main(rate: float, seconds: float, baseline: float) -> None:
    models, base, other = _prepare(OUT)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(models, port)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            await _wait(lambda: _two_workers(client), seconds=120)
        run, stop = Run(), asyncio.Event()
        began = time.perf_counter()
        load = asyncio.create_task(_load(url, rate, stop, run))
        await asyncio.sleep(baseline)
        reloads_from = time.perf_counter()
        result = await _reloads(url, models, base, other, run)
        reloads_to = time.perf_counter()
        await asyncio.sleep(max(1.0, seconds - (reloads_to - began)))
        stop.set()
        await load
        ended = time.perf_counter()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    _report(run, began, ended, reloads_from, reloads_to, result)


async def _two_workers(client: httpx.AsyncClient) -> bool:
    return len(await _serving(client)) == 2


def _report(
    run: Run, began: float, ended: float, r_from: float, r_to: float, result: dict[str, object]
) -> None:
    answers = run.answers
    errors = sum(a.status is None for a in answers)
    non_2xx = sum(a.status is not None and not 200 <= a.status < 300 for a in answers)
    before = [a for a in answers if a.sent < r_from]
    during = [a for a in answers if r_from <= a.sent < r_to]
    (p50_b, p99_b), (p50_d, p99_d) = _quantiles(before), _quantiles(during)
    valid, lags = result["valid"], result["lags"]
    assert isinstance(valid, list)
    assert isinstance(lags, list)
    print()
    print(
        f"requests: {len(answers)} in {ended - began:.1f} s "
        f"({len(answers) / (ended - began):.0f} req/s; client waited for a slot "
        f"{run.waited_for_slot} times)"
    )
    print(f"non-2xx: {non_2xx} (target 0)   connection errors: {errors} (target 0)")
    print(f"before reloads ({len(before)} requests): p50 {p50_b:.2f} ms   p99 {p99_b:.2f} ms")
    print(
        f"during reloads ({len(during)} requests, {r_to - r_from:.1f} s): p50 {p50_d:.2f} ms"
        f"   p99 {p99_d:.2f} ms   (x{p50_d / p50_b:.2f} / x{p99_d / p99_b:.2f} of before)"
    )
    print(
        f"valid versions in every worker (metrics): median {statistics.median(valid):.2f} s, "
        f"max {max(valid):.2f} s over {len(valid)} reloads (poll interval 2 s)"
    )
    print(
        f"last answer from an older version after LATEST moved (headers): median "
        f"{statistics.median(lags):.2f} s, max {max(lags):.2f} s"
    )
    print(f"broken candidates refused with the served version unchanged: {result['unchanged']}/10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="least length of the load")
    parser.add_argument("--baseline", type=float, default=8.0, help="seconds before reloads")
    args = parser.parse_args()
    if args.rate > 1000 or args.seconds > 300:
        parser.error("keep the load bounded: --rate <= 1000, --seconds <= 300")
    asyncio.run(_main(args.rate, args.seconds, args.baseline))


if __name__ == "__main__":
    main()
