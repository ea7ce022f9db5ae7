"""Benchmark: our service against MLflow, BentoML and a bare FastAPI echo, in one run.

Every server runs on 127.0.0.1 with one worker and serves the same fitted pipeline (ours
loads its artifact; MLflow gets it through ``mlflow.sklearn.save_model`` and serves it
with ``mlflow models serve --env-manager local``; BentoML runs a service that calls
``Pipeline.predict`` on a DataFrame). MLflow and BentoML live in venvs of their own under
``build/peers/`` (git-ignored), made on first use with the scikit-learn, numpy and pandas
versions of this venv so that the pickled pipeline loads as it was fitted.

Measured per server: single-customer req/s at c=32 and c=1 (wrk when installed, else an
asyncio httpx client) and the p50 of 15 calls with 10,000 customers; ours also with the
batch as Arrow IPC, Parquet and CSV (answered in the same format). Ours runs as
``segments serve`` does (JSON access log on, metrics on) with ``SEG_API_KEYS`` set.

    .venv/bin/python bench/peers.py [--seconds 5] [--client auto|wrk|httpx] [--batch 10000]
                                    [--rounds 3] [--no-peers]   # --no-peers: ours and echoes

Every server runs at once and is measured in turn, ``--rounds`` times: the machine's speed
drifts by tens of percent within minutes, so a ratio is taken within a round and the
median of the rounds' ratios is printed (with the median of each figure).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serve import (  # noqa: E402
    BODY,
    OUT,
    _batch_p50,
    _columnar_p50,
    _customers,
    _free_port,
    _load,
    _model,
)

PEERS = ROOT / "build" / "peers"
PINS = {"mlflow": "mlflow==3.17.2", "bentoml": "bentoml==1.4.40"}
API_KEY = "bench-key"
BENTO_SERVICE = """
import pickle

import bentoml
import pandas as pd


@bentoml.service(workers=1)
class Segments:
    def __init__(self) -> None:
        with open({path!r}, "rb") as file:
            self.pipeline = pickle.load(file)

    @bentoml.api
    def predict(self, customers: list[dict]) -> list[int]:
        return self.pipeline.predict(pd.DataFrame(customers)).tolist()
"""


@dataclass
class Target:
    """One server: how to start it, where to post, what body one customer / a batch is."""

    name: str
    command: list[str]
    path: str
    single: bytes
    batch: Callable[[int], bytes] | None
    headers: dict[str, str]
    env: dict[str, str]
    cwd: Path = ROOT
    columnar: bool = False  # also post the batch as Arrow IPC, Parquet and CSV


def _venv(name: str) -> Path:
    """``build/peers/<name>``, made with this venv's sklearn/numpy/pandas on first use."""
    home = PEERS / name
    marker = home / ".installed"
    if not marker.is_file():
        print(f"making {home} ({PINS[name]}): once, a few minutes")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
        pins = [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "pandas")]
        pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, PINS[name], *pins], check=True)
        marker.touch()
    return home


def _features(n: int) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "customer_id"} for c in _customers(n)]


def _pipeline(models_dir: Path) -> Path:
    """Our fitted pipeline, pickled for the peers (their venvs have no skops)."""
    from training.artifact import load_artifact

    path = PEERS / "pipeline.pkl"
    path.write_bytes(pickle.dumps(load_artifact(models_dir).pipeline))
    return path


def _mlflow(pickled: Path) -> Target:
    home = _venv("mlflow")
    model = PEERS / "mlflow-model"
    shutil.rmtree(model, ignore_errors=True)
    save = (
        "import pickle, sys, mlflow.sklearn\n"
        "pipeline = pickle.load(open(sys.argv[1], 'rb'))\n"
        # MLflow's default format is skops; our pipeline's fitted dtypes must be trusted.
        "mlflow.sklearn.save_model(pipeline, sys.argv[2], skops_trusted_types=['numpy.dtype'])\n"
    )
    subprocess.run([str(home / "bin" / "python"), "-c", save, pickled, model], check=True)
    port = _free_port()
    command = [str(home / "bin" / "mlflow"), "models", "serve", "-m", str(model),
               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]  # fmt: skip

    def batch(n: int) -> bytes:
        return json.dumps({"dataframe_records": _features(n)}).encode()

    return Target("MLflow `mlflow models serve`", command, f"http://127.0.0.1:{port}/invocations",
                  batch(1), batch, {}, {"MLFLOW_TRACKING_URI": str(PEERS / "mlruns"),
                  "PATH": f"{home / 'bin'}{os.pathsep}{os.environ['PATH']}"})  # fmt: skip


