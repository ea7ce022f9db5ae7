"""Benchmark: POST /assign against a bare FastAPI echo, measured in the same run.

Starts real uvicorn servers (1 worker each, uvloop + httptools, no access log) on
127.0.0.1 and drives each with a bounded, closed-loop load (wrk when installed, else an
asyncio httpx client) at concurrency 1 and 32:

    (a) echo:    a bare FastAPI endpoint echoing the same JSON body   (the baseline)
    (b) assign:  our POST /assign
    (c) pandas:  a DataFrame + Pipeline.predict per request           (the common approach)
    (d) assign-gmm: our POST /assign serving a Gaussian-mixture artifact (vs (b))

and, to show what a threadpool hop costs, the echo as a sync ``def`` (echo-sync): the
reason single-customer /assign runs on the event loop; and (d) assign+campaigns: our
POST /assign with a campaign file (SEG_CAMPAIGNS, 3 active campaigns, one targeting every
segment), against (b) in the same run; and (e) assign-nodrift: our POST /assign with
``SEG_MONITOR=false`` (no drift counts for GET /monitoring), against (b) in the same run.

Then POST /assign/batch with 1,000 and 10,000 customers (p50 of sequential calls), against
the echo of the same body, and the 10,000 as Arrow IPC, Parquet and CSV (answered in the
same format) against the JSON batch. Prints req/s, p50, p99 and the ratios. The peers
(MLflow, BentoML) are in bench/peers.py (``make bench-peers``).

    .venv/bin/python bench/serve.py [--seconds 5] [--client auto|wrk|httpx]
                                    [--only campaigns|drift] [--drift-only] [--batch 10000]

``--drift-only`` is ``--only drift``: /assign with and without the drift counts, alternated
in the same run, and their in-process cost per customer.

Targets: assign >= 80 % of echo req/s; >= 40x pandas; 10k batch p50 <= 15 ms; campaigns
add at most 5 % to /assign; assign-gmm within 10 % of assign (req/s and batch p50); the
drift counts add at most 5 % to /assign.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
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
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BODY = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
TARGETS = {
    "echo": ("bench.apps:echo_app", "/echo"),
    "echo-sync": ("bench.apps:echo_app", "/echo-sync"),
    "assign": ("service.main:app_factory", "/assign"),
    "pandas": ("bench.apps:pandas_app", "/assign"),
    "assign-gmm": ("service.main:app_factory", "/assign"),
}
GMM = "assign-gmm"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, target: str, models_dir: Path, extra: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        command = [
            sys.executable, "-m", "uvicorn", target, "--factory",
            "--host=127.0.0.1", f"--port={self.port}", "--workers=1",
            "--loop=uvloop", "--http=httptools", "--ws=none",
            "--no-access-log", "--log-level=warning",
        ]  # fmt: skip
        env = os.environ | {"SEG_MODELS_DIR": str(models_dir), "PYTHONPATH": str(ROOT)}
        env |= extra or {}
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


def _wrk(
    url: str, body: bytes, concurrency: int, seconds: float, headers: dict[str, str] | None = None
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            + "".join(
                f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n"
                for k, v in (headers or {}).items()
            )
            + f"wrk.body = {json.dumps(body.decode())}\n"
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


async def _httpx_load(
    url: str, body: bytes, concurrency: int, seconds: float, extra: dict[str, str] | None = None
) -> dict[str, float]:
    latencies: list[float] = []
    headers = {"content-type": "application/json"} | (extra or {})
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


def _load(
    client: str,
    url: str,
    body: bytes,
    concurrency: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    if client == "wrk":
        return _wrk(url, body, concurrency, seconds, headers)
    return asyncio.run(_httpx_load(url, body, concurrency, seconds, headers))


def _batch_p50(url: str, body: bytes, repeats: int, headers: dict[str, str] | None = None) -> float:
    """p50 ms of posting ``body`` and reading the whole answer, on one kept-alive connection.

    The standard library's client, not httpx: httpx reads a 1.8 MB answer in pure Python
    (about 2.5 ms more than http.client for the same bytes, measured against a server that
    sends a fixed answer), which timed the client more than the server.
    """
    parts = urlsplit(url)
    sent = {"content-type": "application/json"} | (headers or {})
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    times = []
    try:
        for _ in range(repeats + 2):
            start = time.perf_counter()
            connection.request("POST", parts.path, body, sent)
            answer = connection.getresponse()
            answer.read()
            times.append((time.perf_counter() - start) * 1e3)
            if answer.status != 200:
                raise RuntimeError(f"POST {url} answered {answer.status}")
    finally:
        connection.close()
    return statistics.median(times[2:])  # the first two warm up


def _model(models_dir: Path, algorithm: str = "kmeans") -> None:
    if (models_dir / "LATEST").is_file():
        return
    sys.path.insert(0, str(ROOT))
    from training.train import TrainOptions, train

    train(
        TrainOptions(
            data=ROOT / "data" / "sample_customers.csv",
            models_dir=models_dir,
            report=False,
            algorithm=algorithm,  # type: ignore[arg-type]
            compare=False,
        )
    )


def _customers(n: int) -> list[dict[str, Any]]:
    return [
        {"customer_id": f"C-{i:06d}", "annual_income": 15 + i % 120, "spending_score": 1 + i % 100}
        for i in range(n)
    ]


def _batch(n: int) -> bytes:
    return json.dumps({"customers": _customers(n)}).encode()


COLUMNAR = {
    "Arrow IPC": "application/vnd.apache.arrow.stream",
    "Parquet": "application/vnd.apache.parquet",
    "CSV": "text/csv",
}


def _columnar(n: int, media_type: str) -> bytes:
    """The batch of :func:`_batch` as a table in ``media_type`` (one of :data:`COLUMNAR`)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import csv

    table, sink = pa.Table.from_pylist(_customers(n)), io.BytesIO()
    if media_type == COLUMNAR["Arrow IPC"]:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    elif media_type == COLUMNAR["Parquet"]:
        pq.write_table(table, sink)
    else:
        csv.write_csv(table, sink)
    return sink.getvalue()