def _bentoml(pickled: Path) -> Target:
    home = _venv("bentoml")
    work = PEERS / "bento"
    work.mkdir(exist_ok=True)
    (work / "segments_service.py").write_text(BENTO_SERVICE.format(path=str(pickled)))
    port = _free_port()
    command = [str(home / "bin" / "bentoml"), "serve", "segments_service:Segments",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip

    def batch(n: int) -> bytes:
        return json.dumps({"customers": _features(n)}).encode()

    env = {"BENTOML_HOME": str(PEERS / "bentoml-home"), "BENTOML_DO_NOT_TRACK": "True",
           "PATH": f"{home / 'bin'}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    return Target("BentoML service", command, f"http://127.0.0.1:{port}/predict",
                  batch(1), batch, {}, env, cwd=work)  # fmt: skip


def _uvicorn(target: str, port: int, access_log: bool) -> list[str]:
    return [sys.executable, "-m", "uvicorn", target, "--factory", "--host=127.0.0.1",
            f"--port={port}", "--workers=1", "--loop=uvloop", "--http=httptools", "--ws=none",
            *([] if access_log else ["--no-access-log", "--log-level=warning"])]  # fmt: skip


def _echo(sync: bool) -> Target:
    port = _free_port()
    name = "bare FastAPI echo of a typed body, " + ("sync `def`" if sync else "`async def`")
    path = "/echo-typed-sync" if sync else "/echo-typed"
    command = _uvicorn("bench.apps:echo_app", port, access_log=False)
    body = json.dumps(BODY).encode()
    return Target(name, command, f"http://127.0.0.1:{port}{path}", body, None, {}, {})


def _ours(models_dir: Path) -> Target:
    from service.main import uvicorn_argv

    port = _free_port()
    command = [sys.executable, *uvicorn_argv("127.0.0.1", port, 1)]

    def batch(n: int) -> bytes:
        return json.dumps({"customers": _customers(n)}).encode()

    env = {"SEG_MODELS_DIR": str(models_dir), "SEG_API_KEYS": API_KEY}
    return Target("our `/assign`, `/assign/batch`", command, f"http://127.0.0.1:{port}/assign",
                  json.dumps(BODY).encode(), batch, {"X-API-Key": API_KEY}, env,
                  columnar=True)  # fmt: skip


def _start(target: Target, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": str(ROOT)} | target.env
    with log.open("wb") as sink:
        process = subprocess.Popen(
            target.command, cwd=target.cwd, env=env, stdout=sink, stderr=sink
        )
    headers = {"content-type": "application/json"} | target.headers
    deadline = time.monotonic() + 180
    while True:
        try:
            answer = httpx.post(target.path, content=target.single, headers=headers, timeout=5)
            answer.raise_for_status()
            return process
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.terminate()
                raise RuntimeError(f"{target.name} did not start: see {log}") from None
            time.sleep(0.5)


def _measure(target: Target, client: str, seconds: float, n: int) -> dict[str, float]:
    """One round on a running server: req/s at c=32 and c=1, batch p50s."""
    _load(client, target.path, target.single, 8, 1.0, target.headers)  # warm up
    row: dict[str, float] = {}
    for concurrency in (32, 1):
        row[f"c{concurrency}"] = _load(
            client, target.path, target.single, concurrency, seconds, target.headers
        )["rps"]
    if target.batch is not None:
        url = target.path + ("/batch" if target.path.endswith("/assign") else "")
        row["batch"] = _batch_p50(url, target.batch(n), 15, target.headers)
    if target.columnar:
        for name, p50 in _columnar_p50(url, n, 15, target.headers).items():
            row[f"batch {name}"] = p50
    return row


def _rounds(
    targets: list[Target], client: str, seconds: float, n: int, rounds: int
) -> list[dict[str, dict[str, float]]]:
    """Every server up at once, measured in turn, ``rounds`` times: each round's ratios
    compare servers measured minutes apart at most (this machine's speed drifts)."""
    processes = []
    try:
        for target in targets:
            log = OUT / f"peer-{target.name.split()[0].strip('`')}.log"
            processes.append(_start(target, log))
        return [{t.name: _measure(t, client, seconds, n) for t in targets} for _ in range(rounds)]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


Rounds = list[dict[str, dict[str, float]]]


def _ratio(rounds: Rounds, name: str, key: str, base: str, base_key: str | None = None) -> float:
    """The median over rounds of ``name``'s ``key`` against ``base``'s in the same round."""
    return statistics.median(r[name][key] / r[base][base_key or key] for r in rounds)


def _table(rounds: Rounds, names: list[str], batch: int, peers: bool) -> None:
    echo, bento = names[0], (names[-1] if peers else None)
    print(f"\n| server | single, c=32 (req/s) | single, c=1 | {batch:,} batch p50 |")
    print("|---|---|---|---|")
    for name in names:
        value = {k: statistics.median(r[name][k] for r in rounds) for k in rounds[0][name]}
        c32, c1 = (f"{value[c]:,.0f} ({_ratio(rounds, name, c, echo):.2f}x echo)"
                   for c in ("c32", "c1"))  # fmt: skip
        cells = {k: f"{value[k]:.1f} ms" for k in value if k.startswith("batch")}
        if bento:
            cells = {k: f"{v} ({_ratio(rounds, name, k, bento, 'batch'):.2f}x BentoML)"
                     for k, v in cells.items()}  # fmt: skip
        print(f"| {name} | {c32} | {c1} | {cells.get('batch', '-')} |")
        for key in (k for k in cells if k != "batch"):
            print(f"| ... `/assign/batch` as {key.removeprefix('batch ')} in and out | - | - | "
                  f"{cells[key]} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--batch", type=int, default=10_000, help="customers in a batch")
    parser.add_argument("--rounds", type=int, default=3, help="every server measured this often")
    parser.add_argument(
        "--no-peers", action="store_true", help="ours and the echoes only (no peer venvs)"
    )
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    OUT.mkdir(parents=True, exist_ok=True)
    PEERS.mkdir(parents=True, exist_ok=True)
    models_dir = OUT / "serve-models"
    _model(models_dir)
    targets = [_echo(False), _echo(True), _ours(models_dir)]
    if not args.no_peers:
        pickled = _pipeline(models_dir)
        targets += [_mlflow(pickled), _bentoml(pickled)]
    print(f"load generator: {client}; {args.seconds:g} s per run; 1 worker per server; "
          f"{args.rounds} rounds, every server up, measured in turn")  # fmt: skip
    rounds = _rounds(targets, client, args.seconds, args.batch, args.rounds)
    _table(rounds, [t.name for t in targets], args.batch, not args.no_peers)
    print("\nmedians over the rounds; each ratio is the median of the rounds' ratios")
    print("targets: JSON batch <= 0.5x BentoML; columnar <= 0.15x BentoML; single >= 0.8x echo")


if __name__ == "__main__":
    main()