def _columnar_p50(url: str, n: int, repeats: int, headers: dict[str, str]) -> dict[str, float]:
    """p50 ms of a batch of ``n`` in each columnar format, the answer in the same format."""
    return {
        name: _batch_p50(
            url,
            _columnar(n, media_type),
            repeats,
            headers | {"content-type": media_type, "accept": media_type},
        )
        for name, media_type in COLUMNAR.items()
    }


def _campaign_file(models_dir: Path) -> Path:
    """Three active campaigns (one on every segment) around today, UTC."""
    from datetime import UTC, datetime, timedelta

    from training.artifact import load_artifact

    ids = [s.segment_id for s in load_artifact(models_dir).profile.segments]
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=7), today + timedelta(days=7)
    tables = [("all", ids, 0.1), ("first-two", ids[:2], 0.2), ("last", ids[-1:], 0.5)]
    text = "".join(
        f'[[campaign]]\nname = "{name}"\nsegments = {targets}\noffer = "offer {name}"\n'
        f"holdout = {holdout}\nstart = {start}\nend = {end}\n\n"
        for name, targets, holdout in tables
    )
    path = OUT / "campaigns.toml"
    path.write_text(text)
    return path


def _lookup_in_process(models_dir: Path, campaigns: Path) -> None:
    """The campaign lookup against the scoring it follows, in this process (no HTTP noise)."""
    import timeit

    sys.path.insert(0, str(ROOT))
    from service.campaign_state import CampaignHolder
    from service.config import Settings
    from service.state import load_model

    settings = Settings(models_dir=models_dir, campaigns=campaigns)
    model = load_model(settings)
    holder = CampaignHolder(settings)
    holder.reload(model)
    customer = model.requests.customer.model_validate_json(json.dumps(BODY))
    answers = model.assign([customer])
    n = 20_000
    validate = timeit.timeit(
        lambda: model.requests.customer.model_validate_json(json.dumps(BODY)), number=n
    )
    score = timeit.timeit(lambda: model.assign([customer]), number=n)
    lookup = timeit.timeit(lambda: holder.attach(answers), number=n)
    print(
        f"in process, per customer: validate {validate / n * 1e6:.1f} us + assign "
        f"{score / n * 1e6:.1f} us; campaign lookup {lookup / n * 1e6:.1f} us "
        f"({len(answers[0]['campaigns'])} campaigns) = {lookup / (validate + score):.1%} of them"
    )


def _alternate(
    client: str,
    models_dir: Path,
    body: bytes,
    seconds: float,
    variants: dict[str, dict[str, str] | None],
    probe: Callable[[Server, str], None] | None = None,
) -> tuple[dict[tuple[str, int], list[dict[str, float]]], dict[str, float]]:
    """/assign at c=1 and c=32 on a server per variant (extra environment), two rounds
    alternated so a drift in machine load hits all alike; a 10k batch p50 in round one."""
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    batches: dict[str, float] = {}
    for round_ in range(2):
        for name, extra in variants.items():
            server = Server("service.main:app_factory", models_dir, extra)
            try:
                if probe is not None:  # the variant is what it claims to be
                    probe(server, name)
                _load(client, server.url("/assign"), body, 8, 1.0)  # warm up
                for concurrency in (1, 32):
                    r = _load(client, server.url("/assign"), body, concurrency, seconds)
                    results.setdefault((name, concurrency), []).append(r)
                if round_ == 0:
                    batches[name] = _batch_p50(server.url("/assign/batch"), _batch(10_000), 10)
            finally:
                server.stop()
    return results, batches


def _campaigns_only(client: str, models_dir: Path, body: bytes, seconds: float) -> None:
    """/assign with and without SEG_CAMPAIGNS, alternated in the same run, and a 10k batch."""
    path = _campaign_file(models_dir)
    _lookup_in_process(models_dir, path)
    campaigns = {"SEG_CAMPAIGNS": str(path)}

    def served(server: Server, name: str) -> None:
        listed = httpx.get(server.url("/campaigns")).json()
        assert len(listed["campaigns"]) == (3 if name == "assign+campaigns" else 0), listed

    variants = {"assign": None, "assign+campaigns": campaigns}
    results, batches = _alternate(client, models_dir, body, seconds, variants, served)
    for concurrency in (1, 32):
        base = statistics.mean(r["rps"] for r in results["assign", concurrency])
        with_ = statistics.mean(r["rps"] for r in results["assign+campaigns", concurrency])
        p50 = statistics.mean(r["p50"] for r in results["assign+campaigns", concurrency])
        print(
            f"c={concurrency:<3} assign {base:9.0f} req/s   assign+campaigns {with_:9.0f} req/s"
            f" (p50 {p50:.2f} ms)   overhead {1 - with_ / base:+6.1%}   (target <= 5 %)"
        )
    print(
        f"/assign/batch 10000 customers: p50 {batches['assign']:.2f} ms without, "
        f"{batches['assign+campaigns']:.2f} ms with campaigns"
    )


def _drift_in_process(models_dir: Path, repeats: int) -> None:
    """One-customer LoadedModel.assign without and with drift counts, in this process."""
    from dataclasses import replace

    sys.path.insert(0, str(ROOT))
    from service.config import Settings
    from service.drift import DriftBook
    from service.state import load_model

    plain = load_model(Settings(models_dir=models_dir))
    book = DriftBook(10_000, 3600.0, 60.0, 86_400.0)
    counted = replace(plain, drift=book.recorder(plain.version, plain.drift_layout))
    customers = [plain.requests.customer.model_validate_json(json.dumps(BODY))]
    best: dict[str, float] = {}
    for _ in range(5):  # interleaved, best of 5: the machine's noise hits both alike
        for name, model in (("without", plain), ("with", counted)):
            start = time.perf_counter()
            for _ in range(repeats):
                model.assign(customers)
            micros = (time.perf_counter() - start) / repeats * 1e6
            best[name] = min(best.get(name, micros), micros)
    print(
        f"in process, one customer: LoadedModel.assign {best['without']:.1f} µs without drift "
        f"counts, {best['with']:.1f} µs with (+{best['with'] - best['without']:.1f} µs)"
    )


def _drift_only(client: str, models_dir: Path, body: bytes, seconds: float) -> None:
    """/assign with and without the drift counts, alternated in the same run, and a 10k batch."""
    _drift_in_process(models_dir, repeats=max(1_000, int(4_000 * seconds)))  # 20,000 at 5 s
    variants = {"assign": None, "assign-nodrift": {"SEG_MONITOR": "false"}}
    results, batches = _alternate(client, models_dir, body, seconds, variants)
    for concurrency in (1, 32):
        without = statistics.mean(r["rps"] for r in results["assign-nodrift", concurrency])
        with_ = statistics.mean(r["rps"] for r in results["assign", concurrency])
        print(
            f"c={concurrency:<3} assign-nodrift {without:9.0f} req/s   assign (drift counts) "
            f"{with_:9.0f} req/s   overhead {1 - with_ / without:+6.1%}   (target <= 5 %)"
        )
    print(
        f"/assign/batch 10000 customers: p50 {batches['assign-nodrift']:.2f} ms without, "
        f"{batches['assign']:.2f} ms with drift counts"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--only", choices=["campaigns", "drift"], help="run only this comparison")
    parser.add_argument("--batch", type=int, default=10_000, help="customers in the big batch")
    parser.add_argument("--drift-only", action="store_true", help="the same as --only drift")
    args = parser.parse_args()
    if args.drift_only:
        args.only = "drift"
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    models_dir, gmm_dir = OUT / "serve-models", OUT / "serve-models-gmm"
    _model(models_dir)
    body = json.dumps(BODY).encode()
    print(f"load generator: {client}; {args.seconds:g} s per run; 1 uvicorn worker per server")
    if client == "httpx":
        print("note: the Python client is slower than the servers, so ratios shrink toward 1")
    if args.only == "campaigns":
        _campaigns_only(client, models_dir, body, args.seconds)
        return
    if args.only == "drift":
        _drift_only(client, models_dir, body, args.seconds)
        return
    _model(gmm_dir, "gmm")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for name in ("echo", "echo-sync", "assign", "pandas", GMM):
        target, path = TARGETS[name]
        server = Server(target, gmm_dir if name == GMM else models_dir)
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
            f"echo-sync / echo {s['rps'] / e['rps']:6.1%}   "
            f"assign-gmm / assign {results[GMM, concurrency]['rps'] / a['rps']:6.1%} "
            "(target >= 90 %)"
        )
    print()
    _campaigns_only(client, models_dir, body, args.seconds)
    print()
    _drift_only(client, models_dir, body, args.seconds)
    print()
    batches: dict[tuple[str, int], float] = {}
    columnar: dict[str, float] = {}
    for name in ("echo", "assign", GMM):
        target, _ = TARGETS[name]
        server = Server(target, gmm_dir if name == GMM else models_dir)
        try:
            for n in (1_000, args.batch):
                path = "/echo" if name == "echo" else "/assign/batch"
                batches[name, n] = _batch_p50(server.url(path), _batch(n), repeats=30)
            if name == "assign":
                url = server.url("/assign/batch")
                columnar = _columnar_p50(url, args.batch, 30, {})
        finally:
            server.stop()
    for n in (1_000, args.batch):
        ours, echo = batches["assign", n], batches["echo", n]
        print(
            f"/assign/batch {n:>6} customers: p50 {ours:7.2f} ms   echo of the same body "
            f"{echo:7.2f} ms   ratio {ours / echo:4.2f}"
            + ("   (target <= 15 ms)" if n == 10_000 else "")
        )
        print(
            f"/assign/batch {n:>6} customers, Gaussian mixture: p50 {batches[GMM, n]:7.2f} ms   "
            f"gmm / kmeans {batches[GMM, n] / ours:4.2f}   (target <= 1.10)"
        )
    for name, p50 in columnar.items():
        print(
            f"/assign/batch {args.batch:>6} customers as {name} in and out: p50 {p50:7.2f} ms   "
            f"/ JSON {p50 / batches['assign', args.batch]:4.2f}"
        )


if __name__ == "__main__":
    main()
